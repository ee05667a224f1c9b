/**
 * The relay layer (DESIGN.md layer 5): RFC 4976 relays and the RFC 7977 WebSocket server. docs/relay.md.
 */
export * from './types'
export * from './credentials'
export * from './registry'
export * from './auth'
export * from './rewrite'
export * from './router'
export * from './relay'
export * from './observe'
export * from './certificate'
