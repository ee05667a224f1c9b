// A pipelining MSRP load generator and a sink, written on the wire layer only (Framer, encoder, Digest) so that
// they cost little next to what they measure. Used by bench/relay.js: generator → sink directly (the baseline),
// then through relays. Loopback only; every loop is bounded by a message count and a time limit.
'use strict'
const net = require('node:net')
const { Framer } = require('../dist/wire/framer')
const { encodeFrame } = require('../dist/wire/encoder')
const { getHeader } = require('../dist/wire/model')
const { answerChallenge } = require('../dist/wire/digest')
const { parseDigestChallenge, formatDigestCredentials } = require('../dist/wire/headers/digest-params')
const { newSessionId } = require('../dist/wire/ids')

/** Connects a plain TCP socket; resolves once connected. */
function connect(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => resolve(socket))
    socket.once('error', reject)
    socket.setNoDelay(true)
  })
}

/** Frames what `socket` receives and calls `onFrame(frame)` for each whole frame (bodies up to 16 KiB). */
function onFrames(socket, onFrame) {
  const framer = new Framer()
  socket.on('data', (bytes) => {
    for (const e of framer.push(bytes)) {
      if (e.type === 'frame') onFrame(e.frame)
      else if (e.type === 'failure') socket.destroy(new Error(`framing: ${e.failure.reason} ${e.failure.detail ?? ''}`))
    }
  })
}

function write(socket, frame) {
  const pieces = encodeFrame(frame)
  if (pieces._tag === 'Left') throw new Error(pieces.left.detail)
  socket.cork()
  for (const p of pieces.right) socket.write(p)
  process.nextTick(() => socket.uncork())
}

/**
 * AUTH to the relay at `relayUri` over `socket` with Digest (RFC 4976 §5.1) from `fromUri`; resolves with the
 * Use-Path URIs. Throws on anything but 401 then 200.
 */
function authenticate(socket, relayUri, fromUri, account) {
  return new Promise((resolve, reject) => {
    let step = 0
    const auth = (extra) =>
      write(socket, {
        type: 'request',
        transactionId: newSessionId().slice(0, 12),
        method: 'AUTH',
        headers: [['To-Path', relayUri], ['From-Path', fromUri], ...extra],
        body: undefined,
        continuation: '$'
      })
    onFrames(socket, (f) => {
      if (f.type !== 'response') return
      if (step === 0 && f.status === 401) {
        step = 1
        const challenge = parseDigestChallenge(getHeader(f.headers, 'WWW-Authenticate') ?? '')
        if (challenge._tag === 'Left') return reject(new Error(`bad challenge: ${challenge.left}`))
        const credentials = answerChallenge(challenge.right, account, { digestUri: relayUri, nc: 1 })
        if (credentials._tag === 'Left') return reject(new Error(credentials.left.detail))
        auth([['Authorization', formatDigestCredentials(credentials.right)]])
      } else if (step === 1 && f.status === 200) {
        step = 2
        resolve((getHeader(f.headers, 'Use-Path') ?? '').split(' ').filter((u) => u !== ''))
      } else if (step < 2) reject(new Error(`AUTH answered ${f.status} ${f.comment ?? ''}`))
    })
    auth([])
  })
}

/**
 * A sink: answers 200 to every SEND with Failure-Report yes (RFC 4975 §7.2: To-Path = first From-Path URI) and
 * counts SENDs and body bytes. `socket` is connected already; call `attach` once, before or after AUTH.
 */
function sink(socket, ownUri) {
  const stats = { sends: 0, bytes: 0 }
  onFrames(socket, (f) => {
    if (f.type !== 'request' || f.method !== 'SEND') return
    stats.sends++
    stats.bytes += f.body === undefined ? 0 : f.body.length
    if ((getHeader(f.headers, 'Failure-Report') ?? 'yes') !== 'yes') return
    const back = (getHeader(f.headers, 'From-Path') ?? '').split(' ')[0]
    write(socket, {
      type: 'response',
      transactionId: f.transactionId,
      status: 200,
      comment: 'OK',
      headers: [
        ['To-Path', back],
        ['From-Path', ownUri]
      ],
      continuation: '$'
    })
  })
  return stats
}

/** Nearest-rank percentile of a sorted array. */
const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

/**
 * Sends `count` SENDs of `bodyBytes` each to `toPath` with at most `window` unanswered, each a whole message
 * (Byte-Range 1-n/n), and waits for every 200. Resolves with the rate, latency percentiles and how many were
 * answered 200; rejects after `timeLimitMs`.
 */
function generate(socket, { toPath, fromPath, count, window, bodyBytes, timeLimitMs }) {
  const body = new Uint8Array(bodyBytes).fill(0x61)
  const contentType = 'text/plain'
  return new Promise((resolve, reject) => {
    const sentAt = new Map()
    const latencies = []
    let sent = 0
    let ok = 0
    let failed = 0
    const t0 = process.hrtime.bigint()
    const limit = setTimeout(
      () => reject(new Error(`load: ${ok + failed} of ${count} answered within ${timeLimitMs} ms`)),
      timeLimitMs
    )
    const sendOne = () => {
      const tid = `t${sent.toString(36)}x`.padEnd(8, '0')
      sentAt.set(tid, process.hrtime.bigint())
      write(socket, {
        type: 'request',
        transactionId: tid,
        method: 'SEND',
        headers: [
          ['To-Path', toPath],
          ['From-Path', fromPath],
          ['Message-ID', `m${sent.toString(36)}x`.padEnd(8, '0')],
          ['Byte-Range', `1-${bodyBytes}/${bodyBytes}`],
          ['Content-Type', contentType]
        ],
        body,
        continuation: '$'
      })
      sent++
    }
    onFrames(socket, (f) => {
      if (f.type !== 'response') return
      const at = sentAt.get(f.transactionId)
      if (at === undefined) return
      sentAt.delete(f.transactionId)
      latencies.push(Number(process.hrtime.bigint() - at) / 1e6)
      if (f.status === 200) ok++
      else failed++
      if (sent < count) sendOne()
      else if (sentAt.size === 0) {
        clearTimeout(limit)
        const s = Number(process.hrtime.bigint() - t0) / 1e9
        latencies.sort((a, b) => a - b)
        resolve({
          rate: count / s,
          ok,
          failed,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99)
        })
      }
    })
    while (sent < Math.min(window, count)) sendOne()
  })
}

module.exports = { connect, authenticate, sink, generate }
