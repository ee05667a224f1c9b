import * as E from 'fp-ts/Either'
import { concatBytes } from '../../src/wire/bytes'
import { validateReport, validateSend, type SendHead } from '../../src/wire/chunk'
import { encodeFrame } from '../../src/wire/encoder'
import { IDENT } from '../../src/wire/headers/message-id'
import type { Header, MsrpFrame, MsrpRequest, RequestHead } from '../../src/wire/model'
import { REASON_PHRASES, receivedRange, reportFor, responseTo, responseToSend } from '../../src/wire/replies'
import { loadFixtures } from '../helpers/fixtures'
import { decodeSlices } from '../helpers/replay'

const fixtures = loadFixtures('rfc-vectors')

/** The fixture whose title starts with `<n>. ` (spec/fixtures/rfc-vectors.md). */
function fixture(n: number): { frame: MsrpFrame; text: string } {
  const f = fixtures.find((x) => x.title.startsWith(`${n}. `))
  if (f === undefined) throw new Error(`no fixture ${n}`)
  const [frame] = decodeSlices([f.bytes]).frames
  if (frame === undefined) throw new Error(`fixture ${n} holds no frame`)
  return { frame, text: new TextDecoder().decode(f.bytes) }
}

const request = (n: number): MsrpRequest => {
  const { frame } = fixture(n)
  if (frame.type !== 'request') throw new Error(`fixture ${n} is not a request`)
  return frame
}

const sendHead = (n: number): SendHead => {
  const r = request(n)
  const head = validateSend(r, r.body !== undefined)
  if (E.isLeft(head)) throw new Error(head.left.detail)
  return head.right
}

const wireText = (frame: MsrpFrame): string => {
  const r = encodeFrame(frame)
  if (E.isLeft(r)) throw new Error(r.left.detail)
  return new TextDecoder().decode(concatBytes(r.right))
}

const withoutLine = (text: string, prefix: string): string =>
  text
    .split('\r\n')
    .filter((l) => !l.startsWith(prefix))
    .join('\r\n')

const BOB = 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'
const ALICE = 'msrp://alicepc.example.com:7777/iau39soe2843z;tcp'

describe('REASON_PHRASES (RFC 4975 §10, rfc4975-core.md §9)', () => {
  it('names every RFC 4975 / RFC 4976 code as the IANA registry does, and 200 as OK like the RFC examples', () => {
    expect(REASON_PHRASES).toMatchObject({
      200: 'OK',
      400: 'Unintelligible',
      401: 'Unauthorized',
      403: 'Action-not-allowed',
      408: 'Transaction-did-not-complete-in-allotted-time',
      413: 'Stop-sending-message',
      415: 'MIME-not-understood',
      423: 'Parameter-out-of-bounds',
      481: 'Session-does-not-exist',
      501: 'Request-method-not-understood',
      506: 'Session-already-in-use'
    })
  })
})

