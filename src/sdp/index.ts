/**
 * SDP helpers for MSRP (DESIGN.md layer 6): the MSRP media description of offers and answers (RFC 4975 §8,
 * RFC 6135, RFC 6714, RFC 5547), and the plan a session needs from them. Pure: runs in Node and browsers.
 * docs/sip-integration.md.
 */
export * from './failures'
export * from './attributes'
export * from './fingerprint'
export * from './msrp-media'
export * from './offer-answer'
export * from './session-plan'
export * from './file-transfer'
export * from './multipart-related'
