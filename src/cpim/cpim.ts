/**
 * message/cpim (RFC 3862, related.md §4): the syntax layer. `decodeCpim` splits a CPIM object into its message
 * headers (in order, values as written: escapes kept), the encapsulated MIME headers and the body (a view of the
 * input, binary safe); `encodeCpim` writes them back. What the headers mean (From, To, namespaces, Require, escapes)
 * is in `envelope.ts`.
 *
 * ```text
 * From: Alice <sip:alice@example.com>CRLF      message headers (P-2.2-1: one per line, one SP after the colon)
 * To: <sip:bob@example.com>CRLF
 * CRLF                                         separator
 * Content-Type: text/plainCRLF                 encapsulated MIME headers (P-2.4-1: Content-Type required)
 * CRLF
 * Hi                                           body, up to the end of the MSRP message
 * ```
 *
 * Pure: no Node built-ins, no rxjs.
 */
import * as E from 'fp-ts/Either'
import type { Header } from '../wire/model'
import { HEADER_NAME, HEADER_VALUE, NAME, STRING, TOKEN } from './grammar'

/** Most message headers `decodeCpim` takes. */
export const CPIM_MAX_HEADERS = 64
/** Most encapsulated MIME headers `decodeCpim` takes. */
export const CPIM_MAX_CONTENT_HEADERS = 32
/** Longest header line (message or MIME, with its folded continuations), in bytes, without the CRLF. */
export const CPIM_MAX_LINE_BYTES = 8 * 1024
/** Most bytes before the body: both header sections and their blank lines. */
export const CPIM_MAX_HEAD_BYTES = 64 * 1024

/** The media type of a CPIM object (RFC 3862 §7; matched case-insensitively). */
export const CPIM_CONTENT_TYPE = 'message/cpim'

/** Why a CPIM object could not be decoded or built. Every reason is listed in docs/cpim.md. */
export type CpimReason =
  /** No empty line after the message headers, or a MIME header among them (see `allowMissingSeparator`). */
  | 'MissingSeparator'
  /** A message header line does not follow `Header-name ":" *(";" Parameter) SP Header-value` (P-2.2-1). */
  | 'HeaderSyntax'
  /** An encapsulated MIME header line is not `name ":" value` (with optional folding). */
  | 'ContentHeaderSyntax'
  /** The encapsulated MIME headers have no Content-Type (P-2.4-1). */
  | 'MissingContentType'
  /** A header line is longer than `maxLineBytes`. */
  | 'HeaderTooLong'
  /** More message headers than `maxHeaders`, or MIME headers than `maxContentHeaders`. */
  | 'TooManyHeaders'
  /** No end of the headers within `maxHeadBytes`. */
  | 'HeadTooLarge'
  /** The header sections are not UTF-8 (P-2.2-1). */
  | 'InvalidUtf8'
  /** A header required by the MSRP profile (From, To: RFC 4975 §13) is missing. */
  | 'Missing'
  /** A header that may occur once occurs again (RFC 4975 §13: only NS, To and cc repeat). */
  | 'Duplicate'
  /** A header value does not follow its syntax (From/To/cc address, DateTime, NS, Require, Subject). */
  | 'Invalid'
  /** A `prefix.Name` header whose prefix no earlier NS header declared (P-3.4-1). */
  | 'UnknownPrefix'
  /** Require lists a header this recipient does not understand (P-3.5-1). */
  | 'RequireNotUnderstood'
  /** The inner content type is not acceptable (RFC 4975 §8.6, accept-types / accept-wrapped-types). */
  | 'TypeNotAccepted'

export interface CpimFailure {
  readonly _tag: 'CpimFailure'
  readonly reason: CpimReason
  /** The header concerned, when there is one. */
  readonly header?: string
  readonly detail: string
}

/** @internal */
export const cpimFailure = (reason: CpimReason, detail: string, header?: string): CpimFailure =>
  header === undefined ? { _tag: 'CpimFailure', reason, detail } : { _tag: 'CpimFailure', reason, header, detail }

