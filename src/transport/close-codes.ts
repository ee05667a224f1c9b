/**
 * What a WebSocket close code (RFC 6455 §7.4.1) means for a transport: `undefined` for a clean close, else the
 * `TransportError` reason. Shared by the `ws` transport and the browser's.
 */
import type { TransportReason } from './transport'

export function closeCodeReason(code: number): TransportReason | undefined {
  switch (code) {
    case 1000: // normal
    case 1001: // going away
    case 1005: // no status code in the close frame
      return undefined
    case 1006: // no close frame: the connection was lost
      return 'Reset'
    case 1002: // protocol error
    case 1003: // unsupported data
    case 1007: // invalid payload data
    case 1009: // message too big
    case 1010: // mandatory extension
      return 'ProtocolError'
    default:
      return 'Closed'
  }
}
