import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  chooseTransactionId,
  chunkByteRange,
  encodeChunk,
  encodeFrame,
  endLineOccursIn,
  endLineOccursInPieces,
  MAX_UNINTERRUPTIBLE_BYTES
} from '../../src/wire/encoder'
import { concatBytes } from '../../src/wire/bytes'
import type { MsrpRequest } from '../../src/wire/model'
import { arbFrame } from '../arbitraries/frame'
import { decodeSlices, normalize, splitAt } from '../helpers/replay'

const utf8 = (s: string) => new TextEncoder().encode(s)
const str = (slices: Uint8Array[]) => new TextDecoder().decode(concatBytes(slices))

const send = (over: Partial<MsrpRequest> = {}): MsrpRequest => ({
  type: 'request',
  transactionId: 'abcd1234',
  method: 'SEND',
  headers: [
    ['To-Path', 'msrp://127.0.0.1:2855/s1;tcp'],
    ['From-Path', 'msrp://127.0.0.1:2856/s2;tcp'],
    ['Message-ID', 'm1'],
    ['Content-Type', 'text/plain']
  ],
  body: utf8('hi'),
  continuation: '$',
  ...over
})

const reasonOf = (r: E.Either<{ reason: string }, unknown>) => (E.isLeft(r) ? r.left.reason : 'ok')

describe('encodeFrame', () => {
  it('writes a request as head, body and end-line slices without copying the body (C-7.1-3, C-7.1-8)', () => {
    const req = send()
    const r = encodeFrame(req)
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    expect(r.right).toHaveLength(3)
    expect(r.right[1]).toBe(req.body)
    expect(str(r.right)).toBe(
      'MSRP abcd1234 SEND\r\nTo-Path: msrp://127.0.0.1:2855/s1;tcp\r\nFrom-Path: msrp://127.0.0.1:2856/s2;tcp\r\n' +
        'Message-ID: m1\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------abcd1234$\r\n'
    )
  })

  it('writes a bodiless request with the end-line right after the headers (C-7.1-6)', () => {
    const r = encodeFrame(
      send({
        body: undefined,
        headers: [
          ['To-Path', 'a'],
          ['From-Path', 'b']
        ]
      })
    )
    expect(E.isRight(r) && str(r.right)).toBe(
      'MSRP abcd1234 SEND\r\nTo-Path: a\r\nFrom-Path: b\r\n-------abcd1234$\r\n'
    )
  })

  it('writes any three-digit status, zero-padded (status-code = 3DIGIT)', () => {
    const r = encodeFrame({
      type: 'response',
      transactionId: 'abcd',
      status: 99,
      comment: undefined,
      headers: [],
      continuation: '$'
    })
    expect(E.isRight(r) && str(r.right)).toBe('MSRP abcd 099\r\n-------abcd$\r\n')
  })

  it('writes a response, with and without a comment', () => {
    const base = {
      type: 'response',
      transactionId: 'abcd1234',
      headers: [['To-Path', 'a']],
      continuation: '$'
    } as const
    const ok = encodeFrame({ ...base, status: 200, comment: 'OK' })
    const bare = encodeFrame({ ...base, status: 481, comment: undefined })
    expect(E.isRight(ok) && str(ok.right)).toBe('MSRP abcd1234 200 OK\r\nTo-Path: a\r\n-------abcd1234$\r\n')
    expect(E.isRight(bare) && str(bare.right)).toBe('MSRP abcd1234 481\r\nTo-Path: a\r\n-------abcd1234$\r\n')
  })

  it('TransactionIdInBody: refuses a body containing -------<tid>, even without a flag after it (C-7.1-10)', () => {
    expect(reasonOf(encodeFrame(send({ body: utf8('x-------abcd1234y') })))).toBe('TransactionIdInBody')
    expect(reasonOf(encodeFrame(send({ body: utf8('x-------abcd123y') })))).toBe('ok')
  })

  it.each([
    ['TransactionIdInvalid', send({ transactionId: 'ab' })],
    ['TransactionIdInvalid', send({ transactionId: '-bcd' })],
    ['MethodInvalid', send({ method: 'send' })],
    [
      'HeaderInvalid',
      send({
        headers: [
          ['To Path', 'x'],
          ['Content-Type', 'a/b']
        ]
      })
    ],
    [
      'HeaderInvalid',
      send({
        headers: [
          ['To-Path', 'x\r\ny'],
          ['Content-Type', 'a/b']
        ]
      })
    ],
    ['HeaderInvalid', send({ headers: [['To-Path', 'x']] })],
    ['HeaderInvalid', send({ body: undefined })],
    ['BodyNotAllowed', send({ method: 'REPORT', body: new Uint8Array(10241) })],
    ['ContinuationInvalid', send({ continuation: '!' as '$' })]
  ])('%s', (reason, frame) => {
    expect(reasonOf(encodeFrame(frame))).toBe(reason)
  })

  it('accepts a non-SEND body of exactly 10240 bytes (C-7.1-4)', () => {
    expect(reasonOf(encodeFrame(send({ method: 'REPORT', body: new Uint8Array(10240) })))).toBe('ok')
  })

  it.each([
    ['StatusInvalid', { status: -1 }],
    ['StatusInvalid', { status: 2.5 }],
    ['StatusInvalid', { status: 1000 }],
    ['StatusInvalid', { comment: 'a\nb' }],
    ['ContinuationInvalid', { continuation: '+' }],
    ['BodyNotAllowed', { body: new Uint8Array(1) }]
  ])('responses: %s for %o', (reason, over) => {
    const frame = {
      type: 'response',
      transactionId: 'abcd',
      status: 200,
      comment: 'OK',
      headers: [],
      continuation: '$',
      ...over
    }
    expect(reasonOf(encodeFrame(frame as never))).toBe(reason)
  })

  it('round-trips any frame it accepts through the framer, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, cuts) => {
          const slices = frames.map((f) => encodeFrame(f)).map((r) => (E.isRight(r) ? concatBytes(r.right) : undefined))
          fc.pre(slices.every((s) => s !== undefined))
          const stream = concatBytes(slices as Uint8Array[])
          const decoded = decodeSlices(
            splitAt(
              stream,
              cuts.map((c) => c % (stream.length + 1))
            )
          )
          expect(decoded.failure).toBeUndefined()
          expect(normalize(decoded.frames)).toEqual(normalize(frames))
        }
      ),
      { numRuns: 1000 }
    )
  })
})

