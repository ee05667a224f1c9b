/**
 * The `Transport` contract (src/transport/transport.ts) as one test suite, run against every implementation by
 * contract.spec.ts, so that they behave alike.
 */
import { createHash } from 'node:crypto'
import { firstValueFrom } from 'rxjs'
import type { Transport, TransportKind } from '../../src/transport/transport'
import { awkwardBytes, bufferedBytesOf, closedOf, record, transportErrorOf } from './helpers'

/** Two connected transports: `a` opened the connection, `b` accepted it. */
export interface Pair {
  readonly a: Transport
  readonly b: Transport
  /** Releases everything (transports, listeners, servers). */
  readonly cleanup: () => Promise<void>
}

/** A transport whose peer can be killed abruptly. */
export interface Doomed {
  readonly transport: Transport
  /** Resets or destroys the peer's end without a clean close. */
  readonly kill: () => void
  readonly cleanup: () => Promise<void>
}

/** How to make transports of one kind. */
export interface TransportFactory {
  readonly name: string
  readonly kind: TransportKind
  readonly messageOriented: boolean
  readonly secure: boolean
  /** The high-water mark the factory's transports use. */
  readonly highWaterMark: number
  /** Whether `info.local`/`remote` are known (a browser's WebSocket does not tell them). Default true. */
  readonly addresses?: boolean
  readonly pair: () => Promise<Pair>
  readonly doomed: () => Promise<Doomed>
}

/** Bound on the writes of the backpressure test: 8192 × 16 KiB = 128 MiB, far beyond any kernel buffer. */
const MAX_WRITES = 8192
const CHUNK_BYTES = 16 * 1024
/** How long the backpressure test waits for a drain before it calls the writer stalled (not an assertion). */
const STALL_MS = 100
/** Frame headers and control frames a WebSocket adds to `bufferedAmount` beyond the message bytes. */
const FRAMING_SLACK_BYTES = 1024

