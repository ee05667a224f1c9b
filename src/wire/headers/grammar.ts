/**
 * Shared ABNF pieces for the header codecs (RFC 4975 §9, rfc4975-core.md §2.3): `token`, `quoted-string`,
 * `utf8text`, and the helper that turns a parser into a `t.Type<A, string, string>`.
 * @internal
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'

/**
 * RFC 4975 §9 `token`: `1*(%x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E)`.
 * @internal
 */
export const TOKEN = /^[\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]+$/

/** @internal */
export const TOKEN_CHAR = /[\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]/

/** @internal Whether `s` is a (non-empty) `token`. */
export const isToken = (s: unknown): s is string => typeof s === 'string' && TOKEN.test(s)

/**
 * RFC 4975 §9 `utf8text = *(HTAB / %x20-7E / UTF8-NONASCII)`, read on decoded text: tab, printable ASCII and any
 * non-ASCII code point (lone surrogates excluded, since they have no UTF-8 form).
 * @internal
 */
const UTF8TEXT = /^[\t\x20-\x7E\u0080-\uD7FF\uE000-\u{10FFFF}]*$/u

/** Header names: RFC 4975 §9 `hname = ALPHA *token`. */
export const HNAME = /^[A-Za-z][\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]*$/

/** @internal */
export const isUtf8Text = (s: unknown): s is string => typeof s === 'string' && UTF8TEXT.test(s)

/**
 * Whether `s` can be the content of a `quoted-string`: `qdtext` characters plus `"` and `\`, which `quote`
 * escapes (same set as `utf8text`).
 * @internal
 */
export const isQuotable = isUtf8Text

/**
 * Reads a `quoted-string` starting at `start` (which must be the opening `"`). RFC 4975 §9 allows only two escapes,
 * `\\` and `\"`; any other backslash fails. Returns the unescaped content and the index after the closing quote.
 * @internal
 */
export function readQuotedString(s: string, start: number): { value: string; end: number } | undefined {
  if (s[start] !== '"') return undefined
  let value = ''
  let i = start + 1
  while (i < s.length) {
    const c = s[i]
    if (c === '"') return UTF8TEXT.test(value) ? { value, end: i + 1 } : undefined
    if (c === '\\') {
      const next = s[i + 1]
      if (next !== '\\' && next !== '"') return undefined
      value += next
      i += 2
    } else {
      value += c
      i++
    }
  }
  return undefined
}

/** Wraps `v` in a `quoted-string`, escaping `\` and `"`. @internal */
export const quote = (v: string): string => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`

/** Reads a `token` starting at `start`; returns it and the index after it (`undefined` if empty). @internal */
export function readToken(s: string, start: number): { value: string; end: number } | undefined {
  let i = start
  while (i < s.length && TOKEN_CHAR.test(s[i] ?? '')) i++
  return i === start ? undefined : { value: s.slice(start, i), end: i }
}

/** Skips spaces and tabs from `i`. @internal */
export function skipWs(s: string, i: number): number {
  while (s[i] === ' ' || s[i] === '\t') i++
  return i
}

/**
 * Builds a header codec from a total parser: `parse` returns the value or a message saying what was expected,
 * which becomes the io-ts failure message (and, through `decodeHeader`, the `HeaderFailure` detail).
 * @internal
 */
export function headerCodec<A>(
  name: string,
  is: (u: unknown) => u is A,
  parse: (s: string) => E.Either<string, A>,
  encode: (a: A) => string
): t.Type<A, string, string> {
  return new t.Type<A, string, string>(
    name,
    is,
    (s, c) =>
      typeof s !== 'string'
        ? t.failure<A>(s, c, 'expected a string')
        : pipe(
            parse(s),
            E.fold(
              (message) => t.failure<A>(s, c, message),
              (a) => t.success(a)
            )
          ),
    encode
  )
}

/** Safe integer from a `1*DIGIT` string, or `undefined` (too long or not digits). @internal */
export function digits(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : undefined
}
