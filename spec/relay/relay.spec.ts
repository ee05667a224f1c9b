import * as E from 'fp-ts/Either'
import { filter, firstValueFrom, map, of, ReplaySubject, Subject, take, concatMap, type Observable } from 'rxjs'
import { MsrpRelay, WRITE_BATCH_FRAMES, type MsrpRelayOptions } from '../../src/relay/relay'
import { deliver, route, type Router } from '../../src/relay/router'
import type { AuthHandler, Binding, RelayEvent, Registry } from '../../src/relay/types'
import { memoryPair, type MemoryTransport } from '../../src/transport/memory'
import type { Transport } from '../../src/transport/transport'
import { frame, type FramedEvent } from '../../src/operators/frame'
import { encodeFrame } from '../../src/wire/encoder'
import { newSessionId } from '../../src/wire/ids'
import { getHeader, type Header, type MsrpFrame, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'
import { responseTo } from '../../src/wire/replies'
import { formatUri, parseUri, type MsrpUri } from '../../src/wire/uri'
import { loadFixtures } from '../helpers/fixtures'
import { pseudoRandom } from '../helpers/bytes'

const RELAY = 'msrp://relay.example.com:2855;tcp'
const ALICE = 'msrp://alice.example.com:7000/aliceSession0123456;tcp'
const BOB = 'msrp://bob.example.com:8000/bobSession01234567;tcp'
const BOB_HOST = 'bob.example.com:8000'
const TEXT = new TextEncoder()

const uri = (s: string): MsrpUri => (parseUri(s) as E.Right<MsrpUri>).right

/** A registry double: bindings by session-id, issued on `relayUri` with a fresh session-id. */
function fakeRegistry(): Registry & { readonly dropped: string[]; bind(b: Binding): void } {
  const bindings = new Map<string, Binding>()
  const dropped: string[] = []
  return {
    dropped,
    bind: (b) => bindings.set(b.sessionId, b),
    issue(connection, user, expiresSec) {
      const sessionId = newSessionId()
      const b: Binding = {
        uri: { ...connection.relayUri, sessionId },
        sessionId,
        connectionId: connection.id,
        user,
        expiresAtMs: Date.now() + expiresSec * 1000
      }
      bindings.set(sessionId, b)
      return b
    },
    lookup(sessionId) {
      const b = bindings.get(sessionId)
      return b !== undefined && b.expiresAtMs > Date.now() ? b : undefined
    },
    dropConnection(id) {
      dropped.push(id)
      for (const [k, b] of bindings) if (b.connectionId === id) bindings.delete(k)
    },
    get size() {
      return bindings.size
    },
    full: false
  }
}

/** An AUTH handler double: 401 without Authorization, else 200 with a Use-Path issued by the registry. */
function fakeAuth(registry: Registry): AuthHandler & { readonly forgotten: string[] } {
  const forgotten: string[] = []
  return {
    forgotten,
    handle(request, connection) {
      const base = responseTo(request, 401)
      if (getHeader(request.headers, 'Authorization') === undefined) {
        return Promise.resolve({ response: base, close: false, reason: 'NoCredentials' as const })
      }
      const binding = registry.issue(connection, 'alice', 900)
      const ok = responseTo(request, 200)
      return Promise.resolve({
        response: { ...ok, headers: [...ok.headers, ['Use-Path', formatUri(binding.uri)], ['Expires', '900']] },
        binding,
        user: 'alice',
        close: false
      })
    },
    forget: (id) => forgotten.push(id)
  }
}

/** One side of a connection to the relay: what it receives, framed, and a way to write frames. */
class Peer {
  readonly received: ReplaySubject<FramedEvent>
  /** Body bytes received (whole frames and streamed pieces). */
  bodyBytes = 0
  constructor(
    readonly transport: MemoryTransport,
    replay = Number.POSITIVE_INFINITY
  ) {
    this.received = new ReplaySubject<FramedEvent>(replay)
    transport.incoming$.pipe(frame({ messageOriented: transport.info.messageOriented })).subscribe({
      next: (e) => {
        if (e.type === 'body') this.bodyBytes += e.data.length
        if (e.type === 'frame' && e.frame.type === 'request') this.bodyBytes += e.frame.body?.length ?? 0
        this.received.next(e)
      },
      error: (err: unknown) => this.received.error(err),
      complete: () => this.received.complete()
    })
  }
  send(f: MsrpFrame): void {
    const pieces = encodeFrame(f)
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    this.transport.write(pieces.right)
  }
  frame<F extends MsrpFrame = MsrpFrame>(pred: (f: MsrpFrame) => boolean): Promise<F> {
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
  request(method: string, pred: (f: MsrpRequest) => boolean = () => true): Promise<MsrpRequest> {
    return this.frame((f) => f.type === 'request' && f.method === method && pred(f))
  }
  /** Every frame received so far. */
  frames(): MsrpFrame[] {
    const out: MsrpFrame[] = []
    this.received.subscribe((e) => e.type === 'frame' && out.push(e.frame)).unsubscribe()
    return out
  }
}

const send = (
  tid: string,
  toPath: string,
  fromPath: string,
  body: Uint8Array | string | undefined,
  extra: Header[] = [],
  messageId = 'msg0001'
): MsrpRequest => {
  const bytes = typeof body === 'string' ? TEXT.encode(body) : body
  const len = bytes?.length ?? 0
  return {
    type: 'request',
    transactionId: tid,
    method: 'SEND',
    headers: [
      ['To-Path', toPath],
      ['From-Path', fromPath],
      ['Message-ID', messageId],
      ['Byte-Range', len === 0 ? '1-0/0' : `1-${len}/${len}`],
      ...extra,
      ...(bytes !== undefined ? ([['Content-Type', 'text/plain']] as Header[]) : [])
    ],
    body: bytes,
    continuation: '$'
  }
}

/** A one-chunk SEND whose Byte-Range has range-end `*` (streamed when large). */
const chunkedSend = (tid: string, toPath: string, body: Uint8Array): MsrpRequest => ({
  ...send(tid, toPath, ALICE, body),
  headers: send(tid, toPath, ALICE, body).headers.map(([n, v]): Header =>
    n === 'Byte-Range' ? [n, `1-*/${body.length}`] : [n, v]
  )
})

const request = (tid: string, method: string, toPath: string, fromPath: string, extra: Header[] = []): MsrpRequest => ({
  type: 'request',
  transactionId: tid,
  method,
  headers: [['To-Path', toPath], ['From-Path', fromPath], ...extra],
  body: undefined,
  continuation: '$'
})

const paths = (f: MsrpFrame): [string | undefined, string | undefined] => [
  getHeader(f.headers, 'To-Path'),
  getHeader(f.headers, 'From-Path')
]

interface Harness {
  readonly relay: MsrpRelay
  readonly registry: ReturnType<typeof fakeRegistry>
  readonly auth: ReturnType<typeof fakeAuth>
  readonly events: RelayEvent[]
  readonly events$: ReplaySubject<RelayEvent>
  readonly dialed: string[]
  /** A new client connection to the relay (message-oriented for WebSocket). */
  client(ws?: boolean): Peer
  /** The peer at `host:port` once the relay has dialed it. */
  remote(hostPort: string): Promise<Peer>
  /** AUTH with credentials; resolves with the issued URI. */
  authenticate(peer: Peer): Promise<string>
  event<T extends RelayEvent['type']>(
    type: T,
    pred?: (e: Extract<RelayEvent, { type: T }>) => boolean
  ): Promise<Extract<RelayEvent, { type: T }>>
  /** The relay's end of the connection it dialed to `host:port`. */
  near(hostPort: string): MemoryTransport
}

/** Waits (a bounded number of event-loop turns) until `cond` holds. */
async function until(cond: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !cond(); i++) await new Promise((r) => setImmediate(r))
  expect(cond()).toBe(true)
}

/** Joins a connection a relay dialed (`dialed`, its far end) to another relay as an accepted connection. */
function splice(dialed: Peer, into: MsrpRelay, relayUri: string): void {
  const [near, far] = memoryPair()
  into.accept(near, relayUri)
  const other = new Peer(far)
  dialed.received.subscribe((e) => e.type === 'frame' && other.send(e.frame))
  other.received.subscribe((e) => e.type === 'frame' && dialed.send(e.frame))
}

const open: MsrpRelay[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()))
})

