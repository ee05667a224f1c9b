// A pipelining MSRP load generator and a sink, written on the wire layer only (Framer, encoder, Digest) so that
// they cost little next to what they measure. Used by bench/relay.js: generator → sink directly (the baseline),
// then through relays (ours, Kamailio's, a chain of two of ours). Loopback only; every loop is bounded by a message
// count and a time limit.
'use strict'
const net = require('node:net')
const { Framer } = require('../dist/wire/framer')
const { encodeFrame } = require('../dist/wire/encoder')
const { getHeader } = require('../dist/wire/model')
const { answerChallenge } = require('../dist/wire/digest')
const { parseDigestChallenge, formatDigestCredentials } = require('../dist/wire/headers/digest-params')
const { newSessionId } = require('../dist/wire/ids')

/** How long an AUTH exchange (401, then 200) may take. */
const AUTH_TIME_LIMIT_MS = 10_000

/** Connects a plain TCP socket; resolves once connected. */
function connect(port, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => resolve(socket))
    socket.once('error', reject)
    socket.setNoDelay(true)
  })
}

/**
 * Frames what `socket` receives: `onFrame(frame)` for each whole frame (bodies up to 16 KiB), and for larger SENDs
 * `onHead(head)`, `onBody(bytes)`, `onEnd(end)`. Returns a function that stops listening.
 */
function onFrames(socket, { onFrame, onHead, onBody, onEnd }) {
  const framer = new Framer()
  const listener = (bytes) => {
    for (const e of framer.push(bytes)) {
      if (e.type === 'frame') onFrame?.(e.frame)
      else if (e.type === 'head') onHead?.(e.head)
      else if (e.type === 'body') onBody?.(e.data)
      else if (e.type === 'end') onEnd?.(e)
      else if (e.type === 'failure') socket.destroy(new Error(`framing: ${e.failure.reason} ${e.failure.detail ?? ''}`))
    }
  }
  socket.on('data', listener)
  return () => socket.off('data', listener)
}

/** The bytes of `frame` (head and body as separate pieces). */
function encode(frame) {
  const pieces = encodeFrame(frame)
  if (pieces._tag === 'Left') throw new Error(pieces.left.detail)
  return pieces.right
}

/** Writes `frame`; frames written in the same tick leave in one write (cork until the next tick). */
function write(socket, frame) {
  socket.cork()
  for (const p of encode(frame)) socket.write(p)
  process.nextTick(() => socket.uncork())
}

/**
 * AUTH to the relay at `relayUri` over `socket` with Digest (RFC 4976 §5.1) from `fromUri`; resolves with the
 * Use-Path URIs. Throws on anything but 401 then 200. `includeUri` adds `uri=` to Authorization (Kamailio needs it).
 */
function authenticate(
  socket,
  relayUri,
  fromUri,
  account,
  { includeUri = false, timeLimitMs = AUTH_TIME_LIMIT_MS } = {}
) {
  return new Promise((resolve, reject) => {
    let step = 0
    const limit = setTimeout(() => {
      detach()
      reject(new Error(`AUTH to ${relayUri}: no 200 within ${timeLimitMs} ms`))
    }, timeLimitMs)
    const fail = (why) => {
      clearTimeout(limit)
      detach()
      reject(new Error(why))
    }
    const auth = (extra) =>
      write(socket, {
        type: 'request',
        transactionId: newSessionId().slice(0, 12),
        method: 'AUTH',
        headers: [['To-Path', relayUri], ['From-Path', fromUri], ...extra],
        body: undefined,
        continuation: '$'
      })
    const detach = onFrames(socket, {
      onFrame: (f) => {
        if (f.type !== 'response') return
        if (step === 0 && f.status === 401) {
          step = 1
          const challenge = parseDigestChallenge(getHeader(f.headers, 'WWW-Authenticate') ?? '')
          if (challenge._tag === 'Left') return fail(`bad challenge: ${challenge.left}`)
          const credentials = answerChallenge(challenge.right, account, { digestUri: relayUri, nc: 1, includeUri })
          if (credentials._tag === 'Left') return fail(credentials.left.detail)
          auth([['Authorization', formatDigestCredentials(credentials.right)]])
        } else if (step === 1 && f.status === 200) {
          step = 2
          clearTimeout(limit)
          detach()
          resolve((getHeader(f.headers, 'Use-Path') ?? '').split(' ').filter((u) => u !== ''))
        } else if (step < 2) fail(`AUTH answered ${f.status} ${f.comment ?? ''}`)
      }
    })
    auth([])
  })
}

/**
 * A sink: answers 200 to every SEND with Failure-Report yes (RFC 4975 §7.2: To-Path = first From-Path URI) once its
 * end-line is in, and counts SENDs (chunks) and body bytes, whole or streamed. `socket` is connected (and
 * authenticated) already. `bytesPerS` makes it a slow reader: it pauses the socket whenever it is ahead of that rate.
 */
