/**
 * Endpoint to endpoint over every network transport (RFC 4975 §5.4, §7; RFC 7977 for WS and WSS): the same
 * behaviours over TCP, TLS, WebSocket and secure WebSocket, on loopback with ephemeral ports. TLS and WSS use the
 * self-signed loopback certificate of the transport specs, trusted through `dial.ca`.
 */
import { createHash } from 'node:crypto'
import * as net from 'node:net'
import { firstValueFrom, lastValueFrom, toArray, type Observable } from 'rxjs'
import { pseudoRandom } from '../helpers/bytes'
import { certificates, start, type Running } from '../transport/helpers'
import { listenTcp } from '../../src/transport/tcp'
import { listenTls } from '../../src/transport/tls'
import { listenWebSocket } from '../../src/transport/websocket'
import type { Listener, Transport } from '../../src/transport/transport'
import { newSessionId } from '../../src/wire/ids'
import { parseUri } from '../../src/wire/uri'
import { dial, MsrpEndpoint, type EndpointOptions } from '../../src/session/endpoint'
import { DEFAULT_CHUNK_BYTES } from '../../src/session/writer'
import type { IncomingMessage } from '../../src/session/incoming'
import { SendError, type MsrpSession, type SendEvent } from '../../src/session/session'

type Kind = 'tcp' | 'tls' | 'ws' | 'wss'
const KINDS: readonly Kind[] = ['tcp', 'tls', 'ws', 'wss']

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const nextMessage = (s: MsrpSession): Promise<IncomingMessage> => firstValueFrom(s.messages$)
type Progress = Extract<SendEvent, { type: 'progress' }>

/** Resolves once `check` holds, re-checking on every turn of the event loop (at most `turns` of them). */
async function until(check: () => boolean, what: string, turns = 200_000): Promise<void> {
  for (let k = 0; k < turns; k++) {
    if (check()) return
    await new Promise((r) => setImmediate(r))
  }
  throw new Error(`gave up waiting for ${what}`)
}

/** A never-settling promise a source can wait on until the test releases it. */
function gate(): { readonly wait: Promise<void>; readonly open: () => void } {
  let open!: () => void
  const wait = new Promise<void>((r) => (open = r))
  return { wait, open }
}

const secure = (kind: Kind): boolean => kind === 'tls' || kind === 'wss'
const wsKind = (kind: Kind): boolean => kind === 'ws' || kind === 'wss'

function listen(kind: Kind): Observable<Listener> {
  const host = '127.0.0.1'
  const { cert, key } = certificates().server
  switch (kind) {
    case 'tcp':
      return listenTcp({ host, port: 0 })
    case 'tls':
      return listenTls({ host, port: 0, cert, key })
    case 'ws':
      return listenWebSocket({ host, port: 0 })
    case 'wss':
      return listenWebSocket({ host, port: 0, tls: { cert, key } })
  }
}

/** A session URI of this kind at `host:port` (`msrps` for TLS and WSS, `;ws` for WebSocket, RFC 7977 §5.2.1). */
function sessionUri(kind: Kind, authority: string): string {
  return `${secure(kind) ? 'msrps' : 'msrp'}://${authority}/${newSessionId()};${wsKind(kind) ? 'ws' : 'tcp'}`
}

/**
 * A TCP relay of raw bytes between Alice and Bob's listener that can cut the connection: it forwards Alice's first
 * `holdAfter` bytes, then stops reading her (she feels backpressure mid-transfer), and `cut()` resets both sockets.
 */
async function cutter(targetPort: number, holdAfter: number) {
  const sockets: net.Socket[] = []
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.push(client, upstream)
    client.on('error', () => undefined)
    upstream.on('error', () => undefined)
    let forwarded = 0
    client.on('data', (d: Buffer) => {
      const room = holdAfter - forwarded
      const part = d.length <= room ? d : d.subarray(0, room)
      forwarded += part.length
      if (part.length > 0) upstream.write(part)
      if (forwarded >= holdAfter) client.pause()
    })
    upstream.on('data', (d: Buffer) => client.write(d))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      for (const s of sockets) s.resetAndDestroy()
    },
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}

