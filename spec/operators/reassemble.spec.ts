import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { from, lastValueFrom, toArray } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { validateSend, type SendHead } from '../../src/wire/chunk'
import type { Continuation } from '../../src/wire/model'
import { reassemble, type ReassemblyEvent, type SendPiece } from '../../src/operators/reassemble'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

let tidCounter = 0
function head(messageId: string, byteRange: string, extra: Array<[string, string]> = []): SendHead {
  const r = validateSend(
    {
      type: 'request',
      transactionId: `tid${++tidCounter}x`,
      method: 'SEND',
      headers: [
        ['To-Path', 'msrp://127.0.0.1:2855/s1;tcp'],
        ['From-Path', 'msrp://127.0.0.1:2856/s2;tcp'],
        ['Message-ID', messageId],
        ['Byte-Range', byteRange],
        ...extra,
        ['Content-Type', 'text/plain']
      ]
    },
    true
  )
  if (E.isLeft(r)) throw new Error(r.left.detail)
  return r.right
}

/** A whole chunk as one piece. */
const chunk = (messageId: string, range: string, body: string, end: Continuation): SendPiece => ({
  head: head(messageId, range),
  data: bytes(body),
  position: 0,
  end,
  bodiless: false
})

const run = async (pieces: SendPiece[], options = {}): Promise<ReassemblyEvent[]> =>
  lastValueFrom(from(pieces).pipe(reassemble(options), toArray()))

/** The message bodies as delivered, by Message-ID, checking data comes in order without gaps. */
function bodies(events: ReassemblyEvent[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of events) {
    if (e.type === 'data') {
      const sofar = out[e.messageId] ?? ''
      expect(e.offset).toBe(bytes(sofar).length)
      out[e.messageId] = sofar + text(e.data)
    }
  }
  return out
}

const types = (events: ReassemblyEvent[]) => events.map((e) => e.type)

