/**
 * Expires, Min-Expires and Max-Expires (RFC 4976 §4, §7): `1*DIGIT` whole seconds.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { digits, headerCodec } from './grammar'

/**
 * Largest accepted value: 2^31 - 1 seconds (about 68 years). The ABNF puts no bound on `1*DIGIT`; the bound keeps
 * values usable as timer delays and rejects absurd inputs (our choice, in the spirit of C-14.5-4).
 */
export const MAX_EXPIRES_SECONDS = 2_147_483_647

/** Whether `u` is a whole number of seconds from 0 to `MAX_EXPIRES_SECONDS`. */
export const isExpiresSeconds = (u: unknown): u is number =>
  typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= MAX_EXPIRES_SECONDS

/** Parses `1*DIGIT` seconds (leading zeros accepted) bounded by `MAX_EXPIRES_SECONDS`. */
export function parseExpiresSeconds(s: string): E.Either<string, number> {
  if (!/^[0-9]+$/.test(s)) return E.left('expected 1*DIGIT seconds')
  const n = digits(s)
  return n !== undefined && n <= MAX_EXPIRES_SECONDS
    ? E.right(n)
    : E.left(`expected 1*DIGIT seconds, at most ${MAX_EXPIRES_SECONDS}`)
}

/** @internal */
const secondsCodec = (name: string): t.Type<number, string, string> =>
  headerCodec(name, isExpiresSeconds, parseExpiresSeconds, (n) => String(n))

/** Expires: lifetime in seconds requested in an AUTH or granted in its 200 (RFC 4976 §5.1, §6.3). */
export type Expires = number
/** Codec for the Expires header value (RFC 4976 §7). */
export const Expires = secondsCodec('Expires')

/** Min-Expires: the shortest Expires a relay accepts, in a 423 response (RFC 4976 §6.3). */
export type MinExpires = number
/** Codec for the Min-Expires header value (RFC 4976 §7). */
export const MinExpires = secondsCodec('MinExpires')

/** Max-Expires: the longest Expires a relay accepts, in a 423 response (RFC 4976 §6.3). */
export type MaxExpires = number
/** Codec for the Max-Expires header value (RFC 4976 §7). */
export const MaxExpires = secondsCodec('MaxExpires')