function setup(
  options: Partial<MsrpRelayOptions> & {
    wrap?: (t: Transport) => Transport
    wsHosts?: string[]
    replay?: number
    relayUri?: string
  } = {}
): Harness {
  const registry = fakeRegistry()
  const auth = fakeAuth(registry)
  const relayUri = options.relayUri ?? RELAY
  const remotes = new ReplaySubject<[string, Peer]>()
  const nears = new Map<string, MemoryTransport>()
  const dialed: string[] = []
  const connect = (u: MsrpUri): Observable<Transport> => {
    const hostPort = `${u.host}:${u.port}`
    dialed.push(hostPort)
    const [near, far] = memoryPair({
      messageOriented: u.transport === 'ws' || (options.wsHosts ?? []).includes(hostPort)
    })
    nears.set(hostPort, near)
    remotes.next([hostPort, new Peer(far, options.replay)])
    return of(options.wrap !== undefined ? options.wrap(near) : near)
  }
  const relay = new MsrpRelay({ auth, registry, connect, ...options })
  open.push(relay)
  const events: RelayEvent[] = []
  const events$ = new ReplaySubject<RelayEvent>()
  relay.events$.subscribe((e) => {
    events.push(e)
    events$.next(e)
  })
  let n = 0
  return {
    relay,
    registry,
    auth,
    events,
    events$,
    dialed,
    client(ws = false) {
      const [near, far] = memoryPair({ messageOriented: ws })
      relay.accept(near, relayUri)
      return new Peer(far)
    },
    remote: (hostPort) =>
      firstValueFrom(
        remotes.pipe(
          filter(([h]) => h === hostPort),
          map(([, p]) => p)
        )
      ),
    async authenticate(peer) {
      const tid = `auth${++n}xyz`
      peer.send(request(tid, 'AUTH', relayUri, ALICE, [['Authorization', 'Digest username="alice"']]))
      const ok = await peer.response(tid)
      expect(ok.status).toBe(200)
      return getHeader(ok.headers, 'Use-Path') as string
    },
    event<T extends RelayEvent['type']>(type: T, pred: (e: Extract<RelayEvent, { type: T }>) => boolean = () => true) {
      return firstValueFrom(
        events$.pipe(
          filter((e): e is Extract<RelayEvent, { type: T }> => e.type === type),
          filter(pred)
        )
      )
    },
    near: (hostPort) => nears.get(hostPort) as MemoryTransport
  }
}

describe('MsrpRelay: AUTH addressed to the relay (RFC 4976 §6.3)', () => {
  it('R-5.1-5 hands an AUTH whose To-Path is exactly the relay URI to the AUTH handler and writes its answer', async () => {
    const h = setup()
    const alice = h.client()
    alice.send(request('a1xx', 'AUTH', RELAY, ALICE))
    const challenge = await alice.response('a1xx')
    expect(challenge.status).toBe(401)
    const issued = await h.authenticate(alice)
    expect(h.registry.lookup(uri(issued).sessionId as string)?.user).toBe('alice')
    expect(h.events.filter((e) => e.type === 'auth').map((e) => e.type === 'auth' && e.status)).toEqual([401, 200])
  })

  it('accepts an AUTH To-Path URI without port and with userinfo as the relay URI (RFC 4976 §10.3 form)', async () => {
    const h = setup()
    const alice = h.client()
    alice.send(request('a2xx', 'AUTH', 'msrp://alice@relay.example.com;tcp', ALICE))
    expect((await alice.response('a2xx')).status).toBe(401)
  })

  it('R-6.4.2-1 does not answer itself an AUTH with more URIs after its own: it must be forwarded, and with no binding it is refused', async () => {
    const h = setup()
    const alice = h.client()
    alice.send(request('a3xx', 'AUTH', `${RELAY} msrp://evil.example.com:2855;tcp`, ALICE))
    expect((await alice.response('a3xx')).status).toBe(481)
    expect(h.dialed).toEqual([])
  })
})

