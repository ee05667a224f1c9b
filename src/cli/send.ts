/**
 * `rx-msrp send`: the active endpoint of one session (RFC 4975 §5.4): connects to the first URI of the To-Path, binds
 * the session and sends one message, then closes (docs/cli.md).
 *
 * ```text
 * rx-msrp send --from msrp://a.example:7/s1;tcp --to-path "msrp://b.example:9/s2;tcp" --file big.bin --json
 * stdout:  {"event":"progress","sent":8192,"acknowledged":0,"total":5242880}\n … {"event":"done",…}\n     exit 0
 * refused: {"event":"error","status":413,"reason":"Stop-sending-message: …"}\n (and on stderr)             exit 1
 * ```
 */
import * as E from 'fp-ts/Either'
import { open, readFile, type FileHandle } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { lastValueFrom, tap } from 'rxjs'
import { REASON_PHRASES } from '../wire/replies'
import { formatUri } from '../wire/uri'
import { newMessageId } from '../wire/ids'
import { MsrpEndpoint, type DialOptions, type EndpointOptions } from '../session/endpoint'
import { RelayAuthError } from '../session/relay-client'
import { SendError, type SendEvent, type SendOptions } from '../session/session'
import type { ContentSource } from '../session/content'
import { TransportError } from '../transport/transport'
import { decodeSendArgs, formatUsageError, type SendArgs } from './options'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Stdio } from './stdio'

/** The usage of `rx-msrp send`, printed for `--help` and after a usage error. */
export const SEND_USAGE = `Usage: rx-msrp send --from <msrp-uri> --to-path "<msrp-uri> [<msrp-uri> …]" (--text S | --file F)
                    [--content-type T] [--chunk-size N] [--success-report] [--failure-report yes|no|partial]
                    [--message-id ID [--offset N]] [--relay <msrp-uri> --user U --password P] [--ca F]
                    [--insecure] [--json]

Connects to the first URI of --to-path (msrps: TLS; ;ws: WebSocket), binds the session --from with an empty SEND
(RFC 4975 §5.4) and sends one message, in chunks. Exits 0 once the peer accepted every chunk (with
--success-report: once its success REPORTs cover the whole message). With --relay, first authenticates --from at
that relay (AUTH, RFC 4976) and sends through it: the To-Path is the relay's Use-Path, then --to-path.

  --from URI             the local session URI (From-Path); needs a session-id
  --to-path "URI …"      the peer's path, space-separated: relays first, the peer's session last (a listener
                         behind a relay prints it in its "ready" line)
  --text S               send S (UTF-8), default type text/plain;charset=utf-8
  --file F               send the file F, streamed, default type application/octet-stream
  --content-type T       the Content-Type of the message
  --chunk-size N         most body bytes per SEND chunk (default 1 MiB straight to the peer over
                         TCP/TLS, 8192 through relays and over WebSocket)
  --success-report       ask for success REPORTs and wait for them (default: not asked)
  --failure-report V     yes (default: wait for each chunk's 200), partial (errors only) or no
  --message-id ID        the message's Message-ID (default: a fresh one); a resent message keeps its own
  --offset N             with --file and --message-id: the receiver has the first N bytes of the file; send the
                         rest as the continuation of message ID (listen --out resumes its partial file)
  --relay URI            authenticate at this relay and send through it (msrps://host:port;tcp, ;ws: WebSocket);
                         with msrp:// AUTH goes unencrypted: allowed, with a warning on stderr (testing only)
  --user U, --password P the account at --relay (HTTP Digest), required with --relay
  --ca F                 trust the CA certificates of the PEM file F for msrps (instead of the system's)
  --insecure             do not verify the TLS certificate (testing only)
  --json                 write one JSON object per event on stdout:
      {"event":"progress","sent":N,"acknowledged":N,"total":N}
      {"event":"report","messageId":"…","reported":N,"status":200}
      {"event":"done","messageId":"…","size":N}
      {"event":"error","status":N,"reason":"…"}        (with --file and status 408, also "messageId":"…" and
                                                      "acknowledged":N: resume with --message-id and --offset)

With --file, a progress bar is drawn on stderr when it is a terminal. A failure is written on stderr as "<status> <reason>":
the peer's status (413 too large, 415 type refused, 481 no such session…), the relay's to AUTH (401 wrong user or
password, 403 not allowed), 408 when a response did not come in time or the connection failed or closed. A file cut
by a 408 can be resumed: the next line says how ("resume with: --message-id ID --offset N", N the bytes the peer
acknowledged in order).

Exit status: 0 delivered, 1 not delivered (or a file that cannot be read), 2 usage.
`

