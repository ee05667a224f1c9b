/**
 * The command lines of `rx-msrp send` and `rx-msrp listen`: every option is decoded by an io-ts codec
 * (src/cli/options.ts), and a command line that is not understood is a usage error naming the option, exit 2.
 */
import * as E from 'fp-ts/Either'
import { main } from '../../src/cli/main'
import { decodeListenArgs, decodeSendArgs, readFlags } from '../../src/cli/options'
import { LISTEN_USAGE } from '../../src/cli/listen'
import { SEND_USAGE } from '../../src/cli/send'
import { inputOf, Sink } from './cli-io'

const FROM = 'msrp://127.0.0.1:2855/alice1;tcp'
const TO = 'msrp://127.0.0.1:2856/bob1;tcp'

async function run(argv: readonly string[]): Promise<{ code: number; stdout: Sink; stderr: Sink }> {
  const stdout = new Sink()
  const stderr = new Sink()
  const code = await main(argv, { stdin: inputOf(''), stdout, stderr })
  return { code, stdout, stderr }
}

describe('rx-msrp send: usage errors (exit 2, the option named, then the usage)', () => {
  it.each([
    [[], '--from: is required'],
    [['--from', FROM], '--to-path: is required'],
    [['--from', FROM, '--to-path', TO], 'give --text or --file'],
    [['--from', FROM, '--to-path', TO, '--txt', 'x'], '--txt: unknown option'],
    [['--from', FROM, '--to-path', TO, '-t', 'x'], 'unexpected argument "-t"'],
    [['--from', FROM, '--to-path', TO, '--text', 'x', 'extra'], 'unexpected argument "extra"'],
    [['--from'], '--from: needs a value'],
    [['--from', '--to-path', TO], '--from: needs a value'],
    [['--from', FROM, '--to-path', TO, '--text', 'a', '--text', 'b'], '--text: given twice'],
    [['--from', FROM, '--to-path', TO, '--text', 'a', '--json=yes'], '--json: takes no value'],
    [['--from', FROM, '--to-path', TO, '--text', 'a', '--file', 'f'], '--text: excludes --file'],
    [['--from', 'http://example.com/', '--to-path', TO, '--text', 'a'], '--from: expected msrp:// or msrps://'],
    [['--from', 'msrp://127.0.0.1:2855;tcp', '--to-path', TO, '--text', 'a'], '--from: needs a session-id'],
    [['--from', FROM, '--to-path', 'msrp://127.0.0.1:99999/b;tcp', '--text', 'a'], '--to-path: the port must be'],
    [
      ['--from', FROM, '--to-path', 'msrp://bob.example/b;tcp', '--text', 'a'],
      '--to-path: msrp://bob.example/b;tcp has no port'
    ],
    [['--from', FROM, '--to-path', ' ', '--text', 'a'], '--to-path: expected one or more MSRP URIs'],
    [['--from', FROM, '--to-path', `${TO} nonsense`, '--text', 'a'], '--to-path: expected msrp:// or msrps://'],
    [
      ['--from', FROM, '--to-path', 'msrp://127.0.0.1:2856/b;sctp', '--text', 'a'],
      '--to-path: cannot connect over ;sctp'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--chunk-size', 'abc'],
      '--chunk-size: expected a positive integer, got "abc"'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--chunk-size', '0'],
      '--chunk-size: expected a positive integer, got "0"'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--chunk-size', '-5'],
      '--chunk-size: expected a positive integer, got "-5"'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--chunk-size', '1e3'],
      '--chunk-size: expected a positive integer'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--chunk-size', '99999999999999999999'],
      '--chunk-size: expected'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--failure-report', 'maybe'],
      '--failure-report: expected yes, no or partial'
    ],
    [
      ['--from', FROM, '--to-path', TO, '--text', 'a', '--content-type', 'text plain'],
      '--content-type: expected type/subtype'
    ],
    [['--from', FROM, '--to-path', TO, '--file', ''], '--file: expected a file name']
  ])('%j → %s', async (args, message) => {
    const { code, stdout, stderr } = await run(['send', ...args])
    expect(code).toBe(2)
    expect(stdout.text).toBe('')
    expect(stderr.text.startsWith(`rx-msrp send: ${message}`)).toBe(true)
    expect(stderr.text.endsWith(`\n\n${SEND_USAGE}`)).toBe(true)
  })

  it('prints its usage for "send --help" and exits 2', async () => {
    const { code, stderr } = await run(['send', '--help'])
    expect(code).toBe(2)
    expect(stderr.text).toBe(SEND_USAGE)
  })

  it('decodes a full command line into typed options, with the defaults', () => {
    expect(decodeSendArgs(['--from', FROM, '--to-path', `msrp://relay.example:2855;tcp  ${TO}`, '--text=--x'])).toEqual(
      E.right({
        from: expect.objectContaining({ host: '127.0.0.1', port: 2855, sessionId: 'alice1' }),
        toPath: [expect.objectContaining({ host: 'relay.example' }), expect.objectContaining({ sessionId: 'bob1' })],
        body: { kind: 'text', text: '--x' },
        contentType: undefined,
        chunkSize: undefined,
        successReport: false,
        failureReport: 'yes',
        json: false,
        ca: undefined,
        insecure: false
      })
    )
    const all = decodeSendArgs([
      `--from=${FROM}`,
      '--to-path',
      TO,
      '--file',
      'a.bin',
      '--content-type',
      'image/png',
      '--chunk-size',
      '2048',
      '--success-report',
      '--failure-report',
      'partial',
      '--ca',
      'ca.pem',
      '--insecure',
      '--json'
    ])
    expect(all).toMatchObject(
      E.right({
        body: { kind: 'file', path: 'a.bin' },
        contentType: 'image/png',
        chunkSize: 2048,
        successReport: true,
        failureReport: 'partial',
        json: true,
        ca: 'ca.pem',
        insecure: true
      })
    )
  })

  it('reads flags as --name value, --name=value and --switch', () => {
    expect(readFlags(['--a', 'x', '--b=y=z', '--c'], { a: 'value', b: 'value', c: 'switch' })).toEqual(
      E.right({ a: 'x', b: 'y=z', c: true })
    )
    expect(readFlags(['--constructor', 'x'], { a: 'value' })).toEqual(
      E.left({ _tag: 'UsageError', option: '--constructor', detail: 'unknown option' })
    )
  })
})

