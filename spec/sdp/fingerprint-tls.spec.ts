/**
 * Peer-to-peer TLS with a self-signed certificate, verified by the SDP fingerprint instead of a CA (RFC 4975 §14.4),
 * end to end over real TLS on loopback: Bob listens with a certificate made by src/relay/certificate.ts and puts its
 * fingerprint in his answer; Alice, active, dials without CA verification and `openPlannedSession` checks the
 * certificate against Bob's a=fingerprint before her binding SEND goes out.
 */
import { X509Certificate } from 'node:crypto'
import { firstValueFrom, lastValueFrom } from 'rxjs'
import { listenTls } from '../../src/transport/tls'
import type { Transport } from '../../src/transport/transport'
import { selfSignedCertificate } from '../../src/relay/certificate'
import { newSessionId } from '../../src/wire/ids'
import type { MsrpUri } from '../../src/wire/uri'
import { dial, MsrpEndpoint } from '../../src/session/endpoint'
import { SdpError } from '../../src/sdp/failures'
import { certificateFingerprint, type Fingerprint } from '../../src/sdp/fingerprint'
import { parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { buildAnswer, buildOffer } from '../../src/sdp/offer-answer'
import { negotiate, openPlannedSession, type SessionPlan } from '../../src/sdp/session-plan'
import { LOOPBACK, record, start, type Running } from '../transport/helpers'
import { right } from '../helpers/either'

const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia

/** Dials as a peer-to-peer client does: no CA verification, the fingerprint check replaces it. */
const p2pDial = (calls: MsrpUri[] = []) => ({
  dial: (uri: MsrpUri): Promise<Transport> => (
    calls.push(uri),
    firstValueFrom(dial(uri, { rejectUnauthorized: false }))
  )
})

interface Setup {
  readonly alicePlan: SessionPlan
  readonly bobPlan: SessionPlan
  readonly bobListener: Running
  readonly bobUri: string
}

/**
 * Bob listens on TLS with a fresh self-signed certificate and answers with `answerFingerprint` (his own unless given);
 * Alice offers actpass, so she connects (RFC 6135).
 */
async function setUp(answerFingerprint?: Fingerprint | null): Promise<Setup> {
  const bobCert = selfSignedCertificate({ hosts: [LOOPBACK] })
  const bobListener = await start(listenTls({ host: LOOPBACK, port: 0, cert: bobCert.cert, key: bobCert.key }))
  const own = right(await certificateFingerprint(new X509Certificate(bobCert.cert).raw))
  const aliceUri = `msrps://${LOOPBACK}:9/${newSessionId()};tcp`
  const bobUri = `msrps://${LOOPBACK}:${bobListener.listener.address.port}/${newSessionId()};tcp`
  const offer = right(buildOffer({ path: [aliceUri], acceptTypes: ['text/plain'] }))
  const fingerprint = answerFingerprint === null ? undefined : (answerFingerprint ?? own)
  const answer = right(buildAnswer(offer, { path: [bobUri], ...(fingerprint !== undefined ? { fingerprint } : {}) }))
  return {
    alicePlan: right(negotiate(one(offer), one(answer), 'offerer')),
    bobPlan: right(negotiate(one(answer), one(offer), 'answerer')),
    bobListener,
    bobUri
  }
}

describe('peer-to-peer TLS checked by a=fingerprint (RFC 4975 §14.4, real TLS on loopback)', () => {
  const endpoints: MsrpEndpoint[] = []
  const listeners: Running[] = []
  afterEach(() => {
    for (const e of endpoints.splice(0)) e.close()
    for (const l of listeners.splice(0)) l.stop()
  })

  it('the plan carries the peer’s fingerprint only for TLS without relays', async () => {
    const { alicePlan, bobPlan, bobListener } = await setUp()
    listeners.push(bobListener)
    expect(alicePlan.peerFingerprint).toMatchObject({ type: 'sha-256' })
    expect(bobPlan.peerFingerprint).toBeUndefined() // Alice's offer had none
    const relayed = right(
      buildAnswer(right(buildOffer({ path: ['msrps://127.0.0.1:9/a;tcp'] })), {
        path: ['msrps://relay.example.com:2855/r;tcp', 'msrps://127.0.0.1:9/b;tcp'],
        fingerprint: alicePlan.peerFingerprint as Fingerprint
      })
    )
    const plan = right(
      negotiate(one(right(buildOffer({ path: ['msrps://127.0.0.1:9/a;tcp'] }))), one(relayed), 'offerer')
    )
    expect(plan.peerFingerprint).toBeUndefined() // relays do not see SDP: the certificate would be the relay's
  })

  it('a self-signed certificate that matches a=fingerprint: the session binds and a message goes through', async () => {
    const { alicePlan, bobPlan, bobListener } = await setUp()
    listeners.push(bobListener)
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint()
    endpoints.push(aliceEp, bobEp)
    bobEp.serve(bobListener.listener)
    const bob = await openPlannedSession(bobEp, bobPlan)
    const alice = await openPlannedSession(aliceEp, alicePlan, p2pDial())
    expect(alice.connection?.transport.info.secure).toBe(true)
    const incoming = firstValueFrom(bob.messages$)
    await lastValueFrom(alice.send('over pinned TLS'))
    expect(new TextDecoder().decode(await (await incoming).collect())).toBe('over pinned TLS')
  })

  it('C-14.4-3: another certificate’s fingerprint tears the session down before the binding SEND is written', async () => {
    const stranger = right(await certificateFingerprint(new X509Certificate(selfSignedCertificate().cert).raw))
    const { alicePlan, bobListener } = await setUp(stranger)
    listeners.push(bobListener)
    const accepted = firstValueFrom(bobListener.listener.connections$)
    const aliceEp = new MsrpEndpoint()
    endpoints.push(aliceEp)
    const session = aliceEp.createSession(alicePlan.localUri, alicePlan.remotePath)
    const failure = await openPlannedSession(aliceEp, alicePlan, { session, ...p2pDial() }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(failure).toBeInstanceOf(SdpError)
    expect((failure as SdpError).failure).toMatchObject({
      _tag: 'SdpFailure',
      reason: 'FingerprintMismatch',
      attribute: 'fingerprint'
    })
    expect(session.closed).toBe(true)
    expect(session.connection).toBeUndefined()
    // Bob's side of the TLS connection: closed by Alice, without a single byte (no binding SEND, no session URI).
    const bobSide = record(await accepted)
    expect(await bobSide.ended).toEqual({ kind: 'complete' })
    expect(bobSide.total()).toBe(0)
  })

  it('C-14.4-2: with requireFingerprint, an answer without a=fingerprint is refused and nothing is dialed', async () => {
    const { alicePlan, bobListener } = await setUp(null)
    listeners.push(bobListener)
    expect(alicePlan.peerFingerprint).toBeUndefined()
    const aliceEp = new MsrpEndpoint()
    endpoints.push(aliceEp)
    const calls: MsrpUri[] = []
    const failure = await openPlannedSession(aliceEp, alicePlan, { ...p2pDial(calls), requireFingerprint: true }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect((failure as SdpError).failure).toMatchObject({ reason: 'AttributeMissing', attribute: 'fingerprint' })
    expect(calls).toEqual([])
  })

  it('a fingerprint plan without options.dial is a programmer error (TypeError), nothing is connected', async () => {
    const { alicePlan, bobListener } = await setUp()
    listeners.push(bobListener)
    const aliceEp = new MsrpEndpoint({ dial: { rejectUnauthorized: false } })
    endpoints.push(aliceEp)
    await expect(openPlannedSession(aliceEp, alicePlan)).rejects.toThrow(/a=fingerprint.*needs options\.dial/)
  })
})
