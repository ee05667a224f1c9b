/**
 * MSRP URIs: parse, format and compare (RFC 4975 §6, ABNF in ../shared/spec/rfc4975-core.md §2.3 and §3;
 * the `ws` transport of RFC 7977 §5.2.1).
 *
 * ```text
 * msrp[s]://[userinfo@]host[:port][/session-id];transport *(;name[=value])
 * ```
 *
 * Parsing is total: `parseUri` returns a typed failure for any string and never throws.
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import type { UriFailure, UriReason } from './failures'

export type { UriFailure, UriReason } from './failures'

/** `msrp` (plain TCP) or `msrps` (the connection MUST use TLS, C-5.4-4). */
export type MsrpScheme = 'msrp' | 'msrps'

/** One `;name[=value]` URI parameter after the transport, as written (RFC 4975 §9 `URI-parameter`). */
export type UriParam = readonly [name: string, value: string | undefined]

/** A parsed MSRP URI (RFC 4975 §6). */
export interface MsrpUri {
  /** Lower case, whatever the case on the wire (schemes are case-insensitive, §6.1 rule 1). */
  readonly scheme: MsrpScheme
  /** The user part before `@`, as written (percent-encoding kept). Never contains `:` (C-6-4). */
  readonly userinfo?: string
  /** Host as written: a name, an IPv4 address, or an IPv6 literal with its brackets (`'[::1]'`). */
  readonly host: string
  /** Explicit port (1 to 65535), `undefined` when the authority has none. */
  readonly port?: number
  /** The session-id after `/`, case-sensitive; `undefined` for a URI naming a device (a relay). */
  readonly sessionId?: string
  /** The mandatory transport, lower-cased: `'tcp'`, `'ws'` (RFC 7977) or another `1*ALPHANUM`. */
  readonly transport: string
  /** Parameters after the transport, in wire order. */
  readonly params: readonly UriParam[]
}

/** Builds a `UriFailure`. */
export const uriFailure = (reason: UriReason, detail: string): UriFailure => ({ _tag: 'UriFailure', reason, detail })

/** The registered MSRP port (RFC 4975 §6, C-6-3). It is not a default: URIs in SDP always carry a port. */
export const MSRP_DEFAULT_PORT = 2855

// RFC 3986 character classes. `;` is a sub-delim but is left out of userinfo and reg-name: in an MSRP URI the
// first `;` after `://` starts the transport (RFC 4975 §9 puts `";" transport` right after the authority), so an
// authority cannot hold a literal `;` without being ambiguous. It can still be written `%3B`.
const UNRESERVED_CHAR = /^[A-Za-z0-9\-._~]$/
const USERINFO = /^(?:[A-Za-z0-9\-._~!$&'()*+,=]|%[0-9A-Fa-f]{2})*$/
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,=]|%[0-9A-Fa-f]{2})+$/
const IPV4 = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/
const HEX16 = /^[0-9A-Fa-f]{1,4}$/
const PORT = /^[0-9]{1,5}$/
// RFC 4975 §9: session-id = 1*( unreserved / "+" / "=" / "/" )
const SESSION_ID = /^[A-Za-z0-9\-._~+=/]+$/
// RFC 4975 §9 (RFC 7977 §5.2.1): transport = "tcp" / "ws" / 1*ALPHANUM
const TRANSPORT = /^[A-Za-z0-9]+$/
// RFC 4975 §9: token, the MSRP flavour (also used for URI-parameter names and values)
const TOKEN = /^[\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]+$/

/** @internal Shortens what we echo back in failure details. */
const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/**
 * The 8 groups of an IPv6 address (RFC 4291 §2.2 text forms, trailing dotted IPv4 allowed), or `undefined`.
 * @internal
 */
