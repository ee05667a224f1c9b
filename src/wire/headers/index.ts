/**
 * Header value codecs (one per file) and typed access to a frame's raw headers.
 *
 * ```ts
 * decodeHeader(request.headers, 'Byte-Range') // right(undefined) | right({ start, end, total }) | left(HeaderFailure)
 * ```
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { HeaderFailure, headerFailure } from '../failures'
import type { Header } from '../model'
import { ByteRange } from './byte-range'
import { ContentType } from './content-type'
import { AuthenticationInfo, DigestChallenge, DigestCredentials } from './digest-params'
import { Expires, MaxExpires, MinExpires } from './expires'
import { MessageId } from './message-id'
import { FromPath, ToPath, UsePath } from './path'
import { FailureReport, SuccessReport } from './report'
import { Status } from './status'

export * from './byte-range'
export * from './content-type'
export * from './digest-params'
export * from './expires'
export * from './message-id'
export * from './path'
export * from './report'
export * from './status'

/**
 * The codec of each header this stack interprets, by its registered name (RFC 4975 §15.2 and RFC 4976 §10 IANA
 * registrations). Any other header is kept verbatim in the frame and ignored here (C-12-1).
 */
export const HEADER_CODECS = {
  'To-Path': ToPath,
  'From-Path': FromPath,
  'Use-Path': UsePath,
  'Message-ID': MessageId,
  'Byte-Range': ByteRange,
  Status: Status,
  'Success-Report': SuccessReport,
  'Failure-Report': FailureReport,
  'Content-Type': ContentType,
  Expires: Expires,
  'Min-Expires': MinExpires,
  'Max-Expires': MaxExpires,
  'WWW-Authenticate': DigestChallenge,
  Authorization: DigestCredentials,
  'Authentication-Info': AuthenticationInfo
} as const

/** A registered header name with a codec, e.g. `'Byte-Range'`. */
export type HeaderName = keyof typeof HEADER_CODECS

/** The decoded value type of header `N`, e.g. `HeaderValue<'Byte-Range'>` is `ByteRange`. */
export type HeaderValue<N extends HeaderName> = t.TypeOf<(typeof HEADER_CODECS)[N]>

/**
 * Headers that repeat unchanged on every chunk of a message (the paths, the content type): the last value decoded of
 * each is remembered with its result, so a stream of chunks parses its paths once, not once per chunk (URI parsing
 * was 8 % of an endpoint-to-endpoint transfer). The decoded values are immutable, so sharing them is invisible to
 * callers; the memo is module state of a pure function, bounded to one entry per name. @internal
 */
const MEMO_HEADERS: ReadonlySet<string> = new Set(['To-Path', 'From-Path', 'Content-Type', 'Use-Path'])
const lastDecoded = new Map<string, { readonly value: string; readonly decoded: unknown }>()

/** @internal Shortens what we echo back in failure details. */
const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/**
 * Decodes one raw value of header `name` with its codec. On failure the `HeaderFailure` is `Invalid` and its detail
 * says why, e.g. `Byte-Range: expected start-end/total, got "x"`.
 */
export function decodeHeaderValue<N extends HeaderName>(
  name: N,
  value: string
): E.Either<HeaderFailure, HeaderValue<N>> {
  const memo = MEMO_HEADERS.has(name) ? lastDecoded.get(name) : undefined
  if (memo !== undefined && memo.value === value) return E.right(memo.decoded as HeaderValue<N>)
  const codec = HEADER_CODECS[name] as unknown as t.Type<HeaderValue<N>, string, string>
  const result = codec.decode(value)
  if (E.isRight(result)) {
    if (MEMO_HEADERS.has(name)) lastDecoded.set(name, { value, decoded: result.right })
    return result
  }
  const message = result.left[0]?.message ?? `expected a ${codec.name}`
  return E.left(headerFailure(name, 'Invalid', `${name}: ${message}, got ${show(value)}`))
}

/**
 * Finds header `name` (ASCII case-insensitive, as `getHeader` in model.ts) and decodes it.
 * - absent: `right(undefined)`;
 * - present more than once: `Duplicate` (every header in `HEADER_CODECS` is single-valued: RFC 4975 §9 and
 *   RFC 4976 §7 give each one occurrence in a request or response; the lists of To-Path, From-Path and Use-Path are
 *   space-separated inside one header);
 * - present once but not decodable: `Invalid`, with a detail saying why.
 */
export function decodeHeader<N extends HeaderName>(
  headers: readonly Header[],
  name: N
): E.Either<HeaderFailure, HeaderValue<N> | undefined> {
  // One pass, no allocation: this runs for every header a chunk must carry. Exact spelling first (what every
  // implementation sends), then the case-insensitive comparison.
  let value: string | undefined
  let count = 0
  let lower: string | undefined
  for (const [n, v] of headers) {
    if (n !== name && (n.length !== name.length || n.toLowerCase() !== (lower ??= name.toLowerCase()))) continue
    if (count++ === 0) value = v
  }
  if (value === undefined) return E.right(undefined)
  if (count > 1) return E.left(headerFailure(name, 'Duplicate', `${name}: occurs ${count} times, expected once`))
  return decodeHeaderValue(name, value)
}

/** Like `decodeHeader`, but an absent header is a `Missing` failure (for headers a method requires). */
export function requireHeader<N extends HeaderName>(
  headers: readonly Header[],
  name: N
): E.Either<HeaderFailure, HeaderValue<N>> {
  const result = decodeHeader(headers, name)
  if (E.isLeft(result)) return result
  return result.right === undefined
    ? E.left(headerFailure(name, 'Missing', `${name}: missing, the header is required here`))
    : E.right(result.right)
}
