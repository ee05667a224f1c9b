import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { firstValueFrom, lastValueFrom } from 'rxjs'
import WebSocket, { WebSocketServer } from 'ws'
import type { Transport } from '../../src/transport/transport'
import {
  connectWebSocket,
  listenWebSocket,
  MSRP_SUBPROTOCOL,
  type ListenWebSocketOptions
} from '../../src/transport/websocket'
import {
  certificates,
  closedOf,
  closedPort,
  failureOf,
  LOOPBACK,
  rawServer,
  record,
  socketClosed,
  start,
  transportErrorOf,
  type Running
} from './helpers'

/** How a raw `ws` client's handshake went. */
type Handshake =
  | { readonly kind: 'open'; readonly ws: WebSocket; readonly headers: http.IncomingHttpHeaders }
  | { readonly kind: 'refused'; readonly status: number; readonly headers: http.IncomingHttpHeaders }

/** Opens a raw `ws` client (no msrp unless asked) and reports the handshake's outcome. */
function rawClient(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options)
    let headers: http.IncomingHttpHeaders = {}
    ws.on('upgrade', (response) => (headers = response.headers))
    ws.on('open', () => resolve({ kind: 'open', ws, headers }))
    ws.on('unexpected-response', (_request, response) => {
      resolve({ kind: 'refused', status: response.statusCode ?? 0, headers: response.headers })
      response.resume()
      ws.terminate()
    })
    ws.on('error', (error) => reject(error))
  })
}

/** Resolves with the close code a raw client sees. */
function closeCodeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)))
}

/** Resolves with the next message a raw client receives. */
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary })))
}

