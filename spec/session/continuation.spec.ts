/**
 * Resending the rest of a message cut on an earlier connection (RFC 4975 §5.4, rfc4975-core.md §7, C-5.4-12): the
 * sender's `messageId` and `offset`, the receiver's `reassembly.acceptContinuation` and `IncomingMessage.firstByte`.
 */
import { createHash } from 'node:crypto'
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { pseudoRandom } from '../helpers/bytes'
import { memoryPair } from '../../src/transport/memory'
import { newSessionId } from '../../src/wire/ids'
import { concatBytes } from '../../src/wire/bytes'
import type { SendHead } from '../../src/wire/chunk'
import { MsrpEndpoint, type EndpointOptions } from '../../src/session/endpoint'
import type { IncomingMessage } from '../../src/session/incoming'
import type { MsrpSession, SendEvent } from '../../src/session/session'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const uri = (port: number): string => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`
const nextMessage = (s: MsrpSession): Promise<IncomingMessage> => firstValueFrom(s.messages$)
const CHUNK_BYTES = 4096

/** Alice (active) and Bob (passive) over in-memory transports; `reconnect` opens a new connection between them. */
async function pair(bobOptions: EndpointOptions = {}) {
  const aliceEp = new MsrpEndpoint({ chunkBytes: CHUNK_BYTES })
  const bobEp = new MsrpEndpoint(bobOptions)
  const bob = bobEp.createSession(uri(2855))
  const alice = aliceEp.createSession(uri(2856))
  const reconnect = async (): Promise<void> => {
    const [ta, tb] = memoryPair()
    bobEp.accept(tb)
    await aliceEp.connect(alice, [bob.uri], ta)
  }
  await reconnect()
  return { alice, bob, reconnect, close: () => (aliceEp.close(), bobEp.close()) }
}

/** Every progress event of a send, and how it ended. */
async function run(events$: ReturnType<MsrpSession['send']>): Promise<SendEvent[]> {
  return lastValueFrom(events$.pipe(toArray()))
}

describe('resending the rest of a message (RFC 4975 §5.4)', () => {
  it('C-5.4-12: a message cut with its connection is resent from the acknowledged offset on a new connection; sha256 of the whole equal', async () => {
    const accepted: SendHead[] = []
    const { alice, bob, reconnect, close } = await pair({
      reassembly: { acceptContinuation: (head) => (accepted.push(head), true) }
    })
    const file = pseudoRandom(100_000, 7)
    // The first attempt stalls after 10 chunks; the connection is then cut under it.
    let release!: () => void
    const stall = new Promise<void>((resolve) => (release = resolve))
    async function* stalling(): AsyncGenerator<Uint8Array> {
      yield file.subarray(0, 10 * CHUNK_BYTES)
      await stall
      yield file.subarray(10 * CHUNK_BYTES)
    }
    const first = nextMessage(bob)
    let acknowledged = 0
    let messageId = ''
    let allAcknowledged!: () => void
    const tenAcknowledged = new Promise<void>((resolve) => (allAcknowledged = resolve))
    const failed = new Promise<unknown>((resolve) =>
      alice.send(stalling(), { size: file.length }).subscribe({
        next: (e) => {
          if (e.type !== 'progress') return
          ;({ acknowledged, messageId } = e)
          if (acknowledged === 10 * CHUNK_BYTES) allAcknowledged()
        },
        error: resolve
      })
    )
    const cut = await first
    const firstPart = cut.collect().catch(() => undefined)
    await tenAcknowledged
    alice.connection?.transport.close()
    release()
    expect(await failed).toMatchObject({ reason: 'ConnectionClosed', status: 408, messageId })
    expect(await cut.outcome).toEqual({ type: 'aborted', received: acknowledged, reason: 'ConnectionLost' })
    await firstPart

    await reconnect()
    const rest = nextMessage(bob)
    const events = run(alice.send(file.subarray(acknowledged), { messageId, offset: acknowledged, size: file.length }))
    const resumed = await rest
    expect(accepted.map((h) => [h.messageId, h.byteRange.start, h.byteRange.total])).toEqual([
      [messageId, acknowledged + 1, file.length]
    ])
    expect(resumed.messageId).toBe(messageId)
    expect(resumed.firstByte).toBe(acknowledged + 1)
    expect(resumed.total).toBe(file.length)
    const tail = await resumed.collect()
    expect(await resumed.outcome).toEqual({ type: 'complete', size: file.length, duplicate: false })
    expect(resumed.receivedBytes).toBe(file.length - acknowledged)
    expect(sha(concatBytes([file.subarray(0, acknowledged), tail]))).toBe(sha(file))
    expect((await events).pop()).toEqual({ type: 'done', messageId, size: file.length })
    close()
  })

  it('progress counts bytes of the whole message: sent and acknowledged start at the offset, done gives the whole size', async () => {
    const { alice, bob, close } = await pair({ reassembly: { acceptContinuation: () => true } })
    const rest = pseudoRandom(3 * CHUNK_BYTES, 2)
    const incoming = nextMessage(bob)
    const events = run(alice.send(rest, { messageId: 'resent0001', offset: 5000 }))
    void (await incoming).collect()
    const all = await events
    const progress = all.filter((e): e is Extract<SendEvent, { type: 'progress' }> => e.type === 'progress')
    expect(progress[0]).toEqual({
      type: 'progress',
      messageId: 'resent0001',
      sent: 5000 + CHUNK_BYTES,
      acknowledged: 5000,
      total: 5000 + rest.length
    })
    expect(progress.map((p) => p.acknowledged)).toEqual([...progress.map((p) => p.acknowledged)].sort((a, b) => a - b))
    expect(progress[progress.length - 1]).toMatchObject({ sent: 5000 + rest.length, acknowledged: 5000 + rest.length })
    expect(all[all.length - 1]).toEqual({ type: 'done', messageId: 'resent0001', size: 5000 + rest.length })
    close()
  })

  it('the chunks of a resent message carry Byte-Ranges from offset + 1 with the whole total (C-7.1.1-13)', async () => {
    const { alice, bob, close } = await pair({ reassembly: { acceptContinuation: () => true } })
    const ranges: string[] = []
    alice.connection!.written$.subscribe((r) => ranges.push(r.headers.find(([n]) => n === 'Byte-Range')?.[1] ?? ''))
    const incoming = nextMessage(bob)
    const done = run(alice.send(pseudoRandom(2 * CHUNK_BYTES + 10, 3), { messageId: 'resent0002', offset: 100 }))
    void (await incoming).collect()
    await done
    expect(ranges).toEqual([
      `101-*/${2 * CHUNK_BYTES + 110}`,
      `${CHUNK_BYTES + 101}-*/${2 * CHUNK_BYTES + 110}`,
      `${2 * CHUNK_BYTES + 101}-${2 * CHUNK_BYTES + 110}/${2 * CHUNK_BYTES + 110}`
    ])
    close()
  })

  it('a continuation the receiver refuses is answered 413 (ContinuationRefused): the send fails, the message is announced failed', async () => {
    const { alice, bob, close } = await pair({ reassembly: { acceptContinuation: () => false } })
    const incoming = nextMessage(bob)
    const sent = run(alice.send(pseudoRandom(1000), { messageId: 'resent0003', offset: 50 }))
    await expect(sent).rejects.toMatchObject({ name: 'SendError', reason: 'ErrorResponse', status: 413 })
    const message = await incoming
    expect(message.firstByte).toBe(1)
    expect(await message.outcome).toMatchObject({ type: 'failed', status: 413, reason: 'ContinuationRefused' })
    close()
  })

  it('a predicate that throws refuses the continuation (one message fails, the session goes on)', async () => {
    const { alice, bob, close } = await pair({
      reassembly: {
        acceptContinuation: () => {
          throw new Error('boom')
        }
      }
    })
    await expect(run(alice.send(pseudoRandom(10), { messageId: 'resent0004', offset: 1 }))).rejects.toMatchObject({
      status: 413
    })
    const next = nextMessage(bob)
    await run(alice.send('still here'))
    expect(new TextDecoder().decode(await (await next).collect())).toBe('still here')
    close()
  })

  it('is asked only for messages whose first chunk starts above byte 1', async () => {
    const asked: number[] = []
    const { alice, bob, close } = await pair({
      reassembly: { acceptContinuation: (h) => (asked.push(h.byteRange.start), true) }
    })
    const incoming = nextMessage(bob)
    await run(alice.send(pseudoRandom(3 * CHUNK_BYTES)))
    const message = await incoming
    expect(message.firstByte).toBe(1)
    expect((await message.collect()).length).toBe(3 * CHUNK_BYTES)
    expect(asked).toEqual([])
    close()
  })

  it('without acceptContinuation a message starting above byte 1 waits for bytes 1…n, as any gap (default)', async () => {
    const { alice, bob, close } = await pair()
    const incoming = nextMessage(bob)
    const sent = run(alice.send(pseudoRandom(100), { messageId: 'resent0005', offset: 20 }))
    const message = await incoming
    expect(message.firstByte).toBe(1)
    await sent // every chunk answered 200: the bytes wait ahead of the gap
    expect(message.receivedBytes).toBe(0)
    close()
    expect(await message.outcome).toEqual({ type: 'aborted', received: 0, reason: 'ConnectionLost' })
  })

  it('an aborted continuation reports received from byte 1: firstByte - 1 plus the bytes of its body', async () => {
    const { alice, bob, close } = await pair({ reassembly: { acceptContinuation: () => true } })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield pseudoRandom(CHUNK_BYTES)
      await gate
      yield pseudoRandom(10)
    }
    const incoming = nextMessage(bob)
    let acknowledged!: () => void
    const firstAcknowledged = new Promise<void>((resolve) => (acknowledged = resolve))
    const sending = alice.send(stalled(), { messageId: 'resent0006', offset: 1000 }).subscribe({
      next: (e) => (e.type === 'progress' && e.acknowledged > 1000 ? acknowledged() : undefined),
      error: () => undefined
    })
    const message = await incoming
    void message.collect().catch(() => undefined)
    await firstAcknowledged
    sending.unsubscribe() // `#` (C-7.1-9)
    release()
    expect(await message.outcome).toEqual({ type: 'aborted', received: 1000 + CHUNK_BYTES, reason: 'Aborted' })
    expect(message.settled).toEqual({ type: 'aborted', received: 1000 + CHUNK_BYTES, reason: 'Aborted' })
    close()
  })

  it('refuses, writing nothing, a Message-ID that is not an ident (TypeError) and an offset outside the size (RangeError)', async () => {
    const { alice, bob, close } = await pair({ reassembly: { acceptContinuation: () => true } })
    const written: unknown[] = []
    alice.connection!.written$.subscribe((r) => written.push(r))
    const announced: unknown[] = []
    bob.messages$.subscribe((m) => announced.push(m))
    await expect(run(alice.send('x', { messageId: 'no/slash' }))).rejects.toBeInstanceOf(TypeError)
    await expect(run(alice.send('x', { messageId: 'abc' }))).rejects.toBeInstanceOf(TypeError)
    await expect(run(alice.send(pseudoRandom(10), { offset: -1 }))).rejects.toBeInstanceOf(RangeError)
    await expect(run(alice.send(pseudoRandom(10), { offset: 1.5 }))).rejects.toBeInstanceOf(RangeError)
    await expect(run(alice.send([pseudoRandom(10)], { offset: 11, size: 10 }))).rejects.toBeInstanceOf(RangeError)
    // A byte array's length is the rest: offset + length must be the size when one is given.
    await expect(run(alice.send(pseudoRandom(10), { offset: 5, size: 10 }))).rejects.toBeInstanceOf(RangeError)
    expect(written).toEqual([])
    expect(announced).toEqual([])
    close()
  })
})
