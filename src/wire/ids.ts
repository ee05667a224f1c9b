/**
 * Random identifiers for MSRP (RFC 4975 §6, §7.1; RFC 4976 §6.3, §9.1; RFC 7977 appendix A).
 *
 * Every generator draws from `globalThis.crypto.getRandomValues` (WebCrypto: Node ≥ 20 and browsers) and maps
 * bytes onto an alphabet by rejection sampling, so every character is uniform (no modulo bias). Bit counts
 * below are `chars × log2(alphabet size)`.
 */

/** Base62: `0-9A-Za-z`. Every character is `ALPHANUM`, hence valid in `ident` and in `session-id` (RFC 4975 §9). */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Lowercase base36: `0-9a-z`, for DNS labels (compared case-insensitively, so upper case would add no entropy). */
export const BASE36_LOWER_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'

/** Lowercase letters, for the first character of a DNS label. */
export const LOWER_ALPHA_ALPHABET = 'abcdefghijklmnopqrstuvwxyz'

/**
 * Characters in a transaction id: 12 base62 = 71.4 random bits (≥ 64 required, RFC 4975 §7.1, C-7.1-1), within
 * `ident`'s 4–32 characters.
 */
export const TRANSACTION_ID_CHARS = 12

/**
 * Characters in a session-id: 20 base62 = 119 random bits (≥ 80 required, RFC 4975 §6 and §14.1, C-14.1-1; it also
 * exceeds the ≥ 64 bits a relay-issued Use-Path URI needs, RFC 4976 §6.3, R-6.3-8).
 */
export const SESSION_ID_CHARS = 20

/**
 * Characters in a Message-ID: 16 base62 = 95.3 random bits. RFC 4975 §7.1.1 (C-7.1.1-1) asks for an id highly
 * unlikely to repeat across instances and time and names a 64-bit random number as sufficient; the extra bits keep
 * the birthday bound far away for long-lived instances.
 */
export const MESSAGE_ID_CHARS = 16

/** Characters in a Digest nonce: 22 base62 = 131 random bits (≥ 128; RFC 2617 §3.2.1, RFC 4976 §9.1). */
export const NONCE_CHARS = 22

/** Characters in a Digest cnonce: 16 base62 = 95.3 random bits (RFC 2617 §3.2.2; RFC 4976 §9.1, R-9.1-7). */
export const CNONCE_CHARS = 16

/**
 * Characters in the random label of an `.invalid` host: 12, the first a letter and the rest lowercase base36, i.e.
 * log2(26) + 11 × log2(36) = 61.6 bits (RFC 7977 appendix A, W-A-1). The host is a label, not a secret: secrecy
 * lives in the session-id.
 */
export const INVALID_HOST_CHARS = 12

/** Options of {@link randomToken}. Every field is optional. */
export interface RandomTokenOptions {
  /** Characters to draw from: 2 to 256 distinct UTF-16 code units. Default {@link BASE62_ALPHABET}. */
  readonly alphabet?: string
  /**
   * Source of random bytes, for tests: returns a fresh array of `n` bytes. Default: a buffer filled by
   * `globalThis.crypto.getRandomValues`.
   */
  readonly randomBytes?: (n: number) => Uint8Array
}

/**
 * `chars` characters drawn uniformly and independently from `options.alphabet` (default base62).
 *
 * A random byte `v` is accepted only when `v < 256 - (256 mod n)` and then maps to `alphabet[v mod n]`; other bytes
 * are discarded and redrawn (rejection sampling), so every character has probability exactly 1/n.
 *
 * Throws a `RangeError` on a programmer error (`chars` not a non-negative safe integer; an alphabet that is too
 * short, too long or has repeated characters), and an `Error` when the platform has no WebCrypto.
 *
 * @example
 * randomToken(8) // e.g. 'q3ZrW0aP'
 * randomToken(4, { alphabet: '01' }) // e.g. '1001'
 */
