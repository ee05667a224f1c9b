/**
 * MSRP media descriptions in SDP (RFC 4975 §8): parse the `m=message` lines of an offer or answer into typed values,
 * and format them back into complete SDP text. The SDP text itself (v=, o=, s=, c=, t=, m= lines) is read and
 * written by sdp-transform; the MSRP attributes are decoded by the io-ts codecs of attributes.ts.
 *
 * ```text
 * m=message 7394 TCP/MSRP *                            MsrpMedia { port: 7394, proto: 'TCP/MSRP',
 * a=accept-types:text/plain                   ⇄                   acceptTypes: ['text/plain'],
 * a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp             path: [msrp://alice.example.com:7394/…] }
 * ```
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { parse as parseSdp, write as writeSdp, type MediaDescription, type SessionDescription } from 'sdp-transform'
import { formatUri, isInvalidHost, parseUri, type MsrpUri } from '../wire/uri'
import {
  MSRP_ATTRIBUTE_CODECS,
  type FileDate,
  type FileRange,
  type FileSelector,
  type FormatList,
  type MsrpAttributeName,
  type MsrpAttributeValue,
  type Setup
} from './attributes'
import { sdpFailure, type SdpFailure } from './failures'
import { FingerprintAttribute, type Fingerprint } from './fingerprint'

/** The SDP protos of MSRP (RFC 4975 §8.1): plain TCP, or TLS (`msrps` URIs, and every WebSocket client, RFC 7977). */
export type MsrpProto = 'TCP/MSRP' | 'TCP/TLS/MSRP'
/** Direction attributes (RFC 4975 §8.9): they govern SENDs with regular payloads only (C-8.9-1). */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'

/** A `c=` line: `IN IP4 <address>` or `IN IP6 <address>` (an FQDN goes with IP4, as in the RFC examples). */
export interface SdpConnection {
  readonly ipVer: 4 | 6
  /** An IP address (IPv6 without brackets) or an FQDN. */
  readonly address: string
}

/** The RFC 5547 attributes of a file-transfer m-line. */
export interface FileAttributes {
  readonly selector?: FileSelector
  readonly transferId?: string
  readonly disposition?: string
  readonly date?: FileDate
  readonly icon?: string
  readonly range?: FileRange
}

/** One MSRP m-line of an SDP, decoded. */
export interface MsrpMedia {
  /** Position of this m-line among all m-lines of the SDP (0-based): answers keep the offer's order. */
  readonly index: number
  /** The m-line port; 0 rejects the stream (RFC 3264). MSRP does not connect to it unless CEMA says so. */
  readonly port: number
  readonly proto: MsrpProto
  /** The media-level `c=` line, else the session-level one. */
  readonly connection: SdpConnection | undefined
  /** `a=path`: relays first, the author's own URI last (RFC 4975 §8.2). Empty only on a rejected (port 0) m-line. */
  readonly path: readonly MsrpUri[]
  /** `a=accept-types` (C-8.6-1). Empty only on a rejected (port 0) m-line. */
  readonly acceptTypes: readonly string[]
  readonly acceptWrappedTypes?: FormatList
  /** `a=max-size`, in octets (RFC 4975 §8.6): the largest complete message the author wishes to receive. */
  readonly maxSize?: number
  /** `a=setup` (RFC 6135). `holdconn` is kept here; negotiation treats it as absent (S-4.2.1-3). */
  readonly setup?: Setup
  /** `a=msrp-cema` is present (RFC 6714). */
  readonly cema: boolean
  /** The direction attribute, media-level else session-level; absent means `sendrecv`. */
  readonly direction?: Direction
  readonly file?: FileAttributes
  readonly fingerprint?: Fingerprint
  /** The `i=` line of the m-line. */
  readonly title?: string
  /** Other media attributes this module does not interpret, as `name[:value]` (no `a=`), in SDP order. */
  readonly extraAttributes: readonly string[]
}

const MSRP_PROTOS: readonly string[] = ['TCP/MSRP', 'TCP/TLS/MSRP']

/** The file attributes by SDP name, in the order they are written. @internal */
const FILE_ATTRIBUTES = [
  ['file-selector', 'selector'],
  ['file-transfer-id', 'transferId'],
  ['file-disposition', 'disposition'],
  ['file-date', 'date'],
  ['file-icon', 'icon'],
  ['file-range', 'range']
] as const

