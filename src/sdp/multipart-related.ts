/**
 * An SDP with its file icons in one `multipart/related` body (RFC 5547 §6 `a=file-icon`, F-8.8-1; RFC 2387; RFC 2046
 * §5.1): the SDP is the root part, the `type` parameter names it, and each icon is a part whose `Content-ID` the
 * `a=file-icon:cid:…` URL names (RFC 2392). Built and read on bytes, so icons may hold any octets: the boundary is
 * chosen so that it occurs in no part, and parts are returned as views of the body (no copy, except base64 parts).
 *
 * ```text
 * Content-Type: multipart/related;type="application/sdp";boundary=rx-msrp-…
 *
 * --rx-msrp-…
 * Content-Type: application/sdp
 *
 * v=0 … a=file-icon:cid:id2@alicepc.example.com …
 * --rx-msrp-…
 * Content-Type: image/jpeg
 * Content-Transfer-Encoding: binary
 * Content-ID: <id2@alicepc.example.com>
 * Content-Disposition: icon
 *
 * <icon octets>
 * --rx-msrp-…--
 * ```
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { concatBytes } from '../wire/bytes'
import { randomToken } from '../wire/ids'
import { ByteNeedle } from '../wire/search'
import { isToken, quote } from '../wire/headers/grammar'
import { ContentType, mediaTypeMatches, parseMediaType } from '../wire/headers/content-type'
import { sdpFailure, type SdpFailure } from './failures'
import { parseMsrpMedia } from './msrp-media'

/** The media type of the root part: the SDP (RFC 5547 §6). */
export const SDP_MEDIA_TYPE = 'application/sdp'
/** The Content-Disposition of an icon part when none is given, as in RFC 5547 §9.1. */
export const ICON_DISPOSITION = 'icon'
/** Random base62 characters of a generated boundary (after `rx-msrp-`): 190 bits, never found in a part by chance. */
export const MULTIPART_BOUNDARY_RANDOM_CHARS = 32
/** Boundaries drawn before giving up (each is checked against every part). */
export const MULTIPART_BOUNDARY_ATTEMPTS = 8
/** Most parts `parseMultipartRelated` reads (the SDP and its icons: one per file m-line). */
export const MULTIPART_MAX_PARTS = 64

/** A body part next to the SDP, e.g. a file icon (RFC 5547 §6). */
export interface RelatedPart {
  /** The Content-ID without angle brackets, e.g. `id2@alicepc.example.com`; `a=file-icon` holds `cidUrl(contentId)`. */
  readonly contentId: string
  /** The part's media type, e.g. `image/jpeg`. */
  readonly contentType: string
  /** Content-Disposition; written as {@link ICON_DISPOSITION} when absent. */
  readonly disposition?: string
  /** The octets of the part. */
  readonly body: Uint8Array
}

/** A `multipart/related` body and the Content-Type header to send it with (the SIP message's). */
export interface MultipartRelated {
  readonly contentType: string
  readonly body: Uint8Array
}

/** What `parseMultipartRelated` reads: the root SDP and the other parts. */
export interface SdpWithParts {
  readonly sdp: string
  readonly parts: readonly RelatedPart[]
}

/** The parameters of a `multipart/related` Content-Type that matter here (RFC 2387 §3). */
export interface RelatedContentType {
  /** RFC 2046 §5.1.1: 1 to 70 characters. */
  readonly boundary: string
  /** The root part's media type (RFC 2387 §3.1: MUST be present; F-8.8-1): `application/sdp` here. */
  readonly type: string
  /** The Content-ID of the root part (without `<>`) when it is not the first part (RFC 2387 §3.2). */
  readonly start?: string
}

/** RFC 2046 §5.1.1 `boundary := 0*69<bchars> bcharsnospace`. @internal */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/
/** A Content-ID we write between `<>`: visible ASCII without `<` and `>`. @internal */
const CONTENT_ID = /^[\x21-\x3B\x3D\x3F-\x7E]+$/
/** A Content-Disposition value we write: visible ASCII and spaces, not starting with a space. @internal */
const DISPOSITION = /^[\x21-\x7E][\x20-\x7E]*$/

