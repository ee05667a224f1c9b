/**
 * The relay's forwarding core (RFC 4976 §6, RFC 7977; rfc4976-relays.md §5): accepts connections, answers AUTH
 * addressed to it through the `AuthHandler`, asks the `Router` where every other request goes, rewrites the paths,
 * forwards with a new transaction id per hop, answers SENDs hop by hop and reports failures back to the sender.
 *
 * ```text
 * transport ─► frame ─► AUTH to us? ─► auth.handle ─► response
 *                    └► request ─► router ─► forward: rewrite paths, new tid ─► next hop's Outbox (batched writes)
 *                                        ├► deliver: local handler (body as a stream)
 *                                        └► reject: status (if answerable), `refused` event
 *                    └► response ─► pending transaction of this hop ─► REPORT (SEND) or mapped back (AUTH)
 * ```
 *
 * Large SENDs stream through (cut-through): the head is written as soon as it is known, body pieces as they arrive
 * (views, never copied or joined), then the end-line. Towards a WebSocket, every frame must be one message (W-5.1-3),
 * so streamed chunks are re-chunked into frames of at most `wsChunkBytes`. Memory per connection is bounded: reading
 * pauses while a next hop is congested or a decision is pending.
 */
import * as E from 'fp-ts/Either'
import { asyncScheduler, firstValueFrom, Subject, timeout, timer, type Observable, type SchedulerLike } from 'rxjs'
import type { Subscription } from 'rxjs'
import { validateSend, type SendHead } from '../wire/chunk'
import { chooseTransactionId, chunkByteRange, encodeFrame } from '../wire/encoder'
import type { FramerOptions } from '../wire/framer'
import { formatByteRange } from '../wire/headers/byte-range'
import { requireHeader } from '../wire/headers'
import type { FailureReport } from '../wire/headers/report'
import type { Path } from '../wire/headers/path'
import { newTransactionId } from '../wire/ids'
import {
  getHeader,
  type Continuation,
  type MsrpFrame,
  type MsrpRequest,
  type MsrpResponse,
  type RequestHead
} from '../wire/model'
import { reportFor, responseTo } from '../wire/replies'
import { ByteNeedle } from '../wire/search'
import { isInvalidHost, parseUri, uriEquals, type MsrpUri } from '../wire/uri'
import { frame, type FramedEvent } from '../operators/frame'
import { MsrpConnectionError } from '../operators/errors'
import type { Listener, Transport } from '../transport/transport'
import { dial, type DialOptions } from '../session/endpoint'
import {
  encodeForwarded,
  encodeSendOk,
  firstToken,
  movePaths,
  rewriteRequest,
  rewriteResponse,
  withByteRange
} from './rewrite'
import { route, type LocalHandler, type NextHop, type RouteDecision, type RouteRequest, type Router } from './router'
import type { AuthHandler, Binding, RelayConnection, RelayEvent, RelayEvents, Registry } from './types'

/** Probation (R-6.1-2): a connection with no successful request within this time is closed. */
export const PROBATION_MS = 30_000
/** Probation (R-6.1-3): a connection with this many unsuccessful requests and no success is closed. */
export const PROBATION_MAX_FAILURES = 5
/** Hop timer (R-6.4.1-2): a forwarded SEND with Failure-Report `yes` unanswered this long after its last byte → 408. */
export const HOP_TIMEOUT_MS = 30_000
/** An asynchronous router that has not decided within this time: the request is refused with 408. */
export const ROUTE_TIMEOUT_MS = 10_000
/**
 * Body bytes per frame towards a WebSocket next hop (W-5.1-4): 8 KiB keeps frames below the 11 239 bytes Kamailio can
 * read (../shared/interop/kamailio.md) and far below browsers' and ws's message limits.
 */
export const WS_CHUNK_BYTES = 8192
/** Body bytes per forwarded frame towards byte-stream next hops: unlimited (chunks pass as they are) by default. */
export const MAX_FORWARD_CHUNK_BYTES = Number.POSITIVE_INFINITY
/** Frames written to one byte-stream transport in the same tick are joined into one `write` up to this many bytes. */
export const WRITE_BATCH_BYTES = 64 * 1024
/**
 * …and up to this many frames: a batch is written once it holds this many, so that the first answers of a long read
 * leave while the rest is processed (the peers work in parallel with us).
 */
export const WRITE_BATCH_FRAMES = 16
/** `close()` waits this long at most for chunks being streamed through to end. */
export const CLOSE_TIMEOUT_MS = 5_000
/** A next hop that is not connected within this time is given up (408); the default `dial` has its own limit too. */
export const NEXT_HOP_CONNECT_TIMEOUT_MS = 10_000
/** Forwarded transactions awaiting a response per connection; past it the oldest is treated as timed out. */
export const MAX_PENDING_TRANSACTIONS = 10_000
/** How many of its own URIs in a row the relay pops from one To-Path (two WebSocket clients on one relay, RFC 7977 §8.3). */
export const MAX_INTERNAL_HOPS = 4

/** Opens a transport to a next hop's URI. */
export type RelayConnector = (uri: MsrpUri) => Observable<Transport>

/** Options of {@link MsrpRelay}. Only `auth` and `registry` are required. */
export interface MsrpRelayOptions {
  /** Answers AUTH requests addressed to this relay (`createAuthHandler`). */
  readonly auth: AuthHandler
  /** The URIs this relay issued (`createRegistry`); shared with `auth`. */
  readonly registry: Registry
  /** Routing policy. Default `defaultRouter()` (RFC 4976 §6.4, no open relay), called directly. */
  readonly router?: Router
  /** Default {@link PROBATION_MS}. */
  readonly probationMs?: number
  /** Default {@link PROBATION_MAX_FAILURES}. */
  readonly probationMaxFailures?: number
  /** Default {@link HOP_TIMEOUT_MS}. */
  readonly hopTimeoutMs?: number
  /** Default {@link ROUTE_TIMEOUT_MS}. */
  readonly routeTimeoutMs?: number
  /** Default {@link WS_CHUNK_BYTES}. */
  readonly wsChunkBytes?: number
  /** Default {@link MAX_FORWARD_CHUNK_BYTES} (unlimited). */
  readonly maxForwardChunkBytes?: number
  /** Default {@link WRITE_BATCH_BYTES}. */
  readonly writeBatchBytes?: number
  /** Default {@link CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number
  /** Default {@link MAX_PENDING_TRANSACTIONS}. */
  readonly maxPendingTransactions?: number
  /** The framer's limits on every connection (wire/limits.ts defaults). */
  readonly limits?: FramerOptions
  /**
   * Opens connections to next hops that have none. Default: the endpoint's `dial` with `dial` options (TLS for
   * `msrps`, verification on, WebSocket for `;ws`).
   */
  readonly connect?: RelayConnector
  /** Default {@link NEXT_HOP_CONNECT_TIMEOUT_MS}. */
  readonly connectTimeoutMs?: number
  /** Options of the default `connect`: CA, client certificate and key for mutual TLS, `rejectUnauthorized`. */
  readonly dial?: DialOptions
  /** Scheduler of every timer (probation, hop, route, close). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike
  /** Transaction id generator (tests). Default `newTransactionId`. */
  readonly generateId?: () => string
}

/** Options of {@link MsrpRelay.serve}. */
export interface ServeOptions {
  /**
   * Who the peer of a transport is, when its handshake proved it (RFC 7977 §5.3.1): the connection's `identity`.
   * Default: `transport.info.identity`, what a WebSocket listener's `authenticate` hook returned.
   */
  readonly identify?: (transport: Transport) => string | undefined
}

