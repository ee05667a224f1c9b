// Memory per idle authenticated WebSocket session on our relay (issue 4: ≤ 16 KiB each). The relay runs in its own
// process (bench/relay-server.js with a WebSocket listener); this process opens SESSIONS WebSocket connections to it
// (subprotocol msrp, one frame per message, RFC 7977) in batches of BATCH, each AUTHs with Digest (401, then 200
// with Use-Path) and then stays idle. Figure: the relay's RSS after a full GC, after minus before, over SESSIONS.
// Baselines in the same run: a bare `ws` server process with as many connections (what the WebSocket library and
// the kernel cost), and a fresh relay process with as many connections that did not AUTH (what a relay connection
// costs before any session); the ratio is authenticated / bare `ws`. Each process may hold
// 20 000 descriptors here (`ulimit -n`); BENCH_IDLE_SESSIONS changes the count.
'use strict'
const path = require('node:path')
const WebSocket = require('ws')
const { Framer } = require('../dist/wire/framer')
const { getHeader } = require('../dist/wire/model')
const { answerChallenge } = require('../dist/wire/digest')
const { parseDigestChallenge, formatDigestCredentials } = require('../dist/wire/headers/digest-params')
const { newSessionId } = require('../dist/wire/ids')
const { encode } = require('./load')
const { relayProcess } = require('./relay')

const SESSIONS = Number(process.env.BENCH_IDLE_SESSIONS ?? 10_000)
const BATCH = 250
/** The whole case (opening, AUTH, measuring) must end within this. */
const TIME_LIMIT_MS = 180_000
const SETTLE_MS = 1_000
const KiB = 1024
const MiB = 1024 * KiB
const USERS = { bench: 'bench-secret' }
const ACCOUNT = { username: 'bench', password: 'bench-secret' }

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** One frame from one WebSocket message (RFC 7977: exactly one frame per message). */
function frameOf(data) {
  const events = new Framer().push(new Uint8Array(data))
  const e = events.find((x) => x.type === 'frame')
  if (e === undefined) throw new Error('a WebSocket message without a whole frame')
  return e.frame
}

const authFrame = (relayUri, fromUri, extra) => ({
  type: 'request',
  transactionId: newSessionId().slice(0, 12),
  method: 'AUTH',
  headers: [['To-Path', relayUri], ['From-Path', fromUri], ...extra],
  body: undefined,
  continuation: '$'
})

/** Opens one WebSocket; with `auth`, AUTHs over it. Resolves with the socket once done (200, or open). */
function openSession(port, auth) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['msrp'])
    const relayUri = `msrp://127.0.0.1:${port};ws`
    const fromUri = `msrp://${newSessionId().slice(0, 10).toLowerCase()}.invalid/${newSessionId()};ws`
    const send = (frame) => ws.send(Buffer.concat(encode(frame)))
    ws.once('error', reject)
    ws.once('close', () => reject(new Error('closed before AUTH was done')))
    ws.once('open', () => {
      if (!auth) return resolve(ws)
      send(authFrame(relayUri, fromUri, []))
    })
    ws.on('message', (data) => {
      const f = frameOf(data)
      if (f.type !== 'response') return
      if (f.status === 401) {
        const challenge = parseDigestChallenge(getHeader(f.headers, 'WWW-Authenticate') ?? '')
        if (challenge._tag === 'Left') return reject(new Error('bad challenge'))
        const c = answerChallenge(challenge.right, ACCOUNT, { digestUri: relayUri, nc: 1 })
        if (c._tag === 'Left') return reject(new Error(c.left.detail))
        send(authFrame(relayUri, fromUri, [['Authorization', formatDigestCredentials(c.right)]]))
      } else if (f.status === 200) {
        ws.removeAllListeners('close')
        ws.removeAllListeners('message')
        resolve(ws)
      } else reject(new Error(`AUTH answered ${f.status}`))
    })
  })
}

/** Opens `count` sessions in batches; returns the sockets. */
async function openAll(port, count, auth) {
  const sockets = []
  for (let i = 0; i < count; i += BATCH)
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, () => openSession(port, auth))))
    )
  return sockets
}

async function closeAll(sockets) {
  for (const ws of sockets) ws.terminate()
  await sleep(SETTLE_MS)
}

/** Relay RSS and heap growth for `count` connections, authenticated or not, on a fresh relay process. */
async function measure(count, auth, bare = false) {
  const relay = await relayProcess(bare ? { bare: true } : { users: USERS, ws: true })
  try {
    await sleep(SETTLE_MS)
    const before = await relay.ask('gc')
    const t0 = Date.now()
    const sockets = await openAll(relay.ready.wsPort, count, auth)
    const seconds = (Date.now() - t0) / 1000
    await sleep(SETTLE_MS)
    const after = await relay.ask('gc')
    const stats = await relay.ask('stats')
    await closeAll(sockets)
    return {
      seconds,
      connections: stats.connections,
      rssPerSession: (after.rss - before.rss) / count,
      heapPerSession: (after.heapUsed - before.heapUsed) / count,
      rssGrowth: after.rss - before.rss
    }
  } finally {
    await relay.stop()
  }
}

function withinLimit(promise) {
  let timer
  const limit = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`idle sessions: not done within ${TIME_LIMIT_MS} ms`)), TIME_LIMIT_MS)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

module.exports = async function idleSessionsBench() {
  return withinLimit(
    (async () => {
      const ws = await measure(SESSIONS, false, true)
      const plain = await measure(SESSIONS, false)
      const authed = await measure(SESSIONS, true)
      return [
        {
          case: `${SESSIONS} idle WebSocket connections to a bare \`ws\` server (no MSRP; baseline)`,
          rssGrowthMiB: ws.rssGrowth / MiB,
          rssPerConnKiB: ws.rssPerSession / KiB,
          heapPerConnKiB: ws.heapPerSession / KiB,
          open: ws.connections
        },
        {
          case: `${SESSIONS} idle WebSocket connections to the rx-msrp relay, no AUTH`,
          rssGrowthMiB: plain.rssGrowth / MiB,
          rssPerConnKiB: plain.rssPerSession / KiB,
          heapPerConnKiB: plain.heapPerSession / KiB,
          open: plain.connections
        },
        {
          case: `${SESSIONS} idle authenticated WebSocket sessions (Digest AUTH, Use-Path issued), batches of ${BATCH}`,
          rssGrowthMiB: authed.rssGrowth / MiB,
          rssPerSessionKiB: authed.rssPerSession / KiB,
          heapPerSessionKiB: authed.heapPerSession / KiB,
          ratio: authed.rssPerSession / ws.rssPerSession,
          open: authed.connections,
          openPerS: SESSIONS / authed.seconds
        }
      ]
    })()
  )
}
module.exports.openAll = openAll