describe('MsrpRelay: forwarding (RFC 4976 §6.4)', () => {
  it('R-6.4.1-1 / R-6.4.1-6 forwards a SEND from the binding owner: immediate 200, paths rewritten, new tid', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('s1xxxx', `${mine} ${BOB}`, ALICE, 'Hello Bob'))
    const ok = await alice.response('s1xxxx')
    expect([ok.status, ...paths(ok)]).toEqual([200, ALICE, mine])
    const bob = await h.remote(BOB_HOST)
    const got = await bob.request('SEND')
    expect(got.transactionId).not.toBe('s1xxxx')
    expect(paths(got)).toEqual([BOB, `${mine} ${ALICE}`])
    expect(new TextDecoder().decode(got.body)).toBe('Hello Bob')
    expect(getHeader(got.headers, 'Message-ID')).toBe('msg0001')
    bob.send(responseTo(got, 200))
    await h.event('forwarded')
  })

  it('R-6.4-1 (1) forwards a request from anyone towards the binding owner, over its own connection', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const bob = h.client()
    bob.send(send('s2xxxx', `${mine} ${ALICE}`, BOB, 'Hello Alice'))
    expect((await bob.response('s2xxxx')).status).toBe(200)
    const got = await alice.request('SEND')
    expect(paths(got)).toEqual([ALICE, `${mine} ${BOB}`])
  })

  describe('no open relay (R-3.1-1, R-6.4-1): every attempt is refused and nothing is dialed', () => {
    it('481 for a first To-Path URI this relay never issued', async () => {
      const h = setup()
      const mallory = h.client()
      mallory.send(send('o1xxxx', `msrp://relay.example.com:2855/neverIssued000000;tcp ${BOB}`, ALICE, 'spam'))
      expect((await mallory.response('o1xxxx')).status).toBe(481)
      mallory.send(send('o2xxxx', `msrp://other.example.com:2855/x;tcp ${BOB}`, ALICE, 'spam'))
      expect((await mallory.response('o2xxxx')).status).toBe(481)
      expect(h.dialed).toEqual([])
      expect(h.events.filter((e) => e.type === 'refused').length).toBe(2)
    })

    it('481 for the relay URI itself followed by a destination (not a URI it issued)', async () => {
      const h = setup()
      const mallory = h.client()
      mallory.send(send('o3xxxx', `${RELAY} ${BOB}`, ALICE, 'spam'))
      expect((await mallory.response('o3xxxx')).status).toBe(481)
      expect(h.dialed).toEqual([])
    })

    it("a stranger using Alice's URI reaches Alice only, never the destination named after it", async () => {
      const h = setup()
      const alice = h.client()
      const mine = await h.authenticate(alice)
      const mallory = h.client()
      mallory.send(send('o4xxxx', `${mine} msrp://victim.example.com:9999/v;tcp`, ALICE, 'spam'))
      const got = await alice.request('SEND')
      expect(paths(got)[0]).toBe('msrp://victim.example.com:9999/v;tcp')
      expect(h.dialed).toEqual([])
    })

    it('481 for an expired binding and for a binding whose connection closed (R-6.3-6, R-6.3-7)', async () => {
      const h = setup()
      const alice = h.client()
      const aliceConn = 'c1'
      h.registry.bind({
        uri: uri('msrp://relay.example.com:2855/expired0000000000;tcp'),
        sessionId: 'expired0000000000',
        connectionId: aliceConn,
        user: 'alice',
        expiresAtMs: Date.now() - 1
      })
      alice.send(send('o5xxxx', `msrp://relay.example.com:2855/expired0000000000;tcp ${BOB}`, ALICE, 'x'))
      expect((await alice.response('o5xxxx')).status).toBe(481)
      const mine = await h.authenticate(alice)
      alice.transport.close()
      await h.event('disconnection')
      expect(h.registry.dropped).toEqual([aliceConn])
      expect(h.auth.forgotten).toEqual([aliceConn])
      const mallory = h.client()
      mallory.send(send('o6xxxx', `${mine} ${ALICE}`, BOB, 'x'))
      expect((await mallory.response('o6xxxx')).status).toBe(481)
    })

    it('refuses a REPORT without answering it (R-3-1: REPORTs are never answered)', async () => {
      const h = setup()
      const mallory = h.client()
      mallory.send(
        request('o7xxxx', 'REPORT', `msrp://relay.example.com:2855/nope00000000;tcp ${BOB}`, ALICE, [
          ['Message-ID', 'm1234'],
          ['Status', '000 200 OK']
        ])
      )
      const refused = await h.event('refused')
      expect(refused).toEqual(expect.objectContaining({ method: 'REPORT', status: 481 }))
      // A later request on the same connection is answered: anything written for the REPORT would have come first.
      mallory.send(send('o8xxxx', `${RELAY} ${BOB}`, ALICE, 'x'))
      await mallory.response('o8xxxx')
      expect(mallory.frames().filter((f) => f.transactionId === 'o7xxxx')).toEqual([])
    })
  })

  it('R-6.4.2-2 forwards REPORTs and unknown methods without answering them or keeping state', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(
      request('r1xxxx', 'REPORT', `${mine} ${BOB}`, ALICE, [
        ['Message-ID', 'm1'],
        ['Status', '000 200 OK']
      ])
    )
    alice.send(request('u1xxxx', 'FOO', `${mine} ${BOB}`, ALICE))
    const bob = await h.remote(BOB_HOST)
    const report = await bob.request('REPORT')
    expect(paths(report)).toEqual([BOB, `${mine} ${ALICE}`])
    const foo = await bob.request('FOO')
    expect(foo.transactionId).not.toBe('u1xxxx')
    await h.event('forwarded', (e) => e.method === 'FOO')
    expect(h.relay.stats.pendingTransactions).toBe(0)
    alice.send(send('u2xxxx', `${mine} ${BOB}`, ALICE, 'sentinel', [['Failure-Report', 'no']]))
    await bob.request('SEND')
    alice.send(send('u3xxxx', `${mine} ${BOB}`, ALICE, 'answered'))
    await alice.response('u3xxxx')
    expect(alice.frames().filter((f) => ['r1xxxx', 'u1xxxx'].includes(f.transactionId))).toEqual([])
  })

  it('R-6.4.3-4 maps a forwarded AUTH response back (RFC 4976 §10.3: tid restored, paths moved)', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const EXTRA = 'msrp://extra.example.com:9000;tcp'
    alice.send(request('mnbvw', 'AUTH', `${mine} ${EXTRA}`, ALICE))
    const extra = await h.remote('extra.example.com:9000')
    const fwd = await extra.request('AUTH')
    expect(fwd.transactionId).not.toBe('mnbvw')
    expect(paths(fwd)).toEqual([EXTRA, `${mine} ${ALICE}`])
    extra.send({
      ...responseTo(fwd, 401),
      headers: [...responseTo(fwd, 401).headers, ['WWW-Authenticate', 'Digest realm="x"']]
    })
    const back = await alice.response('mnbvw')
    expect(back.status).toBe(401)
    expect(paths(back)).toEqual([ALICE, `${mine} ${EXTRA}`])
    expect(getHeader(back.headers, 'WWW-Authenticate')).toBe('Digest realm="x"')
  })

  it('R-6.4.3-1 drops responses to no transaction of its own', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send({
      type: 'response',
      transactionId: 'nope1234',
      status: 200,
      comment: 'OK',
      headers: [
        ['To-Path', mine],
        ['From-Path', ALICE]
      ],
      continuation: '$'
    })
    alice.send(send('s3xxxx', `${mine} ${BOB}`, ALICE, 'after'))
    const bob = await h.remote(BOB_HOST)
    expect(new TextDecoder().decode((await bob.request('SEND')).body)).toBe('after')
    expect(bob.frames().filter((f) => f.type === 'response')).toEqual([])
  })

  it('two of its own URIs in a row (RFC 7977 §8.3): both pushed onto From-Path, delivered on the second client', async () => {
    const h = setup()
    const alice = h.client(true)
    const carol = h.client(true)
    const aliceUri = await h.authenticate(alice)
    const carolUri = await h.authenticate(carol)
    const CAROL = 'msrps://jk9awp14vj8x.invalid:2855/76qwe;ws'
    alice.send(send('kjh6', `${aliceUri} ${carolUri} ${CAROL}`, ALICE, 'Carol, I sent that file to Bob.'))
    const got = await carol.request('SEND')
    expect(paths(got)).toEqual([CAROL, `${carolUri} ${aliceUri} ${ALICE}`])
    expect(h.dialed).toEqual([])
  })
})