describe('chooseTransactionId (C-7.1-1, C-7.1-10)', () => {
  it('skips generated ids whose -------<id> occurs in the body', () => {
    const ids = ['first123', 'second12']
    const body = utf8('...-------first123...')
    expect(chooseTransactionId(body, () => ids.shift() as string)).toEqual(E.right('second12'))
  })

  it('gives up with TransactionIdInBody after a bounded number of attempts', () => {
    const body = utf8('-------same1234')
    expect(reasonOf(chooseTransactionId(body, () => 'same1234'))).toBe('TransactionIdInBody')
  })

  it('uses random ids of at least 64 bits by default', () => {
    const r = chooseTransactionId(undefined)
    expect(E.isRight(r) && r.right).toMatch(/^[A-Za-z0-9]{12}$/)
  })

  it('finds an occurrence anywhere in a large body', () => {
    const body = new Uint8Array(200_000)
    body.set(utf8('-------needle99'), 150_000)
    expect(endLineOccursIn(body, 'needle99')).toBe(true)
    expect(endLineOccursIn(body, 'needle98')).toBe(false)
  })

  it('agrees with a naive search on bodies made of dashes, id characters and noise (C-7.1-10)', () => {
    const naive = (body: Uint8Array, id: string): boolean => {
      const hay = Array.from(body, (b) => String.fromCharCode(b)).join('')
      return hay.includes('-------' + id)
    }
    const byte = fc.constantFrom(0x2d, 0x2d, 0x2d, 0x61, 0x62, 0x2b, 0x0d, 0x0a, 0x00, 0xff)
    const id = fc.stringMatching(/^[ab][ab+-]{0,5}$/)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(byte, { maxLength: 64 }), id, (noise, made, tid) => {
        const body = Uint8Array.from([...made, ...noise, ...made])
        expect(endLineOccursIn(body, tid)).toBe(naive(body, tid))
      }),
      { numRuns: 5000 }
    )
    expect(endLineOccursIn(utf8('x---------ab+'), 'ab+')).toBe(true) // a run longer than 7 dashes
    expect(endLineOccursIn(utf8('------ab'), 'ab')).toBe(false) // only 6
    expect(endLineOccursIn(utf8('--------x'), '-x')).toBe(true) // not an ident: generic search
  })

  it('agrees with a naive search on bodies long enough for the native scan, dashes anywhere (C-7.1-10)', () => {
    const naive = (body: Uint8Array, id: string): boolean => Buffer.from(body).includes('-------' + id, 0, 'latin1')
    const byte = fc.constantFrom(0x2d, 0x2d, 0x2d, 0x61, 0x62, 0x2b, 0x00)
    const id = fc.stringMatching(/^[ab][ab+-]{0,5}$/)
    fc.assert(
      fc.property(fc.array(byte, { minLength: 512, maxLength: 3000, size: 'max' }), id, (made, tid) => {
        const body = Uint8Array.from(made)
        expect(endLineOccursIn(body, tid)).toBe(naive(body, tid))
      }),
      { numRuns: 500 }
    )
    const big = new Uint8Array(4096).fill(0x61)
    big.set(utf8('---------------ab'), 4000) // a long run, the id after its end
    expect(endLineOccursIn(big, 'ab')).toBe(true)
    expect(endLineOccursIn(big.subarray(0, 4016), 'ab')).toBe(false) // the id cut by the end
  })

  it('finds an occurrence in a body of pieces, also across the joints, as in the pieces joined (C-7.1-10)', () => {
    const byte = fc.constantFrom(0x2d, 0x2d, 0x2d, 0x61, 0x62, 0x2b, 0x00)
    const id = fc.stringMatching(/^[ab][ab+-]{0,5}$/)
    const cuts = fc.array(fc.nat({ max: 700 }), { maxLength: 6 })
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 700, size: 'max' }), cuts, id, (made, at, tid) => {
        const body = Uint8Array.from(made)
        const points = [...new Set(at.map((a) => a % (body.length + 1)))].sort((x, y) => x - y)
        const pieces = [0, ...points].map((from, i) => body.subarray(from, [...points, body.length][i]))
        expect(endLineOccursInPieces(pieces, tid)).toBe(endLineOccursIn(body, tid))
      }),
      { numRuns: 2000 }
    )
    expect(endLineOccursInPieces([utf8('xx---'), utf8('-'), utf8('---a'), utf8('b')], 'ab')).toBe(true)
    expect(endLineOccursInPieces([utf8('xx---'), utf8('-'), utf8('--a'), utf8('b')], 'ab')).toBe(false)
  })

  it('chooses an id whose end-line occurs in no piece and at no joint', () => {
    const ids = ['first1', 'second']
    const r = chooseTransactionId([utf8('a----'), utf8('---first1')], () => ids.shift()!)
    expect(r).toEqual(E.right('second'))
  })
})

