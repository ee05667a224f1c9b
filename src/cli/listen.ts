/**
 * `rx-msrp listen`: the passive endpoint of one session (RFC 4975 §5.4): listens on the host and port of its URI,
 * lets each new connection bind the session, and reports every message until SIGINT or SIGTERM (docs/cli.md). With
 * `--relay` it listens on nothing: it authenticates the session at the relay (RFC 4976 §5.1) and receives over that
 * connection.
 *
 * ```text
 * rx-msrp listen --uri "msrp://127.0.0.1:0/s2;tcp" --json --out inbox/
 * stdout:  {"event":"listening","uri":"msrp://127.0.0.1:40123/s2;tcp"}
 *          {"event":"message","messageId":"…","contentType":"text/plain","size":5,"sha256":"…","text":"Hello"}
 *          {"event":"aborted","messageId":"…","received":16384,"reason":"ConnectionLost"}       SIGINT → exit 0
 * rx-msrp listen --relay "msrps://relay.example:2855;tcp" --user bob --password … --json
 * stdout:  {"event":"ready","path":"msrps://relay.example:2855/Xy12;tcp msrps://k3j9x0a8b2cd.invalid:2855/s2;tcp"}
 *          {"event":"message",…}                                                                SIGINT → exit 0
 * ```
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs'
import { mkdir, readFile, rename, stat, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import * as E from 'fp-ts/Either'
import type { Observable, Subscription } from 'rxjs'
import { mediaTypeMatches, parseMediaType } from '../wire/headers/content-type'
import { REASON_PHRASES } from '../wire/replies'
import { newInvalidHost, newSessionId } from '../wire/ids'
import { formatUri, MSRP_DEFAULT_PORT, type MsrpUri } from '../wire/uri'
import { concatBytes } from '../wire/bytes'
import { MsrpEndpoint, type EndpointOptions } from '../session/endpoint'
import { MessageIncompleteError, type IncomingMessage } from '../session/incoming'
import { newWebSocketClientUri, RelayAuthError } from '../session/relay-client'
import type { MsrpSession } from '../session/session'
import type { SendHead } from '../wire/chunk'
import { listenTcp } from '../transport/tcp'
import { listenTls } from '../transport/tls'
import type { Listener } from '../transport/transport'
import { listenWebSocket } from '../transport/websocket'
import { decodeListenArgs, formatUsageError, type ListenRelay } from './options'
import { dialOptionsOf, failureOf, messageOf, plainRelayWarning, readCa } from './send'
import { aborted, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processSignals, writeAll, type Stdio } from './stdio'

/** The usage of `rx-msrp listen`, printed for `--help` and after a usage error. */
export const LISTEN_USAGE = `Usage: rx-msrp listen --uri <msrp-uri> [--cert F --key F] [--max-size N] [--accept-types "T …"]
                      [--out DIR] [--json]
       rx-msrp listen --relay <msrp-uri> --user U --password P [--uri <msrp-uri>] [--ca F] [--insecure] …

Listens on the host and port of --uri for the session it names (msrps: TLS; ;ws: WebSocket, WSS with msrps),
accepts each connection whose first SEND names it (one connection at a time; a new one may bind the session once
the previous one is gone), and reports every message, until SIGINT or SIGTERM. With --relay it listens on no
socket: it connects to the relay, authenticates the session there (AUTH, RFC 4976), prints the path senders must
use ("ready"), keeps the registration refreshed and receives what the relay delivers.

  --uri URI              the local session URI; port 0 picks a free port (the "listening" line shows it). With
                         --relay only a name in paths (default: a random .invalid host, the relay's transport)
  --cert F, --key F      PEM certificate chain and key, required for msrps (not with --relay)
  --relay URI            authenticate at this relay and receive through it (msrps://host:port;tcp, ;ws:
                         WebSocket); with msrp:// AUTH goes unencrypted: allowed, with a warning on stderr
  --user U, --password P the account at --relay (HTTP Digest), required with --relay
  --ca F                 trust the CA certificates of the PEM file F for an msrps relay (only with --relay)
  --insecure             do not verify the relay's TLS certificate (testing only; only with --relay)
  --max-size N           refuse messages larger than N bytes with 413 (default: no limit)
  --accept-types "T …"   accept only these media types (*, type/*, type/subtype; default: all); a message of
                         another type is refused (415) and reported as an error
  --out DIR              save each body to DIR/<Message-ID>, streamed (created if missing); a message that
                         does not complete keeps its bytes in DIR/<Message-ID>.part, and its resent rest
                         (send --message-id ID --offset N, RFC 4975 §5.4) is appended there
  --json                 write one JSON object per event on stdout:
      {"event":"listening","uri":"…"}                                  (first; not with --relay)
      {"event":"ready","path":"URI URI"}     (with --relay: first, and again if the relay changes the path)
      {"event":"message","messageId":"…","contentType":"…","size":N,"sha256":"<hex>"}   ("text":"…" for text/*
                                                                                         bodies up to 64 KiB)
      {"event":"aborted","messageId":"…","received":N,"reason":"Aborted|ConnectionLost"}  (with --out, and
                                                     "partial":"DIR/<Message-ID>.part" when bytes were kept)
      {"event":"error","messageId":"…","status":N,"reason":"…"}       (messageId, status: when there is one)

Exit status: 0 stopped by SIGINT or SIGTERM, 1 cannot listen (or read --cert/--key/--ca, or create --out; with
--relay: AUTH failed, e.g. 401 for a wrong user or password, or the relay connection ended), 2 usage.
`

