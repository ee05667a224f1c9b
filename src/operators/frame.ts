import { Observable, type OperatorFunction } from 'rxjs'
import { Framer, type FailureEvent, type FramerEvent, type FramerOptions } from '../wire/framer'
import { DEFAULT_FRAMER_LIMITS } from '../wire/limits'
import { MsrpConnectionError } from './errors'

/** Default of `FrameOptions.messageOriented`: a byte stream (TCP, TLS), where frames may be split anywhere. */
export const DEFAULT_MESSAGE_ORIENTED = false

/** Every framer event but `failure`: a fatal failure ends the stream with an error instead. */
export type FramedEvent = Exclude<FramerEvent, FailureEvent>

export interface FrameOptions {
  /**
   * Each value is one whole message of a message-oriented transport (WebSocket), which must hold exactly one frame
   * (RFC 7977 §5.1, W-5.1-3). Default `DEFAULT_MESSAGE_ORIENTED` (`false`).
   */
  readonly messageOriented?: boolean
  /** The framer's limits; each field defaults to its constant in `DEFAULT_FRAMER_LIMITS` (wire/limits.ts). */
  readonly limits?: FramerOptions
}

/**
 * Frames a connection's bytes into MSRP frames (RFC 4975 §7.1, §9): one `Framer` per subscription.
 *
 * Frames are delimited by their end-line, not by the reads that carry them, so a frame may be split across values
 * or several frames may share one (C-7.1-7, C-7.1-8). With `messageOriented`, each value must be exactly one frame
 * (W-5.1-3). A large SEND body streams as `head`, `body`…, `end`; per-frame problems ride in the events' `failures`.
 * Connection-fatal problems end the stream with an `MsrpConnectionError` (STYLE.md §4, tier 3):
 * - a fatal `FramingFailure` (error `reason` = the failure's, `failure` set);
 * - the source completing inside a frame (`Truncated`);
 * - the source erroring (`TransportFailed`, `cause` = the source's error; an `MsrpConnectionError` passes as it is).
 *
 * ```text
 * bytes:   -a--b--c-|        a+b = one frame F, c = frame G        -a--x--        x = garbage
 * result:  ----F--G-|                                              ----#          # = MsrpConnectionError
 * ```
 */
export function frame(options: FrameOptions = {}): OperatorFunction<Uint8Array, FramedEvent> {
  const messageOriented = options.messageOriented ?? DEFAULT_MESSAGE_ORIENTED
  const limits: FramerOptions = { ...DEFAULT_FRAMER_LIMITS, ...options.limits }
  return (bytes$) =>
    new Observable<FramedEvent>((subscriber) => {
      const framer = new Framer(limits) // per subscription: its own buffers and offset
      /** Emits the events; returns false once a fatal failure has ended the stream. */
      const emit = (events: readonly FramerEvent[]): boolean => {
        for (const event of events) {
          if (event.type === 'failure') {
            subscriber.error(new MsrpConnectionError(event.failure))
            return false
          }
          subscriber.next(event)
        }
        return true
      }
      return bytes$.subscribe({
        next: (chunk) => {
          // W-5.1-3: on a message-oriented transport one value is one message, and it must hold exactly one frame.
          emit(messageOriented ? framer.pushMessage(chunk) : framer.push(chunk))
        },
        error: (err: unknown) =>
          subscriber.error(
            err instanceof MsrpConnectionError
              ? err
              : new MsrpConnectionError({ reason: 'TransportFailed', detail: describe(err), cause: err })
          ),
        complete: () => {
          // RFC 4975 §7.1: a frame ends at its end-line; a stream that stops before it is cut short (Truncated).
          if (emit(framer.finish())) subscriber.complete()
        }
      })
    })
}

/** @internal The message of an error, or the value as text. */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : `the byte source failed with ${String(err)}`
}
