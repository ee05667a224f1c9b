/**
 * The NDJSON form of MSRP frames used by `rx-msrp decode` and `rx-msrp encode` (docs/cli.md): one JSON
 * object per frame, the exact inverse of each other on valid frames.
 *
 * ```text
 * {"type":"request","transactionId":"a786hjs2","method":"SEND","headers":[["To-Path","…"],…],"body":"SGV5…","continuation":"$"}
 * {"type":"response","transactionId":"a786hjs2","status":200,"comment":"OK","headers":[…],"continuation":"$"}
 * {"type":"error","reason":"StartLineInvalid","status":400,"offset":120,"detail":"…"}
 * ```
 *
 * Pure: no streams here, so the mapping is testable without processes. Bodies are base64 (RFC 4648 §4,
 * padded), since MSRP bodies are binary (RFC 4975 §7.1).
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import type { FrameFailure, FramingFailure } from '../wire/failures'
import type { Continuation as ContinuationFlag, Header as WireHeader, MsrpFrame } from '../wire/model'

/** A per-frame problem the framer reported (`FrameEvent.failures`), as listed in the frame's `failures` field. */
export interface FailureJson {
  readonly reason: string
  readonly detail: string
}

/** A request line. `body` is absent for a bodiless request and `""` for an empty body (C-7.1-5). */
export interface RequestJson {
  readonly type: 'request'
  readonly transactionId: string
  readonly method: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** Base64 of the body octets. */
  readonly body?: string
  readonly continuation: ContinuationFlag
  /** Only written by `decode`, only when non-empty; ignored by `encode`. */
  readonly failures?: readonly FailureJson[]
}

/** A response line. `comment` is absent when the start line has none. */
export interface ResponseJson {
  readonly type: 'response'
  readonly transactionId: string
  readonly status: number
  readonly comment?: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly continuation: ContinuationFlag
  readonly failures?: readonly FailureJson[]
}

export type FrameJson = RequestJson | ResponseJson

/** The line `decode` writes for a fatal framing failure, after which it exits with status 1. */
export interface ErrorJson {
  readonly type: 'error'
  readonly reason: string
  readonly status: number
  readonly offset: number
  readonly detail: string
}

/** Why an NDJSON input line of `encode` was refused before reaching the encoder. */
export type LineReason =
  /** The line is not UTF-8 (JSON text is UTF-8, RFC 8259 §8.1). */
  | 'Utf8Invalid'
  /** The line is not one JSON value. */
  | 'JsonInvalid'
  /** A field is missing, unknown or of the wrong type. */
  | 'FieldInvalid'
  /** `body` is not canonical padded base64. */
  | 'Base64Invalid'

export interface LineFailure {
  readonly _tag: 'LineFailure'
  readonly reason: LineReason
  readonly detail: string
}

const lineFailure = (reason: LineReason, detail: string): LineFailure => ({ _tag: 'LineFailure', reason, detail })

/**
 * Base64 text ⇄ octets. Only the canonical form is accepted (alphabet `A–Z a–z 0–9 + /`, `=` padding to a
 * multiple of 4, zero unused bits): exactly what `encode` would write back, so a typo is never silently
 * turned into other bytes.
 */
export const Base64 = new t.Type<Uint8Array, string, unknown>(
  'Base64',
  (u): u is Uint8Array => u instanceof Uint8Array,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'expected a base64 string')
    const bytes = Buffer.from(u, 'base64')
    // Buffer skips characters outside the alphabet and tolerates missing padding: re-encoding exposes both.
    return bytes.toString('base64') === u
      ? t.success(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))
      : t.failure(u, c, 'not canonical base64 (RFC 4648 §4: A-Z a-z 0-9 + /, padded with "=")')
  },
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')
)

const isHeader = (u: unknown): u is WireHeader =>
  Array.isArray(u) && u.length === 2 && u.every((s) => typeof s === 'string')

/** One header line as `[name, value]`: exactly two strings (`t.tuple` would drop a third element). */
export const Header = new t.Type<WireHeader, readonly [string, string], unknown>(
  '[name, value]',
  isHeader,
  (u, c) => (isHeader(u) ? t.success(u) : t.failure(u, c, 'expected a [name, value] pair of strings')),
  (h) => h
)

/** The end-line flag (RFC 4975 §7.1, C-7.1-9). */
export const Continuation = t.keyof({ $: null, '+': null, '#': null }, '"$" | "+" | "#"')

/** Refuses keys outside `known`: a misspelt `"Body"` must not silently become a bodiless request. */
function withKnownKeys<C extends t.Mixed>(codec: C, known: readonly string[]): t.Type<t.TypeOf<C>, t.OutputOf<C>> {
  return new t.Type<t.TypeOf<C>, t.OutputOf<C>>(
    codec.name,
    codec.is,
    (u, c) =>
      pipe(
        codec.validate(u, c),
        E.chain((a) => {
          const unknown = Object.keys(u as object).find((k) => !known.includes(k))
          return unknown === undefined ? t.success(a) : t.failure(u, c, `unknown field "${unknown}"`)
        })
      ),
    codec.encode
  )
}

const RequestFields = withKnownKeys(
  t.intersection([
    t.type({ type: t.literal('request'), transactionId: t.string, method: t.string, headers: t.array(Header) }),
    t.partial({ body: Base64, continuation: Continuation, failures: t.unknown })
  ]),
  ['type', 'transactionId', 'method', 'headers', 'body', 'continuation', 'failures']
)