/** `text/*` bodies up to this size get a `text` field in their `message` event. */
export const MESSAGE_TEXT_MAX_BYTES = 64 * 1024

/** Options of {@link listen} beyond the command line. */
export interface ListenRunOptions {
  /** Stops listening when aborted. Default: the process's SIGINT and SIGTERM. */
  readonly signal?: AbortSignal
  /** Endpoint options under those of the command line. */
  readonly endpoint?: EndpointOptions
}

/** One line of output. */
export type ListenEvent =
  | { readonly event: 'listening'; readonly uri: string }
  /** Registered at `--relay`: `path` (space-separated) is the To-Path a sender must use (RFC 4976 §5.1, R-5.1-4). */
  | { readonly event: 'ready'; readonly path: string }
  | {
      readonly event: 'message'
      readonly messageId: string
      readonly contentType: string
      readonly size: number
      readonly sha256: string
      readonly text?: string
    }
  | {
      readonly event: 'aborted'
      readonly messageId: string
      /** Bytes of the message received in order: a resend continues after them (`send --offset`). */
      readonly received: number
      readonly reason: string
      /** With `--out`: the file that keeps those bytes, when there are any. */
      readonly partial?: string
    }
  | {
      readonly event: 'error'
      readonly messageId?: string
      readonly contentType?: string
      readonly status?: number
      readonly reason: string
    }

/** Writes events as NDJSON (`--json`) or as readable lines (errors on stderr). */
class Output {
  constructor(
    private readonly stdio: Stdio,
    private readonly json: boolean
  ) {}

  emit(e: ListenEvent, saved?: string): Promise<void> {
    if (this.json) return writeAll(this.stdio.stdout, JSON.stringify(e) + '\n')
    switch (e.event) {
      case 'listening':
        return writeAll(this.stdio.stdout, `listening on ${e.uri}\n`)
      case 'ready':
        return writeAll(this.stdio.stdout, `ready: send with --to-path "${e.path}"\n`)
      case 'message': {
        const what = `${e.contentType === '' ? 'no type' : e.contentType}, ${e.size} bytes, sha256 ${e.sha256}`
        const where = saved === undefined ? '' : `, saved to ${saved}`
        const text = e.text === undefined ? '' : `: ${JSON.stringify(e.text)}`
        return writeAll(this.stdio.stdout, `message ${e.messageId} (${what}${where})${text}\n`)
      }
      case 'aborted': {
        const kept = e.partial === undefined ? '' : `, kept in ${e.partial}`
        return writeAll(this.stdio.stdout, `aborted ${e.messageId} after ${e.received} bytes (${e.reason}${kept})\n`)
      }
      case 'error': {
        const id = e.messageId === undefined ? '' : `message ${e.messageId}: `
        const status = e.status === undefined ? '' : `${e.status} `
        return writeAll(this.stdio.stderr, `rx-msrp listen: ${id}${status}${e.reason}\n`)
      }
    }
  }
}

