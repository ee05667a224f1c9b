/**
 * An MSRP session at an endpoint (RFC 4975 §5, §7): receives messages (reassembled, answered and reported as
 * the sender asked) and sends messages (chunked, matched with their responses, reported back), over the
 * connection it is bound to.
 */
import * as E from 'fp-ts/Either'
import { Observable, Subject, filter, merge, share, type Subscription } from 'rxjs'
import type { ReportHead } from '../wire/chunk'
import type { ByteRange } from '../wire/headers/byte-range'
import { formatUri, parseUri, type MsrpUri } from '../wire/uri'
import { newMessageId } from '../wire/ids'
import { isIdent } from '../wire/headers/message-id'
import { mediaTypeMatches } from '../wire/headers/content-type'
import { responseToSend } from '../wire/replies'
import type { Header, MsrpRequest } from '../wire/model'
import { reassemble, type ReassembleOptions, type ReassemblyEvent, type SendPiece } from '../operators/reassemble'
import { answerChunks } from '../operators/answer-chunks'
import { reportSuccess } from '../operators/report-success'
import type { MsrpConnection, SessionPort } from './connection'
import { IncomingMessage } from './incoming'
import { toContent, type ContentSource } from './content'
import type { ByteQueueOptions } from './byte-queue'
import { WriterError } from './writer'
import { answerNickname, type NicknameHandler, type NicknameHead } from './nickname'

/** How many refused Message-IDs a session remembers (to announce each refused message once). */
export const REFUSED_MESSAGE_IDS = 1024
/** How many Message-IDs of finished sends a session remembers, to recognise a failure REPORT that comes after `done`. */
export const SENT_MESSAGE_IDS = 1024

/**
 * A failure REPORT for a message whose send had already ended with `done`. Behind a relay, `done` means every chunk
 * reached the first hop (its 200 is hop by hop, R-6.4.1-1); a relay that cannot deliver further reports it later:
 * 408 when the next hop did not answer, or the next hop's error (rfc4976-relays.md §5.5, §5.8).
 */
export interface LateFailure {
  readonly messageId: string
  readonly status: number
  readonly comment: string | undefined
  /** The bytes the REPORT is about, when it says. */
  readonly byteRange: ByteRange | undefined
}

export interface SendOptions {
  /** Default: `text/plain;charset=utf-8` for strings, `application/octet-stream` otherwise. */
  readonly contentType?: string
  /** Ask for success REPORTs (`Success-Report: yes`); the send completes once they cover the message. Default false. */
  readonly successReport?: boolean
  /** `Failure-Report` value (C-7.1.1-3). Default `yes`. */
  readonly failureReport?: 'yes' | 'no' | 'partial'
  /**
   * Total size of the message when known (else `*` until the last chunk). With `offset`, the size of the whole
   * message, not only of `content`.
   */
  readonly size?: number
  /**
   * Default: a fresh random Message-ID (C-7.1.1-1). A message resent after a connection failure MUST keep its
   * original one (RFC 4975 §5.4, C-5.4-12). It must be an `ident` (RFC 4975 §9): otherwise the send fails with a
   * `TypeError` and nothing is written.
   */
  readonly messageId?: string
  /**
   * Bytes of the message the peer already has, when resending the rest of a message cut on an earlier connection
   * (RFC 4975 §5.4; the peer must accept continuations, `reassembly.acceptContinuation`). Default 0. `content` is
   * then the rest: its chunks carry Byte-Ranges from `offset + 1`, with the whole message's total (`size`, or
   * `offset` plus the content's length when that is known), and progress counts from `offset`. A negative or
   * fractional offset, or one above `size`, fails the send with a `RangeError` and nothing is written.
   */
  readonly offset?: number
  /** MIME headers placed before Content-Type (e.g. Content-Disposition). */
  readonly headers?: readonly Header[]
}