describe('listenWebSocket', () => {
  let running: Running | undefined
  const clients: WebSocket[] = []
  afterEach(() => {
    for (const ws of clients.splice(0)) ws.terminate()
    running?.stop()
    running = undefined
  })
  const listen = async (options: Partial<ListenWebSocketOptions> = {}): Promise<string> => {
    running = await start(listenWebSocket({ host: LOOPBACK, port: 0, ...options } as ListenWebSocketOptions))
    return `ws://${LOOPBACK}:${running.listener.address.port}/`
  }
  /** A raw client that must open, with the server's transport for it. */
  const openPair = async (
    url: string,
    options: WebSocket.ClientOptions = {}
  ): Promise<{ ws: WebSocket; server: Transport; headers: http.IncomingHttpHeaders }> => {
    const accepted = firstValueFrom(running!.listener.connections$)
    const handshake = await rawClient(url, [MSRP_SUBPROTOCOL], options)
    if (handshake.kind !== 'open') throw new Error(`refused with ${handshake.status}`)
    clients.push(handshake.ws)
    return { ws: handshake.ws, server: await accepted, headers: handshake.headers }
  }

  it('refuses with 400 a handshake that does not offer msrp (W-4.1-1)', async () => {
    const url = await listen()
    await expect(rawClient(url, [])).resolves.toMatchObject({ kind: 'refused', status: 400 })
    await expect(rawClient(url, ['sip'])).resolves.toMatchObject({ kind: 'refused', status: 400 })
  })

  it('selects msrp among the offered subprotocols (W-4.1-2)', async () => {
    const url = await listen()
    const { ws, server } = await openPair(url)
    expect(ws.protocol).toBe(MSRP_SUBPROTOCOL)
    const other = await rawClient(url, ['sip', MSRP_SUBPROTOCOL])
    if (other.kind === 'open') clients.push(other.ws)
    expect(other).toMatchObject({ kind: 'open', headers: { 'sec-websocket-protocol': MSRP_SUBPROTOCOL } })
    server.close()
  })

  it('delivers a text message as its raw UTF-8 bytes (W-4.2-1, W-4.2-2)', async () => {
    const { ws, server } = await openPair(await listen())
    const at = record(server)
    const text = 'MSRP a786hjs2 SEND\r\nTo-Path: msrp://b.example.com/é€😀\r\n-------a786hjs2$\r\n'
    ws.send(text) // a string: a text frame
    ws.send(Buffer.from([0x00, 0xff, 0xfe])) // a Buffer: a binary frame
    await at.waitValues(2)
    expect(Buffer.from(at.values[0]!).equals(Buffer.from(text, 'utf8'))).toBe(true)
    expect(Buffer.from(at.values[1]!)).toEqual(Buffer.from([0x00, 0xff, 0xfe]))
    server.close()
  })

  it('delivers a message fragmented into several frames as one value', async () => {
    const { ws, server } = await openPair(await listen())
    const at = record(server)
    ws.send(Buffer.from('MSRP x SEND\r\n'), { fin: false })
    ws.send(Buffer.from('Byte-Range: 1-*/*\r\n'), { fin: false })
    ws.send(Buffer.from('-------x$\r\n'), { fin: true })
    ws.send(Buffer.from('next'))
    await at.waitValues(2)
    expect(Buffer.from(at.values[0]!).toString()).toBe('MSRP x SEND\r\nByte-Range: 1-*/*\r\n-------x$\r\n')
    expect(Buffer.from(at.values[1]!).toString()).toBe('next')
    server.close()
  })

  it('sends each write as one binary message (W-5.1-3)', async () => {
    const { ws, server } = await openPair(await listen())
    const message = nextMessage(ws)
    server.write([Buffer.from('MSRP y 200 OK\r\n'), Buffer.from([0, 0xc3, 0x28]), Buffer.from('-------y$\r\n')])
    const { data, isBinary } = await message
    expect(isBinary).toBe(true)
    expect(data).toEqual(
      Buffer.concat([Buffer.from('MSRP y 200 OK\r\n'), Buffer.from([0, 0xc3, 0x28]), Buffer.from('-------y$\r\n')])
    )
    server.close()
  })

  it('closes with 1009 on a message larger than maxPayload and fails with ProtocolError', async () => {
    const { ws, server } = await openPair(await listen({ maxPayload: 1024 }))
    const at = record(server)
    const code = closeCodeOf(ws)
    ws.send(Buffer.alloc(1024, 1)) // at the limit: accepted
    await at.waitValues(1)
    ws.send(Buffer.alloc(1025, 2))
    expect(await code).toBe(1009)
    expect((await transportErrorOf(at.ended)).reason).toBe('ProtocolError')
    expect(at.values).toHaveLength(1)
  })

  it('pings every keepAliveIntervalMs and keeps a connection that answers (W-6-1)', async () => {
    const { ws, server } = await openPair(await listen({ keepAliveIntervalMs: 20 }))
    record(server)
    let pings = 0
    await new Promise<void>((resolve) =>
      ws.on('ping', () => {
        if (++pings === 5) resolve()
      })
    )
    expect(ws.readyState).toBe(WebSocket.OPEN)
    const open = jest.fn()
    server.closed$.subscribe(open)
    expect(open).not.toHaveBeenCalled()
    server.close()
  })

  it('drops a connection whose Pong does not come back, with Reset (RFC 7977 §6)', async () => {
    const { ws, server } = await openPair(await listen({ keepAliveIntervalMs: 20 }), { autoPong: false })
    const at = record(server)
    const code = closeCodeOf(ws)
    const error = await transportErrorOf(at.ended)
    expect(error.reason).toBe('Reset')
    expect(error.message).toContain('Pong')
    expect(await code).toBe(1006) // terminated, no closing handshake
  })

  it('refuses an Origin outside allowedOrigins with 403 and answers an allowed one with CORS (W-7-1, W-7-3)', async () => {
    const url = await listen({ allowedOrigins: ['https://good.example'] })
    await expect(rawClient(url, [MSRP_SUBPROTOCOL], { origin: 'https://evil.example' })).resolves.toMatchObject({
      kind: 'refused',
      status: 403
    })
    const { headers, server } = await openPair(url, { origin: 'https://good.example' })
    expect(headers['access-control-allow-origin']).toBe('https://good.example')
    server.close()
    // A list lets non-browser clients (no Origin) in.
    const { server: plain } = await openPair(url)
    plain.close()
  })

  it('asks authenticate() and refuses with its status and headers (RFC 7977 §7, W-7-2)', async () => {
    const seen: (string | undefined)[] = []
    const url = await listen({
      authenticate: async (request) => {
        seen.push(request.headers.cookie)
        return request.headers.cookie === 'session=ok'
          ? { accept: true }
          : { accept: false, status: 401, headers: { 'WWW-Authenticate': 'Digest realm="test", qop="auth"' } }
      }
    })
    await expect(rawClient(url, [MSRP_SUBPROTOCOL])).resolves.toMatchObject({
      kind: 'refused',
      status: 401,
      headers: { 'www-authenticate': 'Digest realm="test", qop="auth"' }
    })
    const { server } = await openPair(url, { headers: { Cookie: 'session=ok' } })
    expect(seen).toEqual([undefined, 'session=ok'])
    server.close()
  })

  it('gives the identity authenticate() names to the transport (RFC 7977 §5.3.1), none without it', async () => {
    const url = await listen({
      authenticate: (request) =>
        request.headers.cookie === 'session=alice' ? { accept: true, identity: 'alice' } : { accept: true }
    })
    const { server } = await openPair(url, { headers: { Cookie: 'session=alice' } })
    expect(server.info.identity).toBe('alice')
    server.close()
    const { server: anonymous } = await openPair(url)
    expect(anonymous.info.identity).toBeUndefined()
    anonymous.close()
  })

  it('refuses with 500 when authenticate() throws', async () => {
    const url = await listen({
      authenticate: () => {
        throw new Error('store down')
      }
    })
    await expect(rawClient(url, [MSRP_SUBPROTOCOL])).resolves.toMatchObject({ kind: 'refused', status: 500 })
  })

  it('answers a plain HTTP request with 426', async () => {
    const url = await listen()
    const status = await new Promise<number>((resolve) =>
      http.get(url.replace('ws:', 'http:'), (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
    )
    expect(status).toBe(426)
  })

  it('attaches to an existing server, on its path only, and leaves the server open when it stops', async () => {
    const server = http.createServer()
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
    const other = new WebSocketServer({ noServer: true })
    server.on('upgrade', (request: http.IncomingMessage, socket, head) => {
      if (request.url === '/other')
        other.handleUpgrade(request, socket, head, (ws) => ws.on('message', (data) => ws.send(data)))
    })
    try {
      running = await start(listenWebSocket({ server, path: '/msrp' }))
      const port = (server.address() as AddressInfo).port
      expect(running.listener.address.port).toBe(port)
      const { server: transport } = await openPair(`ws://${LOOPBACK}:${port}/msrp`)
      expect(transport.info.kind).toBe('ws')
      const handshake = await rawClient(`ws://${LOOPBACK}:${port}/other`, [])
      if (handshake.kind !== 'open') throw new Error('the other path was refused')
      clients.push(handshake.ws)
      const echo = nextMessage(handshake.ws)
      handshake.ws.send('other')
      expect((await echo).data.toString()).toBe('other')
      running.stop()
      running = undefined
      expect(server.listening).toBe(true)
      transport.close()
    } finally {
      for (const ws of clients.splice(0)) ws.terminate()
      other.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe('connectWebSocket', () => {
  let running: Running | undefined
  afterEach(() => {
    running?.stop()
    running = undefined
  })

  /** A raw ws server on loopback with the given subprotocol selection. */
  async function rawWsServer(
    handleProtocols: (protocols: Set<string>) => string | false,
    options: { autoPong?: boolean } = {}
  ): Promise<{ url: string; wss: WebSocketServer; close: () => Promise<void> }> {
    const wss = new WebSocketServer({ host: LOOPBACK, port: 0, handleProtocols, ...options })
    await new Promise<void>((resolve) => wss.once('listening', resolve))
    return {
      url: `ws://${LOOPBACK}:${(wss.address() as AddressInfo).port}/`,
      wss,
      close: async () => {
        for (const ws of wss.clients) ws.terminate()
        await new Promise<void>((resolve) => wss.close(() => resolve()))
      }
    }
  }

  it('offers msrp, plus the protocols asked for', async () => {
    const offered: string[][] = []
    const raw = await rawWsServer((protocols) => {
      offered.push([...protocols])
      return MSRP_SUBPROTOCOL
    })
    try {
      ;(await lastValueFrom(connectWebSocket({ url: raw.url }))).close()
      ;(await lastValueFrom(connectWebSocket({ url: raw.url, protocols: ['sip'] }))).close()
      expect(offered).toEqual([[MSRP_SUBPROTOCOL], [MSRP_SUBPROTOCOL, 'sip']])
    } finally {
      await raw.close()
    }
  })

  it('fails with HandshakeRefused when the server selects no subprotocol (W-4.1-2)', async () => {
    const raw = await rawWsServer(() => false)
    try {
      const error = await failureOf(connectWebSocket({ url: raw.url }))
      expect(error.reason).toBe('HandshakeRefused')
      expect(error.message).toContain('no subprotocol')
    } finally {
      await raw.close()
    }
  })

  it('fails with HandshakeRefused when the server selects another offered subprotocol', async () => {
    const raw = await rawWsServer(() => 'sip')
    try {
      const error = await failureOf(connectWebSocket({ url: raw.url, protocols: ['sip'] }))
      expect(error.reason).toBe('HandshakeRefused')
      expect(error.message).toContain("'sip'")
    } finally {
      await raw.close()
    }
  })

  it('fails with HandshakeRefused on an HTTP error answer, naming the status', async () => {
    running = await start(listenWebSocket({ host: LOOPBACK, port: 0, allowedOrigins: [] }))
    const url = `ws://${LOOPBACK}:${running.listener.address.port}/`
    const error = await failureOf(connectWebSocket({ url, origin: 'https://evil.example' }))
    expect(error.reason).toBe('HandshakeRefused')
    expect(error.message).toContain('403')
  })

  it('fails with ConnectFailed on a URL it cannot use', async () => {
    expect((await failureOf(connectWebSocket({ url: 'http//nowhere' }))).reason).toBe('ConnectFailed')
    expect((await failureOf(connectWebSocket({ url: 'ftp://127.0.0.1/' }))).reason).toBe('ConnectFailed')
  })

  it('fails with ConnectFailed when nothing listens on the port', async () => {
    const error = await failureOf(connectWebSocket({ url: `ws://${LOOPBACK}:${await closedPort()}/` }))
    expect(error.reason).toBe('ConnectFailed')
  })

  it('fails with ConnectTimeout when the server does not answer the handshake, and closes the socket', async () => {
    const silent = await rawServer()
    try {
      const failure = failureOf(connectWebSocket({ url: `ws://${LOOPBACK}:${silent.port}/`, timeoutMs: 200 }))
      const socket = await silent.nextSocket()
      expect((await failure).reason).toBe('ConnectTimeout')
      await socketClosed(socket)
    } finally {
      await silent.close()
    }
  })

  it('aborts the handshake when unsubscribed', async () => {
    const silent = await rawServer()
    try {
      const next = jest.fn()
      const subscription = connectWebSocket({ url: `ws://${LOOPBACK}:${silent.port}/` }).subscribe({
        next,
        error: next
      })
      const socket = await silent.nextSocket()
      subscription.unsubscribe()
      await socketClosed(socket)
      expect(next).not.toHaveBeenCalled()
    } finally {
      await silent.close()
    }
  })

  it('fails with ProtocolError when the server sends more than maxPayload', async () => {
    const raw = await rawWsServer(() => MSRP_SUBPROTOCOL)
    try {
      const peer = new Promise<WebSocket>((resolve) => raw.wss.once('connection', resolve))
      const t = await lastValueFrom(connectWebSocket({ url: raw.url, maxPayload: 100 }))
      const at = record(t)
      ;(await peer).send(Buffer.alloc(101))
      expect((await transportErrorOf(at.ended)).reason).toBe('ProtocolError')
    } finally {
      await raw.close()
    }
  })

  it('drops the connection with Reset when the server stops answering Pings', async () => {
    const raw = await rawWsServer(() => MSRP_SUBPROTOCOL, { autoPong: false })
    try {
      const t = await lastValueFrom(connectWebSocket({ url: raw.url, keepAliveIntervalMs: 20 }))
      const error = await transportErrorOf(record(t).ended)
      expect(error.reason).toBe('Reset')
      await closedOf(t)
    } finally {
      await raw.close()
    }
  })

  describe('over TLS (wss)', () => {
    const listenSecure = async (): Promise<string> => {
      running = await start(listenWebSocket({ host: LOOPBACK, port: 0, tls: certificates().server }))
      return `wss://${LOOPBACK}:${running.listener.address.port}/`
    }

    it('verifies the server certificate by default: TlsFailed without ca', async () => {
      const error = await failureOf(connectWebSocket({ url: await listenSecure() }))
      expect(error.reason).toBe('TlsFailed')
    })

    it('connects with the right ca and reports the server certificate', async () => {
      const url = await listenSecure()
      const accepted = firstValueFrom(running!.listener.connections$)
      const t = await lastValueFrom(connectWebSocket({ url, ca: certificates().server.cert }))
      const b = await accepted
      expect(t.info).toMatchObject({ kind: 'wss', secure: true, messageOriented: true })
      expect(t.info.peerCertificate?.subjectaltname).toContain('IP Address:127.0.0.1')
      expect(b.info.kind).toBe('wss')
      t.close()
      b.close()
    })
  })
})