describe('rx-msrp listen: usage errors (exit 2, the option named, then the usage)', () => {
  const URI = 'msrp://127.0.0.1:0/bob1;tcp'
  it.each([
    [[], '--uri: is required'],
    [['--uri'], '--uri: needs a value'],
    [['--uri', 'msrp://127.0.0.1:0/bob1'], '--uri: no ";transport"'],
    [['--uri', 'msrp://127.0.0.1/bob1;tcp'], '--uri: needs a port'],
    [['--uri', 'msrp://127.0.0.1:0;tcp'], '--uri: needs a session-id'],
    [['--uri', 'msrp://127.0.0.1:0/b;udp'], '--uri: cannot listen on ;udp'],
    [['--uri', 'msrps://127.0.0.1:0/b;tcp'], '--cert: is required for an msrps URI'],
    [['--uri', 'msrps://127.0.0.1:0/b;tcp', '--cert', 'c.pem'], '--key: is required for an msrps URI'],
    [['--uri', URI, '--cert', 'c.pem', '--key', 'k.pem'], '--cert: only for an msrps URI'],
    [['--uri', URI, '--max-size', 'big'], '--max-size: expected a non-negative integer, got "big"'],
    [['--uri', URI, '--accept-types', ''], '--accept-types: expected one or more media types'],
    [
      ['--uri', URI, '--accept-types', 'text/plain image'],
      '--accept-types: expected *, type/* or type/subtype, got "image"'
    ],
    [['--uri', URI, '--out'], '--out: needs a value'],
    [['--uri', URI, '--port', '1'], '--port: unknown option'],
    [['--uri', URI, 'now'], 'unexpected argument "now"']
  ])('%j → %s', async (args, message) => {
    const { code, stdout, stderr } = await run(['listen', ...args])
    expect(code).toBe(2)
    expect(stdout.text).toBe('')
    expect(stderr.text.startsWith(`rx-msrp listen: ${message}`)).toBe(true)
    expect(stderr.text.endsWith(`\n\n${LISTEN_USAGE}`)).toBe(true)
  })

  it('prints its usage for "listen --help" and exits 2', async () => {
    const { code, stderr } = await run(['listen', '--help'])
    expect(code).toBe(2)
    expect(stderr.text).toBe(LISTEN_USAGE)
  })

  it('reads port 0 of --uri as "any free port", and the other options', () => {
    expect(
      decodeListenArgs([
        '--uri',
        'msrps://[::1]:0/s;ws',
        '--cert',
        'c',
        '--key',
        'k',
        '--max-size',
        '0',
        '--accept-types',
        'text/*, image/png'
      ])
    ).toEqual(
      E.right({
        uri: { scheme: 'msrps', host: '[::1]', port: 0, sessionId: 's', transport: 'ws', params: [] },
        tls: { cert: 'c', key: 'k' },
        maxSize: 0,
        acceptTypes: ['text/*', 'image/png'],
        out: undefined,
        json: false
      })
    )
    expect(decodeListenArgs(['--uri', 'msrp://bob@host.example:2855/s;tcp'])).toMatchObject(
      E.right({ uri: { userinfo: 'bob', host: 'host.example', port: 2855 } })
    )
  })
})
