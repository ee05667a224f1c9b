/**
 * Command-line options of `rx-msrp send` and `rx-msrp listen` (docs/cli.md): argv → flags → io-ts codecs → typed
 * options. Pure: a bad command line is a `UsageError` naming the option, never an exception.
 *
 * ```text
 * ['--from', 'msrp://a.example:7/s1;tcp', '--chunk-size=abc']
 *   readFlags   → { from: 'msrp://a.example:7/s1;tcp', 'chunk-size': 'abc' }
 *   decode      → left({ option: '--chunk-size', detail: 'expected a positive integer, got "abc"' })
 * ```
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { ContentType } from '../wire/headers/content-type'
import { isQuotable } from '../wire/headers/grammar'
import { isIdent, parseMessageId } from '../wire/headers/message-id'
import { FAILURE_REPORT_DEFAULT, type FailureReport as FailureReportValue } from '../wire/headers/report'
import { formatUri, isMsrpUri, parseUri, type MsrpUri } from '../wire/uri'
import { stringCodec } from '../config/string-codec'

/** A command line the command does not understand: exit status 2, with the usage. */
export interface UsageError {
  readonly _tag: 'UsageError'
  /** The option at fault (`--chunk-size`), when there is one. */
  readonly option: string | undefined
  readonly detail: string
}

/** Builds a `UsageError`. */
export const usageError = (option: string | undefined, detail: string): UsageError => ({
  _tag: 'UsageError',
  option,
  detail
})

/** `--chunk-size: expected a positive integer, got "abc"`. */
export const formatUsageError = (e: UsageError): string =>
  e.option === undefined ? e.detail : `${e.option}: ${e.detail}`

/** What a flag takes: a value (`--uri U` or `--uri=U`), nothing (`--json`), or a value each time it is repeated. */
export type FlagKind = 'value' | 'switch' | 'repeat'

/** The flags as given: a value flag's string, `true` for a switch, the values in order for a repeatable flag. */
export type RawFlags = Readonly<Record<string, string | true | readonly string[]>>

/**
 * Reads `--name value`, `--name=value` and `--switch` arguments. Refused: positional arguments, unknown flags (short
 * ones too), a value flag without a value (the end of argv, or a next argument starting with `--`: write
 * `--text=--x` for such a value), a value given to a switch, and a flag given twice (unless it is a `repeat` flag,
 * whose values are collected in order).
 */
export function readFlags(
  args: readonly string[],
  flags: Readonly<Record<string, FlagKind>>
): E.Either<UsageError, RawFlags> {
  const out: Record<string, string | true | string[]> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (!arg.startsWith('--') || arg === '--') {
      return E.left(usageError(undefined, `unexpected argument ${JSON.stringify(arg)}`))
    }
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const option = `--${name}`
    const kind = Object.prototype.hasOwnProperty.call(flags, name) ? flags[name] : undefined
    if (kind === undefined) return E.left(usageError(option, 'unknown option'))
    if (kind !== 'repeat' && Object.prototype.hasOwnProperty.call(out, name))
      return E.left(usageError(option, 'given twice'))
    if (kind === 'switch') {
      if (eq !== -1) return E.left(usageError(option, 'takes no value'))
      out[name] = true
      continue
    }
    let value: string | undefined
    if (eq !== -1) value = arg.slice(eq + 1)
    else {
      value = args[i + 1]
      if (value === undefined || value.startsWith('--')) return E.left(usageError(option, 'needs a value'))
      i++
    }
    if (kind === 'repeat') {
      const values = out[name]
      out[name] = Array.isArray(values) ? [...values, value] : [value]
    } else out[name] = value
  }
  return E.right(out)
}

/** A codec from a flag's string value (a flag given without one is refused: "needs a value"). */
export const valueCodec = <A>(
  name: string,
  is: (u: unknown) => u is A,
  parse: (s: string) => E.Either<string, A>,
  encode: (a: A) => string
): t.Type<A, string, unknown> => stringCodec(name, is, parse, encode, () => 'needs a value')

const isString = (u: unknown): u is string => typeof u === 'string'
const isNumber = (u: unknown): u is number => typeof u === 'number'
const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s)

/** A switch (`--json`): present or absent. */
export const Switch = t.literal(true)

/** Any string, the empty one included (`--text ""` sends an empty message). */
export const Text = valueCodec('text', isString, E.right, String)

/** A file or directory name. */
export const FilePath = valueCodec(
  'path',
  isString,
  (s) => (s === '' ? E.left('expected a file name, got ""') : E.right(s)),
  String
)

