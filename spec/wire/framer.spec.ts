import fc from 'fast-check'
import { Framer } from '../../src/wire/framer'
import { encodeFrame } from '../../src/wire/encoder'
import { concatBytes } from '../../src/wire/bytes'
import { DEFAULT_FRAMER_LIMITS } from '../../src/wire/limits'
import type { MsrpFrame } from '../../src/wire/model'
import { loadFixtures, wire } from '../helpers/fixtures'
import { decodeSlices, normalize, splitAt } from '../helpers/replay'

const utf8 = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)

/**
 * An independent, naive reading of a printed RFC message (whole text, LF line ends): the oracle the
 * streaming framer is compared with.
 */
function naive(printed: string): MsrpFrame {
  const lines = printed.replace(/\n$/, '').split('\n')
  const [, tid, ...rest] = (lines[0] as string).split(' ')
  const last = lines[lines.length - 1] as string
  const continuation = last.slice(-1) as '$'
  const blank = lines.indexOf('')
  const headerLines = lines.slice(1, blank === -1 ? -1 : blank)
  const headers = headerLines.map((l) => {
    const c = l.indexOf(':')
    return [l.slice(0, c), l.slice(c + 2)] as const
  })
  const body = blank === -1 ? undefined : wire(lines.slice(blank + 1, -1).join('\n'))
  if (/^\d{3}$/.test(rest[0] as string)) {
    return {
      type: 'response',
      transactionId: tid as string,
      status: Number(rest[0]),
      comment: rest.length > 1 ? rest.slice(1).join(' ') : undefined,
      headers,
      continuation
    }
  }
  return { type: 'request', transactionId: tid as string, method: rest[0] as string, headers, body, continuation }
}

describe('Framer on the RFC example flows', () => {
  const fixtures = loadFixtures('rfc-vectors')

  it('has the example messages of RFC 4975, 4976 and 7977', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(60)
  })

  it.each(fixtures.map((f) => [f.title, f] as const))('%s: decodes to the frame it prints', (_, f) => {
    const { frames, failure, frameFailures } = decodeSlices([f.bytes])
    expect(failure).toBeUndefined()
    expect(frameFailures).toEqual([[]])
    expect(normalize(frames)).toEqual(normalize([naive(f.text)]))
  })

  it.each(fixtures.map((f) => [f.title, f] as const))('%s: decodes the same at every split point', (_, f) => {
    const whole = normalize(decodeSlices([f.bytes]).frames)
    for (let cut = 1; cut < f.bytes.length; cut++) {
      expect(normalize(decodeSlices(splitAt(f.bytes, [cut])).frames)).toEqual(whole)
    }
  })

  it.each(fixtures.map((f) => [f.title, f] as const))('%s: encode(decode(x)) reproduces x octet for octet', (_, f) => {
    const [frame] = decodeSlices([f.bytes]).frames
    const encoded = encodeFrame(frame as MsrpFrame)
    expect(encoded._tag).toBe('Right')
    if (encoded._tag === 'Right') expect(text(concatBytes(encoded.right))).toEqual(text(f.bytes))
  })

  it('decodes all examples sent back to back on one connection, however the stream is cut', () => {
    const stream = concatBytes(fixtures.map((f) => f.bytes))
    const expected = normalize(fixtures.map((f) => naive(f.text)))
    fc.assert(
      fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 200 }), (cuts) => {
        const { frames, failure } = decodeSlices(splitAt(stream, cuts))
        expect(failure).toBeUndefined()
        expect(normalize(frames)).toEqual(expected)
      }),
      { numRuns: 300 }
    )
  })

  it('decodes the stream fed one byte at a time', () => {
    const stream = concatBytes(fixtures.map((f) => f.bytes))
    const slices = Array.from({ length: stream.length }, (_, k) => stream.subarray(k, k + 1))
    expect(normalize(decodeSlices(slices).frames)).toEqual(normalize(fixtures.map((f) => naive(f.text))))
  })
})

