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
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, readFile, rename, unlink } from 'node:fs/promises'
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
  --out DIR              save each body to DIR/<Message-ID>, streamed (created if missing)
  --json                 write one JSON object per event on stdout:
      {"event":"listening","uri":"…"}                                  (first; not with --relay)
      {"event":"ready","path":"URI URI"}     (with --relay: first, and again if the relay changes the path)
      {"event":"message","messageId":"…","contentType":"…","size":N,"sha256":"<hex>"}   ("text":"…" for text/*
                                                                                         bodies up to 64 KiB)
      {"event":"aborted","messageId":"…","received":N,"reason":"Aborted|ConnectionLost"}
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
  | { readonly event: 'aborted'; readonly messageId: string; readonly received: number; readonly reason: string }
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
      case 'aborted':
        return writeAll(this.stdio.stdout, `aborted ${e.messageId} after ${e.received} bytes (${e.reason})\n`)
      case 'error': {
        const id = e.messageId === undefined ? '' : `message ${e.messageId}: `
        const status = e.status === undefined ? '' : `${e.status} `
        return writeAll(this.stdio.stderr, `rx-msrp listen: ${id}${status}${e.reason}\n`)
      }
    }
  }
}

/** A file name for a Message-ID (an RFC 4975 `ident` is already safe; anything else is replaced). */
export function fileNameOf(messageId: string): string {
  const safe = messageId.replace(/[^A-Za-z0-9.+%=-]/g, '_')
  return safe.startsWith('.') || safe === '' ? `_${safe}` : safe
}

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

function startSaving(dir: string, messageId: string): Saving {
  const path = join(dir, fileNameOf(messageId))
  const part = `${path}.part`
  const saving: Saving = { stream: createWriteStream(part), part, path, error: undefined }
  saving.stream.on('error', (e) => (saving.error ??= e))
  return saving
}

/** Drops a partial file (the message did not complete, or writing failed). */
async function abandon(saving: Saving): Promise<void> {
  saving.stream.destroy()
  await finished(saving.stream).catch(() => undefined)
  await unlink(saving.part).catch(() => undefined)
}

/** How one message is received: what to accept and where to save it. */
interface Receiving {
  readonly acceptTypes: readonly string[] | undefined
  readonly out: string | undefined
  readonly output: Output
}

/**
 * Receives one message: refuses a type outside `--accept-types`, else streams the body through SHA-256 (and into
 * `--out`), keeping at most {@link MESSAGE_TEXT_MAX_BYTES} of a text body, and reports how it ended.
 */
async function receive(message: IncomingMessage, r: Receiving): Promise<void> {
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
  const hash = createHash('sha256')
  let text: Uint8Array[] | undefined = mediaTypeMatches(contentType, 'text/*') ? [] : undefined
  let size = 0
  const saving = r.out === undefined ? undefined : startSaving(r.out, messageId)
  try {
    for await (const piece of message.body) {
      hash.update(piece)
      size += piece.length
      if (text !== undefined) {
        if (size > MESSAGE_TEXT_MAX_BYTES) text = undefined
        else text.push(piece)
      }
      // Waits for the file to drain: the body queue then fills and pauses the connection (backpressure to the peer).
      if (saving !== undefined && saving.error === undefined)
        await writeAll(saving.stream, piece).catch(() => undefined)
    }
  } catch (e) {
    if (!(e instanceof MessageIncompleteError)) throw e
  }
  const outcome = await message.outcome
  if (outcome.type !== 'complete') {
    if (saving !== undefined) await abandon(saving)
    return r.output.emit(
      outcome.type === 'aborted'
        ? { event: 'aborted', messageId, received: outcome.received, reason: outcome.reason }
        : {
            event: 'error',
            messageId,
            status: outcome.status,
            reason: `${REASON_PHRASES[outcome.status] ?? outcome.reason}: ${outcome.detail}`
          }
    )
  }
  let saved: string | undefined
  if (saving !== undefined) {
    if (saving.error === undefined) {
      saving.stream.end()
      await finished(saving.stream).catch((e: Error) => (saving.error ??= e))
    }
    if (saving.error === undefined) {
      await rename(saving.part, saving.path).catch((e: Error) => (saving.error ??= e))
      saved = saving.path
    }
    if (saving.error !== undefined) {
      await abandon(saving)
      saved = undefined
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
  const endpoint = new MsrpEndpoint({
    ...base,
    ...(a.acceptTypes !== undefined ? { acceptTypes: a.acceptTypes } : {}),
    ...(a.maxSize !== undefined ? { reassembly: { ...base.reassembly, maxMessageBytes: a.maxSize } } : {}),
    ...(a.relay !== undefined ? { dial: dialOptionsOf(base.dial, ca, a.relay.insecure) } : {})
  })
  const receiving = new Set<Promise<void>>()
  const r: Receiving = { acceptTypes: a.acceptTypes, out: a.out, output }
  const startReceiving = (session: MsrpSession): void => {
    session.messages$.subscribe((m) => {
      const task = receive(m, r).catch((e: unknown) =>
        output.emit({ event: 'error', messageId: m.messageId, reason: messageOf(e) })
      )
      receiving.add(task)
      void task.finally(() => receiving.delete(task))
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
