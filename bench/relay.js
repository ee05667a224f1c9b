// Relay benchmarks (issue 4), run through `npm run bench` (or `node --expose-gc bench/run.js relay`). Each figure is
// reported next to a baseline measured in the same run; figures only, nothing is asserted. docs/benchmarks.md says
// what every row means. Loopback only; every case is bounded by a message count and a time limit.
//
// 1. Small SENDs: the pipelining generator of bench/load.js (window 64, 100-byte SENDs, TCP) → sink directly (the
//    baseline), through our relay (its own process, bench/relay-server.js) and through Kamailio's msrp module where
//    it is installed (bench/kamailio.js), with its logging on (the interop config) and off. ROUNDS rounds,
//    interleaved, so that the machine's noise hits every case alike; median and range reported.
// 2. Bulk: ≈ 512 MiB as one message in 10 000-byte chunks (Byte-Range continuation, window 64) the same three ways,
//    plus MsrpEndpoint → MsrpEndpoint directly (bench/transfer.js, 8 KiB chunks by default) for reference.
// 3. Slow receiver: our relay's peak RSS growth while a fast sender feeds a sink that reads at SLOW_BYTES_PER_S,
//    once with 10 000-byte chunks, once with one SEND whose body is SLOW_TOTAL_BYTES (cut-through); each next to
//    the same transfer to a sink that reads as fast as it can (the baseline).
// 4. A chain of two of our relays under pipelined load: SENDs answered 200 by relay 1 vs SENDs the sink received.
// Environment: BENCH_RELAY_ROUNDS (3), BENCH_RELAY_CASES (small,bulk,slow,chain; default all), BENCH_NO_KAMAILIO,
// BENCH_RELAY_PROF=dir (CPU profiles of the relay processes), BENCH_RELAY_NODE_ARGS (node options of the relays).
'use strict'
const net = require('node:net')
const path = require('node:path')
const { fork } = require('node:child_process')
const { connect, authenticate, sink, generate, streamSend } = require('./load')
const kamailio = require('./kamailio')
const { transfer } = require('./transfer')
const { newSessionId } = require('../dist/wire/ids')

