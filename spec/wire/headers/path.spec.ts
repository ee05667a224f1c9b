import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { formatPath, FromPath, parsePath, ToPath, UsePath } from '../../../src/wire/headers'
import { formatUri, parseUri } from '../../../src/wire/uri'
import { arbPath } from '../../arbitraries/headers'

const codecs = [ToPath, FromPath, UsePath]

describe('To-Path / From-Path / Use-Path (RFC 4975 §9, RFC 4976 §7)', () => {
  it('decodes a single URI', () => {
    expect(ToPath.decode('msrp://bob.example.com:8888/9di4eae923wzd;tcp')).toEqual(
      E.right([
        {
          scheme: 'msrp',
          host: 'bob.example.com',
          port: 8888,
          sessionId: '9di4eae923wzd',
          transport: 'tcp',
          params: []
        }
      ])
    )
  })

  it('decodes a multi-hop path in wire order, leftmost first (RFC 4976 §10.3)', () => {
    const s = 'msrps://intra.example.com:9000/jui787s2f;tcp msrps://alice.example.com:9892/98cjs;tcp'
    const r = FromPath.decode(s)
    expect(E.isRight(r) && r.right.map((u) => u.host)).toEqual(['intra.example.com', 'alice.example.com'])
    expect(E.isRight(r) && FromPath.encode(r.right)).toBe(s)
  })

  it('decodes the three-URI To-Path of RFC 7977 §8.4 and encodes it back', () => {
    const s =
      'msrps://a.example.com:2855/jui787s2f;tcp msrps://a.example.com:2855/iwnslt;tcp msrps://jk9awp14vj8x.invalid:2855/76qwe;ws'
    const r = ToPath.decode(s)
    expect(E.isRight(r) && r.right.length).toBe(3)
    expect(E.isRight(r) && ToPath.encode(r.right)).toBe(s)
  })

  it('decodes the port-less WebSocket client URI of RFC 7977 §8.3.2 in a From-Path', () => {
    const r = FromPath.decode(
      'msrps://a.example.com:2855/iwnslt;tcp msrps://a.example.com:2855/jui787s2f;tcp msrps://df7jal23ls0d.invalid/98cjs;ws'
    )
    expect(E.isRight(r) && r.right[2]?.port).toBeUndefined()
    expect(E.isRight(r) && r.right[2]?.host).toBe('df7jal23ls0d.invalid')
  })

  it('tolerates the double space after the colon of the RFC 7977 §8.2 examples, and runs of spaces', () => {
    const one = 'msrps://a.example.com:2855/jui787s2f;tcp msrps://df7jal23ls0d.invalid:2855/98cjs;ws'
    const spaced = ' msrps://a.example.com:2855/jui787s2f;tcp   msrps://df7jal23ls0d.invalid:2855/98cjs;ws '
    expect(FromPath.decode(spaced)).toEqual(FromPath.decode(one))
    const r = FromPath.decode(spaced)
    expect(E.isRight(r) && FromPath.encode(r.right)).toBe(one)
  })

  it('decodes the Use-Path of an AUTH 200 (RFC 4976 §10.3)', () => {
    const s = 'msrps://intra.example.com:9000/jui787s2f;tcp msrps://extra.example.com:9000/mywdEe1233;tcp'
    const r = UsePath.decode(s)
    expect(E.isRight(r) && r.right.map(formatUri)).toEqual(s.split(' '))
  })

  it.each([
    ['', /one or more/],
    ['   ', /one or more/],
    ['msrp://a.example.com:1/s', /URI 1 .*transport/],
    ['msrp://a.example.com:1/s;tcp http://b;tcp', /URI 2 /],
    ['msrp://a.example.com:1/s;tcp\tmsrp://b.example.com:1/s;tcp', /URI 1 /],
    ['msrp://a.example.com:1/s;tcp,msrp://b.example.com:1/s;tcp', /URI 1 /]
  ])('rejects %j', (s, message) => {
    for (const codec of codecs) {
      const r = codec.decode(s)
      expect(E.isLeft(r) && r.left[0]?.message).toMatch(message)
    }
  })

  it('parsePath reports a URI failure with its position', () => {
    expect(parsePath('msrp://a.example.com:1/s;tcp msrp://b:0/s;tcp')).toEqual(
      E.left(expect.stringMatching(/^URI 2 is not an MSRP URI: the port/))
    )
  })

  it('round-trips any path: decode(encode(p)) is right(p)', () => {
    for (const codec of codecs)
      fc.assert(fc.property(arbPath, (p) => expect(codec.decode(codec.encode(p))).toEqual(E.right(p))))
  })

  it('encodes with single spaces between URIs', () => {
    fc.assert(fc.property(arbPath, (p) => formatPath(p) === p.map(formatUri).join(' ')))
  })

  it('is() accepts paths and rejects empty or non-URI arrays', () => {
    fc.assert(fc.property(arbPath, (p) => ToPath.is(p)))
    expect(ToPath.is([])).toBe(false)
    expect(ToPath.is(['msrp://a;tcp'])).toBe(false)
  })

  it('never throws, and what it decodes encodes to a string that decodes the same', () => {
    const anyPathish = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc
        .array(fc.oneof(fc.constant('msrp://a.example.com:1/s;tcp'), fc.string()), { maxLength: 4 })
        .map((a) => a.join(' '))
    )
    fc.assert(
      fc.property(anyPathish, (s) => {
        const r = ToPath.decode(s)
        if (E.isRight(r)) expect(ToPath.decode(ToPath.encode(r.right))).toEqual(r)
        else expect(E.isRight(parsePath(s))).toBe(false)
      })
    )
    expect(E.isLeft(parseUri(''))).toBe(true)
  })
})
