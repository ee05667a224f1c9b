import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  checkPort,
  formatUri,
  isInvalidHost,
  isMsrpUri,
  isNumericHost,
  MsrpUri,
  MsrpUriC,
  parseUri,
  requiresPort,
  UriReason,
  uriEquals
} from '../../src/wire/uri'
import { arbMsrpUri, arbUriLike } from '../arbitraries/uri'

/** Parses or fails the test. */
const uri = (s: string): MsrpUri => {
  const r = parseUri(s)
  if (E.isLeft(r)) throw new Error(`${s}: ${r.left.detail}`)
  return r.right
}

/** The failure reason, or 'ok'. */
const reasonOf = (s: string): UriReason | 'ok' => {
  const r = parseUri(s)
  return E.isLeft(r) ? r.left.reason : 'ok'
}

// Every URI printed in ../shared/spec (rfc4975-core.md, rfc4976-relays.md, rfc7977-websocket.md, related.md).
const SPEC_URIS = [
  'msrp://192.0.2.10:9/s3ss10n1d4ab;tcp',
  'msrp://198.51.100.7:7394/2s93i9ek2a;tcp',
  'msrp://a.example.com:1234/agic456;tcp',
  'msrp://alice.example.com:7394/2s93i93idj;tcp',
  'msrp://alice.example.com:7394/2s93i9ek2a;tcp',
  'msrp://alice.example.com:7777/iau39soe2843z;tcp',
  'msrp://alicepc.example.com:7654/iau39;tcp',
  'msrp://alicepc.example.com:7654/iau39soe2843z;tcp',
  'msrp://alicepc.example.com:7654/jshA7we;tcp',
  'msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'msrp://alicepc.example.com:8888/9di4eae923wzd;tcp',
  'msrp://atlanta.example.com:7654/jshA7we;tcp',
  'msrp://atlanta.example.com:7654/jshA7weztas;tcp',
  'msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp',
  'msrp://bob.example.com:8493/si438dsaodes;tcp',
  'msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'msrp://bobpc.example.com:8888/9di4ea;tcp',
  'msrp://bobpc.example.com:8888/9di4eae923wzd;tcp',
  'msrp://example.com:7777/iau39soe2843z;tcp',
  'msrp://host.example.com:8493/asfd34;tcp',
  'msrps://A.example.com/aaa;tcp',
  'msrps://Alice.example.com/alice;tcp',
  'msrps://B.example.com/bbb;tcp',
  'msrps://Bob.example.com/bob;tcp',
  'msrps://R1...;tcp',
  'msrps://R2;tcp',
  'msrps://a.example.com:2855/iwnslt;tcp',
  'msrps://a.example.com:2855/jui787s2f;tcp',
  'msrps://a.example.org:9000/kjfjan;tcp',
  'msrps://alice.example.com:9892/98cjs;tcp',
  'msrps://alice.example.org:7965/bar;tcp',
  'msrps://alice@a.example.com:443;ws',
  'msrps://alice@intra.example.com;tcp',
  'msrps://atlanta.example.com:7654/jshA7weso3ks;tcp',
  'msrps://b.example.net:9000/aeiug;tcp',
  'msrps://bob.example.com:1234/fuige;tcp',
  'msrps://bob.example.com:49154/foo;tcp',
  'msrps://bob.example.net:8145/foo;tcp',
  'msrps://df7jal23ls0d.invalid/98cjs;ws',
  'msrps://df7jal23ls0d.invalid:2855/98cjs;ws',
  'msrps://extra.example.com:9000/mywdEe1233;tcp',
  'msrps://extra.example.com;tcp',
  'msrps://intra.example.com:9000/jui787s2f;tcp',
  'msrps://jk9awp14vj8x.invalid:2855/76qwe;ws',
  'msrps://relay.example.com:9000/hjdhfha;tcp',
  'msrps://relay.example.net:2855/kwvin5f;tcp'
]

