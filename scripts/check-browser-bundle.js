#!/usr/bin/env node
/**
 * The guard of the browser entry (issue 5): reads an esbuild metafile of the browser bundle and lists every Node
 * built-in (`node:fs`, `net`, `tls`, `stream`, `buffer`, …) and every Node-only package (`ws`, `pino`,
 * `prom-client`, …) that the bundle imports, with the chain of imports from the entry that reaches it.
 *
 *   node scripts/check-browser-bundle.js [dist/browser/meta.json]   exits 1 and prints the chains if there are any
 *
 * scripts/build-browser.js builds with every Node built-in marked external, so that one that slips in shows up here
 * (an external import) instead of failing the build obscurely; a Node-only package that esbuild replaced by its
 * `browser` stub (`ws` throws "ws does not work in the browser") shows up as an input under node_modules.
 */
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { builtinModules } = require('node:module')

/** Packages that run only in Node (or pull Node in): none of them may be in the browser bundle. */
const NODE_ONLY_PACKAGES = [
  'ws',
  'pino',
  'pino-std-serializers',
  'thread-stream',
  'sonic-boom',
  'prom-client',
  'bufferutil',
  'utf-8-validate',
  'yaml'
]

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))

/** Every specifier esbuild should leave external, so that a Node built-in reaching the bundle is reported. */
function nodeExternals() {
  return [...BUILTINS]
}

/** `node:fs`, `fs`, `fs/promises`, `node:test` (node:-only built-ins are not all in builtinModules). */
function isBuiltin(specifier) {
  if (typeof specifier !== 'string') return false
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0])
}

/** The package a path under node_modules or a bare specifier belongs to (`@scope/name` or `name`), else undefined. */
function packageOf(p) {
  if (typeof p !== 'string') return undefined
  const i = p.lastIndexOf('node_modules/')
  const rest = i >= 0 ? p.slice(i + 'node_modules/'.length) : /^[@a-z0-9]/i.test(p) && !p.includes(':') ? p : ''
  if (rest === '' || rest.startsWith('.')) return undefined
  const parts = rest.split('/')
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
}

const isNodeOnly = (p) => NODE_ONLY_PACKAGES.includes(packageOf(p))

/**
 * The Node imports of a bundle: `[{ importer, module, chain }]`, empty when the bundle is clean. `chain` is the
 * shortest path of inputs from an entry point to the importer.
 */
function findNodeImports(metafile) {
  const inputs = metafile.inputs
  const entries = Object.values(metafile.outputs)
    .map((o) => o.entryPoint)
    .filter((e) => typeof e === 'string')
  // Breadth first from the entries: the parent of each input, for the chains.
  const parent = new Map(entries.map((e) => [e, undefined]))
  const queue = [...entries]
  for (let i = 0; i < queue.length; i++) {
    for (const imp of inputs[queue[i]]?.imports ?? []) {
      if (imp.external || parent.has(imp.path) || !(imp.path in inputs)) continue
      parent.set(imp.path, queue[i])
      queue.push(imp.path)
    }
  }
  const chainOf = (file) => {
    const chain = []
    for (let f = file; f !== undefined && chain.length <= queue.length; f = parent.get(f)) chain.unshift(f)
    return chain
  }
  const problems = []
  for (const [file, input] of Object.entries(inputs)) {
    if (isNodeOnly(file)) continue // reported where it is imported from
    for (const imp of input.imports) {
      const specifier = imp.original ?? imp.path
      if (
        isBuiltin(imp.path) ||
        isBuiltin(specifier) ||
        isNodeOnly(imp.path) ||
        (imp.external && isNodeOnly(specifier))
      ) {
        problems.push({ importer: file, module: specifier, chain: chainOf(file) })
      }
    }
  }
  return problems
}

/** One line per problem: `node:net  ← src/transport/tcp.ts ← src/session/dial.ts ← … ← src/browser.ts`. */
function formatProblems(problems) {
  return problems.map((p) => `${p.module}  ← ${[...p.chain].reverse().join(' ← ')}`).join('\n')
}

module.exports = { NODE_ONLY_PACKAGES, nodeExternals, isBuiltin, packageOf, findNodeImports, formatProblems }

if (require.main === module) {
  const file = process.argv[2] ?? path.join(__dirname, '..', 'dist', 'browser', 'meta.json')
  const problems = findNodeImports(JSON.parse(fs.readFileSync(file, 'utf8')))
  if (problems.length > 0) {
    process.stderr.write(`The browser bundle imports Node-only modules (${file}):\n${formatProblems(problems)}\n`)
    process.exit(1)
  }
  process.stdout.write(`browser bundle: no Node built-ins or Node-only packages (${file})\n`)
}