describe('MsrpRelay: failure reports (RFC 4976 §6.4.1, rfc4976-relays.md §5.8)', () => {
  it('R-6.4.3-3 turns an error response to a forwarded SEND into a REPORT with that code for the sender', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('f1xxxx', `${mine} ${BOB}`, ALICE, 'Hello'))
    const bob = await h.remote(BOB_HOST)
    const got = await bob.request('SEND')
    bob.send(responseTo(got, 481))
    const report = await alice.request('REPORT')
    expect(paths(report)).toEqual([ALICE, mine])
    expect(getHeader(report.headers, 'Status')).toBe('000 481 Session-does-not-exist')
    expect(getHeader(report.headers, 'Message-ID')).toBe('msg0001')
    expect(getHeader(report.headers, 'Byte-Range')).toBe('1-5/5')
    await h.event('report', (e) => e.status === 481)
  })

  it('R-6.4.1-2 sends a 408 REPORT when the next hop does not answer within the hop timeout', async () => {
    const h = setup({ hopTimeoutMs: 20 })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('f2xxxx', `${mine} ${BOB}`, ALICE, 'Hello'))
    const report = await alice.request('REPORT')
    expect(getHeader(report.headers, 'Status')).toBe('000 408 Transaction-did-not-complete-in-allotted-time')
  })

  it('Failure-Report no: no 200 from the relay, no REPORT, no transaction state', async () => {
    const h = setup({ hopTimeoutMs: 20 })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('f3xxxx', `${mine} ${BOB}`, ALICE, 'Hello', [['Failure-Report', 'no']]))
    const bob = await h.remote(BOB_HOST)
    await bob.request('SEND')
    expect(h.relay.stats.pendingTransactions).toBe(0)
    alice.send(send('f4xxxx', `${mine} ${BOB}`, ALICE, 'Hello again'))
    await alice.response('f4xxxx')
    expect(alice.frames().some((f) => f.transactionId === 'f3xxxx')).toBe(false)
  })

  it('Failure-Report partial: no 200, but an error response still becomes a REPORT (R-6.4.3-3)', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('f5xxxx', `${mine} ${BOB}`, ALICE, 'Hello', [['Failure-Report', 'partial']]))
    const bob = await h.remote(BOB_HOST)
    bob.send(responseTo(await bob.request('SEND'), 415))
    const report = await alice.request('REPORT')
    expect(getHeader(report.headers, 'Status')).toBe('000 415 MIME-not-understood')
    expect(alice.frames().some((f) => f.type === 'response' && f.transactionId === 'f5xxxx')).toBe(false)
  })

  it('a next hop that closes with SENDs pending yields 408 REPORTs for them', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('f6xxxx', `${mine} ${BOB}`, ALICE, 'Hello'))
    const bob = await h.remote(BOB_HOST)
    await bob.request('SEND')
    bob.transport.close()
    const report = await alice.request('REPORT')
    expect(getHeader(report.headers, 'Status')).toBe('000 408 Transaction-did-not-complete-in-allotted-time')
  })
})

