/**
 * MSRP over the browser's native `WebSocket` (RFC 7977): the client transport of the browser bundle. No Node
 * built-ins, no `ws`: it runs wherever a WHATWG `WebSocket` exists (browsers, Deno, Node ≥ 22), and in tests with
 * any constructor of the same shape (e.g. the `ws` package's client).
 */
import { AsyncSubject, Observable, Subject } from 'rxjs'
import { CONNECT_TIMEOUT_MS, WRITE_HIGH_WATER_MARK_BYTES } from './defaults'
import { Inbox, type Schedule } from './inbox'
import { MSRP_SUBPROTOCOL } from './subprotocol'
import { closeCodeReason } from './close-codes'
import { concatBytes } from '../wire/bytes'
import { TransportError, type CloseReason, type Transport, type TransportInfo } from './transport'

/** How often `bufferedAmount` is looked at while `write` has returned false (browsers have no drain event). */
export const BROWSER_DRAIN_POLL_MS = 10

/**
 * Incoming bytes queued while the transport is paused, past which it fails with `Overflow`. A browser WebSocket cannot
 * stop reading its socket, so `pause()` only queues; this bounds what a peer that ignores MSRP flow control can make
 * a page hold (a relay that honours backpressure never gets near it: endpoints pause at 1 MiB of unread body).
 */
export const BROWSER_MAX_QUEUED_BYTES = 64 * 1024 * 1024

/** The parts of the WHATWG `WebSocket` this transport uses. */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly protocol: string
  readonly bufferedAmount: number
  send(data: ArrayBufferView | ArrayBuffer | Blob): void
  close(code?: number, reason?: string): void
  addEventListener(type: string, listener: (event: never) => void): void
}

/** A `WebSocket` constructor: `globalThis.WebSocket` in a browser. */
export type WebSocketConstructorLike = new (url: string, protocols?: string | string[]) => WebSocketLike

/** Options of {@link connectBrowserWebSocket}. */
export interface BrowserWebSocketOptions {
  /** `wss://…` (RFC 7977 §5.1 requires TLS in production, W-5.1-2) or `ws://…`. */
  readonly url: string
  /** Default `globalThis.WebSocket`. */
  readonly WebSocket?: WebSocketConstructorLike
  /** Opening handshake time limit; default {@link CONNECT_TIMEOUT_MS}. */
  readonly timeoutMs?: number
  /** `bufferedAmount` above which `write` returns false; default {@link WRITE_HIGH_WATER_MARK_BYTES}. */
  readonly highWaterMark?: number
  /** Default {@link BROWSER_DRAIN_POLL_MS}. */
  readonly drainPollMs?: number
  /** Default {@link BROWSER_MAX_QUEUED_BYTES}. */
  readonly maxQueuedBytes?: number
}

const CONNECTING = 0
const OPEN = 1

/** Hands queued input on in a later task, as a socket's data would come (setImmediate does not exist in browsers). */
const scheduleTask: Schedule = (callback) => {
  setTimeout(callback, 0)
}

/**
 * Opens a WebSocket offering the `msrp` subprotocol and emits the transport once the server selected it (else
 * `HandshakeRefused`, W-4.1-2); `ConnectFailed` if the handshake fails, `ConnectTimeout` after `timeoutMs`.
 * Unsubscribing before it opened aborts it.
 *
 * The transport: message-oriented (`info.messageOriented`); each `write` is one binary message (W-5.1-3), its pieces
 * joined into one buffer; incoming text and binary
 * messages are delivered as their bytes (W-4.2-1, W-4.2-2); `write` returns false above `highWaterMark` of
 * `bufferedAmount` and `drain$` fires once it is back to zero. A clean close (1000, 1001, 1005) completes
 * `incoming$`; 1006 fails it with `Reset`, protocol codes with `ProtocolError`, others with `Closed`.
 * The browser does the keep-alive (it answers Pings) and the TLS verification itself; `info.local`, `remote` and
 * `peerCertificate` are not known to a page. Non-contract diagnostics: `bufferedBytes` is `bufferedAmount`.
 */
