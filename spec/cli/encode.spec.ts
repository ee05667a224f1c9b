import { encode } from '../../src/cli/encode'
import {
  bytes,
  inputOf,
  ndjson,
  RFC4975_OK,
  RFC4975_OK_JSON,
  RFC4975_SEND,
  RFC4975_SEND_JSON,
  runEncode,
  Sink
} from './cli-io'

const sendWith = (fields: Record<string, unknown>): Record<string, unknown> => ({ ...RFC4975_SEND_JSON, ...fields })

describe('rx-msrp encode', () => {
  it('writes the wire bytes of the RFC 4975 §4 example from its NDJSON', async () => {
    const { code, stdout, stderr } = await runEncode(inputOf(ndjson(RFC4975_SEND_JSON, RFC4975_OK_JSON)))
    expect(code).toBe(0)
    expect(stderr.text).toBe('')
    expect(stdout.bytes.toString('latin1')).toBe(RFC4975_SEND + RFC4975_OK)
  })

  it('reads lines split anywhere, skips blank lines, accepts CRLF and a last line without LF', async () => {
    const text = '\n' + JSON.stringify(RFC4975_SEND_JSON) + '\r\n  \t\r\n\n' + JSON.stringify(RFC4975_OK_JSON)
    const cuts = Array.from({ length: text.length }, (_, k) => k)
    const { code, stdout } = await runEncode(inputOf(text, cuts))
    expect(code).toBe(0)
    expect(stdout.bytes.toString('latin1')).toBe(RFC4975_SEND + RFC4975_OK)
  })

  it('defaults "continuation" to "$" and writes "+" and "#" as given', async () => {
    const { continuation: _, ...noFlag } = RFC4975_OK_JSON
    const lines = ndjson(
      noFlag,
      { type: 'request', transactionId: 'k3k3', method: 'SEND', headers: [], continuation: '#' },
      { type: 'request', transactionId: 'k4k4', method: 'SEND', headers: [], continuation: '+' }
    )
    const { code, stdout } = await runEncode(inputOf(lines))
    expect(code).toBe(0)
    expect(stdout.bytes.toString('latin1')).toBe(
      RFC4975_OK + 'MSRP k3k3 SEND\r\n-------k3k3#\r\nMSRP k4k4 SEND\r\n-------k4k4+\r\n'
    )
  })

  it('writes a binary body octet for octet', async () => {
    const body = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x2d, 0xc3, 0x28, 0x00])
    const line = sendWith({ headers: [['Content-Type', 'application/octet-stream']], body: body.toString('base64') })
    const { code, stdout } = await runEncode(inputOf(ndjson(line)))
    expect(code).toBe(0)
    const head = Buffer.from('MSRP a786hjs2 SEND\r\nContent-Type: application/octet-stream\r\n\r\n')
    expect(stdout.bytes.equals(Buffer.concat([head, body, Buffer.from('\r\n-------a786hjs2$\r\n')]))).toBe(true)
  })

  it.each([
    ['unpadded', 'SGk'],
    ['a character outside the alphabet', 'SG!k'],
    ['base64url', '-_8='],
    ['non-zero unused bits', 'SGl='],
    ['embedded whitespace', 'SG k']
  ])('refuses a body that is not canonical base64 (%s) with Base64Invalid and exit 1', async (_, body) => {
    const { code, stdout, stderr } = await runEncode(inputOf(ndjson(RFC4975_OK_JSON, sendWith({ body }))))
    expect(code).toBe(1)
    expect(stdout.bytes.toString('latin1')).toBe(RFC4975_OK) // the line before is written
    expect(stderr.text).toMatch(/^rx-msrp encode: line 2: Base64Invalid: body: .*base64/)
  })

  it('refuses a frame whose transaction id ends its own body (TransactionIdInBody), after the frames before', async () => {
    const body = Buffer.from('text\r\n-------a786hjs2$\r\nmore').toString('base64')
    const input = ndjson(RFC4975_SEND_JSON, RFC4975_OK_JSON, sendWith({ body }), RFC4975_OK_JSON)
    const { code, stdout, stderr } = await runEncode(inputOf(input))
    expect(code).toBe(1)
    expect(stdout.bytes.toString('latin1')).toBe(RFC4975_SEND + RFC4975_OK)
    expect(stderr.text).toBe(
      'rx-msrp encode: line 3: TransactionIdInBody: "-------a786hjs2" occurs in the body; choose another transaction id\n'
    )
  })

  it('counts blank lines in the line number it reports', async () => {
    const { code, stderr } = await runEncode(inputOf('\n\n' + ndjson(sendWith({ method: 'send' }))))
    expect(code).toBe(1)
    expect(stderr.text).toMatch(/^rx-msrp encode: line 3: MethodInvalid: /)
  })

  it.each([
    ['not JSON', '{"type":', 'JsonInvalid', ''],
    ['not an object', '[1,2]', 'FieldInvalid', 'expected a JSON object'],
    [
      'an error line of decode',
      '{"type":"error","reason":"Truncated","status":400,"offset":3}',
      'FieldInvalid',
      '"type"'
    ],
    [
      'a missing field',
      JSON.stringify({ type: 'request', transactionId: 'abcd', headers: [] }),
      'FieldInvalid',
      'method'
    ],
    ['an unknown field', JSON.stringify(sendWith({ Body: 'SGk=' })), 'FieldInvalid', 'unknown field "Body"'],
    ['a body on a response', JSON.stringify({ ...RFC4975_OK_JSON, body: '' }), 'FieldInvalid', 'unknown field "body"'],
    [
      'a header of three strings',
      JSON.stringify(sendWith({ headers: [['A', 'b', 'c']] })),
      'FieldInvalid',
      'headers.0'
    ],
    ['a header value that is a number', JSON.stringify(sendWith({ headers: [['A', 1]] })), 'FieldInvalid', 'headers.0'],
    ['a fractional status', JSON.stringify({ ...RFC4975_OK_JSON, status: 200.5 }), 'FieldInvalid', 'status'],
    ['an unknown flag', JSON.stringify(sendWith({ continuation: '!' })), 'FieldInvalid', 'continuation'],
    ['a status the encoder refuses', JSON.stringify({ ...RFC4975_OK_JSON, status: 1000 }), 'StatusInvalid', ''],
    [
      'a header value with CRLF',
      JSON.stringify({ ...RFC4975_OK_JSON, headers: [['A', 'x\r\ny']] }),
      'HeaderInvalid',
      ''
    ]
  ])('refuses %s, naming the line and the reason', async (_, line, reason, detail) => {
    const { code, stdout, stderr } = await runEncode(inputOf(ndjson(RFC4975_OK_JSON) + line + '\n'))
    expect(code).toBe(1)
    expect(stdout.bytes.toString('latin1')).toBe(RFC4975_OK)
    expect(stderr.text.startsWith(`rx-msrp encode: line 2: ${reason}: `)).toBe(true)
    expect(stderr.text).toContain(detail)
  })

  it('refuses a line that is not UTF-8 (Utf8Invalid)', async () => {
    const line = Buffer.concat([Buffer.from('{"type":"request","transactionId":"ab\xff'), Buffer.from([0xff, 0x0a])])
    const { code, stderr } = await runEncode(inputOf(new Uint8Array(line)))
    expect(code).toBe(1)
    expect(stderr.text).toBe('rx-msrp encode: line 1: Utf8Invalid: the line is not valid UTF-8\n')
  })

  it('stops at the first refused line: later lines are not encoded', async () => {
    const stdout = new Sink()
    const code = await encode(inputOf('nope\n' + ndjson(RFC4975_OK_JSON)), stdout, new Sink())
    expect(code).toBe(1)
    expect(stdout.chunks).toHaveLength(0)
  })

  it('ignores the "failures" field that decode adds', async () => {
    const line = { ...RFC4975_OK_JSON, failures: [{ reason: 'HeaderMalformed', detail: 'x' }] }
    const { code, stdout } = await runEncode(inputOf(ndjson(line)))
    expect(code).toBe(0)
    expect(stdout.bytes.toString('latin1')).toBe(RFC4975_OK)
  })

  it('writes nothing and exits 0 for empty input', async () => {
    const { code, stdout } = await runEncode(inputOf(bytes('')))
    expect(code).toBe(0)
    expect(stdout.chunks).toHaveLength(0)
  })
})