/** A SEND with the given body bytes; its end-line is `-------<tid>`. */
function sendBytes(tid: string, body: Uint8Array, flag: '$' | '+' | '#' = '$'): Uint8Array {
  const head = wire(
    `MSRP ${tid} SEND\nTo-Path: msrp://127.0.0.1:2855/abc;tcp\nFrom-Path: msrp://127.0.0.1:2856/def;tcp\n` +
      `Message-ID: m1234\nContent-Type: application/octet-stream\n\n`
  )
  return concatBytes([head, body, wire(`\n-------${tid}${flag}\n`)])
}

describe('Framer body delimiting (C-7.1-7, C-7.1-8)', () => {
  const tricky: Array<[string, string]> = [
    ['a line of seven dashes', '-------\r\nmore'],
    ["another transaction's end-line", 'abc\r\n-------other12$\r\nxyz'],
    ['its own end-line without CRLF before it', 'abc-------t1234567$\r\n'],
    ['its own id with an invalid flag', 'abc\r\n-------t1234567!\r\n'],
    ['its own id and flag not followed by CRLF', 'abc\r\n-------t1234567$x'],
    ['its own id and flag followed by CR only', 'abc\r\n-------t1234567$\rz'],
    ['a longer id starting with its own id', 'abc\r\n-------t1234567X$\r\n'],
    ['CRLFs and an empty line', '\r\n\r\n\r\n'],
    ['a body ending in CR', 'abc\r'],
    ['a body ending in CRLF', 'abc\r\n'],
    ['a body ending in CRLF and dashes', 'abc\r\n-------t123']
  ]
  it.each(tricky)('is not fooled by %s in the body', (_, body) => {
    const bodyBytes = new TextEncoder().encode(body)
    const bytes = sendBytes('t1234567', bodyBytes)
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { frames, failure } = decodeSlices(splitAt(bytes, [cut]))
      expect(failure).toBeUndefined()
      expect(frames).toHaveLength(1)
      expect(text((frames[0] as { body?: Uint8Array }).body)).toEqual(body)
    }
  })

  it('is binary safe: NUL bytes and invalid UTF-8 are body bytes', () => {
    const body = Uint8Array.from([0, 0xff, 0xfe, 0xc3, 0x28, 0x0d, 0x0a, 0x00, 0x80])
    const { frames } = decodeSlices([sendBytes('t1234567', body)])
    expect(Array.from((frames[0] as { body: Uint8Array }).body)).toEqual(Array.from(body))
  })

  it('keeps an empty body (Content-Type, no octets) apart from no body (C-7.1-5)', () => {
    const empty = wire(
      'MSRP t1234567 SEND\nTo-Path: msrp://a:1/s;tcp\nFrom-Path: msrp://b:2/s;tcp\nContent-Type: text/plain\n\n\n-------t1234567$\n'
    )
    const none = wire('MSRP t7654321 SEND\nTo-Path: msrp://a:1/s;tcp\nFrom-Path: msrp://b:2/s;tcp\n-------t7654321$\n')
    const { frames } = decodeSlices([empty, none])
    expect((frames[0] as { body?: Uint8Array }).body).toEqual(new Uint8Array(0))
    expect((frames[1] as { body?: Uint8Array }).body).toBeUndefined()
  })

  it('reports the continuation flag of each chunk (C-7.1-9)', () => {
    const bytes = concatBytes([
      sendBytes('t1111111', wire('a'), '+'),
      sendBytes('t2222222', wire('b'), '$'),
      sendBytes('t3333333', wire('c'), '#')
    ])
    expect(decodeSlices([bytes]).frames.map((f) => f.continuation)).toEqual(['+', '$', '#'])
  })

  it('round-trips any body bytes, however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (bodies, cuts) => {
          const stream = concatBytes(bodies.map((b, k) => sendBytes(`tid${k}abcd`, b)))
          const { frames, failure } = decodeSlices(
            splitAt(
              stream,
              cuts.map((c) => c % (stream.length + 1))
            )
          )
          expect(failure).toBeUndefined()
          expect(frames.map((f) => Array.from((f as { body: Uint8Array }).body))).toEqual(
            bodies.map((b) => Array.from(b))
          )
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe('Framer streaming of large bodies', () => {
  const pieceBytes = 1024

  it('yields a SEND body above pieceBytes as head, body pieces and end, in bounded memory', () => {
    const body = Uint8Array.from({ length: 10_000 }, (_, k) => (k * 7) & 0xff)
    const bytes = sendBytes('t1234567', body)
    const framer = new Framer({ pieceBytes })
    const types: string[] = []
    let joined: number[] = []
    let maxBuffered = 0
    for (const slice of splitAt(
      bytes,
      Array.from({ length: 100 }, (_, k) => k * 137)
    )) {
      for (const e of framer.push(slice)) {
        types.push(e.type)
        if (e.type === 'body') joined = joined.concat(Array.from(e.data))
      }
      maxBuffered = Math.max(maxBuffered, framer.bufferedBytes)
    }
    expect(types[0]).toBe('head')
    expect(types[types.length - 1]).toBe('end')
    expect(types.filter((t) => t === 'body').length).toBeGreaterThan(5)
    expect(joined).toEqual(Array.from(body))
    expect(maxBuffered).toBeLessThan(pieceBytes + 64)
  })

  it('yields a body of at most pieceBytes as one frame event, and one byte more as pieces', () => {
    expect(
      new Framer({ pieceBytes }).push(sendBytes('t1234567', new Uint8Array(pieceBytes))).map((e) => e.type)
    ).toEqual(['frame'])
    const more = new Framer({ pieceBytes }).push(sendBytes('t1234567', new Uint8Array(pieceBytes + 1)))
    expect(more.map((e) => e.type)).toEqual(['head', 'body', 'end'])
  })

  it('never buffers more than its limits, whatever bytes arrive', () => {
    const limits = { pieceBytes: 512, maxHeaderSectionBytes: 600, maxNonSendBodyBytes: 700 }
    const bound = Math.max(limits.pieceBytes, limits.maxHeaderSectionBytes, limits.maxNonSendBodyBytes) + 64
    const msrpish = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(
        ...[
          'MSRP abcd SEND\r\n',
          'To-Path: x\r\n',
          '\r\n',
          '-------abcd$\r\n',
          'MSRP abcd 200 OK\r\n',
          'Content-Type: a/b\r\n\r\n'
        ].map((s) => wire(s))
      )
    )
    fc.assert(
      fc.property(fc.array(msrpish, { maxLength: 60 }), (slices) => {
        const framer = new Framer(limits)
        for (const s of slices) {
          framer.push(s)
          expect(framer.bufferedBytes).toBeLessThanOrEqual(bound)
        }
      }),
      { numRuns: 2000 }
    )
  })
})

describe('Framer never throws', () => {
  it('on arbitrary bytes in arbitrary slices (100k cases)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (slices) => {
        const framer = new Framer()
        for (const s of slices) framer.push(s)
        framer.finish()
      }),
      { numRuns: 100_000 }
    )
  })

  it('on mutations of valid frames', () => {
    const base = concatBytes(
      loadFixtures('rfc-vectors')
        .slice(0, 6)
        .map((f) => f.bytes)
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.array(fc.nat({ max: base.length })),
        (edits, cuts) => {
          const bytes = base.slice()
          for (const [at, v] of edits) bytes[at] = v
          const framer = new Framer()
          for (const s of splitAt(bytes, cuts)) {
            for (const e of framer.push(s))
              if (e.type === 'failure') expect(e.failure.offset).toBeLessThanOrEqual(bytes.length)
          }
        }
      ),
      { numRuns: 5000 }
    )
  })
})

