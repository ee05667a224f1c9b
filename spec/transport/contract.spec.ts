/**
 * Runs the transport contract (contract.ts) against every transport: TCP, TLS, WS, WSS and both memory pairs.
 */
import * as https from 'node:https'
import { connect as netConnect, type AddressInfo } from 'node:net'
import * as tls from 'node:tls'
import { firstValueFrom, lastValueFrom, type Observable } from 'rxjs'
import WebSocket, { WebSocketServer } from 'ws'
import { WRITE_HIGH_WATER_MARK_BYTES } from '../../src/transport/defaults'
import { memoryPair } from '../../src/transport/memory'
import { connectTcp, listenTcp } from '../../src/transport/tcp'
import { connectTls, listenTls } from '../../src/transport/tls'
import type { Listener, Transport } from '../../src/transport/transport'
import { connectWebSocket, listenWebSocket, MSRP_SUBPROTOCOL } from '../../src/transport/websocket'
import { connectBrowserWebSocket, type WebSocketConstructorLike } from '../../src/transport/browser-websocket'
import { transportContract, type Doomed, type Pair, type TransportFactory } from './contract'
import { certificates, LOOPBACK, rawServer, start } from './helpers'

/** Connects a client to a fresh listener and pairs it with the accepted transport. */
async function listenedPair(
  listen$: Observable<Listener>,
  connect: (port: number) => Observable<Transport>
): Promise<Pair> {
  const { listener, stop } = await start(listen$)
  const accepted = firstValueFrom(listener.connections$)
  const a = await lastValueFrom(connect(listener.address.port))
  const b = await accepted
  return {
    a,
    b,
    cleanup: async () => {
      a.close()
      b.close()
      stop()
    }
  }
}