/** Counters for tests and metrics. */
export interface RelayStats {
  readonly connections: number
  readonly pendingTransactions: number
  /** Bytes the relay holds itself: batched writes not yet handed to transports and WebSocket re-chunk buffers. */
  readonly bufferedBytes: number
}

/** @internal */
const EMPTY = new Uint8Array(0)
/** @internal */
const TEXT = new TextEncoder()

/** @internal A transaction this relay sent on `target` and waits for the response to. */
interface Pending {
  readonly tid: string
  readonly target: Conn
  readonly from: Conn
  /** `send`: a forwarded SEND chunk (REPORT on failure); `request`: AUTH (the response is mapped back). */
  readonly kind: 'send' | 'request'
  readonly originalTid: string
  /** Our URIs popped from To-Path on the way out: the response pops as many. */
  readonly pops: number
  /** The URI the sender addressed: From-Path of our REPORTs (rfc4976-relays.md §5.8). */
  readonly firstMoved: string
  /** The URI the next hop answers to (the first From-Path URI it received). */
  readonly lastMoved: string
  readonly send: SendHead | undefined
  readonly failureReport: FailureReport
  /** 1-based Byte-Range of the chunk as forwarded (`end` known once its last byte is written). */
  readonly start: number
  end: number
  readonly total: number | '*'
  /** When the hop timer expires (scheduler time); `undefined` until the last byte is written. */
  deadline: number | undefined
}

/** @internal What the body pieces of a streamed SEND arriving on a connection are for. */
type Inbound =
  | { readonly kind: 'discard'; readonly head: RequestHead }
  | { readonly kind: 'forward'; readonly head: RequestHead; readonly ctx: Ctx; readonly out: OutStream }
  | { readonly kind: 'deliver'; readonly head: RequestHead; readonly ctx: Ctx; readonly body: Subject<Uint8Array> }

/** @internal One request being placed. */
interface Ctx {
  readonly conn: Conn
  /** The request as it arrived. */
  readonly head: RequestHead
  /** The whole request, or `undefined` for a streamed SEND (its pieces follow). */
  readonly whole: MsrpRequest | undefined
  readonly send: SendHead | undefined
  /** Our URIs popped so far (internal hops) + 1 for the one being routed. */
  pops: number
  route: RouteRequest
  done: boolean
}

/** @internal One accepted or dialed connection. */
class Conn {
  readonly pending = new Map<string, Pending>()
  /** What stops reading now; `undefined` when nothing does (an idle connection holds no set). */
  private holds: Set<string> | undefined
  readonly outStreams = new Set<OutStream>()
  queue: FramedEvent[] = []
  blocked = false
  stream: Inbound | undefined
  probation: Subscription | undefined
  subscription: Subscription | undefined
  /** The hop-timer sweep of the transactions sent on this connection (see `MsrpRelay.startTimer`). */
  sweep: Subscription | undefined
  succeeded = false
  failures = 0
  closed = false
  poolKey: string | undefined
  /** The peer URIs (see `MsrpRelay.peers`) this connection is the way to; `undefined` for none. */
  peerKeys: string[] | undefined
  /** The From-Path URI last looked at by `notePeer` (decoded paths are shared while unchanged): not looked at again. */
  lastPeerUri: MsrpUri | undefined

  constructor(
    readonly rc: RelayConnection,
    readonly out: Outbox,
    readonly outgoing: boolean
  ) {}

  /** Stops reading while `key` holds (a pending decision, a congested next hop). */
  hold(key: string): void {
    if (this.closed) return
    const holds = (this.holds ??= new Set())
    if (holds.size === 0) this.rc.transport.pause()
    holds.add(key)
  }

  release(key: string): void {
    const holds = this.holds
    if (holds === undefined || !holds.delete(key) || holds.size > 0) return
    this.holds = undefined
    if (!this.closed) this.rc.transport.resume()
  }
}

/**
 * @internal The write side of one connection. On byte streams, frames written in the same tick go out in one
 * `transport.write` (Kamailio writes each frame separately; joining them is most of our small-message throughput).
 * On WebSocket, one frame per write (one message). When the transport is congested, the connections that fed it
 * pause until `drain$`.
 */
class Outbox {
  private batch: Uint8Array[] = []
  private batchBytes = 0
  private batchFrames = 0
  private scheduled = false
  private congested = false
  private closed = false
  // Created on first need: an idle connection holds no sets and no `drain$` subscription.
  /** Connections that fed frames since the last write. */
  private feeders: Set<Conn> | undefined
  /** Connections paused while the transport is congested. */
  private paused: Set<Conn> | undefined
  /** Subscribed by the first congestion: `drain$` fires only after a `write` returned false. */
  private drainSub: Subscription | undefined

  constructor(
    private readonly transport: Transport,
    private readonly id: string,
    private readonly batchLimit: number
  ) {}

  /** What the connections paused by this outbox are held by. */
  private get key(): string {
    return `out:${this.id}`
  }

  get bufferedBytes(): number {
    return this.batchBytes
  }

  /** Queues one frame (or part of one) for the transport; `source` is paused if the transport is congested. */
  send(pieces: readonly Uint8Array[], source?: Conn): void {
    if (this.closed) return
    if (source !== undefined) (this.feeders ??= new Set()).add(source)
    if (this.transport.info.messageOriented) {
      this.write(pieces)
      return
    }
    for (const p of pieces) {
      if (p.length === 0) continue
      this.batch.push(p)
      this.batchBytes += p.length
    }
    if (this.batchBytes >= this.batchLimit || ++this.batchFrames >= WRITE_BATCH_FRAMES) this.flush()
    else if (!this.scheduled && this.batch.length > 0) {
      this.scheduled = true
      queueMicrotask(() => {
        this.scheduled = false
        this.flush()
      })
    }
  }

  flush(): void {
    if (this.batch.length === 0) return
    const batch = this.batch
    this.batch = []
    this.batchBytes = 0
    this.batchFrames = 0
    this.write(batch)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.batch = []
    this.batchBytes = 0
    this.drainSub?.unsubscribe()
    this.onDrain()
  }

  private write(pieces: readonly Uint8Array[]): void {
    if (!this.transport.write(pieces) && !this.closed) {
      this.congested = true
      this.drainSub ??= this.transport.drain$.subscribe(() => this.onDrain())
    }
    const feeders = this.feeders
    if (feeders === undefined) return
    if (this.congested) {
      const paused = (this.paused ??= new Set())
      for (const c of feeders) {
        if (paused.has(c)) continue
        paused.add(c)
        c.hold(this.key)
      }
    }
    feeders.clear()
  }

  private onDrain(): void {
    this.congested = false
    if (this.paused === undefined || this.paused.size === 0) return
    const paused = [...this.paused]
    this.paused.clear()
    for (const c of paused) c.release(this.key)
  }
}

/**
 * @internal One incoming SEND chunk forwarded to one next hop as one or more chunks.
 * - `cut` (byte streams): cut-through; the head goes out at once with range-end `*`, body pieces as they come. A chunk
 *   is interrupted (`+`) and a new one begun (fresh id, Byte-Range continuing, R-6.4.1-4/-5) when it reaches
 *   `limit` bytes or when the body would contain `-------<its id>` (C-7.1-10; checked across pieces too).
 * - `collect` (WebSocket): frames of at most `limit` body bytes, each written as one message (W-5.1-3, W-5.1-4).
 */
