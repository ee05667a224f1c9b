import * as fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  AUTH_DEFAULT_EXPIRES_SEC,
  AUTH_MAX_EXPIRES_SEC,
  AUTH_MAX_FAILED,
  AUTH_MIN_EXPIRES_SEC,
  createAuthHandler,
  defaultUseUri,
  type AuthHandlerOptions
} from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { createRegistry } from '../../src/relay/registry'
import type { AuthOutcome, CredentialStore, RelayConnection, StoredSecret } from '../../src/relay/types'
import { memoryPair } from '../../src/transport/memory'
import { answerChallenge, computeHa1, createNonceStore, verifyRspauth } from '../../src/wire/digest'
import {
  AuthenticationInfo,
  DigestChallenge,
  formatDigestCredentials,
  type DigestCredentials
} from '../../src/wire/headers/digest-params'
import { concatBytes } from '../../src/wire/bytes'
import { encodeFrame } from '../../src/wire/encoder'
import {
  getHeader,
  getHeaders,
  type Header,
  type MsrpFrame,
  type MsrpRequest,
  type MsrpResponse
} from '../../src/wire/model'
import { formatUri, parseUri, type MsrpUri } from '../../src/wire/uri'
import { loadFixtures } from '../helpers/fixtures'
import { decodeSlices } from '../helpers/replay'

const REALM = 'relay.example.com'
const RELAY = 'msrps://relay.example.com:2855;tcp'
const CLIENT = 'msrps://client.example.com:9892/98cjs;tcp'
const ALICE = { username: 'alice', password: 'secret' }
const NONCE_LIFETIME_MS = 300_000

function uri(s: string): MsrpUri {
  const u = parseUri(s)
  if (E.isLeft(u)) throw new Error(u.left.detail)
  return u.right
}

function connection(id: string, identity?: string, relayUri = RELAY): RelayConnection {
  return { id, transport: memoryPair()[0], identity, relayUri: uri(relayUri) }
}

let tids = 0
/** An AUTH to the relay with `headers` after To-Path and From-Path. */
function authRequest(headers: readonly Header[] = [], paths: { to?: string; from?: string } = {}): MsrpRequest {
  return {
    type: 'request',
    transactionId: `tid${++tids}`,
    method: 'AUTH',
    headers: [['To-Path', paths.to ?? RELAY], ['From-Path', paths.from ?? CLIENT], ...headers],
    body: undefined,
    continuation: '$'
  }
}

/** A handler on one fake clock shared by the nonce store and the registry. */
function setup(
  options: Partial<AuthHandlerOptions> & { users?: Record<string, string | StoredSecret>; maxBindings?: number } = {}
) {
  let t = 1_000_000
  const now = () => t
  const nonceStore = createNonceStore({ now, lifetimeMs: NONCE_LIFETIME_MS })
  const registry = createRegistry({
    now,
    ...(options.maxBindings === undefined ? {} : { maxBindings: options.maxBindings })
  })
  const credentials = memoryCredentials(options.users ?? { alice: 'secret' })
  const handler = createAuthHandler({ realm: REALM, credentials, registry, nonceStore, ...options })
  return { handler, registry, nonceStore, advance: (ms: number) => (t += ms), now }
}

const status = (o: AuthOutcome): number => o.response.status
const header = (r: MsrpResponse, name: string): string | undefined => getHeader(r.headers, name)
const names = (r: { headers: readonly Header[] }): string[] => r.headers.map(([n]) => n)

function challengeOf(r: MsrpResponse): DigestChallenge {
  const value = header(r, 'WWW-Authenticate')
  if (value === undefined) throw new Error(`no WWW-Authenticate in ${r.status}`)
  const c = DigestChallenge.decode(value)
  if (E.isLeft(c)) throw new Error(`bad WWW-Authenticate ${value}`)
  return c.right
}

function infoOf(r: MsrpResponse): AuthenticationInfo {
  const value = header(r, 'Authentication-Info')
  if (value === undefined) throw new Error('no Authentication-Info')
  const i = AuthenticationInfo.decode(value)
  if (E.isLeft(i)) throw new Error(`bad Authentication-Info ${value}`)
  return i.right
}

/** The client's answer to `challenge`, as Authorization credentials for an AUTH whose rightmost To-Path is `to`. */
function answer(
  challenge: Partial<DigestChallenge>,
  options: { account?: { username: string; password: string }; nc?: number; to?: string; includeUri?: boolean } = {}
): DigestCredentials {
  const creds = answerChallenge(challenge, options.account ?? ALICE, {
    digestUri: options.to ?? RELAY,
    nc: options.nc ?? 1,
    includeUri: options.includeUri ?? false
  })
  if (E.isLeft(creds)) throw new Error(creds.left.detail)
  return creds.right
}

const authorization = (c: DigestCredentials): Header => ['Authorization', formatDigestCredentials(c)]

type Setup = ReturnType<typeof setup>

