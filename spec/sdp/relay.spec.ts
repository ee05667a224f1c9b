/**
 * A session behind a relay (RFC 4976) set up from an SDP offer/answer: the relayed side offers the path its relay
 * granted, connects to its relay whatever its a=setup role (S-4.5-1), and sends the binding SEND only when active.
 */
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { listenTcp } from '../../src/transport/tcp'
import { newSessionId } from '../../src/wire/ids'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpSession } from '../../src/session/session'
import { MsrpRelay } from '../../src/relay/relay'
import { createAuthHandler } from '../../src/relay/auth'
import { createRegistry } from '../../src/relay/registry'
import { memoryCredentials } from '../../src/relay/credentials'
import { buildAnswer, buildOffer, type AnswerSetup } from '../../src/sdp/offer-answer'
import { parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { negotiate, openPlannedSession } from '../../src/sdp/session-plan'
import { start } from '../transport/helpers'
import { right } from '../helpers/either'

const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia

/**
 * Resolves once the passive session is bound: the active side's connect resolves on its relay's hop-by-hop 200
 * (R-3-1), possibly before the binding SEND reached the far end. (No endpoint API says "bound" yet: reported.)
 */
async function bound(session: MsrpSession): Promise<void> {
  for (let i = 0; i < 400 && session.connection === undefined; i++) await new Promise((r) => setTimeout(r, 5))
  expect(session.connection).toBeDefined()
}

async function exchange(from: MsrpSession, to: MsrpSession, body: string): Promise<string> {
  const incoming = firstValueFrom(to.messages$)
  const events = lastValueFrom(from.send(body).pipe(toArray()))
  const received = new TextDecoder().decode(await (await incoming).collect())
  expect((await events).pop()).toMatchObject({ type: 'done' })
  return received
}

describe('an offerer behind a relay, an answerer without one (loopback TCP)', () => {
  it.each<AnswerSetup>(['passive', 'active'])('answer %s: the session is set up through the relay', async (setup) => {
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'sdp', credentials: memoryCredentials({ alice: 'pw' }), registry })
    const relay = new MsrpRelay({ auth, registry })
    const relayListener = await start(listenTcp({ host: '127.0.0.1', port: 0 }))
    const relayUri = `msrp://127.0.0.1:${relayListener.listener.address.port};tcp`
    relay.serve(relayListener.listener, relayUri)
    const bobListener = await start(listenTcp({ host: '127.0.0.1', port: 0 }))
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint()
    bobEp.serve(bobListener.listener)
    try {
      // Alice authenticates first: her a=path is the relay's Use-Path reversed, then her own URI (R-5.1-4).
      const aliceSession = aliceEp.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
      const registration = await aliceEp.authenticate(aliceSession, relayUri, {
        username: 'alice',
        password: 'pw',
        allowInsecure: true
      })
      const offer = right(buildOffer({ path: registration.path, acceptTypes: ['text/plain'] }))
      expect(one(offer).path).toHaveLength(2)
      const bobUri = `msrp://127.0.0.1:${bobListener.listener.address.port}/${newSessionId()};tcp`
      const answer = right(buildAnswer(offer, { path: [bobUri], setup }))

      const alicePlan = right(negotiate(one(offer), one(answer), 'offerer'))
      const bobPlan = right(negotiate(one(answer), one(offer), 'answerer'))
      expect(alicePlan).toMatchObject({ viaRelay: true, active: setup === 'passive', connectTo: undefined })
      expect(bobPlan.active).toBe(setup === 'active')
      if (bobPlan.active) expect(bobPlan.connectTo).toMatchObject({ host: '127.0.0.1' }) // the relay, Alice's first hop

      const [first, second] = alicePlan.active ? (['bob', 'alice'] as const) : (['alice', 'bob'] as const)
      const open = (who: 'alice' | 'bob') =>
        who === 'alice'
          ? openPlannedSession(aliceEp, alicePlan, { session: aliceSession })
          : openPlannedSession(bobEp, bobPlan)
      const sessions = { [first]: await open(first) } as Record<'alice' | 'bob', MsrpSession>
      sessions[second] = await open(second)
      await bound(sessions[first])
      expect(await exchange(sessions.bob, sessions.alice, 'to Alice via her relay')).toBe('to Alice via her relay')
      // Alice → Bob: when Bob connected to her relay (answer active), the relay reuses Bob's connection (RFC 4975
      // §5.4) rather than dialing Bob's URI, where his session, bound to the first connection, would answer 506.
      expect(await exchange(sessions.alice, sessions.bob, 'and back')).toBe('and back')
      // Without its grant a relayed plan cannot be opened (S-4.5-1).
      await expect(openPlannedSession(aliceEp, alicePlan)).rejects.toThrow(/not authenticated/)
    } finally {
      aliceEp.close()
      bobEp.close()
      await relay.close()
      relayListener.stop()
      bobListener.stop()
    }
  })
})
