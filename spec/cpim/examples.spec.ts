/**
 * The message/cpim examples of the spec digests (related.md §4.4, rfc4975-core.md §14.4), decoded, read and
 * re-encoded byte for byte.
 */
import * as E from 'fp-ts/Either'
import { decodeCpim, encodeCpim, cpimContentHeader, type CpimMessage } from '../../src/cpim/cpim'
import { CPIM_HEADERS_NAMESPACE, readEnvelope } from '../../src/cpim/envelope'
import { right } from '../helpers/either'

const crlf = (lines: readonly string[]): string => lines.join('\r\n')
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/** related.md §4.4: the minimal message/cpim body inside MSRP (127 octets). */
const MINIMAL = crlf([
  'From: <sip:alice@example.com>',
  'To: <sip:bob@example.com>',
  'DateTime: 2006-05-15T15:02:31-03:00',
  '',
  'Content-Type: text/plain',
  '',
  'Hi'
])

/** RFC 3862 §5.1 (related.md §4.4), the `h:`, `s:` and `e:` lines without their tags. */
const RFC3862_5_1 = crlf([
  'From: MR SANDERS <im:piglet@100akerwood.com>',
  'To: Depressed Donkey <im:eeyore@100akerwood.com>',
  'DateTime: 2000-12-13T13:40:00-08:00',
  'Subject: the weather will be fine today',
  "Subject:;lang=fr beau temps prevu pour aujourd'hui",
  'NS: MyFeatures <mid:MessageFeatures@id.foo.com>',
  'Require: MyFeatures.VitalMessageOption',
  'MyFeatures.VitalMessageOption: Confirmation-requested',
  'MyFeatures.WackyMessageOption: Use-silly-font',
  '',
  'Content-type: text/xml; charset=utf-8',
  'Content-ID: <1234567890@foo.com>',
  '',
  '<body>',
  'Here is the text of my message.',
  '</body>'
])

/** rfc4975-core.md §14.4: the first chunk of RFC 4975 §11.4 (137 octets), printed without the separator line. */
const RFC4975_11_4_FIRST = crlf([
  'To: Bob <sip:bob@example.com>',
  'From: Alice <sip:alice@example.com>',
  'DateTime: 2006-05-15T15:02:31-03:00',
  'Content-Type: text/plain',
  '',
  'ABCD'
])
/** …and its second chunk, which completes the message. */
const RFC4975_11_4_SECOND = '1234567890'

