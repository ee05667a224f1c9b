/**
 * An MSRP endpoint: its sessions, the connections they share (one per peer authority, scheme and transport,
 * RFC 4975 §5.4, C-5.4-1), the active side's connect with its binding SEND (C-5.4-3) and the passive side's accept.
 * How a URI is dialed is injected (`connect`): `MsrpEndpoint` (endpoint.ts) dials with Node's TCP, TLS and `ws`,
 * `BrowserEndpoint` (browser-endpoint.ts) with the browser's WebSocket. Nothing here needs Node.
 */
import * as E from 'fp-ts/Either'
import { firstValueFrom, filter, map, race, take, timer, type Observable, type Subscription } from 'rxjs'
import { formatUri, parseUri, uriEquals, type MsrpUri } from '../wire/uri'
import { newMessageId, newTransactionId } from '../wire/ids'
import type { MsrpRequest } from '../wire/model'
import type { Listener, Transport } from '../transport/transport'
import { MsrpConnection, type ConnectionOptions } from './connection'
import { MsrpSession, SendError, type SessionOptions } from './session'
import { insecureAuth, RelayAuthError, RelayRegistration, type RelayAuthOptions } from './relay-client'

/**
 * Opens a transport to the host of an MSRP URI, for the connections an endpoint opens itself (`connect` to a peer,
 * `authenticate` at a relay). It may throw a `TypeError` for a URI it cannot dial; the observable emits the
 * transport once, or fails with a `TransportError`.
 */
export type Connector = (uri: MsrpUri) => Observable<Transport>

/** Options of {@link MsrpEndpointBase}: those of its connections and sessions, its connector and the bind timeout. */
export interface EndpointBaseOptions extends ConnectionOptions, SessionOptions {
  /**
   * How the endpoint opens connections. `MsrpEndpoint`: Node's `dial` (TCP, TLS, `ws`); `BrowserEndpoint`: the
   * browser's WebSocket for `;ws` URIs. Without one (a bare `MsrpEndpointBase`) the endpoint only uses transports
   * it is given (`accept`, `serve`, the `over` argument) and refuses to dial.
   */
  readonly connect?: Connector
  /** How long the active side waits for the binding SEND's response. Default 30 s. */
  readonly bindTimeoutMs?: number
}

export const BIND_TIMEOUT_MS = 30_000

/** The connector of an endpoint that was given none. @internal */
const noConnector: Connector = (uri) => {
  throw new TypeError(`${formatUri(uri)}: this endpoint has no connector (pass options.connect, or a transport)`)
}

/** @internal */
const poolKey = (uri: MsrpUri): string => `${uri.scheme}://${uri.host.toLowerCase()}:${uri.port ?? ''};${uri.transport}`

/**
 * An endpoint that opens its own connections with `options.connect`: the common part of `MsrpEndpoint` (Node) and
 * `BrowserEndpoint`. docs/endpoints.md, docs/browser.md.
 */
export class MsrpEndpointBase {
  private readonly sessions = new Map<string, MsrpSession>()
  private readonly pool = new Map<string, Promise<MsrpConnection>>()
  private readonly serving = new Set<Subscription>()
  private readonly connections = new Set<MsrpConnection>()
  private readonly registrations = new Map<MsrpSession, RelayRegistration>()

  private readonly connector: Connector

  constructor(private readonly options: EndpointBaseOptions = {}) {
    this.connector = options.connect ?? noConnector
  }

  /**
   * A new session with this local URI (which must carry a session-id, ≥ 80 random bits: see `newSessionId`). Its
   * `options` (accept-types, reassembly limits, body water marks, nickname handler) override the endpoint's.
   */
  createSession(
    localUri: string | MsrpUri,
    remotePath: readonly string[] = [],
    options: SessionOptions = {}
  ): MsrpSession {
    // The session's own options (e.g. an SDP plan's accept-types and max-size) win over the endpoint's, field by field.
    const session = new MsrpSession(localUri, remotePath, { ...this.options, ...options })
    const id = session.localUri.sessionId
    if (id === undefined) throw new TypeError(`${session.uri}: a session URI needs a session-id`)
    this.sessions.set(id, session)
    return session
  }

