/**
 * `rx-msrp relay`: an MSRP relay (RFC 4976) with WebSocket listeners (RFC 7977), from a config file and flags over
 * an embedded default (docs/relay-cli.md). Composition only: the protocol is in src/relay.
 *
 * ```text
 * rx-msrp relay                      TCP 2855, TLS 2856, WS 8080, WSS 8443 on 127.0.0.1, self-signed certificate,
 * stdout:  listening msrp://127.0.0.1:2855;tcp                     one demo user with a random password
 *          listening msrps://127.0.0.1:2856;tcp
 *          listening msrp://127.0.0.1:8080;ws
 *          listening msrps://127.0.0.1:8443;ws
 *          certificate /tmp/rx-msrp-relay-Xy12/cert.pem sha256 AB:CD:…
 *          user demo password 4fJq…                                 SIGINT/SIGTERM → drain, exit 0
 * stderr:  one pino JSON line per relay event
 * ```
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import * as https from 'node:https'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'
import type { Writable } from 'node:stream'
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import pino from 'pino'
import { Observable, type Subscription } from 'rxjs'
import { parse as parseYaml } from 'yaml'
import {
  decodeRelayConfig,
  formatConfigError,
  isWildcardHost,
  LISTENER_KINDS,
  parseHost,
  parseListenAddress,
  parseOrigin,
  parseRealm,
  parseUserFlag,
  resolveRelayConfig,
  uriHost,
  type ConfigError,
  type ListenAddress,
  type ListenerKind,
  type RelayConfig,
  type RelayConfigFile,
  type RelayOverrides,
  type UserFlag
} from '../config/relay-config'
import { createAuthHandler } from '../relay/auth'
import { demoRequestHandler, type DemoOptions } from '../relay/demo/serve'
import { isCertificateHost, selfSignedCertificate, SELF_SIGNED_DEFAULT_HOSTS } from '../relay/certificate'
import { memoryCredentials } from '../relay/credentials'
import { createRelayMetrics, observeRelay, serveMetrics, type MetricsServer } from '../relay/observe'
import { createRegistry } from '../relay/registry'
import { MsrpRelay } from '../relay/relay'
import type { RelayConnection } from '../relay/types'
import { TLS_MIN_VERSION } from '../transport/defaults'
import { listenTcp } from '../transport/tcp'
import { listenTls } from '../transport/tls'
import type { Listener } from '../transport/transport'
import { listenWebSocket } from '../transport/websocket'
import { createNonceStore } from '../wire/digest'
import { randomToken } from '../wire/ids'
import { formatUri, type MsrpUri } from '../wire/uri'
import {
  decodeArgs,
  FilePath,
  formatUsageError,
  repeated,
  Switch,
  usageError,
  valueCodec,
  type UsageError
} from './options'
import { messageOf } from './send'
import { aborted, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processSignals, writeAll, type Stdio } from './stdio'

/** The usage of `rx-msrp relay`, printed for `--help` and after a usage error. */
export const RELAY_USAGE = `Usage: rx-msrp relay [--config FILE] [--tcp|--tls|--ws|--wss HOST:PORT …] [--cert F --key F]
                     [--user NAME:PASSWORD …] [--realm R] [--host H] [--allow-origin O …]
                     [--metrics HOST:PORT] [--demo] [--json]

Runs an MSRP relay (RFC 4976: AUTH, forwarding; RFC 7977: WebSocket clients) until SIGINT or SIGTERM. Without
arguments: TCP 2855, TLS 2856, WS 8080 and WSS 8443 on 127.0.0.1, a self-signed certificate made at start, and
one user "demo" with a random password, printed. Flags win over the config file, which wins over that default.

  --config FILE          YAML or JSON config file (docs/relay-cli.md; .json files are read as JSON)
  --tcp HOST:PORT        listen for msrp://…;tcp  (repeatable; any listener flag replaces every configured
  --tls HOST:PORT        listen for msrps://…;tcp  listener; IPv6 as [ADDRESS]:PORT; port 0: any free port)
  --ws HOST:PORT         listen for WebSocket clients, msrp://…;ws
  --wss HOST:PORT        listen for secure WebSocket clients, msrps://…;ws
  --cert F, --key F      PEM certificate chain and key for TLS and WSS (default: self-signed, made at start)
  --user NAME:PASSWORD   a user allowed to AUTH (repeatable; replaces the users of the file and the demo user)
  --realm R              the Digest realm (default rx-msrp)
  --host H               the host name in the relay's URIs (default: each listener's address)
  --allow-origin O       an Origin allowed to open WebSockets, e.g. https://chat.example.com (repeatable;
                         default: any)
  --metrics HOST:PORT    serve Prometheus metrics at http://HOST:PORT/metrics
  --demo                 serve the demo web chat on each WSS listener, https://HOST:PORT/ (on by default when
                         no user is configured: the demo user's relay)
  --json                 write the lines below as JSON objects, one per line:
      listening URI                      {"event":"listening","uri":"…"}
      certificate FILE sha256 FP         {"event":"certificate","path":"…","sha256":"…"}   (self-signed only)
      metrics URL                        {"event":"metrics","url":"…"}
      demo URL                           {"event":"demo","url":"…"}                     (demo web chat)
      user NAME password PASSWORD        {"event":"user","name":"…","password":"…"}     (demo user only)
      error: REASON (on stderr)          {"event":"error","reason":"…"}

Logs: one JSON line per relay event on stderr (pino; the level is the config file's log.level, default info).
Exit status: 0 stopped by SIGINT or SIGTERM, 1 bad config file or cannot listen, 2 usage.
`

