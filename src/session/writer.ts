/**
 * The write side of one connection: control frames first, SEND messages cut into chunks and interleaved fairly,
 * with the transport's backpressure respected and nothing buffered without bound (RFC 4975 §5.1, §7.1.1;
 * rfc4975-core.md §6.1).
 *
 * ```text
 * sendFrame(r)            ─┐                        ┌─► transport.write([head, ...body, tail])   one call per frame
 * sendMessage(A) chunks   ─┼─► control queue first ─┤   false → nothing more until drain$
 * sendMessage(B) chunks   ─┘   then A, B, A, B …    └─► WriteEvent per chunk to A's / B's subscriber
 * ```
 */
import * as E from 'fp-ts/Either'
import { AsyncSubject, Observable, type Subscriber, type Subscription } from 'rxjs'
import type { Transport, TransportKind } from '../transport/transport'
import { chooseTransactionId, chunkByteRange, encodeFrame } from '../wire/encoder'
import type { EncodeFailure } from '../wire/failures'
import { IDENT } from '../wire/headers/message-id'
import { FAILURE_REPORT_DEFAULT, SUCCESS_REPORT_DEFAULT } from '../wire/headers/report'
import type { Continuation, Header, MsrpFrame, MsrpRequest } from '../wire/model'

/**
 * Body bytes per SEND chunk. Kamailio's relay cannot look into a frame of 11 239 bytes or more
 * (../shared/interop/kamailio.md), so a chunk frame must stay below that with its head included: 8192 body bytes
 * leave ~3 KiB for start line, To-Path and From-Path of several relay URIs, Message-ID, Byte-Range, report and MIME
 * headers and the end-line (a 3-URI To-Path with long URIs is well under 1 KiB); 10 000 would leave only 1.2 KiB.
 * It is also below the framer's `PIECE_BYTES` (16 KiB), so our chunks arrive whole at an rx-msrp peer, and a whole
 * number of chunks fits a 64 KiB file-stream read (sliced, not copied). Above 2048 bytes, so chunks are
 * interruptible (`*` range-end, C-5.1-1) and few (C-7.1.1-17, -19).
 */
export const DEFAULT_CHUNK_BYTES = 8192
/**
 * Body bytes per SEND chunk when the To-Path has one URI: no relay in between, so nothing caps the frame size
 * (C-7.1.1-18: every node MUST accept chunks of any size) and the RFC's advice is as few chunks as possible
 * (C-7.1.1-17). Each chunk costs a transaction, a 200 and a frame head on both sides; 1 MiB chunks make that cost
 * small next to the bytes (docs/benchmarks.md). The chunk's body is written as the source's reads (views, not
 * copies), so a large chunk costs no extra memory beyond the reads it holds.
 */
export const DIRECT_CHUNK_BYTES = 1024 * 1024
/** Source reads smaller than this are copied together into one buffer; larger ones are written as they are. */
export const GATHER_BELOW_BYTES = 16 * 1024
/** Size of a buffer small reads are copied into (at most the room left in the chunk). */
const GATHER_BYTES = 64 * 1024
/**
 * How long a chunk that has bytes waits for the source's next read before it is written without it (and, with an
 * unknown size, without knowing whether it is the last). A source that stalls (a live stream, a generator waiting
 * for input) thus never holds back bytes it already gave for longer than this, however large the chunk size.
 */
export const GATHER_WAIT_MS = 10
/**
 * Control frames (responses, REPORTs, AUTH, `#` chunks) that may wait while the transport is congested. They only
 * wait when the peer does not read what we write; past this the writer fails the connection (`ControlQueueFull`).
 */
export const MAX_QUEUED_CONTROL_FRAMES = 1024
/** Bytes of queued control frames past which the writer fails the connection (`ControlQueueFull`). */
export const MAX_QUEUED_CONTROL_BYTES = 1024 * 1024

