/**
 * C-8.6-6 (RFC 4975 §8.6): an answerer that understands none of the offered types rejects the offer through the
 * rendezvous protocol (SIP: 488). `buildAnswer` and `negotiate` fail with `NoCommonType`; the RFC examples are the
 * offers.
 */
import { formatMsrpMedia, parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { acceptTypesOverlap, buildAnswer } from '../../src/sdp/offer-answer'
import { negotiate } from '../../src/sdp/session-plan'
import { RFC_SDP_EXAMPLES } from './rfc-examples'
import { left, right } from '../helpers/either'

const example = (prefix: string): string => {
  const found = RFC_SDP_EXAMPLES.find((e) => e.name.startsWith(prefix))
  if (found === undefined) throw new Error(`no example ${prefix}`)
  return found.sdp
}
const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia
const BOB = ['msrp://bob.example.com:8888/9di4ea;tcp']

describe('C-8.6-6: no type in common → reject the offer (SIP 488)', () => {
  it('RFC 4975 Figure 7 (text/plain) answered by a UA that takes only message/cpim: NoCommonType, naming 488', () => {
    const failure = left(buildAnswer(example('RFC 4975 Figure 7'), { path: BOB, acceptTypes: ['message/cpim'] }))
    expect(failure).toMatchObject({
      _tag: 'SdpFailure',
      reason: 'NoCommonType',
      attribute: 'accept-types',
      mediaIndex: 0
    })
    expect(failure.detail).toContain('488')
  })

  it('RFC 4975 Figure 9 (message/cpim text/plain text/html) is answered by text/*, *, text/HTML, not image/*', () => {
    const offer = example('RFC 4975 Figure 9')
    for (const acceptTypes of [['text/*'], ['*'], ['text/HTML'], ['image/png', 'message/cpim']])
      expect(one(right(buildAnswer(offer, { path: BOB, acceptTypes }))).acceptTypes).toEqual(acceptTypes)
    expect(left(buildAnswer(offer, { path: BOB, acceptTypes: ['image/*', 'audio/ogg'] })).reason).toBe('NoCommonType')
  })

  it('RFC 5547 Figure 8: the wrapped types do not count, the container must be understood (C-8.6-4)', () => {
    // The push offer takes message/cpim with anything inside; an answerer that cannot read CPIM cannot take the file.
    const offer = example('RFC 5547 §9.1 Figure 8')
    expect(left(buildAnswer(offer, { path: BOB, acceptTypes: ['image/jpeg'] })).reason).toBe('NoCommonType')
    expect(right(buildAnswer(offer, { path: BOB, acceptTypes: ['message/cpim'] }))).toContain(
      'a=accept-types:message/cpim'
    )
  })

  it('an answer without acceptTypes takes the offer’s, and a rejected m-line (port 0) is no failure', () => {
    const offer = example('RFC 4975 Figure 7')
    expect(one(right(buildAnswer(offer, { path: BOB }))).acceptTypes).toEqual(['text/plain'])
    expect(one(right(buildAnswer(offer, () => undefined))).port).toBe(0)
  })

  it('negotiate refuses an offer/answer pair without a common type, on either side', () => {
    const offer = one(example('RFC 4975 Figure 7'))
    const answer = one(right(formatMsrpMedia([{ path: BOB, acceptTypes: ['image/png'] }])))
    expect(left(negotiate(offer, answer, 'offerer'))).toMatchObject({
      reason: 'NoCommonType',
      attribute: 'accept-types'
    })
    expect(left(negotiate(answer, offer, 'answerer'))).toMatchObject({ reason: 'NoCommonType' })
  })

  it.each([
    [['text/plain;charset=utf-8'], ['text/plain'], true],
    [['text/plain'], ['TEXT/Plain'], true],
    [['text/*'], ['text/html'], true],
    [['text/html'], ['text/*'], true],
    [['*'], ['application/x-anything'], true],
    [['image/png'], ['*'], true],
    [['text/*'], ['image/*'], false],
    [['message/cpim'], ['text/plain'], false],
    [['text/plain'], [], false]
  ])('acceptTypesOverlap(%j, %j) is %s', (a, b, expected) => {
    expect(acceptTypesOverlap(a, b)).toBe(expected)
    expect(acceptTypesOverlap(b, a)).toBe(expected)
  })
})
