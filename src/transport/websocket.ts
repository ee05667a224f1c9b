/**
 * MSRP over WebSocket (RFC 7977) with `ws`: subprotocol `msrp`, one MSRP frame per WebSocket message, Ping keep-alive.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import type * as net from 'node:net'
import * as tls from 'node:tls'
import { AsyncSubject, Observable, Subject } from 'rxjs'
import WebSocket, { WebSocketServer } from 'ws'
import { describeError, errorCode, isTlsError } from './classify-error'
import {
  CONNECT_TIMEOUT_MS,
  TLS_MIN_VERSION,
  WRITE_HIGH_WATER_MARK_BYTES,
  WS_KEEP_ALIVE_INTERVAL_MS,
  WS_MAX_PAYLOAD_BYTES
} from './defaults'
import { Inbox } from './inbox'
import { listenServer } from './listen-server'
import { endpoint } from './socket-transport'
import { peerCertificateOf, type TlsClientOptions, type TlsMinVersion } from './tls'
import {
  TransportError,
  type CloseReason,
  type Listener,
  type Transport,
  type TransportInfo,
  type TransportReason
} from './transport'

import { MSRP_SUBPROTOCOL } from './subprotocol'
import { closeCodeReason } from './close-codes'
export { MSRP_SUBPROTOCOL } from './subprotocol'

/** Options of the transport, on both sides. */
export interface WebSocketTransportOptions {
  /** Bytes of sent messages not yet written to the socket above which `write` returns false; default {@link WRITE_HIGH_WATER_MARK_BYTES}. */
  readonly highWaterMark?: number
  /** Ping interval (RFC 7977 §6); 0 turns keep-alive off; default {@link WS_KEEP_ALIVE_INTERVAL_MS}. */
  readonly keepAliveIntervalMs?: number
  /** Largest message accepted (larger: close with 1009); default {@link WS_MAX_PAYLOAD_BYTES}. */
  readonly maxPayload?: number
}

