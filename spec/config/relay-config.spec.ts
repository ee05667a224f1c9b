import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import {
  DEFAULT_REALM,
  DEMO_USER_NAME,
  decodeRelayConfig,
  formatConfigError,
  parseListenAddress,
  parseUserFlag,
  resolveRelayConfig,
  type RelayConfigFile
} from '../../src/config/relay-config'

const errorsOf = (u: unknown): string[] => {
  const r = decodeRelayConfig(u)
  return E.isLeft(r) ? r.left.map(formatConfigError) : []
}

const decoded = (u: unknown): RelayConfigFile => {
  const r = decodeRelayConfig(u)
  if (E.isLeft(r)) throw new Error(r.left.map(formatConfigError).join('\n'))
  return r.right
}

describe('parseListenAddress', () => {
  it('reads IPv4, host names and bracketed IPv6, port 0 included', () => {
    expect(parseListenAddress('127.0.0.1:2855')).toEqual(E.right({ host: '127.0.0.1', port: 2855 }))
    expect(parseListenAddress('localhost:0')).toEqual(E.right({ host: 'localhost', port: 0 }))
    expect(parseListenAddress('[::1]:8443')).toEqual(E.right({ host: '::1', port: 8443 }))
  })

  it.each(['127.0.0.1', ':2855', '::1:2855', '[127.0.0.1]:1', '127.0.0.1:65536', '127.0.0.1:08', 'a b:1', '[::1]'])(
    'refuses %j with a message naming it',
    (s) => {
      const r = parseListenAddress(s)
      expect(E.isLeft(r)).toBe(true)
      if (E.isLeft(r)) expect(r.left).toContain(JSON.stringify(s))
    }
  )

  it('never throws, whatever the string', () => {
    fc.assert(fc.property(fc.string(), (s) => E.isLeft(parseListenAddress(s)) || E.isRight(parseListenAddress(s))))
  })
})

describe('parseUserFlag', () => {
  it('splits NAME:PASSWORD at the first colon', () => {
    expect(parseUserFlag('alice:pa:ss')).toEqual(E.right({ name: 'alice', password: 'pa:ss' }))
  })

  it.each(['alice', 'alice:', ':pw', 'al ice:pw'])('refuses %j', (s) => {
    expect(E.isLeft(parseUserFlag(s))).toBe(true)
  })
})

describe('decodeRelayConfig', () => {
  it('decodes a complete file', () => {
    expect(
      decoded({
        listen: { tcp: ['127.0.0.1:2855', '[::1]:2855'], wss: ['127.0.0.1:0'] },
        host: 'relay.example.com',
        realm: 'example.com',
        tls: { cert: 'c.pem', key: 'k.pem' },
        users: { alice: { password: 'x' }, bob: { ha1: '0123456789ABCDEF0123456789abcdef' }, carol: 'y' },
        allowedOrigins: ['https://chat.example.com'],
        metrics: '127.0.0.1:9090',
        log: { level: 'debug' },
        limits: { defaultExpiresSec: 900, maxFailedAuth: 3 }
      })
    ).toEqual({
      listen: {
        tcp: [
          { host: '127.0.0.1', port: 2855 },
          { host: '::1', port: 2855 }
        ],
        wss: [{ host: '127.0.0.1', port: 0 }]
      },
      host: 'relay.example.com',
      realm: 'example.com',
      tls: { cert: 'c.pem', key: 'k.pem' },
      users: { alice: { password: 'x' }, bob: { ha1: '0123456789abcdef0123456789abcdef' }, carol: { password: 'y' } },
      allowedOrigins: ['https://chat.example.com'],
      metrics: { host: '127.0.0.1', port: 9090 },
      log: { level: 'debug' },
      limits: { defaultExpiresSec: 900, maxFailedAuth: 3 }
    })
  })

  it('takes an empty file (null from YAML) and keys without a value as no setting', () => {
    expect(decoded(null)).toEqual({})
    expect(decoded({ host: null, listen: { tcp: null } })).toEqual({ listen: {} })
  })

  it('MUST refuse unknown keys at any depth, naming their path', () => {
    expect(errorsOf({ listne: {} })).toEqual([
      'listne: unknown key (expected one of listen, host, realm, tls, users, allowedOrigins, metrics, log, limits)'
    ])
    expect(errorsOf({ listen: { udp: [] } })).toEqual(['listen.udp: unknown key (expected one of tcp, tls, ws, wss)'])
    expect(errorsOf({ users: { alice: { password: 'x', admin: true } } })).toEqual([
      'users.alice.admin: unknown key (expected password or ha1)'
    ])
    expect(errorsOf({ limits: { expires: 1 } })[0]).toMatch(/^limits\.expires: unknown key/)
  })

  it('names the path of each bad value, with what was expected and what was found', () => {
    expect(
      errorsOf({
        listen: { tcp: ['127.0.0.1:2855', 'nope'] },
        realm: 7,
        users: { bob: { ha1: 'xyz' } },
        metrics: 9090,
        log: { level: 'loud' },
        limits: { defaultExpiresSec: -1 }
      })
    ).toEqual([
      'listen.tcp[1]: expected HOST:PORT (IPv6 as [ADDRESS]:PORT), got "nope"',
      'realm: expected a realm, got 7',
      'users.bob.ha1: expected 32 hex digits (MD5 of user:realm:password), got "xyz"',
      'metrics: expected HOST:PORT, got 9090',
      'log.level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'limits.defaultExpiresSec: expected an integer ≥ 1, got -1'
    ])
  })

  it('refuses a file that is not an object, and a wildcard or bad host', () => {
    expect(errorsOf('listen: x')).toEqual(['(the config): expected a relay config (an object), got "listen: x"'])
    expect(errorsOf([])[0]).toMatch(/^\(the config\): expected a relay config/)
    expect(errorsOf({ host: '0.0.0.0' })[0]).toMatch(/^host: a wildcard address/)
    expect(errorsOf({ host: 'a b' })[0]).toMatch(/^host: expected a host name or address, got "a b"/)
  })

  it('takes the forwarding chunk limits (R-6.4.1-4, W-5.1-3) and refuses a zero', () => {
    const r = decodeRelayConfig({ limits: { wsChunkBytes: 4096, maxForwardChunkBytes: 8192 } })
    expect(E.isRight(r) && r.right.limits).toEqual({ wsChunkBytes: 4096, maxForwardChunkBytes: 8192 })
    expect(errorsOf({ limits: { maxForwardChunkBytes: 0 } })).toEqual([
      'limits.maxForwardChunkBytes: expected an integer ≥ 1, got 0'
    ])
  })

  it('refuses limits where the minimum Expires is above the maximum', () => {
    expect(errorsOf({ limits: { minExpiresSec: 60, maxExpiresSec: 30 } })).toEqual([
      'limits.minExpiresSec: is above limits.maxExpiresSec (30)'
    ])
  })

  it('never throws, whatever JSON value it is given', () => {
    fc.assert(fc.property(fc.jsonValue(), (u) => E.isLeft(decodeRelayConfig(u)) || E.isRight(decodeRelayConfig(u))))
  })
})

