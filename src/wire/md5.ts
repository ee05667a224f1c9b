/**
 * MD5 message digest (RFC 1321), in plain TypeScript so that the wire layer runs unchanged in browsers
 * (no `node:crypto`, no `Buffer`, and WebCrypto's `subtle.digest` has no MD5 and is asynchronous).
 *
 * MD5 is used here only because HTTP Digest (RFC 2617, profiled by RFC 4976 §9.1, checklist R-9.1-1) is
 * defined over it; it is not a general-purpose integrity primitive.
 */

/** Encodes a string as UTF-8 (lone surrogates become U+FFFD, as in `TextEncoder` and Node's `'utf8'`). */
const UTF8 = new TextEncoder()

/**
 * The MD5 digest of `input` as 32 lowercase hex digits (RFC 1321 §3). A string is hashed as its UTF-8
 * encoding; a `Uint8Array` (or any view of one, e.g. a `subarray`) is hashed as is and never copied in
 * whole: only the final partial block is.
 *
 * @example
 * md5('abc') // '900150983cd24fb0d6963f7d28e17f72'
 */
export function md5(input: Uint8Array | string): string {
  const bytes = typeof input === 'string' ? UTF8.encode(input) : input
  const state: Md5State = { a: 0x67452301, b: 0xefcdab89 | 0, c: 0x98badcfe | 0, d: 0x10325476 }
  const length = bytes.length
  const fullBlocksEnd = length - (length % 64)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let offset = 0; offset < fullBlocksEnd; offset += 64) compress(state, view, offset)

  // RFC 1321 §3.1–3.2: append 0x80, zero-pad to 56 mod 64, then the bit length as 64-bit little-endian.
  const rest = length - fullBlocksEnd
  const tail = new Uint8Array(rest < 56 ? 64 : 128)
  tail.set(bytes.subarray(fullBlocksEnd), 0)
  tail[rest] = 0x80
  const tailView = new DataView(tail.buffer)
  tailView.setUint32(tail.length - 8, (length * 8) >>> 0, true)
  tailView.setUint32(tail.length - 4, Math.floor(length / 0x20000000) >>> 0, true)
  for (let offset = 0; offset < tail.length; offset += 64) compress(state, tailView, offset)

  return hexLe(state.a) + hexLe(state.b) + hexLe(state.c) + hexLe(state.d)
}

/** @internal The four 32-bit chaining words A, B, C, D (RFC 1321 §3.3), kept as signed int32. */
interface Md5State {
  a: number
  b: number
  c: number
  d: number
}

/** @internal A word as 8 hex digits, low-order byte first (RFC 1321 §3.5). */
function hexLe(word: number): string {
  let out = ''
  for (let i = 0; i < 4; i++) out += ((word >>> (8 * i)) & 0xff).toString(16).padStart(2, '0')
  return out
}

/** @internal `b + ((a + q + x + t) <<< s)` (RFC 1321 §3.4). */
function cmn(q: number, a: number, b: number, x: number, s: number, t: number): number {
  const sum = (a + q + x + t) | 0
  return (((sum << s) | (sum >>> (32 - s))) + b) | 0
}

/** @internal Round 1: F(X,Y,Z) = XY v not(X) Z. */
function ff(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  return cmn((b & c) | (~b & d), a, b, x, s, t)
}

/** @internal Round 2: G(X,Y,Z) = XZ v Y not(Z). */
function gg(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  return cmn((b & d) | (c & ~d), a, b, x, s, t)
}

/** @internal Round 3: H(X,Y,Z) = X xor Y xor Z. */
function hh(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  return cmn(b ^ c ^ d, a, b, x, s, t)
}

/** @internal Round 4: I(X,Y,Z) = Y xor (X v not(Z)). */
function ii(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  return cmn(c ^ (b | ~d), a, b, x, s, t)
}

/**
 * @internal Processes the 64-byte block at `offset` (RFC 1321 §3.4). Unrolled, with the T[i] table inlined,
 * so that no array is indexed in the hot path (and no `noUncheckedIndexedAccess` assertions are needed).
 */