describe('MsrpRelay: streaming (cut-through, re-chunking, backpressure)', () => {
  /** The SEND chunks a peer received, joined by Byte-Range, once a `$` chunk arrived. */
  async function collect(peer: Peer): Promise<{ frames: MsrpRequest[]; body: Buffer }> {
    const frames: MsrpRequest[] = []
    const parts = new Map<string, Buffer[]>()
    const ranges = new Map<string, number>()
    let current = ''
    await firstValueFrom(
      peer.received.pipe(
        filter((e) => {
          if (e.type === 'frame' && e.frame.type === 'request' && e.frame.method === 'SEND') {
            frames.push(e.frame)
            const start = Number((getHeader(e.frame.headers, 'Byte-Range') as string).split('-')[0])
            ranges.set(e.frame.transactionId, start)
            parts.set(e.frame.transactionId, [Buffer.from(e.frame.body ?? new Uint8Array(0))])
            return e.frame.continuation === '$'
          }
          if (e.type === 'head') {
            current = e.head.transactionId
            frames.push({ ...e.head, body: undefined, continuation: '+' })
            ranges.set(current, Number((getHeader(e.head.headers, 'Byte-Range') as string).split('-')[0]))
            parts.set(current, [])
          }
          if (e.type === 'body') parts.get(current)?.push(Buffer.from(e.data))
          if (e.type === 'end') {
            const f = frames[frames.length - 1] as MsrpRequest
            frames[frames.length - 1] = { ...f, continuation: e.continuation }
            return e.continuation === '$'
          }
          return false
        }),
        take(1)
      )
    )
    const total = frames.reduce((n, f) => n + Buffer.concat(parts.get(f.transactionId) ?? []).length, 0)
    const body = Buffer.alloc(total)
    for (const f of frames)
      body.set(Buffer.concat(parts.get(f.transactionId) ?? []), (ranges.get(f.transactionId) as number) - 1)
    return { frames, body }
  }

  it('forwards a streamed chunk byte for byte with a new tid and range-end * (cut-through)', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const body = pseudoRandom(200_000, 7)
    alice.send(chunkedSend('big1xx', `${mine} ${BOB}`, body))
    const bob = await h.remote(BOB_HOST)
    const { frames, body: got } = await collect(bob)
    expect(frames.length).toBe(1)
    expect(getHeader(frames[0]!.headers, 'Byte-Range')).toBe('1-*/200000')
    expect(got.equals(body)).toBe(true)
    expect((await alice.response('big1xx')).status).toBe(200)
  })

  it('C-7.1-10 interrupts the chunk (+) and continues with a fresh tid when the body would contain -------<tid>, even across pieces', async () => {
    const ids = ['COLLIDE00001', 'NEXTID000002', 'THIRD0000003']
    let k = 0
    const h = setup({ generateId: () => ids[k++] ?? `FRESH${String(k).padStart(7, '0')}` })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    k = 0 // the AUTH answers used no id of ours; the forwarded chunk takes COLLIDE00001 first
    // 40 KiB streams in pieces of ≤ 16 KiB; the end-line of the first id straddles the 16 KiB boundary.
    const body = Buffer.alloc(40_000, 0x61)
    body.write('\r\n-------COLLIDE00001+\r\n', 16_384 - 8, 'latin1')
    body.write('-------NEXTID000002', 30_000, 'latin1')
    alice.send(chunkedSend('cut1xx', `${mine} ${BOB}`, body))
    const bob = await h.remote(BOB_HOST)
    const { frames, body: got } = await collect(bob)
    expect(frames.map((f) => f.continuation)).toEqual(['+', '+', '$'])
    expect(frames.map((f) => f.transactionId)).toEqual(ids)
    expect(got.equals(body)).toBe(true)
    const starts = frames.map((f) => getHeader(f.headers, 'Byte-Range'))
    expect(starts[0]).toBe('1-*/40000')
    expect(Number(starts[1]!.split('-')[0])).toBeGreaterThan(16_384 - 8)
    expect(Number(starts[1]!.split('-')[0])).toBeLessThanOrEqual(16_384 + 12)
  })

  it('W-5.1-3 / W-5.1-4 re-chunks a large chunk for a WebSocket next hop: frames ≤ wsChunkBytes, one per message', async () => {
    const h = setup({ wsChunkBytes: 8192 })
    const alice = h.client()
    const bobWs = h.client(true)
    const bobUri = await h.authenticate(bobWs)
    const body = pseudoRandom(100_000, 3)
    alice.send(chunkedSend('ws1xxx', `${bobUri} ${BOB}`, body))
    const { frames, body: got } = await collect(bobWs)
    expect(frames.length).toBe(Math.ceil(100_000 / 8192))
    expect(frames.every((f) => (f.body?.length ?? 0) <= 8192)).toBe(true)
    expect(frames.slice(0, -1).every((f) => f.continuation === '+')).toBe(true)
    expect(got.equals(body)).toBe(true)
  })

  it('limits frames towards byte streams to maxForwardChunkBytes when configured', async () => {
    const h = setup({ maxForwardChunkBytes: 10_000 })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const body = pseudoRandom(35_000, 5)
    alice.send(chunkedSend('mx1xxx', `${mine} ${BOB}`, body))
    const { frames, body: got } = await collect(await h.remote(BOB_HOST))
    expect(frames.map((f) => getHeader(f.headers, 'Byte-Range'))).toEqual([
      '1-*/35000',
      '10001-*/35000',
      '20001-*/35000',
      '30001-*/35000'
    ])
    expect(got.equals(body)).toBe(true)
  })

  it('ends a streamed chunk with # at the next hop when its sender goes away mid-body (C-7.1-9)', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const pieces = encodeFrame(chunkedSend('gone01', `${mine} ${BOB}`, pseudoRandom(100_000, 2)))
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    const [head, body] = pieces.right as [Uint8Array, Uint8Array]
    alice.transport.write([head])
    alice.transport.write([body.subarray(0, 40_000)])
    const bob = await h.remote(BOB_HOST)
    await until(() => bob.bodyBytes > 0)
    alice.transport.close()
    const end = await firstValueFrom(bob.received.pipe(filter((e) => e.type === 'end')))
    expect(end.type === 'end' && end.continuation).toBe('#')
  })

  it('aborts a streamed chunk whose next hop closes: 408 REPORT to the sender, the rest read and dropped', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const pieces = encodeFrame(chunkedSend('gone02', `${mine} ${BOB}`, pseudoRandom(100_000, 4)))
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    const [head, body, tail] = pieces.right as [Uint8Array, Uint8Array, Uint8Array]
    alice.transport.write([head])
    alice.transport.write([body.subarray(0, 40_000)])
    const bob = await h.remote(BOB_HOST)
    await until(() => bob.bodyBytes > 0)
    bob.transport.close()
    const report = await alice.request('REPORT')
    expect(getHeader(report.headers, 'Status')).toBe('000 408 Transaction-did-not-complete-in-allotted-time')
    const [start, end] = (getHeader(report.headers, 'Byte-Range') as string).split(/[-/]/).map(Number)
    expect(start).toBe(1)
    expect(end).toBeGreaterThanOrEqual(bob.bodyBytes)
    alice.transport.write([body.subarray(40_000), tail])
    expect((await alice.response('gone02')).status).toBe(200)
    alice.send(send('after1', `${mine} ${ALICE}`, ALICE, 'still served'))
    expect((await alice.response('after1')).status).toBe(200)
  })

  it('keeps its buffered bytes bounded while a 64 MiB chunk goes to a slow reader (backpressure)', async () => {
    const h = setup({ replay: 16 })
    const [aliceEnd, relayEnd] = memoryPair()
    h.relay.accept(relayEnd, RELAY)
    const mine = await h.authenticate(new Peer(aliceEnd))
    const TOTAL = 64 * 1024 * 1024
    const PIECE = 64 * 1024
    const base = send('huge01', `${mine} ${BOB}`, ALICE, new Uint8Array(1))
    const headers = base.headers.map(([n, v]): Header => (n === 'Byte-Range' ? [n, `1-*/${TOTAL}`] : [n, v]))
    const head = encodeFrame({ ...base, headers, body: new Uint8Array(0) })
    if (E.isLeft(head)) throw new Error(head.left.detail)
    let maxHeld = 0
    let toBob: MemoryTransport | undefined
    // What the relay holds: its own batches and re-chunk buffers, plus what it wrote towards Bob that Bob has not read.
    const sample = (): void => {
      maxHeld = Math.max(maxHeld, h.relay.stats.bufferedBytes + (toBob?.bufferedBytes ?? 0))
    }
    const source = pseudoRandom(PIECE, 11)
    const writer = (async () => {
      aliceEnd.write([head.right[0] as Uint8Array])
      for (let sent = 0; sent < TOTAL; sent += PIECE) {
        if (!aliceEnd.write([source])) await firstValueFrom(aliceEnd.drain$)
        sample()
      }
      aliceEnd.write([TEXT.encode('\r\n-------huge01$\r\n')])
    })()
    const bob = await h.remote(BOB_HOST)
    toBob = h.near(BOB_HOST)
    // Bob reads slowly: paused for a turn of the event loop, then whatever arrived meanwhile, again and again.
    for (let turns = 0; bob.bodyBytes < TOTAL && turns < 200_000; turns++) {
      bob.transport.pause()
      await new Promise((r) => setImmediate(r))
      sample()
      bob.transport.resume()
      await new Promise((r) => setImmediate(r))
    }
    await writer
    expect(bob.bodyBytes).toBe(TOTAL)
    expect(maxHeld).toBeGreaterThan(0)
    expect(maxHeld).toBeLessThan(2 * 1024 * 1024)
  }, 120_000)
})

