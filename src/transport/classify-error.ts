/**
 * Maps Node, OpenSSL and ws errors to a `TransportReason`.
 *
 * @internal
 */
import type { TransportReason } from './transport'

/** Codes of a peer that cannot be reached: nothing listens, no route, no such name. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EADDRINUSE',
  'EACCES'
])

/** OpenSSL verification results (`X509_V_ERR_*` without the prefix) and Node's TLS/SSL error codes. */
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/

/** The `code` of an error-like value, if it has a string one. @internal */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** True for a TLS handshake or certificate verification failure. @internal */
export function isTlsError(error: unknown): boolean {
  const code = errorCode(error)
  if (code !== undefined && TLS_CODE.test(code)) return true
  return (error as { library?: unknown } | null)?.library === 'SSL routines'
}

/** True when the peer could not be reached at all. @internal */
export function isUnreachable(error: unknown): boolean {
  const code = errorCode(error)
  return code !== undefined && UNREACHABLE.has(code)
}

/** The reason for an error on an established byte stream: TLS problems are `TlsFailed`, anything else `Reset`. @internal */
export function streamErrorReason(error: unknown): TransportReason {
  return isTlsError(error) ? 'TlsFailed' : 'Reset'
}

/** A readable description of an error-like value. @internal */
export function describeError(error: unknown): string {
  // Duck-typed: errors made by Node's internals fail `instanceof Error` in other realms (vm contexts, jest).
  const message = (error as { message?: unknown } | null)?.message
  if (typeof message !== 'string') return String(error)
  const code = errorCode(error)
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
}
