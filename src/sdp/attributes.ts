/**
 * io-ts codecs for the media-level SDP attributes of an MSRP m-line: RFC 4975 §8 (`path`, `accept-types`,
 * `accept-wrapped-types`, `max-size`), RFC 6135 / RFC 4145 (`setup`), RFC 6714 (`msrp-cema`, a flag without value)
 * and RFC 5547 §6 (`file-selector`, `file-transfer-id`, `file-disposition`, `file-date`, `file-icon`, `file-range`).
 * ABNF in ../shared/spec/rfc4975-core.md §2.3 and related.md §1.1, §2.1, §3.2.
 *
 * Each codec is a `t.Type<A, string, string>` between the attribute value (what follows `a=name:`) and a typed
 * value, like the header codecs of src/wire/headers. Decoding is total; the failure message says what was expected.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { headerCodec, isToken } from '../wire/headers/grammar'
import { parseMediaType, type ContentType } from '../wire/headers/content-type'
import type { Path } from '../wire/headers/path'
import { checkPort, formatUri, isMsrpUri, parseUri, type MsrpUri } from '../wire/uri'

// ---------------------------------------------------------------------------------------------------------------
// Leniency shared by the list attributes: the RFC 4976 §11 example prints `a=accept-types: message/cpim …` with a
// space after the colon, which the RFC 4975 grammar does not allow (rfc4976-relays.md §10.4). Lists are split on runs
// of spaces and leading/trailing spaces are ignored; formatting always writes single spaces and no leading space.
// ---------------------------------------------------------------------------------------------------------------

/** @internal */
const words = (s: string): string[] => s.split(' ').filter((w) => w !== '')

/** @internal Shortens what we echo back in failure messages. */
const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/** RFC 4566 `integer = POS-DIGIT *DIGIT` (no leading zero), as a safe integer. @internal */
function sdpInteger(s: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(s)) return undefined
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// a=path (RFC 4975 §8.2)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `a=path:MSRP-URI *(SP MSRP-URI)` (RFC 4975 §8.2): leftmost = the hop to connect to, rightmost = the SDP author.
 * Every URI must carry an explicit port (C-8.2-2), whatever its host.
 */
export function parsePathAttribute(s: string): E.Either<string, Path> {
  const parts = words(s)
  const uris: MsrpUri[] = []
  for (const [i, part] of parts.entries()) {
    const u = parseUri(part)
    if (E.isLeft(u)) return E.left(`URI ${i + 1} is not an MSRP URI: ${u.left.detail}`)
    const port = checkPort(u.right)
    if (E.isLeft(port)) return E.left(`URI ${i + 1}: ${port.left.detail}`)
    if (u.right.port === undefined) return E.left(`URI ${i + 1} has no port: URIs in SDP carry one (C-8.2-2)`)
    uris.push(u.right)
  }
  const [head, ...tail] = uris
  return head === undefined ? E.left('expected one or more MSRP URIs separated by SP') : E.right([head, ...tail])
}

/** @internal */
const isPath = (u: unknown): u is Path => Array.isArray(u) && u.length > 0 && u.every(isMsrpUri)

/** Codec of the `path` attribute value (RFC 4975 §8.2, C-8.2-1, C-8.2-2). */
export const PathAttribute = headerCodec<Path>('PathAttribute', isPath, parsePathAttribute, (p) =>
  p.map(formatUri).join(' ')
)

// ---------------------------------------------------------------------------------------------------------------
// a=accept-types, a=accept-wrapped-types (RFC 4975 §8.6)
// ---------------------------------------------------------------------------------------------------------------

/**
 * A `format-list` (RFC 4975 §8.6, Figure 8): entries `*`, `type/*` or `type/subtype`, each with optional
 * `;name=value` parameters. The entries are kept as written: they are what `SessionOptions.acceptTypes` takes and
 * what `mediaTypeMatches` compares.
 */
export type FormatList = readonly [string, ...string[]]

/** Parses a `format-list`: at least one entry, each `*` or a media type (RFC 4975 §8.6). */
export function parseFormatList(s: string): E.Either<string, FormatList> {
  const entries = words(s)
  for (const entry of entries) {
    if (entry === '*') continue
    const m = parseMediaType(entry)
    if (E.isLeft(m)) return E.left(`${show(entry)} is not "*", "type/*" or "type/subtype"`)
    if (m.right.type === '*' && m.right.subtype !== '*') return E.left(`${show(entry)}: "*/subtype" is not a format`)
  }
  const [head, ...tail] = entries
  return head === undefined
    ? E.left('expected one or more media types or "*" separated by SP')
    : E.right([head, ...tail])
}

/** @internal */
const isFormatList = (u: unknown): u is FormatList =>
  Array.isArray(u) && u.length > 0 && u.every((e) => typeof e === 'string' && E.isRight(parseFormatList(e)))

