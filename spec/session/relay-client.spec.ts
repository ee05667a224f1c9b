import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, Subject, toArray, VirtualTimeScheduler } from 'rxjs'
import { memoryPair, type MemoryTransport } from '../../src/transport/memory'
import { frame } from '../../src/operators/frame'
import { encodeFrame } from '../../src/wire/encoder'
import { getHeader, type Header, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'
import { responseTo } from '../../src/wire/replies'
import { newSessionId } from '../../src/wire/ids'
import { formatUri, parseUri } from '../../src/wire/uri'
import { MsrpRelay } from '../../src/relay/relay'
import { createAuthHandler } from '../../src/relay/auth'
import { createRegistry } from '../../src/relay/registry'
import { memoryCredentials } from '../../src/relay/credentials'
import { decodeHeader } from '../../src/wire/headers'
import { formatAuthenticationInfo, formatDigestChallenge } from '../../src/wire/headers/digest-params'
import { computeHa1, createNonceStore, issueChallenge, verifyCredentials } from '../../src/wire/digest'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { pseudoRandom } from '../helpers/bytes'
import {
  newWebSocketClientUri,
  refreshDelayMs,
  RELAY_AUTH_MAX_REQUESTS,
  RELAY_REFRESH_RATIO,
  RelayAuthError,
  type RelayAuthOptions
} from '../../src/session/relay-client'

const RELAY = 'msrps://relay.example.com:2855;tcp'
const USE_PATH = 'msrps://relay.example.com:2855/u7Gh3kP0qz1xYw9e;tcp'
const REALM = 'relay.example.com'
const ACCOUNT = { username: 'alice', password: 'wonderland' }
const ownUri = () => `msrps://alice.example.com:7777/${newSessionId()};tcp`

type Reply = (request: MsrpRequest, n: number) => MsrpResponse | undefined

/** A scripted relay on the far end of a memory pair: records each request and writes what `reply` returns. */
function fakeRelay(transport: MemoryTransport, reply: Reply) {
  const requests: MsrpRequest[] = []
  const arrived = new Subject<MsrpRequest>()
  const responses = new Subject<MsrpResponse>()
  transport.incoming$.pipe(frame()).subscribe((e) => {
    if (e.type !== 'frame') return
    if (e.frame.type === 'response') return responses.next(e.frame)
    requests.push(e.frame)
    const r = reply(e.frame, requests.length)
    arrived.next(e.frame)
    if (r === undefined) return
    const bytes = encodeFrame(r)
    if (E.isRight(bytes)) transport.write(bytes.right)
  })
  return { requests, arrived$: arrived.asObservable(), responses$: responses.asObservable() }
}

const withHeaders = (r: MsrpResponse, headers: readonly Header[]): MsrpResponse => ({
  ...r,
  headers: [...r.headers, ...headers]
})

/** A relay that checks Digest for real (wire/digest.ts): 401 without or with bad credentials, 200 with rspauth. */
function digestRelay(options: { expiresSec?: number; nextnonce?: boolean; stale?: number[] } = {}): Reply {
  const store = createNonceStore()
  const ha1 = computeHa1(ACCOUNT.username, REALM, ACCOUNT.password)
  return (req, n) => {
    if (req.method !== 'AUTH') return responseTo(req, 200)
    const challenge = (stale: boolean) =>
      withHeaders(responseTo(req, 401), [
        ['WWW-Authenticate', formatDigestChallenge(issueChallenge(store, { realm: REALM, stale }))]
      ])
    const auth = decodeHeader(req.headers, 'Authorization')
    if (E.isLeft(auth) || auth.right === undefined) return challenge(false)
    if (options.stale?.includes(n) === true) return challenge(true)
    const digestUri = (getHeader(req.headers, 'To-Path') ?? '').split(' ').pop() ?? ''
    const ok = verifyCredentials(auth.right, {
      digestUri,
      ha1,
      realm: REALM,
      nonceStore: store,
      issueNextNonce: options.nextnonce === true
    })
    if (E.isLeft(ok)) return challenge(ok.left.reason === 'StaleNonce')
    const { username: _u, ...info } = ok.right
    return withHeaders(responseTo(req, 200), [
      ['Use-Path', USE_PATH],
      ['Authentication-Info', formatAuthenticationInfo(info)],
      ['Expires', String(options.expiresSec ?? 900)]
    ])
  }
}

function setup(reply: Reply) {
  const endpoint = new MsrpEndpoint()
  const [client, relaySide] = memoryPair()
  const relay = fakeRelay(relaySide, reply)
  const session = endpoint.createSession(ownUri())
  const authenticate = (options: Partial<RelayAuthOptions> = {}) =>
    endpoint.authenticate(session, RELAY, { ...ACCOUNT, ...options }, client)
  return { endpoint, session, relay, relaySide, authenticate }
}

const authError = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e
  )

