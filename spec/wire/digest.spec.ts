import * as E from 'fp-ts/Either'
import * as fc from 'fast-check'
import type { DigestChallenge, DigestCredentials } from '../../src/wire/headers/digest-params'
import {
  AUTH_METHOD,
  DigestFailure,
  NonceStore,
  answerChallenge,
  computeHa1,
  constantTimeEqual,
  createNonceStore,
  digestResponse,
  digestRspauth,
  digestUriFromToPath,
  formatNc,
  issueChallenge,
  verifyCredentials,
  verifyRspauth
} from '../../src/wire/digest'
import { md5 } from '../../src/wire/md5'

// RFC 4976 §10.3: Alice's AUTH to her first relay.
const REALM = 'intra.example.com'
const DIGEST_URI = 'msrps://alice@intra.example.com;tcp'
const ALICE = { username: 'Alice', password: 'secret' }
const ALICE_HA1 = computeHa1(ALICE.username, REALM, ALICE.password)
const LIFETIME_MS = 60_000

/** A relay's view: a nonce store on a fake clock that the test advances by hand. */
function relay(options: { maxNonces?: number } = {}): { store: NonceStore; advance: (ms: number) => void } {
  let t = 1_000_000
  const store = createNonceStore({ lifetimeMs: LIFETIME_MS, now: () => t, ...options })
  return { store, advance: (ms) => (t += ms) }
}

function rightOf<A>(e: E.Either<DigestFailure, A>): A {
  if (E.isLeft(e)) throw new Error(`expected right, got ${e.left.reason}: ${e.left.detail}`)
  return e.right
}

const reasonOf = <A>(e: E.Either<DigestFailure, A>): string | undefined => (E.isLeft(e) ? e.left.reason : undefined)

/** Client answers a fresh challenge from `store` with nonce count `nc`. */
function login(
  store: NonceStore,
  nc = 1,
  account = ALICE
): { challenge: DigestChallenge; credentials: DigestCredentials } {
  const challenge = issueChallenge(store, { realm: REALM })
  return { challenge, credentials: rightOf(answerChallenge(challenge, account, { digestUri: DIGEST_URI, nc })) }
}

const verify = (store: NonceStore, credentials: Partial<DigestCredentials>, extra: { ha1?: string | undefined } = {}) =>
  verifyCredentials(credentials, {
    digestUri: DIGEST_URI,
    ha1: 'ha1' in extra ? extra.ha1 : ALICE_HA1,
    realm: REALM,
    nonceStore: store
  })

