/**
 * Files in the demo web chat, in headless Chromium: picked in the page and sent to a Node endpoint behind the relay
 * (TLS), sent by Node and downloaded from the page, both with equal sha256 and a progress bar that moved; a transfer
 * cancelled mid-way on either side (docs/demo.md).
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { firstValueFrom, filter, lastValueFrom } from 'rxjs'
import type { Page } from 'playwright-core'
import type { IncomingMessage } from '../../src/session/incoming'
import {
  buildBundle,
  launchBrowser,
  logIn,
  nodePeer,
  startRelay,
  TMP,
  type Browser,
  type DemoRelay,
  type NodePeer
} from './harness'

/** Size of the files sent both ways (issue 5: 50 MiB). */
const FILE_BYTES = 50 * 1024 * 1024
/** Bound of a test that moves 50 MiB (about 10 s on two busy cores), and of the page waits after such a transfer. */
const TRANSFER_TEST_MS = 180_000
const TRANSFER_WAIT = { timeout: 120_000 }

let relay: DemoRelay
let browser: Browser
let file: { path: string; sha256: string }

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

beforeAll(async () => {
  relay = await startRelay(await buildBundle())
  browser = await launchBrowser()
  const data = randomBytes(FILE_BYTES)
  const path = join(TMP, 'photo-ü.bin')
  writeFileSync(path, data)
  file = { path, sha256: sha256(data) }
})

afterAll(async () => {
  await browser?.close()
  await relay?.stop()
})

/** A page logged in and connected to a Node peer, and the peer connected back to the page (as SDP would do). */
async function pageWithPeer(): Promise<{ page: Page; errors: string[]; node: NodePeer }> {
  const node = await nodePeer(relay)
  const { page, errors } = await browser.newTab()
  const pagePath = await logIn(page, relay)
  await page.getByLabel('To path').fill(node.registration.path.join(' '))
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.locator('#state[data-state="chatting"]').waitFor()
  await node.endpoint.connect(node.session, pagePath.split(' '))
  return { page, errors, node }
}

const nextFile = (node: NodePeer): Promise<IncomingMessage> =>
  firstValueFrom(node.session.messages$.pipe(filter((m) => !m.contentType.startsWith('text/plain'))))

/** The progress bar of the transfer row (`out` or `in`): value, max, and how often it was updated. */
async function bar(page: Page, direction: 'in' | 'out'): Promise<{ value: number; max: number; updates: number }> {
  return page.locator(`#transfers li[data-direction="${direction}"] progress`).evaluate((p: HTMLProgressElement) => ({
    value: p.value,
    max: p.max,
    updates: Number(p.dataset.updates)
  }))
}