/** A decimal integer ≥ `min`, without sign, exponent or leading zeros. */
const integerAtLeast = (min: number, what: string): t.Type<number, string, unknown> =>
  valueCodec(
    what,
    isNumber,
    (s) => {
      const n = /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : NaN
      return Number.isSafeInteger(n) && n >= min ? E.right(n) : E.left(`expected ${what}, got ${show(s)}`)
    },
    String
  )

/** `--chunk-size`: 1 or more. */
export const PositiveInteger = integerAtLeast(1, 'a positive integer')
/** `--max-size`: 0 or more. */
export const NonNegativeInteger = integerAtLeast(0, 'a non-negative integer')

/** `--message-id`: a Message-ID to reuse (RFC 4975 §9 `ident`: 4 to 32 of ALPHANUM . - + % =, ALPHANUM first). */
export const MessageIdFlag = valueCodec('message-id', isIdent, (s) => parseMessageId(s), String)

/** An MSRP URI (RFC 4975 §6), with the parser's reason when it is not one. */
export const Uri = valueCodec(
  'msrp-uri',
  isMsrpUri,
  (s) =>
    pipe(
      parseUri(s),
      E.mapLeft((f) => f.detail)
    ),
  formatUri
)

/** A path of MSRP URIs separated by spaces (RFC 4975 §9 `MSRP-path`), at least one. */
export const UriPath = valueCodec(
  'msrp-path',
  (u): u is readonly MsrpUri[] => Array.isArray(u) && u.every(isMsrpUri),
  (s) => {
    const parts = s.split(/\s+/).filter((p) => p !== '')
    if (parts.length === 0) return E.left('expected one or more MSRP URIs separated by spaces')
    const uris: MsrpUri[] = []
    for (const part of parts) {
      const u = parseUri(part)
      if (E.isLeft(u)) return E.left(u.left.detail)
      uris.push(u.right)
    }
    return E.right(uris)
  },
  (us) => us.map(formatUri).join(' ')
)

/**
 * The local URI of `listen`: an MSRP URI that may carry port 0 ("pick a free port", as `listen(0)` does); the port
 * actually bound then replaces it. `parseUri` refuses port 0 (no one can connect to it), so it is read as port 1
 * and set back to 0.
 */
export const ListenUri = valueCodec(
  'msrp-uri',
  isMsrpUri,
  (s) => {
    const zero = /^(msrps?:\/\/(?:[^@/;]*@)?(?:\[[^\]]*\]|[^:/;[]*)):0(?=[/;])/i.exec(s)
    const parsed = parseUri(zero === null ? s : `${zero[1] as string}:1${s.slice(zero[0].length)}`)
    if (E.isLeft(parsed)) return E.left(parsed.left.detail)
    return E.right(zero === null ? parsed.right : { ...parsed.right, port: 0 })
  },
  formatUri
)

/** A Content-Type value (RFC 4975 §9 media-type, e.g. `text/plain;charset=utf-8`). */
export const MediaType = valueCodec(
  'media-type',
  isString,
  (s) =>
    pipe(
      ContentType.decode(s),
      E.bimap(
        () => `expected type/subtype *(;name=value), got ${show(s)}`,
        () => s
      )
    ),
  String
)

/**
 * Accepted media types, separated by spaces (or commas): `*`, `type/*` or `type/subtype` (RFC 4975 §8.6
 * `accept-types`; parameters are ignored when matching).
 */
export const MediaRanges = valueCodec(
  'accept-types',
  (u): u is readonly string[] => Array.isArray(u) && u.every(isString),
  (s) => {
    const parts = s.split(/[\s,]+/).filter((p) => p !== '')
    if (parts.length === 0) return E.left('expected one or more media types separated by spaces')
    for (const part of parts) {
      if (part !== '' && part !== '*' && E.isLeft(ContentType.decode(part))) {
        return E.left(`expected *, type/* or type/subtype, got ${show(part)}`)
      }
    }
    return E.right(parts)
  },
  (ps) => ps.join(' ')
)

/** `--failure-report yes|no|partial` (RFC 4975 §7.1.1, C-7.1.1-3). */
export const FailureReport = valueCodec(
  'failure-report',
  (u): u is FailureReportValue => u === 'yes' || u === 'no' || u === 'partial',
  (s) =>
    s === 'yes' || s === 'no' || s === 'partial' ? E.right(s) : E.left(`expected yes, no or partial, got ${show(s)}`),
  String
)

/**
 * The flags of a codec made of `t.type` (required) and `t.partial` (optional) props: `Switch` props are switches,
 * `t.array` props (see {@link repeated}) repeatable.
 */