describe('MsrpRelay: write batching', () => {
  it('joins the frames for one byte-stream next hop that arrive in one read into few writes', async () => {
    let writes = 0
    const h = setup({
      wrap: (t) => ({
        incoming$: t.incoming$,
        drain$: t.drain$,
        closed$: t.closed$,
        info: t.info,
        pause: () => t.pause(),
        resume: () => t.resume(),
        close: (r) => t.close(r),
        write: (p) => {
          writes++
          return t.write(p)
        }
      })
    })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('w0xxxx', `${mine} ${BOB}`, ALICE, 'first'))
    const bob = await h.remote(BOB_HOST)
    await bob.request('SEND')
    const before = writes
    const pieces: Uint8Array[] = []
    for (let i = 0; i < 50; i++) {
      const p = encodeFrame(send(`w${i}batch`, `${mine} ${BOB}`, ALICE, `message ${i}`))
      if (E.isRight(p)) pieces.push(...p.right)
    }
    alice.transport.write([Buffer.concat(pieces)])
    await bob.request('SEND', (f) => new TextDecoder().decode(f.body) === 'message 49')
    // One write per WRITE_BATCH_FRAMES frames, not one per frame.
    expect(writes - before).toBe(Math.ceil(50 / WRITE_BATCH_FRAMES))
  })
})

describe('MsrpRelay: routing extension point', () => {
  it('pauses a connection while an asynchronous decision is pending and keeps the order of its requests', async () => {
    const gate = new Subject<void>()
    let seen = 0
    const router: Router = (requests$) =>
      requests$.pipe(
        concatMap((r) => {
          seen++
          return gate.pipe(
            take(1),
            map(() => route(r))
          )
        })
      )
    const h = setup({ router })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('g1xxxx', `${mine} ${BOB}`, ALICE, 'one'))
    await until(() => seen === 1)
    alice.send(send('g2xxxx', `${mine} ${BOB}`, ALICE, 'two'))
    await until(() => alice.transport.bufferedBytes > 0)
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
    // The second frame waits unread in the relay's inbox: the connection is paused.
    expect(alice.transport.bufferedBytes).toBeGreaterThan(0)
    expect(h.dialed).toEqual([])
    gate.next()
    const bob = await h.remote(BOB_HOST)
    await bob.request('SEND', (f) => new TextDecoder().decode(f.body) === 'one')
    await until(() => seen === 2)
    gate.next()
    await bob.request('SEND', (f) => new TextDecoder().decode(f.body) === 'two')
    const bodies = bob.frames().map((f) => f.type === 'request' && new TextDecoder().decode(f.body))
    expect(bodies).toEqual(['one', 'two'])
  })

  it('example: delivers messages for a bot URI to a local handler that gets the body as a stream', async () => {
    const BOT = 'msrp://bot.relay.example.com:2855/echo;tcp'
    const delivered: Buffer[] = []
    let done!: () => void
    const finished = new Promise<void>((r) => (done = r))
    const bot: Router = map((r) =>
      formatUri(r.toPath[r.toPath.length - 1] as MsrpUri) === BOT && r.binding?.connectionId === r.connection.id
        ? deliver(r, ({ body$ }) => body$.subscribe({ next: (b) => delivered.push(Buffer.from(b)), complete: done }))
        : route(r)
    )
    const h = setup({ router: bot })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const body = pseudoRandom(50_000, 9)
    const pieces = encodeFrame(chunkedSend('bot1xx', `${mine} ${BOT}`, body))
    if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
    const [head, , tail] = pieces.right as [Uint8Array, Uint8Array, Uint8Array]
    // Written in several reads, so that the body streams through the framer in pieces.
    for (const p of [head, body.subarray(0, 20_000), body.subarray(20_000, 40_000), body.subarray(40_000), tail]) {
      alice.transport.write([p])
      await new Promise((r) => setImmediate(r))
    }
    await finished
    expect(Buffer.concat(delivered).equals(body)).toBe(true)
    expect(delivered.length).toBeGreaterThan(1) // streamed in pieces, not joined
    expect((await alice.response('bot1xx')).status).toBe(200)
    expect(h.dialed).toEqual([])
  })
})

