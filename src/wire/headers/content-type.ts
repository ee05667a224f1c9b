/**
 * Content-Type (RFC 4975 §7.1, §9): `media-type = type "/" subtype *( ";" gen-param )` with
 * `gen-param = pname [ "=" pval ]` and `pval = token / quoted-string`.
 */
import * as E from 'fp-ts/Either'
import { headerCodec, isQuotable, isToken, quote, readQuotedString, readToken, skipWs } from './grammar'

/** A media-type parameter: name as written, value unquoted and unescaped (`undefined` for a bare `;name`). */
export type MediaTypeParam = readonly [name: string, value: string | undefined]

/** A Content-Type value. Type, subtype and parameter names keep their case; compare with `mediaTypeMatches`. */
export interface ContentType {
  readonly type: string
  readonly subtype: string
  /** In wire order. */
  readonly params: readonly MediaTypeParam[]
}

/** Whether `u` is a `ContentType` that can be encoded (tokens where tokens go, quotable values). */
export function isContentType(u: unknown): u is ContentType {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  return (
    isToken(r.type) &&
    isToken(r.subtype) &&
    Array.isArray(r.params) &&
    r.params.every(
      (p: unknown) => Array.isArray(p) && p.length === 2 && isToken(p[0]) && (p[1] === undefined || isQuotable(p[1]))
    )
  )
}

/**
 * Parses a media type exactly as the RFC 4975 §9 ABNF writes it: no whitespace anywhere, `token` type, subtype and
 * parameter names, parameter values as `token` or `quoted-string` (escapes `\\` and `\"` only). Parameter order is
 * kept. Also used for SDP `accept-types` entries. With `mimeWhitespace`, spaces and tabs are allowed around the value,
 * `;` and `=`, as MIME (RFC 2045 §5.1) writes Content-Type in SIP bodies and multipart parts.
 */
export function parseMediaType(
  text: string,
  options: { readonly mimeWhitespace?: boolean } = {}
): E.Either<string, ContentType> {
  const expected = 'expected type/subtype *(;name[=value]) with token or quoted-string values'
  const mime = options.mimeWhitespace === true
  const s = mime ? text.trim() : text
  const ws = (i: number): number => (mime ? skipWs(s, i) : i)
  const type = readToken(s, 0)
  if (type === undefined || s[type.end] !== '/') return E.left(expected)
  const subtype = readToken(s, type.end + 1)
  if (subtype === undefined) return E.left(expected)
  const params: MediaTypeParam[] = []
  let i = ws(subtype.end)
  while (i < s.length) {
    if (s[i] !== ';') return E.left(expected)
    const name = readToken(s, ws(i + 1))
    if (name === undefined) return E.left(`${expected} (parameter ${params.length + 1} has no name)`)
    i = ws(name.end)
    if (s[i] !== '=') {
      params.push([name.value, undefined])
      continue
    }
    const at = ws(i + 1)
    const value = s[at] === '"' ? readQuotedString(s, at) : readToken(s, at)
    if (value === undefined) return E.left(`${expected} (bad value for parameter ${JSON.stringify(name.value)})`)
    params.push([name.value, value.value])
    i = ws(value.end)
  }
  return E.right({ type: type.value, subtype: subtype.value, params })
}

/** Formats a media type; a parameter value is written as a token when it is one, else as a quoted-string. */
export function formatMediaType(ct: ContentType): string {
  const params = ct.params.map(([n, v]) => (v === undefined ? `;${n}` : `;${n}=${isToken(v) ? v : quote(v)}`)).join('')
  return `${ct.type}/${ct.subtype}${params}`
}

/**
 * Whether a media type is accepted by an `accept-types` entry (RFC 4975 §8.6): `*` accepts anything, `type/*` any
 * subtype of `type`, otherwise type and subtype must be equal. Comparison is case-insensitive (tokens are,
 * RFC 4975 §9) and parameters are ignored on both sides (an entry with parameters matches the same entry without).
 * Returns `false` when either side does not parse.
 */
export function mediaTypeMatches(type: ContentType | string, pattern: string): boolean {
  if (pattern === '*') return true
  const ct = typeof type === 'string' ? parseMediaType(type) : E.right(type)
  const p = parseMediaType(pattern)
  if (E.isLeft(ct) || E.isLeft(p)) return false
  const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()
  if (p.right.type === '*') return p.right.subtype === '*'
  return eq(ct.right.type, p.right.type) && (p.right.subtype === '*' || eq(ct.right.subtype, p.right.subtype))
}

/** Codec for the Content-Type header value (RFC 4975 §9). */
export const ContentType = headerCodec<ContentType>('ContentType', isContentType, parseMediaType, formatMediaType)
