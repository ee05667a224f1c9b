/**
 * Resuming a cut file transfer from the command line (RFC 4975 §5.4, rfc4975-core.md §7, C-5.4-12): `send` says how
 * to resume (`--message-id`, `--offset`), `listen --out` keeps the bytes of a cut message in `DIR/<id>.part` and
 * appends the resent rest to it, refusing with 413 a continuation that does not fit.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { map } from 'rxjs'
import { dial, type EndpointOptions } from '../../src/session/endpoint'
import type { Transport } from '../../src/transport/transport'
import { newSessionId } from '../../src/wire/ids'
import { fileNameOf, partialNameOf } from '../../src/cli/listen'
import { decodeSendArgs, formatUsageError } from '../../src/cli/options'
import {
  fromUri,
  records,
  runSend,
  sha256,
  startListen,
  stopListeners,
  tempDir,
  type RunningListen,
  type TempDir
} from './listen-send-io'
import * as E from 'fp-ts/Either'

const FILE_BYTES = 4 * 1024 * 1024
const CHUNK = '65536'

let dir: TempDir
let out: string
beforeEach(() => {
  dir = tempDir()
  out = join(dir.path, 'inbox')
})
afterEach(stopListeners)
afterEach(() => dir.remove())

/**
 * Endpoint options whose connections close themselves once `bytes` have been written: a connection cut mid-message,
 * at the same place every run.
 */
function cutAfter(bytes: number): EndpointOptions {
  return {
    connect: (uri) =>
      dial(uri).pipe(
        map((t: Transport) => {
          let written = 0
          const write = t.write.bind(t)
          Object.assign(t, {
            write: (pieces: readonly Uint8Array[]): boolean => {
              const ok = write(pieces)
              for (const p of pieces) written += p.length
              if (written >= bytes) t.close()
              return ok
            }
          })
          return t
        })
      )
  }
}

const listenArgs = (sessionId = newSessionId()): string[] => [
  '--uri',
  `msrp://127.0.0.1:0/${sessionId};tcp`,
  '--out',
  out,
  '--json'
]

/** The lines of a send's --json output other than progress. */
const outcome = (sink: Parameters<typeof records>[0]): Record<string, unknown>[] =>
  records(sink).filter((e) => e.event !== 'progress')

/** Sends `file` to `l` through a connection cut halfway: the send's error line and listen's aborted line. */
async function cutSend(l: RunningListen, file: string, extra: readonly string[] = []) {
  const s = await runSend(
    ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--chunk-size', CHUNK, '--json', ...extra],
    { endpoint: cutAfter(FILE_BYTES / 2) }
  )
  expect(s.code).toBe(1)
  const error = records(s.stdout).pop() as Record<string, unknown>
  const aborted = await l.stdout.waitEvent('aborted')
  return { s, error, aborted }
}

