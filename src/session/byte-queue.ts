/**
 * A single-consumer queue of byte slices read as an async iterable, with high/low water marks that tell the
 * producer to pause and resume: how an incoming message body gives backpressure to the connection.
 */

/** Above this many queued bytes the producer is asked to pause. */
export const BODY_HIGH_WATER_MARK_BYTES = 1024 * 1024
/** Below this many queued bytes (after a pause) the producer is asked to resume. */
export const BODY_LOW_WATER_MARK_BYTES = 256 * 1024

export interface ByteQueueOptions {
  readonly highWaterMark?: number
  readonly lowWaterMark?: number
  /** Called when the queue goes above the high-water mark. */
  readonly onPause?: () => void
  /** Called when a paused queue drains below the low-water mark, or ends. */
  readonly onResume?: () => void
}

export class ByteQueue implements AsyncIterable<Uint8Array> {
  private readonly items: Uint8Array[] = []
  private bytes = 0
  private paused = false
  private ended = false
  private failure: Error | undefined
  private waiter: (() => void) | undefined
  private iterating = false
  private readonly high: number
  private readonly low: number

  constructor(private readonly options: ByteQueueOptions = {}) {
    this.high = options.highWaterMark ?? BODY_HIGH_WATER_MARK_BYTES
    this.low = options.lowWaterMark ?? BODY_LOW_WATER_MARK_BYTES
  }

  /** Bytes queued and not yet read. */
  get queuedBytes(): number {
    return this.bytes
  }

  push(data: Uint8Array): void {
    if (this.ended || data.length === 0) return
    this.items.push(data)
    this.bytes += data.length
    if (!this.paused && this.bytes > this.high) {
      this.paused = true
      this.options.onPause?.()
    }
    this.wake()
  }

  /** No more data: the iteration ends after the queued slices. */
  end(): void {
    if (this.ended) return
    this.ended = true
    this.release()
    this.wake()
  }

  /** The iteration throws `error` after the queued slices (an aborted or failed message). */
  fail(error: Error): void {
    if (this.ended) return
    this.failure = error
    this.end()
  }

  /** Drops what is queued and ends: the consumer does not want the rest. */
  discard(): void {
    this.items.length = 0
    this.bytes = 0
    this.end()
  }

  private release(): void {
    if (this.paused) {
      this.paused = false
      this.options.onResume?.()
    }
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterating) throw new Error('ByteQueue: a body can be read once')
    this.iterating = true
    for (;;) {
      const next = this.items.shift()
      if (next !== undefined) {
        this.bytes -= next.length
        if (this.paused && this.bytes < this.low) this.release()
        yield next
        continue
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure
        return
      }
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }
}
