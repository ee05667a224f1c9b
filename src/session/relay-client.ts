/**
 * The client side of RFC 4976 (relays) and RFC 7977 (WebSocket clients): authenticating a session at its relay with
 * AUTH and HTTP Digest (§5.1), and keeping the relay's URI alive by authenticating again before it expires.
 *
 * ```text
 * client                         relay
 *   |--- AUTH (no credentials) ---->|      To-Path: the relay's URI, From-Path: the session's own URI
 *   |<-- 401 WWW-Authenticate ------|
 *   |--- AUTH Authorization ------->|      answerChallenge(realm, nonce, qop=auth), digest-uri = To-Path URI
 *   |<-- 200 Use-Path, Expires -----|      (423 Min-/Max-Expires → once more with an Expires in bounds)
 *   |        … 80 % of Expires …    |
 *   |--- AUTH Authorization ------->|      refresh over the same connection (401 stale=true → silently again)
 * ```
 * A registered session sends to the first Use-Path URI, its relay, over the connection of the AUTH: its To-Path
 * is Use-Path followed by the peer's path, its From-Path only its own URI (the relay adds itself, RFC 4976 §5.1,
 * R-5.1-4). The path it gives its peer (SDP `a=path`) is Use-Path reversed followed by its own URI.
 */
import * as E from 'fp-ts/Either'
import {
  asyncScheduler,
  firstValueFrom,
  filter,
  map,
  race,
  Subject,
  take,
  timer,
  type Observable,
  type SchedulerLike,
  type Subscription
} from 'rxjs'
import { decodeHeader } from '../wire/headers'
import { formatDigestCredentials, type DigestChallenge, type DigestCredentials } from '../wire/headers/digest-params'
import { answerChallenge, verifyRspauth } from '../wire/digest'
import { newInvalidHost, newSessionId, newTransactionId } from '../wire/ids'
import type { Header, MsrpRequest, MsrpResponse } from '../wire/model'
import { formatUri, MSRP_DEFAULT_PORT, type MsrpUri } from '../wire/uri'
import type { MsrpConnection } from './connection'
import type { MsrpSession } from './session'

/** Refresh a registration once this share of its granted Expires has passed (RFC 4976 §9.4, R-9.4-1). */
export const RELAY_REFRESH_RATIO = 0.8

/**
 * Most AUTH requests in one authentication: the first, the answer to its challenge, one more after `stale=true`,
 * one more after a 423. A relay that keeps challenging beyond that fails as `TooManyAttempts`.
 */
export const RELAY_AUTH_MAX_REQUESTS = 4