class OutStream {
  private tid = ''
  private open = false
  /** Bytes of the incoming chunk handled so far, and where the current outgoing chunk began. */
  private forwarded = 0
  private chunkStart = 0
  private chunkLen = 0
  private tail: Uint8Array = EMPTY
  private needle: ByteNeedle | undefined
  private buf: Uint8Array | undefined
  private bufLen = 0
  private current: Pending | undefined
  aborted = false

  constructor(
    private readonly relay: MsrpRelay,
    private readonly ctx: Ctx,
    readonly target: Conn,
    /** The rewritten head (paths moved); Byte-Range and transaction id are set per outgoing chunk. */
    private readonly head: RequestHead,
    private readonly send: SendHead,
    private readonly moved: readonly string[],
    private readonly mode: 'cut' | 'collect',
    private readonly limit: number
  ) {
    target.outStreams.add(this)
  }

  get bufferedBytes(): number {
    return this.bufLen
  }

  /** Begins forwarding; `false` when the head cannot be encoded (then nothing was written). */
  start(): boolean {
    if (this.mode === 'collect') return true
    return this.beginChunk()
  }

  piece(data: Uint8Array): void {
    if (this.aborted || this.target.closed) return
    if (this.mode === 'collect') return this.collect(data)
    let rest = data
    while (rest.length > 0 && !this.aborted) {
      if (this.chunkLen >= this.limit) {
        if (!this.cut()) return
        continue
      }
      const seg = rest.length <= this.limit - this.chunkLen ? rest : rest.subarray(0, this.limit - this.chunkLen)
      const needle = this.needle as ByteNeedle
      // C-7.1-10: `-------<tid>` must not occur in the body; an occurrence straddling the previous piece is broken by
      // ending the chunk right here (its beginning already went out, its end goes into the next chunk).
      if (this.tail.length > 0) {
        const join = new Uint8Array(this.tail.length + Math.min(seg.length, needle.length - 1))
        join.set(this.tail)
        join.set(seg.subarray(0, join.length - this.tail.length), this.tail.length)
        const at = needle.indexIn(join)
        if (at !== -1 && at < this.tail.length) {
          if (!this.cut()) return
          continue
        }
      }
      const at = needle.indexIn(seg)
      const take = at === -1 ? seg.length : at + 1
      this.writeBody(seg.subarray(0, take))
      rest = rest.subarray(take)
      if (at !== -1 && !this.cut()) return
    }
  }

  /** The incoming chunk ended with `flag`. */
  finish(flag: Continuation): void {
    if (this.aborted || this.target.closed) return
    if (this.mode === 'collect') {
      this.emit(flag)
      return
    }
    this.endChunk(flag)
  }

  /** The incoming side broke off: end what was begun with `#` (C-7.1-9). */
  abort(): void {
    if (this.aborted) return
    if (!this.target.closed) {
      if (this.mode === 'collect' && (this.bufLen > 0 || this.forwarded > 0)) this.emit('#')
      else if (this.mode === 'cut' && this.open) this.endChunk('#')
    }
    this.aborted = true
    this.target.outStreams.delete(this)
  }

  /** The next hop closed: nothing more is written. */
  detach(): void {
    this.aborted = true
    this.buf = undefined
    this.bufLen = 0
  }

  private collect(data: Uint8Array): void {
    let rest = data
    while (rest.length > 0) {
      // Emit a full frame only once more bytes follow, so that the last frame carries the incoming flag.
      if (this.bufLen === this.limit) this.emit('+')
      if (this.aborted) return
      const buf = (this.buf ??= new Uint8Array(this.limit))
      const take = Math.min(rest.length, this.limit - this.bufLen)
      buf.set(rest.subarray(0, take), this.bufLen)
      this.bufLen += take
      rest = rest.subarray(take)
    }
  }

  /** Writes the collected bytes as one frame (one message). */
  private emit(flag: Continuation): void {
    const body = this.buf === undefined ? EMPTY : this.buf.subarray(0, this.bufLen)
    // A fresh buffer per frame: the transport may hold on to the one written.
    this.buf = undefined
    this.bufLen = 0
    const start = this.send.byteRange.start + this.forwarded
    const total = this.send.byteRange.total
    const range = chunkByteRange({ start, total }, body.length)
    const tid = chooseTransactionId(body, this.relay.generateId)
    if (E.isLeft(range) || E.isLeft(tid)) return this.fail()
    const request: MsrpRequest = {
      type: 'request',
      transactionId: tid.right,
      method: 'SEND',
      headers: withByteRange(this.head.headers, range.right),
      body,
      continuation: flag
    }
    const pieces = encodeFrame(request)
    if (E.isLeft(pieces)) return this.fail()
    const p = this.relay.track(this.ctx, this.target, tid.right, this.moved, start, total)
    this.target.out.send(pieces.right, this.ctx.conn)
    this.forwarded += body.length
    if (p !== undefined) {
      p.end = start + body.length - 1
      this.relay.startTimer(p)
    }
  }

  private beginChunk(): boolean {
    let tid = this.relay.generateId()
    if (tid === this.tid) tid = this.relay.generateId()
    const start = this.send.byteRange.start + this.forwarded
    const total = this.send.byteRange.total
    // Range-end `*`: the length of a cut-through chunk is not known when its head is written (C-5.1-1).
    const headers = withByteRange(this.head.headers, formatByteRange({ start, end: '*', total }))
    const encoded = encodeFrame({
      type: 'request',
      transactionId: tid,
      method: 'SEND',
      headers,
      body: EMPTY,
      continuation: '+'
    })
    if (E.isLeft(encoded)) return false
    this.tid = tid
    this.needle = ByteNeedle.ascii('-------' + tid)
    this.chunkStart = this.forwarded
    this.chunkLen = 0
    this.tail = EMPTY
    this.open = true
    this.current = this.relay.track(this.ctx, this.target, tid, this.moved, start, total)
    this.target.out.send([encoded.right[0] as Uint8Array], this.ctx.conn)
    return true
  }

  private writeBody(seg: Uint8Array): void {
    if (seg.length === 0) return
    this.target.out.send([seg], this.ctx.conn)
    this.chunkLen += seg.length
    this.forwarded += seg.length
    // A REPORT about this chunk, should it fail before its end, covers what was written (C-7.1.4-5).
    if (this.current !== undefined) this.current.end = this.send.byteRange.start + this.forwarded - 1
    const keep = (this.needle as ByteNeedle).length - 1
    if (seg.length >= keep) this.tail = seg.slice(seg.length - keep)
    else {
      const joined = new Uint8Array(Math.min(keep, this.tail.length + seg.length))
      const fromTail = joined.length - seg.length
      joined.set(this.tail.subarray(this.tail.length - fromTail))
      joined.set(seg, fromTail)
      this.tail = joined
    }
  }

  private endChunk(flag: Continuation): void {
    if (!this.open) return
    this.open = false
    this.target.out.send([TEXT.encode(`\r\n-------${this.tid}${flag}\r\n`)], this.ctx.conn)
    const p = this.current
    this.current = undefined
    if (p !== undefined) {
      p.end = this.send.byteRange.start + this.chunkStart + this.chunkLen - 1
      this.relay.startTimer(p)
    }
  }

