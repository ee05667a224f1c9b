/**
 * MSRP's own transport: TCP (RFC 4975 §6, `msrp:` URIs with `;tcp`).
 */
import * as net from 'node:net'
import type { Observable } from 'rxjs'
import { connectSocket } from './connect-socket'
import { CONNECT_TIMEOUT_MS, WRITE_HIGH_WATER_MARK_BYTES } from './defaults'
import { listenServer } from './listen-server'
import { socketTransport } from './socket-transport'
import type { Listener, Transport } from './transport'

/** Options of {@link connectTcp}. */
export interface ConnectTcpOptions {
  readonly host: string
  readonly port: number
  /** Default {@link CONNECT_TIMEOUT_MS}. */
  readonly timeoutMs?: number
  /** Queued outgoing bytes above which `write` returns false; default {@link WRITE_HIGH_WATER_MARK_BYTES}. */
  readonly highWaterMark?: number
  /** How long `close()` waits for the peer's FIN; default `SOCKET_CLOSE_TIMEOUT_MS`. */
  readonly closeTimeoutMs?: number
}

/** Options of {@link listenTcp}. */
export interface ListenTcpOptions {
  readonly host: string
  /** 0 picks a free port; read it from `Listener.address`. */
  readonly port: number
  /** Per accepted connection; default {@link WRITE_HIGH_WATER_MARK_BYTES}. */
  readonly highWaterMark?: number
  /** Per accepted connection; default `SOCKET_CLOSE_TIMEOUT_MS`. */
  readonly closeTimeoutMs?: number
}

/**
 * Connects over TCP: emits one `Transport` once connected, then completes. Fails with `TransportError`
 * (`ConnectFailed`, `ConnectTimeout`); unsubscribing before the connection exists aborts it. See
 * {@link socketTransport} for the behaviour of the transport.
 *
 * ```ts
 * connectTcp({ host: '127.0.0.1', port: 2855 }).subscribe((t) => t.incoming$.subscribe(console.log))
 * ```
 */
export function connectTcp(options: ConnectTcpOptions): Observable<Transport> {
  return connectSocket({
    what: `tcp ${options.host}:${options.port}`,
    timeoutMs: options.timeoutMs ?? CONNECT_TIMEOUT_MS,
    readyEvent: 'connect',
    open: () =>
      net.connect({
        host: options.host,
        port: options.port,
        highWaterMark: options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES
      } as net.NetConnectOpts),
    transport: (socket) => socketTransport(socket, { kind: 'tcp', closeTimeoutMs: options.closeTimeoutMs })
  })
}

/**
 * Listens for TCP connections: emits the `Listener` once bound. Keep the subscription for as long as the listener
 * should live: unsubscribing (or `Listener.close()`) stops accepting; transports already accepted stay open. (So do not
 * `firstValueFrom` it, which unsubscribes at once.) Fails with `TransportError('ConnectFailed')` when it cannot bind.
 */
export function listenTcp(options: ListenTcpOptions): Observable<Listener> {
  return listenServer('tcp', options, (accept) => {
    const server = net.createServer({ highWaterMark: options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES })
    const onConnection = (socket: net.Socket): void =>
      accept(socketTransport(socket, { kind: 'tcp', closeTimeoutMs: options.closeTimeoutMs }))
    server.on('connection', onConnection)
    return { server, external: false, detach: () => server.off('connection', onConnection) }
  })
}