  /** The session a To-Path URI names (RFC 4975 §6.1 comparison, C-6.1-1). */
  readonly resolve = (uri: MsrpUri): MsrpSession | undefined => {
    const s = uri.sessionId === undefined ? undefined : this.sessions.get(uri.sessionId)
    return s !== undefined && !s.closed && uriEquals(s.localUri, uri) ? s : undefined
  }

  /** Takes a transport a listener accepted (the passive side): its first request binds it (C-5.4-6, C-5.4-7). */
  accept(transport: Transport): MsrpConnection {
    const conn = new MsrpConnection(transport, this.resolve, this.options)
    this.connections.add(conn)
    transport.closed$.subscribe(() => this.connections.delete(conn))
    return conn
  }

  /** Accepts every connection of a listener until the returned subscription is unsubscribed. */
  serve(listener: Listener): Subscription {
    const sub = listener.connections$.subscribe((t) => this.accept(t))
    this.serving.add(sub)
    return sub
  }

  /**
   * The active side (C-5.4-2): connects the session to the first URI of the peer's path, reusing a connection to
   * the same scheme, host, port and transport (C-5.4-1), and sends the binding SEND at once (C-5.4-3). Resolves
   * when the peer accepted it; rejects with a `SendError` (e.g. 481) or the transport's error. `over` connects
   * through a transport the caller opened instead (tests, custom transports).
   */
  async connect(session: MsrpSession, remotePath: readonly string[], over?: Transport): Promise<void> {
    const first = remotePath[0]
    if (first === undefined) throw new TypeError('connect: the remote path is empty')
    const parsed = parseUri(first)
    if (E.isLeft(parsed)) throw new TypeError(`remote path: ${parsed.left.detail}`)
    // A session registered at a relay sends everything to its relay over the connection of its AUTH (RFC 4976
    // §5.2, R-5.2-1; its URI there is valid on that connection only, R-6.3-6), with To-Path = Use-Path + the peer's
    // path and From-Path = its own URI (R-5.1-4). The bodiless SEND below still goes first: the relay answers it
    // hop by hop (R-3-1) and it binds the connection of a relay-less peer on the far side (C-5.4-3).
    const registration = this.registrations.get(session)
    if (registration !== undefined && !registration.closed) {
      registration.setPeerPath(remotePath)
      remotePath = registration.toPathFor(remotePath)
    }
    const conn =
      registration !== undefined && !registration.closed
        ? registration.connection
        : over !== undefined
          ? this.accept(over)
          : await this.connectionTo(parsed.right)
    session.remotePath = remotePath
    session.bind(conn)
    const binding: MsrpRequest = {
      type: 'request',
      transactionId: newTransactionId(),
      method: 'SEND',
      headers: [
        ['To-Path', remotePath.join(' ')],
        ['From-Path', session.uri],
        ['Message-ID', newMessageId()],
        ['Byte-Range', '1-0/0']
      ],
      body: undefined,
      continuation: '$'
    }
    type Outcome = { readonly status: number; readonly reason: 'Timeout' | 'ErrorResponse' | 'ConnectionClosed' }
    const ms = this.options.bindTimeoutMs ?? BIND_TIMEOUT_MS
    const result = firstValueFrom(
      race(
        conn.transactions$.pipe(
          filter(
            (r) =>
              (E.isRight(r) ? r.right.request : 'request' in r.left ? r.left.request : undefined)?.transactionId ===
              binding.transactionId
          ),
          map((r): Outcome | undefined => {
            if (E.isRight(r)) return undefined
            const status = 'status' in r.left && typeof r.left.status === 'number' ? r.left.status : 408
            return { status, reason: r.left.reason === 'Timeout' ? 'Timeout' : 'ErrorResponse' }
          })
        ),
        // The peer closed before answering: fail at once, not when the timer runs out.
        conn.transport.closed$.pipe(map((): Outcome => ({ status: 408, reason: 'ConnectionClosed' }))),
        timer(ms).pipe(map((): Outcome => ({ status: 408, reason: 'Timeout' })))
      ).pipe(take(1)),
      { defaultValue: { status: 408, reason: 'ConnectionClosed' } as Outcome }
    )
    conn.writer.sendFrame(binding)
    conn.written$.next(binding)
    const outcome = await result
    if (outcome !== undefined) {
      session.close()
      throw new SendError(
        outcome.reason,
        outcome.status,
        '',
        `binding SEND failed: ${outcome.status} (${outcome.reason})`
      )
    }
  }

