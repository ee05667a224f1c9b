/**
 * Answers the AUTH requests addressed to this relay (RFC 4976 §5.1, §6.3, §9.1; RFC 7977 §5.3.1;
 * rfc4976-relays.md §5.3). The forwarding core decides that an AUTH is for this relay (its To-Path is exactly the
 * relay's own URI) and hands it here; nothing here forwards anything.
 *
 * ```text
 * AUTH (no Authorization) ─► 401 WWW-Authenticate: Digest realm, nonce, qop="auth"            R-5.1-5
 * AUTH (Authorization)    ─► 200 Use-Path, Authentication-Info (rspauth cnonce nc qop), Expires R-6.3-10, R-9.1-9
 *                            401 fresh challenge (stale=true when only the nonce had expired)   R-6.3-1
 *                            423 Min-Expires / Max-Expires                                       R-6.3-4
 *                            403 not authorized, registry full, too many failures (then close)   R-6.3-3, R-6.3-11
 * AUTH on a connection with an identity (WebSocket handshake, RFC 7977 §5.3.1) ─► 200 without a challenge
 * ```
 *
 * Responses are built with `responseTo` (RFC 4975 §7.2): same transaction id, To-Path = the AUTH's whole From-Path,
 * From-Path = the relay URI the AUTH was addressed to, as written (as in every RFC 4976 §10.3 / RFC 7977 §8 example).
 */
import * as E from 'fp-ts/Either'
import {
  computeHa1,
  createNonceStore,
  digestUriFromToPath,
  issueChallenge,
  verifyCredentials,
  type NonceStore
} from '../wire/digest'
import { formatAuthenticationInfo, formatDigestChallenge, type AuthenticationInfo } from '../wire/headers/digest-params'
import { decodeHeader, requireHeader } from '../wire/headers/index'
import { getHeader, type Header, type MsrpRequest } from '../wire/model'
import { responseTo } from '../wire/replies'
import { formatUri, type MsrpUri } from '../wire/uri'
import type {
  AuthFailureReason,
  AuthHandler,
  AuthOutcome,
  Binding,
  CredentialStore,
  Registry,
  RelayConnection
} from './types'

/**
 * Default lower bound on the Expires a client may ask for: 60 s. A URI must outlive the offer/answer exchange that
 * carries it, and a shorter one would make clients re-AUTH and re-negotiate (R-9.4-1) continuously. The RFC gives
 * no value (rfc4976-relays.md §6).
 */
export const AUTH_MIN_EXPIRES_SEC = 60

/**
 * Default upper bound on the Expires a client may ask for: 86 400 s (one day). The URI dies with its connection
 * anyway (R-6.3-6), so a long lifetime only spares re-negotiations; a day bounds how long a leaked URI stays usable.
 */
export const AUTH_MAX_EXPIRES_SEC = 86_400

/**
 * Default lifetime granted when the AUTH has no Expires: 1 800 s, the value of the RFC 4976 §10.3 example's final 200
 * (its first relay grants 900). Half an hour covers most chat sessions without a re-negotiation.
 */
export const AUTH_DEFAULT_EXPIRES_SEC = 1_800

/**
 * Default number of failed AUTHs in a row after which a connection is answered 403 and closed (R-6.3-11, R-6.1-3):
 * 5. The 5th failure is the one answered 403. A success resets the count.
 */
export const AUTH_MAX_FAILED = 5

/** Default for `issueNextNonce`: include `nextnonce` in Authentication-Info, as the RFC 4976 §10.3 relay does. */
export const AUTH_ISSUE_NEXT_NONCE = true

