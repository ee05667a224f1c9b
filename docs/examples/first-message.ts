/**
 * A first message from code: Alice and Bob authenticate at a relay (AUTH with Digest, RFC 4976 §5.1), each gets a
 * Use-Path URI, and Alice sends Bob a text message through the relay. docs/getting-started.md.
 *
 *   npx rx-msrp relay --tcp 127.0.0.1:2855 --user alice:alice-secret --user bob:bob-secret &
 *   npx ts-node docs/examples/first-message.ts msrp://127.0.0.1:2855;tcp
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { filter, firstValueFrom } from 'rxjs'
import { MsrpEndpoint, newSessionId } from '../../src'
import { EXAMPLE_USERS } from './start-relay'

export interface FirstMessageOptions {
  /** The relay's URI, e.g. `msrp://127.0.0.1:2855;tcp` (use `msrps://` outside loopback). */
  readonly relayUri: string
  /** Name → password of `alice` and `bob`; default `EXAMPLE_USERS`. */
  readonly users?: Readonly<Record<string, string>>
  readonly text?: string
  /** Where progress lines go; default `console.log`. */
  readonly log?: (line: string) => void
}

export interface FirstMessageResult {
  /** What Bob received. */
  readonly received: string
  readonly contentType: string
  /** Bob's path, as his SDP `a=path` would carry it: the relay's URI for him, then his own. */
  readonly bobPath: readonly string[]
}

export async function main(options: FirstMessageOptions): Promise<FirstMessageResult> {
  const users = options.users ?? EXAMPLE_USERS
  const log = options.log ?? console.log
  const account = (username: string) => ({
    username,
    password: users[username] ?? '',
    allowInsecure: options.relayUri.startsWith('msrp:') // AUTH over plain TCP: loopback only (R-8-4)
  })
  // One endpoint per party, as two programs would have. The session URIs name hosts nobody dials: behind a relay,
  // peers reach a session through the relay's connection to it.
  const aliceEndpoint = new MsrpEndpoint()
  const bobEndpoint = new MsrpEndpoint()
  try {
    const alice = aliceEndpoint.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
    const bob = bobEndpoint.createSession(`msrp://bob.invalid:2855/${newSessionId()};tcp`)
    await aliceEndpoint.authenticate(alice, options.relayUri, account('alice'))
    const bobRegistration = await bobEndpoint.authenticate(bob, options.relayUri, account('bob'))

    // SDP would carry Bob's path to Alice (a=path). She connects: To-Path = her Use-Path, then Bob's path.
    const firstMessage = firstValueFrom(bob.messages$)
    await aliceEndpoint.connect(alice, bobRegistration.path)
    await firstValueFrom(alice.send(options.text ?? 'Hello, Bob!').pipe(filter((e) => e.type === 'done')))

    const message = await firstMessage
    const received = new TextDecoder().decode(await message.collect())
    log(`bob received ${JSON.stringify(received)} (${message.contentType})`)
    return { received, contentType: message.contentType, bobPath: bobRegistration.path }
  } finally {
    aliceEndpoint.close()
    bobEndpoint.close()
  }
}

if (require.main === module) {
  main({ relayUri: process.argv[2] ?? 'msrp://127.0.0.1:2855;tcp' }).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
