/**
 * A chain of two independent relays: ours and Kamailio's msrp module (../shared/interop/kamailio.md).
 *
 * ```text
 * A ──TCP──► our relay ──TCP (our relay dials Kamailio)──► Kamailio ──TCP or WS──► B
 *            ◄──────── TCP (Kamailio dials our relay) ────────┘
 * ```
 *
 * A authenticates at our relay, B at Kamailio (RFC 4976 §10.1 topology: To-Path = own Use-Path, then the peer's
 * Use-Path reversed, then the peer's URI). Kamailio must be installed (.ci/run installs it): without it these tests
 * fail with a message saying so, they are not skipped.
 */
import { createHash } from 'node:crypto'
import { firstValueFrom, lastValueFrom, toArray, type Subscription } from 'rxjs'
import { createAuthHandler } from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpRelay } from '../../src/relay/relay'
import { createRegistry } from '../../src/relay/registry'
import type { RelayEvent } from '../../src/relay/types'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpSession } from '../../src/session/session'
import { DEFAULT_CHUNK_BYTES } from '../../src/session/writer'
import { newWebSocketClientUri, type RelayRegistration } from '../../src/session/relay-client'
import { listenTcp } from '../../src/transport/tcp'
import { listenTls } from '../../src/transport/tls'
import { newSessionId } from '../../src/wire/ids'
import { formatUri } from '../../src/wire/uri'
import { pseudoRandom } from '../helpers/bytes'
import { certificates, start, type Running } from '../transport/helpers'
import { KAMAILIO_ACCOUNT, startKamailio, type KamailioRelay } from './kamailio'

const HOST = '127.0.0.1'
const A_ACCOUNT = { username: 'alice', password: 'alice-secret' }
/** 1 MiB in our default chunks (8 KiB): every frame stays under Kamailio's 11 239-byte cap (kamailio.md). */
const BIG_BYTES = 1024 * 1024
/** Body bytes per frame that Kamailio relays: our default chunk size, well under its 11 239-byte frame cap. */
const KAMAILIO_SAFE_CHUNK_BYTES = DEFAULT_CHUNK_BYTES

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

let kamailio: KamailioRelay | undefined
const k = (): KamailioRelay => {
  if (kamailio === undefined) throw new Error('Kamailio did not start (see the beforeAll error above)')
  return kamailio
}

let relay: MsrpRelay
let listening: Running
let listeningTls: Running
let relayUri: string
let relayTlsUri: string
const events: RelayEvent[] = []
const subscriptions: Subscription[] = []

beforeAll(async () => {
  kamailio = await startKamailio()
  const registry = createRegistry()
  const auth = createAuthHandler({
    realm: 'rx-relay.test',
    credentials: memoryCredentials({ alice: 'alice-secret' }),
    registry
  })
  // TLS next hops (Kamailio's TLS socket) are verified against the harness's CA.
  relay = new MsrpRelay({ auth, registry, dial: { ca: kamailio.ca } })
  listening = await start(listenTcp({ host: HOST, port: 0 }))
  const { server } = certificates()
  listeningTls = await start(listenTls({ host: HOST, port: 0, cert: server.cert, key: server.key }))
  relayUri = `msrp://${HOST}:${listening.listener.address.port};tcp`
  relayTlsUri = `msrps://${HOST}:${listeningTls.listener.address.port};tcp`
  subscriptions.push(
    relay.serve(listening.listener, relayUri),
    relay.serve(listeningTls.listener, relayTlsUri),
    relay.events$.subscribe((e) => events.push(e))
  )
}, 40_000)

afterAll(async () => {
  for (const s of subscriptions) s.unsubscribe()
  await relay?.close()
  listening?.stop()
  listeningTls?.stop()
  await kamailio?.stop()
}, 30_000)

interface Party {
  readonly endpoint: MsrpEndpoint
  readonly session: MsrpSession
  readonly registration: RelayRegistration
}