/** @internal Decodes one attribute value with its codec; the failure names the attribute. */
function decodeAttribute<N extends MsrpAttributeName>(
  name: N,
  value: string,
  index: number
): E.Either<SdpFailure, MsrpAttributeValue<N>> {
  const codec = MSRP_ATTRIBUTE_CODECS[name] as unknown as t.Type<MsrpAttributeValue<N>, string, string>
  const result = codec.decode(value)
  if (E.isRight(result)) return result
  const message = result.left[0]?.message ?? `expected a ${codec.name}`
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  return E.left(sdpFailure('AttributeInvalid', `a=${name}: ${message}, got ${shown}`, name, index))
}

/** @internal `name:value` → [name, value]; a bare `name` → [name, undefined]. */
function splitAttribute(line: string): readonly [string, string | undefined] {
  const colon = line.indexOf(':')
  return colon === -1 ? [line, undefined] : [line.slice(0, colon), line.slice(colon + 1)]
}

/** @internal */
const toConnection = (c: { version: number; ip: string } | undefined): SdpConnection | undefined =>
  // sdp-transform turns digit-only values into numbers: a host named `6` must stay a string.
  c === undefined ? undefined : { ipVer: Number(c.version) === 6 ? 6 : 4, address: String(c.ip) }

/** @internal Decodes the MSRP attributes of one m-line that sdp-transform has split. */
function decodeMedia(m: MediaDescription, index: number, session: SessionDescription): E.Either<SdpFailure, MsrpMedia> {
  const proto = m.protocol as MsrpProto
  if (String(m.payloads ?? '').trim() !== '*')
    return E.left(sdpFailure('FormatInvalid', `m=message: the format list must be "*" (C-8.1-2)`, undefined, index))
  const values = new Map<string, string | undefined>()
  const extraAttributes: string[] = []
  for (const { value } of m.invalid ?? []) {
    const [name, v] = splitAttribute(String(value))
    if (name === 'fingerprint')
      // sdp-transform reads `hash-func SP fingerprint`; a line it left over breaks that grammar (RFC 4572 §5).
      return E.left(
        sdpFailure('AttributeInvalid', `a=${String(value)}: expected a hash function and hex bytes`, name, index)
      )
    if (name === 'msrp-cema' || name in MSRP_ATTRIBUTE_CODECS) {
      if (values.has(name)) return E.left(sdpFailure('AttributeDuplicate', `a=${name} occurs twice`, name, index))
      values.set(name, v)
    } else extraAttributes.push(String(value))
  }
  if (m.setup !== undefined) values.set('setup', String(m.setup))
  if (values.has('msrp-cema') && values.get('msrp-cema') !== undefined)
    return E.left(sdpFailure('AttributeInvalid', 'a=msrp-cema takes no value (RFC 6714 §5.2)', 'msrp-cema', index))

  const out: { -readonly [K in keyof MsrpMedia]: MsrpMedia[K] } = {
    index,
    port: Number(m.port),
    proto,
    connection: toConnection(m.connection ?? session.connection),
    path: [],
    acceptTypes: [],
    cema: values.has('msrp-cema'),
    extraAttributes
  }
  const read = <N extends MsrpAttributeName>(name: N): E.Either<SdpFailure, MsrpAttributeValue<N> | undefined> => {
    const v = values.get(name)
    if (v === undefined && values.has(name))
      return E.left(sdpFailure('AttributeInvalid', `a=${name} needs a value`, name, index))
    return v === undefined ? E.right(undefined) : decodeAttribute(name, v, index)
  }
  const path = read('path')
  if (E.isLeft(path)) return path
  const acceptTypes = read('accept-types')
  if (E.isLeft(acceptTypes)) return acceptTypes
  if (out.port !== 0) {
    // A rejected stream (port 0) may be a bare m-line; an accepted one MUST carry both (C-8.2-1, C-8.6-1).
    if (path.right === undefined)
      return E.left(sdpFailure('AttributeMissing', 'a=path is missing (C-8.2-1)', 'path', index))
    if (acceptTypes.right === undefined)
      return E.left(sdpFailure('AttributeMissing', 'a=accept-types is missing (C-8.6-1)', 'accept-types', index))
  }
  out.path = path.right ?? []
  out.acceptTypes = acceptTypes.right ?? []
  const wrapped = read('accept-wrapped-types')
  if (E.isLeft(wrapped)) return wrapped
  if (wrapped.right !== undefined) out.acceptWrappedTypes = wrapped.right
  const maxSize = read('max-size')
  if (E.isLeft(maxSize)) return maxSize
  if (maxSize.right !== undefined) out.maxSize = maxSize.right
  const setup = read('setup')
  if (E.isLeft(setup)) return setup
  if (setup.right !== undefined) out.setup = setup.right
  const direction = m.direction ?? session.direction
  if (direction !== undefined) out.direction = direction

  const file: { -readonly [K in keyof FileAttributes]: FileAttributes[K] } = {}
  for (const [name, key] of FILE_ATTRIBUTES) {
    // file-selector alone may be bare (a capability indication, F-8.5-1).
    const v = name === 'file-selector' && values.has(name) ? (values.get(name) ?? '') : values.get(name)
    if (v === undefined && values.has(name))
      return E.left(sdpFailure('AttributeInvalid', `a=${name} needs a value`, name, index))
    if (v === undefined) continue
    const decoded = decodeAttribute(name, v, index)
    if (E.isLeft(decoded)) return decoded
    ;(file as Record<string, unknown>)[key] = decoded.right
  }
  if (Object.keys(file).length > 0) out.file = file
  // RFC 4572 §5: a session-level a=fingerprint applies to every m-line without its own (C-14.4-2).
  const fingerprint = m.fingerprint ?? session.fingerprint
  if (fingerprint !== undefined) {
    const decoded = FingerprintAttribute.decode(`${String(fingerprint.type)} ${String(fingerprint.hash)}`)
    if (E.isLeft(decoded))
      return E.left(
        sdpFailure('AttributeInvalid', `a=fingerprint: ${decoded.left[0]?.message ?? ''}`, 'fingerprint', index)
      )
    out.fingerprint = decoded.right
  }
  if (m.description !== undefined) out.title = String(m.description)
  return E.right(out)
}

