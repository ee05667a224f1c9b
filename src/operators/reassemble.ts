/**
 * Reassembles the SEND chunks of one session into messages (RFC 4975 §7.3.1, rfc4975-core.md §6.2).
 *
 * ```text
 * pieces:  a---b---c|        a = SEND 1-4/8 "+", b = SEND 5-8/8 "$" (each one piece here)
 * result:  (SDR)-(DRC)-(|)   S = start, D = data, R = chunk result (the status to answer), C = complete
 * ```
 */
import { Observable, type OperatorFunction } from 'rxjs'
import type { Continuation } from '../wire/model'
import type { SendHead } from '../wire/chunk'

/** Most bytes held for chunks that arrived ahead of a gap, over all messages of the subscription. */
export const MAX_OUT_OF_ORDER_BYTES = 4 * 1024 * 1024
/** Most messages being received at once; a further one is refused with 413. */
export const MAX_OPEN_MESSAGES = 256
/** Largest message accepted (the SDP `max-size`); unlimited by default, since bodies stream in order. */
export const MAX_MESSAGE_BYTES = Number.MAX_SAFE_INTEGER
/** Most separate segments held ahead of gaps in one message (bounds the work per out-of-order chunk). */
export const MAX_PENDING_SEGMENTS = 1024
/** How many finished Message-IDs are remembered, to recognise duplicates and keep refusing stopped messages. */
export const FINISHED_MESSAGE_IDS = 1024

export interface ReassembleOptions {
  /** Default `MAX_OUT_OF_ORDER_BYTES` (4 MiB). */
  readonly maxOutOfOrderBytes?: number
  /** Default `MAX_OPEN_MESSAGES` (256). */
  readonly maxOpenMessages?: number
  /** Default `MAX_MESSAGE_BYTES` (unlimited). */
  readonly maxMessageBytes?: number
  /** Default `FINISHED_MESSAGE_IDS` (1024). */
  readonly finishedMessageIds?: number
  /**
   * Decides a message whose first chunk starts above byte 1: the rest of a message cut on an earlier connection and
   * resent with its Message-ID (RFC 4975 §5.4, C-5.4-12; rfc4975-core.md §7). Called once, with that chunk's head.
   * `true`: the message is delivered from that byte (its `start` event says `firstByte`), the bytes before it being
   * the application's (held from the earlier session); `false` (or a throw): it is refused with 413
   * (`ContinuationRefused`). Default: none, and such a message waits for bytes 1…n like any gap (bounded by
   * `maxOutOfOrderBytes`). Only for peers that send each message's chunks in order, as every sender over one
   * connection does: a first chunk that merely overtook earlier ones would be taken for a continuation.
   */
  readonly acceptContinuation?: (head: SendHead) => boolean
}

/** One piece of a SEND chunk's body, as the framer delivers it (a whole chunk is a single piece). */
export interface SendPiece {
  readonly head: SendHead
  /** Body bytes of this piece; empty for a bodiless SEND or an empty body. */
  readonly data: Uint8Array
  /** Offset of `data` within this chunk's body. */
  readonly position: number
  /** The end-line flag, on the chunk's last piece only. */
  readonly end: Continuation | undefined
  /** The SEND has no body section at all (a binding SEND or a keep-alive, C-5.4-3, W-6-3). */
  readonly bodiless: boolean
}

export type ReassemblyReason =
  /** The message is, or claims to be, larger than `maxMessageBytes` (C-7.3.1: "413 to stop"). */
  | 'TooLarge'
  /**
   * Chunks ahead of a gap would need more than `maxOutOfOrderBytes`, or more than `MAX_PENDING_SEGMENTS` pieces
   * (C-7.3.1-2: bytes may arrive out of order, but holding them is bounded).
   */
  | 'OutOfOrderLimit'
  /** More than `maxOpenMessages` messages at once. */
  | 'TooManyMessages'
  /** A message starting above byte 1 that `acceptContinuation` refused (RFC 4975 §5.4: 413 to stop it). */
  | 'ContinuationRefused'
  /** The body goes past the Byte-Range total the sender declared. */
  | 'BeyondTotal'

