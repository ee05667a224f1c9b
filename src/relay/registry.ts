/**
 * The URIs a relay issued in Use-Path, each bound to the connection its AUTH arrived on (RFC 4976 §6.3,
 * rfc4976-relays.md §5.3 item 2).
 *
 * - R-6.3-8: the session-id of each issued URI is {@link newSessionId}, 119 cryptographically random bits (≥ 64).
 * - R-6.3-6: a URI is valid only over its connection; `dropConnection` invalidates all of a connection's URIs when it
 *   closes, so a reopened connection never inherits them.
 * - R-6.3-7: a URI is invalid from its expiry on: `lookup` answers `undefined` for it (the forwarding core then
 *   refuses the request, R-6.3-9).
 *
 * Memory is bounded: at most `maxBindings` live bindings. Expired bindings are swept lazily, and always before a
 * new binding is refused, so expired ones are the first to go; when every binding is live the registry is `full`
 * and the AUTH handler answers 403 rather than evicting a URI some session is using.
 *
 * ```ts
 * const registry = createRegistry()
 * const binding = registry.issue(connection, 'alice', 1800) // msrps://relay.example.com:2855/<20 base62>;tcp
 * registry.lookup(binding.sessionId) // the binding, until it expires or the connection closes
 * ```
 */
import { newSessionId } from '../wire/ids'
import type { MsrpUri } from '../wire/uri'
import type { Binding, Registry, RelayConnection } from './types'

/**
 * Default bound on live bindings: 100 000. Each costs a few hundred bytes (the URI, two map entries), so the
 * registry stays in the tens of megabytes however many AUTHs arrive.
 */
export const REGISTRY_MAX_BINDINGS = 100_000

/** Attempts at drawing a session-id that no live binding uses (a repeat of 119 random bits is never expected). */
export const REGISTRY_SESSION_ID_ATTEMPTS = 8

/** Options of {@link createRegistry}. Every field is optional. */
export interface RegistryOptions {
  /** Live bindings kept at most. Default {@link REGISTRY_MAX_BINDINGS}. */
  readonly maxBindings?: number
  /** Clock in epoch milliseconds. Default `Date.now`; inject a fake one in tests. */
  readonly now?: () => number
  /** Session-id generator. Default {@link newSessionId} (20 base62 characters, 119 random bits, R-6.3-8). */
  readonly newSessionId?: () => string
}

/** The in-memory {@link Registry}, with its bound. */
export interface MemoryRegistry extends Registry {
  readonly maxBindings: number
}

/**
 * An in-memory {@link Registry} (RFC 4976 §6.3). `lookup`, `issue` and `dropConnection` cost O(1) per binding
 * concerned; sweeping the expired bindings costs O(n) but runs only once some binding may have expired.
 *
 * `issue(connection, user, expiresSec, existing?)`:
 * - the new URI is `connection.relayUri` with a fresh session-id (the AUTH handler passes a connection whose
 *   `relayUri` is the base it chose, see `AuthHandlerOptions.useUri`);
 * - with `existing`, a live binding of that URI for the same connection and user is refreshed: same URI, expiry
 *   moved to `now + expiresSec` (shortened too, if the client asked for less). A URI that is gone, expired, bound to
 *   another connection or another user is never handed over: a fresh URI is issued instead;
 * - throws a `RangeError` on a programmer error: `expiresSec` negative or not finite, or a new binding requested
 *   while `full` (check `full` first), or the session-id generator repeating itself.
 *
 * Throws a `RangeError` when `maxBindings` is not a positive integer.
 */
