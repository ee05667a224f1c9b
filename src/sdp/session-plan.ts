/**
 * From an agreed offer/answer to what an MSRP session needs (RFC 4975 §8, RFC 6135, RFC 6714, RFC 4976 §5.1):
 * its own URI, the peer's path (the To-Path of what it sends, RFC 4975 §8.2), who connects and where, the types
 * each side accepts, the size limits and the direction. `openPlannedSession` then creates and connects the session
 * on an endpoint with no further glue.
 */
import * as E from 'fp-ts/Either'
import { formatUri, type MsrpUri } from '../wire/uri'
import { mediaTypeMatches } from '../wire/headers/content-type'
import { SdpError, sdpFailure, type SdpFailure } from './failures'
import { checkFingerprint, type Fingerprint } from './fingerprint'
import type { FileAttributes, MsrpMedia } from './msrp-media'
import { acceptTypesOverlap, connectionMatchesPath, effectiveSetup, usesRelay } from './offer-answer'

/** Which side of the offer/answer this endpoint was. */
export type SdpRole = 'offerer' | 'answerer'

/** Everything a session needs from an SDP offer/answer. */
export interface SessionPlan {
  readonly role: SdpRole
  /** The session's own URI: the last URI of its own a=path (`createSession(plan.localUri, …)`). */
  readonly localUri: string
  /** The a=path this side advertised. */
  readonly localPath: readonly string[]
  /**
   * The peer's a=path: the To-Path of every request this session sends (RFC 4975 §8.2); behind a relay, the
   * endpoint prefixes its Use-Path (RFC 4976 §5.1, R-5.1-4).
   */
  readonly remotePath: readonly string[]
  /**
   * This side opens the connection and sends the binding SEND (RFC 4975 §5.4, C-5.4-3): the answerer when it
   * answered `a=setup:active`, else the offerer (RFC 6135 §4.2.2; RFC 4975's rule when the answer has no a=setup).
   */
  readonly active: boolean
  /**
   * This side put relays in its path: it connects to its own relay (AUTH) whatever `active` says, and sends the
   * binding SEND through it only when active (RFC 6135 §4.5, S-4.5-1).
   */
  readonly viaRelay: boolean
  /**
   * Where an active side without a relay dials: the first URI of the peer's path (C-8.3-1), or with CEMA the
   * peer's c/m-line address and port (RFC 6714 §4.2, §4.3, M-4.2-6, M-4.3-4). `undefined` when passive or via a
   * relay.
   */
  readonly connectTo: MsrpUri | undefined
  /** CEMA is in effect: both sides put `a=msrp-cema` and no fallback criterion holds (RFC 6714 §4.1). */
  readonly cema: boolean
  /**
   * RFC 6714 §4.2 (M-4.2-4): the offerer's CEMA offer got an answer without `a=msrp-cema` that meets a fallback
   * criterion. The offerer MUST send a new offer without `a=msrp-cema` before using the session.
   */
  readonly newOfferWithoutCema: boolean
  /** The m-line proto is TCP/TLS/MSRP. */
  readonly tls: boolean
  /** What this side accepts (its own a=accept-types): `SessionOptions.acceptTypes`. */
  readonly acceptTypes: readonly string[]
  readonly acceptWrappedTypes: readonly string[]
  /** What this side may send at top level: the peer's a=accept-types (C-8.6-7). */
  readonly sendTypes: readonly string[]
  /** What this side may send inside a container the peer accepts: the peer's a=accept-wrapped-types. */
  readonly sendWrappedTypes: readonly string[]
  /** This side's a=max-size: the largest message it wishes to receive (`reassembly.maxMessageBytes`). */
  readonly maxReceiveBytes: number | undefined
  /** The peer's a=max-size: senders SHOULD NOT exceed it (C-8.6-8; MUST for files, F-8.7-1). */
  readonly maxSendBytes: number | undefined
  /** This side may send regular messages (direction, RFC 4975 §8.9; REPORTs and control SENDs are not affected). */
  readonly send: boolean
  /** This side may receive regular messages. */
  readonly receive: boolean
  /** The file transfer of this m-line (RFC 5547), as offered, with the answer's hash and range. */
  readonly file: FileAttributes | undefined
  /**
   * The peer's `a=fingerprint` when the session is peer-to-peer TLS (TCP/TLS/MSRP, no relay on either side): the
   * certificate the peer presents in the TLS handshake must match it, or the session is torn down (RFC 4975 §14.4,
   * C-14.4-3). `openPlannedSession` checks it on the active side. Relays do not see SDP, so behind one it is unused.
   */
  readonly peerFingerprint: Fingerprint | undefined
}

