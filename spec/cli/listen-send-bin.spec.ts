/**
 * End to end: `rx-msrp listen` and `rx-msrp send` as the compiled bin, in child processes, over TCP on loopback.
 *
 * Compiled like spec/cli/bin.spec.ts does (tsconfig.build.json, only the bin's import graph), but into a directory
 * of its own under .tmp/: bin.spec.ts writes dist/ at the same time in another jest worker, and a file being
 * rewritten there could be read half-written by a child. Node finds node_modules by walking up from .tmp/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newSessionId } from '../../src/wire/ids'
import { pseudoRandom, sha256, tempDir, type TempDir } from './listen-send-io'

const ROOT = join(__dirname, '..', '..')
let build: string
let bin: string
let dir: TempDir
const children: ChildProcess[] = []

beforeAll(() => {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true })
  build = mkdtempSync(join(ROOT, '.tmp', 'cli-listen-send-'))
  const config = join(build, 'tsconfig.json')
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: join(build, 'dist'), rootDir: join(ROOT, 'src') },
      files: [join(ROOT, 'src/cli/main.ts')],
      include: []
    })
  )
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { encoding: 'utf8' })
  expect(tsc.stdout + tsc.stderr).toBe('')
  expect(tsc.status).toBe(0)
  writeFileSync(join(build, 'package.json'), readFileSync(join(ROOT, 'package.json'))) // for --version
  bin = join(build, 'dist', 'cli', 'main.js')
  dir = tempDir()
}, 120_000)

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  dir.remove()
  rmSync(build, { recursive: true, force: true })
})

/** A child's stdout lines as they come, and its exit. */
function run(args: readonly string[]): {
  readonly child: ChildProcess
  readonly line: (test: (line: string) => boolean) => Promise<string>
  readonly exit: Promise<{ code: number | null; stdout: string; stderr: string }>
} {
  const child = spawn(process.execPath, [bin, ...args])
  children.push(child)
  let stdout = ''
  let stderr = ''
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = []
  const lines = (): string[] => stdout.split('\n').slice(0, -1)
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8')
    for (const w of waiters.splice(0)) {
      const found = lines().find(w.test)
      if (found !== undefined) w.resolve(found)
      else waiters.push(w)
    }
  })
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  const line = (test: (line: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const found = lines().find(test)
      if (found !== undefined) return resolve(found)
      waiters.push({ test, resolve })
      void exit.then((e) => reject(new Error(`exited ${e.code} first; stderr: ${e.stderr}`)))
    })
  return { child, line, exit }
}

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
