import * as E from 'fp-ts/Either'
import { createRegistry, REGISTRY_MAX_BINDINGS, REGISTRY_SESSION_ID_ATTEMPTS } from '../../src/relay/registry'
import type { RelayConnection } from '../../src/relay/types'
import { memoryPair } from '../../src/transport/memory'
import { formatUri, parseUri, type MsrpUri } from '../../src/wire/uri'

const RELAY_URI = 'msrps://relay.example.com:2855;tcp'

function uri(s: string): MsrpUri {
  const u = parseUri(s)
  if (E.isLeft(u)) throw new Error(u.left.detail)
  return u.right
}

function connection(id: string, relayUri = RELAY_URI): RelayConnection {
  return { id, transport: memoryPair()[0], identity: undefined, relayUri: uri(relayUri) }
}

/** A registry on a fake clock that the test moves by hand. */
function setup(options: { maxBindings?: number; newSessionId?: () => string } = {}) {
  let t = 1_000_000
  const registry = createRegistry({ ...options, now: () => t })
  return { registry, advance: (ms: number) => (t += ms), now: () => t }
}

describe('createRegistry (RFC 4976 §6.3)', () => {
  const c1 = connection('c1')
  const c2 = connection('c2')

  it('R-6.3-8 issues the relay URI with a fresh session-id of 20 base62 characters (119 random bits)', () => {
    const { registry } = setup()
    const ids = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const b = registry.issue(c1, 'alice', 60)
      expect(b.sessionId).toMatch(/^[0-9A-Za-z]{20}$/)
      expect(formatUri(b.uri)).toBe(`msrps://relay.example.com:2855/${b.sessionId};tcp`)
      ids.add(b.sessionId)
    }
    expect(ids.size).toBe(1000)
    expect(registry.size).toBe(1000)
  })

  it('binds the URI to the connection and user, with the expiry computed from the clock', () => {
    const { registry, now } = setup()
    const b = registry.issue(c1, 'alice', 900)
    expect(b).toMatchObject({ connectionId: 'c1', user: 'alice', expiresAtMs: now() + 900_000 })
    expect(registry.lookup(b.sessionId)).toEqual(b)
    expect(registry.lookup('unknown0123456789abc')).toBeUndefined()
  })

  it('R-6.3-7 invalidates a URI once it expires: lookup answers undefined and size no longer counts it', () => {
    const { registry, advance } = setup()
    const short = registry.issue(c1, 'alice', 60)
    const long = registry.issue(c1, 'alice', 120)
    advance(59_999)
    expect(registry.lookup(short.sessionId)).toBe(short)
    expect(registry.size).toBe(2)
    advance(1)
    expect(registry.lookup(short.sessionId)).toBeUndefined()
    expect(registry.size).toBe(1)
    expect(registry.lookup(long.sessionId)).toBe(long)
    advance(60_000)
    expect(registry.size).toBe(0)
    expect(registry.lookup(long.sessionId)).toBeUndefined()
  })

  it('R-6.3-6 dropConnection invalidates every URI of that connection and no other', () => {
    const { registry } = setup()
    const a = [registry.issue(c1, 'alice', 60), registry.issue(c1, 'alice', 60), registry.issue(c1, 'bob', 60)]
    const other = registry.issue(c2, 'carol', 60)
    registry.dropConnection('c1')
    for (const b of a) expect(registry.lookup(b.sessionId)).toBeUndefined()
    expect(registry.lookup(other.sessionId)).toBe(other)
    expect(registry.size).toBe(1)
    registry.dropConnection('c1') // twice, or an unknown connection: nothing happens
    registry.dropConnection('nope')
    expect(registry.size).toBe(1)
  })

  it('refreshes a live binding of the same connection and user: same URI, new expiry (shorter too)', () => {
    const { registry, advance, now } = setup()
    const b = registry.issue(c1, 'alice', 60)
    advance(50_000)
    const r = registry.issue(c1, 'alice', 600, b.uri)
    expect(r.uri).toEqual(b.uri)
    expect(r.sessionId).toBe(b.sessionId)
    expect(r.expiresAtMs).toBe(now() + 600_000)
    advance(20_000) // past the first expiry
    expect(registry.lookup(b.sessionId)).toEqual(r)
    const shorter = registry.issue(c1, 'alice', 60, b.uri)
    expect(shorter.expiresAtMs).toBe(now() + 60_000)
    expect(registry.size).toBe(1)
  })

  it('never hands over a URI that is expired, dropped, or bound to another connection or user: issues a fresh one', () => {
    const { registry, advance } = setup()
    const b = registry.issue(c1, 'alice', 60)
    expect(registry.issue(c2, 'alice', 60, b.uri).sessionId).not.toBe(b.sessionId)
    expect(registry.issue(c1, 'mallory', 60, b.uri).sessionId).not.toBe(b.sessionId)
    expect(registry.issue(c1, 'alice', 60, uri('msrps://relay.example.com:2855;tcp')).sessionId).not.toBe(b.sessionId)
    advance(60_000)
    const fresh = registry.issue(c1, 'alice', 60, b.uri)
    expect(fresh.sessionId).not.toBe(b.sessionId)
    expect(registry.lookup(b.sessionId)).toBeUndefined()
  })

  it('is bounded: full at maxBindings live bindings, issue then throws, while a refresh still works', () => {
    const { registry } = setup({ maxBindings: 3 })
    const bs = [registry.issue(c1, 'alice', 60), registry.issue(c1, 'alice', 60)]
    expect(registry.full).toBe(false)
    bs.push(registry.issue(c2, 'bob', 60))
    expect(registry.full).toBe(true)
    expect(() => registry.issue(c1, 'alice', 60)).toThrow(RangeError)
    expect(registry.issue(c2, 'bob', 120, bs[2]?.uri).sessionId).toBe(bs[2]?.sessionId)
    expect(registry.size).toBe(3)
    registry.dropConnection('c2')
    expect(registry.full).toBe(false)
  })

  it('sweeps expired bindings before refusing: expired ones make room first', () => {
    const { registry, advance } = setup({ maxBindings: 2 })
    const old = registry.issue(c1, 'alice', 10)
    const live = registry.issue(c1, 'alice', 100)
    expect(registry.full).toBe(true)
    advance(10_000)
    expect(registry.full).toBe(false)
    const fresh = registry.issue(c2, 'bob', 100)
    expect(registry.lookup(old.sessionId)).toBeUndefined()
    expect(registry.lookup(live.sessionId)).toBe(live)
    expect(registry.lookup(fresh.sessionId)).toBe(fresh)
    expect(registry.full).toBe(true)
  })

  it('draws another session-id when one is taken by a live binding, and gives up after a bounded number of draws', () => {
    const ids = ['aaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']
    let i = 0
    const { registry } = setup({ newSessionId: () => ids[Math.min(i++, ids.length - 1)] ?? '' })
    expect(registry.issue(c1, 'alice', 60).sessionId).toBe('aaaaaaaaaaaaaaaaaaaa')
    expect(registry.issue(c1, 'alice', 60).sessionId).toBe('bbbbbbbbbbbbbbbbbbbb')
    let draws = 0
    const stuck = createRegistry({ newSessionId: () => (draws++, 'cccccccccccccccccccc') })
    stuck.issue(c1, 'alice', 60)
    draws = 0
    expect(() => stuck.issue(c1, 'alice', 60)).toThrow(RangeError)
    expect(draws).toBe(REGISTRY_SESSION_ID_ATTEMPTS)
  })

  it('throws a RangeError on programmer errors: a bound that is not a positive integer, a bad expiresSec', () => {
    expect(REGISTRY_MAX_BINDINGS).toBe(100_000)
    expect(createRegistry().maxBindings).toBe(REGISTRY_MAX_BINDINGS)
    for (const maxBindings of [0, -1, 1.5, NaN]) expect(() => createRegistry({ maxBindings })).toThrow(RangeError)
    const { registry } = setup()
    for (const s of [-1, NaN, Infinity]) expect(() => registry.issue(c1, 'alice', s)).toThrow(RangeError)
    expect(registry.size).toBe(0)
  })
})
