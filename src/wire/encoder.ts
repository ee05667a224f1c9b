/**
 * Frame → wire bytes (RFC 4975 §7.1, §7.2; rfc4975-core.md §2).
 *
 * The result is a list of slices — head, body, tail — so that a large body is written as it is, never
 * copied into a bigger buffer (ws and mqtt-packet do the same). Invalid input is refused with a typed
 * `EncodeFailure`, never written.
 */
import * as E from 'fp-ts/Either'
import { encodeFailure, type EncodeFailure } from './failures'
import { KNOWN_METHODS, type Continuation, type Header, type MsrpFrame, type MsrpRequest } from './model'
import { MAX_NON_SEND_BODY_BYTES } from './limits'
import { ByteNeedle, nativeIndexOf } from './search'
import { newTransactionId } from './ids'
import { HNAME, isUtf8Text } from './headers/grammar'
import { IDENT } from './headers/message-id'
import { formatByteRange } from './headers/byte-range'
import { concatBytes } from './bytes'

/** A body above this many bytes must be interruptible, i.e. carry `*` as range-end (C-5.1-1, C-7.1.1-16). */
export const MAX_UNINTERRUPTIBLE_BYTES = 2048
/** How many fresh transaction ids `chooseTransactionId` tries before giving up (each collides with p ≈ 2^-71). */
export const TRANSACTION_ID_ATTEMPTS = 8

const TEXT = new TextEncoder()
const METHOD = /^[A-Z]+$/
const EMPTY = new Uint8Array(0)

export interface EncodeOptions {
  /** Largest body of a non-SEND request (C-7.1-4). Default `MAX_NON_SEND_BODY_BYTES` (10240). */
  readonly maxNonSendBodyBytes?: number
}

const DASH = 0x2d
const DASHES = 7

/**
 * Does `-------<transactionId>` occur anywhere in `body`? Every run of 7 dashes covers exactly one position whose
 * index is 6 modulo 7, so only every 7th byte is read until a dash turns up there; the run around it is then measured
 * and the id compared after its end (an ident never starts with a dash, so the id can only follow a whole run).
 * Binary data (one dash in 256 bytes) costs n/7 byte reads and no call or allocation: every chunk a sender writes
 * is checked, so this is on the hot path (hopping between dashes with the native `indexOf` cost 30 % of a sender's
 * CPU with 1 MiB chunks; a Horspool needle per chunk 6 % with 8 KiB chunks).
 */
export function endLineOccursIn(body: Uint8Array, transactionId: string): boolean {
  // Not an ident (which starts with ALPHANUM): the run logic below assumes the id does not start with a dash.
  if (transactionId.charCodeAt(0) === DASH) {
    return (
      body.length >= DASHES + transactionId.length && ByteNeedle.ascii('-------' + transactionId).indexIn(body) !== -1
    )
  }
  const n = body.length
  if (nativeIndexOf !== undefined && n >= NATIVE_SCAN_BYTES) {
    // Node: find each run of 7 dashes natively (Horspool in C++ reads about one byte in 7), then check the id.
    let p = nativeIndexOf(body, SEVEN_DASHES, 0, n)
    while (p !== -1) {
      let end = p + DASHES
      while (end < n && body[end] === DASH) end++
      if (idAt(body, end, transactionId)) return true
      p = end + DASHES > n ? -1 : nativeIndexOf(body, SEVEN_DASHES, end, n)
    }
    return false
  }
  let q = DASHES - 1
  while (q < n) {
    if (body[q] !== DASH) {
      q += DASHES
      continue
    }
    let start = q
    while (start > 0 && body[start - 1] === DASH) start--
    let end = q + 1
    while (end < n && body[end] === DASH) end++
    if (end - start >= DASHES && idAt(body, end, transactionId)) return true
    // The next run starts after `end`: resume at the first probe position past it.
    q += DASHES * Math.floor((end - q) / DASHES) + DASHES
  }
  return false
}

/** Bodies from this size on are scanned with the native search where there is one (below, the call costs more). */
const NATIVE_SCAN_BYTES = 512
const SEVEN_DASHES = new Uint8Array(DASHES).fill(DASH)

/** Does `id` start at `at` in `body`? */
function idAt(body: Uint8Array, at: number, id: string): boolean {
  if (at + id.length > body.length) return false
  for (let j = 0; j < id.length; j++) if (body[at + j] !== id.charCodeAt(j)) return false
  return true
}

/**
 * {@link endLineOccursIn} for a body written as several pieces: in any piece, or across the joints between them
 * (each joint is checked on a small window of the bytes around it, so the pieces are never joined).
 */
