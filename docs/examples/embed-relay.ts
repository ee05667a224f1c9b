/**
 * The relay inside an existing Node server (docs/embedding-a-relay.md): the app's own `http.createServer()` keeps its
 * routes and also carries MSRP over WebSocket on `/msrp` (RFC 7977); a TCP listener takes MSRP clients and peers;
 * users come from the app's own store (an async lookup over a Map standing in for a database); the relay's metrics
 * are served on the app's `/metrics` route. `main` then sends one message from a TCP client to a WebSocket client.
 *
 *   npx ts-node docs/examples/embed-relay.ts
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { filter, firstValueFrom } from 'rxjs'
import {
  computeHa1,
  createAuthHandler,
  createRegistry,
  createRelayMetrics,
  defaultUseUri,
  listenTcp,
  listenWebSocket,
  MsrpEndpoint,
  MsrpRelay,
  newSessionId,
  newWebSocketClientUri,
  observeRelay,
  parseUri,
  type CredentialStore,
  type MsrpUri,
  type RelayMetrics,
  type StoredSecret
} from '../../src'
import { listen } from './start-relay'

const REALM = 'chat.example.com'

/**
 * The app's user table: name → HA1 (MD5 of `name:realm:password`), so the relay never holds a password. A real app
 * would query its database here; the store is asynchronous for that reason.
 */
export function appUserStore(users: Readonly<Record<string, string>>): CredentialStore {
  const table = new Map(Object.entries(users).map(([name, password]) => [name, computeHa1(name, REALM, password)]))
  return {
    // Unknown user: undefined (answered like a wrong password). A failing database: reject (answered 408).
    lookup: async (username): Promise<StoredSecret | undefined> => {
      const ha1 = table.get(username)
      return ha1 === undefined ? undefined : { ha1 }
    }
  }
}

export interface EmbedRelayOptions {
  /** The app's HTTP server, listening or not; the relay neither listens on it nor closes it. */
  readonly server: http.Server
  readonly credentials: CredentialStore
  /** Host of the relay's URIs and of the TCP listener; default `127.0.0.1`. */
  readonly host?: string
  /** Port of the TCP listener; default 0 (a free one). */
  readonly tcpPort?: number
  /** Path of the WebSocket endpoint on the app's server; default `/msrp`. */
  readonly wsPath?: string
}

export interface EmbeddedRelay {
  readonly relay: MsrpRelay
  readonly metrics: RelayMetrics
  /** The relay's URI on the TCP listener, e.g. `msrp://127.0.0.1:2855;tcp`. */
  readonly tcpUri: string
  /** The relay's URI on the app's server, e.g. `msrp://127.0.0.1:8080;ws`. */
  readonly wsUri: string
  close(): Promise<void>
}

/** Starts a relay on the app's server (WebSocket) and on its own TCP listener. Resolves once both listen. */
export async function embedRelay(options: EmbedRelayOptions): Promise<EmbeddedRelay> {
  const host = options.host ?? '127.0.0.1'
  const registry = createRegistry()
  let tcpRelayUri: MsrpUri | undefined
  const auth = createAuthHandler({
    realm: REALM,
    credentials: options.credentials,
    registry,
    // A WebSocket client's Use-Path URI names the TCP listener: that is where peers that are not WebSocket clients
    // reach it through this relay (RFC 7977 §8). The TCP listener is started below, before any AUTH can arrive.
    useUri: (connection) =>
      connection.transport.info.kind === 'ws' && tcpRelayUri !== undefined ? tcpRelayUri : defaultUseUri(connection)
  })
  const relay = new MsrpRelay({ auth, registry })
  const metrics = createRelayMetrics({ sessions: () => registry.size })
  const observing = observeRelay(relay.events$, { metrics }) // add `logger: pino()` for one log line per event

  const tcp = await listen(listenTcp({ host, port: options.tcpPort ?? 0 }))
  const tcpUri = `msrp://${host}:${tcp.address.port};tcp`
  tcpRelayUri = uriOf(tcpUri)
  // Attached to the app's server: handshakes on wsPath become MSRP transports, every other request stays the app's.
  const ws$ = listenWebSocket({ server: options.server, path: options.wsPath ?? '/msrp' })
  const ws = await listen(ws$) // emits once the app's server listens
  const wsUri = `msrp://${host}:${ws.address.port};ws`
  relay.serve(tcp, tcpUri)
  relay.serve(ws, wsUri)
  return {
    relay,
    metrics,
    tcpUri,
    wsUri,
    close: async () => {
      await relay.close()
      await Promise.all([tcp.close(), ws.close()])
      observing.unsubscribe()
    }
  }
}

