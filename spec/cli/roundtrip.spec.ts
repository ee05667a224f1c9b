import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { frameToJson } from '../../src/cli/ndjson'
import { encodeFrame } from '../../src/wire/encoder'
import type { Header, MsrpFrame, MsrpRequest, MsrpResponse } from '../../src/wire/model'
import { inputOf, runDecode, runEncode } from './cli-io'

const arbTid = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/)
const arbMethod = fc.oneof(fc.constantFrom('SEND', 'REPORT', 'AUTH'), fc.stringMatching(/^[A-Z]{1,8}$/))
/** utf8text (RFC 4975 §9): HTAB, printable ASCII and any non-ASCII scalar value (no lone surrogates). */
const arbText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\t', ' ', ':', '-', '$'),
    fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc
      .integer({ min: 0x80, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c))
  ),
  maxLength: 40
})
const arbName = fc
  .stringMatching(/^[A-Za-z][!#-'*+\-.0-9A-Z^-~]{0,15}$/)
  .filter((n) => n.toLowerCase() !== 'content-type')
const arbHeaders: fc.Arbitrary<Header[]> = fc.array(fc.tuple(arbName, arbText), { maxLength: 6 })

/** Bodies made of random bytes and of pieces that look like end-lines, to stress the end-line search. */
const arbBody = (tid: string): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc
          .constantFrom('\r', '\n', '\r\n', '-------', '\r\n-------', `\r\n-------${tid.slice(0, -1)}`, '$\r\n')
          .map((s) => new Uint8Array(Buffer.from(s))),
        arbTid.map((other) => new Uint8Array(Buffer.from(`\r\n-------${other}$\r\n`)))
      ),
      { maxLength: 8 }
    )
    .map((parts) => new Uint8Array(Buffer.concat(parts)))

const arbRequest: fc.Arbitrary<MsrpRequest> = fc
  .record({ tid: arbTid, method: arbMethod, headers: arbHeaders, withBody: fc.boolean() })
  .chain(({ tid, method, headers, withBody }) =>
    fc.record({
      type: fc.constant('request' as const),
      transactionId: fc.constant(tid),
      method: fc.constant(method),
      headers: withBody
        ? fc.constantFrom('Content-Type', 'content-TYPE').map((ct): Header[] => [...headers, [ct, 'x/y']])
        : fc.constant(headers),
      body: withBody ? arbBody(tid) : fc.constant(undefined),
      continuation: fc.constantFrom('$' as const, '+' as const, '#' as const)
    })
  )

const arbResponse: fc.Arbitrary<MsrpResponse> = fc.record({
  type: fc.constant('response' as const),
  transactionId: arbTid,
  status: fc.integer({ min: 100, max: 999 }),
  comment: fc.option(arbText, { nil: undefined }),
  headers: arbHeaders,
  continuation: fc.constant('$' as const)
})

/** Only frames the encoder accepts: the CLI pipeline is the identity on valid input. */
const arbFrame: fc.Arbitrary<MsrpFrame> = fc
  .oneof(arbRequest, arbResponse)
  .filter((frame) => E.isRight(encodeFrame(frame)))

const wireOf = (frames: readonly MsrpFrame[]): Buffer =>
  Buffer.concat(
    frames.flatMap((f) => {
      const pieces = encodeFrame(f)
      if (E.isLeft(pieces)) throw new Error('filtered above')
      return pieces.right
    })
  )

describe('encode | decode', () => {
  it('decode writes frameToJson of each frame, and encode turns those lines back into the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbFrame, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 1, max: 64 }),
        async (frames, cuts, pieceBytes) => {
          const wire = wireOf(frames)
          // Small pieces make the framer stream SEND bodies as head/body/end, which decode joins.
          const decoded = await runDecode(inputOf(new Uint8Array(wire), cuts), { framer: { pieceBytes } })
          expect(decoded.code).toBe(0)
          expect(decoded.stdout.lines).toEqual(frames.map((f) => JSON.parse(JSON.stringify(frameToJson(f)))))
          const encoded = await runEncode(inputOf(decoded.stdout.bytes, cuts))
          expect(encoded.stderr.text).toBe('')
          expect(encoded.code).toBe(0)
          expect(encoded.stdout.bytes.equals(wire)).toBe(true)
        }
      ),
      { numRuns: 300 }
    )
  })
})
