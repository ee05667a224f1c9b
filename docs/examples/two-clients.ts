/**
 * Two clients of one relay, Alice and Bob, each authenticated with its own endpoint, Alice connected to Bob's path:
 * the setup the routing examples share (first-message.ts shows it step by step).
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { MsrpEndpoint, newSessionId, type MsrpSession, type RelayRegistration } from '../../src'
import { EXAMPLE_USERS } from './start-relay'

export interface TwoClients {
  readonly alice: MsrpSession
  readonly bob: MsrpSession
  readonly aliceRegistration: RelayRegistration
  readonly bobRegistration: RelayRegistration
  /** Alice's endpoint, for sessions of her own (e.g. to talk to a bot). */
  readonly aliceEndpoint: MsrpEndpoint
  close(): void
}

/** Authenticates Alice and Bob at `relayUri` (plain TCP allowed: loopback only) and connects Alice to Bob. */
export async function twoClients(relayUri: string): Promise<TwoClients> {
  const account = (username: string) => ({
    username,
    password: EXAMPLE_USERS[username] ?? '',
    allowInsecure: relayUri.startsWith('msrp:')
  })
  const aliceEndpoint = new MsrpEndpoint()
  const bobEndpoint = new MsrpEndpoint()
  const close = (): void => {
    aliceEndpoint.close()
    bobEndpoint.close()
  }
  try {
    const alice = aliceEndpoint.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
    const bob = bobEndpoint.createSession(`msrp://bob.invalid:2855/${newSessionId()};tcp`)
    const aliceRegistration = await aliceEndpoint.authenticate(alice, relayUri, account('alice'))
    const bobRegistration = await bobEndpoint.authenticate(bob, relayUri, account('bob'))
    await aliceEndpoint.connect(alice, bobRegistration.path)
    return { alice, bob, aliceRegistration, bobRegistration, aliceEndpoint, close }
  } catch (e) {
    close()
    throw e
  }
}