function compress(state: Md5State, view: DataView, offset: number): void {
  const x0 = view.getInt32(offset, true)
  const x1 = view.getInt32(offset + 4, true)
  const x2 = view.getInt32(offset + 8, true)
  const x3 = view.getInt32(offset + 12, true)
  const x4 = view.getInt32(offset + 16, true)
  const x5 = view.getInt32(offset + 20, true)
  const x6 = view.getInt32(offset + 24, true)
  const x7 = view.getInt32(offset + 28, true)
  const x8 = view.getInt32(offset + 32, true)
  const x9 = view.getInt32(offset + 36, true)
  const x10 = view.getInt32(offset + 40, true)
  const x11 = view.getInt32(offset + 44, true)
  const x12 = view.getInt32(offset + 48, true)
  const x13 = view.getInt32(offset + 52, true)
  const x14 = view.getInt32(offset + 56, true)
  const x15 = view.getInt32(offset + 60, true)
  let a = state.a
  let b = state.b
  let c = state.c
  let d = state.d

  a = ff(a, b, c, d, x0, 7, 0xd76aa478)
  d = ff(d, a, b, c, x1, 12, 0xe8c7b756)
  c = ff(c, d, a, b, x2, 17, 0x242070db)
  b = ff(b, c, d, a, x3, 22, 0xc1bdceee)
  a = ff(a, b, c, d, x4, 7, 0xf57c0faf)
  d = ff(d, a, b, c, x5, 12, 0x4787c62a)
  c = ff(c, d, a, b, x6, 17, 0xa8304613)
  b = ff(b, c, d, a, x7, 22, 0xfd469501)
  a = ff(a, b, c, d, x8, 7, 0x698098d8)
  d = ff(d, a, b, c, x9, 12, 0x8b44f7af)
  c = ff(c, d, a, b, x10, 17, 0xffff5bb1)
  b = ff(b, c, d, a, x11, 22, 0x895cd7be)
  a = ff(a, b, c, d, x12, 7, 0x6b901122)
  d = ff(d, a, b, c, x13, 12, 0xfd987193)
  c = ff(c, d, a, b, x14, 17, 0xa679438e)
  b = ff(b, c, d, a, x15, 22, 0x49b40821)

  a = gg(a, b, c, d, x1, 5, 0xf61e2562)
  d = gg(d, a, b, c, x6, 9, 0xc040b340)
  c = gg(c, d, a, b, x11, 14, 0x265e5a51)
  b = gg(b, c, d, a, x0, 20, 0xe9b6c7aa)
  a = gg(a, b, c, d, x5, 5, 0xd62f105d)
  d = gg(d, a, b, c, x10, 9, 0x02441453)
  c = gg(c, d, a, b, x15, 14, 0xd8a1e681)
  b = gg(b, c, d, a, x4, 20, 0xe7d3fbc8)
  a = gg(a, b, c, d, x9, 5, 0x21e1cde6)
  d = gg(d, a, b, c, x14, 9, 0xc33707d6)
  c = gg(c, d, a, b, x3, 14, 0xf4d50d87)
  b = gg(b, c, d, a, x8, 20, 0x455a14ed)
  a = gg(a, b, c, d, x13, 5, 0xa9e3e905)
  d = gg(d, a, b, c, x2, 9, 0xfcefa3f8)
  c = gg(c, d, a, b, x7, 14, 0x676f02d9)
  b = gg(b, c, d, a, x12, 20, 0x8d2a4c8a)

  a = hh(a, b, c, d, x5, 4, 0xfffa3942)
  d = hh(d, a, b, c, x8, 11, 0x8771f681)
  c = hh(c, d, a, b, x11, 16, 0x6d9d6122)
  b = hh(b, c, d, a, x14, 23, 0xfde5380c)
  a = hh(a, b, c, d, x1, 4, 0xa4beea44)
  d = hh(d, a, b, c, x4, 11, 0x4bdecfa9)
  c = hh(c, d, a, b, x7, 16, 0xf6bb4b60)
  b = hh(b, c, d, a, x10, 23, 0xbebfbc70)
  a = hh(a, b, c, d, x13, 4, 0x289b7ec6)
  d = hh(d, a, b, c, x0, 11, 0xeaa127fa)
  c = hh(c, d, a, b, x3, 16, 0xd4ef3085)
  b = hh(b, c, d, a, x6, 23, 0x04881d05)
  a = hh(a, b, c, d, x9, 4, 0xd9d4d039)
  d = hh(d, a, b, c, x12, 11, 0xe6db99e5)
  c = hh(c, d, a, b, x15, 16, 0x1fa27cf8)
  b = hh(b, c, d, a, x2, 23, 0xc4ac5665)

  a = ii(a, b, c, d, x0, 6, 0xf4292244)
  d = ii(d, a, b, c, x7, 10, 0x432aff97)
  c = ii(c, d, a, b, x14, 15, 0xab9423a7)
  b = ii(b, c, d, a, x5, 21, 0xfc93a039)
  a = ii(a, b, c, d, x12, 6, 0x655b59c3)
  d = ii(d, a, b, c, x3, 10, 0x8f0ccc92)
  c = ii(c, d, a, b, x10, 15, 0xffeff47d)
  b = ii(b, c, d, a, x1, 21, 0x85845dd1)
  a = ii(a, b, c, d, x8, 6, 0x6fa87e4f)
  d = ii(d, a, b, c, x15, 10, 0xfe2ce6e0)
  c = ii(c, d, a, b, x6, 15, 0xa3014314)
  b = ii(b, c, d, a, x13, 21, 0x4e0811a1)
  a = ii(a, b, c, d, x4, 6, 0xf7537e82)
  d = ii(d, a, b, c, x11, 10, 0xbd3af235)
  c = ii(c, d, a, b, x2, 15, 0x2ad7d2bb)
  b = ii(b, c, d, a, x9, 21, 0xeb86d391)

  state.a = (state.a + a) | 0
  state.b = (state.b + b) | 0
  state.c = (state.c + c) | 0
  state.d = (state.d + d) | 0
}