/** Options of {@link MsrpEndpoint.authenticate}. `username` and `password` are required, the rest optional. */
export interface RelayAuthOptions {
  /** The account at the relay (HTTP Digest, RFC 4976 §5.1, R-5.1-2). */
  readonly username: string
  readonly password: string
  /**
   * The lifetime to ask for, in whole seconds (`Expires` in the AUTH, R-5.1-8). Default: none, the relay decides.
   * After a 423 the client asks once more with the relay's Min-Expires or Max-Expires.
   */
  readonly expiresSec?: number
  /** Share (0 to 1) of the granted Expires after which the registration is refreshed. Default {@link RELAY_REFRESH_RATIO}. */
  readonly refreshRatio?: number
  /**
   * Also send `uri=` in Authorization, as RFC 7977's example does. Default false (RFC 4976's grammar has no `uri`);
   * Kamailio's auth module needs it.
   */
  readonly includeUri?: boolean
  /**
   * Allow AUTH over plain TCP or WS (`msrp:` relay URIs). Default false: AUTH MUST only go over TLS (RFC 4976 §8,
   * R-8-4; RFC 7977 §5.1, W-5.1-2). For loopback tests and relays behind a TLS terminator.
   */
  readonly allowInsecure?: boolean
  /** Timer of the refresh (tests pass a virtual one). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike
}

export type RelayAuthReason =
  /** A 401 to credentials answering the relay's own challenge, without `stale=true`: wrong username or password. */
  | 'Unauthorized'
  /** 403: authenticated, but not allowed to use this relay (R-6.3-3). */
  | 'Forbidden'
  /** 423 again after one retry, or a 423 with neither Min-Expires nor Max-Expires to go by (R-6.3-4). */
  | 'ExpiresOutOfBounds'
  /** Any other non-2xx response; `status` is the relay's. */
  | 'ErrorResponse'
  /** A 401 without a usable Digest challenge (no WWW-Authenticate, no qop auth, MD5-sess, …; R-9.1-3 … R-9.1-6). */
  | 'BadChallenge'
  /** Authentication-Info whose rspauth does not prove the relay knows the password (R-9.1-9). */
  | 'BadRspauth'
  /** A 200 without a valid Use-Path or Expires (R-6.3-10). */
  | 'BadResponse'
  /** No response within the connection's transaction timeout (30 s by default). */
  | 'Timeout'
  /** The connection to the relay closed: the relay's URI for this session is gone with it (R-6.3-6). */
  | 'ConnectionClosed'
  /** More than {@link RELAY_AUTH_MAX_REQUESTS} AUTH requests would have been needed. */
  | 'TooManyAttempts'
  /** A plain-text relay URI without `allowInsecure` (R-8-4). */
  | 'InsecureTransport'
  /** The session is already bound to another connection. */
  | 'AlreadyBound'

/** Why authenticating at a relay failed, with the MSRP status (the relay's, or 408 for a timeout or a closed connection). */
export class RelayAuthError extends Error {
  override readonly name = 'RelayAuthError'
  constructor(
    readonly reason: RelayAuthReason,
    readonly status: number,
    message: string,
    override readonly cause?: unknown
  ) {
    super(message)
  }
}

/** A registration was refreshed; `pathChanged` when the relay handed out other Use-Path URIs (re-negotiate). */
export interface RelayRefreshed {
  readonly type: 'refreshed'
  readonly usePath: readonly string[]
  readonly expiresSec: number
  readonly pathChanged: boolean
}

/** The delay before refreshing a registration granted for `expiresSec` seconds; `undefined` for none (0 s). */
export function refreshDelayMs(expiresSec: number, ratio: number = RELAY_REFRESH_RATIO): number | undefined {
  return expiresSec > 0 ? Math.floor(expiresSec * 1000 * ratio) : undefined
}

/**
 * The own URI of a WebSocket client, which cannot learn its address: a random `.invalid` host (RFC 7977 Appendix A,
 * W-A-1), port 2855 (non-AUTH paths need explicit ports, R-8-1), a fresh session-id and the `ws` transport
 * (RFC 7977 §5.2.1). `msrps` by default, as WebSocket MSRP MUST use WSS (W-5.1-2).
 */
export function newWebSocketClientUri(options: { readonly secure?: boolean } = {}): string {
  const scheme = options.secure === false ? 'msrp' : 'msrps'
  return `${scheme}://${newInvalidHost()}:${MSRP_DEFAULT_PORT}/${newSessionId()};ws`
}

/**
 * The refusal of an AUTH over plain text (`msrp:` relay URI, TCP or WS) without `allowInsecure`: AUTH MUST only go
 * over TLS (RFC 4976 §8, R-8-4; RFC 7977 §5.1, W-5.1-2). `undefined` when allowed.
 */
export function insecureAuth(relayUri: MsrpUri, options: RelayAuthOptions): RelayAuthError | undefined {
  return relayUri.scheme === 'msrps' || options.allowInsecure === true
    ? undefined
    : new RelayAuthError('InsecureTransport', 403, `${formatUri(relayUri)}: AUTH MUST go over TLS (RFC 4976 §8)`)
}

/** @internal What an AUTH exchange needs besides the Digest state. */
interface AuthContext {
  readonly connection: MsrpConnection
  /** The relay's URI as written in To-Path, which is also the digest-uri (rightmost To-Path URI, R-9.1-8). */
  readonly relayUri: string
  readonly localUri: string
  readonly username: string
  readonly password: string
  readonly includeUri: boolean
}

/** @internal The nonce to use next and how many requests already used it. */
interface DigestState {
  challenge: DigestChallenge | undefined
  nc: number
}

/** @internal What a successful AUTH exchange yields. */
interface Grant {
  readonly usePath: readonly string[]
  readonly expiresSec: number
  /** The Expires to ask for in refreshes (the one that finally worked). */
  readonly requestedSec: number | undefined
}

/**
 * @internal Sends one request on `connection` and waits for its response: a response (any status), or an error for
 * a timeout (the connection's transaction timer) or a closed connection.
 */
async function transact(
  connection: MsrpConnection,
  request: MsrpRequest
): Promise<E.Either<RelayAuthError, MsrpResponse>> {
  if (connection.closed) return E.left(closedError())
  const outcome = firstValueFrom(
    race(
      connection.transactions$.pipe(
        filter((r) => {
          const sent = E.isRight(r) ? r.right.request : 'request' in r.left ? r.left.request : undefined
          return sent?.transactionId === request.transactionId
        }),
        map((r): E.Either<RelayAuthError, MsrpResponse> => {
          if (E.isRight(r))
            return r.right.response !== undefined ? E.right(r.right.response) : E.left(timeoutError(request))
          return 'response' in r.left && r.left.reason === 'ErrorResponse'
            ? E.right(r.left.response)
            : E.left(timeoutError(request))
        })
      ),
      connection.transport.closed$.pipe(map(() => E.left(closedError())))
    ).pipe(take(1)),
    { defaultValue: E.left(closedError()) }
  )
  connection.writer.sendFrame(request)
  connection.written$.next(request)
  return outcome
}

const closedError = (): RelayAuthError =>
  new RelayAuthError('ConnectionClosed', 408, 'the connection to the relay closed')
const timeoutError = (request: MsrpRequest): RelayAuthError =>
  new RelayAuthError('Timeout', 408, `AUTH ${request.transactionId}: no response from the relay`)

/** @internal The next credentials for the nonce in `state` (nc + 1), if there is one. */
function nextCredentials(
  ctx: AuthContext,
  state: DigestState
): E.Either<RelayAuthError, DigestCredentials | undefined> {
  const challenge = state.challenge
  if (challenge === undefined) return E.right(undefined)
  const answer = answerChallenge(
    challenge,
    { username: ctx.username, password: ctx.password },
    { digestUri: ctx.relayUri, nc: state.nc + 1, includeUri: ctx.includeUri }
  )
  if (E.isLeft(answer)) return E.left(new RelayAuthError('BadChallenge', 401, answer.left.detail, answer.left))
  state.nc += 1
  return E.right(answer.right)
}

/** @internal An AUTH request (RFC 4976 §5.1): To-Path the relay, From-Path the session; credentials and Expires if any. */
function authRequest(
  ctx: AuthContext,
  credentials: DigestCredentials | undefined,
  expiresSec: number | undefined
): MsrpRequest {
  // To-Path then From-Path first, as every MSRP request (Kamailio even requires this order, kamailio.md).
  const headers: Header[] = [
    ['To-Path', ctx.relayUri],
    ['From-Path', ctx.localUri]
  ]
  if (credentials !== undefined) headers.push(['Authorization', formatDigestCredentials(credentials)])
  if (expiresSec !== undefined) headers.push(['Expires', String(expiresSec)])
  return {
    type: 'request',
    transactionId: newTransactionId(),
    method: 'AUTH',
    headers,
    body: undefined,
    continuation: '$'
  }
}

/**
 * @internal One authentication (RFC 4976 §5.1): AUTH, answering 401 challenges (R-5.1-6), `stale=true` silently,
 * one 423 with an Expires in bounds (R-6.3-4); verifies Authentication-Info when present (R-9.1-9). `state` holds
 * the nonce between calls, so a refresh sends credentials at once (the `nextnonce` if the relay gave one).
 */
async function authenticateOnce(
  ctx: AuthContext,
  state: DigestState,
  requestedSec: number | undefined
): Promise<E.Either<RelayAuthError, Grant>> {
  let expiresSec = requestedSec
  let pre = nextCredentials(ctx, state)
  if (E.isLeft(pre)) return pre
  let credentials = pre.right
  /** Whether `credentials` answer a challenge of this very exchange (then a 401 without stale means a bad password). */
  let answersFreshChallenge = false
  let retried423 = false
  for (let sent = 0; sent < RELAY_AUTH_MAX_REQUESTS; sent++) {
    const result = await transact(ctx.connection, authRequest(ctx, credentials, expiresSec))
    if (E.isLeft(result)) return result
    const response = result.right
    const status = response.status
    if (status >= 200 && status < 300) return granted(ctx, state, response, credentials, expiresSec)
    if (status === 401) {
      const challenge = decodeHeader(response.headers, 'WWW-Authenticate')
      if (E.isLeft(challenge) || challenge.right === undefined) {
        const detail = E.isLeft(challenge) ? challenge.left.detail : 'the 401 has no WWW-Authenticate'
        return E.left(new RelayAuthError('BadChallenge', 401, detail))
      }
      // RFC 2617 §3.2.1: stale=true means the credentials were right but the nonce old: retry without asking.
      if (answersFreshChallenge && challenge.right.stale !== true)
        return E.left(new RelayAuthError('Unauthorized', 401, `the relay refused the credentials of ${ctx.username}`))
      state.challenge = challenge.right
      state.nc = 0
      const answer = nextCredentials(ctx, state)
      if (E.isLeft(answer)) return answer
      credentials = answer.right
      answersFreshChallenge = true
      continue
    }
    if (status === 423) {
      const bounded = retried423 ? undefined : withinBounds(response, expiresSec)
      if (bounded === undefined)
        return E.left(
          new RelayAuthError('ExpiresOutOfBounds', 423, `the relay refused Expires ${expiresSec ?? '(none)'}`)
        )
      retried423 = true
      expiresSec = bounded
      pre = nextCredentials(ctx, state) // a fresh nc for the same nonce; a new challenge is answered if it comes
      if (E.isLeft(pre)) return pre
      credentials = pre.right
      answersFreshChallenge = false
      continue
    }
    if (status === 403) return E.left(new RelayAuthError('Forbidden', 403, 'the relay does not let this user relay'))
    return E.left(new RelayAuthError('ErrorResponse', status, `AUTH answered ${status} ${response.comment ?? ''}`))
  }
  return E.left(new RelayAuthError('TooManyAttempts', 401, `no success after ${RELAY_AUTH_MAX_REQUESTS} AUTH requests`))
}

/** @internal The Expires to ask for after a 423 (R-6.3-4): the relay's bound, if it moves the request. */
function withinBounds(response: MsrpResponse, requested: number | undefined): number | undefined {
  const min = decodeHeader(response.headers, 'Min-Expires')
  const max = decodeHeader(response.headers, 'Max-Expires')
  const lo = E.isRight(min) ? min.right : undefined
  const hi = E.isRight(max) ? max.right : undefined
  if (lo !== undefined && (requested === undefined || requested < lo)) return lo
  if (hi !== undefined && (requested === undefined || requested > hi)) return hi
  return undefined
}

/** @internal Reads a 200 to AUTH: Use-Path and Expires are required (R-6.3-10); Authentication-Info is checked. */
function granted(
  ctx: AuthContext,
  state: DigestState,
  response: MsrpResponse,
  credentials: DigestCredentials | undefined,
  requestedSec: number | undefined
): E.Either<RelayAuthError, Grant> {
  const usePath = decodeHeader(response.headers, 'Use-Path')
  if (E.isLeft(usePath) || usePath.right === undefined)
    return E.left(new RelayAuthError('BadResponse', 200, E.isLeft(usePath) ? usePath.left.detail : 'no Use-Path'))
  const expires = decodeHeader(response.headers, 'Expires')
  if (E.isLeft(expires) || expires.right === undefined)
    return E.left(new RelayAuthError('BadResponse', 200, E.isLeft(expires) ? expires.left.detail : 'no Expires'))
  const info = decodeHeader(response.headers, 'Authentication-Info')
  if (E.isLeft(info)) return E.left(new RelayAuthError('BadRspauth', 200, info.left.detail))
  if (info.right !== undefined && credentials !== undefined) {
    // R-9.1-9: rspauth proves the relay knows the password too. Absent (RFC 7977 §8.1 examples, Kamailio): accepted.
    const checked = verifyRspauth(info.right, { credentials, digestUri: ctx.relayUri, password: ctx.password })
    if (E.isLeft(checked)) return E.left(new RelayAuthError('BadRspauth', 200, checked.left.detail, checked.left))
    const next = checked.right.nextnonce
    if (next !== undefined && state.challenge !== undefined) {
      state.challenge = { ...state.challenge, nonce: next, stale: false }
      state.nc = 0
    }
  }
  return E.right({ usePath: usePath.right.map(formatUri), expiresSec: expires.right, requestedSec })
}

/** @internal What {@link RelayRegistration} is built from. */
export interface RegistrationParams {
  readonly session: MsrpSession
  readonly connection: MsrpConnection
  readonly relayUri: MsrpUri
  readonly options: RelayAuthOptions
}

/**
 * A session's registration at its relay (RFC 4976 §5.1): the URIs the relay granted, the path a peer must use to
 * reach the session, and the refresh before Expires over the connection of the AUTH. Made by
 * `MsrpEndpoint.authenticate`.
 */
export class RelayRegistration {
  /** The relay's URI, as sent in the AUTH's To-Path. */
  readonly relayUri: string
  /** The connection of the AUTH: the relay's URI for this session is valid only over it (R-6.3-6). */
  readonly connection: MsrpConnection
  private grant: Grant
  private peerPathValue: readonly string[] | undefined
  private readonly events = new Subject<RelayRefreshed>()
  private readonly subscriptions: Subscription[] = []
  private refreshTimer: Subscription | undefined
  private ended = false

