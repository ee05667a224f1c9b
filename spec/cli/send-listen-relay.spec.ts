/**
 * End to end through a relay, every part the compiled bin in its own process on loopback: `rx-msrp relay` (TCP and
 * WebSocket listeners, users alice and bob), `rx-msrp listen --relay` as bob over the relay's WebSocket listener,
 * `rx-msrp send --relay` as alice over its TCP listener, and `rx-msrp send` without a relay to bob's ready path.
 * Test names start with the checklist IDs of ../shared/spec/rfc4976-relays.md and rfc7977-websocket.md they check.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { newSessionId } from '../../src/wire/ids'
import { buildBin, event, json, type Bin, type Running } from './bin-io'
import { pseudoRandom, sha256, tempDir, type TempDir } from './listen-send-io'

const ALICE = { user: 'alice', password: 'alice-secret-1' }
const BOB = { user: 'bob', password: 'bob-secret-2' }

let bin: Bin
let dir: TempDir
let relay: Running | undefined
/** The relay's URIs: `msrp://127.0.0.1:<port>;tcp` and `msrp://127.0.0.1:<port>;ws`. */
let relayTcp: string
let relayWs: string
/** `msrps://127.0.0.1:<port>;tcp`, and the relay's self-signed certificate. */
let relayTls: string
let relayCert: string
/** bob's `listen --relay`, started once, and the path of its ready line. */
let bob: Running
let bobPath: string
const inbox = (): string => join(dir.path, 'inbox')

/**
 * Starts `rx-msrp relay` on free loopback ports with alice and bob (TCP, WS and TLS with a self-signed certificate);
 * resolves with its TCP, WS and TLS URIs and the certificate's PEM file.
 */
async function startRelay(): Promise<{ relay: Running; tcp: string; ws: string; tls: string; cert: string }> {
  const r = bin.run([
    'relay',
    '--tcp',
    '127.0.0.1:0',
    '--ws',
    '127.0.0.1:0',
    '--tls',
    '127.0.0.1:0',
    '--user',
    `${ALICE.user}:${ALICE.password}`,
    '--user',
    `${BOB.user}:${BOB.password}`,
    '--json'
  ])
  // The listening lines come once every listener is bound (docs/relay-cli.md): then the relay serves.
  const tcp = String(json(await r.line((l) => event('listening')(l) && l.endsWith(';tcp"}'))).uri)
  const ws = String(json(await r.line((l) => event('listening')(l) && l.endsWith(';ws"}'))).uri)
  const tls = String(json(await r.line((l) => event('listening')(l) && l.includes('"msrps://'))).uri)
  const cert = String(json(await r.line(event('certificate'))).path)
  return { relay: r, tcp, ws, tls, cert }
}

const sendArgs = (toPath: string, ...rest: readonly string[]): string[] => [
  'send',
  '--from',
  `msrp://127.0.0.1:2855/${newSessionId()};tcp`,
  '--to-path',
  toPath,
  '--json',
  ...rest
]
const viaRelay = (who: { user: string; password: string }, uri: string): string[] => [
  '--relay',
  uri,
  '--user',
  who.user,
  '--password',
  who.password
]

/** The `done` event of a send that succeeded (its stderr is only the plain-TCP warning, if `warned`). */
async function delivered(sender: Running, warned: boolean): Promise<{ messageId: string; size: number }> {
  const e = await sender.exit
  expect(e.stderr).toBe(warned ? `rx-msrp send: ${warning(relayTcp)}\n` : '')
  expect(e.code).toBe(0)
  const done = json(e.stdout.trimEnd().split('\n').pop() as string)
  expect(done).toEqual({ event: 'done', messageId: expect.any(String), size: expect.any(Number) })
  return done as { messageId: string; size: number }
}

const warning = (uri: string): string =>
  `warning: ${uri} is not TLS: AUTH and messages go unencrypted (RFC 4976 §8 requires TLS; use msrps:// outside tests)`

beforeAll(async () => {
  bin = buildBin('cli-send-listen-relay-')
  dir = tempDir()
  ;({ relay, tcp: relayTcp, ws: relayWs, tls: relayTls, cert: relayCert } = await startRelay())
  bob = bin.run(['listen', ...viaRelay(BOB, relayWs), '--out', inbox(), '--json'])
  bobPath = String(json(await bob.line(() => true)).path)
}, 120_000)

