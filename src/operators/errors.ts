/**
 * The error of the error channel (STYLE.md §4, tier 3): connection-fatal problems only. Everything confined to one
 * frame or one transaction travels as a value (`E.left(failure)`), never as an error.
 */
import type { FramingFailure, FramingReason } from '../wire/failures'

/**
 * Why a connection is over. Every `FramingReason` (the framer lost sync, a limit was hit, the stream was cut short;
 * docs/errors.md, `FramingFailure`), plus:
 */
export type ConnectionReason =
  | FramingReason
  /** The byte source errored (a transport's `incoming$` failing with its `TransportError`); `cause` holds that error. */
  | 'TransportFailed'

/** A connection-fatal problem that does not come from the framer (the framer's come as a `FramingFailure`). */
export interface ConnectionProblem {
  readonly reason: ConnectionReason
  /** Human-readable detail, the error's message after `reason: `. */
  readonly detail: string
  /** The error behind the problem, e.g. a `TransportError`. */
  readonly cause?: unknown
}

/**
 * The one `Error` the operators put on the error channel: the connection cannot go on (STYLE.md §4, tier 3).
 *
 * ```ts
 * new MsrpConnectionError(framingFailure) // reason = failure.reason, failure = framingFailure
 * new MsrpConnectionError({ reason: 'TransportFailed', detail: 'socket reset', cause: transportError })
 * ```
 */
export class MsrpConnectionError extends Error {
  override readonly name = 'MsrpConnectionError'
  readonly reason: ConnectionReason
  /** The framer's failure when the framer found the problem: offset, status to answer, transaction id, method. */
  readonly failure: FramingFailure | undefined
  override readonly cause: unknown

  constructor(problem: FramingFailure | ConnectionProblem) {
    super(`${problem.reason}: ${problem.detail}`)
    this.reason = problem.reason
    if ('_tag' in problem) {
      this.failure = problem
      this.cause = undefined
    } else {
      this.failure = undefined
      this.cause = problem.cause
    }
  }
}