export function endLineOccursInPieces(pieces: readonly Uint8Array[], transactionId: string): boolean {
  if (pieces.length === 1) return endLineOccursIn(pieces[0] as Uint8Array, transactionId)
  const reach = DASHES + transactionId.length - 1 // bytes on each side of a joint an occurrence may need
  for (let k = 0; k < pieces.length; k++) {
    if (endLineOccursIn(pieces[k] as Uint8Array, transactionId)) return true
    if (k === pieces.length - 1) continue
    const before = lastBytes(pieces, k, reach)
    const after = firstBytes(pieces, k + 1, reach)
    if (endLineOccursIn(concatBytes([before, after]), transactionId)) return true
  }
  return false
}

/** The last `count` bytes (fewer if there are not so many) of `pieces[0..k]` joined. */
function lastBytes(pieces: readonly Uint8Array[], k: number, count: number): Uint8Array {
  const parts: Uint8Array[] = []
  let need = count
  for (let i = k; i >= 0 && need > 0; i--) {
    const p = pieces[i] as Uint8Array
    const take = Math.min(need, p.length)
    parts.unshift(p.subarray(p.length - take))
    need -= take
  }
  return concatBytes(parts)
}

/** The first `count` bytes (fewer if there are not so many) of `pieces[k..]` joined. */
function firstBytes(pieces: readonly Uint8Array[], k: number, count: number): Uint8Array {
  const parts: Uint8Array[] = []
  let need = count
  for (let i = k; i < pieces.length && need > 0; i++) {
    const p = pieces[i] as Uint8Array
    const take = Math.min(need, p.length)
    parts.push(p.subarray(0, take))
    need -= take
  }
  return concatBytes(parts)
}

/**
 * A fresh transaction id whose `-------<id>` does not occur in `body` (one buffer, or the pieces of one body) at all
 * (C-7.1-1, C-7.1-10).
 *
 * Stricter than the RFC, which only forbids the full end-line `-------<id><flag>CRLF`: deployed relays
 * (Kamailio) end a frame at `-------<id>` whatever follows, so we never let it appear in a body.
 */
export function chooseTransactionId(
  body: Uint8Array | readonly Uint8Array[] | undefined,
  generate: () => string = newTransactionId
): E.Either<EncodeFailure, string> {
  for (let k = 0; k < TRANSACTION_ID_ATTEMPTS; k++) {
    const id = generate()
    if (!IDENT.test(id)) return E.left(encodeFailure('TransactionIdInvalid', `generated id "${id}" is not an ident`))
    if (body === undefined) return E.right(id)
    if (!(body instanceof Uint8Array ? endLineOccursIn(body, id) : endLineOccursInPieces(body, id))) return E.right(id)
  }
  return E.left(
    encodeFailure('TransactionIdInBody', `${TRANSACTION_ID_ATTEMPTS} generated transaction ids all occur in the body`)
  )
}

function checkHeaders(headers: readonly Header[]): EncodeFailure | undefined {
  for (const [name, value] of headers) {
    if (!HNAME.test(name)) return encodeFailure('HeaderInvalid', `header name "${name}" is not a token`)
    if (!isUtf8Text(value)) return encodeFailure('HeaderInvalid', `the value of ${name} contains CR, LF or a control`)
  }
  return undefined
}

const isContentType = (h: Header | undefined): boolean => h !== undefined && h[0].toLowerCase() === 'content-type'
const isFlag = (c: string): c is Continuation => c === '$' || c === '+' || c === '#'

function headText(first: string, headers: readonly Header[]): string {
  let s = first + '\r\n'
  for (const [name, value] of headers) s += name + ': ' + value + '\r\n'
  return s
}

/**
 * Encodes one frame as `[head, body, tail]` (or one slice for a bodiless frame or a response).
 *
 * Checks: the transaction id is an ident; a method is 1*UPALPHA; a status has three digits; header
 * names are tokens and values have no CR/LF; a body comes with `Content-Type` as the last header and a
 * bodiless request has none (C-7.1-2, C-7.1-5); responses have no body and end with `$`; a non-SEND body
 * is at most 10240 bytes (C-7.1-4); `-------<tid>` does not occur in the body (C-7.1-10, stricter).
 */
export function encodeFrame(frame: MsrpFrame, options: EncodeOptions = {}): E.Either<EncodeFailure, Uint8Array[]> {
  const tid = frame.transactionId
  if (!IDENT.test(tid)) {
    return E.left(encodeFailure('TransactionIdInvalid', `"${tid}" is not an ident (4 to 32 of ALPHANUM . - + % =)`))
  }
  if (!isFlag(frame.continuation)) {
    return E.left(encodeFailure('ContinuationInvalid', `"${String(frame.continuation)}" is not $, + or #`))
  }
  const bad = checkHeaders(frame.headers)
  if (bad !== undefined) return E.left(bad)
  const endLine = '-------' + tid + frame.continuation + '\r\n'
  if (frame.type === 'response') {
    if (!Number.isInteger(frame.status) || frame.status < 0 || frame.status > 999) {
      return E.left(encodeFailure('StatusInvalid', `${frame.status} is not a three-digit status code`))
    }
    if (frame.comment !== undefined && !isUtf8Text(frame.comment)) {
      return E.left(encodeFailure('StatusInvalid', 'the comment contains CR, LF or a control'))
    }
    if (frame.continuation !== '$') {
      return E.left(encodeFailure('ContinuationInvalid', 'a response always ends with "$"'))
    }
    if ((frame as { body?: unknown }).body !== undefined) {
      return E.left(encodeFailure('BodyNotAllowed', 'a response has no body'))
    }
    const start =
      `MSRP ${tid} ${String(frame.status).padStart(3, '0')}` + (frame.comment !== undefined ? ' ' + frame.comment : '')
    return E.right([TEXT.encode(headText(start, frame.headers) + endLine)])
  }
  return encodeRequest(frame, endLine, options)
}

