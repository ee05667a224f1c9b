import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { AuthenticationInfo, DigestChallenge, DigestCredentials } from '../../../src/wire/headers'
import { arbAuthenticationInfo, arbDigestChallenge, arbDigestCredentials } from '../../arbitraries/headers'

const messageOf = <A>(r: E.Either<readonly { message?: string }[], A>): string | undefined =>
  E.isLeft(r) ? r.left[0]?.message : undefined

describe('WWW-Authenticate (RFC 4976 §7, §9.1)', () => {
  it('decodes the RFC 4976 §10.3 challenge', () => {
    expect(
      DigestChallenge.decode('Digest realm="intra.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"')
    ).toEqual(
      E.right({
        realm: 'intra.example.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: ['auth']
      })
    )
  })

  it('decodes the RFC 7977 §8.1.2 challenge and encodes it back byte for byte', () => {
    const s = 'Digest realm="example.com", nonce="UvtfpVL7XnnJ63EE244fXDthfLihlMHOY4+dd4A=", qop="auth"'
    const r = DigestChallenge.decode(s)
    expect(r).toEqual(
      E.right({
        realm: 'example.com',
        nonce: 'UvtfpVL7XnnJ63EE244fXDthfLihlMHOY4+dd4A=',
        qop: ['auth']
      })
    )
    expect(E.isRight(r) && DigestChallenge.encode(r.right)).toBe(s)
  })

  it('reads optional parameters, case-insensitive names and scheme, and keeps unknown ones', () => {
    const r = DigestChallenge.decode(
      'DIGEST Realm="r",NONCE="n" ,  qop="auth,auth-int", opaque="o", stale=TRUE, algorithm=MD5, domain="/x", X-Ext=v'
    )
    expect(r).toEqual(
      E.right({
        realm: 'r',
        nonce: 'n',
        qop: ['auth', 'auth-int'],
        opaque: 'o',
        stale: true,
        algorithm: 'MD5',
        domain: '/x',
        otherParams: [['x-ext', 'v']]
      })
    )
  })

  it('encodes qop quoted, stale and algorithm bare, with ", " separators', () => {
    expect(
      DigestChallenge.encode({
        realm: 'r',
        nonce: 'n',
        qop: ['auth', 'auth-int'],
        stale: false,
        algorithm: 'MD5',
        otherParams: [['x', 'y']]
      })
    ).toBe('Digest realm="r", nonce="n", qop="auth,auth-int", stale=false, algorithm=MD5, x="y"')
  })

  it.each([
    ['Digest nonce="n", qop="auth"', /missing mandatory parameter realm .*R-9\.1-6/],
    ['Digest realm="r", qop="auth"', /missing mandatory parameter nonce/],
    ['Digest realm="r", nonce="n"', /missing mandatory parameter qop/],
    ['Digest stale=true', /missing mandatory parameters realm, nonce, qop/],
    ['Basic realm="r"', /"Digest".*R-9\.1-2/],
    ['Digest', /"Digest"/],
    ['Digestrealm="r", nonce="n", qop="auth"', /"Digest"/],
    ['', /"Digest"/],
    ['Digest realm="r", realm="s", nonce="n", qop="auth"', /"realm" occurs twice/],
    ['Digest realm="r" nonce="n", qop="auth"', /expected ","/],
    ['Digest realm="r",, nonce="n", qop="auth"', /name=value/],
    ['Digest realm="r", nonce="n", qop="auth",', /name=value/],
    ['Digest realm, nonce="n", qop="auth"', /"realm" has no "=value"/],
    ['Digest realm="r, nonce="n", qop="auth"', /expected ","|no valid/],
    ['Digest realm="r\\x", nonce="n", qop="auth"', /"realm" has no valid/],
    ['Digest realm=a b, nonce="n", qop="auth"', /expected ","/],
    ['Digest realm="r", nonce="n", qop="auth,"', /qop must be a comma-separated list of tokens/],
    ['Digest realm="r", nonce="n", qop="auth", stale=maybe', /stale must be "true" or "false"/],
    ['Digest realm="r", nonce="n", qop="auth", algorithm="M D5"', /algorithm must be a token/]
  ])('rejects %j', (s, message) => {
    expect(messageOf(DigestChallenge.decode(s))).toMatch(message)
  })

  it('round-trips any challenge', () => {
    fc.assert(
      fc.property(arbDigestChallenge, (c) => {
        expect(DigestChallenge.is(c)).toBe(true)
        expect(DigestChallenge.decode(DigestChallenge.encode(c))).toEqual(E.right(c))
      })
    )
  })
  it('is() rejects unencodable challenges', () => {
    const c = { realm: 'r', nonce: 'n', qop: ['auth'] }
    expect(DigestChallenge.is(c)).toBe(true)
    expect(DigestChallenge.is({ ...c, qop: [] })).toBe(false)
    expect(DigestChallenge.is({ ...c, qop: ['a b'] })).toBe(false)
    expect(DigestChallenge.is({ ...c, realm: 'a\r\nb' })).toBe(false)
    expect(DigestChallenge.is({ ...c, stale: 'true' })).toBe(false)
    expect(DigestChallenge.is({ ...c, otherParams: [['X', 'v']] })).toBe(false)
    expect(
      DigestChallenge.is({
        ...c,
        otherParams: [
          ['x', 'v'],
          ['x', 'w']
        ]
      })
    ).toBe(false)
    expect(DigestChallenge.is(null)).toBe(false)
  })
})