describe('parseUri / formatUri (RFC 4975 §6)', () => {
  it.each(SPEC_URIS)('parses the spec example %s and formats it back unchanged', (s) => {
    expect(formatUri(uri(s))).toBe(s)
  })

  it('splits a relay URI with userinfo and no port or session-id (RFC 4976 §5.1)', () => {
    expect(parseUri('msrps://alice@intra.example.com;tcp')).toEqual(
      E.right({ scheme: 'msrps', userinfo: 'alice', host: 'intra.example.com', transport: 'tcp', params: [] })
    )
  })

  it('splits a WebSocket client URI with the ws transport (RFC 7977 §5.2.1, W-5.2.1-1)', () => {
    expect(parseUri('msrps://df7jal23ls0d.invalid:2855/98cjs;ws')).toEqual(
      E.right({
        scheme: 'msrps',
        host: 'df7jal23ls0d.invalid',
        port: 2855,
        sessionId: '98cjs',
        transport: 'ws',
        params: []
      })
    )
  })

  it('keeps the brackets of an IPv6 literal host', () => {
    expect(parseUri('msrp://[::1]:2855/abc;tcp')).toEqual(
      E.right({ scheme: 'msrp', host: '[::1]', port: 2855, sessionId: 'abc', transport: 'tcp', params: [] })
    )
    expect(uri('msrp://[2001:db8::192.0.2.1]:9/x;tcp').host).toBe('[2001:db8::192.0.2.1]')
    expect(uri('msrp://[1:2:3:4:5:6:7:8]:9;tcp').host).toBe('[1:2:3:4:5:6:7:8]')
    expect(uri('msrp://[::]:9;tcp').host).toBe('[::]')
  })

  it('lower-cases the scheme and the transport, and keeps the host case', () => {
    expect(uri('MSRPS://Relay.Example.COM:2855/AbC;TCP')).toEqual({
      scheme: 'msrps',
      host: 'Relay.Example.COM',
      port: 2855,
      sessionId: 'AbC',
      transport: 'tcp',
      params: []
    })
  })

  it('reads URI parameters after the transport, in order, with and without values', () => {
    expect(uri('msrp://a.example.com:1/s;tcp;foo=bar;baz').params).toEqual([
      ['foo', 'bar'],
      ['baz', undefined]
    ])
    expect(formatUri(uri('msrp://a.example.com:1/s;tcp;foo=bar;baz'))).toBe('msrp://a.example.com:1/s;tcp;foo=bar;baz')
  })

  it('accepts a session-id with "+", "=", "/" and other unreserved characters', () => {
    expect(uri('msrp://a.example.com:1/a+b=c/d-e.f_g~h;tcp').sessionId).toBe('a+b=c/d-e.f_g~h')
  })

  it('accepts an unknown 1*ALPHANUM transport (W-5.2.2-3)', () => {
    expect(uri('msrp://a.example.com:1/s;sctp2').transport).toBe('sctp2')
  })

  it('accepts percent-encoded characters and sub-delims in userinfo and host', () => {
    expect(uri("msrp://a%20b!$&'()*+,=@h%2Eost:1;tcp")).toMatchObject({ userinfo: "a%20b!$&'()*+,=", host: 'h%2Eost' })
  })

  it.each<[string, UriReason]>([
    ['', 'SchemeInvalid'],
    ['http://a.example.com:1/s;tcp', 'SchemeInvalid'],
    ['msrp:a.example.com:1/s;tcp', 'SchemeInvalid'],
    ['msrpx://a.example.com:1/s;tcp', 'SchemeInvalid'],
    [' msrp://a.example.com:1/s;tcp', 'SchemeInvalid'],
    ['msrp://a.example.com:2855/abc', 'TransportMissing'],
    ['msrp://a.example.com:2855', 'TransportMissing'],
    ['msrp://a.example.com:2855/abc;', 'TransportMissing'],
    ['msrp://a.example.com;;tcp', 'TransportMissing'],
    ['msrp://a.example.com:2855/abc;t-cp', 'TransportInvalid'],
    ['msrp://a.example.com:2855/abc;tcp=1', 'TransportInvalid'],
    ['msrp://a.example.com:2855/;tcp', 'SessionIdInvalid'],
    ['msrp://a.example.com:2855/ab c;tcp', 'SessionIdInvalid'],
    ['msrp://a.example.com:2855/ab%20c;tcp', 'SessionIdInvalid'],
    ['msrp://a.example.com:2855/ab?c;tcp', 'SessionIdInvalid'],
    ['msrp://a.example.com:2855/ab#c;tcp', 'SessionIdInvalid'],
    ['msrp://a.example.com:2855/abé;tcp', 'SessionIdInvalid'],
    ['msrp://a.example.com:2855/ab@c;tcp', 'SessionIdInvalid'],
    ['msrp://alice:secret@a.example.com:1;tcp', 'PasswordInUserinfo'],
    ['msrp://alice:@a.example.com:1;tcp', 'PasswordInUserinfo'],
    ['msrp://al ice@a.example.com:1;tcp', 'UserinfoInvalid'],
    ['msrp://al%2@a.example.com:1;tcp', 'UserinfoInvalid'],
    ['msrp://a.example.com:0/s;tcp', 'PortInvalid'],
    ['msrp://a.example.com:65536/s;tcp', 'PortInvalid'],
    ['msrp://a.example.com:/s;tcp', 'PortInvalid'],
    ['msrp://a.example.com:12ab/s;tcp', 'PortInvalid'],
    ['msrp://a.example.com:-1/s;tcp', 'PortInvalid'],
    ['msrp://a.example.com:123456/s;tcp', 'PortInvalid'],
    ['msrp://a.example.com:1:2/s;tcp', 'PortInvalid'],
    ['msrp://[::1]:/s;tcp', 'PortInvalid'],
    ['msrp://;tcp', 'HostInvalid'],
    ['msrp://:2855/s;tcp', 'HostInvalid'],
    ['msrp://alice@:2855/s;tcp', 'HostInvalid'],
    ['msrp://a b.example.com:1/s;tcp', 'HostInvalid'],
    ['msrp://a@b@c:1/s;tcp', 'HostInvalid'],
    ['msrp://exämple.com:1/s;tcp', 'HostInvalid'],
    ['msrp://[::1/s;tcp', 'HostInvalid'],
    ['msrp://[::1]x/s;tcp', 'HostInvalid'],
    ['msrp://[::g]:1/s;tcp', 'HostInvalid'],
    ['msrp://[]:1/s;tcp', 'HostInvalid'],
    ['msrp://[1:2:3:4:5:6:7:8:9]:1/s;tcp', 'HostInvalid'],
    ['msrp://[1:2:3:4:5:6:7]:1/s;tcp', 'HostInvalid'],
    ['msrp://[1::2::3]:1/s;tcp', 'HostInvalid'],
    ['msrp://[1:2:3:4:5:6:7::8]:1/s;tcp', 'HostInvalid'],
    ['msrp://[12345::]:1/s;tcp', 'HostInvalid'],
    ['msrp://[1.2.3.4::]:1/s;tcp', 'HostInvalid'],
    ['msrp://[::1.2.3.256]:1/s;tcp', 'HostInvalid'],
    ['msrp://[v1.x]:1/s;tcp', 'HostInvalid'],
    ['msrp://a.example.com:1/s;tcp;', 'ParameterInvalid'],
    ['msrp://a.example.com:1/s;tcp;a=b=c', 'ParameterInvalid'],
    ['msrp://a.example.com:1/s;tcp;=x', 'ParameterInvalid'],
    ['msrp://a.example.com:1/s;tcp;a=', 'ParameterInvalid'],
    ['msrp://a.example.com:1/s;tcp;a b', 'ParameterInvalid'],
    ['msrp://a.example.com:1/s;tcp;a/b', 'ParameterInvalid']
  ])('rejects %j with %s', (s, reason) => {
    expect(reasonOf(s)).toBe(reason)
  })

  it('rejects a password in the userinfo with a detail naming C-6-4', () => {
    const r = parseUri('msrp://alice:secret@a.example.com:1;tcp')
    expect(E.isLeft(r) && r.left.detail).toContain('C-6-4')
  })

  it('never throws, whatever the input', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof parseUri(s)._tag === 'string'))
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => typeof parseUri(s)._tag === 'string'))
    fc.assert(fc.property(arbUriLike, (s) => typeof parseUri(s)._tag === 'string'))
    expect(E.isLeft(parseUri(undefined as unknown as string))).toBe(true)
  })

  it('parses what it formats: parseUri(formatUri(u)) is right(u)', () => {
    fc.assert(fc.property(arbMsrpUri, (u) => expect(parseUri(formatUri(u))).toEqual(E.right(u))))
  })

  it('formats what it parses back to the same URI (canonical form is stable)', () => {
    fc.assert(
      fc.property(arbUriLike, (s) => {
        const r = parseUri(s)
        if (E.isRight(r)) expect(parseUri(formatUri(r.right))).toEqual(r)
      })
    )
  })
})

