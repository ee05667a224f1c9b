/**
 * `rx-msrp send` when the message cannot be delivered, and `rx-msrp listen` when it cannot listen: exit 1 with the
 * status and reason on stderr (and an error line with --json).
 */
import * as net from 'node:net'
import { newSessionId } from '../../src/wire/ids'
import { closedPort, rawServer, type RawServer } from '../transport/helpers'
import {
  fromUri,
  listenUri,
  records,
  runSend,
  startListen,
  stopListeners,
  tempDir,
  type TempDir
} from './listen-send-io'
import { listen } from '../../src/cli/listen'
import { failureOf } from '../../src/cli/send'
import { SendError } from '../../src/session/session'
import { inputOf, Sink } from './cli-io'

let dir: TempDir
beforeEach(() => (dir = tempDir()))
afterEach(() => dir.remove())

const bobAt = (port: number): string => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`

/** A peer that answers the first request it reads with 200 and then nothing (a transaction that never completes). */
function answerFirstOnly(socket: net.Socket): void {
  let seen = ''
  let answered = false
  socket.on('data', (chunk: Buffer) => {
    if (answered) return
    seen += chunk.toString('latin1')
    const start = /^MSRP ([A-Za-z0-9.+%=-]+) SEND\r\n/.exec(seen)
    if (start === null || !seen.includes(`-------${start[1]}$\r\n`)) return
    answered = true
    socket.write(`MSRP ${start[1]} 200 OK\r\n-------${start[1]}$\r\n`)
  })
}

afterEach(stopListeners)

describe('rx-msrp send: delivery failures (exit 1)', () => {
  it('to a closed port: 408 and "cannot connect to <uri>" with the system reason', async () => {
    const to = bobAt(await closedPort())
    const s = await runSend(['--from', fromUri(), '--to-path', to, '--text', 'x', '--json'])
    expect(s.code).toBe(1)
    expect(s.stderr.text).toMatch(
      /^rx-msrp send: 408 cannot connect to msrp:\/\/127\.0\.0\.1:\d+\/\w+;tcp: .*ECONNREFUSED/
    )
    expect(records(s.stdout)).toEqual([
      { event: 'error', status: 408, reason: expect.stringContaining('ECONNREFUSED') }
    ])
  })

  it('to a session the listener does not have: 481 from the binding SEND', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const port = /:(\d+)\//.exec(l.uri)?.[1] as string
    const s = await runSend(['--from', fromUri(), '--to-path', bobAt(Number(port)), '--text', 'x'])
    expect(s.code).toBe(1)
    expect(s.stderr.text).toBe('rx-msrp send: 481 Session-does-not-exist: the peer answered 481 to the binding SEND\n')
    expect(await l.stop()).toBe(0)
  })

  describe('against a peer that does not answer', () => {
    let peer: RawServer
    afterEach(() => peer.close())

    it('the binding SEND unanswered: a local 408 (C-7.1.1-6)', async () => {
      peer = await rawServer()
      const to = bobAt(peer.port)
      const s = await runSend(['--from', fromUri(), '--to-path', to, '--text', 'x', '--json'], {
        endpoint: { bindTimeoutMs: 50, timeoutMs: 60_000 }
      })
      expect(s.code).toBe(1)
      expect(s.stderr.text).toMatch(/^rx-msrp send: 408 Transaction-did-not-complete-in-allotted-time: no response/)
      expect(records(s.stdout)).toEqual([{ event: 'error', status: 408, reason: expect.any(String) }])
    })

    it('a chunk unanswered: a local 408 (C-7.1.1-6)', async () => {
      peer = await rawServer(answerFirstOnly)
      const s = await runSend(['--from', fromUri(), '--to-path', bobAt(peer.port), '--text', 'x', '--json'], {
        endpoint: { timeoutMs: 50 }
      })
      expect(s.code).toBe(1)
      expect(s.stderr.text).toMatch(
        /^rx-msrp send: 408 Transaction-did-not-complete-in-allotted-time: no response to message \w+ in time\n$/
      )
    })

    it('the connection closed before the binding SEND was answered: 408, "closed"', async () => {
      peer = await rawServer((socket) => socket.once('data', () => socket.end()))
      // Short timers only so that the timer connect() leaves behind (a session gap) does not outlive the test.
      const s = await runSend(['--from', fromUri(), '--to-path', bobAt(peer.port), '--text', 'x'], {
        endpoint: { bindTimeoutMs: 2000, timeoutMs: 2000 }
      })
      expect(s.code).toBe(1)
      expect(s.stderr.text).toMatch(
        /^rx-msrp send: 408 the connection to \S+ closed before the binding SEND was answered\n$/
      )
    })
  })

  it('a --file that cannot be read: exit 1, named, before connecting', async () => {
    const s = await runSend(['--from', fromUri(), '--to-path', bobAt(9), '--file', `${dir.path}/missing.bin`, '--json'])
    expect(s.code).toBe(1)
    expect(s.stderr.text).toMatch(/^rx-msrp send: cannot read --file \S+missing\.bin: ENOENT/)
    expect(records(s.stdout)).toEqual([{ event: 'error', reason: expect.stringContaining('cannot read --file') }])
  })

  it('a --file that is a directory: exit 1', async () => {
    const s = await runSend(['--from', fromUri(), '--to-path', bobAt(9), '--file', dir.path])
    expect(s.code).toBe(1)
    expect(s.stderr.text).toMatch(/^rx-msrp send: cannot read --file \S+: not a regular file\n$/)
  })
})

describe('failureOf', () => {
  it('names the status the peer answered, with its phrase', () => {
    const refused = new SendError('ErrorResponse', 413, 'm1', 'chunk t1: ErrorResponse 413')
    expect(failureOf(refused, 'msrp://b.example:9/s;tcp')).toEqual({
      status: 413,
      reason: 'Stop-sending-message: the peer answered 413 to message m1'
    })
  })

  it('reports a connection closed before the binding SEND was answered as 408', () => {
    const closed = new SendError('ConnectionClosed', 408, '', 'binding SEND failed: 408 (ConnectionClosed)')
    expect(failureOf(closed, 'msrp://b.example:9/s;tcp')).toEqual({
      status: 408,
      reason: 'the connection to msrp://b.example:9/s;tcp closed before the binding SEND was answered'
    })
  })
})

describe('rx-msrp listen: cannot listen (exit 1)', () => {
  async function runListen(args: readonly string[]): Promise<{ code: number; stdout: Sink; stderr: Sink }> {
    const stdout = new Sink()
    const stderr = new Sink()
    const code = await listen(args, { stdin: inputOf(''), stdout, stderr }, { signal: new AbortController().signal })
    return { code, stdout, stderr }
  }

  it('on a port in use', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const taken = l.uri.replace(/\/[^/;]+;/, `/${newSessionId()};`)
    const { code, stdout, stderr } = await runListen(['--uri', taken, '--json'])
    expect(code).toBe(1)
    expect(records(stdout)).toEqual([
      { event: 'error', reason: expect.stringMatching(/cannot listen on .*EADDRINUSE/) }
    ])
    expect(stderr.text).toMatch(/^rx-msrp listen: .*cannot listen/)
    expect(await l.stop()).toBe(0)
  })

  it('without a readable --cert', async () => {
    const { code, stderr } = await runListen([
      '--uri',
      listenUri('msrps'),
      '--cert',
      `${dir.path}/none.crt`,
      '--key',
      `${dir.path}/none.key`
    ])
    expect(code).toBe(1)
    expect(stderr.text).toMatch(/^rx-msrp listen: cannot read --cert \S+none\.crt: ENOENT/)
  })
})
