/**
 * Wire-layer bugs found while writing the CLI: each test failed before its fix.
 * (encodeFrame accepted lone surrogates and wrote U+FFFD instead.)
 */
import * as E from 'fp-ts/Either'
import { encodeFrame } from '../../src/wire/encoder'
import { encode } from '../../src/cli/encode'
import { inputOf, Sink } from './cli-io'

describe('encodeFrame and lone surrogates (utf8text, RFC 4975 §9)', () => {
  // UTF8TEXT in encoder.ts uses the `u` flag, where \u{0080}-\u{10ffff} also matches U+D800–U+DFFF; TextEncoder
  // then writes a lone surrogate as U+FFFD (EF BF BD), so the frame on the wire is not the frame given.
  it('MUST refuse a header value holding a lone surrogate instead of writing U+FFFD', () => {
    const result = encodeFrame({
      type: 'response',
      transactionId: 'abcd',
      status: 200,
      comment: undefined,
      headers: [['X-Note', 'a\ud800b']],
      continuation: '$'
    })
    expect(E.isLeft(result) && result.left.reason).toBe('HeaderInvalid')
  })

  it('MUST refuse a response comment holding a lone surrogate', () => {
    const result = encodeFrame({
      type: 'response',
      transactionId: 'abcd',
      status: 200,
      comment: 'O\udc00K',
      headers: [],
      continuation: '$'
    })
    expect(E.isLeft(result) && result.left.reason).toBe('StatusInvalid')
  })

  it('so rx-msrp encode refuses {"headers":[["X","\\ud800"]]} rather than writing other bytes', async () => {
    const stdout = new Sink()
    const line = '{"type":"response","transactionId":"abcd","status":200,"headers":[["X","\\ud800"]]}\n'
    const code = await encode(inputOf(line), stdout, new Sink())
    expect(stdout.bytes.toString('latin1')).not.toContain('\xef\xbf\xbd')
    expect(code).toBe(1)
  })
})
