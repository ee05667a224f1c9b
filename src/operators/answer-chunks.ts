import { filter, map, pipe, type OperatorFunction } from 'rxjs'
import type { FailureReport } from '../wire/headers/report'
import type { MsrpResponse } from '../wire/model'
import { responseToSend } from '../wire/replies'
import type { ReassemblyEvent } from './reassemble'

export interface AnswerChunksOptions {
  /**
   * This endpoint's session URI, written as the From-Path of every response (C-7.2-4). Required: it has no default
   * (it is the URI the endpoint put in its SDP `a=path`).
   */
  readonly localUri: string
}

/** @internal A `'chunk'` event of `reassemble`: the status that answers one SEND chunk. */
type ChunkEvent = Extract<ReassemblyEvent, { readonly type: 'chunk' }>

/**
 * @internal Whether a chunk with this Failure-Report gets a transaction response with this status (RFC 4975 §7.2,
 * rfc4975-core.md §5.3): `yes` always, 200 or the error (C-7.2-1, C-7.1.4-1); `partial` only for an error, never 200
 * (C-7.1.4-3); `no` never (C-7.1.4-2).
 */
function wantsResponse(failureReport: FailureReport, status: number): boolean {
  switch (failureReport) {
    case 'yes':
      return true
    case 'partial':
      return status !== 200
    case 'no':
      return false
  }
}

/**
 * Turns the `'chunk'` events of {@link reassemble} into the transaction responses RFC 4975 §7.2 asks for, following
 * each chunk's Failure-Report (absent = `yes`, C-7.1.1-8):
 * - `yes`: always a response, 200 or the error status (C-7.2-1, C-7.1.4-1);
 * - `partial`: a response only when the status is not 200 (C-7.1.4-3: MUST NOT send 200);
 * - `no`: never a response (C-7.1.4-2).
 *
 * Responses carry the chunk's transaction id (C-7.2-2), To-Path = the first From-Path URI of the SEND (C-7.2-3),
 * From-Path = `localUri` and the flag `$` (C-7.2-4). Write them on the connection the SEND arrived on (C-7.2-5).
 * Every other event is ignored. The input holds only SENDs, so no REPORT is ever answered (C-7.1.2-6).
 *
 * Failures are answered here, in the response, not with a failure REPORT: when a failure is known at once the RFC
 * says to put the error code in the response (C-7.1.4-1), and reassemble knows every failure it reports while the
 * chunk's transaction is still open. So there is no failure-REPORT operator.
 *
 * ```text
 * events:  -a-b-c-d-|        a: chunk 200, Failure-Report yes   b: chunk 200, partial
 *                            c: chunk 413, partial               d: start (or data, complete, …)
 * result:  -A---C---|        A = MSRP <a's tid> 200 OK, C = MSRP <c's tid> 413 Stop-sending-message
 * ```
 */
export function answerChunks(options: AnswerChunksOptions): OperatorFunction<ReassemblyEvent, MsrpResponse> {
  const from = options.localUri
  return pipe(
    filter(
      (e: ReassemblyEvent): e is ChunkEvent => e.type === 'chunk' && wantsResponse(e.head.failureReport, e.status)
    ),
    map((e) => responseToSend(e.head, e.status, { from }))
  )
}
