import { filter, map, pipe, type OperatorFunction } from 'rxjs'
import { newTransactionId } from '../wire/ids'
import type { MsrpRequest } from '../wire/model'
import { reportFor } from '../wire/replies'
import type { ReassemblyEvent } from './reassemble'

export interface ReportSuccessOptions {
  /** This endpoint's session URI, written as the From-Path of every REPORT (C-7.1.3-3). Required: no default. */
  readonly localUri: string
  /** Makes the transaction id of each REPORT. Default `newTransactionId` (12 base62 characters, C-7.1-1). */
  readonly transactionIds?: () => string
}

/** @internal A `'complete'` event of `reassemble`: every byte of a message has arrived. */
type CompleteEvent = Extract<ReassemblyEvent, { readonly type: 'complete' }>

/**
 * Sends one success REPORT for each message that is complete and asked for one (RFC 4975 §7.1.3, rfc4975-core.md
 * §5.4): on a `'complete'` event whose head has `Success-Report: yes`, a REPORT covering the whole message,
 * `Byte-Range: 1-N/N` (`1-0/0` when empty) and `Status: 000 200 OK`. One REPORT for the whole message is allowed
 * (C-7.1.3-2) and covers every byte received (C-7.1.3-1). Success-Report `no` or absent: no REPORT (C-7.1.3-5).
 *
 * The REPORT goes to the SEND's whole From-Path, comes from `localUri` (C-7.1.3-3), copies the Message-ID
 * (C-7.1.2-2) and has no Success-Report or Failure-Report (C-7.1.2-1). The head used is the one of the chunk that
 * completed the message; every chunk of a message carries the same Success-Report (C-7.1.1-4). The input holds only
 * SENDs, so no REPORT is ever sent about a REPORT (C-7.1.2-6). A message that is aborted (`#`, connection lost) or
 * failed (413) never completes and gets no success REPORT; its failure was answered in a response (see
 * {@link answerChunks}, C-7.1.4-1), so there is no failure-REPORT operator. Every other event is ignored.
 *
 * ```text
 * events:  -s-d-c-x-|        c: complete of a 23-byte message with Success-Report yes
 *                            x: complete of a message with Success-Report no (s, d: start, data)
 * result:  -----R---|        R = REPORT, Byte-Range: 1-23/23, Status: 000 200 OK
 * ```
 */
export function reportSuccess(options: ReportSuccessOptions): OperatorFunction<ReassemblyEvent, MsrpRequest> {
  const from = options.localUri
  const transactionIds = options.transactionIds ?? newTransactionId
  return pipe(
    filter((e: ReassemblyEvent): e is CompleteEvent => e.type === 'complete' && e.head.successReport === 'yes'),
    map((e) =>
      reportFor(e.head, 200, {
        from,
        byteRange: { start: 1, end: e.size, total: e.size },
        transactionId: transactionIds()
      })
    )
  )
}
