/**
 * message/cpim (RFC 3862) for MSRP (RFC 4975 §13): encode and decode, the envelope headers, wrapping. Pure: runs in
 * browsers (DESIGN.md layer 7). docs/cpim.md.
 */
export * from './cpim'
export * from './envelope'
export * from './wrap'