export function createRegistry(options: RegistryOptions = {}): MemoryRegistry {
  const maxBindings = options.maxBindings ?? REGISTRY_MAX_BINDINGS
  const now = options.now ?? Date.now
  const generate = options.newSessionId ?? newSessionId
  if (!Number.isSafeInteger(maxBindings) || maxBindings < 1)
    throw new RangeError(`createRegistry: maxBindings must be a positive integer, got ${maxBindings}`)

  const bindings = new Map<string, Binding>()
  /** Session-ids of each connection's bindings, for `dropConnection` (R-6.3-6). */
  const byConnection = new Map<string, Set<string>>()
  /** No binding expires before this (a lower bound: refreshes only move expiries later). */
  let earliestExpiryMs = Infinity

  // R-6.3-7: a binding is invalid from its expiry on.
  const isExpired = (b: Binding, t: number): boolean => t >= b.expiresAtMs

  const remove = (b: Binding): void => {
    bindings.delete(b.sessionId)
    const ids = byConnection.get(b.connectionId)
    if (ids === undefined) return
    ids.delete(b.sessionId)
    if (ids.size === 0) byConnection.delete(b.connectionId)
  }

  const add = (b: Binding): void => {
    bindings.set(b.sessionId, b)
    const ids = byConnection.get(b.connectionId)
    if (ids === undefined) byConnection.set(b.connectionId, new Set([b.sessionId]))
    else ids.add(b.sessionId)
    if (b.expiresAtMs < earliestExpiryMs) earliestExpiryMs = b.expiresAtMs
  }

  /** Removes every expired binding, once one may have expired; then the exact earliest expiry is known again. */
  const sweep = (t: number): void => {
    if (t < earliestExpiryMs) return
    let earliest = Infinity
    // Deleting the entry being visited is safe while iterating a Map.
    for (const b of bindings.values()) {
      if (isExpired(b, t)) remove(b)
      else if (b.expiresAtMs < earliest) earliest = b.expiresAtMs
    }
    earliestExpiryMs = earliest
  }

  const isFull = (t: number): boolean => {
    sweep(t)
    return bindings.size >= maxBindings
  }

  return {
    maxBindings,
    get size() {
      sweep(now())
      return bindings.size
    },
    get full() {
      return isFull(now())
    },
    issue(connection: RelayConnection, user: string, expiresSec: number, existing?: MsrpUri): Binding {
      if (!(expiresSec >= 0) || !Number.isFinite(expiresSec))
        throw new RangeError(`registry.issue: expiresSec must be a finite number ≥ 0, got ${expiresSec}`)
      const t = now()
      const expiresAtMs = t + expiresSec * 1000
      const held = existing?.sessionId === undefined ? undefined : bindings.get(existing.sessionId)
      if (held !== undefined && !isExpired(held, t) && held.connectionId === connection.id && held.user === user) {
        const refreshed: Binding = { ...held, expiresAtMs }
        remove(held)
        add(refreshed)
        return refreshed
      }
      if (isFull(t)) throw new RangeError(`registry.issue: the registry is full (${maxBindings}); check full first`)
      for (let attempt = 0; attempt < REGISTRY_SESSION_ID_ATTEMPTS; attempt++) {
        const sessionId = generate()
        const taken = bindings.get(sessionId)
        if (taken !== undefined && !isExpired(taken, t)) continue
        if (taken !== undefined) remove(taken)
        // R-6.3-8: the only secret in the URI is its random session-id; the rest names the relay.
        const binding: Binding = {
          uri: { ...connection.relayUri, sessionId },
          sessionId,
          connectionId: connection.id,
          user,
          expiresAtMs
        }
        add(binding)
        return binding
      }
      throw new RangeError(`registry.issue: no unused session-id in ${REGISTRY_SESSION_ID_ATTEMPTS} attempts`)
    },
    lookup(sessionId: string): Binding | undefined {
      const b = bindings.get(sessionId)
      if (b === undefined) return undefined
      if (isExpired(b, now())) {
        remove(b)
        return undefined
      }
      return b
    },
    dropConnection(connectionId: string): void {
      // R-6.3-6: the URIs of a client die with the connection their AUTH arrived on.
      const ids = byConnection.get(connectionId)
      if (ids === undefined) return
      for (const id of ids) bindings.delete(id)
      byConnection.delete(connectionId)
    }
  }
}