function ipv6Groups(s: string): number[] | undefined {
  const gap = s.indexOf('::')
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return undefined
  const split = (x: string): string[] => (x === '' ? [] : x.split(':'))
  const head = gap === -1 ? split(s) : split(s.slice(0, gap))
  const tail = gap === -1 ? [] : split(s.slice(gap + 2))
  // A dotted IPv4 part may only be the last piece of the whole address.
  const toNumbers = (parts: string[], v4Last: boolean): number[] | undefined => {
    const out: number[] = []
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? ''
      if (HEX16.test(p)) out.push(parseInt(p, 16))
      else if (v4Last && i === parts.length - 1 && IPV4.test(p)) {
        const [a = 0, b = 0, c = 0, d = 0] = p.split('.').map(Number)
        out.push(a * 256 + b, c * 256 + d)
      } else return undefined
    }
    return out
  }
  const h = toNumbers(head, gap === -1)
  const tl = toNumbers(tail, true)
  if (h === undefined || tl === undefined) return undefined
  if (gap === -1) return h.length === 8 ? h : undefined
  if (h.length + tl.length > 7) return undefined
  return [...h, ...new Array<number>(8 - h.length - tl.length).fill(0), ...tl]
}

/**
 * Whether `host` is a numeric IP address: an IPv4 dotted quad or a bracketed IPv6 literal.
 * Such an authority MUST carry a port (RFC 4975 §6, C-6-2); see `requiresPort`.
 */
export function isNumericHost(host: string): boolean {
  return host.startsWith('[') || IPV4.test(host)
}

/**
 * Whether the URI must carry an explicit port because its host is a numeric IP (RFC 4975 §6, C-6-2).
 *
 * `parseUri` does not enforce this: URIs are also read from paths we never connect to (a WebSocket client's own
 * URI, RFC 7977 §5.2.2, W-5.2.2-3), and one bad hop there should not make a whole To-Path unreadable. Code that
 * connects to a URI, or accepts one from SDP, calls `checkPort`.
 */
export function requiresPort(u: MsrpUri): boolean {
  return isNumericHost(u.host)
}

/** Fails with `PortRequired` when `u` has a numeric IP host and no port (RFC 4975 §6, C-6-2). */
export function checkPort(u: MsrpUri): E.Either<UriFailure, MsrpUri> {
  return requiresPort(u) && u.port === undefined
    ? E.left(uriFailure('PortRequired', `a numeric IP authority must carry a port (C-6-2): ${show(u.host)}`))
    : E.right(u)
}

/**
 * Whether `host` is in the `.invalid` TLD (RFC 2606), as the random host names WebSocket clients put in their own
 * URIs (RFC 7977 Appendix A, W-A-1). Such URIs are never resolved: a relay reaches them over the connection the
 * client authenticated on. Case-insensitive; a trailing root dot and percent-encoded letters are tolerated.
 */
export function isInvalidHost(host: string): boolean {
  let h = normalizeAuthorityPart(host)
  if (h.endsWith('.')) h = h.slice(0, -1)
  return h === 'invalid' || h.endsWith('.invalid')
}

/** @internal Checks `host[:port]`; returns the parts or a failure. */
function parseHostPort(hp: string): E.Either<UriFailure, { host: string; port?: number }> {
  let host: string
  let portText: string | undefined
  if (hp.startsWith('[')) {
    const close = hp.indexOf(']')
    if (close === -1) return E.left(uriFailure('HostInvalid', `unterminated IPv6 literal in ${show(hp)}`))
    host = hp.slice(0, close + 1)
    const rest = hp.slice(close + 1)
    if (rest !== '' && !rest.startsWith(':'))
      return E.left(uriFailure('HostInvalid', `unexpected ${show(rest)} after the IPv6 literal`))
    portText = rest === '' ? undefined : rest.slice(1)
    if (ipv6Groups(host.slice(1, -1)) === undefined)
      return E.left(uriFailure('HostInvalid', `${show(host)} is not an IPv6 address literal`))
  } else {
    const colon = hp.indexOf(':')
    host = colon === -1 ? hp : hp.slice(0, colon)
    portText = colon === -1 ? undefined : hp.slice(colon + 1)
    if (host === '') return E.left(uriFailure('HostInvalid', 'the host is empty'))
    if (!REG_NAME.test(host)) return E.left(uriFailure('HostInvalid', `${show(host)} is not a valid host`))
  }
  if (portText === undefined) return E.right({ host })
  const port = PORT.test(portText) ? Number(portText) : NaN
  // Ports are 1–65535: port 0 cannot be connected to, and SDP uses it only on m-lines to reject a stream.
  if (!(port >= 1 && port <= 65535))
    return E.left(uriFailure('PortInvalid', `the port must be a number from 1 to 65535, got ${show(portText)}`))
  return E.right({ host, port })
}