const MiB = 1024 * 1024
const ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS ?? 3)
const MESSAGES = 200_000
const WINDOW = 64
const BODY_BYTES = 100
const BULK_CHUNK_BYTES = 10_000
const BULK_CHUNKS = Math.floor((512 * MiB) / BULK_CHUNK_BYTES)
const SLOW_BYTES_PER_S = 64 * MiB
const SLOW_TOTAL_BYTES = 256 * MiB
const CHAIN_MESSAGES = 200_000
/** No single case may run longer than this; it then fails rather than hang. */
const TIME_LIMIT_MS = 120_000
/** How long the sink may lag behind the relay's 200s (hop by hop) once the generator is done. */
const DRAIN_LIMIT_MS = 10_000
const USERS = { bench: 'bench-secret' }
const ACCOUNT = { username: 'bench', password: 'bench-secret' }

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const spread = (xs) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`

/** Waits (bounded) until `stats.sends` reaches `n`. */
async function drained(stats, n) {
  for (const end = Date.now() + DRAIN_LIMIT_MS; stats.sends < n && Date.now() < end;) await sleep(10)
}

/** A sink listening on loopback; resolves with its port, its stats (of the last connection) and a close function. */
function listenSink(ownUri) {
  return new Promise((resolve) => {
    let stats = { sends: 0, bytes: 0 }
    const sockets = new Set()
    const server = net.createServer((socket) => {
      socket.setNoDelay(true)
      sockets.add(socket)
      stats = sink(socket, ownUri)
    })
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        stats: () => stats,
        close: () => (sockets.forEach((s) => s.destroy()), server.close())
      })
    )
  })
}

/**
 * A child process running `script` (bench/relay-server.js); `ask(message)` resolves with its next reply. Killed
 * after TIME_LIMIT_MS × 10 whatever happens. BENCH_RELAY_PROF=dir profiles it (`node --cpu-prof`);
 * BENCH_RELAY_NODE_ARGS adds node options (e.g. `--max-semi-space-size=2`).
 */
function relayProcess(cmd) {
  const prof = process.env.BENCH_RELAY_PROF
  const extra = process.env.BENCH_RELAY_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []
  const execArgv = ['--expose-gc', ...extra, ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [])]
  const child = fork(path.join(__dirname, 'relay-server.js'), [], { stdio: 'inherit', execArgv })
  const killer = setTimeout(() => child.kill(), TIME_LIMIT_MS * 10)
  const waiters = []
  let exited = false
  child.on('message', (m) => waiters.shift()?.resolve(m))
  child.once('exit', (code) => {
    exited = true
    clearTimeout(killer)
    for (const w of waiters.splice(0)) w.reject(new Error(`relay-server exited (${code})`))
  })
  const ask = (message) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error('relay-server has exited'))
      waiters.push({ resolve, reject })
      child.send(message)
    })
  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve()
      child.once('exit', () => resolve())
      child.send('stop')
    })
  return ask(cmd).then((ready) => ({ ready, ask, stop }))
}

/** How a relay under test is driven: its TCP port and URI, how the sink AUTHs there, its CPU seconds so far. */
const ourRelay = (proc) => ({
  port: proc.ready.port,
  uri: `msrp://127.0.0.1:${proc.ready.port};tcp`,
  account: ACCOUNT,
  includeUri: false,
  cpu: async () => (await proc.ask('cpu')).cpuS
})
const kamailioRelay = (k) => ({
  port: k.tcpPort,
  uri: k.tcpUri,
  account: k.account,
  includeUri: true,
  cpu: async () => kamailio.cpuSeconds(k.pids()),
  logged: () => k.loggedBytes()
})

/** generator → sink directly. */
async function direct(load) {
  const s = await listenSink('msrp://127.0.0.1:1/placeholder;tcp')
  const socket = await connect(s.port)
  const r = await generate(socket, {
    toPath: `msrp://127.0.0.1:${s.port}/${newSessionId()};tcp`,
    fromPath: `msrp://127.0.0.1:1/${newSessionId()};tcp`,
    timeLimitMs: TIME_LIMIT_MS,
    ...load
  })
  await drained(s.stats(), r.ok)
  socket.destroy()
  s.close()
  return { ...r, delivered: s.stats().sends, bytes: s.stats().bytes }
}

/**
 * generator → relay → sink: the sink authenticates (Digest) and gets its Use-Path; the generator, a peer without a
 * relay of its own, sends to Use-Path + the sink's URI without AUTH (RFC 4976 §6.4 allows exactly this).
 */
async function through(relay, load, { bytesPerS } = {}) {
  const sinkUri = `msrp://127.0.0.1:1/${newSessionId()};tcp`
  const sinkSocket = await connect(relay.port)
  const usePath = await authenticate(sinkSocket, relay.uri, sinkUri, relay.account, { includeUri: relay.includeUri })
  const stats = sink(sinkSocket, sinkUri, { bytesPerS })
  const socket = await connect(relay.port)
  const cpu0 = await relay.cpu()
  const logged0 = relay.logged?.() ?? 0
  const r = await generate(socket, {
    toPath: [...usePath, sinkUri].join(' '),
    fromPath: `msrp://127.0.0.1:1/${newSessionId()};tcp`,
    timeLimitMs: TIME_LIMIT_MS,
    ...load
  })
  const cpuS = (await relay.cpu()) - cpu0
  // Hop by hop: the relay's 200 comes before the sink has the SEND. Wait (bounded) until the sink has them all.
  await drained(stats, r.ok)
  socket.destroy()
  sinkSocket.destroy()
  const logBytesPerMsg = ((relay.logged?.() ?? 0) - logged0) / load.count
  return { ...r, delivered: stats.sends, bytes: stats.bytes, cpuS, cores: cpuS / r.seconds, logBytesPerMsg }
}

