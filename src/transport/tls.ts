/**
 * MSRP over TLS (RFC 4975 §14.3, `msrps:` URIs): TLS 1.2 or later, certificates verified by default.
 */
import * as tls from 'node:tls'
import type { Observable } from 'rxjs'
import { connectSocket } from './connect-socket'
import { CONNECT_TIMEOUT_MS, TLS_MIN_VERSION, WRITE_HIGH_WATER_MARK_BYTES } from './defaults'
import { listenServer } from './listen-server'
import { socketTransport } from './socket-transport'
import type { Listener, PeerCertificate, Transport } from './transport'
import type { ConnectTcpOptions, ListenTcpOptions } from './tcp'

/** TLS versions a transport may require; anything older is refused (RFC 7525 §3.1.1). */
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3'

/** The client side of TLS, shared by {@link connectTls} and `connectWebSocket` (for `wss:`). */
export interface TlsClientOptions {
  /** Trusted CA certificates (PEM) instead of the system's. */
  readonly ca?: tls.SecureContextOptions['ca']
  /** Client certificate and key (PEM), for mutual TLS. */
  readonly cert?: tls.SecureContextOptions['cert']
  readonly key?: tls.SecureContextOptions['key']
  /**
   * Verify the server's certificate and name (RFC 4975 §14.3); default true. Turn it off only in tests, or for
   * peer-to-peer TLS with a self-signed certificate that is verified by the SDP's `a=fingerprint` instead
   * (RFC 4975 §14.4: `openPlannedSession` with `dial`, or `checkFingerprint` on `info.peerCertificate.raw`).
   */
  readonly rejectUnauthorized?: boolean
  /** Default {@link TLS_MIN_VERSION}. */
  readonly minVersion?: TlsMinVersion
}

/** Options of {@link connectTls}. */
export interface ConnectTlsOptions extends ConnectTcpOptions, TlsClientOptions {
  /** SNI and the name the certificate must carry; default `host` (Node sends no SNI for an IP address). */
  readonly servername?: string
}

/** Options of {@link listenTls}. */
export interface ListenTlsOptions extends ListenTcpOptions {
  /** Server certificate chain and key (PEM). */
  readonly cert: tls.SecureContextOptions['cert']
  readonly key: tls.SecureContextOptions['key']
  /** CAs that client certificates must chain to. */
  readonly ca?: tls.SecureContextOptions['ca']
  /** Ask clients for a certificate (mutual TLS); default false. */
  readonly requestCert?: boolean
  /** With `requestCert`, refuse clients without a valid one; default true. */
  readonly rejectUnauthorized?: boolean
  /** Default {@link TLS_MIN_VERSION}. */
  readonly minVersion?: TlsMinVersion
}

/**
 * Connects over TLS: emits one `Transport` once the handshake is done, then completes. The certificate and the host
 * name are verified unless `rejectUnauthorized: false`; TLS below 1.2 is never negotiated. Fails with `TransportError`:
 * `ConnectFailed` (no TCP connection), `TlsFailed` (handshake or verification failed), `ConnectTimeout` (TCP connect
 * plus handshake took longer than `timeoutMs`). `info.peerCertificate` is the server's certificate.
 */
export function connectTls(options: ConnectTlsOptions): Observable<Transport> {
  return connectSocket({
    what: `tls ${options.host}:${options.port}`,
    timeoutMs: options.timeoutMs ?? CONNECT_TIMEOUT_MS,
    readyEvent: 'secureConnect',
    open: () =>
      tls.connect({
        host: options.host,
        port: options.port,
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        minVersion: options.minVersion ?? TLS_MIN_VERSION,
        highWaterMark: options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES
      } as tls.ConnectionOptions),
    transport: (socket) =>
      socketTransport(socket, {
        kind: 'tls',
        closeTimeoutMs: options.closeTimeoutMs,
        peerCertificate: peerCertificateOf(socket)
      })
  })
}

/**
 * Listens for TLS connections: emits the `Listener` once bound (see `listenTcp` for its lifetime). A transport is
 * emitted once its handshake is done; failed handshakes are dropped by the server and never emitted.
 * `info.peerCertificate` is the client's certificate when `requestCert` is on and the client sent one.
 */
export function listenTls(options: ListenTlsOptions): Observable<Listener> {
  return listenServer('tls', options, (accept) => {
    const server = tls.createServer({
      cert: options.cert,
      key: options.key,
      ca: options.ca,
      requestCert: options.requestCert ?? false,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      minVersion: options.minVersion ?? TLS_MIN_VERSION,
      highWaterMark: options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES
    })
    const onConnection = (socket: tls.TLSSocket): void =>
      accept(
        socketTransport(socket, {
          kind: 'tls',
          closeTimeoutMs: options.closeTimeoutMs,
          peerCertificate: peerCertificateOf(socket)
        })
      )
    // A failed handshake ('tlsClientError') is destroyed by Node and never becomes a transport.
    server.on('secureConnection', onConnection)
    return { server, external: false, detach: () => server.off('secureConnection', onConnection) }
  })
}

/** The peer certificate of a TLS socket in the contract's shape, or undefined when the peer sent none. */
export function peerCertificateOf(socket: tls.TLSSocket): PeerCertificate | undefined {
  const certificate = socket.getPeerCertificate()
  if (certificate === null || certificate === undefined || Object.keys(certificate).length === 0) return undefined
  return {
    subject: definedEntries(certificate.subject),
    subjectaltname: certificate.subjectaltname,
    fingerprint256: certificate.fingerprint256,
    raw: certificate.raw
  }
}

/** A copy of `record` without its undefined values. */
function definedEntries<V>(record: Readonly<Record<string, V | undefined>>): Record<string, V> {
  const out: Record<string, V> = {}
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value
  return out
}