/** A: a TCP or TLS client of our relay (plain TCP on loopback only, hence `allowInsecure`). */
async function partyA(at: string, chunkBytes?: number): Promise<Party> {
  const secure = at.startsWith('msrps:')
  const endpoint = new MsrpEndpoint({
    ...(chunkBytes !== undefined ? { chunkBytes } : {}),
    ...(secure ? { dial: { ca: certificates().server.cert } } : {})
  })
  const session = endpoint.createSession(`${secure ? 'msrps' : 'msrp'}://${HOST}:2855/${newSessionId()};tcp`)
  const registration = await endpoint.authenticate(session, at, { ...A_ACCOUNT, allowInsecure: !secure })
  return { endpoint, session, registration }
}

type Via = 'tcp' | 'ws' | 'wss'

/** B: a client of Kamailio over TCP, WS or WSS (`.invalid;ws` URI); Kamailio needs `uri=` in Authorization. */
async function partyB(via: Via): Promise<Party> {
  const secure = via === 'wss'
  const endpoint = new MsrpEndpoint(secure ? { dial: { ca: k().ca } } : {})
  const own = via === 'tcp' ? `msrp://${HOST}:2855/${newSessionId()};tcp` : newWebSocketClientUri({ secure })
  const session = endpoint.createSession(own)
  const at = via === 'tcp' ? k().tcpUri : via === 'ws' ? k().wsUri : k().wssUri
  const registration = await endpoint.authenticate(session, at, {
    ...KAMAILIO_ACCOUNT,
    includeUri: true,
    allowInsecure: !secure
  })
  return { endpoint, session, registration }
}

async function text(from: MsrpSession, to: MsrpSession, body: string) {
  const incoming = firstValueFrom(to.messages$)
  const sent = lastValueFrom(from.send(body).pipe(toArray()))
  const message = await incoming
  const received = new TextDecoder().decode(await message.collect())
  expect((await sent).pop()).toMatchObject({ type: 'done' })
  return { received, fromPath: message.head.fromPath.map(formatUri) }
}

/** Kamailio's log in a failure message: what it refused and why. */
const withLog = async <T>(p: Promise<T>): Promise<T> =>
  p.catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- Kamailio log ---\n${k().log().slice(-8000)}`)
  })

interface ChainOptions {
  /** Our relay's URI A authenticates at. Default: the relay of beforeAll. */
  readonly at?: string
  /** A's chunk size. Default: the endpoint's (DEFAULT_CHUNK_BYTES). */
  readonly aChunkBytes?: number
}

async function chain(via: Via, options: ChainOptions = {}): Promise<void> {
  const a = await partyA(options.at ?? relayUri, options.aChunkBytes)
  const b = await partyB(via)
  try {
    const [ours] = a.registration.usePath
    const [theirs] = b.registration.usePath
    // Kamailio's Use-Path names its raw TCP socket (msrp:) or its TLS socket (msrps:), with an IP (kamailio.md).
    const socket = via === 'wss' ? `msrps://127\\.0\\.0\\.1:${k().tlsPort}` : `msrp://127\\.0\\.0\\.1:${k().tcpPort}`
    expect(theirs).toMatch(new RegExp(`^${socket}/.+;tcp$`))
    await withLog(a.endpoint.connect(a.session, b.registration.path))
    await withLog(b.endpoint.connect(b.session, a.registration.path))
    expect(a.session.remotePath).toEqual([ours, theirs, b.session.uri])
    expect(b.session.remotePath).toEqual([theirs, ours, a.session.uri])

    // A → our relay → Kamailio → B: each relay pushed its URI on From-Path (R-6.4.1-6).
    const ab = await withLog(text(a.session, b.session, 'Hi B, from behind rx-msrp ☃'))
    expect(ab.received).toBe('Hi B, from behind rx-msrp ☃')
    expect(ab.fromPath).toEqual([theirs, ours, a.session.uri])
    // B → Kamailio → our relay (Kamailio dials it) → A.
    const ba = await withLog(text(b.session, a.session, 'Hi A, from behind Kamailio'))
    expect(ba.received).toBe('Hi A, from behind Kamailio')
    expect(ba.fromPath).toEqual([ours, theirs, b.session.uri])

    // 1 MiB of binary in default chunks, with success REPORTs all the way back through Kamailio and our relay.
    const body = pseudoRandom(BIG_BYTES, 11)
    const incoming = firstValueFrom(b.session.messages$)
    const sent = lastValueFrom(a.session.send(body, { successReport: true }).pipe(toArray()))
    const message = await withLog(incoming)
    expect(sha(await withLog(message.collect(BIG_BYTES + 1)))).toBe(sha(body))
    expect(await message.outcome).toEqual({ type: 'complete', size: BIG_BYTES, duplicate: false })
    const events = await withLog(sent)
    expect(events.filter((e) => e.type === 'report').pop()).toMatchObject({ status: 200, reported: BIG_BYTES })
    expect(events.pop()).toEqual({ type: 'done', messageId: expect.any(String), size: BIG_BYTES })

    // And the other way: 1 MiB from B through Kamailio, then our relay, to A.
    const back = pseudoRandom(BIG_BYTES, 12)
    const toA = firstValueFrom(a.session.messages$)
    const sentBack = lastValueFrom(b.session.send(back).pipe(toArray()))
    expect(sha(await withLog((await withLog(toA)).collect(BIG_BYTES + 1)))).toBe(sha(back))
    expect((await withLog(sentBack)).pop()).toMatchObject({ type: 'done', size: BIG_BYTES })
  } finally {
    a.endpoint.close()
    b.endpoint.close()
  }
}