describe('responseTo (RFC 4975 §7.2)', () => {
  it('C-7.2-2, C-7.2-3, C-7.2-4: answers the §14.1 (Figure 2) SEND with the printed 200 OK, octet for octet', () => {
    expect(wireText(responseTo(request(3), 200))).toBe(fixture(4).text)
  })

  it.each([
    [5, 6],
    [7, 8]
  ])('C-7.2-3, C-7.2-4: answers the §14.2 SEND (fixture %i) with the printed 200 OK (fixture %i)', (req, res) => {
    expect(wireText(responseTo(request(req), 200))).toBe(fixture(res).text)
  })

  it('C-7.2-3: answers a SEND that came through relays to the previous hop only (RFC 4976 §10.1, Message-ID aside)', () => {
    // The RFC 4976 example responses also carry a Message-ID, which RFC 4975 §7.2 does not ask for.
    const r = responseTo(request(20), 200)
    expect(r.headers).toEqual([
      ['To-Path', 'msrps://b.example.net:9000/aeiug;tcp'],
      ['From-Path', 'msrps://bob.example.net:8145/foo;tcp']
    ])
    expect(wireText(r)).toBe(withoutLine(fixture(21).text, 'Message-ID:'))
  })

  it.each([
    [25, 26],
    [30, 31]
  ])('C-7.2-3: answers an AUTH (fixture %i) to the whole From-Path, as the RFC 4976 401 (fixture %i)', (req, res) => {
    const expected = fixture(res).frame
    const r = responseTo(request(req), 401)
    const challenge = expected.headers.find(([n]) => n === 'WWW-Authenticate') as Header
    expect(wireText({ ...r, headers: [...r.headers, challenge] })).toBe(fixture(res).text)
  })

  it('C-7.2-4: writes options.from as From-Path and options.comment in the start line', () => {
    const r = responseTo(request(3), 413, { from: BOB, comment: 'too big' })
    expect(r).toEqual({
      type: 'response',
      transactionId: 'a786hjs2',
      status: 413,
      comment: 'too big',
      headers: [
        ['To-Path', 'msrp://atlanta.example.com:7654/jshA7weztas;tcp'],
        ['From-Path', BOB]
      ],
      continuation: '$'
    })
  })

  it('takes the default comment from REASON_PHRASES, and writes no comment for a code it does not name', () => {
    expect(responseTo(request(3), 415).comment).toBe('MIME-not-understood')
    const r = responseTo(request(3), 599)
    expect(r.comment).toBeUndefined()
    expect(wireText(r).split('\r\n')[0]).toBe('MSRP a786hjs2 599')
  })

  it('answers a request whose headers failed validation, copying its From-Path as written', () => {
    const head: RequestHead = {
      type: 'request',
      transactionId: 'bad12345',
      method: 'SEND',
      headers: [
        ['To-Path', BOB],
        ['From-Path', `  not-a-uri  ${ALICE}`],
        ['Byte-Range', 'x']
      ]
    }
    expect(responseTo(head, 400).headers).toEqual([
      ['To-Path', 'not-a-uri'],
      ['From-Path', BOB]
    ])
  })

  it('is total: with no path back it leaves To-Path out, never throws (callers check From-Path first)', () => {
    const head = (headers: Header[]): RequestHead => ({
      type: 'request',
      transactionId: 't1234',
      method: 'SEND',
      headers
    })
    expect(responseTo(head([['To-Path', BOB]]), 400).headers).toEqual([['From-Path', BOB]])
    expect(
      responseTo(
        head([
          ['To-Path', BOB],
          ['From-Path', '   ']
        ]),
        400
      ).headers
    ).toEqual([['From-Path', BOB]])
    expect(responseTo(head([]), 400).headers).toEqual([])
    expect(responseTo(head([['From-Path', ALICE]]), 400, { from: BOB }).headers).toEqual([
      ['To-Path', ALICE],
      ['From-Path', BOB]
    ])
  })
})

describe('responseToSend (RFC 4975 §7.2)', () => {
  it.each([
    [3, 4],
    [5, 6],
    [7, 8]
  ])('C-7.2-2, C-7.2-3, C-7.2-4: answers the validated SEND %i as the RFC prints (fixture %i)', (req, res) => {
    expect(wireText(responseToSend(sendHead(req), 200))).toBe(fixture(res).text)
  })

  it('C-7.2-3: answers a SEND with a three-URI From-Path to its first URI only', () => {
    expect(responseToSend(sendHead(20), 200, { from: BOB }).headers).toEqual([
      ['To-Path', 'msrps://b.example.net:9000/aeiug;tcp'],
      ['From-Path', BOB]
    ])
  })
})