  /**
   * Refreshes as they happen. Errors with a {@link RelayAuthError} when a refresh fails or the connection to the
   * relay closes; completes when the registration is closed (or its session is). Hot.
   */
  readonly events$: Observable<RelayRefreshed> = this.events.asObservable()

  private constructor(
    private readonly session: MsrpSession,
    private readonly ctx: AuthContext,
    private readonly state: DigestState,
    grant: Grant,
    private readonly options: RelayAuthOptions
  ) {
    this.relayUri = ctx.relayUri
    this.connection = ctx.connection
    this.grant = grant
  }

  /**
   * Authenticates `session` at the relay over `connection` (RFC 4976 §5.1) and binds the session to that
   * connection. Resolves with the registration, rejects with a {@link RelayAuthError}.
   */
  static async register(params: RegistrationParams): Promise<RelayRegistration> {
    const { session, connection, options } = params
    const relayUri = formatUri(params.relayUri)
    const refused = insecureAuth(params.relayUri, options)
    if (refused !== undefined) throw refused
    const { expiresSec, refreshRatio } = options
    if (expiresSec !== undefined && !(Number.isSafeInteger(expiresSec) && expiresSec >= 0))
      throw new TypeError(`expiresSec must be a whole number of seconds, got ${expiresSec}`)
    if (refreshRatio !== undefined && !(refreshRatio > 0 && refreshRatio <= 1))
      throw new TypeError(`refreshRatio must be in (0, 1], got ${refreshRatio}`)
    if (session.connection !== undefined && session.connection !== connection)
      throw new RelayAuthError('AlreadyBound', 506, `${session.uri} is bound to another connection`)
    const bound = session.connection === undefined
    session.bind(connection)
    const ctx: AuthContext = {
      connection,
      relayUri,
      localUri: session.uri,
      username: options.username,
      password: options.password,
      includeUri: options.includeUri === true
    }
    const state: DigestState = { challenge: undefined, nc: 0 }
    const result = await authenticateOnce(ctx, state, options.expiresSec)
    if (E.isLeft(result)) {
      if (bound) {
        // Leave the session as it was: unbound, and the connection closed if nothing else uses it.
        session.onConnectionClosed(connection, result.left)
        connection.detach(session)
        if (connection.sessionCount === 0) connection.close()
      }
      throw result.left
    }
    const registration = new RelayRegistration(session, ctx, state, result.right, options)
    registration.start()
    return registration
  }

