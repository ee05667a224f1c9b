import * as E from 'fp-ts/Either'
import { from } from 'rxjs'
import { encode } from '../../src/operators/encode'
import { encodeFrame } from '../../src/wire/encoder'
import type { MsrpRequest, MsrpResponse } from '../../src/wire/model'
import { testScheduler } from '../helpers/marbles'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

const send = (transactionId: string, over: Partial<MsrpRequest> = {}): MsrpRequest => ({
  type: 'request',
  transactionId,
  method: 'SEND',
  headers: [
    ['To-Path', 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'],
    ['From-Path', 'msrp://alice.example.com:7777/iau39soe2843z;tcp'],
    ['Message-ID', '12339sdqwer'],
    ['Content-Type', 'text/plain']
  ],
  body: utf8('Hi'),
  continuation: '$',
  ...over
})

const ok: MsrpResponse = {
  type: 'response',
  transactionId: 'a786hjs2',
  status: 200,
  comment: 'OK',
  headers: [
    ['To-Path', 'msrp://alice.example.com:7777/iau39soe2843z;tcp'],
    ['From-Path', 'msrp://bob.example.com:8888/9di4eae923wzd;tcp']
  ],
  continuation: '$'
}

const GOOD = send('a786hjs2')
/** C-7.1-10: the end-line of the transaction must not occur in the body. */
const ID_IN_BODY = send('dkei38sd', { body: utf8('x\r\n-------dkei38sd$\r\ny') })
/** C-7.1-5: a bodiless request must not carry Content-Type. */
const BODILESS_WITH_TYPE = send('bodiless', { body: undefined })

const left = (reason: string) => E.left(expect.objectContaining({ _tag: 'EncodeFailure', reason }))

describe('encode()', () => {
  it('emits nothing while no frame comes (never)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = cold<MsrpRequest>('-')
      expectObservable(frames.pipe(encode())).toBe('-')
      expectSubscriptions(frames.subscriptions).toBe('^')
    })
  })

  it('completes with its source (empty)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<MsrpRequest>('|').pipe(encode())).toBe('|')
    })
  })

  it('writes a valid frame as right([head, body, tail]), the body itself not copied (RFC 4975 §7.1)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|', { a: GOOD, b: ok }).pipe(encode())).toBe('a-b|', {
        a: encodeFrame(GOOD),
        b: encodeFrame(ok)
      })
    })
    const [result] = collect([GOOD])
    expect(result !== undefined && E.isRight(result) && result.right[1]).toBe(GOOD.body)
  })

  it('refuses an invalid frame as a value, left(EncodeFailure), and the frames after it still go out (STYLE.md §4 tier 2)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const frames = cold('a-b-c-d|', { a: GOOD, b: ID_IN_BODY, c: BODILESS_WITH_TYPE, d: ok })
      expectObservable(frames.pipe(encode())).toBe('a-b-c-d|', {
        a: encodeFrame(GOOD),
        b: left('TransactionIdInBody'), // C-7.1-10
        c: left('HeaderInvalid'), // C-7.1-5
        d: encodeFrame(ok)
      })
    })
  })

  it('applies maxNonSendBodyBytes to non-SEND bodies (C-7.1-4)', () => {
    const report = send('rep12345', { method: 'REPORT', body: new Uint8Array(11) })
    testScheduler().run(({ cold, expectObservable }) => {
      const frames = cold('ab|', { a: report, b: report })
      expectObservable(frames.pipe(encode({ maxNonSendBodyBytes: 10 }))).toBe('ab|', {
        a: left('BodyNotAllowed'),
        b: left('BodyNotAllowed')
      })
      expectObservable(frames.pipe(encode())).toBe('ab|', { a: encodeFrame(report), b: encodeFrame(report) })
    })
  })

  it('passes an error of its source through', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const failed = new Error('upstream')
      expectObservable(cold('a-#', { a: GOOD }, failed).pipe(encode())).toBe('a-#', { a: encodeFrame(GOOD) }, failed)
    })
  })

  it('unsubscribes from its source on early unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = cold('a-b-c|', { a: GOOD, b: ok, c: GOOD })
      expectObservable(frames.pipe(encode()), '^--!').toBe('a-b', { a: encodeFrame(GOOD), b: encodeFrame(ok) })
      expectSubscriptions(frames.subscriptions).toBe('^--!')
    })
  })

  it('encodes each frame when it comes, with no delay of its own (virtual time)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const frames = cold('a 30s b|', { a: GOOD, b: ok })
      expectObservable(frames.pipe(encode())).toBe('a 30s b|', { a: encodeFrame(GOOD), b: encodeFrame(ok) })
    })
  })
})

/** Runs `encode()` over `frames` synchronously, to look at the slices themselves. */
function collect(frames: readonly (MsrpRequest | MsrpResponse)[]): E.Either<unknown, Uint8Array[]>[] {
  const out: E.Either<unknown, Uint8Array[]>[] = []
  from(frames)
    .pipe(encode())
    .subscribe((r) => out.push(r))
  return out
}
