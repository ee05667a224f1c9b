/**
 * `rx-msrp relay` in-process: the command line, the config file, listening, metrics and stopping. The bin itself, in
 * a child process, is in relay-bin.spec.ts.
 */
import * as http from 'node:http'
import * as net from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, Subject } from 'rxjs'
import { filter, map, startWith } from 'rxjs/operators'
import { decodeRelayArgs, loadRelayConfig, parseConfigText, relay } from '../../src/cli/relay'
import { formatUsageError } from '../../src/cli/options'
import type { Transport } from '../../src/transport/transport'
import { connectWebSocket } from '../../src/transport/websocket'
import { answerChallenge } from '../../src/wire/digest'
import { formatDigestCredentials, parseDigestChallenge } from '../../src/wire/headers/digest-params'
import { newSessionId } from '../../src/wire/ids'
import { capture } from '../helpers/capture'

const EXAMPLE = join(__dirname, '..', '..', 'docs', 'examples', 'relay.yaml')

/** Runs the command in-process until `stop()`; `exit` resolves to its status. */
function start(args: readonly string[]) {
  const stdout = capture()
  const stderr = capture()
  const controller = new AbortController()
  const log = capture()
  const exit = relay(
    args,
    { stdin: (async function* () {})(), stdout: stdout.stream, stderr: stderr.stream },
    { signal: controller.signal, log: log.stream }
  )
  // A line that never comes must not hang the test: the command ending first rejects the wait.
  const line = (test: (l: string) => boolean): Promise<string> =>
    Promise.race([
      stdout.line(test),
      exit.then((code) => Promise.reject(new Error(`exited ${code} first: ${stderr.text()}`)))
    ])
  return { stdout, stderr, log, exit, line, stop: () => controller.abort() }
}

let dir: string
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'rx-msrp-relay-spec-'))))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('decodeRelayArgs', () => {
  const usage = (args: string[]): string => {
    const r = decodeRelayArgs(args)
    return E.isLeft(r) ? formatUsageError(r.left) : 'accepted'
  }

  it('collects repeatable flags in order, and takes none at all', () => {
    const r = decodeRelayArgs([
      '--tcp',
      '127.0.0.1:0',
      '--tcp=[::1]:2855',
      '--user',
      'a:x',
      '--user',
      'b:y:z',
      '--allow-origin',
      'https://a.example',
      '--metrics',
      '127.0.0.1:9090',
      '--json'
    ])
    expect(r).toEqual(
      E.right({
        config: undefined,
        json: true,
        overrides: {
          tcp: [
            { host: '127.0.0.1', port: 0 },
            { host: '::1', port: 2855 }
          ],
          users: [
            { name: 'a', password: 'x' },
            { name: 'b', password: 'y:z' }
          ],
          allowedOrigins: ['https://a.example'],
          metrics: { host: '127.0.0.1', port: 9090 }
        }
      })
    )
    expect(decodeRelayArgs([])).toEqual(E.right({ config: undefined, json: false, overrides: {} }))
  })

  it('names the flag of a bad value, an unknown flag, and a flag that is not repeatable given twice', () => {
    expect(usage(['--tcp', '2855'])).toBe('--tcp: expected HOST:PORT (IPv6 as [ADDRESS]:PORT), got "2855"')
    expect(usage(['--ws', '127.0.0.1:1', '--ws', 'x'])).toMatch(/^--ws: expected HOST:PORT/)
    expect(usage(['--user', 'alice'])).toBe('--user: expected NAME:PASSWORD, got "alice"')
    expect(usage(['--user', 'a:1', '--user', 'a:2'])).toBe('--user: user "a" given twice')
    expect(usage(['--allow-origin', 'chat.example.com'])).toMatch(/^--allow-origin: expected an origin/)
    expect(usage(['--host', '0.0.0.0'])).toMatch(/^--host: a wildcard address/)
    expect(usage(['--realm', 'a"b'])).toMatch(/^--realm: expected a realm/)
    expect(usage(['--udp', '127.0.0.1:1'])).toBe('--udp: unknown option')
    expect(usage(['--realm', 'a', '--realm', 'b'])).toBe('--realm: given twice')
    expect(usage(['--metrics'])).toBe('--metrics: needs a value')
  })
})

