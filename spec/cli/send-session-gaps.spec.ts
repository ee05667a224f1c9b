/**
 * Gaps in src/session found while building `send` and `listen`: each test failed before the session layer was fixed
 * (binding timeout as SendError 408, binding failing as soon as the peer closes, refused messages announced, 413 not
 * hidden by the writer's own "Stopped").
 */
import { lastValueFrom, type Subscription } from 'rxjs'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { IncomingMessage } from '../../src/session/incoming'
import { SendError } from '../../src/session/session'
import { memoryPair } from '../../src/transport/memory'
import { newSessionId } from '../../src/wire/ids'
import { rawServer, type RawServer } from '../transport/helpers'
import { pseudoRandom } from './listen-send-io'

const uri = (port: number): string => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`

describe('session layer gaps (failing today)', () => {
  let peer: RawServer | undefined
  afterEach(async () => {
    await peer?.close()
    peer = undefined
  })

  it('MsrpEndpoint.connect: a binding SEND left unanswered rejects with SendError 408, not rxjs TimeoutError', async () => {
    peer = await rawServer() // accepts, never answers
    const endpoint = new MsrpEndpoint({ bindTimeoutMs: 50 }) // fires before the transaction's own 30 s timer
    const alice = endpoint.createSession(uri(2855))
    try {
      const failure = await endpoint.connect(alice, [uri(peer.port)]).catch((e: unknown) => e)
      expect(failure).toBeInstanceOf(SendError)
      expect(failure).toMatchObject({ reason: 'Timeout', status: 408 })
    } finally {
      endpoint.close()
    }
  })

  it('MsrpEndpoint.connect: rejects as soon as the connection closes before the binding SEND is answered', async () => {
    peer = await rawServer((socket) => socket.once('data', () => socket.end()))
    // Today connect waits for its timer (30 s by default; 500 ms here) and then rejects with rxjs TimeoutError.
    const endpoint = new MsrpEndpoint({ bindTimeoutMs: 500, timeoutMs: 500 })
    const alice = endpoint.createSession(uri(2855))
    try {
      const failure = await endpoint.connect(alice, [uri(peer.port)]).catch((e: unknown) => e)
      expect(failure).toBeInstanceOf(SendError)
      expect(failure).toMatchObject({ reason: 'ConnectionClosed' })
    } finally {
      endpoint.close()
    }
  })

  it('MsrpSession.messages$: a message refused with 413 on its first chunk is announced, its outcome failed', async () => {
    // RFC 4975 §7.3.1 lets the receiver refuse a message whose Byte-Range total is too large; the reassembler does so
    // before 'start', so the session never announces it and the application cannot report it (no silent drops).
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint({ reassembly: { maxMessageBytes: 1000 } })
    const [ta, tb] = memoryPair()
    bobEp.accept(tb)
    const bob = bobEp.createSession(uri(2856))
    const alice = aliceEp.createSession(uri(2855))
    const seen: IncomingMessage[] = []
    const sub: Subscription = bob.messages$.subscribe((m) => seen.push(m))
    try {
      await aliceEp.connect(alice, [bob.uri], ta)
      await expect(lastValueFrom(alice.send(pseudoRandom(50_000)))).rejects.toMatchObject({ status: 413 })
      expect(seen).toHaveLength(1)
      expect(await seen[0]?.outcome).toMatchObject({ type: 'failed', status: 413 })
    } finally {
      sub.unsubscribe()
      aliceEp.close()
      bobEp.close()
    }
  })

  it('MsrpSession.send: a 413 that arrives while chunks are still being written fails the send with 413, not 408', async () => {
    // On a 413 (or a failure REPORT) the session stops its writer before failing the send; the writer's "Stopped" error
    // reaches the send first, as WriteFailed 408, and the 413 is lost. Here the body waits after three chunks, so the
    // 413 for the second one (past maxMessageBytes) always arrives while the message is still being written.
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint({ reassembly: { maxMessageBytes: 10_000 } })
    const [ta, tb] = memoryPair()
    bobEp.accept(tb)
    const bob = bobEp.createSession(uri(2856))
    const alice = aliceEp.createSession(uri(2855))
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield pseudoRandom(8192, 1)
      yield pseudoRandom(8192, 2)
      yield pseudoRandom(8192, 3) // read ahead by the writer, so that chunk 2 goes out
      await gate
      yield pseudoRandom(8192, 4)
    }
    try {
      await aliceEp.connect(alice, [bob.uri], ta)
      const failure = await lastValueFrom(alice.send(stalled())).catch((e: unknown) => e)
      expect(failure).toMatchObject({ status: 413 })
    } finally {
      release()
      aliceEp.close()
      bobEp.close()
    }
  })
})