/**
 * Parses an SDP offer or answer and returns its MSRP m-lines (RFC 4975 §8): every `m=message` line whose proto is
 * `TCP/MSRP` or `TCP/TLS/MSRP`, in SDP order (`index` counts every m-line). Other m-lines are skipped. Fails with an
 * `SdpFailure` naming the attribute and the m-line when an MSRP attribute is missing or malformed, and with
 * `NoMsrpMedia` when there is no MSRP m-line at all. Never throws.
 *
 * Lenient, always: LF line ends as well as CRLF; SDP fragments without v=/o=/s=/t= (the RFC examples); a space after
 * the colon of list attributes (rfc4976-relays.md §10.4).
 */
export function parseMsrpMedia(sdp: string): E.Either<SdpFailure, readonly MsrpMedia[]> {
  let session: SessionDescription
  try {
    session = parseSdp(typeof sdp === 'string' ? sdp : '')
  } catch (e) {
    return E.left(sdpFailure('NoMsrpMedia', `not an SDP: ${String(e)}`))
  }
  const out: MsrpMedia[] = []
  for (const [index, m] of session.media.entries()) {
    if (m.type !== 'message' || !MSRP_PROTOS.includes(m.protocol)) continue
    const decoded = decodeMedia(m, index, session)
    if (E.isLeft(decoded)) return decoded
    out.push(decoded.right)
  }
  return out.length === 0
    ? E.left(sdpFailure('NoMsrpMedia', 'no m=message line with proto TCP/MSRP or TCP/TLS/MSRP (C-8.1-2)'))
    : E.right(out)
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------------------------

/** What `formatMsrpMedia` writes for one m-line. A parsed `MsrpMedia` is one, so parse → format round-trips. */
export interface MsrpMediaOptions {
  /**
   * `a=path`: the URIs the peer must put in its To-Path, relays first and this session's own URI last (RFC 4975
   * §8.2; behind a relay, `RelayRegistration.path`). Empty only with `port: 0` (a rejected stream).
   */
  readonly path: readonly (string | MsrpUri)[]
  /**
   * Default: `TCP/TLS/MSRP` when the first or the last path URI is `msrps`, or the last is `;ws` (RFC 7977 §5.2.2),
   * else `TCP/MSRP`.
   */
  readonly proto?: MsrpProto
  /**
   * Default: the port of the URI the c/m-line names (see `connection`), or 9 with `setup: 'active'` and no relay
   * (RFC 6135, S-4.2.2-2). 0 rejects the stream.
   */
  readonly port?: number
  /**
   * Default: the host of the last path URI (RFC 4975 §8.1, C-8.1-1), or of the first one (the relay) with `cema`
   * and relays (RFC 6714 §4.2, M-4.2-3) or when the last URI's host is `.invalid` (a WebSocket client, RFC 7977).
   */
  readonly connection?: SdpConnection
  /** Default `['*']`: any type (RFC 4975 §8.6). */
  readonly acceptTypes?: readonly string[]
  readonly acceptWrappedTypes?: readonly string[]
  readonly maxSize?: number
  /** Written when set. buildOffer and buildAnswer always set it (S-4.2.1-1). */
  readonly setup?: Setup
  readonly cema?: boolean
  /** Written when set; absent means `sendrecv`. */
  readonly direction?: Direction
  readonly file?: FileAttributes
  readonly fingerprint?: Fingerprint
  readonly title?: string
  /** Further media attributes, as `name[:value]`, written last. */
  readonly extraAttributes?: readonly string[]
}

/** The SDP session-level lines around the m-lines. */
export interface SdpSessionOptions {
  /** `o=` username; default `-`. */
  readonly username?: string
  /** `o=` sess-id (digits, RFC 4566); default the NTP time in seconds. Reuse it for an unchanged SDP (C-8.4-2). */
  readonly sessionId?: string
  /** `o=` sess-version; default the session id. Increment it for a changed SDP. */
  readonly sessionVersion?: number
  /** `s=`; default `-`. */
  readonly name?: string
}

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). @internal */
const NTP_UNIX_OFFSET_S = 2_208_988_800

