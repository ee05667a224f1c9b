/**
 * The browser's endpoint: `MsrpEndpointBase` with a connector that opens MSRP over the browser's native WebSocket
 * (RFC 7977). A page reaches peers only through an MSRP WebSocket server, its relay (W-5.1-1), so `;ws` URIs are
 * the only ones it dials; its own URI has a random `.invalid` host (W-A-1, `newWebSocketClientUri`), which nobody
 * dials.
 */
import { formatUri, type MsrpUri } from '../wire/uri'
import { connectBrowserWebSocket, type BrowserWebSocketOptions } from '../transport/browser-websocket'
import { MsrpEndpointBase, type Connector, type EndpointBaseOptions } from './endpoint-base'

/** Options of {@link browserConnector}: those of `connectBrowserWebSocket` but the URL, and the URL's path. */
export interface BrowserDialOptions extends Omit<BrowserWebSocketOptions, 'url'> {
  /** HTTP path of the WebSocket URL (`wss://host:port<path>`): the MSRP URI does not carry one. Default `/`. */
  readonly wsPath?: string
}

/** Options of {@link BrowserEndpoint}. */
export interface BrowserEndpointOptions extends EndpointBaseOptions {
  /** Options of the default connector, {@link browserConnector}; `options.connect` replaces it altogether. */
  readonly dial?: BrowserDialOptions
}

/**
 * The browser's connector: a `;ws` URI (RFC 7977 §5.2.1, W-5.2.1-1) opens `wss://host:port<wsPath>` for `msrps`
 * and `ws://…` for `msrp` with {@link connectBrowserWebSocket} (subprotocol `msrp`, binary messages). It throws a
 * `TypeError` for any other transport (a page cannot open TCP; it goes through its relay, W-5.1-1), for a `.invalid`
 * host (a client's own URI, W-A-1: it names no machine) and for a URI without a port.
 */
export function browserConnector(options: BrowserDialOptions = {}): Connector {
  const { wsPath, ...socket } = options
  return (uri: MsrpUri) => {
    const text = formatUri(uri)
    if (uri.transport !== 'ws') {
      throw new TypeError(
        `${text}: a browser opens MSRP over WebSocket only (;ws URIs, RFC 7977); reach ;${uri.transport} peers through a relay`
      )
    }
    if (/\.invalid\.?$/i.test(uri.host)) {
      throw new TypeError(`${text}: a .invalid host names no machine (RFC 7977 W-A-1); reach it through its relay`)
    }
    if (uri.port === undefined) throw new TypeError(`${text}: a port is needed to connect`)
    const url = `${uri.scheme === 'msrps' ? 'wss' : 'ws'}://${uri.host}:${uri.port}${wsPath ?? '/'}`
    return connectBrowserWebSocket({ ...socket, url })
  }
}

/**
 * An MSRP endpoint for browsers (and any runtime with a WHATWG `WebSocket`): `MsrpEndpoint`'s API, connections
 * opened by {@link browserConnector} with `options.dial`. Typical use: `authenticate` a session at a relay over WSS,
 * then `connect` it to the peer's path through the relay.
 */
export class BrowserEndpoint extends MsrpEndpointBase {
  constructor(options: BrowserEndpointOptions = {}) {
    super({ ...options, connect: options.connect ?? browserConnector(options.dial) })
  }
}
