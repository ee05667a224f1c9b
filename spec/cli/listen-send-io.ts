/**
 * In-process harness for the `listen` and `send` specs: a listener run until stopped, whose output lines can be
 * awaited, senders run to their exit status, temporary files and certificates.
 */
export { pseudoRandom } from '../helpers/bytes'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listen, type ListenRunOptions } from '../../src/cli/listen'
import { send, type SendRunOptions } from '../../src/cli/send'
import { newSessionId } from '../../src/wire/ids'
import { certificates } from '../transport/helpers'
import { inputOf, Sink } from './cli-io'

/** A Sink whose lines can be awaited. */
export class LineSink extends Sink {
  private waiters: {
    readonly test: (line: string) => boolean
    readonly resolve: (line: string) => void
    readonly reject: (e: Error) => void
  }[] = []
  private ended: Error | undefined

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    super._write(chunk, encoding, callback)
    const lines = this.textLines
    this.waiters = this.waiters.filter((w) => {
      const found = lines.find(w.test)
      if (found !== undefined) w.resolve(found)
      return found === undefined
    })
  }

  /** The text lines written so far (without their LF). */
  get textLines(): string[] {
    return this.text.split('\n').filter((l) => l !== '')
  }

  /** Resolves with the first line (written or to come) that passes `test`; rejects once `finish()` was called. */
  waitLine(test: (line: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const found = this.textLines.find(test)
      if (found !== undefined) resolve(found)
      else if (this.ended !== undefined) reject(this.ended)
      else this.waiters.push({ test, resolve, reject })
    })
  }

  /** Resolves with the first JSON line whose `event` is `event` and which has the given field values. */
  async waitEvent(event: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const matches = (line: string): boolean => {
      const o = JSON.parse(line) as Record<string, unknown>
      return o.event === event && Object.entries(fields).every(([k, v]) => o[k] === v)
    }
    return JSON.parse(await this.waitLine(matches)) as Record<string, unknown>
  }

  /** No more lines will come: pending and later waits fail with `reason`. */
  finish(reason: Error): void {
    this.ended = reason
    for (const w of this.waiters.splice(0)) w.reject(reason)
  }
}

/** A `rx-msrp listen` running in-process. */
export interface RunningListen {
  readonly stdout: LineSink
  readonly stderr: LineSink
  /** The session URI of the listening line (the actual port). */
  readonly uri: string
  /** Stops it as SIGINT would; resolves to its exit status. */
  readonly stop: () => Promise<number>
}

/** Listeners started and not yet stopped: a failed assertion must not leave one running (jest would never exit). */
const running = new Set<RunningListen>()

/** Stops every listener a test left running; for `afterEach`. */
export async function stopListeners(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop()))
}

/** A local URI for listen on loopback, port 0, with a fresh session-id. */
export const listenUri = (scheme: 'msrp' | 'msrps' = 'msrp', transport: 'tcp' | 'ws' = 'tcp'): string =>
  `${scheme}://127.0.0.1:0/${newSessionId()};${transport}`

/** A sender's own URI (never connected to). */
export const fromUri = (): string => `msrp://127.0.0.1:2855/${newSessionId()};tcp`

/**
 * Starts `rx-msrp listen <args>` and resolves once it wrote its listening line (it must be given `--json` or not:
 * both forms of the line are read). Rejects with its stderr if it exits first.
 */
export async function startListen(
  args: readonly string[],
  options: Omit<ListenRunOptions, 'signal'> = {}
): Promise<RunningListen> {
  const stdout = new LineSink()
  const stderr = new LineSink()
  const controller = new AbortController()
  const code = listen(args, { stdin: inputOf(''), stdout, stderr }, { ...options, signal: controller.signal })
  void code.then(() => {
    stdout.finish(new Error(`listen exited; stderr: ${stderr.text}`))
    stderr.finish(new Error('listen exited'))
  })
  const first = await stdout.waitLine(() => true)
  const uri = first.startsWith('{')
    ? String((JSON.parse(first) as { uri: unknown }).uri)
    : first.replace(/^listening on /, '')
  const l: RunningListen = {
    stdout,
    stderr,
    uri,
    stop: () => {
      running.delete(l)
      controller.abort()
      return code
    }
  }
  running.add(l)
  return l
}

export interface SendRun {
  readonly code: number
  readonly stdout: Sink
  readonly stderr: Sink
}

/** Runs `rx-msrp send <args>` to its exit status. */
export async function runSend(
  args: readonly string[],
  options: SendRunOptions = {},
  stderr: Sink = new Sink()
): Promise<SendRun> {
  const stdout = new Sink()
  const code = await send(args, { stdin: inputOf(''), stdout, stderr }, options)
  return { code, stdout, stderr }
}

/** The JSON lines of a sink, as records. */
export const records = (sink: Sink): Record<string, unknown>[] => sink.lines as Record<string, unknown>[]

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** A temporary directory, removed by `remove()`. */
export interface TempDir {
  readonly path: string
  readonly file: (name: string, content: Uint8Array | string) => string
  readonly remove: () => void
}

export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'rx-msrp-cli-'))
  return {
    path,
    file: (name, content) => {
      const file = join(path, name)
      writeFileSync(file, content)
      return file
    },
    remove: () => rmSync(path, { recursive: true, force: true })
  }
}

/** The self-signed loopback certificate of the transport specs (made with openssl), as PEM files in `dir`. */
export function certificateFiles(dir: TempDir): { readonly cert: string; readonly key: string } {
  const { server } = certificates()
  return { cert: dir.file('server.crt', server.cert), key: dir.file('server.key', server.key) }
}