/** The most bytes read from a file at a time: a whole number of default chunks (sliced, not copied). */
export const FILE_READ_BYTES = 64 * 1024

/** Options of {@link send} beyond the command line. */
export interface SendRunOptions {
  /** Endpoint options under those of the command line (tests: shorter timeouts). */
  readonly endpoint?: EndpointOptions
}

/** A send that did not deliver: the MSRP status when there is one, and a readable reason. */
export interface SendFailure {
  readonly status: number | undefined
  readonly reason: string
}

/**
 * Where a cut `--file` transfer can resume (RFC 4975 §5.4): its Message-ID and the bytes the peer acknowledged in
 * order, i.e. `--message-id messageId --offset acknowledged`.
 */
export interface ResumePoint {
  readonly messageId: string
  readonly acknowledged: number
}

/**
 * A failure a resend may cure: 408, which `failureOf` gives to timeouts and to connections that fail, close or cannot
 * be opened (the message may have been cut). Other statuses are the peer's or the relay's refusal: resending the rest
 * would be refused again.
 */
export const isResumable = (f: SendFailure): boolean => f.status === 408

/** `Stop-sending-message: the peer answered 413 …`. */
const withPhrase = (status: number, explanation: string): string => {
  const phrase = REASON_PHRASES[status]
  return phrase === undefined ? explanation : `${phrase}: ${explanation}`
}

/**
 * The failure of a connect or send, from what the session and transport layers reject with. A connection that cannot
 * be opened, or closes, is 408 as the session layer reports a closed connection (no response came, RFC 4975 §7.1.1).
 */
export function failureOf(error: unknown, peer: string): SendFailure {
  if (error instanceof SendError) {
    const what = error.messageId === '' ? 'the binding SEND' : `message ${error.messageId}`
    switch (error.reason) {
      case 'ErrorResponse':
        return {
          status: error.status,
          reason: withPhrase(error.status, `the peer answered ${error.status} to ${what}`)
        }
      case 'FailureReport':
        return { status: error.status, reason: withPhrase(error.status, `failure REPORT ${error.status} for ${what}`) }
      case 'Timeout':
        return { status: 408, reason: withPhrase(408, `no response to ${what} in time`) }
      case 'ConnectionClosed':
        return { status: 408, reason: `the connection to ${peer} closed before ${what} was answered` }
      default:
        return { status: error.status, reason: withPhrase(error.status, `${what}: ${error.message}`) }
    }
  }
  if (error instanceof RelayAuthError) {
    const hint = error.reason === 'Unauthorized' ? ' (check --user and --password)' : ''
    return { status: error.status, reason: withPhrase(error.status, `AUTH at ${peer}: ${error.message}${hint}`) }
  }
  if (error instanceof TransportError) return { status: 408, reason: `cannot connect to ${peer}: ${error.message}` }
  return { status: undefined, reason: messageOf(error) }
}

/**
 * The warning for AUTH over plain TCP or WS (an `msrp:` relay URI), which the commands allow for tests and relays
 * behind a TLS terminator: AUTH MUST go over TLS (RFC 4976 §8, R-8-4; RFC 7977 §5.1, W-5.1-2).
 */
export const plainRelayWarning = (relayUri: string): string =>
  `warning: ${relayUri} is not TLS: AUTH and messages go unencrypted (RFC 4976 §8 requires TLS; use msrps:// outside tests)`

/** Dial options from `--ca` and `--insecure` over `base`. */
export function dialOptionsOf(base: DialOptions | undefined, ca: Buffer | undefined, insecure: boolean): DialOptions {
  return {
    ...base,
    ...(ca !== undefined ? { ca } : {}),
    // --insecure: testing only (RFC 4975 §14.3 requires the certificate to be verified).
    ...(insecure ? { rejectUnauthorized: false } : {})
  }
}

