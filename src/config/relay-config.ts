/**
 * The configuration of `rx-msrp relay` (docs/relay-cli.md): io-ts codecs for the config file, the command-line
 * overrides, and the embedded default that `rx-msrp relay` without arguments runs with.
 *
 * Pure (STYLE.md §4): no node built-ins, no rxjs, no I/O. The CLI reads and parses the file (YAML or JSON) and hands
 * the parsed value to {@link decodeRelayConfig}; bad input is a list of {@link ConfigError}s naming the field, never an
 * exception.
 *
 * ```text
 * { listen: { tcp: ['127.0.0.1:2855'] }, realm: 7 }
 *   decodeRelayConfig   → left([{ path: 'realm', detail: 'expected a realm (a non-empty string without ")", got 7' }])
 * { listen: { udp: [] } }
 *   decodeRelayConfig   → left([{ path: 'listen.udp', detail: 'unknown key (expected one of tcp, tls, ws, wss)' }])
 * file ⊕ flags ⊕ EMBEDDED_RELAY_CONFIG
 *   resolveRelayConfig  → right(RelayConfig)   flags win over the file, the file over the embedded default
 * ```
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { parseUri } from '../wire/uri'
import { stringCodec } from './string-codec'

// ---------------------------------------------------------------------------------------------------------------
// Defaults: every one of them, in one place (STYLE.md §2)

/** Port of the embedded TCP listener (`msrp://…;tcp`, RFC 4975 §6's registered port). */
export const DEFAULT_TCP_PORT = 2855
/** Port of the embedded TLS listener (`msrps://…;tcp`). */
export const DEFAULT_TLS_PORT = 2856
/** Port of the embedded WebSocket listener (`msrp://…;ws`, RFC 7977). */
export const DEFAULT_WS_PORT = 8080
/** Port of the embedded secure WebSocket listener (`msrps://…;ws`). */
export const DEFAULT_WSS_PORT = 8443
/** Address every embedded listener binds: loopback only, so that the no-argument relay is never reachable from outside. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1'
/** The Digest realm (RFC 4976 §6.3) when none is configured. */
export const DEFAULT_REALM = 'rx-msrp'
/** The user created when none is configured; its password is random per start and printed. */
export const DEMO_USER_NAME = 'demo'
/** Log level when none is configured. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info'
/** Validity of the self-signed certificate generated at start when no `tls.cert`/`tls.key` is configured. */
export const DEFAULT_SELF_SIGNED_DAYS = 90

// ---------------------------------------------------------------------------------------------------------------
// Values

/** The kinds of listener the relay opens: TCP and TLS (RFC 4975 §6), WebSocket and secure WebSocket (RFC 7977). */
export type ListenerKind = 'tcp' | 'tls' | 'ws' | 'wss'

/** Every {@link ListenerKind}, in the order listeners are opened and printed. */
export const LISTENER_KINDS: readonly ListenerKind[] = ['tcp', 'tls', 'ws', 'wss']

/** Where to listen: a host (IPv6 without brackets) and a port (0: any free port). */
export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/** A user's secret: a plain password, or its HA1 (MD5 of `user:realm:password`, 32 lower-case hex digits). */
export type UserSecret = { readonly password: string } | { readonly ha1: string }

/** pino's levels, `silent` turning logging off. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/**
 * Limits and timeouts. Each one left out takes the default of the part that applies it (the relay, AUTH, the
 * transports: docs/relay-cli.md lists them), so every default stays in one place.
 */
