/**
 * `rx-msrp listen` and `rx-msrp send` over TLS (msrps), WebSocket (;ws) and WSS (msrps + ;ws), with the self-signed
 * loopback certificate of the transport specs (made with openssl).
 */
import {
  certificateFiles,
  fromUri,
  listenUri,
  pseudoRandom,
  records,
  runSend,
  sha256,
  startListen,
  stopListeners,
  tempDir,
  type TempDir
} from './listen-send-io'

let dir: TempDir
let tls: { readonly cert: string; readonly key: string }
beforeAll(() => {
  dir = tempDir()
  tls = certificateFiles(dir)
})
afterAll(() => dir.remove())

afterEach(stopListeners)

describe('rx-msrp listen + send over TLS and WebSocket', () => {
  it('msrps: delivers a message to a sender that trusts the certificate with --ca', async () => {
    const l = await startListen(['--uri', listenUri('msrps'), '--cert', tls.cert, '--key', tls.key, '--json'])
    expect(l.uri).toMatch(/^msrps:\/\/127\.0\.0\.1:[1-9][0-9]*\/[A-Za-z0-9]+;tcp$/)
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'over TLS', '--ca', tls.cert, '--json'])
    expect(s.stderr.text).toBe('')
    expect(s.code).toBe(0)
    expect(await l.stdout.waitEvent('message')).toMatchObject({ size: 8, text: 'over TLS' })
    expect(await l.stop()).toBe(0)
  })

  it('msrps: refuses the self-signed certificate without --ca (exit 1, 408, the TLS reason on stderr)', async () => {
    const l = await startListen(['--uri', listenUri('msrps'), '--cert', tls.cert, '--key', tls.key, '--json'])
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'x', '--json'])
    expect(s.code).toBe(1)
    expect(s.stderr.text).toMatch(
      new RegExp(`^rx-msrp send: 408 cannot connect to ${l.uri.replace(/\./g, '\\.')}: .*self.signed`, 'i')
    )
    expect(records(s.stdout)).toEqual([
      { event: 'error', status: 408, reason: expect.stringMatching(/^cannot connect to /) }
    ])
    expect(await l.stop()).toBe(0)
  })

  it('msrps: --insecure skips verification (testing only)', async () => {
    const l = await startListen(['--uri', listenUri('msrps'), '--cert', tls.cert, '--key', tls.key, '--json'])
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'trust me', '--insecure', '--json'])
    expect(s.code).toBe(0)
    expect(await l.stdout.waitEvent('message')).toMatchObject({ text: 'trust me' })
    expect(await l.stop()).toBe(0)
  })

  it(';ws: delivers a 1 MiB binary message over WebSocket', async () => {
    const l = await startListen(['--uri', listenUri('msrp', 'ws'), '--json'])
    expect(l.uri).toMatch(/^msrp:\/\/127\.0\.0\.1:[1-9][0-9]*\/[A-Za-z0-9]+;ws$/)
    const body = pseudoRandom(1024 * 1024, 7)
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--file', dir.file('ws.bin', body), '--json'])
    expect(s.stderr.text).toBe('')
    expect(s.code).toBe(0)
    expect(await l.stdout.waitEvent('message')).toMatchObject({ size: body.length, sha256: sha256(body) })
    expect(await l.stop()).toBe(0)
  })

  it('msrps + ;ws: delivers over WSS with --ca', async () => {
    const l = await startListen(['--uri', listenUri('msrps', 'ws'), '--cert', tls.cert, '--key', tls.key, '--json'])
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'over WSS', '--ca', tls.cert, '--json'])
    expect(s.stderr.text).toBe('')
    expect(s.code).toBe(0)
    expect(await l.stdout.waitEvent('message')).toMatchObject({ text: 'over WSS' })
    expect(await l.stop()).toBe(0)
  })
})
