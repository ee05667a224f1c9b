/**
 * rx-msrp: MSRP (RFC 4975), relays (RFC 4976) and MSRP over WebSocket (RFC 7977), reactive.
 * The public face: re-exports what integrators use, layer by layer.
 */
export * from './wire'
export * from './operators'
export * from './transport'
export * from './session'
export * from './relay'
export * from './config/relay-config'
export * from './cpim'
export * from './sdp'