/**
 * Parses an MSRP URI (RFC 4975 §6 and §9, RFC 7977 §5.2.1). Never throws.
 *
 * Enforced: the scheme is `msrp` or `msrps` (any case); userinfo has no password (C-6-4); the host is a reg-name,
 * an IPv4 address or a bracketed IPv6 literal; a port is 1–65535; the session-id uses only
 * `unreserved / "+" / "=" / "/"`; the `;transport` is present (C-6-1) and `1*ALPHANUM` (lower-cased here); every
 * further parameter is `token ["=" token]`. Not enforced here: the port of a numeric IP (C-6-2, see `checkPort`).
 *
 * @example
 * parseUri('msrps://df7jal23ls0d.invalid:2855/98cjs;ws')
 * // right({ scheme: 'msrps', host: 'df7jal23ls0d.invalid', port: 2855, sessionId: '98cjs', transport: 'ws', params: [] })
 */
export function parseUri(s: string): E.Either<UriFailure, MsrpUri> {
  if (typeof s !== 'string') return E.left(uriFailure('SchemeInvalid', 'expected a string'))
  const sep = s.indexOf('://')
  const scheme = sep === -1 ? '' : s.slice(0, sep).toLowerCase()
  if (scheme !== 'msrp' && scheme !== 'msrps')
    return E.left(uriFailure('SchemeInvalid', `expected msrp:// or msrps://, got ${show(s)}`))
  const rest = s.slice(sep + 3)

  // The authority runs up to the first "/" (session-id) or ";" (transport).
  let end = 0
  while (end < rest.length && rest[end] !== '/' && rest[end] !== ';') end++
  const authority = rest.slice(0, end)
  const at = authority.indexOf('@')
  const userinfo = at === -1 ? undefined : authority.slice(0, at)
  if (userinfo !== undefined) {
    // C-6-4: the userinfo MUST NOT contain a password, i.e. no "user:password".
    if (userinfo.includes(':'))
      return E.left(uriFailure('PasswordInUserinfo', `userinfo must not hold a password (C-6-4): ${show(s)}`))
    if (!USERINFO.test(userinfo)) return E.left(uriFailure('UserinfoInvalid', `invalid userinfo ${show(userinfo)}`))
  }
  const hostPort = parseHostPort(at === -1 ? authority : authority.slice(at + 1))
  if (E.isLeft(hostPort)) return hostPort

  let pos = end
  let sessionId: string | undefined
  if (rest[pos] === '/') {
    let stop = pos + 1
    while (stop < rest.length && rest[stop] !== ';') stop++
    sessionId = rest.slice(pos + 1, stop)
    if (!SESSION_ID.test(sessionId))
      return E.left(uriFailure('SessionIdInvalid', `invalid session-id ${show(sessionId)}`))
    pos = stop
  }

  // C-6-1: the transport parameter is mandatory ("tcp" for TCP, "ws" for WebSocket).
  if (pos >= rest.length) return E.left(uriFailure('TransportMissing', `no ";transport" in ${show(s)}`))
  const segments = rest.slice(pos + 1).split(';')
  const transport = segments[0] ?? ''
  if (transport === '') return E.left(uriFailure('TransportMissing', `empty transport in ${show(s)}`))
  if (!TRANSPORT.test(transport))
    return E.left(uriFailure('TransportInvalid', `the transport must be 1*ALPHANUM, got ${show(transport)}`))

  const params: UriParam[] = []
  for (const seg of segments.slice(1)) {
    const eq = seg.indexOf('=')
    const name = eq === -1 ? seg : seg.slice(0, eq)
    const value = eq === -1 ? undefined : seg.slice(eq + 1)
    if (!TOKEN.test(name) || (value !== undefined && !TOKEN.test(value)))
      return E.left(uriFailure('ParameterInvalid', `URI parameter ${show(seg)} is not token ["=" token]`))
    params.push([name, value])
  }

  const uri: { -readonly [K in keyof MsrpUri]: MsrpUri[K] } = {
    scheme,
    host: hostPort.right.host,
    transport: transport.toLowerCase(),
    params
  }
  if (userinfo !== undefined) uri.userinfo = userinfo
  if (hostPort.right.port !== undefined) uri.port = hostPort.right.port
  if (sessionId !== undefined) uri.sessionId = sessionId
  return E.right(uri)
}

