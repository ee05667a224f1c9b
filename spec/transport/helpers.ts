/**
 * Helpers for the transport specs: listeners as promises, recorders of `incoming$`, certificates made with openssl.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { firstValueFrom, type Observable, type Subscription } from 'rxjs'
import { TransportError, type Listener, type Transport } from '../../src/transport/transport'

export const LOOPBACK = '127.0.0.1'

/** A listener kept alive by its subscription; `stop()` unsubscribes. */
export interface Running {
  readonly listener: Listener
  readonly stop: () => void
}

/** Subscribes to a listen Observable and resolves with its Listener (the subscription keeps it open). */
export function start(listen$: Observable<Listener>): Promise<Running> {
  return new Promise((resolve, reject) => {
    let subscription: Subscription | undefined = undefined
    let stopped = false
    const stop = (): void => {
      stopped = true
      subscription?.unsubscribe()
    }
    subscription = listen$.subscribe({
      next: (listener) => resolve({ listener, stop }),
      error: reject
    })
    if (stopped) subscription.unsubscribe()
  })
}

/** How `incoming$` ended, once it has. */
export type Ending = { readonly kind: 'complete' } | { readonly kind: 'error'; readonly error: unknown }

/** Records what a transport receives. */
export interface Recorder {
  readonly values: Uint8Array[]
  /** Total bytes received. */
  readonly total: () => number
  /** Everything received, joined. */
  readonly bytes: () => Buffer
  /** Resolves when at least `n` bytes have arrived (rejects if the stream ends first). */
  readonly waitBytes: (n: number) => Promise<void>
  /** Resolves when at least `n` values have arrived (rejects if the stream ends first). */
  readonly waitValues: (n: number) => Promise<void>
  readonly ended: Promise<Ending>
  readonly subscription: Subscription
}

/** Subscribes to `transport.incoming$` and records every value and the end. */
export function record(transport: Transport): Recorder {
  const values: Uint8Array[] = []
  let total = 0
  let ending: Ending | undefined
  const waiters: { ready: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = []
  const check = (): void => {
    for (const w of waiters.splice(0)) {
      if (w.ready()) w.resolve()
      else if (ending !== undefined) w.reject(new Error(`incoming$ ended (${ending.kind}) first`))
      else waiters.push(w)
    }
  }
  let settle!: (e: Ending) => void
  const ended = new Promise<Ending>((resolve) => (settle = resolve))
  const subscription = transport.incoming$.subscribe({
    next: (value) => {
      values.push(value)
      total += value.length
      check()
    },
    complete: () => {
      ending = { kind: 'complete' }
      settle(ending)
      check()
    },
    error: (error: unknown) => {
      ending = { kind: 'error', error }
      settle(ending)
      check()
    }
  })
  const wait = (ready: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      waiters.push({ ready, resolve, reject })
      check()
    })
  return {
    values,
    total: () => total,
    bytes: () => Buffer.concat(values),
    waitBytes: (n) => wait(() => total >= n),
    waitValues: (n) => wait(() => values.length >= n),
    ended,
    subscription
  }
}

/** The error a stream ended with, asserting it is a TransportError. */
export async function transportErrorOf(ending: Promise<Ending>): Promise<TransportError> {
  const end = await ending
  if (end.kind !== 'error') throw new Error('expected an error, the stream completed')
  expect(end.error).toBeInstanceOf(TransportError)
  return end.error as TransportError
}

/** The error an Observable fails with (rejects if it emits or completes instead). */
export function failureOf(source$: Observable<unknown>): Promise<TransportError> {
  return new Promise((resolve, reject) =>
    source$.subscribe({
      next: (v) => reject(new Error(`expected a failure, got ${String(v)}`)),
      complete: () => reject(new Error('expected a failure, it completed')),
      error: (error: unknown) => {
        if (error instanceof TransportError) resolve(error)
        else reject(error instanceof Error ? error : new Error(String(error)))
      }
    })
  )
}

/** Resolves when `closed$` has emitted. */
export function closedOf(transport: Transport): Promise<void> {
  return firstValueFrom(transport.closed$)
}

/** Bytes 0..255, then invalid UTF-8 (a lone continuation byte, a truncated sequence, 0xFF 0xFE) and NULs, repeated. */
export function awkwardBytes(length: number): Buffer {
  const pattern = Buffer.concat([
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    Buffer.from([0x80, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xfe, 0x00, 0x00, 0x0d, 0x0a])
  ])
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = pattern[i % pattern.length]!
  return out
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A raw TCP server for tests, with its accepted sockets. */
export interface RawServer {
  readonly server: net.Server
  readonly port: number
  /** Resolves with the next accepted socket (queued if it came first). */
  readonly nextSocket: () => Promise<net.Socket>
  readonly close: () => Promise<void>
}

/** Listens on loopback with a plain net.Server; `onSocket` may wrap each accepted socket. */
export async function rawServer(onSocket: (socket: net.Socket) => void = () => {}): Promise<RawServer> {
  const queue: net.Socket[] = []
  const waiting: ((s: net.Socket) => void)[] = []
  const all = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    all.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => all.delete(socket))
    onSocket(socket)
    if (socket.listenerCount('data') === 0) socket.resume() // read, so that the peer's FIN is seen
    const w = waiting.shift()
    if (w !== undefined) w(socket)
    else queue.push(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    nextSocket: () =>
      new Promise((resolve) => {
        const s = queue.shift()
        if (s !== undefined) resolve(s)
        else waiting.push(resolve)
      }),
    close: async () => {
      for (const s of all) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Resolves when a socket has closed. */
export function socketClosed(socket: net.Socket): Promise<void> {
  return socket.destroyed && socket.closed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once('close', () => resolve()))
}

/** A PEM key and certificate. */
export interface Credentials {
  readonly key: string
  readonly cert: string
}

/** Test certificates: `server` (SAN 127.0.0.1 and localhost), `client` (CN test-client), `stranger` (unrelated). */
export interface TestCertificates {
  readonly server: Credentials
  readonly client: Credentials
  readonly stranger: Credentials
}

let made: TestCertificates | undefined

/** Self-signed P-256 certificates made once per test file with the `openssl` command (no npm dependency). */
export function certificates(): TestCertificates {
  if (made !== undefined) return made
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-msrp-certs-'))
  try {
    const make = (name: string, subject: string, san: string): Credentials => {
      const key = path.join(dir, `${name}.key`)
      const cert = path.join(dir, `${name}.crt`)
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '2',
          '-subj',
          subject,
          '-addext',
          `subjectAltName=${san}`,
          '-keyout',
          key,
          '-out',
          cert
        ],
        { stdio: 'pipe' }
      )
      return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') }
    }
    made = {
      server: make('server', '/CN=localhost', 'IP:127.0.0.1,DNS:localhost'),
      client: make('client', '/CN=test-client', 'DNS:test-client.invalid'),
      stranger: make('stranger', '/CN=stranger', 'DNS:stranger.invalid')
    }
    return made
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The non-contract `bufferedBytes` diagnostic every transport of ours exposes. */
export function bufferedBytesOf(transport: Transport): number {
  const value = (transport as Transport & { readonly bufferedBytes?: unknown }).bufferedBytes
  if (typeof value !== 'number') throw new Error(`${transport.info.kind} transport has no bufferedBytes`)
  return value
}