  /** Interrupts the current chunk (`+`) and begins the next one. */
  private cut(): boolean {
    this.endChunk('+')
    if (this.beginChunk()) return true
    this.fail()
    return false
  }

  private fail(): void {
    this.aborted = true
    this.target.outStreams.delete(this)
  }
}

/** @internal Whether a request may be answered: never a REPORT, nor with `Failure-Report: no` (C-7.1.4-2). */
function answerable(head: RequestHead): boolean {
  if (head.method === 'REPORT') return false
  if (getHeader(head.headers, 'From-Path') === undefined) return false
  return getHeader(head.headers, 'Failure-Report')?.trim().toLowerCase() !== 'no'
}

/** @internal The Failure-Report of a request (`yes` when absent, C-7.1.1-8; non-SENDs are tracked as `yes`). */
function failureReportOf(send: SendHead | undefined): FailureReport {
  return send?.failureReport ?? 'yes'
}

/** Relay-less peers remembered at most (see `MsrpRelay.peers`); the oldest is forgotten first. */
export const MAX_PEERS = 100_000

/** @internal The key of a peer's session URI: what RFC 4975 §6.1 compares (scheme, host, port, session-id, transport). */
const peerKey = (uri: MsrpUri): string =>
  `${uri.scheme}://${uri.host.toLowerCase()}:${uri.port ?? ''}/${uri.sessionId ?? ''};${uri.transport}`

/** @internal Whether a URI host (an IP literal, IPv6 in brackets) is the address a socket reports. */
function sameAddress(host: string, address: string): boolean {
  const h = (host.startsWith('[') ? host.slice(1, -1) : host).toLowerCase()
  const a = address.toLowerCase()
  return h === a || a === `::ffff:${h}`
}

/** @internal Pool key of a next hop: one connection per scheme, host, port and transport (R-5.2-1). */
const poolKey = (uri: MsrpUri): string => `${uri.scheme}://${uri.host.toLowerCase()}:${uri.port ?? ''};${uri.transport}`

/** @internal `remote` of a connection event. */
function remoteOf(t: Transport): string {
  const r = t.info.remote
  return r === undefined ? t.info.kind : `${r.address}:${r.port}`
}

/**
 * An MSRP relay (RFC 4976, RFC 7977 WebSocket server): serve listeners, then watch `events$`.
 *
 * ```ts
 * const registry = createRegistry()
 * const relay = new MsrpRelay({ auth: createAuthHandler({ registry, credentials, realm }), registry })
 * relay.serve(listener, 'msrps://relay.example.com:2855;tcp')
 * relay.events$.subscribe((e) => console.log(e.type))
 * ```
 */
export class MsrpRelay implements RelayEvents {
  readonly events$: Observable<RelayEvent>
  /** @internal */
  readonly generateId: () => string

  private readonly events = new Subject<RelayEvent>()
  private readonly auth: AuthHandler
  private readonly registry: Registry
  /** `undefined` for the default router, which is called directly (no Subject round trip per request). */
  private readonly router: Router | undefined
  private readonly scheduler: SchedulerLike
  private readonly connect: RelayConnector
  private readonly probationMs: number
  private readonly probationMaxFailures: number
  private readonly hopTimeoutMs: number
  private readonly routeTimeoutMs: number
  private readonly wsChunkBytes: number
  private readonly maxForwardChunkBytes: number
  private readonly writeBatchBytes: number
  private readonly closeTimeoutMs: number
  private readonly maxPending: number
  private readonly connectTimeoutMs: number
  private readonly limits: FramerOptions | undefined

  private readonly conns = new Map<string, Conn>()
  /** The relay URIs of every listener and accepted transport (without session-id). */
  private readonly ownUris: MsrpUri[] = []
  private readonly pool = new Map<string, Conn>()
  /**
   * Relay-less peers that connected to us, by their own session URI (From-Path of one URI, RFC 4976 §6.4: a peer
   * without a relay may send to a client's URI without AUTH): forwarding to that URI reuses the peer's connection
   * (RFC 4975 §5.4 reuse) instead of dialing it, which would reach a session bound elsewhere (506, C-5.4-9), e.g. an
   * SDP answerer that chose `a=setup:active`. Only a URI whose host is the IP address the connection comes from is
   * taken, so a third party cannot claim another peer's URI from elsewhere.
   */
  private readonly peers = new Map<string, Conn>()
  private readonly dialing = new Map<string, Promise<Conn>>()
  private readonly serving = new Map<Subscription, Listener>()
  private readonly routeInput = new Subject<RouteRequest>()
  private readonly awaiting = new Map<number, (decision: RouteDecision) => void>()
  private routerSub: Subscription | undefined
  private nextConnId = 0
  private nextRouteId = 0
  private closing = false
  private streamEnded: (() => void) | undefined

  constructor(options: MsrpRelayOptions) {
    this.auth = options.auth
    this.registry = options.registry
    this.router = options.router
    this.scheduler = options.scheduler ?? asyncScheduler
    const dialOptions = options.dial
    this.connect = options.connect ?? ((uri) => dial(uri, dialOptions))
    this.probationMs = options.probationMs ?? PROBATION_MS
    this.probationMaxFailures = options.probationMaxFailures ?? PROBATION_MAX_FAILURES
    this.hopTimeoutMs = options.hopTimeoutMs ?? HOP_TIMEOUT_MS
    this.routeTimeoutMs = options.routeTimeoutMs ?? ROUTE_TIMEOUT_MS
    this.wsChunkBytes = options.wsChunkBytes ?? WS_CHUNK_BYTES
    this.maxForwardChunkBytes = options.maxForwardChunkBytes ?? MAX_FORWARD_CHUNK_BYTES
    this.writeBatchBytes = options.writeBatchBytes ?? WRITE_BATCH_BYTES
    this.closeTimeoutMs = options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS
    this.maxPending = options.maxPendingTransactions ?? MAX_PENDING_TRANSACTIONS
    this.connectTimeoutMs = options.connectTimeoutMs ?? NEXT_HOP_CONNECT_TIMEOUT_MS
    this.limits = options.limits
    this.generateId = options.generateId ?? newTransactionId
    for (const [name, v] of [
      ['wsChunkBytes', this.wsChunkBytes],
      ['maxForwardChunkBytes', this.maxForwardChunkBytes]
    ] as const) {
      if (!(v >= 1)) throw new RangeError(`MsrpRelay: ${name} must be ≥ 1, got ${v}`)
    }
    this.events$ = this.events.asObservable()
    this.startRouter()
  }

  /** Counters: open connections, transactions awaiting a response, bytes held by the relay itself. */
  get stats(): RelayStats {
    let pendingTransactions = 0
    let bufferedBytes = 0
    for (const c of this.conns.values()) {
      pendingTransactions += c.pending.size
      bufferedBytes += c.out.bufferedBytes
      for (const s of c.outStreams) bufferedBytes += s.bufferedBytes
    }
    return { connections: this.conns.size, pendingTransactions, bufferedBytes }
  }

  /**
   * Accepts every transport of `listener` until the subscription is unsubscribed (or `close()`). `relayUri` is the
   * relay's own URI on that listener, without session-id (e.g. `msrps://relay.example.com:2855;tcp`, or
   * `msrps://relay.example.com:443;ws` for a WebSocket listener, RFC 7977 §8.1): AUTH requests addressed to it are
   * answered here. Throws a `TypeError` for an invalid URI.
   */
  serve(listener: Listener, relayUri: string | MsrpUri, options: ServeOptions = {}): Subscription {
    const uri = toUri(relayUri)
    if (!this.ownUris.some((u) => uriEquals(u, uri))) this.ownUris.push(uri)
    const sub = listener.connections$.subscribe((t) => {
      this.accept(t, uri, options.identify?.(t) ?? t.info.identity)
    })
    this.serving.set(sub, listener)
    sub.add(() => this.serving.delete(sub))
    return sub
  }

