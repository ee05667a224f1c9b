/**
 * The transport contract (DESIGN.md layer 2): bytes in, bytes out, with the backpressure of Node streams and ws.
 * Transports know nothing of MSRP; operators know nothing of which transport they run on.
 */
import type { Observable } from 'rxjs'

export type TransportKind = 'tcp' | 'tls' | 'ws' | 'wss' | 'memory'

export interface Endpoint {
  readonly address: string
  readonly port: number
}

/** What is known of a connected transport. */
export interface TransportInfo {
  readonly kind: TransportKind
  /** True for WebSocket: one `write` call is one message, and each incoming value is one whole message. */
  readonly messageOriented: boolean
  /** True for TLS and WSS. */
  readonly secure: boolean
  readonly local: Endpoint | undefined
  readonly remote: Endpoint | undefined
  /** The peer's certificate on a TLS/WSS transport when it presented one (the `tls.PeerCertificate` shape). */
  readonly peerCertificate: PeerCertificate | undefined
  /**
   * Who the peer proved to be while the transport was set up, if anyone said: the identity a WebSocket handshake's
   * `authenticate` hook returned (RFC 7977 §5.3.1: a cookie or token checked before the upgrade). A relay lets such
   * a peer's AUTH succeed without a Digest challenge.
   */
  readonly identity?: string | undefined
}

/** The parts of a peer certificate MSRP looks at (RFC 4975 §14.4, RFC 4976 §9.2). */
export interface PeerCertificate {
  readonly subject?: Readonly<Record<string, string | string[]>>
  /** e.g. `DNS:relay.example.com, IP Address:127.0.0.1` */
  readonly subjectaltname?: string
  readonly fingerprint256?: string
  readonly raw?: Uint8Array
}

/** Why a transport ended other than by a clean close. */
export type TransportReason =
  | 'ConnectFailed'
  | 'ConnectTimeout'
  | 'TlsFailed'
  | 'HandshakeRefused'
  | 'Reset'
  | 'ProtocolError'
  | 'Closed'
  | 'Overflow'

/** The error `incoming$` fails with, and the error of a failed connect. */
export class TransportError extends Error {
  override readonly name = 'TransportError'
  constructor(
    readonly reason: TransportReason,
    message: string,
    override readonly cause?: unknown
  ) {
    super(message)
  }
}

export interface CloseReason {
  /** WebSocket close code (1000 normal); ignored by byte-stream transports. */
  readonly code?: number
  readonly message?: string
}

/**
 * A connected byte transport.
 *
 * - `incoming$` is unicast: subscribe once. Bytes flow from the subscription on (the socket is paused until
 *   then), so none are lost between connect and subscribe. It completes on a clean close by either side and
 *   errors with a `TransportError` otherwise. Unsubscribing closes the transport.
 * - `write(pieces)` queues the pieces as one unit (one WebSocket message on message-oriented transports) and
 *   returns false once the queue is above the high-water mark: wait for `drain$` before writing more.
 *   Writing after close is a no-op that returns false.
 * - `pause()`/`resume()` stop and restart reading (a relay pauses a fast sender while a slow receiver drains).
 * - `closed$` emits once when the transport is closed for any reason, then completes.
 */
export interface Transport {
  readonly incoming$: Observable<Uint8Array>
  write(pieces: readonly Uint8Array[]): boolean
  readonly drain$: Observable<void>
  pause(): void
  resume(): void
  close(reason?: CloseReason): void
  readonly closed$: Observable<void>
  readonly info: TransportInfo
}

/** A listening socket: its transports as they connect, and its bound address. */
export interface Listener {
  readonly connections$: Observable<Transport>
  readonly address: Endpoint
  /** Stops accepting; resolves once the server is closed (open transports are not closed). */
  close(): Promise<void>
}