/** @internal `type/subtype *(OWS ";" OWS name OWS "=" OWS value)`: MIME allows spaces around `;` and `=`. */
function parseMimeType(
  s: string
): { readonly mediaType: string; readonly params: ReadonlyMap<string, string> } | undefined {
  const ct = parseMediaType(s, { mimeWhitespace: true })
  if (E.isLeft(ct)) return undefined
  const params = new Map<string, string>()
  for (const [name, value] of ct.right.params) {
    if (value === undefined) return undefined // MIME parameters always have a value
    params.set(name.toLowerCase(), value)
  }
  return { mediaType: `${ct.right.type}/${ct.right.subtype}`, params }
}

/** @internal */
const stripAngles = (value: string): string => {
  const s = value.trim()
  return s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s
}

/** Parses a `multipart/related` Content-Type value whose root is an SDP (RFC 2387 §3, RFC 5547 §6, F-8.8-1). */
export function parseRelatedContentType(s: string): E.Either<string, RelatedContentType> {
  const ct = parseMimeType(s)
  if (ct === undefined || !mediaTypeMatches(ct.mediaType, 'multipart/related'))
    return E.left('expected multipart/related;type="application/sdp";boundary=…')
  const boundary = ct.params.get('boundary')
  const type = ct.params.get('type')
  const start = ct.params.get('start')
  if (boundary === undefined || !BOUNDARY.test(boundary))
    return E.left('the boundary parameter is missing or not 1 to 70 RFC 2046 characters')
  if (type === undefined) return E.left('the type parameter is missing: it MUST name the root part (F-8.8-1)')
  if (!mediaTypeMatches(type, SDP_MEDIA_TYPE)) return E.left(`the root part is ${type}, not ${SDP_MEDIA_TYPE}`)
  return E.right({ boundary, type, ...(start !== undefined ? { start: stripAngles(start) } : {}) })
}

/** Formats a `multipart/related` Content-Type value: `multipart/related;type="…";[start="<…>";]boundary=…`. */
export function formatRelatedContentType(r: RelatedContentType): string {
  const value = (v: string): string => (isToken(v) ? v : quote(v))
  const start = r.start === undefined ? '' : `;start=${quote(`<${r.start}>`)}`
  return `multipart/related;type=${value(r.type)}${start};boundary=${value(r.boundary)}`
}

/** @internal */
const isRelatedContentType = (u: unknown): u is RelatedContentType =>
  typeof u === 'object' &&
  u !== null &&
  typeof (u as RelatedContentType).boundary === 'string' &&
  BOUNDARY.test((u as RelatedContentType).boundary) &&
  typeof (u as RelatedContentType).type === 'string' &&
  mediaTypeMatches((u as RelatedContentType).type, SDP_MEDIA_TYPE) &&
  ((u as RelatedContentType).start === undefined || CONTENT_ID.test((u as RelatedContentType).start ?? ''))

/** Codec of the Content-Type of an SDP body with icons (RFC 2387 §3, RFC 5547 §6, F-8.8-1). */
export const RelatedContentTypeCodec = new t.Type<RelatedContentType, string, string>(
  'RelatedContentType',
  isRelatedContentType,
  (s, c) => {
    const r = typeof s === 'string' ? parseRelatedContentType(s) : E.left('expected a string')
    return E.isRight(r) ? t.success(r.right) : t.failure(s, c, r.left)
  },
  formatRelatedContentType
)

/**
 * The `cid:` URL of a Content-ID (RFC 2392 §2), the value of `a=file-icon`: `id2@alicepc.example.com` →
 * `cid:id2@alicepc.example.com`. Characters URLs do not allow are percent-encoded.
 */
export const cidUrl = (contentId: string): string =>
  `cid:${contentId.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g, (c) => encodeURIComponent(c))}`

/** The Content-ID a `cid:` URL names (RFC 2392 §2: drop `cid:`, decode `%hh`), or `undefined` if it is not one. */
export function contentIdOf(url: string): string | undefined {
  if (!/^cid:/i.test(url)) return undefined
  try {
    const id = decodeURIComponent(url.slice(4))
    return id === '' ? undefined : id
  } catch {
    return undefined
  }
}