describe('numeric hosts and ports (RFC 4975 §6, C-6-2)', () => {
  it('parses a numeric IP authority without a port, so one bad hop does not hide a whole path', () => {
    expect(uri('msrp://192.0.2.1/s;tcp').port).toBeUndefined()
    expect(uri('msrp://[::1]/s;tcp').port).toBeUndefined()
  })

  it('C-6-2: requiresPort is true for IPv4 and IPv6 hosts only', () => {
    expect(requiresPort(uri('msrp://192.0.2.1/s;tcp'))).toBe(true)
    expect(requiresPort(uri('msrp://[2001:db8::1]/s;tcp'))).toBe(true)
    expect(requiresPort(uri('msrp://host.example.com/s;tcp'))).toBe(false)
    expect(requiresPort(uri('msrps://df7jal23ls0d.invalid/98cjs;ws'))).toBe(false)
    // 999 is not an IPv4 octet: this is a reg-name
    expect(isNumericHost('1.2.3.999')).toBe(false)
    expect(isNumericHost('1.2.3.4')).toBe(true)
  })

  it('C-6-2: checkPort fails with PortRequired for a numeric IP without a port, and passes otherwise', () => {
    const failed = checkPort(uri('msrp://192.0.2.1/s;tcp'))
    expect(E.isLeft(failed) && failed.left.reason).toBe('PortRequired')
    expect(E.isLeft(checkPort(uri('msrp://[::1]/s;tcp')))).toBe(true)
    expect(checkPort(uri('msrp://192.0.2.1:2855/s;tcp'))).toEqual(E.right(uri('msrp://192.0.2.1:2855/s;tcp')))
    expect(E.isRight(checkPort(uri('msrps://df7jal23ls0d.invalid/98cjs;ws')))).toBe(true)
  })
})

