// Endpoint transfer throughput and receiver memory (issue 3). Run through `npm run bench` (builds dist/ first).
// Node → node: the receiver runs in a process of its own (bench/transfer-receiver.js), for the raw-socket baseline
// and for the endpoints alike, so the ratio compares like with like and each side has its own event loop, as two
// real peers would. Throughput is the receiver's: bytes over the time from its first byte to its last.
'use strict'
const net = require('node:net')
const path = require('node:path')
const { fork } = require('node:child_process')
const { randomBytes } = require('node:crypto')
const { lastValueFrom } = require('rxjs')
const { MsrpEndpoint } = require('../dist/session/endpoint')
const { newSessionId } = require('../dist/wire/ids')

const MiB = 1024 * 1024
const TOTAL_BYTES = 512 * MiB
const WRITE_BYTES = 64 * 1024
/** No single case may run longer than this; the bench then fails rather than hang. */
const CASE_TIMEOUT_MS = 120_000
const block = randomBytes(WRITE_BYTES)

/** Starts the receiver process with `cmd`; resolves with its listening reply and a promise of its result. */
function receiver(cmd) {
  const child = fork(path.join(__dirname, 'transfer-receiver.js'), [], { stdio: 'inherit' })
  const timer = setTimeout(() => child.kill(), CASE_TIMEOUT_MS)
  const replies = []
  const waiters = []
  child.on('message', (m) => (waiters.length > 0 ? waiters.shift()(m) : replies.push(m)))
  const next = () =>
    new Promise((resolve, reject) => {
      if (replies.length > 0) return resolve(replies.shift())
      waiters.push(resolve)
      child.once('exit', (code) => reject(new Error(`receiver exited (${code}) before answering`)))
    })
  child.send(cmd)
  return next().then((ready) => ({
    ready,
    result: next().finally(() => clearTimeout(timer))
  }))
}

async function* source(total) {
  for (let sent = 0; sent < total; sent += WRITE_BYTES) yield block
}

const mbps = (r) => r.got / 1e6 / (r.ms / 1000)
const growth = (r) => (r.rssPeak - r.rss0) / MiB

/** Raw TCP loopback: 64 KiB writes honouring backpressure, to a plain socket reader in another process. */
async function rawTcp(total) {
  const { ready, result } = await receiver({ mode: 'raw', total })
  const socket = net.connect(ready.port, '127.0.0.1')
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let sent = 0
  const pump = () => {
    while (sent < total) {
      sent += WRITE_BYTES
      if (!socket.write(block)) return void socket.once('drain', pump)
    }
  }
  pump()
  const r = await result
  socket.destroy()
  return { mbps: mbps(r), rssGrowthMiB: growth(r) }
}

/**
 * Endpoint → endpoint: one message of `total` bytes with default settings (or `chunkBytes`); `slow` makes the
 * reader pause.
 */
async function transfer(kind, total, slow = false, chunkBytes = undefined) {
  const { ready, result } = await receiver({ mode: 'endpoint', kind, total, slow })
  const alice = new MsrpEndpoint(chunkBytes === undefined ? {} : { chunkBytes })
  const session = alice.createSession(`msrp://127.0.0.1:1/${newSessionId()};${kind}`)
  await alice.connect(session, [ready.uri])
  await lastValueFrom(session.send(source(total), { size: total, contentType: 'application/octet-stream' }))
  const r = await result
  alice.close()
  if (r.got !== total) throw new Error(`received ${r.got} of ${total}`)
  return { mbps: mbps(r), rssGrowthMiB: growth(r) }
}

module.exports = async function transferBench() {
  const rows = []
  // The baseline is measured before and after the endpoint cases and averaged, so that a change in the machine's
  // load during the run weighs on both sides of the ratio alike.
  const before = await rawTcp(TOTAL_BYTES)
  const raw = { mbps: before.mbps }
  const baseline = { case: 'raw TCP loopback node→node, 64 KiB writes (baseline, mean of before and after)' }
  rows.push(baseline)
  // Default chunks: 1 MiB straight to the peer over TCP, 8 KiB over WebSocket (DIRECT_CHUNK_BYTES, chunkBytesFor);
  // and, for comparison, TCP with the 8 KiB chunks used through relays.
  const cases = [
    ['tcp', undefined, 'default chunks (1 MiB)'],
    ['tcp', 8192, '8 KiB chunks (the size through relays)'],
    ['ws', undefined, 'default chunks (8 KiB)']
  ]
  for (const [kind, chunkBytes, label] of cases) {
    global.gc?.()
    const r = await transfer(kind, TOTAL_BYTES, false, chunkBytes)
    rows.push({
      case: `endpoint→endpoint 512 MiB over ${kind}, ${label}`,
      MBps: r.mbps,
      ratio: r.mbps / raw.mbps,
      receiverRssGrowthMiB: r.rssGrowthMiB
    })
  }
  const after = await rawTcp(TOTAL_BYTES)
  raw.mbps = (before.mbps + after.mbps) / 2
  Object.assign(baseline, { MBps: raw.mbps, beforeAfter: `${before.mbps.toFixed(0)}–${after.mbps.toFixed(0)}` })
  for (const row of rows) if (row.ratio !== undefined) row.ratio = row.MBps / raw.mbps
  global.gc?.()
  const slow = await transfer('tcp', 256 * MiB, true)
  rows.push({
    case: 'endpoint→endpoint 256 MiB over tcp, slow reader (1 ms pause per MiB)',
    MBps: slow.mbps,
    receiverRssGrowthMiB: slow.rssGrowthMiB
  })
  return rows
}
module.exports.rawTcp = rawTcp
module.exports.transfer = transfer