/**
 * Formats a URI for the wire. For canonical input (lower-case scheme and transport, port without leading zeros)
 * `formatUri(parseUri(s))` gives back `s`.
 */
export function formatUri(u: MsrpUri): string {
  const userinfo = u.userinfo === undefined ? '' : `${u.userinfo}@`
  const port = u.port === undefined ? '' : `:${u.port}`
  const session = u.sessionId === undefined ? '' : `/${u.sessionId}`
  const params = u.params.map(([n, v]) => (v === undefined ? `;${n}` : `;${n}=${v}`)).join('')
  return `${u.scheme}://${userinfo}${u.host}${port}${session};${u.transport}${params}`
}

/** @internal Decodes `%XX` of unreserved characters, upper-cases the rest, then lower-cases everything. */
function normalizeAuthorityPart(s: string): string {
  return s
    .replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16))
      return UNRESERVED_CHAR.test(c) ? c : `%${hex.toUpperCase()}`
    })
    .toLowerCase()
}

/** @internal Host equality for comparison rule 2: IPv6 literals by address, anything else as normalized text. */
function hostsEqual(a: string, b: string): boolean {
  if (a.startsWith('[') && b.startsWith('[')) {
    const ga = ipv6Groups(a.slice(1, -1))
    const gb = ipv6Groups(b.slice(1, -1))
    if (ga !== undefined && gb !== undefined) return ga.every((g, i) => g === gb[i])
  }
  return normalizeAuthorityPart(a) === normalizeAuthorityPart(b)
}

/**
 * Whether two MSRP URIs are equal under the comparison rules of RFC 4975 §6.1 (C-6.1-1):
 * 1. schemes match, case-insensitively;
 * 2. hosts match as addresses (IPv6 literals by value) or case-insensitively, after decoding percent-encoded
 *    unreserved characters; userinfo is ignored;
 * 3. ports match exactly, and a URI with an explicit port never equals one without;
 * 4. session-ids match case-sensitively, and a URI with a session-id never equals one without;
 * 5. transports match, case-insensitively.
 *
 * Other URI parameters are not part of the comparison (the RFC does not name them; inferred).
 */
export function uriEquals(a: MsrpUri, b: MsrpUri): boolean {
  return (
    a.scheme.toLowerCase() === b.scheme.toLowerCase() &&
    hostsEqual(a.host, b.host) &&
    a.port === b.port &&
    a.sessionId === b.sessionId &&
    a.transport.toLowerCase() === b.transport.toLowerCase()
  )
}

/** @internal */
const isOptional = (v: unknown, test: (v: unknown) => boolean): boolean => v === undefined || test(v)
/** @internal */
const isString = (v: unknown): v is string => typeof v === 'string'

/** Structural type guard for `MsrpUri` (field types only; use `MsrpUriC.decode(formatUri(u))` to validate). */
export function isMsrpUri(u: unknown): u is MsrpUri {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  return (
    (r.scheme === 'msrp' || r.scheme === 'msrps') &&
    isString(r.host) &&
    isString(r.transport) &&
    isOptional(r.userinfo, isString) &&
    isOptional(r.sessionId, isString) &&
    isOptional(r.port, (p) => typeof p === 'number' && Number.isInteger(p)) &&
    Array.isArray(r.params) &&
    r.params.every((p: unknown) => Array.isArray(p) && p.length === 2 && isString(p[0]) && isOptional(p[1], isString))
  )
}

/**
 * io-ts codec between the wire string and `MsrpUri` (RFC 4975 §6). Decoding fails with the `UriFailure` detail as
 * the message; encoding is `formatUri`.
 */
export const MsrpUriC = new t.Type<MsrpUri, string, string>(
  'MsrpUri',
  isMsrpUri,
  (s, c) =>
    pipe(
      parseUri(s),
      E.fold(
        (f) => t.failure<MsrpUri>(s, c, f.detail),
        (u) => t.success(u)
      )
    ),
  formatUri
)
