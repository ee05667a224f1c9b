/**
 * `rx-msrp encode`: the NDJSON of `rx-msrp decode` on stdin → raw MSRP bytes on stdout (docs/cli.md).
 *
 * ```text
 * stdin:   {"type":"request",…}\n\n{"type":"response",…}\n      (blank lines are skipped)
 * stdout:  MSRP a786hjs2 SEND\r\n…-------a786hjs2$\r\nMSRP a786hjs2 200 OK\r\n…     exit 0
 * ```
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import type { Writable } from 'node:stream'
import { encodeFrame } from '../wire/encoder'
import { parseLine } from './ndjson'
import { EXIT_FAILURE, EXIT_OK, readLines, writeAll, type Input } from './stdio'

export const ENCODE_USAGE = `Usage: rx-msrp encode

Reads frames as NDJSON on stdin, one JSON object per line in the format "rx-msrp decode" writes, and
writes their MSRP wire bytes (RFC 4975 §7.1) on stdout. Blank lines are ignored.

  {"type":"request","transactionId":"…","method":"SEND","headers":[["Content-Type","text/plain"]],"body":"SGk=","continuation":"$"}
  {"type":"response","transactionId":"…","status":200,"comment":"OK","headers":[]}

"body" is base64 (RFC 4648, padded) and present only on requests with a body; "continuation" ("$", "+"
or "#") defaults to "$"; "comment" is optional; "failures" is ignored; any other field is refused.

The first line that is not such an object, or whose frame cannot be encoded (e.g. TransactionIdInBody:
"-------<transactionId>" occurs in the body), is reported on stderr with its line number and reason,
after the frames of the lines before it, and the command exits with status 1.

"rx-msrp encode | rx-msrp decode" reproduces valid input, and "decode | encode" its bytes.

Exit status: 0 all lines encoded, 1 invalid line, 2 usage.
`

/** A line could not be encoded: `rx-msrp encode: line 3: Base64Invalid: body: …`. */
function report(stderr: Writable, line: number, reason: string, detail: string): number {
  stderr.write(`rx-msrp encode: line ${line}: ${reason}: ${detail}\n`)
  return EXIT_FAILURE
}

/** A line holding nothing but JSON whitespace (RFC 8259 §2: SP, HTAB, CR, LF). */
function isBlank(line: Uint8Array): boolean {
  for (const c of line) if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  return true
}

/**
 * Encodes the NDJSON frames of `stdin` to MSRP bytes on `stdout`, one line at a time and in order. Resolves
 * to the exit status: 0, or 1 after reporting the first refused line on `stderr` (the frames of the lines
 * before it are written).
 */
export async function encode(stdin: Input, stdout: Writable, stderr: Writable): Promise<number> {
  let lineNumber = 0
  for await (const line of readLines(stdin)) {
    lineNumber++
    if (isBlank(line)) continue
    const pieces = pipe(
      parseLine(line),
      E.chainW((frame) => encodeFrame(frame))
    )
    if (E.isLeft(pieces)) return report(stderr, lineNumber, pieces.left.reason, pieces.left.detail)
    // head, body and end-line are written as they are: the body is never copied into a bigger buffer.
    for (const piece of pieces.right) if (piece.length > 0) await writeAll(stdout, piece)
  }
  return EXIT_OK
}