describe('relay client: AUTH (RFC 4976 §5.1)', () => {
  it('R-5.1-1, R-5.1-6, R-9.1-7: AUTH to the relay, 401, AUTH with Digest credentials, 200 with Use-Path and Expires', async () => {
    const { endpoint, session, relay, authenticate } = setup(digestRelay())
    const registration = await authenticate()
    expect(relay.requests.map((r) => r.method)).toEqual(['AUTH', 'AUTH'])
    const [first, second] = relay.requests
    expect(getHeader(first!.headers, 'To-Path')).toBe(RELAY)
    expect(getHeader(first!.headers, 'From-Path')).toBe(session.uri)
    expect(getHeader(first!.headers, 'Authorization')).toBeUndefined()
    expect(second!.transactionId).not.toBe(first!.transactionId)
    const credentials = decodeHeader(second!.headers, 'Authorization')
    expect(E.isRight(credentials) && credentials.right).toMatchObject({
      username: 'alice',
      realm: REALM,
      qop: 'auth',
      nc: '00000001',
      cnonce: expect.any(String)
    })
    expect(registration.usePath).toEqual([USE_PATH])
    expect(registration.expiresSec).toBe(900)
    expect(registration.relayUri).toBe(RELAY)
    expect(session.connection).toBe(registration.connection)
    expect(endpoint.registrationOf(session)).toBe(registration)
    endpoint.close()
  })

  it('R-5.1-4: the path for the peer is Use-Path reversed then the own URI; To-Path is Use-Path then the peer path', async () => {
    const second = 'msrps://outer.example.com:9000/x8Jk2mN4pQ6rS8tU;tcp'
    const reply = digestRelay()
    const { endpoint, session, authenticate } = setup((req, n) => {
      const r = reply(req, n)
      return r?.status === 200
        ? { ...r, headers: r.headers.map(([k, v]): Header => [k, k === 'Use-Path' ? `${USE_PATH} ${second}` : v]) }
        : r
    })
    const registration = await authenticate()
    expect(registration.usePath).toEqual([USE_PATH, second])
    expect(registration.path).toEqual([second, USE_PATH, session.uri])
    expect(registration.toPathFor(['msrp://peer.example.com:1/p;tcp'])).toEqual([
      USE_PATH,
      second,
      'msrp://peer.example.com:1/p;tcp'
    ])
    endpoint.close()
  })

  it('sends uri= in Authorization only when includeUri is set (Kamailio needs it; RFC 4976 has none)', async () => {
    const { endpoint, relay, authenticate } = setup(digestRelay())
    await authenticate({ includeUri: true })
    const credentials = decodeHeader(relay.requests[1]!.headers, 'Authorization')
    expect(E.isRight(credentials) && credentials.right?.uri).toBe(RELAY)
    endpoint.close()
  })

  it('RFC 2617 §3.2.1: a 401 with stale=true is answered again with the new nonce, without failing', async () => {
    const { endpoint, relay, authenticate } = setup(digestRelay({ stale: [2] }))
    const registration = await authenticate()
    expect(relay.requests).toHaveLength(3)
    const nonces = relay.requests.slice(1).map((r) => {
      const c = decodeHeader(r.headers, 'Authorization')
      return E.isRight(c) ? c.right?.nonce : undefined
    })
    expect(nonces[0]).not.toBe(nonces[1])
    expect(registration.usePath).toEqual([USE_PATH])
    endpoint.close()
  })

  it('R-5.1-6: a 401 without stale to credentials for the relay challenge fails as Unauthorized, session unbound', async () => {
    const { endpoint, session, relay, authenticate } = setup(digestRelay())
    const error = await authError(authenticate({ password: 'wrong' }))
    expect(error).toBeInstanceOf(RelayAuthError)
    expect(error).toMatchObject({ reason: 'Unauthorized', status: 401 })
    expect(relay.requests).toHaveLength(2)
    expect(session.connection).toBeUndefined()
    expect(endpoint.registrationOf(session)).toBeUndefined()
    endpoint.close()
  })

  it('R-6.3-4: a 423 with Min-Expires is retried once with that Expires; the granted Expires is reported', async () => {
    const reply = digestRelay({ expiresSec: 60 })
    const { endpoint, relay, authenticate } = setup((req, n) => {
      const expires = getHeader(req.headers, 'Expires')
      if (getHeader(req.headers, 'Authorization') !== undefined && expires === '10')
        return withHeaders(responseTo(req, 423), [['Min-Expires', '60']])
      return reply(req, n)
    })
    const registration = await authenticate({ expiresSec: 10 })
    expect(relay.requests.map((r) => getHeader(r.headers, 'Expires'))).toEqual(['10', '10', '60'])
    expect(registration.expiresSec).toBe(60)
    endpoint.close()
  })

  it('R-6.3-4: a 423 with Max-Expires moves Expires down; a second 423 fails as ExpiresOutOfBounds', async () => {
    const { endpoint, relay, authenticate } = setup((req) =>
      withHeaders(responseTo(req, 423), [['Max-Expires', '300']])
    )
    const error = await authError(authenticate({ expiresSec: 7200 }))
    expect(error).toMatchObject({ reason: 'ExpiresOutOfBounds', status: 423 })
    expect(relay.requests.map((r) => getHeader(r.headers, 'Expires'))).toEqual(['7200', '300'])
    endpoint.close()
  })

  it('R-6.3-3: 403 fails as Forbidden; another status as ErrorResponse with that status', async () => {
    const a = setup((req) => responseTo(req, 403))
    await expect(a.authenticate()).rejects.toMatchObject({ reason: 'Forbidden', status: 403 })
    a.endpoint.close()
    const b = setup((req) => responseTo(req, 500, { comment: 'Server Error' }))
    await expect(b.authenticate()).rejects.toMatchObject({ reason: 'ErrorResponse', status: 500 })
    b.endpoint.close()
  })

  it('R-9.1-3, R-9.1-6: a 401 without WWW-Authenticate or offering no qop=auth fails as BadChallenge', async () => {
    const a = setup((req) => responseTo(req, 401))
    await expect(a.authenticate()).rejects.toMatchObject({ reason: 'BadChallenge', status: 401 })
    a.endpoint.close()
    const b = setup((req) =>
      withHeaders(responseTo(req, 401), [['WWW-Authenticate', 'Digest realm="r", nonce="n", qop="auth-int"']])
    )
    await expect(b.authenticate()).rejects.toMatchObject({ reason: 'BadChallenge' })
    b.endpoint.close()
  })

  it('R-9.1-9: an Authentication-Info whose rspauth is wrong fails as BadRspauth', async () => {
    const reply = digestRelay()
    const { endpoint, authenticate } = setup((req, n) => {
      const r = reply(req, n)
      if (r?.status !== 200) return r
      return {
        ...r,
        headers: r.headers.map(([k, v]): Header => [
          k,
          k === 'Authentication-Info' ? v.replace(/rspauth="[0-9a-f]+"/, `rspauth="${'0'.repeat(32)}"`) : v
        ])
      }
    })
    await expect(authenticate()).rejects.toMatchObject({ reason: 'BadRspauth' })
    endpoint.close()
  })

  it('R-6.3-10: a 200 without Use-Path, or without Expires, fails as BadResponse', async () => {
    for (const missing of ['Use-Path', 'Expires']) {
      const reply = digestRelay()
      const { endpoint, authenticate } = setup((req, n) => {
        const r = reply(req, n)
        return r?.status === 200 ? { ...r, headers: r.headers.filter(([k]) => k !== missing) } : r
      })
      await expect(authenticate()).rejects.toMatchObject({ reason: 'BadResponse', status: 200 })
      endpoint.close()
    }
  })

  it(`stops after ${RELAY_AUTH_MAX_REQUESTS} AUTH requests when the relay keeps answering stale=true`, async () => {
    const { endpoint, relay, authenticate } = setup(digestRelay({ stale: [2, 3, 4, 5, 6] }))
    await expect(authenticate()).rejects.toMatchObject({ reason: 'TooManyAttempts' })
    expect(relay.requests).toHaveLength(RELAY_AUTH_MAX_REQUESTS)
    endpoint.close()
  })

  it('fails as ConnectionClosed when the relay closes the connection before answering', async () => {
    const { endpoint, relaySide, authenticate } = setup((_req) => {
      setImmediate(() => relaySide.close())
      return undefined
    })
    await expect(authenticate()).rejects.toMatchObject({ reason: 'ConnectionClosed', status: 408 })
    endpoint.close()
  })

  it('R-8-4: refuses a plain-text relay URI unless allowInsecure is set', async () => {
    const endpoint = new MsrpEndpoint()
    const session = endpoint.createSession(ownUri())
    await expect(endpoint.authenticate(session, 'msrp://127.0.0.1:2855;tcp', ACCOUNT)).rejects.toMatchObject({
      reason: 'InsecureTransport'
    })
    endpoint.close()
  })

  it('refuses to authenticate a session already bound to another connection (AlreadyBound)', async () => {
    const { endpoint, session, authenticate } = setup(digestRelay())
    const [other] = memoryPair()
    session.bind(endpoint.accept(other))
    await expect(authenticate()).rejects.toMatchObject({ reason: 'AlreadyBound' })
    endpoint.close()
  })
})

