/**
 * The package's `exports` (package.json): `require('rx-msrp')` is the CommonJS build, `import 'rx-msrp'` in Node
 * its ES module wrapper over the same instance, the `browser` condition (bundlers, `rx-msrp/browser`) the browser
 * bundle, whose types compile without Node's. Resolved as an installed package would be, from a folder whose
 * node_modules/rx-msrp links to this repository. Reads dist/: `npm run build` first (CI does; so does `npm ci`).
 */
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT, tempDir } from './build'

/** Runs node with `args` in `cwd`; resolves with stdout, rejects with stderr. */
function node(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
      error !== null ? reject(new Error(`${error.message}\n${stdout}${stderr}`)) : resolve(stdout)
    )
  })
}

const esm = (code: string, conditions: readonly string[] = []): string[] => [
  ...conditions.map((c) => `--conditions=${c}`),
  '--input-type=module',
  '-e',
  code
]

describe("the package's exports", () => {
  let dir: string

  beforeAll(() => {
    for (const built of ['dist/index.js', 'dist/index.mjs', 'dist/browser/rx-msrp.mjs', 'dist/browser.d.ts']) {
      if (!fs.existsSync(path.join(ROOT, built))) throw new Error(`${built} is missing: run npm run build first`)
    }
    dir = tempDir('rx-msrp-exports-')
    fs.mkdirSync(path.join(dir, 'node_modules'))
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'rx-msrp'), 'dir')
  })

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('points every condition at a file the build writes, types first', () => {
    type Target = string | { readonly [condition: string]: Target }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, Target>
    }
    const targets: string[] = []
    const walk = (t: Target): void => {
      if (typeof t === 'string') return void targets.push(t)
      const conditions = Object.keys(t)
      for (const c of conditions) expect(c).toMatch(/^(browser|import|default|types)$/)
      // TypeScript takes the first condition that matches: `types` must come before `default`.
      if (conditions.includes('types')) expect(conditions[0]).toBe('types')
      Object.values(t).forEach(walk)
    }
    Object.values(pkg.exports).forEach(walk)
    expect(targets.filter((t) => t.endsWith('.d.mts') || t.endsWith('.d.ts'))).toHaveLength(4)
    for (const target of targets) expect(fs.existsSync(path.join(ROOT, target))).toBe(true)
    // Bundlers set browser and import together: browser must come first to win.
    expect(Object.keys(pkg.exports['.'] as object)).toEqual(['browser', 'import', 'default'])
  })

  it('require("rx-msrp") loads the CommonJS build, with the Node transports', async () => {
    const out = await node(dir, [
      '-e',
      "const m = require('rx-msrp'); console.log(JSON.stringify([require.resolve('rx-msrp'), typeof m.MsrpEndpoint, typeof m.dial, typeof m.connectTcp]))"
    ])
    expect(JSON.parse(out)).toEqual([path.join(ROOT, 'dist/index.js'), 'function', 'function', 'function'])
  })

  it('import "rx-msrp" in Node loads the ES module wrapper: every CommonJS export, the same instances', async () => {
    const out = await node(
      dir,
      esm(`
        import { createRequire } from 'node:module'
        import * as m from 'rx-msrp'
        const cjs = createRequire(import.meta.url)('rx-msrp')
        const missing = Object.keys(cjs).filter((k) => k !== '__esModule' && !(k in m))
        console.log(JSON.stringify([import.meta.resolve('rx-msrp'), missing, m.MsrpEndpoint === cjs.MsrpEndpoint]))
      `)
    )
    const [resolved, missing, same] = JSON.parse(out) as [string, string[], boolean]
    expect(resolved).toBe(`file://${path.join(ROOT, 'dist/index.mjs')}`)
    expect(missing).toEqual([])
    expect(same).toBe(true)
  })

  it('the browser condition and rx-msrp/browser load the browser bundle, without the Node endpoint', async () => {
    const probe = (specifier: string): string => `
      const m = await import('${specifier}')
      console.log(JSON.stringify([import.meta.resolve('${specifier}'), typeof m.BrowserEndpoint,
        typeof m.connectBrowserWebSocket, typeof m.MsrpEndpoint, typeof m.dial, typeof m.connectTcp]))
    `
    const bundle = `file://${path.join(ROOT, 'dist/browser/rx-msrp.mjs')}`
    const expected = [bundle, 'function', 'function', 'undefined', 'undefined', 'undefined']
    expect(JSON.parse(await node(dir, esm(probe('rx-msrp'), ['browser'])))).toEqual(expected)
    expect(JSON.parse(await node(dir, esm(probe('rx-msrp/browser'))))).toEqual(expected)
  })

  it('keeps the build private: a deep import is refused', async () => {
    await expect(node(dir, ['-e', "require('rx-msrp/dist/session/dial.js')"])).rejects.toThrow(
      /ERR_PACKAGE_PATH_NOT_EXPORTED/
    )
  })

  it("types the browser entry for a bundler's page, and docs/browser.md's page, without Node's types", async () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/browser.md'), 'utf8')
    const snippet = /<!-- checked: spec\/browser-bundle\/exports\.spec\.ts -->\n```ts\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(snippet).toContain('new BrowserEndpoint(')
    fs.writeFileSync(path.join(dir, 'snippet.ts'), snippet ?? '')
    fs.writeFileSync(
      path.join(dir, 'page.ts'),
      [
        "import { BrowserEndpoint, newWebSocketClientUri } from 'rx-msrp'",
        'declare const file: File',
        'const endpoint = new BrowserEndpoint({ dial: { wsPath: "/msrp" } })',
        'const session = endpoint.createSession(newWebSocketClientUri())',
        'session.send(file).subscribe()',
        'session.messages$.subscribe(async (m) => { const b: Blob = await m.collectBlob(); void b })',
        '// @ts-expect-error the Node endpoint is not in the browser entry',
        "export { MsrpEndpoint } from 'rx-msrp'"
      ].join('\n')
    )
    const options = {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'bundler',
      customConditions: ['browser'],
      lib: ['ES2022', 'DOM'],
      types: [],
      strict: true,
      noEmit: true
    }
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: options, files: ['page.ts', 'snippet.ts'] })
    )
    await expect(node(dir, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir])).resolves.toBe('')
  }, 120_000)

  it('types Node: import (ES module, node16 resolution) and require (CommonJS) see the Node entry', async () => {
    const node16 = path.join(dir, 'node16')
    fs.mkdirSync(node16)
    fs.writeFileSync(
      path.join(node16, 'esm.mts'),
      [
        "import { MsrpEndpoint, dial } from 'rx-msrp'",
        "const endpoint: MsrpEndpoint = new MsrpEndpoint({ dial: { wsPath: '/' } })",
        'void endpoint, dial',
        '// The browser endpoint is in the Node entry too: Node 22 has a global WebSocket.',
        "export { BrowserEndpoint } from 'rx-msrp'"
      ].join('\n')
    )
    fs.writeFileSync(
      path.join(node16, 'cjs.cts'),
      "import rx = require('rx-msrp')\nexport const endpoint: rx.MsrpEndpoint = new rx.MsrpEndpoint()\n"
    )
    const options = {
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules/@types')],
      strict: true,
      noEmit: true,
      skipLibCheck: true
    }
    fs.writeFileSync(
      path.join(node16, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: options, files: ['esm.mts', 'cjs.cts'] })
    )
    fs.symlinkSync(path.join(dir, 'node_modules'), path.join(node16, 'node_modules'), 'dir')
    await expect(node(node16, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', node16])).resolves.toBe('')
  }, 120_000)
})
