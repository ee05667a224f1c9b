/**
 * Builds browser bundles for the specs: scripts/build-browser.js in a child process (esbuild's API refuses jest's
 * realm, whose Uint8Array is not Node's), into a folder under .tmp/. Loopback only, nothing written under dist/.
 */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const ROOT = path.join(__dirname, '..', '..')

/** The part of esbuild's metafile the check reads. */
export interface Metafile {
  readonly inputs: Record<
    string,
    { readonly imports: readonly { path: string; external?: boolean; original?: string }[] }
  >
  readonly outputs: Record<string, { readonly entryPoint?: string; readonly bytes: number }>
}

export interface Problem {
  readonly importer: string
  readonly module: string
  readonly chain: readonly string[]
}

export const check = require('../../scripts/check-browser-bundle.js') as {
  readonly findNodeImports: (metafile: Metafile) => Problem[]
  readonly formatProblems: (problems: readonly Problem[]) => string
}

/** A fresh folder under the repository's .tmp/ (git-ignored), so that entries in it resolve node_modules. */
export function tempDir(prefix: string): string {
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true })
  return fs.mkdtempSync(path.join(ROOT, '.tmp', prefix))
}

/** Bundles `entry` (relative to the repository) as scripts/build-browser.js does; resolves with the metafile. */
export function buildBundle(entry: string, outfile: string, minify = true): Promise<Metafile> {
  const script =
    `require(${JSON.stringify(path.join(ROOT, 'scripts', 'build-browser.js'))})` +
    `.buildBrowserBundle(${JSON.stringify({ entry, outfile, minify })})` +
    '.then((m) => process.stdout.write(JSON.stringify(m)), (e) => { console.error(e.message); process.exit(1) })'
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`esbuild failed: ${stderr || error.message}`))
        else resolve(JSON.parse(stdout) as Metafile)
      }
    )
  })
}
