/**
 * The demo web chat when its relay goes away: the page says so, and logs in again once the relay is back on the same
 * port (docs/demo.md).
 */
import { buildBundle, launchBrowser, logIn, startRelay, type Browser, type DemoRelay } from './harness'

let bundle: string
let browser: Browser
const relays: DemoRelay[] = []

beforeAll(async () => {
  bundle = await buildBundle()
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  for (const r of relays) await r.stop()
})

describe('a relay restart seen from the demo page', () => {
  it('shows "Relay disconnected" when the relay stops, and logs in again after it restarts on the same port', async () => {
    const first = await startRelay(bundle)
    relays.push(first)
    const { page, errors } = await browser.newTab()
    try {
      const before = await logIn(page, first)
      expect(await first.stop()).toBe(0)

      const state = page.locator('#state[data-state="disconnected"]')
      await state.waitFor()
      expect(await state.textContent()).toMatch(/^Relay disconnected/)
      expect(await page.getByRole('button', { name: 'Log in' }).isEnabled()).toBe(true)
      expect(await page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true)
      expect(await page.locator('#messages li').last().textContent()).toBe('Relay disconnected')

      // Same origin (the WSS port), new relay, new demo password: the page needs no reload.
      const second = await startRelay(bundle, { wssPort: first.wssPort })
      relays.push(second)
      await page.getByLabel('User').fill(second.username)
      await page.getByLabel('Password').fill(second.password)
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.locator('#state[data-state="connected"]').waitFor()
      const after = (await page.locator('#my-path').textContent()) ?? ''
      expect(after).toMatch(/;ws$/)
      expect(after).not.toBe(before) // a new session at the new relay
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })
})