export type SendEvent =
  /**
   * After each chunk is written or acknowledged, in bytes of the whole message (an `offset` counts as sent and
   * acknowledged from the start): `sent`, the end of the bytes written; `acknowledged`, the end of the bytes the peer
   * confirmed in order (every chunk up to there answered 200; with Failure-Report `partial` or `no` nothing is
   * confirmed, and it stays at the offset). A send cut by its connection can resume with
   * `{ messageId, offset: acknowledged }` on a new session (RFC 4975 §5.4).
   */
  | {
      readonly type: 'progress'
      readonly messageId: string
      readonly sent: number
      readonly acknowledged: number
      readonly total: number | undefined
    }
  /** A success REPORT arrived; `reported` bytes are covered so far. */
  | { readonly type: 'report'; readonly messageId: string; readonly reported: number; readonly status: number }
  /** The message is delivered as far as MSRP tells: every chunk acknowledged (and reported, if asked). */
  | { readonly type: 'done'; readonly messageId: string; readonly size: number }

export type SendFailureReason =
  | 'Timeout'
  | 'ErrorResponse'
  | 'FailureReport'
  | 'ConnectionClosed'
  | 'NotConnected'
  | 'WriteFailed'
  /** The message is larger than the peer's `a=max-size` (`SessionOptions.remoteMaxSize`, C-8.6-8, F-8.7-1): 413. */
  | 'TooLarge'

/** Why a send failed, with the MSRP status (408 for a timeout, C-7.1.1-6). */
export class SendError extends Error {
  override readonly name = 'SendError'
  constructor(
    readonly reason: SendFailureReason,
    readonly status: number,
    readonly messageId: string,
    message: string,
    override readonly cause?: unknown
  ) {
    super(message)
  }
}

export interface SessionOptions {
  /**
   * Media types this session accepts (SDP `a=accept-types`, RFC 4975 §8.6): `*`, `type/*` or `type/subtype`.
   * A SEND of another type is answered 415 and not delivered (C-7.3.1-4). Default: everything.
   */
  readonly acceptTypes?: readonly string[]
  readonly reassembly?: ReassembleOptions
  readonly body?: ByteQueueOptions
  /**
   * Decides the NICKNAME requests of chat-room participants (RFC 7701 §7.1), e.g. `new NicknameRegistry().handler`.
   * Default: none, and a NICKNAME is answered 501 (this endpoint is no chat room).
   */
  readonly nicknames?: NicknameHandler
  /**
   * The largest message the peer wishes to receive: its SDP `a=max-size` (RFC 4975 §8.6; the plan's `maxSendBytes`).
   * Senders SHOULD NOT exceed it (C-8.6-8; MUST for a file, F-8.7-1): `send` fails a message of a known larger size
   * with `SendError('TooLarge', 413)` before writing anything, and stops one of unknown size with `#` before it
   * would pass the limit, failing it the same way. Default: no limit. `session.remoteMaxSize` may change it later
   * (an updated offer).
   */
  readonly remoteMaxSize?: number
}

/**
 * A body went past the peer's max-size: how {@link capped} tells the session, through the writer's `SourceFailed`
 * (a source's only way to stop the writer mid-message, with `#`). @internal
 */
class MaxSizeReached extends Error {
  override readonly name = 'MaxSizeReached'
}

/**
 * The body, cut short with {@link MaxSizeReached} when it would yield more than `room` bytes: the bytes up to the
 * limit go out, then the writer ends the message with `#` (C-7.1-9). @internal
 */
function capped(body: AsyncIterable<Uint8Array>, room: number): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      let left = room
      for await (const piece of body) {
        if (piece.length <= left) {
          left -= piece.length
          yield piece
          continue
        }
        if (left > 0) yield piece.subarray(0, left)
        throw new MaxSizeReached(`more than ${room} bytes`)
      }
    }
  }
}

interface PendingSend {
  readonly onReport: (report: ReportHead) => void
  readonly onClosed: (error: unknown) => void
}