/** A header parameter as written: `;lang=fr` is `{ name: 'lang', value: 'fr' }` (a String value keeps its quotes). */
export interface CpimParam {
  readonly name: string
  readonly value: string
}

/**
 * One message header line. `name` is the Header-name as written, prefix included (`MyFeatures.VitalMessageOption`);
 * header names are case-sensitive (P-2.2-2). `value` is the Header-value as written, escapes included: decode it with
 * the codecs of `envelope.ts` (`unescapeCpim` for free text).
 */
export interface CpimHeader {
  readonly name: string
  readonly params: readonly CpimParam[]
  readonly value: string
}

/** A decoded CPIM object. Encoding it gives back the bytes it was decoded from when those were in canonical form. */
export interface CpimMessage {
  /** The message headers, in order (P-2.2-2: never reordered). */
  readonly headers: readonly CpimHeader[]
  /**
   * The encapsulated MIME headers in order, `[name, value]`: the value after the colon and its leading spaces; a
   * folded value keeps its CRLF and indentation (`unfoldMime` joins it).
   */
  readonly contentHeaders: readonly Header[]
  /** The encapsulated body: a view of the decoded bytes, binary safe. */
  readonly body: Uint8Array
  /**
   * Set when the object, as decoded with `allowMissingSeparator`, had no empty line between the message headers and
   * the MIME headers (as printed in RFC 4975 §11.4 and RFC 5547 §9.1); `encodeCpim` then omits it too.
   */
  readonly missingSeparator?: true
}

export interface CpimDecodeOptions {
  /** Default {@link CPIM_MAX_HEADERS}. */
  readonly maxHeaders?: number
  /** Default {@link CPIM_MAX_CONTENT_HEADERS}. */
  readonly maxContentHeaders?: number
  /** Default {@link CPIM_MAX_LINE_BYTES}. */
  readonly maxLineBytes?: number
  /** Default {@link CPIM_MAX_HEAD_BYTES}. */
  readonly maxHeadBytes?: number
  /**
   * Leniency, off by default: take the first `Content-…` header among the message headers as the start of the MIME
   * headers when the empty line between them is missing (the examples of RFC 4975 §11.4 and RFC 5547 §9.1 are
   * printed so). Without it such an object fails with `MissingSeparator`.
   */
  readonly allowMissingSeparator?: boolean
}

const CR = 0x0d
const LF = 0x0a
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const TEXT = new TextEncoder()

/** @internal RFC 5322 field-name: printable US-ASCII but ":". */
const MIME_NAME = /^[\x21-\x39\x3B-\x7E]+$/

/**
 * Decodes a CPIM object (the MSRP body of a `message/cpim` message, RFC 3862 §2): message headers, an empty line,
 * MIME headers (Content-Type required, P-2.4-1), an empty line, the body. Lines end with CRLF (P-2.2-1); the header
 * sections must be UTF-8. Bounded by the limits of `options`. Never throws.
 */