function flagsOf(props: Readonly<Record<string, t.Mixed>>): Record<string, FlagKind> {
  const out: Record<string, FlagKind> = {}
  for (const [name, codec] of Object.entries(props))
    out[name] = codec === Switch ? 'switch' : codec instanceof t.ArrayType ? 'repeat' : 'value'
  return out
}

/** A repeatable flag (`--user a:x --user b:y`): each value decoded by `codec`, in the order given. */
export const repeated = <C extends t.Mixed>(codec: C): t.ArrayC<C> => t.array(codec)

/** The usage error of the first io-ts error: the flag is the last context key that names one. */
function describeError(error: t.ValidationError, flags: Readonly<Record<string, FlagKind>>): UsageError {
  const named = [...error.context].reverse().find((entry) => Object.prototype.hasOwnProperty.call(flags, entry.key))
  const option = named === undefined ? undefined : `--${named.key}`
  if (named !== undefined && named.actual === undefined) return usageError(option, 'is required')
  return usageError(option, error.message ?? 'invalid value')
}

/** Reads argv with `readFlags` and decodes the flags with `codec`, whose props are the flags. */
export function decodeArgs<R extends t.Props, O extends t.Props>(
  args: readonly string[],
  required: R,
  optional: O
): E.Either<UsageError, t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>> {
  const flags = { ...flagsOf(required), ...flagsOf(optional) }
  const codec = t.intersection([t.type(required), t.partial(optional)])
  return pipe(
    readFlags(args, flags),
    E.chain((raw) =>
      pipe(
        codec.decode(raw),
        E.mapLeft((errors) =>
          errors[0] === undefined ? usageError(undefined, 'invalid options') : describeError(errors[0], flags)
        )
      )
    )
  )
}

/** Transports `send` can dial and `listen` can listen on (RFC 4975 §6 `tcp`, RFC 7977 §5.2.1 `ws`). */
const TRANSPORTS: readonly string[] = ['tcp', 'ws']

// ---------------------------------------------------------------------------------------------------------------
// relays (send and listen)

/** `--user`: a Digest username (RFC 4976 §5.1), sent as a quoted-string: not empty, no control characters. */
export const UserName = valueCodec(
  'user',
  isString,
  (s) =>
    s !== '' && isQuotable(s) ? E.right(s) : E.left(`expected a user name without control characters, got ${show(s)}`),
  String
)

/** `--password`: any string but the empty one. */
export const Password = valueCodec(
  'password',
  isString,
  (s) => (s === '' ? E.left('expected a password, got ""') : E.right(s)),
  String
)

/** The relay a session authenticates at with AUTH (RFC 4976 §5.1): `--relay`, `--user`, `--password`. */
export interface RelayLogin {
  /** The relay's URI, the To-Path of the AUTH (`msrps://relay.example.com:2855;tcp`; `;ws`: over WebSocket). */
  readonly uri: MsrpUri
  readonly username: string
  readonly password: string
}

const RELAY_FLAGS = { relay: Uri, user: UserName, password: Password }

/**
 * `--relay`, `--user` and `--password`: all three or none. The relay URI needs a port and the `tcp` or `ws`
 * transport (it is dialled); a session-id is allowed (RFC 4976 §5.1 takes the URI as it is written).
 */
function relayLoginOf(o: {
  readonly relay?: MsrpUri | undefined
  readonly user?: string | undefined
  readonly password?: string | undefined
}): E.Either<UsageError, RelayLogin | undefined> {
  const { relay, user, password } = o
  if (relay === undefined) {
    if (user !== undefined) return E.left(usageError('--user', 'only with --relay'))
    if (password !== undefined) return E.left(usageError('--password', 'only with --relay'))
    return E.right(undefined)
  }
  if (relay.port === undefined)
    return E.left(usageError('--relay', `${formatUri(relay)} has no port, which is needed to connect`))
  if (!TRANSPORTS.includes(relay.transport))
    return E.left(usageError('--relay', `cannot connect over ;${relay.transport} (tcp or ws)`))
  if (user === undefined) return E.left(usageError('--user', 'is required with --relay'))
  if (password === undefined) return E.left(usageError('--password', 'is required with --relay'))
  return E.right({ uri: relay, username: user, password })
}

// ---------------------------------------------------------------------------------------------------------------
// send

const SEND_REQUIRED = { from: Uri, 'to-path': UriPath }
const SEND_OPTIONAL = {
  text: Text,
  file: FilePath,
  'content-type': MediaType,
  'chunk-size': PositiveInteger,
  'success-report': Switch,
  'failure-report': FailureReport,
  'message-id': MessageIdFlag,
  offset: NonNegativeInteger,
  json: Switch,
  ca: FilePath,
  insecure: Switch,
  ...RELAY_FLAGS
}