export class MsrpSession implements SessionPort {
  readonly localUri: MsrpUri
  /** The local URI as a string, for To-Path/From-Path and SDP. */
  readonly uri: string
  /** The peer's path (To-Path of what we send), once known. */
  remotePath: readonly string[]
  /** The peer's `a=max-size`: `send` refuses larger messages (C-8.6-8). From `SessionOptions.remoteMaxSize`. */
  remoteMaxSize: number | undefined
  private conn: MsrpConnection | undefined
  private pieces: Subject<SendPiece> | undefined
  private receiving: Subscription | undefined
  private readonly messagesSubject = new Subject<IncomingMessage>()
  private readonly sends = new Map<string, PendingSend>()
  private readonly open = new Map<string, IncomingMessage>()
  /** Message-IDs refused for their type, so each is announced once. */
  private readonly refused = new Set<string>()
  /** Message-IDs of sends that ended with `done`, oldest first (bounded by SENT_MESSAGE_IDS). */
  private readonly finished = new Set<string>()
  private readonly lateFailures = new Subject<LateFailure>()
  private closedFlag = false

  /**
   * Failure REPORTs for messages already `done` (hot): how a relay tells that a message it acknowledged hop by hop
   * could not be delivered further. REPORTs for Message-IDs this session never sent are ignored (C-7.1.2-3).
   */
  readonly lateFailures$: Observable<LateFailure> = this.lateFailures.asObservable()

  /** Incoming messages, announced when their first chunk arrives. Hot: subscribe before the peer sends. */
  readonly messages$: Observable<IncomingMessage> = this.messagesSubject.asObservable()

  constructor(
    localUri: MsrpUri | string,
    remotePath: readonly string[] = [],
    private readonly options: SessionOptions = {}
  ) {
    if (typeof localUri === 'string') {
      const parsed = parseUri(localUri)
      if (E.isLeft(parsed)) throw new TypeError(`local URI: ${parsed.left.detail}`)
      this.localUri = parsed.right
    } else this.localUri = localUri
    this.uri = formatUri(this.localUri)
    this.remotePath = remotePath
    this.remoteMaxSize = options.remoteMaxSize
  }

  get connection(): MsrpConnection | undefined {
    return this.conn
  }

  get closed(): boolean {
    return this.closedFlag
  }

  bind(connection: MsrpConnection): void {
    if (this.conn !== undefined || this.closedFlag) return
    this.conn = connection
    connection.attach(this)
    const pieces = new Subject<SendPiece>()
    this.pieces = pieces
    const events$ = pieces.pipe(reassemble(this.options.reassembly), share())
    const replies$ = merge(
      events$.pipe(answerChunks({ localUri: this.uri })),
      events$.pipe(reportSuccess({ localUri: this.uri }))
    )
    this.receiving = merge(
      replies$.pipe(filter((frame) => (connection.writer.sendFrame(frame), false))),
      events$.pipe(filter((e) => (this.onReassembly(e), false)))
    ).subscribe({ error: () => undefined })
  }

  onPiece(piece: SendPiece): void {
    const accept = this.options.acceptTypes
    const type = piece.head.contentType
    if (accept !== undefined && type !== undefined && !accept.some((p) => mediaTypeMatches(type, p))) {
      // C-7.3.1-4: unsupported Content-Type → 415, once per chunk, unless Failure-Report is no.
      if (piece.position !== 0) return
      if (piece.head.failureReport !== 'no') this.conn?.writer.sendFrame(responseToSend(piece.head, 415))
      if (!this.refused.has(piece.head.messageId)) {
        // Announced once, already failed: nothing is dropped without a report.
        this.refused.add(piece.head.messageId)
        if (this.refused.size > REFUSED_MESSAGE_IDS) this.refused.delete(this.refused.values().next().value as string)
        const message = new IncomingMessage(piece.head, undefined, this.options.body)
        this.messagesSubject.next(message)
        message.finish({
          type: 'failed',
          status: 415,
          reason: 'UnsupportedType',
          detail: `${message.contentType} is not accepted`
        })
      }
      return
    }
    this.pieces?.next(piece)
  }

