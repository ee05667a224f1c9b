/**
 * The listening half shared by every network transport: a server as an `Observable<Listener>`.
 *
 * @internal
 */
import type * as net from 'node:net'
import { Observable, Subject } from 'rxjs'
import { describeError } from './classify-error'
import { endpoint } from './socket-transport'
import { TransportError, type Endpoint, type Listener, type Transport } from './transport'

/** A server wired to produce transports. @internal */
export interface ServerBinding {
  readonly server: net.Server
  /** True when the caller owns the server: it is neither listened on nor closed here. */
  readonly external: boolean
  /** Stops producing transports (removes what `bind` attached). */
  readonly detach: () => void
}

/** Where to listen. @internal */
export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/**
 * Binds a server and emits its `Listener` once it listens; the Listener's `close()` and unsubscribing both stop it.
 *
 * - `connections$` is hot. Transports that arrive while nobody subscribes are kept, in order, for the next
 *   subscriber; when the listener stops, any that nobody took are closed (nobody else can close them).
 * - The Observable completes when `close()` is called and fails with `TransportError('ConnectFailed')` when the
 *   server cannot listen (address in use, no permission) or fails later.
 *
 * @internal
 */
export function listenServer(
  what: string,
  address: ListenAddress,
  bind: (accept: (transport: Transport) => void) => ServerBinding
): Observable<Listener> {
  return new Observable<Listener>((subscriber) => {
    const arrivals = new Subject<Transport>()
    const unclaimed: Transport[] = []
    let stopped = false
    const binding = bind((transport) => {
      if (stopped) transport.close()
      else if (arrivals.observed) arrivals.next(transport)
      else unclaimed.push(transport)
    })
    const { server } = binding

    const connections$ = new Observable<Transport>((connection) => {
      while (unclaimed.length > 0 && !connection.closed) connection.next(unclaimed.shift()!)
      if (stopped) {
        connection.complete()
        return
      }
      return arrivals.subscribe(connection)
    })

    const stop = (): void => {
      if (stopped) return
      stopped = true
      server.off('error', onError)
      server.off('listening', onListening)
      binding.detach()
      // Closing the listening socket is synchronous (libuv closes its descriptor at once); the server's 'close'
      // event itself waits for every accepted connection to end, which open transports may never do.
      if (!binding.external && server.listening) server.close()
      for (const transport of unclaimed.splice(0)) transport.close()
      arrivals.complete()
    }

    function onError(error: Error): void {
      const failure = new TransportError(
        'ConnectFailed',
        `${what} cannot listen on ${address.host}:${address.port}: ${describeError(error)}`,
        error
      )
      stop()
      subscriber.error(failure)
    }

    function onListening(): void {
      const bound = server.address()
      const local: Endpoint =
        typeof bound === 'object' && bound !== null
          ? (endpoint(bound.address, bound.port) ?? { address: address.host, port: address.port })
          : { address: address.host, port: address.port }
      subscriber.next({
        connections$,
        address: local,
        close: () => {
          stop()
          subscriber.complete()
          return Promise.resolve()
        }
      })
    }

    server.on('error', onError)
    if (server.listening) onListening()
    else {
      server.once('listening', onListening)
      if (!binding.external) server.listen(address.port, address.host)
    }
    return stop
  })
}
