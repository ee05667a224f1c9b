/**
 * An incoming message as the application sees it: announced when its first chunk arrives, its body a stream
 * with backpressure, its outcome always reported (complete, aborted or failed; never silently dropped).
 */
import type { SendHead } from '../wire/chunk'
import { formatMediaType } from '../wire/headers/content-type'
import { concatBytes } from '../wire/bytes'
import { ByteQueue, type ByteQueueOptions } from './byte-queue'

/**
 * How an incoming message ended. `size` and `received` count bytes of the whole message: `received` is the end of
 * the bytes received in order (for a continuation, `firstByte - 1` plus the bytes of its body), so the sender may
 * resume after it (RFC 4975 §5.4).
 */
export type MessageOutcome =
  | { readonly type: 'complete'; readonly size: number; readonly duplicate: boolean }
  | { readonly type: 'aborted'; readonly received: number; readonly reason: 'Aborted' | 'ConnectionLost' }
  | { readonly type: 'failed'; readonly status: number; readonly reason: string; readonly detail: string }

/** The error a message body's iteration throws when the message did not complete. */
export class MessageIncompleteError extends Error {
  override readonly name = 'MessageIncompleteError'
  constructor(readonly outcome: Exclude<MessageOutcome, { type: 'complete' }>) {
    super(
      outcome.type === 'aborted'
        ? `message ${outcome.reason === 'Aborted' ? 'aborted by the sender' : 'cut by the connection'} after ${outcome.received} bytes`
        : `message refused with ${outcome.status} (${outcome.reason})`
    )
  }
}

/** The default most bytes `collect()` gathers. */
export const COLLECT_MAX_BYTES = 64 * 1024 * 1024

/**
 * `collectBlob()` folds the received pieces into a part Blob each time this many bytes are pending, so that no more
 * than this much is held twice (as pieces and as Blob) at any time.
 */
export const COLLECT_BLOB_PART_BYTES = 1024 * 1024

/** Options of {@link IncomingMessage.collectBlob}. */
export interface CollectBlobOptions {
  /** Most bytes to gather; more fails with a `RangeError` and discards the rest. Default: no limit. */
  readonly maxBytes?: number
  /** The Blob's MIME type. Default: the message's Content-Type without its parameters ('' for none). */
  readonly type?: string
  /** Default {@link COLLECT_BLOB_PART_BYTES}. */
  readonly partBytes?: number
}

export class IncomingMessage {
  readonly messageId: string
  /** The Content-Type of the message as sent (`text/plain;charset=utf-8`), or '' for none. */
  readonly contentType: string
  /** The declared total size when the first chunk gave one. */
  readonly total: number | undefined
  /** The head of the first chunk: paths, report settings, all headers. */
  readonly head: SendHead
  /**
   * The 1-based byte of the message the body starts at: 1, or for a continuation (a message cut on an earlier
   * connection and resent from where it stopped, accepted by `reassembly.acceptContinuation`, RFC 4975 §5.4) the
   * Byte-Range start of its first chunk. Bytes 1…`firstByte - 1` are the ones the application already holds.
   */
  readonly firstByte: number
  /** Resolves once the message is complete, aborted or failed. */
  readonly outcome: Promise<MessageOutcome>
  private readonly queue: ByteQueue
  private settle!: (o: MessageOutcome) => void
  private received = 0
  private ended: MessageOutcome | undefined

  constructor(head: SendHead, total: number | undefined, queue: ByteQueueOptions = {}, firstByte = 1) {
    this.head = head
    this.firstByte = firstByte
    this.messageId = head.messageId
    this.contentType = head.contentType === undefined ? '' : formatMediaType(head.contentType)
    this.total = total
    this.queue = new ByteQueue(queue)
    this.outcome = new Promise((resolve) => (this.settle = resolve))
  }

  /**
   * How the message ended, as soon as it has (what `outcome` resolves to, a microtask later), else `undefined`: for
   * decisions that cannot wait, such as `reassembly.acceptContinuation` looking at the message it would continue.
   */
  get settled(): MessageOutcome | undefined {
    return this.ended
  }

  /** Bytes of the body received so far (in order, from `firstByte`). */
  get receivedBytes(): number {
    return this.received
  }

  /**
   * The body, in order, as it arrives (from byte `firstByte`); throws `MessageIncompleteError` if the message does
   * not complete. Read once.
   */
  get body(): AsyncIterable<Uint8Array> {
    return this.queue
  }

  /** Reads the whole body into one buffer, refusing more than `maxBytes` (the rest is discarded). */
  async collect(maxBytes = COLLECT_MAX_BYTES): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    let n = 0
    for await (const part of this.queue) {
      n += part.length
      if (n > maxBytes) {
        this.queue.discard()
        throw new RangeError(`message ${this.messageId} exceeds ${maxBytes} bytes`)
      }
      parts.push(part)
    }
    return concatBytes(parts)
  }

  /**
   * Reads the whole body into a `Blob` (browsers, Node ≥ 18), e.g. to offer a received file for download with
   * `URL.createObjectURL`. Memory: the body once, in Blob parts, plus at most `partBytes` of pieces not yet folded
   * into a part (a Blob made of Blobs references them, it does not copy them), never two full copies as
   * `new Blob([await collect()])` would make; browsers may keep large Blobs on disk. Throws `MessageIncompleteError`
   * like `body` when the message does not complete, `RangeError` past `maxBytes`.
   */
  async collectBlob(options: CollectBlobOptions = {}): Promise<Blob> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    const partBytes = options.partBytes ?? COLLECT_BLOB_PART_BYTES
    const type = options.type ?? this.contentType.split(';')[0]?.trim() ?? ''
    const parts: Blob[] = []
    let pending: Uint8Array[] = []
    let pendingBytes = 0
    let n = 0
    for await (const piece of this.queue) {
      n += piece.length
      if (n > maxBytes) {
        this.queue.discard()
        throw new RangeError(`message ${this.messageId} exceeds ${maxBytes} bytes`)
      }
      pending.push(piece)
      pendingBytes += piece.length
      if (pendingBytes >= partBytes) {
        parts.push(new Blob(pending as BlobPart[]))
        pending = []
        pendingBytes = 0
      }
    }
    return new Blob([...parts, ...(pending as BlobPart[])], { type })
  }

  /**
   * The body as a WHATWG `ReadableStream` (browsers, Node ≥ 18), e.g. to pipe into a file the user picked
   * (`showSaveFilePicker`) or a `Response`. Pull-based: the stream asks for a piece only when its reader wants one,
   * so backpressure reaches the sender as with `body`. Errors with `MessageIncompleteError` when the message does
   * not complete; cancelling it discards the rest. Read once (it shares `body`'s bytes).
   */
  stream(): ReadableStream<Uint8Array> {
    const pieces = this.queue[Symbol.asyncIterator]()
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const next = await pieces.next()
          if (next.done === true) controller.close()
          else controller.enqueue(next.value)
        },
        cancel: () => this.queue.discard()
      },
      { highWaterMark: 0 }
    )
  }

  /** The application does not want the body: drop it (the message is still answered and reported). */
  discard(): void {
    this.queue.discard()
  }

  /** @internal */
  data(bytes: Uint8Array): void {
    this.received += bytes.length
    this.queue.push(bytes)
  }

  /** @internal */
  finish(outcome: MessageOutcome): void {
    if (this.ended !== undefined) return
    this.ended = outcome
    if (outcome.type === 'complete') this.queue.end()
    else this.queue.fail(new MessageIncompleteError(outcome))
    this.settle(outcome)
  }
}