describe('CPIM examples (RFC 3862 §5.1, RFC 4975 §11.4, related.md §4.4)', () => {
  it('decodes the minimal MSRP CPIM body (127 octets): From, To, DateTime, Content-Type, body "Hi"', () => {
    const input = bytes(MINIMAL)
    expect(input.length).toBe(127)
    const m = right(decodeCpim(input))
    expect(m.headers).toEqual([
      { name: 'From', params: [], value: '<sip:alice@example.com>' },
      { name: 'To', params: [], value: '<sip:bob@example.com>' },
      { name: 'DateTime', params: [], value: '2006-05-15T15:02:31-03:00' }
    ])
    expect(m.contentHeaders).toEqual([['Content-Type', 'text/plain']])
    expect(text(m.body)).toBe('Hi')
    expect(encodeCpim(m)).toEqual(input)
    expect(right(readEnvelope(m))).toEqual({
      from: { uri: 'sip:alice@example.com' },
      to: [{ uri: 'sip:bob@example.com' }],
      cc: [],
      dateTime: new Date('2006-05-15T18:02:31Z'),
      subject: [],
      namespaces: [],
      require: [],
      extensions: []
    })
  })

  it('P-2.2-2, P-3.4-1: decodes RFC 3862 §5.1 with its namespace, Require, two Subjects, and re-encodes it', () => {
    const input = bytes(RFC3862_5_1)
    const m = right(decodeCpim(input))
    expect(m.headers.map((h) => h.name)).toEqual([
      'From',
      'To',
      'DateTime',
      'Subject',
      'Subject',
      'NS',
      'Require',
      'MyFeatures.VitalMessageOption',
      'MyFeatures.WackyMessageOption'
    ])
    expect(m.headers[4]).toEqual({
      name: 'Subject',
      params: [{ name: 'lang', value: 'fr' }],
      value: "beau temps prevu pour aujourd'hui"
    })
    expect(m.contentHeaders).toEqual([
      ['Content-type', 'text/xml; charset=utf-8'],
      ['Content-ID', '<1234567890@foo.com>']
    ])
    expect(cpimContentHeader(m, 'Content-Type')).toBe('text/xml; charset=utf-8')
    expect(text(m.body)).toBe('<body>\r\nHere is the text of my message.\r\n</body>')
    expect(encodeCpim(m)).toEqual(input)
  })

  it('P-3.5-1: Require of a header the recipient does not understand fails; understood, the envelope is read', () => {
    const m = right(decodeCpim(bytes(RFC3862_5_1)))
    expect(readEnvelope(m)).toEqual(
      E.left(expect.objectContaining({ _tag: 'CpimFailure', reason: 'RequireNotUnderstood', header: 'Require' }))
    )
    const features = 'mid:MessageFeatures@id.foo.com'
    const envelope = right(readEnvelope(m, { understood: [{ namespace: features, name: 'VitalMessageOption' }] }))
    expect(envelope).toEqual({
      from: { name: 'MR SANDERS', uri: 'im:piglet@100akerwood.com' },
      to: [{ name: 'Depressed Donkey', uri: 'im:eeyore@100akerwood.com' }],
      cc: [],
      dateTime: new Date('2000-12-13T21:40:00Z'),
      subject: [{ text: 'the weather will be fine today' }, { text: "beau temps prevu pour aujourd'hui", lang: 'fr' }],
      namespaces: [{ prefix: 'MyFeatures', uri: features }],
      require: [{ namespace: features, name: 'VitalMessageOption' }],
      extensions: [
        {
          prefix: 'MyFeatures',
          namespace: features,
          name: 'VitalMessageOption',
          params: [],
          value: 'Confirmation-requested'
        },
        { prefix: 'MyFeatures', namespace: features, name: 'WackyMessageOption', params: [], value: 'Use-silly-font' }
      ]
    })
    expect(CPIM_HEADERS_NAMESPACE).toBe('urn:ietf:params:cpim-headers:')
  })

  it('RFC 4975 §11.4 as printed (no empty line before Content-Type) fails by default, naming the problem', () => {
    expect(decodeCpim(bytes(RFC4975_11_4_FIRST))).toEqual(
      E.left({
        _tag: 'CpimFailure',
        reason: 'MissingSeparator',
        header: 'Content-Type',
        detail: expect.stringContaining('empty line') as string
      })
    )
  })

  it('RFC 4975 §11.4 with allowMissingSeparator: the first chunk (137 octets) and the whole message decode', () => {
    const first = bytes(RFC4975_11_4_FIRST)
    expect(first.length).toBe(137)
    const m = right(decodeCpim(first, { allowMissingSeparator: true }))
    expect(m.missingSeparator).toBe(true)
    expect(m.headers.map((h) => [h.name, h.value])).toEqual([
      ['To', 'Bob <sip:bob@example.com>'],
      ['From', 'Alice <sip:alice@example.com>'],
      ['DateTime', '2006-05-15T15:02:31-03:00']
    ])
    expect(m.contentHeaders).toEqual([['Content-Type', 'text/plain']])
    expect(text(m.body)).toBe('ABCD')
    expect(encodeCpim(m)).toEqual(first) // byte for byte, separator still missing
    const whole = right(decodeCpim(bytes(RFC4975_11_4_FIRST + RFC4975_11_4_SECOND), { allowMissingSeparator: true }))
    expect(text(whole.body)).toBe('ABCD1234567890')
    expect(right(readEnvelope(whole))).toMatchObject({
      from: { name: 'Alice', uri: 'sip:alice@example.com' },
      to: [{ name: 'Bob', uri: 'sip:bob@example.com' }]
    })
  })

  it('the body is a view of the input: binary bytes after the MIME headers are kept as they are', () => {
    const head = bytes(crlf(['From: <im:a@b>', 'To: <im:c@d>', '', 'Content-Type: application/octet-stream', '', '']))
    const body = Uint8Array.from([0, 13, 10, 13, 10, 255, 45, 45, 45, 45, 45, 45, 45])
    const input = new Uint8Array(head.length + body.length)
    input.set(head)
    input.set(body, head.length)
    const m: CpimMessage = right(decodeCpim(input))
    expect(m.body).toEqual(body)
    expect(m.body.buffer).toBe(input.buffer)
    expect(encodeCpim(m)).toEqual(input)
  })
})