/** @internal An attribute line whose value does not re-decode is a programming error of the caller: report it. */
function encodeChecked<N extends MsrpAttributeName>(
  name: N,
  value: MsrpAttributeValue<N>,
  index: number
): E.Either<SdpFailure, string> {
  const codec = MSRP_ATTRIBUTE_CODECS[name] as unknown as t.Type<MsrpAttributeValue<N>, string, string>
  if (!codec.is(value)) return E.left(sdpFailure('AttributeInvalid', `a=${name}: not a valid value`, name, index))
  const text = codec.encode(value)
  const back = decodeAttribute(name, text, index)
  return E.isLeft(back) ? back : E.right(text)
}

/** @internal The host of a URI as a c= line. */
const connectionOf = (u: MsrpUri): SdpConnection =>
  u.host.startsWith('[') ? { ipVer: 6, address: u.host.slice(1, -1) } : { ipVer: 4, address: u.host }

/** @internal Parses path entries given as strings. */
function toUris(path: readonly (string | MsrpUri)[], index: number): E.Either<SdpFailure, MsrpUri[]> {
  const out: MsrpUri[] = []
  for (const p of path) {
    if (typeof p !== 'string') out.push(p)
    else {
      const u = parseUri(p)
      if (E.isLeft(u)) return E.left(sdpFailure('AttributeInvalid', `a=path: ${u.left.detail}`, 'path', index))
      out.push(u.right)
    }
  }
  return E.right(out)
}

/** @internal The resolved m-line: its lines, its c= and whether it needs a media-level c=. */
interface FormattedMedia {
  readonly media: MediaDescription
  readonly connection: SdpConnection | undefined
}