/** The part an `a=file-icon` (a `cid:` URL) names, or `undefined` when there is none (RFC 2392, RFC 5547 §6). */
export function relatedPartFor(related: Pick<SdpWithParts, 'parts'>, url: string): RelatedPart | undefined {
  const id = contentIdOf(url)
  return id === undefined ? undefined : related.parts.find((p) => p.contentId === id)
}

/** Options of {@link buildMultipartRelated}. Every field is optional. */
export interface BuildMultipartRelatedOptions {
  /** Use this boundary (RFC 2046 characters) instead of a random one; fails if it occurs in a part. */
  readonly boundary?: string
  /** Source of random bytes for the boundary, for tests (as `randomToken`'s). Default: WebCrypto. */
  readonly randomBytes?: (n: number) => Uint8Array
}

const UTF8 = new TextEncoder()
/** @internal */
const ascii = (s: string): Uint8Array => UTF8.encode(s)

/** @internal */
const fail = (detail: string, attribute: string | undefined = undefined): E.Either<SdpFailure, never> =>
  E.left(sdpFailure('MultipartInvalid', detail, attribute))

/**
 * Puts an SDP and its icons in one `multipart/related` body (RFC 5547 §6, F-8.8-1): the SDP is the first (root) part,
 * named by the `type` parameter; each icon follows with `Content-Transfer-Encoding: binary`, its `Content-ID` and
 * `Content-Disposition` (default `icon`), as in RFC 5547 §9.1. Every `a=file-icon` of the SDP must name one of the
 * parts. The boundary occurs in no part (random, drawn again on the rare hit). Fails with `MultipartInvalid` (a bad
 * Content-ID, type or disposition, a duplicate Content-ID, an icon no part carries, a given boundary that occurs in a
 * part) or with the failure of `parseMsrpMedia` on the SDP.
 *
 * ```ts
 * const offer = buildOffer({ path, file: { selector, transferId, icon: cidUrl('icon1@alice.example.com') }, … })
 * const { contentType, body } = buildMultipartRelated(sdp, [{ contentId: 'icon1@alice.example.com', contentType: 'image/png', body: png }])
 * ```
 */
export function buildMultipartRelated(
  sdp: string,
  parts: readonly RelatedPart[],
  options: BuildMultipartRelatedOptions = {}
): E.Either<SdpFailure, MultipartRelated> {
  const media = parseMsrpMedia(sdp)
  if (E.isLeft(media)) return media
  const ids = new Set<string>()
  for (const [i, p] of parts.entries()) {
    if (!CONTENT_ID.test(p.contentId))
      return fail(`part ${i + 1}: Content-ID ${JSON.stringify(p.contentId)} is invalid`)
    if (ids.has(p.contentId)) return fail(`Content-ID <${p.contentId}> is used twice`)
    ids.add(p.contentId)
    if (E.isLeft(ContentType.decode(p.contentType)))
      return fail(`part ${i + 1}: ${JSON.stringify(p.contentType)} is not a media type`)
    if (p.disposition !== undefined && !DISPOSITION.test(p.disposition))
      return fail(`part ${i + 1}: Content-Disposition ${JSON.stringify(p.disposition)} cannot be written`)
  }
  for (const m of media.right) {
    const icon = m.file?.icon
    // F-8.8-1: the icon the SDP names travels in this body.
    if (icon !== undefined && relatedPartFor({ parts }, icon) === undefined)
      return E.left(sdpFailure('MultipartInvalid', `a=file-icon:${icon} names no part`, 'file-icon', m.index))
  }
  const encoded: Uint8Array[][] = [
    [ascii(`Content-Type: ${SDP_MEDIA_TYPE}\r\n\r\n`), UTF8.encode(sdp)],
    ...parts.map((p) => [
      ascii(
        `Content-Type: ${p.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${p.contentId}>\r\n` +
          `Content-Disposition: ${p.disposition ?? ICON_DISPOSITION}\r\n\r\n`
      ),
      p.body
    ])
  ]
  // Each piece is checked on its own: a boundary has no CR or LF, so none can straddle a header section's CRLFCRLF.
  const occurs = (boundary: string): boolean => {
    const needle = ByteNeedle.ascii(boundary)
    return encoded.some((pieces) => pieces.some((piece) => needle.indexIn(piece) !== -1))
  }
  let boundary = options.boundary
  if (boundary !== undefined) {
    if (!BOUNDARY.test(boundary)) return fail(`boundary ${JSON.stringify(boundary)} is not 1 to 70 RFC 2046 characters`)
    if (occurs(boundary)) return fail(`boundary ${JSON.stringify(boundary)} occurs in a part`)
  } else {
    const random = options.randomBytes !== undefined ? { randomBytes: options.randomBytes } : {}
    for (let attempt = 0; attempt < MULTIPART_BOUNDARY_ATTEMPTS && boundary === undefined; attempt++) {
      const candidate = `rx-msrp-${randomToken(MULTIPART_BOUNDARY_RANDOM_CHARS, random)}`
      if (!occurs(candidate)) boundary = candidate
    }
    if (boundary === undefined)
      return fail(`no boundary found outside the parts in ${MULTIPART_BOUNDARY_ATTEMPTS} draws`)
  }
  // RFC 2046 §5.1.1: the CRLF before each delimiter belongs to the delimiter, not to the part before it.
  const pieces: Uint8Array[] = [ascii(`--${boundary}\r\n`)]
  for (const [i, part] of encoded.entries()) {
    if (i > 0) pieces.push(ascii(`\r\n--${boundary}\r\n`))
    pieces.push(...part)
  }
  pieces.push(ascii(`\r\n--${boundary}--\r\n`))
  return E.right({
    contentType: formatRelatedContentType({ boundary, type: SDP_MEDIA_TYPE }),
    body: concatBytes(pieces)
  })
}

