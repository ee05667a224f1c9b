/**
 * Very large messages through the relay, end to end on loopback, from a streamed source, to a receiver that reads with
 * small pauses and, once, stops reading altogether:
 * - 1 GiB of unknown size, TCP to TCP: Alice's 4 MiB chunks are cut through the relay in pieces (never held whole);
 * - 128 MiB of known size, TCP to WebSocket: the relay re-chunks into 8 KiB frames, one per message.
 * What a user depends on: the bytes arrive intact (sha256), what the relay holds (its write batches and the write
 * buffers of its transports) stays bounded whatever the message size, and a receiver that does not read stops the
 * sender end to end (backpressure through both hops and the relay, docs/relay.md "Streaming, re-chunking,
 * backpressure"). Measured on the 2-core machine: 1 GiB in 6 to 25 s (other jobs share it), the relay holding at
 * most ~80 KB against the bound below, 12 to 16 MiB in flight when the sender stalled.
 */
import { createHash } from 'node:crypto'
import { filter, firstValueFrom, type Subscription } from 'rxjs'
import { createAuthHandler } from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpRelay, WRITE_BATCH_BYTES, WS_CHUNK_BYTES } from '../../src/relay/relay'
import { createRegistry } from '../../src/relay/registry'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { newWebSocketClientUri } from '../../src/session/relay-client'
import type { SendEvent } from '../../src/session/session'
import { WRITE_HIGH_WATER_MARK_BYTES } from '../../src/transport/defaults'
import { listenTcp } from '../../src/transport/tcp'
import { listenWebSocket } from '../../src/transport/websocket'
import type { Transport } from '../../src/transport/transport'
import { newSessionId } from '../../src/wire/ids'
import { pseudoRandom } from '../helpers/bytes'
import { bufferedBytesOf, start, type Running } from '../transport/helpers'

const HOST = '127.0.0.1'
const USERS = { alice: 'alice-secret', bob: 'bob-secret' }
const MIB = 1024 * 1024
/** The message: 1 GiB, from a generator; its size is not announced (Byte-Range total `*` until the last chunk). */
const MESSAGE_BYTES = 1024 * MIB
/** The source yields blocks of this size (each a fresh buffer: a block may still be in a transport when the next comes). */
const BLOCK_BYTES = MIB
/** Alice's chunks: large, so that the relay streams each one through in pieces (cut-through). */
const SENDER_CHUNK_BYTES = 4 * MIB
/** The receiver pauses this long after every RECEIVER_PAUSE_EVERY_BYTES it reads: a slow-ish reader. */
const RECEIVER_PAUSE_MS = 2
const RECEIVER_PAUSE_EVERY_BYTES = 8 * MIB
/** Where the receiver stops reading until the sender has stalled. */
const STOP_READING_AT_BYTES = 128 * MIB
/** The WebSocket case: smaller (8 KiB frames cost more per byte), of known size. */
const WS_MESSAGE_BYTES = 128 * MIB
const WS_STOP_READING_AT_BYTES = 32 * MIB
/** Sender progress is polled this often while the receiver does not read; stalled = unchanged for STALL_POLLS polls. */
const STALL_POLL_MS = 50
const STALL_POLLS = 6
/** At most this many polls (10 s) for the sender to stall: else backpressure did not reach it. */
const MAX_STALL_POLLS = 200
/** A socket read the relay frames: at most 64 KiB (Node's read size), larger than the framer's 16 KiB body pieces. */
const READ_BYTES = 64 * 1024
/**
 * What the relay holds (`relay.stats.bufferedBytes`: its write batches) plus the write buffers of the transports it
 * writes to, sampled at each of its writes. Per connection: the transport's high-water mark
 * (past it, the relay pauses whoever feeds it), one write batch (flushed once it reaches `writeBatchBytes`, so below
 * it + the read that crossed it); two connections (the receiver's, and the sender's for its 200s).
 */
const RELAY_HELD_BOUND_BYTES = 2 * (WRITE_HIGH_WATER_MARK_BYTES + WRITE_BATCH_BYTES + READ_BYTES)
/**
 * Bytes in flight when the sender stalls: the receiver's body queue (1 MiB), socket buffers of two loopback TCP hops
 * in both kernels (Linux autotunes a loopback receive buffer up to tcp_rmem's max, 32 MiB here), the transports'
 * high-water marks, one chunk in Alice's writer. Far below the 1 GiB a relay without backpressure would let through.
 */
