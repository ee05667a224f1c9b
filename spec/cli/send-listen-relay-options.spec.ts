/**
 * The relay flags of `rx-msrp send` and `rx-msrp listen` (`--relay`, `--user`, `--password`; `--ca` and `--insecure`
 * for listen): decoded by io-ts codecs (src/cli/options.ts); a command line that does not go together is a usage
 * error naming the option, exit 2. The flows themselves: spec/cli/send-listen-relay.spec.ts.
 */
import * as E from 'fp-ts/Either'
import { parseUri } from '../../src/wire/uri'
import { main } from '../../src/cli/main'
import { decodeListenArgs, decodeSendArgs } from '../../src/cli/options'
import { LISTEN_USAGE, relayClientUri } from '../../src/cli/listen'
import { SEND_USAGE } from '../../src/cli/send'
import { inputOf, Sink } from './cli-io'

const FROM = 'msrp://alice.invalid:2855/alice1;tcp'
const PATH = 'msrp://127.0.0.1:2855/r1;tcp msrp://bob.invalid:2855/bob1;ws'
const RELAY = 'msrps://relay.example:2855;tcp'
const LOGIN = ['--relay', RELAY, '--user', 'alice', '--password', 'pw']

async function run(argv: readonly string[]): Promise<{ code: number; stdout: Sink; stderr: Sink }> {
  const stdout = new Sink()
  const stderr = new Sink()
  const code = await main(argv, { stdin: inputOf(''), stdout, stderr })
  return { code, stdout, stderr }
}

describe('rx-msrp send --relay: options', () => {
  it.each([
    [['--relay', RELAY], '--user: is required with --relay'],
    [['--relay', RELAY, '--user', 'alice'], '--password: is required with --relay'],
    [['--user', 'alice', '--password', 'pw'], '--user: only with --relay'],
    [['--password', 'pw'], '--password: only with --relay'],
    [
      ['--relay', 'msrps://relay.example;tcp', '--user', 'a', '--password', 'p'],
      '--relay: msrps://relay.example;tcp has no port'
    ],
    [
      ['--relay', 'msrp://relay.example:2855;sctp', '--user', 'a', '--password', 'p'],
      '--relay: cannot connect over ;sctp'
    ],
    [['--relay', 'http://relay.example/', '--user', 'a', '--password', 'p'], '--relay: expected msrp:// or msrps://'],
    [['--relay', RELAY, '--user', '', '--password', 'p'], '--user: expected a user name without control characters'],
    [['--relay', RELAY, '--user', 'a\u0001', '--password', 'p'], '--user: expected a user name without control'],
    [['--relay', RELAY, '--user', 'a', '--password', ''], '--password: expected a password, got ""']
  ])('%j → %s', async (flags, message) => {
    const { code, stdout, stderr } = await run(['send', '--from', FROM, '--to-path', PATH, '--text', 'x', ...flags])
    expect(code).toBe(2)
    expect(stdout.text).toBe('')
    expect(stderr.text.startsWith(`rx-msrp send: ${message}`)).toBe(true)
    expect(stderr.text.endsWith(`\n\n${SEND_USAGE}`)).toBe(true)
  })

  it('decodes --relay, --user and --password into the relay login (absent without --relay)', () => {
    expect(decodeSendArgs(['--from', FROM, '--to-path', PATH, '--text', 'x', ...LOGIN])).toMatchObject(
      E.right({
        toPath: [
          { host: '127.0.0.1', sessionId: 'r1' },
          { host: 'bob.invalid', sessionId: 'bob1' }
        ],
        relay: {
          uri: { scheme: 'msrps', host: 'relay.example', port: 2855, transport: 'tcp' },
          username: 'alice',
          password: 'pw'
        }
      })
    )
    const plain = decodeSendArgs(['--from', FROM, '--to-path', PATH, '--text', 'x'])
    expect(E.isRight(plain) && plain.right.relay).toBe(undefined)
  })
})