export interface RelayLimits {
  /** Expires granted to an AUTH without one (seconds); AUTH's `AUTH_DEFAULT_EXPIRES_SEC` (1800). */
  readonly defaultExpiresSec?: number
  /** Smallest Expires an AUTH may ask for; below: 423 with Min-Expires (RFC 4976 §6.3, R-6.3-4); `AUTH_MIN_EXPIRES_SEC`. */
  readonly minExpiresSec?: number
  /** Largest Expires granted; above: 423 with Max-Expires; `AUTH_MAX_EXPIRES_SEC`. */
  readonly maxExpiresSec?: number
  /** Failed AUTHs in a row on one connection before it gets 403 and is closed; `AUTH_MAX_FAILED`. */
  readonly maxFailedAuth?: number
  /** How long a Digest nonce stays valid (ms); `DIGEST_NONCE_LIFETIME_MS`. */
  readonly nonceLifetimeMs?: number
  /** Live URIs issued by AUTH at most (then 403); `REGISTRY_MAX_BINDINGS`. */
  readonly maxBindings?: number
  /** A connection with no successful request within this time is closed (ms, R-6.1-2); `PROBATION_MS`. */
  readonly probationMs?: number
  /** A forwarded SEND unanswered this long after its last byte gets a 408 REPORT (ms, R-6.4.1-2); `HOP_TIMEOUT_MS`. */
  readonly hopTimeoutMs?: number
  /** Forwarded transactions awaiting a response per connection; `MAX_PENDING_TRANSACTIONS`. */
  readonly maxPendingTransactions?: number
  /** After SIGINT/SIGTERM, how long chunks being forwarded may take to end before every connection is closed (ms); `CLOSE_TIMEOUT_MS`. */
  readonly closeTimeoutMs?: number
  /** WebSocket Ping interval (ms, RFC 7977 §6), 0 turns keep-alive off; `WS_KEEP_ALIVE_INTERVAL_MS`. */
  readonly wsKeepAliveIntervalMs?: number
  /** Largest WebSocket message accepted (bytes); `WS_MAX_PAYLOAD_BYTES`. */
  readonly wsMaxPayloadBytes?: number
  /** Most body bytes per frame forwarded to a WebSocket next hop (one frame per message, W-5.1-3); `WS_CHUNK_BYTES`. */
  readonly wsChunkBytes?: number
  /**
   * Most body bytes per frame forwarded to any next hop; larger chunks are re-chunked (R-6.4.1-4). Default unlimited
   * (`MAX_FORWARD_CHUNK_BYTES`); 8192 keeps frames under Kamailio's cap (docs/interop-kamailio.md).
   */
  readonly maxForwardChunkBytes?: number
}

/** The config file, decoded: every field optional (what is missing comes from the embedded default). */
export interface RelayConfigFile {
  /** Listeners by kind. When given, only the kinds listed here are opened. */
  readonly listen?: Partial<Readonly<Record<ListenerKind, readonly ListenAddress[]>>>
  /** The host name in the relay's URIs (Use-Path, From-Path); default: each listener's own address. */
  readonly host?: string
  readonly realm?: string
  /** PEM files of the certificate chain and key for TLS and WSS; default: a self-signed certificate made at start. */
  readonly tls?: { readonly cert?: string; readonly key?: string }
  /** Users by name. */
  readonly users?: Readonly<Record<string, UserSecret>>
  /** Origins allowed to open WebSockets (RFC 7977 §7); default: any. */
  readonly allowedOrigins?: readonly string[]
  /** Serve Prometheus metrics on `http://HOST:PORT/metrics`; default: no metrics listener. */
  readonly metrics?: ListenAddress
  readonly log?: { readonly level?: LogLevel }
  readonly limits?: RelayLimits
}

/** What the command line can set, over the file (docs/relay-cli.md). `undefined`: not given. */
export interface RelayOverrides {
  readonly tcp?: readonly ListenAddress[]
  readonly tls?: readonly ListenAddress[]
  readonly ws?: readonly ListenAddress[]
  readonly wss?: readonly ListenAddress[]
  readonly cert?: string
  readonly key?: string
  readonly users?: readonly UserFlag[]
  readonly realm?: string
  readonly host?: string
  readonly allowedOrigins?: readonly string[]
  readonly metrics?: ListenAddress
}

/** A `--user NAME:PASSWORD`. */
export interface UserFlag {
  readonly name: string
  readonly password: string
}