const IN_FLIGHT_BOUND_BYTES = 96 * MIB

const BASE = pseudoRandom(BLOCK_BYTES, 2024)

/** Block `i` of the message: the base block stamped with its index, so that no two blocks are equal. */
function block(i: number): Buffer {
  const b = Buffer.allocUnsafe(BLOCK_BYTES)
  BASE.copy(b)
  b.writeUInt32BE(i, 0)
  b.writeUInt32BE(i ^ 0x5a5a5a5a, BLOCK_BYTES - 4)
  return b
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe('MsrpRelay: 1 GiB through one relay to a slow receiver (TCP on loopback)', () => {
  let relay: MsrpRelay
  let tcp: Running
  /** The transports the relay accepted, and the most bytes held by the relay and their write buffers together. */
  const accepted = new Set<Transport>()
  let held = 0
  const sample = (): void => {
    let bytes = relay.stats.bufferedBytes
    for (const t of accepted) bytes += bufferedBytesOf(t)
    held = Math.max(held, bytes)
  }
  const watched = (t: Transport): Transport => {
    accepted.add(t)
    t.closed$.subscribe(() => accepted.delete(t))
    return {
      incoming$: t.incoming$,
      drain$: t.drain$,
      closed$: t.closed$,
      info: t.info,
      write: (pieces) => {
        const ok = t.write(pieces)
        sample()
        return ok
      },
      pause: () => t.pause(),
      resume: () => t.resume(),
      close: (r) => t.close(r),
      get bufferedBytes() {
        return bufferedBytesOf(t)
      }
    } as Transport
  }
  let relayUri: string
  let ws: Running
  let relayWsUri: string
  const endpoints: MsrpEndpoint[] = []
  const subscriptions: Subscription[] = []

  beforeAll(async () => {
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'relay.test', credentials: memoryCredentials(USERS), registry })
    relay = new MsrpRelay({ auth, registry })
    tcp = await start(listenTcp({ host: HOST, port: 0 }))
    relayUri = `msrp://${HOST}:${tcp.listener.address.port};tcp`
    // Served by hand, to watch what the relay writes: each write is a moment its buffers may be largest.
    subscriptions.push(tcp.listener.connections$.subscribe((t) => relay.accept(watched(t), relayUri)))
    ws = await start(listenWebSocket({ host: HOST, port: 0 }))
    relayWsUri = `msrp://${HOST}:${ws.listener.address.port};ws`
    subscriptions.push(ws.listener.connections$.subscribe((t) => relay.accept(watched(t), relayWsUri)))
  })

  afterAll(async () => {
    for (const e of endpoints) e.close()
    for (const s of subscriptions) s.unsubscribe()
    await relay.close()
    tcp.stop()
    ws.stop()
  })

  interface Transfer {
    readonly messageBytes: number
    /** Whether Alice announces the size (Byte-Range total) or not (`*` until the last chunk). */
    readonly knownSize: boolean
    /** How Bob is connected to the relay: TCP, or WebSocket (the relay re-chunks into frames of `wsChunkBytes`). */
    readonly receiver: 'tcp' | 'ws'
    readonly stopReadingAt: number
  }

  /** Alice sends `messageBytes` to Bob through the relay; Bob reads slowly, and stops once until Alice stalls. */
  async function transfer(t: Transfer) {
    held = 0
    const aliceEndpoint = new MsrpEndpoint({ chunkBytes: SENDER_CHUNK_BYTES })
    const bobEndpoint = new MsrpEndpoint()
    endpoints.push(aliceEndpoint, bobEndpoint)
    const alice = aliceEndpoint.createSession(`msrp://${HOST}:2855/${newSessionId()};tcp`)
    const bob = bobEndpoint.createSession(
      t.receiver === 'tcp' ? `msrp://${HOST}:2855/${newSessionId()};tcp` : newWebSocketClientUri({ secure: false })
    )
    const auth = { allowInsecure: true } // plain TCP and WS on loopback
    const a = await aliceEndpoint.authenticate(alice, relayUri, { ...auth, username: 'alice', password: USERS.alice })
    const bobAt = t.receiver === 'tcp' ? relayUri : relayWsUri
    const b = await bobEndpoint.authenticate(bob, bobAt, { ...auth, username: 'bob', password: USERS.bob })
    await aliceEndpoint.connect(alice, b.path)
    await bobEndpoint.connect(bob, a.path)

    const sentHash = createHash('sha256')
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < t.messageBytes / BLOCK_BYTES; i++) {
        const b = block(i)
        sentHash.update(b)
        sample()
        yield b
      }
    }

    let sent = 0
    const incoming = firstValueFrom(bob.messages$)
    const done = new Promise<SendEvent>((resolve, reject) =>
      subscriptions.push(
        alice
          .send(source(), {
            contentType: 'application/octet-stream',
            ...(t.knownSize ? { size: t.messageBytes } : {})
          })
          .pipe(filter((e) => e.type !== 'report'))
          .subscribe({
            next: (e) => {
              if (e.type === 'progress') sent = e.sent
              else resolve(e)
            },
            error: reject
          })
      )
    )

    const message = await incoming
    expect(message.total).toBe(t.knownSize ? t.messageBytes : undefined)
    const receivedHash = createHash('sha256')
    let received = 0
    let nextPause = RECEIVER_PAUSE_EVERY_BYTES
    let stall: { sent: number; received: number; held: number } | undefined
    for await (const piece of message.body) {
      receivedHash.update(piece)
      received += piece.length
      sample()
      if (received >= nextPause) {
        nextPause += RECEIVER_PAUSE_EVERY_BYTES
        await sleep(RECEIVER_PAUSE_MS)
      }
      if (stall === undefined && received >= t.stopReadingAt) {
        // Stop reading until Alice's progress stops moving: backpressure must reach her through the relay.
        let last = -1
        let still = 0
        for (let i = 0; i < MAX_STALL_POLLS && still < STALL_POLLS; i++) {
          await sleep(STALL_POLL_MS)
          sample()
          still = sent === last ? still + 1 : 0
          last = sent
        }
        expect(still).toBe(STALL_POLLS)
        stall = { sent, received, held }
      }
    }

    const end = await done
    expect(end).toEqual({ type: 'done', messageId: message.messageId, size: t.messageBytes })
    expect(await message.outcome).toEqual({ type: 'complete', size: t.messageBytes, duplicate: false })
    expect(received).toBe(t.messageBytes)
    expect(receivedHash.digest('hex')).toBe(sentHash.digest('hex'))
    if (stall === undefined) throw new Error('the receiver never stopped reading')
    return { stall, held }
  }

  it('C-5.1-1, R-6.4.1-4: 1 GiB of unknown size arrives intact; the relay holds little; a receiver that stops reading stops the sender', async () => {
    const { stall, held } = await transfer({
      messageBytes: MESSAGE_BYTES,
      knownSize: false,
      receiver: 'tcp',
      stopReadingAt: STOP_READING_AT_BYTES
    })
    // The sender stalled well before the end, with a bounded amount in flight, and the relay held little throughout.
    expect(stall.sent).toBeLessThan(MESSAGE_BYTES)
    expect(stall.sent - stall.received).toBeLessThanOrEqual(IN_FLIGHT_BOUND_BYTES)
    expect(stall.held).toBeLessThanOrEqual(RELAY_HELD_BOUND_BYTES)
    expect(held).toBeLessThanOrEqual(RELAY_HELD_BOUND_BYTES)
  }, 120_000)

  it('W-5.1-4: 128 MiB of known size to a WebSocket receiver, re-chunked: intact, bounded, the sender stalls with it', async () => {
    const { stall, held } = await transfer({
      messageBytes: WS_MESSAGE_BYTES,
      knownSize: true,
      receiver: 'ws',
      stopReadingAt: WS_STOP_READING_AT_BYTES
    })
    expect(stall.sent).toBeLessThan(WS_MESSAGE_BYTES)
    expect(stall.sent - stall.received).toBeLessThanOrEqual(IN_FLIGHT_BOUND_BYTES)
    // Re-chunking adds one frame being collected (at most wsChunkBytes) to what the relay holds.
    expect(stall.held).toBeLessThanOrEqual(RELAY_HELD_BOUND_BYTES + WS_CHUNK_BYTES)
    expect(held).toBeLessThanOrEqual(RELAY_HELD_BOUND_BYTES + WS_CHUNK_BYTES)
  }, 120_000)
})
