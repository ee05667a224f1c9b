import { PassThrough } from 'node:stream'
import { Writable } from 'node:stream'
import { decode } from '../../src/cli/decode'
import { PIECE_BYTES } from '../../src/wire/limits'
import { Framer, type FramerEvent } from '../../src/wire/framer'
import {
  bytes,
  bytewise,
  crlf,
  inputOf,
  RFC4975_OK,
  RFC4975_OK_JSON,
  RFC4975_SEND,
  RFC4975_SEND_JSON,
  runDecode,
  Sink
} from './cli-io'

const concat = (...parts: readonly (Uint8Array | string)[]): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))))

const base64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')

describe('rx-msrp decode', () => {
  it('writes one JSON object per frame for the RFC 4975 §4 example (SEND, then 200 OK)', async () => {
    const { code, stdout, stderr } = await runDecode(inputOf(RFC4975_SEND + RFC4975_OK))
    expect(code).toBe(0)
    expect(stderr.text).toBe('')
    expect(stdout.text).toBe(JSON.stringify(RFC4975_SEND_JSON) + '\n' + JSON.stringify(RFC4975_OK_JSON) + '\n')
  })

  it('writes the same lines however stdin is split (here: one byte per read)', async () => {
    const { code, stdout } = await runDecode(bytewise(RFC4975_SEND + RFC4975_OK))
    expect(code).toBe(0)
    expect(stdout.lines).toEqual([RFC4975_SEND_JSON, RFC4975_OK_JSON])
  })

  it('keeps a binary body (NUL bytes, invalid UTF-8, a foreign end-line) octet for octet', async () => {
    const body = concat(
      new Uint8Array([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00]),
      '\r\n-------otherTid$\r\n',
      new Uint8Array([0xed, 0xa0, 0x80, 0x0d])
    )
    const wire = concat(
      'MSRP bin1 SEND\r\nContent-Type: application/octet-stream\r\n\r\n',
      body,
      '\r\n-------bin1+\r\n'
    )
    const { code, stdout } = await runDecode(inputOf(wire))
    expect(code).toBe(0)
    expect(stdout.lines).toEqual([
      {
        type: 'request',
        transactionId: 'bin1',
        method: 'SEND',
        headers: [['Content-Type', 'application/octet-stream']],
        body: base64(body),
        continuation: '+'
      }
    ])
  })

  it('writes "body":"" for an empty body and no "body" for a bodiless request (C-7.1-5)', async () => {
    const empty = crlf('MSRP empt SEND\nMessage-ID: m1\nContent-Type: text/plain\n\n\n-------empt$\n')
    const bodiless = crlf('MSRP none SEND\nMessage-ID: m2\n-------none$\n')
    const { code, stdout } = await runDecode(inputOf(empty + bodiless))
    expect(code).toBe(0)
    const [a, b] = stdout.lines as Record<string, unknown>[]
    expect(a).toEqual({
      type: 'request',
      transactionId: 'empt',
      method: 'SEND',
      headers: [
        ['Message-ID', 'm1'],
        ['Content-Type', 'text/plain']
      ],
      body: '',
      continuation: '$'
    })
    expect(b).toEqual({
      type: 'request',
      transactionId: 'none',
      method: 'SEND',
      headers: [['Message-ID', 'm2']],
      continuation: '$'
    })
    expect(b).not.toHaveProperty('body')
  })

  it('omits "comment" when the response start line has none', async () => {
    const { stdout } = await runDecode(inputOf(crlf('MSRP r1ab 200\nTo-Path: msrp://a.example/s;tcp\n-------r1ab$\n')))
    expect(stdout.lines).toEqual([
      {
        type: 'response',
        transactionId: 'r1ab',
        status: 200,
        headers: [['To-Path', 'msrp://a.example/s;tcp']],
        continuation: '$'
      }
    ])
  })

  it('writes the good frame, then an error line for a framing failure, and exits 1', async () => {
    const { code, stdout, stderr } = await runDecode(inputOf(RFC4975_SEND + 'HELLO world\r\n' + RFC4975_OK))
    expect(code).toBe(1)
    expect(stderr.text).toBe('')
    const text = stdout.text.split('\n')
    expect(text).toHaveLength(3) // two lines and the final LF
    expect(JSON.parse(text[0] as string)).toEqual(RFC4975_SEND_JSON)
    const error = JSON.parse(text[1] as string) as Record<string, unknown>
    expect(error).toEqual({
      type: 'error',
      reason: 'StartLineInvalid',
      status: 400,
      offset: RFC4975_SEND.length,
      detail: expect.any(String)
    })
    expect(Object.keys(error)).toEqual(['type', 'reason', 'status', 'offset', 'detail'])
  })

  it('reports a limit with its own reason and status (ChunkTooLarge, 413)', async () => {
    const { code, stdout } = await runDecode(inputOf(RFC4975_SEND), { framer: { maxChunkBytes: 10 } })
    expect(code).toBe(1)
    expect(stdout.lines).toEqual([
      { type: 'error', reason: 'ChunkTooLarge', status: 413, offset: expect.any(Number), detail: expect.any(String) }
    ])
  })

  it('reports input that ends inside a frame as Truncated at the end offset, after the frames before it', async () => {
    const cut = RFC4975_OK.slice(0, RFC4975_OK.length - 5)
    const { code, stdout } = await runDecode(inputOf(RFC4975_SEND + cut))
    expect(code).toBe(1)
    expect(stdout.lines).toEqual([
      RFC4975_SEND_JSON,
      {
        type: 'error',
        reason: 'Truncated',
        status: 400,
        offset: RFC4975_SEND.length + cut.length,
        detail: expect.any(String)
      }
    ])
  })

  it('reports a body cut short as Truncated too', async () => {
    const cut = RFC4975_SEND.slice(0, RFC4975_SEND.indexOf('there?'))
    const { code, stdout } = await runDecode(inputOf(cut))
    expect(code).toBe(1)
    expect(stdout.lines).toEqual([
      { type: 'error', reason: 'Truncated', status: 400, offset: cut.length, detail: expect.any(String) }
    ])
  })

  it('decodes empty input to nothing, with status 0', async () => {
    const { code, stdout } = await runDecode(inputOf(''))
    expect(code).toBe(0)
    expect(stdout.text).toBe('')
  })

  it('lists per-frame failures in "failures" (a malformed header line is left out of "headers")', async () => {
    const wire = crlf('MSRP hm01 SEND\nTo-Path: msrp://b.example/x;tcp\nno colon here\n-------hm01$\n')
    const { code, stdout } = await runDecode(inputOf(wire + RFC4975_OK))
    expect(code).toBe(0)
    expect(stdout.lines).toEqual([
      {
        type: 'request',
        transactionId: 'hm01',
        method: 'SEND',
        headers: [['To-Path', 'msrp://b.example/x;tcp']],
        continuation: '$',
        failures: [{ reason: 'HeaderMalformed', detail: expect.stringContaining('no colon here') }]
      },
      RFC4975_OK_JSON
    ])
    expect(stdout.lines[1]).not.toHaveProperty('failures')
  })

  it('keeps the failures of a SEND whose body was streamed in pieces on its joined line', async () => {
    const wire = crlf('MSRP hm02 SEND\nbad header\nContent-Type: text/plain\n\n0123456789abcdef\n-------hm02$\n')
    const { code, stdout } = await runDecode(inputOf(wire), { framer: { pieceBytes: 4 } })
    expect(code).toBe(0)
    expect(stdout.lines).toEqual([
      {
        type: 'request',
        transactionId: 'hm02',
        method: 'SEND',
        headers: [['Content-Type', 'text/plain']],
        body: Buffer.from('0123456789abcdef').toString('base64'),
        continuation: '$',
        failures: [{ reason: 'HeaderMalformed', detail: expect.stringContaining('bad header') }]
      }
    ])
  })

  it('joins a 1 MiB body, which the framer streams in pieces, into one line', async () => {
    const body = new Uint8Array(1024 * 1024)
    for (let k = 0; k < body.length; k++) body[k] = (k * 7919) & 0xff
    expect(body.length).toBeGreaterThan(PIECE_BYTES)
    const wire = concat('MSRP big1 SEND\r\nMessage-ID: big\r\nContent-Type: application/octet-stream\r\n\r\n', body)
    const end = '\r\n-------big1$\r\n'
    const cuts = Array.from({ length: 17 }, (_, k) => k * 65_521)
    const push = jest.spyOn(Framer.prototype, 'push')
    const { code, stdout } = await runDecode(inputOf(concat(wire, end, RFC4975_OK), cuts))
    const events = push.mock.results.flatMap((r) => (r.value as FramerEvent[]).map((e) => e.type))
    push.mockRestore()
    expect(events.filter((e) => e === 'body').length).toBeGreaterThan(1)
    expect(events.filter((e) => e !== 'body')).toEqual(['head', 'end', 'frame'])
    expect(code).toBe(0)
    const lines = stdout.text.split('\n')
    expect(lines).toHaveLength(3)
    const first = JSON.parse(lines[0] as string) as { body: string; continuation: string }
    expect(Buffer.from(first.body, 'base64').equals(Buffer.from(body))).toBe(true)
    expect(first.continuation).toBe('$')
    expect(JSON.parse(lines[1] as string)).toEqual(RFC4975_OK_JSON)
  })

  it('writes each frame as soon as it is complete, before stdin ends', async () => {
    const stdin = new PassThrough()
    const stdout = new Sink()
    const done = decode(stdin, stdout, new Sink())
    stdin.write(bytes(RFC4975_SEND))
    while (stdout.chunks.length === 0) await new Promise((r) => setImmediate(r))
    expect(stdout.lines).toEqual([RFC4975_SEND_JSON])
    stdin.end(bytes(RFC4975_OK))
    expect(await done).toBe(0)
    expect(stdout.lines).toEqual([RFC4975_SEND_JSON, RFC4975_OK_JSON])
  })

  it('waits for "drain" when stdout is above its high-water mark', async () => {
    const held: (() => void)[] = []
    const written: string[] = []
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk.toString())
        held.push(() => callback())
      }
    })
    let settled = false
    const done = decode(inputOf(RFC4975_SEND + RFC4975_OK + RFC4975_OK), slow, new Sink()).then((code) => {
      settled = true
      return code
    })
    for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r))
    expect(written).toHaveLength(1) // the first line is being written; decode waits
    expect(settled).toBe(false)
    while (!settled) {
      held.shift()?.()
      await new Promise((r) => setImmediate(r))
    }
    expect(await done).toBe(0)
    expect(written.map((l) => JSON.parse(l) as unknown)).toEqual([RFC4975_SEND_JSON, RFC4975_OK_JSON, RFC4975_OK_JSON])
  })
})
