import { createHash } from 'node:crypto'
import * as fc from 'fast-check'
import { md5 } from '../../src/wire/md5'

const nodeMd5 = (data: Uint8Array | string): string => createHash('md5').update(data).digest('hex')

describe('md5 (RFC 1321)', () => {
  // RFC 1321 appendix A.5, "test suite".
  it.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      '57edf4a22be3c955ac49da2e2107b67a'
    ]
  ])('MD5("%s") is the RFC 1321 test-suite value', (input, expected) => {
    expect(md5(input)).toBe(expected)
    expect(md5(new TextEncoder().encode(input))).toBe(expected)
  })

  it('hashes strings as UTF-8', () => {
    expect(md5('é')).toBe(nodeMd5(Buffer.from('é', 'utf8')))
    expect(md5('日本語 🎉')).toBe(nodeMd5('日本語 🎉'))
  })

  it('hashes only the bytes of a subarray view, not its whole buffer', () => {
    const whole = new TextEncoder().encode('xxabcxx')
    expect(md5(whole.subarray(2, 5))).toBe('900150983cd24fb0d6963f7d28e17f72')
  })

  it.each([0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537])(
    'agrees with node:crypto at the padding boundary length %i',
    (length) => {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff)
      expect(md5(bytes)).toBe(nodeMd5(bytes))
    }
  )

  it('agrees with node:crypto on arbitrary byte arrays', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(md5(bytes)).toBe(nodeMd5(bytes))
      }),
      { numRuns: 500 }
    )
  })

  it('agrees with node:crypto on byte arrays with lengths around the block boundaries', () => {
    const lengths = [54, 55, 56, 57, 62, 63, 64, 65, 118, 119, 120, 121, 127, 128]
    fc.assert(
      fc.property(
        fc.constantFrom(...lengths).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        (bytes) => {
          expect(md5(bytes)).toBe(nodeMd5(bytes))
        }
      )
    )
  })

  it('agrees with node:crypto on arbitrary strings, multi-byte UTF-8 included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => {
        expect(md5(s)).toBe(nodeMd5(s))
      })
    )
  })

  it('agrees with node:crypto on strings with lone surrogates (both encode them as U+FFFD)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        expect(md5(s)).toBe(nodeMd5(s))
      })
    )
  })

  it('returns 32 lowercase hex digits', () => {
    fc.assert(fc.property(fc.uint8Array(), (bytes) => /^[0-9a-f]{32}$/.test(md5(bytes))))
  })
})