/** Options of {@link ConnectionWriter}; every field is optional. */
export interface ConnectionWriterOptions {
  /**
   * Most body bytes per SEND chunk, for every message. Default ({@link chunkBytesFor}): {@link DIRECT_CHUNK_BYTES}
   * (1 MiB) for a message straight to its peer (To-Path of one URI) over TCP or TLS; {@link DEFAULT_CHUNK_BYTES}
   * (8192) through relays (the size deployed relays pass) and over WebSocket.
   */
  readonly chunkBytes?: number
  /** Default {@link MAX_QUEUED_CONTROL_FRAMES} (1024). */
  readonly maxQueuedControlFrames?: number
  /** Default {@link MAX_QUEUED_CONTROL_BYTES} (1 MiB). */
  readonly maxQueuedControlBytes?: number
  /** Transaction id generator (tests). Default `newTransactionId` (12 base62 characters). */
  readonly generateId?: () => string
}

/** A message to send as SEND chunks (RFC 4975 §7.1.1). */
export interface OutgoingMessage {
  readonly messageId: string
  /** Raw To-Path value, e.g. `msrp://relay:2855/r;tcp msrp://bob:2855/s;tcp`. */
  readonly toPath: string
  /** Raw From-Path value. */
  readonly fromPath: string
  /** `undefined` only for an empty, bodiless SEND (C-7.1-5). */
  readonly contentType: string | undefined
  /** MIME headers placed before Content-Type on every chunk, e.g. Content-Disposition (C-7.1.1-23). */
  readonly extraHeaders?: readonly Header[]
  readonly successReport: 'yes' | 'no'
  readonly failureReport: 'yes' | 'no' | 'partial'
  /** Total bytes if known: the Byte-Range total of every chunk. The body must then yield exactly that many. */
  readonly size: number | undefined
  /**
   * Bytes of the message the peer already has (default 0): the first chunk starts at byte `offset + 1` and `body`
   * yields the rest, `size - offset` bytes when the size is known. How a message cut by a connection failure is
   * resent on a new session with its Message-ID (RFC 4975 §5.4, rfc4975-core.md §7).
   */
  readonly offset?: number
  readonly body: AsyncIterable<Uint8Array>
}

/** One SEND chunk handed to the transport. */
export interface WriteEvent {
  readonly type: 'chunk'
  /**
   * The SEND as written, without its body: the head is all `matchTransactions` needs, and a body kept in a pending
   * transaction would hold memory until the response.
   */
  readonly request: Omit<MsrpRequest, 'body'>
  /** The chunk's body as written: the source's reads (views of them, or small reads copied together). */
  readonly body: readonly Uint8Array[]
  /** 0-based offset of the chunk's body in the message. */
  readonly start: number
  readonly length: number
  /** The last chunk of the message: flag `$`, or `#` for the abort chunk before a `SourceFailed`/`SizeMismatch`. */
  readonly final: boolean
}

/**
 * Why a message or the whole writer stopped:
 * - `Stopped`: `stop(messageId)` was called (the peer answered 413 or sent a failure REPORT);
 * - `ConnectionClosed`: the transport closed or failed;
 * - `SourceFailed`: the body iterator threw (or yielded something other than a Uint8Array); `cause` holds the error;
 * - `SizeMismatch`: the body yielded more or fewer bytes than `size`;
 * - `EncodeFailed`: a frame could not be encoded (invalid header value, Message-ID, no Content-Type with a body…);
 * - `ControlQueueFull`: control frames piled up past the limits while the peer did not read; the connection is closed;
 * - `WriterClosed`: `close()` was called.
 */
export type WriterReason =
  | 'Stopped'
  | 'ConnectionClosed'
  | 'SourceFailed'
  | 'SizeMismatch'
  | 'EncodeFailed'
  | 'ControlQueueFull'
  | 'WriterClosed'

