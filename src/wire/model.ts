/**
 * The MSRP frame model (RFC 4975 §7, ABNF in ../shared/spec/rfc4975-core.md §2.3).
 *
 * Frames keep their headers as raw `[name, value]` pairs in wire order: the framer never interprets
 * a header value, so no codec runs in the byte loop. Typed access is on demand through the codecs in
 * `headers/` (see `getHeader`).
 */

/** End-line flag: `$` ends the message, `+` more chunks follow, `#` the message is aborted (C-7.1-9). */
export type Continuation = '$' | '+' | '#'

/** One header line: the name as it appeared on the wire and the raw value after `": "`. */
export type Header = readonly [name: string, value: string]

/** Request methods defined by RFC 4975, RFC 4976 and RFC 7701; any other upper-case token is an extension method. */
export const KNOWN_METHODS = ['SEND', 'REPORT', 'AUTH', 'NICKNAME'] as const

/** The start line and headers of a request: all of it but the body and the end-line. */
export interface RequestHead {
  readonly type: 'request'
  readonly transactionId: string
  /** `SEND`, `REPORT`, `AUTH` or any extension method (1*UPALPHA). */
  readonly method: string
  readonly headers: readonly Header[]
}

export interface MsrpRequest extends RequestHead {
  /**
   * The body octets, or `undefined` for a bodiless request. A request with `Content-Type` and no
   * octets has an empty body (`Uint8Array(0)`), which differs from no body (RFC 4975 §7.1, C-7.1-5).
   */
  readonly body: Uint8Array | undefined
  readonly continuation: Continuation
}

export interface MsrpResponse {
  readonly type: 'response'
  readonly transactionId: string
  /** Three-digit status code. */
  readonly status: number
  /** Reason phrase after the code, `undefined` when the start line has none. */
  readonly comment: string | undefined
  readonly headers: readonly Header[]
  /** Always `$` on the wire for a well-formed response. */
  readonly continuation: Continuation
}

export type MsrpFrame = MsrpRequest | MsrpResponse

/**
 * First value of the header `name` (ASCII case-insensitive), or `undefined`.
 * RFC 4975 header names are case-insensitive ABNF literals (rfc4975-core.md §2.4 item 3).
 */
export function getHeader(headers: readonly Header[], name: string): string | undefined {
  const wanted = name.toLowerCase()
  for (const [n, v] of headers) if (n.length === wanted.length && n.toLowerCase() === wanted) return v
  return undefined
}

/** Every value of the header `name` (ASCII case-insensitive), in wire order. */
export function getHeaders(headers: readonly Header[], name: string): string[] {
  const wanted = name.toLowerCase()
  const out: string[] = []
  for (const [n, v] of headers) if (n.toLowerCase() === wanted) out.push(v)
  return out
}
