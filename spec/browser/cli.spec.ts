/**
 * The demo web chat with the command line as its peer: `rx-msrp listen --relay` receives what the page sends, and
 * `rx-msrp send --relay` writes to the page, both through the relay's TLS listener (docs/demo.md).
 */
import type { Page } from 'playwright-core'
import { listen } from '../../src/cli/listen'
import { send } from '../../src/cli/send'
import { newSessionId } from '../../src/wire/ids'
import { buildBundle, capture, launchBrowser, logIn, startRelay, type Browser, type DemoRelay } from './harness'

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

const noInput = (): AsyncIterable<Uint8Array> => (async function* () {})()
const account = (): string[] => ['--user', relay.username, '--password', relay.password, '--ca', relay.certPath]

describe('the demo chat and the command line', () => {
  let page: Page
  let errors: string[]
  beforeEach(async () => ({ page, errors } = await browser.newTab()))
  afterEach(() => page.close())

  it('sends text from the page to `rx-msrp listen --relay`, pasting the path it printed', async () => {
    const stdout = capture()
    const stderr = capture()
    const controller = new AbortController()
    const exit = listen(
      ['--relay', relay.tlsUri, ...account(), '--json'],
      { stdin: noInput(), stdout: stdout.stream, stderr: stderr.stream },
      { signal: controller.signal }
    )
    try {
      const ended = exit.then((code) => Promise.reject(new Error(`listen exited ${code}: ${stderr.text()}`)))
      const ready = JSON.parse(await Promise.race([stdout.line((l) => l.includes('"ready"')), ended])) as {
        path: string
      }
      await logIn(page, relay)
      await page.getByLabel('To path').fill(ready.path)
      await page.getByRole('button', { name: 'Connect' }).click()
      await page.locator('#state[data-state="chatting"]').waitFor()
      await page.getByLabel('Message', { exact: true }).fill('hello, command line')
      await page.getByRole('button', { name: 'Send', exact: true }).click()
      const line = await Promise.race([stdout.line((l) => l.includes('"message"')), ended])
      expect(JSON.parse(line)).toMatchObject({ event: 'message', text: 'hello, command line' })
      expect(errors).toEqual([])
    } finally {
      controller.abort()
      expect(await exit).toBe(0)
    }
  })

  it('shows text that `rx-msrp send --relay` sent to the path the page shows', async () => {
    const pagePath = await logIn(page, relay)
    const stdout = capture()
    const stderr = capture()
    const code = await send(
      [
        '--relay',
        relay.tlsUri,
        ...account(),
        '--from',
        `msrps://127.0.0.1:2855/${newSessionId()};tcp`,
        '--to-path',
        pagePath,
        '--text',
        'hello, page'
      ],
      { stdin: noInput(), stdout: stdout.stream, stderr: stderr.stream }
    )
    expect([code, stderr.text()]).toEqual([0, ''])
    await page.locator('#messages li[data-from="peer"] .text').filter({ hasText: 'hello, page' }).waitFor()
    expect(errors).toEqual([])
  })
})
