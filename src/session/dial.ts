/**
 * The Node connector of endpoints: opens a TCP, TLS or WebSocket transport (node:net, node:tls, `ws`) to the host of
 * an MSRP URI. Kept apart from the endpoint so that the browser entry (src/browser.ts), which dials with the
 * browser's own WebSocket, never reaches a Node built-in.
 */
import type { Observable } from 'rxjs'
import { formatUri, type MsrpUri } from '../wire/uri'
import type { Transport } from '../transport/transport'
import { connectTcp } from '../transport/tcp'
import { connectTls } from '../transport/tls'
import { connectWebSocket } from '../transport/websocket'

export interface DialOptions {
  /** TLS: trusted CAs (PEM), client certificate and key, and whether to verify (default true, C-5.4-5). */
  readonly ca?: string | Buffer | Array<string | Buffer>
  readonly cert?: string | Buffer
  readonly key?: string | Buffer
  readonly rejectUnauthorized?: boolean
  /** HTTP path of WebSocket URLs (`ws://host:port<path>`). Default `/`. */
  readonly wsPath?: string
  readonly timeoutMs?: number
}

/**
 * Opens a transport to the host of an MSRP URI: `msrps` means TLS (C-5.4-4), `;ws` WebSocket (RFC 7977 §5.2.1),
 * anything else TCP. The port must be explicit (C-6-2; SRV discovery is the relay's business, RFC 4976 §8).
 */
export function dial(uri: MsrpUri, options: DialOptions = {}): Observable<Transport> {
  const port = uri.port
  if (port === undefined) throw new TypeError(`${formatUri(uri)}: a port is needed to connect`)
  const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host
  const secure = uri.scheme === 'msrps'
  const tls = {
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {})
  }
  const timeoutMs = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}
  if (uri.transport === 'ws') {
    const url = `${secure ? 'wss' : 'ws'}://${uri.host}:${port}${options.wsPath ?? '/'}`
    return connectWebSocket({ url, ...tls, ...timeoutMs })
  }
  return secure ? connectTls({ host, port, ...tls, ...timeoutMs }) : connectTcp({ host, port, ...timeoutMs })
}