/** The configuration the relay runs with: the file and the flags over the embedded default, checked. */
export interface RelayConfig {
  readonly listen: Readonly<Record<ListenerKind, readonly ListenAddress[]>>
  readonly host: string | undefined
  readonly realm: string
  /** Certificate and key files; `undefined`: generate a self-signed certificate at start (when TLS or WSS is on). */
  readonly tls: { readonly cert: string; readonly key: string } | undefined
  readonly users: Readonly<Record<string, UserSecret>>
  /** Set when no user was configured: the demo user (in `users` too), to print at start. */
  readonly demo: UserFlag | undefined
  /** `undefined`: any origin may connect. */
  readonly allowedOrigins: readonly string[] | undefined
  readonly metrics: ListenAddress | undefined
  readonly logLevel: LogLevel
  readonly limits: RelayLimits
}

/** A field of the config (or a flag) that is wrong: `path` names it (`listen.tcp[0]`, `users.alice.ha1`, `--tcp`). */
export interface ConfigError {
  readonly _tag: 'ConfigError'
  readonly path: string
  /** `expected …, got …`, `unknown key …`, `is required …`. */
  readonly detail: string
}

/** Builds a {@link ConfigError}. */
export const configError = (path: string, detail: string): ConfigError => ({ _tag: 'ConfigError', path, detail })

/** `listen.tcp[0]: expected HOST:PORT, got "x"`. */
export const formatConfigError = (e: ConfigError): string => `${e.path}: ${e.detail}`

/** The embedded default: what `rx-msrp relay` runs with when neither a file nor a flag says otherwise. */
export const EMBEDDED_RELAY_CONFIG: RelayConfigFile = {
  listen: {
    tcp: [{ host: DEFAULT_LISTEN_HOST, port: DEFAULT_TCP_PORT }],
    tls: [{ host: DEFAULT_LISTEN_HOST, port: DEFAULT_TLS_PORT }],
    ws: [{ host: DEFAULT_LISTEN_HOST, port: DEFAULT_WS_PORT }],
    wss: [{ host: DEFAULT_LISTEN_HOST, port: DEFAULT_WSS_PORT }]
  },
  realm: DEFAULT_REALM,
  log: { level: DEFAULT_LOG_LEVEL }
}

// ---------------------------------------------------------------------------------------------------------------
// Leaf parsers, shared with the command line

/** @internal Shortens what we echo back. */
const show = (u: unknown): string => {
  let s: string
  try {
    s = u === undefined ? 'nothing' : (JSON.stringify(u) ?? String(u))
  } catch {
    s = String(u)
  }
  return s.length > 60 ? `${s.slice(0, 60)}…` : s
}

/** Whether `host` is a usable host: an IPv4 address, an IPv6 address (bare) or a host name. @internal */
function hostError(host: string): string | undefined {
  if (host === '') return 'the host is empty'
  const literal = host.includes(':') ? `[${host}]` : host
  const parsed = parseUri(`msrp://${literal}:1;tcp`)
  return E.isLeft(parsed) ? parsed.left.detail : undefined
}

/** The host as it goes in a URI: IPv6 addresses in brackets. */
export const uriHost = (host: string): string => (host.includes(':') ? `[${host}]` : host)

/** Whether `host` is a wildcard address (every interface), which is no host name for a URI. */
export const isWildcardHost = (host: string): boolean =>
  host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0'

/**
 * Parses `HOST:PORT`: an IPv4 address or host name, or an IPv6 address in brackets (`[::1]:2855`), and a port from 0
 * (any free port) to 65535.
 */
export function parseListenAddress(s: string): E.Either<string, ListenAddress> {
  const expected = `expected HOST:PORT (IPv6 as [ADDRESS]:PORT), got ${show(s)}`
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(s)
  if (m === null) return E.left(expected)
  const host = m[1] ?? m[2] ?? ''
  if (m[1] !== undefined && !host.includes(':')) return E.left(expected)
  const bad = hostError(host)
  if (bad !== undefined) return E.left(`${bad} in ${show(s)}`)
  const port = Number(m[3])
  if (port > 65535 || ((m[3] as string).length > 1 && (m[3] as string).startsWith('0')))
    return E.left(`expected a port from 0 to 65535, got ${show(s)}`)
  return E.right({ host, port })
}

