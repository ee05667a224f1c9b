/**
 * End to end: `rx-msrp relay` as the compiled bin, in child processes: the no-argument default, AUTH with the printed
 * demo user, a bad config file, SIGINT/SIGTERM.
 *
 * Compiled like spec/cli/listen-send-bin.spec.ts (tsconfig.build.json, only the bin's import graph, into a directory
 * of its own under .tmp/). Node finds node_modules by walking up from .tmp/.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as os from 'node:os'
import { join } from 'node:path'
import * as net from 'node:net'
import * as tls from 'node:tls'
import * as E from 'fp-ts/Either'
import { answerChallenge } from '../../src/wire/digest'
import { formatDigestCredentials, parseDigestChallenge } from '../../src/wire/headers/digest-params'
import { newSessionId } from '../../src/wire/ids'
import { buildBin, type Bin } from './bin-io'

/** The ports of the embedded default (docs/relay-cli.md). */
const DEFAULT_PORTS = [2855, 2856, 8080, 8443]
let bin: Bin

beforeAll(() => {
  bin = buildBin('cli-relay-')
}, 120_000)

afterAll(() => bin.cleanup())

const run = (args: readonly string[]) => bin.run(args)

/** Whether something listens on 127.0.0.1:port: binding it fails with EADDRINUSE. */
function busy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)))
  })
}

/** A TCP connection that sends MSRP text and reads whole responses (up to their end-line). */
function msrpClient(port: number) {
  const socket = net.connect(port, '127.0.0.1')
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => (received += d))
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  /** Sends a request and resolves with the response to its transaction id. */
  const request = async (tid: string, lines: readonly string[]): Promise<string> => {
    await connected
    socket.write([...lines, `-------${tid}$`, ''].join('\r\n'))
    const end = `-------${tid}$\r\n`
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const at = received.indexOf(end)
        if (at === -1) return
        socket.off('data', check)
        socket.off('close', closed)
        const response = received.slice(0, at + end.length)
        received = received.slice(at + end.length)
        resolve(response)
      }
      const closed = (): void => reject(new Error(`closed before the response to ${tid}; got ${received}`))
      socket.on('data', check)
      socket.once('close', closed)
      check()
    })
  }
  return { request, close: () => socket.destroy() }
}

const header = (response: string, name: string): string | undefined =>
  new RegExp(`^${name}: (.*)$`, 'mi').exec(response)?.[1]?.replace(/\r$/, '')

describe('the rx-msrp relay bin', () => {
  it('without arguments listens on the four default loopback ports with a self-signed certificate and a demo user (or names the busy port)', async () => {
    const relay = run(['relay'])
    const outcome = await Promise.race([
      relay.line((l) => l.startsWith('user ')).then(() => 'started' as const),
      relay.exit
    ])
    if (outcome !== 'started') {
      // CI may already use a default port: then the relay must say which one, and it must really be busy.
      expect(outcome.code).toBe(1)
      const named = /cannot listen on 127\.0\.0\.1:([0-9]+)/.exec(outcome.stderr)
      expect(named).not.toBeNull()
      const port = Number(named?.[1])
      expect(DEFAULT_PORTS).toContain(port)
      expect(await busy(port)).toBe(true)
      return
    }
    // The user line is the last one printed at start.
    const lines = relay.lines()
    expect(lines.slice(0, 4)).toEqual([
      'listening msrp://127.0.0.1:2855;tcp',
      'listening msrps://127.0.0.1:2856;tcp',
      'listening msrp://127.0.0.1:8080;ws',
      'listening msrps://127.0.0.1:8443;ws'
    ])
    expect(lines[4]).toMatch(/^certificate \S+cert\.pem sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(lines[5]).toBe('demo https://127.0.0.1:8443/')
    expect(lines[6]).toMatch(/^user demo password [0-9A-Za-z]{16}$/)
    expect(lines).toHaveLength(7)

    // The printed certificate is the one the TLS listener presents, and it verifies for 127.0.0.1.
    const certPath = (lines[4] as string).split(' ')[1] as string
    const ca = readFileSync(certPath)
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: 2856, ca }, () => {
        resolve(socket.authorized)
        socket.destroy()
      })
      socket.once('error', reject)
    })
    expect(authorized).toBe(true)

    relay.child.kill('SIGINT')
    const stopped = await relay.exit
    expect(stopped.code).toBe(0)
    expect(existsSync(certPath)).toBe(false)
  })

  it('answers AUTH from the printed demo user with 401, then 200 with Use-Path and Expires; SIGTERM exits 0', async () => {
    const relay = run(['relay', '--tcp', '127.0.0.1:0', '--json'])
    const listening = JSON.parse(await relay.line((l) => l.includes('"listening"'))) as { uri: string }
    const user = JSON.parse(await relay.line((l) => l.includes('"user"'))) as { name: string; password: string }
    expect(user.name).toBe('demo')
    const relayUri = listening.uri
    const port = Number(/:([0-9]+);tcp$/.exec(relayUri)?.[1])
    const from = `msrp://127.0.0.1:9/${newSessionId()};tcp`
    const client = msrpClient(port)
    try {
      const challenge = await client.request('auth1', ['MSRP auth1 AUTH', `To-Path: ${relayUri}`, `From-Path: ${from}`])
      expect(challenge).toMatch(/^MSRP auth1 401/)
      const parsed = parseDigestChallenge(header(challenge, 'WWW-Authenticate') ?? '')
      if (E.isLeft(parsed)) throw new Error(parsed.left)
      const credentials = answerChallenge(
        parsed.right,
        { username: user.name, password: user.password },
        {
          digestUri: relayUri,
          nc: 1
        }
      )
      if (E.isLeft(credentials)) throw new Error(credentials.left.detail)
      const ok = await client.request('auth2', [
        'MSRP auth2 AUTH',
        `To-Path: ${relayUri}`,
        `From-Path: ${from}`,
        `Authorization: ${formatDigestCredentials(credentials.right)}`
      ])
      expect(ok).toMatch(/^MSRP auth2 200/)
      expect(header(ok, 'Use-Path')).toMatch(new RegExp(`^msrp://127\\.0\\.0\\.1:${port}/[0-9A-Za-z]+;tcp$`))
      expect(Number(header(ok, 'Expires'))).toBeGreaterThan(0)
    } finally {
      client.close()
    }
    relay.child.kill('SIGTERM')
    const stopped = await relay.exit
    expect(stopped.code).toBe(0)
  })

  it('exits 1 on a bad config file, naming the field', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'rx-msrp-relay-config-'))
    const config = join(dir, 'bad.json')
    writeFileSync(config, JSON.stringify({ listen: { tcp: ['127.0.0.1:0'] }, limits: { hopTimeoutMs: 'soon' } }))
    try {
      const { code, stdout, stderr } = await run(['relay', '--config', config]).exit
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe(`rx-msrp relay: ${config}: limits.hopTimeoutMs: expected an integer ≥ 1, got "soon"\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
