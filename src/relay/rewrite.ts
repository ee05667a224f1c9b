/**
 * Path rewriting at a relay (RFC 4976 §6.4, rfc4976-relays.md §5.4, §5.7): pure functions over raw headers.
 *
 * ```text
 * received:  To-Path: R1 R2 B          From-Path: A
 * forwarded: To-Path: R2 B             From-Path: R1 A        (R1 = this relay's URI, popped and pushed)
 * ```
 *
 * URIs are moved as they were written (no re-formatting), separated by single spaces; every other header keeps its
 * place, name and value. Nothing here parses a URI: routing decided already which URI is ours.
 */
import * as E from 'fp-ts/Either'
import type { Continuation, Header, MsrpResponse, RequestHead } from '../wire/model'

/** Why a frame's paths cannot be rewritten. */
export type RewriteReason =
  /** No To-Path header, or it holds no URI. */
  | 'ToPathMissing'
  /** No From-Path header, or it holds no URI. */
  | 'FromPathMissing'
  /** To-Path holds fewer URIs than must be popped: nothing would be left to forward to. */
  | 'ToPathTooShort'

export interface RewriteFailure {
  readonly _tag: 'RewriteFailure'
  readonly reason: RewriteReason
  readonly detail: string
}

/** @internal */
const failure = (reason: RewriteReason, detail: string): RewriteFailure => ({ _tag: 'RewriteFailure', reason, detail })

/** The URIs of a path header value as written, split on SP (runs of spaces tolerated, as `parsePath` does). */
export function pathTokens(value: string): string[] {
  // The usual value has single spaces only: split it as it is (this runs for every relayed frame).
  if (isClean(value)) return value === '' ? [] : value.split(' ')
  return value.split(' ').filter((u) => u !== '')
}

/** The first URI of a path header value as written, or `''` (cheaper than `pathTokens(value)[0]`). */
export function firstToken(value: string): string {
  let from = 0
  while (value.charCodeAt(from) === 0x20) from++
  const end = value.indexOf(' ', from)
  return end === -1 ? value.slice(from) : value.slice(from, end)
}

/** @internal Index of the first header called `name` (ASCII case-insensitive), or -1. */
function indexOfHeader(headers: readonly Header[], name: string): number {
  const wanted = name.toLowerCase()
  for (let i = 0; i < headers.length; i++) if ((headers[i] as Header)[0].toLowerCase() === wanted) return i
  return -1
}

/** The result of {@link movePaths}: the new headers and the URIs moved, in the order they were popped. */
export interface MovedPaths {
  readonly headers: Header[]
  readonly moved: string[]
}

/**
 * Pops the first `count` URIs of To-Path and pushes each onto the front of From-Path (R-6.4.1-6, R-6.4.2-1,
 * R-6.4.3-4): after two moves `To-Path: R1 R2 B`, `From-Path: A` become `To-Path: B`, `From-Path: R2 R1 A`.
 * At least one URI must stay in To-Path: the next hop (of a request, or of a response on its way back).
 */
export function movePaths(headers: readonly Header[], count = 1): E.Either<RewriteFailure, MovedPaths> {
  const ti = indexOfHeader(headers, 'To-Path')
  const fi = indexOfHeader(headers, 'From-Path')
  const toValue = ti === -1 ? '' : (headers[ti] as Header)[1]
  const fromValue = fi === -1 ? '' : (headers[fi] as Header)[1]
  const to = pathTokens(toValue)
  if (to.length === 0) return E.left(failure('ToPathMissing', 'To-Path is missing or empty'))
  // A From-Path with single spaces only is kept as written (this runs for every relayed frame); else normalized.
  const from = isClean(fromValue) ? fromValue : pathTokens(fromValue).join(' ')
  if (from === '') return E.left(failure('FromPathMissing', 'From-Path is missing or empty'))
  if (to.length < count + 1)
    return E.left(failure('ToPathTooShort', `To-Path has ${to.length} URI(s): nothing to forward to after ours`))
  const moved = to.slice(0, count)
  const out = headers.slice()
  out[ti] = [(headers[ti] as Header)[0], to.slice(count).join(' ')]
  const pushed = count === 1 ? (moved[0] as string) : moved.slice().reverse().join(' ')
  out[fi] = [(headers[fi] as Header)[0], `${pushed} ${from}`]
  return E.right({ headers: out, moved })
}