describe('relay client: refresh (RFC 4976 §9.4, R-9.4-1)', () => {
  it(`refreshes at ${RELAY_REFRESH_RATIO * 100} % of Expires`, () => {
    expect(refreshDelayMs(900)).toBe(720_000)
    expect(refreshDelayMs(1, 0.5)).toBe(500)
    expect(refreshDelayMs(0)).toBeUndefined()
  })

  it('refreshes over the same connection with credentials at once (nextnonce), and stops when the session closes', async () => {
    const scheduler = new VirtualTimeScheduler()
    const { endpoint, session, relay, authenticate } = setup(digestRelay({ expiresSec: 2, nextnonce: true }))
    const registration = await authenticate({ expiresSec: 2, scheduler })
    const events = lastValueFrom(registration.events$.pipe(toArray()))
    expect(scheduler.actions).toHaveLength(1)
    const refreshed = firstValueFrom(registration.events$)
    scheduler.flush()
    expect(await refreshed).toEqual({ type: 'refreshed', usePath: [USE_PATH], expiresSec: 2, pathChanged: false })
    expect(relay.requests).toHaveLength(3)
    const third = relay.requests[2]!
    const credentials = decodeHeader(third.headers, 'Authorization')
    expect(E.isRight(credentials) && credentials.right).toMatchObject({ nc: '00000001' })
    expect(getHeader(third.headers, 'Expires')).toBe('2')
    expect(scheduler.actions).toHaveLength(1) // the next refresh
    session.close()
    expect(scheduler.actions).toHaveLength(0)
    expect(await events).toHaveLength(1)
    expect(registration.closed).toBe(true)
    endpoint.close()
  })

  it('a refresh that gets new Use-Path URIs says pathChanged and updates the To-Path of the connected session', async () => {
    const scheduler = new VirtualTimeScheduler()
    const reply = digestRelay({ expiresSec: 5 })
    let auths = 0
    const renewed = 'msrps://relay.example.com:2855/N3wUr1ab2cd3ef4g;tcp'
    const { endpoint, session, authenticate } = setup((req, n) => {
      const r = reply(req, n)
      if (req.method !== 'AUTH' || r?.status !== 200) return r
      auths += 1
      return auths === 1 ? r : { ...r, headers: r.headers.map(([k, v]): Header => [k, k === 'Use-Path' ? renewed : v]) }
    })
    const registration = await authenticate({ scheduler })
    const peer = 'msrp://peer.example.com:2855/pe3r;tcp'
    await endpoint.connect(session, [peer])
    expect(session.remotePath).toEqual([USE_PATH, peer])
    const refreshed = firstValueFrom(registration.events$)
    scheduler.flush()
    expect(await refreshed).toMatchObject({ pathChanged: true, usePath: [renewed] })
    expect(session.remotePath).toEqual([renewed, peer])
    expect(registration.path).toEqual([renewed, session.uri])
    endpoint.close()
  })

  it('R-6.3-6: the registration fails with ConnectionClosed when the connection to the relay closes', async () => {
    const { endpoint, relaySide, authenticate } = setup(digestRelay())
    const registration = await authenticate()
    const outcome = lastValueFrom(registration.events$).catch((e: unknown) => e)
    relaySide.close()
    expect(await outcome).toMatchObject({ reason: 'ConnectionClosed' })
    expect(registration.closed).toBe(true)
    endpoint.close()
  })

  it('a refresh answered 403 ends the registration with that error', async () => {
    const scheduler = new VirtualTimeScheduler()
    const reply = digestRelay({ expiresSec: 5 })
    let count = 0
    const { endpoint, authenticate } = setup((req, n) => (++count > 2 ? responseTo(req, 403) : reply(req, n)))
    const registration = await authenticate({ scheduler })
    const outcome = lastValueFrom(registration.events$).catch((e: unknown) => e)
    scheduler.flush()
    expect(await outcome).toMatchObject({ reason: 'Forbidden', status: 403 })
    endpoint.close()
  })
})

