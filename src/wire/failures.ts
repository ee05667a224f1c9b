/**
 * Failures of the wire layer, as plain values (STYLE.md §4). Every reason is listed in docs/errors.md
 * with the MSRP status a session answers and whether the connection survives it.
 */

/** Connection-fatal framing problems: the framer has lost sync or a limit protecting memory was hit. */
export type FramingReason =
  /** The start line is not `MSRP SP transact-id SP (method / status-code [SP comment])`. */
  | 'StartLineInvalid'
  /** The start line is longer than `maxStartLineBytes`. */
  | 'StartLineTooLong'
  /** A header line is longer than `maxHeaderLineBytes`. */
  | 'HeaderLineTooLong'
  /** More than `maxHeaderCount` header lines. */
  | 'TooManyHeaders'
  /** The header section (start line included) is larger than `maxHeaderSectionBytes`. */
  | 'HeaderSectionTooLarge'
  /** A line of the header section ends in a bare LF (MSRP lines end in CRLF). */
  | 'LineNotCrlf'
  /** A non-SEND request or a response has a body larger than `maxNonSendBodyBytes` (C-7.1-4). */
  | 'BodyTooLarge'
  /** A SEND chunk has a body larger than `maxChunkBytes`. */
  | 'ChunkTooLarge'
  /** The byte stream ended in the middle of a frame. */
  | 'Truncated'
  /** A message-oriented transport delivered a message that is not exactly one frame (RFC 7977 §5.1, W-5.1-3). */
  | 'NotOneFrame'

export interface FramingFailure {
  readonly _tag: 'FramingFailure'
  readonly reason: FramingReason
  /** Human-readable detail naming the limit or the offending bytes. */
  readonly detail: string
  /** Offset in the byte stream (0 = first byte ever pushed) where the problem was detected. */
  readonly offset: number
  /** The transaction id of the broken frame when its start line was readable, so it can be answered. */
  readonly transactionId?: string
  /** The method of the broken frame when known (requests only). */
  readonly method?: string
  /** Set when the broken frame is a response (never answered). */
  readonly response?: boolean
  /** The MSRP status to answer the broken request with (if it is a request that gets answers). */
  readonly status: number
}

/** Problems confined to one frame: the frame was delimited correctly, so the connection survives. */
export type FrameReason =
  /** A header line has no `:`, its name is not `hname`, or its value holds a control character (not utf8text). */
  | 'HeaderMalformed'
  /** A response ends with `+` or `#` (responses are never chunked). */
  | 'ResponseNotFinal'
  /** A response carries a body section (responses have none). The body is dropped. */
  | 'ResponseBody'

export interface FrameFailure {
  readonly _tag: 'FrameFailure'
  readonly reason: FrameReason
  readonly detail: string
  readonly offset: number
  readonly status: number
}

export type HeaderReason = 'Missing' | 'Invalid' | 'Duplicate'

/** A header value that its codec could not decode; names the header and says why. */
export interface HeaderFailure {
  readonly _tag: 'HeaderFailure'
  readonly header: string
  readonly reason: HeaderReason
  readonly detail: string
}

export type EncodeReason =
  /** The transaction id is not an `ident` (4 to 32 characters, RFC 4975 §9). */
  | 'TransactionIdInvalid'
  /** `-------<transaction id>` occurs in the body (stricter than C-7.1-10, see encoder.ts). */
  | 'TransactionIdInBody'
  /** The method is not 1*UPALPHA. */
  | 'MethodInvalid'
  /** The status is not a three-digit code (000–999), or the comment is not utf8text. */
  | 'StatusInvalid'
  /**
   * A header name is not `hname`, a value or comment is not utf8text (controls, lone surrogates), a body comes
   * without Content-Type as the last header (C-7.1-2), or a bodiless request carries Content-Type (C-7.1-5).
   */
  | 'HeaderInvalid'
  /** A response with a body, or a non-SEND body larger than `maxNonSendBodyBytes` (default 10240, C-7.1-4). */
  | 'BodyNotAllowed'
  /** The continuation flag is not `$`, `+` or `#`, or is not `$` on a response. */
  | 'ContinuationInvalid'
  /** A Byte-Range cannot be computed (negative start, total smaller than the range end). */
  | 'ByteRangeInvalid'

export interface EncodeFailure {
  readonly _tag: 'EncodeFailure'
  readonly reason: EncodeReason
  readonly detail: string
}