  onReport(report: ReportHead): void {
    const pending = this.sends.get(report.messageId)
    if (pending !== undefined) return pending.onReport(report)
    if (this.finished.has(report.messageId) && report.status.code !== 200) {
      this.lateFailures.next({
        messageId: report.messageId,
        status: report.status.code,
        comment: report.status.comment,
        byteRange: report.byteRange
      })
    }
    // Any other Message-ID: ignored (C-7.1.2-3).
  }

  onNickname(head: NicknameHead): void {
    const conn = this.conn
    if (conn === undefined) return
    answerNickname(head, this.options.nicknames, { sessionUri: this.uri }, (r) => conn.writer.sendFrame(r))
  }

  /** Remembers a send that ended with `done`, for `lateFailures$`. */
  private remember(messageId: string): void {
    this.finished.delete(messageId)
    this.finished.add(messageId)
    if (this.finished.size > SENT_MESSAGE_IDS) this.finished.delete(this.finished.values().next().value as string)
  }

  onConnectionClosed(connection: MsrpConnection, error: unknown): void {
    if (connection !== this.conn) return
    this.pieces?.complete() // reassembly reports unfinished messages aborted (ConnectionLost)
    this.receiving?.unsubscribe()
    this.pieces = undefined
    this.receiving = undefined
    this.conn = undefined
    for (const s of [...this.sends.values()]) s.onClosed(error)
  }

  private onReassembly(e: ReassemblyEvent): void {
    switch (e.type) {
      case 'start': {
        const transport = this.conn?.transport
        const message = new IncomingMessage(
          e.head,
          e.total,
          { ...this.options.body, onPause: () => transport?.pause(), onResume: () => transport?.resume() },
          e.firstByte ?? 1
        )
        this.open.set(e.messageId, message)
        this.messagesSubject.next(message)
        return
      }
      case 'data':
        this.open.get(e.messageId)?.data(e.data)
        return
      case 'complete':
        this.settle(e.messageId, { type: 'complete', size: e.size, duplicate: false })
        return
      case 'aborted':
        this.settle(e.messageId, { type: 'aborted', received: e.received, reason: e.reason })
        return
      case 'failed': {
        if (!this.open.has(e.messageId)) {
          // Refused on its first chunk (e.g. a declared size over the limit): still announced, already failed.
          const message = new IncomingMessage(e.head, undefined, this.options.body)
          this.open.set(e.messageId, message)
          this.messagesSubject.next(message)
        }
        this.settle(e.messageId, { type: 'failed', status: e.status, reason: e.reason, detail: e.detail })
        return
      }
      default:
        return
    }
  }

  private settle(messageId: string, outcome: Parameters<IncomingMessage['finish']>[0]): void {
    const m = this.open.get(messageId)
    this.open.delete(messageId)
    m?.finish(outcome)
  }

