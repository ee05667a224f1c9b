/**
 * RFC 5547 file transfer helpers: which part of a file an offer or answer asks for, and resuming an interrupted
 * transfer with a new offer whose `a=file-range` names the bytes still missing (RFC 5547 §8.1, §8.7).
 */
import * as E from 'fp-ts/Either'
import type { FileRange } from './attributes'
import { sdpFailure, type SdpFailure } from './failures'
import type { FileAttributes, MsrpMedia } from './msrp-media'
import { buildOffer, type OfferMediaOptions } from './offer-answer'

/** A received span of a file, 1-based and inclusive (as MSRP Byte-Range and RFC 5547 file-range count). */
export interface ReceivedRange {
  readonly start: number
  readonly end: number
}

/**
 * The smallest `file-range` covering every byte of a `size`-octet file not in `received`, or `undefined` when the
 * file is complete. With an unknown size, the range runs from the first missing byte to `*`.
 *
 * ```text
 * size 100, received 1-40 and 61-70  →  41-100     (one m-line per range: RFC 5547 has one range per transfer)
 * ```
 */
export function missingRange(received: readonly ReceivedRange[], size: number | undefined): FileRange | undefined {
  const spans = [...received].filter((r) => r.end >= r.start).sort((a, b) => a.start - b.start)
  let next = 1 // first byte not known to be received
  let firstMissing: number | undefined
  let lastMissing: number | undefined
  for (const r of spans) {
    if (r.start > next) {
      firstMissing ??= next
      lastMissing = r.start - 1
    }
    next = Math.max(next, r.end + 1)
  }
  if (size === undefined) return { start: firstMissing ?? next, stop: '*' }
  if (next <= size) {
    firstMissing ??= next
    lastMissing = size
  }
  return firstMissing === undefined || lastMissing === undefined
    ? undefined
    : { start: firstMissing, stop: lastMissing }
}

/** Options of {@link buildResumeOffer}: this side's new m-line, with a transfer id different from the old one. */
export interface ResumeOfferOptions extends Omit<OfferMediaOptions, 'file' | 'direction'> {
  /** The new transfer's id: resuming is a new transfer, so it MUST differ from the interrupted one (F-8.1-2). */
  readonly transferId: string
}

/**
 * The offer that resumes an interrupted file transfer from the receiving side (a pull, RFC 5547 §8.2.2): the same
 * file selector, a new `a=file-transfer-id`, `a=recvonly`, and `a=file-range` naming the bytes not yet received.
 * `previous` is the m-line of the interrupted transfer (offer or answer). Fails with `FileTransferInvalid` when it
 * has no file selector, when the id is reused (F-8.1-2), or when nothing is missing.
 */
export function buildResumeOffer(
  previous: Pick<MsrpMedia, 'file'>,
  received: readonly ReceivedRange[],
  options: ResumeOfferOptions
): E.Either<SdpFailure, string> {
  const old = previous.file
  if (old?.selector === undefined)
    return E.left(sdpFailure('FileTransferInvalid', 'the interrupted m-line has no a=file-selector', 'file-selector'))
  if (old.transferId === options.transferId)
    return E.left(
      sdpFailure(
        'FileTransferInvalid',
        'a resumed transfer needs a new a=file-transfer-id (F-8.1-2)',
        'file-transfer-id'
      )
    )
  const size = old.selector.size ?? (typeof old.range?.stop === 'number' ? old.range.stop : undefined)
  const range = missingRange(received, size)
  if (range === undefined)
    return E.left(sdpFailure('FileTransferInvalid', 'every byte of the file was received', 'file-range'))
  const { transferId, ...media } = options
  const file: FileAttributes = { selector: old.selector, transferId, range }
  return buildOffer({ ...media, direction: 'recvonly', file })
}

/**
 * The part of the file the sender extracts for a transfer (RFC 5547 §8.7, F-8.7-1): `offset` (0-based) and
 * `length` in octets; the whole file without `a=file-range`. Sent as one MSRP message whose Byte-Range counts from 1,
 * e.g. `session.send(bytes.subarray(offset, offset + length))` or a Blob's `slice(offset, offset + length)`.
 * Fails with `AttributeInvalid` when the range lies outside a file of `size` octets.
 */
export function sendRangeFor(
  file: Pick<FileAttributes, 'range'> | undefined,
  size: number
): E.Either<SdpFailure, { readonly offset: number; readonly length: number }> {
  const range = file?.range
  if (range === undefined) return E.right({ offset: 0, length: size })
  const stop = range.stop === '*' ? size : range.stop
  if (range.start > size || stop > size)
    return E.left(
      sdpFailure(
        'AttributeInvalid',
        `a=file-range ${range.start}-${range.stop} exceeds the ${size}-octet file`,
        'file-range'
      )
    )
  return E.right({ offset: range.start - 1, length: stop - range.start + 1 })
}

/**
 * Where the received message's bytes go in the file (RFC 5547 §8.7): MSRP byte `n` of the message (1-based) is file
 * byte `n + fileOffset`, so a receiver writes at 0-based position `(n - 1) + fileOffset`.
 */
export const fileOffsetOf = (file: Pick<FileAttributes, 'range'> | undefined): number =>
  file?.range === undefined ? 0 : file.range.start - 1
