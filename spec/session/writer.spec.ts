import fc from 'fast-check'
import { AsyncSubject, lastValueFrom, NEVER, Subject, take, toArray } from 'rxjs'
import {
  chunkBytesFor,
  ConnectionWriter,
  DEFAULT_CHUNK_BYTES,
  DIRECT_CHUNK_BYTES,
  GATHER_BELOW_BYTES,
  GATHER_WAIT_MS,
  WriterError
} from '../../src/session/writer'
import type { OutgoingMessage, WriteEvent } from '../../src/session/writer'
import { memoryPair } from '../../src/transport/memory'
import type { Transport, TransportInfo } from '../../src/transport/transport'
import { concatBytes } from '../../src/wire/bytes'
import { parseByteRange, type ByteRange } from '../../src/wire/headers/byte-range'
import { Framer } from '../../src/wire/framer'
import { decodeSlices } from '../helpers/replay'
import { getHeader, type MsrpFrame, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'

/** Kamailio reads nothing of a frame of this many bytes or more (../shared/interop/kamailio.md). */
const KAMAILIO_FRAME_CAP_BYTES = 11_239
const BOB = 'msrp://bob.example.com:2855/9di4ea;tcp'
/** Through a relay: the default chunk size is then DEFAULT_CHUNK_BYTES (the tests of chunking rely on it). */
const TO = 'msrp://relay.example.com:2855/r7Ax;tcp ' + BOB
const FROM = 'msrp://alice.example.com:7777/iau39;tcp'

/** A transport that records each `write` call; `accepting` is what `write` returns until `drain()`. */
class FakeTransport implements Transport {
  constructor(private readonly kind: TransportInfo['kind'] = 'memory') {}
  readonly writes: Uint8Array[][] = []
  accepting = true
  closed = false
  readonly incoming$ = NEVER
  private readonly drains = new Subject<void>()
  private readonly closing = new AsyncSubject<void>()
  readonly drain$ = this.drains.asObservable()
  readonly closed$ = this.closing.asObservable()
  get info(): TransportInfo {
    return { ...this.baseInfo, kind: this.kind }
  }
  private readonly baseInfo: TransportInfo = {
    kind: 'memory',
    messageOriented: false,
    secure: false,
    local: undefined,
    remote: undefined,
    peerCertificate: undefined
  }

  write(pieces: readonly Uint8Array[]): boolean {
    if (this.closed) return false
    this.writes.push([...pieces])
    return this.accepting
  }
  drain(): void {
    this.drains.next()
  }
  pause(): void {}
  resume(): void {}
  close(): void {
    if (this.closed) return
    this.closed = true
    this.closing.next()
    this.closing.complete()
    this.drains.complete()
  }
  /** Each write decoded; a write must hold exactly one whole frame. */
  frames(): MsrpFrame[] {
    return this.writes.map(decodeOne)
  }
  /** The SEND chunks written, in order. */
  sends(): MsrpRequest[] {
    return this.frames().filter((f): f is MsrpRequest => f.type === 'request' && f.method === 'SEND')
  }
}

function decodeOne(pieces: readonly Uint8Array[]): MsrpFrame {
  const decoded = decodeSlices([concatBytes(pieces)])
  if (decoded.frames.length !== 1 || decoded.failure !== undefined || decoded.framer.bufferedBytes !== 0) {
    throw new Error(`not one frame: ${decoded.frames.length} frames, failure ${decoded.failure?.reason ?? 'none'}`)
  }
  return decoded.frames[0]!
}

/** Lets every pending promise of in-memory sources run (microtasks all run before a setImmediate callback). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const pattern = (at: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (at + k) % 251)

/** A body of `total` bytes read `readBytes` at a time, counting its reads; throws at `throwAt` if given. */
function source(total: number, readBytes: number, throwAt?: number) {
  const stats = { pulls: 0, pulledBytes: 0, finished: false }
  async function* generate(): AsyncGenerator<Uint8Array> {
    try {
      for (let at = 0; at < total; at += readBytes) {
        if (throwAt !== undefined && at >= throwAt) throw new Error('disk on fire')
        const n = Math.min(readBytes, total - at)
        stats.pulls++
        stats.pulledBytes += n
        yield pattern(at, n)
      }
    } finally {
      stats.finished = true
    }
  }
  return { body: generate(), stats }
}

function message(body: AsyncIterable<Uint8Array>, fields: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    messageId: 'msg0001',
    toPath: TO,
    fromPath: FROM,
    contentType: 'application/octet-stream',
    successReport: 'no',
    failureReport: 'yes',
    size: undefined,
    body,
    ...fields
  }
}

