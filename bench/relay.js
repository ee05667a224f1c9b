// Relay forwarding (issue 4): small-SEND rate with latency percentiles through the relay, next to the same load
// generator talking to the sink directly (the baseline, measured in the same run). Run through `npm run bench`.
'use strict'
const net = require('node:net')
const { connect, sink, generate } = require('./load')
const { newSessionId } = require('../dist/wire/ids')

const MESSAGES = 200_000
const WINDOW = 64
const BODY_BYTES = 100
const TIME_LIMIT_MS = 120_000

/** A sink listening on loopback; resolves with its port, its stats and a close function. */
function listenSink(ownUri) {
  return new Promise((resolve) => {
    const stats = { sends: 0, bytes: 0 }
    const server = net.createServer((socket) => {
      socket.setNoDelay(true)
      const s = sink(socket, ownUri)
      Object.defineProperty(stats, 'of', { value: s, configurable: true })
    })
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: server.address().port, stats: () => stats.of, close: () => server.close() })
    )
  })
}

async function direct() {
  const sid = newSessionId()
  const sinkUri = (port) => `msrp://127.0.0.1:${port}/${sid};tcp`
  const s = await listenSink('msrp://127.0.0.1:1/placeholder;tcp')
  const socket = await connect(s.port)
  const r = await generate(socket, {
    toPath: sinkUri(s.port),
    fromPath: `msrp://127.0.0.1:1/${newSessionId()};tcp`,
    count: MESSAGES,
    window: WINDOW,
    bodyBytes: BODY_BYTES,
    timeLimitMs: TIME_LIMIT_MS
  })
  socket.destroy()
  s.close()
  return { ...r, delivered: s.stats().sends }
}

module.exports = async function relayBench() {
  const rows = []
  const base = await direct()
  rows.push({
    case: `load generator → sink directly, ${BODY_BYTES}-byte SENDs, window ${WINDOW} (baseline)`,
    msgsPerS: base.rate,
    p50ms: base.p50,
    p99ms: base.p99,
    lost: base.ok - base.delivered
  })
  return rows
}