/** Options of {@link connectWebSocket}. */
export interface ConnectWebSocketOptions extends WebSocketTransportOptions, TlsClientOptions {
  /** `ws://` or `wss://` (RFC 7977 §5.1 requires `wss` in production, W-5.1-2). */
  readonly url: string
  /** Subprotocols to offer; `msrp` is always offered, and the server must select it. */
  readonly protocols?: readonly string[]
  /** Opening handshake (TCP, TLS and HTTP) time limit; default {@link CONNECT_TIMEOUT_MS}. */
  readonly timeoutMs?: number
  /** The `Origin` header of the handshake. (TLS settings for `wss:`: {@link TlsClientOptions}, W-9-1.) */
  readonly origin?: string
  /** More handshake headers (e.g. `Cookie`, `Authorization`; RFC 7977 §7). */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * The answer of an `authenticate` hook: accept (optionally naming who the peer is: it becomes the transport's
 * `info.identity`), or refuse with an HTTP status (default 403) and headers.
 */
export type HandshakeDecision =
  | { readonly accept: true; readonly identity?: string }
  | {
      readonly accept: false
      /** e.g. 401 with a `WWW-Authenticate` header to ask for credentials (RFC 7977 §7, W-7-2), or 403. */
      readonly status?: number
      readonly message?: string
      readonly headers?: Readonly<Record<string, string>>
    }

/** Decides whether a handshake's `Origin` (undefined: the request has none) may connect. */
export type OriginPolicy = readonly string[] | ((origin: string | undefined) => boolean)

/** What every {@link listenWebSocket} accepts. */
export interface ListenWebSocketBaseOptions extends WebSocketTransportOptions {
  /** Accept handshakes for this request path only (e.g. `/msrp`); default any path. */
  readonly path?: string
  /**
   * Origins allowed to connect (RFC 7977 §7, W-7-1); others are refused with 403. A list allows requests without
   * `Origin` (non-browser clients send none; the check protects browsers); a function decides every case itself.
   * Default: any origin.
   */
  readonly allowedOrigins?: OriginPolicy
  /**
   * Handshake authentication (RFC 7977 §7): inspect the GET (Cookie, Authorization, Host…) and accept or refuse.
   * Runs after the subprotocol and Origin checks; a hook that throws or rejects refuses with 500.
   */
  readonly authenticate?: (request: http.IncomingMessage) => HandshakeDecision | Promise<HandshakeDecision>
}

/** TLS settings that make {@link listenWebSocket} a WSS server. */
export interface WebSocketServerTlsOptions {
  readonly cert: tls.SecureContextOptions['cert']
  readonly key: tls.SecureContextOptions['key']
  readonly ca?: tls.SecureContextOptions['ca']
  readonly requestCert?: boolean
  /** With `requestCert`, refuse clients without a valid certificate; default true. */
  readonly rejectUnauthorized?: boolean
  /** Default {@link TLS_MIN_VERSION}. */
  readonly minVersion?: TlsMinVersion
}

/** Options of {@link listenWebSocket}: its own server on `host:port` (WSS when `tls` is given)… */
export interface ListenWebSocketOwnServerOptions extends ListenWebSocketBaseOptions {
  readonly host: string
  /** 0 picks a free port; read it from `Listener.address`. */
  readonly port: number
  readonly tls?: WebSocketServerTlsOptions
  readonly server?: undefined
}

/** …or attached to an existing HTTP or HTTPS server, which it neither listens on nor closes. */
export interface ListenWebSocketAttachedOptions extends ListenWebSocketBaseOptions {
  readonly server: http.Server | https.Server
  readonly host?: string
  readonly port?: number
  readonly tls?: undefined
}

/** Options of {@link listenWebSocket}. */
export type ListenWebSocketOptions = ListenWebSocketOwnServerOptions | ListenWebSocketAttachedOptions

/**
 * Opens a WebSocket to an MSRP WebSocket server: emits one `Transport` once the handshake is done, then completes.
 *
 * Offers the `msrp` subprotocol (W-4.1-1) and fails with `TransportError('HandshakeRefused')` when the server answers
 * with anything but a 101 that selects it (W-4.1-2). Other failures: `ConnectFailed`, `TlsFailed`, `ConnectTimeout`.
 * Unsubscribing before the handshake is done aborts it. See {@link webSocketTransport} for the transport.
 */
export function connectWebSocket(options: ConnectWebSocketOptions): Observable<Transport> {
  return new Observable<Transport>((subscriber) => {
    const offered = options.protocols ?? []
    const protocols = offered.includes(MSRP_SUBPROTOCOL) ? [...offered] : [MSRP_SUBPROTOCOL, ...offered]
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS
    let settled = false
    let socket: net.Socket | undefined
    let ws: WebSocket
    try {
      ws = openWebSocket(options, protocols)
    } catch (error) {
      // ws throws at once on a URL it cannot use (bad syntax, a scheme other than ws/wss).
      subscriber.error(new TransportError('ConnectFailed', `websocket ${options.url}: ${describeError(error)}`, error))
      return
    }

    const abandon = (): void => {
      settled = true
      clearTimeout(timer)
      ws.off('error', onError)
      ws.on('error', ignore) // terminate() during the handshake reports an error of its own
      ws.terminate()
    }
    const fail = (reason: TransportReason, message: string, cause?: unknown): void => {
      if (settled) return
      abandon()
      subscriber.error(new TransportError(reason, `websocket ${options.url}: ${message}`, cause))
    }
    // After a 101 (the 'upgrade' event), ws fails the handshake for a missing or unexpected subprotocol or bad
    // handshake headers: the server refused MSRP. Before it, the connection or TLS failed.
    const onError = (error: Error): void =>
      fail(
        socket !== undefined ? 'HandshakeRefused' : isTlsError(error) ? 'TlsFailed' : 'ConnectFailed',
        describeError(error),
        error
      )
    const timer = setTimeout(() => fail('ConnectTimeout', `no handshake after ${timeoutMs} ms`), timeoutMs)

    ws.on('error', onError)
    ws.on('upgrade', (response) => {
      socket = response.socket
    })
    ws.on('unexpected-response', (_request, response) =>
      fail(
        'HandshakeRefused',
        `the server answered ${response.statusCode ?? '?'} ${response.statusMessage ?? ''}`.trimEnd(),
        { status: response.statusCode }
      )
    )
    ws.once('open', () => {
      if (settled) return
      // ws has checked the selection is one we offered; it must be msrp itself (W-4.1-2).
      if (ws.protocol !== MSRP_SUBPROTOCOL) {
        fail('HandshakeRefused', `the server selected subprotocol '${ws.protocol}', not '${MSRP_SUBPROTOCOL}'`)
        return
      }
      settled = true
      clearTimeout(timer)
      ws.off('error', onError) // the transport installs its own
      subscriber.next(
        webSocketTransport(ws, {
          ...options,
          socket,
          kind: ws.url.startsWith('wss:') ? 'wss' : 'ws'
        })
      )
      subscriber.complete()
    })
    return () => {
      if (!settled) abandon()
    }
  })
}

/**
 * Accepts MSRP WebSocket connections (the MSRP WebSocket server of RFC 7977 §3): emits the `Listener` once bound
 * (see `listenTcp` for its lifetime), on its own HTTP(S) server or attached to `options.server`.
 *
 * Each handshake is checked in this order: ws's own RFC 6455 checks (400/405); the `msrp` subprotocol must be offered,
 * else 400 (W-4.1-1), and it is the one selected (W-4.1-2); `allowedOrigins` (403); `authenticate` (its status).
 * The 101 carries `Access-Control-Allow-Origin` when the request has an `Origin` (W-7-3). Plain HTTP requests to its
 * own server get 426. On an attached server, upgrades for another `path` are left to the server's other listeners.
 */
export function listenWebSocket(options: ListenWebSocketOptions): Observable<Listener> {
  const secure = options.tls !== undefined || options.server instanceof tls.Server
  const address = { host: options.host ?? '', port: options.port ?? 0 }
  return listenServer(secure ? 'wss' : 'ws', address, (accept) => {
    const external = options.server !== undefined
    const server = options.server ?? createServer(options.tls)
    const allowed = originPolicy(options.allowedOrigins)
    const authenticate = options.authenticate
    // What each accepted handshake's hook said of the peer, until its upgrade completes.
    const identities = new WeakMap<http.IncomingMessage, string>()

    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxPayload ?? WS_MAX_PAYLOAD_BYTES,
      ...(options.path === undefined ? {} : { path: options.path }),
      // Runs only for handshakes that verifyClient accepted, so msrp was offered (W-4.1-2).
      handleProtocols: () => MSRP_SUBPROTOCOL,
      verifyClient: (info, done) => {
        const request = info.req
        if (!offeredProtocols(request).includes(MSRP_SUBPROTOCOL)) {
          done(false, 400, `The WebSocket subprotocol '${MSRP_SUBPROTOCOL}' is required (RFC 7977 section 4.1)`)
          return
        }
        if (!allowed(request.headers.origin)) {
          done(false, 403, 'Origin not allowed')
          return
        }
        if (authenticate === undefined) {
          done(true)
          return
        }
        // A hook that throws, rejects or answers nonsense refuses with 500 rather than crash or hang the handshake.
        void Promise.resolve()
          .then(() => authenticate(request))
          .then(
            (decision) => (typeof decision?.accept === 'boolean' ? decision : HOOK_FAILED),
            () => HOOK_FAILED
          )
          .then((decision) => {
            if (!decision.accept) {
              done(false, decision.status ?? 403, decision.message, decision.headers && { ...decision.headers })
              return
            }
            if (typeof decision.identity === 'string') identities.set(request, decision.identity)
            done(true)
          })
      }
    })
    wss.on('headers', (headers: string[], request: http.IncomingMessage) => {
      const origin = request.headers.origin
      if (origin !== undefined) headers.push(`Access-Control-Allow-Origin: ${origin}`)
    })

    const onUpgrade = (request: http.IncomingMessage, socket: net.Socket, head: Buffer): void => {
      // On a server of its own, ws answers a wrong path with 400; on a shared one, other listeners may want it.
      if (external && options.path !== undefined && wss.shouldHandle(request) !== true) return
      wss.handleUpgrade(request, socket, head, (ws) => {
        const raw = request.socket
        accept(
          webSocketTransport(ws, {
            ...options,
            socket: raw,
            kind: raw instanceof tls.TLSSocket ? 'wss' : 'ws',
            identity: identities.get(request)
          })
        )
      })
    }
    const onRequest = (_request: http.IncomingMessage, response: http.ServerResponse): void => {
      const body = http.STATUS_CODES[426] ?? 'Upgrade Required'
      response.writeHead(426, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) })
      response.end(body)
    }
    server.on('upgrade', onUpgrade)
    if (!external) server.on('request', onRequest)
    return {
      server,
      external,
      detach: () => {
        server.off('upgrade', onUpgrade)
        server.off('request', onRequest)
        wss.close()
      }
    }
  })
}