describe('Authorization (RFC 4976 §7, §9.1)', () => {
  it('decodes the RFC 4976 §10.3 credentials', () => {
    expect(
      DigestCredentials.decode(
        'Digest username="Alice", realm="intra.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1"'
      )
    ).toEqual(
      E.right({
        username: 'Alice',
        realm: 'intra.example.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
        response: '6629fae49393a05397450978507c4ef1'
      })
    )
  })

  it('decodes the RFC 7977 §8.1.2 credentials with their uri= parameter and encodes them in RFC 4976 order', () => {
    const r = DigestCredentials.decode(
      'Digest username="alice", realm="example.com", nonce="UvtfpVL7XnnJ63EE244fXDthfLihlMHOY4+dd4A=", uri="msrps://alice@a.example.com:443;ws", response="5011d0d58fe975e0d0cdc007ae26f4b7", qop=auth, cnonce="zic5ml401prb", nc=00000001'
    )
    expect(E.isRight(r) && r.right.uri).toBe('msrps://alice@a.example.com:443;ws')
    expect(E.isRight(r) && DigestCredentials.encode(r.right)).toBe(
      'Digest username="alice", realm="example.com", nonce="UvtfpVL7XnnJ63EE244fXDthfLihlMHOY4+dd4A=", uri="msrps://alice@a.example.com:443;ws", response="5011d0d58fe975e0d0cdc007ae26f4b7", cnonce="zic5ml401prb", qop=auth, nc=00000001'
    )
  })

  it('encodes nc and qop bare, and the others quoted', () => {
    const s = DigestCredentials.encode({
      username: 'u',
      realm: 'r',
      nonce: 'n',
      response: '0123456789abcdef0123456789abcdef',
      cnonce: 'c',
      nc: '00000abc',
      qop: 'auth',
      algorithm: 'MD5',
      opaque: 'o'
    })
    expect(s).toBe(
      'Digest username="u", realm="r", nonce="n", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="c", opaque="o", qop=auth, nc=00000abc'
    )
  })

  const valid = {
    username: 'username="u"',
    realm: 'realm="r"',
    nonce: 'nonce="n"',
    response: 'response="0123456789abcdef0123456789abcdef"',
    cnonce: 'cnonce="c"',
    qop: 'qop=auth',
    nc: 'nc=00000001'
  }
  const without = (name: keyof typeof valid): string =>
    `Digest ${Object.entries(valid)
      .filter(([k]) => k !== name)
      .map(([, v]) => v)
      .join(', ')}`

  it.each(Object.keys(valid) as (keyof typeof valid)[])('rejects credentials without %s (R-9.1-6, R-9.1-7)', (name) => {
    expect(messageOf(DigestCredentials.decode(without(name)))).toMatch(
      new RegExp(`missing mandatory parameter ${name} .*R-9\\.1-7`)
    )
  })

  it.each([
    ['response="0123456789ABCDEF0123456789ABCDEF"', /response must be 32 lower-case hex digits/],
    ['response="0123"', /response must be 32 lower-case hex digits/],
    ['nc=0000000A', /nc must be 8 lower-case hex digits/],
    ['nc=1', /nc must be 8 lower-case hex digits/],
    ['nc=000000001', /nc must be 8 lower-case hex digits/],
    ['qop="a b"', /qop must be a token/],
    ['algorithm="a b"', /algorithm must be a token/]
  ])('rejects a bad value: %s', (param, message) => {
    const key = param.slice(0, param.indexOf('='))
    const others = Object.entries(valid)
      .filter(([k]) => k !== key)
      .map(([, v]) => v)
    expect(messageOf(DigestCredentials.decode(`Digest ${[...others, param].join(', ')}`))).toMatch(message)
  })

  it('accepts quoted qop and nc (quoting is not significant) and unquoted username', () => {
    const r = DigestCredentials.decode(
      'Digest username=u, realm="r", nonce="n", response="0123456789abcdef0123456789abcdef", cnonce="c", qop="auth", nc="00000002"'
    )
    expect(E.isRight(r) && [r.right.username, r.right.qop, r.right.nc]).toEqual(['u', 'auth', '00000002'])
  })

  it('round-trips any credentials', () => {
    fc.assert(
      fc.property(arbDigestCredentials, (c) => {
        expect(DigestCredentials.is(c)).toBe(true)
        expect(DigestCredentials.decode(DigestCredentials.encode(c))).toEqual(E.right(c))
      })
    )
  })

  it('is() rejects an out-of-range nc and an unknown parameter that shadows a known one', () => {
    const c = {
      username: 'u',
      realm: 'r',
      nonce: 'n',
      response: '0123456789abcdef0123456789abcdef',
      cnonce: 'c',
      nc: '00000001',
      qop: 'auth'
    }
    expect(DigestCredentials.is(c)).toBe(true)
    expect(DigestCredentials.is({ ...c, nc: 1 })).toBe(false)
    expect(DigestCredentials.is({ ...c, nc: '0000000A' })).toBe(false)
    expect(DigestCredentials.is({ ...c, otherParams: [['realm', 'x']] })).toBe(false)
  })
})