const ResponseFields = withKnownKeys(
  t.intersection([
    t.type({ type: t.literal('response'), transactionId: t.string, status: t.Int, headers: t.array(Header) }),
    t.partial({ comment: t.string, continuation: Continuation, failures: t.unknown })
  ]),
  ['type', 'transactionId', 'status', 'comment', 'headers', 'continuation', 'failures']
)

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

function validateFrame(u: unknown, c: t.Context): t.Validation<MsrpFrame> {
  if (!isRecord(u)) return t.failure(u, c, 'expected a JSON object')
  switch (u['type']) {
    case 'request':
      return pipe(
        RequestFields.validate(u, c),
        E.map((r) => ({
          type: 'request' as const,
          transactionId: r.transactionId,
          method: r.method,
          headers: r.headers,
          body: r.body,
          continuation: r.continuation ?? '$'
        }))
      )
    case 'response':
      return pipe(
        ResponseFields.validate(u, c),
        E.map((r) => ({
          type: 'response' as const,
          transactionId: r.transactionId,
          status: r.status,
          comment: r.comment,
          headers: r.headers,
          continuation: r.continuation ?? '$'
        }))
      )
    default:
      return t.failure(u, c, '"type" must be "request" or "response"')
  }
}

function isFrame(u: unknown): u is MsrpFrame {
  return (
    isRecord(u) &&
    (u['type'] === 'request' || u['type'] === 'response') &&
    typeof u['transactionId'] === 'string' &&
    Array.isArray(u['headers'])
  )
}

/**
 * The frame of one NDJSON object ⇄ that object. Decoding applies the defaults (`continuation` `"$"`);
 * encoding writes the fields in the documented order and omits `body` / `comment` when undefined.
 * Only the line's syntax is checked here: `encodeFrame` checks the frame itself (ident, method, CRLF…).
 */
export const FrameJson = new t.Type<MsrpFrame, FrameJson, unknown>('FrameJson', isFrame, validateFrame, (frame) =>
  frameToJson(frame)
)

/** The NDJSON object of a frame, with the framer's per-frame `failures` appended when there are any. */
export function frameToJson(frame: MsrpFrame, failures: readonly FrameFailure[] = []): FrameJson {
  const extra = failures.length > 0 ? { failures: failures.map((f) => ({ reason: f.reason, detail: f.detail })) } : {}
  if (frame.type === 'request') {
    return {
      type: 'request',
      transactionId: frame.transactionId,
      method: frame.method,
      headers: frame.headers,
      ...(frame.body !== undefined ? { body: Base64.encode(frame.body) } : {}),
      continuation: frame.continuation,
      ...extra
    }
  }
  return {
    type: 'response',
    transactionId: frame.transactionId,
    status: frame.status,
    ...(frame.comment !== undefined ? { comment: frame.comment } : {}),
    headers: frame.headers,
    continuation: frame.continuation,
    ...extra
  }
}

/** The error line for a fatal framing failure: `reason`, `status`, `offset`, then `detail`. */
export function errorToJson(failure: FramingFailure): ErrorJson {
  return {
    type: 'error',
    reason: failure.reason,
    status: failure.status,
    offset: failure.offset,
    detail: failure.detail
  }
}

/**
 * `headers.0`: where in the line's object an io-ts error is. Steps into intersection members (the
 * `t.type` and `t.partial` parts of one object) are not fields, so they are left out.
 */
function pathOf(context: t.Context): string {
  const steps: string[] = []
  for (const entry of context.slice(1)) {
    if (entry.type instanceof t.InterfaceType || entry.type instanceof t.PartialType) continue
    steps.push(entry.key)
  }
  return steps.join('.')
}

function describe(error: t.ValidationError): LineFailure {
  const last = error.context[error.context.length - 1]
  const path = pathOf(error.context)
  const what =
    error.message ??
    (last === undefined
      ? 'invalid'
      : last.actual === undefined
        ? `missing (expected ${last.type.name})`
        : `expected ${last.type.name}, got ${String(JSON.stringify(last.actual)).slice(0, 40)}`)
  const text = path === '' ? what : `${path}: ${what}`
  return lineFailure(last?.type === Base64 ? 'Base64Invalid' : 'FieldInvalid', text)
}

/** The frame of a decoded JSON value, or the first problem found (named by its field path). */
export function jsonToFrame(u: unknown): E.Either<LineFailure, MsrpFrame> {
  return pipe(
    FrameJson.decode(u),
    E.mapLeft((errors) =>
      errors[0] !== undefined ? describe(errors[0]) : lineFailure('FieldInvalid', 'invalid frame object')
    )
  )
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** The frame of one NDJSON line (its bytes, without the LF). */
export function parseLine(line: Uint8Array): E.Either<LineFailure, MsrpFrame> {
  let text: string
  let value: unknown
  try {
    text = UTF8.decode(line)
  } catch {
    return E.left(lineFailure('Utf8Invalid', 'the line is not valid UTF-8'))
  }
  try {
    value = JSON.parse(text)
  } catch (e) {
    return E.left(lineFailure('JsonInvalid', e instanceof Error ? e.message : 'not JSON'))
  }
  return jsonToFrame(value)
}