/** Options of {@link webSocketTransport}. */
export interface WebSocketAdapterOptions extends WebSocketTransportOptions {
  readonly kind: 'ws' | 'wss'
  /** The connection under the WebSocket, for addresses and the peer certificate. */
  readonly socket?: net.Socket | undefined
  /** What the handshake's `authenticate` hook said of the peer (`info.identity`). */
  readonly identity?: string | undefined
}

/**
 * Wraps an open `ws` WebSocket as a message-oriented `Transport` (`info.messageOriented`).
 *
 * - Incoming: each value is one whole message, text or binary (W-4.2-1). ws reassembles fragmented messages and hands
 *   text messages over as their received bytes (validated as UTF-8 by RFC 6455, never decoded and re-encoded here),
 *   so text is delivered raw (W-4.2-2). Reading is paused (`ws.pause()`) until `incoming$` is subscribed and while
 *   `pause()` is in effect. A close with 1000, 1001 or no code completes; 1006 (connection lost) and keep-alive
 *   failure fail with `Reset`; 1002/1003/1007/1009/1010 and ws's protocol errors with `ProtocolError`; other codes
 *   with `Closed`.
 * - Outgoing: one `write` is one binary message in a single frame (W-5.1-3).
 * - Keep-alive (RFC 7977 §6, W-6-1): a Ping every `keepAliveIntervalMs`; when a whole interval passes without a Pong
 *   or a message, the connection is dropped (`Reset`). While reading is paused no Pong can be read, so the check is
 *   suspended then. ws answers the peer's Pings by itself.
 * - Non-contract diagnostics: `bufferedBytes` is `ws.bufferedAmount`.
 */