  /** The URIs the relay granted, in To-Path order (Use-Path of the 200, R-5.1-4). */
  get usePath(): readonly string[] {
    return this.grant.usePath
  }

  /**
   * The path a peer puts in its To-Path to reach this session, to advertise in SDP `a=path`: Use-Path reversed,
   * then the session's own URI (R-5.1-4).
   */
  get path(): readonly string[] {
    return [...[...this.grant.usePath].reverse(), this.session.uri]
  }

  /** The lifetime the relay granted in the last successful AUTH, in seconds (R-5.1-8). */
  get expiresSec(): number {
    return this.grant.expiresSec
  }

  /** Whether the registration has ended (closed, session closed, connection closed or refresh failed). */
  get closed(): boolean {
    return this.ended
  }

  /** The To-Path of what the session sends to the peer whose path is `peerPath`: Use-Path then that path (R-5.1-4). */
  toPathFor(peerPath: readonly string[]): readonly string[] {
    return [...this.grant.usePath, ...peerPath]
  }

  /** @internal Remembers the peer's path, so that a refresh with new Use-Path URIs updates the session's To-Path. */
  setPeerPath(peerPath: readonly string[]): void {
    this.peerPathValue = peerPath
  }

  /** Stops refreshing. The relay's URI stays valid until it expires; the session and connection stay open. */
  close(): void {
    if (this.ended) return
    this.end()
    this.events.complete()
  }