describe('Framer limits and failures (each fatal reason)', () => {
  const frame = (head: string) => wire(head)

  it('StartLineInvalid: bytes that are not "MSRP <tid> " stop the framer at once, status 400', () => {
    const events = new Framer().push(wire('GET / HTTP/1.1\n'))
    expect(events).toEqual([
      { type: 'failure', failure: expect.objectContaining({ reason: 'StartLineInvalid', offset: 0, status: 400 }) }
    ])
  })

  it('StartLineInvalid: a start line without method or status (Kamailio crash input)', () => {
    const events = new Framer().push(wire('MSRP a\n-------a$\n'))
    expect(events[0]).toMatchObject({ type: 'failure', failure: { reason: 'StartLineInvalid' } })
  })

  it('StartLineInvalid: transaction ids must be 4 to 32 ident characters (RFC 4975 §9)', () => {
    expect(new Framer().push(wire('MSRP abc SEND\n'))[0]).toMatchObject({ failure: { reason: 'StartLineInvalid' } })
    expect(new Framer().push(wire(`MSRP ${'a'.repeat(33)} SEND\n`))[0]).toMatchObject({
      failure: { reason: 'StartLineInvalid' }
    })
    expect(new Framer().push(wire('MSRP abcd send\n-------abcd$\n'))[0]).toMatchObject({
      failure: { reason: 'StartLineInvalid', transactionId: 'abcd' }
    })
  })

  it('StartLineTooLong names the limit and the offset', () => {
    const framer = new Framer({ maxStartLineBytes: 40 })
    const ok = frame('MSRP abcd SEND\nTo-Path: x\n-------abcd$\n')
    const events = framer.push(concatBytes([ok, wire(`MSRP abcd 200 ${'x'.repeat(60)}\n`)]))
    expect(events[1]).toMatchObject({
      type: 'failure',
      failure: { reason: 'StartLineTooLong', offset: ok.length, detail: expect.stringContaining('maxStartLineBytes') }
    })
  })

  it('HeaderLineTooLong is reported before the whole line has arrived', () => {
    const framer = new Framer({ maxHeaderLineBytes: 100 })
    expect(framer.push(wire('MSRP abcd SEND\nTo-Path: '))).toEqual([])
    const events = framer.push(new Uint8Array(200).fill(0x61))
    expect(events[0]).toMatchObject({ failure: { reason: 'HeaderLineTooLong', transactionId: 'abcd', offset: 16 } })
  })

  it('TooManyHeaders', () => {
    const head = 'MSRP abcd SEND\n' + 'X-A: 1\n'.repeat(5) + '-------abcd$\n'
    expect(new Framer({ maxHeaderCount: 4 }).push(wire(head))[0]).toMatchObject({
      failure: { reason: 'TooManyHeaders', transactionId: 'abcd' }
    })
    expect(new Framer({ maxHeaderCount: 5 }).push(wire(head))[0]).toMatchObject({ type: 'frame' })
  })

  it('HeaderSectionTooLarge counts many small lines that add up, however they are split', () => {
    const head = wire('MSRP abcd SEND\n' + 'X-A: 123456789\n'.repeat(10) + '-------abcd$\n')
    for (let cut = 1; cut < head.length; cut += 7) {
      const { failure } = decodeSlices(splitAt(head, [cut]), { maxHeaderSectionBytes: 100 })
      expect(failure).toMatchObject({ reason: 'HeaderSectionTooLarge' })
    }
  })

  it('LineNotCrlf: a header line ending in a bare LF', () => {
    const events = new Framer().push(new TextEncoder().encode('MSRP abcd SEND\nTo-Path: x\n'))
    expect(events[0]).toMatchObject({ failure: { reason: 'LineNotCrlf', offset: 14 } })
  })

  it('BodyTooLarge: a non-SEND body above 10240 bytes (C-7.1-4), counted across pieces', () => {
    const report = (n: number) =>
      wire(
        'MSRP abcd REPORT\nTo-Path: x\nFrom-Path: y\nContent-Type: text/plain\n\n' + 'z'.repeat(n) + '\n-------abcd$\n'
      )
    expect(decodeSlices([report(10240)]).failure).toBeUndefined()
    const big = report(10241)
    const { failure } = decodeSlices(
      splitAt(
        big,
        Array.from({ length: 50 }, (_, k) => 60 + k * 300)
      )
    )
    expect(failure).toMatchObject({ reason: 'BodyTooLarge', status: 400, transactionId: 'abcd', method: 'REPORT' })
    expect(DEFAULT_FRAMER_LIMITS.maxNonSendBodyBytes).toBe(10240)
  })

  it('ChunkTooLarge: a SEND body above maxChunkBytes, answered 413', () => {
    const { failure } = decodeSlices([sendBytes('t1234567', new Uint8Array(2000))], { maxChunkBytes: 1000 })
    expect(failure).toMatchObject({ reason: 'ChunkTooLarge', status: 413, transactionId: 't1234567', method: 'SEND' })
  })

  it('Truncated: finish() inside a frame; nothing when between frames', () => {
    const framer = new Framer()
    framer.push(wire('MSRP abcd SEND\nTo-Path: x\n'))
    expect(framer.finish()).toEqual([{ type: 'failure', failure: expect.objectContaining({ reason: 'Truncated' }) }])
    const idle = new Framer()
    idle.push(wire('MSRP abcd SEND\nTo-Path: x\n-------abcd$\n'))
    expect(idle.idle).toBe(true)
    expect(idle.finish()).toEqual([])
  })

  it('ignores all input after a fatal failure', () => {
    const framer = new Framer()
    framer.push(wire('garbage\n'))
    expect(framer.failed).toBe(true)
    expect(framer.push(wire('MSRP abcd SEND\nTo-Path: x\n-------abcd$\n'))).toEqual([])
  })
})

