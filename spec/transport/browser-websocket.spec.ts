/**
 * The browser WebSocket transport (src/transport/browser-websocket.ts) beyond the shared contract (contract.spec.ts
 * runs that): the handshake rules of RFC 7977 and the bound on what a page queues while paused. Driven in Node by
 * the `ws` client, which has the WHATWG WebSocket shape.
 */
import type { AddressInfo } from 'node:net'
import { lastValueFrom } from 'rxjs'
import WebSocket, { WebSocketServer } from 'ws'
import { connectBrowserWebSocket, type WebSocketConstructorLike } from '../../src/transport/browser-websocket'
import { MSRP_SUBPROTOCOL } from '../../src/transport/websocket'
import { failureOf, LOOPBACK, record, transportErrorOf } from './helpers'

const BrowserLike = WebSocket as unknown as WebSocketConstructorLike

/** A raw ws server; `protocol` decides what it selects (false: none). */
async function server(handleProtocols: () => string | false): Promise<{
  url: string
  peer: Promise<WebSocket>
  close: () => Promise<void>
}> {
  const wss = new WebSocketServer({ port: 0, host: LOOPBACK, handleProtocols })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const peer = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
  return {
    url: `ws://${LOOPBACK}:${(wss.address() as AddressInfo).port}/`,
    peer,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      })
  }
}

describe('connectBrowserWebSocket (RFC 7977 in a page)', () => {
  it('offers the msrp subprotocol and fails when the server does not select it (W-4.1-1, W-4.1-2)', async () => {
    // A browser fails the handshake itself when the server selects none of the offered subprotocols: the page sees a
    // failed connect, never an open socket without msrp.
    const s = await server(() => false)
    const error = await failureOf(connectBrowserWebSocket({ url: s.url, WebSocket: BrowserLike }))
    expect(error.reason).toBe('ConnectFailed')
    await s.close()
    const t = await server(() => MSRP_SUBPROTOCOL)
    const transport = await lastValueFrom(connectBrowserWebSocket({ url: t.url, WebSocket: BrowserLike }))
    expect((await t.peer).protocol).toBe(MSRP_SUBPROTOCOL)
    transport.close()
    await t.close()
  })

  it('fails with ConnectFailed when nothing listens, and without a WebSocket constructor', async () => {
    const s = await server(() => MSRP_SUBPROTOCOL)
    const url = s.url
    await s.close()
    expect((await failureOf(connectBrowserWebSocket({ url, WebSocket: BrowserLike }))).reason).toBe('ConnectFailed')
    const global = globalThis as { WebSocket?: unknown }
    const saved = global.WebSocket
    delete global.WebSocket
    try {
      const error = await failureOf(connectBrowserWebSocket({ url }))
      expect(error.reason).toBe('ConnectFailed')
      expect(error.message).toContain('no WebSocket constructor')
    } finally {
      if (saved !== undefined) global.WebSocket = saved
    }
  })

  it('delivers a text message as its UTF-8 bytes (W-4.2-2)', async () => {
    const s = await server(() => MSRP_SUBPROTOCOL)
    const transport = await lastValueFrom(connectBrowserWebSocket({ url: s.url, WebSocket: BrowserLike }))
    const at = record(transport)
    ;(await s.peer).send('MSRP a SEND é', { binary: false })
    await at.waitValues(1)
    expect(Buffer.from(at.values[0]!).toString('utf8')).toBe('MSRP a SEND é')
    transport.close()
    await s.close()
  })

  it('fails with Overflow when a peer keeps sending while reading is paused (BROWSER_MAX_QUEUED_BYTES)', async () => {
    const s = await server(() => MSRP_SUBPROTOCOL)
    const transport = await lastValueFrom(
      connectBrowserWebSocket({ url: s.url, WebSocket: BrowserLike, maxQueuedBytes: 64 * 1024 })
    )
    const at = record(transport)
    transport.pause()
    const peer = await s.peer
    for (let i = 0; i < 8; i++) peer.send(Buffer.alloc(16 * 1024, i))
    const error = await transportErrorOf(at.ended)
    expect(error.reason).toBe('Overflow')
    expect(at.total()).toBe(0)
    await s.close()
  })

  it('keeps what arrived while paused, within the bound, and delivers it in order on resume', async () => {
    const s = await server(() => MSRP_SUBPROTOCOL)
    const transport = await lastValueFrom(connectBrowserWebSocket({ url: s.url, WebSocket: BrowserLike }))
    const at = record(transport)
    transport.pause()
    const peer = await s.peer
    for (let i = 0; i < 4; i++) peer.send(Buffer.alloc(1000, i))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(at.total()).toBe(0)
    transport.resume()
    await at.waitValues(4)
    expect(at.values.map((v) => v[0])).toEqual([0, 1, 2, 3])
    transport.close()
    await s.close()
  })
})
