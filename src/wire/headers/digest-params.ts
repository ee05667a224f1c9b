/**
 * WWW-Authenticate, Authorization and Authentication-Info (RFC 4976 §7 ABNF, §9.1 Digest profile; see
 * ../shared/spec/rfc4976-relays.md §3 and §8.1).
 *
 * ```text
 * WWW-Authenticate:    Digest realm="r", nonce="n", qop="auth"
 * Authorization:       Digest username="u", realm="r", nonce="n", response="<32 lhex>", cnonce="c", qop=auth, nc=00000001
 * Authentication-Info: qop=auth, rspauth="<lhex>", cnonce="c", nc=00000001
 * ```
 *
 * Decoding, in all three headers:
 * - parameter names and the `Digest` scheme are case-insensitive; names are reported in lower case;
 * - a value may be a `token` or a `quoted-string`, whatever the ABNF says for that parameter: quoting does not change
 *   the meaning, and the RFC examples themselves are irregular (leniency, always on). The content is then checked
 *   (e.g. `nc` is 8 lower-case hex digits, `response` 32);
 * - parameters are separated by `,` with optional spaces or tabs around it (the RFC 4976 Authentication-Info
 *   example has `",rspauth`; rfc4976-relays.md §3 parser notes);
 * - a parameter may appear only once;
 * - the parameters that RFC 4976 §9.1 makes mandatory must be present (rfc4976-relays.md §3, last note).
 *
 * Encoding follows RFC 4976: `, ` separators, `qop` quoted in WWW-Authenticate and bare in Authorization and
 * Authentication-Info, `nc` as given (8 lower-case hex digits), unknown parameters as quoted-strings.
 *
 * The three value types are structurally the same as the ones digest.ts computes with, so values pass between them.
 */
import * as E from 'fp-ts/Either'
import { headerCodec, isQuotable, isToken, quote, readQuotedString, readToken, skipWs } from './grammar'

/** A parameter the codec does not model: lower-case name and unquoted value, in wire order. */
export type DigestParam = readonly [name: string, value: string]

/** A Digest challenge, the value of WWW-Authenticate in a 401 to an AUTH (RFC 4976 §6.3, §9.1). */
export interface DigestChallenge {
  readonly realm: string
  readonly nonce: string
  /** The `qop-options` list; MUST be present (R-9.1-6), relays offer `auth` only (R-9.1-3). */
  readonly qop: readonly string[]
  readonly opaque?: string
  /** `stale=true`: the nonce expired but the credentials were right, so retry without asking the user. */
  readonly stale?: boolean
  /** `MD5` or an extension token (relays MUST NOT offer `MD5-sess`, R-9.1-4; checked in digest.ts). */
  readonly algorithm?: string
  /** Relays SHOULD NOT send it and clients MUST ignore it (R-9.1-5); kept so nothing is lost. */
  readonly domain?: string
  /** Other `auth-param`s in wire order; absent when there are none. */
  readonly otherParams?: readonly DigestParam[]
}

/** Digest credentials, the value of Authorization in an AUTH (RFC 4976 §5.1, §9.1). */
export interface DigestCredentials {
  readonly username: string
  readonly realm: string
  readonly nonce: string
  /** Not in the RFC 4976 grammar, but sent by the RFC 7977 §8.1.2 example; H(A2) uses the To-Path URI anyway. */
  readonly uri?: string
  /** `request-digest`: 32 lower-case hex digits. */
  readonly response: string
  /** MUST be present (R-9.1-7). */
  readonly cnonce: string
  /**
   * The nonce count exactly as sent and hashed: 8 lower-case hex digits (`nc-value = 8LHEX`), e.g. `'00000001'`.
   * MUST be present (R-9.1-7).
   */
  readonly nc: string
  /** `message-qop`, e.g. `auth`; MUST be present (R-9.1-6). */
  readonly qop: string
  readonly algorithm?: string
  readonly opaque?: string
  /** Other `auth-param`s in wire order; absent when there are none. */
  readonly otherParams?: readonly DigestParam[]
}

