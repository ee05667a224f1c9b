/**
 * Typed views of SEND and REPORT heads: the headers each method requires, decoded once (STYLE.md §5:
 * `validateChunk`). Downstream code trusts these types and never parses a header again.
 */
import * as E from 'fp-ts/Either'
import { headerFailure, type HeaderFailure } from './failures'
import type { RequestHead } from './model'
import { decodeHeader, requireHeader } from './headers'
import type { ByteRange } from './headers/byte-range'
import type { ContentType } from './headers/content-type'
import type { Path } from './headers/path'
import {
  FAILURE_REPORT_DEFAULT,
  SUCCESS_REPORT_DEFAULT,
  type FailureReport,
  type SuccessReport
} from './headers/report'
import type { Status } from './headers/status'

/** The Byte-Range assumed when a SEND has none: the whole message in one chunk, size unknown (C-7.1.1-10). */
export const WHOLE_MESSAGE_RANGE: ByteRange = { start: 1, end: '*', total: '*' }

/** A validated SEND head (RFC 4975 §7.1.1). */
export interface SendHead {
  readonly request: RequestHead
  readonly transactionId: string
  readonly toPath: Path
  readonly fromPath: Path
  readonly messageId: string
  readonly byteRange: ByteRange
  /** Absent on a bodiless SEND (C-7.1-5). */
  readonly contentType: ContentType | undefined
  /** `no` when absent (C-7.1.1-8). */
  readonly successReport: SuccessReport
  /** `yes` when absent (C-7.1.1-8). */
  readonly failureReport: FailureReport
}

/** A validated REPORT head (RFC 4975 §7.1.2). */
export interface ReportHead {
  readonly request: RequestHead
  readonly transactionId: string
  readonly toPath: Path
  readonly fromPath: Path
  readonly messageId: string
  readonly status: Status
  readonly byteRange: ByteRange | undefined
}

const collect = <A>(
  results: ReadonlyArray<E.Either<HeaderFailure, unknown>>,
  build: () => A
): E.Either<HeaderFailure, A> => {
  for (const r of results) if (E.isLeft(r)) return r
  return E.right(build())
}

const right = <A>(r: E.Either<HeaderFailure, A>): A => (r as E.Right<A>).right

/**
 * Decodes what a SEND must carry: To-Path, From-Path, Message-ID (C-7.1.1-2); Byte-Range, Success-Report,
 * Failure-Report when present; Content-Type when `hasBody` (C-7.1-2). The first problem is returned, naming the
 * header: the receiver answers it with 400 (unless Failure-Report says otherwise).
 */
export function validateSend(request: RequestHead, hasBody: boolean): E.Either<HeaderFailure, SendHead> {
  const h = request.headers
  const toPath = requireHeader(h, 'To-Path')
  const fromPath = requireHeader(h, 'From-Path')
  const messageId = requireHeader(h, 'Message-ID')
  const byteRange = decodeHeader(h, 'Byte-Range')
  const successReport = decodeHeader(h, 'Success-Report')
  const failureReport = decodeHeader(h, 'Failure-Report')
  const contentType = hasBody ? requireHeader(h, 'Content-Type') : decodeHeader(h, 'Content-Type')
  return collect([toPath, fromPath, messageId, byteRange, successReport, failureReport, contentType], () => ({
    request,
    transactionId: request.transactionId,
    toPath: right(toPath),
    fromPath: right(fromPath),
    messageId: right(messageId),
    byteRange: right(byteRange) ?? WHOLE_MESSAGE_RANGE,
    contentType: right(contentType),
    successReport: right(successReport) ?? SUCCESS_REPORT_DEFAULT,
    failureReport: right(failureReport) ?? FAILURE_REPORT_DEFAULT
  }))
}

/**
 * Decodes what a REPORT must carry: To-Path, From-Path, Message-ID and Status (C-7.1.2-1, C-7.1.2-2), Byte-Range
 * when present. A REPORT carrying Success-Report or Failure-Report is refused (C-7.1.2-1); REPORTs are never
 * answered, so the failure is only for the receiver's logs.
 */
export function validateReport(request: RequestHead): E.Either<HeaderFailure, ReportHead> {
  const h = request.headers
  for (const name of ['Success-Report', 'Failure-Report'] as const) {
    if (h.some(([n]) => n.toLowerCase() === name.toLowerCase())) {
      return E.left(headerFailure(name, 'Invalid', `${name}: must not appear in a REPORT (C-7.1.2-1)`))
    }
  }
  const toPath = requireHeader(h, 'To-Path')
  const fromPath = requireHeader(h, 'From-Path')
  const messageId = requireHeader(h, 'Message-ID')
  const status = requireHeader(h, 'Status')
  const byteRange = decodeHeader(h, 'Byte-Range')
  return collect([toPath, fromPath, messageId, status, byteRange], () => ({
    request,
    transactionId: request.transactionId,
    toPath: right(toPath),
    fromPath: right(fromPath),
    messageId: right(messageId),
    status: right(status),
    byteRange: right(byteRange)
  }))
}
