/**
 * An in-process pair of connected transports, for session and relay tests (STYLE.md §6).
 */
import { AsyncSubject, Subject, type Observable } from 'rxjs'
import { WRITE_HIGH_WATER_MARK_BYTES } from './defaults'
import { Inbox, scheduleImmediate } from './inbox'
import { TransportError, type CloseReason, type Transport, type TransportInfo } from './transport'

/** Options of {@link memoryPair}. */
export interface MemoryPairOptions {
  /** Behave like a WebSocket: one `write` arrives as one value. Default false (a byte stream, like TCP). */
  readonly messageOriented?: boolean
  /** Bytes written and not yet read above which `write` returns false; default {@link WRITE_HIGH_WATER_MARK_BYTES}. */
  readonly highWaterMark?: number
}

/** One end of a {@link memoryPair}. */
export interface MemoryTransport extends Transport {
  /**
   * Simulates a connection reset: both ends' `incoming$` fail with `TransportError('Reset')` (after what they had
   * already received) and bytes in transit are lost.
   */
  reset(): void
  /** Bytes this end wrote that the other end has not read yet (diagnostics, not part of the contract). */
  readonly bufferedBytes: number
}

/**
 * Two transports connected to each other in-process, with the contract of a real connection:
 *
 * - Delivery is asynchronous: written bytes reach the other end from a `setImmediate` callback, never inside `write`.
 *   `setImmediate` rather than `queueMicrotask` so that, as with sockets, timers and I/O run between deliveries and
 *   a ping-pong between the two ends cannot starve the event loop.
 * - Backpressure is real: bytes count until the reader has received them, so a reader that is paused (or not
 *   subscribed) makes `write` return false once `highWaterMark` is reached, and `drain$` fires when it has read all.
 * - Bytes are not copied; a stream-oriented pair delivers each written piece as it is, a message-oriented pair
 *   joins the pieces of one `write` into one value.
 * - `close()` on one end completes the other end's `incoming$` after the bytes written before it.
 */
export function memoryPair(options: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const messageOriented = options.messageOriented ?? false
  const highWaterMark = options.highWaterMark ?? WRITE_HIGH_WATER_MARK_BYTES
  const a = new MemoryEnd(messageOriented, highWaterMark)
  const b = new MemoryEnd(messageOriented, highWaterMark)
  a.connect(b)
  b.connect(a)
  return [a, b]
}

/** @internal */
class MemoryEnd implements MemoryTransport {
  readonly info: TransportInfo
  readonly incoming$: Observable<Uint8Array>
  readonly drain$: Observable<void>
  readonly closed$: Observable<void>

  private peer!: MemoryEnd
  private readonly inbox: Inbox
  private readonly drains = new Subject<void>()
  private readonly closedSubject = new AsyncSubject<void>()
  private closed = false
  /** This end closed: the other end completes once `transit` is delivered. */
  private ending = false
  /** Written by this end, not yet handed to the other end's inbox. */
  private transit: Uint8Array[] = []
  private transitBytes = 0
  private flushScheduled = false
  private needDrain = false

  constructor(
    private readonly messageOriented: boolean,
    private readonly highWaterMark: number
  ) {
    this.info = {
      kind: 'memory',
      messageOriented,
      secure: false,
      local: undefined,
      remote: undefined,
      peerCertificate: undefined
    }
    this.inbox = new Inbox({
      flowing: () => {},
      abandoned: () => this.close(),
      dequeued: () => this.peer.checkDrain()
    })
    this.incoming$ = this.inbox.incoming$
    this.drain$ = this.drains.asObservable()
    this.closed$ = this.closedSubject.asObservable()
  }

  /** @internal */
  connect(peer: MemoryEnd): void {
    this.peer = peer
  }

  get bufferedBytes(): number {
    return this.transitBytes + this.peer.inbox.queuedBytes
  }

  write(pieces: readonly Uint8Array[]): boolean {
    if (this.closed || this.peer.closed) return false
    if (this.messageOriented) {
      const message = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)
      this.transit.push(message)
      this.transitBytes += message.length
    } else {
      for (const piece of pieces) {
        if (piece.length === 0) continue
        this.transit.push(piece)
        this.transitBytes += piece.length
      }
    }
    this.scheduleFlush()
    if (this.bufferedBytes < this.highWaterMark) return true
    this.needDrain = true
    return false
  }

  pause(): void {
    this.inbox.pause()
  }

  resume(): void {
    this.inbox.resume()
  }

  close(_reason?: CloseReason): void {
    if (this.closed) return
    this.markClosed()
    this.inbox.close()
    this.ending = true
    this.scheduleFlush()
  }

  reset(): void {
    if (this.closed && this.peer.closed) return
    for (const end of [this, this.peer]) {
      end.transit = []
      end.transitBytes = 0
      end.inbox.fail(new TransportError('Reset', 'memory transport reset'))
      end.markClosed()
    }
  }

  /** @internal Emits `drain$` once everything this end wrote has been read, if a write returned false. */
  checkDrain(): void {
    if (!this.needDrain || this.closed || this.bufferedBytes > 0) return
    this.needDrain = false
    this.drains.next()
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    scheduleImmediate(() => this.flush())
  }

  /** Hands what this end wrote to the other end, then the end of the stream if this end closed. */
  private flush(): void {
    this.flushScheduled = false
    const transit = this.transit
    this.transit = []
    this.transitBytes = 0
    const peer = this.peer
    for (const value of transit) peer.inbox.push(value) // ignored once the peer's inbox has ended
    if (this.ending) {
      peer.inbox.complete()
      peer.markClosed()
    }
    this.checkDrain()
  }

  private markClosed(): void {
    if (this.closed) return
    this.closed = true
    this.closedSubject.next()
    this.closedSubject.complete()
    this.drains.complete()
  }
}
