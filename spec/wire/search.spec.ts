import fc from 'fast-check'
import { ByteNeedle, nativeIndexOf } from '../../src/wire/search'

/** The first whole occurrence of `needle` in `hay[from, end)`, the slow obvious way. */
function naive(hay: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  outer: for (let p = from; p + needle.length <= end; p++) {
    for (let k = 0; k < needle.length; k++) if (hay[p + k] !== needle[k]) continue outer
    return p
  }
  return -1
}

describe('ByteNeedle (the framer’s end-line search and the encoder’s id check)', () => {
  // Few distinct bytes, so that the needle and near misses occur often, in regions short and long (both sides of
  // the hop-to-Horspool switch at 1 KiB and of the native switch at 256 bytes).
  const byte = fc.constantFrom(0x0d, 0x0a, 0x2d, 0x2d, 0x61, 0x00)
  const needleBytes = fc.array(byte, { minLength: 1, maxLength: 12 })
  // A filler (a byte no needle has) in front pushes occurrences past the first KiB, where Horspool takes over.
  const filler = fc.integer({ min: 0, max: 1500 })
  const cases = fc
    .tuple(filler, fc.array(byte, { maxLength: 3000, size: 'max' }), needleBytes, fc.nat(), fc.nat())
    .map(([fill, hay, needle, a, b]) => {
      const h = Uint8Array.from([...new Array<number>(fill).fill(0x7a), ...hay])
      const from = h.length === 0 ? 0 : a % (Math.min(fill, h.length) + 1)
      const end = from + (h.length === from ? 0 : b % (h.length - from + 1))
      return { hay: h, needle: Uint8Array.from(needle), from, end }
    })

  it('finds what a naive search finds, in the script search browsers run', () => {
    fc.assert(
      fc.property(cases, ({ hay, needle, from, end }) => {
        expect(new ByteNeedle(needle).indexInScript(hay, from, end)).toBe(naive(hay, needle, from, end))
      }),
      { numRuns: 3000 }
    )
  })

  it('finds what a naive search finds with the native search (Node), an occurrence cut by `end` not found', () => {
    expect(nativeIndexOf).toBeDefined()
    fc.assert(
      fc.property(cases, ({ hay, needle, from, end }) => {
        expect(new ByteNeedle(needle).indexIn(hay, from, end)).toBe(naive(hay, needle, from, end))
      }),
      { numRuns: 3000 }
    )
    const hay = new Uint8Array(4096).fill(0x61)
    hay.set([0x0d, 0x0a, 0x2d], 4000)
    const needle = ByteNeedle.ascii('\r\n-')
    expect(needle.indexIn(hay, 100, 4003)).toBe(4000)
    expect(needle.indexIn(hay, 100, 4002)).toBe(-1)
    expect(needle.indexIn(hay.subarray(1000), 0)).toBe(3000) // a view: the index is the view's
  })
})
