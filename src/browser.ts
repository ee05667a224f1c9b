/**
 * rx-msrp for browsers: everything that does not need Node. The wire layer, the operators, the transport contract
 * and MSRP over the browser's native WebSocket (RFC 7977), sessions, endpoints (`BrowserEndpoint`) and the client
 * side of relays (AUTH with Digest, RFC 4976). Built by esbuild into dist/browser/rx-msrp.mjs (`npm run build`);
 * `npm test` fails if a Node built-in becomes reachable from here (scripts/check-browser-bundle.js). docs/browser.md.
 *
 * Not here: TCP, TLS and `ws` transports, `dial` and `MsrpEndpoint` (Node's connector), the in-memory transport
 * pair, the relay server (src/relay), config and CLI.
 */
export * from './wire'
export * from './operators'
export * from './transport/transport'
export * from './transport/defaults'
export * from './transport/browser-websocket'
export * from './session/byte-queue'
export * from './session/content'
export * from './session/writer'
export * from './session/connection'
export * from './session/incoming'
export * from './session/session'
export * from './session/endpoint-base'
export * from './session/relay-client'
export * from './session/browser-endpoint'
export * from './cpim'
export * from './session/cpim'
export * from './session/nickname'
export * from './sdp'