describe('relay client: a registered session sends through its relay (RFC 4976 §5.2)', () => {
  it('R-5.1-4, R-5.2-1: connect and send over the AUTH connection: To-Path Use-Path + peer path, From-Path own URI', async () => {
    const { endpoint, session, relay, relaySide, authenticate } = setup(digestRelay())
    await authenticate()
    const peer = 'msrps://bob.example.net:8145/b0bsession0123;tcp'
    await endpoint.connect(session, [peer])
    const bind = relay.requests[2]!
    expect(bind.method).toBe('SEND')
    expect(getHeader(bind.headers, 'To-Path')).toBe(`${USE_PATH} ${peer}`)
    expect(getHeader(bind.headers, 'From-Path')).toBe(session.uri)
    await lastValueFrom(session.send('Hi Bob'))
    const send = relay.requests[3]!
    expect(getHeader(send.headers, 'To-Path')).toBe(`${USE_PATH} ${peer}`)
    expect(getHeader(send.headers, 'From-Path')).toBe(session.uri)
    expect(new TextDecoder().decode(send.body)).toBe('Hi Bob')

    // A SEND the relay delivers (its URI popped from To-Path, pushed on From-Path) reaches the session, and the 200
    // goes back to the relay, the previous hop (C-7.2-3).
    const incoming = firstValueFrom(session.messages$)
    const answered = firstValueFrom(relay.responses$)
    const deliver: MsrpRequest = {
      type: 'request',
      transactionId: 'r3l4y',
      method: 'SEND',
      headers: [
        ['To-Path', session.uri],
        ['From-Path', `${USE_PATH} ${peer}`],
        ['Message-ID', 'm1d3l1v3r'],
        ['Byte-Range', '1-5/5'],
        ['Content-Type', 'text/plain']
      ],
      body: new TextEncoder().encode('Hello'),
      continuation: '$'
    }
    const bytes = encodeFrame(deliver)
    if (E.isRight(bytes)) relaySide.write(bytes.right)
    const message = await incoming
    expect(new TextDecoder().decode(await message.collect())).toBe('Hello')
    const response = await answered
    expect(response).toMatchObject({ transactionId: 'r3l4y', status: 200 })
    expect(getHeader(response.headers, 'To-Path')).toBe(USE_PATH)
    expect(getHeader(response.headers, 'From-Path')).toBe(session.uri)
    endpoint.close()
  })
})

