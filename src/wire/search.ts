/**
 * Subsequence search over bytes, shared by the framer (end-line search) and the encoder (transaction id
 * choice). Runs in browsers (pure Horspool); where the runtime has Node's `Buffer` (found on `globalThis`, never
 * imported) long regions are searched with its native `indexOf`, 5-10 times faster than Horspool in JavaScript.
 */

/** `hay[from, end).indexOf(needle)` as an index into `hay`, or -1, done natively. @internal */
type NativeIndexOf = (hay: Uint8Array, needle: Uint8Array, from: number, end: number) => number

interface BufferLike {
  readonly prototype: { indexOf(this: Uint8Array, needle: Uint8Array, byteOffset: number): number }
}

/**
 * Node's `Buffer.prototype.indexOf`, called on the plain view itself (it takes any Uint8Array): no Buffer is built
 * per call. A region that stops before the view's end is searched in a view of its own, so that nothing past `end` is
 * looked at.
 */
export const nativeIndexOf: NativeIndexOf | undefined = (() => {
  const indexOf = (globalThis as { Buffer?: BufferLike }).Buffer?.prototype?.indexOf
  if (typeof indexOf !== 'function') return undefined
  return (hay, needle, from, end) => {
    if (end === hay.length) return from >= end ? -1 : indexOf.call(hay, needle, from)
    const at = indexOf.call(hay.subarray(from, end), needle, 0)
    return at === -1 ? -1 : from + at
  }
})()

/**
 * Longest needle Node searches with `memchr` on its first byte then a compare (longer ones go to Boyer-Moore-Horspool,
 * 4-10 times slower on binary data: a byte at a time, where `memchr` takes 16 or 32). A longer needle is searched
 * natively by its first bytes this long, each occurrence checked for the rest here.
 */
const NATIVE_PREFIX_BYTES = 7
/** Occurrences of the prefix without the rest tolerated in one region before the whole needle is searched natively. */
const NATIVE_PREFIX_MISSES = 8
/**
 * Bytes at the start of a region looked at before a prefix search: if the needle's first byte occurs
 * `NATIVE_DENSE_BYTES` times or more in them (1 in 32; random bytes have 1 in 256), every occurrence would cost the
 * prefix search a stop (`\r` in short CRLF lines), and the whole needle is searched instead.
 */
const NATIVE_PROBE_BYTES = 256
const NATIVE_DENSE_BYTES = 8

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
  /** `bytes[0, m)` and its first `NATIVE_PREFIX_BYTES`, for the native search (built on first need). */
  private whole: Uint8Array | undefined
  private prefix: Uint8Array | undefined
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
    this.whole = undefined
    this.prefix = undefined
  }

  /**
   * Index of the first whole occurrence in `hay[from, end)`, or -1. An occurrence cut by `end` is not found.
   * Regions of `NATIVE_MIN_BYTES` or more go to the native search where the runtime has one. Otherwise the first
   * `HORSPOOL_MIN_BYTES` candidate positions are tried by hopping between occurrences of the first byte (cheap
   * when the needle is near, as for small frames); the rest with Horspool.
   */
  indexIn(hay: Uint8Array, from = 0, end = hay.length): number {
    if (nativeIndexOf !== undefined && end - from >= NATIVE_MIN_BYTES)
      return this.indexInNative(hay, from, end, nativeIndexOf)
    return this.indexInScript(hay, from, end)
  }

  /**
   * The native search: a needle longer than `NATIVE_PREFIX_BYTES` by its prefix, each occurrence checked for the
   * rest; by the whole needle when its first byte is frequent at the start of the region (`NATIVE_PROBE_BYTES`), or
   * after `NATIVE_PREFIX_MISSES` occurrences of the prefix without the rest (data full of near misses).
   */
  private indexInNative(hay: Uint8Array, from: number, end: number, native: NativeIndexOf): number {
    const m = this.m
    const needle = this.bytes
    const whole = (this.whole ??= needle.subarray(0, m))
    if (m <= NATIVE_PREFIX_BYTES) return native(hay, whole, from, end)
    const first = needle[0]
    const probeEnd = Math.min(end, from + NATIVE_PROBE_BYTES)
    let dense = 0
    for (let p = from; p < probeEnd; p++) if (hay[p] === first) dense++
    if (dense >= NATIVE_DENSE_BYTES) return native(hay, whole, from, end)
    const prefix = (this.prefix ??= needle.subarray(0, NATIVE_PREFIX_BYTES))
    let p = from
    for (let misses = 0; end - p >= m; misses++) {
      if (misses === NATIVE_PREFIX_MISSES) return native(hay, whole, p, end)
      const at = native(hay, prefix, p, end)
      if (at === -1 || at + m > end) return -1
      let k = NATIVE_PREFIX_BYTES
      while (k < m && hay[at + k] === needle[k]) k++
      if (k === m) return at
      p = at + 1
    }
    return -1
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