export function decodeCpim(bytes: Uint8Array, options: CpimDecodeOptions = {}): E.Either<CpimFailure, CpimMessage> {
  const maxHeaders = options.maxHeaders ?? CPIM_MAX_HEADERS
  const maxContent = options.maxContentHeaders ?? CPIM_MAX_CONTENT_HEADERS
  const maxLine = options.maxLineBytes ?? CPIM_MAX_LINE_BYTES
  const maxHead = options.maxHeadBytes ?? CPIM_MAX_HEAD_BYTES
  const headers: CpimHeader[] = []
  const contentHeaders: Array<[string, string]> = []
  let missingSeparator = false
  let section: 'message' | 'mime' = 'message'
  let pos = 0
  for (;;) {
    // One line: up to CRLF, within the limits.
    let end = pos
    const limit = Math.min(bytes.length, pos + maxLine + 1, maxHead + 1)
    while (end < limit && bytes[end] !== CR && bytes[end] !== LF) end++
    if (end >= bytes.length) {
      return E.left(
        section === 'message'
          ? cpimFailure('MissingSeparator', 'the message headers do not end with an empty line')
          : cpimFailure('MissingSeparator', 'the MIME headers do not end with an empty line')
      )
    }
    if (end >= maxHead) return E.left(cpimFailure('HeadTooLarge', `no end of the headers within ${maxHead} bytes`))
    if (end - pos > maxLine)
      return E.left(cpimFailure('HeaderTooLong', `a header line is longer than ${maxLine} bytes`))
    if (bytes[end] !== CR || bytes[end + 1] !== LF) {
      const what = section === 'message' ? 'HeaderSyntax' : 'ContentHeaderSyntax'
      return E.left(cpimFailure(what, `a line at byte ${end} does not end with CRLF`))
    }
    const text = utf8(bytes.subarray(pos, end))
    if (text === undefined) return E.left(cpimFailure('InvalidUtf8', `the header line at byte ${pos} is not UTF-8`))
    const next = end + 2
    if (text === '') {
      pos = next
      if (section === 'message') {
        section = 'mime'
        continue
      }
      break // end of the MIME headers: the body follows
    }
    if (section === 'message') {
      const colon = text.indexOf(':')
      const name = colon < 0 ? text : text.slice(0, colon)
      if (/^content-/i.test(name) && !name.includes('.')) {
        // A MIME header where message headers are: the empty line between the two sections is missing.
        if (options.allowMissingSeparator !== true) {
          return E.left(
            cpimFailure(
              'MissingSeparator',
              `${name} among the message headers: the empty line before the MIME headers is missing`,
              name
            )
          )
        }
        missingSeparator = true
        section = 'mime'
      } else {
        const header = parseHeaderLine(text)
        if (E.isLeft(header)) return header
        if (headers.length >= maxHeaders)
          return E.left(cpimFailure('TooManyHeaders', `more than ${maxHeaders} headers`))
        headers.push(header.right)
        pos = next
        continue
      }
    }
    // A MIME header: a continuation line (starting with SP or HTAB) belongs to the one before.
    if (text[0] === ' ' || text[0] === '\t') {
      const last = contentHeaders[contentHeaders.length - 1]
      if (last === undefined) return E.left(cpimFailure('ContentHeaderSyntax', 'a continuation line with no header'))
      last[1] += `\r\n${text}`
      if (TEXT.encode(`${last[0]}: ${last[1]}`).length > maxLine) {
        return E.left(cpimFailure('HeaderTooLong', `${last[0]} is longer than ${maxLine} bytes`, last[0]))
      }
    } else {
      const colon = text.indexOf(':')
      const name = colon < 0 ? '' : text.slice(0, colon)
      if (!MIME_NAME.test(name) || /[\x00-\x08\x0A-\x1F\x7F]/.test(text)) {
        return E.left(cpimFailure('ContentHeaderSyntax', `not a MIME header line: ${JSON.stringify(text)}`))
      }
      if (contentHeaders.length >= maxContent) {
        return E.left(cpimFailure('TooManyHeaders', `more than ${maxContent} MIME headers`))
      }
      contentHeaders.push([name, text.slice(colon + 1).replace(/^[ \t]+/, '')])
    }
    pos = next
  }
  if (!contentHeaders.some(([n]) => n.toLowerCase() === 'content-type')) {
    return E.left(cpimFailure('MissingContentType', 'the encapsulated MIME headers have no Content-Type (P-2.4-1)'))
  }
  const message: CpimMessage = {
    headers,
    contentHeaders: contentHeaders.map(([n, v]) => [n, v] as const),
    body: bytes.subarray(pos)
  }
  return E.right(missingSeparator ? { ...message, missingSeparator: true } : message)
}

