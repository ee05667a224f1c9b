/**
 * The byte-stream adapter shared by TCP and TLS: a connected `net.Socket` (or `tls.TLSSocket`) as a `Transport`.
 */
import type * as net from 'node:net'
import { AsyncSubject, Subject } from 'rxjs'
import { describeError, streamErrorReason } from './classify-error'
import { SOCKET_CLOSE_TIMEOUT_MS } from './defaults'
import { Inbox } from './inbox'
import {
  TransportError,
  type CloseReason,
  type Endpoint,
  type PeerCertificate,
  type Transport,
  type TransportInfo
} from './transport'

/** Options of {@link socketTransport}. */
export interface SocketTransportOptions {
  readonly kind: 'tcp' | 'tls'
  /** The peer's certificate, for TLS. */
  readonly peerCertificate?: PeerCertificate | undefined
  /** How long `close()` waits for the peer's FIN before destroying the socket; default {@link SOCKET_CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number
}

/**
 * Wraps a connected socket as a `Transport` (DESIGN.md layer 2).
 *
 * - Reading is paused until `incoming$` is subscribed and while `pause()` is in effect; the kernel's receive window
 *   then pushes back on the peer. A clean end (FIN) completes `incoming$` after the bytes before it; an error fails it
 *   with `TransportError` (`Reset`, or `TlsFailed` for a TLS error).
 * - `write(pieces)` corks the socket and leaves it corked until the current tick's callbacks and promise jobs have
 *   run (`process.nextTick`), so every frame written in one turn of the event loop (all the 200s for the chunks of
 *   one read, a run of SEND chunks) leaves in one `writev` system call instead of one per frame or piece (Kamailio
 *   writes each piece separately and pays for it). Pieces are not copied: do not change them afterwards. It returns
 *   `socket.write`'s backpressure verdict, and `drain$` is the socket's `'drain'`.
 * - `closed$` fires as soon as the transport is closed or has failed; `incoming$` ends only once the consumer reads
 *   again (not paused), after what it had not read yet.
 * - `close()` completes `incoming$` at once, sends FIN after the queued bytes and destroys the socket when the peer's
 *   FIN comes back, or after `closeTimeoutMs`.
 * - Non-contract diagnostics: `bufferedBytes` is `socket.writableLength`.
 */
export function socketTransport(
  socket: net.Socket,
  options: SocketTransportOptions
): Transport & { readonly bufferedBytes: number } {
  const closeTimeoutMs = options.closeTimeoutMs ?? SOCKET_CLOSE_TIMEOUT_MS
  const drain$ = new Subject<void>()
  const closed$ = new AsyncSubject<void>()
  let closed = false
  let corked = false
  let closeTimer: ReturnType<typeof setTimeout> | undefined

  const markClosed = (): void => {
    if (closed) return
    closed = true
    closed$.next()
    closed$.complete()
    drain$.complete()
  }

  const inbox = new Inbox({
    flowing: (flowing) => {
      // Once closed, keep reading (and discarding) so the peer's FIN is seen and the socket can be released.
      if (closed || flowing) socket.resume()
      else socket.pause()
    },
    abandoned: () => close()
  })

  function close(_reason?: CloseReason): void {
    if (closed) return
    markClosed()
    inbox.close()
    socket.resume()
    socket.end()
    closeTimer = setTimeout(() => socket.destroy(), closeTimeoutMs)
    closeTimer.unref()
  }

  const uncork = (): void => {
    corked = false
    socket.uncork()
  }

  socket.setNoDelay(true)
  socket.pause() // before the 'data' listener, which would otherwise switch the socket to flowing
  socket.on('data', (chunk: Buffer) => inbox.push(chunk))
  socket.on('drain', () => drain$.next())
  socket.on('end', () => {
    inbox.complete()
    markClosed()
  })
  socket.on('error', (error) => {
    inbox.fail(
      new TransportError(streamErrorReason(error), `${options.kind} connection failed: ${describeError(error)}`, error)
    )
    markClosed()
  })
  socket.on('close', () => {
    if (closeTimer !== undefined) clearTimeout(closeTimer)
    // Ignored when 'end' or 'error' came first; otherwise the socket was destroyed under us.
    inbox.fail(new TransportError('Reset', `${options.kind} connection closed without an end`))
    markClosed()
  })

  const info: TransportInfo = {
    kind: options.kind,
    messageOriented: false,
    secure: options.kind === 'tls',
    local: endpoint(socket.localAddress, socket.localPort),
    remote: endpoint(socket.remoteAddress, socket.remotePort),
    peerCertificate: options.peerCertificate
  }

  return {
    incoming$: inbox.incoming$,
    drain$: drain$.asObservable(),
    closed$: closed$.asObservable(),
    info,
    write(pieces) {
      if (closed || !socket.writable) return false
      if (!corked) {
        corked = true
        socket.cork()
        process.nextTick(uncork)
      }
      let ok = true
      for (const piece of pieces) if (piece.length > 0) ok = socket.write(piece)
      return ok && !socket.writableNeedDrain
    },
    pause: () => inbox.pause(),
    resume: () => inbox.resume(),
    close,
    get bufferedBytes() {
      return socket.writableLength
    }
  }
}

/** An `Endpoint` when both parts are known. @internal */
export function endpoint(address: string | undefined, port: number | undefined): Endpoint | undefined {
  return address === undefined || port === undefined ? undefined : { address, port }
}