function encodeRequest(
  req: MsrpRequest,
  endLine: string,
  options: EncodeOptions
): E.Either<EncodeFailure, Uint8Array[]> {
  if (!METHOD.test(req.method)) return E.left(encodeFailure('MethodInvalid', `"${req.method}" is not 1*UPALPHA`))
  const start = `MSRP ${req.transactionId} ${req.method}`
  const body = req.body
  const hasContentType = req.headers.some(isContentType)
  if (body === undefined) {
    if (hasContentType) {
      return E.left(encodeFailure('HeaderInvalid', 'a bodiless request must not carry Content-Type (C-7.1-5)'))
    }
    return E.right([TEXT.encode(headText(start, req.headers) + endLine)])
  }
  if (!isContentType(req.headers[req.headers.length - 1])) {
    return E.left(
      encodeFailure('HeaderInvalid', 'a request with a body must end its headers with Content-Type (C-7.1-2)')
    )
  }
  const maxNonSend = options.maxNonSendBodyBytes ?? MAX_NON_SEND_BODY_BYTES
  if (req.method !== KNOWN_METHODS[0] && body.length > maxNonSend) {
    return E.left(
      encodeFailure('BodyNotAllowed', `a ${req.method} body of ${body.length} bytes exceeds ${maxNonSend} (C-7.1-4)`)
    )
  }
  if (endLineOccursIn(body, req.transactionId)) {
    return E.left(
      encodeFailure(
        'TransactionIdInBody',
        `"-------${req.transactionId}" occurs in the body; choose another transaction id`
      )
    )
  }
  return E.right([TEXT.encode(headText(start, req.headers) + '\r\n'), body, TEXT.encode('\r\n' + endLine)])
}

/** Where a chunk sits in its message: 1-based `start`, and the message `total` if known. */
export interface ChunkRange {
  readonly start: number
  readonly total: number | '*'
  /** Force `*` as range-end even for a small body (the sender may interrupt it). */
  readonly interruptible?: boolean
}

/**
 * The Byte-Range value for a chunk of `length` bytes (RFC 4975 §7.1.1): range-end is `*` when the body is
 * above 2048 bytes (C-5.1-1) or the chunk is interruptible, else `start + length - 1`; empty content is
 * `1-0/0` (C-7.1.1-15).
 */
export function chunkByteRange(range: ChunkRange, length: number): E.Either<EncodeFailure, string> {
  const { start, total } = range
  if (!Number.isSafeInteger(start) || start < 1) {
    return E.left(encodeFailure('ByteRangeInvalid', `range-start ${start} is not a positive integer`))
  }
  const last = start + length - 1
  if (total !== '*' && (!Number.isSafeInteger(total) || total < last)) {
    return E.left(encodeFailure('ByteRangeInvalid', `total ${total} is smaller than the range end ${last}`))
  }
  const end = range.interruptible === true || length > MAX_UNINTERRUPTIBLE_BYTES ? '*' : last
  return E.right(formatByteRange({ start, end, total }))
}

/**
 * Encodes a SEND chunk: sets its Byte-Range from `range` and the body length (replacing any it has, or
 * placed after Message-ID), and picks a transaction id that does not occur in the body when the frame's
 * `transactionId` is empty.
 */
export function encodeChunk(
  req: MsrpRequest,
  range: ChunkRange,
  options: EncodeOptions & { readonly generateId?: () => string } = {}
): E.Either<EncodeFailure, Uint8Array[]> {
  const body = req.body ?? EMPTY
  const value = chunkByteRange(range, body.length)
  if (E.isLeft(value)) return value
  const headers = req.headers.filter(([n]) => n.toLowerCase() !== 'byte-range')
  const after = headers.findIndex(([n]) => n.toLowerCase() === 'message-id')
  headers.splice(after === -1 ? Math.min(2, headers.length) : after + 1, 0, ['Byte-Range', value.right])
  let transactionId = req.transactionId
  if (transactionId === '') {
    const chosen = chooseTransactionId(req.body, options.generateId)
    if (E.isLeft(chosen)) return chosen
    transactionId = chosen.right
  }
  return encodeFrame({ ...req, transactionId, headers }, options)
}
