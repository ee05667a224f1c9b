/**
 * Resuming an interrupted file transfer the RFC 5547 way, over real sockets: the receiver offers a pull of the bytes
 * it lacks (`buildResumeOffer`, a=file-range, a new a=file-transfer-id, F-8.1-2), the sender sends exactly that range
 * as a new MSRP message (`sendRangeFor`, F-8.7-1), and the receiver writes it at `fileOffsetOf` (RFC 5547 §8.7).
 */
import { createHash } from 'node:crypto'
import { firstValueFrom, lastValueFrom, type Subscription } from 'rxjs'
import { pseudoRandom } from '../helpers/bytes'
import { listenTcp } from '../../src/transport/tcp'
import type { Listener } from '../../src/transport/transport'
import { newSessionId } from '../../src/wire/ids'
import { buildAnswer, buildOffer } from '../../src/sdp/offer-answer'
import { parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { negotiate, type SessionPlan } from '../../src/sdp/session-plan'
import { buildResumeOffer, fileOffsetOf, sendRangeFor, type ReceivedRange } from '../../src/sdp/file-transfer'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpSession } from '../../src/session/session'
import { right } from '../helpers/either'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
/** The a=file-selector hash: SHA-1 of the whole file, as colon-separated hex pairs (RFC 5547 §6, F-6-3). */
const sha1 = (b: Uint8Array): string =>
  (createHash('sha1').update(b).digest('hex').toUpperCase().match(/../g) as string[]).join(':')
const one = (sdp: string): MsrpMedia => right(parseMsrpMedia(sdp))[0] as MsrpMedia

const SIZE = 1024 * 1024
const CHUNK_BYTES = 16 * 1024
const HALF = SIZE / 2

let listening: Subscription | undefined
let listener: Listener
let alice: MsrpEndpoint
let bob: MsrpEndpoint
beforeEach(async () => {
  listener = await new Promise<Listener>((resolve, reject) => {
    listening = listenTcp({ host: '127.0.0.1', port: 0 }).subscribe({ next: resolve, error: reject })
  })
  alice = new MsrpEndpoint({ chunkBytes: CHUNK_BYTES })
  bob = new MsrpEndpoint()
  bob.serve(listener)
})
afterEach(() => {
  alice.close()
  bob.close()
  listening?.unsubscribe()
})

/** Bob's side of one transfer: writes MSRP byte n of each message at file position n - 1 + fileOffsetOf(plan.file). */
function receiveInto(file: Uint8Array, received: ReceivedRange[], session: MsrpSession, plan: SessionPlan) {
  return firstValueFrom(session.messages$).then(async (message) => {
    let at = fileOffsetOf(plan.file)
    const from = at + 1
    try {
      for await (const piece of message.body) {
        file.set(piece, at)
        at += piece.length
      }
    } catch {
      // cut: what arrived in order is kept
    }
    if (at >= from) received.push({ start: from, end: at })
    return message.outcome
  })
}

