/**
 * Two of our relays in a chain on loopback (RFC 4976 §10.1 topology), over mixed transports and with real endpoints
 * authenticated through `MsrpEndpoint.authenticate`:
 *
 * ```text
 * Alice (WSS client) ──wss──► relay 1 ──TLS (verified, test CA)──► relay 2 ◄──TLS── Bob (TLS client)
 *                             ◄──────TLS (relay 2 dials relay 1)────┘
 * ```
 *
 * Alice's To-Path = her Use-Path at relay 1, then Bob's path (his Use-Path at relay 2 reversed, then his URI). Relay 1
 * hands out Use-Path URIs on its TLS listener (`useUri`), since a URI on its WSS port could not be dialed by relay 2.
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/Either'
import { filter, firstValueFrom, lastValueFrom, map, ReplaySubject, toArray, type Subscription } from 'rxjs'
import { createAuthHandler } from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpRelay } from '../../src/relay/relay'
import { createRegistry } from '../../src/relay/registry'
import type { RelayEvent } from '../../src/relay/types'
import { MsrpEndpoint, type EndpointOptions } from '../../src/session/endpoint'
import { newWebSocketClientUri, type RelayRegistration } from '../../src/session/relay-client'
import { SendError, type MsrpSession, type SendOptions } from '../../src/session/session'
import { frame, type FramedEvent } from '../../src/operators/frame'
import { connectTls, listenTls } from '../../src/transport/tls'
import { listenWebSocket } from '../../src/transport/websocket'
import type { Transport } from '../../src/transport/transport'
import { answerChallenge } from '../../src/wire/digest'
import { encodeFrame } from '../../src/wire/encoder'
import { decodeHeader, formatDigestCredentials } from '../../src/wire/headers'
import { newMessageId, newSessionId, newTransactionId } from '../../src/wire/ids'
import { getHeader, type MsrpFrame, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'
import { formatUri, parseUri, type MsrpUri } from '../../src/wire/uri'
import { pseudoRandom } from '../helpers/bytes'
import { certificates, rawServer, start, type RawServer, type Running } from '../transport/helpers'

const HOST = '127.0.0.1'
const USERS = { alice: 'alice-secret', bob: 'bob-secret' }
/** The binary message: several MiB, in the endpoints' default chunks. */
const BIG_BYTES = 6 * 1024 * 1024
/** Bob's reassembly limit in the 413 case, and what Alice sends him then. */
const BOB_MAX_BYTES = 64 * 1024
const TOO_BIG_BYTES = 256 * 1024
/** How far the clock of relay 2's registry jumps to expire its URIs (its default Expires is 1 800 s). */
const EXPIRY_JUMP_MS = 24 * 3600 * 1000

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const uri = (s: string): MsrpUri => {
  const parsed = parseUri(s)
  if (E.isLeft(parsed)) throw new Error(parsed.left.detail)
  return parsed.right
}

/** A bare TLS client of a relay: what it received (framed), and a writer. */
class RawClient {
  readonly received = new ReplaySubject<FramedEvent>()
  constructor(readonly transport: Transport) {
    transport.incoming$.pipe(frame()).subscribe(this.received)
  }
  send(f: MsrpFrame): void {
    const pieces = encodeFrame(f)
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    this.transport.write(pieces.right)
  }
  response(tid: string): Promise<MsrpResponse> {
    return firstValueFrom(
      this.received.pipe(
        filter((e): e is Extract<FramedEvent, { type: 'frame' }> => e.type === 'frame'),
        map((e) => e.frame),
        filter((f): f is MsrpResponse => f.type === 'response' && f.transactionId === tid)
      )
    )
  }
}

const sendFrame = (toPath: string, fromPath: string, body: string): MsrpRequest => ({
  type: 'request',
  transactionId: newTransactionId(),
  method: 'SEND',
  headers: [
    ['To-Path', toPath],
    ['From-Path', fromPath],
    ['Message-ID', newMessageId()],
    ['Byte-Range', `1-${body.length}/${body.length}`],
    ['Content-Type', 'text/plain']
  ],
  body: new TextEncoder().encode(body),
  continuation: '$'
})

interface Party {
  readonly endpoint: MsrpEndpoint
  readonly session: MsrpSession
  readonly registration: RelayRegistration
}

