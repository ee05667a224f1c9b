/**
 * One MSRP connection of an endpoint: frames what arrives, answers what no session can take, routes SEND chunks
 * and REPORTs to the session their To-Path names, matches responses to the requests written, and owns the writer.
 * Several sessions may share it (RFC 4975 §5.4).
 */
import * as E from 'fp-ts/Either'
import { Subject, share, type Observable, type Subscription } from 'rxjs'
import { validateReport, validateSend, type SendHead } from '../wire/chunk'
import { getHeader, type MsrpRequest, type MsrpResponse, type RequestHead } from '../wire/model'
import type { MsrpUri } from '../wire/uri'
import { responseTo } from '../wire/replies'
import { frame, type FramedEvent } from '../operators/frame'
import { matchTransactions, type Transaction, type TransactionFailure } from '../operators/match-transactions'
import { MsrpConnectionError } from '../operators/errors'
import type { SendPiece } from '../operators/reassemble'
import type { FramerOptions } from '../wire/framer'
import type { ReportHead } from '../wire/chunk'
import type { Transport } from '../transport/transport'
import { ConnectionWriter } from './writer'
import { NICKNAME_METHOD, nicknameHead, type NicknameHead } from './nickname'

/** What a connection needs of a session to deliver to it. */
export interface SessionPort {
  readonly localUri: MsrpUri
  /** The connection the session is bound to, if any (C-5.4-7, C-5.4-9). */
  readonly connection: MsrpConnection | undefined
  /** Binds an unbound session to `connection` (the passive side, on the first request, C-5.4-7). */
  bind(connection: MsrpConnection): void
  onPiece(piece: SendPiece): void
  onReport(report: ReportHead): void
  /** A NICKNAME request for this session (RFC 7701 §7.1): the session answers it. */
  onNickname(head: NicknameHead): void
  /** The connection ended: unfinished messages are aborted, pending sends fail. */
  onConnectionClosed(connection: MsrpConnection, error: unknown): void
}

/** Finds the session a To-Path URI names, among those this endpoint has. */
export type SessionResolver = (uri: MsrpUri) => SessionPort | undefined

export interface ConnectionOptions {
  readonly chunkBytes?: number
  /** Transaction timeout (C-7.1.1-6), default 30 s (`TRANSACTION_TIMEOUT_MS`). */
  readonly timeoutMs?: number
  readonly limits?: FramerOptions
}

/** Whether a request may be answered at all: REPORTs never are, nor requests with `Failure-Report: no`. */
function answerable(request: RequestHead): boolean {
  if (request.method === 'REPORT') return false
  return getHeader(request.headers, 'Failure-Report')?.trim().toLowerCase() !== 'no'
}

export class MsrpConnection {
  readonly writer: ConnectionWriter
  /** Every response that arrives on this connection. */
  readonly responses$ = new Subject<MsrpResponse>()
  /** Requests just written, for transaction matching: push each SEND chunk here after it is written. */
  readonly written$ = new Subject<MsrpRequest>()
  /** Outcome of every transaction of this connection (shared; filter by transaction id). */
  readonly transactions$: Observable<E.Either<TransactionFailure, Transaction>>
  private readonly sessions = new Set<SessionPort>()
  private readonly subscription: Subscription
  private readonly matching: Subscription
  /** The streamed SEND whose pieces are arriving: its head and target, or `null` if it was refused. */
  private streaming: { head: SendHead; port: SessionPort } | null = null
  private closedError: unknown = null