/** The error of a `sendMessage` observable and the value of `closed$`. */
export class WriterError extends Error {
  override readonly name = 'WriterError'
  constructor(
    readonly reason: WriterReason,
    override readonly cause?: unknown,
    detail?: string
  ) {
    super(detail === undefined ? reason : `${reason}: ${detail}`)
  }
}

/** @internal */
const EMPTY = new Uint8Array(0)
/** What `readWithin` gives when the source did not answer in time. @internal */
const STALLED = Symbol('stalled')
/** The body of a `#` chunk. @internal */
const EMPTY_CHUNK = { body: [], length: 0 } as const

/** A frame waiting in the control queue. @internal */
interface Queued {
  readonly pieces: readonly Uint8Array[]
  readonly bytes: number
  /** Called once: true when written, false when the writer ended first. */
  readonly settle?: (written: boolean) => void
}

/** A chunk body read from the source, not yet written. @internal */
interface Chunk {
  /** The body as pieces, in order; empty for an empty chunk. */
  readonly body: readonly Uint8Array[]
  readonly length: number
  readonly final: boolean
}

/**
 * Reads chunks of at most `chunkBytes` from a body iterator: reads of {@link GATHER_BELOW_BYTES} or more become
 * pieces of the chunk as they are (views, no copy; a read larger than the chunk is sliced), smaller ones are copied
 * together into one buffer (so that tiny reads do not make a long write vector). It holds at most one chunk and the
 * rest of one read. @internal
 */