describe('the config file', () => {
  it('decodes docs/examples/relay.yaml, the documented complete example', async () => {
    const loaded = await loadRelayConfig(EXAMPLE)
    if (E.isLeft(loaded)) throw new Error(loaded.left.join('\n'))
    const config = loaded.right
    expect(config.listen?.tcp).toEqual([
      { host: '127.0.0.1', port: 2855 },
      { host: '::1', port: 2855 }
    ])
    expect(Object.keys(config.listen ?? {})).toEqual(['tcp', 'tls', 'ws', 'wss'])
    expect(config.users).toEqual({
      alice: { password: 'wonderland' },
      bob: { ha1: '75138f707b21ecbc387ad0b9eee2bb18' }
    })
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9090 })
    expect(Object.keys(config.limits ?? {})).toHaveLength(14)
  })

  it('reads JSON from a .json file and YAML otherwise, refusing syntax errors and duplicate keys with their line', () => {
    expect(parseConfigText('{"realm":"r"}', 'a.json')).toEqual(E.right({ realm: 'r' }))
    expect(parseConfigText('realm: r\n', 'a.yaml')).toEqual(E.right({ realm: 'r' }))
    expect(parseConfigText('{"realm":', 'a.json')).toEqual(E.left(expect.stringMatching(/JSON/)))
    expect(parseConfigText('realm: a\nrealm: b\n', 'a.yml')).toEqual(E.left(expect.stringMatching(/unique.*line 2/)))
    expect(parseConfigText('listen: [\n', 'a.yml')).toEqual(E.left(expect.stringMatching(/line/)))
  })

  it('refuses a file larger than CONFIG_MAX_BYTES or not a regular file before reading it, and names a file it cannot read', async () => {
    const big = file('big.yaml', `# ${'x'.repeat(1024 * 1024)}\n`)
    expect(await loadRelayConfig(big)).toEqual(E.left([`${big}: larger than 1048576 bytes`]))
    expect(await loadRelayConfig(dir)).toEqual(E.left([`${dir}: not a regular file`]))
    const missing = join(dir, 'missing.yaml')
    expect(await loadRelayConfig(missing)).toEqual(E.left([expect.stringContaining(`cannot read --config ${missing}`)]))
  })
})

