// Our relay in a process of its own for bench/relay.js, as `rx-msrp relay` would run it (without logs): a TCP
// listener on loopback (and a WebSocket one with `ws: true`), the users of `users`; or, with `bare: true`, a bare
// `ws` server instead (the baseline of bench/idle-sessions.js). Commands over IPC, each answered
// with one message: the first (the config) with { port, wsPort }; 'rss' with { rss }; 'gc' (needs --expose-gc)
// with { rss, heapUsed } after a full collection; 'peak-start' starts sampling RSS every 10 ms and answers { rss };
// 'peak' answers { rss0, peak, growth } since 'peak-start' (growth: peak heapUsed, external and arrayBuffers
// minus their values at 'peak-start', and the largest relay.stats.bufferedBytes seen); 'cpu' answers { cpuS } (user + system seconds so far); 'stats'
// answers relay.stats; { snapshot: file } writes a heap snapshot there after a GC and answers { path }; 'stop'
// closes the relay and exits.
'use strict'
const { MsrpRelay, createAuthHandler, createRegistry, memoryCredentials } = require('../dist/relay')
const { listenTcp } = require('../dist/transport/tcp')
const { listenWebSocket } = require('../dist/transport/websocket')

const SAMPLE_MS = 10

const listening = (listen$) => new Promise((resolve, reject) => listen$.subscribe({ next: resolve, error: reject }))

/** `bare: true`: no relay, a bare `ws` server that accepts the msrp subprotocol and ignores every message. */
function bare() {
  const WebSocket = require('ws')
  const server = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'msrp' })
  server.on('connection', (ws) => ws.on('message', () => {}))
  server.on('listening', () => process.send({ wsPort: server.address().port }))
  process.on('message', (m) => {
    if (m === 'gc') {
      global.gc?.()
      global.gc?.()
      process.send({ rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed })
    } else if (m === 'stats') process.send({ connections: server.clients.size })
    else if (m === 'stop') process.exit(0)
  })
}

process.once('message', async (cmd) => {
  if (cmd.bare === true) return bare()
  const registry = createRegistry()
  const auth = createAuthHandler({ realm: '127.0.0.1', credentials: memoryCredentials(cmd.users), registry })
  const relay = new MsrpRelay({ auth, registry })
  const tcp = await listening(listenTcp({ host: '127.0.0.1', port: 0 }))
  relay.serve(tcp, `msrp://127.0.0.1:${tcp.address.port};tcp`)
  let wsPort
  if (cmd.ws === true) {
    const ws = await listening(listenWebSocket({ host: '127.0.0.1', port: 0 }))
    wsPort = ws.address.port
    relay.serve(ws, `msrp://127.0.0.1:${wsPort};ws`)
  }
  let rss0 = 0
  let peak = 0
  let sampler
  let mem0
  let memPeak
  process.on('message', (m) => {
    if (m === 'rss') process.send({ rss: process.memoryUsage.rss() })
    else if (m === 'gc') {
      global.gc?.()
      global.gc?.()
      process.send({ rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed })
    } else if (m === 'peak-start') {
      clearInterval(sampler)
      const u = process.memoryUsage()
      rss0 = peak = u.rss
      mem0 = { ...u, relayBuffered: 0 }
      memPeak = { heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, relayBuffered: 0 }
      sampler = setInterval(() => {
        const v = { ...process.memoryUsage(), relayBuffered: relay.stats.bufferedBytes }
        peak = Math.max(peak, v.rss)
        for (const k of Object.keys(memPeak)) memPeak[k] = Math.max(memPeak[k], v[k])
      }, SAMPLE_MS)
      process.send({ rss: rss0 })
    } else if (m === 'peak') {
      const growth = Object.fromEntries(Object.keys(memPeak).map((k) => [k, memPeak[k] - mem0[k]]))
      process.send({ rss0, peak: Math.max(peak, process.memoryUsage.rss()), growth })
    } else if (typeof m === 'object' && m.snapshot !== undefined) {
      global.gc?.()
      process.send({ path: require('node:v8').writeHeapSnapshot(m.snapshot) })
    } else if (m === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send({ cpuS: (user + system) / 1e6 })
    } else if (m === 'stats') process.send({ ...relay.stats })
    else if (m === 'stop') {
      clearInterval(sampler)
      relay.close().finally(() => process.exit(0))
    }
  })
  process.send({ port: tcp.address.port, wsPort })
})