/** Codec of the `accept-types` attribute value (RFC 4975 §8.6, C-8.6-1). */
export const AcceptTypes = headerCodec<FormatList>('AcceptTypes', isFormatList, parseFormatList, (l) => l.join(' '))
/** Codec of the `accept-wrapped-types` attribute value (RFC 4975 §8.6). */
export const AcceptWrappedTypes = headerCodec<FormatList>('AcceptWrappedTypes', isFormatList, parseFormatList, (l) =>
  l.join(' ')
)

// ---------------------------------------------------------------------------------------------------------------
// a=max-size (RFC 4975 §8.6)
// ---------------------------------------------------------------------------------------------------------------

/** `max-size-value = 1*(DIGIT)`: the largest complete message, in octets, the author wishes to receive. */
export const MaxSize = headerCodec<number>(
  'MaxSize',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (s) => {
    const v = s.trim()
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN
    return Number.isSafeInteger(n) ? E.right(n) : E.left('expected a number of octets (1*DIGIT)')
  },
  String
)

// ---------------------------------------------------------------------------------------------------------------
// a=setup (RFC 4145 §4, used by RFC 6135)
// ---------------------------------------------------------------------------------------------------------------

/** RFC 4145 roles: `active` connects, `passive` listens, `actpass` either, `holdconn` no connection for now. */
export type Setup = 'active' | 'passive' | 'actpass' | 'holdconn'

const SETUPS: readonly Setup[] = ['active', 'passive', 'actpass', 'holdconn']

/** Codec of the `setup` attribute value (RFC 4145 §4; RFC 6135 §4.2, S-4.2.1-2). */
export const SetupAttribute = headerCodec<Setup>(
  'Setup',
  (u): u is Setup => SETUPS.includes(u as Setup),
  (s) => {
    const v = s.trim()
    return SETUPS.includes(v as Setup) ? E.right(v as Setup) : E.left('expected active, passive, actpass or holdconn')
  },
  (s) => s
)

// ---------------------------------------------------------------------------------------------------------------
// RFC 5547 §6: file transfer attributes
// ---------------------------------------------------------------------------------------------------------------

/** A `hash-selector`: `hash:<algorithm>:XX:XX:…` (RFC 5547 §6; only `sha-1` is defined, F-6-3). */
export interface FileHash {
  /** As written, e.g. `sha-1`. */
  readonly algorithm: string
  /** Colon-separated hex bytes as written, e.g. `72:24:5F:…` (upper case when we generate it). */
  readonly value: string
}

/**
 * `a=file-selector` (RFC 5547 §6, F-5-1): the selectors that identify one file. Every field may be absent; all
 * absent is the bare `a=file-selector` of a capability indication (F-8.5-1).
 */
export interface FileSelector {
  /** The file name, percent-decoded (UTF-8). */
  readonly name?: string
  /** MIME type of the file with its parameters (`type:image/jpeg`). */
  readonly type?: ContentType
  /** Size in octets. */
  readonly size?: number
  /** SHA-1 hashes of the whole file (receivers accept several, F-6-3). */
  readonly hashes: readonly FileHash[]
}

/**
 * `filename-char` is any byte except NUL, CR, LF, `"` and `%` (RFC 5547 §6): those are percent-encoded, and so are
 * U+2028 and U+2029, which some SDP readers take for line ends. @internal
 */