describe('rx-msrp relay (in-process)', () => {
  it('exits 1 on a bad config file, naming every bad field by its path, and opens nothing', async () => {
    const path = file('bad.yaml', 'listen:\n  tcp: [nope]\nusers:\n  alice: { pasword: x }\n')
    const run = start(['--config', path])
    expect(await run.exit).toBe(1)
    expect(run.stderr.text()).toBe(
      `rx-msrp relay: ${path}: listen.tcp[0]: expected HOST:PORT (IPv6 as [ADDRESS]:PORT), got "nope"\n` +
        `rx-msrp relay: ${path}: users.alice.pasword: unknown key (expected password or ha1)\n`
    )
    expect(run.stdout.text()).toBe('')
  })

  it('exits 1 naming the file for a YAML syntax error, a file without listeners, and limits the relay refuses', async () => {
    const broken = file('broken.yaml', 'listen:\n  tcp: [127.0.0.1:0\n')
    const a = start(['--config', broken])
    expect(await a.exit).toBe(1)
    expect(a.stderr.text()).toMatch(new RegExp(`^rx-msrp relay: ${broken}: .*line`))

    const empty = file('empty.yaml', 'listen: {}\n')
    const b = start(['--config', empty])
    expect(await b.exit).toBe(1)
    expect(b.stderr.text()).toBe(`rx-msrp relay: ${empty}: listen: no listener to open\n`)

    // Only a minimum is given: the default Expires (1800 s) falls below it, which AUTH refuses.
    const limits = file('limits.yaml', 'listen: { tcp: [127.0.0.1:0] }\nlimits: { minExpiresSec: 3600 }\n')
    const c = start(['--config', limits])
    expect(await c.exit).toBe(1)
    expect(c.stderr.text()).toMatch(new RegExp(`^rx-msrp relay: ${limits}: limits: .*minExpiresSec`))
  })

  it('exits 2 with the usage for a certificate without key', async () => {
    const run = start(['--cert', 'c.pem', '--tcp', '127.0.0.1:0'])
    expect(await run.exit).toBe(2)
    expect(run.stderr.text()).toMatch(/^rx-msrp relay: --key: is required with a certificate\n\nUsage: rx-msrp relay/)
  })

  it('exits 1 naming the address when a port is taken', async () => {
    const taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as net.AddressInfo).port
    try {
      const run = start(['--tcp', '127.0.0.1:0', '--ws', `127.0.0.1:${port}`])
      expect(await run.exit).toBe(1)
      expect(run.stderr.text()).toContain(`cannot listen on 127.0.0.1:${port}`)
      expect(run.stdout.text()).toBe('')
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })

  it('prints one JSON line per listener with the bound port, no user line for configured users, and exits 0 when stopped', async () => {
    const run = start(['--tcp', '127.0.0.1:0', '--ws', '[::1]:0', '--user', 'alice:pw', '--json'])
    const tcp = JSON.parse(await run.line((l) => l.includes(';tcp'))) as Record<string, unknown>
    const ws = JSON.parse(await run.line((l) => l.includes(';ws'))) as Record<string, unknown>
    expect(tcp).toEqual({ event: 'listening', uri: expect.stringMatching(/^msrp:\/\/127\.0\.0\.1:[1-9][0-9]*;tcp$/) })
    expect(ws).toEqual({ event: 'listening', uri: expect.stringMatching(/^msrp:\/\/\[::1\]:[1-9][0-9]*;ws$/) })
    run.stop()
    expect(await run.exit).toBe(0)
    expect(
      run.stdout
        .text()
        .split('\n')
        .filter((l) => l !== '')
    ).toHaveLength(2)
  })

  it('puts --host in the URIs, prints the demo user, and counts connections on the metrics listener', async () => {
    const run = start(['--tcp', '127.0.0.1:0', '--host', 'localhost', '--metrics', '127.0.0.1:0'])
    const listening = await run.line((l) => l.startsWith('listening '))
    expect(listening).toMatch(/^listening msrp:\/\/localhost:[1-9][0-9]*;tcp$/)
    const metricsUrl = (await run.line((l) => l.startsWith('metrics '))).slice('metrics '.length)
    expect(await run.line((l) => l.startsWith('user '))).toMatch(/^user demo password [0-9A-Za-z]{16}$/)

    const port = Number(/:([0-9]+);tcp$/.exec(listening)?.[1])
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    await run.log.line((l) => l.includes('"event":"connection"'))
    const scrape = await new Promise<string>((resolve, reject) =>
      http
        .get(metricsUrl, (response) => {
          let body = ''
          response.on('data', (d: Buffer) => (body += d.toString()))
          response.on('end', () => resolve(body))
        })
        .on('error', reject)
    )
    expect(scrape).toContain('msrp_relay_connections{kind="tcp"} 1')
    expect(scrape).toContain('msrp_relay_connections_total{kind="tcp"} 1')
    socket.destroy()
    run.stop()
    expect(await run.exit).toBe(0)
  })

  it('issues a WebSocket client a Use-Path URI on the TCP listener, which peers can connect to (RFC 7977 §8)', async () => {
    const run = start(['--tcp', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--user', 'alice:pw'])
    const tcpUri = (await run.line((l) => l.endsWith(';tcp'))).slice('listening '.length)
    const wsUri = (await run.line((l) => l.endsWith(';ws'))).slice('listening '.length)
    const wsPort = Number(/:([0-9]+);ws$/.exec(wsUri)?.[1])
    const transport = await lastValueFrom(
      connectWebSocket({ url: `ws://127.0.0.1:${wsPort}/`, keepAliveIntervalMs: 0 })
    )
    const exchange = authClient(transport)
    try {
      const from = `msrp://${newSessionId().toLowerCase()}.invalid:2855/${newSessionId()};ws`
      const first = await exchange('wsauth1', [`To-Path: ${wsUri}`, `From-Path: ${from}`])
      expect(first).toMatch(/^MSRP wsauth1 401/)
      const challenge = parseDigestChallenge(/WWW-Authenticate: (.*)\r\n/.exec(first)?.[1] ?? '')
      if (E.isLeft(challenge)) throw new Error(challenge.left)
      const credentials = answerChallenge(
        challenge.right,
        { username: 'alice', password: 'pw' },
        {
          digestUri: wsUri,
          nc: 1
        }
      )
      if (E.isLeft(credentials)) throw new Error(credentials.left.detail)
      const ok = await exchange('wsauth2', [
        `To-Path: ${wsUri}`,
        `From-Path: ${from}`,
        `Authorization: ${formatDigestCredentials(credentials.right)}`
      ])
      expect(ok).toMatch(/^MSRP wsauth2 200/)
      const usePath = /Use-Path: (.*)\r\n/.exec(ok)?.[1]
      expect(usePath).toMatch(new RegExp(`^${tcpUri.replace(/[.]/g, '\\.').replace(';tcp', '')}/[0-9A-Za-z]+;tcp$`))
    } finally {
      transport.close()
    }
    run.stop()
    expect(await run.exit).toBe(0)
  })
})

/** A reader of a message-oriented transport: sends one AUTH per message and waits for the response to it. */
function authClient(transport: Transport): (tid: string, headers: readonly string[]) => Promise<string> {
  const messages: string[] = []
  const arrived = new Subject<void>()
  transport.incoming$.subscribe({
    next: (bytes) => {
      messages.push(Buffer.from(bytes).toString('utf8'))
      arrived.next()
    },
    error: (e: unknown) => arrived.error(e),
    complete: () => arrived.error(new Error(`closed; received ${JSON.stringify(messages)}`))
  })
  return (tid, headers) => {
    const find = (): string | undefined => messages.find((m) => m.startsWith(`MSRP ${tid} `))
    transport.write([Buffer.from([`MSRP ${tid} AUTH`, ...headers, `-------${tid}$`, ''].join('\r\n'))])
    return firstValueFrom(
      arrived.pipe(
        startWith(undefined),
        map(find),
        filter((m): m is string => m !== undefined)
      )
    )
  }
}