export function randomToken(chars: number, options: RandomTokenOptions = {}): string {
  const alphabet = options.alphabet ?? BASE62_ALPHABET
  const randomBytes = options.randomBytes ?? cryptoRandomBytes
  if (!Number.isSafeInteger(chars) || chars < 0) throw new RangeError(`randomToken: chars must be ≥ 0, got ${chars}`)
  if (
    alphabet !== BASE62_ALPHABET &&
    (alphabet.length < 2 || alphabet.length > 256 || new Set(alphabet).size !== alphabet.length)
  )
    throw new RangeError('randomToken: the alphabet must have 2 to 256 distinct characters')
  const n = alphabet.length
  const limit = 256 - (256 % n) // largest multiple of n that fits in a byte: bytes ≥ limit would bias
  let out = ''
  while (out.length < chars) {
    const missing = chars - out.length
    // Ask for a little more than needed, so one call usually suffices despite rejections.
    const bytes = randomBytes(Math.min(MAX_RANDOM_BYTES_PER_CALL, missing + (missing >>> 2) + 4))
    if (bytes.length === 0) throw new Error('randomToken: the random byte source returned no bytes')
    for (let i = 0; i < bytes.length && out.length < chars; i++) {
      const v = bytes[i] ?? limit
      if (v < limit) out += alphabet.charAt(v % n)
    }
  }
  return out
}

/** A new transaction id (`ident`, 12 base62 chars, 71 bits; RFC 4975 §7.1, C-7.1-1). */
export function newTransactionId(): string {
  return randomToken(TRANSACTION_ID_CHARS)
}

/**
 * A new session-id for an MSRP URI (20 base62 chars, 119 bits; RFC 4975 §6 and §14.1, C-14.1-1). Also suitable for
 * the session-id of a relay's Use-Path URI (RFC 4976 §6.3, R-6.3-8).
 */
export function newSessionId(): string {
  return randomToken(SESSION_ID_CHARS)
}

/** A new Message-ID value (`ident`, 16 base62 chars, 95 bits; RFC 4975 §7.1.1, C-7.1.1-1). */
export function newMessageId(): string {
  return randomToken(MESSAGE_ID_CHARS)
}

/** A new HTTP Digest nonce for a relay's challenge (22 base62 chars, 131 bits; RFC 4976 §9.1). */
export function newNonce(): string {
  return randomToken(NONCE_CHARS)
}

/** A new HTTP Digest client nonce (16 base62 chars, 95 bits; RFC 4976 §9.1, R-9.1-7). */
export function newCnonce(): string {
  return randomToken(CNONCE_CHARS)
}

/**
 * A random hostname under the reserved `.invalid` TLD, e.g. `k3j9x0a8b2cd.invalid`, for a client that cannot learn
 * its own address (browser over WebSocket; RFC 7977 appendix A, W-A-1). The label starts with a letter so that no
 * parser can mistake it for a number.
 */
export function newInvalidHost(): string {
  return (
    randomToken(1, { alphabet: LOWER_ALPHA_ALPHABET }) +
    randomToken(INVALID_HOST_CHARS - 1, { alphabet: BASE36_LOWER_ALPHABET }) +
    '.invalid'
  )
}

/** @internal WebCrypto refuses more than 65 536 bytes per `getRandomValues` call. */
const MAX_RANDOM_BYTES_PER_CALL = 65_536

/** @internal `n` bytes from WebCrypto. */
/**
 * Random bytes from a pool refilled by `getRandomValues` 4 KiB at a time: one WebCrypto call per ~300 ids
 * instead of one per id (a transaction id per chunk made it 10% of a bulk transfer's CPU). Served bytes are
 * copied out and never served twice. The pool is the one piece of module state in the wire layer, on purpose.
 */
const POOL_BYTES = 4096
let pool: Uint8Array = new Uint8Array(0)
let poolAt = 0

function cryptoRandomBytes(n: number): Uint8Array {
  if (n > POOL_BYTES) return fill(new Uint8Array(n))
  if (poolAt + n > pool.length) {
    pool = fill(new Uint8Array(POOL_BYTES))
    poolAt = 0
  }
  const out = pool.slice(poolAt, poolAt + n)
  poolAt += n
  return out
}

function fill(bytes: Uint8Array<ArrayBuffer>): Uint8Array {
  const crypto = globalThis.crypto as Crypto | undefined
  if (crypto === undefined || typeof crypto.getRandomValues !== 'function')
    throw new Error('rx-msrp needs globalThis.crypto.getRandomValues (WebCrypto: Node ≥ 20 or a browser)')
  return crypto.getRandomValues(bytes)
}