/** Options of {@link createAuthHandler}. `realm`, `credentials` and `registry` are required. */
export interface AuthHandlerOptions {
  /** The relay's protection space, sent in every challenge; its hostname is a reasonable choice (RFC 4976 §5.1). */
  readonly realm: string
  /** Where users and their secrets are found. */
  readonly credentials: CredentialStore
  /** Where issued URIs are bound to connections. */
  readonly registry: Registry
  /** Nonces issued in challenges. Default `createNonceStore()` (5 min lifetime, 10 000 nonces). */
  readonly nonceStore?: NonceStore
  /** Smallest Expires accepted; below it 423 with Min-Expires. Default {@link AUTH_MIN_EXPIRES_SEC}. */
  readonly minExpiresSec?: number
  /** Largest Expires accepted; above it 423 with Max-Expires. Default {@link AUTH_MAX_EXPIRES_SEC}. */
  readonly maxExpiresSec?: number
  /** Lifetime granted to an AUTH without Expires. Default {@link AUTH_DEFAULT_EXPIRES_SEC}. */
  readonly defaultExpiresSec?: number
  /** Failed AUTHs in a row before 403 and close (not on connections with an identity). Default {@link AUTH_MAX_FAILED}. */
  readonly maxFailedAuth?: number
  /**
   * The URI that other peers reach this client through, on which the issued URI is built (it gets a fresh
   * session-id). Default {@link defaultUseUri}: `connection.relayUri` with transport `tcp`, without userinfo or
   * parameters. A relay whose WebSocket listener is not its MSRP listener (RFC 7977 §8: AUTH on `:443;ws`, Use-Path
   * on `:2855;tcp`) returns the TCP/TLS listener's URI here. Use-Path URIs need an FQDN and a port (R-4.2-1).
   */
  readonly useUri?: (connection: RelayConnection) => MsrpUri
  /**
   * Whether an authenticated user may use this relay (R-6.3-3): `false` is answered 403. A rejected promise is
   * answered 408 (`BackendFailed`). Default: every authenticated user may.
   */
  readonly authorize?: (user: string, connection: RelayConnection) => boolean | Promise<boolean>
  /** Send `nextnonce` in Authentication-Info (RFC 2617 §3.2.3). Default {@link AUTH_ISSUE_NEXT_NONCE}. */
  readonly issueNextNonce?: boolean
  /** Clock for nonce staleness, epoch milliseconds. Default: the nonce store's clock. */
  readonly now?: () => number
}

/** `connection.relayUri` with transport `tcp`, no userinfo and no parameters: the default `useUri`. */
export function defaultUseUri(connection: RelayConnection): MsrpUri {
  const { scheme, host, port } = connection.relayUri
  return port === undefined
    ? { scheme, host, transport: 'tcp', params: [] }
    : { scheme, host, port, transport: 'tcp', params: [] }
}

/** @internal What the handler remembers per connection, until `forget`. */
interface ConnectionState {
  /** Failed AUTHs since the last success. */
  failures: number
  /** Session-id of the URI issued to each (user, From-Path), for refreshes. */
  readonly held: Map<string, string>
  /** `held` is pruned of dead bindings when it grows past this. */
  pruneAt: number
}

/** @internal How `refuse` answers: who asked, extra headers, whether it counts as a failure (default true). */
interface RefuseOptions {
  readonly user?: string | undefined
  readonly headers?: () => readonly Header[]
  readonly counted?: boolean
}

/** @internal `held` is pruned once it holds this many entries more than twice its live ones. */
const HELD_PRUNE_SLACK = 16

/** @internal The URIs of a path header as written (runs of spaces tolerated, as in `parsePath`). */
const pathTokens = (value: string | undefined): string[] => (value ?? '').split(' ').filter((u) => u !== '')

/**
 * An {@link AuthHandler} (RFC 4976 §6.3). For each AUTH, in order:
 *
 * 1. To-Path, From-Path, Authorization and Expires must decode, else 400 `HeaderInvalid`.
 * 2. Who: a connection with an `identity` whose AUTH comes straight from the client (From-Path of one URI) is that
 *    identity without a challenge (RFC 7977 §5.3.1, W-5.3.1-1, W-5.3.1-2). Otherwise Digest (R-9.1-1): no
 *    Authorization → 401 with a fresh challenge (R-5.1-5); Authorization checked by `verifyCredentials` against the
 *    store's secret (R-6.3-1) → 401 with a fresh challenge on any failure, `stale=true` for a good response on an
 *    expired nonce; an unknown user fails exactly like a wrong password. An AUTH that a relay forwarded (From-Path of
 *    several URIs) is always challenged: the far-end client must prove itself too (rfc4976-relays.md §5.3 item 1).
 * 3. `authorize(user)` false → 403 `NotAuthorized` (R-6.3-3).
 * 4. Expires below the minimum or above the maximum → 423 with Min-Expires or Max-Expires (R-6.3-4).
 * 5. The URI: a second success on the same connection for the same user and the same From-Path (the same client
 *    session) refreshes the URI it holds (same URI, new expiry); otherwise a fresh one (403 `RegistryFull` when the
 *    registry is full).
 * 6. 200 with Use-Path = the From-Path URIs before the client's own (relays already on the way) then the issued URI
 *    (rfc4976-relays.md §5.3 item 3, as in §10.3), Authentication-Info when Digest was used (R-9.1-9), Expires = the
 *    granted seconds (R-6.3-10).
 *
 * Every non-200 except a `stale=true` challenge and a 408 counts as a failure of the connection; the
 * `maxFailedAuth`-th failure in a row is answered 403 `TooManyFailures` with `close: true` (R-6.3-11, R-6.1-3), except
 * on a connection with an identity, which a relay does not drop for AUTH failures (R-6.3-12). Call `forget` when the
 * connection closes (and `registry.dropConnection`).
 *
 * Throws a `RangeError` on a programmer error in the options (limits not positive integers, min above max, default
 * outside them).
 */
