/** The WebSocket subprotocol of MSRP (RFC 7977 §4.1, IANA WebSocket Subprotocol Name Registry). */
export const MSRP_SUBPROTOCOL = 'msrp'
