/**
 * The relay's contracts (RFC 4976): what a relay connection is, the registry of the URIs it issued in Use-Path,
 * the credential store and the AUTH handler. The forwarding core (relay.ts) and the AUTH side (auth.ts,
 * registry.ts, credentials.ts) meet here and nowhere else.
 *
 * Stores that a cluster would share (credentials) are asynchronous and injectable (DESIGN.md "Growing past one
 * machine"). The registry is synchronous on purpose: a URI issued to a client is valid only over the connection
 * its AUTH arrived on (RFC 4976 §6.3, see rfc4976-relays.md §5.3), so it is local to the node that holds that
 * connection, and it is looked up for every forwarded frame.
 */
import type { Observable } from 'rxjs'
import type { MsrpRequest, MsrpResponse } from '../wire/model'
import type { MsrpUri } from '../wire/uri'
import type { DigestReason } from '../wire/failures'
import type { Transport } from '../transport/transport'

/** One transport accepted or opened by the relay. */
export interface RelayConnection {
  /** Unique per relay instance, e.g. `c1`, `c2`; used as the registry key and in logs. */
  readonly id: string
  readonly transport: Transport
  /**
   * Who the peer is, when the connection already proved it: a WebSocket handshake hook accepted a cookie or token
   * (RFC 7977 §5.3.1: AUTH then succeeds without a Digest challenge), or a TLS client certificate of a relay
   * (RFC 4976 §6.3). `undefined` for an anonymous connection.
   */
  readonly identity: string | undefined
  /** The relay's own URI on the listener this connection came through (no session-id), e.g. `msrp://h:2855;tcp`. */
  readonly relayUri: MsrpUri
}

/** A URI the relay issued in a Use-Path, bound to the connection of the client it authenticated. */
export interface Binding {
  /** The issued URI (≥ 64 random bits in its session-id, R-5.3-… of rfc4976-relays.md §5.3). */
  readonly uri: MsrpUri
  readonly sessionId: string
  /** The connection the AUTH arrived on: the only one the client may use with this URI. */
  readonly connectionId: string
  /** The authenticated user (or handshake identity). */
  readonly user: string
  /** Epoch milliseconds after which the binding is invalid. */
  readonly expiresAtMs: number
}

/** The URIs a relay issued, each bound to one connection (RFC 4976 §6.3). In memory, bounded, synchronous. */
export interface Registry {
  /** Issues a fresh URI for `connection` valid `expiresSec` seconds, or refreshes `existing` (same URI). */
  issue(connection: RelayConnection, user: string, expiresSec: number, existing?: MsrpUri): Binding
  /** The live binding of a session-id, `undefined` if unknown or expired (then 481 for the sender). */
  lookup(sessionId: string): Binding | undefined
  /** Forgets every binding of a connection (called when it closes: the URIs are invalidated). */
  dropConnection(connectionId: string): void
  /** Number of live bindings. */
  readonly size: number
  /**
   * Whether `issue` cannot create a new binding now (as many live bindings as the registry's bound, once the expired
   * ones are swept). A refresh of a live binding still works. The AUTH handler then answers 403 (`RegistryFull`).
   */
  readonly full: boolean
}

/** A user's secret as a store keeps it: a plain password or its HA1 (MD5 of `user:realm:password`). */
export type StoredSecret = { readonly password: string } | { readonly ha1: string }

/** Where AUTH finds users. Asynchronous, so a database or a shared store can implement it. */
export interface CredentialStore {
  /** The secret of `username` in `realm`, or `undefined` for an unknown user. */
  lookup(username: string, realm: string): Promise<StoredSecret | undefined>
}

/** What the AUTH handler decided for one AUTH request addressed to this relay. */
export interface AuthOutcome {
  /** The response to send back on the AUTH's connection (200 with Use-Path, 401, 403, 423 …). */
  readonly response: MsrpResponse
  /** The binding created or refreshed by a 200. */
  readonly binding?: Binding
  /** Close the connection after writing the response (too many failed attempts: 403 then close). */
  readonly close: boolean
  /** Why the response is not a 200, for the `auth` event; absent on a 200. */
  readonly reason?: AuthFailureReason
  /** Who the AUTH claimed or proved to be (Digest username or connection identity), when known. */
  readonly user?: string
}

/**
 * Why an AUTH was not answered 200 (docs/relay-auth.md lists each with its status): a Digest failure of
 * `verifyCredentials` (401, `stale=true` for `StaleNonce`), or one of the relay's own reasons.
 */
export type AuthFailureReason =
  | DigestReason
  /** 401: the AUTH carried no Authorization (the usual first AUTH, R-5.1-5). */
  | 'NoCredentials'
  /** 400: To-Path, From-Path, Authorization or Expires is missing where required, duplicated or malformed. */
  | 'HeaderInvalid'
  /** 403: authenticated, but the `authorize` policy refused the user (R-6.3-3). */
  | 'NotAuthorized'
  /** 423 with Min-Expires: the requested Expires is below the minimum (R-6.3-4). */
  | 'ExpiresTooLow'
  /** 423 with Max-Expires: the requested Expires is above the maximum (R-6.3-4). */
  | 'ExpiresTooHigh'
  /** 403: the registry holds its maximum of live bindings. */
  | 'RegistryFull'
  /** 403 and close: the connection reached its bound of failed AUTHs (R-6.3-11, R-6.1-3). */
  | 'TooManyFailures'
  /** 408: the credential store or the `authorize` policy failed (rejected); the client may retry later. */
  | 'BackendFailed'
  /** 403 and close: the connection was forgotten while its AUTH was being checked (it has closed). */
  | 'ConnectionClosed'

/** Answers AUTH requests addressed to this relay (RFC 4976 §6.3). */
export interface AuthHandler {
  handle(request: MsrpRequest, connection: RelayConnection): Promise<AuthOutcome>
  /** Forgets per-connection state (failed attempt counts) of a closed connection. */
  forget(connectionId: string): void
}

/** What happened at the relay, for embedders, logs and metrics. */
export type RelayEvent =
  | { readonly type: 'connection'; readonly connectionId: string; readonly kind: string; readonly remote: string }
  | { readonly type: 'disconnection'; readonly connectionId: string; readonly reason: string }
  | {
      readonly type: 'auth'
      readonly connectionId: string
      readonly user: string | undefined
      readonly status: number
      /** Why a non-200 was sent, e.g. `StaleNonce`, `BadResponse`, `ExpiresTooLow`. */
      readonly reason?: string
    }
  | {
      readonly type: 'forwarded'
      readonly connectionId: string
      readonly to: string
      readonly method: string
      readonly bytes: number
    }
  | {
      readonly type: 'refused'
      readonly connectionId: string
      readonly method: string
      readonly status: number
      readonly reason: string
    }
  | { readonly type: 'report'; readonly connectionId: string; readonly status: number; readonly messageId: string }

/** A source of relay events. */
export interface RelayEvents {
  readonly events$: Observable<RelayEvent>
}
