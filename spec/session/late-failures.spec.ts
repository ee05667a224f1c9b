/**
 * Failure REPORTs that come after `done` (session.lateFailures$): behind a relay, a chunk's 200 is hop by hop
 * (R-6.4.1-1), so a message can be `done` and still fail further on; the relay then sends a failure REPORT
 * (R-6.4.1-2: 408 when the next hop does not answer). The application must hear of it.
 */
import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, Subject, toArray } from 'rxjs'
import { MsrpRelay } from '../../src/relay/relay'
import { createAuthHandler } from '../../src/relay/auth'
import { createRegistry } from '../../src/relay/registry'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { frame } from '../../src/operators/frame'
import { memoryPair, type MemoryTransport } from '../../src/transport/memory'
import { encodeFrame } from '../../src/wire/encoder'
import { newMessageId, newSessionId, newTransactionId } from '../../src/wire/ids'
import type { MsrpRequest } from '../../src/wire/model'
import { formatUri } from '../../src/wire/uri'

const RELAY_URI = 'msrp://127.0.0.1:2855;tcp'
const HOP_TIMEOUT_MS = 100

/** What a silent peer receives: SEND requests, never answered. */
function silentPeer(transport: MemoryTransport): Subject<MsrpRequest> {
  const got = new Subject<MsrpRequest>()
  transport.incoming$.pipe(frame()).subscribe((e) => {
    if (e.type === 'frame' && e.frame.type === 'request') got.next(e.frame)
  })
  return got
}

function setup() {
  const registry = createRegistry()
  const auth = createAuthHandler({ realm: 'relay.test', credentials: memoryCredentials({}), registry })
  const relay = new MsrpRelay({ auth, registry, hopTimeoutMs: HOP_TIMEOUT_MS })
  const [aliceSide, relayFromAlice] = memoryPair()
  const [bobSide, relayFromBob] = memoryPair()
  relay.accept(relayFromAlice, RELAY_URI)
  const bobConnection = relay.accept(relayFromBob, RELAY_URI)
  // Bob's URI at the relay, as a 200 to his AUTH would have issued it (the binding is what matters here).
  const bobAtRelay = formatUri(registry.issue(bobConnection, 'bob', 60).uri)
  const bobOwn = `msrp://bob.example.com:2855/${newSessionId()};tcp`
  const bobGot = silentPeer(bobSide)
  const endpoint = new MsrpEndpoint()
  const alice = endpoint.createSession(`msrp://alice.example.com:7777/${newSessionId()};tcp`, [bobAtRelay, bobOwn])
  alice.bind(endpoint.accept(aliceSide))
  return { relay, endpoint, alice, bobGot, aliceSide }
}

describe('MsrpSession.lateFailures$ (RFC 4976 §6.4.1: failure REPORTs after the hop-by-hop 200)', () => {
  it('R-6.4.1-2 tells of a 408 REPORT the relay sends after the message was done', async () => {
    const { relay, endpoint, alice, bobGot } = setup()
    const late = firstValueFrom(alice.lateFailures$)
    const forwarded = firstValueFrom(bobGot)
    const events = await lastValueFrom(alice.send('Hello, Bob').pipe(toArray()))
    const done = events.find((e) => e.type === 'done')
    expect(done).toBeDefined() // the relay's 200: received by the first hop, not delivered
    expect((await forwarded).method).toBe('SEND') // Bob got it and never answers
    const failure = await late
    expect(failure).toMatchObject({ messageId: done!.messageId, status: 408 })
    expect(failure.byteRange).toMatchObject({ start: 1 })
    endpoint.close()
    await relay.close()
  })

  it('C-7.1.2-3 ignores REPORTs for Message-IDs it never sent, and success REPORTs after done', async () => {
    // A peer that answers each chunk 200, then sends REPORTs: an unknown Message-ID, a success, a failure (413).
    const [aliceSide, peerSide] = memoryPair()
    const endpoint = new MsrpEndpoint()
    const peerUri = `msrp://peer.example.com:2855/${newSessionId()};tcp`
    const alice = endpoint.createSession(`msrp://alice.example.com:7777/${newSessionId()};tcp`, [peerUri])
    alice.bind(endpoint.accept(aliceSide))
    const write = (f: Parameters<typeof encodeFrame>[0]): void => {
      const bytes = encodeFrame(f)
      if (E.isLeft(bytes)) throw new Error(bytes.left.detail)
      peerSide.write(bytes.right)
    }
    const report = (messageId: string, status: string): MsrpRequest => ({
      type: 'request',
      transactionId: newTransactionId(),
      method: 'REPORT',
      headers: [
        ['To-Path', alice.uri],
        ['From-Path', peerUri],
        ['Message-ID', messageId],
        ['Byte-Range', '1-1/1'],
        ['Status', status]
      ],
      body: undefined,
      continuation: '$'
    })
    const sends = new Subject<MsrpRequest>()
    peerSide.incoming$.pipe(frame()).subscribe((e) => {
      if (e.type !== 'frame' || e.frame.type !== 'request') return
      write({
        type: 'response',
        transactionId: e.frame.transactionId,
        status: 200,
        comment: 'OK',
        headers: [
          ['To-Path', alice.uri],
          ['From-Path', peerUri]
        ],
        continuation: '$'
      })
      sends.next(e.frame)
    })
    const first = firstValueFrom(alice.lateFailures$)
    const events = await lastValueFrom(alice.send('x').pipe(toArray()))
    const messageId = events.find((e) => e.type === 'done')!.messageId
    write(report(newMessageId(), '000 408 Request Timeout')) // never sent by Alice: ignored
    write(report(messageId, '000 200 OK')) // a success: not a failure
    write(report(messageId, '000 413 Stop-sending-message'))
    expect(await first).toEqual({
      messageId,
      status: 413,
      comment: 'Stop-sending-message',
      byteRange: { start: 1, end: 1, total: 1 }
    })
    endpoint.close()
  })
})
