// Relay forwarding (issue 4): small-SEND rate with latency percentiles through the relay, next to the same load
// generator talking to the sink directly (the baseline, measured in the same run). Run through `npm run bench`.
'use strict'
const net = require('node:net')
const path = require('node:path')
const { fork } = require('node:child_process')
const { connect, authenticate, sink, generate } = require('./load')
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

/** Starts a relay process (`script`) with `cmd`; resolves with its first reply and a `stop` function. */
function relayProcess(script, cmd) {
  const child = fork(path.join(__dirname, script), [], { stdio: 'inherit' })
  const killer = setTimeout(() => child.kill(), TIME_LIMIT_MS * 2)
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', () => (clearTimeout(killer), resolve()))
      child.send('stop')
    })
  return new Promise((resolve, reject) => {
    child.once('message', (ready) => resolve({ ready, stop }))
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it listened`)))
    child.send(cmd)
  })
}

/**
 * generator → relay → sink: the sink authenticates (Digest) and gets its Use-Path; the generator, a peer without a
 * relay of its own, sends to Use-Path + the sink's URI without AUTH (RFC 4976 §6.4 allows exactly this).
 */
async function throughRelay(relayPort) {
  const relayUri = `msrp://127.0.0.1:${relayPort};tcp`
  const sinkUri = `msrp://127.0.0.1:1/${newSessionId()};tcp`
  const sinkSocket = await connect(relayPort)
  const usePath = await authenticate(sinkSocket, relayUri, sinkUri, { username: 'bench', password: 'bench-secret' })
  const stats = sink(sinkSocket, sinkUri)
  const socket = await connect(relayPort)
  const r = await generate(socket, {
    toPath: [...usePath, sinkUri].join(' '),
    fromPath: `msrp://127.0.0.1:1/${newSessionId()};tcp`,
    count: MESSAGES,
    window: WINDOW,
    bodyBytes: BODY_BYTES,
    timeLimitMs: TIME_LIMIT_MS
  })
  // Hop-by-hop: the relay's 200 comes before the sink has the SEND. Wait (bounded) until the sink has them all.
  for (let k = 0; k < 200 && stats.sends < r.ok; k++) await new Promise((resolve) => setTimeout(resolve, 10))
  socket.destroy()
  sinkSocket.destroy()
  return { ...r, delivered: stats.sends }
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
  const ours = await relayProcess('relay-server.js', { users: { bench: 'bench-secret' } })
  try {
    const r = await throughRelay(ours.ready.port)
    rows.push({
      case: 'through the rx-msrp relay (own process, TCP both sides)',
      msgsPerS: r.rate,
      ratio: r.rate / base.rate,
      p50ms: r.p50,
      p99ms: r.p99,
      lost: r.ok - r.delivered
    })
  } finally {
    await ours.stop()
  }
  return rows
}