/** What `send` sends: a string (UTF-8 encoded) or the content of a file, streamed. */
export type SendBody =
  { readonly kind: 'text'; readonly text: string } | { readonly kind: 'file'; readonly path: string }

/** The decoded options of `rx-msrp send`. */
export interface SendArgs {
  /** The local session URI (From-Path); needs a session-id. */
  readonly from: MsrpUri
  /** The To-Path: the first URI is connected to (it needs a port), the last is the peer's session. */
  readonly toPath: readonly MsrpUri[]
  readonly body: SendBody
  /** Default: `text/plain;charset=utf-8` for `--text`, `application/octet-stream` for `--file`. */
  readonly contentType: string | undefined
  /** Most body bytes per chunk; default the writer's `chunkBytesFor` (1 MiB direct over TCP/TLS, else 8192). */
  readonly chunkSize: number | undefined
  readonly successReport: boolean
  /** Default {@link FAILURE_REPORT_DEFAULT} (`yes`). */
  readonly failureReport: FailureReportValue
  /** `--message-id`: the Message-ID of the message (to resend one cut earlier, RFC 4975 §5.4); default a fresh one. */
  readonly messageId: string | undefined
  /**
   * `--offset`: bytes of the `--file` the receiver already has; the file is read from there and sent as the rest of
   * message `messageId` (RFC 4975 §5.4). Only with `--file` and `--message-id`; default 0.
   */
  readonly offset: number | undefined
  readonly json: boolean
  /** A PEM file of CAs to trust for `msrps` (instead of the system's). */
  readonly ca: string | undefined
  /** Do not verify the TLS certificate (testing only). */
  readonly insecure: boolean
  /**
   * `--relay`: authenticate `from` at this relay first; the To-Path is then its Use-Path followed by `toPath`
   * (RFC 4976 §5.1, R-5.1-4), and only the relay is connected to.
   */
  readonly relay?: RelayLogin | undefined
}

/** Decodes the arguments of `rx-msrp send`. */
export function decodeSendArgs(args: readonly string[]): E.Either<UsageError, SendArgs> {
  return pipe(
    decodeArgs(args, SEND_REQUIRED, SEND_OPTIONAL),
    E.chain((o) => {
      if (o.from.sessionId === undefined)
        return E.left(usageError('--from', 'needs a session-id (msrp://host:port/<session-id>;tcp)'))
      const relay = relayLoginOf(o)
      if (E.isLeft(relay)) return relay
      // With --relay the relay connects to the first URI (a path URI needs a port then too, RFC 4976 §8, R-8-1).
      const first = o['to-path'][0] as MsrpUri
      if (first.port === undefined) {
        return E.left(usageError('--to-path', `${formatUri(first)} has no port, which is needed to connect`))
      }
      if (!TRANSPORTS.includes(first.transport)) {
        return E.left(usageError('--to-path', `cannot connect over ;${first.transport} (tcp or ws)`))
      }
      if (o.text !== undefined && o.file !== undefined) return E.left(usageError('--text', 'excludes --file'))
      const body: SendBody | undefined =
        o.text !== undefined
          ? { kind: 'text', text: o.text }
          : o.file !== undefined
            ? { kind: 'file', path: o.file }
            : undefined
      if (body === undefined) return E.left(usageError(undefined, 'give --text or --file'))
      // Resuming (RFC 4975 §5.4, C-5.4-12): the rest of a file, as the message the receiver holds the start of.
      if (o.offset !== undefined && body.kind !== 'file') return E.left(usageError('--offset', 'only with --file'))
      if (o.offset !== undefined && o['message-id'] === undefined) {
        return E.left(usageError('--offset', 'needs --message-id (the message whose first bytes the peer has)'))
      }
      return E.right({
        from: o.from,
        toPath: o['to-path'],
        body,
        contentType: o['content-type'],
        chunkSize: o['chunk-size'],
        successReport: o['success-report'] === true,
        failureReport: o['failure-report'] ?? FAILURE_REPORT_DEFAULT,
        messageId: o['message-id'],
        offset: o.offset,
        json: o.json === true,
        ca: o.ca,
        insecure: o.insecure === true,
        relay: relay.right
      })
    })
  )
}

// ---------------------------------------------------------------------------------------------------------------
// listen

// --uri is required without --relay only: checked after decoding, with the same message as a required flag.
const LISTEN_OPTIONAL = {
  uri: ListenUri,
  cert: FilePath,
  key: FilePath,
  'max-size': NonNegativeInteger,
  'accept-types': MediaRanges,
  out: FilePath,
  json: Switch,
  ...RELAY_FLAGS,
  ca: FilePath,
  insecure: Switch
}