describe('Authentication-Info (RFC 4976 §7, §9.1)', () => {
  it('decodes the RFC 4976 §10.3 value with its ",rspauth" (no space after the comma)', () => {
    expect(
      AuthenticationInfo.decode(
        'nextnonce="40f2e879449675f288476d772627370a",rspauth="7327570c586207eca2afae94fc20903d", cnonce="0a4f113b", nc=00000001, qop=auth'
      )
    ).toEqual(
      E.right({
        nextnonce: '40f2e879449675f288476d772627370a',
        rspauth: '7327570c586207eca2afae94fc20903d',
        cnonce: '0a4f113b',
        nc: '00000001',
        qop: 'auth'
      })
    )
  })

  it('encodes with ", " separators, qop and nc bare', () => {
    expect(AuthenticationInfo.encode({ nextnonce: 'x', qop: 'auth', rspauth: 'ab', cnonce: 'c', nc: '00000001' })).toBe(
      'nextnonce="x", qop=auth, rspauth="ab", cnonce="c", nc=00000001'
    )
  })

  it.each([
    ['nextnonce="x"', /missing mandatory parameters rspauth, cnonce, nc, qop .*R-9\.1-9/],
    ['rspauth="ab", cnonce="c", nc=00000001', /missing mandatory parameter qop/],
    ['qop=auth, cnonce="c", nc=00000001', /missing mandatory parameter rspauth/],
    ['qop=auth, rspauth="AB", cnonce="c", nc=00000001', /rspauth must be lower-case hex/],
    ['qop=auth, rspauth="ab", cnonce="c", nc=1', /nc must be 8 lower-case hex/],
    ['Digest qop=auth, rspauth="ab", cnonce="c", nc=00000001', /"Digest" has no "=value"/],
    ['', /name=value/]
  ])('rejects %j', (s, message) => {
    expect(messageOf(AuthenticationInfo.decode(s))).toMatch(message)
  })

  it('round-trips any value', () => {
    fc.assert(
      fc.property(arbAuthenticationInfo, (a) => {
        expect(AuthenticationInfo.is(a)).toBe(true)
        expect(AuthenticationInfo.decode(AuthenticationInfo.encode(a))).toEqual(E.right(a))
      })
    )
  })
  it('is() rejects unencodable values', () => {
    const a = { qop: 'auth', rspauth: 'ab', cnonce: 'c', nc: '00000001' }
    expect(AuthenticationInfo.is(a)).toBe(true)
    expect(AuthenticationInfo.is({ ...a, rspauth: 'AB' })).toBe(false)
    expect(AuthenticationInfo.is({ ...a, nc: 1 })).toBe(false)
    expect(AuthenticationInfo.is({ ...a, qop: undefined })).toBe(false)
    expect(AuthenticationInfo.is('qop=auth')).toBe(false)
  })
})

describe('Digest headers never throw', () => {
  const digestish = fc
    .array(
      fc.tuple(
        fc.constantFrom('realm', 'nonce', 'qop', 'nc', 'response', 'cnonce', 'username', 'rspauth', 'stale', 'x'),
        fc.oneof(
          fc.string(),
          fc.string().map((v) => `"${v}"`)
        )
      ),
      { maxLength: 8 }
    )
    .map((ps) => ps.map(([n, v]) => `${n}=${v}`).join(', '))
  const inputs = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    digestish,
    digestish.map((s) => `Digest ${s}`)
  )

  it.each([
    ['WWW-Authenticate', DigestChallenge],
    ['Authorization', DigestCredentials],
    ['Authentication-Info', AuthenticationInfo]
  ] as const)('%s: decode never throws, and what it decodes round-trips', (_name, codec) => {
    const c = codec as unknown as typeof DigestChallenge
    fc.assert(
      fc.property(inputs, (s) => {
        const r = c.decode(s)
        if (E.isRight(r)) expect(c.decode(c.encode(r.right))).toEqual(r)
      })
    )
  })
})
