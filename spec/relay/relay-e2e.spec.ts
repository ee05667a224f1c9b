/**
 * The relay over real loopback sockets: endpoint A over TCP, endpoint B over WebSocket, AUTH done by hand with Digest
 * (the real AUTH handler, registry and credential store), text both ways, 64 MiB re-chunked for the WebSocket side,
 * refusals and the hop timer.
 */
import { createHash } from 'node:crypto'
import * as net from 'node:net'
import * as E from 'fp-ts/Either'
import { filter, firstValueFrom, map, ReplaySubject, take, tap, toArray, type Subscription } from 'rxjs'
import { createAuthHandler } from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpRelay, WS_CHUNK_BYTES } from '../../src/relay/relay'
import { createRegistry } from '../../src/relay/registry'
import type { RelayEvent } from '../../src/relay/types'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpConnection } from '../../src/session/connection'
import { SendError, type MsrpSession } from '../../src/session/session'
import { connectTcp, listenTcp } from '../../src/transport/tcp'
import { connectWebSocket, listenWebSocket } from '../../src/transport/websocket'
import type { Transport } from '../../src/transport/transport'
import { frame, type FramedEvent } from '../../src/operators/frame'
import { answerChallenge } from '../../src/wire/digest'
import { encodeFrame } from '../../src/wire/encoder'
import { decodeHeader, formatDigestCredentials } from '../../src/wire/headers'
import { newInvalidHost, newSessionId, newTransactionId, newMessageId } from '../../src/wire/ids'
import { getHeader, type MsrpFrame, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'
import { pseudoRandom } from '../helpers/bytes'
import { start, type Running } from '../transport/helpers'

const HOST = '127.0.0.1'
const USERS = { alice: 'alice-secret', bob: 'bob-secret' }

/** Sends one AUTH and resolves with its response. */
type Exchange = (auth: MsrpRequest) => Promise<MsrpResponse>

/** AUTH by hand (RFC 4976 §5.1): the first AUTH is challenged, the second carries Digest credentials. */
async function authenticate(exchange: Exchange, relayUri: string, ownUri: string, user: keyof typeof USERS) {
  const auth = (authorization?: string): MsrpRequest => ({
    type: 'request',
    transactionId: newTransactionId(),
    method: 'AUTH',
    headers: [
      ['To-Path', relayUri],
      ['From-Path', ownUri],
      ...(authorization !== undefined ? ([['Authorization', authorization]] as const) : [])
    ],
    body: undefined,
    continuation: '$'
  })
  const challenge = await exchange(auth())
  expect(challenge.status).toBe(401)
  const params = decodeHeader(challenge.headers, 'WWW-Authenticate')
  if (E.isLeft(params) || params.right === undefined) throw new Error('no challenge')
  // R-9.1-8: the digest-uri is the rightmost To-Path URI.
  const credentials = answerChallenge(
    params.right,
    { username: user, password: USERS[user] },
    { digestUri: relayUri, nc: 1 }
  )
  if (E.isLeft(credentials)) throw new Error(credentials.left.detail)
  const ok = await exchange(auth(formatDigestCredentials(credentials.right)))
  expect(ok.status).toBe(200)
  return getHeader(ok.headers, 'Use-Path') as string
}

/** AUTH through an endpoint's connection (its writer and its responses). */
const viaConnection =
  (conn: MsrpConnection): Exchange =>
  (auth) => {
    const response = firstValueFrom(conn.responses$.pipe(filter((r) => r.transactionId === auth.transactionId)))
    conn.writer.sendFrame(auth)
    return response
  }

/** A bare client: a transport, what it received (framed), and a writer. */
class RawClient {
  readonly received = new ReplaySubject<FramedEvent>()
  constructor(readonly transport: Transport) {
    transport.incoming$.pipe(frame({ messageOriented: transport.info.messageOriented })).subscribe(this.received)
  }
  send(f: MsrpFrame): void {
    const pieces = encodeFrame(f)
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    this.transport.write(pieces.right)
  }
  frame(pred: (f: MsrpFrame) => boolean): Promise<MsrpFrame> {
    return firstValueFrom(
      this.received.pipe(
        filter((e): e is Extract<FramedEvent, { type: 'frame' }> => e.type === 'frame'),
        map((e) => e.frame),
        filter(pred)
      )
    )
  }
  readonly exchange: Exchange = async (auth) => {
    this.send(auth)
    return (await this.frame((f) => f.type === 'response' && f.transactionId === auth.transactionId)) as MsrpResponse
  }
}

describe('MsrpRelay end to end: endpoint (TCP) ⇄ relay ⇄ endpoint (WebSocket) on loopback', () => {
  let relay: MsrpRelay
  let tcp: Running
  let ws: Running
  let relayTcp: string
  let relayWs: string
  const events: RelayEvent[] = []
  const endpoints: MsrpEndpoint[] = []
  const subscriptions: Subscription[] = []

  beforeAll(async () => {
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'relay.test', credentials: memoryCredentials(USERS), registry })
    relay = new MsrpRelay({ auth, registry })
    subscriptions.push(relay.events$.subscribe((e) => events.push(e)))
    tcp = await start(listenTcp({ host: HOST, port: 0 }))
    ws = await start(listenWebSocket({ host: HOST, port: 0 }))
    relayTcp = `msrp://${HOST}:${tcp.listener.address.port};tcp`
    relayWs = `msrp://${HOST}:${ws.listener.address.port};ws`
    subscriptions.push(relay.serve(tcp.listener, relayTcp), relay.serve(ws.listener, relayWs))
  })

  afterAll(async () => {
    for (const e of endpoints) e.close()
    for (const s of subscriptions) s.unsubscribe()
    await relay.close()
    tcp.stop()
    ws.stop()
  })

  /** Alice over TCP and Bob over WebSocket, both authenticated, each with a session bound to its relay connection. */
  /** Largest and number of WebSocket messages Bob received (W-5.1-3: one frame each). */
  const wsSeen = { largest: 0, count: 0 }
  const watch = (t: Transport): Transport => ({
    incoming$: t.incoming$.pipe(
      tap((m) => {
        wsSeen.largest = Math.max(wsSeen.largest, m.length)
        wsSeen.count++
      })
    ),
    drain$: t.drain$,
    closed$: t.closed$,
    info: t.info,
    write: (p) => t.write(p),
    pause: () => t.pause(),
    resume: () => t.resume(),
    close: (r) => t.close(r)
  })

  async function pair(options: { aliceChunkBytes?: number } = {}) {
    const aliceEndpoint = new MsrpEndpoint(
      options.aliceChunkBytes !== undefined ? { chunkBytes: options.aliceChunkBytes } : {}
    )
    const bobEndpoint = new MsrpEndpoint()
    endpoints.push(aliceEndpoint, bobEndpoint)
    const aliceConn = aliceEndpoint.accept(
      await firstValueFrom(connectTcp({ host: HOST, port: tcp.listener.address.port }))
    )
    const bobConn = bobEndpoint.accept(
      watch(await firstValueFrom(connectWebSocket({ url: `ws://${HOST}:${ws.listener.address.port}/` })))
    )
    const aliceOwn = `msrp://${HOST}:${tcp.listener.address.port + 1}/${newSessionId()};tcp`
    const bobOwn = `msrp://${newInvalidHost()}:2855/${newSessionId()};ws`
    const aliceUse = await authenticate(viaConnection(aliceConn), relayTcp, aliceOwn, 'alice')
    const bobUse = await authenticate(viaConnection(bobConn), relayWs, bobOwn, 'bob')
    // R-5.1-4: To-Path = own Use-Path then the peer's path (its Use-Path reversed, then its own URI).
    const alice = aliceEndpoint.createSession(aliceOwn, [aliceUse, bobUse, bobOwn])
    const bob = bobEndpoint.createSession(bobOwn, [bobUse, aliceUse, aliceOwn])
    alice.bind(aliceConn)
    bob.bind(bobConn)
    return { alice, bob, aliceUse, bobUse, aliceConn }
  }

  const done = (session: MsrpSession, content: string | Uint8Array) =>
    firstValueFrom(session.send(content).pipe(filter((e) => e.type === 'done')))

  it('carries text both ways: Alice (TCP) → Bob (WebSocket) and back, through the issued URIs', async () => {
    const { alice, bob } = await pair()
    const toBob = firstValueFrom(bob.messages$)
    await done(alice, 'Hi Bob, over TCP')
    const m1 = await toBob
    expect(new TextDecoder().decode(await m1.collect())).toBe('Hi Bob, over TCP')
    const toAlice = firstValueFrom(alice.messages$)
    await done(bob, 'Hi Alice, over WebSocket')
    expect(new TextDecoder().decode(await (await toAlice).collect())).toBe('Hi Alice, over WebSocket')
    expect(events.some((e) => e.type === 'auth' && e.status === 200 && e.user === 'bob')).toBe(true)
  })

  it('W-5.1-4 delivers 64 MiB sent in 1 MiB chunks from the TCP side re-chunked for the WebSocket side, intact', async () => {
    const { alice, bob } = await pair({ aliceChunkBytes: 1024 * 1024 })
    const body = pseudoRandom(64 * 1024 * 1024, 42)
    const received = firstValueFrom(bob.messages$).then((m) => m.collect(65 * 1024 * 1024))
    const before = wsSeen.count
    await done(alice, body)
    const got = await received
    // Re-chunked: one frame of at most WS_CHUNK_BYTES body bytes (plus its head) per WebSocket message.
    expect(wsSeen.count - before).toBeGreaterThanOrEqual(body.length / WS_CHUNK_BYTES)
    expect(wsSeen.largest).toBeLessThan(WS_CHUNK_BYTES + 1024)
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
    expect(got.length).toBe(body.length)
    expect(sha(got)).toBe(sha(body))
  }, 120_000)

  it('R-6.3-9 answers 481 to a SEND addressed to a relay URI it never issued', async () => {
    const { alice } = await pair()
    alice.remotePath = [
      `msrp://${HOST}:${tcp.listener.address.port}/${newSessionId()};tcp`,
      alice.remotePath[2] as string
    ]
    const error = await firstValueFrom(alice.send('to nowhere').pipe(toArray())).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SendError)
    expect((error as SendError).status).toBe(481)
  })

  it('R-6.4.1-2 sends a 408 REPORT to the sender when the next hop never answers (short hop timeout)', async () => {
    // A next hop that accepts and reads but never answers.
    const sockets: net.Socket[] = []
    const silent = net.createServer((s) => {
      sockets.push(s)
      s.resume()
    })
    await new Promise<void>((r) => silent.listen(0, HOST, r))
    const port = (silent.address() as net.AddressInfo).port
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'relay.test', credentials: memoryCredentials(USERS), registry })
    const quick = new MsrpRelay({ auth, registry, hopTimeoutMs: 200 })
    const listening = await start(listenTcp({ host: HOST, port: 0 }))
    const uri = `msrp://${HOST}:${listening.listener.address.port};tcp`
    quick.serve(listening.listener, uri)
    try {
      const client = new RawClient(
        await firstValueFrom(connectTcp({ host: HOST, port: listening.listener.address.port }))
      )
      const own = `msrp://${HOST}:9/${newSessionId()};tcp`
      const use = await authenticate(client.exchange, uri, own, 'alice')
      const messageId = newMessageId()
      client.send({
        type: 'request',
        transactionId: 'slow0001',
        method: 'SEND',
        headers: [
          ['To-Path', `${use} msrp://${HOST}:${port}/${newSessionId()};tcp`],
          ['From-Path', own],
          ['Message-ID', messageId],
          ['Byte-Range', '1-5/5'],
          ['Content-Type', 'text/plain']
        ],
        body: new TextEncoder().encode('hello'),
        continuation: '$'
      })
      const ok = await client.frame((f) => f.type === 'response' && f.transactionId === 'slow0001')
      expect(ok.type === 'response' && ok.status).toBe(200)
      const report = await client.frame((f) => f.type === 'request' && f.method === 'REPORT')
      expect(getHeader(report.headers, 'Status')).toBe('000 408 Transaction-did-not-complete-in-allotted-time')
      expect(getHeader(report.headers, 'Message-ID')).toBe(messageId)
      expect(getHeader(report.headers, 'To-Path')).toBe(own)
      expect(getHeader(report.headers, 'From-Path')).toBe(use)
      client.transport.close()
    } finally {
      await quick.close()
      listening.stop()
      for (const s of sockets) s.destroy()
      await new Promise((r) => silent.close(r))
    }
  })

  it('W-5.3.1-1 lets a WebSocket client whose handshake cookie the listener accepted AUTH without a challenge', async () => {
    // A listener of its own with an authenticate hook: the cookie proves who the page is (RFC 7977 §5.3.1).
    const cookied = await start(
      listenWebSocket({
        host: HOST,
        port: 0,
        authenticate: (request) =>
          request.headers.cookie === 'session=bob-token' ? { accept: true, identity: 'bob' } : { accept: true }
      })
    )
    const uri = `msrp://${HOST}:${cookied.listener.address.port};ws`
    const sub = relay.serve(cookied.listener, uri)
    try {
      const auth = (): MsrpRequest => ({
        type: 'request',
        transactionId: newTransactionId(),
        method: 'AUTH',
        headers: [
          ['To-Path', uri],
          ['From-Path', `msrp://${newInvalidHost()}:2855/${newSessionId()};ws`]
        ],
        body: undefined,
        continuation: '$'
      })
      const url = `ws://${HOST}:${cookied.listener.address.port}/`
      const known = new RawClient(
        await firstValueFrom(connectWebSocket({ url, headers: { Cookie: 'session=bob-token' } }))
      )
      const granted = await known.exchange(auth())
      expect(granted.status).toBe(200)
      expect(getHeader(granted.headers, 'Use-Path')).toMatch(/^msrp:\/\/127\.0\.0\.1:\d+\/\w+;tcp$/)
      const stranger = new RawClient(await firstValueFrom(connectWebSocket({ url })))
      expect((await stranger.exchange(auth())).status).toBe(401) // no identity: Digest as usual
      known.transport.close()
      stranger.transport.close()
    } finally {
      sub.unsubscribe()
      cookied.stop()
    }
  })

  it('closes its connections and listeners on close(), reporting each disconnection', async () => {
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'relay.test', credentials: memoryCredentials(USERS), registry })
    const local = new MsrpRelay({ auth, registry })
    const listening = await start(listenTcp({ host: HOST, port: 0 }))
    local.serve(listening.listener, `msrp://${HOST}:${listening.listener.address.port};tcp`)
    const gone = firstValueFrom(
      local.events$.pipe(
        filter((e) => e.type === 'disconnection'),
        take(1)
      )
    )
    const client = new RawClient(
      await firstValueFrom(connectTcp({ host: HOST, port: listening.listener.address.port }))
    )
    for (let i = 0; i < 10_000 && local.stats.connections === 0; i++) await new Promise((r) => setImmediate(r))
    expect(local.stats.connections).toBe(1)
    await local.close()
    expect(await gone).toEqual(expect.objectContaining({ reason: 'RelayClosed' }))
    const ended = await firstValueFrom(client.received.pipe(toArray())).then(
      () => 'complete',
      () => 'error'
    )
    expect(['complete', 'error']).toContain(ended)
    listening.stop()
  })
})
