import { memoryCredentials } from '../../src/relay/credentials'
import { computeHa1 } from '../../src/wire/digest'

const REALM = 'relay.example.com'

describe('memoryCredentials', () => {
  it('keeps a plain string as a password and { ha1 } or { password } as given', async () => {
    const ha1 = computeHa1('bob', REALM, 'pw')
    const store = memoryCredentials({ alice: 'secret', bob: { ha1 }, carol: { password: 'c' } })
    await expect(store.lookup('alice', REALM)).resolves.toEqual({ password: 'secret' })
    await expect(store.lookup('bob', REALM)).resolves.toEqual({ ha1 })
    await expect(store.lookup('carol', REALM)).resolves.toEqual({ password: 'c' })
  })

  it('looks usernames up case-sensitively and answers undefined for an unknown user', async () => {
    const store = memoryCredentials({ Alice: 'secret' })
    await expect(store.lookup('Alice', REALM)).resolves.toEqual({ password: 'secret' })
    await expect(store.lookup('alice', REALM)).resolves.toBeUndefined()
    await expect(store.lookup('ALICE', REALM)).resolves.toBeUndefined()
    await expect(store.lookup('', REALM)).resolves.toBeUndefined()
  })

  it('never finds prototype properties, and treats "__proto__" as an ordinary username', async () => {
    const empty = memoryCredentials({})
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      await expect(empty.lookup(name, REALM)).resolves.toBeUndefined()
    const users = JSON.parse('{"__proto__": "pw"}') as Record<string, string>
    await expect(memoryCredentials(users).lookup('__proto__', REALM)).resolves.toEqual({ password: 'pw' })
  })

  it('copies the users: changing the record afterwards does not change the store', async () => {
    const users: Record<string, string> = { alice: 'secret' }
    const store = memoryCredentials(users)
    users.alice = 'changed'
    users.mallory = 'x'
    await expect(store.lookup('alice', REALM)).resolves.toEqual({ password: 'secret' })
    await expect(store.lookup('mallory', REALM)).resolves.toBeUndefined()
  })

  it('throws a RangeError on a programmer error: empty username, malformed HA1, a secret of another shape', () => {
    expect(() => memoryCredentials({ '': 'pw' })).toThrow(RangeError)
    expect(() => memoryCredentials({ bob: { ha1: 'not-hex' } })).toThrow(/32 hex digits/)
    expect(() => memoryCredentials({ bob: { ha1: 'a'.repeat(31) } })).toThrow(RangeError)
    const bad = [{ bob: 42 }, { bob: null }, { bob: {} }, { bob: { password: 'p', ha1: 'a'.repeat(32) } }]
    for (const users of bad) expect(() => memoryCredentials(users as never)).toThrow(RangeError)
  })

  it('accepts an HA1 in upper-case hex', async () => {
    const ha1 = computeHa1('bob', REALM, 'pw').toUpperCase()
    await expect(memoryCredentials({ bob: { ha1 } }).lookup('bob', REALM)).resolves.toEqual({ ha1 })
  })
})