/** @internal One part as read: its headers (names lower-cased, values unfolded) and its body (a view). */
interface RawPart {
  readonly headers: ReadonlyMap<string, string>
  readonly body: Uint8Array
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true })
/** @internal */
const CRLF_CRLF = ByteNeedle.ascii('\r\n\r\n')

/** @internal Splits a part into its MIME headers and its body (RFC 2046 §5.1.1 `body-part`). */
function readPart(bytes: Uint8Array, n: number): E.Either<SdpFailure, RawPart> {
  if (bytes.length === 0) return E.right({ headers: new Map(), body: bytes }) // no headers, no body
  const noHeaders = bytes[0] === 0x0d && bytes[1] === 0x0a
  const end = noHeaders ? 0 : CRLF_CRLF.indexIn(bytes)
  if (end === -1) return fail(`part ${n}: no empty line after its headers`)
  let text: string
  try {
    text = UTF8_STRICT.decode(bytes.subarray(0, end))
  } catch {
    return fail(`part ${n}: its headers are not UTF-8`)
  }
  const headers = new Map<string, string>()
  let last: string | undefined
  for (const line of noHeaders ? [] : text.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`.trim()) // RFC 5322 §2.2.3 unfolding
      continue
    }
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    if (colon <= 0 || !isToken(name)) return fail(`part ${n}: ${JSON.stringify(line.slice(0, 80))} is not a header`)
    last = name
    headers.set(name, line.slice(colon + 1).trim())
  }
  return E.right({ headers, body: bytes.subarray(noHeaders ? 2 : end + 4) })
}

/** @internal The octets of a part under its Content-Transfer-Encoding (RFC 2045 §6). */
function decodeBody(part: RawPart, n: number): E.Either<SdpFailure, Uint8Array> {
  const cte = (part.headers.get('content-transfer-encoding') ?? 'binary').toLowerCase()
  if (cte === 'binary' || cte === '8bit' || cte === '7bit') return E.right(part.body)
  if (cte !== 'base64') return fail(`part ${n}: Content-Transfer-Encoding ${cte} is not supported`)
  const text = new TextDecoder('latin1').decode(part.body).replace(/[\r\n\t ]/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return fail(`part ${n}: invalid base64`)
  const binary = atob(text)
  return E.right(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
}

/**
 * Reads a `multipart/related` body whose root part is an SDP (RFC 2387, RFC 5547 §6, F-8.8-1): `contentType` is the
 * Content-Type header of the message that carried it (decoded with `RelatedContentTypeCodec`: `type` must be
 * `application/sdp`). The root is the first part, or the one the `start` parameter names; its Content-Type must be
 * the `type` parameter's. Every other part needs a Content-ID (how an `a=file-icon` finds it: `relatedPartFor`).
 * Bodies are views of `body`, except base64 ones (decoded); `binary`, `8bit` and `7bit` are taken as they are.
 * Fails with `MultipartInvalid`, never throws.
 */
export function parseMultipartRelated(contentType: string, body: Uint8Array): E.Either<SdpFailure, SdpWithParts> {
  const ct = RelatedContentTypeCodec.decode(contentType)
  if (E.isLeft(ct)) return fail(`Content-Type: ${ct.left[0]?.message ?? 'expected multipart/related'}`)
  const { boundary, type, start } = ct.right
  const delimiter = ByteNeedle.ascii(`\r\n--${boundary}`)
  const dashBoundary = ascii(`--${boundary}`)
  // The first boundary opens the body, or ends a line of the preamble (RFC 2046 §5.1.1).
  const opening = dashBoundary.every((b, i) => body[i] === b) ? 0 : delimiter.indexIn(body)
  if (opening === -1) return fail(`no --${boundary} line in the body`)
  const raw: RawPart[] = []
  let at = opening + (opening === 0 ? 0 : 2) + dashBoundary.length // just after a dash-boundary
  // Each round reads one part and moves `at` past the next delimiter, until the close-delimiter (`--` right after
  // the boundary; the epilogue after it is ignored): at most MULTIPART_MAX_PARTS + 1 rounds.
  while (body[at] !== 0x2d || body[at + 1] !== 0x2d) {
    while (body[at] === 0x20 || body[at] === 0x09) at++ // transport-padding
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) return fail(`--${boundary} is not followed by CRLF`)
    if (raw.length === MULTIPART_MAX_PARTS) return fail(`more than ${MULTIPART_MAX_PARTS} parts`)
    const end = delimiter.indexIn(body, at + 2)
    if (end === -1) return fail(`part ${raw.length + 1} has no closing --${boundary}`)
    const part = readPart(body.subarray(at + 2, end), raw.length + 1)
    if (E.isLeft(part)) return part
    raw.push(part.right)
    at = end + delimiter.length
  }
  const rootIndex =
    start === undefined ? 0 : raw.findIndex((p) => stripAngles(p.headers.get('content-id') ?? '') === start)
  const root = raw[rootIndex]
  if (root === undefined) return fail(start === undefined ? 'no part' : `no part has the start Content-ID <${start}>`)
  // RFC 2046 §5.1: a part without Content-Type is text/plain; the root must be what `type` says (F-8.8-1).
  const rootType = root.headers.get('content-type') ?? 'text/plain'
  const rootMedia = parseMimeType(rootType)?.mediaType ?? rootType
  if (!mediaTypeMatches(rootMedia, type) || !mediaTypeMatches(type, rootMedia))
    return fail(`the root part is ${rootType}, not the type parameter's ${type} (F-8.8-1)`)
  const sdpBytes = decodeBody(root, rootIndex + 1)
  if (E.isLeft(sdpBytes)) return sdpBytes
  let sdp: string
  try {
    sdp = UTF8_STRICT.decode(sdpBytes.right)
  } catch {
    return fail('the SDP part is not UTF-8')
  }
  const parts: RelatedPart[] = []
  for (const [i, p] of raw.entries()) {
    if (i === rootIndex) continue
    const id = p.headers.get('content-id')
    if (id === undefined || stripAngles(id) === '')
      return fail(`part ${i + 1} has no Content-ID: nothing in the SDP can name it (RFC 2392)`)
    const bytes = decodeBody(p, i + 1)
    if (E.isLeft(bytes)) return bytes
    const disposition = p.headers.get('content-disposition')
    parts.push({
      contentId: stripAngles(id),
      contentType: p.headers.get('content-type') ?? 'text/plain',
      ...(disposition !== undefined ? { disposition } : {}),
      body: bytes.right
    })
  }
  return E.right({ sdp, parts })
}