describe('rx-msrp send + listen --out: resuming a cut file transfer (RFC 4975 §5.4)', () => {
  it('C-5.4-12: a 4 MiB file cut halfway is resumed with the printed --message-id and --offset; the saved file has sha256 equal', async () => {
    const body = randomBytes(FILE_BYTES)
    const file = dir.file('random.bin', body)
    const l = await startListen(listenArgs())

    const { error, aborted } = await cutSend(l, file)
    // send: a 408 with where to resume; listen: the bytes received in order, kept in DIR/<id>.part.
    expect(error).toEqual({
      event: 'error',
      status: 408,
      reason: expect.stringContaining('closed'),
      messageId: expect.any(String),
      acknowledged: expect.any(Number)
    })
    const messageId = String(error.messageId)
    const acknowledged = Number(error.acknowledged)
    expect(aborted).toEqual({
      event: 'aborted',
      messageId,
      received: expect.any(Number),
      reason: 'ConnectionLost',
      partial: join(out, `${messageId}.part`)
    })
    const received = Number(aborted.received)
    expect(acknowledged).toBeGreaterThan(0)
    expect(acknowledged).toBeLessThanOrEqual(received)
    expect(received).toBeLessThan(FILE_BYTES)
    expect(sha256(readFileSync(join(out, `${messageId}.part`)))).toBe(sha256(body.subarray(0, received)))

    const resumed = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--file',
      file,
      '--chunk-size',
      CHUNK,
      '--message-id',
      messageId,
      '--offset',
      String(acknowledged),
      '--json'
    ])
    expect(resumed.stderr.text).toBe('')
    expect(resumed.code).toBe(0)
    const lines = records(resumed.stdout)
    expect(lines[0]).toMatchObject({ event: 'progress', acknowledged, total: FILE_BYTES })
    expect(lines.pop()).toEqual({ event: 'done', messageId, size: FILE_BYTES })
    // The message line is about the whole file: its size and sha256, the partial file renamed to its name.
    expect(await l.stdout.waitEvent('message')).toEqual({
      event: 'message',
      messageId,
      contentType: 'application/octet-stream',
      size: FILE_BYTES,
      sha256: sha256(body)
    })
    expect(sha256(readFileSync(join(out, messageId)))).toBe(sha256(body))
    expect(readdirSync(out)).toEqual([messageId])
    expect(await l.stop()).toBe(0)
  })

  it('resumes after the bytes listen reports received (the sender vanished without a word), exactly after them', async () => {
    const body = randomBytes(FILE_BYTES)
    const file = dir.file('random.bin', body)
    const l = await startListen(listenArgs())
    const { aborted } = await cutSend(l, file, ['--message-id', 'vanished-sender-1'])
    expect(aborted.messageId).toBe('vanished-sender-1')
    const offset = String(aborted.received)
    const args = ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--message-id', 'vanished-sender-1']
    const resumed = await runSend([...args, '--offset', offset, '--json'])
    expect(resumed.code).toBe(0)
    expect(await l.stdout.waitEvent('message')).toMatchObject({ size: FILE_BYTES, sha256: sha256(body) })
    expect(sha256(readFileSync(join(out, 'vanished-sender-1')))).toBe(sha256(body))
    expect(await l.stop()).toBe(0)
  })

  it('a resend that starts within the bytes kept (their 200s lost in the cut) replaces them from there', async () => {
    const body = randomBytes(FILE_BYTES)
    const file = dir.file('random.bin', body)
    const l = await startListen(listenArgs())
    const { aborted } = await cutSend(l, file, ['--message-id', 'overlap-test-1'])
    const offset = Number(aborted.received) - 12_345
    const args = ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--message-id', 'overlap-test-1']
    expect((await runSend([...args, '--offset', String(offset), '--json'])).code).toBe(0)
    expect(await l.stdout.waitEvent('message')).toMatchObject({ size: FILE_BYTES, sha256: sha256(body) })
    expect(sha256(readFileSync(join(out, 'overlap-test-1')))).toBe(sha256(body))
    expect(await l.stop()).toBe(0)
  })

  it('continues the .part file an earlier listen left (stopped mid-message), with the same --uri session', async () => {
    const body = randomBytes(FILE_BYTES)
    const file = dir.file('random.bin', body)
    const sessionId = newSessionId()
    const first = await startListen(listenArgs(sessionId))
    const { aborted } = await cutSend(first, file, ['--message-id', 'across-runs-1'])
    expect(await first.stop()).toBe(0)
    const second = await startListen(listenArgs(sessionId))
    const args = ['--from', fromUri(), '--to-path', second.uri, '--file', file, '--message-id', 'across-runs-1']
    const resumed = await runSend([...args, '--offset', String(aborted.received), '--json'])
    expect(resumed.code).toBe(0)
    expect(await second.stdout.waitEvent('message')).toMatchObject({ size: FILE_BYTES, sha256: sha256(body) })
    expect(await second.stop()).toBe(0)
  })

  it('without --json, a cut --file send prints the hint "resume with: --message-id ID --offset N" on stderr; a refusal does not', async () => {
    const file = dir.file('random.bin', randomBytes(FILE_BYTES))
    const l = await startListen(listenArgs())
    const s = await runSend(
      ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--chunk-size', CHUNK, '--message-id', 'hinted-1'],
      { endpoint: cutAfter(FILE_BYTES / 2) }
    )
    expect(s.code).toBe(1)
    const lines = s.stderr.text.split('\n')
    expect(lines[0]).toMatch(/^rx-msrp send: 408 the connection to msrp:\/\/127\.0\.0\.1:\d+\/\w+;tcp closed /)
    expect(lines[1]).toMatch(/^rx-msrp send: resume with: --message-id hinted-1 --offset [1-9]\d*$/)
    expect(lines.slice(2)).toEqual([''])
    expect(s.stdout.text).toBe('')
    expect(await l.stop()).toBe(0)
    // A refusal is not resumable: no hint, and with --json no resume fields (e.g. 413 past --max-size).
    const small = await startListen([...listenArgs(), '--max-size', '1000'])
    const refused = await runSend(['--from', fromUri(), '--to-path', small.uri, '--file', file])
    expect(refused.code).toBe(1)
    expect(refused.stderr.text).toMatch(/^rx-msrp send: 413 [^\n]*\n$/)
    const json = await runSend(['--from', fromUri(), '--to-path', small.uri, '--file', file, '--json'])
    expect(outcome(json.stdout)).toEqual([{ event: 'error', status: 413, reason: expect.any(String) }])
    expect(await small.stop()).toBe(0)
  })
})