/**
 * A file name for a Message-ID (an RFC 4975 `ident` is already safe; anything else is replaced). It never ends in
 * `.part` (an id that does gets a `_`), so that no message's file is another message's partial file
 * ({@link partialNameOf}).
 */
export function fileNameOf(messageId: string): string {
  const safe = messageId.replace(/[^A-Za-z0-9.+%=-]/g, '_')
  const name = safe.startsWith('.') || safe === '' ? `_${safe}` : safe
  return /\.part$/i.test(name) ? `${name}_` : name
}

/** The partial file of a Message-ID under `--out`: `<fileNameOf(id)>.part`, while it arrives and after it was cut. */
export const partialNameOf = (messageId: string): string => `${fileNameOf(messageId)}.part`

/** How many cut messages `listen` remembers the declared totals of, to check the totals of their continuations. */
export const PARTIAL_TOTALS = 1024

/** Decodes a text body in its charset when the platform knows it, else as UTF-8. */
function decodeText(contentType: string, bytes: Uint8Array): string {
  const parsed = parseMediaType(contentType)
  const charset = E.isRight(parsed) ? parsed.right.params.find(([n]) => n.toLowerCase() === 'charset')?.[1] : undefined
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes)
  } catch {
    return new TextDecoder('utf-8').decode(bytes)
  }
}

/** Where a body is being saved: `DIR/<id>.part`, renamed to `DIR/<id>` once the message is complete. */
interface Saving {
  readonly stream: WriteStream
  readonly part: string
  readonly path: string
  error: Error | undefined
}

/** Saves into `DIR/<id>.part`, from its start (`w`) or after the bytes it holds (`a`, a continuation). */
function startSaving(dir: string, messageId: string, flags: 'w' | 'a' = 'w'): Saving {
  const part = join(dir, partialNameOf(messageId))
  const path = join(dir, fileNameOf(messageId))
  const saving: Saving = { stream: createWriteStream(part, { flags }), part, path, error: undefined }
  saving.stream.on('error', (e) => (saving.error ??= e))
  return saving
}

/** Drops a partial file (the message was refused, or writing failed). */
async function abandon(saving: Saving): Promise<void> {
  saving.stream.destroy()
  await finished(saving.stream).catch(() => undefined)
  await unlink(saving.part).catch(() => undefined)
}

/** Flushes and closes the file; false (with `saving.error` set) when writing failed. */
async function flush(saving: Saving): Promise<boolean> {
  if (saving.error === undefined) {
    saving.stream.end()
    await finished(saving.stream).catch((e: Error) => (saving.error ??= e))
  }
  return saving.error === undefined
}

/**
 * Opens the partial file of a continuation (RFC 4975 §5.4): it must hold at least the bytes before `firstByte`. Bytes
 * from `firstByte` on that it also holds (received before the cut, but not acknowledged to the sender, which resends
 * them) are cut off, so the resent ones replace them. The bytes kept are read back through `consume` (for the
 * SHA-256 of the whole message), streamed. Resolves with the file to append to, or why it does not fit.
 */