describe('MsrpRelay: connections', () => {
  it('R-6.1-2 closes a connection with no successful request within the probation period', async () => {
    const h = setup({ probationMs: 20 })
    h.client()
    expect(await h.event('disconnection')).toEqual(expect.objectContaining({ reason: 'ProbationExpired' }))
  })

  it('R-6.1-3 closes a connection after several unsuccessful requests and no success', async () => {
    const h = setup({ probationMaxFailures: 3 })
    const mallory = h.client()
    for (let i = 0; i < 3; i++) mallory.send(send(`p${i}xxxx`, `${RELAY} ${BOB}`, ALICE, 'x'))
    expect(await h.event('disconnection')).toEqual(expect.objectContaining({ reason: 'ProbationFailures' }))
  })

  it('answers a malformed frame 400 and goes on; a fatal framing error closes that connection only', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    const mallory = h.client()
    mallory.transport.write([
      TEXT.encode(`MSRP bad1xx SEND\r\nTo-Path: ${mine}\r\nFrom-Path: ${ALICE}\r\nBroken header\r\n-------bad1xx$\r\n`)
    ])
    expect((await mallory.response('bad1xx')).status).toBe(400)
    mallory.transport.write([TEXT.encode('GET / HTTP/1.1\r\n\r\n')])
    const gone = await h.event('disconnection')
    expect(gone.connectionId).toBe('c2')
    alice.send(send('ok1xxx', `${mine} ${BOB}`, ALICE, 'still here'))
    expect((await alice.response('ok1xxx')).status).toBe(200)
    expect(new TextDecoder().decode((await (await h.remote(BOB_HOST)).request('SEND')).body)).toBe('still here')
  })

  it('reuses one connection per next hop (R-6.4.2-1)', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('re1xxx', `${mine} ${BOB}`, ALICE, 'a'))
    alice.send(send('re2xxx', `${mine} ${BOB}`, ALICE, 'b'))
    const bob = await h.remote(BOB_HOST)
    await bob.request('SEND', (f) => new TextDecoder().decode(f.body) === 'b')
    expect(h.dialed).toEqual([BOB_HOST])
  })

  it('refuses a next hop without port (400) or in .invalid (481) without dialing', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('np1xxx', `${mine} msrp://bob.example.com/x;tcp`, ALICE, 'a'))
    expect((await alice.response('np1xxx')).status).toBe(400)
    alice.send(send('np2xxx', `${mine} msrp://xyz.invalid:2855/x;ws`, ALICE, 'a'))
    expect((await alice.response('np2xxx')).status).toBe(481)
    expect(h.dialed).toEqual([])
  })
})

describe('MsrpRelay: refusals that keep it safe', () => {
  it('never dials itself: its own device URI as next hop is 403, one of its URIs that is no binding is 481', async () => {
    const h = setup()
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('lp1xxx', `${mine} ${RELAY} ${BOB}`, ALICE, 'a'))
    expect((await alice.response('lp1xxx')).status).toBe(403)
    alice.send(send('lp2xxx', `${mine} msrp://relay.example.com:2855/notABinding000;tcp ${BOB}`, ALICE, 'a'))
    expect((await alice.response('lp2xxx')).status).toBe(481)
    expect(h.dialed).toEqual([])
  })

  it('gives up a next hop that does not connect in time (408) and reads on', async () => {
    const h = setup({ connect: () => new Subject<Transport>(), connectTimeoutMs: 20 })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('ct1xxx', `${mine} ${BOB}`, ALICE, 'a'))
    expect((await alice.response('ct1xxx')).status).toBe(408)
    alice.send(send('ct2xxx', `${mine} ${BOB}`, ALICE, 'b'))
    expect((await alice.response('ct2xxx')).status).toBe(408)
  })

  it('a router that fails refuses the requests it held (403) and a fresh one routes the next', async () => {
    let calls = 0
    const flaky: Router = (requests$) =>
      requests$.pipe(
        map((r) => {
          if (++calls === 1) throw new Error('router bug')
          return route(r)
        })
      )
    const h = setup({ router: flaky })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('rf1xxx', `${mine} ${BOB}`, ALICE, 'a'))
    expect((await alice.response('rf1xxx')).status).toBe(403)
    expect(await h.event('refused')).toEqual(expect.objectContaining({ reason: 'RouterFailed' }))
    alice.send(send('rf2xxx', `${mine} ${BOB}`, ALICE, 'b'))
    expect((await alice.response('rf2xxx')).status).toBe(200)
  })

  it('refuses with 408 when an asynchronous router does not decide in time', async () => {
    const never: Router = () => new Subject<never>()
    const h = setup({ router: never, routeTimeoutMs: 20 })
    const alice = h.client()
    const mine = await h.authenticate(alice)
    alice.send(send('rt1xxx', `${mine} ${BOB}`, ALICE, 'a'))
    expect((await alice.response('rt1xxx')).status).toBe(408)
  })
})