describe('Framer per-frame failures (the connection survives)', () => {
  it('HeaderMalformed: a header line without a colon is reported with its frame; the next frame decodes', () => {
    const bytes = wire(
      'MSRP abcd SEND\nTo-Path: x\nno colon here\n-------abcd$\nMSRP efgh 200 OK\nTo-Path: y\n-------efgh$\n'
    )
    const { frames, frameFailures, failure } = decodeSlices([bytes])
    expect(failure).toBeUndefined()
    expect(frames.map((f) => f.transactionId)).toEqual(['abcd', 'efgh'])
    expect(frames[0]?.headers).toEqual([['To-Path', 'x']])
    expect(frameFailures[0]).toEqual([expect.objectContaining({ reason: 'HeaderMalformed', status: 400 })])
    expect(frameFailures[1]).toEqual([])
  })

  it('ResponseNotFinal: responses are never chunked', () => {
    const { frameFailures } = decodeSlices([wire('MSRP abcd 200 OK\nTo-Path: x\n-------abcd+\n')])
    expect(frameFailures[0]).toEqual([expect.objectContaining({ reason: 'ResponseNotFinal' })])
  })

  it('ResponseBody: a response body is dropped and reported', () => {
    const { frames, frameFailures } = decodeSlices([
      wire('MSRP abcd 200 OK\nTo-Path: x\nContent-Type: a/b\n\nhi\n-------abcd$\n')
    ])
    expect(frames[0]).not.toHaveProperty('body')
    expect(frameFailures[0]).toEqual([expect.objectContaining({ reason: 'ResponseBody' })])
  })

  it('decodes a response without a comment', () => {
    const { frames } = decodeSlices([wire('MSRP abcd 481\nTo-Path: x\n-------abcd$\n')])
    expect(frames[0]).toMatchObject({ type: 'response', status: 481, comment: undefined })
  })

  it('keeps extension methods and unknown headers as they are (RFC 4975 §9 other-method, ext-header)', () => {
    const { frames } = decodeSlices([wire('MSRP abcd NICKNAME\nTo-Path: x\nX-Unknown: what ever\n-------abcd$\n')])
    expect(frames[0]).toMatchObject({
      method: 'NICKNAME',
      headers: [
        ['To-Path', 'x'],
        ['X-Unknown', 'what ever']
      ]
    })
  })
})

