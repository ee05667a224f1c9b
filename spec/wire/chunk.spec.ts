import * as E from 'fp-ts/Either'
import { validateReport, validateSend, WHOLE_MESSAGE_RANGE } from '../../src/wire/chunk'
import type { Header, RequestHead } from '../../src/wire/model'

const head = (method: string, headers: Header[]): RequestHead => ({
  type: 'request',
  transactionId: 'tid1234',
  method,
  headers
})
const TO: Header = ['To-Path', 'msrp://127.0.0.1:2855/s1;tcp']
const FROM: Header = ['From-Path', 'msrp://127.0.0.1:2856/s2;tcp']
const reason = (r: E.Either<{ header: string; reason: string }, unknown>) =>
  E.isLeft(r) ? `${r.left.header}:${r.left.reason}` : 'ok'

describe('validateSend (RFC 4975 §7.1.1)', () => {
  it('decodes the headers of a SEND and applies the defaults of C-7.1.1-8', () => {
    const r = validateSend(head('SEND', [TO, FROM, ['Message-ID', 'm1234'], ['Content-Type', 'text/plain']]), true)
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    expect(r.right).toMatchObject({
      messageId: 'm1234',
      byteRange: WHOLE_MESSAGE_RANGE,
      successReport: 'no',
      failureReport: 'yes',
      contentType: { type: 'text', subtype: 'plain' }
    })
    expect(r.right.toPath[0]).toMatchObject({ host: '127.0.0.1', port: 2855, sessionId: 's1' })
  })

  it('reads Byte-Range and the report headers when present', () => {
    const r = validateSend(
      head('SEND', [
        TO,
        FROM,
        ['Message-ID', 'm1234'],
        ['Byte-Range', '5-8/8'],
        ['Success-Report', 'yes'],
        ['Failure-Report', 'partial'],
        ['Content-Type', 'text/plain']
      ]),
      true
    )
    expect(E.isRight(r) && r.right).toMatchObject({
      byteRange: { start: 5, end: 8, total: 8 },
      successReport: 'yes',
      failureReport: 'partial'
    })
  })

  it.each([
    ['C-7.1.1-2: Message-ID is required', [TO, FROM, ['Content-Type', 'a/b']], true, 'Message-ID:Missing'],
    ['To-Path is required', [FROM, ['Message-ID', 'm1234'], ['Content-Type', 'a/b']], true, 'To-Path:Missing'],
    ['From-Path is required', [TO, ['Message-ID', 'm1234'], ['Content-Type', 'a/b']], true, 'From-Path:Missing'],
    ['C-7.1-2: a body needs Content-Type', [TO, FROM, ['Message-ID', 'm1234']], true, 'Content-Type:Missing'],
    [
      'a bad Byte-Range is named',
      [TO, FROM, ['Message-ID', 'm1234'], ['Byte-Range', 'x']],
      false,
      'Byte-Range:Invalid'
    ],
    [
      'a duplicated Message-ID is named',
      [TO, FROM, ['Message-ID', 'm1234'], ['Message-ID', 'm5678']],
      false,
      'Message-ID:Duplicate'
    ]
  ] as const)('%s', (_, headers, hasBody, expected) => {
    expect(reason(validateSend(head('SEND', [...headers]), hasBody))).toBe(expected)
  })

  it('accepts a bodiless SEND without Content-Type (C-7.1-5, W-6-3 keep-alives)', () => {
    expect(
      reason(validateSend(head('SEND', [TO, FROM, ['Message-ID', 'm1234'], ['Byte-Range', '1-0/0']]), false))
    ).toBe('ok')
  })
})

describe('validateReport (RFC 4975 §7.1.2)', () => {
  const base: Header[] = [TO, FROM, ['Message-ID', 'm1234']]
  it('decodes Status and the optional Byte-Range', () => {
    const r = validateReport(head('REPORT', [...base, ['Byte-Range', '1-10/10'], ['Status', '000 200 OK']]))
    expect(E.isRight(r) && r.right).toMatchObject({
      status: { namespace: 0, code: 200, comment: 'OK' },
      byteRange: { start: 1, end: 10, total: 10 }
    })
  })

  it('C-7.1.2-1: requires Status', () => {
    expect(reason(validateReport(head('REPORT', base)))).toBe('Status:Missing')
  })

  it.each(['Success-Report', 'Failure-Report'])('C-7.1.2-1: refuses %s in a REPORT', (name) => {
    expect(reason(validateReport(head('REPORT', [...base, ['Status', '000 200 OK'], [name, 'no']])))).toBe(
      `${name}:Invalid`
    )
  })
})
