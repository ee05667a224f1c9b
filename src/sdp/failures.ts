/**
 * Failures of the SDP helpers, as plain values (STYLE.md §4, tier 1): parsing, building and negotiating MSRP media
 * descriptions never throw on bad input; they return one of these, naming the attribute and the m-line.
 */

export type SdpReason =
  /** The text has no `m=message` line with proto `TCP/MSRP` or `TCP/TLS/MSRP` (RFC 4975 §8.1, C-8.1-2). */
  | 'NoMsrpMedia'
  /** An MSRP m-line's format list is not the single value `*` (C-8.1-2). */
  | 'FormatInvalid'
  /** A mandatory attribute is absent: `path` (C-8.2-1), `accept-types` (C-8.6-1), RFC 5547 file attributes. */
  | 'AttributeMissing'
  /** An attribute value does not follow its grammar; the detail says what was expected. */
  | 'AttributeInvalid'
  /** A single-valued attribute occurs twice on one m-line. */
  | 'AttributeDuplicate'
  /** An `a=setup` role the RFC 6135 rules forbid here (an offer of `passive`, both sides `active`, …). */
  | 'SetupInvalid'
  /** RFC 6714 §4.3: an offer without `a=msrp-cema` whose c/m-line matches no path URI (answer 488, M-4.3-1). */
  | 'CemaMismatch'
  /** RFC 5547: a file-transfer offer or answer that breaks a rule (id not copied, no selector, …). */
  | 'FileTransferInvalid'
  /** The peer rejected the stream (port 0 in its answer), so there is no session to plan. */
  | 'MediaRejected'
  /**
   * RFC 4975 §8.6 (C-8.6-6): no type the offer accepts is one the answerer accepts (nor `*`), so the session could carry
   * nothing: answer the INVITE with 488 Not Acceptable Here.
   */
  | 'NoCommonType'
  /**
   * RFC 4975 §14.4 (C-14.4-3): the certificate the peer presented in the TLS handshake does not match its SDP's
   * `a=fingerprint`, or it presented none. The media session is torn down at once.
   */
  | 'FingerprintMismatch'
  /** An `a=fingerprint` hash function that cannot be computed here (sha-224, md5, md2, unknown): no check possible. */
  | 'FingerprintUnsupported'
  /**
   * RFC 5547 §6 (F-8.8-1), RFC 2387: a `multipart/related` SDP body that cannot be built or read (no SDP root, no
   * `type` parameter, a missing boundary, a part without Content-ID, an `a=file-icon` naming no part, …).
   */
  | 'MultipartInvalid'

/** Why an SDP could not be parsed, built or negotiated. */
export interface SdpFailure {
  readonly _tag: 'SdpFailure'
  readonly reason: SdpReason
  /** The attribute concerned, e.g. `'path'`, `'setup'`, `'file-range'`, when there is one. */
  readonly attribute: string | undefined
  /** Position of the m-line among all m-lines of the SDP (0-based), when the failure concerns one. */
  readonly mediaIndex: number | undefined
  /** Human-readable detail, naming the attribute and what was expected. */
  readonly detail: string
}

/** Builds an `SdpFailure`. */
export const sdpFailure = (
  reason: SdpReason,
  detail: string,
  attribute: string | undefined = undefined,
  mediaIndex: number | undefined = undefined
): SdpFailure => ({ _tag: 'SdpFailure', reason, attribute, mediaIndex, detail })

/**
 * An `SdpFailure` on the error channel, where an API is a promise rather than an `Either` (`openPlannedSession` on a
 * fingerprint mismatch, C-14.4-3). `failure` holds the value.
 */
export class SdpError extends Error {
  override readonly name = 'SdpError'
  constructor(readonly failure: SdpFailure) {
    super(`${failure.reason}: ${failure.detail}`)
  }
}
