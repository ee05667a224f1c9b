import type * as E from 'fp-ts/Either'
import { map, type OperatorFunction } from 'rxjs'
import { encodeFrame, type EncodeOptions } from '../wire/encoder'
import type { EncodeFailure } from '../wire/failures'
import type { MsrpFrame } from '../wire/model'

/**
 * Encodes each frame into the slices to write, `[head, body, tail]` (or one slice), never copying the body
 * (RFC 4975 §7.1, §7.2; docs/wire.md "The encoder").
 *
 * A frame the encoder refuses is a value, `E.left(EncodeFailure)` (STYLE.md §4, tier 2): nothing of it is written
 * and the frames after it still go out. The checks are `encodeFrame`'s: e.g. Content-Type last on a body (C-7.1-2),
 * none without one (C-7.1-5), non-SEND bodies at most `maxNonSendBodyBytes` (C-7.1-4), and `-------<tid>` absent
 * from the body (C-7.1-10). Options are the wire encoder's `EncodeOptions` (`maxNonSendBodyBytes`, default
 * `MAX_NON_SEND_BODY_BYTES` = 10240).
 *
 * ```text
 * frames:  -a--b--c-|        b is invalid
 * result:  -A--L--C-|        A, C = right([head, body, tail]), L = left(EncodeFailure)
 * ```
 */
export function encode(
  options: EncodeOptions = {}
): OperatorFunction<MsrpFrame, E.Either<EncodeFailure, Uint8Array[]>> {
  // Stateless, so an existing operator suffices (STYLE.md §3 rule 4); encodeFrame returns Either and never throws.
  return map((frame) => encodeFrame(frame, options))
}