/** @internal */
function formatOne(o: MsrpMediaOptions, index: number): E.Either<SdpFailure, FormattedMedia> {
  const uris = toUris(o.path, index)
  if (E.isLeft(uris)) return uris
  const path = uris.right
  const own = path[path.length - 1]
  const first = path[0]
  if (own === undefined || first === undefined) {
    if (o.port !== 0) return E.left(sdpFailure('AttributeMissing', 'a=path is missing (C-8.2-1)', 'path', index))
  }
  const lines: string[] = []
  const push = <N extends MsrpAttributeName>(name: N, value: MsrpAttributeValue<N> | undefined): SdpFailure | void => {
    if (value === undefined) return
    const text = encodeChecked(name, value, index)
    if (E.isLeft(text)) return text.left
    lines.push(text.right === '' ? name : `${name}:${text.right}`)
  }
  if (o.direction !== undefined) lines.push(o.direction)
  if (o.cema === true) lines.push('msrp-cema')
  const accept = o.acceptTypes ?? (o.port === 0 ? undefined : ['*'])
  const failure =
    push('setup', o.setup) ??
    push('accept-types', accept as FormatList | undefined) ??
    push('accept-wrapped-types', o.acceptWrappedTypes as FormatList | undefined) ??
    push('max-size', o.maxSize) ??
    (own === undefined ? undefined : push('path', path as unknown as MsrpAttributeValue<'path'>))
  if (failure !== undefined) return E.left(failure)
  for (const [name, key] of FILE_ATTRIBUTES) {
    const f = push(name, o.file?.[key] as never)
    if (f !== undefined) return E.left(f)
  }
  if (o.fingerprint !== undefined) {
    if (!FingerprintAttribute.is(o.fingerprint))
      return E.left(sdpFailure('AttributeInvalid', 'a=fingerprint: not a valid value', 'fingerprint', index))
    lines.push(`fingerprint:${FingerprintAttribute.encode(o.fingerprint)}`)
  }
  lines.push(...(o.extraAttributes ?? []))

  const relayed = path.length > 1
  // C-8.1-1 / C-8.1-3: c/m-line = the author's URI; with CEMA behind a relay, the relay's (M-4.2-3, M-4.3-3); and
  // the relay's too when the own URI is a WebSocket client's `.invalid` name, as in RFC 7977 §8.2.1 (inferred).
  const named = relayed && (o.cema === true || (own !== undefined && isInvalidHost(own.host))) ? first : own
  const connection = o.connection ?? (named === undefined ? undefined : connectionOf(named))
  const port = o.port ?? (o.setup === 'active' && !relayed ? 9 : (named?.port ?? 9)) // S-4.2.2-2
  // TLS when the hop the peer connects to, or the author, is msrps; always for WebSocket clients (RFC 7977 §5.2.2).
  const tls = own !== undefined && (own.scheme === 'msrps' || first?.scheme === 'msrps' || own.transport === 'ws')
  const media: MediaDescription = {
    type: 'message',
    port,
    protocol: o.proto ?? (tls ? 'TCP/TLS/MSRP' : 'TCP/MSRP'),
    payloads: '*',
    rtp: [],
    fmtp: [],
    invalid: lines.map((value) => ({ value }))
  }
  if (o.title !== undefined) media.description = o.title
  return E.right({ media, connection })
}

/**
 * Formats MSRP m-lines as a complete SDP (RFC 4566 with the MSRP attributes of RFC 4975 §8, RFC 6135, RFC 6714 and
 * RFC 5547): `v=`, `o=`, `s=`, a session-level `c=` (the first m-line's), `t=0 0`, then per m-line
 * `m=message <port> <proto> *`, its own `c=` if it differs, and its attributes in the order of the RFC examples
 * (direction, msrp-cema, setup, accept-types, accept-wrapped-types, max-size, path, file-*, fingerprint, extras).
 * Every value is checked with its codec: a bad one gives an `SdpFailure` naming the attribute. CRLF line ends.
 */
export function formatMsrpMedia(
  media: readonly MsrpMediaOptions[],
  session: SdpSessionOptions = {}
): E.Either<SdpFailure, string> {
  const formatted: FormattedMedia[] = []
  for (const [i, o] of media.entries()) {
    const f = formatOne(o, i)
    if (E.isLeft(f)) return f
    formatted.push(f.right)
  }
  const top = formatted.find((f) => f.connection !== undefined)?.connection
  const sameConnection = (a: SdpConnection | undefined, b: SdpConnection | undefined): boolean =>
    a?.address === b?.address && a?.ipVer === b?.ipVer
  const sessionId = session.sessionId ?? String(Math.floor(Date.now() / 1000) + NTP_UNIX_OFFSET_S)
  const description: SessionDescription = {
    version: 0,
    origin: {
      username: session.username ?? '-',
      sessionId,
      sessionVersion: session.sessionVersion ?? (/^[0-9]{1,15}$/.test(sessionId) ? Number(sessionId) : 0),
      netType: 'IN',
      ipVer: top?.ipVer ?? 4,
      address: top?.address ?? '0.0.0.0'
    },
    name: session.name ?? '-',
    timing: { start: 0, stop: 0 },
    media: formatted.map((f) =>
      f.connection === undefined || sameConnection(f.connection, top)
        ? f.media
        : { ...f.media, connection: { version: f.connection.ipVer, ip: f.connection.address } }
    )
  }
  if (top !== undefined) description.connection = { version: top.ipVer, ip: top.address }
  return E.right(writeSdp(description))
}

/** The path of a media as strings (what `MsrpSession.remotePath` and `createSession` take). */
export const pathStrings = (m: Pick<MsrpMedia, 'path'>): readonly string[] => m.path.map(formatUri)