  /**
   * Authenticates `session` at the relay `relayUri` with AUTH and HTTP Digest (RFC 4976 §5.1, R-5.1-1, R-5.1-2,
   * R-5.1-6): over a pooled connection to the relay (a `;ws` URI opens a WebSocket, RFC 7977), to which the session
   * is then bound. Resolves with the registration (`usePath`, `path` for the peer, `expiresSec`), refreshed at
   * `refreshRatio` of Expires until the session closes; rejects with a `RelayAuthError`. A later `connect` of the
   * session goes through the relay. `over`: a transport to the relay the caller opened instead (tests, custom
   * transports). docs/relays-for-clients.md.
   */
  async authenticate(
    session: MsrpSession,
    relayUri: string | MsrpUri,
    options: RelayAuthOptions,
    over?: Transport
  ): Promise<RelayRegistration> {
    const parsed = typeof relayUri === 'string' ? parseUri(relayUri) : E.right(relayUri)
    if (E.isLeft(parsed)) throw new TypeError(`relay URI: ${parsed.left.detail}`)
    const refused = insecureAuth(parsed.right, options) // before dialing anything (R-8-4)
    if (refused !== undefined) throw refused
    const previous = this.registrations.get(session)
    const sameRelay = previous !== undefined && !previous.closed && previous.relayUri === formatUri(parsed.right)
    if (!sameRelay && session.connection !== undefined)
      throw new RelayAuthError('AlreadyBound', 506, `${session.uri} is already bound to a connection`)
    const connection = sameRelay
      ? previous.connection
      : over !== undefined
        ? this.accept(over)
        : await this.connectionTo(parsed.right)
    const registration = await RelayRegistration.register({ session, connection, relayUri: parsed.right, options })
    previous?.close()
    this.registrations.set(session, registration)
    const forget = (): void => {
      if (this.registrations.get(session) === registration) this.registrations.delete(session)
    }
    registration.events$.subscribe({ complete: forget, error: forget })
    return registration
  }

  /** The session's current relay registration, if it has one that has not ended. */
  registrationOf(session: MsrpSession): RelayRegistration | undefined {
    const r = this.registrations.get(session)
    return r !== undefined && !r.closed ? r : undefined
  }

  private connectionTo(uri: MsrpUri): Promise<MsrpConnection> {
    const key = poolKey(uri)
    const existing = this.pool.get(key)
    const opening =
      existing ??
      firstValueFrom(this.connector(uri)).then((t) => {
        const conn = this.accept(t)
        t.closed$.subscribe(() => this.pool.delete(key))
        return conn
      })
    if (existing === undefined) {
      this.pool.set(key, opening)
      opening.catch(() => this.pool.delete(key))
    }
    return opening.then((c) => (c.closed ? (this.pool.delete(key), this.connectionTo(uri)) : c))
  }

  /** Closes every session, connection and served listener subscription. */
  close(): void {
    for (const r of this.registrations.values()) r.close()
    this.registrations.clear()
    for (const s of this.serving) s.unsubscribe()
    this.serving.clear()
    for (const s of this.sessions.values()) s.close()
    this.sessions.clear()
    for (const c of this.connections) c.close()
    this.connections.clear()
    this.pool.clear()
  }
}
