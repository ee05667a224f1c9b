/**
 * Status (RFC 4975 §7.1.2, §9): `namespace SP status-code [SP comment]`, carried by REPORT requests.
 */
import * as E from 'fp-ts/Either'
import { headerCodec, isUtf8Text } from './grammar'

/** A Status value, e.g. `000 200 OK` → `{ namespace: 0, code: 200, comment: 'OK' }`. */
export interface Status {
  /** Three digits on the wire; `0` (`000`) means "same meaning as the MSRP response code" (C-7.3.2-2). */
  readonly namespace: number
  /** Three-digit status code. */
  readonly code: number
  /** Text after the code; `undefined` when absent (it may be present and empty). */
  readonly comment?: string
}

/** The namespace of every code defined by RFC 4975 (`000`, C-7.1.3-4). */
export const STATUS_NAMESPACE_MSRP = 0

/** @internal */
const isThreeDigits = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 999

/** Whether `u` is a `Status` that can be encoded. */
export function isStatus(u: unknown): u is Status {
  if (typeof u !== 'object' || u === null) return false
  const r = u as Record<string, unknown>
  return isThreeDigits(r.namespace) && isThreeDigits(r.code) && (r.comment === undefined || isUtf8Text(r.comment))
}

/** Parses a Status value: two groups of exactly three digits, then an optional `utf8text` comment. */
export function parseStatus(s: string): E.Either<string, Status> {
  const m = /^([0-9]{3}) ([0-9]{3})(?: ([^]*))?$/.exec(s)
  if (m === null) return E.left('expected namespace SP status-code [SP comment], e.g. "000 200 OK"')
  const [, ns = '', code = '', comment] = m
  if (comment === undefined) return E.right({ namespace: Number(ns), code: Number(code) })
  if (!isUtf8Text(comment)) return E.left('the comment must be utf8text (no control characters but HTAB)')
  return E.right({ namespace: Number(ns), code: Number(code), comment })
}

/** Formats a Status value with zero-padded three-digit fields. */
export const formatStatus = (st: Status): string => {
  const head = `${String(st.namespace).padStart(3, '0')} ${String(st.code).padStart(3, '0')}`
  return st.comment === undefined ? head : `${head} ${st.comment}`
}

/** Codec for the Status header value (RFC 4975 §9). */
export const Status = headerCodec<Status>('Status', isStatus, parseStatus, formatStatus)