class ChunkReader {
  private iterator: AsyncIterator<Uint8Array> | undefined
  /** The unread part of the last read. */
  private pending: Uint8Array | undefined
  /** The source ended, threw or was released: never call it again. */
  private done = false
  private offset = 0
  /** A failure of the look-ahead read, thrown by the next call so that the chunk already read still goes out. */
  private failure: { readonly error: unknown } | undefined
  /** A read that did not come in time for the last chunk: the next chunk starts with it. */
  private inflight: Promise<Uint8Array | undefined> | undefined

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly chunkBytes: number,
    private readonly size: number | undefined
  ) {}

  /** The next chunk; `final` once the source is known to be exhausted. Throws what the source throws. */
  async next(): Promise<Chunk> {
    if (this.failure !== undefined) throw this.failure.error
    const pieces: Uint8Array[] = []
    let gather: Uint8Array | undefined // the buffer small reads are copied into
    let gathered = 0
    let length = 0
    const closeGather = (): void => {
      if (gather !== undefined && gathered > 0) pieces.push(gather.subarray(0, gathered))
      gather = undefined
      gathered = 0
    }
    let stalled = false
    while (length < this.chunkBytes) {
      const data = this.pending ?? (length === 0 ? await this.readNow() : await this.readWithin(GATHER_WAIT_MS))
      if (data === STALLED) {
        stalled = true
        break
      }
      if (data === undefined) break
      const take = Math.min(this.chunkBytes - length, data.length)
      const piece = take === data.length ? data : data.subarray(0, take)
      this.pending = take === data.length ? undefined : data.subarray(take)
      const last = pieces[pieces.length - 1]
      if (take >= GATHER_BELOW_BYTES || (length === 0 && gather === undefined)) {
        // A large read, or the first read of the chunk (a small message is written without a copy).
        closeGather()
        pieces.push(piece)
      } else {
        // A small read after others: gather (one copy) rather than write many tiny chunks or pieces (C-7.1.1-19).
        if (gather !== undefined && gathered + take > gather.length) closeGather()
        if (gather === undefined) {
          // The chunk's first read was small too (and alone so far): it joins the gathered bytes.
          const first =
            pieces.length === 1 && last !== undefined && last.length === length && length < GATHER_BELOW_BYTES
              ? pieces.pop()
              : undefined
          const before = first?.length ?? 0
          gather = new Uint8Array(Math.min(this.chunkBytes - length + before, GATHER_BYTES))
          if (first !== undefined) gather.set(first)
          gathered = before
        }
        gather.set(piece, gathered)
        gathered += take
      }
      length += take
    }
    closeGather()
    const body = pieces
    this.offset += length
    let final: boolean
    if (this.pending !== undefined || stalled) final = false
    else if (this.done && this.inflight === undefined) final = true
    else if (this.size !== undefined && this.offset < this.size)
      final = false // more is due: no look-ahead
    else {
      // A full chunk and nothing left over: read one more to learn whether this chunk is the last ($ and total).
      // A source that does not answer in time leaves the question open: this chunk goes as `+`, and if the source
      // then ends, the last chunk is an empty `$` one.
      try {
        const next = await this.readWithin(GATHER_WAIT_MS)
        this.pending = next === STALLED ? undefined : next
        final = next === undefined
      } catch (error) {
        this.failure = { error }
        final = false
      }
    }
    return { body, length, final }
  }

  /** The read in flight (started, not yet taken), or a new one. */
  private readNow(): Promise<Uint8Array | undefined> {
    const read = this.inflight ?? this.read()
    this.inflight = undefined
    return read
  }

  /** The next read if it comes within `ms`, else `STALLED` (the read stays in flight for the next call). */
  private async readWithin(ms: number): Promise<Uint8Array | undefined | typeof STALLED> {
    const read = (this.inflight ??= this.read())
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<typeof STALLED>((resolve) => (timer = setTimeout(resolve, ms, STALLED)))
    try {
      const first = await Promise.race([read, late])
      if (first !== STALLED) this.inflight = undefined
      return first
    } catch (error) {
      this.inflight = undefined
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stops the source early (`return()`, which closes a Node stream) unless it is over already. */
  release(): void {
    if (this.done) return
    this.done = true
    this.pending = undefined
    const iterator = this.iterator
    if (iterator?.return === undefined) return
    try {
      iterator.return().catch(() => undefined)
    } catch {
      // A source that fails to stop has nothing more to tell us.
    }
  }

  /** The next non-empty read, or `undefined` at the end. */
  private async read(): Promise<Uint8Array | undefined> {
    while (!this.done) {
      let result: IteratorResult<Uint8Array>
      try {
        this.iterator ??= this.source[Symbol.asyncIterator]()
        result = await this.iterator.next()
      } catch (error) {
        this.done = true
        throw error
      }
      if (this.done) return undefined // released while waiting
      if (result.done === true) {
        this.done = true
        return undefined
      }
      const value: unknown = result.value
      if (!(value instanceof Uint8Array)) {
        this.release()
        throw new TypeError(`the body yielded a ${typeof value}, not a Uint8Array`)
      }
      if (value.length > 0) return value
    }
    return undefined
  }
}

/** A message being sent. @internal */
interface Outgoing {
  readonly message: OutgoingMessage
  readonly subscriber: Subscriber<WriteEvent>
  readonly reader: ChunkReader
  /** The headers every chunk repeats: before Byte-Range, the report headers after it, then MIME and Content-Type. */
  readonly before: readonly Header[]
  readonly reports: readonly Header[]
  readonly mime: readonly Header[]
  /** Body bytes written so far. */
  offset: number
  chunks: number
  /**
   * idle: may read once the transport is not congested; reading: a read is in flight; ready: `chunk` waits for its
   * turn; done: completed, failed, stopped or aborted (nothing more happens).
   */
  state: 'idle' | 'reading' | 'ready' | 'done'
  chunk: Chunk | undefined
}

/**
 * The one owner of a transport's write side (session layer).
 *
 * - **Control frames first** (C-7.1.1-20): `sendFrame` writes at once unless the transport is congested; queued
 *   control frames go out before the next SEND chunk of any message. Chunks are written whole in one `write` call,
 *   so a response never waits behind more than the chunk already handed to the transport.
 * - **Fair sharing** (C-7.1.1-21): messages whose next chunk is ready take turns, one chunk per turn, in the order
 *   their chunks became ready (round robin among the messages that have data; a slow source skips its turn rather
 *   than holding up the others).
 * - **Backpressure**: when `write` returns false nothing more is written until `drain$`, and no source is read
 *   while the transport is congested. Each message holds at most one chunk and the rest of one read, and the control
 *   queue is bounded, so memory is bounded whatever the peer does.
 */
export class ConnectionWriter {
  /** Emits once why the writer stopped (`ConnectionClosed`, `ControlQueueFull` or `WriterClosed`), then completes. */
  readonly closed$: Observable<WriterError>

  /** The configured chunk size, or `undefined` for the default by path ({@link chunkBytesFor}). */
  private readonly chunkBytes: number | undefined
  private readonly maxQueuedControlFrames: number
  private readonly maxQueuedControlBytes: number
  private readonly generateId: (() => string) | undefined
  private readonly closedSubject = new AsyncSubject<WriterError>()
  private readonly subscriptions: Subscription[] = []

  private control: Queued[] = []
  private controlBytes = 0
  /** Messages whose next chunk is ready, in turn order. */
  private readonly ready: Outgoing[] = []
  /** Messages waiting to read their next chunk. */
  private readonly idle = new Set<Outgoing>()
  private readonly messages = new Set<Outgoing>()
  private congested = false
  private ended: WriterError | undefined
  private flushing = false
  private again = false

  constructor(
    private readonly transport: Transport,
    options: ConnectionWriterOptions = {}
  ) {
    this.chunkBytes = options.chunkBytes
    this.maxQueuedControlFrames = options.maxQueuedControlFrames ?? MAX_QUEUED_CONTROL_FRAMES
    this.maxQueuedControlBytes = options.maxQueuedControlBytes ?? MAX_QUEUED_CONTROL_BYTES
    this.generateId = options.generateId
    if (this.chunkBytes !== undefined && (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < 1)) {
      throw new RangeError(`ConnectionWriter: chunkBytes must be a positive integer, got ${this.chunkBytes}`)
    }
    this.closed$ = this.closedSubject.asObservable()
    this.subscriptions.push(
      transport.drain$.subscribe(() => {
        this.congested = false
        this.flush()
      })
    )
    this.subscriptions.push(transport.closed$.subscribe(() => this.shutdown(new WriterError('ConnectionClosed'))))
    // A transport closed already has shut the writer down inside the subscribe above, before the push.
    if (this.ended !== undefined) for (const s of this.subscriptions.splice(0)) s.unsubscribe()
  }

  /**
   * Queues a control frame (response, REPORT, AUTH, bodiless SEND) ahead of every SEND chunk not yet written
   * (C-7.1.1-20). Never blocks; ignored once the writer has ended (`closed$` has said why). Throws a `WriterError`
   * `EncodeFailed` for a frame that cannot be encoded (a programmer error: the session builds these frames).
   */
  sendFrame(frame: MsrpFrame): void {
    if (this.ended !== undefined) return
    const pieces = encodeFrame(frame)
    if (E.isLeft(pieces)) throw new WriterError('EncodeFailed', pieces.left, pieces.left.detail)
    this.enqueue(pieces.right)
    this.flush()
  }

  /**
   * Sends `message` as SEND chunks when subscribed (cold), emitting each chunk once written and completing after the
   * `$` chunk. Unsubscribing early aborts: a `#` chunk if a chunk was written, else nothing on the wire (C-7.1-9).
   * Errors with a {@link WriterError}.
   */
  sendMessage(message: OutgoingMessage): Observable<WriteEvent> {
    return new Observable<WriteEvent>((subscriber) => {
      if (this.ended !== undefined) {
        subscriber.error(new WriterError(this.ended.reason, this.ended.cause, 'the writer has ended'))
        return
      }
      const invalid = checkMessage(message)
      if (invalid !== undefined) {
        subscriber.error(new WriterError('EncodeFailed', undefined, invalid))
        return
      }
      const offset = message.offset ?? 0
      const m: Outgoing = {
        message,
        subscriber,
        reader: new ChunkReader(
          message.body,
          this.chunkBytes ?? chunkBytesFor(message.toPath, this.transport.info.kind),
          message.size === undefined ? undefined : message.size - offset
        ),
        ...fixedHeaders(message),
        offset,
        chunks: 0,
        state: 'idle',
        chunk: undefined
      }
      this.messages.add(m)
      this.idle.add(m)
      this.flush()
      return () => this.abort(m)
    })
  }

  /**
   * The peer refused message `messageId` (413 response or failure REPORT): no further chunk of it is written, not
   * even `#` (RFC 4975 §7.3.1, rfc4975-core.md §6.1), and its observable errors with `Stopped`.
   */
  stop(messageId: string): void {
    for (const m of [...this.messages]) {
      if (m.message.messageId !== messageId) continue
      this.detach(m)
      m.subscriber.error(new WriterError('Stopped', undefined, `message ${messageId} was stopped`))
    }
  }

  /** Stops writing: queued control frames are dropped and pending messages error with `WriterClosed`. */
  close(): void {
    this.shutdown(new WriterError('WriterClosed'))
  }

  /** Writes whatever may be written now. Re-entrant calls (from a subscriber's callback) loop once more. */
  private flush(): void {
    if (this.flushing) {
      this.again = true
      return
    }
    this.flushing = true
    try {
      do {
        this.again = false
        this.pump()
      } while (this.again)
    } finally {
      this.flushing = false
    }
  }

  private pump(): void {
    while (this.ended === undefined && !this.congested) {
      const queued = this.control.shift()
      if (queued !== undefined) {
        this.controlBytes -= queued.bytes
        this.write(queued.pieces)
        queued.settle?.(true)
        continue
      }
      const m = this.ready.shift()
      if (m !== undefined) {
        this.writeChunk(m)
        continue
      }
      // Nothing to write and room in the transport: let waiting messages read their next chunk.
      const idle = [...this.idle]
      this.idle.clear()
      for (const waiting of idle) void this.readChunk(waiting)
      return
    }
  }

  private write(pieces: readonly Uint8Array[]): void {
    if (!this.transport.write(pieces)) this.congested = true
  }

  /** Reads `m`'s next chunk and queues it for its turn. */
  private async readChunk(m: Outgoing): Promise<void> {
    m.state = 'reading'
    let chunk: Chunk
    try {
      chunk = await m.reader.next()
    } catch (cause) {
      if (m.state === 'reading') this.fail(m, new WriterError('SourceFailed', cause, describe(cause)))
      return
    }
    if (m.state !== 'reading') return // stopped, aborted or ended while reading
    const end = m.offset + chunk.length
    const size = m.message.size
    if (size !== undefined && (end > size || (chunk.final ? end !== size : end >= size))) {
      const got = chunk.final ? `${end}` : `more than ${end - 1}`
      this.fail(m, new WriterError('SizeMismatch', undefined, `size is ${size} but the body yielded ${got} bytes`))
      return
    }
    m.chunk = chunk
    m.state = 'ready'
    this.ready.push(m)
    this.flush()
  }

  private writeChunk(m: Outgoing): void {
    const chunk = m.chunk
    if (chunk === undefined) return
    m.chunk = undefined
    const built = this.build(m, chunk, chunk.final ? '$' : '+')
    if (E.isLeft(built)) {
      this.fail(m, new WriterError('EncodeFailed', built.left, built.left.detail))
      return
    }
    this.write(built.right.pieces)
    const event: WriteEvent = {
      type: 'chunk',
      request: built.right.request,
      body: chunk.body,
      start: m.offset,
      length: chunk.length,
      final: chunk.final
    }
    m.offset += chunk.length
    m.chunks++
    if (chunk.final) {
      this.detach(m)
      m.subscriber.next(event)
      m.subscriber.complete()
    } else {
      m.state = 'idle'
      this.idle.add(m)
      m.subscriber.next(event)
    }
  }

  /**
   * One chunk of `m` starting at its current offset. Byte-Range by `chunkByteRange` (`*` range-end above 2048 bytes,
   * C-5.1-1; `1-0/0` when empty, C-7.1.1-15); the total is `size`, or `*` until the final chunk, which knows it
   * (C-7.1.1-13). The transaction id never occurs as `-------<tid>` in the body (C-7.1-10, stricter).
   */
  private build(
    m: Outgoing,
    chunk: Pick<Chunk, 'body' | 'length'>,
    continuation: Continuation
  ): E.Either<EncodeFailure, { request: Omit<MsrpRequest, 'body'>; pieces: Uint8Array[] }> {
    const start = m.offset + 1
    const total = continuation === '$' ? m.offset + chunk.length : (m.message.size ?? '*')
    const range = chunkByteRange({ start, total, interruptible: continuation === '#' }, chunk.length)
    if (E.isLeft(range)) return range
    // Only an empty message without a content type is bodiless; any other chunk, `#` included, has a body.
    const bodiless = m.message.contentType === undefined && chunk.length === 0
    const transactionId = chooseTransactionId(bodiless ? undefined : chunk.body, this.generateId)
    if (E.isLeft(transactionId)) return transactionId
    const head: Omit<MsrpRequest, 'body'> = {
      type: 'request',
      transactionId: transactionId.right,
      method: 'SEND',
      headers: [...m.before, ['Byte-Range', range.right], ...m.reports, ...(bodiless ? [] : m.mime)],
      continuation
    }
    if (bodiless) {
      const encoded = encodeFrame({ ...head, body: undefined })
      return E.isLeft(encoded) ? encoded : E.right({ request: head, pieces: encoded.right })
    }
    // The head and tail as for an empty body (the id was checked against the real body above); the body's pieces
    // go between them as they are.
    const encoded = encodeFrame({ ...head, body: EMPTY })
    if (E.isLeft(encoded)) return encoded
    const [first, , tail] = encoded.right as [Uint8Array, Uint8Array, Uint8Array]
    return E.right({ request: head, pieces: [first, ...chunk.body, tail] })
  }

  /** Ends `m` with `error`; if it has chunks on the wire, a `#` chunk first (C-7.1-9) and its event. */
  private fail(m: Outgoing, error: WriterError): void {
    if (m.state === 'done') return
    this.detach(m)
    if (m.chunks === 0 || this.ended !== undefined) {
      m.subscriber.error(error)
      return
    }
    const abort = this.build(m, EMPTY_CHUNK, '#')
    if (E.isLeft(abort)) {
      m.subscriber.error(error)
      return
    }
    const event: WriteEvent = {
      type: 'chunk',
      request: abort.right.request,
      body: [],
      start: m.offset,
      length: 0,
      final: true
    }
    this.enqueue(abort.right.pieces, (written) => {
      if (written) m.subscriber.next(event)
      m.subscriber.error(error)
    })
    this.flush()
  }

  /** The subscriber left before the end: abort with `#` if any chunk was written, else leave no trace. */
  private abort(m: Outgoing): void {
    if (m.state === 'done') return
    this.detach(m)
    if (m.chunks === 0 || this.ended !== undefined) return
    const abort = this.build(m, EMPTY_CHUNK, '#')
    if (E.isLeft(abort)) return // cannot happen: the same headers encoded before
    this.enqueue(abort.right.pieces)
    this.flush()
  }

  /** Takes `m` out of every queue and stops its source. */
  private detach(m: Outgoing): void {
    m.state = 'done'
    m.chunk = undefined
    this.messages.delete(m)
    this.idle.delete(m)
    const at = this.ready.indexOf(m)
    if (at !== -1) this.ready.splice(at, 1)
    m.reader.release()
  }

  /** Adds a control frame to the bounded queue; past the bounds the peer is not reading: fail the connection. */
  private enqueue(pieces: readonly Uint8Array[], settle?: (written: boolean) => void): void {
    let bytes = 0
    for (const p of pieces) bytes += p.length
    if (
      this.control.length + 1 > this.maxQueuedControlFrames ||
      this.controlBytes + bytes > this.maxQueuedControlBytes
    ) {
      settle?.(false)
      const detail =
        `more than ${this.maxQueuedControlFrames} control frames or ${this.maxQueuedControlBytes} bytes ` +
        'wait while the peer does not read'
      this.shutdown(new WriterError('ControlQueueFull', undefined, detail))
      this.transport.close({ message: 'MSRP control queue full' })
      return
    }
    this.control.push({ pieces, bytes, settle })
    this.controlBytes += bytes
  }

  /** Ends the writer: queued frames are dropped, every pending message errors with `error`'s reason. */
  private shutdown(error: WriterError): void {
    if (this.ended !== undefined) return
    this.ended = error
    for (const s of this.subscriptions.splice(0)) s.unsubscribe()
    const control = this.control
    this.control = []
    this.controlBytes = 0
    for (const m of [...this.messages]) {
      this.detach(m)
      m.subscriber.error(new WriterError(error.reason, error.cause, error.message))
    }
    for (const queued of control) queued.settle?.(false)
    this.closedSubject.next(error)
    this.closedSubject.complete()
  }
}

/** Why `message` cannot be sent, or `undefined`. @internal */
function checkMessage(message: OutgoingMessage): string | undefined {
  if (!IDENT.test(message.messageId)) return `Message-ID "${message.messageId}" is not an ident`
  const size = message.size
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) return `size ${size} is not a byte count`
  const offset = message.offset ?? 0
  if (!Number.isSafeInteger(offset) || offset < 0 || (size !== undefined && offset > size)) {
    return `offset ${offset} is not a byte count within the size ${size ?? '*'}`
  }
  if (message.contentType === undefined && size !== undefined && size > 0) {
    return 'a message with a body needs a Content-Type (C-7.1-2)'
  }
  return undefined
}

