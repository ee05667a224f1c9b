/**
 * Offer/answer (src/sdp/offer-answer.ts) and the session plan each side draws from it (src/sdp/session-plan.ts):
 * every combination of a=setup (RFC 6135), CEMA (RFC 6714) and relay paths of 1–3 URIs (RFC 4976) on either side.
 */
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { formatUri } from '../../src/wire/uri'
import {
  acceptTypesOverlap,
  buildAnswer,
  buildOffer,
  type AnswerSetup,
  type OfferSetup
} from '../../src/sdp/offer-answer'
import { formatMsrpMedia, parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { maySend, negotiate, sessionOptionsFor, type SessionPlan } from '../../src/sdp/session-plan'
import { arbFormatList, arbSdpUri } from './arbitraries'
import { left, right } from '../helpers/either'

const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia

/** A path of `relays` relay URIs (as RFC 4976 §5.1 orders them for SDP) then the endpoint's own URI. */
const pathOf = (side: 1 | 2, relays: number): string[] => [
  ...Array.from({ length: relays }, (_, i) => `msrp://10.${side}.0.${relays - i}:9000/relay${side}${i};tcp`),
  `msrp://10.0.0.${side}:700${side}/own${side};tcp`
]

type Role = OfferSetup | 'none'
const OFFER_SETUPS: readonly Role[] = ['actpass', 'active', 'none']
const ANSWER_SETUPS: ReadonlyArray<AnswerSetup | undefined> = [undefined, 'active', 'passive']
const RELAYS = [0, 1, 2] // paths of 1, 2 and 3 URIs
const combos = OFFER_SETUPS.flatMap((offerSetup) =>
  ANSWER_SETUPS.flatMap((answerSetup) =>
    [false, true].flatMap((offerCema) =>
      [false, true].flatMap((answerCema) =>
        RELAYS.flatMap((offerRelays) =>
          RELAYS.map((answerRelays) => ({ offerSetup, answerSetup, offerCema, answerCema, offerRelays, answerRelays }))
        )
      )
    )
  )
).filter((c) => !(c.offerSetup === 'none' && c.offerCema)) // a CEMA offer always has a=setup (M-4.2-2)

describe('offer/answer and session plans', () => {
  it.each(combos)(
    'setup $offerSetup/$answerSetup, CEMA $offerCema/$answerCema, relays $offerRelays/$answerRelays',
    ({ offerSetup, answerSetup, offerCema, answerCema, offerRelays, answerRelays }) => {
      const offerPath = pathOf(1, offerRelays)
      const answerPath = pathOf(2, answerRelays)
      const built =
        offerSetup === 'none'
          ? formatMsrpMedia([{ path: offerPath, acceptTypes: ['text/plain'] }]) // an RFC 4975-only offerer
          : buildOffer({ path: offerPath, setup: offerSetup, cema: offerCema, acceptTypes: ['text/plain'] })
      if (offerCema && offerRelays > 0 && offerSetup === 'active') {
        // M-4.2-3: a CEMA offerer behind a relay offers actpass.
        expect(left(built)).toMatchObject({ reason: 'SetupInvalid', attribute: 'setup' })
        return
      }
      const offer = right(built)
      const offered = one(offer)
      expect(offered.setup).toBe(offerSetup === 'none' ? undefined : offerSetup)

      const offererRelay = offerRelays > 0
      const answererRelay = answerRelays > 0
      const keepCema = answerCema && offerCema && offererRelay && !answererRelay && offerSetup === 'actpass'
      const setup = answerSetup ?? (keepCema ? 'active' : 'passive')
      const offererActive = setup === 'passive'
      const fallback = (offererRelay && answererRelay) || (offererRelay && offererActive)
      const cema = answerCema && offerCema && !fallback
      const answered = buildAnswer(offer, {
        path: answerPath,
        cema: answerCema,
        ...(answerSetup !== undefined ? { setup: answerSetup } : {})
      })
      // RFC 6135: both sides active cannot work (an offer without a=setup means the offerer connects, RFC 4975 §5.4);
      // RFC 6714 M-4.3-3: a CEMA answerer behind a relay is passive.
      if ((setup === 'active' && offerSetup !== 'actpass') || (cema && answererRelay && setup !== 'passive')) {
        expect(left(answered)).toMatchObject({ reason: 'SetupInvalid', attribute: 'setup', mediaIndex: 0 })
        return
      }
      const answer = one(right(answered))
      expect(answer.setup).toBe(setup) // S-4.2.1-1: always explicit
      expect(answer.cema).toBe(cema) // M-4.3-2, M-4.3-3
      expect(answer.acceptTypes).toEqual(['text/plain'])

      const o = right(negotiate(offered, answer, 'offerer'))
      const a = right(negotiate(answer, offered, 'answerer'))
      // Exactly one side sends the binding SEND: the answerer if it answered active (related.md §1.2 table).
      expect(o.active).toBe(setup !== 'active')
      expect(a.active).toBe(!o.active)
      // To-Path = the peer's a=path (RFC 4975 §8.2); From-Path = the own URI, the last of the own path.
      expect(o.remotePath).toEqual(answerPath)
      expect(a.remotePath).toEqual(offerPath)
      expect(o.localUri).toBe(offerPath[offerPath.length - 1])
      expect(a.localUri).toBe(answerPath[answerPath.length - 1])
      // S-4.5-1: a side behind a relay connects to its relay, whatever its role; a relay-less active side dials the
      // peer's first hop (the peer's relay, or the peer), which with CEMA is the c/m-line, equal here (no middlebox).
      for (const [plan, remote] of [
        [o, answerPath],
        [a, offerPath]
      ] as const) {
        expect(plan.viaRelay).toBe(plan.localPath.length > 1)
        const to = plan.connectTo
        if (plan.active && !plan.viaRelay)
          expect(`${to?.host}:${to?.port}`).toBe(/\/\/([^/;]+)/.exec(remote[0] ?? '')?.[1])
        else expect(to).toBeUndefined()
      }
      expect(o.cema).toBe(cema)
      expect(a.cema).toBe(cema)
      expect(o.newOfferWithoutCema).toBe(false) // no middlebox: c/m always matches a path URI
    }
  )

  it('any paths, types and sizes: the two plans mirror each other (fast-check build → parse → negotiate)', () => {
    const arbPath = fc.array(arbSdpUri, { minLength: 1, maxLength: 3 })
    const arbSide = fc.record({
      path: arbPath,
      acceptTypes: arbFormatList,
      maxSize: fc.option(fc.nat(), { nil: undefined })
    })
    fc.assert(
      fc.property(arbSide, arbSide, fc.constantFrom<AnswerSetup>('active', 'passive'), (offerer, answerer, setup) => {
        const offer = one(right(buildOffer({ ...offerer, setup: 'actpass' })))
        const answered = buildAnswer([offer], { ...answerer, setup })
        if (!acceptTypesOverlap(offerer.acceptTypes, answerer.acceptTypes)) {
          expect(left(answered)).toMatchObject({ reason: 'NoCommonType', attribute: 'accept-types' }) // C-8.6-6
          return
        }
        const answer = one(right(answered))
        const o = right(negotiate(offer, answer, 'offerer'))
        const a = right(negotiate(answer, offer, 'answerer'))
        expect(o.active).toBe(!a.active)
        expect(o.remotePath).toEqual(a.localPath)
        expect(a.remotePath).toEqual(o.localPath)
        expect(o.localPath).toEqual(offerer.path.map(formatUri))
        expect([o.sendTypes, o.maxSendBytes]).toEqual([a.acceptTypes, a.maxReceiveBytes])
        expect([a.sendTypes, a.maxSendBytes]).toEqual([o.acceptTypes, o.maxReceiveBytes])
        expect(a.acceptTypes).toEqual(answerer.acceptTypes)
      }),
      { numRuns: 150 }
    )
  })

  it('RFC 6135: passive and holdconn are never offered (S-4.2.2-4, S-4.2.1-3); a received holdconn counts as none', () => {
    const path = pathOf(1, 0)
    expect(left(buildOffer({ path, setup: 'passive' as OfferSetup }))).toMatchObject({ reason: 'SetupInvalid' })
    expect(left(buildOffer({ path, setup: 'holdconn' as OfferSetup }))).toMatchObject({ reason: 'SetupInvalid' })
    expect(left(buildOffer({ path: pathOf(1, 1), setup: 'active', cema: true }))).toMatchObject({
      reason: 'SetupInvalid',
      detail: expect.stringContaining('M-4.2-3')
    })
    const holdconn = one(right(formatMsrpMedia([{ path, setup: 'holdconn' }])))
    expect(one(right(buildAnswer([holdconn], { path: pathOf(2, 0) }))).setup).toBe('passive')
    expect(left(buildAnswer([holdconn], { path: pathOf(2, 0), setup: 'active' }))).toMatchObject({
      reason: 'SetupInvalid'
    })
  })

  it('M-4.2-6, M-4.3-4: with CEMA the active side dials the c/m-line a middlebox wrote, not the a=path URI', () => {
    const offer = right(buildOffer({ path: pathOf(1, 0), cema: true }))
    const viaSbc = offer.replace(/10\.0\.0\.1/g, '10.0.0.1').replace('c=IN IP4 10.0.0.1', 'c=IN IP4 192.0.2.99')
    const rewritten = viaSbc.replace('m=message 7001', 'm=message 40000')
    const answer = one(right(buildAnswer(rewritten, { path: pathOf(2, 0), cema: true, setup: 'active' })))
    expect(answer.cema).toBe(true)
    const plan = right(negotiate(answer, one(rewritten), 'answerer'))
    expect(plan.active).toBe(true)
    expect(plan.remotePath).toEqual(pathOf(1, 0)) // To-Path keeps the unmodified URI
    expect(formatUri(plan.connectTo!)).toBe('msrp://192.0.2.99:40000;tcp')
  })

  it('M-4.3-1: a CEMA answerer refuses an offer without a=msrp-cema whose c/m-line matches no path URI', () => {
    const offer = right(buildOffer({ path: pathOf(1, 0) })).replace('c=IN IP4 10.0.0.1', 'c=IN IP4 192.0.2.99')
    expect(left(buildAnswer(offer, { path: pathOf(2, 0), cema: true }))).toMatchObject({
      reason: 'CemaMismatch',
      attribute: 'msrp-cema'
    })
    // A non-CEMA answerer does not look (RFC 4975 ignores c/m-lines).
    expect(E.isRight(buildAnswer(offer, { path: pathOf(2, 0) }))).toBe(true)
  })

  it('M-4.2-4: a CEMA offerer whose answer lost msrp-cema behind a middlebox must offer again without it', () => {
    const offered = one(right(buildOffer({ path: pathOf(1, 0), cema: true })))
    const answer = one(
      right(buildAnswer([offered], { path: pathOf(2, 0), setup: 'active' })).replace(
        'c=IN IP4 10.0.0.2',
        'c=IN IP4 192.0.2.7'
      )
    )
    expect(right(negotiate(offered, answer, 'offerer'))).toMatchObject({ cema: false, newOfferWithoutCema: true })
  })

  it('RFC 4975 §8.6: each side accepts its own types and may send the peer’s; max-size goes both ways', () => {
    const offered = one(
      right(
        buildOffer({
          path: pathOf(1, 0),
          acceptTypes: ['message/cpim', 'text/plain'],
          acceptWrappedTypes: ['*'],
          maxSize: 1000
        })
      )
    )
    const answer = one(right(buildAnswer([offered], { path: pathOf(2, 0), acceptTypes: ['text/*'], maxSize: 5 })))
    const plan: SessionPlan = right(negotiate(offered, answer, 'offerer'))
    expect(plan).toMatchObject({
      acceptTypes: ['message/cpim', 'text/plain'],
      sendTypes: ['text/*'],
      maxReceiveBytes: 1000,
      maxSendBytes: 5
    })
    expect(maySend(plan, 'text/html')).toBe(true)
    expect(maySend(plan, 'image/png')).toBe(false)
    expect(sessionOptionsFor(plan)).toEqual({
      acceptTypes: ['message/cpim', 'text/plain'],
      reassembly: { maxMessageBytes: 1000 }
    })
  })

  it('RFC 4975 §8.9: sendonly/recvonly decide who may send regular messages; a port-0 answer rejects the stream', () => {
    const offered = one(right(buildOffer({ path: pathOf(1, 0), direction: 'sendonly' })))
    const answer = one(right(buildAnswer([offered], { path: pathOf(2, 0) })))
    expect(answer.direction).toBe('recvonly')
    expect(right(negotiate(offered, answer, 'offerer'))).toMatchObject({ send: true, receive: false })
    expect(right(negotiate(answer, offered, 'answerer'))).toMatchObject({ send: false, receive: true })
    const rejected = one(right(buildAnswer([offered], () => undefined)))
    expect(rejected.port).toBe(0)
    expect(left(negotiate(offered, rejected, 'offerer'))).toMatchObject({ reason: 'MediaRejected' })
  })
})
