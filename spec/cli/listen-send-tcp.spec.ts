/**
 * `rx-msrp listen` and `rx-msrp send` against each other over TCP on loopback, in-process.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DIRECT_CHUNK_BYTES } from '../../src/session/writer'
import {
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
beforeEach(() => (dir = tempDir()))
afterEach(() => dir.remove())

afterEach(stopListeners)

describe('rx-msrp listen + send over TCP', () => {
  it('delivers a text message: the listening line has the bound port, the message line its sha256 and text', async () => {
    const local = listenUri()
    const sid = local.split('/')[3]?.split(';')[0] as string
    const l = await startListen(['--uri', local, '--json'])
    expect(l.uri).toMatch(new RegExp(`^msrp://127\\.0\\.0\\.1:([1-9][0-9]*)/${sid};tcp$`))
    const text = 'Hi, Bob! ☃'
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', text, '--json'])
    expect(s.stderr.text).toBe('')
    expect(s.code).toBe(0)
    const sent = records(s.stdout)
    const done = sent[sent.length - 1] as Record<string, unknown>
    expect(done).toEqual({ event: 'done', messageId: expect.any(String), size: 12 })
    expect(sent.slice(0, -1).every((e) => e.event === 'progress')).toBe(true)
    expect(sent[sent.length - 2]).toEqual({ event: 'progress', sent: 12, acknowledged: 12, total: 12 })

    await l.stdout.waitEvent('message')
    expect(await l.stop()).toBe(0)
    expect(records(l.stdout)).toEqual([
      { event: 'listening', uri: l.uri },
      {
        event: 'message',
        messageId: done.messageId,
        contentType: 'text/plain;charset=utf-8',
        size: 12,
        sha256: sha256(Buffer.from(text)),
        text
      }
    ])
    expect(l.stderr.text).toBe('')
  })

  it('streams a 5 MiB binary file: sha256 equal, saved to --out under its Message-ID, progress up to the total', async () => {
    const body = pseudoRandom(5 * 1024 * 1024)
    const file = dir.file('big.bin', body)
    const out = join(dir.path, 'inbox')
    const l = await startListen(['--uri', listenUri(), '--out', out, '--json'])
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--file', file, '--json'])
    expect(s.stderr.text).toBe('')
    expect(s.code).toBe(0)
    const events = records(s.stdout)
    const progress = events.filter((e) => e.event === 'progress')
    // written and acknowledged, per chunk: straight to the peer the default chunk is DIRECT_CHUNK_BYTES
    expect(progress.length).toBeGreaterThan(2 * Math.floor(body.length / DIRECT_CHUNK_BYTES) - 1)
    expect(progress[progress.length - 1]).toEqual({
      event: 'progress',
      sent: body.length,
      acknowledged: body.length,
      total: body.length
    })
    const done = events[events.length - 1] as { messageId: string }
    const message = await l.stdout.waitEvent('message', { messageId: done.messageId })
    expect(message).toEqual({
      event: 'message',
      messageId: done.messageId,
      contentType: 'application/octet-stream',
      size: body.length,
      sha256: sha256(body)
    })
    expect(readdirSync(out)).toEqual([done.messageId])
    expect(sha256(readFileSync(join(out, done.messageId)))).toBe(sha256(body))
    expect(await l.stop()).toBe(0)
  })

  it('--chunk-size sets the most body bytes per chunk: 10 000 bytes in 1000-byte chunks are 10 acknowledgements', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const file = dir.file('ten.bin', pseudoRandom(10_000))
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--file', file, '--chunk-size', '1000', '--json'])
    expect(s.code).toBe(0)
    const acknowledged = new Set(records(s.stdout).map((e) => e.acknowledged))
    expect([...acknowledged].filter((n) => typeof n === 'number' && n > 0)).toEqual(
      Array.from({ length: 10 }, (_, k) => (k + 1) * 1000)
    )
    expect(await l.stop()).toBe(0)
  })

  it('--success-report: exits 0 only after the REPORT covering the whole message, which comes before done', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const s = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--text',
      'report me',
      '--success-report',
      '--json'
    ])
    expect(s.code).toBe(0)
    const events = records(s.stdout).filter((e) => e.event !== 'progress')
    expect(events).toEqual([
      { event: 'report', messageId: expect.any(String), reported: 9, status: 200 },
      { event: 'done', messageId: events[0]?.messageId, size: 9 }
    ])
    expect(await l.stop()).toBe(0)
  })

  it('--max-size smaller than the file: the listener answers 413 and the sender exits 1 with 413 on stderr', async () => {
    const l = await startListen(['--uri', listenUri(), '--max-size', '1000', '--json'])
    const file = dir.file('50k.bin', pseudoRandom(50_000))
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--file', file, '--json'])
    expect(s.code).toBe(1)
    expect(s.stderr.text).toMatch(/^rx-msrp send: 413 Stop-sending-message: the peer answered 413 to message \S+\n$/)
    const error = records(s.stdout).pop()
    expect(error).toEqual({ event: 'error', status: 413, reason: expect.stringContaining('413') })
    expect(await l.stop()).toBe(0)
    expect(records(l.stdout).filter((e) => e.event === 'message')).toEqual([])
  })

  it('C-7.3.1-4: --accept-types: a message of another type is answered 415 and reported; one that matches is kept', async () => {
    const l = await startListen(['--uri', listenUri(), '--accept-types', 'image/png text/*', '--json'])
    const refused = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--text',
      '<p>hi</p>',
      '--content-type',
      'application/xhtml+xml',
      '--json'
    ])
    expect(refused.code).toBe(1) // the session answered 415 (C-7.3.1-4)
    const report = await l.stdout.waitEvent('error', { status: 415 })
    const refusedId = report.messageId
    expect(report).toEqual({
      event: 'error',
      messageId: expect.any(String),
      contentType: 'application/xhtml+xml',
      status: 415,
      reason: 'MIME-not-understood: application/xhtml+xml is not in --accept-types'
    })
    const kept = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'plain', '--json'])
    expect(kept.code).toBe(0)
    await l.stdout.waitEvent('message', { messageId: records(kept.stdout).pop()?.messageId })
    expect(await l.stop()).toBe(0)
    expect(records(l.stdout).filter((e) => e.event === 'message' && e.messageId === refusedId)).toEqual([])
  })

  it('C-7.3.1-4: --accept-types: the sender of a refused type exits 1 with 415', async () => {
    const l = await startListen(['--uri', listenUri(), '--accept-types', 'image/png', '--json'])
    try {
      const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'not a png', '--json'])
      expect(s.code).toBe(1)
      expect(s.stderr.text).toContain('415')
    } finally {
      await l.stop()
    }
  })

  it('serves one connection after another: a new connection binds the session once the previous one is gone', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    for (const text of ['first', 'second', 'third']) {
      const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', text, '--json'])
      expect(s.stderr.text).toBe('')
      expect(s.code).toBe(0)
      expect(await l.stdout.waitEvent('message', { text })).toMatchObject({ size: text.length })
    }
    expect(await l.stop()).toBe(0)
  })

  it('--failure-report no: nothing is answered, the sender exits 0 once it has written the message', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const s = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--text',
      'fire and forget',
      '--failure-report',
      'no',
      '--json'
    ])
    expect(s.code).toBe(0)
    expect(records(s.stdout).pop()).toEqual({ event: 'done', messageId: expect.any(String), size: 15 })
    expect(await l.stdout.waitEvent('message', { text: 'fire and forget' })).toMatchObject({ size: 15 })
    expect(await l.stop()).toBe(0)
  })

  it('writes readable lines without --json', async () => {
    const l = await startListen(['--uri', listenUri()])
    expect(l.stdout.textLines).toEqual([`listening on ${l.uri}`])
    const s = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'hello'])
    expect(s.code).toBe(0)
    expect(s.stdout.text).toMatch(
      new RegExp(`^sent message (\\S+) \\(5 bytes\\) to ${l.uri.replace(/[.]/g, '\\.')}\\n$`)
    )
    const id = /^sent message (\S+)/.exec(s.stdout.text)?.[1] as string
    const line = await l.stdout.waitLine((x) => x.startsWith('message '))
    expect(line).toBe(
      `message ${id} (text/plain;charset=utf-8, 5 bytes, sha256 ${sha256(Buffer.from('hello'))}): "hello"`
    )
    expect(await l.stop()).toBe(0)
  })

  it('gives a text/* body over 64 KiB no "text" field', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const big = 'x'.repeat(64 * 1024 + 1)
    const s = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--file',
      dir.file('big.txt', big),
      '--content-type',
      'text/plain',
      '--json'
    ])
    expect(s.code).toBe(0)
    const message = await l.stdout.waitEvent('message')
    expect(message).toEqual({
      event: 'message',
      messageId: expect.any(String),
      contentType: 'text/plain',
      size: big.length,
      sha256: sha256(Buffer.from(big))
    })
    expect(await l.stop()).toBe(0)
  })
})