describe('isInvalidHost (RFC 7977 Appendix A, W-A-1)', () => {
  it.each([
    ['df7jal23ls0d.invalid', true],
    ['JK9AWP14VJ8X.INVALID', true],
    ['x.invalid.', true],
    ['x.%69nvalid', true],
    ['invalid', true],
    ['a.example.com', false],
    ['invalid.example.com', false],
    ['xinvalid', false],
    ['[::1]', false]
  ])('%s → %s', (host, expected) => {
    expect(isInvalidHost(host)).toBe(expected)
  })
})

describe('uriEquals (RFC 4975 §6.1, C-6.1-1)', () => {
  const base = 'msrp://host.example.com:7654/jshA7we;tcp'

  it('rule 1 (C-6.1-1): schemes compare case-insensitively, and msrp never equals msrps', () => {
    expect(uriEquals(uri('MSRP://host.example.com:7654/jshA7we;tcp'), uri(base))).toBe(true)
    expect(uriEquals(uri('msrps://host.example.com:7654/jshA7we;tcp'), uri(base))).toBe(false)
  })

  it('rule 2 (C-6.1-1): hosts compare case-insensitively', () => {
    expect(uriEquals(uri('msrp://HOST.Example.COM:7654/jshA7we;tcp'), uri(base))).toBe(true)
    expect(uriEquals(uri('msrp://other.example.com:7654/jshA7we;tcp'), uri(base))).toBe(false)
  })

  it('rule 2 (C-6.1-1): percent-encoded unreserved characters are decoded before comparing', () => {
    expect(uriEquals(uri('msrp://%68ost%2Eexample.com:7654/jshA7we;tcp'), uri(base))).toBe(true)
    expect(uriEquals(uri('msrp://%48OST.example.com:7654/jshA7we;tcp'), uri(base))).toBe(true)
    // "!" is a sub-delim, not unreserved: %21 stays encoded and differs from a literal "!"
    expect(uriEquals(uri('msrp://a%21b:1;tcp'), uri('msrp://a!b:1;tcp'))).toBe(false)
    expect(uriEquals(uri('msrp://a%2fb:1;tcp'), uri('msrp://a%2Fb:1;tcp'))).toBe(true)
  })

  it('rule 2 (C-6.1-1): userinfo is ignored', () => {
    expect(uriEquals(uri('msrp://alice@host.example.com:7654/jshA7we;tcp'), uri(base))).toBe(true)
    expect(
      uriEquals(
        uri('msrp://alice@host.example.com:7654/jshA7we;tcp'),
        uri('msrp://bob@host.example.com:7654/jshA7we;tcp')
      )
    ).toBe(true)
  })

  it('rule 2 (C-6.1-1): IP addresses compare as addresses (IPv6 text forms)', () => {
    expect(uriEquals(uri('msrp://[::1]:9/s;tcp'), uri('msrp://[0:0:0:0:0:0:0:1]:9/s;tcp'))).toBe(true)
    expect(uriEquals(uri('msrp://[2001:DB8::A]:9/s;tcp'), uri('msrp://[2001:db8:0::a]:9/s;tcp'))).toBe(true)
    expect(uriEquals(uri('msrp://[::ffff:192.0.2.1]:9/s;tcp'), uri('msrp://[::ffff:c000:201]:9/s;tcp'))).toBe(true)
    expect(uriEquals(uri('msrp://[::1]:9/s;tcp'), uri('msrp://[::2]:9/s;tcp'))).toBe(false)
    expect(uriEquals(uri('msrp://192.0.2.1:9/s;tcp'), uri('msrp://192.0.2.2:9/s;tcp'))).toBe(false)
  })

  it('rule 3 (C-6.1-1): explicit ports must match exactly', () => {
    expect(uriEquals(uri('msrp://host.example.com:07654/jshA7we;tcp'), uri(base))).toBe(true)
    expect(uriEquals(uri('msrp://host.example.com:7655/jshA7we;tcp'), uri(base))).toBe(false)
  })

  it('rule 3 (C-6.1-1): a URI with an explicit port never equals one without, even the default 2855', () => {
    expect(uriEquals(uri('msrp://host.example.com/jshA7we;tcp'), uri(base))).toBe(false)
    expect(uriEquals(uri('msrp://host.example.com/jshA7we;tcp'), uri('msrp://host.example.com:2855/jshA7we;tcp'))).toBe(
      false
    )
    expect(uriEquals(uri('msrp://host.example.com/jshA7we;tcp'), uri('msrp://host.example.com/jshA7we;tcp'))).toBe(true)
  })

  it('rule 4 (C-6.1-1): session-ids compare case-sensitively', () => {
    expect(uriEquals(uri('msrp://host.example.com:7654/JSHA7WE;tcp'), uri(base))).toBe(false)
    expect(uriEquals(uri('msrp://host.example.com:7654/jshA7we;tcp'), uri(base))).toBe(true)
  })

  it('rule 4 (C-6.1-1): a URI without a session-id never equals one with a session-id', () => {
    expect(uriEquals(uri('msrp://host.example.com:7654;tcp'), uri(base))).toBe(false)
  })

  it('rule 5 (C-6.1-1): transports compare case-insensitively, and tcp never equals ws (W-5.2.1-1)', () => {
    expect(uriEquals({ ...uri(base), transport: 'TCP' }, uri(base))).toBe(true)
    expect(uriEquals(uri('msrp://host.example.com:7654/jshA7we;TCP'), uri(base))).toBe(true)
    expect(uriEquals(uri('msrp://host.example.com:7654/jshA7we;ws'), uri(base))).toBe(false)
  })

  it('ignores URI parameters other than the transport (inferred)', () => {
    expect(uriEquals(uri('msrp://host.example.com:7654/jshA7we;tcp;foo=bar'), uri(base))).toBe(true)
  })

  it('is reflexive and symmetric, and ignores userinfo, host case and extra parameters', () => {
    fc.assert(fc.property(arbMsrpUri, (u) => uriEquals(u, u)))
    fc.assert(fc.property(arbMsrpUri, arbMsrpUri, (a, b) => uriEquals(a, b) === uriEquals(b, a)))
    fc.assert(
      fc.property(arbMsrpUri, (u) =>
        uriEquals(u, { ...u, userinfo: 'someone', host: u.host.toUpperCase(), params: [['x', 'y']] })
      )
    )
    fc.assert(fc.property(arbMsrpUri, (u) => !uriEquals(u, { ...u, port: u.port === undefined ? 2855 : undefined })))
  })
})