const uriOf = (text: string): MsrpUri => {
  const parsed = parseUri(text)
  if (parsed._tag === 'Left') throw new TypeError(parsed.left.detail)
  return parsed.right
}

export interface EmbedExampleOptions {
  readonly host?: string
  readonly log?: (line: string) => void
}

export interface EmbedExampleResult {
  /** What the WebSocket client received from the TCP client. */
  readonly received: string
  /** The app's own route, still answered. */
  readonly appRoute: string
  /** The text of the app's `/metrics` route after the exchange. */
  readonly metricsText: string
}

export async function main(options: EmbedExampleOptions = {}): Promise<EmbedExampleResult> {
  const host = options.host ?? '127.0.0.1'
  const log = options.log ?? console.log
  let metrics: RelayMetrics | undefined
  // The app: its own routes, plus the relay's metrics on /metrics.
  const server = http.createServer((request, response) => {
    if (request.url === '/metrics' && metrics !== undefined) {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics!.registry.contentType }).end(text),
        () => response.writeHead(500).end()
      )
      return
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('the app\n')
  })
  const starting = embedRelay({ server, host, credentials: appUserStore({ alice: 'alice-pw', bob: 'bob-pw' }) })
  server.listen(0, host)
  const embedded = await starting
  metrics = embedded.metrics
  const { port } = server.address() as AddressInfo
  log(`app on http://${host}:${port}/, MSRP ${embedded.tcpUri} and ${embedded.wsUri} (path /msrp)`)

  // Alice over TCP; Bob, as a browser would, over WebSocket (his URI names a `.invalid` host nobody dials).
  const aliceEndpoint = new MsrpEndpoint()
  const bobEndpoint = new MsrpEndpoint({ dial: { wsPath: '/msrp' } })
  try {
    const alice = aliceEndpoint.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
    const bob = bobEndpoint.createSession(newWebSocketClientUri({ secure: false }))
    const plain = { allowInsecure: true } // loopback only: use msrps:// and wss in production (R-8-4, W-5.1-2)
    await aliceEndpoint.authenticate(alice, embedded.tcpUri, { username: 'alice', password: 'alice-pw', ...plain })
    const bobRegistration = await bobEndpoint.authenticate(bob, embedded.wsUri, {
      username: 'bob',
      password: 'bob-pw',
      ...plain
    })
    const first = firstValueFrom(bob.messages$)
    await aliceEndpoint.connect(alice, bobRegistration.path)
    await firstValueFrom(alice.send('Hello over TCP, read over WebSocket').pipe(filter((e) => e.type === 'done')))
    const received = new TextDecoder().decode(await (await first).collect())
    log(`bob received ${JSON.stringify(received)}`)

    const appRoute = await (await fetch(`http://${host}:${port}/`)).text()
    const metricsText = await (await fetch(`http://${host}:${port}/metrics`)).text()
    return { received, appRoute, metricsText }
  } finally {
    aliceEndpoint.close()
    bobEndpoint.close()
    await embedded.close()
    server.closeAllConnections()
    await new Promise<void>((done) => server.close(() => done()))
  }
}

if (require.main === module) {
  main().then(
    (r) =>
      console.log(
        r.metricsText
          .split('\n')
          .filter((l) => l.startsWith('msrp_relay_forwarded'))
          .join('\n')
      ),
    (e) => {
      console.error(e)
      process.exitCode = 1
    }
  )
}
