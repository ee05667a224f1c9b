import { Observable, type Observer, type OperatorFunction, type Subscriber } from 'rxjs'
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
  // Without limits of its own, every framer shares the defaults object (the Framer does not copy it).
  const limits: FramerOptions =
    options.limits === undefined ? DEFAULT_FRAMER_LIMITS : { ...DEFAULT_FRAMER_LIMITS, ...options.limits }
  return (bytes$) =>
    new Observable<FramedEvent>((subscriber) =>
      bytes$.subscribe(new FrameObserver(subscriber, new Framer(limits), messageOriented))
    )
}

/**
 * @internal One subscription of `frame`: its own framer (buffers and offset). An object with methods rather than three
 * closures, because a relay holds one per connection.
 */
class FrameObserver implements Observer<Uint8Array> {
  constructor(
    private readonly subscriber: Subscriber<FramedEvent>,
    private readonly framer: Framer,
    private readonly messageOriented: boolean
  ) {}

  next(chunk: Uint8Array): void {
    // W-5.1-3: on a message-oriented transport one value is one message, and it must hold exactly one frame.
    this.emit(this.messageOriented ? this.framer.pushMessage(chunk) : this.framer.push(chunk))
  }

  error(err: unknown): void {
    this.subscriber.error(
      err instanceof MsrpConnectionError
        ? err
        : new MsrpConnectionError({ reason: 'TransportFailed', detail: describe(err), cause: err })
    )
  }

  complete(): void {
    // RFC 4975 §7.1: a frame ends at its end-line; a stream that stops before it is cut short (Truncated).
    if (this.emit(this.framer.finish())) this.subscriber.complete()
  }

  /** Emits the events; returns false once a fatal failure has ended the stream. */
  private emit(events: readonly FramerEvent[]): boolean {
    for (const event of events) {
      if (event.type === 'failure') {
        this.subscriber.error(new MsrpConnectionError(event.failure))
        return false
      }
      this.subscriber.next(event)
    }
    return true
  }
}

/** @internal The message of an error, or the value as text. */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : `the byte source failed with ${String(err)}`
}