describe('MsrpRelay: RFC 4976 §10.1 replayed (relay a.example.org, then b.example.net)', () => {
  const vectors = loadFixtures('rfc-vectors').filter((f) => f.title.includes('RFC 4976 §10.1'))
  const parsed = vectors.map((v) => {
    const events: FramedEvent[] = []
    of(v.bytes)
      .pipe(frame())
      .subscribe((e) => events.push(e))
    return (events[0] as Extract<FramedEvent, { type: 'frame' }>).frame
  })
  const [f16, , f18, f19, f20, , f22, f23, f24] = parsed as MsrpFrame[]
  const A_URI = 'msrps://a.example.org:9000;tcp'
  const B_URI = 'msrps://b.example.net:9000;tcp'
  const sorted = (f: MsrpFrame): Header[] => [...f.headers].sort(([a], [b]) => a.localeCompare(b))

  it('a.example.org: Alice’s SEND (vector 16) leaves as vector 18, the REPORT (23) reaches Alice as 24', async () => {
    const h = setup()
    const [near, far] = memoryPair()
    const conn = h.relay.accept(near, A_URI)
    const alice = new Peer(far)
    h.registry.bind({
      uri: uri('msrps://a.example.org:9000/kjfjan;tcp'),
      sessionId: 'kjfjan',
      connectionId: conn.id,
      user: 'alice',
      expiresAtMs: Number.MAX_SAFE_INTEGER
    })
    alice.send(f16 as MsrpRequest)
    const ok = await alice.response('6aef')
    expect([ok.status, ...paths(ok)]).toEqual([200, ...paths(parsed[1] as MsrpFrame)])
    const b = await h.remote('b.example.net:9000')
    const out = await b.request('SEND')
    expect(sorted(out)).toEqual(sorted(f18 as MsrpFrame))
    expect(out.body).toEqual((f18 as MsrpRequest).body)
    b.send({ ...(f19 as MsrpResponse), transactionId: out.transactionId })
    b.send(f23 as MsrpRequest)
    const report = await alice.request('REPORT')
    expect(sorted(report)).toEqual(sorted(f24 as MsrpFrame))
    expect(h.relay.stats.pendingTransactions).toBe(0)
  })

  it('b.example.net: vector 18 from relay a goes to Bob as 20; Bob’s REPORT (22) leaves as 23', async () => {
    const h = setup()
    const [bobNear, bobFar] = memoryPair()
    const bobConn = h.relay.accept(bobNear, B_URI)
    const bob = new Peer(bobFar)
    h.registry.bind({
      uri: uri('msrps://b.example.net:9000/aeiug;tcp'),
      sessionId: 'aeiug',
      connectionId: bobConn.id,
      user: 'bob',
      expiresAtMs: Number.MAX_SAFE_INTEGER
    })
    const [aNear, aFar] = memoryPair()
    h.relay.accept(aNear, B_URI)
    const relayA = new Peer(aFar)
    relayA.send(f18 as MsrpRequest)
    expect((await relayA.response('juh76')).status).toBe(200)
    const out = await bob.request('SEND')
    expect(sorted(out)).toEqual(sorted(f20 as MsrpFrame))
    bob.send({ ...responseTo(out, 200) })
    bob.send(f22 as MsrpRequest)
    const a = await h.remote('a.example.org:9000')
    const report = await a.request('REPORT')
    expect(sorted(report)).toEqual(sorted(f23 as MsrpFrame))
  })
})

describe('MsrpRelay: RFC 4976 §10.2 (chunks through two relays, re-chunked, REPORTs back)', () => {
  const chunk = (tid: string, toPath: string, body: string, range: string, flag: '+' | '$'): MsrpRequest => {
    const base = send(tid, toPath, ALICE, body)
    return {
      ...base,
      headers: base.headers.map(([n, v]): Header => (n === 'Byte-Range' ? [n, range] : [n, v])),
      continuation: flag
    }
  }

  it('three chunks from Alice through relays a and b reach a WebSocket Bob re-chunked; each REPORT returns to Alice', async () => {
    const a = setup()
    const b = setup({ wsChunkBytes: 2, relayUri: 'msrp://relay-b.example.com:2855;tcp' })
    const alice = a.client()
    const aliceUri = await a.authenticate(alice)
    const bob = b.client(true)
    const bobUri = await b.authenticate(bob)
    const toPath = `${aliceUri} ${bobUri} ${BOB}`
    alice.send(chunk('ch1xxx', toPath, '123', '1-3/10', '+'))
    // Relay a dials relay b; join that connection to relay b as one it accepted.
    splice(await a.remote('relay-b.example.com:2855'), b.relay, 'msrp://relay-b.example.com:2855;tcp')
    alice.send(chunk('ch2xxx', toPath, '4567', '4-7/10', '+'))
    alice.send(chunk('ch3xxx', toPath, '89X', '8-10/10', '$'))
    const ranges: string[] = []
    let bodies = ''
    for (let i = 0; i < 6; i++) {
      const c = await bob.request('SEND', (f) => !ranges.includes(getHeader(f.headers, 'Byte-Range') as string))
      const range = getHeader(c.headers, 'Byte-Range') as string
      ranges.push(range)
      bodies += new TextDecoder().decode(c.body)
      expect(c.body?.length).toBeLessThanOrEqual(2)
      expect(paths(c)).toEqual([BOB, `${bobUri} ${aliceUri} ${ALICE}`])
      bob.send(responseTo(c, 200))
      bob.send(
        request(`rp${i}xxxx`, 'REPORT', `${bobUri} ${aliceUri} ${ALICE}`, BOB, [
          ['Message-ID', 'msg0001'],
          ['Byte-Range', range],
          ['Status', '000 200 OK']
        ])
      )
      // Relay b dials relay a for the first REPORT; join that connection to relay a too.
      if (i === 0) splice(await b.remote('relay.example.com:2855'), a.relay, RELAY)
    }
    expect(ranges).toEqual(['1-2/10', '3-3/10', '4-5/10', '6-7/10', '8-9/10', '10-10/10'])
    expect(bodies).toBe('123456789X')
    for (const range of ranges) {
      const report = await alice.request('REPORT', (f) => getHeader(f.headers, 'Byte-Range') === range)
      expect(paths(report)).toEqual([ALICE, `${aliceUri} ${bobUri} ${BOB}`])
    }
  })
})