/**
 * The value of Authentication-Info in the 200 to an AUTH. RFC 4976 §9.1 (R-9.1-9) requires `rspauth`, `cnonce`,
 * `nc` and `qop` in it, so they are required here; `nextnonce` is optional.
 */
export interface AuthenticationInfo {
  readonly nextnonce?: string
  readonly qop: string
  /** `response-digest`: lower-case hex digits. */
  readonly rspauth: string
  readonly cnonce: string
  /** The nonce count echoed from the request: 8 lower-case hex digits. */
  readonly nc: string
  /** Parameters outside the `ainfo` grammar, kept rather than rejected; absent when there are none. */
  readonly otherParams?: readonly DigestParam[]
}

/** @internal One parameter as read: lower-case name, unquoted value. */
type Params = Map<string, string>

/** @internal Reads `name=value *( OWS "," OWS name=value ) OWS` from `start` to the end of `s`. */
function readParams(s: string, start: number): E.Either<string, Params> {
  const params: Params = new Map()
  let i = skipWs(s, start)
  for (;;) {
    const name = readToken(s, i)
    if (name === undefined) return E.left('expected name=value parameters separated by ","')
    if (s[name.end] !== '=') return E.left(`parameter ${JSON.stringify(name.value)} has no "=value"`)
    const value = s[name.end + 1] === '"' ? readQuotedString(s, name.end + 1) : readToken(s, name.end + 1)
    if (value === undefined)
      return E.left(`parameter ${JSON.stringify(name.value)} has no valid token or quoted-string value`)
    const key = name.value.toLowerCase()
    if (params.has(key)) return E.left(`parameter ${JSON.stringify(key)} occurs twice`)
    params.set(key, value.value)
    i = skipWs(s, value.end)
    if (i >= s.length) return E.right(params)
    if (s[i] !== ',') return E.left(`expected "," after parameter ${JSON.stringify(key)}`)
    i = skipWs(s, i + 1)
  }
}

/** @internal Reads `Digest 1*(SP / HTAB) params`; Basic and other schemes are refused (R-9.1-2). */
function readDigest(s: string): E.Either<string, Params> {
  const start = skipWs(s, 0)
  const scheme = readToken(s, start)
  if (scheme === undefined || scheme.value.toLowerCase() !== 'digest' || skipWs(s, scheme.end) === scheme.end)
    return E.left('expected "Digest" and its parameters (no other scheme is allowed, R-9.1-2)')
  return readParams(s, scheme.end)
}

/** @internal Fails naming every mandatory parameter that is missing. */
function requireParams(params: Params, names: readonly string[], rule: string): E.Either<string, void> {
  const missing = names.filter((n) => !params.has(n))
  return missing.length === 0
    ? E.right(undefined)
    : E.left(`missing mandatory parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (${rule})`)
}

/** @internal Adds the parameters not in `known` as `otherParams`, in wire order, when there are any. */
function withOthers<A extends object>(a: A, params: Params, known: readonly string[]): A {
  const otherParams: DigestParam[] = [...params].filter(([n]) => !known.includes(n))
  return otherParams.length === 0 ? a : { ...a, otherParams }
}

/** @internal */
const LHEX8 = /^[0-9a-f]{8}$/
/** @internal */
const LHEX32 = /^[0-9a-f]{32}$/
/** @internal */
const LHEX = /^[0-9a-f]*$/

/**
 * @internal Reads `nc`: exactly 8 lower-case hex digits (RFC 4976 §7 `nc-value = 8LHEX`). Kept as a string: the
 * Digest hashes use it as sent.
 */
const readNc = (v: string): E.Either<string, string> =>
  LHEX8.test(v) ? E.right(v) : E.left(`nc must be 8 lower-case hex digits, got ${JSON.stringify(v)}`)