/** A raw `ws` server (selecting msrp) whose first client is terminated by `kill`. */
async function doomedWebSocket(secure: boolean): Promise<Doomed> {
  const { server: cert } = certificates()
  const server = secure ? https.createServer(cert) : undefined
  if (server !== undefined) await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
  const wss = new WebSocketServer(
    server !== undefined
      ? { server, handleProtocols: () => MSRP_SUBPROTOCOL }
      : { port: 0, host: LOOPBACK, handleProtocols: () => MSRP_SUBPROTOCOL }
  )
  if (server === undefined) await new Promise<void>((resolve) => wss.once('listening', resolve))
  const port = ((server ?? wss).address() as AddressInfo).port
  const peer = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
  const transport = await lastValueFrom(
    connectWebSocket({ url: `${secure ? 'wss' : 'ws'}://${LOOPBACK}:${port}/`, ca: cert.cert })
  )
  const ws = await peer
  return {
    transport,
    kill: () => ws.terminate(),
    cleanup: async () => {
      transport.close()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

const tcp: TransportFactory = {
  name: 'tcp',
  kind: 'tcp',
  messageOriented: false,
  secure: false,
  highWaterMark: WRITE_HIGH_WATER_MARK_BYTES,
  pair: () => listenedPair(listenTcp({ host: LOOPBACK, port: 0 }), (port) => connectTcp({ host: LOOPBACK, port })),
  doomed: async () => {
    const raw = await rawServer()
    const transport = await lastValueFrom(connectTcp({ host: LOOPBACK, port: raw.port }))
    const socket = await raw.nextSocket()
    return { transport, kill: () => socket.resetAndDestroy(), cleanup: raw.close }
  }
}

const tlsFactory: TransportFactory = {
  name: 'tls',
  kind: 'tls',
  messageOriented: false,
  secure: true,
  highWaterMark: WRITE_HIGH_WATER_MARK_BYTES,
  pair: () => {
    const { server } = certificates()
    return listenedPair(listenTls({ host: LOOPBACK, port: 0, ...server }), (port) =>
      connectTls({ host: LOOPBACK, port, ca: server.cert })
    )
  },
  doomed: async () => {
    const { server } = certificates()
    // A TLS server behind a TCP relay whose client-side socket the test resets (a TLSSocket cannot send an RST).
    let secured!: () => void
    const handshakeDone = new Promise<void>((resolve) => (secured = resolve))
    const tlsServer = tls.createServer(server, (socket) => {
      socket.on('error', () => {})
      secured()
    })
    await new Promise<void>((resolve) => tlsServer.listen(0, LOOPBACK, resolve))
    const tlsPort = (tlsServer.address() as AddressInfo).port
    const raw = await rawServer((socket) => {
      const upstream = netConnect(tlsPort, LOOPBACK)
      upstream.on('error', () => {})
      socket.pipe(upstream).pipe(socket)
      socket.on('close', () => upstream.destroy())
    })
    const transport = await lastValueFrom(connectTls({ host: LOOPBACK, port: raw.port, ca: server.cert }))
    const socket = await raw.nextSocket()
    // The client's last handshake flight must have arrived: Node loses the error of a write that a reset fails right
    // after 'secureConnect' and then reports the reset as a clean end (seen with strace on Node 20).
    await handshakeDone
    return {
      transport,
      kill: () => socket.resetAndDestroy(),
      cleanup: async () => {
        await raw.close()
        await new Promise<void>((resolve) => tlsServer.close(() => resolve()))
      }
    }
  }
}

const ws: TransportFactory = {
  name: 'ws',
  kind: 'ws',
  messageOriented: true,
  secure: false,
  highWaterMark: WRITE_HIGH_WATER_MARK_BYTES,
  pair: () =>
    listenedPair(listenWebSocket({ host: LOOPBACK, port: 0 }), (port) =>
      connectWebSocket({ url: `ws://${LOOPBACK}:${port}/` })
    ),
  doomed: () => doomedWebSocket(false)
}

const wss: TransportFactory = {
  name: 'wss',
  kind: 'wss',
  messageOriented: true,
  secure: true,
  highWaterMark: WRITE_HIGH_WATER_MARK_BYTES,
  pair: () => {
    const { server } = certificates()
    return listenedPair(listenWebSocket({ host: LOOPBACK, port: 0, tls: server }), (port) =>
      connectWebSocket({ url: `wss://${LOOPBACK}:${port}/`, ca: server.cert })
    )
  },
  doomed: () => doomedWebSocket(true)
}

/** The browser transport, driven in Node by the `ws` client, which has the WHATWG WebSocket shape. */
const BrowserLike = WebSocket as unknown as WebSocketConstructorLike

const browser: TransportFactory = {
  name: 'browser WebSocket (ws client as the constructor)',
  kind: 'ws',
  messageOriented: true,
  secure: false,
  highWaterMark: WRITE_HIGH_WATER_MARK_BYTES,
  addresses: false,
  pair: () =>
    listenedPair(listenWebSocket({ host: LOOPBACK, port: 0 }), (port) =>
      connectBrowserWebSocket({ url: `ws://${LOOPBACK}:${port}/`, WebSocket: BrowserLike })
    ),
  doomed: async () => {
    const wss = new WebSocketServer({ port: 0, host: LOOPBACK, handleProtocols: () => MSRP_SUBPROTOCOL })
    await new Promise<void>((resolve) => wss.once('listening', resolve))
    const port = (wss.address() as AddressInfo).port
    const peer = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
    const transport = await lastValueFrom(
      connectBrowserWebSocket({ url: `ws://${LOOPBACK}:${port}/`, WebSocket: BrowserLike })
    )
    const socket = await peer
    return {
      transport,
      kill: () => socket.terminate(),
      cleanup: async () => {
        transport.close()
        await new Promise<void>((resolve) => wss.close(() => resolve()))
      }
    }
  }
}

const memory = (messageOriented: boolean): TransportFactory => ({
  name: messageOriented ? 'memory (message-oriented)' : 'memory',
  kind: 'memory',
  messageOriented,
  secure: false,
  highWaterMark: WRITE_HIGH_WATER_MARK_BYTES,
  pair: async () => {
    const [a, b] = memoryPair({ messageOriented })
    return {
      a,
      b,
      cleanup: async () => {
        a.close()
        b.close()
      }
    }
  },
  doomed: async () => {
    const [a, b] = memoryPair({ messageOriented })
    return { transport: a, kill: () => b.reset(), cleanup: async () => b.close() }
  }
})

describe.each([tcp, tlsFactory, ws, wss, browser, memory(false), memory(true)])(
  'Transport contract: $name',
  (factory) => {
    transportContract(factory)
  }
)