describe('RFC 5547 file transfer, interrupted and resumed over TCP', () => {
  it('F-8.1-2, F-8.7-1: a push cut halfway is resumed by a pull of a=file-range; the receiver file has sha256 equal', async () => {
    const source = pseudoRandom(SIZE, 11)
    const selector = {
      name: 'big.bin',
      type: { type: 'application', subtype: 'octet-stream', params: [] },
      size: SIZE,
      hashes: [{ algorithm: 'sha-1', value: sha1(source) }]
    }
    const alicePath = [`msrp://127.0.0.1:9/${newSessionId()};tcp`]
    const bobUri = (): string => `msrp://127.0.0.1:${listener.address.port}/${newSessionId()};tcp`
    const target = new Uint8Array(SIZE)
    const received: ReceivedRange[] = []

    // 1. Alice pushes the file (sendonly); Bob answers recvonly. The offerer connects (no a=setup in the answer).
    const pushOffer = right(
      buildOffer({
        path: alicePath,
        direction: 'sendonly',
        acceptTypes: ['application/octet-stream'],
        file: { selector, transferId: 'transfer-1' }
      })
    )
    const pushAnswer = right(buildAnswer(pushOffer, { path: [bobUri()] }))
    const alicePlan1 = right(negotiate(one(pushOffer), one(pushAnswer), 'offerer'))
    const bobPlan1 = right(negotiate(one(pushAnswer), one(pushOffer), 'answerer'))
    expect([alicePlan1.active, bobPlan1.active]).toEqual([true, false])
    const bob1 = bob.createSession(bobPlan1.localUri, bobPlan1.remotePath)
    const alice1 = alice.createSession(alicePlan1.localUri)
    const firstPart = receiveInto(target, received, bob1, bobPlan1)
    await alice.connect(alice1, alicePlan1.remotePath)

    // The source stalls after half the file; once Bob acknowledged that half, the connection breaks.
    let release!: () => void
    const stall = new Promise<void>((resolve) => (release = resolve))
    async function* stalling(): AsyncGenerator<Uint8Array> {
      yield source.subarray(0, HALF)
      await stall
      yield source.subarray(HALF)
    }
    let halfAcknowledged!: () => void
    const half = new Promise<void>((resolve) => (halfAcknowledged = resolve))
    const cut = new Promise<unknown>((resolve) =>
      alice1.send(stalling(), { size: SIZE }).subscribe({
        next: (e) => (e.type === 'progress' && e.acknowledged === HALF ? halfAcknowledged() : undefined),
        error: resolve
      })
    )
    await half
    alice1.connection?.transport.close()
    release()
    expect(await cut).toMatchObject({ reason: 'ConnectionClosed' })
    expect(await firstPart).toEqual({ type: 'aborted', received: HALF, reason: 'ConnectionLost' })
    expect(received).toEqual([{ start: 1, end: HALF }])

    // 2. Bob offers a pull of what is missing, with a new transfer id; Alice answers sendonly and connects.
    const resumeOffer = right(
      buildResumeOffer(one(pushOffer), received, {
        path: [bobUri()],
        transferId: 'transfer-2',
        acceptTypes: ['application/octet-stream'],
        setup: 'actpass'
      })
    )
    expect(resumeOffer).toContain(`a=file-range:${HALF + 1}-${SIZE}\r\n`)
    const resumeAnswer = right(buildAnswer(resumeOffer, { path: alicePath, setup: 'active' }))
    const bobPlan2 = right(negotiate(one(resumeOffer), one(resumeAnswer), 'offerer'))
    const alicePlan2 = right(negotiate(one(resumeAnswer), one(resumeOffer), 'answerer'))
    expect([alicePlan2.active, bobPlan2.active]).toEqual([true, false])
    const bob2 = bob.createSession(bobPlan2.localUri, bobPlan2.remotePath)
    const alice2 = alice.createSession(alicePlan2.localUri)
    const secondPart = receiveInto(target, received, bob2, bobPlan2)
    await alice.connect(alice2, alicePlan2.remotePath)

    // 3. Alice sends exactly the agreed range as one new message (Byte-Range from 1); Bob writes it at its offset.
    const { offset, length } = right(sendRangeFor(alicePlan2.file, SIZE))
    expect({ offset, length }).toEqual({ offset: HALF, length: SIZE - HALF })
    const done = await lastValueFrom(alice2.send(source.subarray(offset, offset + length)))
    expect(done).toMatchObject({ type: 'done', size: SIZE - HALF })
    expect(await secondPart).toEqual({ type: 'complete', size: SIZE - HALF, duplicate: false })
    expect(received).toEqual([
      { start: 1, end: HALF },
      { start: HALF + 1, end: SIZE }
    ])
    expect(sha(target)).toBe(sha(source))
    // F-8.2.2-1: the receiver checks the file against the selector's hash.
    expect(sha1(target)).toBe(bobPlan2.file?.selector?.hashes[0]?.value)
  })
})