/** Formats a {@link ListenAddress} back as `HOST:PORT`. */
export const formatListenAddress = (a: ListenAddress): string => `${uriHost(a.host)}:${a.port}`

const USER_NAME = /^[^\s:"\\\x00-\x1f\x7f]+$/
const HA1 = /^[0-9a-fA-F]{32}$/
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\s]+$/
const REALM = /^[^"\\\x00-\x1f\x7f]+$/

/** Parses `--user NAME:PASSWORD` (the first `:` separates them; the password may contain more). */
export function parseUserFlag(s: string): E.Either<string, UserFlag> {
  const colon = s.indexOf(':')
  const name = colon === -1 ? s : s.slice(0, colon)
  const password = colon === -1 ? '' : s.slice(colon + 1)
  if (colon === -1 || name === '' || password === '') return E.left(`expected NAME:PASSWORD, got ${show(s)}`)
  if (!USER_NAME.test(name)) return E.left(`a user name has no space, ", \\ or control character, got ${show(name)}`)
  return E.right({ name, password })
}

/** Checks a WebSocket origin (`https://chat.example.com[:port]`, RFC 6454 serialization). */
export function parseOrigin(s: string): E.Either<string, string> {
  return ORIGIN.test(s) ? E.right(s) : E.left(`expected an origin like https://chat.example.com, got ${show(s)}`)
}

/** Checks a Digest realm: not empty, no `"`, `\` or control character (it goes into a quoted string). */
export function parseRealm(s: string): E.Either<string, string> {
  return REALM.test(s) ? E.right(s) : E.left(`expected a realm (a non-empty string without " or \\), got ${show(s)}`)
}

/** Checks the host name of the relay's URIs. */
export function parseHost(s: string): E.Either<string, string> {
  const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s
  const bad = hostError(bare)
  if (bad !== undefined) return E.left(`expected a host name or address, got ${show(s)}: ${bad}`)
  if (isWildcardHost(bare)) return E.left(`a wildcard address is no host for a URI, got ${show(s)}`)
  return E.right(bare)
}

// ---------------------------------------------------------------------------------------------------------------
// Codecs of the file

/** A codec from a parser of strings; anything else is refused naming what was expected. @internal */
const textCodec = <A>(name: string, is: (u: unknown) => u is A, parse: (s: string) => E.Either<string, A>) =>
  stringCodec<A, unknown>(
    name,
    is,
    parse,
    (a) => a,
    (u) => `expected ${name}, got ${show(u)}`
  )

const isString = (u: unknown): u is string => typeof u === 'string'
const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)
const isAddress = (u: unknown): u is ListenAddress =>
  isRecord(u) && typeof u['host'] === 'string' && typeof u['port'] === 'number'

const Address = textCodec('HOST:PORT', isAddress, parseListenAddress)
const Path = textCodec('a file name', isString, (s) => (s === '' ? E.left('expected a file name, got ""') : E.right(s)))
const Realm = textCodec('a realm', isString, parseRealm)
const Host = textCodec('a host name', isString, parseHost)
const Origin = textCodec('an origin', isString, parseOrigin)
const Level = textCodec(
  'a log level',
  (u): u is LogLevel => LOG_LEVELS.includes(u as LogLevel),
  (s) =>
    LOG_LEVELS.includes(s as LogLevel)
      ? E.right(s as LogLevel)
      : E.left(`expected one of ${LOG_LEVELS.join(', ')}, got ${show(s)}`)
)

/** A whole number from `min` up. @internal */
const integerFrom = (min: number): t.Type<number, unknown, unknown> =>
  new t.Type<number, unknown, unknown>(
    `an integer ≥ ${min}`,
    (u): u is number => Number.isSafeInteger(u) && (u as number) >= min,
    (u, c) =>
      Number.isSafeInteger(u) && (u as number) >= min
        ? t.success(u as number)
        : t.failure(u, c, `expected an integer ≥ ${min}, got ${show(u)}`),
    (n) => n
  )

