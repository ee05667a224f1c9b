/**
 * The relay's routing extension point (DESIGN.md layer 5): a `Router` is an rxjs operator from the requests the relay
 * must place to decisions: forward to a next hop, deliver to a local handler, or reject with a status. The relay core
 * has no routing policy of its own; {@link defaultRouter} is RFC 4976's (§6.4, rfc4976-relays.md §5.4).
 *
 * ```text
 * requests:  -a--b--c-|          a from Alice's own connection, b towards Alice, c names no URI we issued
 * decisions: -A--B--C-|          A = forward to a's next To-Path URI, B = forward on Alice's connection, C = reject 481
 * ```
 *
 * Custom routers compose with the default: decide what you care about, hand the rest to {@link route}:
 *
 * ```ts
 * const noSpam: Router = map((r) => (isSpam(r) ? reject(r, 415, 'SpamRefused') : route(r)))
 * ```
 */
import { map, type Observable, type OperatorFunction } from 'rxjs'
import type { SendHead } from '../wire/chunk'
import type { RequestHead } from '../wire/model'
import type { Path } from '../wire/headers/path'
import type { MsrpUri } from '../wire/uri'
import type { Binding, RelayConnection } from './types'

/** A request the relay must place: everything a routing policy looks at. */
export interface RouteRequest {
  /** Correlation id: the decision for this request carries the same `id`. Unique per relay. */
  readonly id: number
  /** The request as it arrived (paths not rewritten yet; for a streamed SEND, the head only). */
  readonly head: RequestHead
  readonly toPath: Path
  readonly fromPath: Path
  /** The validated head of a SEND; `undefined` for other methods. */
  readonly send: SendHead | undefined
  /** The connection the request arrived on. */
  readonly connection: RelayConnection
  /**
   * The live binding of the first To-Path URI (the URI this relay issued in a Use-Path, compared per RFC 4975 §6.1),
   * or `undefined` when that URI is unknown, expired, or not one of ours.
   */
  readonly binding: Binding | undefined
  /**
   * How many of this relay's own URIs were already popped from this request: 0 when it just arrived, 1 or more when
   * the relay routes it again because the next URI was also one of its own (two clients of one relay, RFC 7977 §8.3).
   * A router that counts requests (a rate limiter) counts those with `internalHops === 0` only.
   */
  readonly internalHops: number
}

/** Where a forwarded request goes. */
export type NextHop =
  /** Over this relay connection (a binding's connection: the client that obtained the URI). */
  | { readonly kind: 'connection'; readonly connectionId: string }
  /** To this URI (another relay, a peer endpoint, or one of our own URIs): an existing connection, or a new one. */
  | { readonly kind: 'uri'; readonly uri: MsrpUri }

/** A request delivered to a local handler instead of being forwarded. */
export interface LocalDelivery {
  readonly request: RouteRequest
  /**
   * The body as it arrives, in pieces (views of the reads: copy what you keep), then completes at the end-line;
   * empty for a bodiless request. Hot: subscribe synchronously inside the handler.
   */
  readonly body$: Observable<Uint8Array>
}

/** Takes a delivered request. Called once per request; must not throw (a throw is caught and logged as refused). */
export type LocalHandler = (delivery: LocalDelivery) => void

/** What to do with a request. */
export type RouteDecision =
  | { readonly kind: 'forward'; readonly id: number; readonly nextHop: NextHop }
  | { readonly kind: 'deliver'; readonly id: number; readonly handler: LocalHandler }
  | {
      readonly kind: 'reject'
      readonly id: number
      /** The MSRP status answered (when the request is answerable) and put in the `refused` event. */
      readonly status: number
      /** PascalCase, for the `refused` event, e.g. `UnknownUri`. */
      readonly reason: string
      /** The response's comment; default the status's reason phrase. */
      readonly comment?: string
    }

/**
 * The routing operator: one decision per request, in any order, synchronously or later (an asynchronous decision
 * pauses reading the request's connection until it arrives). A router that errors fails the requests it holds.
 */
export type Router = OperatorFunction<RouteRequest, RouteDecision>

/** A forward decision for `request`. */
export const forward = (request: RouteRequest, nextHop: NextHop): RouteDecision => ({
  kind: 'forward',
  id: request.id,
  nextHop
})

/** A deliver decision for `request`. */
export const deliver = (request: RouteRequest, handler: LocalHandler): RouteDecision => ({
  kind: 'deliver',
  id: request.id,
  handler
})

/** A reject decision for `request`. */
export const reject = (request: RouteRequest, status: number, reason: string, comment?: string): RouteDecision => ({
  kind: 'reject',
  id: request.id,
  status,
  reason,
  ...(comment !== undefined ? { comment } : {})
})

/**
 * RFC 4976's policy for one request (§6.4, R-6.4-1, R-3.1-1: no open relay):
 * 1. the first To-Path URI must be a live URI this relay issued (a binding), else **481** (`UnknownUri`, R-6.3-9);
 * 2. a URI must follow it, else **403** (`NoNextHop`: a request to the issued URI itself goes nowhere);
 * 3. a request that arrived on the binding's own connection comes from the client that obtained the URI: forward to
 *    the next To-Path URI;
 * 4. any other request goes towards that client: forward on the binding's connection, whatever To-Path names next
 *    (a third party knowing the URI can reach its owner, nobody else).
 */
export function route(request: RouteRequest): RouteDecision {
  const binding = request.binding
  if (binding === undefined) return reject(request, 481, 'UnknownUri')
  const next = request.toPath[1]
  if (next === undefined) return reject(request, 403, 'NoNextHop')
  if (binding.connectionId === request.connection.id) return forward(request, { kind: 'uri', uri: next })
  return forward(request, { kind: 'connection', connectionId: binding.connectionId })
}

/** The default router: {@link route} for every request, synchronously. */
export function defaultRouter(): Router {
  return map(route)
}