describe('chain: A ⇄ our relay ⇄ Kamailio ⇄ B', () => {
  it('R-5.1-4, R-6.4.1-6: B over TCP: text both ways, 1 MiB each way in default chunks, sha256 equal, REPORTs back', async () => {
    await chain('tcp')
    expect(events.filter((e) => e.type === 'refused' || e.type === 'report')).toEqual([])
  }, 60_000)

  it('W-5.1-3: B over WebSocket (.invalid;ws URI): text both ways, 1 MiB each way, sha256 equal, REPORTs back', async () => {
    await chain('ws')
    expect(events.filter((e) => e.type === 'refused' || e.type === 'report')).toEqual([])
  }, 60_000)

  it('R-9.2-7, W-5.1-2: A over TLS at our relay, B over WSS at Kamailio, the relays over TLS: text, 1 MiB each way', async () => {
    await chain('wss', { at: relayTlsUri })
    expect(events.filter((e) => e.type === 'refused' || e.type === 'report')).toEqual([])
  }, 60_000)

  it('R-6.4.1-4: A sending 64 KiB chunks reaches B through Kamailio when our relay re-chunks (maxForwardChunkBytes)', async () => {
    // Kamailio drops a connection whose frame overruns its read buffer ("tcp_read(): buffer overrun") and relays no
    // frame of 14 337 bytes or more (kamailio.md): a relay that forwards to it must cut big chunks (R-6.4.1-4).
    const registry = createRegistry()
    const auth = createAuthHandler({
      realm: 'rx-relay.test',
      credentials: memoryCredentials({ alice: 'alice-secret' }),
      registry
    })
    const cutting = new MsrpRelay({ auth, registry, maxForwardChunkBytes: KAMAILIO_SAFE_CHUNK_BYTES })
    const own = await start(listenTcp({ host: HOST, port: 0 }))
    const uri = `msrp://${HOST}:${own.listener.address.port};tcp`
    const refusals: RelayEvent[] = []
    const sub = cutting.events$.subscribe((e) => (e.type === 'refused' || e.type === 'report') && refusals.push(e))
    cutting.serve(own.listener, uri)
    try {
      await chain('tcp', { at: uri, aChunkBytes: 64 * 1024 })
      expect(refusals).toEqual([])
    } finally {
      sub.unsubscribe()
      await cutting.close()
      own.stop()
    }
  }, 60_000)
})
