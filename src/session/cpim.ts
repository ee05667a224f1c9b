/**
 * message/cpim at the session level (RFC 4975 §13, rfc4975-core.md §11): `sendCpim` wraps content before it is
 * chunked (C-13-4) and sends it; `receiveCpim` / `unwrapMessages` collect an incoming message and take a CPIM
 * wrapper off it, so that an application sees who sent what whether or not the message was wrapped.
 *
 * ```ts
 * sendCpim(alice, 'Hi', { cpim: { from: 'sip:alice@example.com', to: 'sip:bob@example.com' } }).subscribe()
 * bob.messages$.pipe(unwrapMessages()).subscribe((r) => E.isRight(r) && console.log(r.right.cpim?.envelope.from))
 * ```
 */
import * as E from 'fp-ts/Either'
import { defer, from, mergeMap, throwError, type Observable, type OperatorFunction } from 'rxjs'
import { CPIM_CONTENT_TYPE, type CpimFailure } from '../cpim/cpim'
import type { CpimBuildOptions } from '../cpim/envelope'
import {
  planWrapping,
  unwrapCpim,
  wrapCpim,
  type AcceptLists,
  type UnwrapOptions,
  type UnwrappedCpim
} from '../cpim/wrap'
import { mediaTypeMatches } from '../wire/headers/content-type'
import { COLLECT_MAX_BYTES, MessageIncompleteError, type IncomingMessage } from './incoming'
import type { MsrpSession, SendEvent, SendOptions } from './session'

/** A CPIM failure on the error channel of `sendCpim` (STYLE.md §4, tier 3): the message was not sent. */
export class CpimError extends Error {
  override readonly name = 'CpimError'
  constructor(readonly failure: CpimFailure) {
    super(`${failure.reason}: ${failure.detail}`)
  }
}

export interface CpimSendOptions extends Omit<SendOptions, 'contentType' | 'size'> {
  /** The CPIM headers: From and To at least (C-13-6). */
  readonly cpim: Omit<CpimBuildOptions, 'contentType'>
  /** The type of the wrapped content. Default: `text/plain;charset=utf-8` for strings, else `application/octet-stream`. */
  readonly contentType?: string
  /**
   * The peer's accept lists (its SDP): when given, `planWrapping` decides, so content the peer takes at top level is
   * sent plain (unless it lists message/cpim first, or `wrap` is true), and a type it does not take fails with
   * `TypeNotAccepted`. Default: always wrap.
   */
  readonly peer?: AcceptLists
  /** With `peer`: wrap even when the peer takes the type at top level. */
  readonly wrap?: boolean
}

/**
 * Sends `content` wrapped in message/cpim (RFC 4975 §13): the whole content is wrapped first, then chunked
 * (C-13-4). The events are those of `session.send`; a CPIM failure (a bad address, a type the peer does not accept)
 * errors with a `CpimError` before anything is written.
 */
export function sendCpim(
  session: MsrpSession,
  content: string | Uint8Array,
  options: CpimSendOptions
): Observable<SendEvent> {
  return defer(() => {
    const { cpim, contentType: inner, peer, wrap, ...send } = options
    const contentType = inner ?? (typeof content === 'string' ? 'text/plain;charset=utf-8' : 'application/octet-stream')
    if (peer !== undefined) {
      const plan = planWrapping(contentType, peer, wrap === true ? { wrap } : {})
      if (E.isLeft(plan)) return throwError(() => new CpimError(plan.left))
      if (plan.right === 'plain') return session.send(content, { ...send, contentType })
    }
    const wrapped = wrapCpim(content, { ...cpim, contentType })
    if (E.isLeft(wrapped)) return throwError(() => new CpimError(wrapped.left))
    return session.send(wrapped.right, { ...send, contentType: CPIM_CONTENT_TYPE })
  })
}

/** An incoming message as the application reads it: its content, unwrapped when it came in message/cpim. */
export interface ReceivedMessage {
  readonly message: IncomingMessage
  /** The CPIM wrapper (envelope, inner headers), when the message was message/cpim. */
  readonly cpim: UnwrappedCpim | undefined
  /** The type of the content: the inner Content-Type of a CPIM message, else the message's. */
  readonly contentType: string
  /** The content: the inner body of a CPIM message, else the whole body. */
  readonly body: Uint8Array
}

/**
 * A message whose content could not be collected: it did not complete (aborted, cut, refused:
 * `MessageIncompleteError`), or it is larger than `maxBytes` (`RangeError`, the rest discarded).
 */
export interface MessageUncollected {
  readonly _tag: 'MessageUncollected'
  readonly message: IncomingMessage
  readonly error: MessageIncompleteError | RangeError
}

export interface ReceiveCpimOptions extends UnwrapOptions {
  /** Most bytes collected per message. Default `COLLECT_MAX_BYTES`. */
  readonly maxBytes?: number
}

/**
 * Collects `message` and, when it is message/cpim, unwraps it (`unwrapCpim`: envelope, Require, and with
 * `options.accept` the inner type checked against accept-types / accept-wrapped-types, RFC 4975 §8.6).
 * Resolves to a `CpimFailure` for a CPIM object that does not decode; rejects as `collect()` does.
 */
export async function receiveCpim(
  message: IncomingMessage,
  options: ReceiveCpimOptions = {}
): Promise<E.Either<CpimFailure, ReceivedMessage>> {
  const bytes = await message.collect(options.maxBytes ?? COLLECT_MAX_BYTES)
  if (!mediaTypeMatches(message.contentType, CPIM_CONTENT_TYPE)) {
    return E.right({ message, cpim: undefined, contentType: message.contentType, body: bytes })
  }
  const cpim = unwrapCpim(bytes, options)
  if (E.isLeft(cpim)) return cpim
  return E.right({ message, cpim: cpim.right, contentType: cpim.right.contentType, body: cpim.right.body })
}

/**
 * `session.messages$.pipe(unwrapMessages())`: each incoming message collected and unwrapped (`receiveCpim`), in
 * the order they complete. A message that does not decode, does not complete or is too large is a `left`, never dropped.
 */
export function unwrapMessages(
  options: ReceiveCpimOptions = {}
): OperatorFunction<IncomingMessage, E.Either<CpimFailure | MessageUncollected, ReceivedMessage>> {
  return mergeMap((message) =>
    from(
      receiveCpim(message, options).catch(
        (error: unknown): E.Either<CpimFailure | MessageUncollected, ReceivedMessage> => {
          if (error instanceof MessageIncompleteError || error instanceof RangeError) {
            return E.left({ _tag: 'MessageUncollected', message, error })
          }
          throw error
        }
      )
    )
  )
}