const response: MsrpResponse = {
  type: 'response',
  transactionId: 'resp0001',
  status: 200,
  comment: 'OK',
  headers: [
    ['To-Path', FROM],
    ['From-Path', BOB]
  ],
  continuation: '$'
}

function range(frame: MsrpFrame): ByteRange {
  const value = getHeader(frame.headers, 'Byte-Range')
  if (value === undefined) throw new Error('no Byte-Range')
  const parsed = parseByteRange(value)
  if (parsed._tag === 'Left') throw new Error(parsed.left)
  return parsed.right
}

const all = (writer: ConnectionWriter, m: OutgoingMessage): Promise<WriteEvent[]> =>
  lastValueFrom(writer.sendMessage(m).pipe(toArray()))

/** Subscribes and records what happens, for tests that look at a message while it is being sent. */
function watch(writer: ConnectionWriter, m: OutgoingMessage) {
  const seen = { events: [] as WriteEvent[], error: undefined as unknown, completed: false }
  const subscription = writer.sendMessage(m).subscribe({
    next: (e) => seen.events.push(e),
    error: (e: unknown) => (seen.error = e),
    complete: () => (seen.completed = true)
  })
  return { seen, subscription }
}

const reasonOf = (error: unknown): string | undefined => (error instanceof WriterError ? error.reason : undefined)

