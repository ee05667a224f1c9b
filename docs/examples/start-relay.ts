/**
 * A relay in code: AUTH against a credential store, a TCP listener on loopback, an optional custom Router.
 * The other examples start their relay with this, and `npx ts-node docs/examples/start-relay.ts` runs one until Ctrl-C.
 *
 * The examples import the package source (`../../src`) since the package is not installed into itself; in your
 * project write `from 'rx-msrp'` instead.
 */
import type { Observable } from 'rxjs'
import {
  createAuthHandler,
  createRegistry,
  listenTcp,
  memoryCredentials,
  MsrpRelay,
  type CredentialStore,
  type Listener,
  type RelayEvent,
  type Router
} from '../../src'

/** The users of the examples: name → password. */
export const EXAMPLE_USERS: Readonly<Record<string, string>> = { alice: 'alice-secret', bob: 'bob-secret' }

export interface StartRelayOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 0: a free port. */
  readonly port?: number
  /** Default `memoryCredentials(EXAMPLE_USERS)`. */
  readonly credentials?: CredentialStore
  /** Default: RFC 4976's policy (`defaultRouter()`). */
  readonly router?: Router
}

export interface RunningRelay {
  readonly relay: MsrpRelay
  /** The relay's own URI on its TCP listener, e.g. `msrp://127.0.0.1:2855;tcp`: clients send AUTH to it. */
  readonly uri: string
  /** Every relay event so far. */
  readonly events: readonly RelayEvent[]
  close(): Promise<void>
}

/**
 * Subscribes to a listen Observable and resolves with its Listener. The server lives as long as the subscription
 * (docs/transports.md), so never `firstValueFrom` it: `listener.close()` (or `relay.close()`) stops it.
 */
export function listen(listen$: Observable<Listener>): Promise<Listener> {
  return new Promise((resolve, reject) => {
    listen$.subscribe({ next: resolve, error: reject })
  })
}

export async function startRelay(options: StartRelayOptions = {}): Promise<RunningRelay> {
  const host = options.host ?? '127.0.0.1'
  const registry = createRegistry()
  const auth = createAuthHandler({
    realm: 'examples',
    credentials: options.credentials ?? memoryCredentials(EXAMPLE_USERS),
    registry
  })
  const relay = new MsrpRelay({ auth, registry, ...(options.router !== undefined ? { router: options.router } : {}) })
  const events: RelayEvent[] = []
  const watching = relay.events$.subscribe((e) => events.push(e))
  const listener = await listen(listenTcp({ host, port: options.port ?? 0 }))
  const uri = `msrp://${host}:${listener.address.port};tcp`
  relay.serve(listener, uri)
  return {
    relay,
    uri,
    events,
    close: async () => {
      await relay.close()
      await listener.close()
      watching.unsubscribe()
    }
  }
}

if (require.main === module) {
  startRelay({ port: Number(process.env.PORT ?? 2855) }).then((r) => {
    console.log(`listening ${r.uri}; users ${Object.keys(EXAMPLE_USERS).join(', ')}`)
    process.once('SIGINT', () => void r.close())
  }, console.error)
}
