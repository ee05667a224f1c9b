/**
 * Byte-Range (RFC 4975 §7.1.1, §9): `range-start "-" range-end "/" total`, 1-based positions of the chunk's octets
 * within the whole message; `range-end` and `total` may be `*`.
 */
import * as E from 'fp-ts/Either'
import { digits, headerCodec } from './grammar'

/** A Byte-Range value. `end` is the position of the last octet (`start - 1` for an empty chunk). */
export interface ByteRange {
  readonly start: number
  readonly end: number | '*'
  readonly total: number | '*'
}

/** @internal */
const SYNTAX = 'expected start-end/total'

/**
 * Checks the numbers of a Byte-Range; returns why they are inconsistent, or `undefined`.
 *
 * - positions are 1-based, so `start` is at least 1, also for empty content (`1-0/0`) (C-7.1.1-11, C-7.1.1-15);
 * - `end` is at least `start - 1` (`start - 1` meaning no octets);
 * - when known, `end` does not pass `total`, and `start` does not pass `total + 1`;
 * - every number is a safe integer: RFC 4975 §14.5 (C-14.5-4) asks to sanity-check ranges before allocating.
 */
export function checkByteRange(r: ByteRange): string | undefined {
  const { start, end, total } = r
  if (!Number.isSafeInteger(start) || (end !== '*' && !Number.isSafeInteger(end)))
    return 'positions must be safe integers'
  if (total !== '*' && !(Number.isSafeInteger(total) && total >= 0)) return 'total must be a safe integer'
  if (start < 1) return 'range-start must be at least 1 (positions are 1-based; empty content is 1-0/0)'
  if (end !== '*' && end < start - 1) return 'range-end must not be below range-start - 1'
  if (total !== '*' && end !== '*' && end > total) return 'range-end must not exceed total'
  if (total !== '*' && start > total + 1) return 'range-start must not exceed total + 1'
  return undefined
}

/** Whether `u` is a consistent `ByteRange`. */
export function isByteRange(u: unknown): u is ByteRange {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  const num = (v: unknown): boolean => typeof v === 'number'
  return (
    num(r.start) &&
    (r.end === '*' || num(r.end)) &&
    (r.total === '*' || num(r.total)) &&
    checkByteRange(r as unknown as ByteRange) === undefined
  )
}

/** Parses a Byte-Range value (RFC 4975 §9) and checks it with `checkByteRange`. Leading zeros are accepted. */
export function parseByteRange(s: string): E.Either<string, ByteRange> {
  const m = /^([0-9]+)-([0-9]+|\*)\/([0-9]+|\*)$/.exec(s)
  if (m === null) return E.left(SYNTAX)
  const [, startText = '', endText = '', totalText = ''] = m
  const start = digits(startText)
  const end = endText === '*' ? '*' : digits(endText)
  const total = totalText === '*' ? '*' : digits(totalText)
  if (start === undefined || end === undefined || total === undefined)
    return E.left(`${SYNTAX} (numbers must be safe integers)`)
  const r: ByteRange = { start, end, total }
  const problem = checkByteRange(r)
  return problem === undefined ? E.right(r) : E.left(`${SYNTAX} (${problem})`)
}

/** Formats a Byte-Range value, e.g. `1-*\/8`. */
export const formatByteRange = (r: ByteRange): string => `${r.start}-${r.end}/${r.total}`

/** Codec for the Byte-Range header value (RFC 4975 §9). */
export const ByteRange = headerCodec<ByteRange>('ByteRange', isByteRange, parseByteRange, formatByteRange)