export function createAuthHandler(options: AuthHandlerOptions): AuthHandler {
  const { realm, registry } = options
  const store = options.credentials
  const nonceStore = options.nonceStore ?? createNonceStore()
  const minExpiresSec = options.minExpiresSec ?? AUTH_MIN_EXPIRES_SEC
  const maxExpiresSec = options.maxExpiresSec ?? AUTH_MAX_EXPIRES_SEC
  const defaultExpiresSec = options.defaultExpiresSec ?? AUTH_DEFAULT_EXPIRES_SEC
  const maxFailedAuth = options.maxFailedAuth ?? AUTH_MAX_FAILED
  const useUri = options.useUri ?? defaultUseUri
  const authorize = options.authorize ?? (() => true)
  const issueNextNonce = options.issueNextNonce ?? AUTH_ISSUE_NEXT_NONCE
  const now = options.now ?? (() => nonceStore.now())
  for (const [name, value] of [
    ['minExpiresSec', minExpiresSec],
    ['maxExpiresSec', maxExpiresSec],
    ['defaultExpiresSec', defaultExpiresSec]
  ] as const)
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`createAuthHandler: ${name} must be a whole number of seconds ≥ 0, got ${value}`)
  if (!(minExpiresSec <= defaultExpiresSec && defaultExpiresSec <= maxExpiresSec))
    throw new RangeError('createAuthHandler: expected minExpiresSec ≤ defaultExpiresSec ≤ maxExpiresSec')
  if (!Number.isSafeInteger(maxFailedAuth) || maxFailedAuth < 1)
    throw new RangeError(`createAuthHandler: maxFailedAuth must be a positive integer, got ${maxFailedAuth}`)

  const states = new Map<string, ConnectionState>()

  const stateOf = (connectionId: string): ConnectionState => {
    const known = states.get(connectionId)
    if (known !== undefined) return known
    const state: ConnectionState = { failures: 0, held: new Map(), pruneAt: HELD_PRUNE_SLACK }
    states.set(connectionId, state)
    return state
  }

  async function handle(request: MsrpRequest, connection: RelayConnection): Promise<AuthOutcome> {
    const state = stateOf(connection.id)
    const anonymous = connection.identity === undefined
    /** Builds the response: `responseTo` (C-7.2-2 … C-7.2-4) then the AUTH headers in RFC 4976 §10.3 order. */
    const outcome = (status: number, headers: readonly Header[], extra: Omit<AuthOutcome, 'response'>): AuthOutcome => {
      const base = responseTo(request, status)
      return { ...extra, response: { ...base, headers: [...base.headers, ...headers] } }
    }
    /**
     * A non-200. It counts as a failure of the connection unless `counted` is false; the failure that reaches
     * `maxFailedAuth` is answered 403 + close instead. `headers` is lazy, so that a replaced 401 issues no nonce.
     */
    const refuse = (status: number, reason: AuthFailureReason, how: RefuseOptions = {}): AuthOutcome => {
      const who = how.user === undefined ? {} : { user: how.user }
      if (how.counted ?? true) {
        state.failures += 1
        // R-6.3-11: a client that keeps failing is cut off; R-6.3-12: never a proven peer (a relay).
        if (anonymous && state.failures >= maxFailedAuth)
          return outcome(403, [], { ...who, reason: 'TooManyFailures', close: true })
      }
      return outcome(status, how.headers?.() ?? [], { ...who, reason, close: false })
    }
    const challenge = (stale: boolean) => (): readonly Header[] => [
      ['WWW-Authenticate', formatDigestChallenge(issueChallenge(nonceStore, { realm, stale }))]
    ]

    // 1. Headers (RFC 4975 §7.1: To-Path and From-Path are mandatory; RFC 4976 §7 for the others).
    const toPath = requireHeader(request.headers, 'To-Path')
    const fromPath = requireHeader(request.headers, 'From-Path')
    const authorization = decodeHeader(request.headers, 'Authorization')
    const expires = decodeHeader(request.headers, 'Expires')
    if (E.isLeft(toPath) || E.isLeft(fromPath) || E.isLeft(authorization) || E.isLeft(expires))
      return refuse(400, 'HeaderInvalid')
    const toTokens = pathTokens(getHeader(request.headers, 'To-Path'))
    const fromTokens = pathTokens(getHeader(request.headers, 'From-Path'))
    // R-9.1-8: the digest-uri is the rightmost To-Path URI, as the client wrote it.
    const digestUri = digestUriFromToPath(toTokens)
    if (E.isLeft(digestUri)) return refuse(400, 'HeaderInvalid')

    // 2. Who is asking.
    const fromClient = fromTokens.length === 1
    let user: string
    let info: AuthenticationInfo | undefined
    if (connection.identity !== undefined && fromClient) {
      // RFC 7977 §5.3.1 (W-5.3.1-1): the connection is already authenticated; AUTH only fetches the Use-Path.
      user = connection.identity
    } else {
      const credentials = authorization.right
      // R-5.1-5: an AUTH without Authorization is challenged.
      if (credentials === undefined) return refuse(401, 'NoCredentials', { headers: challenge(false) })
      let ha1: string | undefined
      try {
        const secret = await store.lookup(credentials.username, realm)
        ha1 =
          secret === undefined
            ? undefined
            : 'ha1' in secret
              ? secret.ha1
              : computeHa1(credentials.username, realm, secret.password)
      } catch {
        return refuse(408, 'BackendFailed', { user: credentials.username, counted: false })
      }
      if (states.get(connection.id) !== state)
        return outcome(403, [], { user: credentials.username, reason: 'ConnectionClosed', close: true })
      // R-6.3-1, R-9.1-1: Digest as profiled by RFC 4976 §9.1; an unknown user (ha1 undefined) is a BadResponse.
      const verified = verifyCredentials(credentials, {
        digestUri: digestUri.right,
        ha1,
        realm,
        nonceStore,
        now: now(),
        issueNextNonce
      })
      if (E.isLeft(verified)) {
        const stale = verified.left.reason === 'StaleNonce'
        // RFC 2617 §3.2.1: stale=true tells the client its password was right; it is not a failed attempt (R-6.3-11).
        return refuse(401, verified.left.reason, {
          user: credentials.username,
          headers: challenge(stale),
          counted: !stale
        })
      }
      const { nextnonce, rspauth, cnonce, nc, qop } = verified.right
      user = verified.right.username
      info = nextnonce === undefined ? { rspauth, cnonce, nc, qop } : { nextnonce, rspauth, cnonce, nc, qop }
    }

    // 3. R-6.3-3: authenticated but not authorized → 403.
    let allowed: boolean
    try {
      allowed = await authorize(user, connection)
    } catch {
      return refuse(408, 'BackendFailed', { user, counted: false })
    }
    if (states.get(connection.id) !== state) return outcome(403, [], { user, reason: 'ConnectionClosed', close: true })
    if (!allowed) return refuse(403, 'NotAuthorized', { user })

    // 4. R-6.3-4: an unacceptable Expires gets 423 with the bound it crossed.
    const requested = expires.right
    if (requested !== undefined && requested < minExpiresSec)
      return refuse(423, 'ExpiresTooLow', { user, headers: () => [['Min-Expires', String(minExpiresSec)]] })
    if (requested !== undefined && requested > maxExpiresSec)
      return refuse(423, 'ExpiresTooHigh', { user, headers: () => [['Max-Expires', String(maxExpiresSec)]] })
    const granted = requested ?? defaultExpiresSec

    // 5. The URI, bound to this connection (R-6.3-6), ≥ 64 random bits (R-6.3-8), expiring (R-6.3-7).
    const key = `${user}\n${fromTokens.join(' ')}`
    const heldId = state.held.get(key)
    const held = heldId === undefined ? undefined : registry.lookup(heldId)
    const refresh = held !== undefined && held.connectionId === connection.id && held.user === user
    if (!refresh && registry.full) return refuse(403, 'RegistryFull', { user, counted: false })
    const base: RelayConnection = {
      id: connection.id,
      transport: connection.transport,
      identity: connection.identity,
      relayUri: useUri(connection)
    }
    const binding: Binding = registry.issue(base, user, granted, refresh ? held.uri : undefined)
    if (binding.sessionId !== heldId) remember(state, key, binding.sessionId)
    state.failures = 0

    // 6. R-6.3-10, R-9.1-9: Use-Path, Authentication-Info, Expires.
    const usePath = [...fromTokens.slice(0, -1), formatUri(binding.uri)].join(' ')
    const headers: Header[] = [['Use-Path', usePath]]
    if (info !== undefined) headers.push(['Authentication-Info', formatAuthenticationInfo(info)])
    headers.push(['Expires', String(granted)])
    return outcome(200, headers, { binding, user, close: false })
  }

  /** Records the URI held by (user, From-Path); prunes dead entries when the map has grown, so it stays bounded. */
  function remember(state: ConnectionState, key: string, sessionId: string): void {
    state.held.set(key, sessionId)
    if (state.held.size <= state.pruneAt) return
    for (const [k, id] of state.held) if (registry.lookup(id) === undefined) state.held.delete(k)
    state.pruneAt = 2 * state.held.size + HELD_PRUNE_SLACK
  }

  return {
    handle,
    forget: (connectionId) => {
      states.delete(connectionId)
    }
  }
}