/** A list: each element decoded, the path of a bad one is `list[i]`. @internal */
const listOf = <A>(item: t.Type<A, unknown, unknown>): t.Type<readonly A[], unknown, unknown> =>
  new t.Type<readonly A[], unknown, unknown>(
    `a list of ${item.name}`,
    (u): u is readonly A[] => Array.isArray(u) && u.every(item.is),
    (u, c) => {
      if (!Array.isArray(u)) return t.failure(u, c, `expected a list of ${item.name}, got ${show(u)}`)
      const errors: t.ValidationError[] = []
      const out: A[] = []
      u.forEach((v: unknown, i) => {
        const r = item.validate(v, t.appendContext(c, String(i), item, v))
        if (E.isLeft(r)) errors.push(...r.left)
        else out.push(r.right)
      })
      return errors.length > 0 ? t.failures(errors) : t.success(out)
    },
    (a) => a
  )

/**
 * An object with the optional fields `props`, refusing any other key (io-ts's `t.exact` only strips unknown keys,
 * and a misspelt key silently ignored is a setting silently lost).
 * @internal
 */
function strictObject<P extends Record<string, t.Mixed>>(
  name: string,
  props: P
): t.Type<{ readonly [K in keyof P]?: t.TypeOf<P[K]> }, unknown, unknown> {
  type A = { readonly [K in keyof P]?: t.TypeOf<P[K]> }
  const known = Object.keys(props)
  return new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => isRecord(u) && Object.keys(u).every((k) => known.includes(k)),
    (u, c) => {
      if (!isRecord(u)) return t.failure(u, c, `expected ${name}, got ${show(u)}`)
      const errors: t.ValidationError[] = []
      const out: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(u)) {
        const codec = Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined
        if (codec === undefined) {
          errors.push({
            value,
            context: t.appendContext(c, key, t.never, value),
            message: `unknown key (expected one of ${known.join(', ')})`
          })
          continue
        }
        // A key written without a value (`host:` in YAML is null) is as good as absent.
        if (value === undefined || value === null) continue
        const r = codec.validate(value, t.appendContext(c, key, codec, value))
        if (E.isLeft(r)) errors.push(...r.left)
        else out[key] = r.right
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out as A)
    },
    (a) => a
  )
}

/** A user's secret: `password: …` or `ha1: …`, or the password as a plain string. */
const Secret = new t.Type<UserSecret, unknown, unknown>(
  'a user secret',
  (u): u is UserSecret => isRecord(u) && (typeof u['password'] === 'string' || typeof u['ha1'] === 'string'),
  (u, c) => {
    const expected = 'expected a password (a string), { password: STRING } or { ha1: 32 HEX DIGITS }'
    if (typeof u === 'string') return u === '' ? t.failure(u, c, `${expected}, got ""`) : t.success({ password: u })
    if (!isRecord(u)) return t.failure(u, c, `${expected}, got ${show(u)}`)
    const keys = Object.keys(u)
    const unknown = keys.find((k) => k !== 'password' && k !== 'ha1')
    if (unknown !== undefined) {
      return t.failure(
        u[unknown],
        t.appendContext(c, unknown, t.never, u[unknown]),
        'unknown key (expected password or ha1)'
      )
    }
    if (keys.length !== 1) return t.failure(u, c, `${expected}, got ${show(u)}`)
    const password = u['password']
    if (password !== undefined) {
      return typeof password === 'string' && password !== ''
        ? t.success({ password })
        : t.failure(
            password,
            t.appendContext(c, 'password', t.string, password),
            `expected a non-empty string, got ${show(password)}`
          )
    }
    const ha1 = u['ha1']
    return typeof ha1 === 'string' && HA1.test(ha1)
      ? t.success({ ha1: ha1.toLowerCase() })
      : t.failure(
          ha1,
          t.appendContext(c, 'ha1', t.string, ha1),
          `expected 32 hex digits (MD5 of user:realm:password), got ${show(ha1)}`
        )
  },
  (a) => a
)