/** @internal */
const readTokenValue = (name: string, v: string): E.Either<string, string> =>
  isToken(v) ? E.right(v) : E.left(`${name} must be a token, got ${JSON.stringify(v)}`)

/** @internal */
const isNc = (u: unknown): u is string => typeof u === 'string' && LHEX8.test(u)

/** @internal */
const optional = (u: unknown, test: (v: unknown) => boolean): boolean => u === undefined || test(u)

/** @internal */
const isOtherParams = (u: unknown, known: readonly string[]): boolean => {
  if (u === undefined) return true
  if (!Array.isArray(u)) return false
  const seen = new Set<string>()
  return u.every((p: unknown) => {
    if (!Array.isArray(p) || p.length !== 2 || !isToken(p[0]) || !isQuotable(p[1])) return false
    const name = p[0]
    if (name !== name.toLowerCase() || known.includes(name) || seen.has(name)) return false
    seen.add(name)
    return true
  })
}

/** @internal */
const encodeOthers = (ps: readonly DigestParam[] | undefined): string[] =>
  (ps ?? []).map(([n, v]) => `${n}=${quote(v)}`)

// ---------------------------------------------------------------------------------------------------------------
// WWW-Authenticate

/** @internal */
const CHALLENGE_KNOWN = ['realm', 'nonce', 'qop', 'opaque', 'stale', 'algorithm', 'domain']

/** Whether `u` is a `DigestChallenge` that can be encoded. */
export function isDigestChallenge(u: unknown): u is DigestChallenge {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  return (
    isQuotable(r.realm) &&
    isQuotable(r.nonce) &&
    Array.isArray(r.qop) &&
    r.qop.length > 0 &&
    r.qop.every(isToken) &&
    optional(r.opaque, isQuotable) &&
    optional(r.stale, (v) => typeof v === 'boolean') &&
    optional(r.algorithm, isToken) &&
    optional(r.domain, isQuotable) &&
    isOtherParams(r.otherParams, CHALLENGE_KNOWN)
  )
}

/**
 * Parses a WWW-Authenticate value. `realm`, `nonce` and `qop` are mandatory (RFC 4976 §9.1, R-9.1-6); `qop` is a
 * comma-separated token list; `stale` is `true` or `false` (any case).
 */
export function parseDigestChallenge(s: string): E.Either<string, DigestChallenge> {
  const ps = readDigest(s)
  if (E.isLeft(ps)) return ps
  const params = ps.right
  const missing = requireParams(params, ['realm', 'nonce', 'qop'], 'RFC 4976 §9.1, R-9.1-6')
  if (E.isLeft(missing)) return missing
  const qop = (params.get('qop') ?? '').split(',').map((q) => q.trim())
  if (!qop.every(isToken)) return E.left('qop must be a comma-separated list of tokens')
  const challenge: { -readonly [K in keyof DigestChallenge]: DigestChallenge[K] } = {
    realm: params.get('realm') ?? '',
    nonce: params.get('nonce') ?? '',
    qop
  }
  const opaque = params.get('opaque')
  if (opaque !== undefined) challenge.opaque = opaque
  const domain = params.get('domain')
  if (domain !== undefined) challenge.domain = domain
  const stale = params.get('stale')?.toLowerCase()
  if (stale !== undefined) {
    if (stale !== 'true' && stale !== 'false') return E.left('stale must be "true" or "false"')
    challenge.stale = stale === 'true'
  }
  const algorithm = params.get('algorithm')
  if (algorithm !== undefined) {
    const a = readTokenValue('algorithm', algorithm)
    if (E.isLeft(a)) return a
    challenge.algorithm = a.right
  }
  return E.right(withOthers(challenge, params, CHALLENGE_KNOWN))
}