describe('two relays in a chain: Alice (WSS) ⇄ relay 1 ⇄ TLS ⇄ relay 2 ⇄ Bob (TLS)', () => {
  const { server } = certificates()
  const dialOptions = { ca: server.cert } // verification on: the relays and the clients trust the test CA only
  let relay1: MsrpRelay
  let relay2: MsrpRelay
  let r1Wss: Running
  let r1Tls: Running
  let r2Tls: Running
  let r1WssUri: string
  let r1TlsUri: string
  let r2TlsUri: string
  /** The clock skew of relay 2's registry (to expire its URIs). */
  let r2Skew = 0
  const events1: RelayEvent[] = []
  const events2: RelayEvent[] = []
  const endpoints: MsrpEndpoint[] = []
  const subscriptions: Subscription[] = []
  const strangers: Transport[] = []
  let evil: RawServer
  let evilConnections = 0

  beforeAll(async () => {
    r1Wss = await start(listenWebSocket({ host: HOST, port: 0, tls: { cert: server.cert, key: server.key } }))
    r1Tls = await start(listenTls({ host: HOST, port: 0, cert: server.cert, key: server.key }))
    r2Tls = await start(listenTls({ host: HOST, port: 0, cert: server.cert, key: server.key }))
    r1WssUri = `msrps://${HOST}:${r1Wss.listener.address.port};ws`
    r1TlsUri = `msrps://${HOST}:${r1Tls.listener.address.port};tcp`
    r2TlsUri = `msrps://${HOST}:${r2Tls.listener.address.port};tcp`
    const registry1 = createRegistry()
    // Use-Path URIs of relay 1 name its TLS listener, which relay 2 can dial (RFC 7977 §8: AUTH on ;ws, Use-Path ;tcp).
    const auth1 = createAuthHandler({
      realm: 'relay1.test',
      credentials: memoryCredentials(USERS),
      registry: registry1,
      useUri: () => uri(r1TlsUri)
    })
    relay1 = new MsrpRelay({ auth: auth1, registry: registry1, dial: dialOptions })
    const registry2 = createRegistry({ now: () => Date.now() + r2Skew })
    const auth2 = createAuthHandler({
      realm: 'relay2.test',
      credentials: memoryCredentials(USERS),
      registry: registry2
    })
    relay2 = new MsrpRelay({ auth: auth2, registry: registry2, dial: dialOptions })
    subscriptions.push(
      relay1.events$.subscribe((e) => events1.push(e)),
      relay2.events$.subscribe((e) => events2.push(e)),
      relay1.serve(r1Wss.listener, r1WssUri),
      relay1.serve(r1Tls.listener, r1TlsUri),
      relay2.serve(r2Tls.listener, r2TlsUri)
    )
    evil = await rawServer(() => evilConnections++)
  })

  afterAll(async () => {
    for (const e of endpoints) e.close()
    for (const t of strangers) t.close()
    for (const s of subscriptions) s.unsubscribe()
    await relay1.close()
    await relay2.close()
    r1Wss.stop()
    r1Tls.stop()
    r2Tls.stop()
    await evil.close()
  })

  /** Alice: a WebSocket client (`.invalid;ws` URI, W-A-1) authenticated at relay 1 over WSS. */
  async function alice(options: EndpointOptions = {}): Promise<Party> {
    const endpoint = new MsrpEndpoint({ ...options, dial: dialOptions })
    endpoints.push(endpoint)
    const session = endpoint.createSession(newWebSocketClientUri())
    const registration = await endpoint.authenticate(session, r1WssUri, { username: 'alice', password: USERS.alice })
    return { endpoint, session, registration }
  }

  /** Bob: a TLS client authenticated at relay 2. */
  async function bob(options: EndpointOptions = {}): Promise<Party> {
    const endpoint = new MsrpEndpoint({ ...options, dial: dialOptions })
    endpoints.push(endpoint)
    const session = endpoint.createSession(`msrps://${HOST}:2855/${newSessionId()};tcp`)
    const registration = await endpoint.authenticate(session, r2TlsUri, { username: 'bob', password: USERS.bob })
    return { endpoint, session, registration }
  }

  /** Alice and Bob connected to each other's path through both relays. */
  async function pair(bobOptions: EndpointOptions = {}): Promise<{ a: Party; b: Party }> {
    const a = await alice()
    const b = await bob(bobOptions)
    await a.endpoint.connect(a.session, b.registration.path)
    await b.endpoint.connect(b.session, a.registration.path)
    return { a, b }
  }

  const text = async (from: MsrpSession, to: MsrpSession, body: string) => {
    const incoming = firstValueFrom(to.messages$)
    const sent = lastValueFrom(from.send(body).pipe(toArray()))
    const message = await incoming
    const received = new TextDecoder().decode(await message.collect())
    expect((await sent).pop()).toMatchObject({ type: 'done' })
    return { received, fromPath: message.head.fromPath.map(formatUri), toPath: message.head.toPath.map(formatUri) }
  }

  /**
   * The status a send of `content` failed with at the sender: its `SendError` if the failure came while sending,
   * else the failure REPORT that came after `done` (behind a relay, `done` means every chunk reached relay 1).
   */
  async function failureStatus(session: MsrpSession, content: string | Uint8Array, options: SendOptions = {}) {
    const messageId = newMessageId()
    const late = firstValueFrom(session.lateFailures$.pipe(filter((f) => f.messageId === messageId)), {
      defaultValue: undefined
    })
    try {
      await lastValueFrom(session.send(content, { ...options, messageId }))
    } catch (e) {
      if (!(e instanceof SendError)) throw e
      expect(e.reason).toBe('FailureReport')
      return e.status
    }
    const failure = await late
    if (failure === undefined) throw new Error('the session closed without a failure REPORT')
    return failure.status
  }

  it('R-5.1-4: each side sends with To-Path = own Use-Path, the peer’s Use-Path reversed, the peer’s URI (§10.1)', async () => {
    const { a, b } = await pair()
    const [r1Use] = a.registration.usePath
    const [r2Use] = b.registration.usePath
    // Relay 1 issued a URI on its TLS listener, relay 2 on its own: both reachable by the other relay.
    expect(r1Use).toMatch(new RegExp(`^msrps://127\\.0\\.0\\.1:${r1Tls.listener.address.port}/\\w+;tcp$`))
    expect(r2Use).toMatch(new RegExp(`^msrps://127\\.0\\.0\\.1:${r2Tls.listener.address.port}/\\w+;tcp$`))
    expect(a.session.remotePath).toEqual([r1Use, r2Use, b.session.uri])
    expect(b.session.remotePath).toEqual([r2Use, r1Use, a.session.uri])
  })

  it('R-6.4.1-6: carries text both ways; each relay pushed its URI onto From-Path (Alice WSS → Bob TLS and back)', async () => {
    const { a, b } = await pair()
    const [r1Use] = a.registration.usePath
    const [r2Use] = b.registration.usePath
    const ab = await text(a.session, b.session, 'Hi Bob, from a browser ☃')
    expect(ab.received).toBe('Hi Bob, from a browser ☃')
    expect(ab.toPath).toEqual([b.session.uri])
    expect(ab.fromPath).toEqual([r2Use, r1Use, a.session.uri])
    const ba = await text(b.session, a.session, 'Hi Alice, over TLS')
    expect(ba.received).toBe('Hi Alice, over TLS')
    expect(ba.toPath).toEqual([a.session.uri])
    expect(ba.fromPath).toEqual([r1Use, r2Use, b.session.uri])
    // Relay 1 dialed relay 2 and relay 2 dialed relay 1 (TLS, certificates verified): both forwarded.
    expect(events1.some((e) => e.type === 'forwarded' && e.method === 'SEND')).toBe(true)
    expect(events2.some((e) => e.type === 'forwarded' && e.method === 'SEND')).toBe(true)
  })

  it('C-7.1.3-1, R-6.4.2-1: several MiB of binary arrive intact, and the success REPORTs come back through both relays', async () => {
    const { a, b } = await pair()
    const body = pseudoRandom(BIG_BYTES, 7)
    const received = firstValueFrom(b.session.messages$).then((m) => m.collect(BIG_BYTES + 1))
    const sent = await lastValueFrom(a.session.send(body, { successReport: true }).pipe(toArray()))
    const got = await received
    expect(got.length).toBe(body.length)
    expect(sha(got)).toBe(sha(body))
    // `done` waits for the success REPORTs to cover the message: Bob → relay 2 → relay 1 → Alice.
    const reports = sent.filter((e) => e.type === 'report')
    expect(reports.length).toBeGreaterThan(0)
    expect(reports.every((r) => r.type === 'report' && r.status === 200)).toBe(true)
    expect(reports.pop()).toMatchObject({ reported: BIG_BYTES })
    expect(sent.pop()).toEqual({ type: 'done', messageId: expect.any(String), size: BIG_BYTES })
  }, 60_000)

  it('W-5.1-4: several MiB sent by Bob in 1 MiB chunks reach WebSocket Alice re-chunked by relay 1, intact', async () => {
    const { a, b } = await pair({ chunkBytes: 1024 * 1024 })
    const body = pseudoRandom(BIG_BYTES, 8)
    const received = firstValueFrom(a.session.messages$).then((m) => m.collect(BIG_BYTES + 1))
    const sent = await lastValueFrom(b.session.send(body).pipe(toArray()))
    const got = await received
    expect(sha(got)).toBe(sha(body))
    expect(sent.pop()).toEqual({ type: 'done', messageId: expect.any(String), size: BIG_BYTES })
  }, 60_000)

  it('R-6.4.3-3: a 413 from Bob (message too large) reaches Alice as a failure REPORT with 413, relayed by relay 1', async () => {
    const { a } = await pair({ reassembly: { maxMessageBytes: BOB_MAX_BYTES } })
    const status = await failureStatus(a.session, pseudoRandom(TOO_BIG_BYTES, 3))
    expect(status).toBe(413)
    // Relay 2 made the REPORT (it received the 413), relay 1 only forwarded it.
    expect(events2.some((e) => e.type === 'report' && e.status === 413)).toBe(true)
    expect(events1.some((e) => e.type === 'report' && e.status === 413)).toBe(false)
  })

  it('R-6.3-6, R-6.4.1-3: Bob going away mid-message reaches Alice as a failure REPORT (408 or 481)', async () => {
    const { a, b } = await pair()
    // Bob's endpoint closes as soon as the message begins: relay 2 drops his URI with his connection.
    b.session.messages$.subscribe(() => b.endpoint.close())
    const status = await failureStatus(a.session, pseudoRandom(2 * 1024 * 1024, 5))
    expect([408, 481]).toContain(status)
  })

  it('R-6.3-9: a SEND to a URI relay 2 never issued gives Alice a 481 REPORT from relay 2', async () => {
    const a = await alice()
    const unknown = `${r2TlsUri.replace(';tcp', '')}/${newSessionId()};tcp`
    await a.endpoint.connect(a.session, [unknown, `msrps://${HOST}:2855/${newSessionId()};tcp`]).catch(() => undefined)
    const status = await failureStatus(a.session, 'anyone there?')
    expect(status).toBe(481)
  })

  it('R-5.1-7, R-6.4.3-4: Alice authenticates at relay 2 through relay 1 (§10.3) and is reached through both', async () => {
    const a = await alice()
    const b = await bob()
    const r1Use = a.registration.usePath[0] as string
    const conn = a.registration.connection
    // AUTH routed through relay 1 (To-Path: her URI there, then relay 2); relay 2's responses are mapped back to her.
    const exchange = (authorization?: string): Promise<MsrpResponse> => {
      const request: MsrpRequest = {
        type: 'request',
        transactionId: newTransactionId(),
        method: 'AUTH',
        headers: [
          ['To-Path', `${r1Use} ${r2TlsUri}`],
          ['From-Path', a.session.uri],
          ...(authorization !== undefined ? ([['Authorization', authorization]] as const) : [])
        ],
        body: undefined,
        continuation: '$'
      }
      const response = firstValueFrom(conn.responses$.pipe(filter((r) => r.transactionId === request.transactionId)))
      conn.writer.sendFrame(request)
      return response
    }
    const challenge = await exchange()
    expect(challenge.status).toBe(401)
    expect(getHeader(challenge.headers, 'To-Path')).toBe(a.session.uri)
    expect(getHeader(challenge.headers, 'From-Path')).toBe(`${r1Use} ${r2TlsUri}`)
    const params = decodeHeader(challenge.headers, 'WWW-Authenticate')
    if (E.isLeft(params) || params.right === undefined) throw new Error('no challenge')
    const credentials = answerChallenge(
      params.right,
      { username: 'alice', password: USERS.alice },
      { digestUri: r2TlsUri, nc: 1 } // R-9.1-8: the rightmost To-Path URI
    )
    if (E.isLeft(credentials)) throw new Error(credentials.left.detail)
    const ok = await exchange(formatDigestCredentials(credentials.right))
    expect(ok.status).toBe(200)
    // Use-Path: relay 1's URI, then relay 2's new one (valid over relay 1's connection only).
    const usePath = (getHeader(ok.headers, 'Use-Path') ?? '').split(' ')
    expect(usePath).toEqual([r1Use, expect.stringMatching(new RegExp(`^${r2TlsUri.replace(';tcp', '')}/\\w+;tcp$`))])
    const r2New = usePath[1] as string
    // R-5.1-4 with the outermost Use-Path: Alice sends along it, Bob along its reverse.
    a.session.remotePath = [...usePath, ...b.registration.path]
    await b.endpoint.connect(b.session, [r2New, r1Use, a.session.uri])
    const ab = await text(a.session, b.session, 'through both relays, authenticated at both')
    expect(ab.received).toBe('through both relays, authenticated at both')
    expect(ab.fromPath).toEqual([b.registration.usePath[0], r2New, r1Use, a.session.uri])
    const ba = await text(b.session, a.session, 'back through both')
    expect(ba.received).toBe('back through both')
    expect(ba.fromPath).toEqual([r1Use, r2New, b.registration.usePath[0], b.session.uri])
  })

  it('R-9.2-7: a relay verifies the next relay’s certificate: without the test CA it does not forward (408)', async () => {
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'relay3.test', credentials: memoryCredentials(USERS), registry })
    const untrusting = new MsrpRelay({ auth, registry }) // verification on, the system's CAs only
    const listening = await start(listenTls({ host: HOST, port: 0, cert: server.cert, key: server.key }))
    const at = `msrps://${HOST}:${listening.listener.address.port};tcp`
    const sub = untrusting.serve(listening.listener, at)
    try {
      const b = await bob()
      const endpoint = new MsrpEndpoint({ dial: dialOptions })
      endpoints.push(endpoint)
      const session = endpoint.createSession(`msrps://${HOST}:2855/${newSessionId()};tcp`)
      await endpoint.authenticate(session, at, { username: 'alice', password: USERS.alice })
      await expect(endpoint.connect(session, b.registration.path)).rejects.toMatchObject({ status: 408 })
      expect(evilConnections).toBe(0)
    } finally {
      sub.unsubscribe()
      await untrusting.close()
      listening.stop()
    }
  })

  describe('no open relay through the chain (R-3.1-1, R-6.4-1)', () => {
    /** A TLS connection to relay 2 that authenticated nothing. */
    async function stranger(): Promise<RawClient> {
      const t = await firstValueFrom(connectTls({ host: HOST, port: r2Tls.listener.address.port, ca: server.cert }))
      strangers.push(t)
      return new RawClient(t)
    }
    const evilUri = () => `msrp://${HOST}:${evil.port}/${newSessionId()};tcp`
    const me = `msrps://${HOST}:2855/${newSessionId()};tcp`

    it('R-6.3-9: a stranger at relay 2 naming a URI relay 2 never issued is answered 481, nothing is dialed', async () => {
      const s = await stranger()
      const request = sendFrame(`${r2TlsUri.replace(';tcp', '')}/${newSessionId()};tcp ${evilUri()}`, me, 'spam')
      s.send(request)
      expect((await s.response(request.transactionId)).status).toBe(481)
      expect(evilConnections).toBe(0)
    })

    it('R-6.4-1: a stranger at relay 2 naming relay 2’s device URI, or relay 1’s URI of Alice, is refused', async () => {
      const { a } = await pair()
      const s = await stranger()
      const device = sendFrame(`${r2TlsUri} ${evilUri()}`, me, 'spam')
      s.send(device)
      expect([403, 481]).toContain((await s.response(device.transactionId)).status)
      // Relay 2 is not a way to reach relay 1's clients: Alice's URI there is relay 1's, not relay 2's.
      const viaR2 = sendFrame(`${a.registration.usePath[0]} ${a.session.uri}`, me, 'spam')
      s.send(viaR2)
      expect((await s.response(viaR2.transactionId)).status).toBe(481)
      expect(evilConnections).toBe(0)
    })

    it('R-3.1-1: a stranger using Bob’s URI at relay 2 (claiming to be Bob) reaches Bob only, never the next URI', async () => {
      const { b } = await pair()
      const [r2Use] = b.registration.usePath
      const s = await stranger()
      const before = events2.length
      const request = sendFrame(`${r2Use} ${evilUri()}`, `${r2Use} ${b.session.uri}`, 'spam')
      s.send(request)
      expect((await s.response(request.transactionId)).status).toBe(200)
      // It went out on Bob's own connection: relay 2 forwards towards the client that obtained the URI.
      const forwarded = events2.slice(before).find((e) => e.type === 'forwarded')
      const bobConn = events2.find(
        (e) => e.type === 'auth' && e.user === 'bob' && e.status === 200 && e.connectionId === forwarded?.to
      )
      expect(forwarded).toBeDefined()
      expect(bobConn).toBeDefined()
      expect(evilConnections).toBe(0)
    })
  })

  // Last: it moves relay 2's registry clock past every URI it issued.
  it('R-6.3-7: a SEND to Bob’s expired URI at relay 2 gives Alice a 481 REPORT', async () => {
    const { a, b } = await pair()
    b.registration.close() // no refresh
    r2Skew = EXPIRY_JUMP_MS
    const status = await failureStatus(a.session, 'too late?')
    expect(status).toBe(481)
  })
})