const small = { count: MESSAGES, window: WINDOW, bodyBytes: BODY_BYTES }
const bulk = { count: BULK_CHUNKS, window: WINDOW, bodyBytes: BULK_CHUNK_BYTES, oneMessage: true }

/** Runs every case of `cases` (name → () => result) ROUNDS times, interleaved; returns name → results. */
async function rounds(cases) {
  const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, run] of Object.entries(cases)) {
      global.gc?.()
      results[name].push(await run())
    }
  return results
}

/** Both Kamailio configurations, where installed; one that does not start is left out and said so in `failed`. */
async function startKamailios() {
  const started = {}
  if (!kamailio.installed() || process.env.BENCH_NO_KAMAILIO) return started
  for (const [name, logging] of [
    ['quiet', false],
    ['logging', true]
  ])
    try {
      started[name] = await kamailio.startKamailio({ logging })
    } catch (e) {
      started.failed = `${started.failed ?? ''}${name}: ${String(e.message).split('\n')[0]} `
    }
  return started
}

async function smallAndBulk(rows, want) {
  const ours = await relayProcess({ users: USERS })
  const k = await startKamailios()
  try {
    const relays = { ours: ourRelay(ours) }
    if (k.quiet) relays.kamailioQuiet = kamailioRelay(k.quiet)
    if (k.logging) relays.kamailioLogging = kamailioRelay(k.logging)
    const labels = {
      ours: 'through the rx-msrp relay (own process)',
      kamailioQuiet: 'through Kamailio 5.6 msrp, logging off (debug=-1)',
      kamailioLogging: 'through Kamailio 5.6 msrp, logging on (interop cfg, debug=2)'
    }

    if (want('small')) await smallRows(rows, relays, labels)
    if (want('bulk')) await bulkRows(rows, relays, labels)
  } finally {
    await ours.stop()
    await k.quiet?.stop()
    await k.logging?.stop()
  }
  if (k.failed !== undefined) rows.push({ case: `Kamailio did not start: ${k.failed}` })
  else if (!k.quiet)
    rows.push({
      case: `Kamailio not installed (${kamailio.KAMAILIO_BINARY}) or BENCH_NO_KAMAILIO set: no Kamailio rows`
    })
}

async function smallRows(rows, relays, labels) {
  const smallRuns = await rounds({
    direct: () => direct(small),
    ...Object.fromEntries(Object.entries(relays).map(([name, relay]) => [name, () => through(relay, small)]))
  })
  const base = median(smallRuns.direct.map((r) => r.rate))
  const kq = smallRuns.kamailioQuiet && median(smallRuns.kamailioQuiet.map((r) => r.rate))
  for (const [name, runs] of Object.entries(smallRuns)) {
    const rate = median(runs.map((r) => r.rate))
    rows.push({
      case:
        name === 'direct'
          ? `${BODY_BYTES}-byte SENDs, window ${WINDOW}: generator → sink directly (baseline)`
          : `${BODY_BYTES}-byte SENDs ${labels[name]}`,
      msgsPerS: rate,
      range: spread(runs.map((r) => r.rate)),
      ratio: rate / base,
      ...(name === 'ours' && kq ? { vsKamailioQuiet: rate / kq } : {}),
      p50ms: median(runs.map((r) => r.p50)),
      p99ms: median(runs.map((r) => r.p99)),
      ...(name === 'direct'
        ? {}
        : {
            relayCores: median(runs.map((r) => r.cores)),
            relayCpuUsPerMsg: median(runs.map((r) => (r.cpuS / r.ok) * 1e6))
          }),
      ...(name.startsWith('kamailio') ? { logBytesPerMsg: median(runs.map((r) => r.logBytesPerMsg)) } : {}),
      lost: Math.max(...runs.map((r) => r.ok - r.delivered)),
      failed: Math.max(...runs.map((r) => r.failed))
    })
  }
}

