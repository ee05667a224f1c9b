import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { ContentType, mediaTypeMatches, parseMediaType } from '../../../src/wire/headers'
import { arbContentType } from '../../arbitraries/headers'

describe('Content-Type (RFC 4975 §9 media-type)', () => {
  it.each<[string, ContentType]>([
    ['text/plain', { type: 'text', subtype: 'plain', params: [] }],
    ['message/cpim', { type: 'message', subtype: 'cpim', params: [] }],
    ['application/xhtml+xml', { type: 'application', subtype: 'xhtml+xml', params: [] }],
    ['text/plain;charset=UTF-8', { type: 'text', subtype: 'plain', params: [['charset', 'UTF-8']] }],
    [
      'multipart/mixed;boundary="a b;c";flag;x=1',
      {
        type: 'multipart',
        subtype: 'mixed',
        params: [
          ['boundary', 'a b;c'],
          ['flag', undefined],
          ['x', '1']
        ]
      }
    ],
    ['text/plain;q="a\\"b\\\\c"', { type: 'text', subtype: 'plain', params: [['q', 'a"b\\c']] }],
    ['text/plain;e=""', { type: 'text', subtype: 'plain', params: [['e', '']] }],
    ['Text/HTML;n="é"', { type: 'Text', subtype: 'HTML', params: [['n', 'é']] }]
  ])('decodes %s, keeping case and parameter order, and encodes it back', (s, ct) => {
    expect(ContentType.decode(s)).toEqual(E.right(ct))
    expect(ContentType.encode(ct)).toBe(s)
  })

  it('unquotes a quoted value that is a token and writes it back bare', () => {
    const r = ContentType.decode('text/plain;charset="utf-8"')
    expect(r).toEqual(E.right({ type: 'text', subtype: 'plain', params: [['charset', 'utf-8']] }))
    expect(E.isRight(r) && ContentType.encode(r.right)).toBe('text/plain;charset=utf-8')
  })

  it.each([
    [''],
    ['text'],
    ['text/'],
    ['/plain'],
    ['text/plain/x'],
    ['text /plain'],
    ['text/plain '],
    ['text/plain; charset=utf-8'],
    ['text/plain;'],
    ['text/plain;=x'],
    ['text/plain;a='],
    ['text/plain;a=b c'],
    ['text/plain;a="unterminated'],
    ['text/plain;a="bad\\escape"'],
    ['text/plain;a="ctl\u0001"'],
    ['text/plain;a="x"y'],
    ['te(x)t/plain'],
    ['text/pla@in'],
    ['tëxt/plain']
  ])('rejects %j', (s) => {
    const r = ContentType.decode(s)
    expect(E.isLeft(r) && r.left[0]?.message).toMatch(/^expected type\/subtype/)
  })

  it('allows spaces around the value, `;` and `=` only with mimeWhitespace (MIME in SIP bodies), never by default', () => {
    const text = ' multipart/related ; type = "application/sdp" ;\tboundary=abc '
    expect(E.isLeft(parseMediaType(text))).toBe(true)
    expect(parseMediaType(text, { mimeWhitespace: true })).toEqual(
      E.right({
        type: 'multipart',
        subtype: 'related',
        params: [
          ['type', 'application/sdp'],
          ['boundary', 'abc']
        ]
      })
    )
    expect(E.isLeft(parseMediaType('text/plain ; ', { mimeWhitespace: true }))).toBe(true)
  })

  it('round-trips any media type', () => {
    fc.assert(
      fc.property(arbContentType, (ct) => expect(ContentType.decode(ContentType.encode(ct))).toEqual(E.right(ct)))
    )
  })

  it('is() rejects non-token types and unquotable values', () => {
    expect(ContentType.is({ type: 'text', subtype: 'plain', params: [] })).toBe(true)
    expect(ContentType.is({ type: 'te xt', subtype: 'plain', params: [] })).toBe(false)
    expect(ContentType.is({ type: 'text', subtype: 'plain', params: [['a', 'b\nc']] })).toBe(false)
  })

  it('never throws, and what it decodes round-trips', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        const r = ContentType.decode(s)
        if (E.isRight(r)) expect(ContentType.decode(ContentType.encode(r.right))).toEqual(r)
      })
    )
  })
})

describe('mediaTypeMatches (RFC 4975 §8.6 accept-types)', () => {
  it.each<[string, string, boolean]>([
    ['text/plain', '*', true],
    ['text/plain', 'text/plain', true],
    ['TEXT/Plain', 'text/PLAIN', true],
    ['text/plain;charset=utf-8', 'text/plain', true],
    ['text/plain', 'text/plain;charset=utf-8', true],
    ['text/html', 'text/*', true],
    ['text/html', 'TEXT/*', true],
    ['text/html', '*/*', true],
    ['text/html', 'text/plain', false],
    ['message/cpim', 'text/*', false],
    ['text/plain', 'plain', false],
    ['text/plain', '', false],
    ['not a type', '*/*', false],
    ['not a type', '*', true]
  ])('%s against %s → %s', (type, pattern, expected) => {
    expect(mediaTypeMatches(type, pattern)).toBe(expected)
  })

  it('accepts a decoded ContentType', () => {
    const ct = parseMediaType('message/CPIM')
    expect(E.isRight(ct) && mediaTypeMatches(ct.right, 'message/cpim')).toBe(true)
  })
})