describe('digest (RFC 2617 as profiled by RFC 4976 §9.1)', () => {
  describe('hashes', () => {
    // RFC 2617 §3.5. RFC 4976 §10.3 reuses this nonce, cnonce and response with method AUTH and another user, realm
    // and URI, with no password given, so only RFC 2617's own HTTP form (method GET) can be re-derived.
    const rfc2617 = {
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      nc: '00000001',
      cnonce: '0a4f113b',
      qop: 'auth',
      method: 'GET',
      digestUri: '/dir/index.html'
    }

    it('computes HA1 = MD5(username:realm:password)', () => {
      expect(computeHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life')).toBe('939e7578ed9e3c518a452acee763bce9')
    })

    it("reproduces RFC 2617's worked example from the password", () => {
      expect(digestResponse({ ...rfc2617, username: 'Mufasa', password: 'Circle Of Life' })).toBe(
        '6629fae49393a05397450978507c4ef1'
      )
    })

    it("reproduces RFC 2617's worked example from HA1, in either hex case", () => {
      expect(digestResponse({ ...rfc2617, ha1: '939e7578ed9e3c518a452acee763bce9' })).toBe(
        '6629fae49393a05397450978507c4ef1'
      )
      expect(digestResponse({ ...rfc2617, ha1: '939E7578ED9E3C518A452ACEE763BCE9' })).toBe(
        '6629fae49393a05397450978507c4ef1'
      )
    })

    it('R-9.1-8 hashes "AUTH:" and the digest-uri into H(A2)', () => {
      const params = { ...rfc2617, ha1: ALICE_HA1, method: AUTH_METHOD, digestUri: DIGEST_URI }
      const ha2 = md5(`AUTH:${DIGEST_URI}`)
      expect(digestResponse(params)).toBe(md5(`${ALICE_HA1}:${rfc2617.nonce}:00000001:0a4f113b:auth:${ha2}`))
    })

    it('R-9.1-9 computes rspauth with an empty method: MD5(HA1:nonce:nc:cnonce:qop:MD5(":" digest-uri))', () => {
      const { method: _method, ...params } = { ...rfc2617, ha1: ALICE_HA1, digestUri: DIGEST_URI }
      const ha2 = md5(`:${DIGEST_URI}`)
      expect(digestRspauth(params)).toBe(md5(`${ALICE_HA1}:${rfc2617.nonce}:00000001:0a4f113b:auth:${ha2}`))
    })

    it('formats nonce counts as 8 lowercase hex digits', () => {
      expect(formatNc(1)).toBe('00000001')
      expect(formatNc(255)).toBe('000000ff')
      expect(formatNc(0xffffffff)).toBe('ffffffff')
      for (const bad of [0, -1, 1.5, 0x100000000, NaN]) expect(() => formatNc(bad)).toThrow(RangeError)
    })

    it('R-9.1-8 takes the digest-uri from the rightmost To-Path URI', () => {
      const toPath = ['msrps://intra.example.com:9000/jui787s2f;tcp', 'msrps://extra.example.com;tcp']
      expect(digestUriFromToPath(toPath)).toEqual(E.right('msrps://extra.example.com;tcp'))
      expect(reasonOf(digestUriFromToPath([]))).toBe('MissingParameter')
    })

    it('compares strings like === (constantTimeEqual)', () => {
      fc.assert(fc.property(fc.string(), fc.string(), (a, b) => constantTimeEqual(a, b) === (a === b)))
      expect(constantTimeEqual('abc', 'abc')).toBe(true)
      expect(constantTimeEqual('abc', 'abd')).toBe(false)
      expect(constantTimeEqual('abc', 'abcd')).toBe(false)
    })
  })

  describe('issueChallenge (relay)', () => {
    it('R-5.1-5 R-9.1-3 R-9.1-4 R-9.1-5 R-9.1-6 offers qop "auth" only, no algorithm, no domain', () => {
      const { store } = relay()
      const challenge = issueChallenge(store, { realm: REALM })
      expect(challenge).toEqual({ realm: REALM, nonce: expect.stringMatching(/^[A-Za-z0-9]{22}$/), qop: ['auth'] })
      expect(store.lookup(challenge.nonce)).toEqual({ issuedAtMs: 1_000_000, lastNc: 0 })
    })

    it('marks a re-challenge after a stale nonce with stale=true', () => {
      const { store } = relay()
      expect(issueChallenge(store, { realm: REALM, stale: true }).stale).toBe(true)
    })
  })

  describe('answerChallenge (client)', () => {
    const challenge: DigestChallenge = { realm: REALM, nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: ['auth'] }

    it('R-5.1-6 R-9.1-6 R-9.1-7 answers with realm, nonce, qop=auth, nc and cnonce, and no uri by default', () => {
      const creds = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1, cnonce: '0a4f113b' }))
      expect(creds).toEqual({
        username: 'Alice',
        realm: REALM,
        nonce: challenge.nonce,
        response: digestResponse({
          ...challenge,
          ...ALICE,
          nc: '00000001',
          cnonce: '0a4f113b',
          qop: 'auth',
          method: 'AUTH',
          digestUri: DIGEST_URI
        }),
        cnonce: '0a4f113b',
        nc: '00000001',
        qop: 'auth'
      })
    })

    it('generates a random cnonce when none is given', () => {
      const a = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1 }))
      const b = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1 }))
      expect(a.cnonce).toMatch(/^[A-Za-z0-9]{16}$/)
      expect(a.cnonce).not.toBe(b.cnonce)
    })

    it('sends uri= when asked (RFC 7977 example form)', () => {
      const creds = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1, includeUri: true }))
      expect(creds.uri).toBe(DIGEST_URI)
    })

    it('picks auth from a qop list, echoes opaque and algorithm=MD5, and R-9.1-5 ignores domain', () => {
      const creds = rightOf(
        answerChallenge(
          { ...challenge, qop: ['auth-int', 'auth'], opaque: 'xyz', algorithm: 'md5', domain: '/elsewhere' },
          ALICE,
          { digestUri: DIGEST_URI, nc: 3 }
        )
      )
      expect(creds).toMatchObject({ qop: 'auth', opaque: 'xyz', algorithm: 'MD5', nc: '00000003' })
      expect(creds).not.toHaveProperty('domain')
    })

    it('R-9.1-6 refuses a challenge without qop', () => {
      expect(reasonOf(answerChallenge({ ...challenge, qop: [] }, ALICE, { digestUri: DIGEST_URI, nc: 1 }))).toBe(
        'MissingParameter'
      )
      expect(reasonOf(answerChallenge({ realm: REALM, nonce: 'n' }, ALICE, { digestUri: DIGEST_URI, nc: 1 }))).toBe(
        'MissingParameter'
      )
    })

    it('R-9.1-3 refuses a challenge offering only auth-int', () => {
      const r = answerChallenge({ ...challenge, qop: ['auth-int'] }, ALICE, { digestUri: DIGEST_URI, nc: 1 })
      expect(reasonOf(r)).toBe('UnsupportedQop')
    })

    it('R-9.1-4 refuses algorithm=MD5-sess (and any algorithm but MD5)', () => {
      for (const algorithm of ['MD5-sess', 'SHA-256']) {
        const r = answerChallenge({ ...challenge, algorithm }, ALICE, { digestUri: DIGEST_URI, nc: 1 })
        expect(reasonOf(r)).toBe('UnsupportedAlgorithm')
      }
    })

    it('refuses a challenge without realm or nonce, a bad nonce count and an empty digest-uri', () => {
      expect(reasonOf(answerChallenge({ nonce: 'n', qop: ['auth'] }, ALICE, { digestUri: DIGEST_URI, nc: 1 }))).toBe(
        'MissingParameter'
      )
      expect(reasonOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 0 }))).toBe('InvalidParameter')
      expect(reasonOf(answerChallenge(challenge, ALICE, { digestUri: '', nc: 1 }))).toBe('MissingParameter')
    })
  })

  describe('client ↔ relay round trips (method AUTH)', () => {
    it('R-9.1-1 R-9.1-9 accepts good credentials and returns rspauth, cnonce, nc and qop', () => {
      const { store } = relay()
      const { credentials } = login(store)
      const success = rightOf(verify(store, credentials))
      expect(success).toEqual({
        username: 'Alice',
        rspauth: digestRspauth({ ...credentials, ha1: ALICE_HA1, digestUri: DIGEST_URI }),
        cnonce: credentials.cnonce,
        nc: '00000001',
        qop: 'auth'
      })
      expect(verifyRspauth(success, { credentials, digestUri: DIGEST_URI, password: ALICE.password })).toEqual(
        E.right({ rspauth: success.rspauth, cnonce: credentials.cnonce, nc: '00000001', qop: 'auth' })
      )
      expect(E.isRight(verifyRspauth(success, { credentials, digestUri: DIGEST_URI, ha1: ALICE_HA1 }))).toBe(true)
    })

    it('works for any username and password, UTF-8 included', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (username, password) => {
          const { store } = relay()
          const { credentials } = login(store, 1, { username, password })
          const ha1 = computeHa1(username, REALM, password)
          const success = rightOf(verify(store, credentials, { ha1 }))
          return E.isRight(verifyRspauth(success, { credentials, digestUri: DIGEST_URI, password }))
        }),
        { numRuns: 50 }
      )
    })

    it('accepts later AUTHs on the same nonce with increasing nc', () => {
      const { store } = relay()
      const { challenge, credentials } = login(store)
      expect(E.isRight(verify(store, credentials))).toBe(true)
      const again = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 5 }))
      expect(rightOf(verify(store, again)).nc).toBe('00000005')
      expect(store.lookup(challenge.nonce)?.lastNc).toBe(5)
    })

    it('issues a nextnonce on request, which the client then uses with nc 1', () => {
      const { store } = relay()
      const { credentials } = login(store)
      const success = rightOf(
        verifyCredentials(credentials, {
          digestUri: DIGEST_URI,
          ha1: ALICE_HA1,
          realm: REALM,
          nonceStore: store,
          issueNextNonce: true
        })
      )
      const nextnonce = success.nextnonce ?? ''
      expect(nextnonce).toMatch(/^[A-Za-z0-9]{22}$/)
      expect(
        rightOf(verifyRspauth(success, { credentials, digestUri: DIGEST_URI, password: 'secret' })).nextnonce
      ).toBe(nextnonce)
      const next = rightOf(
        answerChallenge({ realm: REALM, nonce: nextnonce, qop: ['auth'] }, ALICE, { digestUri: DIGEST_URI, nc: 1 })
      )
      expect(E.isRight(verify(store, next))).toBe(true)
    })

    it('fails a wrong password as BadResponse', () => {
      const { store } = relay()
      const { credentials } = login(store, 1, { username: 'Alice', password: 'wrong' })
      expect(reasonOf(verify(store, credentials))).toBe('BadResponse')
    })

    it('fails an unknown user (no HA1) as BadResponse, like a wrong password', () => {
      const { store } = relay()
      const { credentials } = login(store)
      expect(reasonOf(verify(store, credentials, { ha1: undefined }))).toBe('BadResponse')
    })

    it('refuses an unknown user even if the response was computed with the dummy HA1', () => {
      const { store } = relay()
      const { credentials } = login(store)
      const response = digestResponse({ ...credentials, ha1: '0'.repeat(32), method: 'AUTH', digestUri: DIGEST_URI })
      expect(reasonOf(verify(store, { ...credentials, response }, { ha1: undefined }))).toBe('BadResponse')
    })

    it('fails a replayed nonce count as ReplayedNonceCount, and a lower one too', () => {
      const { store } = relay()
      const { challenge, credentials } = login(store, 2)
      expect(E.isRight(verify(store, credentials))).toBe(true)
      expect(reasonOf(verify(store, credentials))).toBe('ReplayedNonceCount')
      const lower = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1 }))
      expect(reasonOf(verify(store, lower))).toBe('ReplayedNonceCount')
    })

    it('does not consume a nonce count on a failed attempt', () => {
      const { store } = relay()
      const { challenge } = login(store)
      const bad = rightOf(answerChallenge(challenge, { ...ALICE, password: 'x' }, { digestUri: DIGEST_URI, nc: 1 }))
      expect(reasonOf(verify(store, bad))).toBe('BadResponse')
      const good = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1 }))
      expect(E.isRight(verify(store, good))).toBe(true)
    })

    it('answers a good response on an expired nonce with StaleNonce, then accepts the stale=true re-challenge', () => {
      const { store, advance } = relay()
      const { credentials } = login(store)
      advance(LIFETIME_MS)
      expect(reasonOf(verify(store, credentials))).toBe('StaleNonce')
      const challenge = issueChallenge(store, { realm: REALM, stale: true })
      const retry = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1 }))
      expect(E.isRight(verify(store, retry))).toBe(true)
    })

    it('accepts a nonce until its lifetime has passed', () => {
      const { store, advance } = relay()
      const { credentials } = login(store)
      advance(LIFETIME_MS - 1)
      expect(E.isRight(verify(store, credentials))).toBe(true)
    })

    it('takes an explicit now over the store clock', () => {
      const { store } = relay()
      const { credentials } = login(store)
      const r = verifyCredentials(credentials, {
        digestUri: DIGEST_URI,
        ha1: ALICE_HA1,
        realm: REALM,
        nonceStore: store,
        now: store.now() + LIFETIME_MS
      })
      expect(reasonOf(r)).toBe('StaleNonce')
    })

    it('answers a wrong password on an expired nonce with BadResponse, not StaleNonce', () => {
      const { store, advance } = relay()
      const { credentials } = login(store, 1, { username: 'Alice', password: 'wrong' })
      advance(LIFETIME_MS * 2)
      expect(reasonOf(verify(store, credentials))).toBe('BadResponse')
    })

    it('fails a nonce the relay never issued as UnknownNonce', () => {
      const { store } = relay()
      const challenge: DigestChallenge = { realm: REALM, nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', qop: ['auth'] }
      const creds = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1 }))
      expect(reasonOf(verify(store, creds))).toBe('UnknownNonce')
    })

    it('fails a revoked nonce as UnknownNonce', () => {
      const { store } = relay()
      const { challenge, credentials } = login(store)
      expect(store.revoke(challenge.nonce)).toBe(true)
      expect(reasonOf(verify(store, credentials))).toBe('UnknownNonce')
    })

    it('R-9.1-8 accepts uri= equal to the rightmost To-Path URI', () => {
      const { store } = relay()
      const challenge = issueChallenge(store, { realm: REALM })
      const creds = rightOf(answerChallenge(challenge, ALICE, { digestUri: DIGEST_URI, nc: 1, includeUri: true }))
      expect(E.isRight(verify(store, creds))).toBe(true)
    })

    it('R-9.1-8 fails uri= other than the rightmost To-Path URI as UriMismatch', () => {
      const { store } = relay()
      const challenge = issueChallenge(store, { realm: REALM })
      const other = 'msrps://extra.example.com;tcp'
      const creds = rightOf(answerChallenge(challenge, ALICE, { digestUri: other, nc: 1, includeUri: true }))
      expect(reasonOf(verify(store, creds))).toBe('UriMismatch')
    })

    it('R-9.1-8 fails a response computed over another digest-uri (no uri=) as BadResponse', () => {
      const { store } = relay()
      const challenge = issueChallenge(store, { realm: REALM })
      const creds = rightOf(answerChallenge(challenge, ALICE, { digestUri: 'msrps://extra.example.com;tcp', nc: 1 }))
      expect(reasonOf(verify(store, creds))).toBe('BadResponse')
    })

    it('R-9.1-6 R-9.1-7 fails credentials without qop, nc or cnonce as MissingParameter', () => {
      const { store } = relay()
      const { credentials } = login(store)
      for (const key of ['qop', 'nc', 'cnonce', 'username', 'realm', 'nonce', 'response'] as const) {
        const { [key]: _omitted, ...partial } = credentials
        const r = verify(store, partial)
        expect(reasonOf(r)).toBe('MissingParameter')
        expect(E.isLeft(r) && r.left.detail).toContain(key)
      }
    })

    it('R-9.1-4 refuses credentials with algorithm=MD5-sess; accepts algorithm=MD5', () => {
      const { store } = relay()
      const { credentials } = login(store)
      expect(reasonOf(verify(store, { ...credentials, algorithm: 'MD5-sess' }))).toBe('UnsupportedAlgorithm')
      expect(E.isRight(verify(store, { ...credentials, algorithm: 'MD5' }))).toBe(true)
    })

    it('R-9.1-3 refuses credentials with qop=auth-int', () => {
      const { store } = relay()
      const { credentials } = login(store)
      expect(reasonOf(verify(store, { ...credentials, qop: 'auth-int' }))).toBe('UnsupportedQop')
    })

    it('fails credentials for another realm as RealmMismatch', () => {
      const { store } = relay()
      const { credentials } = login(store)
      expect(reasonOf(verify(store, { ...credentials, realm: 'extra.example.com' }))).toBe('RealmMismatch')
    })

    it('fails nc or response that are not lowercase hex of the right length as InvalidParameter', () => {
      const { store } = relay()
      const { credentials } = login(store)
      for (const bad of [{ nc: '0000000A' }, { nc: '1' }, { response: credentials.response.toUpperCase() }])
        expect(reasonOf(verify(store, { ...credentials, ...bad }))).toBe('InvalidParameter')
    })

    it('never throws on arbitrary credentials', () => {
      const { store } = relay()
      const field = fc.option(fc.string(), { nil: undefined })
      fc.assert(
        fc.property(
          fc.record({ username: field, realm: field, nonce: field, uri: field, response: field, cnonce: field }),
          fc.record({ nc: field, qop: field, algorithm: field, opaque: field }),
          (a, b) => {
            const r = verify(store, { ...a, ...b })
            return E.isLeft(r) && r.left._tag === 'DigestFailure'
          }
        )
      )
    })
  })

  describe('verifyRspauth (client)', () => {
    function exchange(): {
      credentials: DigestCredentials
      info: { rspauth: string; cnonce: string; nc: string; qop: string }
    } {
      const { store } = relay()
      const { credentials } = login(store)
      const { username: _u, ...info } = rightOf(verify(store, credentials))
      return { credentials, info }
    }
    const context = (credentials: DigestCredentials) => ({ credentials, digestUri: DIGEST_URI, password: 'secret' })

    it('R-9.1-9 fails Authentication-Info without rspauth, cnonce, nc or qop as MissingParameter', () => {
      const { credentials, info } = exchange()
      for (const key of ['rspauth', 'cnonce', 'nc', 'qop'] as const) {
        const { [key]: _omitted, ...partial } = info
        expect(reasonOf(verifyRspauth(partial, context(credentials)))).toBe('MissingParameter')
      }
    })

    it('fails a cnonce, nc or qop other than the ones sent as AuthenticationInfoMismatch', () => {
      const { credentials, info } = exchange()
      for (const bad of [{ cnonce: 'other' }, { nc: '00000002' }, { qop: 'auth-int' }])
        expect(reasonOf(verifyRspauth({ ...info, ...bad }, context(credentials)))).toBe('AuthenticationInfoMismatch')
    })

    it('fails an rspauth that does not prove knowledge of the password as BadRspauth', () => {
      const { credentials, info } = exchange()
      const forged = digestRspauth({ ...credentials, username: 'Alice', password: 'guess', digestUri: DIGEST_URI })
      expect(reasonOf(verifyRspauth({ ...info, rspauth: forged }, context(credentials)))).toBe('BadRspauth')
      // The request-digest itself (method AUTH) is not a valid rspauth (empty method).
      expect(reasonOf(verifyRspauth({ ...info, rspauth: credentials.response }, context(credentials)))).toBe(
        'BadRspauth'
      )
    })
  })

  describe('createNonceStore', () => {
    it('keeps at most maxNonces nonces, evicting the oldest first', () => {
      const { store } = relay({ maxNonces: 3 })
      const nonces = Array.from({ length: 10 }, () => store.issue())
      expect(store.size).toBe(3)
      expect(nonces.slice(0, 7).map((n) => store.lookup(n))).toEqual(Array(7).fill(undefined))
      for (const n of nonces.slice(7)) expect(store.lookup(n)).toBeDefined()
    })

    it('fails credentials on an evicted nonce as UnknownNonce', () => {
      const { store } = relay({ maxNonces: 2 })
      const { credentials } = login(store)
      store.issue()
      store.issue()
      expect(reasonOf(verify(store, credentials))).toBe('UnknownNonce')
    })

    it('uses an injected nonce generator, moving a re-issued value to the young end', () => {
      const values = ['a', 'b', 'a', 'c']
      const store = createNonceStore({ maxNonces: 2, newNonce: () => values.shift() ?? 'z', now: () => 0 })
      store.issue()
      store.issue()
      store.issue() // 'a' again: now younger than 'b'
      store.issue() // 'c' evicts 'b'
      expect(store.lookup('a')).toBeDefined()
      expect(store.lookup('b')).toBeUndefined()
      expect(store.lookup('c')).toBeDefined()
    })

    it('records only strictly increasing nonce counts', () => {
      const { store } = relay()
      const nonce = store.issue()
      expect(store.useNonceCount(nonce, 1)).toBe(true)
      expect(store.useNonceCount(nonce, 1)).toBe(false)
      expect(store.useNonceCount(nonce, 3)).toBe(true)
      expect(store.useNonceCount('unknown', 1)).toBe(false)
      expect(store.lookup(nonce)?.lastNc).toBe(3)
    })

    it('throws a RangeError on programmer errors in its options', () => {
      expect(() => createNonceStore({ lifetimeMs: 0 })).toThrow(RangeError)
      expect(() => createNonceStore({ maxNonces: 0 })).toThrow(RangeError)
      expect(() => createNonceStore({ maxNonces: 1.5 })).toThrow(RangeError)
    })
  })
})