describe('chunkByteRange (RFC 4975 §7.1.1)', () => {
  it('gives range-end for a small chunk and * above 2048 bytes (C-5.1-1)', () => {
    expect(chunkByteRange({ start: 1, total: 10 }, 10)).toEqual(E.right('1-10/10'))
    expect(chunkByteRange({ start: 1, total: '*' }, MAX_UNINTERRUPTIBLE_BYTES)).toEqual(E.right('1-2048/*'))
    expect(chunkByteRange({ start: 1, total: 5000 }, MAX_UNINTERRUPTIBLE_BYTES + 1)).toEqual(E.right('1-*/5000'))
    expect(chunkByteRange({ start: 5, total: 8, interruptible: true }, 4)).toEqual(E.right('5-*/8'))
  })

  it('writes 1-0/0 for empty content (C-7.1.1-15)', () => {
    expect(chunkByteRange({ start: 1, total: 0 }, 0)).toEqual(E.right('1-0/0'))
  })

  it('refuses a start below 1 or a total below the range end', () => {
    expect(reasonOf(chunkByteRange({ start: 0, total: 10 }, 1))).toBe('ByteRangeInvalid')
    expect(reasonOf(chunkByteRange({ start: 5, total: 6 }, 4))).toBe('ByteRangeInvalid')
  })
})

describe('encodeChunk', () => {
  it('sets Byte-Range after Message-ID and picks a transaction id when none is given', () => {
    const r = encodeChunk(send({ transactionId: '' }), { start: 1, total: 2 })
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    const decoded = decodeSlices([concatBytes(r.right)]).frames[0] as MsrpRequest
    expect(decoded.transactionId).toMatch(/^[A-Za-z0-9]{12}$/)
    expect(decoded.headers.map(([n]) => n)).toEqual([
      'To-Path',
      'From-Path',
      'Message-ID',
      'Byte-Range',
      'Content-Type'
    ])
    expect(decoded.headers[3]).toEqual(['Byte-Range', '1-2/2'])
  })

  it('replaces an existing Byte-Range', () => {
    const req = send({
      headers: [
        ['To-Path', 'a'],
        ['From-Path', 'b'],
        ['Byte-Range', '9-9/9'],
        ['Content-Type', 'a/b']
      ]
    })
    const r = encodeChunk(req, { start: 3, total: '*' })
    expect(E.isRight(r) && str(r.right)).toContain('From-Path: b\r\nByte-Range: 3-4/*\r\nContent-Type')
  })
})