describe('Framer header values (utf8text, RFC 4975 §9)', () => {
  it('HeaderMalformed: a value holding a CR or a NUL is dropped and reported, so it is never re-sent', () => {
    const bytes = concatBytes([
      wire('MSRP abcd SEND\nTo-Path: x\n'),
      utf8('X-A: a\rb\r\nX-B: c\0d\r\n'),
      wire('-------abcd$\n')
    ])
    const { frames, frameFailures } = decodeSlices([bytes])
    expect(frames[0]?.headers).toEqual([['To-Path', 'x']])
    expect(frameFailures[0]).toEqual([
      expect.objectContaining({ reason: 'HeaderMalformed', detail: expect.stringContaining('X-A') }),
      expect.objectContaining({ reason: 'HeaderMalformed', detail: expect.stringContaining('X-B') })
    ])
  })

  it('keeps HTAB and non-ASCII UTF-8 in values', () => {
    const { frames, frameFailures } = decodeSlices([wire('MSRP abcd SEND\nX-A: a\tb é ☃\n-------abcd$\n')])
    expect(frames[0]?.headers).toEqual([['X-A', 'a\tb é ☃']])
    expect(frameFailures[0]).toEqual([])
  })
})

describe('Framer.pushMessage: one frame per WebSocket message (RFC 7977 §5.1, W-5.1-3)', () => {
  const one = wire('MSRP abcd SEND\nTo-Path: x\n-------abcd$\n')
  const two = wire('MSRP efgh SEND\nTo-Path: y\n-------efgh$\n')

  it('delivers a message holding exactly one frame, message after message', () => {
    const framer = new Framer()
    expect(framer.pushMessage(one)).toEqual([expect.objectContaining({ type: 'frame' })])
    expect(framer.pushMessage(two)).toEqual([expect.objectContaining({ type: 'frame' })])
  })

  it.each([
    ['two frames in one message', concatBytes([one, two])],
    ['part of a frame', one.subarray(0, 20)],
    ['a frame and more bytes', concatBytes([one, wire('MSRP')])]
  ])('NotOneFrame: %s is fatal and delivers nothing', (_, message) => {
    const framer = new Framer()
    framer.pushMessage(one)
    expect(framer.pushMessage(message)).toEqual([
      { type: 'failure', failure: expect.objectContaining({ reason: 'NotOneFrame', offset: one.length }) }
    ])
    expect(framer.failed).toBe(true)
  })

  it('counts a streamed SEND (head, body pieces, end) as one frame', () => {
    const events = new Framer({ pieceBytes: 100 }).pushMessage(sendBytes('t1234567', new Uint8Array(1000)))
    expect(events[0]?.type).toBe('head')
    expect(events[events.length - 1]?.type).toBe('end')
  })
})

describe('Framer fatal failures name the broken request so that it can be answered', () => {
  it('gives the method of a request broken in its header section', () => {
    const events = new Framer({ maxHeaderCount: 1 }).push(wire('MSRP abcd REPORT\nA: 1\nB: 2\n'))
    expect(events[0]).toMatchObject({ failure: { reason: 'TooManyHeaders', transactionId: 'abcd', method: 'REPORT' } })
  })

  it('marks a broken response, which is never answered', () => {
    const events = new Framer({ maxHeaderCount: 1 }).push(wire('MSRP abcd 200 OK\nA: 1\nB: 2\n'))
    expect(events[0]).toMatchObject({ failure: { reason: 'TooManyHeaders', transactionId: 'abcd', response: true } })
    expect(events[0]).not.toHaveProperty('failure.method')
  })

  it('names the frame cut short in its header section (Truncated)', () => {
    const framer = new Framer()
    framer.push(wire('MSRP abcd AUTH\nTo-Path: x\n'))
    expect(framer.finish()[0]).toMatchObject({
      failure: { reason: 'Truncated', transactionId: 'abcd', method: 'AUTH' }
    })
  })
})