  constructor(
    readonly transport: Transport,
    private readonly resolve: SessionResolver,
    options: ConnectionOptions = {}
  ) {
    this.writer = new ConnectionWriter(
      transport,
      options.chunkBytes !== undefined ? { chunkBytes: options.chunkBytes } : {}
    )
    this.transactions$ = this.written$.pipe(
      matchTransactions(this.responses$, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      share()
    )
    // Keep matching alive for the connection's life even when no send is listening.
    this.matching = this.transactions$.subscribe({ error: () => undefined })
    this.subscription = transport.incoming$
      .pipe(
        frame({
          messageOriented: transport.info.messageOriented,
          ...(options.limits ? { limits: options.limits } : {})
        })
      )
      .subscribe({
        next: (event) => this.onEvent(event),
        error: (error: unknown) => this.end(error),
        complete: () => this.end(undefined)
      })
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.closedError !== null
  }

  /** Associates a session with this connection (done by `SessionPort.bind`). */
  attach(port: SessionPort): void {
    this.sessions.add(port)
  }

  detach(port: SessionPort): void {
    this.sessions.delete(port)
  }

  get sessionCount(): number {
    return this.sessions.size
  }

  close(): void {
    this.transport.close()
    this.end(undefined)
  }

  private onEvent(event: FramedEvent): void {
    switch (event.type) {
      case 'frame': {
        const f = event.frame
        if (f.type === 'response') return this.responses$.next(f)
        if (event.failures.length > 0) return this.answer(f, 400)
        if (f.method === 'SEND') {
          const head = this.validSend(f, f.body !== undefined)
          if (head === undefined) return
          const port = this.route(head.request, head.toPath)
          if (port === undefined) return
          const data = f.body ?? new Uint8Array(0)
          port.onPiece({ head, data, position: 0, end: f.continuation, bodiless: f.body === undefined })
          return
        }
        if (f.method === 'REPORT') {
          const report = validateReport(f)
          if (E.isLeft(report)) return // never answered (C-7.1.2-6)
          const port = this.route(f, report.right.toPath)
          port?.onReport(report.right)
          return
        }
        if (f.method === NICKNAME_METHOD) {
          // RFC 7701 §7.1: a NICKNAME goes to its session, which answers it (501 if it takes no nicknames).
          const head = nicknameHead(f)
          if (E.isLeft(head)) return this.answer(f, head.left.status, head.left.detail)
          this.route(f, head.right.toPath)?.onNickname(head.right)
          return
        }
        return this.answer(f, 501) // RFC 4975 §7.3: unknown methods (endpoints take no AUTH)
      }
      case 'head': {
        this.streaming = null
        if (event.failures.length > 0) return this.answer(event.head, 400)
        const head = this.validSend(event.head, true)
        if (head === undefined) return
        const port = this.route(event.head, head.toPath)
        if (port !== undefined) this.streaming = { head, port }
        return
      }
      case 'body': {
        const s = this.streaming
        s?.port.onPiece({ head: s.head, data: event.data, position: event.position, end: undefined, bodiless: false })
        return
      }
      case 'end': {
        const s = this.streaming
        this.streaming = null
        s?.port.onPiece({
          head: s.head,
          data: new Uint8Array(0),
          position: event.size,
          end: event.continuation,
          bodiless: false
        })
        return
      }
    }
  }

  private validSend(request: RequestHead, hasBody: boolean): SendHead | undefined {
    const head = validateSend(request, hasBody)
    if (E.isRight(head)) return head.right
    this.answer(request, 400, head.left.detail)
    return undefined
  }

  /**
   * The session a request is for: its To-Path holds one URI at an endpoint, which must name a session of ours
   * (481, C-7.3-1, C-5.4-8) not bound to another connection (506, C-5.4-9); an unbound one is bound here (C-5.4-7).
   */
  private route(request: RequestHead, toPath: readonly MsrpUri[]): SessionPort | undefined {
    const uri = toPath.length === 1 ? toPath[0] : undefined
    const port = uri === undefined ? undefined : this.resolve(uri)
    if (port === undefined) {
      this.answer(request, 481)
      return undefined
    }
    if (port.connection === undefined) port.bind(this)
    if (port.connection !== this) {
      this.answer(request, 506)
      return undefined
    }
    return port
  }

  private answer(request: RequestHead, status: number, comment?: string): void {
    if (!answerable(request) || getHeader(request.headers, 'From-Path') === undefined) return
    this.writer.sendFrame(responseTo(request, status, comment !== undefined ? { comment } : {}))
  }

  private end(error: unknown): void {
    if (this.closedError !== null) return
    this.closedError = error ?? new MsrpConnectionError({ reason: 'TransportFailed', detail: 'the connection closed' })
    if (error instanceof MsrpConnectionError && error.failure?.transactionId !== undefined && this.streaming) {
      // A chunk broken mid-body (e.g. ChunkTooLarge): answer it before closing (C-7.2-1).
      this.answer(this.streaming.head.request, error.failure.status)
    }
    this.streaming = null
    for (const port of [...this.sessions]) port.onConnectionClosed(this, this.closedError)
    this.sessions.clear()
    this.written$.complete()
    this.responses$.complete()
    this.matching.unsubscribe()
    this.subscription.unsubscribe()
    this.writer.close()
    this.transport.close()
  }
}