/** Largest config file read; a bigger one is refused before it is parsed. */
export const CONFIG_MAX_BYTES = 1024 * 1024

/** Characters of the demo user's random password (base62: about 95 bits). */
export const DEMO_PASSWORD_CHARS = 16

// ---------------------------------------------------------------------------------------------------------------
// Command line

const isString = (u: unknown): u is string => typeof u === 'string'
const isAddress = (u: unknown): u is ListenAddress =>
  typeof u === 'object' && u !== null && typeof (u as ListenAddress).host === 'string'

/** `--tcp` and the other address flags: `HOST:PORT`. */
const AddressFlag = valueCodec('HOST:PORT', isAddress, parseListenAddress, (a) => `${uriHost(a.host)}:${a.port}`)
const UserValue = valueCodec(
  'NAME:PASSWORD',
  (u): u is UserFlag => typeof u === 'object' && u !== null,
  parseUserFlag,
  (u) => `${u.name}:${u.password}`
)
const RealmValue = valueCodec('realm', isString, parseRealm, String)
const HostValue = valueCodec('host', isString, parseHost, String)
const OriginValue = valueCodec('origin', isString, parseOrigin, String)

const RELAY_OPTIONAL = {
  config: FilePath,
  tcp: repeated(AddressFlag),
  tls: repeated(AddressFlag),
  ws: repeated(AddressFlag),
  wss: repeated(AddressFlag),
  cert: FilePath,
  key: FilePath,
  user: repeated(UserValue),
  realm: RealmValue,
  host: HostValue,
  'allow-origin': repeated(OriginValue),
  metrics: AddressFlag,
  demo: Switch,
  json: Switch
}

/** The decoded command line of `rx-msrp relay`. */
export interface RelayArgs {
  /** The config file, YAML or JSON. */
  readonly config: string | undefined
  /** What the flags set over the file. */
  readonly overrides: RelayOverrides
  /** `--demo` (absent: not given): serve the demo web chat on the WSS listeners (also on when the demo user is made). */
  readonly demo?: boolean
  readonly json: boolean
}