/** Defines the contract tests for one factory (call inside a `describe`). */
export function transportContract(factory: TransportFactory): void {
  let pair: Pair | undefined
  const open = async (): Promise<Pair> => (pair = await factory.pair())
  afterEach(async () => {
    await pair?.cleanup()
    pair = undefined
  })

  it('describes itself in info', async () => {
    const { a, b } = await open()
    for (const t of [a, b]) {
      expect(t.info.kind).toBe(factory.kind)
      expect(t.info.messageOriented).toBe(factory.messageOriented)
      expect(t.info.secure).toBe(factory.secure)
    }
    if (factory.kind !== 'memory' && factory.addresses !== false) {
      expect(a.info.remote).toEqual(b.info.local)
      expect(b.info.remote).toEqual(a.info.local)
    }
  })

  it('carries arbitrary bytes both ways, NUL bytes and invalid UTF-8 included', async () => {
    const { a, b } = await open()
    const toB = awkwardBytes(100_000)
    const toA = awkwardBytes(70_001).reverse()
    const atA = record(a)
    const atB = record(b)
    a.write([toB])
    b.write([toA])
    await Promise.all([atA.waitBytes(toA.length), atB.waitBytes(toB.length)])
    expect(atB.bytes().equals(toB)).toBe(true)
    expect(atA.bytes().equals(toA)).toBe(true)
    if (factory.messageOriented) {
      expect(atA.values).toHaveLength(1)
      expect(atB.values).toHaveLength(1)
    }
  })

  it('sends the pieces of one write together, in order (one message when message-oriented)', async () => {
    const { a, b } = await open()
    const atB = record(b)
    const writes = [
      [Buffer.from('MSRP a SEND\r\n'), Buffer.alloc(3000, 0), Buffer.from('-------a$\r\n')],
      [Buffer.from([0xff])],
      [Buffer.from('x'), Buffer.from('y')]
    ]
    for (const pieces of writes) a.write(pieces)
    const expected = writes.map((pieces) => Buffer.concat(pieces))
    await atB.waitBytes(expected.reduce((n, m) => n + m.length, 0))
    expect(atB.bytes().equals(Buffer.concat(expected))).toBe(true)
    if (factory.messageOriented) expect(atB.values.map((v) => Buffer.from(v))).toEqual(expected)
  })

  it('delivers bytes that arrived before the subscription', async () => {
    const { a, b } = await open()
    b.write([Buffer.from('before')])
    const atB = record(b)
    a.write([Buffer.from('sync')])
    await atB.waitBytes(4)
    // b's bytes reached a before a's own bytes were read back at b: they wait in a until it subscribes.
    const atA = record(a)
    await atA.waitBytes(6)
    expect(atA.bytes().toString()).toBe('before')
  })

  it('completes the other side after the bytes written before a clean close', async () => {
    const { a, b } = await open()
    const atA = record(a)
    const atB = record(b)
    const data = awkwardBytes(50_000)
    a.write([data])
    a.close()
    await expect(atA.ended).resolves.toEqual({ kind: 'complete' })
    await expect(atB.ended).resolves.toEqual({ kind: 'complete' })
    expect(atB.bytes().equals(data)).toBe(true)
    await Promise.all([closedOf(a), closedOf(b)])
  })

  it('closes when incoming$ is unsubscribed', async () => {
    const { a, b } = await open()
    const atA = record(a)
    const atB = record(b)
    atA.subscription.unsubscribe()
    await expect(atB.ended).resolves.toEqual({ kind: 'complete' })
    await closedOf(a)
  })

  it('returns false from write after close', async () => {
    const { a } = await open()
    a.close()
    expect(a.write([Buffer.from('late')])).toBe(false)
    await closedOf(a)
  })

  it('refuses a second subscription to incoming$ (unicast)', async () => {
    const { a } = await open()
    record(a)
    const second = record(a)
    const end = await second.ended
    expect(end.kind).toBe('error')
  })

  it('fails incoming$ with TransportError(Reset) when the peer is killed', async () => {
    const doomed = await factory.doomed()
    try {
      const at = record(doomed.transport)
      doomed.kill()
      const error = await transportErrorOf(at.ended)
      expect(error.reason).toBe('Reset')
      await closedOf(doomed.transport)
    } finally {
      await doomed.cleanup()
    }
  })

  it('pushes back on a writer whose reader is paused, with bounded buffering, and drains after resume', async () => {
    const { a, b } = await open()
    const atB = record(b)
    b.pause()
    let drained = true
    const drains = a.drain$.subscribe(() => (drained = true))
    const sent = createHash('sha256')
    let sentBytes = 0
    let sawFalse = false
    let maxBuffered = 0
    for (let i = 0; i < MAX_WRITES; i++) {
      const chunk = Buffer.alloc(CHUNK_BYTES, i % 251)
      chunk.writeUInt32BE(i, 0)
      sent.update(chunk)
      sentBytes += chunk.length
      const ok = a.write([chunk])
      maxBuffered = Math.max(maxBuffered, bufferedBytesOf(a))
      if (ok) continue
      sawFalse = true
      drained = false
      // Wait for the drain, or call the writer stalled after STALL_MS. A drain that comes later is still counted by
      // the subscription above, so a slow machine changes when the loop stops, not what is asserted.
      if (!(await drainedWithin(a, STALL_MS))) break
    }
    expect(sawFalse).toBe(true)
    expect(atB.total()).toBe(0) // nothing delivered while paused
    expect(maxBuffered).toBeLessThanOrEqual(factory.highWaterMark + CHUNK_BYTES + FRAMING_SLACK_BYTES)
    b.resume()
    await atB.waitBytes(sentBytes)
    if (!drained) await firstValueFrom(a.drain$)
    drains.unsubscribe()
    expect(atB.total()).toBe(sentBytes)
    expect(createHash('sha256').update(atB.bytes()).digest('hex')).toBe(sent.digest('hex'))
    if (factory.messageOriented) expect(atB.values.every((v) => v.length === CHUNK_BYTES)).toBe(true)
  })
}

/** True when `drain$` fires within `ms`, false otherwise. */
function drainedWithin(transport: Transport, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe()
      resolve(false)
    }, ms)
    const subscription = transport.drain$.subscribe(() => {
      clearTimeout(timer)
      subscription.unsubscribe()
      resolve(true)
    })
  })
}
