import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { Expires, MAX_EXPIRES_SECONDS, MaxExpires, MinExpires } from '../../../src/wire/headers'
import { arbExpires } from '../../arbitraries/headers'

const codecs = [Expires, MinExpires, MaxExpires]

describe('Expires / Min-Expires / Max-Expires (RFC 4976 §7)', () => {
  it.each([
    ['900', 900],
    ['1800', 1800],
    ['0', 0],
    ['0900', 900],
    [String(MAX_EXPIRES_SECONDS), MAX_EXPIRES_SECONDS]
  ])('decodes %s as %d', (s, n) => {
    for (const codec of codecs) expect(codec.decode(s)).toEqual(E.right(n))
  })

  it.each([[''], ['-1'], ['+5'], ['1.5'], ['9e3'], [' 900'], ['900 '], ['0x10'], ['٣']])(
    'rejects %j as not 1*DIGIT',
    (s) => {
      for (const codec of codecs) {
        const r = codec.decode(s)
        expect(E.isLeft(r) && r.left[0]?.message).toBe('expected 1*DIGIT seconds')
      }
    }
  )

  it('rejects values above 2^31 - 1, including absurdly long numbers', () => {
    for (const s of [String(MAX_EXPIRES_SECONDS + 1), '9'.repeat(30)]) {
      const r = Expires.decode(s)
      expect(E.isLeft(r) && r.left[0]?.message).toMatch(/at most 2147483647/)
    }
  })

  it('round-trips any bounded number of seconds', () => {
    for (const codec of codecs)
      fc.assert(fc.property(arbExpires, (n) => expect(codec.decode(codec.encode(n))).toEqual(E.right(n))))
    expect(Expires.encode(900)).toBe('900')
    expect(Expires.is(-1)).toBe(false)
    expect(Expires.is(1.5)).toBe(false)
  })

  it('never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' })),
        (s) => typeof Expires.decode(s)._tag === 'string'
      )
    )
  })
})
