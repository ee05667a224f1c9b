/**
 * What the browser specs share: a fresh browser bundle of src/browser.ts, `rx-msrp relay --demo` in-process on
 * loopback ports, headless Chromium (Debian's `chromium`, driven by playwright-core) and a Node MSRP endpoint
 * registered at the relay over TLS.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { relay, type RelayOutput } from '../../src/cli/relay'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { RelayRegistration } from '../../src/session/relay-client'
import type { MsrpSession } from '../../src/session/session'
import { newSessionId } from '../../src/wire/ids'

export const ROOT = resolve(__dirname, '..', '..')
/** Screenshots and the test bundle go here (gitignored). */
export const TMP = join(ROOT, '.tmp', 'browser-spec')

/** Debian's chromium, which `.ci/run` installs. */
export const CHROMIUM = '/usr/bin/chromium'

/** The flags of issue 5: headless, no sandbox (containers), nothing reaching out to the network. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]

/** Builds src/browser.ts into an ES module as `npm run build:browser` does, so the specs test the current source. */
export async function buildBundle(): Promise<string> {
  mkdirSync(TMP, { recursive: true })
  const outfile = join(TMP, 'rx-msrp.mjs')
  await build({
    entryPoints: [join(ROOT, 'src', 'browser.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    logLevel: 'silent'
  })
  return outfile
}

import { capture } from '../helpers/capture'
export { capture }

/** A running relay: what it printed at start, and how to stop it. */
export interface DemoRelay {
  /** The page's URL (`demo https://127.0.0.1:PORT/`). */
  readonly url: string
  /** The WSS port (the page's origin). */
  readonly wssPort: number
  /** The relay's TLS URI (`msrps://127.0.0.1:PORT;tcp`), for Node clients. */
  readonly tlsUri: string
  readonly username: string
  readonly password: string
  /** The generated certificate (PEM), for Node clients to trust, and its file. */
  readonly ca: Buffer
  readonly certPath: string
  /** Stops the relay; resolves with its exit status. */
  stop(): Promise<number>
}

/** Options of {@link startRelay}. */
export interface StartRelayOptions {
  /** The WSS port; default 0 (any free port). */
  readonly wssPort?: number
  /** Pass `--demo`; default true. Without it, the page is served because no user is configured (the demo user). */
  readonly demoFlag?: boolean
}

/**
 * Runs `rx-msrp relay --demo --json` in-process with TLS and WSS listeners on loopback, the demo user, and the page
 * served with `bundlePath`; resolves once the user line (the last start line) is printed.
 */
export async function startRelay(bundlePath: string, options: StartRelayOptions = {}): Promise<DemoRelay> {
  const stdout = capture()
  const stderr = capture()
  const log = capture()
  const controller = new AbortController()
  const args = ['--tls', '127.0.0.1:0', '--wss', `127.0.0.1:${options.wssPort ?? 0}`, '--json']
  if (options.demoFlag !== false) args.push('--demo')
  const exit = relay(
    args,
    { stdin: (async function* () {})(), stdout: stdout.stream, stderr: stderr.stream },
    { signal: controller.signal, log: log.stream, demo: { bundlePath } }
  )
  const output = (event: RelayOutput['event'], test: (o: RelayOutput) => boolean = () => true): Promise<RelayOutput> =>
    Promise.race([
      stdout
        .line((l) => {
          const o = JSON.parse(l) as RelayOutput
          return o.event === event && test(o)
        })
        .then((l) => JSON.parse(l) as RelayOutput),
      exit.then((code) =>
        Promise.reject(new Error(`the relay exited ${code} before its ${event} line: ${stderr.text()}`))
      )
    ])
  const user = await output('user')
  const demo = await output('demo')
  const tls = await output('listening', (o) => o.event === 'listening' && o.uri.endsWith(';tcp'))
  const certificate = await output('certificate')
  if (
    user.event !== 'user' ||
    demo.event !== 'demo' ||
    tls.event !== 'listening' ||
    certificate.event !== 'certificate'
  )
    throw new Error('unexpected relay output')
  return {
    url: demo.url,
    wssPort: Number(new URL(demo.url).port),
    tlsUri: tls.uri,
    username: user.name,
    password: user.password,
    ca: readFileSync(certificate.path),
    certPath: certificate.path,
    stop: () => {
      controller.abort()
      return exit
    }
  }
}

/** A headless Chromium with a fresh profile that accepts the relay's self-signed certificate. */
export interface Browser {
  readonly context: BrowserContext
  /** A new tab, with the page's console errors and uncaught exceptions collected in `errors`. */
  newTab(): Promise<{ page: Page; errors: string[] }>
  close(): Promise<void>
}

/** Launches Debian's chromium; fails (never skips) with a clear message when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser specs need Debian's chromium (apt-get install chromium; .ci/run installs it)`
    )
  }
  const profile = mkdtempSync(join(tmpdir(), 'rx-msrp-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    ignoreHTTPSErrors: true, // the relay's certificate is self-signed
    acceptDownloads: true,
    timeout: 20_000
  })
  return {
    context,
    newTab: async () => {
      const page = await context.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text())
      })
      return { page, errors }
    },
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** Opens the page and logs in with the relay's demo user; resolves once it shows its path. */
export async function logIn(page: Page, relay: DemoRelay): Promise<string> {
  await page.goto(relay.url)
  await page.getByLabel('User').fill(relay.username)
  await page.getByLabel('Password').fill(relay.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.locator('#state[data-state="connected"]').waitFor()
  return (await page.locator('#my-path').textContent()) ?? ''
}

/** A Node endpoint's session, registered at the relay over TLS (RFC 4976 AUTH), trusting its certificate. */
export interface NodePeer {
  readonly endpoint: MsrpEndpoint
  readonly session: MsrpSession
  readonly registration: RelayRegistration
}

export async function nodePeer(relay: DemoRelay): Promise<NodePeer> {
  const endpoint = new MsrpEndpoint({ dial: { ca: relay.ca } })
  const session = endpoint.createSession(`msrps://127.0.0.1:2855/${newSessionId()};tcp`)
  const registration = await endpoint.authenticate(session, relay.tlsUri, {
    username: relay.username,
    password: relay.password
  })
  return { endpoint, session, registration }
}
