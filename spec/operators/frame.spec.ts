import * as E from 'fp-ts/Either'
import { frame, type FramedEvent } from '../../src/operators/frame'
import { MsrpConnectionError } from '../../src/operators/errors'
import { encodeFrame } from '../../src/wire/encoder'
import { concatBytes } from '../../src/wire/bytes'
import type { FramingFailure } from '../../src/wire/failures'
import type { MsrpRequest, MsrpResponse } from '../../src/wire/model'
import { testScheduler } from '../helpers/marbles'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

const send = (transactionId: string, body: Uint8Array = utf8('Hi')): MsrpRequest => ({
  type: 'request',
  transactionId,
  method: 'SEND',
  headers: [
    ['To-Path', 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'],
    ['From-Path', 'msrp://alice.example.com:7777/iau39soe2843z;tcp'],
    ['Message-ID', '12339sdqwer'],
    ['Byte-Range', `1-${body.length}/${body.length}`],
    ['Content-Type', 'text/plain']
  ],
  body,
  continuation: '$'
})

const ok = (transactionId: string): MsrpResponse => ({
  type: 'response',
  transactionId,
  status: 200,
  comment: 'OK',
  headers: [
    ['To-Path', 'msrp://alice.example.com:7777/iau39soe2843z;tcp'],
    ['From-Path', 'msrp://bob.example.com:8888/9di4eae923wzd;tcp']
  ],
  continuation: '$'
})

/** The wire bytes of a frame, as one plain Uint8Array. */
function bytesOf(f: MsrpRequest | MsrpResponse): Uint8Array {
  const pieces = encodeFrame(f)
  if (E.isLeft(pieces)) throw new Error(pieces.left.detail)
  return concatBytes(pieces.right)
}

const whole = (f: MsrpRequest | MsrpResponse): FramedEvent => ({ type: 'frame', frame: f, failures: [] })

const SEND_1 = send('a786hjs2')
const OK_1 = ok('a786hjs2')
const SEND_BYTES = bytesOf(SEND_1)
const OK_BYTES = bytesOf(OK_1)

/**
 * Matches an `MsrpConnectionError` with these fields. Jest compares errors by message only, so the marble expectations
 * use this matcher to check the class name, `reason`, `failure` and `cause`.
 */
const connectionError = (fields: Partial<Pick<MsrpConnectionError, 'reason' | 'failure' | 'cause' | 'message'>>) =>
  expect.objectContaining({ constructor: MsrpConnectionError, name: 'MsrpConnectionError', ...fields })

describe('frame()', () => {
  it('emits nothing and stays subscribed while the bytes never come (never)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const bytes = cold<Uint8Array>('-')
      expectObservable(bytes.pipe(frame())).toBe('-')
      expectSubscriptions(bytes.subscriptions).toBe('^')
    })
  })

  it('completes when the stream ends between frames (empty)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Uint8Array>('|').pipe(frame())).toBe('|')
      expectObservable(cold('a|', { a: SEND_BYTES }).pipe(frame())).toBe('a|', { a: whole(SEND_1) })
    })
  })

  it('delimits frames by their end-line, not by the reads: a frame split across values, two in one (C-7.1-7)', () => {
    const both = concatBytes([SEND_BYTES, OK_BYTES])
    const cut = SEND_BYTES.length - 3 // inside the end-line of the SEND
    testScheduler().run(({ cold, expectObservable }) => {
      const bytes = cold('-a--b------c|', { a: both.subarray(0, cut), b: both.subarray(cut), c: SEND_BYTES })
      expectObservable(bytes.pipe(frame())).toBe('----(xy)---z|', {
        x: whole(SEND_1),
        y: whole(OK_1),
        z: whole(SEND_1)
      })
    })
  })

  it('decodes the same frames wherever the bytes are split (C-7.1-7, C-7.1-8)', () => {
    const both = concatBytes([SEND_BYTES, OK_BYTES])
    for (let cut = 1; cut < both.length; cut++) {
      testScheduler().run(({ cold, expectObservable }) => {
        const bytes = cold('a 9ms b 9ms |', { a: both.subarray(0, cut), b: both.subarray(cut) })
        // a frame comes out when its last byte is in: both at b, or the SEND at a and the response at b
        const events = cut < SEND_BYTES.length ? '10ms (xy) 6ms |' : 'x 9ms y 9ms |'
        expectObservable(bytes.pipe(frame())).toBe(events, { x: whole(SEND_1), y: whole(OK_1) })
      })
    }
  })

  it('emits each frame when its last byte arrives, with no delay of its own (virtual time)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const bytes = cold('a 30s b 29ms c|', {
        a: SEND_BYTES.subarray(0, 10),
        b: SEND_BYTES.subarray(10),
        c: OK_BYTES
      })
      expectObservable(bytes.pipe(frame())).toBe('- 30s x 29ms y|', { x: whole(SEND_1), y: whole(OK_1) })
    })
  })

  it('streams a large SEND body as head, body pieces and end, so memory stays bounded (C-7.1.1-18)', () => {
    const body = new Uint8Array(40_000).fill(0x78)
    const big = send('bigbody1', body)
    const all = bytesOf(big)
    const headLength = all.length - body.length - '\r\n-------bigbody1$\r\n'.length
    const cut = headLength + 20_000
    const { body: _, continuation: __, ...head } = big
    testScheduler().run(({ cold, expectObservable }) => {
      const bytes = cold('a 9ms b 9ms |', { a: all.subarray(0, cut), b: all.subarray(cut) })
      expectObservable(bytes.pipe(frame())).toBe('(hx) 6ms (ye) 6ms |', {
        h: { type: 'head', head, failures: [] },
        x: { type: 'body', transactionId: 'bigbody1', data: body.subarray(0, 20_000), position: 0 },
        y: { type: 'body', transactionId: 'bigbody1', data: body.subarray(20_000), position: 20_000 },
        e: { type: 'end', transactionId: 'bigbody1', continuation: '$', size: 40_000 }
      })
    })
  })

  it('passes per-frame problems along with the frame and goes on (STYLE.md §4 tier 2)', () => {
    const broken = utf8(
      'MSRP abcd1234 SEND\r\nTo-Path: msrp://a.example.com:1/s;tcp\r\nno colon here\r\n-------abcd1234$\r\n'
    )
    testScheduler().run(({ cold, expectObservable }) => {
      const events$ = cold('ab|', { a: broken, b: OK_BYTES }).pipe(frame())
      expectObservable(events$).toBe('xy|', {
        x: {
          type: 'frame',
          frame: {
            type: 'request',
            transactionId: 'abcd1234',
            method: 'SEND',
            headers: [['To-Path', 'msrp://a.example.com:1/s;tcp']],
            body: undefined,
            continuation: '$'
          },
          failures: [expect.objectContaining({ _tag: 'FrameFailure', reason: 'HeaderMalformed', status: 400 })]
        },
        y: whole(OK_1)
      })
    })
  })

  it('ends with an MsrpConnectionError carrying the FramingFailure (reason, status, transaction id) when a limit is hit', () => {
    const failure: FramingFailure = {
      _tag: 'FramingFailure',
      reason: 'ChunkTooLarge',
      detail: 'a SEND chunk exceeds 1 bytes (maxChunkBytes)',
      offset: OK_BYTES.length + SEND_BYTES.length - '\r\n-------a786hjs2$\r\n'.length,
      status: 413,
      transactionId: 'a786hjs2',
      method: 'SEND'
    }
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const bytes = cold('a-b-c|', { a: OK_BYTES, b: SEND_BYTES, c: OK_BYTES })
      const events$ = bytes.pipe(frame({ limits: { maxChunkBytes: 1 } }))
      expectObservable(events$).toBe(
        'x-#',
        { x: whole(OK_1) },
        connectionError({
          reason: 'ChunkTooLarge',
          failure,
          cause: undefined,
          message: 'ChunkTooLarge: a SEND chunk exceeds 1 bytes (maxChunkBytes)'
        })
      )
      expectSubscriptions(bytes.subscriptions).toBe('^-!')
    })
  })

  it('emits the frames before a fatal failure in the same value, then the error (lost sync: StartLineInvalid)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const events$ = cold('a|', { a: concatBytes([SEND_BYTES, utf8('HTTP/1.1 200 OK\r\n')]) }).pipe(frame())
      expectObservable(events$).toBe(
        '(x#)',
        { x: whole(SEND_1) },
        connectionError({
          reason: 'StartLineInvalid',
          failure: expect.objectContaining({ reason: 'StartLineInvalid', status: 400, offset: SEND_BYTES.length })
        })
      )
    })
  })

  it('ends with Truncated when the stream completes inside a frame (RFC 4975 §7.1)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const events$ = cold('a-b|', { a: OK_BYTES, b: SEND_BYTES.subarray(0, 40) }).pipe(frame())
      expectObservable(events$).toBe(
        'x--#',
        { x: whole(OK_1) },
        connectionError({
          reason: 'Truncated',
          failure: expect.objectContaining({
            reason: 'Truncated',
            transactionId: 'a786hjs2',
            method: 'SEND',
            offset: OK_BYTES.length + 40
          })
        })
      )
    })
  })

  it('takes exactly one frame per message when messageOriented (W-5.1-3)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const messages = cold('a-b|', { a: SEND_BYTES, b: OK_BYTES })
      expectObservable(messages.pipe(frame({ messageOriented: true }))).toBe('x-y|', {
        x: whole(SEND_1),
        y: whole(OK_1)
      })
    })
  })

  it('fails with NotOneFrame when a message holds two frames, and delivers neither (W-5.1-3)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const messages = cold('a-b-c|', { a: OK_BYTES, b: concatBytes([SEND_BYTES, OK_BYTES]), c: OK_BYTES })
      expectObservable(messages.pipe(frame({ messageOriented: true }))).toBe(
        'x-#',
        { x: whole(OK_1) },
        connectionError({
          reason: 'NotOneFrame',
          failure: expect.objectContaining({ reason: 'NotOneFrame', status: 400, offset: OK_BYTES.length })
        })
      )
      expectSubscriptions(messages.subscriptions).toBe('^-!')
    })
  })

  it('fails with NotOneFrame when a message holds part of a frame (W-5.1-3)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const messages = cold('a-b|', { a: SEND_BYTES.subarray(0, 30), b: SEND_BYTES.subarray(30) })
      expectObservable(messages.pipe(frame({ messageOriented: true }))).toBe(
        '#',
        undefined,
        connectionError({ reason: 'NotOneFrame' })
      )
    })
  })

  it('wraps an error of the byte source as TransportFailed, its cause kept (STYLE.md §4 tier 3)', () => {
    const reset = new Error('read ECONNRESET')
    testScheduler().run(({ cold, expectObservable }) => {
      const events$ = cold('a-#', { a: SEND_BYTES }, reset).pipe(frame())
      expectObservable(events$).toBe(
        'x-#',
        { x: whole(SEND_1) },
        connectionError({
          reason: 'TransportFailed',
          cause: reset,
          failure: undefined,
          message: 'TransportFailed: read ECONNRESET'
        })
      )
    })
  })

  it('passes an MsrpConnectionError of the source through as it is', () => {
    const upstream = new MsrpConnectionError({ reason: 'TransportFailed', detail: 'gone' })
    let seen: unknown
    testScheduler().run(({ cold }) => {
      cold<Uint8Array>('-#', undefined, upstream)
        .pipe(frame())
        .subscribe({ error: (e: unknown) => (seen = e) })
    })
    expect(seen).toBe(upstream)
  })

  it('stops reading and drops its partial frame on early unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const bytes = cold('a-b-c|', { a: OK_BYTES, b: SEND_BYTES.subarray(0, 20), c: SEND_BYTES.subarray(20) })
      expectObservable(bytes.pipe(frame()), '^--!').toBe('x--', { x: whole(OK_1) })
      expectSubscriptions(bytes.subscriptions).toBe('^--!')
    })
  })

  it('keeps one framer per subscription: a second subscriber starts at a frame boundary', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const bytes = hot('a-b-c-|', { a: SEND_BYTES.subarray(0, 20), b: SEND_BYTES.subarray(20), c: OK_BYTES })
      const events$ = bytes.pipe(frame())
      expectObservable(events$).toBe('--x-y-|', { x: whole(SEND_1), y: whole(OK_1) })
      expectObservable(events$, '---^').toBe('----y-|', { y: whole(OK_1) })
    })
  })
})
