/**
 * A file through a relay: Alice streams a file from disk with its size and a Content-Disposition, watching
 * `progress` events; Bob reads the body as it arrives (with backpressure) and checks its sha256 against the one
 * Alice computed. docs/getting-started.md.
 *
 *   npx ts-node docs/examples/send-file.ts msrp://127.0.0.1:2855;tcp ./some-file
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { firstValueFrom, lastValueFrom, tap } from 'rxjs'
import { getHeader, MsrpEndpoint, newSessionId, type SendEvent } from '../../src'
import { EXAMPLE_USERS } from './start-relay'

export interface SendFileOptions {
  readonly relayUri: string
  /** The file to send; default a temporary file of `bytes` random bytes. */
  readonly path?: string
  /** Size of the temporary file; default 1 MiB. */
  readonly bytes?: number
  readonly users?: Readonly<Record<string, string>>
  readonly log?: (line: string) => void
}

export interface SendFileResult {
  readonly size: number
  readonly sentSha256: string
  readonly receivedSha256: string
  /** The `progress` events Alice saw: bytes written and bytes acknowledged by the next hop. */
  readonly progress: readonly { readonly sent: number; readonly acknowledged: number }[]
  /** The Content-Disposition Bob received. */
  readonly disposition: string | undefined
}

export async function main(options: SendFileOptions): Promise<SendFileResult> {
  const log = options.log ?? console.log
  const users = options.users ?? EXAMPLE_USERS
  const insecure = options.relayUri.startsWith('msrp:') // AUTH over plain TCP: loopback only (R-8-4)
  const account = (username: string) => ({ username, password: users[username] ?? '', allowInsecure: insecure })
  const scratch = options.path === undefined ? await mkdtemp(join(tmpdir(), 'rx-msrp-example-')) : undefined
  const path = options.path ?? join(scratch!, 'example.bin')
  if (scratch !== undefined) await writeFile(path, randomBytes(options.bytes ?? 1024 * 1024))

  const aliceEndpoint = new MsrpEndpoint()
  const bobEndpoint = new MsrpEndpoint()
  try {
    const alice = aliceEndpoint.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
    const bob = bobEndpoint.createSession(`msrp://bob.invalid:2855/${newSessionId()};tcp`)
    await aliceEndpoint.authenticate(alice, options.relayUri, account('alice'))
    const bobRegistration = await bobEndpoint.authenticate(bob, options.relayUri, account('bob'))

    // Bob hashes the body piece by piece as it arrives: nothing is held in memory.
    const received = firstValueFrom(bob.messages$).then(async (message) => {
      const hash = createHash('sha256')
      for await (const piece of message.body) hash.update(piece)
      const outcome = await message.outcome
      if (outcome.type !== 'complete') throw new Error(`the file did not arrive whole: ${outcome.type}`)
      return { sha256: hash.digest('hex'), disposition: getHeader(message.head.request.headers, 'Content-Disposition') }
    })

    await aliceEndpoint.connect(alice, bobRegistration.path)
    const { size } = await stat(path)
    const sentSha256 = createHash('sha256')
    for await (const piece of createReadStream(path)) sentSha256.update(piece as Buffer)
    const progress: { sent: number; acknowledged: number }[] = []
    const onEvent = (e: SendEvent): void => {
      if (e.type !== 'progress') return
      progress.push({ sent: e.sent, acknowledged: e.acknowledged })
      log(`sent ${e.sent}/${size}, acknowledged ${e.acknowledged}`)
    }
    // A Node Readable is an async iterable of Uint8Array: it streams, and `size` gives the Byte-Range total.
    await lastValueFrom(
      alice
        .send(createReadStream(path), {
          size,
          contentType: 'application/octet-stream',
          headers: [['Content-Disposition', `attachment; filename="${basename(path)}"`]]
        })
        .pipe(tap(onEvent))
    )
    const got = await received
    const result = {
      size,
      sentSha256: sentSha256.digest('hex'),
      receivedSha256: got.sha256,
      progress,
      disposition: got.disposition
    }
    log(`sha256 sent ${result.sentSha256}, received ${result.receivedSha256}`)
    return result
  } finally {
    aliceEndpoint.close()
    bobEndpoint.close()
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const [relayUri, path] = process.argv.slice(2)
  main({ relayUri: relayUri ?? 'msrp://127.0.0.1:2855;tcp', ...(path !== undefined ? { path } : {}) }).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