describe('reassemble (RFC 4975 §7.3.1)', () => {
  it('marble: a message in two chunks: start, data, a 200 per chunk, complete (C-7.1-9)', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = chunk('msg1', '1-*/8', 'abcd', '+')
      const b = chunk('msg1', '5-8/8', 'EFGH', '$')
      const source = cold<SendPiece>('a 9ms (b|)', { a, b })
      expectObservable(source.pipe(reassemble())).toBe('(xyz) 5ms (uvw|)', {
        x: { type: 'start', messageId: 'msg1', head: a.head, total: 8 },
        y: { type: 'data', messageId: 'msg1', offset: 0, data: bytes('abcd') },
        z: { type: 'chunk', head: a.head, status: 200, received: 4 },
        u: { type: 'data', messageId: 'msg1', offset: 4, data: bytes('EFGH') },
        v: { type: 'chunk', head: b.head, status: 200, received: 4 },
        w: { type: 'complete', messageId: 'msg1', size: 8, head: b.head }
      })
      expectSubscriptions(source.subscriptions).toBe('^ 9ms !')
    })
  })

  it('marble: never and empty', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<SendPiece>('-').pipe(reassemble())).toBe('-')
      expectObservable(cold<SendPiece>('|').pipe(reassemble())).toBe('|')
    })
  })

  it('marble: an error of the source reports unfinished messages aborted, then errors', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const a = chunk('msg1', '1-*/8', 'abcd', '+')
      expectObservable(cold<SendPiece>('a 9ms #', { a }).pipe(reassemble())).toBe(
        '(xyz) 5ms (v#)',
        {
          x: expect.objectContaining({ type: 'start' }),
          y: expect.objectContaining({ type: 'data' }),
          z: expect.objectContaining({ type: 'chunk', status: 200 }),
          v: { type: 'aborted', messageId: 'msg1', received: 4, reason: 'ConnectionLost' }
        },
        'error'
      )
    })
  })

  it('marble: unsubscribing early stops reading the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const a = chunk('msg1', '1-*/8', 'abcd', '+')
      const source = cold<SendPiece>('a---a', { a })
      expectObservable(source.pipe(reassemble()), '^-!').toBe('(xyz)', {
        x: expect.objectContaining({ type: 'start' }),
        y: expect.objectContaining({ type: 'data' }),
        z: expect.objectContaining({ type: 'chunk' })
      })
      expectSubscriptions(source.subscriptions).toBe('^-!')
    })
  })

  it('C-7.3.1-2: chunks out of order, the $ chunk first, deliver the bytes in order', async () => {
    const events = await run([
      chunk('msg1', '9-12/12', 'IJKL', '$'),
      chunk('msg1', '5-8/12', 'EFGH', '+'),
      chunk('msg1', '1-4/12', 'abcd', '+')
    ])
    expect(bodies(events)).toEqual({ msg1: 'abcdEFGHIJKL' })
    expect(types(events).filter((t) => t === 'complete')).toHaveLength(1)
    expect(events[events.length - 1]).toMatchObject({ type: 'complete', size: 12 })
  })

  it('waits for a gap to fill before completing', async () => {
    const events = await run([chunk('msg1', '1-4/*', 'abcd', '+'), chunk('msg1', '9-12/*', 'IJKL', '$')])
    expect(bodies(events)).toEqual({ msg1: 'abcd' })
    expect(types(events)).not.toContain('complete')
    expect(events[events.length - 1]).toMatchObject({ type: 'aborted', reason: 'ConnectionLost', received: 4 })
  })

  it('C-7.3.1-3: an overlap replaces held bytes with the newest, keeps delivered ones', async () => {
    const events = await run([
      chunk('msg1', '1-2/10', 'ab', '+'),
      chunk('msg1', '5-8/10', 'xxxx', '+'), // held (gap at 3-4)
      chunk('msg1', '6-7/10', 'YY', '+'), // newer, overlaps the held bytes
      chunk('msg1', '1-3/10', 'ZZc', '+'), // overlaps delivered bytes 1-2: kept as they were
      chunk('msg1', '4-4/10', 'd', '+'),
      chunk('msg1', '9-10/10', 'ij', '$')
    ])
    expect(bodies(events)).toEqual({ msg1: 'abcdxYYxij' })
    expect(events[events.length - 1]).toMatchObject({ type: 'complete', size: 10 })
  })

  it('C-5.4-13: a chunk of a completed message is answered 200 and flagged as a duplicate, not delivered again', async () => {
    const events = await run([chunk('msg1', '1-2/2', 'ab', '$'), chunk('msg1', '1-2/2', 'ab', '$')])
    expect(bodies(events)).toEqual({ msg1: 'ab' })
    expect(types(events).slice(-2)).toEqual(['duplicate', 'chunk'])
  })

  it('C-7.1-9: # aborts the message and reports it', async () => {
    const events = await run([chunk('msg1', '1-*/*', 'abcd', '+'), chunk('msg1', '5-*/*', 'ef', '#')])
    expect(events[events.length - 1]).toEqual({ type: 'aborted', messageId: 'msg1', received: 6, reason: 'Aborted' })
  })

  it('413 stops a message larger than maxMessageBytes, early, and every later chunk of it', async () => {
    const big = chunk('msg1', '1-*/100', 'x'.repeat(10), '+')
    const events = await run([big, chunk('msg1', '11-*/100', 'y', '+')], { maxMessageBytes: 50 })
    expect(events).toEqual([
      {
        type: 'failed',
        messageId: 'msg1',
        head: big.head,
        status: 413,
        reason: 'TooLarge',
        detail: expect.stringContaining('100')
      },
      { type: 'chunk', head: big.head, status: 413, received: 10 },
      { type: 'chunk', head: expect.anything(), status: 413, received: 1 }
    ])
  })

  it('413 stops a message that grows past maxMessageBytes without a declared total, mid-chunk', async () => {
    const h = head('msg1', '1-*/*')
    const pieces: SendPiece[] = [
      { head: h, data: bytes('abc'), position: 0, end: undefined, bodiless: false },
      { head: h, data: bytes('def'), position: 3, end: undefined, bodiless: false },
      { head: h, data: bytes('ghi'), position: 6, end: '+', bodiless: false }
    ]
    const events = await run(pieces, { maxMessageBytes: 5 })
    expect(types(events)).toEqual(['start', 'data', 'failed', 'chunk'])
    expect(events[3]).toMatchObject({ status: 413, received: 6 })
  })

  it('OutOfOrderLimit: bytes held ahead of a gap are bounded', async () => {
    const events = await run([chunk('msg1', '1-1/*', 'a', '+'), chunk('msg1', '10-19/*', 'x'.repeat(10), '+')], {
      maxOutOfOrderBytes: 8
    })
    expect(events.find((e) => e.type === 'failed')).toMatchObject({ reason: 'OutOfOrderLimit', status: 413 })
  })

  it('TooManyMessages: at most maxOpenMessages at once', async () => {
    const events = await run([chunk('msg1', '1-*/*', 'a', '+'), chunk('msg2', '1-*/*', 'b', '+')], {
      maxOpenMessages: 1
    })
    expect(events.find((e) => e.type === 'failed')).toMatchObject({
      messageId: 'msg2',
      reason: 'TooManyMessages',
      status: 413
    })
  })

  it('BeyondTotal: a body past the declared total is refused with 400', async () => {
    const events = await run([chunk('msg1', '1-3/3', 'abcd', '$')])
    expect(events.find((e) => e.type === 'failed')).toMatchObject({ reason: 'BeyondTotal', status: 400 })
  })

  it('W-6-3: a bodiless SEND is answered 200 and delivers no message', async () => {
    const h = head('msg1', '1-0/0')
    const events = await run([{ head: h, data: new Uint8Array(0), position: 0, end: '$', bodiless: true }])
    expect(events).toEqual([{ type: 'chunk', head: h, status: 200, received: 0 }])
  })

  it('C-7.1.1-15: an empty message (1-0/0 with a body section) is delivered with size 0', async () => {
    const events = await run([chunk('msg1', '1-0/0', '', '$')])
    expect(types(events)).toEqual(['start', 'chunk', 'complete'])
  })

  it('interleaved messages on one session are kept apart (C-7.1.1-21)', async () => {
    const events = await run([
      chunk('msg1', '1-2/4', 'ab', '+'),
      chunk('msg2', '1-2/4', 'AB', '+'),
      chunk('msg1', '3-4/4', 'cd', '$'),
      chunk('msg2', '3-4/4', 'CD', '$')
    ])
    expect(bodies(events)).toEqual({ msg1: 'abcd', msg2: 'ABCD' })
  })

  it('any chunking, order and piece cut of a message yields its bytes once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer(),
        async (body, cuts, pieceCuts, seed) => {
          const points = [...new Set(cuts.map((c) => c % body.length))].filter((c) => c > 0).sort((a, b) => a - b)
          const bounds = [0, ...points, body.length]
          const chunks = bounds.slice(0, -1).map((s, k) => [s, bounds[k + 1] as number] as const)
          const order = chunks.map((c, k) => ({ c, key: (k * 7919 + seed) % 101 })).sort((a, b) => a.key - b.key)
          const pieces: SendPiece[] = []
          for (const { c } of order) {
            const [s, e] = c
            const last = e === body.length
            const h = head('msgX', `${s + 1}-${e}/${body.length}`)
            const inner = [...new Set(pieceCuts.map((p) => p % (e - s)))].filter((p) => p > 0).sort((a, b) => a - b)
            const pb = [0, ...inner, e - s]
            for (let k = 0; k < pb.length - 1; k++) {
              const ps = pb[k] as number
              const pe = pb[k + 1] as number
              pieces.push({
                head: h,
                data: body.subarray(s + ps, s + pe),
                position: ps,
                end: k === pb.length - 2 ? (last ? '$' : '+') : undefined,
                bodiless: false
              })
            }
          }
          const events = await run(pieces)
          const data = events.filter((e): e is Extract<ReassemblyEvent, { type: 'data' }> => e.type === 'data')
          const joined = new Uint8Array(body.length)
          let at = 0
          for (const d of data) {
            expect(d.offset).toBe(at)
            joined.set(d.data, at)
            at += d.data.length
          }
          expect(at).toBe(body.length)
          expect(Array.from(joined)).toEqual(Array.from(body))
          expect(events.filter((e) => e.type === 'complete')).toHaveLength(1)
          expect(events.filter((e) => e.type === 'chunk').map((e) => (e as { status: number }).status)).toEqual(
            chunks.map(() => 200)
          )
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe('reassemble: continuations', () => {
  // Proposed for spec/operators/reassemble.spec.ts (uses its head/chunk/run/types helpers and scheduler()).
  describe('acceptContinuation (RFC 4975 §5.4, C-5.4-12)', () => {
    it('C-5.4-12: a message whose first chunk starts above byte 1 is delivered from there when accepted', () => {
      const a = chunk('msg1', '4-6/8', 'def', '+')
      const b = chunk('msg1', '7-8/8', 'gh', '$')
      scheduler().run(({ cold, expectObservable }) => {
        expectObservable(
          cold<SendPiece>('a 9ms (b|)', { a, b }).pipe(reassemble({ acceptContinuation: () => true }))
        ).toBe('(xyz) 5ms (uvw|)', {
          x: { type: 'start', messageId: 'msg1', head: a.head, total: 8, firstByte: 4 },
          y: { type: 'data', messageId: 'msg1', offset: 3, data: bytes('def') },
          z: { type: 'chunk', head: a.head, status: 200, received: 3 },
          u: { type: 'data', messageId: 'msg1', offset: 6, data: bytes('gh') },
          v: { type: 'chunk', head: b.head, status: 200, received: 2 },
          w: { type: 'complete', messageId: 'msg1', size: 8, head: b.head }
        })
      })
    })

    it('refused (or the predicate throws): 413 ContinuationRefused, every later chunk too', async () => {
      for (const acceptContinuation of [
        () => false,
        () => {
          throw new Error('x')
        }
      ]) {
        const events = await run([chunk('msg1', '4-6/8', 'def', '+'), chunk('msg1', '7-8/8', 'gh', '$')], {
          acceptContinuation
        })
        expect(types(events)).toEqual(['failed', 'chunk', 'chunk'])
        expect(events[0]).toMatchObject({ reason: 'ContinuationRefused', status: 413 })
        expect(events.filter((e) => e.type === 'chunk').map((e) => (e as { status: number }).status)).toEqual([
          413, 413
        ])
      }
    })

    it('is asked once per message, only when it starts above byte 1; bytes before firstByte later are not delivered', async () => {
      const asked: number[] = []
      const events = await run(
        [
          chunk('msg1', '1-3/3', 'abc', '$'),
          chunk('msg2', '3-3/4', 'c', '+'),
          chunk('msg2', '1-2/4', 'ab', '+'),
          chunk('msg2', '4-4/4', 'd', '$')
        ],
        { acceptContinuation: (h: SendHead) => (asked.push(h.byteRange.start), true) }
      )
      expect(asked).toEqual([3])
      const data = events.filter((e) => e.type === 'data').map((e) => [e.messageId, (e as { offset: number }).offset])
      // msg2 from its firstByte 3; its bytes 1-2, the application's already, are answered 200 and not delivered.
      expect(data).toEqual([
        ['msg1', 0],
        ['msg2', 2],
        ['msg2', 3]
      ])
      expect(events.filter((e) => e.type === 'chunk').map((e) => (e as { status: number }).status)).toEqual([
        200, 200, 200, 200
      ])
      expect(events[events.length - 1]).toMatchObject({ type: 'complete', messageId: 'msg2', size: 4 })
    })

    it('an aborted continuation reports received from byte 1', async () => {
      const events = await run([chunk('msg1', '5-6/*', 'ef', '+'), chunk('msg1', '7-*/*', '', '#')], {
        acceptContinuation: () => true
      })
      expect(events[events.length - 1]).toEqual({ type: 'aborted', messageId: 'msg1', received: 6, reason: 'Aborted' })
    })
  })
})
