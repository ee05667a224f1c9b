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
  /** Total size of a stream, when known (else `*` until the last chunk). */
  readonly size?: number
  /** Default: a fresh random Message-ID (C-7.1.1-1). */
  readonly messageId?: string
  /** MIME headers placed before Content-Type (e.g. Content-Disposition). */
  readonly headers?: readonly Header[]
}

export type SendEvent =
  /** After each chunk is written or acknowledged: bytes written, bytes acknowledged by 200 responses. */
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
  'Timeout' | 'ErrorResponse' | 'FailureReport' | 'ConnectionClosed' | 'NotConnected' | 'WriteFailed'

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
        const message = new IncomingMessage(e.head, e.total, {
          ...this.options.body,
          onPause: () => transport?.pause(),
          onResume: () => transport?.resume()
        })
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
   * Completes with `done`; fails with a `SendError`. Unsubscribing aborts the message (`#`, C-7.1-9).
   */
  send(content: ContentSource, options: SendOptions = {}): Observable<SendEvent> {
    return new Observable<SendEvent>((subscriber) => {
      const conn = this.conn
      const messageId = options.messageId ?? newMessageId()
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
      const { body, size, defaultContentType } = toContent(
        content,
        options.size !== undefined ? { size: options.size } : {}
      )
      const successReport = options.successReport === true
      const failureReport = options.failureReport ?? 'yes'
      let sent = 0
      let acknowledged = 0
      let reported = 0
      let written = false
      let finalSize: number | undefined
      const pendingTids = new Map<string, number>() // transaction id → chunk length (Failure-Report yes)
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
        const length = pendingTids.get(tid)
        pendingTids.delete(tid)
        if (!watched && length === undefined) return // another message's transaction
        if (E.isRight(r)) {
          acknowledged += length ?? 0
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
          body
        })
        .subscribe({
          next: (w) => {
            sent += w.length
            // yes: each chunk waits for its 200 (or a 408 after 30 s); partial: only an error response can come,
            // so chunks are watched for errors without holding the send open (C-7.1.1-7); no: nothing comes.
            if (failureReport === 'yes') pendingTids.set(w.request.transactionId, w.length)
            else if (failureReport === 'partial') watchedTids.add(w.request.transactionId)
            conn.written$.next(w.request as MsrpRequest)
            if (w.final) {
              written = true
              finalSize = w.start + w.length
            }
            progress()
            maybeDone()
          },
          error: (error: unknown) => {
            // The transport closing reaches the writer first: report it as the connection closing (C-5.4-10).
            const closed = error instanceof WriterError && error.reason === 'ConnectionClosed'
            fail(
              stopped ??
                (closed
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