/** Reads the PEM file of `--ca`, naming the option when it cannot. */
export const readCa = (path: string): Promise<Buffer> =>
  readFile(path).catch((e: Error) => Promise.reject(new Error(`cannot read --ca ${path}: ${e.message}`)))

/** The message of an error-like value (errors of Node's fs may come from another realm: no `instanceof Error`). */
export const messageOf = (e: unknown): string => {
  const m = (e as { message?: unknown } | null)?.message
  return typeof m === 'string' ? m : String(e)
}

/** Writes one NDJSON line (progress lines are small and bounded by the number of chunks, so not awaited). */
const line = (out: Writable, o: object): void => void out.write(JSON.stringify(o) + '\n')

/** A progress bar redrawn in place on a terminal: `=` acknowledged, `-` written and not yet acknowledged. */
export class ProgressBar {
  private last = ''

  constructor(
    private readonly out: Writable & { readonly columns?: number },
    private readonly total: number
  ) {}

  update(sent: number, acknowledged: number): void {
    const width = Math.max(10, Math.min(50, (this.out.columns ?? 80) - 40))
    const fraction = (n: number): number => (this.total === 0 ? 1 : Math.min(1, n / this.total))
    const done = Math.floor(fraction(acknowledged) * width)
    const written = Math.max(done, Math.floor(fraction(sent) * width))
    const bar = '='.repeat(done) + '-'.repeat(written - done) + ' '.repeat(width - written)
    const percent = Math.floor(fraction(acknowledged) * 100)
    const text = `[${bar}] ${String(percent).padStart(3)}% ${mib(acknowledged)}/${mib(this.total)} MiB`
    if (text === this.last) return // redraw only what changes: a few hundred lines at most, not one per chunk
    this.last = text
    this.out.write(`\r${text}`)
  }

  /** Ends the bar's line, so what follows starts on a new one. */
  finish(): void {
    if (this.last !== '') this.out.write('\n')
    this.last = ''
  }
}

const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1)

const isTerminal = (s: Writable): boolean => (s as Writable & { readonly isTTY?: boolean }).isTTY === true

/** The content to send, its size, and what to release afterwards. */
interface Source {
  readonly content: ContentSource
  readonly size: number | undefined
  readonly release: () => Promise<void>
}

/**
 * Opens `--file` (streamed in {@link FILE_READ_BYTES} reads, never read whole; from byte `--offset` when given, the
 * size staying the whole file's) or encodes `--text`.
 */
async function openSource(args: SendArgs): Promise<Source> {
  if (args.body.kind === 'text') return { content: args.body.text, size: undefined, release: () => Promise.resolve() }
  const offset = args.offset ?? 0
  let handle: FileHandle | undefined
  try {
    handle = await open(args.body.path, 'r')
    const stat = await handle.stat()
    if (!stat.isFile()) throw new Error('not a regular file')
    if (offset > stat.size) throw new Error(`--offset ${offset} is past its end (${stat.size} bytes)`)
    const stream = handle.createReadStream({ highWaterMark: FILE_READ_BYTES, autoClose: true, start: offset })
    return { content: stream, size: stat.size, release: () => (stream.destroy(), Promise.resolve()) }
  } catch (e) {
    await handle?.close().catch(() => undefined)
    throw new Error(`cannot read --file ${args.body.path}: ${messageOf(e)}`)
  }
}

/**
 * Runs `rx-msrp send` with `args` on `stdio`. Resolves to the exit status: 0 delivered, 1 not, 2 usage (docs/cli.md).
 */
