/**
 * Success-Report and Failure-Report (RFC 4975 §7.1.1, §9). Values are case-insensitive on decode (quoted ABNF
 * literals) and emitted in lower case.
 */
import * as E from 'fp-ts/Either'
import { headerCodec } from './grammar'

/** Success-Report: `yes` asks the final recipient for success REPORTs; absent means `no` (C-7.1.1-8). */
export type SuccessReport = 'yes' | 'no'

/** Failure-Report: `yes` (the default when absent, C-7.1.1-8), `no` or `partial` (RFC 4975 §7.1.1). */
export type FailureReport = 'yes' | 'no' | 'partial'

/** @internal */
const oneOf =
  <A extends string>(values: readonly A[]) =>
  (u: unknown): u is A =>
    typeof u === 'string' && (values as readonly string[]).includes(u)

/** @internal */
const SUCCESS_VALUES: readonly SuccessReport[] = ['yes', 'no']
/** @internal */
const FAILURE_VALUES: readonly FailureReport[] = ['yes', 'no', 'partial']

/** @internal */
const parseOneOf =
  <A extends string>(values: readonly A[]) =>
  (s: string): E.Either<string, A> => {
    const v = s.toLowerCase()
    return oneOf(values)(v) ? E.right(v) : E.left(`expected ${values.map((x) => `"${x}"`).join(' or ')}`)
  }

/** Value used when a SEND has no Success-Report header (C-7.1.1-8). */
export const SUCCESS_REPORT_DEFAULT: SuccessReport = 'no'
/** Value used when a SEND has no Failure-Report header (C-7.1.1-8). */
export const FAILURE_REPORT_DEFAULT: FailureReport = 'yes'

/** Parses a Success-Report value (`yes` / `no`, any case). */
export const parseSuccessReport = parseOneOf(SUCCESS_VALUES)
/** Parses a Failure-Report value (`yes` / `no` / `partial`, any case). */
export const parseFailureReport = parseOneOf(FAILURE_VALUES)

/** Codec for the Success-Report header value (RFC 4975 §9). */
export const SuccessReport = headerCodec<SuccessReport>(
  'SuccessReport',
  oneOf(SUCCESS_VALUES),
  parseSuccessReport,
  (v) => v
)

/** Codec for the Failure-Report header value (RFC 4975 §9). */
export const FailureReport = headerCodec<FailureReport>(
  'FailureReport',
  oneOf(FAILURE_VALUES),
  parseFailureReport,
  (v) => v
)