describe('resolveRelayConfig', () => {
  const resolve = (file: RelayConfigFile, overrides: Parameters<typeof resolveRelayConfig>[1] = {}) => {
    const r = resolveRelayConfig(file, overrides, 'secret0')
    if (E.isLeft(r)) throw new Error(r.left.map(formatConfigError).join('\n'))
    return r.right
  }

  it('is the embedded default without file or flags: four loopback listeners, a demo user, a generated certificate', () => {
    expect(resolve({})).toEqual({
      listen: {
        tcp: [{ host: '127.0.0.1', port: 2855 }],
        tls: [{ host: '127.0.0.1', port: 2856 }],
        ws: [{ host: '127.0.0.1', port: 8080 }],
        wss: [{ host: '127.0.0.1', port: 8443 }]
      },
      host: undefined,
      realm: DEFAULT_REALM,
      tls: undefined,
      users: { [DEMO_USER_NAME]: { password: 'secret0' } },
      demo: { name: DEMO_USER_NAME, password: 'secret0' },
      allowedOrigins: undefined,
      metrics: undefined,
      logLevel: 'info',
      limits: {}
    })
  })

  it("opens only the file's listeners, and only the flags' ones when a listener flag is given", () => {
    const file = decoded({ listen: { ws: ['127.0.0.1:1'] } })
    expect(resolve(file).listen).toEqual({ tcp: [], tls: [], ws: [{ host: '127.0.0.1', port: 1 }], wss: [] })
    expect(resolve(file, { tcp: [{ host: '::1', port: 0 }] }).listen).toEqual({
      tcp: [{ host: '::1', port: 0 }],
      tls: [],
      ws: [],
      wss: []
    })
  })

  it('lets flags win over the file, field by field', () => {
    const file = decoded({ realm: 'file', host: 'file.example', users: { a: 'x' }, metrics: '127.0.0.1:1' })
    const r = resolve(file, { realm: 'flag', users: [{ name: 'b', password: 'y' }] })
    expect(r.realm).toBe('flag')
    expect(r.host).toBe('file.example')
    expect(r.users).toEqual({ b: { password: 'y' } })
    expect(r.demo).toBeUndefined()
    expect(r.metrics).toEqual({ host: '127.0.0.1', port: 1 })
  })

  it('refuses a certificate without key, no listener at all, and a wildcard listener without a host name', () => {
    const errors = (file: RelayConfigFile, overrides = {}): string[] => {
      const r = resolveRelayConfig(file, overrides, 'x')
      return E.isLeft(r) ? r.left.map(formatConfigError) : []
    }
    expect(errors({}, { cert: 'c.pem' })).toEqual(['--key: is required with a certificate'])
    expect(errors(decoded({ tls: { key: 'k.pem' } }))).toEqual(['tls.cert: is required with a key'])
    expect(errors(decoded({ listen: {} }))).toEqual(['listen: no listener to open'])
    expect(errors({}, { ws: [{ host: '0.0.0.0', port: 1 }] })).toEqual([
      "--ws: 0.0.0.0:1 listens on every interface: give the relay's host name with --host or host"
    ])
    expect(errors({}, { ws: [{ host: '0.0.0.0', port: 1 }], host: 'relay.example' })).toEqual([])
  })
})
