/**
 * The transport layer (DESIGN.md layer 2): TCP, TLS, WebSocket and an in-memory pair behind one `Transport` contract.
 */
export * from './transport'
export * from './defaults'
export { socketTransport, type SocketTransportOptions } from './socket-transport'
export * from './tcp'
export * from './tls'
export * from './websocket'
export * from './browser-websocket'
export * from './memory'