/** Users by name; a name with a space, `:`, `"`, `\` or a control character is refused. */
const Users = new t.Type<Readonly<Record<string, UserSecret>>, unknown, unknown>(
  'users',
  (u): u is Readonly<Record<string, UserSecret>> => isRecord(u) && Object.values(u).every(Secret.is),
  (u, c) => {
    if (!isRecord(u)) return t.failure(u, c, `expected users by name ({ NAME: { password: … } }), got ${show(u)}`)
    const errors: t.ValidationError[] = []
    const out: [string, UserSecret][] = []
    for (const [name, value] of Object.entries(u)) {
      const at = t.appendContext(c, name, Secret, value)
      if (!USER_NAME.test(name)) {
        errors.push({ value: name, context: at, message: 'a user name has no space, :, ", \\ or control character' })
        continue
      }
      const r = Secret.validate(value, at)
      if (E.isLeft(r)) errors.push(...r.left)
      else out.push([name, r.right])
    }
    // fromEntries defines own properties: a user named __proto__ stays a user.
    return errors.length > 0 ? t.failures(errors) : t.success(Object.fromEntries(out))
  },
  (a) => a
)

const Listen = strictObject('listeners by kind ({ tcp: [HOST:PORT, …], tls, ws, wss })', {
  tcp: listOf(Address),
  tls: listOf(Address),
  ws: listOf(Address),
  wss: listOf(Address)
})

const Limits = strictObject('limits', {
  defaultExpiresSec: integerFrom(1),
  minExpiresSec: integerFrom(1),
  maxExpiresSec: integerFrom(1),
  maxFailedAuth: integerFrom(1),
  nonceLifetimeMs: integerFrom(1),
  maxBindings: integerFrom(1),
  probationMs: integerFrom(1),
  hopTimeoutMs: integerFrom(1),
  maxPendingTransactions: integerFrom(1),
  closeTimeoutMs: integerFrom(0),
  wsKeepAliveIntervalMs: integerFrom(0),
  wsMaxPayloadBytes: integerFrom(1),
  wsChunkBytes: integerFrom(1),
  maxForwardChunkBytes: integerFrom(1)
})

/** The codec of the config file (docs/relay-cli.md, docs/examples/relay.yaml). */
export const RelayConfigFileC = strictObject('a relay config (an object)', {
  listen: Listen,
  host: Host,
  realm: Realm,
  tls: strictObject('{ cert: FILE, key: FILE }', { cert: Path, key: Path }),
  users: Users,
  allowedOrigins: listOf(Origin),
  metrics: Address,
  log: strictObject('{ level: LEVEL }', { level: Level }),
  limits: Limits
})

/** `listen.tcp[0]`, `users.alice.ha1`: the keys of an io-ts context, indexes in brackets. @internal */
function pathOf(context: t.Context): string {
  let path = ''
  for (const entry of context) {
    if (entry.key === '') continue
    path += /^[0-9]+$/.test(entry.key) ? `[${entry.key}]` : path === '' ? entry.key : `.${entry.key}`
  }
  return path === '' ? '(the config)' : path
}