export type ReassemblyEvent =
  /**
   * The first chunk of a new message arrived. `total` is the declared size when the Byte-Range gives one.
   * `firstByte` (1-based) is set only for a continuation accepted by `acceptContinuation`: `data` then starts at
   * offset `firstByte - 1`. Absent, the message starts at byte 1.
   */
  | {
      readonly type: 'start'
      readonly messageId: string
      readonly head: SendHead
      readonly total: number | undefined
      readonly firstByte?: number
    }
  /** Message bytes, in order, without gaps: `offset` is 0-based within the message. */
  | { readonly type: 'data'; readonly messageId: string; readonly offset: number; readonly data: Uint8Array }
  /** Every byte of the message has arrived. `head` is the head of the chunk that completed it. */
  | { readonly type: 'complete'; readonly messageId: string; readonly size: number; readonly head: SendHead }
  /** The sender aborted the message (`#`, C-7.1-9) or the connection ended before it was complete. */
  | {
      readonly type: 'aborted'
      readonly messageId: string
      readonly received: number
      readonly reason: 'Aborted' | 'ConnectionLost'
    }
  /** The receiver stopped the message; every later chunk of it is answered `status` too. */
  | {
      readonly type: 'failed'
      readonly messageId: string
      /** The head of the chunk that made the message fail (the first one if the message was refused at once). */
      readonly head: SendHead
      readonly status: number
      readonly reason: ReassemblyReason
      readonly detail: string
    }
  /** A chunk of a message that was already complete (C-5.4-13: show only with a duplication warning). */
  | { readonly type: 'duplicate'; readonly messageId: string; readonly head: SendHead }
  /**
   * The status that answers one SEND chunk: 200 once its end-line has arrived, or an error as soon as it is known
   * (413 stops the sender mid-chunk, C-7.3.1). Whether an answer is sent follows `head.failureReport`.
   * `received` counts the body bytes of the chunk seen so far (for a failure REPORT's Byte-Range, C-7.1.4-5).
   */
  | { readonly type: 'chunk'; readonly head: SendHead; readonly status: number; readonly received: number }

interface Segment {
  readonly offset: number
  readonly data: Uint8Array
}

interface Incoming {
  readonly messageId: string
  /** Next message offset to deliver: bytes [0, delivered) went out in order. */
  delivered: number
  /** Known size: from a `$` chunk's end, or from a numeric Byte-Range total. */
  total: number | undefined
  /** Segments ahead of `delivered`, sorted by offset, not overlapping. */
  pending: Segment[]
}

/**
 * Chunks → messages by Message-ID, for one session: out of order, gaps, duplicates and overlaps handled; memory
 * bounded by `maxOutOfOrderBytes` (in-order data is passed on at once, never buffered); 413 stops a message;
 * `#` aborts it; when the source ends, every unfinished message is reported aborted. Nothing is dropped silently.
 *
 * Overlaps (C-7.3.1-3): bytes not yet delivered are replaced by the most recent chunk; bytes already passed on
 * to the application cannot be taken back and are kept (the rule is a SHOULD for this reason). Likewise, bytes before
 * the first byte of an accepted continuation count as the application's: if they come later in the session they are
 * answered 200 and not delivered.
 */