afterAll(async () => {
  // beforeAll may have failed half-way: clean up what exists.
  if (relay !== undefined) {
    relay.child.kill('SIGTERM')
    await relay.exit
  }
  bin?.cleanup() // undefined if the build failed
  dir?.remove()
})

describe('rx-msrp listen --relay and send --relay (bin processes, loopback)', () => {
  it('R-5.1-4, W-5.2.2-2: listen --relay over WebSocket prints first ready with the path a sender must use: the relay TCP URI it was given, then its own .invalid ;ws URI; nothing listening', () => {
    const lines = bob.lines()
    expect(json(lines[0] as string)).toEqual({ event: 'ready', path: bobPath })
    const [relayHop, own, ...more] = bobPath.split(' ')
    expect(more).toEqual([])
    // RFC 7977 §8: the Use-Path of a WebSocket client is the relay's TCP URI, with a session-id of the relay's.
    const tcpPort = /:([0-9]+);tcp$/.exec(relayTcp)?.[1] as string
    expect(relayHop).toMatch(new RegExp(`^msrp://127\\.0\\.0\\.1:${tcpPort}/[0-9A-Za-z]+;tcp$`))
    expect(own).toMatch(/^msrp:\/\/[a-z][a-z0-9]*\.invalid:2855\/[0-9A-Za-z]+;ws$/)
    expect(lines.some(event('listening'))).toBe(false)
  })

  it('R-5.1-1, R-5.1-2, R-5.1-4: send --relay --text as alice over TCP exits 0; bob reports the message', async () => {
    const sender = bin.run([
      ...sendArgs(bobPath, '--text', 'Hi Bob, through the relay ☃'),
      ...viaRelay(ALICE, relayTcp)
    ])
    const done = await delivered(sender, true)
    const message = json(await bob.line(event('message', 'messageId', done.messageId)))
    const text = Buffer.from('Hi Bob, through the relay ☃', 'utf8')
    expect(message).toEqual({
      event: 'message',
      messageId: done.messageId,
      contentType: 'text/plain;charset=utf-8',
      size: text.length,
      sha256: sha256(text),
      text: 'Hi Bob, through the relay ☃'
    })
  })

  it('R-5.1-4: send --relay --file --success-report streams a binary file to bob; the sha256 of listen and the saved file match, and the success REPORT comes back', async () => {
    const body = pseudoRandom(300 * 1024 + 17, 11)
    const file = dir.file('photo.bin', body)
    const sender = bin.run([
      ...sendArgs(bobPath, '--file', file, '--chunk-size', '4096', '--success-report'),
      ...viaRelay(ALICE, relayTcp)
    ])
    const done = await delivered(sender, true)
    expect(done.size).toBe(body.length)
    // --success-report: bob's REPORTs came back through the relay, over alice's AUTH connection.
    const reports = (await sender.exit).stdout.split('\n').filter(event('report')).map(json)
    expect(reports[reports.length - 1]).toEqual({
      event: 'report',
      messageId: done.messageId,
      reported: body.length,
      status: 200
    })
    const message = json(await bob.line(event('message', 'messageId', done.messageId)))
    expect(message).toEqual({
      event: 'message',
      messageId: done.messageId,
      contentType: 'application/octet-stream',
      size: body.length,
      sha256: sha256(body)
    })
    expect(sha256(readFileSync(join(inbox(), done.messageId)))).toBe(sha256(body))
  })

  it("R-5.1-6: send --relay with a wrong password exits 1 with the relay's 401 and says why, on stderr and as a JSON error", async () => {
    const wrong = { user: ALICE.user, password: 'not-the-password' }
    const e = await bin.run([...sendArgs(bobPath, '--text', 'x'), ...viaRelay(wrong, relayTcp)]).exit
    expect(e.code).toBe(1)
    const reason = `Unauthorized: AUTH at ${relayTcp}: the relay refused the credentials of alice (check --user and --password)`
    expect(e.stderr).toBe(`rx-msrp send: ${warning(relayTcp)}\nrx-msrp send: 401 ${reason}\n`)
    expect(e.stdout).toBe(JSON.stringify({ event: 'error', status: 401, reason }) + '\n')
  })

  it('R-5.2-1: a sender without a relay uses the ready path as its To-Path: it connects to the first URI, the relay, which delivers to bob', async () => {
    const done = await delivered(bin.run(sendArgs(bobPath, '--text', 'no relay of my own')), false)
    const message = json(await bob.line(event('message', 'messageId', done.messageId)))
    expect(message).toMatchObject({ event: 'message', text: 'no relay of my own' })
  })

  it("R-5.1-6: listen --relay with a wrong password exits 1 with the relay's 401", async () => {
    const e = await bin.run(['listen', ...viaRelay({ user: 'bob', password: 'wrong' }, relayTcp), '--json']).exit
    expect(e.code).toBe(1)
    const reason = `Unauthorized: AUTH at ${relayTcp}: the relay refused the credentials of bob (check --user and --password)`
    expect(e.stdout).toBe(JSON.stringify({ event: 'error', status: 401, reason }) + '\n')
    expect(e.stderr).toBe(`rx-msrp listen: ${warning(relayTcp)}\nrx-msrp listen: 401 ${reason}\n`)
  })

  it('R-8-4: over an msrps relay with its self-signed certificate as --ca, listen and send authenticate without a warning', async () => {
    const carol = bin.run(['listen', ...viaRelay(BOB, relayTls), '--ca', relayCert, '--json'])
    const path = String(json(await carol.line(event('ready'))).path)
    expect(path).toMatch(/^msrps:\/\/127\.0\.0\.1:\d+\/\w+;tcp msrps:\/\/\w+\.invalid:2855\/\w+;tcp$/)
    const sender = bin.run([...sendArgs(path, '--text', 'over TLS'), ...viaRelay(ALICE, relayTls), '--ca', relayCert])
    const done = await delivered(sender, false)
    expect(json(await carol.line(event('message', 'messageId', done.messageId)))).toMatchObject({ text: 'over TLS' })
    carol.child.kill('SIGTERM')
    const e = await carol.exit
    expect(e.stderr).toBe('')
    expect(e.code).toBe(0)
  })

  it('listen --relay msrps --insecure accepts the self-signed certificate unverified (testing only)', async () => {
    const dave = bin.run(['listen', ...viaRelay(BOB, relayTls), '--insecure'])
    expect(await dave.line(() => true)).toMatch(
      /^ready: send with --to-path "msrps:\/\/127\.0\.0\.1:\d+\/\w+;tcp msrps:/
    )
    dave.child.kill('SIGINT')
    expect(await dave.exit).toEqual({ code: 0, stdout: expect.any(String), stderr: '' })
  })

  it('listen --relay msrps without --ca refuses the self-signed certificate: exit 1, naming the relay', async () => {
    const e = await bin.run(['listen', ...viaRelay(BOB, relayTls)]).exit
    expect(e.code).toBe(1)
    expect(e.stdout).toBe('')
    expect(e.stderr).toMatch(
      new RegExp(
        `^rx-msrp listen: 408 cannot connect to ${relayTls.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*self-signed certificate`
      )
    )
  })

  it('R-6.3-6: listen --relay exits 1 once its relay connection closes (the session is unreachable then)', async () => {
    const other = await startRelay()
    const listener = bin.run(['listen', ...viaRelay(BOB, other.tcp)])
    expect(await listener.line(() => true)).toMatch(
      /^ready: send with --to-path "msrp:\/\/127\.0\.0\.1:\d+\/\w+;tcp msrp:\/\/\w+\.invalid:2855\/\w+;tcp"$/
    )
    other.relay.child.kill('SIGTERM')
    expect((await other.relay.exit).code).toBe(0)
    const e = await listener.exit
    expect(e.code).toBe(1)
    expect(e.stderr).toBe(
      `rx-msrp listen: ${warning(other.tcp)}\nrx-msrp listen: the connection to ${other.tcp} closed: the session is no longer reachable there\n`
    )
  })

  it('listen --relay exits 0 on SIGINT, having written only its ready and message lines', async () => {
    bob.child.kill('SIGINT')
    const e = await bob.exit
    expect(e.code).toBe(0)
    expect(e.stderr).toBe(`rx-msrp listen: ${warning(relayWs)}\n`)
    const events = e.stdout
      .trimEnd()
      .split('\n')
      .map((l) => json(l).event)
    expect(events[0]).toBe('ready')
    expect(events.filter((e) => e !== 'message')).toEqual(['ready'])
  })
})
