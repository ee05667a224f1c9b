/**
 * Sessions set up from nothing but an SDP offer/answer built by src/sdp: two endpoints on loopback TCP, each taking
 * its session, its peer's path, who connects, its accepted types and its size limit from its `SessionPlan`.
 */
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { listenTcp } from '../../src/transport/tcp'
import { start, type Running } from '../transport/helpers'
import { newSessionId } from '../../src/wire/ids'
import { dial, MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpSession } from '../../src/session/session'
import { buildAnswer, buildOffer, type AnswerMediaOptions, type OfferMediaOptions } from '../../src/sdp/offer-answer'
import { parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { negotiate, openPlannedSession, sessionOptionsFor, type SessionPlan } from '../../src/sdp/session-plan'
import { right } from '../helpers/either'

const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

interface Side {
  readonly endpoint: MsrpEndpoint
  readonly session: MsrpSession
  readonly plan: SessionPlan
}

/**
 * Alice offers, Bob answers, each over its own listener; only the SDP texts cross between them (as through SIP).
 * Returns both sides once the active one has connected (binding SEND accepted).
 */
async function setUp(
  offer: (path: string[]) => OfferMediaOptions,
  answer: (path: string[]) => AnswerMediaOptions
): Promise<{ alice: Side; bob: Side; close: () => Promise<void> }> {
  const running: Running[] = await Promise.all([
    start(listenTcp({ host: '127.0.0.1', port: 0 })),
    start(listenTcp({ host: '127.0.0.1', port: 0 }))
  ])
  const [aliceListener, bobListener] = running.map((r) => r.listener) as [Running['listener'], Running['listener']]
  const aliceUri = `msrp://127.0.0.1:${aliceListener.address.port}/${newSessionId()};tcp`
  const bobUri = `msrp://127.0.0.1:${bobListener.address.port}/${newSessionId()};tcp`

  const offerSdp = right(buildOffer(offer([aliceUri])))
  const answerSdp = right(buildAnswer(offerSdp, answer([bobUri]))) // Bob's side, from the offer text only
  const alicePlan = right(negotiate(one(offerSdp), one(answerSdp), 'offerer'))
  const bobPlan = right(negotiate(one(answerSdp), one(offerSdp), 'answerer'))

  const aliceEp = new MsrpEndpoint(sessionOptionsFor(alicePlan))
  const bobEp = new MsrpEndpoint(sessionOptionsFor(bobPlan))
  aliceEp.serve(aliceListener)
  bobEp.serve(bobListener)
  const options = { dial: (uri: Parameters<typeof dial>[0]) => firstValueFrom(dial(uri)) }
  // The passive side is ready first, then the active side connects.
  const [passive, active] = alicePlan.active ? (['bob', 'alice'] as const) : (['alice', 'bob'] as const)
  const sessions: Partial<Record<'alice' | 'bob', MsrpSession>> = {}
  const open = (who: 'alice' | 'bob') =>
    who === 'alice' ? openPlannedSession(aliceEp, alicePlan, options) : openPlannedSession(bobEp, bobPlan, options)
  sessions[passive] = await open(passive)
  sessions[active] = await open(active)
  return {
    alice: { endpoint: aliceEp, session: sessions.alice as MsrpSession, plan: alicePlan },
    bob: { endpoint: bobEp, session: sessions.bob as MsrpSession, plan: bobPlan },
    close: async () => {
      aliceEp.close()
      bobEp.close()
      for (const r of running) r.stop()
    }
  }
}

async function exchange(from: MsrpSession, to: MsrpSession, body: string): Promise<string> {
  const incoming = firstValueFrom(to.messages$)
  const events = lastValueFrom(from.send(body).pipe(toArray()))
  const message = await incoming
  const received = text(await message.collect())
  expect((await events).pop()).toMatchObject({ type: 'done' })
  return received
}

describe('sessions from an SDP offer/answer (loopback TCP)', () => {
  it('RFC 6135: offer actpass, answer passive → the offerer connects; messages flow both ways', async () => {
    const { alice, bob, close } = await setUp(
      (path) => ({ path, acceptTypes: ['text/plain'] }),
      (path) => ({ path })
    )
    expect([alice.plan.active, bob.plan.active]).toEqual([true, false])
    expect(await exchange(alice.session, bob.session, 'Hi, Bob!')).toBe('Hi, Bob!')
    expect(await exchange(bob.session, alice.session, 'Hi, Alice!')).toBe('Hi, Alice!')
    await close()
  })

  it('RFC 6135: answer active → the answerer connects to the offerer', async () => {
    const { alice, bob, close } = await setUp(
      (path) => ({ path }),
      (path) => ({ path, setup: 'active' })
    )
    expect([alice.plan.active, bob.plan.active]).toEqual([false, true])
    expect(bob.session.connection).toBeDefined()
    expect(await exchange(bob.session, alice.session, 'answerer first')).toBe('answerer first')
    await close()
  })

  it('C-7.3.1-4, RFC 4975 §8.6: a type outside the advertised accept-types is refused with 415', async () => {
    const { alice, bob, close } = await setUp(
      (path) => ({ path }),
      (path) => ({ path, acceptTypes: ['text/plain'] })
    )
    const refused = firstValueFrom(bob.session.messages$)
    await expect(lastValueFrom(alice.session.send('<p>hi</p>', { contentType: 'text/html' }))).rejects.toMatchObject({
      status: 415
    })
    expect(await (await refused).outcome).toMatchObject({ type: 'failed', status: 415 })
    await close()
  })

  it("C-8.6-8, F-8.7-1: the session refuses to send more than the peer's a=max-size, before writing anything", async () => {
    const { alice, bob, close } = await setUp(
      (path) => ({ path }),
      (path) => ({ path, maxSize: 100 })
    )
    try {
      expect(alice.session.remoteMaxSize).toBe(100)
      await expect(lastValueFrom(alice.session.send('x'.repeat(101)))).rejects.toMatchObject({
        reason: 'TooLarge',
        status: 413
      })
      expect(await exchange(alice.session, bob.session, 'y'.repeat(100))).toBe('y'.repeat(100))
    } finally {
      await close()
    }
  })

  it('RFC 6714: with CEMA the active side connects to the c/m-line address, and To-Path keeps the a=path URI', async () => {
    // Bob's a=path names a host nobody can reach; his c/m-line (as a media anchor would) names his listener.
    let bobPort = 0
    const { alice, bob, close } = await setUp(
      (path) => ({ path, cema: true }),
      (path) => {
        bobPort = Number(/:(\d+)\//.exec(path[0] ?? '')?.[1])
        return {
          path: [`msrp://bob.invalid:7777/${/\/([^/;]+);tcp$/.exec(path[0] ?? '')?.[1]};tcp`],
          cema: true,
          connection: { ipVer: 4, address: '127.0.0.1' },
          port: bobPort
        }
      }
    )
    expect(alice.plan).toMatchObject({ active: true, cema: true })
    expect(alice.plan.connectTo).toMatchObject({ host: '127.0.0.1', port: bobPort })
    expect(alice.session.remotePath[0]).toMatch(/^msrp:\/\/bob\.invalid:7777\//)
    expect(await exchange(alice.session, bob.session, 'anchored')).toBe('anchored')
    await close()
  })
})
