/**
 * The browser entry's guard (issue 5): the bundle of src/browser.ts imports no Node built-in and no Node-only
 * package, and the check really catches one that slips in (throwaway entries under .tmp/).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { buildBundle, check, ROOT, tempDir, type Metafile } from './build'

/**
 * What the minified bundle may weigh; raise it knowingly (docs/browser.md gives the size). 200 KiB since the SDP
 * helpers (with sdp-transform), CPIM and NICKNAME joined the browser entry: 169 KB then.
 */
const BUNDLE_BUDGET_BYTES = 200 * 1024

describe('the browser bundle (src/browser.ts, scripts/build-browser.js)', () => {
  let dir: string
  let metafile: Metafile

  beforeAll(async () => {
    dir = tempDir('rx-msrp-bundle-')
    metafile = await buildBundle('src/browser.ts', path.join(dir, 'rx-msrp.mjs'))
  }, 120_000)

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  /** Builds a throwaway entry that imports the browser entry and `extra`; resolves with what the check reports. */
  async function problemsWith(extra: string): Promise<string> {
    const entry = path.join(dir, `entry-${Math.random().toString(36).slice(2)}.ts`)
    const browser = path.join(ROOT, 'src', 'browser')
    fs.writeFileSync(entry, `export * from ${JSON.stringify(browser)}\n${extra}\n`)
    const meta = await buildBundle(path.relative(ROOT, entry), `${entry}.mjs`, false)
    return check.formatProblems(check.findNodeImports(meta))
  }

  it('imports no Node built-in and no Node-only package', () => {
    expect(check.findNodeImports(metafile)).toEqual([])
    const inputs = Object.keys(metafile.inputs)
    expect(inputs).toContain('src/transport/browser-websocket.ts')
    expect(inputs).toContain('src/session/relay-client.ts')
    for (const nodeOnly of ['src/session/dial.ts', 'src/session/endpoint.ts', 'src/transport/websocket.ts'])
      expect(inputs).not.toContain(nodeOnly)
  })

  it('stays within its size budget', () => {
    const size = fs.statSync(path.join(dir, 'rx-msrp.mjs')).size
    expect(size).toBeGreaterThan(10_000)
    expect(size).toBeLessThan(BUNDLE_BUDGET_BYTES)
  })

  it('is caught when a Node built-in slips in: node:fs and a bare "stream"', async () => {
    const report = await problemsWith(
      "import { readFileSync } from 'node:fs'\nimport { Readable } from 'stream'\nexport const x = [readFileSync, Readable]"
    )
    expect(report).toMatch(/^node:fs {2}← .*entry-/m)
    expect(report).toMatch(/^stream {2}← /m)
  }, 120_000)

  it('is caught when a Node-only package slips in, even one esbuild swaps for its browser stub (ws)', async () => {
    const report = await problemsWith("import WebSocket from 'ws'\nexport const x = WebSocket")
    expect(report).toMatch(/^ws {2}← /m)
  }, 120_000)

  it("is caught when the Node endpoint (Node's dial) is reached, with the chain of imports", async () => {
    const report = await problemsWith(
      `export { MsrpEndpoint } from ${JSON.stringify(path.join(ROOT, 'src/session/endpoint'))}`
    )
    expect(report).toContain('node:net  ← src/transport/tcp.ts ← src/session/dial.ts ← src/session/endpoint.ts')
    expect(report).toMatch(/^ws {2}← src\/transport\/websocket\.ts ← src\/session\/dial\.ts/m)
  }, 120_000)
})
