/**
 * `rx-msrp listen`: the passive endpoint of one session (RFC 4975 §5.4): listens on the host and port of its URI,
 * lets each new connection bind the session, and reports every message until SIGINT or SIGTERM (docs/cli.md).
 *
 * ```text
 * rx-msrp listen --uri "msrp://127.0.0.1:0/s2;tcp" --json --out inbox/
 * stdout:  {"event":"listening","uri":"msrp://127.0.0.1:40123/s2;tcp"}
 *          {"event":"message","messageId":"…","contentType":"text/plain","size":5,"sha256":"…","text":"Hello"}
 *          {"event":"aborted","messageId":"…","received":16384,"reason":"ConnectionLost"}       SIGINT → exit 0
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
import { formatUri } from '../wire/uri'
import { MsrpEndpoint, type EndpointOptions } from '../session/endpoint'
import { MessageIncompleteError, type IncomingMessage } from '../session/incoming'
import { listenTcp } from '../transport/tcp'
import { listenTls } from '../transport/tls'
import type { Listener } from '../transport/transport'
import { listenWebSocket } from '../transport/websocket'
import { decodeListenArgs, formatUsageError, type ListenArgs } from './options'
import { messageOf } from './send'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, writeAll, type Stdio } from './stdio'

/** The usage of `rx-msrp listen`, printed for `--help` and after a usage error. */
export const LISTEN_USAGE = `Usage: rx-msrp listen --uri <msrp-uri> [--cert F --key F] [--max-size N] [--accept-types "T …"]
                      [--out DIR] [--json]

Listens on the host and port of --uri for the session it names (msrps: TLS; ;ws: WebSocket, WSS with msrps),
accepts each connection whose first SEND names it (one connection at a time; a new one may bind the session once
the previous one is gone), and reports every message, until SIGINT or SIGTERM.

  --uri URI              the local session URI; port 0 picks a free port (the "listening" line shows it)
  --cert F, --key F      PEM certificate chain and key, required for msrps
  --max-size N           refuse messages larger than N bytes with 413 (default: no limit)
  --accept-types "T …"   accept only these media types (*, type/*, type/subtype; default: all); a message of
                         another type is refused (415) and reported as an error
  --out DIR              save each body to DIR/<Message-ID>, streamed (created if missing)
  --json                 write one JSON object per event on stdout:
      {"event":"listening","uri":"…"}
      {"event":"message","messageId":"…","contentType":"…","size":N,"sha256":"<hex>"}   ("text":"…" for text/*
                                                                                         bodies up to 64 KiB)
      {"event":"aborted","messageId":"…","received":N,"reason":"Aborted|ConnectionLost"}
      {"event":"error","messageId":"…","status":N,"reason":"…"}       (messageId, status: when there is one)

Exit status: 0 stopped by SIGINT or SIGTERM, 1 cannot listen (or read --cert/--key, or create --out), 2 usage.
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

/** Joins byte slices into one buffer. */
function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
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
      ...(text !== undefined ? { text: decodeText(contentType, concat(text, size)) } : {})
    },
    saved
  )
}

/** The listener of the URI's scheme and transport. */
function listenerFor(a: ListenArgs, tls: { cert: Buffer; key: Buffer } | undefined): Observable<Listener> {
  const host = a.uri.host.startsWith('[') ? a.uri.host.slice(1, -1) : a.uri.host
  const port = a.uri.port
  if (a.uri.transport === 'ws') return listenWebSocket({ host, port, ...(tls !== undefined ? { tls } : {}) })
  return tls !== undefined ? listenTls({ host, port, ...tls }) : listenTcp({ host, port })
}

/** The process's SIGINT and SIGTERM as an AbortSignal, and how to stop listening for them. */
function processSignals(): { readonly signal: AbortSignal; readonly dispose: () => void } {
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })
  )

/**
 * Runs `rx-msrp listen` with `args` on `stdio` until `options.signal` (default: SIGINT or SIGTERM). Resolves to the
 * exit status: 0 when stopped, 1 when it cannot listen, 2 usage (docs/cli.md).
 */
export async function listen(args: readonly string[], stdio: Stdio, options: ListenRunOptions = {}): Promise<number> {
  const decoded = decodeListenArgs(args)
  if (E.isLeft(decoded)) {
    stdio.stderr.write(`rx-msrp listen: ${formatUsageError(decoded.left)}\n\n${LISTEN_USAGE}`)
    return EXIT_USAGE
  }
  const a = decoded.right
  const output = new Output(stdio, a.json)
  const fatal = async (reason: string): Promise<number> => {
    await output.emit({ event: 'error', reason })
    if (a.json) stdio.stderr.write(`rx-msrp listen: ${reason}\n`)
    return EXIT_FAILURE
  }

  let tls: { cert: Buffer; key: Buffer } | undefined
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
  let endpoint: MsrpEndpoint | undefined
  const receiving = new Set<Promise<void>>()
  try {
    // The listener lives as long as this subscription; its failure (now or later) ends the command.
    let failed!: (e: unknown) => void
    const failure = new Promise<unknown>((resolve) => (failed = resolve))
    const listener = await new Promise<Listener | undefined>((resolve) => {
      listening = listenerFor(a, tls).subscribe({
        next: resolve,
        error: (e: unknown) => (resolve(undefined), failed(e))
      })
    })
    if (listener === undefined) return fatal(messageOf(await failure))

    const base = options.endpoint ?? {}
    endpoint = new MsrpEndpoint({
      ...base,
      ...(a.acceptTypes !== undefined ? { acceptTypes: a.acceptTypes } : {}),
      ...(a.maxSize !== undefined ? { reassembly: { ...base.reassembly, maxMessageBytes: a.maxSize } } : {})
    })
    const uri = formatUri({ ...a.uri, port: listener.address.port })
    const session = endpoint.createSession(uri)
    const r: Receiving = { acceptTypes: a.acceptTypes, out: a.out, output }
    session.messages$.subscribe((m) => {
      const task = receive(m, r).catch((e: unknown) =>
        output.emit({ event: 'error', messageId: m.messageId, reason: messageOf(e) })
      )
      receiving.add(task)
      void task.finally(() => receiving.delete(task))
    })
    endpoint.serve(listener)
    await output.emit({ event: 'listening', uri })

    const stopped = await Promise.race([aborted(signal).then(() => undefined), failure.then((e) => ({ e }))])
    if (stopped !== undefined) return await fatal(`the listener failed: ${messageOf(stopped.e)}`)
    return EXIT_OK
  } finally {
    signals?.dispose()
    listening?.unsubscribe()
    // Closing the session ends unfinished messages (reported aborted); wait for their lines.
    endpoint?.close()
    await Promise.allSettled([...receiving])
  }
}