async function bulkRows(rows, relays, labels) {
  const bulkRelays = { ours: relays.ours, ...(relays.kamailioQuiet ? { kamailioQuiet: relays.kamailioQuiet } : {}) }
  const bulkRuns = await rounds({
    direct: () => direct(bulk),
    ...Object.fromEntries(Object.entries(bulkRelays).map(([name, relay]) => [name, () => through(relay, bulk)]))
  })
  const mbps = (r) => r.bytes / 1e6 / r.seconds
  const bulkBase = median(bulkRuns.direct.map(mbps))
  const kBulk = bulkRuns.kamailioQuiet && median(bulkRuns.kamailioQuiet.map(mbps))
  for (const [name, runs] of Object.entries(bulkRuns)) {
    const rate = median(runs.map(mbps))
    rows.push({
      case:
        name === 'direct'
          ? `${Math.round((BULK_CHUNKS * BULK_CHUNK_BYTES) / MiB)} MiB in ${BULK_CHUNK_BYTES}-byte chunks: generator → sink directly (baseline)`
          : `bulk ${labels[name]}`,
      MBps: rate,
      range: spread(runs.map(mbps)),
      ratio: rate / bulkBase,
      ...(name === 'ours' && kBulk ? { vsKamailioQuiet: rate / kBulk } : {}),
      ...(name === 'direct'
        ? {}
        : {
            relayCores: median(runs.map((r) => r.cores)),
            relayCpuSPerGB: median(runs.map((r) => r.cpuS / (r.bytes / 1e9)))
          }),
      lost: Math.max(...runs.map((r) => r.ok - r.delivered)),
      bytesShort: Math.max(...runs.map((r) => BULK_CHUNKS * BULK_CHUNK_BYTES - r.bytes))
    })
  }
  // For reference: our endpoints, one 512 MiB message with their default chunking, receiver in its own process.
  const endpoints = []
  for (let round = 0; round < ROUNDS; round++) {
    global.gc?.()
    endpoints.push((await transfer('tcp', 512 * MiB)).mbps)
  }
  rows.push({
    case: 'bulk endpoint → endpoint directly (MsrpEndpoint, 512 MiB, default chunks: 1 MiB straight to the peer, bench/transfer.js)',
    MBps: median(endpoints),
    range: spread(endpoints),
    ratio: median(endpoints) / bulkBase
  })
}

/** Our relay's peak RSS growth while a slow sink reads: 10 000-byte chunks, then one huge SEND (cut-through). */
async function slowReceiver(rows) {
  for (const shape of ['chunks', 'one SEND'])
    for (const bytesPerS of [undefined, SLOW_BYTES_PER_S]) {
      const ours = await relayProcess({ users: USERS })
      try {
        const relay = ourRelay(ours)
        const sinkUri = `msrp://127.0.0.1:1/${newSessionId()};tcp`
        const sinkSocket = await connect(relay.port)
        const usePath = await authenticate(sinkSocket, relay.uri, sinkUri, relay.account)
        const stats = sink(sinkSocket, sinkUri, { bytesPerS })
        const socket = await connect(relay.port)
        await ours.ask('gc')
        const { rss } = await ours.ask('peak-start')
        const toPath = [...usePath, sinkUri].join(' ')
        const fromPath = `msrp://127.0.0.1:1/${newSessionId()};tcp`
        const t0 = Date.now()
        if (shape === 'chunks')
          await generate(socket, {
            toPath,
            fromPath,
            count: Math.floor(SLOW_TOTAL_BYTES / BULK_CHUNK_BYTES),
            window: WINDOW,
            bodyBytes: BULK_CHUNK_BYTES,
            oneMessage: true,
            timeLimitMs: TIME_LIMIT_MS
          })
        else
          await streamSend(socket, {
            toPath,
            fromPath,
            totalBytes: SLOW_TOTAL_BYTES,
            pieceBytes: 64 * 1024,
            timeLimitMs: TIME_LIMIT_MS
          })
        const expected =
          shape === 'chunks' ? Math.floor(SLOW_TOTAL_BYTES / BULK_CHUNK_BYTES) * BULK_CHUNK_BYTES : SLOW_TOTAL_BYTES
        for (const end = Date.now() + TIME_LIMIT_MS; stats.bytes < expected && Date.now() < end;) await sleep(20)
        const seconds = (Date.now() - t0) / 1000
        const { rss0, peak, growth } = await ours.ask('peak')
        socket.destroy()
        sinkSocket.destroy()
        rows.push({
          case: `${SLOW_TOTAL_BYTES / MiB} MiB ${
            shape === 'chunks' ? `in ${BULK_CHUNK_BYTES}-byte chunks, window ${WINDOW}` : 'as one SEND (one chunk)'
          } through the rx-msrp relay to a ${
            bytesPerS === undefined ? 'fast receiver (baseline)' : `slow receiver (${bytesPerS / MiB} MiB/s)`
          }`,
          relayRssBeforeMiB: rss / MiB,
          relayRssPeakGrowthMiB: (peak - rss0) / MiB,
          heapPeakGrowthMiB: growth.heapUsed / MiB,
          arrayBuffersPeakGrowthMiB: growth.arrayBuffers / MiB,
          relayBufferedPeakKiB: growth.relayBuffered / 1024,
          receivedMiB: stats.bytes / MiB,
          MBps: stats.bytes / 1e6 / seconds
        })
      } finally {
        await ours.stop()
      }
    }
}

