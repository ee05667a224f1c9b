/**
 * Every default of the transport layer, in one place (STYLE.md §2: SCREAMING_SNAKE with a unit suffix).
 * Each one can be overridden through the options of the function that uses it.
 */

/** How long a connect may take, TCP connect plus TLS or WebSocket handshake, before it fails with `ConnectTimeout`. */
export const CONNECT_TIMEOUT_MS = 10_000

/**
 * After `close()` a byte-stream transport sends its FIN and waits this long for the peer's before it destroys the
 * socket, so a half-open peer cannot hold a socket forever (ws has the same guard for the WebSocket closing handshake).
 */
export const SOCKET_CLOSE_TIMEOUT_MS = 10_000

/**
 * Outgoing bytes a transport queues in user space before `write` returns false (Node's default is 16 KiB; a 16 KiB
 * MSRP body piece plus its head would then always exceed it).
 */
export const WRITE_HIGH_WATER_MARK_BYTES = 64 * 1024

/** The lowest TLS version any TLS or WSS transport accepts (RFC 7525 §3.1.1: TLS 1.0 and 1.1 MUST NOT be used). */
export const TLS_MIN_VERSION = 'TLSv1.2'

/** Interval between WebSocket Pings (RFC 7977 §6, W-6-1); a connection whose peer stays silent for two is dropped. */
export const WS_KEEP_ALIVE_INTERVAL_MS = 30_000

/** Largest WebSocket message accepted; a larger one closes the connection with 1009 (Message Too Big). */
export const WS_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