describe('rx-msrp listen --out: a continuation that does not fit is refused with 413, the partial file kept', () => {
  /** A message cut halfway: its id, and the bytes listen kept. */
  async function cutMessage(l: RunningListen, file: string, messageId: string): Promise<number> {
    const { aborted } = await cutSend(l, file, ['--message-id', messageId])
    return Number(aborted.received)
  }

  it('a continuation that would leave a gap (it starts past the bytes kept + 1)', async () => {
    const body = randomBytes(FILE_BYTES)
    const file = dir.file('random.bin', body)
    const l = await startListen(listenArgs())
    const received = await cutMessage(l, file, 'gap-test-01')
    const part = join(out, 'gap-test-01.part')
    const args = ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--message-id', 'gap-test-01', '--json']
    const s = await runSend([...args, '--offset', String(received + 1)])
    expect(s.code).toBe(1)
    expect(outcome(s.stdout)).toEqual([
      { event: 'error', status: 413, reason: 'Stop-sending-message: the peer answered 413 to message gap-test-01' }
    ])
    expect(await l.stdout.waitEvent('error', { messageId: 'gap-test-01' })).toEqual({
      event: 'error',
      messageId: 'gap-test-01',
      status: 413,
      reason: `Stop-sending-message: a continuation from byte ${received + 2}, but ${part} holds only ${received} bytes`
    })
    expect(sha256(readFileSync(part))).toBe(sha256(body.subarray(0, received)))
    // The right offset still works afterwards.
    expect((await runSend([...args, '--offset', String(received)])).code).toBe(0)
    expect(await l.stdout.waitEvent('message', { messageId: 'gap-test-01' })).toMatchObject({ sha256: sha256(body) })
    expect(await l.stop()).toBe(0)
  })

  it('a continuation of another total (the file changed)', async () => {
    const body = randomBytes(FILE_BYTES)
    const l = await startListen(listenArgs())
    const received = await cutMessage(l, dir.file('random.bin', body), 'other-total-1')
    const longer = dir.file('longer.bin', Buffer.concat([body, Buffer.from('more')]))
    const args = ['--from', fromUri(), '--to-path', l.uri, '--file', longer, '--message-id', 'other-total-1']
    const s = await runSend([...args, '--offset', String(received), '--json'])
    expect(s.code).toBe(1)
    expect(outcome(s.stdout)).toEqual([{ event: 'error', status: 413, reason: expect.any(String) }])
    expect(await l.stdout.waitEvent('error', { messageId: 'other-total-1' })).toMatchObject({
      status: 413,
      reason: `Stop-sending-message: a continuation with total ${FILE_BYTES + 4}, but other-total-1 was ${FILE_BYTES} bytes`
    })
    expect(sha256(readFileSync(join(out, 'other-total-1.part')))).toBe(sha256(body.subarray(0, received)))
    expect(await l.stop()).toBe(0)
  })

  it('a continuation of a message never seen, and any continuation without --out (nothing is kept)', async () => {
    const file = dir.file('random.bin', randomBytes(10_000))
    const l = await startListen(listenArgs())
    const args = ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--offset', '5000', '--json']
    expect((await runSend([...args, '--message-id', 'never-seen-1'])).code).toBe(1)
    expect(await l.stdout.waitEvent('error', { messageId: 'never-seen-1' })).toEqual({
      event: 'error',
      messageId: 'never-seen-1',
      status: 413,
      reason: `Stop-sending-message: a continuation from byte 5001, but no bytes of never-seen-1 are kept (${join(out, 'never-seen-1.part')})`
    })
    expect(existsSync(join(out, 'never-seen-1.part'))).toBe(false)
    expect(await l.stop()).toBe(0)

    const bare = await startListen(['--uri', `msrp://127.0.0.1:0/${newSessionId()};tcp`, '--json'])
    const s = await runSend(['--from', fromUri(), '--to-path', bare.uri, ...args.slice(4), '--message-id', 'no-out-1'])
    expect(s.code).toBe(1)
    expect(await bare.stdout.waitEvent('error', { messageId: 'no-out-1' })).toMatchObject({
      status: 413,
      reason: 'Stop-sending-message: a continuation from byte 5001: nothing is kept without --out'
    })
    expect(await bare.stop()).toBe(0)
  })
})