/** @internal The UTF-8 text of `bytes`, or `undefined` if they are not UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes)
  } catch {
    return undefined
  }
}

/** @internal `Header-name ":" *( ";" Parameter ) SP Header-value` (RFC 3862 §3.6), P-2.2-1. */
function parseHeaderLine(line: string): E.Either<CpimFailure, CpimHeader> {
  const colon = line.indexOf(':')
  const name = colon < 0 ? '' : line.slice(0, colon)
  if (!HEADER_NAME.test(name)) return E.left(cpimFailure('HeaderSyntax', `not a header line: ${JSON.stringify(line)}`))
  const params: CpimParam[] = []
  let i = colon + 1
  while (line[i] === ';') {
    const eq = line.indexOf('=', i)
    const pname = eq < 0 ? '' : line.slice(i + 1, eq)
    if (!NAME.test(pname)) return E.left(cpimFailure('HeaderSyntax', `${name}: a parameter has no name`, name))
    const value = readParamValue(line, eq + 1)
    if (value === undefined) return E.left(cpimFailure('HeaderSyntax', `${name}: bad value of ;${pname}`, name))
    params.push({ name: pname, value })
    i = eq + 1 + value.length
  }
  // P-2.2-1: exactly one SP after the colon and the parameters.
  if (line[i] !== ' ') return E.left(cpimFailure('HeaderSyntax', `${name}: no SP after the colon`, name))
  const value = line.slice(i + 1)
  if (!HEADER_VALUE.test(value)) {
    return E.left(cpimFailure('HeaderSyntax', `${name}: control characters in the value (use escapes)`, name))
  }
  return E.right({ name, params, value })
}

/** @internal Param-value = Token / Number / String, read at `start`: the text as written, or `undefined`. */
function readParamValue(line: string, start: number): string | undefined {
  if (line[start] === '"') {
    let i = start + 1
    while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1
    const s = line.slice(start, i + 1)
    return i < line.length && STRING.test(s) ? s : undefined
  }
  let i = start
  while (i < line.length && line[i] !== ';' && line[i] !== ' ') i++
  const s = line.slice(start, i)
  return TOKEN.test(s) ? s : undefined
}

/**
 * Whether a message header can be written as is: a Header-name, parameters with a Name and a Token, Number or String
 * value, and a value without control characters. `encodeCpim` requires it.
 */
export function isValidCpimHeader(h: CpimHeader): boolean {
  return (
    HEADER_NAME.test(h.name) &&
    HEADER_VALUE.test(h.value) &&
    h.params.every((p) => NAME.test(p.name) && (TOKEN.test(p.value) || STRING.test(p.value)))
  )
}

/**
 * Encodes a CPIM object: each message header as `name[;params] value` CRLF, an empty line (unless
 * `missingSeparator`), each MIME header as `name: value` CRLF, an empty line, the body (copied once into the result).
 * Throws a `TypeError` for a header that cannot be written (a programmer error: build headers with `buildCpim`, or
 * check them with `isValidCpimHeader`).
 */
export function encodeCpim(message: CpimMessage): Uint8Array {
  let head = ''
  for (const h of message.headers) {
    if (!isValidCpimHeader(h)) throw new TypeError(`CPIM header ${JSON.stringify(h.name)} cannot be written as is`)
    head += `${h.name}:${h.params.map((p) => `;${p.name}=${p.value}`).join('')} ${h.value}\r\n`
  }
  if (message.missingSeparator !== true) head += '\r\n'
  for (const [name, value] of message.contentHeaders) {
    if (!MIME_NAME.test(name) || /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]|\r(?!\n[ \t])|(?<!\r)\n/.test(value)) {
      throw new TypeError(`MIME header ${JSON.stringify(name)} cannot be written as is`)
    }
    head += `${name}: ${value}\r\n`
  }
  head += '\r\n'
  const headBytes = TEXT.encode(head)
  const out = new Uint8Array(headBytes.length + message.body.length)
  out.set(headBytes, 0)
  out.set(message.body, headBytes.length)
  return out
}

/** The value of a folded MIME header on one line (RFC 5322 §2.2.3: CRLF before whitespace is removed). */
export function unfoldMime(value: string): string {
  return value.replace(/\r\n(?=[ \t])/g, '')
}

/** The first encapsulated MIME header `name` (case-insensitive), unfolded, or `undefined`. */
export function cpimContentHeader(message: Pick<CpimMessage, 'contentHeaders'>, name: string): string | undefined {
  const wanted = name.toLowerCase()
  const found = message.contentHeaders.find(([n]) => n.toLowerCase() === wanted)
  return found === undefined ? undefined : unfoldMime(found[1])
}