/** @internal Whether a side sends regular messages under its direction attribute (RFC 4975 §8.9). */
const canSend = (d: MsrpMedia['direction']): boolean => d !== 'recvonly' && d !== 'inactive'
/** @internal Whether a side receives regular messages under its direction attribute (RFC 4975 §8.9). */
const canReceive = (d: MsrpMedia['direction']): boolean => d !== 'sendonly' && d !== 'inactive'

/**
 * Plans a session from this side's m-line (`local`) and the peer's (`remote`), the two halves of one offer/answer
 * (same `index`). Fails with `MediaRejected` when either has port 0, and with `FileTransferInvalid` when the answer
 * changed the file transfer id (F-8.1-1).
 *
 * Who connects (related.md §1.2): answer `active` → the answerer; answer `passive` or no `a=setup` → the offerer.
 * `holdconn` counts as no `a=setup` (S-4.2.1-3).
 */
export function negotiate(local: MsrpMedia, remote: MsrpMedia, role: SdpRole): E.Either<SdpFailure, SessionPlan> {
  if (local.port === 0 || remote.port === 0 || local.path.length === 0 || remote.path.length === 0)
    return E.left(sdpFailure('MediaRejected', 'the MSRP stream was rejected (port 0)', undefined, remote.index))
  const offer = role === 'offerer' ? local : remote
  const answer = role === 'offerer' ? remote : local
  // C-8.6-6: an answer that shares no type with its offer should not have been given (the answerer answers 488).
  if (!acceptTypesOverlap(offer.acceptTypes, answer.acceptTypes))
    return E.left(
      sdpFailure(
        'NoCommonType',
        `the offer accepts ${offer.acceptTypes.join(' ')}, the answer ${answer.acceptTypes.join(' ')}: no type in common (C-8.6-6)`,
        'accept-types',
        remote.index
      )
    )
  if (offer.file?.transferId !== undefined && answer.file?.transferId !== offer.file.transferId)
    return E.left(
      sdpFailure('FileTransferInvalid', 'the answer did not copy a=file-transfer-id (F-8.1-1)', 'file-transfer-id')
    )
  const answererActive = effectiveSetup(answer.setup) === 'active'
  const active = role === 'answerer' ? answererActive : !answererActive
  const viaRelay = usesRelay(local)
  const cema = local.cema && remote.cema && !(active && viaRelay)

  // M-4.2-4: fallback criteria of a CEMA offerer whose answer has no a=msrp-cema.
  const mismatch = !connectionMatchesPath(answer)
  const offererActive = !answererActive
  const newOfferWithoutCema =
    role === 'offerer' &&
    offer.cema &&
    !answer.cema &&
    mismatch &&
    (!offererActive || usesRelay(offer) || usesRelay(answer))

  const first = remote.path[0] as MsrpUri
  let connectTo: MsrpUri | undefined
  if (active && !viaRelay) {
    const c = remote.connection
    connectTo =
      cema && c !== undefined
        ? {
            scheme: first.scheme,
            host: c.ipVer === 6 || c.address.includes(':') ? `[${c.address}]` : c.address,
            port: remote.port,
            transport: first.transport,
            params: []
          }
        : first
  }
  const file: FileAttributes | undefined =
    offer.file === undefined
      ? undefined
      : {
          ...offer.file,
          ...(answer.file?.selector !== undefined ? { selector: answer.file.selector } : {}),
          ...(answer.file?.range !== undefined ? { range: answer.file.range } : {})
        }
  const own = local.path[local.path.length - 1] as MsrpUri
  return E.right({
    role,
    localUri: formatUri(own),
    localPath: local.path.map(formatUri),
    remotePath: remote.path.map(formatUri),
    active,
    viaRelay,
    connectTo,
    cema,
    newOfferWithoutCema,
    tls: local.proto === 'TCP/TLS/MSRP',
    acceptTypes: local.acceptTypes,
    acceptWrappedTypes: local.acceptWrappedTypes ?? [],
    sendTypes: remote.acceptTypes,
    sendWrappedTypes: remote.acceptWrappedTypes ?? [],
    maxReceiveBytes: local.maxSize,
    maxSendBytes: remote.maxSize,
    send: canSend(local.direction) && canReceive(remote.direction),
    receive: canReceive(local.direction) && canSend(remote.direction),
    file,
    peerFingerprint: local.proto === 'TCP/TLS/MSRP' && !viaRelay && !usesRelay(remote) ? remote.fingerprint : undefined
  })
}