describe('MsrpUriC', () => {
  it('decodes with parseUri and encodes with formatUri', () => {
    const s = 'msrps://df7jal23ls0d.invalid:2855/98cjs;ws'
    expect(MsrpUriC.decode(s)).toEqual(parseUri(s))
    expect(MsrpUriC.encode(uri(s))).toBe(s)
  })

  it('fails with the UriFailure detail as message', () => {
    const r = MsrpUriC.decode('msrp://a.example.com:1/s')
    expect(E.isLeft(r) && r.left[0]?.message).toMatch(/transport/)
  })

  it('round-trips every arbitrary URI and recognises it with is()', () => {
    fc.assert(
      fc.property(arbMsrpUri, (u) => {
        expect(MsrpUriC.decode(MsrpUriC.encode(u))).toEqual(E.right(u))
        expect(MsrpUriC.is(u)).toBe(true)
      })
    )
  })

  it('is() rejects values that are not MsrpUri-shaped', () => {
    expect(isMsrpUri('msrp://a;tcp')).toBe(false)
    expect(isMsrpUri({ scheme: 'http', host: 'a', transport: 'tcp', params: [] })).toBe(false)
    expect(isMsrpUri({ scheme: 'msrp', host: 'a', transport: 'tcp', params: [['a']] })).toBe(false)
    expect(isMsrpUri({ scheme: 'msrp', host: 'a', transport: 'tcp', port: 1.5, params: [] })).toBe(false)
    expect(isMsrpUri({ scheme: 'msrp', host: 'a', transport: 'tcp', params: [] })).toBe(true)
  })

  it('never throws on any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => typeof MsrpUriC.decode(s)._tag === 'string'))
  })
})
