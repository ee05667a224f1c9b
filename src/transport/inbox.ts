/**
 * The receiving half shared by every transport: a unicast `incoming$` with flow control.
 *
 * @internal
 */
import { Observable, type Subscriber } from 'rxjs'
import { TransportError } from './transport'

/** Schedules a callback on a later turn of the event loop. */
export type Schedule = (callback: () => void) => void

/** `setImmediate`, so that queued input is delivered after pending I/O, like a socket's. @internal */
export const scheduleImmediate: Schedule = (callback) => {
  setImmediate(callback)
}

/** @internal */
export interface InboxHooks {
  /** Called when the inbox starts or stops wanting input: the source should resume or pause reading. */
  readonly flowing: (flowing: boolean) => void
  /** Called when the consumer unsubscribes before the end: the transport should close. */
  readonly abandoned: () => void
  /** Called after queued values were handed to the consumer, with their total length. */
  readonly dequeued?: (bytes: number) => void
}

/**
 * Holds what a source produced until the consumer wants it, and the end of the stream behind it.
 *
 * - Flowing means subscribed, not paused and not ended. Only then are values handed on; until then they are queued
 *   (bounded by the source pausing, see `hooks.flowing`) and handed on in order when flowing starts again.
 * - Queued values and the end are handed on from a scheduled callback, never inside `subscribe()` or `resume()`,
 *   so a consumer never receives input re-entrantly from its own call.
 * - The end (complete or error) comes after every queued value.
 *
 * @internal
 */
export class Inbox {
  private subscriber: Subscriber<Uint8Array> | undefined
  private subscribed = false
  private paused = false
  private readonly queue: Uint8Array[] = []
  private queueHead = 0
  private bytes = 0
  /** `null`: completes; a TransportError: fails; `undefined`: not ended. */
  private end: TransportError | null | undefined = undefined
  private done = false
  private flushScheduled = false
  private wasFlowing = false

  readonly incoming$: Observable<Uint8Array>

  constructor(
    private readonly hooks: InboxHooks,
    private readonly schedule: Schedule = scheduleImmediate
  ) {
    this.incoming$ = new Observable<Uint8Array>((subscriber) => {
      if (this.subscribed) {
        subscriber.error(new Error('incoming$ is unicast: it was already subscribed'))
        return
      }
      this.subscribed = true
      this.subscriber = subscriber
      this.kick()
      return () => {
        this.subscriber = undefined
        this.update()
        if (!this.done) {
          this.done = true
          this.hooks.abandoned()
        }
      }
    })
  }

  /** True when input is handed straight to the consumer. */
  get flowing(): boolean {
    return this.subscriber !== undefined && !this.paused && this.end === undefined && this.queued === 0
  }

  /** True while the source is asked to read: subscribed, not paused, not ended (values may still be queued). */
  get reading(): boolean {
    return this.wasFlowing
  }

  /** Values waiting for the consumer. */
  get queued(): number {
    return this.queue.length - this.queueHead
  }

  /** Bytes waiting for the consumer. */
  get queuedBytes(): number {
    return this.bytes
  }

  /** True once the end was declared (it may not have been delivered yet). */
  get ended(): boolean {
    return this.end !== undefined
  }

  /** Input from the source. Ignored after the end. */
  push(value: Uint8Array): void {
    if (this.end !== undefined || this.done) return
    if (this.flowing) {
      this.subscriber!.next(value)
      return
    }
    this.queue.push(value)
    this.bytes += value.length
    this.update()
  }

  /** The source ended cleanly: complete after the queued values. */
  complete(): void {
    this.finish(null)
  }

  /** The source failed: error after the queued values. */
  fail(error: TransportError): void {
    this.finish(error)
  }

  /**
   * The transport was closed locally: queued values are dropped and the consumer completes now (it asked for it).
   */
  close(): void {
    if (this.done) return
    this.queue.length = 0
    this.queueHead = 0
    this.bytes = 0
    this.finish(null)
    this.deliver()
  }

  /**
   * The transport broke its own bounds (e.g. too much input while paused): queued values are dropped and the consumer
   * fails now, paused or not.
   */
  abort(error: TransportError): void {
    if (this.done) return
    this.queue.length = 0
    this.queueHead = 0
    this.bytes = 0
    this.end = undefined
    this.finish(error)
    this.paused = false
    this.deliver()
  }

  pause(): void {
    this.paused = true
    this.update()
  }

  resume(): void {
    this.paused = false
    this.kick()
  }

  private finish(end: TransportError | null): void {
    if (this.end !== undefined || this.done) return
    this.end = end
    this.update()
    this.kick()
  }

  /** Delivers queued values and the end on a later turn, if there is anything to deliver. */
  private kick(): void {
    this.update()
    if (this.flushScheduled || this.subscriber === undefined || this.paused) return
    if (this.queued === 0 && this.end === undefined) return
    this.flushScheduled = true
    this.schedule(() => {
      this.flushScheduled = false
      this.deliver()
    })
  }

  private deliver(): void {
    let delivered = 0
    // Each value may pause, unsubscribe or close: look again before every one.
    while (this.queued > 0 && this.subscriber !== undefined && !this.paused) {
      const value = this.queue[this.queueHead]!
      this.queue[this.queueHead++] = EMPTY
      this.bytes -= value.length
      delivered += value.length
      this.subscriber.next(value)
    }
    if (this.queued === 0) {
      this.queue.length = 0
      this.queueHead = 0
    }
    if (delivered > 0) this.hooks.dequeued?.(delivered)
    const subscriber = this.subscriber
    if (this.queued === 0 && this.end !== undefined && subscriber !== undefined && !this.done) {
      this.done = true
      if (this.end === null) subscriber.complete()
      else subscriber.error(this.end)
    }
    this.update()
  }

  /** Tells the source whether to read, when that changes. */
  private update(): void {
    const flowing = this.subscriber !== undefined && !this.paused && this.end === undefined && !this.done
    if (flowing === this.wasFlowing) return
    this.wasFlowing = flowing
    this.hooks.flowing(flowing)
  }
}

const EMPTY = new Uint8Array(0)
