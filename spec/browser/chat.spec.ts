/**
 * The demo web chat in headless Chromium: page ↔ relay (WSS) ↔ Node endpoint over TLS, and two tabs chatting through
 * the relay (docs/demo.md).
 */
import { firstValueFrom, filter, lastValueFrom } from 'rxjs'
import type { Page } from 'playwright-core'
import { buildBundle, launchBrowser, logIn, nodePeer, startRelay, type Browser, type DemoRelay } from './harness'

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

/** Connects the page to a peer's path with the "To path" form. */
async function connectTo(page: Page, path: string): Promise<void> {
  await page.getByLabel('To path').fill(path)
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.locator('#state[data-state="chatting"]').waitFor()
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByLabel('Message', { exact: true }).press('Enter') // keyboard: Enter submits
}

const peerLines = (page: Page) => page.locator('#messages li[data-from="peer"] .text')

describe('the demo chat in a browser', () => {
  it('carries text from the page to a Node endpoint authenticated at the relay over TLS, and back', async () => {
    const node = await nodePeer(relay)
    const { page, errors } = await browser.newTab()
    try {
      const pagePath = await logIn(page, relay)
      const fromPage = firstValueFrom(node.session.messages$.pipe(filter((m) => m.contentType.startsWith('text/'))))
      await connectTo(page, node.registration.path.join(' '))
      await say(page, 'Grüße from the page')
      const message = await fromPage
      expect(Buffer.from(await message.collect()).toString('utf8')).toBe('Grüße from the page')
      await page.locator('#messages li[data-from="me"][data-status="delivered"]').waitFor()

      await node.endpoint.connect(node.session, pagePath.split(' '))
      await lastValueFrom(node.session.send('Hello from Node'))
      await peerLines(page).filter({ hasText: 'Hello from Node' }).waitFor()
      expect(await peerLines(page).allTextContents()).toEqual(['Hello from Node'])
      expect(errors).toEqual([])
    } finally {
      node.endpoint.close()
      await page.close()
    }
  })

  it('lets two tabs chat: the second connects to the first, which answers on the path the message came from', async () => {
    const a = await browser.newTab()
    const b = await browser.newTab()
    try {
      const pathA = await logIn(a.page, relay)
      await logIn(b.page, relay)
      await connectTo(b.page, pathA)
      await say(b.page, 'hello A')
      await peerLines(a.page).filter({ hasText: 'hello A' }).waitFor()
      // Tab A learnt B's path from the message's From-Path and answers without pasting anything.
      await a.page.locator('#state[data-state="chatting"]').waitFor()
      expect(await a.page.getByLabel('To path').inputValue()).toBe(await b.page.locator('#my-path').textContent())
      await say(a.page, 'hello B')
      await peerLines(b.page).filter({ hasText: 'hello B' }).waitFor()
      expect(await peerLines(a.page).allTextContents()).toEqual(['hello A'])
      expect(await peerLines(b.page).allTextContents()).toEqual(['hello B'])
      expect([...a.errors, ...b.errors]).toEqual([])
    } finally {
      await a.page.close()
      await b.page.close()
    }
  })
})