  private start(): void {
    // Stop on session close (messages$ completes then) and fail when the relay connection closes (R-6.3-6).
    this.subscriptions.push(this.session.messages$.subscribe({ complete: () => this.close() }))
    // Closing the session's last use of the connection closes it too: that is a close, not a failure.
    this.subscriptions.push(
      this.connection.transport.closed$.subscribe(() => (this.session.closed ? this.close() : this.fail(closedError())))
    )
    if (this.ended) return this.end()
    this.schedule()
  }

  private schedule(): void {
    if (this.ended) return
    const delay = refreshDelayMs(this.grant.expiresSec, this.options.refreshRatio ?? RELAY_REFRESH_RATIO)
    if (delay === undefined) return
    this.refreshTimer = timer(delay, this.options.scheduler ?? asyncScheduler).subscribe(() => void this.refresh())
  }

  private async refresh(): Promise<void> {
    if (this.ended) return
    const result = await authenticateOnce(this.ctx, this.state, this.grant.requestedSec)
    if (this.ended) return
    if (E.isLeft(result)) return this.fail(result.left)
    const before = this.grant.usePath
    this.grant = result.right
    const pathChanged =
      before.length !== this.grant.usePath.length || before.some((u, i) => u !== this.grant.usePath[i])
    if (pathChanged && this.peerPathValue !== undefined) this.session.remotePath = this.toPathFor(this.peerPathValue)
    this.events.next({ type: 'refreshed', usePath: this.grant.usePath, expiresSec: this.grant.expiresSec, pathChanged })
    this.schedule()
  }

  private fail(error: RelayAuthError): void {
    if (this.ended) return
    this.end()
    this.events.error(error)
  }

  private end(): void {
    this.ended = true
    this.refreshTimer?.unsubscribe()
    for (const s of this.subscriptions.splice(0)) s.unsubscribe()
  }
}
