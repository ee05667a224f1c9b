/**
 * The streams a command runs on, and the two stream helpers every command needs: backpressure-aware
 * writing and LF-delimited reading; and, for the commands that run until stopped, SIGINT and SIGTERM as an
 * AbortSignal. Commands take their streams (and a signal) as arguments, so tests run them in-process.
 */
import type { Writable } from 'node:stream'
import { concatBytes } from '../wire/bytes'

/** Success. */
export const EXIT_OK = 0
/** The input was refused (a framing failure, an invalid line, a frame the encoder refuses). */
export const EXIT_FAILURE = 1
/** The command line was not understood, or help was asked for: usage is on stderr. */
export const EXIT_USAGE = 2

/** What `process.stdin` yields without an encoding: byte chunks. */
export type Input = AsyncIterable<Uint8Array>

export interface Stdio {
  readonly stdin: Input
  readonly stdout: Writable
  readonly stderr: Writable
}

const LF = 0x0a

/**
 * Writes `chunk` and, when the stream is above its high-water mark (`write` returned false), waits for
 * `drain` before resolving, so a slow reader slows the command down instead of filling memory. Rejects
 * if the stream errors or closes first.
 */
export function writeAll(out: Writable, chunk: Uint8Array | string): Promise<void> {
  if (out.write(chunk)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain)
      out.off('error', onError)
      out.off('close', onClose)
    }
    const onDrain = (): void => (cleanup(), resolve())
    const onError = (e: Error): void => (cleanup(), reject(e))
    const onClose = (): void => (cleanup(), reject(new Error('the output stream closed before draining')))
    out.on('drain', onDrain)
    out.on('error', onError)
    out.on('close', onClose)
  })
}

/**
 * The LF-terminated lines of `input` (LF excluded; a last line without LF is yielded too). A line's
 * pieces are joined once, when its LF arrives, so memory is bounded by the longest line.
 */
export async function* readLines(input: Input): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = []
  for await (const chunk of input) {
    let from = 0
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, from)) {
      pending.push(chunk.subarray(from, lf))
      yield concatBytes(pending)
      pending = []
      from = lf + 1
    }
    if (from < chunk.length) pending.push(chunk.subarray(from))
  }
  if (pending.length > 0) yield concatBytes(pending)
}

/** An AbortSignal aborted by the process's SIGINT or SIGTERM, and `dispose` to stop listening for them. */
export interface ProcessSignals {
  readonly signal: AbortSignal
  readonly dispose: () => void
}

/**
 * The process's SIGINT and SIGTERM as an AbortSignal, for the commands that run until stopped (`listen`, `relay`).
 * While it is not disposed, the signals no longer end the process: the command ends itself, closing what it opened.
 */
export function processSignals(): ProcessSignals {
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

/** Resolves once `signal` is aborted (at once if it already is). */
export const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })
  )
