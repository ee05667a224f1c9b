import { Framer, type FramerEvent, type FramerOptions } from '../../src/wire/framer'
import type { MsrpFrame } from '../../src/wire/model'
import type { FramingFailure, FrameFailure } from '../../src/wire/failures'
import { concatBytes } from '../../src/wire/bytes'

/** Cuts `bytes` at the given offsets (sorted, deduplicated, clamped). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let at = 0
  for (const p of points) {
    if (p > at) out.push(bytes.subarray(at, p))
    at = p
  }
  if (at < bytes.length) out.push(bytes.subarray(at))
  return out
}

export interface Decoded {
  /** Complete frames, streamed pieces joined (a streamed frame is marked `streamed`). */
  readonly frames: MsrpFrame[]
  readonly frameFailures: FrameFailure[][]
  readonly streamed: boolean[]
  readonly failure: FramingFailure | undefined
}

/** Joins the events of a whole stream into frames (test helper: holds every body in memory). */
export function joinEvents(events: readonly FramerEvent[]): Decoded {
  const frames: MsrpFrame[] = []
  const frameFailures: FrameFailure[][] = []
  const streamed: boolean[] = []
  let failure: FramingFailure | undefined
  let head: Extract<FramerEvent, { type: 'head' }> | undefined
  let pieces: Uint8Array[] = []
  let expected = 0
  for (const e of events) {
    switch (e.type) {
      case 'frame':
        frames.push(e.frame)
        frameFailures.push([...e.failures])
        streamed.push(false)
        break
      case 'head':
        head = e
        pieces = []
        expected = 0
        break
      case 'body':
        if (e.position !== expected) throw new Error(`piece at ${e.position}, expected ${expected}`)
        expected += e.data.length
        pieces.push(e.data.slice())
        break
      case 'end':
        if (head === undefined) throw new Error('end without head')
        if (e.size !== expected) throw new Error(`end says ${e.size} bytes, pieces hold ${expected}`)
        frames.push({
          ...head.head,
          body: concatBytes(pieces.length ? pieces : [new Uint8Array(0)]),
          continuation: e.continuation
        })
        frameFailures.push([...head.failures])
        streamed.push(true)
        head = undefined
        break
      case 'failure':
        failure = e.failure
        break
    }
  }
  return { frames, frameFailures, streamed, failure }
}

/** Pushes each slice into one framer and joins the events. */
export function decodeSlices(slices: readonly Uint8Array[], options?: FramerOptions): Decoded & { framer: Framer } {
  const framer = new Framer(options)
  const events: FramerEvent[] = []
  for (const s of slices) events.push(...framer.push(s))
  return { ...joinEvents(events), framer }
}

/** Copies bodies so that frames compare by value whatever buffer their views point into. */
export function normalize(frames: readonly MsrpFrame[]): unknown[] {
  return frames.map((f) =>
    f.type === 'request' ? { ...f, body: f.body === undefined ? undefined : Array.from(f.body) } : { ...f }
  )
}
