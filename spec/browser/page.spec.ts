/**
 * The demo web chat as served by `rx-msrp relay --demo` (src/relay/demo, docs/demo.md): what the HTTPS server answers,
 * and the page rendered by headless Chromium (screenshot in .tmp/browser-spec/).
 */
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { relay as runRelay } from '../../src/cli/relay'
import { PNG_SIGNATURE, pngSize } from './png'
import { buildBundle, launchBrowser, logIn, startRelay, TMP, type Browser, type DemoRelay } from './harness'

let relay: DemoRelay
let browser: Browser

beforeAll(async () => {
  relay = await startRelay(await buildBundle())
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

describe('the demo page served on the WSS port', () => {
  it('serves the page, its style, script and the bundle with their types, no-store and a strict CSP; 404 otherwise', async () => {
    const tab = await browser.newTab()
    try {
      const expected: Record<string, string> = {
        '': 'text/html; charset=utf-8',
        'chat.css': 'text/css; charset=utf-8',
        'chat.js': 'text/javascript; charset=utf-8',
        'rx-msrp.mjs': 'text/javascript; charset=utf-8'
      }
      for (const [path, type] of Object.entries(expected)) {
        const response = await tab.page.request.get(relay.url + path)
        expect([path, response.status()]).toEqual([path, 200])
        const headers = response.headers()
        expect([path, headers['content-type']]).toEqual([path, type])
        expect(headers['cache-control']).toBe('no-store')
        expect(headers['content-security-policy']).toContain("default-src 'none'")
        expect(headers['content-security-policy']).toContain("script-src 'self'")
      }
      for (const path of ['nope', 'chat.js.map', '../package.json', 'index.html/x', '%2e%2e/package.json']) {
        expect([path, (await tab.page.request.get(relay.url + path)).status()]).toEqual([path, 404])
      }
      expect((await tab.page.request.post(relay.url, { data: 'x' })).status()).toBe(405)
    } finally {
      await tab.page.close()
    }
  })

  it('renders its main elements, logs in with the demo user and shows the msrps path (screenshot)', async () => {
    const { page, errors } = await browser.newTab()
    try {
      await page.setViewportSize({ width: 900, height: 1000 })
      await page.goto(relay.url)
      await expectVisible(page, [
        ['heading', 'rx-msrp demo chat'],
        ['textbox', 'User'],
        ['textbox', 'Password'],
        ['button', 'Log in'],
        ['textbox', 'To path'],
        ['textbox', 'Message'],
        ['button', 'Send'],
        ['log', 'Messages']
      ])
      expect(await page.getByLabel('Send a file').isVisible()).toBe(true)
      expect(await page.locator('#state').getAttribute('aria-live')).toBe('polite')
      expect(await page.getByLabel('User').inputValue()).toBe('') // prefilled with nothing

      const path = await logIn(page, relay)
      // A WebSocket client's path: the relay's TLS URI from Use-Path, then its own .invalid URI (RFC 7977 §5.2).
      expect(path).toMatch(/^msrps:\/\/127\.0\.0\.1:[0-9]+\/\S+;tcp msrps:\/\/\S+\.invalid:2855\/\S+;ws$/)
      expect(await page.locator('#state').textContent()).toContain('Connected to the relay as demo')
      expect(await page.getByRole('button', { name: 'Copy' }).isEnabled()).toBe(true)

      const file = join(TMP, 'demo-page.png')
      const png = await page.screenshot({ path: file, fullPage: true })
      expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE)
      expect(pngSize(png).width).toBe(900)
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })
})

describe('rx-msrp relay and the demo page', () => {
  it('serves the page without --demo when no user is configured (the embedded default), printing its URL', async () => {
    const plain = await startRelay(join(TMP, 'rx-msrp.mjs'), { demoFlag: false })
    try {
      expect(plain.url).toMatch(/^https:\/\/127\.0\.0\.1:[1-9][0-9]*\/$/)
      const tab = await browser.newTab()
      const response = await tab.page.request.get(plain.url)
      expect(response.status()).toBe(200)
      expect(await response.text()).toContain('<title>rx-msrp demo chat</title>')
      await tab.page.close()
    } finally {
      await plain.stop()
    }
  })

  it('refuses --demo without a WSS listener: exit 1, naming what is missing', async () => {
    const stderr = new PassThrough()
    let text = ''
    stderr.on('data', (d: Buffer) => (text += d.toString()))
    const code = await runRelay(['--tcp', '127.0.0.1:0', '--demo'], {
      stdin: (async function* () {})(),
      stdout: new PassThrough(),
      stderr
    })
    expect(code).toBe(1)
    expect(text).toContain('rx-msrp relay: --demo needs a WSS listener (--wss HOST:PORT)')
  })
})

async function expectVisible(
  page: import('playwright-core').Page,
  elements: readonly (readonly [Parameters<import('playwright-core').Page['getByRole']>[0], string])[]
): Promise<void> {
  const seen = await Promise.all(
    elements.map(async ([role, name]) => [role, name, await page.getByRole(role, { name, exact: true }).isVisible()])
  )
  expect(seen).toEqual(elements.map(([role, name]) => [role, name, true]))
}
