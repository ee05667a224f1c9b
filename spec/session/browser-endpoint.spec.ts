/**
 * How endpoints dial (issue 5): the connector is injected. `MsrpEndpoint` keeps Node's `dial` as its default and
 * takes another through `connect`; `BrowserEndpoint` opens `;ws` URIs with the browser's WebSocket (here the `ws`
 * client as its constructor) and refuses what a page cannot dial; a bare `MsrpEndpointBase` dials nothing.
 */
import { firstValueFrom, of, toArray, type Observable } from 'rxjs'
import { WebSocket } from 'ws'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { MsrpEndpointBase } from '../../src/session/endpoint-base'
import { BrowserEndpoint, browserConnector } from '../../src/session/browser-endpoint'
import { newWebSocketClientUri } from '../../src/session/relay-client'
import type { WebSocketConstructorLike, WebSocketLike } from '../../src/transport/browser-websocket'
import { memoryPair } from '../../src/transport/memory'
import { listenWebSocket } from '../../src/transport/websocket'
import type { Transport } from '../../src/transport/transport'
import { newSessionId } from '../../src/wire/ids'
import { parseUri, type MsrpUri } from '../../src/wire/uri'
import { start } from '../transport/helpers'

const HOST = '127.0.0.1'
const uri = (text: string): MsrpUri => {
  const parsed = parseUri(text)
  if (parsed._tag === 'Left') throw new Error(parsed.left.detail)
  return parsed.right
}

/** A WebSocket constructor that records what it was asked to open and never opens. */
function recordingWebSocket(): { readonly Ctor: WebSocketConstructorLike; readonly opened: string[][] } {
  const opened: string[][] = []
  class Recording implements WebSocketLike {
    binaryType = 'blob'
    readyState = 0
    protocol = ''
    bufferedAmount = 0
    constructor(url: string, protocols?: string | string[]) {
      opened.push([url, ...([] as string[]).concat(protocols ?? [])])
    }
    send(): void {}
    close(): void {
      this.readyState = 3
    }
    addEventListener(): void {}
  }
  return { Ctor: Recording, opened }
}

describe('browserConnector', () => {
  it('W-5.2.1-1 opens wss://host:port<wsPath> for an msrps ;ws URI, offering the msrp subprotocol', () => {
    const { Ctor, opened } = recordingWebSocket()
    const connect = browserConnector({ WebSocket: Ctor, wsPath: '/msrp' })
    connect(uri('msrps://relay.example.com:443;ws')).subscribe().unsubscribe()
    connect(uri('msrp://127.0.0.1:8080/abcdefghij0123456789;ws')).subscribe().unsubscribe()
    expect(opened).toEqual([
      ['wss://relay.example.com:443/msrp', 'msrp'],
      ['ws://127.0.0.1:8080/msrp', 'msrp']
    ])
  })

  it('W-5.1-1 refuses a ;tcp URI: a page reaches such peers through its relay', () => {
    const { Ctor, opened } = recordingWebSocket()
    expect(() => browserConnector({ WebSocket: Ctor })(uri('msrps://bob.example.com:2855/abc;tcp'))).toThrow(
      /WebSocket only.*through a relay/
    )
    expect(opened).toEqual([])
  })

  it('W-A-1 refuses a .invalid host, which names no machine', () => {
    const { Ctor } = recordingWebSocket()
    expect(() => browserConnector({ WebSocket: Ctor })(uri(newWebSocketClientUri()))).toThrow(/\.invalid host/)
  })

  it('refuses a URI without a port', () => {
    const { Ctor } = recordingWebSocket()
    expect(() => browserConnector({ WebSocket: Ctor })(uri('msrps://relay.example.com;ws'))).toThrow(/port/)
  })
})

describe('the injected connector', () => {
  it('MsrpEndpoint uses options.connect instead of dial, for the URI of the first hop', async () => {
    const [mine, theirs] = memoryPair()
    const bob = new MsrpEndpoint()
    const bobUri = `msrp://bob.example.com:2855/${newSessionId()};tcp`
    const bobSession = bob.createSession(bobUri)
    bob.accept(theirs)
    const asked: string[] = []
    const alice = new MsrpEndpoint({
      connect: (u): Observable<Transport> => {
        asked.push(`${u.host}:${u.port}`)
        return of(mine)
      }
    })
    try {
      const session = alice.createSession(`msrp://alice.example.com:2855/${newSessionId()};tcp`)
      const message = firstValueFrom(bobSession.messages$)
      await alice.connect(session, [bobUri])
      await firstValueFrom(session.send('over the injected transport').pipe(toArray()))
      expect(new TextDecoder().decode(await (await message).collect())).toBe('over the injected transport')
      expect(asked).toEqual(['bob.example.com:2855'])
    } finally {
      alice.close()
      bob.close()
    }
  })

  it('MsrpEndpointBase without a connector refuses to dial, naming the URI', async () => {
    const endpoint = new MsrpEndpointBase()
    const session = endpoint.createSession(`msrp://alice.example.com:2855/${newSessionId()};tcp`)
    await expect(endpoint.connect(session, ['msrp://bob.example.com:2855/abc;tcp'])).rejects.toThrow(
      /bob\.example\.com:2855\/abc;tcp: this endpoint has no connector/
    )
    endpoint.close()
  })

  it('BrowserEndpoint refuses a ;tcp peer before opening anything', async () => {
    const { Ctor, opened } = recordingWebSocket()
    const endpoint = new BrowserEndpoint({ dial: { WebSocket: Ctor } })
    const session = endpoint.createSession(newWebSocketClientUri())
    await expect(endpoint.connect(session, ['msrp://bob.example.com:2855/abc;tcp'])).rejects.toThrow(TypeError)
    expect(opened).toEqual([])
    endpoint.close()
  })

  it('BrowserEndpoint sends text and bytes over a WebSocket to a Node endpoint on loopback', async () => {
    const server = await start(listenWebSocket({ host: HOST, port: 0 }))
    const bob = new MsrpEndpoint()
    bob.serve(server.listener)
    const bobUri = `msrp://${HOST}:${server.listener.address.port}/${newSessionId()};ws`
    const bobSession = bob.createSession(bobUri)
    const page = new BrowserEndpoint({ dial: { WebSocket: WebSocket as unknown as WebSocketConstructorLike } })
    try {
      const session = page.createSession(newWebSocketClientUri({ secure: false }))
      const messages: Uint8Array[] = []
      const done = new Promise<void>((resolve) => {
        bobSession.messages$.subscribe(async (m) => {
          messages.push(await m.collect())
          if (messages.length === 2) resolve()
        })
      })
      await page.connect(session, [bobUri])
      const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256)
      await firstValueFrom(session.send('Hi Bob').pipe(toArray()))
      await firstValueFrom(session.send(bytes).pipe(toArray()))
      await done
      expect(new TextDecoder().decode(messages[0])).toBe('Hi Bob')
      expect(Buffer.from(messages[1] ?? []).equals(Buffer.from(bytes))).toBe(true)
    } finally {
      page.close()
      bob.close()
      server.stop()
    }
  })
})