/**
 * The headers every chunk of `message` repeats: To-Path, From-Path (first and second, C-7.1-3), Message-ID
 * (C-7.1.1-2) before Byte-Range; after it the report headers, only when not the defaults `no`/`yes` but then on
 * every chunk (C-7.1.1-3, -4); with a body, the MIME headers and Content-Type last (C-7.1-2). @internal
 */
function fixedHeaders(message: OutgoingMessage): { before: Header[]; reports: Header[]; mime: Header[] } {
  const reports: Header[] = []
  if (message.successReport !== SUCCESS_REPORT_DEFAULT) reports.push(['Success-Report', message.successReport])
  if (message.failureReport !== FAILURE_REPORT_DEFAULT) reports.push(['Failure-Report', message.failureReport])
  const mime: Header[] = [...(message.extraHeaders ?? [])]
  if (message.contentType !== undefined) mime.push(['Content-Type', message.contentType])
  return {
    before: [
      ['To-Path', message.toPath],
      ['From-Path', message.fromPath],
      ['Message-ID', message.messageId]
    ],
    reports,
    mime
  }
}

/**
 * The default chunk size of a message: {@link DIRECT_CHUNK_BYTES} straight to the peer (To-Path of one URI) over
 * TCP or TLS; {@link DEFAULT_CHUNK_BYTES} through relays (two URIs or more), and over WebSocket whatever the path
 * (a chunk is one WebSocket message, which `ws` and browsers hold whole in memory before they hand it on, and
 * deployed WebSocket peers cap message sizes: Kamailio closes the connection from 64 KiB).
 */
export function chunkBytesFor(toPath: string, kind: TransportKind = 'tcp'): number {
  if (kind === 'ws' || kind === 'wss') return DEFAULT_CHUNK_BYTES
  return /\s/.test(toPath.trim()) ? DEFAULT_CHUNK_BYTES : DIRECT_CHUNK_BYTES
}

/** @internal */
function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}
