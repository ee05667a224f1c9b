/**
 * The sender side of the peer's `a=max-size` (RFC 4975 §8.6; C-8.6-8 "senders SHOULD NOT exceed max-size", F-8.7-1
 * "MUST respect max-size" for files): `SessionOptions.remoteMaxSize`.
 */
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { pseudoRandom } from '../helpers/bytes'
import { memoryPair } from '../../src/transport/memory'
import { newSessionId } from '../../src/wire/ids'
import type { MsrpRequest } from '../../src/wire/model'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { IncomingMessage } from '../../src/session/incoming'
import { SendError, type MsrpSession, type SessionOptions } from '../../src/session/session'

const uri = (port: number): string => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`
const CHUNK_BYTES = 1000

/** Alice, who knows Bob's max-size, and Bob, over an in-memory transport; what Alice writes is recorded. */
async function pair(alice: SessionOptions) {
  const aliceEp = new MsrpEndpoint({ chunkBytes: CHUNK_BYTES })
  const bobEp = new MsrpEndpoint()
  const [ta, tb] = memoryPair()
  bobEp.accept(tb)
  const bobSession = bobEp.createSession(uri(2855))
  const aliceSession = aliceEp.createSession(uri(2856), [], alice)
  await aliceEp.connect(aliceSession, [bobSession.uri], ta)
  const written: MsrpRequest[] = []
  aliceSession.connection!.written$.subscribe((r) => written.push(r))
  const announced: IncomingMessage[] = []
  bobSession.messages$.subscribe((m) => (announced.push(m), void m.collect().catch(() => undefined)))
  return { alice: aliceSession, bob: bobSession, written, announced, close: () => (aliceEp.close(), bobEp.close()) }
}

const run = (s: MsrpSession, ...args: Parameters<MsrpSession['send']>) => lastValueFrom(s.send(...args).pipe(toArray()))

describe("the peer's a=max-size (C-8.6-8, F-8.7-1)", () => {
  it('C-8.6-8: a message of known size above remoteMaxSize fails with TooLarge 413 and nothing is written; one at it goes', async () => {
    const { alice, bob, written, announced, close } = await pair({ remoteMaxSize: 5000 })
    const sent = run(alice, pseudoRandom(5001))
    await expect(sent).rejects.toBeInstanceOf(SendError)
    await expect(sent).rejects.toMatchObject({ reason: 'TooLarge', status: 413 })
    await expect(run(alice, [pseudoRandom(10)], { size: 6000 })).rejects.toMatchObject({ reason: 'TooLarge' })
    // A resend counts the whole message: the offset plus the rest.
    await expect(run(alice, pseudoRandom(1001), { offset: 4000 })).rejects.toMatchObject({ reason: 'TooLarge' })
    expect(written).toEqual([])
    expect(announced).toEqual([])
    // At the limit it goes.
    const incoming = firstValueFrom(bob.messages$)
    expect((await run(alice, pseudoRandom(5000))).pop()).toMatchObject({ type: 'done', size: 5000 })
    expect(await (await incoming).outcome).toMatchObject({ type: 'complete', size: 5000 })
    close()
  })

  it('F-8.7-1: a stream of unknown size is cut with # at the limit, and fails with TooLarge 413; one ending at it goes', async () => {
    const { alice, bob, written, close } = await pair({ remoteMaxSize: 3500 })
    const incoming = firstValueFrom(bob.messages$)
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (let k = 0; k < 100; k++) yield pseudoRandom(700, k + 1)
    }
    await expect(run(alice, endless())).rejects.toMatchObject({ name: 'SendError', reason: 'TooLarge', status: 413 })
    // The chunk the limit falls in is not written (the source failed while it was read): `#` ends the message there.
    expect(written.map((r) => r.continuation)).toEqual(['+', '+', '+', '#'])
    expect(written.map((r) => r.headers.find(([n]) => n === 'Byte-Range')?.[1])).toEqual([
      '1-1000/*',
      '1001-2000/*',
      '2001-3000/*',
      '3001-*/*'
    ])
    expect(await (await incoming).outcome).toEqual({ type: 'aborted', received: 3000, reason: 'Aborted' })
    // One that ends at the limit is sent whole.
    async function* short(): AsyncGenerator<Uint8Array> {
      for (let k = 0; k < 5; k++) yield pseudoRandom(700, k + 1)
    }
    expect((await run(alice, short())).pop()).toMatchObject({ type: 'done', size: 3500 })
    close()
  })

  it('remoteMaxSize 0 refuses any body of unknown size before writing anything', async () => {
    const { alice, written, close } = await pair({ remoteMaxSize: 0 })
    await expect(run(alice, [pseudoRandom(1)])).rejects.toMatchObject({ reason: 'TooLarge' })
    expect(written).toEqual([])
    close()
  })

  it('session.remoteMaxSize can be changed later (an updated offer); without one nothing is limited', async () => {
    const { alice, close } = await pair({})
    expect(alice.remoteMaxSize).toBeUndefined()
    expect((await run(alice, pseudoRandom(20_000))).pop()).toMatchObject({ type: 'done', size: 20_000 })
    alice.remoteMaxSize = 100
    await expect(run(alice, pseudoRandom(101))).rejects.toMatchObject({ reason: 'TooLarge' })
    close()
  })

  it('an endpoint passes remoteMaxSize to its sessions like its other session options', async () => {
    const ep = new MsrpEndpoint({ remoteMaxSize: 42 })
    expect(ep.createSession(uri(1)).remoteMaxSize).toBe(42)
    expect(ep.createSession(uri(1), [], { remoteMaxSize: 7 }).remoteMaxSize).toBe(7)
    ep.close()
    expect(
      await firstValueFrom(new MsrpEndpoint().createSession(uri(1)).send('x').pipe(toArray())).catch((e) => e)
    ).toMatchObject({ reason: 'NotConnected' })
  })
})
