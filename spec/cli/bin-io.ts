/**
 * The compiled `rx-msrp` bin in child processes, for end-to-end CLI specs: compiled as spec/cli/listen-send-bin.spec.ts
 * and spec/cli/relay-bin.spec.ts do (tsconfig.build.json, only the bin's import graph) into a directory of its own
 * under .tmp/, so that specs in other jest workers never read each other's half-written files. Node finds
 * node_modules by walking up from .tmp/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '..', '..')

/** A child's exit: its status and everything it wrote. */
export interface Exit {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A running child: its stdout lines as they come, and its exit. */
export interface Running {
  readonly child: ChildProcess
  /** Resolves with the first complete stdout line (written or to come) that passes `test`; rejects if it exits first. */
  readonly line: (test: (line: string) => boolean) => Promise<string>
  /** The complete lines of stdout so far. */
  readonly lines: () => string[]
  readonly exit: Promise<Exit>
}

/** The compiled bin: run it, and clean up (kill what still runs, remove the build). */
export interface Bin {
  readonly run: (args: readonly string[]) => Running
  readonly cleanup: () => void
}

/** Compiles `src/cli/main.ts` into `.tmp/<prefix>XXXXXX/dist` (for `beforeAll`, which needs a long timeout). */
export function buildBin(prefix: string): Bin {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true })
  const build = mkdtempSync(join(ROOT, '.tmp', prefix))
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
  if (tsc.status !== 0) {
    rmSync(build, { recursive: true, force: true })
    throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`)
  }
  writeFileSync(join(build, 'package.json'), readFileSync(join(ROOT, 'package.json'))) // for --version
  const bin = join(build, 'dist', 'cli', 'main.js')
  const children: ChildProcess[] = []

  const run = (args: readonly string[]): Running => {
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
    const exit = new Promise<Exit>((resolve, reject) => {
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
    return { child, line, lines, exit }
  }

  return {
    run,
    cleanup: () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      rmSync(build, { recursive: true, force: true })
    }
  }
}

/** The JSON object of a `--json` line. */
export const json = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>

/** A test for `--json` lines whose `event` is `event` (and, if given, whose `field` has `value`). */
export const event =
  (name: string, field?: string, value?: unknown) =>
  (line: string): boolean => {
    if (!line.startsWith('{')) return false
    const o = json(line)
    return o.event === name && (field === undefined || o[field] === value)
  }