describe('rx-msrp listen --relay: options', () => {
  it.each([
    [['--relay', RELAY, '--user', 'bob'], '--password: is required with --relay'],
    [['--uri', 'msrp://127.0.0.1:0/b;tcp', '--user', 'bob'], '--user: only with --relay'],
    [['--uri', 'msrp://127.0.0.1:0/b;tcp', '--ca', 'ca.pem'], '--ca: only with --relay'],
    [['--uri', 'msrp://127.0.0.1:0/b;tcp', '--insecure'], '--insecure: only with --relay'],
    [['--password', 'pw'], '--password: only with --relay'],
    [['--json'], '--uri: is required'],
    [[...LOGIN, '--uri', 'msrp://127.0.0.1:0/b;tcp'], '--uri: port 0 is for listening; with --relay give a port'],
    [[...LOGIN, '--uri', 'msrp://bob.invalid/b;tcp'], '--uri: needs a port'],
    [[...LOGIN, '--uri', 'msrp://bob.invalid:2855;tcp'], '--uri: needs a session-id'],
    [[...LOGIN, '--uri', 'msrps://bob.invalid:2855/b;tcp', '--cert', 'c.pem'], '--cert: not with --relay'],
    [[...LOGIN, '--key', 'k.pem'], '--key: not with --relay'],
    [
      ['--relay', 'msrp://relay.example;ws', '--user', 'b', '--password', 'p'],
      '--relay: msrp://relay.example;ws has no port'
    ]
  ])('%j → %s', async (flags, message) => {
    const { code, stdout, stderr } = await run(['listen', ...flags])
    expect(code).toBe(2)
    expect(stdout.text).toBe('')
    expect(stderr.text.startsWith(`rx-msrp listen: ${message}`)).toBe(true)
    expect(stderr.text.endsWith(`\n\n${LISTEN_USAGE}`)).toBe(true)
  })

  it('decodes the relay, the account, --ca and --insecure; --uri is optional with --relay and needs no certificate for msrps', () => {
    expect(decodeListenArgs([...LOGIN, '--ca', 'ca.pem', '--insecure', '--json'])).toEqual(
      E.right({
        uri: undefined,
        tls: undefined,
        maxSize: undefined,
        acceptTypes: undefined,
        out: undefined,
        json: true,
        relay: {
          uri: { scheme: 'msrps', host: 'relay.example', port: 2855, transport: 'tcp', params: [] },
          username: 'alice',
          password: 'pw',
          ca: 'ca.pem',
          insecure: true
        }
      })
    )
    expect(decodeListenArgs([...LOGIN, '--uri', 'msrps://bob.invalid:2855/b;ws'])).toMatchObject(
      E.right({ uri: { host: 'bob.invalid', port: 2855, sessionId: 'b', transport: 'ws' }, tls: undefined })
    )
  })

  it.each([
    ['msrps://relay.example:443;ws', /^msrps:\/\/[a-z][a-z0-9]{11}\.invalid:2855\/[0-9A-Za-z]{20};ws$/],
    ['msrp://127.0.0.1:8080;ws', /^msrp:\/\/[a-z][a-z0-9]{11}\.invalid:2855\/[0-9A-Za-z]{20};ws$/],
    ['msrps://relay.example:2855;tcp', /^msrps:\/\/[a-z][a-z0-9]{11}\.invalid:2855\/[0-9A-Za-z]{20};tcp$/]
  ])(
    'W-A-1, R-8-1: without --uri, the session behind %s gets a fresh .invalid URI with port 2855 and the relay transport',
    (relay, shape) => {
      const uri = parseUri(relay)
      if (E.isLeft(uri)) throw new Error(uri.left.detail)
      const a = relayClientUri(uri.right)
      const b = relayClientUri(uri.right)
      expect(a).toMatch(shape)
      expect(b).toMatch(shape)
      expect(a).not.toBe(b)
    }
  )
})
