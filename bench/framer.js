// Framer throughput (issue 2). Run through `npm run bench` (it builds dist/ first).
// Reports MB/s for SENDs with random-binary bodies fed as 64 KiB reads, next to the baseline: a plain
// Buffer.indexOf scan for "\r\n-------" over the same reads; and frames/s for a stream of small frames.
'use strict'
const { randomBytes } = require('node:crypto')
const { Framer } = require('../dist/wire/framer')
const { encodeFrame } = require('../dist/wire/encoder')
const { concatBytes } = require('../dist/wire/bytes')

const READ_BYTES = 64 * 1024
const STREAM_BYTES = 64 * 1024 * 1024
const ROUNDS = 5

function send(tid, body) {
  const frame = {
    type: 'request',
    transactionId: tid,
    method: 'SEND',
    headers: [
      ['To-Path', 'msrp://127.0.0.1:2855/kjhd37s2s20w2a;tcp'],
      ['From-Path', 'msrp://127.0.0.1:7654/jshA7weztas;tcp'],
      ['Message-ID', 'm87652491abc'],
      ['Byte-Range', `1-*/${body.length}`],
      ['Content-Type', 'application/octet-stream']
    ],
    body,
    continuation: '$'
  }
  const r = encodeFrame(frame)
  if (r._tag === 'Left') throw new Error(r.left.detail)
  return concatBytes(r.right)
}

function ok(tid) {
  const r = encodeFrame({
    type: 'response',
    transactionId: tid,
    status: 200,
    comment: 'OK',
    headers: [
      ['To-Path', 'msrp://127.0.0.1:7654/jshA7weztas;tcp'],
      ['From-Path', 'msrp://127.0.0.1:2855/kjhd37s2s20w2a;tcp']
    ],
    continuation: '$'
  })
  return concatBytes(r.right)
}

/** A stream of `bodyBytes`-sized SENDs, about STREAM_BYTES long, cut into READ_BYTES reads. */
function bulkStream(bodyBytes) {
  const frames = []
  let n = 0
  for (let k = 0; n < STREAM_BYTES; k++) {
    const f = send('tid' + String(k).padStart(9, '0'), randomBytes(bodyBytes))
    frames.push(f)
    n += f.length
  }
  return reads(Buffer.concat(frames))
}

function reads(all) {
  const out = []
  for (let at = 0; at < all.length; at += READ_BYTES) out.push(all.subarray(at, at + READ_BYTES))
  return { reads: out, bytes: all.length }
}

/** A full GC between cases (run with --expose-gc), so one case's garbage is not collected in the next. */
function collect() {
  if (typeof global.gc === 'function') global.gc()
}

function best(fn) {
  let bestNs = Infinity
  let result
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint()
    result = fn()
    const ns = Number(process.hrtime.bigint() - t0)
    if (ns < bestNs) bestNs = ns
  }
  return { ns: bestNs, result }
}

function runFramer(stream) {
  const framer = new Framer()
  let frames = 0
  let bodyBytes = 0
  for (const read of stream.reads) {
    for (const e of framer.push(read)) {
      if (e.type === 'frame' || e.type === 'end') frames++
      if (e.type === 'body') bodyBytes += e.data.length
      else if (e.type === 'frame' && e.frame.body) bodyBytes += e.frame.body.length
      else if (e.type === 'failure') throw new Error(e.failure.detail)
    }
  }
  return { frames, bodyBytes }
}

function runBaseline(stream) {
  const needle = Buffer.from('\r\n-------')
  let hits = 0
  for (const read of stream.reads) {
    let at = read.indexOf(needle, 0)
    while (at !== -1) {
      hits++
      at = read.indexOf(needle, at + 1)
    }
  }
  return hits
}

const mbps = (bytes, ns) => bytes / 1e6 / (ns / 1e9)

module.exports = function framerBench() {
  const rows = []
  for (const bodyBytes of [64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024]) {
    const stream = bulkStream(bodyBytes)
    collect()
    const base = best(() => runBaseline(stream))
    const ours = best(() => runFramer(stream))
    rows.push({
      case: `SEND ${bodyBytes / 1024} KiB bodies, 64 KiB reads`,
      framerMBps: mbps(stream.bytes, ours.ns),
      baselineMBps: mbps(stream.bytes, base.ns),
      ratio: base.ns / ours.ns,
      frames: ours.result.frames
    })
  }
  // Small frames: ~270-byte SENDs alternating with 200 OK responses.
  const small = []
  let n = 0
  for (let k = 0; n < 32 * 1024 * 1024; k++) {
    const tid = 'tx' + String(k).padStart(10, '0')
    const s = send(tid, randomBytes(40))
    const r = ok(tid)
    small.push(s, r)
    n += s.length + r.length
  }
  const smallStream = reads(Buffer.concat(small))
  const sendLen = small[0].length
  const okLen = small[1].length
  small.length = 0 // only the stream stays alive: the measurement must not pay for the setup's garbage
  collect()
  const res = best(() => runFramer(smallStream))
  rows.push({
    case: `small frames (SEND ${sendLen} B / 200 OK ${okLen} B), 64 KiB reads`,
    framesPerSec: res.result.frames / (res.ns / 1e9),
    framerMBps: mbps(smallStream.bytes, res.ns),
    frames: res.result.frames
  })
  return rows
}