describe('WebSocket clients (RFC 7977)', () => {
  it('W-A-1, W-5.2.1-1: a WebSocket client URI has a random .invalid host, an explicit port and the ws transport', () => {
    const a = parseUri(newWebSocketClientUri())
    const b = parseUri(newWebSocketClientUri({ secure: false }))
    expect(E.isRight(a) && a.right).toMatchObject({ scheme: 'msrps', port: 2855, transport: 'ws' })
    expect(E.isRight(b) && b.right).toMatchObject({ scheme: 'msrp', transport: 'ws' })
    if (E.isRight(a) && E.isRight(b)) {
      expect(a.right.host).toMatch(/^[a-z][a-z0-9]*\.invalid$/)
      expect(a.right.host).not.toBe(b.right.host)
      expect(a.right.sessionId).not.toBe(b.right.sessionId)
    }
  })
})

describe('relay client against rx-msrp relay (src/relay)', () => {
  it('R-5.1-4, R-6.3-10: two clients AUTH at the relay (rspauth checked, nextnonce), then text and 1 MiB through it', async () => {
    const registry = createRegistry()
    const relayUri = 'msrps://relay.example.com:2855;tcp'
    const auth = createAuthHandler({ realm: REALM, credentials: memoryCredentials({ alice: 'wonderland' }), registry })
    const relay = new MsrpRelay({ auth, registry })
    const party = async () => {
      const endpoint = new MsrpEndpoint()
      const [mine, theirs] = memoryPair()
      relay.accept(theirs, relayUri)
      const session = endpoint.createSession(ownUri())
      const registration = await endpoint.authenticate(session, relayUri, ACCOUNT, mine)
      return { endpoint, session, registration }
    }
    const a = await party()
    const b = await party()
    expect(a.registration.usePath).toHaveLength(1)
    await a.endpoint.connect(a.session, b.registration.path)
    await b.endpoint.connect(b.session, a.registration.path)
    const incoming = firstValueFrom(b.session.messages$)
    await lastValueFrom(a.session.send('Hi B'))
    const m = await incoming
    expect(new TextDecoder().decode(await m.collect())).toBe('Hi B')
    expect(m.head.fromPath.map(formatUri)).toEqual([
      ...b.registration.usePath,
      ...a.registration.usePath,
      a.session.uri
    ])
    const back = firstValueFrom(a.session.messages$)
    await lastValueFrom(b.session.send('Hi A'))
    expect(new TextDecoder().decode(await (await back).collect())).toBe('Hi A')
    const body = pseudoRandom(1024 * 1024)
    const big = firstValueFrom(b.session.messages$)
    const sent = lastValueFrom(a.session.send(body))
    const received = await (await big).collect()
    expect(Buffer.compare(Buffer.from(received), Buffer.from(body))).toBe(0)
    expect(await sent).toMatchObject({ type: 'done', size: body.length })
    a.endpoint.close()
    b.endpoint.close()
    await relay.close()
  })
})
