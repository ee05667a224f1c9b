/**
 * The embedded credential store of the relay: users held in memory (RFC 4976 §6.3: the relay checks the Digest
 * credentials of an AUTH against what it knows of the user; RFC 2617 §3.2.2.2 HA1).
 *
 * ```ts
 * const store = memoryCredentials({ alice: 'secret', bob: { ha1: computeHa1('bob', 'relay.example.com', 'pw') } })
 * await store.lookup('alice', 'relay.example.com') // { password: 'secret' }
 * await store.lookup('Alice', 'relay.example.com') // undefined: usernames are case-sensitive
 * ```
 *
 * Any other store (a database, Redis, an LDAP bridge) implements the same one-method {@link CredentialStore}; see
 * docs/relay-auth.md.
 */
import type { CredentialStore, StoredSecret } from './types'

/** @internal An HA1 is an MD5 hash: 32 hex digits (either case; the Digest code lower-cases it). */
const HA1 = /^[0-9a-fA-F]{32}$/

/**
 * A {@link CredentialStore} over a fixed set of users, looked up in O(1) with case-sensitive usernames (RFC 2617
 * compares the username as a string). Each user has a plain password (a string or `{ password }`) or an HA1
 * (`{ ha1 }`, the MD5 of `user:realm:password`: valid for the one realm it was computed with, so the relay's realm
 * must not change). The realm argument of `lookup` is not used: the store serves one relay.
 *
 * The users are copied, so later changes to `users` do not affect the store. Keys such as `__proto__` or
 * `constructor` are ordinary usernames (a `Map` is used, never the object's prototype chain).
 *
 * Throws a `RangeError` on a programmer error: an empty username, a secret that is neither a string, `{ password }`
 * nor `{ ha1 }`, or an HA1 that is not 32 hex digits.
 */
export function memoryCredentials(users: Readonly<Record<string, string | StoredSecret>>): CredentialStore {
  const secrets = new Map<string, StoredSecret>()
  for (const [username, secret] of Object.entries(users)) {
    if (username === '') throw new RangeError('memoryCredentials: a username must not be empty')
    secrets.set(username, toStoredSecret(username, secret))
  }
  return {
    lookup: (username) => Promise.resolve(secrets.get(username))
  }
}

/** @internal Checks and normalises one user's secret. */
function toStoredSecret(username: string, secret: unknown): StoredSecret {
  if (typeof secret === 'string') return { password: secret }
  if (typeof secret === 'object' && secret !== null) {
    const s = secret as { password?: unknown; ha1?: unknown }
    if (typeof s.password === 'string' && s.ha1 === undefined) return { password: s.password }
    if (typeof s.ha1 === 'string' && s.password === undefined) {
      if (!HA1.test(s.ha1))
        throw new RangeError(`memoryCredentials: the ha1 of ${JSON.stringify(username)} is not 32 hex digits`)
      return { ha1: s.ha1 }
    }
  }
  throw new RangeError(
    `memoryCredentials: the secret of ${JSON.stringify(username)} must be a password string, { password } or { ha1 }`
  )
}
