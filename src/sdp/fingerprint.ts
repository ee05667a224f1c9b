/**
 * `a=fingerprint` (RFC 4572) for peer-to-peer TLS with self-signed certificates (RFC 4975 §14.4): the digest of this
 * side's certificate to put in its SDP (C-14.4-2), and the check of the certificate the peer presented in the TLS
 * handshake against the digest in the peer's SDP (C-14.4-3). Digests are computed with WebCrypto
 * (`globalThis.crypto.subtle`: Node ≥ 20, and browsers in secure contexts), so this module stays browser-safe;
 * WebCrypto is asynchronous, hence the promises. They never reject: failures are `SdpFailure` values.
 *
 * ```text
 * a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB
 *               └ hash-func └ fingerprint: the digest of the DER certificate, hex pairs separated by ":"
 * ```
 */
import * as E from 'fp-ts/Either'
import { headerCodec, isToken } from '../wire/headers/grammar'
import { sdpFailure, type SdpFailure } from './failures'

/** `a=fingerprint` (RFC 4572 §5), for peer-to-peer TLS with self-signed certificates (RFC 4975 §14.4, C-14.4-2). */
export interface Fingerprint {
  /** Hash function as written, e.g. `SHA-1` or `sha-256` (compared case-insensitively). */
  readonly type: string
  /** Hex bytes separated by `:`; upper case when we write it (compared case-insensitively). */
  readonly hash: string
}

/** The hash function names of RFC 4572 §5 ("Hash function Textual Names" registry), in lower case. */
export const FINGERPRINT_ALGORITHMS = ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512', 'md5', 'md2'] as const
export type FingerprintAlgorithm = (typeof FINGERPRINT_ALGORITHMS)[number]

/** The hash function {@link certificateFingerprint} uses when none is given. */
export const DEFAULT_FINGERPRINT_ALGORITHM: FingerprintAlgorithm = 'sha-256'

/**
 * The hash functions this module computes, with their WebCrypto names. WebCrypto has no SHA-224, MD5 or MD2; MD5 and
 * MD2 are broken anyway, so a fingerprint made with them proves nothing (inferred). Those give
 * `FingerprintUnsupported`. @internal
 */
const WEBCRYPTO_NAMES: Readonly<Partial<Record<string, string>>> = {
  'sha-1': 'SHA-1',
  'sha-256': 'SHA-256',
  'sha-384': 'SHA-384',
  'sha-512': 'SHA-512'
}

/** RFC 4572 `fingerprint = 2UHEX *(":" 2UHEX)`; lower-case hex is accepted too. @internal */
const HEX_PAIRS = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/

/** Parses an `a=fingerprint` value: `hash-func SP fingerprint` (RFC 4572 §5). */
export function parseFingerprint(s: string): E.Either<string, Fingerprint> {
  const m = /^(\S+) (\S+)$/.exec(s)
  const type = m?.[1]
  const hash = m?.[2]
  if (type === undefined || hash === undefined || !isToken(type) || !HEX_PAIRS.test(hash))
    return E.left('expected a hash function and hex bytes separated by ":", e.g. sha-256 AB:CD:…')
  return E.right({ type, hash })
}

/** @internal */
const isFingerprint = (u: unknown): u is Fingerprint =>
  typeof u === 'object' &&
  u !== null &&
  isToken((u as Fingerprint).type) &&
  typeof (u as Fingerprint).hash === 'string' &&
  HEX_PAIRS.test((u as Fingerprint).hash)

/** Codec of the `fingerprint` attribute value (RFC 4572 §5; RFC 4975 §14.4, C-14.4-2). */
export const FingerprintAttribute = headerCodec<Fingerprint>(
  'Fingerprint',
  isFingerprint,
  parseFingerprint,
  (f) => `${f.type} ${f.hash}`
)

/** @internal `AB:CD` → bytes; the input has passed `HEX_PAIRS`. */
const hexBytes = (hash: string): Uint8Array => Uint8Array.from(hash.split(':'), (pair) => parseInt(pair, 16))

/** @internal bytes → `AB:CD`. */
const hexPairs = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':')

