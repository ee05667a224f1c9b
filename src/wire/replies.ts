/**
 * Building the frames that answer a request: transaction responses (RFC 4975 §7.2) and REPORTs (RFC 4975 §7.1.2 to
 * §7.1.4); rfc4975-core.md §5.6, §5.7. Pure: nothing here decides *whether* to answer, which follows Failure-Report and
 * Success-Report (src/operators/answer-chunks.ts, report-success.ts).
 *
 * ```ts
 * responseToSend(send, 200, { from: 'msrp://bob.example.com:8888/9di4eae923wzd;tcp' }) // MSRP <tid> 200 OK
 * reportFor(send, 200, { from, byteRange: { start: 1, end: 23, total: 23 } })        // MSRP <new> REPORT … 000 200 OK
 * ```
 */
import type { SendHead } from './chunk'
import { formatByteRange, type ByteRange } from './headers/byte-range'
import { formatPath } from './headers/path'
import { formatStatus, STATUS_NAMESPACE_MSRP } from './headers/status'
import { newTransactionId } from './ids'
import { getHeaders, type Header, type MsrpRequest, type MsrpResponse, type RequestHead } from './model'
import { formatUri } from './uri'

/**
 * The default comment of each MSRP status code: the IANA descriptions of the MSRP status code registry (RFC 4975 §10
 * and §15, rfc4975-core.md §9), except 200, which is `OK` as in every example of RFC 4975 §4 and §11 (the registry
 * says "Success"). A code missing here gets no comment (`status-code` alone is valid, RFC 4975 §9).
 */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Unintelligible',
  401: 'Unauthorized', // RFC 4976 §5.1, §10
  403: 'Action-not-allowed',
  404: "Failure to resolve recipient's URI", // RFC 7701 (multi-party chat), as are 424, 425 and 428
  408: 'Transaction-did-not-complete-in-allotted-time',
  413: 'Stop-sending-message',
  415: 'MIME-not-understood',
  423: 'Parameter-out-of-bounds', // RFC 4976 §5.1 prose calls it "Interval Out-of-Bounds"; the registry name is used
  424: 'Malformed nickname',
  425: 'Nickname reserved or already in use',
  428: 'Private messages not supported',
  481: 'Session-does-not-exist',
  501: 'Request-method-not-understood',
  506: 'Session-already-in-use'
}

/** Options of {@link responseTo} and {@link responseToSend}. Every field is optional. */
export interface ResponseOptions {
  /** The start line's comment. Default: `REASON_PHRASES[status]`, or none for a code missing there. */
  readonly comment?: string
  /**
   * The responder's own URI, written as From-Path (C-7.2-4). Default: the request's first To-Path URI, which at an
   * endpoint is its own session URI (RFC 4975 §7.3) and at a relay its own URI.
   */
  readonly from?: string
}

/** Options of {@link reportFor}. Only `from` is required: a REPORT has no request to take the reporter's URI from. */
export interface ReportOptions {
  /** The reporting endpoint's own URI, written as From-Path (C-7.1.3-3). */
  readonly from: string
  /**
   * The Byte-Range to report; omitted when `undefined`. A success REPORT may leave it out; a failure REPORT about a
   * chunk MUST carry one (C-7.1.4-5): use {@link receivedRange}.
   */
  readonly byteRange?: ByteRange
  /** The comment after the code in `Status`. Default: `REASON_PHRASES[status]`, or none. */
  readonly comment?: string
  /** Default: a fresh `newTransactionId()` (a REPORT is a request of its own, C-7.1-1). */
  readonly transactionId?: string
}

/** @internal The URIs of a path header as written, split on SP (runs of spaces tolerated, as in `parsePath`). */
const pathTokens = (headers: readonly Header[], name: string): string[] =>
  (getHeaders(headers, name)[0] ?? '').split(' ').filter((u) => u !== '')

/** @internal */
const response = (
  transactionId: string,
  status: number,
  toPath: string | undefined,
  from: string | undefined,
  comment: string | undefined
): MsrpResponse => {
  // C-7.2-4: To-Path then From-Path (the responder's URI); a response has no other header and no body.
  const headers: Header[] = []
  if (toPath !== undefined) headers.push(['To-Path', toPath])
  if (from !== undefined) headers.push(['From-Path', from])
  return {
    type: 'response',
    // C-7.2-2: the response carries the request's transaction id.
    transactionId,
    status,
    comment: comment ?? REASON_PHRASES[status],
    headers,
    // C-7.2-4: the end-line flag of a response is always `$`.
    continuation: '$'
  }
}