export async function send(args: readonly string[], stdio: Stdio, options: SendRunOptions = {}): Promise<number> {
  const { stdout, stderr } = stdio
  const decoded = decodeSendArgs(args)
  if (E.isLeft(decoded)) {
    stderr.write(`rx-msrp send: ${formatUsageError(decoded.left)}\n\n${SEND_USAGE}`)
    return EXIT_USAGE
  }
  const a = decoded.right
  const relayUri = a.relay === undefined ? undefined : formatUri(a.relay.uri)
  // What failures name: the relay while connecting and authenticating through it, else the first To-Path URI.
  const peer = relayUri ?? formatUri(a.toPath[0]!)
  // The message's id is chosen here, so that a failure can say how to resume it (RFC 4975 §5.4, C-5.4-12).
  const messageId = a.messageId ?? newMessageId()
  /** Bytes the peer acknowledged in order: from `--offset`, moved by the progress events. */
  let acknowledged = a.offset ?? 0
  const fail = (f: SendFailure): number => {
    stderr.write(`rx-msrp send: ${f.status === undefined ? '' : `${f.status} `}${f.reason}\n`)
    const resume: ResumePoint | undefined =
      a.body.kind === 'file' && isResumable(f) ? { messageId, acknowledged } : undefined
    if (resume !== undefined && !a.json)
      stderr.write(`rx-msrp send: resume with: --message-id ${resume.messageId} --offset ${resume.acknowledged}\n`)
    if (a.json)
      line(stdout, {
        event: 'error',
        ...(f.status === undefined ? {} : { status: f.status }),
        reason: f.reason,
        ...(resume ?? {})
      })
    return EXIT_FAILURE
  }

  let ca: Buffer | undefined
  let source: Source
  try {
    ca = a.ca === undefined ? undefined : await readCa(a.ca)
    source = await openSource(a)
  } catch (e) {
    return fail(failureOf(e, peer))
  }

  const base = options.endpoint ?? {}
  const endpoint = new MsrpEndpoint({
    ...base,
    ...(a.chunkSize !== undefined ? { chunkBytes: a.chunkSize } : {}),
    dial: dialOptionsOf(base.dial, ca, a.insecure)
  })
  const to = relayUri === undefined ? peer : `${formatUri(a.toPath[a.toPath.length - 1]!)} through ${relayUri}`
  const bar = a.body.kind === 'file' && isTerminal(stderr) ? new ProgressBar(stderr, source.size ?? 0) : undefined
  const onEvent = (e: SendEvent): void => {
    switch (e.type) {
      case 'progress':
        acknowledged = e.acknowledged
        bar?.update(e.sent, e.acknowledged)
        if (a.json) line(stdout, { event: 'progress', sent: e.sent, acknowledged: e.acknowledged, total: e.total })
        return
      case 'report':
        if (a.json) line(stdout, { event: 'report', messageId: e.messageId, reported: e.reported, status: e.status })
        return
      case 'done':
        bar?.finish()
        if (a.json) line(stdout, { event: 'done', messageId: e.messageId, size: e.size })
        else
          stdout.write(
            `sent message ${e.messageId} (${e.size} bytes) to ${to}${a.successReport ? ', reported delivered' : ''}\n`
          )
        return
    }
  }
  const sendOptions: SendOptions = {
    messageId,
    ...(a.offset !== undefined ? { offset: a.offset } : {}),
    successReport: a.successReport,
    failureReport: a.failureReport,
    ...(a.contentType !== undefined ? { contentType: a.contentType } : {}),
    ...(source.size !== undefined ? { size: source.size } : {})
  }
  try {
    const session = endpoint.createSession(a.from)
    if (a.relay !== undefined) {
      // RFC 4976 §5.1: AUTH at the relay (a 401 to our credentials rejects with a RelayAuthError). Plain TCP or WS
      // is refused by the library (R-8-4) unless allowed: the command allows it for tests, with a warning.
      const insecure = a.relay.uri.scheme !== 'msrps'
      if (insecure) stderr.write(`rx-msrp send: ${plainRelayWarning(relayUri!)}\n`)
      await endpoint.authenticate(session, a.relay.uri, {
        username: a.relay.username,
        password: a.relay.password,
        allowInsecure: insecure
      })
    }
    // The binding SEND (C-5.4-3): a refusal, a close or a timeout rejects with a SendError carrying the status.
    // Registered at a relay, the session sends over the AUTH's connection with To-Path = Use-Path + --to-path
    // (R-5.1-4, R-5.2-1: MsrpEndpoint.connect applies the registration's toPathFor).
    await endpoint.connect(
      session,
      a.toPath.map((u) => formatUri(u))
    )
    await lastValueFrom(session.send(source.content, sendOptions).pipe(tap(onEvent)))
    return EXIT_OK
  } catch (e) {
    bar?.finish()
    return fail(failureOf(e, peer))
  } finally {
    endpoint.close()
    await source.release()
  }
}