  /**
   * Sends a message (RFC 4975 §7.1.1): chunked, each chunk matched with its response (a local 408 after 30 s when
   * Failure-Report is yes, C-7.1.1-6), progress as chunks are written and acknowledged, success REPORTs when asked.
   * Completes with `done`; fails with a `SendError`. Unsubscribing aborts the message (`#`, C-7.1-9). With
   * `messageId` and `offset` it resends the rest of a message cut on an earlier connection (RFC 4975 §5.4).
   */
  send(content: ContentSource, options: SendOptions = {}): Observable<SendEvent> {
    return new Observable<SendEvent>((subscriber) => {
      const messageId = options.messageId ?? newMessageId()
      const offset = options.offset ?? 0
      // Programmer errors, before anything is written: a Message-ID must be an ident (RFC 4975 §9, C-7.1.1-2).
      if (!isIdent(messageId)) {
        subscriber.error(new TypeError(`send: Message-ID "${messageId}" is not an ident (RFC 4975 §9)`))
        return
      }
      if (!Number.isSafeInteger(offset) || offset < 0 || (options.size !== undefined && offset > options.size)) {
        subscriber.error(
          new RangeError(`send: offset ${offset} is not a byte count within the size ${options.size ?? '*'}`)
        )
        return
      }
      let body: AsyncIterable<Uint8Array>
      let rest: number | undefined
      let defaultContentType: string
      try {
        // `content` is the rest of the message after `offset`; `size` is the whole message's.
        ;({
          body,
          size: rest,
          defaultContentType
        } = toContent(content, options.size !== undefined ? { size: options.size - offset } : {}))
      } catch (e) {
        subscriber.error(e)
        return
      }
      const size = rest === undefined ? undefined : offset + rest
      const conn = this.conn
      if (conn === undefined || conn.closed) {
        subscriber.error(new SendError('NotConnected', 481, messageId, 'the session has no connection'))
        return
      }
      if (this.remotePath.length === 0) {
        // A SEND needs a To-Path (RFC 4975 §7.1); an empty one would only be answered 400 by the peer.
        subscriber.error(
          new SendError('NotConnected', 481, messageId, "the session has no remote path (the peer's a=path)")
        )
        return
      }
      // C-8.6-8, F-8.7-1: senders SHOULD NOT (files: MUST NOT) exceed the peer's a=max-size. A known size is refused
      // before anything is written; an unknown one is cut with `#` before it would pass the limit.
      const maxSize = this.remoteMaxSize
      const tooLarge = (what: string): SendError =>
        new SendError('TooLarge', 413, messageId, `${what}: the peer accepts at most ${maxSize} bytes (a=max-size)`)
      if (maxSize !== undefined && size !== undefined && size > maxSize) {
        subscriber.error(tooLarge(`the message has ${size} bytes`))
        return
      }
      if (maxSize !== undefined && size === undefined) body = capped(body, Math.max(0, maxSize - offset))
      const successReport = options.successReport === true
      const failureReport = options.failureReport ?? 'yes'
      let sent = offset
      let acknowledged = offset
      /** Acknowledged chunks beyond `acknowledged` (their 200 came before an earlier chunk's): [start, end). */
      let ahead: (readonly [number, number])[] = []
      let reported = 0
      let written = false
      let finalSize: number | undefined
      const pendingTids = new Map<string, readonly [number, number]>() // transaction id → [start, end) (yes)
      const watchedTids = new Set<string>() // Failure-Report partial: only errors are expected
      /** Why the writer was stopped (413, failure REPORT): its own "Stopped" error must not hide it. */
      let stopped: SendError | undefined
      const fail = (e: SendError): void => {
        this.sends.delete(messageId)
        subscriber.error(e)
      }
      const stop = (e: SendError): void => {
        stopped ??= e
        conn.writer.stop(messageId) // C-7.3.1: no further chunk of it, and no `#` either
        fail(stopped)
      }
      /** Moves `acknowledged` over the chunks now confirmed in order. */
      const acknowledge = (range: readonly [number, number]): void => {
        ahead.push(range)
        let moved = true
        while (moved) {
          moved = false
          for (const [start, end] of ahead) {
            if (start > acknowledged) continue
            acknowledged = Math.max(acknowledged, end)
            moved = true
          }
          if (moved) ahead = ahead.filter(([, end]) => end > acknowledged)
        }
      }
      const progress = (): void =>
        subscriber.next({ type: 'progress', messageId, sent, acknowledged, total: size ?? finalSize })
      const maybeDone = (): void => {
        if (!written || pendingTids.size > 0 || finalSize === undefined) return
        if (successReport && reported < finalSize) return
        this.sends.delete(messageId)
        this.remember(messageId)
        subscriber.next({ type: 'done', messageId, size: finalSize })
        subscriber.complete()
      }
      this.sends.set(messageId, {
        onReport: (report) => {
          const code = report.status.code
          if (code !== 200) return stop(new SendError('FailureReport', code, messageId, `failure REPORT ${code}`))
          const range = report.byteRange
          reported = Math.max(reported, range === undefined ? 0 : typeof range.end === 'number' ? range.end : 0)
          subscriber.next({ type: 'report', messageId, reported, status: code })
          maybeDone()
        },
        onClosed: (error) => fail(new SendError('ConnectionClosed', 408, messageId, 'the connection closed', error))
      })
      const results = conn.transactions$.subscribe((r) => {
        const request = E.isLeft(r) ? ('request' in r.left ? r.left.request : undefined) : r.right.request
        if (request === undefined) return
        const tid = request.transactionId
        const watched = watchedTids.delete(tid)
        const range = pendingTids.get(tid)
        pendingTids.delete(tid)
        if (!watched && range === undefined) return // another message's transaction
        if (E.isRight(r)) {
          if (range !== undefined) acknowledge(range)
          progress()
          maybeDone()
          return
        }
        const status = 'status' in r.left && typeof r.left.status === 'number' ? r.left.status : 408
        const reason = r.left.reason === 'Timeout' ? 'Timeout' : 'ErrorResponse'
        const error = new SendError(reason, status, messageId, `chunk ${tid}: ${r.left.reason} ${status}`)
        // Any error response ends the message: stop writing it (a 413 MUST stop it, C-7.3.1) without `#`.
        stop(error)
      })
      const writing = conn.writer
        .sendMessage({
          messageId,
          toPath: this.remotePath.join(' '),
          fromPath: this.uri,
          contentType: options.contentType ?? defaultContentType,
          extraHeaders: [...(options.headers ?? [])],
          successReport: successReport ? 'yes' : 'no',
          failureReport,
          size,
          offset,
          body
        })
        .subscribe({
          next: (w) => {
            const end = w.start + w.length // `start` counts the offset: bytes of the whole message
            sent = Math.max(sent, end)
            // yes: each chunk waits for its 200 (or a 408 after 30 s); partial: only an error response can come,
            // so chunks are watched for errors without holding the send open (C-7.1.1-7); no: nothing comes.
            if (failureReport === 'yes') pendingTids.set(w.request.transactionId, [w.start, end])
            else if (failureReport === 'partial') watchedTids.add(w.request.transactionId)
            conn.written$.next(w.request as MsrpRequest)
            if (w.final) {
              written = true
              finalSize = end
            }
            progress()
            maybeDone()
          },
          error: (error: unknown) => {
            // The transport closing reaches the writer first: report it as the connection closing (C-5.4-10).
            const closed = error instanceof WriterError && error.reason === 'ConnectionClosed'
            const capReached = error instanceof WriterError && error.cause instanceof MaxSizeReached
            fail(
              stopped ??
                (capReached
                  ? tooLarge(`the message goes past ${maxSize} bytes`)
                  : closed
                    ? new SendError('ConnectionClosed', 408, messageId, 'the connection closed', error)
                    : new SendError('WriteFailed', 408, messageId, String(error), error))
            )
          }
        })
      return () => {
        writing.unsubscribe() // aborts with `#` if the message was not fully written
        results.unsubscribe()
        this.sends.delete(messageId)
      }
    })
  }

  /** Ends the session: no more sends; the connection is left to other sessions (or closed if none). */
  close(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    const conn = this.conn
    if (conn !== undefined) {
      this.onConnectionClosed(conn, new Error('session closed'))
      conn.detach(this)
      if (conn.sessionCount === 0) conn.close()
    }
    this.messagesSubject.complete()
  }
}