/**
 * The transaction response to `request` (RFC 4975 §7.2), built from its raw headers, so that requests that failed
 * validation (a 400 for a bad Byte-Range, a 501 for an unknown method) can be answered too. URIs are copied as written.
 *
 * - transaction id: the request's (C-7.2-2);
 * - To-Path: the first From-Path URI for a SEND, the whole From-Path for any other method (C-7.2-3);
 * - From-Path: `options.from`, else the request's first To-Path URI (C-7.2-4); end-line flag `$`.
 *
 * Total, never throws. A request without a From-Path (missing or blank) has no path back and cannot be answered as
 * §7.2 asks: check first (`getHeader(request.headers, 'From-Path')`); given one anyway, the response has no To-Path
 * header (and no From-Path either if there is no `from` and no To-Path), which the peer will refuse.
 *
 * Deciding whether to answer is the caller's job: never answer a REPORT (C-7.1.2-6), nor a request with
 * Failure-Report `no` (C-7.1.4-2), nor with 200 one with `partial` (C-7.1.4-3).
 */
export function responseTo(request: RequestHead, status: number, options: ResponseOptions = {}): MsrpResponse {
  const back = pathTokens(request.headers, 'From-Path')
  const from = options.from ?? pathTokens(request.headers, 'To-Path')[0]
  // C-7.2-3: a SEND is answered to the previous hop only; other methods (AUTH) to the whole way back.
  const toPath = back.length === 0 ? undefined : request.method === 'SEND' ? back[0] : back.join(' ')
  return response(request.transactionId, status, toPath, from, options.comment)
}

/**
 * The transaction response to a validated SEND (RFC 4975 §7.2): like {@link responseTo}, for a `SendHead`, which
 * always has both paths. To-Path is the first From-Path URI (C-7.2-3), From-Path `options.from` or else the first
 * To-Path URI (C-7.2-4); URIs are written with `formatUri`.
 */
export function responseToSend(send: SendHead, status: number, options: ResponseOptions = {}): MsrpResponse {
  const from = options.from ?? formatUri(send.toPath[0])
  return response(send.transactionId, status, formatUri(send.fromPath[0]), from, options.comment)
}

/**
 * The Byte-Range of a failure REPORT about a chunk of `send` of which `received` body bytes arrived (C-7.1.4-5):
 * range-start and total copied from the SEND, range-end computed from the bytes received (`start - 1` when none did).
 * range-end is capped at a numeric total, so that the REPORT stays decodable when the failure is that the chunk went
 * past its declared total (reassemble's `BeyondTotal`).
 */
export function receivedRange(send: SendHead, received: number): ByteRange {
  const { start, total } = send.byteRange
  const end = start + received - 1
  return { start, end: total === '*' ? end : Math.min(end, total), total }
}

/**
 * A REPORT about `send` (RFC 4975 §7.1.2 to §7.1.4): a new bodiless request with
 * - To-Path: the SEND's whole From-Path, back to the original sender; From-Path: `options.from` (C-7.1.3-3);
 * - Message-ID: the SEND's (C-7.1.2-2);
 * - Byte-Range: `options.byteRange` when given (a failure REPORT about a chunk needs it, C-7.1.4-5);
 * - Status: `000 <status> <comment>` (C-7.1.3-3, C-7.1.4-4);
 * - no Success-Report or Failure-Report (C-7.1.2-1); end-line flag `$` (REPORTs are not interruptible).
 *
 * It only ever reports on a SEND, so it can never be a REPORT about a REPORT (C-7.1.2-6). Whether to send it follows
 * Success-Report and Failure-Report (C-7.1.3-1, C-7.1.3-5, C-7.1.4-2): the caller decides.
 */
export function reportFor(send: SendHead, status: number, options: ReportOptions): MsrpRequest {
  const comment = options.comment ?? REASON_PHRASES[status]
  const headers: Header[] = [
    ['To-Path', formatPath(send.fromPath)],
    ['From-Path', options.from],
    ['Message-ID', send.messageId]
  ]
  if (options.byteRange !== undefined) headers.push(['Byte-Range', formatByteRange(options.byteRange)])
  headers.push([
    'Status',
    formatStatus(
      comment === undefined
        ? { namespace: STATUS_NAMESPACE_MSRP, code: status }
        : { namespace: STATUS_NAMESPACE_MSRP, code: status, comment }
    )
  ])
  return {
    type: 'request',
    transactionId: options.transactionId ?? newTransactionId(),
    method: 'REPORT',
    headers,
    body: undefined,
    continuation: '$'
  }
}
