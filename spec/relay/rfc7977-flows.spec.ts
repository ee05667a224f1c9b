/**
 * The example flows of RFC 7977 §8 (rfc7977-websocket.md §9; vectors in spec/fixtures/rfc-vectors.md) played over the
 * wire against our relay, with raw WebSocket clients (one MSRP frame per WebSocket message, W-5.1-3) and a raw TCP
 * client. The relay plays a.example.com: its WebSocket listener is `msrps://a.example.com:443;ws`, its Use-Path URIs
 * are on `msrps://a.example.com:2855;tcp`, and its registry issues the RFC's session-ids (`jui787s2f` for Alice,
 * `iwnslt` for Carol), so that every frame can be compared with the RFC's octet for octet once the transaction id
 * (a new random one per hop, R-6.4-2) is put back. Bob (`bob.example.com:49154`) is a TCP listener on loopback that
 * the relay's connector dials.
 *
 * The RFC's irregularities (rfc7977-websocket.md §9.6) are not reproduced: our relay writes one space after the
 * colons (§8.2.2 F3, §8.2.3 F3) and keeps the `:2855` of Alice's URI (§8.3.2 F3); the tests say where.
 */
import * as E from 'fp-ts/Either'
import { filter, firstValueFrom, map, ReplaySubject, tap, type Subscription } from 'rxjs'
import { createAuthHandler } from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpRelay } from '../../src/relay/relay'
import { createRegistry } from '../../src/relay/registry'
import { frame, type FramedEvent } from '../../src/operators/frame'
import { connectTcp, listenTcp } from '../../src/transport/tcp'
import { connectWebSocket, listenWebSocket } from '../../src/transport/websocket'
import type { Transport } from '../../src/transport/transport'
import { concatBytes } from '../../src/wire/bytes'
import { answerChallenge } from '../../src/wire/digest'
import { encodeFrame } from '../../src/wire/encoder'
import { decodeHeader, formatDigestCredentials } from '../../src/wire/headers'
import { newSessionId } from '../../src/wire/ids'
import { getHeader, type Header, type MsrpFrame, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'
import { responseTo } from '../../src/wire/replies'
import { parseUri, type MsrpUri } from '../../src/wire/uri'
import { loadFixtures } from '../helpers/fixtures'
import { decodeSlices } from '../helpers/replay'
import { start, type Running } from '../transport/helpers'

const HOST = '127.0.0.1'
const RELAY_WS = 'msrps://a.example.com:443;ws'
const RELAY_TCP = 'msrps://a.example.com:2855;tcp'
const ALICE = 'msrps://df7jal23ls0d.invalid:2855/98cjs;ws'
const CAROL = 'msrps://jk9awp14vj8x.invalid:2855/76qwe;ws'
const BOB = 'msrps://bob.example.com:49154/foo;tcp'
const JUI = 'msrps://a.example.com:2855/jui787s2f;tcp'
const IWN = 'msrps://a.example.com:2855/iwnslt;tcp'
const RELAY_NET = 'msrps://relay.example.net:2855;tcp'
const KWV = 'msrps://relay.example.net:2855/kwvin5f;tcp'

const VECTORS = loadFixtures('rfc-vectors')
/** Polls of `relay.stats` while a response travels to the relay, and the pause between two (at most 5 s in all). */
const POLLS = 500
const POLL_MS = 10
const DECODER = new TextDecoder()

/** The wire text of vector `n` (its section number in spec/fixtures/rfc-vectors.md). */
function vectorText(n: number): string {
  const f = VECTORS.find((x) => x.title.startsWith(`${n}. `))
  if (f === undefined) throw new Error(`no fixture ${n}`)
  return DECODER.decode(f.bytes)
}

/** Vector `n` as a frame. */
function vector<F extends MsrpFrame>(n: number): F {
  const [f] = decodeSlices([new TextEncoder().encode(vectorText(n))]).frames
  if (f === undefined) throw new Error(`fixture ${n} holds no frame`)
  return f as F
}

/** What a frame is on the wire (the framer keeps header values as written, so this is what arrived). */
const wireText = (f: MsrpFrame): string => {
  const pieces = encodeFrame(f)
  if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
  return DECODER.decode(concatBytes(pieces.right))
}

/** `f` on the wire with its transaction id replaced by the RFC's. */
const asRfc = (f: MsrpFrame, rfcTid: string): string => wireText(f).split(f.transactionId).join(rfcTid)

/** Vector `n` with another transaction id (what the answering side writes for a relay's new id). */
function withTid<F extends MsrpFrame>(n: number, tid: string): F {
  return { ...vector<F>(n), transactionId: tid }
}

const uri = (s: string): MsrpUri => {
  const parsed = parseUri(s)
  if (E.isLeft(parsed)) throw new Error(parsed.left.detail)
  return parsed.right
}

/** A raw MSRP client: the frames it received, and a writer. */
class RawClient {
  readonly received = new ReplaySubject<FramedEvent>()
  messages = 0
  constructor(readonly transport: Transport) {
    // On WebSocket the framer checks one frame per message (W-5.1-3): two in one, or one in two, is an error.
    transport.incoming$
      .pipe(
        tap(() => this.messages++),
        frame({ messageOriented: transport.info.messageOriented })
      )
      .subscribe(this.received)
  }
  send(f: MsrpFrame): void {
    const pieces = encodeFrame(f)
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    this.transport.write(pieces.right)
  }
  frame<F extends MsrpFrame>(pred: (f: MsrpFrame) => boolean): Promise<F> {
    return firstValueFrom(
      this.received.pipe(
        filter((e): e is Extract<FramedEvent, { type: 'frame' }> => e.type === 'frame'),
        map((e) => e.frame),
        filter(pred)
      )
    ) as Promise<F>
  }
  response(tid: string): Promise<MsrpResponse> {
    return this.frame((f) => f.type === 'response' && f.transactionId === tid)
  }
  request(method: string, messageOf?: string): Promise<MsrpRequest> {
    return this.frame(
      (f) =>
        f.type === 'request' &&
        f.method === method &&
        (messageOf === undefined || new TextDecoder().decode(f.body).includes(messageOf))
    )
  }
  /** Every frame received so far. */
  frames(): MsrpFrame[] {
    const out: MsrpFrame[] = []
    this.received.subscribe((e) => e.type === 'frame' && out.push(e.frame)).unsubscribe()
    return out
  }
}

describe('RFC 7977 §8 example flows against MsrpRelay, over the wire (a.example.com on loopback)', () => {
  let relay: MsrpRelay
  let ws: Running
  let bobListener: Running
  let netRelay: MsrpRelay
  let netListener: Running
  /** What a.example.com wrote to relay.example.net, and what it read from it (copies). */
  const toNet: Uint8Array[] = []
  const fromNet: Uint8Array[] = []
  const recorded = (t: Transport): Transport => ({
    incoming$: t.incoming$.pipe(tap((b) => fromNet.push(Uint8Array.from(b)))),
    drain$: t.drain$,
    closed$: t.closed$,
    info: t.info,
    write: (pieces) => {
      for (const p of pieces) toNet.push(Uint8Array.from(p))
      return t.write(pieces)
    },
    pause: () => t.pause(),
    resume: () => t.resume(),
    close: (r) => t.close(r)
  })
  /** Session-ids the registry issues next (the RFC's), then random ones. */
  const nextIds: string[] = []
  const subscriptions: Subscription[] = []
  const bobs = new ReplaySubject<RawClient>()
  const clients: RawClient[] = []

  beforeAll(async () => {
    const registry = createRegistry({ newSessionId: () => nextIds.shift() ?? newSessionId() })
    const auth = createAuthHandler({
      realm: 'example.com',
      credentials: memoryCredentials({ alice: 'alice-pw' }),
      registry,
      defaultExpiresSec: 900,
      useUri: () => uri(RELAY_TCP) // RFC 7977 §8: AUTH on :443;ws, Use-Path on :2855;tcp
    })
    bobListener = await start(listenTcp({ host: HOST, port: 0 }))
    // relay.example.net (§8.4): a second relay of ours on loopback, which issues `kwvin5f` to Bob.
    const netRegistry = createRegistry({ newSessionId: () => 'kwvin5f' })
    const netAuth = createAuthHandler({
      realm: 'example.net',
      credentials: memoryCredentials({ bob: 'bob-pw' }),
      registry: netRegistry
    })
    netRelay = new MsrpRelay({ auth: netAuth, registry: netRegistry })
    netListener = await start(listenTcp({ host: HOST, port: 0 }))
    subscriptions.push(netRelay.serve(netListener.listener, RELAY_NET))
    subscriptions.push(bobListener.listener.connections$.subscribe((t) => bobs.next(new RawClient(t))))
    relay = new MsrpRelay({
      auth,
      registry,
      // bob.example.com:49154 is our TCP listener on loopback; nothing else is ever dialed.
      connect: (next) => {
        if (next.host === 'relay.example.net' && next.port === 2855) {
          return connectTcp({ host: HOST, port: netListener.listener.address.port }).pipe(map(recorded))
        }
        if (next.host !== 'bob.example.com' || next.port !== 49154) throw new Error(`unexpected dial ${next.host}`)
        return connectTcp({ host: HOST, port: bobListener.listener.address.port })
      }
    })
    ws = await start(
      listenWebSocket({
        host: HOST,
        port: 0,
        // RFC 7977 §8.1.1: the page proved who it is in the handshake (a cookie here).
        authenticate: (request) => {
          const user = /user=(\w+)/.exec(request.headers.cookie ?? '')?.[1]
          return user !== undefined ? { accept: true, identity: user } : { accept: true }
        }
      })
    )
    subscriptions.push(relay.serve(ws.listener, RELAY_WS))
  })

  afterAll(async () => {
    for (const c of clients) c.transport.close()
    for (const s of subscriptions) s.unsubscribe()
    await relay.close()
    await netRelay.close()
    ws.stop()
    bobListener.stop()
    netListener.stop()
  })

  /** Resolves once the relay holds no transaction (the last response reached it), or after POLLS polls. */
  async function settled(): Promise<void> {
    for (let i = 0; i < POLLS && relay.stats.pendingTransactions > 0; i++)
      await new Promise((r) => setTimeout(r, POLL_MS))
  }

  async function wsClient(user?: string): Promise<RawClient> {
    const url = `ws://${HOST}:${ws.listener.address.port}/`
    const headers = user !== undefined ? { Cookie: `user=${user}` } : undefined
    const t = await firstValueFrom(connectWebSocket({ url, ...(headers !== undefined ? { headers } : {}) }))
    expect(t.info.messageOriented).toBe(true)
    const c = new RawClient(t)
    clients.push(c)
    return c
  }

  /** Alice, authenticated at the WebSocket layer (§8.1.1), once: vector 38 answered. */
  let alice: Promise<{ client: RawClient; ok: MsrpResponse }> | undefined
  const aliceClient = () =>
    (alice ??= (async () => {
      const client = await wsClient('alice')
      nextIds.push('jui787s2f')
      client.send(vector(38))
      return { client, ok: await client.response('49fi') }
    })())

  /** Carol, authenticated the same way on her own WebSocket (§8.3), once. */
  let carol: Promise<RawClient> | undefined
  const carolClient = () =>
    (carol ??= (async () => {
      const client = await wsClient('carol')
      nextIds.push('iwnslt')
      const auth: MsrpRequest = {
        ...vector<MsrpRequest>(38),
        transactionId: 'c4r0l',
        headers: [
          ['To-Path', 'msrps://carol@a.example.com:443;ws'],
          ['From-Path', CAROL]
        ]
      }
      client.send(auth)
      const ok = await client.response('c4r0l')
      expect(getHeader(ok.headers, 'Use-Path')).toBe(IWN)
      return client
    })())

  it('W-5.3.1-2, §8.1.1: AUTH after WebSocket-level authentication is answered 200 exactly as vector 39', async () => {
    const { client, ok } = await aliceClient()
    expect(wireText(ok)).toBe(vectorText(39))
    expect(client.messages).toBe(1) // one WebSocket message, one frame
  })

  it('R-5.1-5, R-9.1-8, §8.1.2: AUTH with Digest over the WebSocket: 401 of the RFC’s shape, then 200 with Use-Path', async () => {
    const client = await wsClient()
    client.send(vector(40))
    const challenge = await client.response('4rsxt9nz')
    const rfc = vector<MsrpResponse>(41)
    expect([challenge.status, challenge.comment]).toEqual([401, 'Unauthorized'])
    expect(challenge.headers.map(([n]) => n)).toEqual(rfc.headers.map(([n]) => n))
    expect(getHeader(challenge.headers, 'To-Path')).toBe(getHeader(rfc.headers, 'To-Path'))
    expect(getHeader(challenge.headers, 'From-Path')).toBe(getHeader(rfc.headers, 'From-Path'))
    expect(getHeader(challenge.headers, 'WWW-Authenticate')).toMatch(
      /^Digest realm="example\.com", nonce="[^"]+", qop="auth"$/
    )
    const params = decodeHeader(challenge.headers, 'WWW-Authenticate')
    if (E.isLeft(params) || params.right === undefined) throw new Error('no challenge')
    // F5 as the RFC writes it, uri= included, with a response computed for our nonce and the test password.
    const credentials = answerChallenge(
      params.right,
      { username: 'alice', password: 'alice-pw' },
      { digestUri: 'msrps://alice@a.example.com:443;ws', nc: 1, cnonce: 'zic5ml401prb', includeUri: true }
    )
    if (E.isLeft(credentials)) throw new Error(credentials.left.detail)
    const f5 = vector<MsrpRequest>(42)
    client.send({
      ...f5,
      headers: f5.headers.map(([n, v]): Header => [
        n,
        n === 'Authorization' ? formatDigestCredentials(credentials.right) : v
      ])
    })
    const ok = await client.response('qy1hsow5')
    expect(ok.status).toBe(200)
    expect(getHeader(ok.headers, 'To-Path')).toBe(ALICE)
    expect(getHeader(ok.headers, 'From-Path')).toBe('msrps://alice@a.example.com:443;ws')
    expect(getHeader(ok.headers, 'Use-Path')).toMatch(/^msrps:\/\/a\.example\.com:2855\/\w+;tcp$/)
    expect(getHeader(ok.headers, 'Expires')).toBe('900')
  })

  it('R-6.4.1-1, R-6.4.1-6, §8.2.2: WebSocket Alice → relay → TCP Bob: 200 is vector 45, the SEND leaves as vector 46', async () => {
    const { client } = await aliceClient()
    const f1 = vector<MsrpRequest>(44)
    client.send(f1)
    // F2: the relay's hop-by-hop 200, octet for octet.
    expect(wireText(await client.response('6aef'))).toBe(vectorText(45))
    // F3: paths rewritten, a new transaction id, everything else as sent (the RFC prints two spaces after From-Path:).
    const bob = await firstValueFrom(bobs)
    const f3 = await bob.request('SEND', 'file.mpeg')
    expect(f3.transactionId).not.toBe('6aef')
    expect(asRfc(f3, 'juh76')).toBe(vectorText(46).replace('From-Path:  ', 'From-Path: '))
    expect(f3.body).toEqual(f1.body)
    // F4: Bob's 200 ends the relay's transaction (nothing goes back to Alice for it, R-3-1).
    bob.send(withTid(47, f3.transactionId))
    await settled()
    expect(relay.stats.pendingTransactions).toBe(0)
  })

  it('R-3.1-1, §8.2.3: TCP Bob → relay → WebSocket Alice over Bob’s connection: 200 is vector 49, the SEND vector 50', async () => {
    const { client } = await aliceClient()
    const bob = await firstValueFrom(bobs) // the connection the relay opened to Bob (§8.2.2)
    const f1 = vector<MsrpRequest>(48)
    bob.send(f1)
    expect(wireText(await bob.response('xght6'))).toBe(vectorText(49))
    const f3 = await client.request('SEND', 'Thanks for the file.')
    expect(f3.transactionId).not.toBe('xght6')
    expect(asRfc(f3, 'yh67')).toBe(
      vectorText(50).replace('To-Path:  ', 'To-Path: ').replace('From-Path:  ', 'From-Path: ')
    )
    expect(f3.body).toEqual(f1.body)
    // F4 as printed (two spaces after both colons): a tolerant relay matches it to its transaction.
    client.send(withTid(51, f3.transactionId))
    await settled()
    expect(relay.stats.pendingTransactions).toBe(0)
  })

  it('R-3-1, R-6.4.2-1: REPORTs between them are forwarded with paths rewritten and a new id, and never answered', async () => {
    const { client } = await aliceClient()
    const bob = await firstValueFrom(bobs)
    const report: MsrpRequest = {
      type: 'request',
      transactionId: 'rp7977',
      method: 'REPORT',
      headers: [
        ['To-Path', `${JUI} ${ALICE}`],
        ['From-Path', BOB],
        ['Message-ID', '87652'],
        ['Byte-Range', '1-39/39'],
        ['Status', '000 200 OK']
      ],
      body: undefined,
      continuation: '$'
    }
    bob.send(report)
    const out = await client.request('REPORT')
    expect(out.transactionId).not.toBe('rp7977')
    expect(out.headers).toEqual([
      ['To-Path', ALICE],
      ['From-Path', `${JUI} ${BOB}`],
      ['Message-ID', '87652'],
      ['Byte-Range', '1-39/39'],
      ['Status', '000 200 OK']
    ])
    // Alice's REPORT the other way, then a SEND from Bob: its 200 comes after anything the relay wrote for the REPORT.
    client.send({
      ...report,
      transactionId: 'rp7978',
      headers: [['To-Path', `${JUI} ${BOB}`], ['From-Path', ALICE], ...report.headers.slice(2)]
    })
    const back = await bob.request('REPORT')
    expect(getHeader(back.headers, 'To-Path')).toBe(BOB)
    expect(getHeader(back.headers, 'From-Path')).toBe(`${JUI} ${ALICE}`)
    const f48 = vector<MsrpRequest>(48)
    const headers = f48.headers.map(([n, v]): Header => [n, n === 'Message-ID' ? 'after-reports' : v])
    bob.send({ ...f48, transactionId: 'after1', headers })
    await bob.response('after1')
    const forwarded = await client.frame<MsrpRequest>((f) => getHeader(f.headers, 'Message-ID') === 'after-reports')
    client.send(responseTo(forwarded, 200))
    await settled()
    expect(bob.frames().some((f) => f.type === 'response' && f.transactionId === 'rp7977')).toBe(false)
    expect(client.frames().some((f) => f.type === 'response' && f.transactionId === 'rp7978')).toBe(false)
  })

  it('W-5.1-3, §8.3.2: two WebSocket clients on one relay (two of its URIs in a row): 200 is vector 53, Carol gets vector 54', async () => {
    const { client: a } = await aliceClient()
    const c = await carolClient()
    const f1 = vector<MsrpRequest>(52)
    a.send(f1)
    expect(wireText(await a.response('kjh6'))).toBe(vectorText(53))
    const f3 = await c.request('SEND', 'Carol, I sent that file to Bob.')
    expect(f3.transactionId).not.toBe('kjh6')
    // Both of our URIs moved to From-Path; Alice's URI keeps its :2855 (the RFC prints it without, §9.6 item 2).
    expect(asRfc(f3, 're58')).toBe(vectorText(54).replace('df7jal23ls0d.invalid/', 'df7jal23ls0d.invalid:2855/'))
    expect(f3.body).toEqual(f1.body)
    c.send(withTid(55, f3.transactionId))
    await settled()
    expect(relay.stats.pendingTransactions).toBe(0)
  })

  it('R-6.4.1-1, R-6.4.1-6, §8.4.2: WebSocket Alice → a.example.com → relay.example.net → Bob: vectors 57, 58, 60 (corrected), 61', async () => {
    const { client } = await aliceClient()
    // Bob authenticates at relay.example.net over TCP with Digest (RFC 4976 §5.1) and gets kwvin5f.
    const bob = new RawClient(await firstValueFrom(connectTcp({ host: HOST, port: netListener.listener.address.port })))
    clients.push(bob)
    const auth = (tid: string, authorization?: string): MsrpRequest => ({
      type: 'request',
      transactionId: tid,
      method: 'AUTH',
      headers: [
        ['To-Path', RELAY_NET],
        ['From-Path', BOB],
        ...(authorization !== undefined ? ([['Authorization', authorization]] as const) : [])
      ],
      body: undefined,
      continuation: '$'
    })
    bob.send(auth('b0b1'))
    const params = decodeHeader((await bob.response('b0b1')).headers, 'WWW-Authenticate')
    if (E.isLeft(params) || params.right === undefined) throw new Error('no challenge')
    const credentials = answerChallenge(
      params.right,
      { username: 'bob', password: 'bob-pw' },
      { digestUri: RELAY_NET, nc: 1 }
    )
    if (E.isLeft(credentials)) throw new Error(credentials.left.detail)
    bob.send(auth('b0b2', formatDigestCredentials(credentials.right)))
    expect(getHeader((await bob.response('b0b2')).headers, 'Use-Path')).toBe(KWV)

    const f1 = vector<MsrpRequest>(56)
    client.send(f1)
    expect(wireText(await client.response('Ycwt'))).toBe(vectorText(57))
    // F5: what Bob receives from relay.example.net (the RFC prints Alice's URI without its port, §9.6 item 2).
    const f5 = await bob.request('SEND', 'wrong file')
    expect(asRfc(f5, 'kXeg')).toBe(vectorText(61).replace('df7jal23ls0d.invalid/', 'df7jal23ls0d.invalid:2855/'))
    expect(f5.body).toEqual(f1.body)
    bob.send(withTid(62, f5.transactionId))
    // F3 and F4, as a.example.com wrote and read them on its connection to relay.example.net.
    const f3 = decodeSlices(toNet).frames.find((f) => f.type === 'request' && f.method === 'SEND')
    if (f3 === undefined) throw new Error('a.example.com wrote no SEND to relay.example.net')
    expect(f3.transactionId).not.toBe('Ycwt')
    expect(asRfc(f3, '13GA')).toBe(vectorText(58).replace('df7jal23ls0d.invalid/', 'df7jal23ls0d.invalid:2855/'))
    await settled()
    expect(relay.stats.pendingTransactions).toBe(0) // relay.example.net's 200 reached a.example.com
    const f4 = decodeSlices(fromNet).frames.find((f) => f.type === 'response' && f.transactionId === f3.transactionId)
    if (f4 === undefined) throw new Error('relay.example.net did not answer')
    // The RFC's F4 names iwnslt by mistake (§9.6 item 1); the corrected form (vector 60) is what our relay answers.
    expect(asRfc(f4, '13GA')).toBe(vectorText(60))
  })
})