  /** Takes one transport (accepted by a listener): probation starts now (R-6.1-2). */
  accept(transport: Transport, relayUri: string | MsrpUri, identity?: string): RelayConnection {
    const conn = this.open(transport, toUri(relayUri), identity, false)
    return conn.rc
  }

  /**
   * Stops serving, lets chunks being streamed through end (at most `closeTimeoutMs`), then closes every connection.
   */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    const listeners = [...this.serving.entries()]
    for (const [sub] of listeners) sub.unsubscribe()
    await Promise.all(listeners.map(([, l]) => l.close().catch(() => undefined)))
    await new Promise<void>((resolve) => {
      const deadline = timer(this.closeTimeoutMs, this.scheduler).subscribe(() => done())
      const done = (): void => {
        deadline.unsubscribe()
        this.streamEnded = undefined
        resolve()
      }
      this.streamEnded = () => {
        if (![...this.conns.values()].some((c) => c.stream?.kind === 'forward')) done()
      }
      this.streamEnded()
    })
    for (const c of [...this.conns.values()]) this.closeConn(c, 'RelayClosed')
    this.routerSub?.unsubscribe()
    for (const cb of this.awaiting.values()) cb({ kind: 'reject', id: -1, status: 408, reason: 'RelayClosed' })
    this.awaiting.clear()
    this.events.complete()
  }

  // ---- connections ------------------------------------------------------------------------------

  private open(transport: Transport, relayUri: MsrpUri, identity: string | undefined, outgoing: boolean): Conn {
    const id = `c${++this.nextConnId}`
    const rc: RelayConnection = { id, transport, identity, relayUri }
    const conn = new Conn(rc, new Outbox(transport, id, this.writeBatchBytes), outgoing)
    if (!outgoing && !this.ownUris.some((u) => uriEquals(u, relayUri))) this.ownUris.push(relayUri)
    if (this.closing) {
      transport.close()
      return conn
    }
    this.conns.set(id, conn)
    this.emit({ type: 'connection', connectionId: id, kind: transport.info.kind, remote: remoteOf(transport) })
    if (!outgoing) {
      // R-6.1-2: no successful request within the probation period closes the connection.
      conn.probation = timer(this.probationMs, this.scheduler).subscribe(() => {
        if (!conn.succeeded) this.closeConn(conn, 'ProbationExpired')
      })
    }
    conn.subscription = transport.incoming$
      .pipe(
        frame({
          messageOriented: transport.info.messageOriented,
          ...(this.limits !== undefined ? { limits: this.limits } : {})
        })
      )
      .subscribe({
        next: (event) => this.onEvent(conn, event),
        error: (error: unknown) => this.onFatal(conn, error),
        complete: () => this.closeConn(conn, 'Closed')
      })
    return conn
  }

  /** A connection-fatal problem: answer the chunk it broke, if it can be answered, then close (STYLE.md §4 tier 3). */
  private onFatal(conn: Conn, error: unknown): void {
    if (conn.closed) return
    const failure = error instanceof MsrpConnectionError ? error.failure : undefined
    const head = conn.stream?.head
    if (failure !== undefined && head !== undefined && failure.transactionId === head.transactionId) {
      this.answer(conn, head, failure.status)
    }
    if (failure !== undefined) {
      this.emit({
        type: 'refused',
        connectionId: conn.rc.id,
        method: failure.method ?? (failure.response === true ? 'response' : 'unknown'),
        status: failure.status,
        reason: failure.reason
      })
    }
    this.closeConn(conn, error instanceof MsrpConnectionError ? error.reason : 'TransportFailed')
  }

  private closeConn(conn: Conn, reason: string): void {
    if (conn.closed) return
    conn.out.flush()
    conn.closed = true
    conn.probation?.unsubscribe()
    conn.subscription?.unsubscribe()
    conn.queue = []
    this.conns.delete(conn.rc.id)
    if (conn.poolKey !== undefined && this.pool.get(conn.poolKey) === conn) this.pool.delete(conn.poolKey)
    for (const key of conn.peerKeys ?? []) if (this.peers.get(key) === conn) this.peers.delete(key)
    // R-6.3-6: the URIs issued over this connection die with it.
    this.registry.dropConnection(conn.rc.id)
    this.auth.forget(conn.rc.id)
    const stream = conn.stream
    conn.stream = undefined
    if (stream?.kind === 'forward') stream.out.abort()
    if (stream?.kind === 'deliver') stream.body.error(new Error(`the connection closed (${reason})`))
    for (const s of conn.outStreams) s.detach()
    conn.outStreams.clear()
    // rfc4976-relays.md §5.8: SENDs still awaiting this hop's response fail with 408 towards their senders.
    const pending = [...conn.pending.values()]
    conn.pending.clear()
    conn.sweep?.unsubscribe()
    conn.sweep = undefined
    for (const p of pending) {
      if (p.kind === 'send' && p.failureReport !== 'no') this.sendReport(p, 408)
    }
    conn.out.close()
    conn.rc.transport.close()
    this.emit({ type: 'disconnection', connectionId: conn.rc.id, reason })
    this.streamEnded?.()
  }

  private succeed(conn: Conn): void {
    if (conn.succeeded) return
    conn.succeeded = true
    conn.probation?.unsubscribe()
  }

  /** R-6.1-3: several unsuccessful requests and none successful during probation close the connection. */
  private failed(conn: Conn): void {
    if (conn.succeeded || conn.outgoing) return
    if (++conn.failures >= this.probationMaxFailures) this.closeConn(conn, 'ProbationFailures')
  }

  private block(conn: Conn): void {
    if (conn.blocked) return
    conn.blocked = true
    conn.hold('decision')
  }

  private unblock(conn: Conn): void {
    if (!conn.blocked) return
    conn.blocked = false
    while (!conn.blocked && !conn.closed && conn.queue.length > 0) {
      const event = conn.queue.shift() as FramedEvent
      this.dispatch(conn, event)
    }
    if (!conn.blocked) conn.release('decision')
  }

  // ---- incoming events ----------------------------------------------------------------------------

  private onEvent(conn: Conn, event: FramedEvent): void {
    if (conn.closed) return
    if (conn.blocked) {
      conn.queue.push(event)
      return
    }
    this.dispatch(conn, event)
  }

  private dispatch(conn: Conn, event: FramedEvent): void {
    switch (event.type) {
      case 'frame': {
        const f = event.frame
        if (f.type === 'response') return this.onResponse(conn, f, event.failures.length > 0)
        return this.onRequest(conn, f, f, event.failures.length > 0)
      }
      case 'head':
        return this.onRequest(conn, event.head, undefined, event.failures.length > 0)
      case 'body': {
        const s = conn.stream
        if (s?.kind === 'forward') s.out.piece(event.data)
        else if (s?.kind === 'deliver') s.body.next(event.data)
        return
      }
      case 'end': {
        const s = conn.stream
        conn.stream = undefined
        if (s === undefined || s.kind === 'discard') return
        if (s.kind === 'forward') {
          s.out.finish(event.continuation)
          this.emit({
            type: 'forwarded',
            connectionId: conn.rc.id,
            to: s.out.target.rc.id,
            method: 'SEND',
            bytes: event.size
          })
          this.streamEnded?.()
        } else s.body.complete()
        // R-6.4.1-1: a SEND with Failure-Report yes gets its 200 once received, not once delivered.
        this.answerSend(s.ctx)
        return
      }
    }
  }

  private onRequest(conn: Conn, head: RequestHead, whole: MsrpRequest | undefined, malformed: boolean): void {
    if (whole === undefined) conn.stream = { kind: 'discard', head }
    if (malformed) return this.refuse(conn, head, 400, 'FrameMalformed')
    let send: SendHead | undefined
    if (head.method === 'SEND') {
      const v = validateSend(head, whole === undefined || whole.body !== undefined)
      if (E.isLeft(v)) return this.refuse(conn, head, 400, 'HeaderInvalid', v.left.detail)
      send = v.right
    }
    let to: Path
    let from: Path
    if (send !== undefined) {
      to = send.toPath
      from = send.fromPath
    } else {
      const t = requireHeader(head.headers, 'To-Path')
      const f = requireHeader(head.headers, 'From-Path')
      if (E.isLeft(t)) return this.refuse(conn, head, 400, 'HeaderInvalid', t.left.detail)
      if (E.isLeft(f)) return this.refuse(conn, head, 400, 'HeaderInvalid', f.left.detail)
      to = t.right
      from = f.right
    }
    // RFC 4976 §6.3: an AUTH whose To-Path is exactly this relay's own URI is for us; any other AUTH is forwarded.
    if (head.method === 'AUTH' && whole !== undefined && to.length === 1 && this.isOwnUri(conn.rc.relayUri, to[0])) {
      return this.onAuth(conn, whole)
    }
    if (from.length === 1 && !conn.outgoing) this.notePeer(conn, from[0] as MsrpUri)
    const ctx: Ctx = {
      conn,
      head,
      whole,
      send,
      pops: 1,
      route: {
        id: ++this.nextRouteId,
        head,
        toPath: to,
        fromPath: from,
        send,
        connection: conn.rc,
        binding: this.bindingOf(to[0]),
        internalHops: 0
      },
      done: false
    }
    this.decide(ctx)
  }

  /** Remembers `conn` as the way to the relay-less peer `uri` (see `peers`) when the URI's host is the connection's. */
  private notePeer(conn: Conn, uri: MsrpUri): void {
    // Every request of a peer carries the same From-Path, decoded once per value (headers/index.ts memo): one look.
    // The answer is final unless another live connection holds the URI now (it may close): only then look again.
    if (conn.lastPeerUri === uri) return
    const remote = conn.rc.transport.info.remote?.address
    if (uri.sessionId === undefined || remote === undefined || !sameAddress(uri.host, remote)) {
      conn.lastPeerUri = uri
      return
    }
    const key = peerKey(uri)
    const current = this.peers.get(key)
    if (current !== undefined && current !== conn && !current.closed) return // the first live connection keeps it
    conn.lastPeerUri = uri
    if (current === conn) return
    this.peers.set(key, conn)
    if (this.peers.size > MAX_PEERS) this.peers.delete(this.peers.keys().next().value as string)
    ;(conn.peerKeys ??= []).push(key)
  }

  /** RFC 4975 §6.1 comparison; an AUTH To-Path URI may omit the port (R-8-1, resolved by SRV or 2855). */
  private isOwnUri(relayUri: MsrpUri, uri: MsrpUri): boolean {
    if (uriEquals(relayUri, uri)) return true
    return uri.port === undefined && relayUri.port !== undefined && uriEquals(relayUri, { ...uri, port: relayUri.port })
  }

  /** The live binding a URI names, compared per RFC 4975 §6.1 (C-6.1-1). */
  private bindingOf(uri: MsrpUri): Binding | undefined {
    if (uri.sessionId === undefined) return undefined
    const b = this.registry.lookup(uri.sessionId)
    return b !== undefined && uriEquals(b.uri, uri) ? b : undefined
  }

  private onAuth(conn: Conn, request: MsrpRequest): void {
    this.block(conn)
    const done = (): void => this.unblock(conn)
    this.auth.handle(request, conn.rc).then(
      (outcome) => {
        if (conn.closed) return
        this.writeFrame(conn, outcome.response)
        const status = outcome.response.status
        const user = outcome.user ?? outcome.binding?.user
        this.emit({
          type: 'auth',
          connectionId: conn.rc.id,
          user,
          status,
          ...(outcome.reason !== undefined ? { reason: outcome.reason } : {})
        })
        if (status === 200) this.succeed(conn)
        else this.failed(conn)
        if (outcome.close) this.closeConn(conn, 'AuthClose')
        else done()
      },
      () => {
        if (conn.closed) return
        this.answer(conn, request, 408)
        this.emit({ type: 'auth', connectionId: conn.rc.id, user: undefined, status: 408, reason: 'HandlerFailed' })
        this.failed(conn)
        done()
      }
    )
  }

  // ---- routing ----------------------------------------------------------------------------------

  private startRouter(): void {
    if (this.router === undefined) return
    this.routerSub = this.routeInput.pipe(this.router).subscribe({
      next: (decision) => {
        const cb = this.awaiting.get(decision.id)
        if (cb === undefined) return // late (timed out) or unknown: ignored
        this.awaiting.delete(decision.id)
        cb(decision)
      },
      error: () => {
        // A failing router fails the requests it holds, and a fresh one takes over.
        const held = [...this.awaiting.entries()]
        this.awaiting.clear()
        for (const [id, cb] of held) cb({ kind: 'reject', id, status: 403, reason: 'RouterFailed' })
        if (!this.closing) this.startRouter()
      }
    })
  }

  private decide(ctx: Ctx): void {
    const id = ctx.route.id
    if (this.router === undefined) {
      // `defaultRouter()` is `map(route)`: the same decision, without the operator round trip.
      this.onDecision(ctx, route(ctx.route))
      if (!ctx.done) this.block(ctx.conn)
      return
    }
    let timeout: Subscription | undefined
    this.awaiting.set(id, (decision) => {
      timeout?.unsubscribe()
      this.onDecision(ctx, decision)
    })
    this.routeInput.next(ctx.route)
    if (this.awaiting.has(id)) {
      // An asynchronous decision: stop reading this connection until it comes (or the route timeout).
      timeout = timer(this.routeTimeoutMs, this.scheduler).subscribe(() => {
        const cb = this.awaiting.get(id)
        this.awaiting.delete(id)
        cb?.({ kind: 'reject', id, status: 408, reason: 'RouteTimeout' })
      })
    }
    if (!ctx.done) this.block(ctx.conn)
  }

  /** The request is placed (forwarded, delivered or refused): read on. */
  private placed(ctx: Ctx): void {
    if (ctx.done) return
    ctx.done = true
    this.unblock(ctx.conn)
  }

  private onDecision(ctx: Ctx, decision: RouteDecision): void {
    if (ctx.conn.closed) return this.placed(ctx)
    switch (decision.kind) {
      case 'reject':
        this.refuse(ctx.conn, ctx.head, decision.status, decision.reason, decision.comment)
        return this.placed(ctx)
      case 'deliver':
        return this.deliverTo(ctx, decision.handler)
      case 'forward':
        return this.resolveHop(ctx, decision.nextHop)
    }
  }

  private resolveHop(ctx: Ctx, hop: NextHop): void {
    if (hop.kind === 'connection') {
      const target = this.conns.get(hop.connectionId)
      if (target === undefined || target.closed) return this.refuseCtx(ctx, 481, 'NextHopGone')
      return this.forwardTo(ctx, target)
    }
    const uri = hop.uri
    if (this.bindingOf(uri) !== undefined) {
      // One of our own URIs next (RFC 7977 §8.3): route again as if it had arrived, both URIs pushed to From-Path.
      if (ctx.pops >= MAX_INTERNAL_HOPS) return this.refuseCtx(ctx, 403, 'TooManyInternalHops')
      const next = rewriteRequest(ctx.head, ctx.head.transactionId, ctx.pops)
      if (E.isLeft(next)) return this.refuseCtx(ctx, 400, next.left.reason)
      const [popped, ...rest] = ctx.route.toPath
      if (rest[0] === undefined) return this.refuseCtx(ctx, 403, 'NoNextHop')
      ctx.pops++
      ctx.route = {
        ...ctx.route,
        id: ++this.nextRouteId,
        head: next.right,
        toPath: [rest[0], ...rest.slice(1)],
        fromPath: [popped, ...ctx.route.fromPath],
        binding: this.bindingOf(uri),
        internalHops: ctx.route.internalHops + 1
      }
      return this.decide(ctx)
    }
    // A URI of ours that is no live binding (or our device URI) would only loop back to us: refuse it here.
    if (this.ownUris.some((own) => this.isOwnUri(own, { ...uri, sessionId: undefined }))) {
      return uri.sessionId === undefined
        ? this.refuseCtx(ctx, 403, 'LoopRefused')
        : this.refuseCtx(ctx, 481, 'UnknownUri')
    }
    // R-8-1: URIs of non-AUTH requests carry a port; `.invalid` hosts are never resolved (W-A-1).
    if (uri.port === undefined) return this.refuseCtx(ctx, 400, 'NextHopWithoutPort')
    if (isInvalidHost(uri.host)) return this.refuseCtx(ctx, 481, 'NextHopUnreachable')
    const peer = this.peers.get(peerKey(uri))
    if (peer !== undefined && !peer.closed) return this.forwardTo(ctx, peer)
    const key = poolKey(uri)
    const existing = this.pool.get(key)
    if (existing !== undefined && !existing.closed) return this.forwardTo(ctx, existing)
    let opening = this.dialing.get(key)
    if (opening === undefined) {
      const relayUri = ctx.conn.rc.relayUri
      let connect: Observable<Transport>
      try {
        connect = this.connect(uri)
      } catch {
        return this.refuseCtx(ctx, 408, 'NextHopUnreachable')
      }
      opening = firstValueFrom(connect.pipe(timeout({ first: this.connectTimeoutMs, scheduler: this.scheduler }))).then(
        (t) => {
          const conn = this.open(t, relayUri, undefined, true)
          conn.poolKey = key
          if (!conn.closed) this.pool.set(key, conn)
          return conn
        }
      )
      const dialing = opening
      this.dialing.set(key, dialing)
      const forget = (): void => {
        if (this.dialing.get(key) === dialing) this.dialing.delete(key)
      }
      dialing.then(forget, forget)
    }
    this.block(ctx.conn)
    opening.then(
      (target) => {
        if (ctx.conn.closed) return this.placed(ctx)
        if (target.closed) return this.refuseCtx(ctx, 408, 'NextHopUnreachable')
        this.forwardTo(ctx, target)
      },
      () => this.refuseCtx(ctx, 408, 'NextHopUnreachable')
    )
  }

  private refuseCtx(ctx: Ctx, status: number, reason: string): void {
    if (!ctx.conn.closed) this.refuse(ctx.conn, ctx.head, status, reason)
    this.placed(ctx)
  }

  /** Refuses a request: the status if it may be answered (never a REPORT, nor Failure-Report no), and an event. */
  private refuse(conn: Conn, head: RequestHead, status: number, reason: string, comment?: string): void {
    this.answer(conn, head, status, comment)
    this.emit({ type: 'refused', connectionId: conn.rc.id, method: head.method, status, reason })
    this.failed(conn)
  }

  private answer(conn: Conn, head: RequestHead, status: number, comment?: string): void {
    if (!answerable(head)) return
    this.writeFrame(conn, responseTo(head, status, comment !== undefined ? { comment } : {}))
  }

  /** R-6.4.1-1: the immediate hop-by-hop 200 to a SEND with Failure-Report yes (only to the previous hop). */
  private answerSend(ctx: Ctx): void {
    if (ctx.conn.closed || ctx.send?.failureReport !== 'yes') return
    const h = ctx.head.headers
    ctx.conn.out.send([encodeSendOk(ctx.head, getHeader(h, 'To-Path') ?? '', getHeader(h, 'From-Path') ?? '')])
  }

  private writeFrame(conn: Conn, f: MsrpFrame, source?: Conn): void {
    const pieces = encodeFrame(f)
    if (E.isLeft(pieces)) {
      this.emit({
        type: 'refused',
        connectionId: conn.rc.id,
        method: f.type === 'request' ? f.method : 'response',
        status: 400,
        reason: pieces.left.reason
      })
      return
    }
    conn.out.send(pieces.right, source)
  }

  private deliverTo(ctx: Ctx, handler: LocalHandler): void {
    const body = new Subject<Uint8Array>()
    try {
      handler({ request: ctx.route, body$: body.asObservable() })
    } catch {
      this.refuse(ctx.conn, ctx.head, 403, 'HandlerFailed')
      return this.placed(ctx)
    }
    this.succeed(ctx.conn)
    if (ctx.send === undefined) this.answer(ctx.conn, ctx.head, 200)
    if (ctx.whole !== undefined) {
      if (ctx.whole.body !== undefined) body.next(ctx.whole.body)
      body.complete()
      this.answerSend(ctx)
    } else ctx.conn.stream = { kind: 'deliver', head: ctx.head, ctx, body }
    this.placed(ctx)
  }

  // ---- forwarding -------------------------------------------------------------------------------

  private chunkLimit(target: Conn): number {
    const ws = target.rc.transport.info.messageOriented
    return ws ? Math.min(this.wsChunkBytes, this.maxForwardChunkBytes) : this.maxForwardChunkBytes
  }

  private forwardTo(ctx: Ctx, target: Conn): void {
    if (ctx.conn.closed) return this.placed(ctx)
    const head = ctx.head
    const whole = ctx.whole
    // R-6.4.1-6: our URI(s) leave To-Path for the front of From-Path.
    const paths = movePaths(head.headers, ctx.pops)
    if (E.isLeft(paths)) return this.refuseCtx(ctx, 400, paths.left.reason)
    const moved = paths.right.moved
    const limit = this.chunkLimit(target)
    const send = ctx.send
    if (send !== undefined && (whole === undefined || (whole.body?.length ?? 0) > limit)) {
      // Cut-through (byte streams) or re-chunking (WebSocket, or a size limit).
      const rewritten: RequestHead = { ...head, headers: paths.right.headers }
      const mode = target.rc.transport.info.messageOriented ? 'collect' : 'cut'
      const out = new OutStream(this, ctx, target, rewritten, send, moved, mode, limit)
      if (!out.start()) {
        out.abort()
        return this.refuseCtx(ctx, 400, 'HeaderInvalid')
      }
      this.succeed(ctx.conn)
      if (whole === undefined) {
        ctx.conn.stream = { kind: 'forward', head, ctx, out }
      } else {
        out.piece(whole.body ?? EMPTY)
        out.finish(whole.continuation)
        this.emit({
          type: 'forwarded',
          connectionId: ctx.conn.rc.id,
          to: target.rc.id,
          method: 'SEND',
          bytes: whole.body?.length ?? 0
        })
        this.answerSend(ctx)
      }
      return this.placed(ctx)
    }
    if (whole === undefined) return this.placed(ctx) // a streamed non-SEND cannot happen (the framer streams SENDs only)
    // R-6.4-2: a new transaction id per hop, one whose end-line does not occur in the body (C-7.1-10).
    const tid = chooseTransactionId(whole.body, this.generateId)
    if (E.isLeft(tid)) return this.refuseCtx(ctx, 400, tid.left.reason)
    const pieces = encodeForwarded(
      { type: 'request', transactionId: tid.right, method: head.method, headers: paths.right.headers },
      whole.body,
      whole.continuation
    )
    // R-3-1: SENDs are answered hop by hop and tracked for REPORTs; AUTH and NICKNAME (RFC 7701: answered by the
    // chat room) end to end, their response mapped back; REPORTs and unknown methods (R-6.4.2-2) keep no state.
    let p: Pending | undefined
    if (send !== undefined) {
      p = this.track(ctx, target, tid.right, moved, send.byteRange.start, send.byteRange.total)
      if (p !== undefined) p.end = send.byteRange.start + (whole.body?.length ?? 0) - 1
    } else if (head.method === 'AUTH' || head.method === 'NICKNAME') {
      p = this.track(ctx, target, tid.right, moved, 1, '*')
    }
    target.out.send(pieces, ctx.conn)
    if (p !== undefined) this.startTimer(p)
    this.succeed(ctx.conn)
    this.emit({
      type: 'forwarded',
      connectionId: ctx.conn.rc.id,
      to: target.rc.id,
      method: head.method,
      bytes: whole.body?.length ?? 0
    })
    if (send !== undefined) this.answerSend(ctx)
    this.placed(ctx)
  }

  /**
   * @internal Records a transaction sent on `target` (unless it expects no response: a SEND with Failure-Report no).
   * Past `maxPendingTransactions` on one connection, the oldest is treated as timed out.
   */
  track(
    ctx: Ctx,
    target: Conn,
    tid: string,
    moved: readonly string[],
    start: number,
    total: number | '*'
  ): Pending | undefined {
    const send = ctx.send
    const failureReport = failureReportOf(send)
    if (send !== undefined && failureReport === 'no') return undefined
    if (target.pending.size >= this.maxPending) {
      const oldest = target.pending.values().next().value as Pending
      this.expire(oldest)
    }
    const p: Pending = {
      tid,
      target,
      from: ctx.conn,
      kind: send !== undefined ? 'send' : 'request',
      originalTid: ctx.head.transactionId,
      pops: ctx.pops,
      firstMoved: moved[0] ?? '',
      lastMoved: moved[moved.length - 1] ?? '',
      send,
      failureReport,
      start,
      end: start - 1,
      total,
      deadline: undefined
    }
    target.pending.set(tid, p)
    return p
  }

  /**
   * @internal R-6.4.1-2: the hop timer runs from the last byte written. One timer per connection, not one per
   * transaction (a timer per forwarded SEND cost more than the rest of its bookkeeping): each transaction has a
   * deadline, and the connection's sweep wakes at the earliest one.
   */
  startTimer(p: Pending): void {
    p.deadline = this.scheduler.now() + this.hopTimeoutMs
    const conn = p.target
    if (conn.sweep === undefined && !conn.closed) this.scheduleSweep(conn, this.hopTimeoutMs)
  }

  private scheduleSweep(conn: Conn, delayMs: number): void {
    conn.sweep = timer(Math.max(0, delayMs), this.scheduler).subscribe(() => {
      conn.sweep = undefined
      const now = this.scheduler.now()
      let next = Number.POSITIVE_INFINITY
      for (const p of [...conn.pending.values()]) {
        if (p.deadline === undefined) continue
        if (p.deadline <= now) this.expire(p)
        else next = Math.min(next, p.deadline)
      }
      if (next !== Number.POSITIVE_INFINITY && !conn.closed) this.scheduleSweep(conn, next - now)
    })
  }

  private expire(p: Pending): void {
    if (p.target.pending.get(p.tid) !== p) return
    p.target.pending.delete(p.tid)
    // Only Failure-Report yes asks for a timer-based REPORT (R-6.4.1-2); partial reports errors only.
    if (p.kind === 'send' && p.failureReport === 'yes') this.sendReport(p, 408)
  }

  /** rfc4976-relays.md §5.8: a failure REPORT about a forwarded chunk, back along the SEND's From-Path. */
  private sendReport(p: Pending, status: number, comment?: string): void {
    const send = p.send
    if (send === undefined || p.from.closed) return
    const byteRange = { start: p.start, end: Math.max(p.end, p.start - 1), total: p.total }
    const report = reportFor(send, status, {
      from: p.firstMoved,
      byteRange: p.total !== '*' && byteRange.end > p.total ? { ...byteRange, end: p.total } : byteRange,
      transactionId: this.generateId(),
      ...(comment !== undefined ? { comment } : {})
    })
    this.writeFrame(p.from, report)
    this.emit({ type: 'report', connectionId: p.from.rc.id, status, messageId: send.messageId })
  }

  private onResponse(conn: Conn, response: MsrpResponse, malformed: boolean): void {
    // R-6.4.3-1: unparseable responses and responses to no transaction of ours are dropped.
    if (malformed) return
    const p = conn.pending.get(response.transactionId)
    if (p === undefined) return
    const first = firstToken(getHeader(response.headers, 'To-Path') ?? '')
    if (first === '' || !sameUri(first, p.lastMoved)) return
    // R-6.4.3-2: the response completes the transaction and stops its timer.
    conn.pending.delete(p.tid)
    if (p.kind === 'send') {
      // R-6.4.3-3: a non-200 to a SEND with Failure-Report yes or partial becomes a REPORT with that code.
      if (response.status !== 200 && p.failureReport !== 'no') {
        this.sendReport(p, response.status, response.comment)
      }
      return
    }
    // R-6.4.3-4: pop our URI(s), push onto From-Path, restore the incoming leg's transaction id; existing
    // connections only (R-3-2), silently dropped if it has closed.
    if (p.from.closed) return
    const back = rewriteResponse(response, p.originalTid, p.pops)
    if (E.isRight(back)) this.writeFrame(p.from, back.right)
  }

  private emit(event: RelayEvent): void {
    this.events.next(event)
  }
}

/** @internal Two URIs as written are the same (RFC 4975 §6.1), textually or once parsed. */
function sameUri(a: string, b: string): boolean {
  if (a === b) return true
  const pa = parseUri(a)
  const pb = parseUri(b)
  return E.isRight(pa) && E.isRight(pb) && uriEquals(pa.right, pb.right)
}

/** @internal */
function toUri(uri: string | MsrpUri): MsrpUri {
  if (typeof uri !== 'string') return uri
  const parsed = parseUri(uri)
  if (E.isLeft(parsed)) throw new TypeError(`relay URI: ${parsed.left.detail}`)
  return parsed.right
}
