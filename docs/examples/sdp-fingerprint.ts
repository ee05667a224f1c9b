/**
 * Peer-to-peer MSRP over TLS with a self-signed certificate, verified by the SDP fingerprint instead of a CA
 * (RFC 4975 §14.4; docs/sip-integration.md): Bob listens with a certificate nobody signed and puts its digest in his
 * answer (`a=fingerprint`); Alice connects without CA verification, and `openPlannedSession` checks the certificate
 * Bob presents against that digest before her binding SEND goes out. With another digest in the answer, Alice's
 * session is torn down with a `FingerprintMismatch` (C-14.4-3).
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { X509Certificate } from 'node:crypto'
import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, type Subscription } from 'rxjs'
import {
  dial,
  listenTls,
  MsrpEndpoint,
  newSessionId,
  selfSignedCertificate,
  type Listener,
  type MsrpUri,
  type SdpFailure
} from '../../src'
import {
  buildAnswer,
  buildOffer,
  certificateFingerprint,
  negotiate,
  openPlannedSession,
  parseMsrpMedia,
  SdpError
} from '../../src/sdp'

export interface FingerprintExampleResult {
  readonly answer: string
  /** What Bob received, when Alice's check passed. */
  readonly received: string | undefined
  /** Why Alice tore the session down, when it did not. */
  readonly failure: SdpFailure | undefined
}

const orThrow = <A>(e: E.Either<{ readonly detail: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.detail)
  return e.right
}

/** The one MSRP m-line of an SDP. */
const msrpMedia = (sdp: string) => {
  const [first] = orThrow(parseMsrpMedia(sdp))
  if (first === undefined) throw new Error('no MSRP m-line')
  return first
}

/** Listens on TLS and keeps listening until the subscription ends. */
function listen(host: string, cert: string, key: string): Promise<{ listener: Listener; subscription: Subscription }> {
  return new Promise((resolve, reject) => {
    const subscription = listenTls({ host, port: 0, cert, key }).subscribe({
      next: (listener) => resolve({ listener, subscription }),
      error: reject
    })
  })
}

export async function main(
  options: {
    host?: string
    text?: string
    answerWithAStrangersFingerprint?: boolean
    log?: (line: string) => void
  } = {}
): Promise<FingerprintExampleResult> {
  const host = options.host ?? '127.0.0.1'
  const log = options.log ?? console.log
  // Bob's self-signed certificate (yours may come from a file: `new X509Certificate(pem).raw` is its DER).
  const bobCert = selfSignedCertificate({ hosts: [host] })
  const bob = await listen(host, bobCert.cert, bobCert.key)
  const endpoints: MsrpEndpoint[] = []
  try {
    const offer = orThrow(
      buildOffer({ path: [`msrps://${host}:9/${newSessionId()};tcp`], acceptTypes: ['text/plain'] })
    )

    // Bob answers with the fingerprint of his certificate (C-14.4-2).
    const der = options.answerWithAStrangersFingerprint ? selfSignedCertificate().cert : bobCert.cert
    const fingerprint = orThrow(await certificateFingerprint(new X509Certificate(der).raw))
    const bobUri = `msrps://${host}:${bob.listener.address.port}/${newSessionId()};tcp`
    const answer = orThrow(buildAnswer(offer, { path: [bobUri], fingerprint }))
    log(`answer:\n${answer}`)

    const alicePlan = orThrow(negotiate(msrpMedia(offer), msrpMedia(answer), 'offerer'))
    const bobPlan = orThrow(negotiate(msrpMedia(answer), msrpMedia(offer), 'answerer'))
    const aliceEndpoint = new MsrpEndpoint()
    const bobEndpoint = new MsrpEndpoint()
    endpoints.push(aliceEndpoint, bobEndpoint)
    bobEndpoint.serve(bob.listener)
    const bobSession = await openPlannedSession(bobEndpoint, bobPlan)

    // Alice skips CA verification (the certificate is self-signed) and checks Bob's a=fingerprint instead.
    const p2p = {
      dial: (uri: MsrpUri) => firstValueFrom(dial(uri, { rejectUnauthorized: false })),
      requireFingerprint: true
    }
    try {
      const aliceSession = await openPlannedSession(aliceEndpoint, alicePlan, p2p)
      const incoming = firstValueFrom(bobSession.messages$)
      await lastValueFrom(aliceSession.send(options.text ?? 'Hi, Bob!'))
      const received = new TextDecoder().decode(await (await incoming).collect())
      log(`Bob received: ${received}`)
      return { answer, received, failure: undefined }
    } catch (e) {
      if (!(e instanceof SdpError)) throw e
      log(`torn down: ${e.failure.reason}`) // FingerprintMismatch (C-14.4-3)
      return { answer, received: undefined, failure: e.failure }
    }
  } finally {
    for (const e of endpoints) e.close()
    bob.subscription.unsubscribe()
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e)
    process.exitCode = 1
  })
}