async function resumeSaving(
  dir: string,
  message: IncomingMessage,
  consume: (piece: Uint8Array) => void
): Promise<Saving | string> {
  const part = join(dir, partialNameOf(message.messageId))
  const before = message.firstByte - 1
  const held = await stat(part).then(
    (s) => s.size,
    () => undefined
  )
  if (held === undefined || held < before) {
    const what = held === undefined ? 'missing' : `${held} bytes`
    return `its continuation from byte ${message.firstByte} does not fit ${part} (${what}): its bytes are not kept`
  }
  if (held > before) await truncate(part, before)
  for await (const piece of createReadStream(part, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>)
    consume(piece)
  return startSaving(dir, message.messageId, 'a')
}

/** How one message is received: what to accept and where to save it. */
interface Receiving {
  readonly acceptTypes: readonly string[] | undefined
  readonly out: string | undefined
  readonly output: Output
  /** Why each continuation was refused (by Message-ID), for its error line; taken when reported. */
  readonly refusals: Map<string, string>
  /** The declared totals of cut messages whose bytes were kept (at most {@link PARTIAL_TOTALS}). */
  readonly totals: Map<string, number | undefined>
}

/**
 * Receives one message: refuses a type outside `--accept-types`, else streams the body through SHA-256 (and into
 * `--out`), keeping at most {@link MESSAGE_TEXT_MAX_BYTES} of a text body, and reports how it ended. With `--out`, a
 * message that does not complete keeps its bytes in its partial file, and a continuation (`message.firstByte` > 1,
 * RFC 4975 §5.4) is appended to it; the `message` line of a continued message gives the size and SHA-256 of the whole.
 * `previous` is the task of the last message with the same Message-ID: its file is settled before this one touches it.
 */
async function receive(message: IncomingMessage, r: Receiving, previous: Promise<void> | undefined): Promise<void> {
  const { messageId, contentType } = message
  if (r.acceptTypes !== undefined && !r.acceptTypes.some((p) => mediaTypeMatches(contentType, p))) {
    // RFC 4975 §7.3 (C-7.3.1-4): the session answered 415 and announced the message already failed; report it.
    message.discard()
    await r.output.emit({
      event: 'error',
      messageId,
      contentType,
      status: 415,
      reason: `${REASON_PHRASES[415] ?? ''}: ${contentType === '' ? 'no Content-Type' : contentType} is not in --accept-types`
    })
    await message.outcome
    return
  }
  await previous
  const hash = createHash('sha256')
  let text: Uint8Array[] | undefined = mediaTypeMatches(contentType, 'text/*') ? [] : undefined
  let size = 0
  const consume = (piece: Uint8Array): void => {
    hash.update(piece)
    size += piece.length
    if (text !== undefined) {
      if (size > MESSAGE_TEXT_MAX_BYTES) text = undefined
      else text.push(piece)
    }
  }
  // Opened at the first byte: a message refused at once (a continuation that does not fit, 413 past --max-size)
  // never touches DIR, so it cannot truncate the partial file of the message it claims to continue.
  let saving: Saving | undefined
  let misfit: string | undefined
  if (r.out !== undefined && message.firstByte > 1) {
    const resumed = await resumeSaving(r.out, message, consume).catch((e: unknown) => messageOf(e))
    if (typeof resumed === 'string') {
      misfit = resumed
      message.discard()
    } else saving = resumed
  }
  try {
    for await (const piece of message.body) {
      consume(piece)
      if (r.out === undefined) continue
      saving ??= startSaving(r.out, messageId)
      // Waits for the file to drain: the body queue then fills and pauses the connection (backpressure to the peer).
      if (saving.error === undefined) await writeAll(saving.stream, piece).catch(() => undefined)
    }
  } catch (e) {
    if (!(e instanceof MessageIncompleteError)) throw e
  }
  const outcome = await message.outcome
  if (misfit !== undefined) return r.output.emit({ event: 'error', messageId, reason: misfit })
  if (outcome.type === 'aborted') {
    // Kept for a resend of the rest (RFC 4975 §5.4): the bytes in order, as many as `received` says.
    let partial: string | undefined
    if (saving !== undefined) {
      if (await flush(saving)) {
        partial = saving.part
        r.totals.delete(messageId)
        r.totals.set(messageId, message.total)
        if (r.totals.size > PARTIAL_TOTALS) r.totals.delete(r.totals.keys().next().value as string)
      } else {
        await abandon(saving)
        await r.output.emit({
          event: 'error',
          messageId,
          reason: `cannot save to ${saving.part}: ${saving.error?.message ?? 'write failed'}`
        })
      }
    }
    return r.output.emit({
      event: 'aborted',
      messageId,
      received: outcome.received,
      reason: outcome.reason,
      ...(partial !== undefined ? { partial } : {})
    })
  }
  r.totals.delete(messageId)
  if (outcome.type === 'failed') {
    if (saving !== undefined) await abandon(saving)
    const refusal = outcome.reason === 'ContinuationRefused' ? r.refusals.get(messageId) : undefined
    r.refusals.delete(messageId)
    return r.output.emit({
      event: 'error',
      messageId,
      status: outcome.status,
      reason: `${REASON_PHRASES[outcome.status] ?? outcome.reason}: ${refusal ?? outcome.detail}`
    })
  }
  let saved: string | undefined
  if (r.out !== undefined) {
    saving ??= startSaving(r.out, messageId) // an empty message: an empty file
    if (await flush(saving)) {
      await rename(saving.part, saving.path).catch((e: Error) => (saving!.error ??= e))
      if (saving.error === undefined) saved = saving.path
    }
    if (saving.error !== undefined) {
      await abandon(saving)
      await r.output.emit({
        event: 'error',
        messageId,
        reason: `cannot save to ${saving.path}: ${saving.error.message}`
      })
    }
  }
  await r.output.emit(
    {
      event: 'message',
      messageId,
      contentType,
      size: outcome.size,
      sha256: hash.digest('hex'),
      ...(text !== undefined ? { text: decodeText(contentType, concatBytes(text)) } : {})
    },
    saved
  )
}

/**
 * Whether `listen` takes a message whose first chunk starts above byte 1 as the rest of one it kept (RFC 4975 §5.4,
 * C-5.4-12): `undefined` if so, else why not. It must start within or right after the bytes kept (by the last message
 * of its Message-ID, cut, or else in its `.part` file, e.g. left by an earlier run), and declare the same total. A refusal is answered
 * 413 (RFC 4975 §7.3.1: the receiver wishes the sender to stop): the sender learns at once that the peer does not
 * hold what it assumed, and the partial file stays as it was, for a correct resend. Taking the bytes anyway and
 * saving them apart would let the sender report the file delivered while the receiver holds two pieces of it. Called
 * synchronously by the reassembler, so it reads only what is known now: the earlier message's outcome, or the size
 * of the file. @internal
 */
function continuationRefusal(
  head: SendHead,
  out: string | undefined,
  earlier: IncomingMessage | undefined,
  totals: ReadonlyMap<string, number | undefined>
): string | undefined {
  const { messageId } = head
  const { start, total } = head.byteRange
  if (out === undefined) return `a continuation from byte ${start}: nothing is kept without --out`
  const part = join(out, partialNameOf(messageId))
  let kept: number | undefined
  let keptTotal: number | undefined
  const settled = earlier?.settled
  if (settled?.type === 'aborted') {
    // Cut, its task may still be writing: the file will hold `received` bytes.
    kept = settled.received
    keptTotal = earlier?.total
  } else {
    // No earlier message in this run, or one that did not leave bytes of its own (a refused continuation never
    // touches the file): what the file holds.
    try {
      kept = statSync(part).size
    } catch {
      kept = undefined
    }
    keptTotal = totals.get(messageId)
  }
  if (kept === undefined) return `a continuation from byte ${start}, but no bytes of ${messageId} are kept (${part})`
  if (start - 1 > kept) return `a continuation from byte ${start}, but ${part} holds only ${kept} bytes`
  if (typeof total === 'number' && keptTotal !== undefined && total !== keptTotal)
    return `a continuation with total ${total}, but ${messageId} was ${keptTotal} bytes`
  return undefined
}

/** The listener of the URI's scheme and transport. */
function listenerFor(
  uri: MsrpUri & { readonly port: number },
  tls: { cert: Buffer; key: Buffer } | undefined
): Observable<Listener> {
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host
  const port = uri.port
  if (uri.transport === 'ws') return listenWebSocket({ host, port, ...(tls !== undefined ? { tls } : {}) })
  return tls !== undefined ? listenTls({ host, port, ...tls }) : listenTcp({ host, port })
}

/**
 * The session's own URI behind `relay` when `--uri` is not given: a random `.invalid` host, which is never resolved
 * (RFC 7977 Appendix A, W-A-1; the relay reaches the session over its connection), port 2855 (R-8-1), a fresh
 * session-id, and the relay's scheme and transport.
 */
export function relayClientUri(relay: MsrpUri): string {
  const secure = relay.scheme === 'msrps'
  return relay.transport === 'ws'
    ? newWebSocketClientUri({ secure })
    : `${relay.scheme}://${newInvalidHost()}:${MSRP_DEFAULT_PORT}/${newSessionId()};tcp`
}

/** What {@link receiveThroughRelay} needs of the command. */
interface RelayRun {
  readonly relay: ListenRelay
  readonly uri: string
  readonly endpoint: MsrpEndpoint
  readonly startReceiving: (session: MsrpSession) => void
  readonly output: Output
  readonly stdio: Stdio
  readonly signal: AbortSignal
  readonly fatal: (reason: string, status?: number) => Promise<number>
}

/**
 * `listen --relay`: authenticates the session at the relay (RFC 4976 §5.1, R-5.1-1), prints `ready` with the path
 * a sender must use (Use-Path reversed, then the session's own URI, R-5.1-4), and receives over the connection of
 * the AUTH until stopped. The registration refreshes itself before Expires (R-9.4-1); a refresh with new URIs prints
 * `ready` again, and a failed refresh or a closed relay connection (R-6.3-6) ends the command with status 1.
 */
async function receiveThroughRelay(run: RelayRun): Promise<number> {
  const { relay, endpoint, output, signal, fatal } = run
  const relayUri = formatUri(relay.uri)
  const session = endpoint.createSession(run.uri)
  run.startReceiving(session)
  // AUTH over plain TCP or WS is refused by the library (R-8-4) unless allowed: allowed here, with a warning.
  const insecure = relay.uri.scheme !== 'msrps'
  if (insecure) run.stdio.stderr.write(`rx-msrp listen: ${plainRelayWarning(relayUri)}\n`)
  const registering = endpoint.authenticate(session, relay.uri, {
    username: relay.username,
    password: relay.password,
    allowInsecure: insecure
  })
  const registered = await Promise.race([
    aborted(signal).then(() => undefined),
    registering.then(
      (registration) => ({ registration }),
      (error: unknown) => ({ error })
    )
  ])
  if (registered === undefined) return EXIT_OK // stopped while authenticating: closing the endpoint ends the AUTH
  if ('error' in registered) {
    const f = failureOf(registered.error, relayUri)
    return fatal(f.reason, f.status)
  }
  const { registration } = registered
  let ended!: (e: unknown) => void
  const end = new Promise<unknown>((resolve) => (ended = resolve))
  const ready = (): Promise<void> => output.emit({ event: 'ready', path: registration.path.join(' ') })
  const events = registration.events$.subscribe({
    // New Use-Path URIs (RFC 4976 §9.4): senders must use the new path.
    next: (e) => void (e.pathChanged ? ready() : undefined),
    error: ended
  })
  try {
    await ready()
    const stopped = await Promise.race([aborted(signal).then(() => undefined), end.then((e) => ({ e }))])
    if (stopped === undefined) return EXIT_OK
    if (stopped.e instanceof RelayAuthError && stopped.e.reason === 'ConnectionClosed')
      return await fatal(`the connection to ${relayUri} closed: the session is no longer reachable there`)
    const f = failureOf(stopped.e, relayUri)
    return await fatal(`refreshing the registration at ${relayUri} failed: ${f.reason}`, f.status)
  } finally {
    events.unsubscribe()
  }
}

/**
 * Runs `rx-msrp listen` with `args` on `stdio` until `options.signal` (default: SIGINT or SIGTERM). Resolves to the
 * exit status: 0 when stopped, 1 when it cannot listen (or authenticate at `--relay`), 2 usage (docs/cli.md).
 */
export async function listen(args: readonly string[], stdio: Stdio, options: ListenRunOptions = {}): Promise<number> {
  const decoded = decodeListenArgs(args)
  if (E.isLeft(decoded)) {
    stdio.stderr.write(`rx-msrp listen: ${formatUsageError(decoded.left)}\n\n${LISTEN_USAGE}`)
    return EXIT_USAGE
  }
  const a = decoded.right
  const output = new Output(stdio, a.json)
  const fatal = async (reason: string, status?: number): Promise<number> => {
    await output.emit({ event: 'error', ...(status !== undefined ? { status } : {}), reason })
    if (a.json) stdio.stderr.write(`rx-msrp listen: ${status !== undefined ? `${status} ` : ''}${reason}\n`)
    return EXIT_FAILURE
  }

  let tls: { cert: Buffer; key: Buffer } | undefined
  let ca: Buffer | undefined
  try {
    if (a.tls !== undefined) {
      const { cert, key } = a.tls
      tls = {
        cert: await readFile(cert).catch((e: Error) =>
          Promise.reject(new Error(`cannot read --cert ${cert}: ${e.message}`))
        ),
        key: await readFile(key).catch((e: Error) =>
          Promise.reject(new Error(`cannot read --key ${key}: ${e.message}`))
        )
      }
    }
    if (a.relay?.ca !== undefined) ca = await readCa(a.relay.ca)
    const out = a.out
    if (out !== undefined) {
      await mkdir(out, { recursive: true }).catch((e: Error) =>
        Promise.reject(new Error(`cannot create --out ${out}: ${e.message}`))
      )
    }
  } catch (e) {
    return fatal(messageOf(e))
  }

  const signals = options.signal === undefined ? processSignals() : undefined
  const signal = options.signal ?? signals!.signal
  let listening: Subscription | undefined
  const base = options.endpoint ?? {}
  const r: Receiving = { acceptTypes: a.acceptTypes, out: a.out, output, refusals: new Map(), totals: new Map() }
  /** The last message of each Message-ID whose task has not ended: what a continuation of it must fit. */
  const latest = new Map<string, { readonly message: IncomingMessage; readonly task: Promise<void> }>()
  // RFC 4975 §5.4: a message cut earlier may be resent from where it stopped; with --out its rest is appended.
  const acceptContinuation = (head: SendHead): boolean => {
    const refusal = continuationRefusal(head, a.out, latest.get(head.messageId)?.message, r.totals)
    if (refusal === undefined) return true
    r.refusals.set(head.messageId, refusal)
    if (r.refusals.size > PARTIAL_TOTALS) r.refusals.delete(r.refusals.keys().next().value as string)
    return false
  }
  const endpoint = new MsrpEndpoint({
    ...base,
    ...(a.acceptTypes !== undefined ? { acceptTypes: a.acceptTypes } : {}),
    reassembly: {
      ...base.reassembly,
      ...(a.maxSize !== undefined ? { maxMessageBytes: a.maxSize } : {}),
      acceptContinuation
    },
    ...(a.relay !== undefined ? { dial: dialOptionsOf(base.dial, ca, a.relay.insecure) } : {})
  })
  const receiving = new Set<Promise<void>>()
  const startReceiving = (session: MsrpSession): void => {
    session.messages$.subscribe((m) => {
      const id = m.messageId
      const task = receive(m, r, latest.get(id)?.task).catch((e: unknown) =>
        output.emit({ event: 'error', messageId: id, reason: messageOf(e) })
      )
      latest.set(id, { message: m, task })
      receiving.add(task)
      void task.finally(() => {
        receiving.delete(task)
        if (latest.get(id)?.task === task) latest.delete(id)
      })
    })
  }
  try {
    if (a.relay !== undefined) {
      const uri = a.uri !== undefined ? formatUri(a.uri) : relayClientUri(a.relay.uri)
      return await receiveThroughRelay({
        relay: a.relay,
        uri,
        endpoint,
        startReceiving,
        output,
        stdio,
        signal,
        fatal
      })
    }
    const own = a.uri! // required without --relay (decodeListenArgs)
    // The listener lives as long as this subscription; its failure (now or later) ends the command.
    let failed!: (e: unknown) => void
    const failure = new Promise<unknown>((resolve) => (failed = resolve))
    const listener = await new Promise<Listener | undefined>((resolve) => {
      listening = listenerFor(own, tls).subscribe({
        next: resolve,
        error: (e: unknown) => (resolve(undefined), failed(e))
      })
    })
    if (listener === undefined) return await fatal(messageOf(await failure))

    const uri = formatUri({ ...own, port: listener.address.port })
    startReceiving(endpoint.createSession(uri))
    endpoint.serve(listener)
    await output.emit({ event: 'listening', uri })

    const stopped = await Promise.race([aborted(signal).then(() => undefined), failure.then((e) => ({ e }))])
    if (stopped !== undefined) return await fatal(`the listener failed: ${messageOf(stopped.e)}`)
    return EXIT_OK
  } finally {
    signals?.dispose()
    listening?.unsubscribe()
    // Closing the session ends unfinished messages (reported aborted); wait for their lines.
    endpoint.close()
    await Promise.allSettled([...receiving])
  }
}
