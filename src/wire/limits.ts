/**
 * Every limit the wire layer enforces, with its named default (DESIGN.md: one place per limit).
 * All are configurable through `FramerOptions`; each violation has its own failure reason.
 */

/** Longest start line: `MSRP SP tid(≤32) SP` + method or status with a comment. */
export const MAX_START_LINE_BYTES = 1024
/** Longest header line (CRLF excluded). Long To-Paths through several relays and Digest headers fit. */
export const MAX_HEADER_LINE_BYTES = 8192
/** Most header lines in one frame. */
export const MAX_HEADER_COUNT = 64
/** Largest header section, start line included. */
export const MAX_HEADER_SECTION_BYTES = 32 * 1024
/** Largest body of a non-SEND request (and of a response): RFC 4975 §7.1, C-7.1-4. */
export const MAX_NON_SEND_BODY_BYTES = 10240
/**
 * Largest SEND chunk body. Unlimited by default: C-7.1.1-18 says nodes accept chunks of any size up to the
 * largest message they accept, and message size is limited where messages are reassembled. The framer
 * streams such bodies in pieces, so its memory stays bounded anyway.
 */
export const MAX_CHUNK_BYTES = Number.MAX_SAFE_INTEGER
/**
 * A SEND body that grows past this many bytes is yielded in pieces instead of being buffered whole. Chunks of the
 * sizes relays forward (Kamailio: frames under ~11 KB) arrive whole; larger bodies stream as views of the reads,
 * never copied (`npm run bench`: joining 64 KiB bodies that straddle reads cost a third of the throughput).
 */
export const PIECE_BYTES = 16 * 1024

export interface FramerLimits {
  readonly maxStartLineBytes: number
  readonly maxHeaderLineBytes: number
  readonly maxHeaderCount: number
  readonly maxHeaderSectionBytes: number
  readonly maxNonSendBodyBytes: number
  readonly maxChunkBytes: number
  readonly pieceBytes: number
}

export const DEFAULT_FRAMER_LIMITS: FramerLimits = {
  maxStartLineBytes: MAX_START_LINE_BYTES,
  maxHeaderLineBytes: MAX_HEADER_LINE_BYTES,
  maxHeaderCount: MAX_HEADER_COUNT,
  maxHeaderSectionBytes: MAX_HEADER_SECTION_BYTES,
  maxNonSendBodyBytes: MAX_NON_SEND_BODY_BYTES,
  maxChunkBytes: MAX_CHUNK_BYTES,
  pieceBytes: PIECE_BYTES
}
