/**
 * The built browser bundle in a real exchange on loopback: a page's endpoint (BrowserEndpoint from the bundle,
 * imported as an ES module by a child Node process, the `ws` client standing in for the browser's WebSocket)
 * authenticates at an MsrpRelay over WebSocket with Digest, sends a text, bytes and a Blob to a Node endpoint
 * (MsrpEndpoint from src, authenticated at the same relay over TCP) and receives its answer into a Blob.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import { firstValueFrom, take, toArray, type Subscription } from 'rxjs'
import { createAuthHandler } from '../../src/relay/auth'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpRelay } from '../../src/relay/relay'
import { createRegistry } from '../../src/relay/registry'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { listenTcp } from '../../src/transport/tcp'
import { listenWebSocket } from '../../src/transport/websocket'
import { newSessionId } from '../../src/wire/ids'
import { start, type Running } from '../transport/helpers'
import { buildBundle, tempDir } from './build'

const HOST = '127.0.0.1'
const USERS = { alice: 'alice-secret', bob: 'bob-secret' }

/** The same bytes as bytesOf in page.mjs. */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

type PageEvent = { readonly type: string } & Record<string, unknown>

/** The page's JSON lines, as they come; `next(type)` waits (bounded by jest's timeout) for the next of a type. */
class Page {
  private readonly seen: PageEvent[] = []
  private readonly waiting: Array<() => void> = []
  readonly exited: Promise<number | null>
  stderr = ''

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.seen.push(JSON.parse(line) as PageEvent)
      for (const wake of this.waiting.splice(0)) wake()
    })
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()))
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
    void this.exited.then(() => {
      for (const wake of this.waiting.splice(0)) wake()
    })
  }

  async next(type: string): Promise<PageEvent> {
    for (;;) {
      const i = this.seen.findIndex((e) => e.type === type || e.type === 'error')
      const found = i >= 0 ? this.seen.splice(i, 1)[0] : undefined
      if (found !== undefined) {
        if (found.type === 'error') throw new Error(`page: ${JSON.stringify(found)} ${this.stderr}`)
        return found
      }
      if (this.child.exitCode !== null) throw new Error(`page exited (${this.child.exitCode}): ${this.stderr}`)
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }
}

describe('the browser bundle, loaded as an ES module, against a relay and a Node endpoint on loopback', () => {
  let dir: string
  let bundle: string
  let relay: MsrpRelay
  let tcp: Running
  let ws: Running
  const subscriptions: Subscription[] = []
  const endpoints: MsrpEndpoint[] = []
  let page: Page | undefined

  beforeAll(async () => {
    dir = tempDir('rx-msrp-exchange-')
    bundle = path.join(dir, 'rx-msrp.mjs')
    await buildBundle('src/browser.ts', bundle)
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'relay.test', credentials: memoryCredentials(USERS), registry })
    relay = new MsrpRelay({ auth, registry })
    tcp = await start(listenTcp({ host: HOST, port: 0 }))
    ws = await start(listenWebSocket({ host: HOST, port: 0 }))
    subscriptions.push(
      relay.serve(tcp.listener, `msrp://${HOST}:${tcp.listener.address.port};tcp`),
      relay.serve(ws.listener, `msrp://${HOST}:${ws.listener.address.port};ws`)
    )
  }, 120_000)

  afterAll(async () => {
    if (page !== undefined && page.child.exitCode === null) page.child.kill()
    for (const e of endpoints) e.close()
    for (const s of subscriptions) s.unsubscribe()
    await relay.close()
    tcp.stop()
    ws.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('authenticates over WebSocket, sends text, bytes and a File-like Blob, and receives into a Blob', async () => {
    const bobEndpoint = new MsrpEndpoint()
    endpoints.push(bobEndpoint)
    const bob = bobEndpoint.createSession(`msrp://${HOST}:${tcp.listener.address.port + 1}/${newSessionId()};tcp`)
    const bobRegistration = await bobEndpoint.authenticate(bob, `msrp://${HOST}:${tcp.listener.address.port};tcp`, {
      username: 'bob',
      password: USERS.bob,
      allowInsecure: true
    })
    const received = firstValueFrom(bob.messages$.pipe(take(3), toArray()))

    page = new Page(
      spawn(process.execPath, [path.join(__dirname, 'page.mjs')], {
        cwd: __dirname,
        env: {
          ...process.env,
          RX_BUNDLE: bundle,
          RX_RELAY: `msrp://${HOST}:${ws.listener.address.port};ws`,
          RX_BOB_PATH: JSON.stringify(bobRegistration.path)
        }
      })
    )
    const registered = await page.next('registered')
    // W-A-1: the page's own URI has a random .invalid host; its path leads through the relay's WebSocket URI.
    expect(registered.own).toMatch(/^msrp:\/\/[a-z][a-z0-9]{11}\.invalid:2855\/[A-Za-z0-9]{20};ws$/)
    const alicePath = registered.path as string[]
    expect(alicePath).toHaveLength(2)
    expect(alicePath[0]).toContain(`${HOST}:${ws.listener.address.port}/`)
    await page.next('connected')
    for (const what of ['text', 'binary', 'blob']) expect(await page.next('sent')).toMatchObject({ what, last: 'done' })

    const [text, binary, blob] = await received
    expect(text?.contentType).toBe('text/plain;charset=utf-8')
    expect(new TextDecoder().decode(await text?.collect())).toBe('Hi Bob, from the bundle')
    expect(binary?.contentType).toBe('application/octet-stream')
    expect(Buffer.from((await binary?.collect()) ?? []).equals(Buffer.from(bytesOf(200_000, 7)))).toBe(true)
    // A File's type becomes the Content-Type, its size the Byte-Range total.
    expect(blob?.contentType).toBe('image/png')
    expect(blob?.total).toBe(70_000)
    expect(Buffer.from((await blob?.collect()) ?? []).equals(Buffer.from(bytesOf(70_000, 9)))).toBe(true)

    await bobEndpoint.connect(bob, alicePath)
    page.child.stdin.end('go\n')
    await firstValueFrom(bob.send('Hi page, from Node', { contentType: 'text/plain;charset=utf-8' }).pipe(toArray()))
    expect(await page.next('received')).toEqual({
      type: 'received',
      contentType: 'text/plain;charset=utf-8',
      blobType: 'text/plain',
      text: 'Hi page, from Node'
    })
    expect(await page.exited).toBe(0)
  }, 60_000)
})
