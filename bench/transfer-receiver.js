// The receiving side of bench/transfer.js, in a process of its own (node → node, as a real peer would be).
// Commands arrive over IPC: { mode: 'raw' | 'endpoint', kind, total, slow }. It answers { port, uri } once
// listening, then { got, ms, rss0, rssPeak } once `total` bytes have arrived, and exits.
'use strict'
const net = require('node:net')
const { MsrpEndpoint } = require('../dist/session/endpoint')
const { listenTcp } = require('../dist/transport/tcp')
const { listenWebSocket } = require('../dist/transport/websocket')
const { newSessionId } = require('../dist/wire/ids')

const MiB = 1024 * 1024
const SAMPLE_MS = 20

function sampler() {
  const rss0 = process.memoryUsage.rss()
  let peak = rss0
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), SAMPLE_MS)
  return () => {
    clearInterval(timer)
    return { rss0, rssPeak: Math.max(peak, process.memoryUsage.rss()) }
  }
}

function raw(total) {
  const server = net.createServer((socket) => {
    let got = 0
    let t0
    const stop = sampler()
    socket.on('data', (d) => {
      t0 ??= process.hrtime.bigint()
      got += d.length
      if (got >= total) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6
        process.send({ got, ms, ...stop() }, () => process.exit(0))
      }
    })
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}

function endpoint(kind, total, slow) {
  const listen$ =
    kind === 'ws' ? listenWebSocket({ host: '127.0.0.1', port: 0 }) : listenTcp({ host: '127.0.0.1', port: 0 })
  listen$.subscribe((listener) => {
    const ep = new MsrpEndpoint()
    ep.serve(listener)
    const bob = ep.createSession(`msrp://127.0.0.1:${listener.address.port}/${newSessionId()};${kind}`)
    bob.messages$.subscribe(async (m) => {
      const stop = sampler()
      const t0 = process.hrtime.bigint()
      let got = 0
      let nextPause = MiB
      for await (const part of m.body) {
        got += part.length
        // A slow application: 1 ms pause every MiB read, so the queue fills and backpressure must hold memory.
        if (slow && got >= nextPause) {
          nextPause += MiB
          await new Promise((r) => setTimeout(r, 1))
        }
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      process.send({ got, ms, ...stop() }, () => process.exit(0))
    })
    process.send({ port: listener.address.port, uri: bob.uri })
  })
}

process.once('message', (cmd) => {
  if (cmd.mode === 'raw') raw(cmd.total)
  else endpoint(cmd.kind, cmd.total, cmd.slow)
})