const encodeFilenameString = (s: string): string => s.replace(/[\0\r\n"%\u2028\u2029]/g, encodeURIComponent)

/** Decodes a `filename-string`; `undefined` if it breaks the grammar or is not UTF-8 once decoded. @internal */
function decodeFilenameString(s: string): string | undefined {
  if (s === '' || /[\0\r\n"]/.test(s) || /%(?![0-9A-Fa-f]{2})/.test(s)) return undefined
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

const HASH_VALUE = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/

/** @internal Reads `type/subtype *(";" attribute "=" DQUOTE value-string DQUOTE)`. */
function parseFileType(s: string): E.Either<string, ContentType> {
  const expected = `type:${show(s)} is not type/subtype *(;name="value")`
  const main = /^([^;/]+)\/([^;]+)/.exec(s)
  const type = main?.[1]
  const subtype = main?.[2]
  if (main === null || !isToken(type) || !isToken(subtype)) return E.left(expected)
  const params: Array<readonly [string, string]> = []
  const re = /;([^=;"]+)="([^"]*)"/y
  re.lastIndex = main[0].length
  let end = re.lastIndex
  let m: RegExpExecArray | null
  while ((m = re.exec(s)) !== null) {
    const value = decodeFilenameString(m[2] ?? '')
    if (!isToken(m[1]) || value === undefined) return E.left(expected)
    params.push([m[1], value])
    end = re.lastIndex
  }
  return end === s.length ? E.right({ type, subtype, params }) : E.left(expected)
}

/** @internal */
const formatFileType = (ct: ContentType): string =>
  `${ct.type}/${ct.subtype}${ct.params.map(([n, v]) => `;${n}="${encodeFilenameString(v ?? '')}"`).join('')}`

/** Parses a `file-selector` value (what follows `a=file-selector:`; empty for the bare attribute). */
export function parseFileSelector(s: string): E.Either<string, FileSelector> {
  // A name may contain spaces inside its quotes: split on spaces outside quotes.
  const selectors = s.match(/(?:[^ "]+|"[^"]*")+/g) ?? []
  let name: string | undefined
  let type: ContentType | undefined
  let size: number | undefined
  const hashes: FileHash[] = []
  for (const sel of selectors) {
    const colon = sel.indexOf(':')
    const key = sel.slice(0, colon)
    const value = sel.slice(colon + 1)
    const twice = `the ${key} selector occurs twice`
    switch (colon === -1 ? '' : key) {
      case 'name': {
        const m = /^"([^"]*)"$/.exec(value)
        const decoded = m?.[1] === undefined ? undefined : decodeFilenameString(m[1])
        if (decoded === undefined) return E.left(`name:${value} is not a quoted, percent-encoded file name`)
        if (name !== undefined) return E.left(twice)
        name = decoded
        break
      }
      case 'type': {
        const ct = parseFileType(value)
        if (E.isLeft(ct)) return ct
        if (type !== undefined) return E.left(twice)
        type = ct.right
        break
      }
      case 'size': {
        const n = value === '0' ? 0 : sdpInteger(value)
        if (n === undefined) return E.left(`size:${value} is not an integer`)
        if (size !== undefined) return E.left(twice)
        size = n
        break
      }
      case 'hash': {
        const c = value.indexOf(':')
        const algorithm = value.slice(0, c)
        const hex = value.slice(c + 1)
        if (c === -1 || !isToken(algorithm) || !HASH_VALUE.test(hex))
          return E.left(`hash:${value} is not hash:<algorithm>:XX:XX:…`)
        hashes.push({ algorithm, value: hex })
        break
      }
      default:
        return E.left(`${show(sel)} is not a name, type, size or hash selector`)
    }
  }
  return E.right({
    ...(name !== undefined ? { name } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(size !== undefined ? { size } : {}),
    hashes
  })
}

/** Formats a `file-selector` value in the RFC's order: name, type, size, hashes. */
export function formatFileSelector(f: FileSelector): string {
  return [
    ...(f.name !== undefined ? [`name:"${encodeFilenameString(f.name)}"`] : []),
    ...(f.type !== undefined ? [`type:${formatFileType(f.type)}`] : []),
    ...(f.size !== undefined ? [`size:${f.size}`] : []),
    ...f.hashes.map((h) => `hash:${h.algorithm}:${h.value}`)
  ].join(' ')
}

/** @internal */
const isFileSelector = (u: unknown): u is FileSelector =>
  typeof u === 'object' && u !== null && Array.isArray((u as FileSelector).hashes)

/** Codec of the `file-selector` attribute value (RFC 5547 §6, F-5-1, F-6-1..F-6-3). */
export const FileSelectorAttribute = headerCodec<FileSelector>(
  'FileSelector',
  isFileSelector,
  parseFileSelector,
  formatFileSelector
)

/** Codec of `file-transfer-id` (RFC 5547 §6 `token`; F-8.1-1) and of `file-disposition` (`token`). */
const tokenCodec = (name: string): t.Type<string, string, string> =>
  headerCodec<string>(
    name,
    isToken,
    (s) => (isToken(s) ? E.right(s) : E.left('expected a token')),
    (s) => s
  )
/** Codec of the `file-transfer-id` attribute value (RFC 5547 §6, F-8.1-1). */
export const FileTransferId = tokenCodec('FileTransferId')
/** Codec of the `file-disposition` attribute value, e.g. `render` or `attachment` (RFC 5547 §6). */
export const FileDisposition = tokenCodec('FileDisposition')

/** `a=file-date` (RFC 5547 §6): RFC 5322 date-times with numeric zones, each kind at most once (F-6-4). */
export interface FileDate {
  readonly creation?: string
  readonly modification?: string
  readonly read?: string
}

const DATE_KINDS = ['creation', 'modification', 'read'] as const
/** A date-time that ends in a numeric zone, e.g. `Mon, 15 May 2006 15:01:31 +0300` (F-6-4). @internal */
const DATE_TIME = /^[^"]*[0-9]{2}:[0-9]{2}(?::[0-9]{2})? [+-][0-9]{4}$/

/** Parses a `file-date` value: `creation:"…"`, `modification:"…"`, `read:"…"`, separated by SP. */
export function parseFileDate(s: string): E.Either<string, FileDate> {
  const out: { -readonly [K in keyof FileDate]: string } = {}
  const re = /\s*([a-z]+):"([^"]*)"\s*/gy
  let m: RegExpExecArray | null
  let end = 0
  while ((m = re.exec(s)) !== null) {
    const kind = m[1] as (typeof DATE_KINDS)[number]
    const value = m[2] ?? ''
    if (!DATE_KINDS.includes(kind)) return E.left(`${show(m[1] ?? '')} is not creation, modification or read`)
    if (out[kind] !== undefined) return E.left(`${kind} occurs twice (F-6-4)`)
    if (!DATE_TIME.test(value)) return E.left(`${kind}:${show(value)} is not a date-time with a numeric zone (F-6-4)`)
    out[kind] = value
    end = re.lastIndex
  }
  if (end !== s.length || end === 0) return E.left('expected creation:"date-time", modification:"…" or read:"…"')
  return E.right(out)
}

/** Codec of the `file-date` attribute value (RFC 5547 §6, F-6-4). */
export const FileDateAttribute = headerCodec<FileDate>(
  'FileDate',
  (u): u is FileDate => typeof u === 'object' && u !== null,
  parseFileDate,
  (d) =>
    DATE_KINDS.flatMap((k) => {
      const v = d[k]
      return v === undefined ? [] : [`${k}:"${v}"`]
    }).join(' ')
)

/** Codec of the `file-icon` attribute value: a `cid:` URL (RFC 2392) of a body part next to the SDP (F-8.8-1). */
export const FileIcon = headerCodec<string>(
  'FileIcon',
  (u): u is string => typeof u === 'string' && /^cid:\S+$/i.test(u),
  (s) => (/^cid:\S+$/i.test(s) ? E.right(s) : E.left('expected a cid: URL (RFC 2392)')),
  (s) => s
)

/**
 * `a=file-range:start-stop` (RFC 5547 §6): the octets of the file to transfer, 1-based and inclusive; `stop` is `*`
 * when the size is unknown. Absent means the whole file (`1-*`).
 */
export interface FileRange {
  readonly start: number
  readonly stop: number | '*'
}

/** Parses a `file-range` value; `stop` must not be below `start`. */
export function parseFileRange(s: string): E.Either<string, FileRange> {
  const m = /^([0-9]+)-([0-9]+|\*)$/.exec(s)
  const start = m?.[1] === undefined ? undefined : sdpInteger(m[1])
  const stop = m?.[2] === '*' ? '*' : m?.[2] === undefined ? undefined : sdpInteger(m[2])
  if (start === undefined || stop === undefined) return E.left('expected start-stop (integers from 1, stop may be *)')
  if (stop !== '*' && stop < start) return E.left(`the stop offset ${stop} is below the start offset ${start}`)
  return E.right({ start, stop })
}

/** Codec of the `file-range` attribute value (RFC 5547 §6, F-8.7-1). */
export const FileRangeAttribute = headerCodec<FileRange>(
  'FileRange',
  (u): u is FileRange =>
    typeof u === 'object' &&
    u !== null &&
    Number.isSafeInteger((u as FileRange).start) &&
    (u as FileRange).start >= 1 &&
    ((u as FileRange).stop === '*' || Number.isSafeInteger((u as FileRange).stop)),
  parseFileRange,
  (r) => `${r.start}-${r.stop}`
)

/**
 * The codec of each MSRP media attribute that has a value, by its registered name (RFC 4975 §15, RFC 4145,
 * RFC 5547 §12). `msrp-cema` (RFC 6714) has no value; direction attributes have none either.
 */
export const MSRP_ATTRIBUTE_CODECS = {
  path: PathAttribute,
  'accept-types': AcceptTypes,
  'accept-wrapped-types': AcceptWrappedTypes,
  'max-size': MaxSize,
  setup: SetupAttribute,
  'file-selector': FileSelectorAttribute,
  'file-transfer-id': FileTransferId,
  'file-disposition': FileDisposition,
  'file-date': FileDateAttribute,
  'file-icon': FileIcon,
  'file-range': FileRangeAttribute
} as const

/** A media attribute with a value that this module decodes, e.g. `'path'`. */
export type MsrpAttributeName = keyof typeof MSRP_ATTRIBUTE_CODECS

/** The decoded type of attribute `N`, e.g. `MsrpAttributeValue<'file-range'>` is `FileRange`. */
export type MsrpAttributeValue<N extends MsrpAttributeName> = t.TypeOf<(typeof MSRP_ATTRIBUTE_CODECS)[N]>