/**
 * Whether this side may send a message of `contentType` (RFC 4975 §8.6, C-8.6-7): at top level when the peer's
 * accept-types admit it; with `wrapped`, inside a container, when its accept-types or accept-wrapped-types do.
 */
export function maySend(
  plan: Pick<SessionPlan, 'sendTypes' | 'sendWrappedTypes'>,
  contentType: string,
  wrapped = false
): boolean {
  const top = plan.sendTypes.some((p) => mediaTypeMatches(contentType, p))
  return top || (wrapped && plan.sendWrappedTypes.some((p) => mediaTypeMatches(contentType, p)))
}

/**
 * The endpoint options a plan implies (`SessionOptions` of src/session): the accepted types (a SEND of another type
 * is answered 415, C-7.3.1-4) and the advertised max-size as the reassembly limit (larger messages are stopped with
 * 413). Structurally typed, so this pure layer does not import the session layer.
 */
export function sessionOptionsFor(plan: Pick<SessionPlan, 'acceptTypes' | 'maxReceiveBytes'>): {
  readonly acceptTypes: readonly string[]
  readonly reassembly: { readonly maxMessageBytes?: number }
} {
  return {
    acceptTypes: plan.acceptTypes,
    reassembly: plan.maxReceiveBytes === undefined ? {} : { maxMessageBytes: plan.maxReceiveBytes }
  }
}

/** The part of an endpoint `openPlannedSession` uses (`MsrpEndpoint` and `BrowserEndpoint` have it). */
export interface PlannedEndpoint<S, T> {
  createSession(localUri: string, remotePath?: readonly string[], options?: ReturnType<typeof sessionOptionsFor>): S
  connect(session: S, remotePath: readonly string[], over?: T): Promise<void>
  registrationOf?(session: S): { toPathFor(peerPath: readonly string[]): readonly string[] } | undefined
}

/** The part of a session `openPlannedSession` uses (`MsrpSession` has it). */
export interface PlannedSession {
  remotePath: readonly string[]
  /** The peer's a=max-size, which `send` respects (C-8.6-8, F-8.7-1). */
  remoteMaxSize?: number | undefined
  /** Ends the session (after a fingerprint mismatch, C-14.4-3). */
  close(): void
}

/** The part of a transport `openPlannedSession` uses (`Transport` has it): its TLS peer certificate, and `close`. */
export interface PlannedTransport {
  readonly info: { readonly peerCertificate?: { readonly raw?: Uint8Array | undefined } | undefined }
  close(): void
}

/** Options of {@link openPlannedSession}. */
export interface OpenPlannedSessionOptions<S, T> {
  /** A session created earlier (behind a relay: the one registered with `authenticate` before the offer). */
  readonly session?: S
  /**
   * Opens the transport to `plan.connectTo` (Node: `(uri) => firstValueFrom(dial(uri))`). Needed when it is not the
   * first URI of the peer's path (CEMA) and when the plan has a `peerFingerprint` (the certificate is checked before
   * the binding SEND is written). For a peer with a self-signed certificate, dial without CA verification
   * (`dial(uri, { rejectUnauthorized: false })`): the fingerprint check replaces it (RFC 4975 §14.4).
   */
  readonly dial?: (uri: MsrpUri) => Promise<T>
  /**
   * Refuse an active, relay-less TLS plan whose peer SDP has no `a=fingerprint` (`AttributeMissing`, C-14.4-2).
   * Set it when `dial` skips CA verification, so that no peer goes unverified. Default false.
   */
  readonly requireFingerprint?: boolean
}