/** `listen --relay`: where the session authenticates instead of listening, and how its TLS is checked. */
export interface ListenRelay extends RelayLogin {
  /** A PEM file of CAs to trust for an `msrps` relay (instead of the system's). */
  readonly ca: string | undefined
  /** Do not verify the relay's TLS certificate (testing only). */
  readonly insecure: boolean
}

/** The decoded options of `rx-msrp listen`. */
export interface ListenArgs {
  /**
   * The local session URI; port 0 means "any free port". `msrps`: TLS; `;ws`: WebSocket. With `relay` it is not
   * listened on (and may not have port 0); `undefined` when `--relay` is given without `--uri` (then made up).
   */
  readonly uri: (MsrpUri & { readonly port: number; readonly sessionId: string }) | undefined
  /** PEM files of the certificate chain and key, required for `msrps`. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined
  /** Largest message accepted (larger ones get 413); default unlimited. */
  readonly maxSize: number | undefined
  /** Accepted media types; default all. */
  readonly acceptTypes: readonly string[] | undefined
  /** Directory that receives each body, in a file named by its Message-ID. */
  readonly out: string | undefined
  readonly json: boolean
  /** `--relay`: authenticate at this relay (RFC 4976 §5.1) and receive over that connection; nothing listens. */
  readonly relay?: ListenRelay | undefined
}

/** Decodes the arguments of `rx-msrp listen`. */
export function decodeListenArgs(args: readonly string[]): E.Either<UsageError, ListenArgs> {
  return pipe(
    decodeArgs(args, {}, LISTEN_OPTIONAL),
    E.chain((o) => {
      const login = relayLoginOf(o)
      if (E.isLeft(login)) return login
      const common = {
        maxSize: o['max-size'],
        acceptTypes: o['accept-types'],
        out: o.out,
        json: o.json === true
      }
      const { uri } = o
      if (login.right !== undefined) {
        // Behind a relay nothing is listened on: no certificate, and the URI is only a name in paths (R-8-1: a port).
        if (o.cert !== undefined) return E.left(usageError('--cert', 'not with --relay (nothing is listened on)'))
        if (o.key !== undefined) return E.left(usageError('--key', 'not with --relay (nothing is listened on)'))
        if (uri !== undefined && uri.port === 0)
          return E.left(usageError('--uri', 'port 0 is for listening; with --relay give a port (or leave --uri out)'))
        if (uri !== undefined && uri.port === undefined) return E.left(usageError('--uri', 'needs a port'))
        if (uri !== undefined && uri.sessionId === undefined) {
          return E.left(usageError('--uri', 'needs a session-id (msrp://host:port/<session-id>;tcp)'))
        }
        if (uri !== undefined && !TRANSPORTS.includes(uri.transport)) {
          return E.left(usageError('--uri', `cannot use ;${uri.transport} (tcp or ws)`))
        }
        return E.right({
          uri: uri === undefined ? undefined : { ...uri, port: uri.port as number, sessionId: uri.sessionId as string },
          tls: undefined,
          ...common,
          relay: { ...login.right, ca: o.ca, insecure: o.insecure === true }
        })
      }
      if (o.ca !== undefined) return E.left(usageError('--ca', 'only with --relay'))
      if (o.insecure !== undefined) return E.left(usageError('--insecure', 'only with --relay'))
      if (uri === undefined) return E.left(usageError('--uri', 'is required'))
      const port = uri.port
      const sessionId = uri.sessionId
      if (port === undefined) return E.left(usageError('--uri', 'needs a port to listen on (0: any free port)'))
      if (sessionId === undefined) {
        return E.left(usageError('--uri', 'needs a session-id (msrp://host:port/<session-id>;tcp)'))
      }
      if (!TRANSPORTS.includes(uri.transport)) {
        return E.left(usageError('--uri', `cannot listen on ;${uri.transport} (tcp or ws)`))
      }
      const secure = uri.scheme === 'msrps'
      if (secure && o.cert === undefined) return E.left(usageError('--cert', 'is required for an msrps URI'))
      if (secure && o.key === undefined) return E.left(usageError('--key', 'is required for an msrps URI'))
      if (!secure && o.cert !== undefined) return E.left(usageError('--cert', 'only for an msrps URI (TLS)'))
      if (!secure && o.key !== undefined) return E.left(usageError('--key', 'only for an msrps URI (TLS)'))
      return E.right({
        uri: { ...uri, port, sessionId },
        tls: o.cert !== undefined && o.key !== undefined ? { cert: o.cert, key: o.key } : undefined,
        ...common
      })
    })
  )
}