/** Decodes the arguments of `rx-msrp relay`. */
export function decodeRelayArgs(args: readonly string[]): E.Either<UsageError, RelayArgs> {
  return pipe(
    decodeArgs(args, {}, RELAY_OPTIONAL),
    E.chain((o) => {
      const users = o.user ?? []
      const twice = users.find((u, i) => users.findIndex((v) => v.name === u.name) !== i)
      if (twice !== undefined) return E.left(usageError('--user', `user ${JSON.stringify(twice.name)} given twice`))
      const overrides: { -readonly [K in keyof RelayOverrides]: RelayOverrides[K] } = {}
      for (const kind of LISTENER_KINDS) if (o[kind] !== undefined) overrides[kind] = o[kind]
      if (o.cert !== undefined) overrides.cert = o.cert
      if (o.key !== undefined) overrides.key = o.key
      if (o.user !== undefined) overrides.users = o.user
      if (o.realm !== undefined) overrides.realm = o.realm
      if (o.host !== undefined) overrides.host = o.host
      if (o['allow-origin'] !== undefined) overrides.allowedOrigins = o['allow-origin']
      if (o.metrics !== undefined) overrides.metrics = o.metrics
      return E.right({ config: o.config, overrides, json: o.json === true, ...(o.demo === true ? { demo: true } : {}) })
    })
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Config file

/**
 * Parses a config file's text: JSON for a `.json` file (`JSON.parse`: a repeated key takes the last value), YAML 1.2
 * otherwise, where duplicate keys, several documents and syntax errors are refused with the line and column.
 */
export function parseConfigText(text: string, fileName: string): E.Either<string, unknown> {
  try {
    if (extname(fileName).toLowerCase() === '.json') return E.right(JSON.parse(text) as unknown)
    return E.right(parseYaml(text, { prettyErrors: true, uniqueKeys: true }) as unknown)
  } catch (e) {
    return E.left(messageOf(e).split('\n')[0] ?? 'cannot parse')
  }
}

/** Reads, parses and decodes a config file; each failure is one line naming the file (and the field). */
export async function loadRelayConfig(path: string): Promise<E.Either<readonly string[], RelayConfigFile>> {
  try {
    const info = await stat(path)
    // A device or a pipe has no size to check (/dev/zero never ends): only regular files are read.
    if (!info.isFile()) return E.left([`${path}: not a regular file`])
    if (info.size > CONFIG_MAX_BYTES) return E.left([`${path}: larger than ${CONFIG_MAX_BYTES} bytes`])
    const text = await readFile(path, 'utf8')
    return pipe(
      parseConfigText(text, path),
      E.mapLeft((reason) => [`${path}: ${reason}`]),
      E.chain((u) =>
        pipe(
          decodeRelayConfig(u),
          E.mapLeft((errors) => errors.map((e) => `${path}: ${formatConfigError(e)}`))
        )
      )
    )
  } catch (e) {
    return E.left([`cannot read --config ${path}: ${messageOf(e)}`])
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Running

/** Options of {@link relay} beyond the command line. */
export interface RelayRunOptions {
  /** Stops the relay when aborted. Default: the process's SIGINT and SIGTERM. */
  readonly signal?: AbortSignal
  /** Where log lines go. Default: `stdio.stderr`. */
  readonly log?: Writable
  /** Where the demo web chat's files and bundle are (tests serve a fresh bundle). Default: the package's. */
  readonly demo?: DemoOptions
}

/** One line of output. */
export type RelayOutput =
  | { readonly event: 'listening'; readonly uri: string }
  | { readonly event: 'certificate'; readonly path: string; readonly sha256: string }
  | { readonly event: 'metrics'; readonly url: string }
  | { readonly event: 'demo'; readonly url: string }
  | { readonly event: 'user'; readonly name: string; readonly password: string }
  | { readonly event: 'error'; readonly reason: string }

/** The text line of an output event (see {@link RELAY_USAGE}). */
export function formatRelayOutput(e: RelayOutput): string {
  switch (e.event) {
    case 'listening':
      return `listening ${e.uri}`
    case 'certificate':
      return `certificate ${e.path} sha256 ${e.sha256}`
    case 'metrics':
      return `metrics ${e.url}`
    case 'demo':
      return `demo ${e.url}`
    case 'user':
      return `user ${e.name} password ${e.password}`
    case 'error':
      return `rx-msrp relay: ${e.reason}`
  }
}

/** The relay's URI on a listener: `msrp[s]://HOST:PORT;tcp|ws`, HOST the configured host or the bound address. */
export function relayUriOf(kind: ListenerKind, host: string, port: number): MsrpUri {
  const secure = kind === 'tls' || kind === 'wss'
  const transport = kind === 'ws' || kind === 'wss' ? 'ws' : 'tcp'
  return { scheme: secure ? 'msrps' : 'msrp', host: uriHost(host), port, transport, params: [] }
}

/** The certificate and key for TLS and WSS: read from the configured files, or made now. */
interface Certificate {
  readonly cert: string | Buffer
  readonly key: string | Buffer
  /** Set for a self-signed certificate: where its PEM was written (for clients to trust) and its fingerprint. */
  readonly generated?: { readonly dir: string; readonly path: string; readonly sha256: string }
}

async function certificateFor(config: RelayConfig): Promise<Certificate> {
  if (config.tls !== undefined) {
    const { cert, key } = config.tls
    return {
      cert: await readFile(cert).catch((e: Error) =>
        Promise.reject(new Error(`cannot read the certificate ${cert}: ${e.message}`))
      ),
      key: await readFile(key).catch((e: Error) =>
        Promise.reject(new Error(`cannot read the key ${key}: ${e.message}`))
      )
    }
  }
  // Names: loopback, the configured host and every listener's address (wildcards are no names).
  const hosts = new Set<string>(SELF_SIGNED_DEFAULT_HOSTS)
  if (config.host !== undefined) hosts.add(config.host)
  for (const kind of LISTENER_KINDS) for (const a of config.listen[kind]) hosts.add(a.host)
  const names = [...hosts].filter((h) => !isWildcardHost(h) && isCertificateHost(h))
  const made = selfSignedCertificate({ hosts: names, commonName: config.host ?? names[0] ?? 'localhost' })
  const dir = await mkdtemp(join(tmpdir(), 'rx-msrp-relay-'))
  const path = join(dir, 'cert.pem')
  await writeFile(path, made.cert)
  return { cert: made.cert, key: made.key, generated: { dir, path, sha256: made.fingerprint256 } }
}

/** The listen Observable of one configured listener. */
function listenerFor(
  kind: ListenerKind,
  address: ListenAddress,
  config: RelayConfig,
  certificate: Certificate | undefined,
  demo: DemoOptions | undefined
): Observable<Listener> {
  const { host, port } = address
  const tls = certificate === undefined ? undefined : { cert: certificate.cert, key: certificate.key }
  const ws = {
    allowedOrigins: config.allowedOrigins,
    keepAliveIntervalMs: config.limits.wsKeepAliveIntervalMs,
    maxPayload: config.limits.wsMaxPayloadBytes
  }
  switch (kind) {
    case 'tcp':
      return listenTcp({ host, port })
    case 'tls':
      return listenTls({ host, port, ...tls! })
    case 'ws':
      return listenWebSocket({ host, port, ...ws })
    case 'wss':
      return demo !== undefined
        ? demoListener(address, tls!, ws, demo)
        : listenWebSocket({ host, port, ...ws, tls: tls! })
  }
}

/**
 * A WSS listener whose HTTPS server also answers plain GETs with the demo web chat (src/relay/demo, docs/demo.md):
 * the page and its WebSocket share one origin. The server listens when subscribed and closes when unsubscribed.
 */
function demoListener(
  address: ListenAddress,
  tls: { readonly cert: string | Buffer; readonly key: string | Buffer },
  ws: Omit<Parameters<typeof listenWebSocket>[0], 'host' | 'port' | 'tls' | 'server'>,
  demo: DemoOptions
): Observable<Listener> {
  return new Observable<Listener>((subscriber) => {
    const server = https.createServer(
      { cert: tls.cert, key: tls.key, minVersion: TLS_MIN_VERSION },
      demoRequestHandler(demo)
    )
    const subscription = listenWebSocket({ ...ws, server, host: address.host, port: address.port }).subscribe(
      subscriber
    )
    server.listen(address.port, address.host)
    return () => {
      subscription.unsubscribe()
      server.close()
      server.closeAllConnections()
    }
  })
}

/** Subscribes to a listen Observable: the bound Listener, or the error that prevented binding. */
function bind(
  listen$: Observable<Listener>,
  onLaterFailure: (e: unknown) => void
): Promise<{ listener: Listener; subscription: Subscription } | { error: unknown }> {
  return new Promise((resolve) => {
    let bound = false
    const subscription = listen$.subscribe({
      next: (listener) => {
        bound = true
        resolve({ listener, subscription })
      },
      error: (e: unknown) => (bound ? onLaterFailure(e) : resolve({ error: e }))
    })
  })
}

/**
 * Runs `rx-msrp relay` with `args` on `stdio` until `options.signal` (default: SIGINT or SIGTERM), then closes the
 * listeners, lets forwarded chunks end (`limits.closeTimeoutMs`) and resolves 0. Resolves 1 for a bad config file or
 * a listener that cannot bind (naming it), 2 for a bad command line (docs/relay-cli.md).
 */
export async function relay(args: readonly string[], stdio: Stdio, options: RelayRunOptions = {}): Promise<number> {
  const decoded = decodeRelayArgs(args)
  if (E.isLeft(decoded)) {
    stdio.stderr.write(`rx-msrp relay: ${formatUsageError(decoded.left)}\n\n${RELAY_USAGE}`)
    return EXIT_USAGE
  }
  const a = decoded.right
  const emit = (e: RelayOutput): Promise<void> =>
    a.json
      ? writeAll(stdio.stdout, JSON.stringify(e) + '\n')
      : writeAll(e.event === 'error' ? stdio.stderr : stdio.stdout, formatRelayOutput(e) + '\n')
  const fatal = async (reasons: readonly string[]): Promise<number> => {
    for (const reason of reasons) {
      await emit({ event: 'error', reason })
      if (a.json) stdio.stderr.write(`rx-msrp relay: ${reason}\n`)
    }
    return EXIT_FAILURE
  }

  let file: RelayConfigFile = {}
  if (a.config !== undefined) {
    const loaded = await loadRelayConfig(a.config)
    if (E.isLeft(loaded)) return fatal(loaded.left)
    file = loaded.right
  }
  const resolved = resolveRelayConfig(file, a.overrides, randomToken(DEMO_PASSWORD_CHARS))
  if (E.isLeft(resolved)) {
    const flagsOnly = resolved.left.every((e: ConfigError) => e.path.startsWith('--'))
    const where = (e: ConfigError): string =>
      e.path.startsWith('--') || a.config === undefined ? formatConfigError(e) : `${a.config}: ${formatConfigError(e)}`
    if (!flagsOnly) return fatal(resolved.left.map(where))
    stdio.stderr.write(`rx-msrp relay: ${resolved.left.map(formatConfigError).join('\n')}\n\n${RELAY_USAGE}`)
    return EXIT_USAGE
  }
  const config = resolved.right
  const { limits } = config

  // The relay: credentials, registry, AUTH, forwarding. A limit left out is undefined, which each part reads as its
  // own default; limits a part refuses (RangeError) are config errors.
  let core: MsrpRelay
  let registry: ReturnType<typeof createRegistry>
  const secureUris: MsrpUri[] = []
  const plainUris: MsrpUri[] = []
  try {
    registry = createRegistry({ maxBindings: limits.maxBindings })
    const auth = createAuthHandler({
      realm: config.realm,
      credentials: memoryCredentials(config.users),
      registry,
      nonceStore: createNonceStore({ lifetimeMs: limits.nonceLifetimeMs }),
      minExpiresSec: limits.minExpiresSec,
      maxExpiresSec: limits.maxExpiresSec,
      defaultExpiresSec: limits.defaultExpiresSec,
      maxFailedAuth: limits.maxFailedAuth,
      useUri: (connection) => useUriOf(connection, plainUris, secureUris)
    })
    core = new MsrpRelay({
      auth,
      registry,
      probationMs: limits.probationMs,
      hopTimeoutMs: limits.hopTimeoutMs,
      maxPendingTransactions: limits.maxPendingTransactions,
      closeTimeoutMs: limits.closeTimeoutMs,
      wsChunkBytes: limits.wsChunkBytes,
      maxForwardChunkBytes: limits.maxForwardChunkBytes
    })
  } catch (e) {
    return fatal([`${a.config === undefined ? '' : `${a.config}: `}limits: ${messageOf(e)}`])
  }

  const logger = pino({ level: config.logLevel, base: { pid: process.pid } }, options.log ?? stdio.stderr)
  const metrics = createRelayMetrics({ sessions: () => registry.size })
  const observing = observeRelay(core.events$, { logger, metrics })

  const signals = options.signal === undefined ? processSignals() : undefined
  const signal = options.signal ?? signals!.signal
  const subscriptions: Subscription[] = []
  let metricsServer: MetricsServer | undefined
  let certificate: Certificate | undefined
  let failed!: (e: unknown) => void
  const failure = new Promise<unknown>((resolve) => (failed = resolve))
  try {
    const needsTls = config.listen.tls.length > 0 || config.listen.wss.length > 0
    if (needsTls) {
      try {
        certificate = await certificateFor(config)
      } catch (e) {
        return await fatal([messageOf(e)])
      }
    }

    const listening: string[] = []
    const demoUrls: string[] = []
    const demo = a.demo === true || config.demo !== undefined
    if (a.demo === true && config.listen.wss.length === 0)
      return await fatal(['--demo needs a WSS listener (--wss HOST:PORT)'])
    for (const kind of LISTENER_KINDS) {
      for (const address of config.listen[kind]) {
        const bound = await bind(
          listenerFor(kind, address, config, certificate, demo ? (options.demo ?? {}) : undefined),
          failed
        )
        if ('error' in bound) return await fatal([messageOf(bound.error)])
        subscriptions.push(bound.subscription)
        const uri = relayUriOf(kind, config.host ?? address.host, bound.listener.address.port)
        ;(kind === 'tls' || kind === 'wss' ? secureUris : plainUris).push(uri)
        subscriptions.push(core.serve(bound.listener, uri))
        listening.push(formatUri(uri))
        if (demo && kind === 'wss') demoUrls.push(`https://${uri.host}:${uri.port}/`)
      }
    }
    if (config.metrics !== undefined) {
      try {
        metricsServer = await serveMetrics(metrics.registry, config.metrics.host, config.metrics.port)
      } catch (e) {
        return await fatal([messageOf(e)])
      }
    }

    for (const uri of listening) await emit({ event: 'listening', uri })
    if (certificate?.generated !== undefined) {
      await emit({ event: 'certificate', path: certificate.generated.path, sha256: certificate.generated.sha256 })
    }
    if (metricsServer !== undefined) await emit({ event: 'metrics', url: metricsServer.url })
    for (const url of demoUrls) await emit({ event: 'demo', url })
    if (config.demo !== undefined) await emit({ event: 'user', name: config.demo.name, password: config.demo.password })

    const stopped = await Promise.race([aborted(signal).then(() => undefined), failure.then((e) => ({ e }))])
    if (stopped !== undefined) return await fatal([`a listener failed: ${messageOf(stopped.e)}`])
    return EXIT_OK
  } finally {
    signals?.dispose()
    // Stop accepting, let chunks being forwarded end (closeTimeoutMs), close every connection.
    await core.close()
    for (const s of subscriptions) s.unsubscribe()
    observing.unsubscribe()
    await metricsServer?.close()
    if (certificate?.generated !== undefined) await rm(certificate.generated.dir, { recursive: true, force: true })
    logger.flush()
  }
}

/**
 * The URI that an AUTH's Use-Path is built on (RFC 7977 §8: a WebSocket client's peers reach it through the relay's
 * TCP or TLS URI, which they can connect to): for a WebSocket connection, the first TLS (for WSS) or TCP listener's
 * URI, whichever exists; otherwise the URI of the connection's own listener.
 * @internal
 */
function useUriOf(connection: RelayConnection, plain: readonly MsrpUri[], secure: readonly MsrpUri[]): MsrpUri {
  const kind = connection.transport.info.kind
  const byteStream = (uris: readonly MsrpUri[]): MsrpUri | undefined => uris.find((u) => u.transport === 'tcp')
  const choice =
    kind === 'wss'
      ? (byteStream(secure) ?? byteStream(plain))
      : kind === 'ws'
        ? (byteStream(plain) ?? byteStream(secure))
        : undefined
  return choice ?? connection.relayUri
}