describe('reportFor (RFC 4975 §7.1.2 to §7.1.4)', () => {
  it('C-7.1.3-3, C-7.1.2-2: builds the §14.6 success REPORT; its Byte-Range is the real body length, 1-121/121', () => {
    const send = sendHead(13)
    const size = request(13).body?.length
    expect(size).toBe(121) // the RFC prints 1-106/106, which does not match its own body (rfc4975-core.md §14)
    const report = reportFor(send, 200, {
      from: BOB,
      transactionId: 'dkei38sd',
      byteRange: { start: 1, end: 121, total: 121 }
    })
    const ours = wireText(report)
    expect(withoutLine(ours, 'Byte-Range:')).toBe(withoutLine(fixture(14).text, 'Byte-Range:'))
    expect(ours).toContain('\r\nByte-Range: 1-121/121\r\n')
  })

  it('C-7.1.3-3: sends a REPORT through relays to the whole From-Path, as the RFC 4976 §10.1 example', () => {
    const report = reportFor(sendHead(20), 200, {
      from: 'msrps://bob.example.net:8145/foo;tcp',
      transactionId: 'yh67',
      byteRange: { start: 1, end: 39, total: 39 }
    })
    expect(wireText(report)).toBe(fixture(22).text)
  })

  it('C-7.1.2-1, C-7.1.2-2: carries Status and the Message-ID, never Success-Report or Failure-Report, and no body', () => {
    const report = reportFor(sendHead(13), 200, { from: BOB })
    expect(report).toMatchObject({ type: 'request', method: 'REPORT', body: undefined, continuation: '$' })
    expect(report.headers).toEqual([
      ['To-Path', ALICE],
      ['From-Path', BOB],
      ['Message-ID', '12339sdqwer'],
      ['Status', '000 200 OK']
    ])
    // Our own REPORT validator accepts it (it refuses Success-Report / Failure-Report).
    expect(E.isRight(validateReport(report))).toBe(true)
  })

  it('C-7.1-1: draws a fresh transaction id for each REPORT unless one is given', () => {
    const a = reportFor(sendHead(13), 200, { from: BOB })
    const b = reportFor(sendHead(13), 200, { from: BOB })
    expect(a.transactionId).toMatch(IDENT)
    expect(a.transactionId).not.toBe(b.transactionId)
    expect(a.transactionId).not.toBe(sendHead(13).transactionId)
  })

  it('C-7.1.4-4, C-7.1.4-5: a failure REPORT about a chunk has the error code and the range actually received', () => {
    // §14.4 first chunk: Byte-Range 1-137/148; only 100 of its bytes arrived before a 413.
    const send = sendHead(10)
    const report = reportFor(send, 413, { from: BOB, byteRange: receivedRange(send, 100) })
    expect(report.headers).toContainEqual(['Byte-Range', '1-100/148'])
    expect(report.headers).toContainEqual(['Status', '000 413 Stop-sending-message'])
    expect(E.isRight(validateReport(report))).toBe(true)
  })

  it('writes the Status comment given, or none for an unnamed code', () => {
    const send = sendHead(13)
    expect(reportFor(send, 200, { from: BOB, comment: 'delivered' }).headers).toContainEqual([
      'Status',
      '000 200 delivered'
    ])
    expect(reportFor(send, 599, { from: BOB }).headers).toContainEqual(['Status', '000 599'])
  })
})

describe('receivedRange (C-7.1.4-5)', () => {
  it('copies range-start and total from the SEND and computes range-end from the bytes received', () => {
    const second = sendHead(11) // §14.4 second chunk, Byte-Range 138-148/148
    expect(receivedRange(second, 5)).toEqual({ start: 138, end: 142, total: 148 })
    expect(receivedRange(second, 0)).toEqual({ start: 138, end: 137, total: 148 })
  })

  it('keeps a `*` total, and caps range-end at a numeric total so the REPORT stays valid', () => {
    expect(receivedRange(sendHead(16), 50)).toEqual({ start: 1, end: 50, total: '*' })
    expect(receivedRange(sendHead(11), 20)).toEqual({ start: 138, end: 148, total: 148 })
  })
})
