import { createHash } from 'node:crypto'
import { pseudoRandom } from '../helpers/bytes'
import { firstValueFrom, lastValueFrom, toArray, type Subscription } from 'rxjs'
import { memoryPair } from '../../src/transport/memory'
import { listenTcp } from '../../src/transport/tcp'
import type { Listener } from '../../src/transport/transport'
import { newSessionId } from '../../src/wire/ids'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { DIRECT_CHUNK_BYTES } from '../../src/session/writer'
import type { IncomingMessage } from '../../src/session/incoming'
import { SendError, type SendEvent } from '../../src/session/session'

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const uri = (port: number) => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`
const nextMessage = (s: { messages$: import('rxjs').Observable<IncomingMessage> }) => firstValueFrom(s.messages$)

/** Alice (active) and Bob (passive) over an in-memory transport pair. */
async function pair(bobOptions = {}) {
  const aliceEp = new MsrpEndpoint()
  const bobEp = new MsrpEndpoint(bobOptions)
  const [ta, tb] = memoryPair()
  bobEp.accept(tb)
  const bob = bobEp.createSession(uri(2855))
  const alice = aliceEp.createSession(uri(2856))
  await aliceEp.connect(alice, [bob.uri], ta)
  return { alice, bob, aliceEp, bobEp, close: () => (aliceEp.close(), bobEp.close()) }
}

describe('endpoints end to end (in-memory transport)', () => {
  it('C-5.4-3, C-5.4-7: the active side binds with a SEND; a text message arrives whole, then done', async () => {
    const { alice, bob, close } = await pair()
    const incoming = nextMessage(bob)
    const events = lastValueFrom(alice.send('Hi, Bob! ☃').pipe(toArray()))
    const message = await incoming
    expect(message.contentType).toBe('text/plain;charset=utf-8')
    expect(new TextDecoder().decode(await message.collect())).toBe('Hi, Bob! ☃')
    expect(await message.outcome).toEqual({ type: 'complete', size: 12, duplicate: false })
    const last = (await events).pop()
    expect(last).toMatchObject({ type: 'done', size: 12 })
    close()
  })

  it('sends 3 MiB of binary in chunks, with progress, sha256 equal', async () => {
    const { alice, bob, close } = await pair()
    const body = pseudoRandom(3 * 1024 * 1024)
    const incoming = nextMessage(bob)
    const events = lastValueFrom(alice.send(body).pipe(toArray()))
    const message = await incoming
    expect(sha(await message.collect())).toBe(sha(body))
    const all = await events
    const progress = all.filter((e): e is Extract<SendEvent, { type: 'progress' }> => e.type === 'progress')
    // One event written and one acknowledged per chunk; straight to the peer, chunks are DIRECT_CHUNK_BYTES.
    expect(progress.length).toBeGreaterThanOrEqual(2 * Math.ceil(body.length / DIRECT_CHUNK_BYTES))
    expect(progress[progress.length - 1]).toMatchObject({
      sent: body.length,
      acknowledged: body.length,
      total: body.length
    })
    close()
  })

  it('C-7.1.3-1: with successReport the send completes after the REPORT covering the message', async () => {
    const { alice, bob, close } = await pair()
    const sub = bob.messages$.subscribe((m) => void m.collect())
    const events = await lastValueFrom(alice.send('report me', { successReport: true }).pipe(toArray()))
    expect(events.filter((e) => e.type === 'report')).toEqual([
      { type: 'report', messageId: expect.any(String), reported: 9, status: 200 }
    ])
    expect(events[events.length - 1]?.type).toBe('done')
    sub.unsubscribe()
    close()
  })

  it('C-5.4-8: binding to a session the peer does not have fails with 481', async () => {
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint()
    const [ta, tb] = memoryPair()
    bobEp.accept(tb)
    const alice = aliceEp.createSession(uri(2856))
    await expect(aliceEp.connect(alice, [uri(2855)], ta)).rejects.toMatchObject({ status: 481 })
    aliceEp.close()
    bobEp.close()
  })

  it('C-7.3.1: 413 from the receiver stops the sender', async () => {
    const { alice, bob, close } = await pair({ reassembly: { maxMessageBytes: 1000 } })
    const seen: IncomingMessage[] = []
    const sub: Subscription = bob.messages$.subscribe((m) => seen.push(m))
    await expect(lastValueFrom(alice.send(pseudoRandom(50_000)))).rejects.toMatchObject({ status: 413 })
    sub.unsubscribe()
    close()
  })

  it('C-7.1-9: unsubscribing mid-transfer aborts the message; the receiver reports it aborted', async () => {
    const { alice, bob, close } = await pair()
    async function* slow() {
      yield pseudoRandom(20_000)
      await new Promise((r) => setTimeout(r, 50))
      yield pseudoRandom(20_000)
    }
    const incoming = nextMessage(bob)
    const sending = alice.send(slow()).subscribe({ error: () => undefined })
    const message = await incoming
    sending.unsubscribe()
    const reading = message.collect().catch((e: Error) => e)
    expect(await message.outcome).toMatchObject({ type: 'aborted', reason: 'Aborted' })
    expect(await reading).toBeInstanceOf(Error)
    close()
  })

  it('a cut connection fails the pending send and aborts the incoming message', async () => {
    const { alice, bob, close } = await pair()
    async function* endless() {
      for (let k = 0; k < 1000; k++) {
        yield pseudoRandom(10_000, k)
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    const incoming = nextMessage(bob)
    const sent = lastValueFrom(alice.send(endless()))
    const message = await incoming
    alice.connection?.transport.close()
    await expect(sent).rejects.toBeInstanceOf(SendError)
    expect(await message.outcome).toMatchObject({ type: 'aborted' })
    close()
  })
})

describe('endpoints end to end over TCP on loopback', () => {
  it('sends both ways on one connection', async () => {
    // The listener lives as long as its subscription (firstValueFrom would close it at once).
    let listening: Subscription | undefined
    const listener = await new Promise<Listener>((resolve, reject) => {
      listening = listenTcp({ host: '127.0.0.1', port: 0 }).subscribe({ next: resolve, error: reject })
    })
    const bobEp = new MsrpEndpoint()
    bobEp.serve(listener)
    const bob = bobEp.createSession(uri(listener.address.port))
    const aliceEp = new MsrpEndpoint()
    const alice = aliceEp.createSession(uri(1))
    await aliceEp.connect(alice, [bob.uri])
    bob.remotePath = [alice.uri]
    const toBob = nextMessage(bob)
    await lastValueFrom(alice.send('ping'))
    expect(new TextDecoder().decode(await (await toBob).collect())).toBe('ping')
    const toAlice = nextMessage(alice)
    await lastValueFrom(bob.send('pong'))
    expect(new TextDecoder().decode(await (await toAlice).collect())).toBe('pong')
    aliceEp.close()
    bobEp.close()
    listening?.unsubscribe()
  })
})

describe('content types (RFC 4975 §8.6)', () => {
  it('C-7.3.1-4: a SEND of a type the session does not accept is answered 415, announced failed, not delivered', async () => {
    const { alice, bob, close } = await pair({ acceptTypes: ['text/*', 'message/cpim'] })
    const seen: IncomingMessage[] = []
    const sub = bob.messages$.subscribe((m) => seen.push(m))
    await expect(lastValueFrom(alice.send(new Uint8Array(10), { contentType: 'image/png' }))).rejects.toMatchObject({
      status: 415
    })
    await lastValueFrom(alice.send('fine'))
    // The refused message is announced too, already failed with 415: nothing is dropped without a report.
    expect(seen.map((m) => m.contentType)).toEqual(['image/png', 'text/plain;charset=utf-8'])
    expect(await seen[0]?.outcome).toMatchObject({ type: 'failed', status: 415 })
    sub.unsubscribe()
    close()
  })
})

describe('options per session (an SDP plan per session, RFC 4975 §8.6)', () => {
  it("C-7.3.1-4: one endpoint's sessions accept what their own options say, over one connection", async () => {
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint({ acceptTypes: ['*'] })
    const [ta, tb] = memoryPair()
    bobEp.accept(tb)
    const strict = bobEp.createSession(uri(2855), [], { acceptTypes: ['text/plain'] })
    const open = bobEp.createSession(uri(2855))
    const toStrict = aliceEp.createSession(uri(2856))
    const toOpen = aliceEp.createSession(uri(2856))
    await aliceEp.connect(toStrict, [strict.uri], ta)
    // The second session shares the connection (C-5.4-1); Bob's session is bound by its first SEND (C-5.4-7).
    toOpen.remotePath = [open.uri]
    toOpen.bind(toStrict.connection!)
    const png = { contentType: 'image/png' }
    await expect(lastValueFrom(toStrict.send(new Uint8Array(4), png))).rejects.toMatchObject({ status: 415 })
    const arrived = nextMessage(open)
    await lastValueFrom(toOpen.send(new Uint8Array(4), png))
    expect((await arrived).contentType).toBe('image/png')
    aliceEp.close()
    bobEp.close()
  })
})

describe('more end to end (RFC 4975 §5.4, §7.1.1)', () => {
  it('C-5.4-1: several sessions share one connection, each gets its own messages', async () => {
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint()
    const [ta, tb] = memoryPair()
    bobEp.accept(tb)
    const bob1 = bobEp.createSession(uri(2855))
    const bob2 = bobEp.createSession(uri(2855))
    const alice1 = aliceEp.createSession(uri(2856))
    const alice2 = aliceEp.createSession(uri(2856))
    await aliceEp.connect(alice1, [bob1.uri], ta)
    // The second session rides the same connection: bind it and send its binding SEND over it.
    alice2.remotePath = [bob2.uri]
    alice2.bind(alice1.connection as NonNullable<typeof alice1.connection>)
    expect(alice2.connection).toBe(alice1.connection)
    const to1 = nextMessage(bob1)
    const to2 = nextMessage(bob2)
    await Promise.all([lastValueFrom(alice1.send('for one')), lastValueFrom(alice2.send('for two'))])
    expect(new TextDecoder().decode(await (await to1).collect())).toBe('for one')
    expect(new TextDecoder().decode(await (await to2).collect())).toBe('for two')
    expect(bob1.connection).toBe(bob2.connection)
    aliceEp.close()
    bobEp.close()
  })

  it.each(['no', 'partial'] as const)(
    'C-7.1.4-2/3: Failure-Report %s: no 200 comes back, the send completes once written',
    async (failureReport) => {
      const { alice, bob, close } = await pair()
      const incoming = nextMessage(bob)
      const events = await lastValueFrom(alice.send('quiet', { failureReport }).pipe(toArray()))
      expect(events[events.length - 1]).toMatchObject({ type: 'done', size: 5 })
      expect(
        events.filter((e) => e.type === 'progress').every((e) => (e as { acknowledged: number }).acknowledged === 0)
      ).toBe(true)
      expect(new TextDecoder().decode(await (await incoming).collect())).toBe('quiet')
      close()
    }
  )

  it('streams a 1 GiB message over TCP with sha256 equal on both sides', async () => {
    let listening: Subscription | undefined
    const listener = await new Promise<Listener>((resolve, reject) => {
      listening = listenTcp({ host: '127.0.0.1', port: 0 }).subscribe({ next: resolve, error: reject })
    })
    const bobEp = new MsrpEndpoint()
    bobEp.serve(listener)
    const bob = bobEp.createSession(uri(listener.address.port))
    const aliceEp = new MsrpEndpoint({ chunkBytes: 256 * 1024 })
    const alice = aliceEp.createSession(uri(1))
    await aliceEp.connect(alice, [bob.uri])
    const total = 1024 * 1024 * 1024
    const block = pseudoRandom(1024 * 1024, 7)
    const sent = createHash('sha256')
    async function* source() {
      for (let k = 0; k < total / block.length; k++) {
        block[0] = k & 0xff // every MiB differs
        sent.update(block)
        yield block.slice()
      }
    }
    const received = nextMessage(bob).then(async (m) => {
      const h = createHash('sha256')
      let n = 0
      for await (const part of m.body) {
        h.update(part)
        n += part.length
      }
      return { n, digest: h.digest('hex') }
    })
    await lastValueFrom(alice.send(source(), { size: total }))
    const got = await received
    expect(got.n).toBe(total)
    expect(got.digest).toBe(sent.digest('hex'))
    aliceEp.close()
    bobEp.close()
    listening?.unsubscribe()
  }, 300_000)
})