/** The usual two AUTHs: challenged, then answered. */
async function login(
  s: Setup,
  conn: RelayConnection,
  options: { extra?: readonly Header[]; from?: string; account?: { username: string; password: string } } = {}
): Promise<{ outcome: AuthOutcome; credentials: DigestCredentials }> {
  const paths = options.from === undefined ? {} : { from: options.from }
  const first = await s.handler.handle(authRequest([], paths), conn)
  expect(status(first)).toBe(401)
  const credentials = answer(
    challengeOf(first.response),
    options.account === undefined ? {} : { account: options.account }
  )
  const outcome = await s.handler.handle(
    authRequest([authorization(credentials), ...(options.extra ?? [])], paths),
    conn
  )
  return { outcome, credentials }
}

describe('createAuthHandler: challenge (RFC 4976 §5.1, §9.1)', () => {
  it('R-5.1-5 answers an AUTH without Authorization with 401 and a Digest challenge: realm, nonce, qop="auth"', async () => {
    const s = setup()
    const request = authRequest()
    const o = await s.handler.handle(request, connection('c1'))
    expect(o).toMatchObject({ close: false, reason: 'NoCredentials' })
    expect(o.binding).toBeUndefined()
    expect(o.response).toMatchObject({ type: 'response', transactionId: request.transactionId, status: 401 })
    expect(o.response.comment).toBe('Unauthorized')
    // C-7.2-3, C-7.2-4: To-Path is the AUTH's From-Path, From-Path the relay URI it was addressed to.
    expect(o.response.headers).toEqual([
      ['To-Path', CLIENT],
      ['From-Path', RELAY],
      ['WWW-Authenticate', expect.stringMatching(/^Digest realm="relay\.example\.com", nonce="[^"]+", qop="auth"$/)]
    ])
    const c = challengeOf(o.response)
    expect(c).toEqual({ realm: REALM, nonce: expect.any(String), qop: ['auth'] })
    expect(s.nonceStore.lookup(c.nonce)).toBeDefined()
  })

  it('R-9.1-3 R-9.1-4 R-9.1-5 offers qop auth only, no algorithm (never MD5-sess), no domain, no stale', async () => {
    const s = setup()
    const value = header((await s.handler.handle(authRequest(), connection('c1'))).response, 'WWW-Authenticate') ?? ''
    expect(value).not.toMatch(/auth-int|MD5-sess|algorithm|domain|stale|Basic/i)
  })

  it('issues a fresh nonce with every challenge', async () => {
    const s = setup()
    const c = connection('c1')
    const a = challengeOf((await s.handler.handle(authRequest(), c)).response)
    const b = challengeOf((await s.handler.handle(authRequest(), c)).response)
    expect(a.nonce).not.toBe(b.nonce)
  })
})

describe('createAuthHandler: success (RFC 4976 §6.3)', () => {
  it('R-6.3-10 R-9.1-9 answers good credentials with 200, Use-Path, Authentication-Info and Expires', async () => {
    const s = setup()
    const conn = connection('c1')
    const { outcome, credentials } = await login(s, conn)
    expect(outcome).toMatchObject({ close: false, user: 'alice' })
    expect(outcome.reason).toBeUndefined()
    const r = outcome.response
    expect(r).toMatchObject({ status: 200, comment: 'OK' })
    expect(names(r)).toEqual(['To-Path', 'From-Path', 'Use-Path', 'Authentication-Info', 'Expires'])
    expect(header(r, 'To-Path')).toBe(CLIENT)
    expect(header(r, 'From-Path')).toBe(RELAY)
    expect(header(r, 'Expires')).toBe(String(AUTH_DEFAULT_EXPIRES_SEC))
    // The client checks rspauth: the relay proves it knows the password (RFC 2617 §3.2.3).
    const info = infoOf(r)
    expect(E.isRight(verifyRspauth(info, { credentials, digestUri: RELAY, password: ALICE.password }))).toBe(true)
    expect(info).toMatchObject({ cnonce: credentials.cnonce, nc: '00000001', qop: 'auth' })
  })

  it('R-6.3-8 R-4.2-1 Use-Path is the relay URI (FQDN, port, ;tcp) with 119 random bits, bound to the connection', async () => {
    const s = setup()
    const { outcome } = await login(s, connection('c1'))
    const usePath = header(outcome.response, 'Use-Path') ?? ''
    expect(usePath).toMatch(/^msrps:\/\/relay\.example\.com:2855\/[0-9A-Za-z]{20};tcp$/)
    const binding = outcome.binding
    expect(binding).toMatchObject({ connectionId: 'c1', user: 'alice' })
    expect(formatUri(binding?.uri ?? uri(RELAY))).toBe(usePath)
    expect(s.registry.lookup(binding?.sessionId ?? '')).toEqual(binding)
  })

  it('R-6.3-7 R-6.3-10 grants the requested Expires in whole seconds and the binding expires then', async () => {
    const s = setup()
    const { outcome } = await login(s, connection('c1'), { extra: [['Expires', '900']] })
    expect(header(outcome.response, 'Expires')).toBe('900')
    expect(outcome.binding?.expiresAtMs).toBe(s.now() + 900_000)
    s.advance(900_000)
    expect(s.registry.lookup(outcome.binding?.sessionId ?? '')).toBeUndefined()
  })

  it('accepts Expires at exactly the minimum and the maximum', async () => {
    const s = setup()
    const min = await login(s, connection('c1'), { extra: [['Expires', String(AUTH_MIN_EXPIRES_SEC)]] })
    expect(header(min.outcome.response, 'Expires')).toBe(String(AUTH_MIN_EXPIRES_SEC))
    const max = await login(s, connection('c2'), { extra: [['Expires', String(AUTH_MAX_EXPIRES_SEC)]] })
    expect(header(max.outcome.response, 'Expires')).toBe(String(AUTH_MAX_EXPIRES_SEC))
  })

  it('R-9.1-8 accepts Authorization with uri= (RFC 7977 §8.1.2) as well as without (RFC 4976 §10.3)', async () => {
    const s = setup()
    const conn = connection('c1')
    const c = challengeOf((await s.handler.handle(authRequest(), conn)).response)
    const withUri = answer(c, { includeUri: true })
    expect(formatDigestCredentials(withUri)).toContain(`uri="${RELAY}"`)
    expect(status(await s.handler.handle(authRequest([authorization(withUri)]), conn))).toBe(200)
    const { outcome } = await login(s, connection('c2'))
    expect(status(outcome)).toBe(200)
  })

  it('sends a nextnonce that the client can use for its next AUTH without a challenge', async () => {
    const s = setup()
    const conn = connection('c1')
    const { outcome } = await login(s, conn)
    const nextnonce = infoOf(outcome.response).nextnonce
    expect(nextnonce).toEqual(expect.any(String))
    const creds = answer({ realm: REALM, nonce: nextnonce ?? '', qop: ['auth'] })
    const next = await s.handler.handle(
      authRequest([authorization(creds)], { from: 'msrps://c.example.com:1/other;tcp' }),
      conn
    )
    expect(status(next)).toBe(200)
  })

  it('omits nextnonce when issueNextNonce is false', async () => {
    const s = setup({ issueNextNonce: false })
    const { outcome } = await login(s, connection('c1'))
    expect(infoOf(outcome.response).nextnonce).toBeUndefined()
  })

  it('checks a stored HA1 as well as a stored password', async () => {
    const s = setup({ users: { alice: { ha1: computeHa1('alice', REALM, 'secret') } } })
    expect(status((await login(s, connection('c1'))).outcome)).toBe(200)
  })

  it('rfc4976-relays.md §5.3 item 3: Use-Path lists the relays already in From-Path, then the new URI', async () => {
    const s = setup()
    const from = `msrps://inner.example.com:9000/jui787s2f;tcp ${CLIENT}`
    const { outcome } = await login(s, connection('c1'), { from })
    const usePath = (header(outcome.response, 'Use-Path') ?? '').split(' ')
    expect(usePath).toHaveLength(2)
    expect(usePath[0]).toBe('msrps://inner.example.com:9000/jui787s2f;tcp')
    expect(usePath[1]).toBe(formatUri(outcome.binding?.uri ?? uri(RELAY)))
    expect(header(outcome.response, 'To-Path')).toBe(from)
  })

  it('builds the URI on useUri(connection), by default the relay URI with ;tcp and no userinfo', async () => {
    const ws = connection('c1', undefined, 'msrps://alice@relay.example.com:443;ws')
    expect(formatUri(defaultUseUri(ws))).toBe('msrps://relay.example.com:443;tcp')
    const s = setup({ useUri: () => uri('msrps://relay.example.com:2855;tcp') })
    const { outcome } = await login(s, ws)
    expect(header(outcome.response, 'Use-Path')).toMatch(/^msrps:\/\/relay\.example\.com:2855\/[0-9A-Za-z]{20};tcp$/)
  })
})

describe('createAuthHandler: refresh and one URI per session (R-3.1-2, R-9.4-1)', () => {
  it('refreshes: a second success on the same connection, user and From-Path keeps the URI and moves the expiry', async () => {
    const s = setup()
    const conn = connection('c1')
    const first = (await login(s, conn, { extra: [['Expires', '600']] })).outcome
    s.advance(500_000)
    const second = (await login(s, conn, { extra: [['Expires', '600']] })).outcome
    expect(header(second.response, 'Use-Path')).toBe(header(first.response, 'Use-Path'))
    expect(second.binding?.sessionId).toBe(first.binding?.sessionId)
    expect(second.binding?.expiresAtMs).toBe(s.now() + 600_000)
    s.advance(200_000) // past the first expiry, within the second
    expect(s.registry.lookup(first.binding?.sessionId ?? '')).toBeDefined()
    expect(s.registry.size).toBe(1)
  })

  it('issues another URI to another session of the client (another From-Path) on the same connection', async () => {
    const s = setup()
    const conn = connection('c1')
    const a = (await login(s, conn)).outcome
    const b = (await login(s, conn, { from: 'msrps://client.example.com:9892/other;tcp' })).outcome
    expect(b.binding?.sessionId).not.toBe(a.binding?.sessionId)
    expect(s.registry.size).toBe(2)
  })

  it('R-6.3-6 issues a new URI on a new connection, and one whose URI expired', async () => {
    const s = setup()
    const a = (await login(s, connection('c1'))).outcome
    const b = (await login(s, connection('c2'))).outcome
    expect(b.binding?.sessionId).not.toBe(a.binding?.sessionId)
    const conn = connection('c3')
    const c = (await login(s, conn, { extra: [['Expires', '60']] })).outcome
    s.advance(60_000)
    const d = (await login(s, conn)).outcome
    expect(d.binding?.sessionId).not.toBe(c.binding?.sessionId)
  })
})

describe('createAuthHandler: failures (RFC 4976 §6.3)', () => {
  it('R-6.3-1 answers a wrong password with 401 and a fresh challenge', async () => {
    const s = setup()
    const conn = connection('c1')
    const first = challengeOf((await s.handler.handle(authRequest(), conn)).response)
    const creds = answer(first, { account: { username: 'alice', password: 'wrong' } })
    const o = await s.handler.handle(authRequest([authorization(creds)]), conn)
    expect(o).toMatchObject({ reason: 'BadResponse', user: 'alice', close: false })
    expect(status(o)).toBe(401)
    const again = challengeOf(o.response)
    expect(again.nonce).not.toBe(first.nonce)
    expect(again.stale).toBeUndefined()
    expect(s.registry.size).toBe(0)
  })

  it('answers an unknown user exactly like a wrong password (no user enumeration)', async () => {
    const s = setup()
    const conn = connection('c1')
    const challenge = challengeOf((await s.handler.handle(authRequest(), conn)).response)
    const wrong = await s.handler.handle(
      authRequest([authorization(answer(challenge, { account: { username: 'alice', password: 'x' } }))]),
      conn
    )
    const unknown = await s.handler.handle(
      authRequest([authorization(answer(challenge, { account: { username: 'nobody', password: 'x' }, nc: 2 }))]),
      conn
    )
    for (const o of [wrong, unknown]) {
      expect(o).toMatchObject({ reason: 'BadResponse', close: false })
      expect(names(o.response)).toEqual(['To-Path', 'From-Path', 'WWW-Authenticate'])
      expect(challengeOf(o.response)).toEqual({ realm: REALM, nonce: expect.any(String), qop: ['auth'] })
    }
  })

  it('RFC 2617 §3.2.2 answers a replayed nonce count with 401', async () => {
    const s = setup()
    const conn = connection('c1')
    const { outcome, credentials } = await login(s, conn)
    expect(status(outcome)).toBe(200)
    const replay = await s.handler.handle(authRequest([authorization(credentials)]), conn)
    expect(replay).toMatchObject({ reason: 'ReplayedNonceCount' })
    expect(status(replay)).toBe(401)
  })

  it('R-6.3-1 answers a good response on an expired nonce with 401 stale=true, not counted as a failure', async () => {
    const s = setup({ maxFailedAuth: 2 })
    const conn = connection('c1')
    const challenge = challengeOf((await s.handler.handle(authRequest(), conn)).response) // failure 1
    s.advance(NONCE_LIFETIME_MS)
    const o = await s.handler.handle(authRequest([authorization(answer(challenge))]), conn)
    expect(o).toMatchObject({ reason: 'StaleNonce', close: false })
    expect(status(o)).toBe(401)
    const fresh = challengeOf(o.response)
    expect(fresh.stale).toBe(true)
    expect(header(o.response, 'WWW-Authenticate')).toContain('stale=true')
    // The client retries silently with the new nonce, and succeeds.
    expect(status(await s.handler.handle(authRequest([authorization(answer(fresh))]), conn))).toBe(200)
  })

  it('answers a wrong-password response on an expired nonce without stale (only a good response is stale)', async () => {
    const s = setup()
    const conn = connection('c1')
    const challenge = challengeOf((await s.handler.handle(authRequest(), conn)).response)
    s.advance(NONCE_LIFETIME_MS)
    const creds = answer(challenge, { account: { username: 'alice', password: 'nope' } })
    const o = await s.handler.handle(authRequest([authorization(creds)]), conn)
    expect(o.reason).toBe('BadResponse')
    expect(challengeOf(o.response).stale).toBeUndefined()
  })

  it('answers credentials for another realm or with a uri= other than the To-Path URI with 401', async () => {
    const s = setup()
    const conn = connection('c1')
    const c = challengeOf((await s.handler.handle(authRequest(), conn)).response)
    const otherRealm = await s.handler.handle(
      authRequest([authorization(answer({ ...c, realm: 'evil.example.com' }))]),
      conn
    )
    expect(otherRealm).toMatchObject({ reason: 'RealmMismatch' })
    expect(status(otherRealm)).toBe(401)
    const otherUri = answer(c, { to: 'msrps://relay.example.com:2855/x;tcp', includeUri: true, nc: 2 })
    const o = await s.handler.handle(authRequest([authorization(otherUri)]), conn)
    expect(o).toMatchObject({ reason: 'UriMismatch' })
    expect(status(o)).toBe(401)
  })

  it('R-6.3-4 answers Expires below the minimum with 423 and Min-Expires', async () => {
    const s = setup()
    const { outcome } = await login(s, connection('c1'), { extra: [['Expires', String(AUTH_MIN_EXPIRES_SEC - 1)]] })
    expect(outcome).toMatchObject({ reason: 'ExpiresTooLow', close: false })
    expect(outcome.response).toMatchObject({ status: 423, comment: 'Parameter-out-of-bounds' })
    expect(outcome.response.headers).toEqual([
      ['To-Path', CLIENT],
      ['From-Path', RELAY],
      ['Min-Expires', String(AUTH_MIN_EXPIRES_SEC)]
    ])
    expect(s.registry.size).toBe(0)
  })

  it('R-6.3-4 answers Expires above the maximum with 423 and Max-Expires', async () => {
    const s = setup({ maxExpiresSec: 3600 })
    const { outcome } = await login(s, connection('c1'), { extra: [['Expires', '3601']] })
    expect(outcome).toMatchObject({ reason: 'ExpiresTooHigh' })
    expect(status(outcome)).toBe(423)
    expect(header(outcome.response, 'Max-Expires')).toBe('3600')
    expect(header(outcome.response, 'Min-Expires')).toBeUndefined()
  })

  it('answers a malformed Authorization or Expires, or a missing path, with 400', async () => {
    const s = setup({ maxFailedAuth: 100 })
    const conn = connection('c1')
    const bad: MsrpRequest[] = [
      authRequest([['Authorization', 'Basic YWxpY2U6c2VjcmV0']]), // R-9.1-2: never Basic
      authRequest([['Authorization', 'Digest username="alice"']]), // mandatory parameters missing
      authRequest([['Authorization', 'Digest garbage']]),
      authRequest([['Expires', 'soon']]),
      authRequest([['Expires', '-1']]),
      authRequest([['Expires', '99999999999']]),
      authRequest([
        ['Expires', '60'],
        ['Expires', '60']
      ]),
      authRequest([], { from: 'not a uri' }),
      { ...authRequest(), headers: [['To-Path', RELAY]] },
      { ...authRequest(), headers: [['From-Path', CLIENT]] }
    ]
    for (const request of bad) {
      const o = await s.handler.handle(request, conn)
      expect(o).toMatchObject({ reason: 'HeaderInvalid', close: false })
      expect(o.response).toMatchObject({ status: 400, transactionId: request.transactionId })
    }
    expect(s.registry.size).toBe(0)
  })

  it('R-6.3-3 answers an authenticated user that authorize refuses with 403', async () => {
    const s = setup({ authorize: (user) => user !== 'alice' })
    const { outcome } = await login(s, connection('c1'))
    expect(outcome).toMatchObject({ reason: 'NotAuthorized', user: 'alice', close: false })
    expect(outcome.response).toMatchObject({ status: 403, comment: 'Action-not-allowed' })
    expect(s.registry.size).toBe(0)
  })

  it('answers 408 when the credential store or the authorize policy fails, without counting a failure', async () => {
    const failing: CredentialStore = { lookup: () => Promise.reject(new Error('database down')) }
    const s = setup({ credentials: failing, maxFailedAuth: 2 })
    const conn = connection('c1')
    const { outcome } = await login(s, conn) // the challenge is failure 1
    expect(outcome).toMatchObject({ reason: 'BackendFailed', close: false })
    expect(status(outcome)).toBe(408)
    expect(
      status(
        await s.handler.handle(authRequest([authorization(answer({ realm: REALM, nonce: 'n', qop: ['auth'] }))]), conn)
      )
    ).toBe(408)
    const p = setup({ authorize: () => Promise.reject(new Error('policy down')) })
    const o = (await login(p, connection('c1'))).outcome
    expect(o).toMatchObject({ reason: 'BackendFailed', user: 'alice' })
    expect(status(o)).toBe(408)
  })

  it('answers 403 RegistryFull when the registry holds its maximum, and still refreshes a held URI', async () => {
    const s = setup({ maxBindings: 1 })
    const conn = connection('c1')
    const first = (await login(s, conn)).outcome
    expect(status(first)).toBe(200)
    const full = (await login(s, connection('c2'))).outcome
    expect(full).toMatchObject({ reason: 'RegistryFull', close: false })
    expect(status(full)).toBe(403)
    const refresh = (await login(s, conn)).outcome
    expect(status(refresh)).toBe(200)
    expect(refresh.binding?.sessionId).toBe(first.binding?.sessionId)
  })
})

describe('createAuthHandler: failed attempts per connection (R-6.3-11, R-6.3-12, R-6.1-3)', () => {
  async function fail(s: Setup, conn: RelayConnection): Promise<AuthOutcome> {
    const creds = answer({ realm: REALM, nonce: 'never-issued', qop: ['auth'] })
    return s.handler.handle(authRequest([authorization(creds)]), conn)
  }

  it(`R-6.3-11 answers the ${AUTH_MAX_FAILED}th failure in a row with 403 and close`, async () => {
    const s = setup()
    const conn = connection('c1')
    for (let i = 1; i < AUTH_MAX_FAILED; i++) expect(await fail(s, conn)).toMatchObject({ close: false })
    const last = await fail(s, conn)
    expect(last).toMatchObject({ reason: 'TooManyFailures', close: true })
    expect(last.response.headers).toEqual([
      ['To-Path', CLIENT],
      ['From-Path', RELAY]
    ])
    expect(status(last)).toBe(403)
    // Other connections are not affected.
    expect(await fail(s, connection('c2'))).toMatchObject({ close: false, reason: 'UnknownNonce' })
  })

  it('counts challenges, 400s and 423s as failures; a success resets the count', async () => {
    const s = setup({ maxFailedAuth: 3 })
    const conn = connection('c1')
    expect(await s.handler.handle(authRequest([['Expires', 'x']]), conn)).toMatchObject({ close: false }) // 1
    expect((await login(s, conn)).outcome).toMatchObject({ close: false }) // challenge 2, success: reset
    expect((await login(s, conn, { extra: [['Expires', '1']] })).outcome).toMatchObject({ reason: 'ExpiresTooLow' }) // 1, 2
    expect(await fail(s, conn)).toMatchObject({ reason: 'TooManyFailures', close: true }) // 3
  })

  it('R-6.3-12 never closes a connection with an identity (a proven peer such as a relay)', async () => {
    const s = setup({ maxFailedAuth: 2 })
    const conn = connection('c1', 'relay.example.net')
    const from = `msrps://relay.example.net:2855/abc;tcp ${CLIENT}`
    for (let i = 0; i < 5; i++) {
      const o = await s.handler.handle(authRequest([], { from }), conn)
      expect(o).toMatchObject({ close: false, reason: 'NoCredentials' })
    }
  })

  it('forget(connectionId) clears the count of that connection', async () => {
    const s = setup({ maxFailedAuth: 2 })
    const conn = connection('c1')
    await fail(s, conn)
    s.handler.forget('c1')
    expect(await fail(s, conn)).toMatchObject({ close: false })
    expect(await fail(s, conn)).toMatchObject({ close: true })
  })

  it('answers 403 and close, and binds nothing, when the connection was forgotten while its AUTH was checked', async () => {
    let release: (secret: StoredSecret) => void = () => undefined
    const slow: CredentialStore = { lookup: () => new Promise((resolve) => (release = resolve)) }
    const s = setup({ credentials: slow })
    const conn = connection('c1')
    const challenge = challengeOf((await s.handler.handle(authRequest(), conn)).response)
    const pending = s.handler.handle(authRequest([authorization(answer(challenge))]), conn)
    s.handler.forget('c1')
    s.registry.dropConnection('c1')
    release({ password: 'secret' })
    expect(await pending).toMatchObject({ reason: 'ConnectionClosed', close: true })
    expect((await pending).binding).toBeUndefined()
    expect(s.registry.size).toBe(0)
  })
})

describe('createAuthHandler: connections authenticated at the WebSocket handshake (RFC 7977 §5.3.1)', () => {
  it('W-5.3.1-1 W-5.3.1-2 answers the AUTH of a connection with an identity with 200, no challenge, no Authentication-Info', async () => {
    const s = setup()
    const conn = connection('c1', 'alice@example.com')
    const o = await s.handler.handle(authRequest(), conn)
    expect(o).toMatchObject({ close: false, user: 'alice@example.com' })
    expect(names(o.response)).toEqual(['To-Path', 'From-Path', 'Use-Path', 'Expires'])
    expect(o.binding).toMatchObject({ user: 'alice@example.com', connectionId: 'c1' })
    expect(s.nonceStore.size).toBe(0)
  })

  it('R-6.3-1 still challenges an AUTH forwarded by a relay on such a connection: the far-end client must prove itself', async () => {
    const s = setup()
    const conn = connection('c1', 'relay.example.net')
    const o = await s.handler.handle(
      authRequest([], { from: `msrps://relay.example.net:2855/abc;tcp ${CLIENT}` }),
      conn
    )
    expect(status(o)).toBe(401)
  })

  it('still applies the Expires bounds and authorize', async () => {
    const low = await setup().handler.handle(authRequest([['Expires', '1']]), connection('c1', 'alice'))
    expect(low).toMatchObject({ reason: 'ExpiresTooLow' })
    const refused = await setup({ authorize: () => false }).handler.handle(authRequest(), connection('c1', 'alice'))
    expect(refused).toMatchObject({ reason: 'NotAuthorized' })
  })
})

describe('createAuthHandler: options', () => {
  it('has named defaults: 60 s minimum, 86 400 s maximum, 1 800 s default, 5 failures', () => {
    expect([AUTH_MIN_EXPIRES_SEC, AUTH_MAX_EXPIRES_SEC, AUTH_DEFAULT_EXPIRES_SEC, AUTH_MAX_FAILED]).toEqual([
      60, 86_400, 1_800, 5
    ])
  })

  it('throws a RangeError on inconsistent limits', () => {
    const base = { realm: REALM, credentials: memoryCredentials({}), registry: createRegistry() }
    const bad: Partial<AuthHandlerOptions>[] = [
      { minExpiresSec: -1 },
      { maxExpiresSec: 1.5 },
      { minExpiresSec: 100, maxExpiresSec: 50 },
      { defaultExpiresSec: 10 },
      { defaultExpiresSec: 100_000 },
      { maxFailedAuth: 0 }
    ]
    for (const options of bad) expect(() => createAuthHandler({ ...base, ...options })).toThrow(RangeError)
  })

  it('ignores request headers it does not know and writes each response header once', async () => {
    const s = setup()
    const { outcome } = await login(s, connection('c1'), { extra: [['X-Whatever', 'y']] })
    for (const n of names(outcome.response)) expect(getHeaders(outcome.response.headers, n)).toHaveLength(1)
  })
})

/** The request or response of fixture `n` of spec/fixtures/rfc-vectors.md. */
function vector(n: number): MsrpFrame {
  const f = VECTORS.find((x) => x.title.startsWith(`${n}. `))
  if (f === undefined) throw new Error(`no fixture ${n}`)
  const [frame] = decodeSlices([f.bytes]).frames
  if (frame === undefined) throw new Error(`fixture ${n} holds no frame`)
  return frame
}

const vectorRequest = (n: number): MsrpRequest => {
  const f = vector(n)
  if (f.type !== 'request') throw new Error(`fixture ${n} is not a request`)
  return f
}

const vectorResponse = (n: number): MsrpResponse => {
  const f = vector(n)
  if (f.type !== 'response') throw new Error(`fixture ${n} is not a response`)
  return f
}

/** `request` with the value of header `name` replaced. */
const replacing = (request: MsrpRequest, name: string, value: string): MsrpRequest => ({
  ...request,
  headers: request.headers.map(([n, v]): Header => (n === name ? [n, value] : [n, v]))
})

/** Our response encoded and decoded again: what the client would read off the wire. */
function onTheWire(response: MsrpResponse): MsrpResponse {
  const bytes = encodeFrame(response)
  if (E.isLeft(bytes)) throw new Error(bytes.left.detail)
  const [frame] = decodeSlices(bytes.right).frames
  if (frame?.type !== 'response') throw new Error('our response does not decode')
  return frame
}

/** The parameter names of a Digest header value, sorted. */
const paramNames = (value: string | undefined): string[] =>
  [...(value ?? '').matchAll(/([a-z]+)=/g)].map((m) => m[1] ?? '').sort()

/**
 * Same shape as the RFC's response: status, transaction id, header names in order, To-Path and From-Path values,
 * and the parameter names of the Digest headers. Nonces, rspauth and issued session-ids are random, so differ.
 */
function expectSameShape(ours: MsrpResponse, rfc: MsrpResponse): void {
  expect(ours.status).toBe(rfc.status)
  expect(ours.transactionId).toBe(rfc.transactionId)
  expect(names(ours)).toEqual(names(rfc))
  expect(header(ours, 'To-Path')).toBe(header(rfc, 'To-Path'))
  expect(header(ours, 'From-Path')).toBe(header(rfc, 'From-Path'))
  for (const name of ['WWW-Authenticate', 'Authentication-Info'])
    expect(paramNames(header(ours, name))).toEqual(paramNames(header(rfc, name)))
}

const VECTORS = loadFixtures('rfc-vectors')
const ISSUED = '[0-9A-Za-z]{20}'

describe('createAuthHandler against the RFC example flows (spec/fixtures/rfc-vectors.md)', () => {
  it('RFC 4976 §10.3, Alice to intra.example.com: the 401 and the 200 have the RFC shape (vectors 25 to 28)', async () => {
    const s = setup({ realm: 'intra.example.com', users: { Alice: 'alice-pw' }, defaultExpiresSec: 900 })
    const conn = connection('alice', undefined, 'msrps://intra.example.com:9000;tcp')
    const first = onTheWire((await s.handler.handle(vectorRequest(25), conn)).response)
    expectSameShape(first, vectorResponse(26))
    const challenge = challengeOf(first)
    expect(challenge).toMatchObject({ realm: 'intra.example.com', qop: ['auth'] })
    const sent = answerChallenge(
      challenge,
      { username: 'Alice', password: 'alice-pw' },
      { digestUri: 'msrps://alice@intra.example.com;tcp', nc: 1, cnonce: '0a4f113b' }
    )
    if (E.isLeft(sent)) throw new Error(sent.left.detail)
    const request = replacing(vectorRequest(27), 'Authorization', formatDigestCredentials(sent.right))
    const ok = onTheWire((await s.handler.handle(request, conn)).response)
    const rfc = vectorResponse(28)
    expectSameShape(ok, rfc)
    expect(header(ok, 'Use-Path')).toMatch(new RegExp(`^msrps://intra\\.example\\.com:9000/${ISSUED};tcp$`))
    expect(header(ok, 'Expires')).toBe(header(rfc, 'Expires'))
    expect(infoOf(ok)).toMatchObject({ cnonce: '0a4f113b', nc: '00000001', qop: 'auth' })
    const context = { credentials: sent.right, digestUri: 'msrps://alice@intra.example.com;tcp', password: 'alice-pw' }
    expect(E.isRight(verifyRspauth(infoOf(ok), context))).toBe(true)
  })

  it('RFC 4976 §10.3, the AUTH forwarded by intra to extra.example.com: Use-Path is intra then extra (vectors 30 to 35)', async () => {
    const s = setup({ realm: 'extra.example.com', users: { Alice: 'alice-pw' } })
    const conn = connection('intra', 'intra.example.com', 'msrps://extra.example.com:9000;tcp')
    const first = onTheWire((await s.handler.handle(vectorRequest(30), conn)).response)
    expectSameShape(first, vectorResponse(31))
    const sent = answerChallenge(
      challengeOf(first),
      { username: 'Alice', password: 'alice-pw' },
      { digestUri: 'msrps://extra.example.com;tcp', nc: 1, cnonce: '85a0dca8' }
    )
    if (E.isLeft(sent)) throw new Error(sent.left.detail)
    const request = replacing(vectorRequest(34), 'Authorization', formatDigestCredentials(sent.right))
    const ok = onTheWire((await s.handler.handle(request, conn)).response)
    expectSameShape(ok, vectorResponse(35))
    expect(header(ok, 'Use-Path')).toMatch(
      new RegExp(`^msrps://intra\\.example\\.com:9000/jui787s2f;tcp msrps://extra\\.example\\.com:9000/${ISSUED};tcp$`)
    )
    expect(header(ok, 'Expires')).toBe('1800') // our default, also the value of the RFC example
  })

  it('RFC 7977 §8.1.1, WebSocket-level authentication: the 200 is the RFC one but for the random session-id (vectors 38, 39)', async () => {
    const s = setup({
      realm: 'example.com',
      defaultExpiresSec: 900,
      useUri: () => uri('msrps://a.example.com:2855;tcp')
    })
    const conn = connection('ws1', 'alice', 'msrps://a.example.com:443;ws')
    const o = await s.handler.handle(vectorRequest(38), conn)
    const sessionId = o.binding?.sessionId ?? ''
    expect(sessionId).toMatch(new RegExp(`^${ISSUED}$`))
    const bytes = encodeFrame(o.response)
    if (E.isLeft(bytes)) throw new Error(bytes.left.detail)
    const text = new TextDecoder().decode(concatBytes(bytes.right)).replace(sessionId, 'jui787s2f')
    expect(text).toBe(new TextDecoder().decode(VECTORS.find((f) => f.title.startsWith('39. '))?.bytes))
  })

  it('RFC 7977 §8.1.2, MSRP-level authentication with uri=: the RFC shape plus the Authentication-Info RFC 4976 requires (vectors 40 to 43)', async () => {
    const s = setup({
      realm: 'example.com',
      defaultExpiresSec: 900,
      useUri: () => uri('msrps://a.example.com:2855;tcp')
    })
    const conn = connection('ws1', undefined, 'msrps://a.example.com:443;ws')
    const first = onTheWire((await s.handler.handle(vectorRequest(40), conn)).response)
    expectSameShape(first, vectorResponse(41))
    const sent = answerChallenge(challengeOf(first), ALICE, {
      digestUri: 'msrps://alice@a.example.com:443;ws',
      nc: 1,
      cnonce: 'zic5ml401prb',
      includeUri: true
    })
    if (E.isLeft(sent)) throw new Error(sent.left.detail)
    const ok = onTheWire(
      (await s.handler.handle(replacing(vectorRequest(42), 'Authorization', formatDigestCredentials(sent.right)), conn))
        .response
    )
    const rfc = vectorResponse(43)
    // rfc7977-websocket.md §9.6 item 5: the example omits Authentication-Info; R-9.1-9 requires it.
    expect(names(ok)).toEqual(['To-Path', 'From-Path', 'Use-Path', 'Authentication-Info', 'Expires'])
    expect(names(rfc)).toEqual(['To-Path', 'From-Path', 'Use-Path', 'Expires'])
    expect(header(ok, 'To-Path')).toBe(header(rfc, 'To-Path'))
    expect(header(ok, 'From-Path')).toBe(header(rfc, 'From-Path'))
    expect(header(ok, 'Use-Path')).toMatch(new RegExp(`^msrps://a\\.example\\.com:2855/${ISSUED};tcp$`))
    expect(header(ok, 'Expires')).toBe(header(rfc, 'Expires'))
  })
})

describe('createAuthHandler: any input gets a defined answer', () => {
  it('never rejects, and answers any header values with 200, 400, 401, 403 or 423', async () => {
    const s = setup({ maxFailedAuth: 1_000_000 })
    const conn = connection('c1')
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom('Digest ', 'Digest username="alice", realm="relay.example.com"', '60', '0', RELAY, CLIENT)
    )
    const name = fc.constantFrom('To-Path', 'From-Path', 'Authorization', 'Expires', 'to-path', 'X-Other')
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(name, value), { maxLength: 6 }), async (headers) => {
        const request: MsrpRequest = { ...authRequest(), headers }
        const o = await s.handler.handle(request, conn)
        expect([200, 400, 401, 403, 423]).toContain(o.response.status)
        expect(o.response.transactionId).toBe(request.transactionId)
      }),
      { numRuns: 300 }
    )
  })
})