/** Why a string is not an MSRP URI (see `UriFailure`). */
export type UriReason =
  /** The string does not start with `msrp://` or `msrps://`. */
  | 'SchemeInvalid'
  /** The userinfo has a character that is neither unreserved, a sub-delim nor a valid `%XX`. */
  | 'UserinfoInvalid'
  /** The userinfo holds a password (`user:pass@`), which C-6-4 forbids. */
  | 'PasswordInUserinfo'
  /** The host is empty, has a forbidden character, or is a malformed IP literal. */
  | 'HostInvalid'
  /** The port is empty, not decimal, or outside 1–65535. */
  | 'PortInvalid'
  /** The session-id is empty or has a character outside `unreserved / "+" / "=" / "/"`. */
  | 'SessionIdInvalid'
  /** There is no `;transport` (C-6-1). */
  | 'TransportMissing'
  /** The transport is not `1*ALPHANUM`. */
  | 'TransportInvalid'
  /** A parameter after the transport is not `token ["=" token]`. */
  | 'ParameterInvalid'
  /** A numeric IP authority without a port (C-6-2); reported by `checkPort`, never by `parseUri`. */
  | 'PortRequired'

/** A string that is not an MSRP URI, or a URI that fails a check. Plain value, never thrown. */
export interface UriFailure {
  readonly _tag: 'UriFailure'
  readonly reason: UriReason
  readonly detail: string
}

/** Why a Digest exchange failed. A relay answers every one with 401 (RFC 4976 §6.3); see each member. */
export type DigestReason =
  /** A parameter the profile makes mandatory is absent (R-9.1-6, R-9.1-7, R-9.1-9). */
  | 'MissingParameter'
  /** A parameter has the wrong shape: `nc` not 8LHEX, `response` not 32LHEX, a nonce count out of range. */
  | 'InvalidParameter'
  /** qop is not `auth` (auth-int is excluded by R-9.1-3), or a challenge offers no `auth`. */
  | 'UnsupportedQop'
  /** algorithm is neither absent nor `MD5` (MD5-sess is excluded by R-9.1-4). */
  | 'UnsupportedAlgorithm'
  /** The credentials are for another protection space than the relay's realm. */
  | 'RealmMismatch'
  /** `uri=` is present and differs from the rightmost To-Path URI (R-9.1-8). */
  | 'UriMismatch'
  /** The relay never issued this nonce, or has evicted it. Answer 401 with a fresh challenge (no `stale`). */
  | 'UnknownNonce'
  /** The response is correct but the nonce has expired. Answer 401 with a fresh challenge and `stale=true`. */
  | 'StaleNonce'
  /** nc is not strictly greater than the last nc accepted for this nonce (RFC 2617 §3.2.2 replay protection). */
  | 'ReplayedNonceCount'
  /** The request-digest does not match (wrong password, unknown user, tampered parameters). */
  | 'BadResponse'
  /** Client side: the relay's `rspauth` does not prove knowledge of the password (RFC 2617 §3.2.3). */
  | 'BadRspauth'
  /** Client side: Authentication-Info echoes a cnonce, nc or qop other than the ones sent (R-9.1-9). */
  | 'AuthenticationInfoMismatch'

/** A failed Digest step, as a plain value (STYLE.md §4). `detail` never contains a hash or a secret. */
export interface DigestFailure {
  readonly _tag: 'DigestFailure'
  readonly reason: DigestReason
  readonly detail: string
}

export type WireFailure = FramingFailure | FrameFailure | HeaderFailure | EncodeFailure | UriFailure | DigestFailure

/** The MSRP status code that answers a request that failed this way (400 unless the failure says otherwise). */
export function statusFor(failure: WireFailure): number {
  switch (failure._tag) {
    case 'FramingFailure':
    case 'FrameFailure':
      return failure.status
    case 'HeaderFailure':
    case 'EncodeFailure':
    case 'UriFailure':
      return 400
    case 'DigestFailure':
      // RFC 4976 §6.3: missing, invalid or stale credentials are all answered 401 with a fresh challenge.
      return 401
  }
}

/** Whether the connection must be closed after this failure (the byte stream can no longer be trusted). */
export function isFatal(failure: WireFailure): boolean {
  return failure._tag === 'FramingFailure'
}

export const headerFailure = (header: string, reason: HeaderReason, detail: string): HeaderFailure => ({
  _tag: 'HeaderFailure',
  header,
  reason,
  detail
})

export const encodeFailure = (reason: EncodeReason, detail: string): EncodeFailure => ({
  _tag: 'EncodeFailure',
  reason,
  detail
})