/** Formats a WWW-Authenticate value; `qop` is quoted (RFC 4976 §9.1). */
export function formatDigestChallenge(c: DigestChallenge): string {
  const parts = [`realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`, `qop=${quote(c.qop.join(','))}`]
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`)
  if (c.stale !== undefined) parts.push(`stale=${c.stale ? 'true' : 'false'}`)
  if (c.algorithm !== undefined) parts.push(`algorithm=${c.algorithm}`)
  if (c.domain !== undefined) parts.push(`domain=${quote(c.domain)}`)
  return `Digest ${[...parts, ...encodeOthers(c.otherParams)].join(', ')}`
}

/** Codec for the WWW-Authenticate header value (RFC 4976 §7). */
export const DigestChallenge = headerCodec<DigestChallenge>(
  'DigestChallenge',
  isDigestChallenge,
  parseDigestChallenge,
  formatDigestChallenge
)

// ---------------------------------------------------------------------------------------------------------------
// Authorization

/** @internal */
const CREDENTIALS_KNOWN = [
  'username',
  'realm',
  'nonce',
  'uri',
  'response',
  'algorithm',
  'cnonce',
  'opaque',
  'qop',
  'nc'
]

/** Whether `u` is a `DigestCredentials` that can be encoded. */
export function isDigestCredentials(u: unknown): u is DigestCredentials {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  return (
    isQuotable(r.username) &&
    isQuotable(r.realm) &&
    isQuotable(r.nonce) &&
    optional(r.uri, isQuotable) &&
    typeof r.response === 'string' &&
    LHEX32.test(r.response) &&
    isQuotable(r.cnonce) &&
    isNc(r.nc) &&
    isToken(r.qop) &&
    optional(r.algorithm, isToken) &&
    optional(r.opaque, isQuotable) &&
    isOtherParams(r.otherParams, CREDENTIALS_KNOWN)
  )
}

/**
 * Parses an Authorization value. `username`, `realm`, `nonce`, `response`, `cnonce`, `qop` and `nc` are mandatory
 * (RFC 4976 §9.1, R-9.1-6, R-9.1-7); `response` is 32 lower-case hex digits and `nc` 8.
 */
export function parseDigestCredentials(s: string): E.Either<string, DigestCredentials> {
  const ps = readDigest(s)
  if (E.isLeft(ps)) return ps
  const params = ps.right
  const missing = requireParams(
    params,
    ['username', 'realm', 'nonce', 'response', 'cnonce', 'qop', 'nc'],
    'RFC 4976 §9.1, R-9.1-6, R-9.1-7'
  )
  if (E.isLeft(missing)) return missing
  const response = params.get('response') ?? ''
  if (!LHEX32.test(response)) return E.left('response must be 32 lower-case hex digits')
  const nc = readNc(params.get('nc') ?? '')
  if (E.isLeft(nc)) return nc
  const qop = readTokenValue('qop', params.get('qop') ?? '')
  if (E.isLeft(qop)) return qop
  const creds: { -readonly [K in keyof DigestCredentials]: DigestCredentials[K] } = {
    username: params.get('username') ?? '',
    realm: params.get('realm') ?? '',
    nonce: params.get('nonce') ?? '',
    response,
    cnonce: params.get('cnonce') ?? '',
    nc: nc.right,
    qop: qop.right
  }
  const uri = params.get('uri')
  if (uri !== undefined) creds.uri = uri
  const opaque = params.get('opaque')
  if (opaque !== undefined) creds.opaque = opaque
  const algorithm = params.get('algorithm')
  if (algorithm !== undefined) {
    const a = readTokenValue('algorithm', algorithm)
    if (E.isLeft(a)) return a
    creds.algorithm = a.right
  }
  return E.right(withOthers(creds, params, CREDENTIALS_KNOWN))
}

/** Formats an Authorization value in the RFC 4976 §7 order; `qop` and `nc` are bare (RFC 4976 §9.1). */
export function formatDigestCredentials(c: DigestCredentials): string {
  const parts = [`username=${quote(c.username)}`, `realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`]
  if (c.uri !== undefined) parts.push(`uri=${quote(c.uri)}`)
  parts.push(`response=${quote(c.response)}`)
  if (c.algorithm !== undefined) parts.push(`algorithm=${c.algorithm}`)
  parts.push(`cnonce=${quote(c.cnonce)}`)
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`)
  parts.push(`qop=${c.qop}`, `nc=${c.nc}`)
  return `Digest ${[...parts, ...encodeOthers(c.otherParams)].join(', ')}`
}

