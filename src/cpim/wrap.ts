/**
 * Wrapping content in message/cpim and unwrapping it (RFC 4975 §8.6, §13; rfc4975-core.md §8.5, §11), and the
 * decisions that follow from a session's `accept-types` and `accept-wrapped-types`.
 *
 * ```ts
 * wrapCpim('Hi', { from: 'sip:alice@example.com', to: 'sip:bob@example.com', contentType: 'text/plain' }) // bytes
 * unwrapCpim(bytes) // right({ envelope, contentType: 'text/plain', contentHeaders, body, message })
 * planWrapping('text/html', { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['*'] }) // right('wrap')
 * ```
 */
import * as E from 'fp-ts/Either'
import { mediaTypeMatches } from '../wire/headers/content-type'
import type { Header } from '../wire/model'
import {
  CPIM_CONTENT_TYPE,
  cpimContentHeader,
  cpimFailure,
  decodeCpim,
  encodeCpim,
  type CpimDecodeOptions,
  type CpimFailure,
  type CpimMessage
} from './cpim'
import { buildCpim, readEnvelope, type CpimBuildOptions, type CpimEnvelope, type ReadEnvelopeOptions } from './envelope'

/** The accept lists of the peer that will receive a message (its SDP, RFC 4975 §8.6), as plain strings. */
export interface AcceptLists {
  /** `a=accept-types`: `*`, `type/*` or `type/subtype` entries. */
  readonly acceptTypes: readonly string[]
  /** `a=accept-wrapped-types`: types accepted only inside a container listed in accept-types. Default: none. */
  readonly acceptWrappedTypes?: readonly string[]
}

/** Whether a CPIM object is acceptable by `lists`: message/cpim is in accept-types (explicitly, `message/*` or `*`). */
export function acceptsCpim(lists: AcceptLists): boolean {
  return lists.acceptTypes.some((p) => mediaTypeMatches(CPIM_CONTENT_TYPE, p))
}

/** Whether `lists` lists message/cpim first: the peer is a CPIM gateway, and IM bodies SHOULD be wrapped (C-13-2). */
export function prefersCpim(lists: AcceptLists): boolean {
  const first = lists.acceptTypes[0]
  return first !== undefined && first !== '*' && mediaTypeMatches(CPIM_CONTENT_TYPE, first)
}

/**
 * How to send content of `contentType` to a peer with these accept lists (RFC 4975 §8.6, §13):
 * - `plain` when accept-types takes it at top level, unless the peer lists message/cpim first (C-13-2) or
 *   `options.wrap` asks for CPIM;
 * - `wrap` when a message/cpim container is acceptable and the type is in accept-types or accept-wrapped-types;
 * - `TypeNotAccepted` otherwise: an endpoint MUST NOT send a type its peer did not signal.
 * A message/cpim body itself is always sent `plain` (no double wrapping).
 */
export function planWrapping(
  contentType: string,
  lists: AcceptLists,
  options: { readonly wrap?: boolean } = {}
): E.Either<CpimFailure, 'plain' | 'wrap'> {
  const topLevel = lists.acceptTypes.some((p) => mediaTypeMatches(contentType, p))
  if (mediaTypeMatches(contentType, CPIM_CONTENT_TYPE)) {
    return topLevel ? E.right('plain') : E.left(notAccepted(contentType, 'at top level'))
  }
  const wrapped =
    acceptsCpim(lists) && (topLevel || (lists.acceptWrappedTypes ?? []).some((p) => mediaTypeMatches(contentType, p)))
  if (wrapped && (options.wrap === true || prefersCpim(lists) || !topLevel)) return E.right('wrap')
  if (topLevel) return E.right('plain')
  return E.left(notAccepted(contentType, 'at top level or inside message/cpim'))
}

/**
 * Whether a received CPIM object's inner `contentType` is acceptable to a session with these accept lists
 * (RFC 4975 §8.6): types of accept-types may appear wrapped, types of accept-wrapped-types only wrapped.
 */
export function acceptsWrapped(contentType: string, lists: AcceptLists): boolean {
  return [...lists.acceptTypes, ...(lists.acceptWrappedTypes ?? [])].some((p) => mediaTypeMatches(contentType, p))
}

/** @internal */
const notAccepted = (type: string, where: string): CpimFailure =>
  cpimFailure('TypeNotAccepted', `${type} is not accepted ${where} (RFC 4975 §8.6)`)

/**
 * Wraps `content` in a CPIM object (RFC 3862, RFC 4975 §13): the bytes of a `message/cpim` body, to be sent whole
 * and chunked afterwards (C-13-4). From and To are required (C-13-6); see `CpimBuildOptions`.
 */
export function wrapCpim(content: Uint8Array | string, options: CpimBuildOptions): E.Either<CpimFailure, Uint8Array> {
  const message = buildCpim(content, options)
  return E.isLeft(message) ? message : E.right(encodeCpim(message.right))
}

/** A CPIM object taken apart: who sent it to whom, and the content it carries. */
export interface UnwrappedCpim {
  readonly envelope: CpimEnvelope
  /** The inner Content-Type, unfolded. */
  readonly contentType: string
  /** Every inner MIME header, Content-Type included. */
  readonly contentHeaders: readonly Header[]
  /** The inner body (a view of the input). */
  readonly body: Uint8Array
  /** The decoded object, headers as written. */
  readonly message: CpimMessage
}

export interface UnwrapOptions extends CpimDecodeOptions, ReadEnvelopeOptions {
  /** The receiving session's accept lists: an inner type they do not take fails with `TypeNotAccepted`. */
  readonly accept?: AcceptLists
}

/**
 * Takes a CPIM object apart (RFC 3862, RFC 4975 §13): decodes it, reads its envelope (From, To, namespaces,
 * Require) and, given `options.accept`, checks the inner type against accept-types and accept-wrapped-types.
 */
export function unwrapCpim(bytes: Uint8Array, options: UnwrapOptions = {}): E.Either<CpimFailure, UnwrappedCpim> {
  const message = decodeCpim(bytes, options)
  if (E.isLeft(message)) return message
  const envelope = readEnvelope(message.right, options)
  if (E.isLeft(envelope)) return envelope
  const contentType = cpimContentHeader(message.right, 'Content-Type') ?? ''
  if (options.accept !== undefined && !acceptsWrapped(contentType, options.accept)) {
    return E.left(notAccepted(contentType, 'inside message/cpim'))
  }
  return E.right({
    envelope: envelope.right,
    contentType,
    contentHeaders: message.right.contentHeaders,
    body: message.right.body,
    message: message.right
  })
}
