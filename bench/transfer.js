// Endpoint transfer throughput and receiver memory (issue 3). Run through `npm run bench` (builds dist/ first).
// One process holds both ends, as the raw-socket baseline does, so the ratio compares like with like.
'use strict'
const net = require('node:net')
const { randomBytes } = require('node:crypto')
const { lastValueFrom, firstValueFrom } = require('rxjs')
const { MsrpEndpoint } = require('../dist/session/endpoint')
const { listenTcp } = require('../dist/transport/tcp')
const { listenWebSocket } = require('../dist/transport/websocket')
const { newSessionId } = require('../dist/wire/ids')

const MiB = 1024 * 1024
const TOTAL_BYTES = 512 * MiB
const WRITE_BYTES = 64 * 1024
const block = randomBytes(WRITE_BYTES)

/** Raw TCP loopback: 64 KiB writes, honouring backpressure; resolves with MB/s once the reader has it all. */
function rawTcp(total) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      let got = 0
      const t0 = process.hrtime.bigint()
      socket.on('data', (d) => {
        got += d.length
        if (got >= total) {
          const s = Number(process.hrtime.bigint() - t0) / 1e9
          socket.destroy()
          server.close()
          resolve(total / 1e6 / s)
        }
      })
    })
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1', () => {
        let sent = 0
        const pump = () => {
          while (sent < total) {
            sent += WRITE_BYTES
            if (!c.write(block)) return c.once('drain', pump)
          }
        }
        pump()
      })
      c.on('error', reject)
    })
  })
}

async function* source(total) {
  for (let sent = 0; sent < total; sent += WRITE_BYTES) yield block
}

/** Keeps a listener alive while `fn` runs. */
async function withListener(listen$, fn) {
  let sub
  const listener = await new Promise((resolve, reject) => (sub = listen$.subscribe({ next: resolve, error: reject })))
  try {
    return await fn(listener)
  } finally {
    sub.unsubscribe()
  }
}

/** Endpoint → endpoint: one message of `total` bytes; the reader consumes at `consume` pace. */
async function transfer(kind, total, consume = async () => undefined) {
  const listen$ =
    kind === 'ws' ? listenWebSocket({ host: '127.0.0.1', port: 0 }) : listenTcp({ host: '127.0.0.1', port: 0 })
  return withListener(listen$, async (listener) => {
    const port = listener.address.port
    const bobEp = new MsrpEndpoint()
    bobEp.serve(listener)
    const bob = bobEp.createSession(`msrp://127.0.0.1:${port}/${newSessionId()};${kind}`)
    const aliceEp = new MsrpEndpoint()
    const alice = aliceEp.createSession(`msrp://127.0.0.1:1/${newSessionId()};${kind}`)
    await aliceEp.connect(alice, [bob.uri])
    const rss0 = process.memoryUsage().rss
    let peak = rss0
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
    const received = firstValueFrom(bob.messages$).then(async (m) => {
      let n = 0
      for await (const part of m.body) {
        n += part.length
        await consume(n)
      }
      return n
    })
    const t0 = process.hrtime.bigint()
    await lastValueFrom(alice.send(source(total), { size: total, contentType: 'application/octet-stream' }))
    const got = await received
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    clearInterval(sampler)
    aliceEp.close()
    bobEp.close()
    if (got !== total) throw new Error(`received ${got} of ${total}`)
    return { mbps: total / 1e6 / s, rssGrowthMiB: (peak - rss0) / MiB }
  })
}

module.exports = async function transferBench() {
  const rows = []
  global.gc?.()
  const raw = await rawTcp(TOTAL_BYTES)
  rows.push({ case: 'raw TCP loopback, 64 KiB writes (baseline)', MBps: raw })
  for (const kind of ['tcp', 'ws']) {
    global.gc?.()
    const r = await transfer(kind, TOTAL_BYTES)
    rows.push({
      case: `endpoint→endpoint 512 MiB over ${kind}, default chunks`,
      MBps: r.mbps,
      ratio: r.mbps / raw,
      rssGrowthMiB: r.rssGrowthMiB
    })
  }
  global.gc?.()
  // A slow application: 1 ms pause every MiB read (≈ 1 GB/s cap is not the point; the pauses make the queue fill).
  let nextPause = MiB
  const slow = await transfer('tcp', 256 * MiB, async (n) => {
    if (n >= nextPause) {
      nextPause += MiB
      await new Promise((r) => setTimeout(r, 1))
    }
  })
  rows.push({
    case: 'endpoint→endpoint 256 MiB over tcp, slow reader',
    MBps: slow.mbps,
    rssGrowthMiB: slow.rssGrowthMiB
  })
  return rows
}
module.exports.rawTcp = rawTcp
module.exports.transfer = transfer