/** Codec for the Authorization header value (RFC 4976 §7). */
export const DigestCredentials = headerCodec<DigestCredentials>(
  'DigestCredentials',
  isDigestCredentials,
  parseDigestCredentials,
  formatDigestCredentials
)

// ---------------------------------------------------------------------------------------------------------------
// Authentication-Info

/** @internal */
const AINFO_KNOWN = ['nextnonce', 'qop', 'rspauth', 'cnonce', 'nc']

/** Whether `u` is an `AuthenticationInfo` that can be encoded. */
export function isAuthenticationInfo(u: unknown): u is AuthenticationInfo {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  return (
    optional(r.nextnonce, isQuotable) &&
    isToken(r.qop) &&
    typeof r.rspauth === 'string' &&
    LHEX.test(r.rspauth) &&
    isQuotable(r.cnonce) &&
    isNc(r.nc) &&
    isOtherParams(r.otherParams, AINFO_KNOWN)
  )
}

/**
 * Parses an Authentication-Info value (no scheme before the parameters). `rspauth`, `cnonce`, `nc` and `qop` are
 * mandatory (RFC 4976 §9.1, R-9.1-9); `rspauth` is lower-case hex and `nc` 8 lower-case hex digits.
 */
export function parseAuthenticationInfo(s: string): E.Either<string, AuthenticationInfo> {
  const ps = readParams(s, 0)
  if (E.isLeft(ps)) return ps
  const params = ps.right
  const missing = requireParams(params, ['rspauth', 'cnonce', 'nc', 'qop'], 'RFC 4976 §9.1, R-9.1-9')
  if (E.isLeft(missing)) return missing
  const rspauth = params.get('rspauth') ?? ''
  if (!LHEX.test(rspauth)) return E.left('rspauth must be lower-case hex digits')
  const nc = readNc(params.get('nc') ?? '')
  if (E.isLeft(nc)) return nc
  const qop = readTokenValue('qop', params.get('qop') ?? '')
  if (E.isLeft(qop)) return qop
  const info: { -readonly [K in keyof AuthenticationInfo]: AuthenticationInfo[K] } = {
    qop: qop.right,
    rspauth,
    cnonce: params.get('cnonce') ?? '',
    nc: nc.right
  }
  const nextnonce = params.get('nextnonce')
  if (nextnonce !== undefined) info.nextnonce = nextnonce
  return E.right(withOthers(info, params, AINFO_KNOWN))
}

/** Formats an Authentication-Info value in the RFC 4976 §7 order, `, ` separated; `qop` and `nc` bare. */
export function formatAuthenticationInfo(a: AuthenticationInfo): string {
  const parts: string[] = []
  if (a.nextnonce !== undefined) parts.push(`nextnonce=${quote(a.nextnonce)}`)
  parts.push(`qop=${a.qop}`, `rspauth=${quote(a.rspauth)}`, `cnonce=${quote(a.cnonce)}`, `nc=${a.nc}`)
  return [...parts, ...encodeOthers(a.otherParams)].join(', ')
}

/** Codec for the Authentication-Info header value (RFC 4976 §7). */
export const AuthenticationInfo = headerCodec<AuthenticationInfo>(
  'AuthenticationInfo',
  isAuthenticationInfo,
  parseAuthenticationInfo,
  formatAuthenticationInfo
)