describe('ConnectionWriter', () => {
  describe('chunking (RFC 4975 §7.1.1)', () => {
    it('C-7.1.1-10, -11: a small message is one `$` chunk with Byte-Range 1-N/N, To-Path first, Content-Type last', async () => {
      const t = new FakeTransport()
      const events = await all(new ConnectionWriter(t), message(source(5, 5).body, { size: 5 }))
      const [send] = t.sends()
      expect(t.writes).toHaveLength(1)
      expect(send?.continuation).toBe('$')
      expect(getHeader(send!.headers, 'Byte-Range')).toBe('1-5/5')
      expect(send!.headers.map(([n]) => n)).toEqual([
        'To-Path',
        'From-Path',
        'Message-ID',
        'Byte-Range',
        'Content-Type'
      ])
      expect([...send!.body!]).toEqual([...pattern(0, 5)])
      expect(events).toEqual([
        { type: 'chunk', request: events[0]!.request, body: [pattern(0, 5)], start: 0, length: 5, final: true }
      ])
      // the event holds the SEND as written: its head, and its body as pieces
      expect(decodeOne(t.writes[0]!)).toEqual({ ...events[0]!.request, body: concatBytes(events[0]!.body) })
    })

    it('C-7.1.1-15: an empty message is one chunk with an empty body, 1-0/0 and `$`', async () => {
      const t = new FakeTransport()
      await all(new ConnectionWriter(t), message(source(0, 1).body, { size: 0 }))
      const [send] = t.sends()
      expect(t.writes).toHaveLength(1)
      expect(getHeader(send!.headers, 'Byte-Range')).toBe('1-0/0')
      expect(send!.body).toEqual(new Uint8Array(0))
      expect(send!.continuation).toBe('$')
    })

    it('C-7.1-5: without a content type an empty message is a bodiless SEND, and one with bytes fails', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      await all(writer, message(source(0, 1).body, { contentType: undefined, size: undefined }))
      const [send] = t.sends()
      expect(send!.body).toBeUndefined()
      expect(getHeader(send!.headers, 'Content-Type')).toBeUndefined()
      expect(getHeader(send!.headers, 'Byte-Range')).toBe('1-0/0')
      await expect(all(writer, message(source(3, 3).body, { contentType: undefined }))).rejects.toMatchObject({
        reason: 'EncodeFailed'
      })
      expect(t.writes).toHaveLength(1)
    })

    it('C-5.1-1, C-7.1.1-14, -19: 100 KiB goes in chunks of ≤ chunkBytes with contiguous ranges, `*` range-ends, known total, last `$`', async () => {
      const t = new FakeTransport()
      const total = 100 * 1024
      const events = await all(new ConnectionWriter(t), message(source(total, 3000).body, { size: total }))
      const sends = t.sends()
      expect(sends).toHaveLength(Math.ceil(total / DEFAULT_CHUNK_BYTES))
      let next = 1
      for (const [i, send] of sends.entries()) {
        const r = range(send)
        const length = send.body!.length
        // C-7.1.1-19: 3000-byte reads are gathered into full chunks; only the last may be smaller.
        if (i < sends.length - 1) expect(length).toBe(DEFAULT_CHUNK_BYTES)
        else expect(length).toBeLessThanOrEqual(DEFAULT_CHUNK_BYTES)
        expect(r.start).toBe(next)
        expect(r.end).toBe(length > 2048 ? '*' : next + length - 1)
        expect(r.total).toBe(total)
        expect(send.continuation).toBe(i === sends.length - 1 ? '$' : '+')
        expect(events[i]).toMatchObject({ start: next - 1, length, final: i === sends.length - 1 })
        next += length
      }
      expect(next - 1).toBe(total)
      expect([...concatBytes(sends.map((s) => s.body!))]).toEqual([...pattern(0, total)])
    })

    it('C-7.1.1-16: slices a large read into chunks without copying it, and writes each body as its own piece', async () => {
      const t = new FakeTransport()
      const read = pattern(0, 20_000)
      async function* one(): AsyncGenerator<Uint8Array> {
        yield read
      }
      const events = await all(new ConnectionWriter(t), message(one()))
      expect(events.map((e) => e.length)).toEqual([8192, 8192, 3616])
      for (const [i, e] of events.entries()) {
        expect(e.body).toHaveLength(1)
        expect(e.body[0]!.buffer).toBe(read.buffer)
        expect(t.writes[i]![1]).toBe(e.body[0])
      }
    })

    it('C-7.1.1-13: with an unknown size the total is `*` until the final chunk, which gives the sum', async () => {
      const t = new FakeTransport()
      const total = 20_000
      await all(new ConnectionWriter(t), message(source(total, 1000).body))
      const ranges = t.sends().map(range)
      expect(ranges.map((r) => r.total)).toEqual(['*', '*', total])
      expect(ranges.map((r) => r.start)).toEqual([1, 8193, 16385])
      expect(ranges[2]!.end).toBe('*') // 3616 bytes > 2048
    })

    it('C-7.1.1-12: a last chunk of ≤ 2048 bytes carries its range-end', async () => {
      const t = new FakeTransport()
      await all(new ConnectionWriter(t), message(source(8192 + 100, 500).body))
      expect(t.sends().map((s) => getHeader(s.headers, 'Byte-Range'))).toEqual(['1-*/*', '8193-8292/8292'])
    })

    it('C-7.1.1-3, -4: report headers are omitted when default and repeated on every chunk otherwise', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t, { chunkBytes: 4096 })
      await all(writer, message(source(10, 10).body))
      expect(getHeader(t.sends()[0]!.headers, 'Success-Report')).toBeUndefined()
      expect(getHeader(t.sends()[0]!.headers, 'Failure-Report')).toBeUndefined()
      const disposition = ['Content-Disposition', 'attachment; filename="a.bin"'] as const
      const extraHeaders = [disposition]
      await all(
        writer,
        message(source(10_000, 4096).body, { successReport: 'yes', failureReport: 'partial', extraHeaders })
      )
      const chunks = t.sends().slice(1)
      expect(chunks).toHaveLength(3)
      for (const send of chunks) {
        expect(send.headers.map(([n]) => n)).toEqual([
          'To-Path',
          'From-Path',
          'Message-ID',
          'Byte-Range',
          'Success-Report',
          'Failure-Report',
          'Content-Disposition',
          'Content-Type'
        ])
        expect(getHeader(send.headers, 'Success-Report')).toBe('yes')
        expect(getHeader(send.headers, 'Failure-Report')).toBe('partial')
      }
    })

    it('C-7.1.1-2: every chunk carries the Message-ID and a fresh transaction id', async () => {
      const t = new FakeTransport()
      await all(new ConnectionWriter(t), message(source(30_000, 7000).body, { messageId: 'Zx81.abc' }))
      const sends = t.sends()
      expect(sends.map((s) => getHeader(s.headers, 'Message-ID'))).toEqual(sends.map(() => 'Zx81.abc'))
      expect(new Set(sends.map((s) => s.transactionId)).size).toBe(sends.length)
    })

    it('C-7.1-10: never picks a transaction id whose `-------<tid>` occurs in the body', async () => {
      const t = new FakeTransport()
      const ids = ['AAAAAAAAAAAA', 'BBBBBBBBBBBB']
      const writer = new ConnectionWriter(t, { generateId: () => ids.shift() ?? 'CCCCCCCCCCCC' })
      const body = new TextEncoder().encode('x\r\n-------AAAAAAAAAAAA$\r\n-------AAAAAAAAAAAA\r\ny')
      async function* one(): AsyncGenerator<Uint8Array> {
        yield body
      }
      await all(writer, message(one()))
      const [send] = t.sends()
      expect(send!.transactionId).toBe('BBBBBBBBBBBB')
      expect(send!.body).toEqual(body)
    })

    it('Kamailio cap: every chunk frame of a default-chunked message with a 3-URI To-Path is < 11 239 bytes', async () => {
      const t = new FakeTransport()
      const host = (name: string): string => `${name}.${'long-subdomain-label-'.repeat(3)}example.com`
      const uri = (name: string): string => `msrps://${host(name)}:12763/${'s'.repeat(32)};tcp`
      const total = 100 * 1024
      await all(
        new ConnectionWriter(t),
        message(source(total, 65_536).body, {
          toPath: [uri('relay-a'), uri('relay-b'), uri('bob')].join(' '),
          fromPath: [uri('relay-z'), uri('alice')].join(' '),
          size: total,
          successReport: 'yes',
          failureReport: 'partial',
          contentType: 'message/cpim',
          extraHeaders: [['Content-Disposition', 'attachment; filename="holiday-photos-2024-summer.tar"']]
        })
      )
      expect(t.sends().length).toBeGreaterThan(1)
      for (const pieces of t.writes) {
        expect(pieces.reduce((n, p) => n + p.length, 0)).toBeLessThan(KAMAILIO_FRAME_CAP_BYTES)
      }
    })
  })

  describe('sharing the connection (C-7.1.1-20, -21)', () => {
    it('C-7.1.1-21: two concurrent messages interleave chunk by chunk', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      const a = all(writer, message(source(40_960, 8192).body, { messageId: 'msgAAAA' }))
      const b = all(writer, message(source(40_960, 8192).body, { messageId: 'msgBBBB' }))
      await Promise.all([a, b])
      const order = t.sends().map((s) => getHeader(s.headers, 'Message-ID'))
      expect(order).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'msgAAAA' : 'msgBBBB')))
    })

    it('C-7.1.1-20: a control frame queued while a long message is sending goes out before its next chunk', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      t.accepting = false
      const long = watch(writer, message(source(50_000, 8192).body, { messageId: 'longmsg' }))
      const other = watch(writer, message(source(50_000, 8192).body, { messageId: 'othermsg' }))
      await settle()
      expect(t.writes).toHaveLength(1) // the first chunk made the transport congested
      writer.sendFrame(response)
      await settle()
      expect(t.writes).toHaveLength(1) // nothing is written before drain$
      t.drain()
      expect(t.frames()[1]).toEqual(response)
      t.accepting = true
      t.drain()
      await settle()
      expect(t.frames()).toHaveLength(1 + 2 * 7) // 50 000 bytes = 7 chunks each
      expect(long.seen.completed && other.seen.completed).toBe(true)
    })

    it('writes a control frame at once when the transport is not congested', () => {
      const t = new FakeTransport()
      new ConnectionWriter(t).sendFrame(response)
      expect(t.frames()).toEqual([response])
    })

    it('throws EncodeFailed for a control frame that cannot be encoded', () => {
      const t = new FakeTransport()
      const bad: MsrpResponse = { ...response, transactionId: 'x' }
      expect(() => new ConnectionWriter(t).sendFrame(bad)).toThrow(WriterError)
      expect(t.writes).toHaveLength(0)
    })
  })

  describe('chunk size by path, pieces and offset', () => {
    it('C-7.1.1-17: straight to the peer (one To-Path URI) chunks are DIRECT_CHUNK_BYTES, through relays DEFAULT_CHUNK_BYTES', async () => {
      expect(chunkBytesFor(BOB, 'tcp')).toBe(DIRECT_CHUNK_BYTES)
      expect(chunkBytesFor(BOB, 'tls')).toBe(DIRECT_CHUNK_BYTES)
      expect(chunkBytesFor(TO, 'tcp')).toBe(DEFAULT_CHUNK_BYTES)
      // A WebSocket message is held whole by its receiver: 8 KiB whatever the path.
      expect(chunkBytesFor(BOB, 'ws')).toBe(DEFAULT_CHUNK_BYTES)
      expect(chunkBytesFor(BOB, 'wss')).toBe(DEFAULT_CHUNK_BYTES)
      const total = 2 * DIRECT_CHUNK_BYTES + 1000
      const t = new FakeTransport()
      const events = await all(new ConnectionWriter(t), message(source(total, 64 * 1024).body, { toPath: BOB }))
      expect(events.map((e) => e.length)).toEqual([DIRECT_CHUNK_BYTES, DIRECT_CHUNK_BYTES, 1000])
      expect(concatBytes(t.sends().map((s) => s.body!))).toEqual(pattern(0, total))
      const ws = new FakeTransport('ws')
      const overWs = await all(new ConnectionWriter(ws), message(source(20_000, 20_000).body, { toPath: BOB }))
      expect(overWs.map((e) => e.length)).toEqual([8192, 8192, 3616])
      // A configured size wins over the path.
      const u = new FakeTransport()
      const sized = await all(new ConnectionWriter(u, { chunkBytes: 4096 }), message(source(10_000, 10_000).body))
      expect(sized.map((e) => e.length)).toEqual([4096, 4096, 1808])
    })

    it('writes reads of GATHER_BELOW_BYTES or more as they are (no copy), and copies only smaller reads together', async () => {
      const reads = [pattern(0, 64 * 1024), pattern(7, 100), pattern(9, 200), pattern(3, GATHER_BELOW_BYTES)]
      async function* body(): AsyncGenerator<Uint8Array> {
        yield* reads
      }
      const t = new FakeTransport()
      const [event] = await all(new ConnectionWriter(t), message(body(), { toPath: BOB }))
      expect(event!.body).toHaveLength(3)
      expect(event!.body[0]).toBe(reads[0]) // the read itself, also in the write vector
      expect(t.writes[0]![1]).toBe(reads[0])
      expect(event!.body[1]).toEqual(concatBytes([reads[1]!, reads[2]!])) // two small reads, one copy
      expect(event!.body[2]).toBe(reads[3])
      expect(t.sends()[0]!.body).toEqual(concatBytes(reads))
    })

    it('any read sizes and chunk size: the chunks carry the body in order, each within the chunk size', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 1, max: 70_000 }),
          async (sizes, chunkBytes) => {
            let at = 0
            const reads = sizes.map((n) => pattern((at += n) - n, n))
            async function* body(): AsyncGenerator<Uint8Array> {
              yield* reads
            }
            const t = new FakeTransport()
            const events = await all(new ConnectionWriter(t, { chunkBytes }), message(body()))
            for (const e of events) expect(e.length).toBeLessThanOrEqual(chunkBytes)
            for (const e of events) expect(e.body.length).toBeLessThanOrEqual(Math.ceil(e.length / 1024) + 1)
            expect(concatBytes(t.sends().map((s) => s.body!))).toEqual(pattern(0, at))
          }
        ),
        { numRuns: 60 }
      )
    })

    it('C-7.1-10: the transaction id is checked against the whole body, across the joints between pieces', async () => {
      const first = new Uint8Array(GATHER_BELOW_BYTES).fill(0x61)
      first.set(new TextEncoder().encode('----'), first.length - 4)
      const second = new Uint8Array(GATHER_BELOW_BYTES).fill(0x62)
      second.set(new TextEncoder().encode('---first1'))
      async function* body(): AsyncGenerator<Uint8Array> {
        yield first
        yield second
      }
      const ids = ['first1', 'second']
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t, { generateId: () => ids.shift() ?? 'CCCCCCCCCCCC' })
      const [event] = await all(writer, message(body(), { toPath: BOB }))
      expect(event!.body).toHaveLength(2)
      expect(event!.request.transactionId).toBe('second')
    })

    it('a source that stalls does not hold back bytes it gave: the chunk goes after GATHER_WAIT_MS, the end as an empty `$`', async () => {
      const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, GATHER_WAIT_MS * 4))
      async function* trickle(): AsyncGenerator<Uint8Array> {
        yield pattern(0, 10)
        await pause()
        yield pattern(10, 10)
        await pause()
      }
      const t = new FakeTransport()
      const events = await all(new ConnectionWriter(t), message(trickle(), { toPath: BOB }))
      expect(events.map((e) => [e.start, e.length, e.final])).toEqual([
        [0, 10, false],
        [10, 10, false],
        [20, 0, true]
      ])
      const sends = t.sends()
      expect(sends.map((f) => getHeader(f.headers, 'Byte-Range'))).toEqual(['1-10/*', '11-20/*', '21-20/20'])
      expect(sends.map((f) => f.continuation)).toEqual(['+', '+', '$'])
    })

    it('RFC 4975 §5.4 resend: with an offset the first chunk starts after the bytes the peer has', async () => {
      const t = new FakeTransport()
      const events = await all(new ConnectionWriter(t), message(source(200, 200).body, { size: 300, offset: 100 }))
      expect(events.map((e) => [e.start, e.length, e.final])).toEqual([[100, 200, true]])
      expect(getHeader(t.sends()[0]!.headers, 'Byte-Range')).toBe('101-300/300')
      const u = new FakeTransport()
      const tooFar = all(new ConnectionWriter(u), message(source(1, 1).body, { size: 300, offset: 301 }))
      await expect(tooFar).rejects.toMatchObject({ reason: 'EncodeFailed' })
      const short = all(new ConnectionWriter(u), message(source(150, 150).body, { size: 300, offset: 100 }))
      await expect(short).rejects.toMatchObject({ reason: 'SizeMismatch' })
    })
  })

  describe('backpressure', () => {
    it('reads the source no faster than the transport drains (one write per drain, bounded read-ahead)', async () => {
      const t = new FakeTransport()
      t.accepting = false
      const chunkBytes = 4096
      const readBytes = 1000
      const { body, stats } = source(64_000, readBytes)
      const writer = new ConnectionWriter(t, { chunkBytes })
      const { seen } = watch(writer, message(body))
      let written = 0
      for (let round = 0; round < 100 && !seen.completed; round++) {
        await settle()
        const pulls = stats.pulls
        await settle()
        expect(stats.pulls).toBe(pulls) // congested: no further reads
        expect(t.writes.length).toBeLessThanOrEqual(round + 1) // one write per drain
        written = seen.events.reduce((n, e) => n + e.length, 0)
        expect(stats.pulledBytes - written).toBeLessThanOrEqual(chunkBytes + readBytes)
        t.drain()
      }
      expect(seen.completed).toBe(true)
      expect(written).toBe(64_000)
      expect(t.writes).toHaveLength(Math.ceil(64_000 / chunkBytes))
    })

    it('works over memoryPair: a large message, a control frame and `-------` lines in the body round-trip', async () => {
      const [a, b] = memoryPair({ highWaterMark: 16 * 1024 })
      const framer = new Framer()
      const frames: MsrpFrame[] = []
      b.incoming$.subscribe((bytes) => {
        for (const e of framer.push(bytes)) if (e.type === 'frame') frames.push(e.frame)
      })
      const writer = new ConnectionWriter(a)
      const lines = Array.from({ length: 3000 }, (_, i) => `-------${i.toString(36).padStart(12, 'x')}$\r\n`)
      const text = new TextEncoder().encode(lines.join(''))
      async function* pieces(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < text.length; at += 5000) yield text.subarray(at, at + 5000)
      }
      const sending = all(writer, message(pieces(), { size: text.length, contentType: 'text/plain' }))
      writer.sendFrame(response)
      const events = await sending
      for (let i = 0; i < 100 && frames.length < events.length + 1; i++) await settle()
      expect(frames[0]).toEqual(response)
      const sends = frames.slice(1) as MsrpRequest[]
      expect(sends.map((s) => s.transactionId)).toEqual(events.map((e) => e.request.transactionId))
      expect(concatBytes(sends.map((s) => s.body!))).toEqual(text)
      expect(sends[sends.length - 1]!.continuation).toBe('$')
    })
  })

  describe('abort and stop (C-7.1-9, C-7.3.1)', () => {
    it('C-7.1-9: unsubscribing mid-message writes a `#` chunk with an empty body at the next offset', async () => {
      const t = new FakeTransport()
      const { body, stats } = source(50_000, 8192)
      await lastValueFrom(new ConnectionWriter(t).sendMessage(message(body, { size: 50_000 })).pipe(take(2)))
      await settle()
      const sends = t.sends()
      expect(sends.map((s) => s.continuation)).toEqual(['+', '+', '#'])
      expect(getHeader(sends[2]!.headers, 'Byte-Range')).toBe('16385-*/50000')
      expect(getHeader(sends[2]!.headers, 'Message-ID')).toBe('msg0001')
      expect(sends[2]!.body).toEqual(new Uint8Array(0))
      expect(stats.finished).toBe(true) // the source was stopped
    })

    it('unsubscribing before the first chunk is written puts nothing on the wire', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      writer
        .sendMessage(message(source(10_000, 100).body))
        .subscribe()
        .unsubscribe()
      t.accepting = false
      const { subscription } = watch(writer, message(source(10_000, 100).body))
      writer.sendFrame(response) // congests the transport while the first chunk is read
      await settle()
      subscription.unsubscribe()
      t.accepting = true
      t.drain()
      await settle()
      expect(t.frames()).toEqual([response])
    })

    it('C-7.3.1: stop() after a 413 writes no further chunk and no `#`, and errors with Stopped', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      t.accepting = false
      const { body, stats } = source(50_000, 8192)
      const { seen } = watch(writer, message(body, { messageId: 'toolarge' }))
      await settle()
      expect(seen.events).toHaveLength(1)
      writer.stop('toolarge')
      expect(reasonOf(seen.error)).toBe('Stopped')
      t.accepting = true
      t.drain()
      await settle()
      expect(t.sends().map((s) => s.continuation)).toEqual(['+'])
      expect(stats.finished).toBe(true)
    })

    it('C-7.1-9: a source that throws after chunks were written ends with a `#` chunk and SourceFailed', async () => {
      const t = new FakeTransport()
      const { seen } = watch(new ConnectionWriter(t), message(source(50_000, 8192, 16_384).body))
      for (let i = 0; i < 10 && seen.error === undefined; i++) await settle()
      expect(reasonOf(seen.error)).toBe('SourceFailed')
      expect((seen.error as WriterError).cause).toEqual(new Error('disk on fire'))
      expect(t.sends().map((s) => s.continuation)).toEqual(['+', '+', '#'])
      expect(seen.events.map((e) => e.request.continuation)).toEqual(['+', '+', '#'])
      expect(getHeader(t.sends()[2]!.headers, 'Byte-Range')).toBe('16385-*/*')
    })

    it('a source that throws before any chunk fails with SourceFailed and writes nothing', async () => {
      const t = new FakeTransport()
      await expect(all(new ConnectionWriter(t), message(source(1000, 100, 0).body))).rejects.toMatchObject({
        reason: 'SourceFailed'
      })
      expect(t.writes).toHaveLength(0)
    })

    it('a body that yields fewer or more bytes than its size fails with SizeMismatch', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      await expect(all(writer, message(source(5, 5).body, { size: 10 }))).rejects.toMatchObject({
        reason: 'SizeMismatch'
      })
      await expect(all(writer, message(source(20, 5).body, { size: 10 }))).rejects.toMatchObject({
        reason: 'SizeMismatch'
      })
      expect(t.writes).toHaveLength(0)
    })
  })

  describe('lifecycle', () => {
    it('is cold: nothing is read or written before subscribe', async () => {
      const t = new FakeTransport()
      const { body, stats } = source(100, 10)
      new ConnectionWriter(t).sendMessage(message(body))
      await settle()
      expect(stats.pulls).toBe(0)
      expect(t.writes).toHaveLength(0)
    })

    it('the transport closing fails every pending message with ConnectionClosed', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      const closed: WriterError[] = []
      writer.closed$.subscribe((e) => closed.push(e))
      t.accepting = false
      const { body, stats } = source(50_000, 8192)
      const first = watch(writer, message(body))
      const second = watch(writer, message(source(50_000, 8192).body))
      await settle()
      t.close()
      expect(reasonOf(first.seen.error)).toBe('ConnectionClosed')
      expect(reasonOf(second.seen.error)).toBe('ConnectionClosed')
      expect(closed.map((e) => e.reason)).toEqual(['ConnectionClosed'])
      await expect(all(writer, message(source(1, 1).body))).rejects.toMatchObject({ reason: 'ConnectionClosed' })
      await settle()
      expect(stats.finished).toBe(true)
    })

    it('fails the connection with ControlQueueFull when control frames pile up past the bound', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t, { maxQueuedControlFrames: 2 })
      const closed: WriterError[] = []
      writer.closed$.subscribe((e) => closed.push(e))
      t.accepting = false
      const { seen } = watch(writer, message(source(50_000, 8192).body))
      writer.sendFrame(response) // written: the transport is now congested
      writer.sendFrame(response)
      writer.sendFrame(response)
      expect(closed).toEqual([])
      writer.sendFrame(response)
      expect(closed.map((e) => e.reason)).toEqual(['ControlQueueFull'])
      expect(t.closed).toBe(true)
      expect(reasonOf(seen.error)).toBe('ControlQueueFull')
    })

    it('close() fails pending messages with WriterClosed and ignores later frames', async () => {
      const t = new FakeTransport()
      const writer = new ConnectionWriter(t)
      t.accepting = false
      const { seen } = watch(writer, message(source(50_000, 8192).body))
      await settle()
      writer.close()
      expect(reasonOf(seen.error)).toBe('WriterClosed')
      writer.sendFrame(response)
      t.drain()
      expect(t.writes).toHaveLength(1)
      await expect(all(writer, message(source(1, 1).body))).rejects.toMatchObject({ reason: 'WriterClosed' })
    })
  })
})