export function webSocketTransport(
  ws: WebSocket,
  options: WebSocketAdapterOptions
): Transport & { readonly bufferedBytes: number } {
  const highWaterMark = options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? WS_KEEP_ALIVE_INTERVAL_MS
  // Read here so that no closure keeps `options` (a listener builds a fresh object per connection) alive.
  const kind = options.kind
  const drain$ = new Subject<void>()
  const closed$ = new AsyncSubject<void>()
  let closed = false
  let failure: unknown
  let alive = true
  // Bytes of our messages that ws has not yet written to the socket (their send callback has not run).
  let pendingBytes = 0
  let needDrain = false

  const markClosed = (): void => {
    if (closed) return
    closed = true
    clearInterval(keepAlive)
    closed$.next()
    closed$.complete()
    drain$.complete()
  }

  const inbox = new Inbox({
    flowing: (flowing) => {
      // Once closed, keep reading so that the peer's close frame completes the closing handshake.
      if (closed || flowing) ws.resume()
      else ws.pause()
    },
    abandoned: () => close()
  })

  function close(reason?: CloseReason): void {
    if (closed) return
    ws.resume()
    ws.close(reason?.code ?? 1000, truncateUtf8(reason?.message ?? '', MAX_CLOSE_REASON_BYTES))
    markClosed()
    inbox.close()
  }

  // Keep-alive: the interval checks that something arrived since the last Ping, then sends the next one.
  const keepAlive =
    keepAliveIntervalMs > 0
      ? setInterval(() => {
          if (closed) return
          if (!inbox.reading) {
            alive = true
            return
          }
          if (!alive) {
            inbox.fail(new TransportError('Reset', `websocket: no Pong within ${keepAliveIntervalMs} ms (RFC 7977 §6)`))
            markClosed()
            ws.terminate()
            return
          }
          alive = false
          ws.ping()
        }, keepAliveIntervalMs)
      : undefined
  keepAlive?.unref()

  ws.binaryType = 'nodebuffer'
  ws.pause()
  ws.on('message', (data: Buffer) => {
    alive = true
    inbox.push(data)
  })
  ws.on('pong', () => {
    alive = true
  })
  ws.on('error', (error) => {
    failure ??= error
  })
  ws.on('close', (code: number, reason: Buffer) => {
    const ending = closeReason(code, failure)
    if (ending === undefined) inbox.complete()
    else {
      const why = failure !== undefined ? describeError(failure) : `closed with ${code} ${reason.toString()}`.trimEnd()
      inbox.fail(new TransportError(ending, `${kind} connection failed: ${why}`, failure))
    }
    markClosed()
  })

  const socket = options.socket
  const info: TransportInfo = {
    kind,
    messageOriented: true,
    secure: kind === 'wss',
    local: endpoint(socket?.localAddress, socket?.localPort),
    remote: endpoint(socket?.remoteAddress, socket?.remotePort),
    peerCertificate: socket instanceof tls.TLSSocket ? peerCertificateOf(socket) : undefined,
    identity: options.identity
  }

  const onSent = (bytes: number) => (): void => {
    pendingBytes -= bytes
    if (needDrain && pendingBytes === 0 && !closed) {
      needDrain = false
      drain$.next()
    }
  }

  const transport: Transport = {
    incoming$: inbox.incoming$,
    drain$: drain$.asObservable(),
    closed$: closed$.asObservable(),
    info,
    // One message per call, in one frame. Several pieces are copied into one buffer. Sending them as the frames of
    // one message (`fin: false`) would avoid the copy, but Kamailio closes the connection on a fragmented message
    // (../shared/interop/kamailio.md), and it is not even faster: 20 000 messages of 200 B + 16 KiB + 16 B over
    // loopback took 1.32x as long server→client and 1.07x client→server (which masks, i.e. copies, every frame
    // anyway) as fragments than concatenated (ws 8.23, Node 20, median of 4). One piece is sent as it is (ws writes
    // header and data with writev, no copy, on the server side).
    write(pieces) {
      if (closed || ws.readyState !== WebSocket.OPEN) return false
      const message = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)
      pendingBytes += message.length
      ws.send(message, { binary: true, fin: true, compress: false }, onSent(message.length))
      if (pendingBytes < highWaterMark) return true
      needDrain = true
      return false
    },
    pause: () => inbox.pause(),
    resume: () => inbox.resume(),
    close
  }
  return withBufferedBytes(transport, ws)
}

