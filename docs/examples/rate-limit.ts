/**
 * A routing operator that limits SENDs per connection per second, wrapped around another router. docs/custom-routing.md.
 *
 * The answer is **403 Action-not-allowed**. MSRP has no "slow down" status (no 429 or 503; RFC 4975 §10 and RFC 4976
 * register 200, 400, 401, 403, 408, 413, 415, 423, 481, 501, 506), so the choice is among those:
 * - 403 says the action is not allowed: true, and the session goes on (the comment says why: "Rate limit exceeded");
 * - 408 means a downstream transaction timed out and MUST be treated like a local timeout: a lie, inviting retries;
 * - 413 stops one message ("stop sending this message"), which clients show as "too large": wrong for a flood of
 *   small messages, and not a statement about the connection;
 * - 423 is for a parameter out of bounds (Expires), 481 would tell the sender to end the session.
 * A refused chunk fails its message at the sender (`SendError`, status 403); nothing is forwarded for it.
 *
 *   npx ts-node docs/examples/rate-limit.ts
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { connect, defer, filter, firstValueFrom, lastValueFrom, map, merge, tap, type Observable } from 'rxjs'
import { defaultRouter, reject, SendError, type RouteDecision, type RouteRequest, type Router } from '../../src'
import { startRelay } from './start-relay'
import { twoClients } from './two-clients'

export const RATE_LIMIT_WINDOW_MS = 1000
/** Windows remembered at most; past it, expired ones are swept (a closed connection's window is never reused). */
export const RATE_LIMIT_MAX_WINDOWS = 10_000

export interface RateLimitOptions {
  /** SEND requests (chunks, the bodiless binding SEND included) allowed per connection per window. */
  readonly perSecond: number
  /** Default `Date.now`. */
  readonly now?: () => number
}

/**
 * Counts SENDs per connection in fixed one-second windows; past `perSecond`, rejects with 403, else hands the request
 * to `next` (default: RFC 4976's policy). State lives per subscription (`defer`), never in the module.
 */
export function rateLimit(options: RateLimitOptions, next: Router = defaultRouter()): Router {
  const now = options.now ?? Date.now
  return (requests$: Observable<RouteRequest>): Observable<RouteDecision> =>
    defer(() => {
      const windows = new Map<string, { start: number; count: number }>()
      const overLimit = (request: RouteRequest): boolean => {
        // A request between two clients of this relay is routed again once our first URI is popped (RFC 7977 §8.3,
        // `internalHops` > 0): count it once, when it arrives.
        if (request.head.method !== 'SEND' || request.internalHops > 0) return false
        const t = now()
        const id = request.connection.id
        let w = windows.get(id)
        if (w === undefined || t - w.start >= RATE_LIMIT_WINDOW_MS) {
          if (w === undefined && windows.size >= RATE_LIMIT_MAX_WINDOWS) {
            for (const [key, old] of windows) if (t - old.start >= RATE_LIMIT_WINDOW_MS) windows.delete(key)
          }
          w = { start: t, count: 0 }
          windows.set(id, w)
        }
        return ++w.count > options.perSecond
      }
      // `connect` subscribes both branches before the requests flow, so none is missed (share() would not).
      return requests$.pipe(
        map((request) => ({ request, over: overLimit(request) })),
        connect((judged) =>
          merge(
            judged.pipe(
              filter((j) => j.over),
              map((j) => reject(j.request, 403, 'RateLimited', 'Rate limit exceeded'))
            ),
            judged.pipe(
              filter((j) => !j.over),
              map((j) => j.request),
              next
            )
          )
        )
      )
    })
}

export interface RateLimitExampleOptions {
  readonly host?: string
  /** Default 5. */
  readonly perSecond?: number
  /** Messages Alice sends at once; default 12. */
  readonly burst?: number
  readonly log?: (line: string) => void
}

export interface RateLimitExampleResult {
  /** Messages of the burst the relay took. */
  readonly accepted: number
  /** Statuses of the messages of the burst it refused. */
  readonly refused: readonly number[]
  /** Messages Bob received, the one sent after the window passed included. */
  readonly received: number
}

export async function main(options: RateLimitExampleOptions = {}): Promise<RateLimitExampleResult> {
  const log = options.log ?? console.log
  const relay = await startRelay({
    ...(options.host !== undefined ? { host: options.host } : {}),
    router: rateLimit({ perSecond: options.perSecond ?? 5 })
  })
  const clients = await twoClients(relay.uri).catch(async (e: unknown) => {
    await relay.close()
    throw e
  })
  try {
    const { alice, bob } = clients
    let received = 0
    const last = firstValueFrom(
      bob.messages$.pipe(
        tap(() => received++),
        filter((m) => m.contentType.startsWith('text/plain') && m.total === 'last'.length)
      )
    )
    let accepted = 0
    const refused: number[] = []
    for (let i = 0; i < (options.burst ?? 12); i++) {
      try {
        await lastValueFrom(alice.send(`message ${i}`))
        accepted++
      } catch (e) {
        if (!(e instanceof SendError)) throw e
        refused.push(e.status)
      }
    }
    log(`burst: ${accepted} taken, ${refused.length} refused (${[...new Set(refused)].join(', ')})`)
    await new Promise((r) => setTimeout(r, RATE_LIMIT_WINDOW_MS + 100))
    await lastValueFrom(alice.send('last'))
    await last // messages keep their order on a connection: every accepted one is in
    log(`after the window: taken; bob received ${received}`)
    return { accepted, refused, received }
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
