// Layering rules (DESIGN.md "Layers"): each src/ folder imports only from the folders below it.
//   wire ◂ transport ◂ operators ◂ session ◂ relay ◂ cli   (sdp, cpim, config: pure, beside wire)
// A rule per layer lists what it must NOT import; `npm run layers` fails on any violation.
const layer = (name) => `^src/${name}/`
const forbidHigher = (name, higher) => ({
  name: `${name}-imports-higher-layer`,
  comment: `src/${name} must not import ${higher.join(', ')} (lower layers never depend on higher ones)`,
  severity: 'error',
  from: { path: layer(name) },
  to: { path: `^src/(${higher.join('|')})/` }
})

module.exports = {
  forbidden: [
    forbidHigher('wire', ['transport', 'operators', 'session', 'relay', 'sdp', 'cpim', 'config', 'cli']),
    forbidHigher('sdp', ['transport', 'operators', 'session', 'relay', 'config', 'cli']),
    forbidHigher('cpim', ['transport', 'operators', 'session', 'relay', 'sdp', 'config', 'cli']),
    forbidHigher('config', ['transport', 'operators', 'session', 'relay', 'cli']),
    forbidHigher('transport', ['operators', 'session', 'relay', 'sdp', 'cpim', 'config', 'cli']),
    forbidHigher('operators', ['session', 'relay', 'cli']),
    forbidHigher('session', ['relay', 'cli']),
    forbidHigher('relay', ['cli']),
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' }
    },
    {
      name: 'wire-is-pure',
      comment: 'src/wire runs in browsers: no node built-ins, no rxjs, no ws (only fp-ts and io-ts)',
      severity: 'error',
      from: { path: '^src/(wire|sdp|cpim)/' },
      to: { dependencyTypes: ['core'] }
    },
    {
      name: 'wire-no-rxjs',
      severity: 'error',
      from: { path: '^src/(wire|sdp|cpim|config)/' },
      to: { path: 'node_modules/(rxjs|ws)/' }
    },
    {
      name: 'browser-entry-no-node',
      comment:
        'src/browser.ts is the browser bundle: nothing it reaches may import a Node built-in or a Node-only package ' +
        '(ws, pino, prom-client); scripts/check-browser-bundle.js checks the built bundle too (docs/browser.md)',
      severity: 'error',
      from: { path: '^src/browser[.]ts$' },
      to: {
        reachable: true,
        path: [`^(node:)?(${require('node:module').builtinModules.join('|')})$`, 'node_modules/(ws|pino|prom-client)/']
      }
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