function sink(socket, ownUri, { bytesPerS } = {}) {
  const stats = { sends: 0, bytes: 0 }
  const answer = (headers, transactionId) => {
    if ((getHeader(headers, 'Failure-Report') ?? 'yes') !== 'yes') return
    const back = (getHeader(headers, 'From-Path') ?? '').split(' ')[0]
    write(socket, {
      type: 'response',
      transactionId,
      status: 200,
      comment: 'OK',
      headers: [
        ['To-Path', back],
        ['From-Path', ownUri]
      ],
      continuation: '$'
    })
  }
  let streamed
  onFrames(socket, {
    onFrame: (f) => {
      if (f.type !== 'request' || f.method !== 'SEND') return
      stats.sends++
      stats.bytes += f.body === undefined ? 0 : f.body.length
      answer(f.headers, f.transactionId)
    },
    onHead: (head) => (streamed = head),
    onBody: (bytes) => (stats.bytes += bytes.length),
    onEnd: () => {
      stats.sends++
      if (streamed !== undefined) answer(streamed.headers, streamed.transactionId)
      streamed = undefined
    }
  })
  if (bytesPerS !== undefined) {
    const t0 = Date.now()
    let read = 0
    socket.on('data', (bytes) => {
      read += bytes.length
      const ahead = (read / bytesPerS) * 1000 - (Date.now() - t0)
      if (ahead > 1) {
        socket.pause()
        setTimeout(() => socket.resume(), ahead)
      }
    })
  }
  return stats
}

/** Nearest-rank percentile of a sorted array. */
const percentile = (sorted, p) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

/**
 * Sends `count` SENDs of `bodyBytes` each to `toPath` with at most `window` unanswered, and waits for every response.
 * Each SEND is a whole message (Byte-Range 1-n/n), or with `oneMessage` a chunk of one message of
 * count × bodyBytes bytes (same Message-ID, Byte-Range continuing, `+` until the last chunk's `$`). Resolves with the
 * rate, the seconds, latency percentiles, how many were answered 200 and how many REPORTs came back; rejects after
 * `timeLimitMs`.
 */
function generate(socket, { toPath, fromPath, count, window, bodyBytes, timeLimitMs, oneMessage = false }) {
  const body = new Uint8Array(bodyBytes).fill(0x61)
  const total = count * bodyBytes
  return new Promise((resolve, reject) => {
    const sentAt = new Map()
    const latencies = []
    let sent = 0
    let ok = 0
    let failed = 0
    let reports = 0
    const t0 = process.hrtime.bigint()
    const limit = setTimeout(() => {
      detach()
      reject(new Error(`load: ${ok + failed} of ${count} answered within ${timeLimitMs} ms`))
    }, timeLimitMs)
    const sendOne = () => {
      const tid = `t${sent.toString(36)}x`.padEnd(8, '0')
      sentAt.set(tid, process.hrtime.bigint())
      const start = sent * bodyBytes + 1
      const last = sent === count - 1
      write(socket, {
        type: 'request',
        transactionId: tid,
        method: 'SEND',
        headers: [
          ['To-Path', toPath],
          ['From-Path', fromPath],
          ['Message-ID', oneMessage ? 'bulk0001' : `m${sent.toString(36)}x`.padEnd(8, '0')],
          ['Byte-Range', oneMessage ? `${start}-${start + bodyBytes - 1}/${total}` : `1-${bodyBytes}/${bodyBytes}`],
          ['Content-Type', 'text/plain']
        ],
        body,
        continuation: oneMessage && !last ? '+' : '$'
      })
      sent++
    }
    const detach = onFrames(socket, {
      onFrame: (f) => {
        if (f.type === 'request') {
          if (f.method === 'REPORT') reports++
          return
        }
        const at = sentAt.get(f.transactionId)
        if (at === undefined) return
        sentAt.delete(f.transactionId)
        latencies.push(Number(process.hrtime.bigint() - at) / 1e6)
        if (f.status === 200) ok++
        else failed++
        if (sent < count) sendOne()
        else if (sentAt.size === 0) {
          clearTimeout(limit)
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9
          latencies.sort((a, b) => a - b)
          resolve({
            rate: count / seconds,
            seconds,
            ok,
            failed,
            reports: () => reports,
            detach,
            p50: percentile(latencies, 50),
            p99: percentile(latencies, 99)
          })
        }
      }
    })
    while (sent < Math.min(window, count)) sendOne()
  })
}

/**
 * One SEND of `totalBytes` as a single chunk, its body streamed in `pieceBytes` writes that honour the socket's
 * backpressure; resolves with the seconds until its response, rejects after `timeLimitMs`.
 */
function streamSend(socket, { toPath, fromPath, totalBytes, pieceBytes, timeLimitMs }) {
  const tid = 'bigsend01'
  const [head] = encode({
    type: 'request',
    transactionId: tid,
    method: 'SEND',
    headers: [
      ['To-Path', toPath],
      ['From-Path', fromPath],
      ['Message-ID', 'big00001'],
      ['Byte-Range', `1-${totalBytes}/${totalBytes}`],
      ['Content-Type', 'application/octet-stream']
    ],
    body: new Uint8Array(1),
    continuation: '$'
  })
  const piece = Buffer.alloc(pieceBytes, 0x61)
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const limit = setTimeout(() => {
      detach()
      reject(new Error(`streamSend: no response within ${timeLimitMs} ms`))
    }, timeLimitMs)
    const detach = onFrames(socket, {
      onFrame: (f) => {
        if (f.type !== 'response' || f.transactionId !== tid) return
        clearTimeout(limit)
        detach()
        if (f.status !== 200) return reject(new Error(`streamSend answered ${f.status}`))
        resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9 })
      }
    })
    socket.write(head)
    let sent = 0
    const pump = () => {
      while (sent < totalBytes) {
        const n = Math.min(pieceBytes, totalBytes - sent)
        sent += n
        const more = socket.write(n === pieceBytes ? piece : piece.subarray(0, n))
        if (sent >= totalBytes) socket.write(`\r\n-------${tid}$\r\n`)
        if (!more) return void socket.once('drain', pump)
      }
    }
    pump()
  })
}

module.exports = { connect, authenticate, sink, generate, streamSend, onFrames, encode, percentile }
