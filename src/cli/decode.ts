/**
 * `rx-msrp decode`: raw MSRP bytes on stdin → one JSON object per frame on stdout (docs/cli.md).
 *
 * ```text
 * stdin:   MSRP a786hjs2 SEND\r\n…-------a786hjs2$\r\nMSRP a786hjs2 200 OK\r\n…-------a786hjs2$\r\n
 * stdout:  {"type":"request",…}\n{"type":"response",…}\n                                  exit 0
 * ```
 */
import { Framer, type FramerEvent, type FramerOptions } from '../wire/framer'
import type { FrameFailure, FramingFailure } from '../wire/failures'
import type { MsrpFrame, RequestHead } from '../wire/model'
import { concatBytes } from '../wire/bytes'
import { errorToJson, frameToJson } from './ndjson'
import { EXIT_FAILURE, EXIT_OK, writeAll, type Input } from './stdio'
import type { Writable } from 'node:stream'

export const DECODE_USAGE = `Usage: rx-msrp decode

Reads raw MSRP frames (RFC 4975 §7.1) on stdin and writes one JSON object per frame on stdout
(NDJSON), as soon as the frame is complete:

  {"type":"request","transactionId":"…","method":"SEND","headers":[["To-Path","…"],…],"body":"<base64>","continuation":"$"}
  {"type":"response","transactionId":"…","status":200,"comment":"OK","headers":[…],"continuation":"$"}

"headers" lists every header line in wire order. "body" is present only when the frame has a body
section ("" for an empty body); "comment" only when the response has one. A frame with per-frame
problems (e.g. a malformed header line, which is left out of "headers") gets a
"failures":[{"reason":…,"detail":…}] field.

On a framing failure, or if stdin ends inside a frame, writes
  {"type":"error","reason":"StartLineInvalid","status":400,"offset":N,"detail":"…"}
after the frames before it and exits with status 1.

Memory stays bounded except for the body of the frame being written: a SEND body, which the framer
streams in pieces, is joined into one line, so it is held whole (and its base64) while written.

Exit status: 0 all input decoded, 1 framing failure or truncated input, 2 usage.
`

/** Options of `decode`: the framer's limits (`FramerOptions`, defaults from wire/limits.ts). */
export interface DecodeOptions {
  readonly framer?: FramerOptions
}

/** A SEND whose body the framer streams in pieces (`head`, `body`…, `end`), being joined into one frame. */
interface Joining {
  readonly head: RequestHead
  readonly failures: readonly FrameFailure[]
  readonly pieces: Uint8Array[]
}

/**
 * Decodes the MSRP byte stream `stdin` into NDJSON on `stdout`. Resolves to the exit status: 0, or 1 after
 * writing an error line for a fatal framing failure or a stream that ends mid-frame (RFC 4975 §7.1).
 */
export async function decode(
  stdin: Input,
  stdout: Writable,
  _stderr: Writable,
  options: DecodeOptions = {}
): Promise<number> {
  const framer = new Framer(options.framer)
  let joining: Joining | undefined
  const writeFrame = (frame: MsrpFrame, failures: readonly FrameFailure[]): Promise<void> =>
    writeAll(stdout, JSON.stringify(frameToJson(frame, failures)) + '\n')
  const writeError = async (failure: FramingFailure): Promise<number> => {
    await writeAll(stdout, JSON.stringify(errorToJson(failure)) + '\n')
    return EXIT_FAILURE
  }

  /** Handles one event; returns the failure that ends the stream, if it is one. */
  const handle = async (event: FramerEvent): Promise<FramingFailure | undefined> => {
    switch (event.type) {
      case 'frame':
        await writeFrame(event.frame, event.failures)
        return undefined
      case 'head':
        joining = { head: event.head, failures: event.failures, pieces: [] }
        return undefined
      case 'body':
        // The pieces are views of stdin's chunks (no copy); joined once, at the end-line.
        joining?.pieces.push(event.data)
        return undefined
      case 'end': {
        if (joining === undefined) return undefined
        const { head, failures, pieces } = joining
        joining = undefined
        await writeFrame({ ...head, body: concatBytes(pieces), continuation: event.continuation }, failures)
        return undefined
      }
      case 'failure':
        return event.failure
    }
  }

  for await (const chunk of stdin) {
    for (const event of framer.push(chunk)) {
      const failure = await handle(event)
      if (failure !== undefined) return writeError(failure)
    }
  }
  for (const event of framer.finish()) {
    if (event.type === 'failure') return writeError(event.failure)
  }
  return EXIT_OK
}