/** @internal The digest of `der` with an RFC 4572 hash function, or why it cannot be computed here. */
async function digest(algorithm: string, der: Uint8Array): Promise<E.Either<SdpFailure, Uint8Array>> {
  const name = WEBCRYPTO_NAMES[algorithm.toLowerCase()]
  if (name === undefined) {
    const known = (FINGERPRINT_ALGORITHMS as readonly string[]).includes(algorithm.toLowerCase())
    const what = known ? 'is not supported here (WebCrypto has sha-1, sha-256, sha-384, sha-512)' : 'is unknown'
    return E.left(
      sdpFailure('FingerprintUnsupported', `a=fingerprint: hash function ${algorithm} ${what}`, 'fingerprint')
    )
  }
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle
  if (subtle === undefined)
    return E.left(
      sdpFailure(
        'FingerprintUnsupported',
        'no WebCrypto (crypto.subtle) here: browsers offer it in secure contexts only',
        'fingerprint'
      )
    )
  try {
    // A copy: WebCrypto takes an ArrayBuffer-backed view, and a Node Buffer may be a slice of a shared pool.
    return E.right(new Uint8Array(await subtle.digest(name, new Uint8Array(der))))
  } catch (e) {
    return E.left(sdpFailure('FingerprintUnsupported', `a=fingerprint: ${name} failed: ${String(e)}`, 'fingerprint'))
  }
}

/**
 * This side's `a=fingerprint` (RFC 4975 §14.4, C-14.4-2: a UA with a self-signed certificate puts it in its SDP): the
 * digest of its DER certificate, e.g. `{ type: 'sha-256', hash: 'AB:CD:…' }`, for `buildOffer({ fingerprint })`.
 * In Node, the DER of a PEM certificate is `new X509Certificate(pem).raw`. Fails with `FingerprintUnsupported` for a
 * hash function WebCrypto lacks.
 *
 * ```ts
 * const fingerprint = await certificateFingerprint(new X509Certificate(cert).raw) // right({ type: 'sha-256', … })
 * ```
 */
export async function certificateFingerprint(
  der: Uint8Array,
  algorithm: FingerprintAlgorithm = DEFAULT_FINGERPRINT_ALGORITHM
): Promise<E.Either<SdpFailure, Fingerprint>> {
  const d = await digest(algorithm, der)
  return E.isLeft(d) ? d : E.right({ type: algorithm, hash: hexPairs(d.right) })
}

/**
 * Checks the certificate the peer presented in the TLS handshake (its DER bytes: `transport.info.peerCertificate?.raw`)
 * against the `a=fingerprint` of the peer's SDP (RFC 4975 §14.4). Hash function names and hex digits are compared
 * case-insensitively. Resolves with the fingerprint when it matches; otherwise with `FingerprintMismatch` (another
 * certificate, or none at all: tear the session down at once, C-14.4-3), `FingerprintUnsupported` (a hash function
 * this module cannot compute: the certificate cannot be checked, so do not use the session either) or
 * `AttributeInvalid` (the fingerprint breaks the RFC 4572 grammar). Never rejects.
 */
export async function checkFingerprint(
  certificate: Uint8Array | undefined,
  fingerprint: Fingerprint
): Promise<E.Either<SdpFailure, Fingerprint>> {
  if (!isFingerprint(fingerprint))
    return E.left(
      sdpFailure('AttributeInvalid', 'a=fingerprint: expected a hash function and hex bytes', 'fingerprint')
    )
  const expected = hexBytes(fingerprint.hash)
  if (certificate === undefined || certificate.length === 0)
    // C-14.4-3: no certificate cannot match any fingerprint (a TCP connection, or a TLS server that asked for none).
    return E.left(
      sdpFailure(
        'FingerprintMismatch',
        'the peer presented no certificate to check a=fingerprint against',
        'fingerprint'
      )
    )
  const actual = await digest(fingerprint.type, certificate)
  if (E.isLeft(actual)) return actual
  const same = actual.right.length === expected.length && actual.right.every((b, i) => b === expected[i])
  return same
    ? E.right(fingerprint)
    : E.left(
        sdpFailure(
          'FingerprintMismatch',
          `the peer's certificate has ${fingerprint.type} ${hexPairs(actual.right)}, not a=fingerprint ${fingerprint.hash} (C-14.4-3)`,
          'fingerprint'
        )
      )
}