describe.each(KINDS)('endpoints end to end over %s', (kind) => {
  let running: Running
  let port: number
  const opened: MsrpEndpoint[] = []

  beforeAll(async () => {
    running = await start(listen(kind))
    port = running.listener.address.port
  })
  afterAll(() => running.stop())
  afterEach(() => {
    for (const ep of opened.splice(0)) ep.close()
  })

  /** Bob serves the listener; Alice connects (through `via` when given) and binds with her SEND (C-5.4-3). */
  async function sessions(options: { bob?: EndpointOptions; alice?: EndpointOptions; via?: number } = {}) {
    const bobEp = new MsrpEndpoint(options.bob)
    const aliceEp = new MsrpEndpoint({ ...options.alice, dial: { ca: certificates().server.cert } })
    opened.push(aliceEp, bobEp)
    bobEp.serve(running.listener)
    const bob = bobEp.createSession(sessionUri(kind, `127.0.0.1:${port}`))
    // A WebSocket client has no address to be reached at: RFC 7977 §5.2.1 gives it a `.invalid` host.
    const alice = aliceEp.createSession(sessionUri(kind, wsKind(kind) ? 'alice.invalid' : '127.0.0.1:1'))
    let over: Transport | undefined
    if (options.via !== undefined) {
      const target = parseUri(sessionUri(kind, `127.0.0.1:${options.via}`))
      if (target._tag === 'Left') throw new Error(target.left.detail)
      over = await firstValueFrom(dial(target.right, { ca: certificates().server.cert }))
    }
    await aliceEp.connect(alice, [bob.uri], over)
    bob.remotePath = [alice.uri]
    return { alice, bob, aliceEp, bobEp }
  }

  it(`C-5.4-3, C-5.4-7: a text message each way on the one ${kind} connection`, async () => {
    const { alice, bob } = await sessions()
    expect(alice.connection?.transport.info.kind).toBe(kind)
    const toBob = nextMessage(bob)
    const sent = await lastValueFrom(alice.send('Hi, Bob! ☃').pipe(toArray()))
    expect(sent[sent.length - 1]).toMatchObject({ type: 'done', size: 12 })
    const m1 = await toBob
    expect(m1.contentType).toBe('text/plain;charset=utf-8')
    expect(text(await m1.collect())).toBe('Hi, Bob! ☃')
    expect(await m1.outcome).toEqual({ type: 'complete', size: 12, duplicate: false })
    // Bob answers on the connection Alice opened (he was bound to it by her binding SEND, C-5.4-7).
    const toAlice = nextMessage(alice)
    await lastValueFrom(bob.send("Hi, Alice!  I'm Bob!"))
    const m2 = await toAlice
    expect(text(await m2.collect())).toBe("Hi, Alice!  I'm Bob!")
    expect(m2.head.fromPath.map((u) => u.sessionId)).toEqual([bob.localUri.sessionId])
  })

  it('RFC 4975 §5.1: 3 MiB of binary in chunks, with progress, sha256 equal', async () => {
    // 8 KiB chunks (the size through relays), so that the transfer is many chunks over each transport.
    const { alice, bob } = await sessions({ alice: { chunkBytes: DEFAULT_CHUNK_BYTES } })
    const body = pseudoRandom(3 * 1024 * 1024, 11)
    const incoming = nextMessage(bob)
    const events = lastValueFrom(alice.send(body, { contentType: 'application/octet-stream' }).pipe(toArray()))
    const message = await incoming
    expect(message.total).toBe(body.length)
    expect(sha(await message.collect())).toBe(sha(body))
    const all = await events
    const progress = all.filter((e): e is Progress => e.type === 'progress')
    expect(progress.length).toBeGreaterThan(3 * 128) // 8 KiB chunks: one event written and one acknowledged each
    for (let k = 1; k < progress.length; k++) {
      const [a, b] = [progress[k - 1] as Progress, progress[k] as Progress]
      expect(b.sent).toBeGreaterThanOrEqual(a.sent)
      expect(b.acknowledged).toBeGreaterThanOrEqual(a.acknowledged)
      expect(b.acknowledged).toBeLessThanOrEqual(b.sent)
    }
    expect(progress[progress.length - 1]).toMatchObject({ sent: body.length, acknowledged: body.length })
    expect(all[all.length - 1]).toEqual({ type: 'done', messageId: message.messageId, size: body.length })
    expect(await message.outcome).toEqual({ type: 'complete', size: body.length, duplicate: false })
  })

  it('C-7.1.1-21, C-7.3.1: 16 messages sent at once share the connection; each arrives whole', async () => {
    const { alice, bob } = await sessions({ alice: { chunkBytes: DEFAULT_CHUNK_BYTES } })
    const n = 16
    const bodies = Array.from({ length: n }, (_, k) => pseudoRandom(64 * 1024 + k, k + 1))
    const ids = bodies.map(() => newSessionId())
    const started: IncomingMessage[] = []
    /** For each message as it was announced, how many of the earlier ones had all their bytes already. */
    const finishedBefore: number[] = []
    const received = new Map<string, Promise<Uint8Array>>()
    const sub = bob.messages$.subscribe((m) => {
      finishedBefore.push(started.filter((s) => s.receivedBytes === s.total).length)
      started.push(m)
      received.set(m.messageId, m.collect())
    })
    await Promise.all(bodies.map((b, k) => lastValueFrom(alice.send(b, { messageId: ids[k] as string }))))
    await until(() => received.size === n, 'every message')
    for (let k = 0; k < n; k++) {
      const body = await (received.get(ids[k] as string) as Promise<Uint8Array>)
      expect(sha(body)).toBe(sha(bodies[k] as Uint8Array))
    }
    // Fair sharing: the messages' chunks alternate (8 each), so every message began before any had ended.
    expect(finishedBefore).toEqual(Array.from({ length: n }, () => 0))
    sub.unsubscribe()
  })

  it('C-7.1-9: unsubscribing mid-transfer aborts with `#`; the receiver sees the message aborted', async () => {
    const { alice, bob } = await sessions({ alice: { chunkBytes: 8192 } })
    const stall = gate()
    async function* stalled() {
      yield pseudoRandom(20_000, 3)
      await stall.wait // the rest never comes: the sender gives up
    }
    const incoming = nextMessage(bob)
    const progress: SendEvent[] = []
    const sending = alice.send(stalled()).subscribe({ next: (e) => progress.push(e), error: () => undefined })
    const message = await incoming
    const reading = message.collect().catch((e: unknown) => e)
    await until(() => progress.some((e) => e.type === 'progress' && e.acknowledged === 16_384), 'two chunks')
    sending.unsubscribe()
    // The two whole 8 KiB chunks arrived; the `#` chunk ends the message (RFC 4975 §7.1, flag `#`).
    expect(await message.outcome).toEqual({ type: 'aborted', received: 16_384, reason: 'Aborted' })
    expect(await reading).toMatchObject({ name: 'MessageIncompleteError' })
    stall.open()
    // The connection carries on.
    const next = nextMessage(bob)
    await lastValueFrom(alice.send('after the abort'))
    expect(text(await (await next).collect())).toBe('after the abort')
  })

  it('C-7.3.1, C-10-2: a 413 from the receiver stops the sender; the connection carries on', async () => {
    const { alice, bob } = await sessions({ bob: { reassembly: { maxMessageBytes: 100_000 } } })
    const block = pseudoRandom(8192, 5)
    const limit = 8192 // at most 64 MiB: the 413 must stop it long before
    let yielded = 0
    let released = false
    async function* endless() {
      try {
        for (let k = 0; k < limit; k++) {
          yielded += block.length
          yield block
        }
      } finally {
        released = true
      }
    }
    const seen: IncomingMessage[] = []
    const sub = bob.messages$.subscribe((m) => {
      if (seen.push(m) === 1) m.discard()
    })
    // Unknown size: the first chunks are accepted, the one crossing 100 000 bytes is answered 413.
    await expect(lastValueFrom(alice.send(endless()))).rejects.toMatchObject({
      name: 'SendError',
      reason: 'ErrorResponse',
      status: 413
    })
    await until(() => released, 'the source to be released')
    expect(yielded).toBeLessThan(limit * block.length)
    expect(await seen[0]?.outcome).toMatchObject({ type: 'failed', status: 413, reason: 'TooLarge' })
    await lastValueFrom(alice.send('still here'))
    expect(seen.length).toBe(2)
    expect(text(await (seen[1] as IncomingMessage).collect())).toBe('still here')
    expect(await seen[1]?.outcome).toMatchObject({ type: 'complete', size: 10 })
    sub.unsubscribe()
  })

  it('C-5.4-10: a connection cut mid-chunk fails the send and aborts the incoming message', async () => {
    const proxy = await cutter(port, 300_000)
    try {
      const { alice, bob } = await sessions({ alice: { chunkBytes: 64 * 1024 }, via: proxy.port })
      const block = pseudoRandom(64 * 1024, 9)
      async function* long() {
        for (let k = 0; k < 256; k++) yield block // 16 MiB; the proxy holds all but the first 300 000 bytes
      }
      const incoming = nextMessage(bob)
      const sent = lastValueFrom(alice.send(long()))
      const message = await incoming
      await until(() => message.receivedBytes >= 4 * 64 * 1024, 'four chunks to arrive')
      proxy.cut()
      const error = await sent.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SendError)
      expect(error).toMatchObject({ reason: 'ConnectionClosed', status: 408 })
      const outcome = await message.outcome
      expect(outcome).toMatchObject({ type: 'aborted', reason: 'ConnectionLost' })
      expect(outcome.type === 'aborted' && outcome.received).toBeLessThan(300_000)
      expect(bob.connection).toBeUndefined()
      // Alice's session lets go of the connection once its incoming side has ended too (C-5.4-10).
      await until(() => alice.connection === undefined, "Alice's session to be unbound")
    } finally {
      await proxy.close()
    }
  })
})