/** The socket of each transport made by {@link webSocketTransport}, for {@link bufferedBytesOf}. */
const socketOf = new WeakMap<object, WebSocket>()

/** The `bufferedBytes` getter of every transport made here: one function, so that they all share one shape. */
function bufferedBytesOf(this: object): number {
  return socketOf.get(this)?.bufferedAmount ?? 0
}

/**
 * Adds `bufferedBytes` (`ws.bufferedAmount`) as an own enumerable getter, as an object literal's `get` would. Such a
 * literal is a dictionary-mode object (about 450 bytes more per connection); a shared getter defined afterwards keeps
 * the transport a fast object whose shape every transport shares.
 */
function withBufferedBytes<T extends object>(transport: T, ws: WebSocket): T & { readonly bufferedBytes: number } {
  socketOf.set(transport, ws)
  return Object.defineProperty(transport, 'bufferedBytes', {
    get: bufferedBytesOf,
    enumerable: true,
    configurable: true
  }) as T & { readonly bufferedBytes: number }
}

/** A `ws` client for {@link connectWebSocket}. */
function openWebSocket(options: ConnectWebSocketOptions, protocols: string[]): WebSocket {
  return new WebSocket(options.url, protocols, {
    perMessageDeflate: false, // Kamailio does not negotiate it, and compressing under TLS invites CRIME-style leaks
    followRedirects: false,
    maxPayload: options.maxPayload ?? WS_MAX_PAYLOAD_BYTES,
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    minVersion: options.minVersion ?? TLS_MIN_VERSION,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: { ...options.headers } })
  })
}

/** The decision of an `authenticate` hook that failed. */
const HOOK_FAILED: HandshakeDecision = { accept: false, status: 500 }

/** A close frame's reason is at most 123 bytes (RFC 6455 §5.5). */
const MAX_CLOSE_REASON_BYTES = 123

/** `undefined` for a clean close, else why the connection ended. */
function closeReason(code: number, failure: unknown): TransportReason | undefined {
  if (failure !== undefined) {
    if (errorCode(failure)?.startsWith('WS_ERR_') === true) return 'ProtocolError'
    return isTlsError(failure) ? 'TlsFailed' : 'Reset'
  }
  return closeCodeReason(code)
}

/** The subprotocols a handshake request offers (ws has validated the header's syntax by then). */
function offeredProtocols(request: http.IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol']
  return header === undefined ? [] : header.split(',').map((p) => p.trim())
}

/** The Origin check of an `allowedOrigins` setting. */
function originPolicy(policy: OriginPolicy | undefined): (origin: string | undefined) => boolean {
  if (policy === undefined) return () => true
  if (typeof policy === 'function') return policy
  const origins = new Set(policy)
  return (origin) => origin === undefined || origins.has(origin)
}

/** The HTTP server of a listener that has none given: HTTPS (WSS) when TLS settings are given. */
function createServer(secure: WebSocketServerTlsOptions | undefined): http.Server {
  if (secure === undefined) return http.createServer()
  return https.createServer({
    cert: secure.cert,
    key: secure.key,
    ca: secure.ca,
    requestCert: secure.requestCert ?? false,
    rejectUnauthorized: secure.rejectUnauthorized ?? true,
    minVersion: secure.minVersion ?? TLS_MIN_VERSION
  })
}

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary. */
function truncateUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text
  let out = text
  while (Buffer.byteLength(out) > max) out = out.slice(0, -1)
  return out
}

const ignore = (): void => {}
