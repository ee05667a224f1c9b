/**
 * The connecting half shared by TCP and TLS: open a socket, wait for it to be ready, or fail with a typed reason.
 *
 * @internal
 */
import type * as net from 'node:net'
import { Observable } from 'rxjs'
import { describeError, isTlsError } from './classify-error'
import { TransportError, type Transport } from './transport'

/** @internal */
export interface ConnectSocketOptions<S extends net.Socket> {
  /** For messages: `tcp 127.0.0.1:2855`. */
  readonly what: string
  readonly timeoutMs: number
  /** Opens the socket (`net.connect`, `tls.connect`). */
  readonly open: () => S
  /** The event after which the socket is usable: `'connect'` for TCP, `'secureConnect'` for TLS. */
  readonly readyEvent: 'connect' | 'secureConnect'
  /** Wraps the ready socket. */
  readonly transport: (socket: S) => Transport
}

/**
 * Emits one Transport once the socket is ready, then completes. Fails with `TransportError`: `ConnectFailed` before
 * the TCP connection exists, `TlsFailed` for any error after it and before the TLS handshake ends (or any TLS error),
 * `ConnectTimeout` when both together take longer than `timeoutMs`. Unsubscribing before then destroys the socket.
 *
 * @internal
 */
export function connectSocket<S extends net.Socket>(options: ConnectSocketOptions<S>): Observable<Transport> {
  return new Observable<Transport>((subscriber) => {
    let settled = false
    let tcpConnected = false
    const socket = options.open()

    const abandon = (): void => {
      settled = true
      clearTimeout(timer)
      socket.off('error', onError)
      socket.on('error', ignore) // a late error of a destroyed socket must not become an uncaught exception
      socket.destroy()
    }
    const onError = (error: Error): void => {
      if (settled) return
      const reason = tcpConnected || isTlsError(error) ? 'TlsFailed' : 'ConnectFailed'
      abandon()
      subscriber.error(new TransportError(reason, `${options.what}: ${describeError(error)}`, error))
    }
    const timer = setTimeout(() => {
      if (settled) return
      abandon()
      subscriber.error(
        new TransportError('ConnectTimeout', `${options.what}: not connected after ${options.timeoutMs} ms`)
      )
    }, options.timeoutMs)

    socket.on('error', onError)
    socket.once('connect', () => {
      tcpConnected = true
    })
    socket.once(options.readyEvent, () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.off('error', onError) // the transport installs its own
      subscriber.next(options.transport(socket))
      subscriber.complete()
    })
    return () => {
      if (!settled) abandon()
    }
  })
}

const ignore = (): void => {}