export function reassemble(options: ReassembleOptions = {}): OperatorFunction<SendPiece, ReassemblyEvent> {
  const maxOutOfOrder = options.maxOutOfOrderBytes ?? MAX_OUT_OF_ORDER_BYTES
  const maxOpen = options.maxOpenMessages ?? MAX_OPEN_MESSAGES
  const maxMessage = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
  const maxFinished = options.finishedMessageIds ?? FINISHED_MESSAGE_IDS
  const acceptContinuation = options.acceptContinuation
  return (source) =>
    new Observable<ReassemblyEvent>((subscriber) => {
      const open = new Map<string, Incoming>()
      /** Finished Message-IDs: the status their later chunks get (200 for complete, else the failure status). */
      const finished = new Map<string, number>()
      /** Chunks (by transaction id) already answered early with an error: their further pieces are ignored. */
      const answered = new Set<string>()
      let pendingBytes = 0
      const emit = (e: ReassemblyEvent): void => subscriber.next(e)

      const finish = (messageId: string, status: number): void => {
        const m = open.get(messageId)
        if (m !== undefined) {
          for (const s of m.pending) pendingBytes -= s.data.length
          open.delete(messageId)
        }
        finished.set(messageId, status)
        if (finished.size > maxFinished) finished.delete(finished.keys().next().value as string)
      }

      const fail = (piece: SendPiece, reason: ReassemblyReason, detail: string, status = 413): void => {
        const { head } = piece
        emit({ type: 'failed', messageId: head.messageId, head, status, reason, detail })
        finish(head.messageId, status)
        answered.add(head.transactionId)
        emit({ type: 'chunk', head, status, received: piece.position + piece.data.length })
        if (piece.end !== undefined) answered.delete(head.transactionId)
      }

      const deliver = (m: Incoming, offset: number, data: Uint8Array): void => {
        if (data.length === 0) return
        emit({ type: 'data', messageId: m.messageId, offset, data })
        m.delivered = offset + data.length
      }

      /** Places [offset, offset + data.length) in the message: delivers what is in order, holds the rest. */
      const place = (m: Incoming, offset: number, data: Uint8Array): boolean => {
        const endAt = offset + data.length
        if (endAt <= m.delivered) return true // all of it was delivered already (a duplicate or an overlap)
        if (offset <= m.delivered) {
          deliver(m, m.delivered, data.subarray(m.delivered - offset))
          flush(m)
          return true
        }
        // Ahead of a gap: keep a copy (views of socket reads would pin whole buffers); the newest bytes win.
        const kept: Segment[] = []
        for (const seg of m.pending) {
          const segEnd = seg.offset + seg.data.length
          if (segEnd <= offset || seg.offset >= endAt) {
            kept.push(seg)
            continue
          }
          pendingBytes -= seg.data.length
          if (seg.offset < offset) {
            kept.push({ offset: seg.offset, data: seg.data.subarray(0, offset - seg.offset) })
            pendingBytes += offset - seg.offset
          }
          if (segEnd > endAt) {
            kept.push({ offset: endAt, data: seg.data.subarray(endAt - seg.offset) })
            pendingBytes += segEnd - endAt
          }
        }
        const at = kept.findIndex((seg) => seg.offset > offset)
        kept.splice(at === -1 ? kept.length : at, 0, { offset, data: data.slice() })
        pendingBytes += data.length
        m.pending = kept
        return pendingBytes <= maxOutOfOrder && kept.length <= MAX_PENDING_SEGMENTS
      }

      const flush = (m: Incoming): void => {
        while (m.pending.length > 0) {
          const s = m.pending[0] as Segment
          if (s.offset > m.delivered) break
          m.pending.shift()
          pendingBytes -= s.data.length
          const sEnd = s.offset + s.data.length
          if (sEnd > m.delivered) deliver(m, m.delivered, s.data.subarray(m.delivered - s.offset))
        }
      }

      const onPiece = (piece: SendPiece): void => {
        const { head } = piece
        const id = head.messageId
        if (piece.bodiless) {
          // Binding SENDs and keep-alives carry no message (C-5.4-3, W-6-3): answered, nothing delivered.
          if (piece.end !== undefined) emit({ type: 'chunk', head, status: 200, received: 0 })
          return
        }
        if (answered.has(head.transactionId)) {
          if (piece.end !== undefined) answered.delete(head.transactionId)
          return
        }
        const done = finished.get(id)
        if (done !== undefined) {
          if (done === 200) {
            if (piece.end !== undefined) {
              emit({ type: 'duplicate', messageId: id, head })
              emit({ type: 'chunk', head, status: 200, received: piece.position + piece.data.length })
            }
          } else {
            answered.add(head.transactionId)
            emit({ type: 'chunk', head, status: done, received: piece.position + piece.data.length })
            if (piece.end !== undefined) answered.delete(head.transactionId)
          }
          return
        }
        const range = head.byteRange
        const declared = typeof range.total === 'number' ? range.total : undefined
        let m = open.get(id)
        if (m === undefined) {
          if (declared !== undefined && declared > maxMessage) {
            return fail(piece, 'TooLarge', `Byte-Range total ${declared} exceeds ${maxMessage} bytes`)
          }
          if (open.size >= maxOpen) {
            return fail(piece, 'TooManyMessages', `more than ${maxOpen} messages at once`)
          }
          // RFC 4975 §5.4 (C-5.4-12): a message cut on an earlier connection may be resent from where it stopped,
          // with its Message-ID. Only the application knows which bytes it holds, so it decides.
          const continuation = acceptContinuation !== undefined && range.start > 1
          if (continuation && !accepts(acceptContinuation, head)) {
            return fail(piece, 'ContinuationRefused', `a continuation from byte ${range.start} was refused`)
          }
          m = { messageId: id, delivered: continuation ? range.start - 1 : 0, total: declared, pending: [] }
          open.set(id, m)
          emit(
            continuation
              ? { type: 'start', messageId: id, head, total: declared, firstByte: range.start }
              : { type: 'start', messageId: id, head, total: declared }
          )
        }
        const offset = range.start - 1 + piece.position
        const endAt = offset + piece.data.length
        if (endAt > maxMessage) return fail(piece, 'TooLarge', `the message exceeds ${maxMessage} bytes`)
        if (m.total !== undefined && endAt > m.total) {
          return fail(piece, 'BeyondTotal', `bytes up to ${endAt} go past the total ${m.total}`, 400)
        }
        if (!place(m, offset, piece.data)) {
          return fail(piece, 'OutOfOrderLimit', `more than ${maxOutOfOrder} bytes wait for a gap to fill`)
        }
        if (piece.end === undefined) return
        emit({ type: 'chunk', head, status: 200, received: piece.position + piece.data.length })
        if (piece.end === '#') {
          emit({ type: 'aborted', messageId: id, received: m.delivered, reason: 'Aborted' })
          for (const s of m.pending) pendingBytes -= s.data.length
          open.delete(id)
          return
        }
        if (piece.end === '$') m.total = endAt // the `$` chunk ends the message (C-7.3.1)
        if (m.total !== undefined && m.delivered === m.total) {
          emit({ type: 'complete', messageId: id, size: m.total, head })
          finish(id, 200)
        }
      }

      const lose = (): void => {
        for (const m of open.values()) {
          emit({ type: 'aborted', messageId: m.messageId, received: m.delivered, reason: 'ConnectionLost' })
        }
        open.clear()
      }

      const subscription = source.subscribe({
        next: onPiece,
        error: (err: unknown) => {
          lose()
          subscriber.error(err)
        },
        complete: () => {
          lose()
          subscriber.complete()
        }
      })
      return () => {
        subscription.unsubscribe()
        open.clear()
        finished.clear()
        answered.clear()
      }
    })
}

/**
 * The application's decision on a continuation. A predicate that throws refuses the message: one message fails with a
 * status (tier 2, STYLE.md §4) rather than the reassembly of the whole session. @internal
 */
function accepts(predicate: (head: SendHead) => boolean, head: SendHead): boolean {
  try {
    return predicate(head) === true
  } catch {
    return false
  }
}
