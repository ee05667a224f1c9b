/**
 * An MSRP session set up from an SDP offer/answer, as a SIP stack would carry it (docs/sip-integration.md): Alice
 * offers, Bob answers, and each side takes everything its session needs from the plan `negotiate` draws from the two
 * SDPs: its own URI, the peer's path, who connects (RFC 6135), accepted types and max-size (RFC 4975 §8.6).
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, type Subscription } from 'rxjs'
import { dial, listenTcp, MsrpEndpoint, newSessionId, type Listener } from '../../src'
import {
  buildAnswer,
  buildOffer,
  negotiate,
  openPlannedSession,
  parseMsrpMedia,
  sessionOptionsFor
} from '../../src/sdp'

export interface SdpExampleResult {
  readonly offer: string
  readonly answer: string
  /** Whether Alice (the offerer) opened the connection. */
  readonly aliceConnected: boolean
  readonly received: string
}

/** Listens on loopback and keeps listening until `stop` (a listener lives while its observable is subscribed). */
function listen(host: string): Promise<{ listener: Listener; subscription: Subscription }> {
  return new Promise((resolve, reject) => {
    const subscription = listenTcp({ host, port: 0 }).subscribe({
      next: (listener) => resolve({ listener, subscription }),
      error: reject
    })
  })
}

/** The one MSRP m-line of an SDP, or an error naming what is wrong with it. */
function msrpMedia(sdp: string) {
  const media = parseMsrpMedia(sdp)
  if (E.isLeft(media)) throw new Error(media.left.detail)
  const [first] = media.right
  if (first === undefined) throw new Error('no MSRP m-line')
  return first
}

const orThrow = <A>(e: E.Either<{ readonly detail: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.detail)
  return e.right
}

export async function main(
  options: { host?: string; text?: string; log?: (line: string) => void } = {}
): Promise<SdpExampleResult> {
  const host = options.host ?? '127.0.0.1'
  const log = options.log ?? console.log
  const alice = await listen(host)
  const bob = await listen(host)
  const endpoints: MsrpEndpoint[] = []
  try {
    // 1. Alice's offer: her session URI (the port she listens on), what she accepts, at most 1 MiB per message.
    const aliceUri = `msrp://${host}:${alice.listener.address.port}/${newSessionId()};tcp`
    const offer = orThrow(
      buildOffer({ path: [aliceUri], acceptTypes: ['text/plain', 'message/cpim'], maxSize: 1 << 20 })
    )
    log(`offer:\n${offer}`)

    // 2. Bob receives the offer text (in a SIP INVITE) and answers with his own path; he accepts text only.
    const bobUri = `msrp://${host}:${bob.listener.address.port}/${newSessionId()};tcp`
    const answer = orThrow(buildAnswer(offer, { path: [bobUri], acceptTypes: ['text/plain'] }))
    log(`answer:\n${answer}`)

    // 3. Each side plans its session from the two SDPs, and sets up its endpoint from the plan.
    const alicePlan = orThrow(negotiate(msrpMedia(offer), msrpMedia(answer), 'offerer'))
    const bobPlan = orThrow(negotiate(msrpMedia(answer), msrpMedia(offer), 'answerer'))
    const aliceEndpoint = new MsrpEndpoint(sessionOptionsFor(alicePlan))
    const bobEndpoint = new MsrpEndpoint(sessionOptionsFor(bobPlan))
    endpoints.push(aliceEndpoint, bobEndpoint)
    aliceEndpoint.serve(alice.listener)
    bobEndpoint.serve(bob.listener)

    // 4. The passive side first, then the active one connects (actpass offer, passive answer: Alice connects).
    const dialer = { dial: (uri: Parameters<typeof dial>[0]) => firstValueFrom(dial(uri)) }
    const bobSession = await openPlannedSession(bobEndpoint, bobPlan, dialer)
    const aliceSession = await openPlannedSession(aliceEndpoint, alicePlan, dialer)

    // 5. A message from Alice to Bob: To-Path is Bob's a=path.
    const incoming = firstValueFrom(bobSession.messages$)
    await lastValueFrom(aliceSession.send(options.text ?? 'Hi, Bob!'))
    const message = await incoming
    const received = new TextDecoder().decode(await message.collect())
    log(`Bob received: ${received}`)
    return { offer, answer, aliceConnected: alicePlan.active, received }
  } finally {
    for (const e of endpoints) e.close()
    alice.subscription.unsubscribe()
    bob.subscription.unsubscribe()
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e)
    process.exitCode = 1
  })
}