/** Decodes a parsed config file (YAML or JSON) into {@link RelayConfigFile}, or every field that is wrong. */
export function decodeRelayConfig(u: unknown): E.Either<readonly ConfigError[], RelayConfigFile> {
  // An empty YAML file parses to null: no setting at all.
  const value = u === null || u === undefined ? {} : u
  return pipe(
    RelayConfigFileC.decode(value),
    E.mapLeft((errors) =>
      errors.map((e) => configError(pathOf(e.context), e.message ?? `expected ${e.context.at(-1)?.type.name ?? '?'}`))
    ),
    E.chain((file) => {
      const { minExpiresSec: min, maxExpiresSec: max, defaultExpiresSec: dflt } = file.limits ?? {}
      const errors: ConfigError[] = []
      if (min !== undefined && max !== undefined && min > max)
        errors.push(configError('limits.minExpiresSec', `is above limits.maxExpiresSec (${max})`))
      if (dflt !== undefined && min !== undefined && dflt < min)
        errors.push(configError('limits.defaultExpiresSec', `is below limits.minExpiresSec (${min})`))
      if (dflt !== undefined && max !== undefined && dflt > max)
        errors.push(configError('limits.defaultExpiresSec', `is above limits.maxExpiresSec (${max})`))
      return errors.length > 0 ? E.left(errors) : E.right(file)
    })
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution: file and flags over the embedded default

/**
 * The configuration to run: `overrides` (the flags) over `file` over {@link EMBEDDED_RELAY_CONFIG}, each field taken
 * whole from the first that sets it. Listeners: any listener flag replaces every listener of the file, and a file's
 * `listen` replaces the embedded four. Users: with none configured, the demo user {@link DEMO_USER_NAME} with
 * `demoPassword` (random per start: the caller makes it, this layer stays pure).
 *
 * Fails when no listener is left, when only one of cert and key is given, or when a listener binds a wildcard
 * address and no `host` names the relay for its URIs.
 */
export function resolveRelayConfig(
  file: RelayConfigFile,
  overrides: RelayOverrides,
  demoPassword: string
): E.Either<readonly ConfigError[], RelayConfig> {
  const base = EMBEDDED_RELAY_CONFIG
  const flagListeners = LISTENER_KINDS.some((k) => overrides[k] !== undefined)
  const listen: Record<ListenerKind, readonly ListenAddress[]> = { tcp: [], tls: [], ws: [], wss: [] }
  const source = flagListeners ? overrides : (file.listen ?? base.listen ?? {})
  for (const kind of LISTENER_KINDS) listen[kind] = source[kind] ?? []

  const errors: ConfigError[] = []
  const where = flagListeners ? '--tcp/--tls/--ws/--wss' : file.listen !== undefined ? 'listen' : 'the default'
  if (LISTENER_KINDS.every((k) => listen[k].length === 0)) errors.push(configError(where, 'no listener to open'))

  const host = overrides.host ?? file.host
  if (host === undefined) {
    for (const kind of LISTENER_KINDS) {
      const wildcard = listen[kind].find((a) => isWildcardHost(a.host))
      if (wildcard !== undefined) {
        errors.push(
          configError(
            flagListeners ? `--${kind}` : `listen.${kind}`,
            `${formatListenAddress(wildcard)} listens on every interface: give the relay's host name with --host or host`
          )
        )
        break
      }
    }
  }

  const cert = overrides.cert ?? file.tls?.cert
  const key = overrides.key ?? file.tls?.key
  if (cert !== undefined && key === undefined)
    errors.push(configError(overrides.cert !== undefined ? '--key' : 'tls.key', 'is required with a certificate'))
  if (key !== undefined && cert === undefined)
    errors.push(configError(overrides.key !== undefined ? '--cert' : 'tls.cert', 'is required with a key'))
  if (errors.length > 0) return E.left(errors)

  let users: Readonly<Record<string, UserSecret>>
  let demo: UserFlag | undefined
  if (overrides.users !== undefined && overrides.users.length > 0) {
    users = Object.fromEntries(overrides.users.map((u) => [u.name, { password: u.password }]))
  } else if (file.users !== undefined && Object.keys(file.users).length > 0) {
    users = file.users
  } else {
    demo = { name: DEMO_USER_NAME, password: demoPassword }
    users = { [DEMO_USER_NAME]: { password: demoPassword } }
  }

  return E.right({
    listen,
    host,
    realm: overrides.realm ?? file.realm ?? base.realm ?? DEFAULT_REALM,
    tls: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    users,
    demo,
    allowedOrigins: overrides.allowedOrigins ?? file.allowedOrigins,
    metrics: overrides.metrics ?? file.metrics,
    logLevel: file.log?.level ?? base.log?.level ?? DEFAULT_LOG_LEVEL,
    limits: file.limits ?? {}
  })
}
