/**
 * End to end: the compiled bin, in child processes. Slow (it compiles), so only two tests; everything else
 * runs in-process.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RFC4975_OK, RFC4975_OK_JSON, RFC4975_SEND, RFC4975_SEND_JSON } from './cli-io'

const ROOT = join(__dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
const BIN = join(ROOT, pkg.bin['rx-msrp'] ?? 'missing')

interface Exit {
  readonly code: number | null
  readonly stdout: Buffer
  readonly stderr: string
}

const exited = (child: ReturnType<typeof spawn>): Promise<Exit> => {
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout?.on('data', (d: Buffer) => out.push(d))
  child.stderr?.on('data', (d: Buffer) => err.push(d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') })
    )
  })
}

beforeAll(() => {
  // tsconfig.build.json's options, but only the bin's import graph: files others are editing cannot break it.
  // The config lives under the (gitignored) .tmp/ so that @types are found as for the real build.
  mkdirSync(join(ROOT, '.tmp'), { recursive: true })
  const dir = mkdtempSync(join(ROOT, '.tmp', 'cli-bin-'))
  const config = join(dir, 'tsconfig.json')
  writeFileSync(
    config,
    JSON.stringify({ extends: join(ROOT, 'tsconfig.build.json'), files: [join(ROOT, 'src/cli/main.ts')], include: [] })
  )
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { encoding: 'utf8' })
  rmSync(dir, { recursive: true, force: true })
  expect(tsc.stdout + tsc.stderr).toBe('')
  expect(tsc.status).toBe(0)
}, 120_000)

describe('the rx-msrp bin', () => {
  it('decodes bytes piped into "rx-msrp decode" and exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'decode'])
    child.stdin.end(Buffer.from(RFC4975_SEND + RFC4975_OK))
    const { code, stdout, stderr } = await exited(child)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout.toString('utf8')).toBe(
      JSON.stringify(RFC4975_SEND_JSON) + '\n' + JSON.stringify(RFC4975_OK_JSON) + '\n'
    )
  })

  it('reproduces a 4 MiB binary body through "rx-msrp encode | rx-msrp decode" (real pipes, backpressure)', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024)
    for (let k = 0; k < body.length; k++) body[k] = (k * 31 + (k >> 10)) & 0xff
    const line = {
      type: 'request',
      transactionId: 'e2e0big',
      method: 'SEND',
      headers: [['Content-Type', 'application/octet-stream']],
      body: body.toString('base64'),
      continuation: '$'
    }
    const encoder = spawn(process.execPath, [BIN, 'encode'])
    const decoder = spawn(process.execPath, [BIN, 'decode'])
    encoder.stdout.pipe(decoder.stdin)
    const encoded = exited(encoder)
    const decoded = exited(decoder)
    encoder.stdin.end(JSON.stringify(line) + '\n' + JSON.stringify(RFC4975_OK_JSON) + '\n')
    expect((await encoded).code).toBe(0)
    const { code, stdout, stderr } = await decoded
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const lines = stdout.toString('utf8').split('\n')
    expect(lines).toHaveLength(3)
    expect(JSON.parse(lines[0] as string)).toEqual(line)
    expect(JSON.parse(lines[1] as string)).toEqual(RFC4975_OK_JSON)
  })
})
