/**
 * RFC 5547 file transfer through the offer/answer helpers: push and pull answers (§8.3), and resuming an interrupted
 * transfer with a new offer whose a=file-range asks for the missing bytes (§8.1, §8.7).
 */
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { buildAnswer, buildOffer } from '../../src/sdp/offer-answer'
import { parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { negotiate } from '../../src/sdp/session-plan'
import { buildResumeOffer, fileOffsetOf, missingRange, sendRangeFor } from '../../src/sdp/file-transfer'
import { left, right } from '../helpers/either'

const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia

const ALICE = ['msrp://10.0.0.1:7001/alice;tcp']
const BOB = ['msrp://10.0.0.2:7002/bob;tcp']
const HASH = { algorithm: 'sha-1', value: '72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E' }
const SELECTOR = {
  name: 'My cool picture.jpg',
  type: { type: 'image', subtype: 'jpeg', params: [] },
  size: 4092,
  hashes: [HASH]
}

describe('RFC 5547 file transfer', () => {
  it('F-8.3.1-1: a push answer is recvonly, copies the selector and id, and adds no icon, disposition or date', () => {
    const offer = right(
      buildOffer({
        path: ALICE,
        direction: 'sendonly',
        acceptTypes: ['message/cpim'],
        file: {
          selector: SELECTOR,
          transferId: 'Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE',
          disposition: 'render',
          date: { creation: 'Mon, 15 May 2006 15:01:31 +0300' },
          icon: 'cid:id2@alicepc.example.com'
        }
      })
    )
    const answer = one(right(buildAnswer(offer, { path: BOB })))
    expect(answer.direction).toBe('recvonly')
    expect(answer.file).toEqual({ selector: SELECTOR, transferId: 'Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE' })
    const plan = right(negotiate(one(offer), answer, 'offerer'))
    expect(plan).toMatchObject({ send: true, receive: false, file: { transferId: 'Q6LMoGymJdh0IKIgD6wD0jkcfgva4xvE' } })
  })

  it('F-8.3.2-1: a pull answer is sendonly and may add the hash; the id is copied, never changed (F-8.1-1)', () => {
    const offer = right(
      buildOffer({
        path: ALICE,
        direction: 'recvonly',
        file: { selector: { name: 'a.txt', hashes: [] }, transferId: 'pull1' }
      })
    )
    const answer = one(
      right(buildAnswer(offer, { path: BOB, file: { selector: { name: 'a.txt', size: 10, hashes: [HASH] } } }))
    )
    expect(answer).toMatchObject({
      direction: 'sendonly',
      file: { transferId: 'pull1', selector: { size: 10, hashes: [HASH] } }
    })
    expect(left(buildAnswer(offer, { path: BOB, file: { transferId: 'other' } }))).toMatchObject({
      reason: 'FileTransferInvalid',
      attribute: 'file-transfer-id'
    })
  })

  it('F-8.1-2: a rejected file stream mirrors the selector and the id with port 0', () => {
    const offer = right(
      buildOffer({ path: ALICE, direction: 'sendonly', file: { selector: SELECTOR, transferId: 'push1' } })
    )
    const rejected = one(right(buildAnswer(offer, () => undefined)))
    expect(rejected).toMatchObject({ port: 0, file: { selector: SELECTOR, transferId: 'push1' } })
  })

  it('RFC 5547 §8.2: an offer without selector, id or direction is refused, naming the attribute', () => {
    expect(left(buildOffer({ path: ALICE, direction: 'sendonly', file: { transferId: 'x' } }))).toMatchObject({
      reason: 'FileTransferInvalid',
      attribute: 'file-selector'
    })
    expect(left(buildOffer({ path: ALICE, direction: 'sendonly', file: { selector: SELECTOR } }))).toMatchObject({
      attribute: 'file-transfer-id'
    })
    expect(
      left(
        buildOffer({
          path: ALICE,
          direction: 'sendonly',
          file: { selector: { name: 'n', hashes: [] }, transferId: 'x' }
        })
      )
    ).toMatchObject({ detail: expect.stringContaining('F-8.2.1-1') })
    expect(left(buildOffer({ path: ALICE, file: { selector: SELECTOR, transferId: 'x' } }))).toMatchObject({
      attribute: 'file-selector'
    })
  })

  it('missingRange: the smallest range covering every byte not received, or none when complete', () => {
    expect(missingRange([{ start: 1, end: 40 }], 100)).toEqual({ start: 41, stop: 100 })
    expect(
      missingRange(
        [
          { start: 1, end: 40 },
          { start: 61, end: 100 }
        ],
        100
      )
    ).toEqual({ start: 41, stop: 60 })
    expect(missingRange([{ start: 20, end: 100 }], 100)).toEqual({ start: 1, stop: 19 })
    expect(
      missingRange(
        [
          { start: 1, end: 60 },
          { start: 30, end: 100 }
        ],
        100
      )
    ).toBeUndefined()
    expect(missingRange([], undefined)).toEqual({ start: 1, stop: '*' })
    expect(missingRange([{ start: 1, end: 7 }], undefined)).toEqual({ start: 8, stop: '*' })
  })

  it('missingRange covers every missing byte and no byte before the first gap (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.nat(50)), { maxLength: 6 }),
        (size, spans) => {
          const received = spans.map(([s, n]) => ({ start: s, end: Math.min(size, s + n) }))
          const have = (b: number): boolean => received.some((r) => r.start <= b && b <= r.end)
          const range = missingRange(received, size)
          const missing = Array.from({ length: size }, (_, i) => i + 1).filter((b) => !have(b))
          if (missing.length === 0) return expect(range).toBeUndefined()
          expect(range).toEqual({ start: missing[0], stop: missing[missing.length - 1] })
        }
      )
    )
  })

  it('F-8.1-2, F-8.7-1: a receiver resumes with a new id and a=file-range; the sender sends exactly that range', () => {
    // Alice pushed the file; the connection broke after Bob had bytes 1-1000 of 4092.
    const pushed = one(
      right(buildOffer({ path: ALICE, direction: 'sendonly', file: { selector: SELECTOR, transferId: 'first' } }))
    )
    expect(left(buildResumeOffer(pushed, [{ start: 1, end: 1000 }], { path: BOB, transferId: 'first' }))).toMatchObject(
      {
        reason: 'FileTransferInvalid',
        attribute: 'file-transfer-id'
      }
    )
    const resume = right(buildResumeOffer(pushed, [{ start: 1, end: 1000 }], { path: BOB, transferId: 'second' }))
    const offered = one(resume)
    expect(offered).toMatchObject({
      direction: 'recvonly',
      file: { selector: SELECTOR, transferId: 'second', range: { start: 1001, stop: 4092 } }
    })
    expect(resume).toContain('a=file-range:1001-4092\r\n')
    // Alice answers the pull: she echoes the range (F-8.3.2-1) and sends bytes 1001-4092 as one message.
    const answer = one(right(buildAnswer(resume, { path: ALICE })))
    expect(answer).toMatchObject({
      direction: 'sendonly',
      file: { transferId: 'second', range: { start: 1001, stop: 4092 } }
    })
    const alicePlan = right(negotiate(answer, offered, 'answerer'))
    expect(sendRangeFor(alicePlan.file, 4092)).toEqual(E.right({ offset: 1000, length: 3092 }))
    // Bob writes MSRP byte n of that message at file position n - 1 + 1000.
    expect(fileOffsetOf(right(negotiate(offered, answer, 'offerer')).file)).toBe(1000)
    expect(left(buildResumeOffer(pushed, [{ start: 1, end: 4092 }], { path: BOB, transferId: 'third' }))).toMatchObject(
      {
        attribute: 'file-range'
      }
    )
  })

  it('sendRangeFor: the whole file without a range, * up to the end, and a range past the end refused', () => {
    expect(sendRangeFor(undefined, 10)).toEqual(E.right({ offset: 0, length: 10 }))
    expect(sendRangeFor({ range: { start: 4, stop: '*' } }, 10)).toEqual(E.right({ offset: 3, length: 7 }))
    expect(left(sendRangeFor({ range: { start: 4, stop: 11 } }, 10))).toMatchObject({ attribute: 'file-range' })
  })
})