describe('rx-msrp send: --message-id and --offset', () => {
  const base = ['--from', 'msrp://a.example:7/s1;tcp', '--to-path', 'msrp://b.example:9/s2;tcp']
  const usage = (args: readonly string[]): string => {
    const d = decodeSendArgs([...base, ...args])
    return E.isLeft(d) ? formatUsageError(d.left) : 'accepted'
  }

  it('decodes them, and refuses with the flag named: a Message-ID that is no ident, a bad offset, --offset without --file or --message-id', () => {
    const d = decodeSendArgs([...base, '--file', 'f', '--message-id', 'Kx8m.Wq2-L', '--offset', '1024'])
    expect(E.isRight(d) && [d.right.messageId, d.right.offset]).toEqual(['Kx8m.Wq2-L', 1024])
    expect(usage(['--text', 'x', '--message-id', 'ab/cd'])).toMatch(/^--message-id: expected an ident/)
    expect(usage(['--text', 'x', '--message-id', 'abc'])).toMatch(/^--message-id: expected an ident/)
    expect(usage(['--file', 'f', '--message-id', 'abcd', '--offset', '-1'])).toBe(
      '--offset: expected a non-negative integer, got "-1"'
    )
    expect(usage(['--file', 'f', '--message-id', 'abcd', '--offset', '1e3'])).toMatch(/^--offset: expected/)
    expect(usage(['--text', 'x', '--message-id', 'abcd', '--offset', '10'])).toBe('--offset: only with --file')
    expect(usage(['--file', 'f', '--offset', '10'])).toBe(
      '--offset: needs --message-id (the message whose first bytes the peer has)'
    )
    expect(usage(['--text', 'x', '--message-id', 'abcd'])).toBe('accepted')
  })

  it('an --offset past the end of the file: exit 1, nothing sent', async () => {
    const file = dir.file('small.bin', randomBytes(100))
    const l = await startListen(listenArgs())
    const s = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--file',
      file,
      '--message-id',
      'past-end-1',
      '--offset',
      '101',
      '--json'
    ])
    expect(s.code).toBe(1)
    expect(records(s.stdout)).toEqual([
      { event: 'error', reason: `cannot read --file ${file}: --offset 101 is past its end (100 bytes)` }
    ])
    expect(await l.stop()).toBe(0)
    expect(records(l.stdout).map((e) => e.event)).toEqual(['listening'])
  })

  it('--message-id names the message (the done line and the saved file)', async () => {
    const body = randomBytes(5000)
    const l = await startListen(listenArgs())
    const s = await runSend([
      '--from',
      fromUri(),
      '--to-path',
      l.uri,
      '--file',
      dir.file('b.bin', body),
      '--message-id',
      'chosen-id-1',
      '--json'
    ])
    expect(records(s.stdout).pop()).toEqual({ event: 'done', messageId: 'chosen-id-1', size: 5000 })
    expect(await l.stdout.waitEvent('message')).toMatchObject({ messageId: 'chosen-id-1' })
    expect(readFileSync(join(out, 'chosen-id-1'))).toEqual(body)
    expect(await l.stop()).toBe(0)
  })
})

describe('listen --out file names', () => {
  it('no message file is another message\'s partial file: an id ending in ".part" gets a "_"', () => {
    expect(fileNameOf('Kx8mWq2Lr5')).toBe('Kx8mWq2Lr5')
    expect(partialNameOf('Kx8mWq2Lr5')).toBe('Kx8mWq2Lr5.part')
    expect(fileNameOf('Kx8m.part')).toBe('Kx8m.part_')
    expect(fileNameOf('Kx8m.PART')).toBe('Kx8m.PART_')
    expect(partialNameOf('Kx8m.part')).toBe('Kx8m.part_.part')
    expect(fileNameOf('../etc')).toBe('_.._etc')
  })
})
