// Kamailio's msrp module as a relay for bench/relay.js, started the way spec/interop/kamailio.ts starts it for the
// interop tests: a config template with {{PLACEHOLDERS}} filled with free loopback ports, a temporary run directory
// (pid file, control socket, a throwaway self-signed certificate for its TLS listeners), one account, in the
// foreground (-DD -E), as user kamailio when run as root, stopped with its whole process group.
// Two templates: `logging: true` renders the interop template itself (spec/interop/kamailio/kamailio.cfg, debug=2 to
// stderr); `logging: false` renders bench/kamailio.cfg, the same file with its log level lowered to errors only
// (that template has no switch for it). Facts about Kamailio: ../shared/interop/kamailio.md.
'use strict'
const net = require('node:net')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { selfSignedCertificate } = require('../dist/relay/certificate')

const KAMAILIO_BINARY = '/usr/sbin/kamailio'
const START_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 10_000
const PROBE_INTERVAL_MS = 100
const LOG_BYTES = 64 * 1024
const ACCOUNT = { username: 'rxbench', password: 'Rx-MSRP-bench-4976' }
const REALM = 'rx-msrp.bench'
const TEMPLATES = {
  logging: path.join(__dirname, '..', 'spec', 'interop', 'kamailio', 'kamailio.cfg'),
  quiet: path.join(__dirname, 'kamailio.cfg')
}

const installed = () => fs.existsSync(KAMAILIO_BINARY)

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function within(promise, ms) {
  let timer
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer))
}

const hasKamailioUser = () => {
  try {
    return /^kamailio:/m.test(fs.readFileSync('/etc/passwd', 'utf8'))
  } catch {
    return false
  }
}

/**
 * Starts Kamailio; resolves with { tcpPort, tcpUri, account, pids(), log(), stop() }. `logging` picks the
 * template (see above).
 */
async function startKamailio({ logging }) {
  const [tcpPort, wsPort, tlsPort, wssPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-msrp-bench-kamailio-'))
  fs.chmodSync(dir, 0o777)
  const { cert, key } = selfSignedCertificate({ hosts: ['127.0.0.1'] })
  fs.writeFileSync(path.join(dir, 'cert.pem'), cert, { mode: 0o644 })
  fs.writeFileSync(path.join(dir, 'key.pem'), key, { mode: 0o644 }) // throwaway, readable by user kamailio
  const values = {
    TCP_PORT: String(tcpPort),
    WS_PORT: String(wsPort),
    TLS_PORT: String(tlsPort),
    WSS_PORT: String(wssPort),
    RUN_DIR: dir,
    REALM,
    USER: ACCOUNT.username,
    PASSWORD: ACCOUNT.password,
    MIN_EXPIRES: '60',
    MAX_EXPIRES: '600',
    LOG_PREFIX: 'kamailio: '
  }
  const template = fs.readFileSync(logging ? TEMPLATES.logging : TEMPLATES.quiet, 'utf8')
  const cfg = template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name) => {
    if (values[name] === undefined) throw new Error(`kamailio.cfg: unknown placeholder ${whole}`)
    return values[name]
  })
  const cfgPath = path.join(dir, 'kamailio.cfg')
  fs.writeFileSync(cfgPath, cfg, { mode: 0o644 })
  const asUser = process.getuid?.() === 0 && hasKamailioUser() ? ['-u', 'kamailio', '-g', 'kamailio'] : []
  const args = ['-DD', '-E', '-f', cfgPath, '-P', path.join(dir, 'kamailio.pid'), '-Y', dir, ...asUser]
  const child = spawn(KAMAILIO_BINARY, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  let logged = 0
  const keep = (chunk) => {
    logged += chunk.length
    log = (log + chunk.toString('utf8')).slice(-LOG_BYTES)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => ((exited = code ?? signal), resolve())))
  child.once('error', (e) => keep(Buffer.from(`spawn failed: ${e.message}\n`)))
  const signal = (name) => {
    try {
      process.kill(-child.pid, name)
    } catch {
      // already gone
    }
  }
  const stop = async () => {
    if (exited === undefined) {
      signal('SIGTERM')
      if (!(await within(exit, STOP_TIMEOUT_MS))) {
        signal('SIGKILL')
        await within(exit, STOP_TIMEOUT_MS)
      }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (exited !== undefined) {
      await stop()
      throw new Error(`Kamailio exited (${exited}) before listening:\n${log}`)
    }
    if ((await accepts(tcpPort)) && (await accepts(wsPort))) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`Kamailio did not listen within ${START_TIMEOUT_MS} ms:\n${log}`)
    }
    await sleep(PROBE_INTERVAL_MS)
  }
  return {
    tcpPort,
    tcpUri: `msrp://127.0.0.1:${tcpPort};tcp`,
    account: ACCOUNT,
    /** Every process of Kamailio's group (it forks its workers), for CPU and RSS figures. */
    pids: () => processGroup(child.pid),
    /** Bytes Kamailio has written to stdout and stderr so far. */
    loggedBytes: () => logged,
    log: () => log,
    stop
  }
}

/** Pids whose process group is `pgid` (Linux /proc). */
function processGroup(pgid) {
  const pids = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pgid) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

/** CPU seconds (user + system) used so far by `pids` (Linux /proc, clock ticks of 100 Hz). */
function cpuSeconds(pids) {
  let ticks = 0
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100
}

module.exports = { installed, startKamailio, cpuSeconds, KAMAILIO_BINARY }