/**
 * Creates (or takes) the session of a plan on an endpoint and, when this side is active, connects it with its binding
 * SEND (C-5.4-3); a passive session is ready for the peer's connection (serve a listener) or its relay, and can send
 * once the peer's binding SEND has bound it (`session.connection` is set). Resolves with the session. Rejects as
 * `endpoint.connect` does (e.g. a `SendError` 481), and with a `TypeError` for a relayed plan whose session has no
 * relay registration, or a CEMA or fingerprint plan without `dial`.
 *
 * Peer-to-peer TLS (RFC 4975 §14.4): when the plan has a `peerFingerprint` and this side is active, the transport
 * `dial` opens is checked with `checkFingerprint` before anything is written on it; on a mismatch (or no certificate)
 * the transport and the session are closed at once and the promise rejects with an `SdpError` whose `failure` is the
 * `FingerprintMismatch` (C-14.4-3). The passive side (the TLS server) sees a client certificate only with mutual
 * TLS; check it yourself with `checkFingerprint(session.connection.transport.info.peerCertificate?.raw, …)`.
 *
 * ```ts
 * const session = await openPlannedSession(endpoint, plan, { dial: (uri) => firstValueFrom(dial(uri)) })
 * ```
 */
export async function openPlannedSession<S extends PlannedSession, T extends PlannedTransport>(
  endpoint: PlannedEndpoint<S, T>,
  plan: SessionPlan,
  options: OpenPlannedSessionOptions<S, T> = {}
): Promise<S> {
  // The plan's accept-types and max-size apply to this session only (C-7.3.1-4, C-8.6-8).
  const session = options.session ?? endpoint.createSession(plan.localUri, plan.remotePath, sessionOptionsFor(plan))
  session.remoteMaxSize = plan.maxSendBytes // C-8.6-8, F-8.7-1: send refuses what the peer's a=max-size forbids
  const registration = endpoint.registrationOf?.(session)
  if (plan.viaRelay && registration === undefined && endpoint.registrationOf !== undefined)
    // S-4.5-1: the path names relays, so the session must hold their grant (authenticate before building the SDP).
    throw new TypeError(`${plan.localUri}: the path goes through a relay, but the session is not authenticated there`)
  if (!plan.active) {
    // Passive: answers and sends go to the peer's path, behind our relay prefixed with its Use-Path (R-5.1-4).
    session.remotePath = registration !== undefined ? registration.toPathFor(plan.remotePath) : plan.remotePath
    return session
  }
  const first = plan.remotePath[0]
  const fingerprint = plan.peerFingerprint
  if (options.requireFingerprint === true && plan.tls && !plan.viaRelay && fingerprint === undefined) {
    // C-14.4-2: peer-to-peer TLS verified by fingerprint needs the peer's a=fingerprint.
    session.close()
    throw new SdpError(
      sdpFailure(
        'AttributeMissing',
        "no a=fingerprint to check the peer's certificate against (none in its SDP, or it is behind a relay, C-14.4-2)",
        'fingerprint'
      )
    )
  }
  const target = plan.connectTo
  const direct = target === undefined || first === undefined || formatUri(target) === first
  if ((direct && fingerprint === undefined) || registration !== undefined) {
    await endpoint.connect(session, plan.remotePath)
    return session
  }
  if (options.dial === undefined || target === undefined)
    throw new TypeError(
      `${fingerprint !== undefined ? 'a=fingerprint' : 'CEMA'}: connecting to ${target === undefined ? first : formatUri(target)} needs options.dial`
    )
  const transport = await options.dial(target)
  if (fingerprint !== undefined) {
    // C-14.4-3: check the handshake's certificate before the binding SEND reveals the peer's session URI on it.
    const checked = await checkFingerprint(transport.info.peerCertificate?.raw, fingerprint)
    if (E.isLeft(checked)) {
      transport.close()
      session.close()
      throw new SdpError(checked.left)
    }
  }
  await endpoint.connect(session, plan.remotePath, transport)
  return session
}