/** @internal A path value with single spaces between URIs and none around them. */
function isClean(value: string): boolean {
  return value.indexOf('  ') === -1 && value.charCodeAt(0) !== 0x20 && value.charCodeAt(value.length - 1) !== 0x20
}

/**
 * A request as the next hop receives it (RFC 4976 §6.4): `count` URIs moved from To-Path to From-Path
 * (see {@link movePaths}) and a new transaction id (R-6.4-2); method and every other header unchanged.
 */
export function rewriteRequest(
  head: RequestHead,
  transactionId: string,
  count = 1
): E.Either<RewriteFailure, RequestHead> {
  const moved = movePaths(head.headers, count)
  return E.isLeft(moved)
    ? moved
    : E.right({ type: 'request', transactionId, method: head.method, headers: moved.right.headers })
}

/**
 * A response on its way back through the relay (RFC 4976 §6.4.3, R-6.4.3-4): `count` URIs (ours) moved from To-Path
 * to From-Path and the transaction id of the incoming leg restored; status, comment and other headers unchanged.
 */
export function rewriteResponse(
  response: MsrpResponse,
  transactionId: string,
  count = 1
): E.Either<RewriteFailure, MsrpResponse> {
  const moved = movePaths(response.headers, count)
  return E.isLeft(moved) ? moved : E.right({ ...response, transactionId, headers: moved.right.headers })
}

/**
 * `headers` with Byte-Range set to `value`: replaced where it is, or inserted after Message-ID (after the paths when
 * there is none), as the encoder places it. For re-chunked SENDs (R-6.4.1-5).
 */
export function withByteRange(headers: readonly Header[], value: string): Header[] {
  const out = headers.slice()
  const at = indexOfHeader(out, 'Byte-Range')
  if (at !== -1) {
    out[at] = [(out[at] as Header)[0], value]
    return out
  }
  const mid = indexOfHeader(out, 'Message-ID')
  out.splice(mid === -1 ? Math.min(2, out.length) : mid + 1, 0, ['Byte-Range', value])
  return out
}

/**
 * The wire bytes of a request the relay forwards: `[head, body, end-line]`, or one slice for a bodiless request.
 *
 * Unlike `encodeFrame`, nothing is checked again, on purpose: the header lines passed the framer (hname, utf8text;
 * frames with malformed lines are refused, not forwarded), the rewrite only moved URIs between two of them, and the
 * transaction id is one the relay chose not to occur in the body (C-7.1-10). The encoder's checks were a third of the
 * cost of encoding a small relayed SEND. Header order and spelling are kept (Kamailio copies From-Path from a fixed
 * offset after To-Path).
 */
export function encodeForwarded(
  head: RequestHead,
  body: Uint8Array | undefined,
  continuation: Continuation
): Uint8Array[] {
  let text = `MSRP ${head.transactionId} ${head.method}\r\n`
  for (const [name, value] of head.headers) text += `${name}: ${value}\r\n`
  const end = `-------${head.transactionId}${continuation}\r\n`
  if (body === undefined) return [Buffer.from(text + end)]
  return [Buffer.from(text + '\r\n'), body, Buffer.from('\r\n' + end)]
}

/**
 * The wire bytes of the 200 a relay answers a SEND with (RFC 4975 §7.2, R-6.4.1-1): what `encodeFrame(responseTo(head,
 * 200))` gives — To-Path the first From-Path URI, From-Path the first To-Path URI (ours), as written — built directly
 * for the one response the relay writes per forwarded SEND.
 */
export function encodeSendOk(head: RequestHead, toPath: string, fromPath: string): Uint8Array {
  const tid = head.transactionId
  return Buffer.from(
    `MSRP ${tid} 200 OK\r\nTo-Path: ${firstToken(fromPath)}\r\nFrom-Path: ${firstToken(toPath)}\r\n-------${tid}$\r\n`
  )
}
