/** In-process stdio for the CLI specs: byte inputs split where asked, and sinks that record what was written. */
import { Writable } from 'node:stream'
import type { Input } from '../../src/cli/stdio'
import { decode, type DecodeOptions } from '../../src/cli/decode'
import { encode } from '../../src/cli/encode'

/** Lines written with LF in the source, CRLF on the wire (the RFC examples' convention). */
export const crlf = (s: string): string => s.replace(/\n/g, '\r\n')

export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))

/** RFC 4975 §4, Figure 2 (../shared/spec/rfc4975-core.md §14.1): a SEND and its 200 OK. */
export const RFC4975_SEND = crlf(`MSRP a786hjs2 SEND
To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
Message-ID: 87652491
Byte-Range: 1-25/25
Content-Type: text/plain

Hey Bob, are you there?
-------a786hjs2$
`)
export const RFC4975_OK = crlf(`MSRP a786hjs2 200 OK
To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp
From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp
-------a786hjs2$
`)

/** The NDJSON objects of the two frames above. */
export const RFC4975_SEND_JSON = {
  type: 'request',
  transactionId: 'a786hjs2',
  method: 'SEND',
  headers: [
    ['To-Path', 'msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp'],
    ['From-Path', 'msrp://atlanta.example.com:7654/jshA7weztas;tcp'],
    ['Message-ID', '87652491'],
    ['Byte-Range', '1-25/25'],
    ['Content-Type', 'text/plain']
  ],
  body: Buffer.from('Hey Bob, are you there?').toString('base64'),
  continuation: '$'
}
export const RFC4975_OK_JSON = {
  type: 'response',
  transactionId: 'a786hjs2',
  status: 200,
  comment: 'OK',
  headers: [
    ['To-Path', 'msrp://atlanta.example.com:7654/jshA7weztas;tcp'],
    ['From-Path', 'msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp']
  ],
  continuation: '$'
}

/** `data` as stdin, cut at the given offsets (each chunk a fresh copy, as a socket would deliver). */
export async function* inputOf(data: Uint8Array | string, cuts: readonly number[] = []): Input {
  const all = typeof data === 'string' ? bytes(data) : data
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
  let from = 0
  for (const p of [...points, all.length]) {
    if (p > from) yield all.slice(from, p)
    from = Math.max(from, p)
  }
}

/** `data` fed one byte at a time. */
export const bytewise = (data: Uint8Array | string): Input =>
  inputOf(
    data,
    Array.from({ length: typeof data === 'string' ? data.length : data.length }, (_, k) => k)
  )

/** A Writable that records every chunk. */
export class Sink extends Writable {
  readonly chunks: Buffer[] = []

  constructor(options: { readonly highWaterMark?: number } = {}) {
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024, decodeStrings: true })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk)
    callback()
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }

  get text(): string {
    return this.bytes.toString('utf8')
  }

  /** The NDJSON objects written (every line must parse). */
  get lines(): unknown[] {
    return this.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown)
  }
}

export interface Run {
  readonly code: number
  readonly stdout: Sink
  readonly stderr: Sink
}

export async function runDecode(input: Input, options: DecodeOptions = {}): Promise<Run> {
  const stdout = new Sink()
  const stderr = new Sink()
  const code = await decode(input, stdout, stderr, options)
  return { code, stdout, stderr }
}

export async function runEncode(input: Input): Promise<Run> {
  const stdout = new Sink()
  const stderr = new Sink()
  const code = await encode(input, stdout, stderr)
  return { code, stdout, stderr }
}

/** NDJSON text of `objects`, one per line. */
export const ndjson = (...objects: readonly unknown[]): string => objects.map((o) => JSON.stringify(o) + '\n').join('')