export function connectBrowserWebSocket(options: BrowserWebSocketOptions): Observable<Transport> {
  return new Observable<Transport>((subscriber) => {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket
    if (Ctor === undefined) {
      subscriber.error(new TransportError('ConnectFailed', 'websocket: no WebSocket constructor in this environment'))
      return
    }
    let ws: WebSocketLike
    try {
      ws = new Ctor(options.url, [MSRP_SUBPROTOCOL])
    } catch (error) {
      subscriber.error(new TransportError('ConnectFailed', `websocket: ${describe(error)}`, error))
      return
    }
    ws.binaryType = 'arraybuffer'
    let settled = false
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      ws.close()
      subscriber.error(new TransportError('ConnectTimeout', `websocket: no handshake within ${timeoutMs} ms`))
    }, timeoutMs)
    const transport = browserTransport(ws, options)
    ws.addEventListener('open', () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (ws.protocol.toLowerCase() !== MSRP_SUBPROTOCOL) {
        ws.close(1002, 'subprotocol msrp not selected')
        subscriber.error(
          new TransportError('HandshakeRefused', `websocket: the server selected "${ws.protocol}", not "msrp"`)
        )
        return
      }
      subscriber.next(transport)
      subscriber.complete()
    })
    ws.addEventListener('close', (event: { code: number; reason: string }) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      subscriber.error(
        new TransportError('ConnectFailed', `websocket: the handshake failed (${event.code} ${event.reason})`.trim())
      )
    })
    return () => {
      clearTimeout(timer)
      if (!settled) {
        settled = true
        if (ws.readyState === CONNECTING || ws.readyState === OPEN) ws.close()
      }
    }
  })
}

/** The transport over an opening or open WebSocket. @internal */
function browserTransport(
  ws: WebSocketLike,
  options: BrowserWebSocketOptions
): Transport & { readonly bufferedBytes: number } {
  const highWaterMark = options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES
  const pollMs = options.drainPollMs ?? BROWSER_DRAIN_POLL_MS
  const maxQueued = options.maxQueuedBytes ?? BROWSER_MAX_QUEUED_BYTES
  const drain$ = new Subject<void>()
  const closed$ = new AsyncSubject<void>()
  let closed = false
  let poll: ReturnType<typeof setInterval> | undefined

  const markClosed = (): void => {
    if (closed) return
    closed = true
    if (poll !== undefined) clearInterval(poll)
    closed$.next()
    closed$.complete()
    drain$.complete()
  }

  const inbox = new Inbox(
    {
      flowing: () => undefined, // a browser WebSocket cannot stop reading: the inbox queues, bounded below
      abandoned: () => close()
    },
    scheduleTask
  )

  function close(reason?: CloseReason): void {
    if (closed) return
    ws.close(reason?.code ?? 1000, reason?.message ?? '')
    markClosed()
    inbox.close()
  }

  ws.addEventListener('message', (event: { data: unknown }) => {
    if (closed) return
    const data = event.data
    let bytes: Uint8Array
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data)
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    else if (typeof data === 'string')
      bytes = new TextEncoder().encode(data) // text frames are UTF-8 (W-4.2-2)
    else return
    if (inbox.queuedBytes + bytes.length > maxQueued) {
      inbox.abort(
        new TransportError('Overflow', `websocket: more than ${maxQueued} bytes arrived while reading was paused`)
      )
      ws.close(1008, 'flow control')
      markClosed()
      return
    }
    inbox.push(bytes)
  })
  ws.addEventListener('close', (event: { code: number; reason: string }) => {
    const reason = closeCodeReason(event.code)
    if (reason === undefined) inbox.complete()
    else inbox.fail(new TransportError(reason, `websocket: closed with ${event.code} ${event.reason}`.trimEnd()))
    markClosed()
  })
  ws.addEventListener('error', () => {
    // A close event follows every error event (WHATWG): the close handler ends the transport.
  })

  const info: TransportInfo = {
    kind: options.url.startsWith('wss:') ? 'wss' : 'ws',
    messageOriented: true,
    secure: options.url.startsWith('wss:'),
    local: undefined,
    remote: undefined,
    peerCertificate: undefined
  }

  return {
    incoming$: inbox.incoming$,
    drain$: drain$.asObservable(),
    closed$: closed$.asObservable(),
    info,
    write(pieces) {
      if (closed || ws.readyState !== OPEN) return false
      ws.send(concatBytes(pieces)) // a single piece is sent as it is
      if (ws.bufferedAmount < highWaterMark) return true
      poll ??= setInterval(() => {
        if (closed || ws.bufferedAmount > 0) return
        clearInterval(poll)
        poll = undefined
        drain$.next()
      }, pollMs)
      return false
    },
    pause: () => inbox.pause(),
    resume: () => inbox.resume(),
    close,
    get bufferedBytes() {
      return ws.bufferedAmount
    }
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