/**
 * generator → relay 1 → relay 2 → sink: both ends AUTH (the generator at relay 1, the sink at relay 2), the
 * generator sends to its own Use-Path + the sink's Use-Path + the sink's URI. Lost = answered 200 by relay 1 but
 * never received by the sink.
 */
async function chain(rows) {
  const r1 = await relayProcess({ users: USERS })
  const r2 = await relayProcess({ users: USERS })
  try {
    const relay1 = ourRelay(r1)
    const relay2 = ourRelay(r2)
    const sinkUri = `msrp://127.0.0.1:1/${newSessionId()};tcp`
    const sinkSocket = await connect(relay2.port)
    const sinkPath = await authenticate(sinkSocket, relay2.uri, sinkUri, ACCOUNT)
    const stats = sink(sinkSocket, sinkUri)
    const genUri = `msrp://127.0.0.1:1/${newSessionId()};tcp`
    const socket = await connect(relay1.port)
    const genPath = await authenticate(socket, relay1.uri, genUri, ACCOUNT)
    const r = await generate(socket, {
      toPath: [...genPath, ...sinkPath, sinkUri].join(' '),
      fromPath: genUri,
      count: CHAIN_MESSAGES,
      window: WINDOW,
      bodyBytes: BODY_BYTES,
      timeLimitMs: TIME_LIMIT_MS
    })
    await drained(stats, r.ok)
    await sleep(200) // a failure REPORT, if any, has time to come back
    socket.destroy()
    sinkSocket.destroy()
    rows.push({
      case: `chain generator → rx-msrp relay 1 → relay 2 → sink, ${BODY_BYTES}-byte SENDs, window ${WINDOW}`,
      msgsPerS: r.rate,
      p50ms: r.p50,
      p99ms: r.p99,
      answered200: r.ok,
      failed: r.failed,
      delivered: stats.sends,
      lost: r.ok - stats.sends,
      reports: r.reports()
    })
  } finally {
    await r1.stop()
    await r2.stop()
  }
}

module.exports = async function relayBench() {
  const rows = []
  const only = process.env.BENCH_RELAY_CASES?.split(',')
  const want = (name) => only === undefined || only.includes(name)
  if (want('small') || want('bulk')) await smallAndBulk(rows, want)
  if (want('slow')) await slowReceiver(rows)
  if (want('chain')) await chain(rows)
  return rows
}
module.exports.relayProcess = relayProcess