describe('files in the demo chat', () => {
  it(
    'sends a picked 50 MiB file from the page to a Node endpoint: same sha256, its name, progress up to the end',
    async () => {
      const { page, errors, node } = await pageWithPeer()
      try {
        const incoming = nextFile(node)
        await page.getByLabel('Send a file').setInputFiles(file.path)
        const message = await incoming
        expect(message.total).toBe(FILE_BYTES)
        const disposition = message.head.request.headers.find(([n]) => n === 'Content-Disposition')?.[1]
        expect(disposition).toContain("filename*=UTF-8''photo-%C3%BC.bin")
        const hash = createHash('sha256')
        for await (const part of message.body) hash.update(part)
        expect(hash.digest('hex')).toBe(file.sha256)
        expect(await message.outcome).toEqual({ type: 'complete', size: FILE_BYTES, duplicate: false })

        await page.locator('#transfers li[data-direction="out"][data-state="complete"]').waitFor(TRANSFER_WAIT)
        const progress = await bar(page, 'out')
        expect(progress.value).toBe(FILE_BYTES) // every byte acknowledged
        expect(progress.max).toBe(FILE_BYTES)
        expect(progress.updates).toBeGreaterThan(10) // it moved, chunk by chunk
        expect(errors).toEqual([])
      } finally {
        node.endpoint.close()
        await page.close()
      }
    },
    TRANSFER_TEST_MS
  )

  it('sends a file dropped on the drop zone, with its name and type', async () => {
    const { page, errors, node } = await pageWithPeer()
    try {
      const incoming = nextFile(node)
      const dataTransfer = await page.evaluateHandle(() => {
        const transfer = new DataTransfer()
        transfer.items.add(new File(['dropped bytes'], 'notes.csv', { type: 'text/csv' }))
        return transfer
      })
      await page.locator('#drop').dispatchEvent('drop', { dataTransfer })
      const message = await incoming
      expect(message.contentType).toBe('text/csv')
      expect(message.head.request.headers.find(([n]) => n === 'Content-Disposition')?.[1]).toContain(
        'filename="notes.csv"'
      )
      expect(Buffer.from(await message.collect()).toString()).toBe('dropped bytes')
      await page.locator('#transfers li[data-direction="out"][data-state="complete"]').waitFor()
      expect(await page.locator('#transfers li[data-direction="out"] .name').textContent()).toBe(
        'Sent notes.csv (13 B)'
      )
      expect(errors).toEqual([])
    } finally {
      node.endpoint.close()
      await page.close()
    }
  })

  it(
    'receives a 50 MiB file from a Node endpoint with progress, offered as a download with the same sha256',
    async () => {
      const { page, errors, node } = await pageWithPeer()
      try {
        const data = readFileSync(file.path)
        await lastValueFrom(
          node.session.send(data, {
            contentType: 'application/octet-stream',
            headers: [['Content-Disposition', 'attachment; filename="from-node.bin"']]
          }),
          { defaultValue: undefined }
        )
        const row = page.locator('#transfers li[data-direction="in"][data-state="complete"]')
        await row.waitFor(TRANSFER_WAIT)
        const progress = await bar(page, 'in')
        expect(progress).toMatchObject({ value: FILE_BYTES, max: FILE_BYTES })
        expect(progress.updates).toBeGreaterThan(10)

        const [download] = await Promise.all([
          page.waitForEvent('download'),
          row.getByRole('link', { name: 'Download from-node.bin' }).click()
        ])
        expect(download.suggestedFilename()).toBe('from-node.bin')
        await page.screenshot({ path: join(TMP, 'demo-transfer.png'), fullPage: true })
        expect(sha256(readFileSync(await download.path()))).toBe(file.sha256)
        expect(errors).toEqual([])
      } finally {
        node.endpoint.close()
        await page.close()
      }
    },
    TRANSFER_TEST_MS
  )

  it(
    'cancels a page → Node transfer mid-way: the page shows "cancelled" and Node gets the message aborted (#)',
    async () => {
      const { page, node } = await pageWithPeer()
      try {
        const incoming = nextFile(node)
        await page.getByLabel('Send a file').setInputFiles(file.path)
        const message = await incoming
        // Node reads one piece and then nothing: its flow control (through the relay) holds the page's sending back.
        const reader = message.body[Symbol.asyncIterator]()
        expect((await reader.next()).done).toBe(false)
        await page.getByRole('button', { name: 'Cancel photo-ü.bin' }).click()
        await page.locator('#transfers li[data-direction="out"][data-state="cancelled"]').waitFor()
        expect(await page.locator('#transfers li[data-direction="out"] .status').textContent()).toBe('cancelled')

        message.discard() // the rest: the bytes in flight, then the `#` chunk
        const outcome = await message.outcome
        expect(outcome).toMatchObject({ type: 'aborted', reason: 'Aborted' })
        expect(outcome.type === 'aborted' && outcome.received < FILE_BYTES).toBe(true)
      } finally {
        node.endpoint.close()
        await page.close()
      }
    },
    TRANSFER_TEST_MS
  )

  it('shows "cancelled by the sender" when a Node → page transfer is aborted mid-way', async () => {
    const { page, node } = await pageWithPeer()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    try {
      // A stream that sends 1 MiB, then waits: the transfer is mid-way until the sender cancels it.
      async function* body(): AsyncGenerator<Uint8Array> {
        yield randomBytes(1024 * 1024)
        await held
      }
      const sending = node.session
        .send(body(), { size: FILE_BYTES, headers: [['Content-Disposition', 'attachment; filename="stalled.bin"']] })
        .subscribe({ error: () => undefined })
      await page.locator('#transfers li[data-direction="in"] progress[value="1048576"]').waitFor()
      sending.unsubscribe() // aborts: the last chunk ends with `#` (RFC 4975 §7.1.1)
      const row = page.locator('#transfers li[data-direction="in"][data-state="cancelled"]')
      await row.waitFor()
      expect(await row.locator('.status').textContent()).toBe('cancelled by the sender')
      expect(await row.getByRole('link').count()).toBe(0) // nothing to download
    } finally {
      release()
      node.endpoint.close()
      await page.close()
    }
  })
})
