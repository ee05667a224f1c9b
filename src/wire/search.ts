/**
 * Subsequence search over bytes, shared by the framer (end-line search) and the encoder (transaction id
 * choice). Runs in browsers (pure Horspool); where the runtime has Node's `Buffer` (found on `globalThis`, never
 * imported) long regions are searched with its native `indexOf`, 5-10 times faster than Horspool in JavaScript.
 */

/** `hay[from, end).indexOf(needle)` as an index into `hay`, or -1, done natively. @internal */
type NativeIndexOf = (hay: Uint8Array, needle: Uint8Array, from: number, end: number) => number

interface BufferLike {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { indexOf(needle: Uint8Array): number }
}

/** Node's `Buffer.prototype.indexOf` over views of the same memory (no copy), when the runtime has `Buffer`. */
export const nativeIndexOf: NativeIndexOf | undefined = (() => {
  const B = (globalThis as { Buffer?: BufferLike }).Buffer
  if (B === undefined || typeof B.from !== 'function') return undefined
  return (hay, needle, from, end) => {
    const at = B.from(hay.buffer, hay.byteOffset + from, end - from).indexOf(needle)
    return at === -1 ? -1 : from + at
  }
})()

/** Candidate positions tried by first-byte hopping before the Horspool skip table is built. */
const HORSPOOL_MIN_BYTES = 1024
/** Regions from this length on go straight to the native search where there is one (one call beats hopping). */
const NATIVE_MIN_BYTES = 256

/**
 * A byte string to search for. Short regions are searched by jumping between occurrences of its first
 * byte with the native `indexOf`; long ones with Horspool, whose skip table (built once, on first need)
 * lets the search advance up to the needle's length per step on data that does not resemble the needle.
 */
export class ByteNeedle {
  private skip: Int32Array | undefined
  /** The needle is `bytes[0, length)`; `bytes` may be longer (see `setAscii`). */
  private m: number

  constructor(readonly bytes: Uint8Array) {
    if (bytes.length === 0) throw new RangeError('ByteNeedle: empty needle')
    this.m = bytes.length
  }

  /** Needle of the ASCII string `s`. */
  static ascii(s: string): ByteNeedle {
    const bytes = new Uint8Array(s.length)
    for (let k = 0; k < s.length; k++) bytes[k] = s.charCodeAt(k) & 0xff
    return new ByteNeedle(bytes)
  }

  get length(): number {
    return this.m
  }

  /**
   * Makes this needle the ASCII string `s` in place (no allocation: the framer sets a new end-line needle for
   * every frame). `s` must fit the buffer the needle was built with.
   */
  setAscii(s: string): void {
    const n = s.length
    if (n === 0 || n > this.bytes.length) throw new RangeError(`ByteNeedle: ${n} bytes do not fit ${this.bytes.length}`)
    for (let k = 0; k < n; k++) this.bytes[k] = s.charCodeAt(k) & 0xff
    this.m = n
    this.skip = undefined
  }

  /**
   * Index of the first whole occurrence in `hay[from, end)`, or -1. An occurrence cut by `end` is not found.
   * Regions of `NATIVE_MIN_BYTES` or more go to the native search where the runtime has one. Otherwise the first
   * `HORSPOOL_MIN_BYTES` candidate positions are tried by hopping between occurrences of the first byte (cheap
   * when the needle is near, as for small frames); the rest with Horspool.
   */
  indexIn(hay: Uint8Array, from = 0, end = hay.length): number {
    if (nativeIndexOf !== undefined && end - from >= NATIVE_MIN_BYTES)
      return nativeIndexOf(hay, this.bytes.subarray(0, this.m), from, end)
    return this.indexInScript(hay, from, end)
  }

  /** {@link indexIn} without the native search: what browsers run (exported for tests). @internal */
  indexInScript(hay: Uint8Array, from = 0, end = hay.length): number {
    const needle = this.bytes
    const m = this.m
    const first = needle[0] as number
    const hopEnd = Math.min(end, from + HORSPOOL_MIN_BYTES + m - 1)
    let p = from
    while (p + m <= hopEnd) {
      p = hay.indexOf(first, p)
      if (p === -1 || p + m > hopEnd) break
      let k = 1
      while (k < m && hay[p + k] === needle[k]) k++
      if (k === m) return p
      p++
    }
    if (hopEnd === end) return -1
    let skip = this.skip
    if (skip === undefined) {
      skip = new Int32Array(256).fill(m)
      for (let k = 0; k < m - 1; k++) skip[needle[k] as number] = m - 1 - k
      this.skip = skip
    }
    const last = needle[m - 1] as number
    const stop = end - m
    p = from + HORSPOOL_MIN_BYTES
    while (p <= stop) {
      const c = hay[p + m - 1] as number
      if (c === last) {
        let k = 0
        while (k < m - 1 && hay[p + k] === needle[k]) k++
        if (k === m - 1) return p
      }
      p += skip[c] as number
    }
    return -1
  }
}
