/**
 * End to end: `rx-msrp listen` and `rx-msrp send` as the compiled bin, in child processes, over TCP on loopback.
 *
 * The bin is compiled by spec/cli/bin-io.ts into a directory of its own under .tmp/: bin.spec.ts writes dist/ at the
 * same time in another jest worker, and a file being rewritten there could be read half-written by a child.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { newSessionId } from '../../src/wire/ids'
import { buildBin, type Bin } from './bin-io'
import { pseudoRandom, sha256, tempDir, type TempDir } from './listen-send-io'

let bin: Bin
let dir: TempDir

beforeAll(() => {
  bin = buildBin('cli-listen-send-')
  dir = tempDir()
}, 120_000)

afterAll(() => {
  dir.remove()
  bin.cleanup()
})

const run = (args: readonly string[]) => bin.run(args)

describe('the rx-msrp bin: listen + send', () => {
  it('sends a 2 MiB file from one process to another; listen saves it and exits 0 on SIGINT', async () => {
    const body = pseudoRandom(2 * 1024 * 1024, 3)
    const file = dir.file('two.bin', body)
    const out = join(dir.path, 'inbox')
    const listener = run(['listen', '--uri', `msrp://127.0.0.1:0/${newSessionId()};tcp`, '--out', out, '--json'])
    const listening = JSON.parse(await listener.line(() => true)) as { event: string; uri: string }
    expect(listening.event).toBe('listening')
    expect(listening.uri).toMatch(/^msrp:\/\/127\.0\.0\.1:[1-9]\d*\/\w+;tcp$/)

    const sender = run([
      'send',
      '--from',
      `msrp://127.0.0.1:2855/${newSessionId()};tcp`,
      '--to-path',
      listening.uri,
      '--file',
      file,
      '--success-report',
      '--json'
    ])
    const sent = await sender.exit
    expect(sent.stderr).toBe('')
    expect(sent.code).toBe(0)
    const done = JSON.parse(sent.stdout.trimEnd().split('\n').pop() as string) as { messageId: string }
    expect(done).toEqual({ event: 'done', messageId: expect.any(String), size: body.length })

    const message = JSON.parse(await listener.line((l) => l.includes('"message"'))) as Record<string, unknown>
    expect(message).toEqual({
      event: 'message',
      messageId: done.messageId,
      contentType: 'application/octet-stream',
      size: body.length,
      sha256: sha256(body)
    })
    expect(sha256(readFileSync(join(out, done.messageId)))).toBe(sha256(body))

    listener.child.kill('SIGINT')
    const stopped = await listener.exit
    expect(stopped.stderr).toBe('')
    expect(stopped.code).toBe(0)
    expect(stopped.stdout.trimEnd().split('\n')).toHaveLength(2)
  })
})
