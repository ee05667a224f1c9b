/**
 * A routing operator that refuses a media type at the relay with 415 and hands everything else to RFC 4976's policy
 * (`route`). docs/custom-routing.md.
 *
 *   npx ts-node docs/examples/content-filter.ts
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { filter, firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs'
import { mediaTypeMatches, reject, route, SendError, type Router } from '../../src'
import { startRelay } from './start-relay'
import { twoClients } from './two-clients'

/**
 * Refuses SENDs whose Content-Type matches one of `refused` (`application/x-spam`, `video/*`) with 415
 * MIME-not-understood: the sender should not send that type again in this session (RFC 4975 §10, §7.3.1).
 * Bodiless SENDs (the binding SEND, keep-alives) have no Content-Type and pass.
 */
export function contentFilter(refused: readonly string[]): Router {
  return map((request) => {
    const type = request.send?.contentType
    return type !== undefined && refused.some((pattern) => mediaTypeMatches(type, pattern))
      ? reject(request, 415, 'MediaRefused')
      : route(request) // everything else: the default policy (no open relay)
  })
}

export interface ContentFilterExampleOptions {
  readonly host?: string
  readonly log?: (line: string) => void
}

export interface ContentFilterExampleResult {
  /** What Bob received: only the text. */
  readonly delivered: readonly string[]
  /** The status Alice's send of `application/x-spam` failed with. */
  readonly refusedStatus: number | undefined
  /** The reasons of the relay's `refused` events. */
  readonly refusedReasons: readonly string[]
}

export async function main(options: ContentFilterExampleOptions = {}): Promise<ContentFilterExampleResult> {
  const log = options.log ?? console.log
  const relay = await startRelay({
    ...(options.host !== undefined ? { host: options.host } : {}),
    router: contentFilter(['application/x-spam'])
  })
  const clients = await twoClients(relay.uri).catch(async (e: unknown) => {
    await relay.close()
    throw e
  })
  try {
    const { alice, bob } = clients
    const delivered = firstValueFrom(bob.messages$.pipe(take(1), toArray()))
    let refusedStatus: number | undefined
    try {
      await lastValueFrom(alice.send('buy now', { contentType: 'application/x-spam' }))
    } catch (e) {
      if (!(e instanceof SendError)) throw e
      refusedStatus = e.status
      log(`application/x-spam refused: ${e.status}`)
    }
    await firstValueFrom(alice.send('Hi Bob').pipe(filter((e) => e.type === 'done')))
    const texts = await Promise.all((await delivered).map(async (m) => new TextDecoder().decode(await m.collect())))
    log(`bob received ${JSON.stringify(texts)}`)
    const refusedReasons = relay.events.flatMap((e) => (e.type === 'refused' ? [e.reason] : []))
    return { delivered: texts, refusedStatus, refusedReasons }
  } finally {
    clients.close()
    await relay.close()
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
