/**
 * Starts Kamailio (Debian's `kamailio` with `kamailio-websocket-modules`) as an MSRP relay on 127.0.0.1 for the
 * interop tests: the config template spec/interop/kamailio/kamailio.cfg filled with free ports, a temporary run
 * directory (pid file, control socket) and one test account; in the foreground (`-DD -E`), as user kamailio when
 * run as root, and stopped with its whole process group. Facts about Kamailio: ../shared/interop/kamailio.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { certificates } from '../transport/helpers'

/** Where Debian installs the binary. */
export const KAMAILIO_BINARY = '/usr/sbin/kamailio'
/** How long Kamailio may take to listen on both ports. */
export const KAMAILIO_START_TIMEOUT_MS = 20_000
/** How long Kamailio may take to exit after SIGTERM before it gets SIGKILL. */
export const KAMAILIO_STOP_TIMEOUT_MS = 10_000
/** Pause between two probes of the listening ports. */
export const KAMAILIO_PROBE_INTERVAL_MS = 100
/** Kamailio's log kept in memory for failure messages (the last bytes only). */
export const KAMAILIO_LOG_BYTES = 64 * 1024
/** Bounds of Expires the relay accepts, seconds: small, so that refresh and 423 can be tested in a few seconds. */
export const KAMAILIO_MIN_EXPIRES_SEC = 2
export const KAMAILIO_MAX_EXPIRES_SEC = 600

export const KAMAILIO_ACCOUNT = { username: 'rxtest', password: 'Rx-MSRP-interop-4976' } as const
export const KAMAILIO_REALM = 'rx-msrp.test'

export interface KamailioRelay {
  /** The relay's URI for raw MSRP AUTH over TCP, e.g. `msrp://127.0.0.1:40123;tcp`. */
  readonly tcpUri: string
  /** The relay's URI for AUTH over WebSocket (RFC 7977), e.g. `msrp://127.0.0.1:40124;ws`. */
  readonly wsUri: string
  /** The relay's URI for AUTH over TLS, e.g. `msrps://127.0.0.1:40125;tcp`. */
  readonly tlsUri: string
  /** The relay's URI for AUTH over secure WebSocket, e.g. `msrps://127.0.0.1:40126;ws`. */
  readonly wssUri: string
  readonly tcpPort: number
  readonly wsPort: number
  readonly tlsPort: number
  readonly wssPort: number
  /** The relay's self-signed certificate (PEM, SAN IP:127.0.0.1), to trust as CA when dialing TLS and WSS. */
  readonly ca: string
  /** What Kamailio has logged so far (the last {@link KAMAILIO_LOG_BYTES}). */
  log(): string
  /** Stops Kamailio (SIGTERM, then SIGKILL after {@link KAMAILIO_STOP_TIMEOUT_MS}) and removes its run directory. */
  stop(): Promise<void>
}

const TEMPLATE = join(__dirname, 'kamailio', 'kamailio.cfg')

/** A port free right now on 127.0.0.1 (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Whether `p` settles within `ms` (the timer is cleared either way, so it keeps nothing alive). */
function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  return Promise.race([p.then(() => true), timeout]).finally(() => clearTimeout(timer))
}

const hasKamailioUser = (): boolean => {
  try {
    return /^kamailio:/m.test(readFileSync('/etc/passwd', 'utf8'))
  } catch {
    return false
  }
}

/** Starts Kamailio; rejects with a message that says what to do when it is not installed or does not start. */
export async function startKamailio(): Promise<KamailioRelay> {
  if (!existsSync(KAMAILIO_BINARY))
    throw new Error(
      `Kamailio is not installed (${KAMAILIO_BINARY} missing): the interop tests need it. ` +
        'Install it with `apt-get install -y kamailio kamailio-websocket-modules kamailio-tls-modules` (.ci/run does).'
    )
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()]
  const [tcpPort, wsPort, tlsPort, wssPort] = ports as [number, number, number, number]
  const dir = mkdtempSync(join(tmpdir(), 'rx-msrp-kamailio-'))
  chmodSync(dir, 0o777) // Kamailio runs as user kamailio and makes its control socket here
  const { server } = certificates()
  writeFileSync(join(dir, 'cert.pem'), server.cert, { mode: 0o644 })
  writeFileSync(join(dir, 'key.pem'), server.key, { mode: 0o644 }) // a throwaway test key, readable by kamailio
  const values: Record<string, string> = {
    TCP_PORT: String(tcpPort),
    WS_PORT: String(wsPort),
    TLS_PORT: String(tlsPort),
    WSS_PORT: String(wssPort),
    RUN_DIR: dir,
    REALM: KAMAILIO_REALM,
    USER: KAMAILIO_ACCOUNT.username,
    PASSWORD: KAMAILIO_ACCOUNT.password,
    MIN_EXPIRES: String(KAMAILIO_MIN_EXPIRES_SEC),
    MAX_EXPIRES: String(KAMAILIO_MAX_EXPIRES_SEC),
    LOG_PREFIX: 'kamailio: '
  }
  const cfg = readFileSync(TEMPLATE, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const v = values[name]
    if (v === undefined) throw new Error(`kamailio.cfg: unknown placeholder ${whole}`)
    return v
  })
  const cfgPath = join(dir, 'kamailio.cfg')
  writeFileSync(cfgPath, cfg, { mode: 0o644 })
  const asUser = process.getuid?.() === 0 && hasKamailioUser() ? ['-u', 'kamailio', '-g', 'kamailio'] : []
  const args = ['-DD', '-E', '-f', cfgPath, '-P', join(dir, 'kamailio.pid'), '-Y', dir, ...asUser]
  const child = spawn(KAMAILIO_BINARY, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-KAMAILIO_LOG_BYTES)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited: number | string | null | undefined
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal
      resolve()
    })
  )
  child.once('error', (e) => keep(Buffer.from(`spawn failed: ${e.message}\n`)))

  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      kill(child, 'SIGTERM')
      if (!(await within(exit, KAMAILIO_STOP_TIMEOUT_MS))) {
        kill(child, 'SIGKILL')
        await within(exit, KAMAILIO_STOP_TIMEOUT_MS)
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }

  const deadline = Date.now() + KAMAILIO_START_TIMEOUT_MS
  for (;;) {
    if (exited !== undefined) {
      await stop()
      throw new Error(`Kamailio exited (${String(exited)}) before listening:\n${log}`)
    }
    if ((await accepts(tcpPort)) && (await accepts(wsPort))) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(
        `Kamailio did not listen on ${tcpPort} and ${wsPort} within ${KAMAILIO_START_TIMEOUT_MS} ms:\n${log}`
      )
    }
    await sleep(KAMAILIO_PROBE_INTERVAL_MS)
  }
  return {
    tcpUri: `msrp://127.0.0.1:${tcpPort};tcp`,
    wsUri: `msrp://127.0.0.1:${wsPort};ws`,
    tlsUri: `msrps://127.0.0.1:${tlsPort};tcp`,
    wssUri: `msrps://127.0.0.1:${wssPort};ws`,
    tcpPort,
    wsPort,
    tlsPort,
    wssPort,
    ca: server.cert,
    log: () => log,
    stop
  }
}

/** Signals Kamailio's process group (it forks its workers), which this harness started. */
function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}
