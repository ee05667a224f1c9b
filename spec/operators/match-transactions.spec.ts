import * as E from 'fp-ts/Either'
import { Subject, type SchedulerLike, type Subscription } from 'rxjs'
import type { TestScheduler } from 'rxjs/testing'
import { matchTransactions, type Transaction, type TransactionFailure } from '../../src/operators/match-transactions'
import type { FailureReport } from '../../src/wire/headers/report'
import type { Header, MsrpRequest, MsrpResponse } from '../../src/wire/model'
import { testScheduler } from '../helpers/marbles'

type Outcome = E.Either<TransactionFailure, Transaction>

const PATHS: Header[] = [
  ['To-Path', 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'],
  ['From-Path', 'msrp://alice.example.com:7777/iau39soe2843z;tcp']
]

/** A bodiless SEND with the given Failure-Report header (none when `undefined`). */
const send = (transactionId: string, failureReport?: FailureReport | string): MsrpRequest => ({
  type: 'request',
  transactionId,
  method: 'SEND',
  headers: [
    ...PATHS,
    ['Message-ID', 'm-' + transactionId],
    ...(failureReport === undefined ? [] : [['Failure-Report', failureReport] as const])
  ],
  body: undefined,
  continuation: '$'
})

const report = (transactionId: string): MsrpRequest => ({
  type: 'request',
  transactionId,
  method: 'REPORT',
  headers: [...PATHS, ['Message-ID', 'm1'], ['Byte-Range', '1-2/2'], ['Status', '000 200 OK']],
  body: undefined,
  continuation: '$'
})

const response = (transactionId: string, status = 200, comment = 'OK'): MsrpResponse => ({
  type: 'response',
  transactionId,
  status,
  comment,
  headers: PATHS,
  continuation: '$'
})

// Expected outcomes; `detail` is free text.
const success = (request: MsrpRequest, res: MsrpResponse): Outcome => E.right({ request, response: res })
const released = (request: MsrpRequest): Outcome => E.right({ request, response: undefined })
const timedOut = (request: MsrpRequest): Outcome =>
  E.left({ _tag: 'TransactionFailure', reason: 'Timeout', status: 408, request, detail: expect.any(String) })
const errorResponse = (request: MsrpRequest, res: MsrpResponse): Outcome =>
  E.left({
    _tag: 'TransactionFailure',
    reason: 'ErrorResponse',
    status: res.status,
    request,
    response: res,
    detail: expect.any(String)
  })
const unmatched = (res: MsrpResponse): Outcome =>
  E.left({ _tag: 'TransactionFailure', reason: 'UnmatchedResponse', response: res, detail: expect.any(String) })
const duplicate = (request: MsrpRequest): Outcome =>
  E.left({ _tag: 'TransactionFailure', reason: 'DuplicateTransactionId', request, detail: expect.any(String) })

/** A scheduler that delegates to `inner` and keeps every action it schedules, to tell which timers are still set. */
function tracking(inner: TestScheduler): { scheduler: SchedulerLike; open: () => number; total: () => number } {
  const actions: Subscription[] = []
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule: (work, delay, state) => {
      const action = inner.schedule(work as never, delay, state)
      actions.push(action)
      return action
    }
  }
  return { scheduler, open: () => actions.filter((a) => !a.closed).length, total: () => actions.length }
}

const A = send('tidAAAA1', 'yes')
const B = send('tidBBBB2')
const C = send('tidCCCC3', 'partial')
const D = send('tidDDDD4', 'no')

describe('matchTransactions()', () => {
  describe('marble basics', () => {
    it('emits nothing while no request comes, and listens to the responses (never)', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const requests = cold<MsrpRequest>('-')
        const responses = hot<MsrpResponse>('-')
        expectObservable(requests.pipe(matchTransactions(responses))).toBe('-')
        expectSubscriptions(requests.subscriptions).toBe('^')
        expectSubscriptions(responses.subscriptions).toBe('^')
      })
    })

    it('completes at once when no request comes and none is pending (empty)', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const responses = hot<MsrpResponse>('-')
        expectObservable(cold<MsrpRequest>('|').pipe(matchTransactions(responses))).toBe('|')
        expectSubscriptions(responses.subscriptions).toBe('(^!)')
      })
    })

    it('passes an error of the requests through and clears every timer', () => {
      testScheduler().run((helpers) => {
        const { cold, hot, expectObservable, expectSubscriptions } = helpers
        const requests = cold('a-#', { a: A })
        const responses = hot<MsrpResponse>('-')
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('--#')
        expectSubscriptions(responses.subscriptions).toBe('^-!')
      })
    })

    it('passes an error of the responses (the connection failed) through and clears every timer', () => {
      const failed = new Error('connection lost')
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const requests = cold('a-b', { a: A, b: B })
        const responses = hot<MsrpResponse>('---#', undefined, failed)
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('---#', undefined, failed)
        expectSubscriptions(requests.subscriptions).toBe('^--!')
      })
    })

    it('clears every timer and unsubscribes both inputs on early unsubscribe', () => {
      const scheduler = testScheduler()
      const timers = tracking(scheduler)
      let openBefore = -1
      let openAfter = -1
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const requests = cold('a-b--c', { a: A, b: B, c: C })
        const responses = hot<MsrpResponse>('-')
        const outcomes = requests.pipe(matchTransactions(responses, { timeoutMs: 10, scheduler: timers.scheduler }))
        expectObservable(outcomes, '^---!').toBe('-')
        expectSubscriptions(requests.subscriptions).toBe('^---!')
        expectSubscriptions(responses.subscriptions).toBe('^---!')
        scheduler.schedule(() => (openBefore = timers.open()), 3)
        scheduler.schedule(() => (openAfter = timers.open()), 5)
      })
      expect(openBefore).toBe(1) // a and b wait for their responses, under one timer armed for a's deadline
      expect(openAfter).toBe(0)
      expect(timers.total()).toBe(1) // c came after the unsubscription
    })

    it('times out each of many pending requests at its own deadline with one timer at a time (C-7.1.1-6)', () => {
      const scheduler = testScheduler()
      const timers = tracking(scheduler)
      let most = 0
      scheduler.run(({ cold, hot, expectObservable }) => {
        const E5 = send('tidEEEE5')
        const okB = response(B.transactionId)
        const requests = cold('ab-e', { a: A, b: B, e: E5 })
        const responses = hot<MsrpResponse>('--x', { x: okB })
        const outcomes = requests.pipe(matchTransactions(responses, { timeoutMs: 10, scheduler: timers.scheduler }))
        expectObservable(outcomes).toBe('--r-------a--e', {
          r: success(B, okB),
          a: timedOut(A),
          e: timedOut(E5)
        })
        for (let t = 0; t < 14; t++) scheduler.schedule(() => (most = Math.max(most, timers.open())), t)
      })
      expect(most).toBe(1)
    })
  })

  it('does what the marble of its TSDoc shows', () => {
    const c = send('tidCCCC5', 'yes')
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const requests = cold('a-b-c-----------', { a: A, b: D, c })
      const responses = hot('---A------------', { A: response(A.transactionId) })
      expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('--BR----------T-', {
        B: released(D),
        R: success(A, response(A.transactionId)),
        T: timedOut(c)
      })
    })
  })

  describe('Failure-Report yes (or absent)', () => {
    it('pairs a response with the pending request of the same transaction id: 2xx is right (C-7.2-2)', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const requests = cold('a-b', { a: A, b: B })
        const responses = hot('----B-A', { A: response(A.transactionId), B: response(B.transactionId) })
        expectObservable(requests.pipe(matchTransactions(responses))).toBe('----b-a', {
          a: success(A, response(A.transactionId)),
          b: success(B, response(B.transactionId))
        })
      })
    })

    it('MUST fail an unanswered request with a local 408 once 30 s have passed (C-7.1.1-6)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const requests = cold('a', { a: A })
        expectObservable(requests.pipe(matchTransactions(cold<MsrpResponse>('-')))).toBe('30s x', { x: timedOut(A) })
      })
    })

    it('MUST treat a missing Failure-Report as yes: the same 30 s timer runs (C-7.1.1-8)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const requests = cold('-a', { a: B })
        expectObservable(requests.pipe(matchTransactions(cold<MsrpResponse>('-')))).toBe('- 30s x', {
          x: timedOut(B)
        })
      })
    })

    it('counts timeoutMs from when the request is fed, i.e. from its last byte written (C-7.1.1-6)', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const requests = cold('a 9ms b', { a: A, b: B })
        const responses = hot('15ms A', { A: response(A.transactionId) })
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 20 }))).toBe('15ms a 14ms b', {
          a: success(A, response(A.transactionId)),
          b: timedOut(B)
        })
      })
    })

    it('answers before the timeout win; the timer is cancelled (C-7.1.1-6)', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const requests = cold('a|', { a: A })
        const responses = hot('29999ms A', { A: response(A.transactionId) })
        expectObservable(requests.pipe(matchTransactions(responses))).toBe('29999ms (a|)', {
          a: success(A, response(A.transactionId))
        })
      })
    })

    it('MUST inform the user of a non-2xx response: left(ErrorResponse) with its status (C-7.1.1-6)', () => {
      const refused = response(A.transactionId, 481, 'Session-does-not-exist')
      const relayTimeout = response(B.transactionId, 408, 'Timeout')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const requests = cold('ab', { a: A, b: B })
        const responses = hot('--x-y', { x: refused, y: relayTimeout })
        expectObservable(requests.pipe(matchTransactions(responses))).toBe('--x-y', {
          x: errorResponse(A, refused),
          y: errorResponse(B, relayTimeout)
        })
      })
    })

    it('waits for an undecodable Failure-Report as for yes: the peer answers it (400) or the timer fires', () => {
      const odd = send('tidODD01', 'maybe')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const requests = cold('ab', { a: odd, b: { ...odd, transactionId: 'tidODD02' } })
        const responses = hot('--x', { x: response('tidODD01', 400, 'Bad') })
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('--x 8ms y', {
          x: errorResponse(odd, response('tidODD01', 400, 'Bad')),
          y: timedOut({ ...odd, transactionId: 'tidODD02' })
        })
      })
    })
  })

  describe('Failure-Report partial', () => {
    it('MUST inform the user of an error response: left(ErrorResponse) (C-7.1.1-7)', () => {
      const refused = response(C.transactionId, 415, 'Unsupported')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const requests = cold('a', { a: C })
        const responses = hot('---x', { x: refused })
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('---x', {
          x: errorResponse(C, refused)
        })
      })
    })

    it('runs no failure timer: with no error response in timeoutMs it ends as right, no response (C-7.1.4-3)', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const requests = cold('a|', { a: C })
        expectObservable(requests.pipe(matchTransactions(cold<MsrpResponse>('-')))).toBe('30s (x|)', {
          x: released(C)
        })
      })
    })

    it('takes a 2xx the peer should not have sent as success, with that response', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('--x', { x: response(C.transactionId) })
        expectObservable(cold('a', { a: C }).pipe(matchTransactions(responses))).toBe('--x', {
          x: success(C, response(C.transactionId))
        })
      })
    })
  })

  describe('no response expected', () => {
    it('releases a request with Failure-Report no at once: no timer, no response (C-7.1.4-2)', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const responses = hot<MsrpResponse>('-')
        expectObservable(cold('a|', { a: D }).pipe(matchTransactions(responses))).toBe('x|', { x: released(D) })
        expectSubscriptions(responses.subscriptions).toBe('^!')
      })
    })

    it('releases a REPORT at once: REPORTs are never answered (C-7.1.2-6)', () => {
      const rep = report('tidREP01')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot<MsrpResponse>('-')
        expectObservable(cold('a|', { a: rep }).pipe(matchTransactions(responses))).toBe('x|', { x: released(rep) })
      })
    })

    it('reports a response to a request that expects none as UnmatchedResponse (C-7.1.4-2, C-7.1.2-6)', () => {
      const rep = report('tidREP01')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('--x-y', { x: response(D.transactionId), y: response(rep.transactionId) })
        expectObservable(cold('ab', { a: D, b: rep }).pipe(matchTransactions(responses))).toBe('abx-y', {
          a: released(D),
          b: released(rep),
          x: unmatched(response(D.transactionId)),
          y: unmatched(response(rep.transactionId))
        })
      })
    })
  })

  describe('responses that match nothing', () => {
    it('reports a response whose transaction id names no pending request, and goes on', () => {
      const stray = response('tidNONE0')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('-x-A', { x: stray, A: response(A.transactionId) })
        expectObservable(cold('a', { a: A }).pipe(matchTransactions(responses))).toBe('-x-a', {
          x: unmatched(stray),
          a: success(A, response(A.transactionId))
        })
      })
    })

    it('reports a late response, after its local 408, as UnmatchedResponse (C-7.1.1-6)', () => {
      const late = response(A.transactionId)
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('15ms x', { x: late })
        expectObservable(cold('a', { a: A }).pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe(
          '10ms t 4ms x',
          { t: timedOut(A), x: unmatched(late) }
        )
      })
    })

    it('reports a second response to an answered request as UnmatchedResponse', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('-x-y', { x: response(A.transactionId), y: response(A.transactionId, 500, 'Again') })
        expectObservable(cold('a', { a: A }).pipe(matchTransactions(responses))).toBe('-x-y', {
          x: success(A, response(A.transactionId)),
          y: unmatched(response(A.transactionId, 500, 'Again'))
        })
      })
    })

    it('matches a response that arrives just before its request is fed, in the same turn', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        // the hot responses emit first at frame 2: the response arrived while the request was being written
        const responses = hot('--x', { x: response(A.transactionId) })
        const requests = hot('--a', { a: A })
        expectObservable(requests.pipe(matchTransactions(responses))).toBe('--x', {
          x: success(A, response(A.transactionId))
        })
      })
    })

    it('holds a response that matches nothing for earlyResponseMs, then reports it', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('-x-y', { x: response(A.transactionId), y: response('tidNONE0') })
        const requests = cold('----a-b', { a: A, b: B })
        const outcomes = requests.pipe(matchTransactions(responses, { earlyResponseMs: 5, timeoutMs: 10 }))
        expectObservable(outcomes).toBe('----a---y 7ms b', {
          a: success(A, response(A.transactionId)),
          y: unmatched(response('tidNONE0')),
          b: timedOut(B)
        })
      })
    })
  })

  describe('transaction ids', () => {
    it('fails a request that reuses the id of a pending one with DuplicateTransactionId; the first stays (C-7.1-1)', () => {
      const again = send(A.transactionId, 'no')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('----x', { x: response(A.transactionId) })
        expectObservable(cold('a-b', { a: A, b: again }).pipe(matchTransactions(responses))).toBe('--d-x', {
          d: duplicate(again),
          x: success(A, response(A.transactionId))
        })
      })
    })

    it('allows an id again once its transaction has ended', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('-x--y', { x: response(A.transactionId), y: response(A.transactionId, 403, 'No') })
        expectObservable(cold('a--a', { a: A }).pipe(matchTransactions(responses))).toBe('-x--y', {
          x: success(A, response(A.transactionId)),
          y: errorResponse(A, response(A.transactionId, 403, 'No'))
        })
      })
    })

    it('keeps many concurrent transactions apart, answered in any order (pipelining, rfc4975-core.md §5.3)', () => {
      const a = send('tidMANY1', 'yes')
      const b = send('tidMANY2', 'yes')
      const c = send('tidMANY3')
      const d = send('tidMANY4', 'yes')
      const e = send('tidMANY5')
      const f = send('tidMANY6', 'partial')
      const ok = (r: MsrpRequest) => response(r.transactionId)
      const stop = response('tidMANY1', 413, 'Stop')
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('------E-C-A-(DF)', { E: ok(e), C: ok(c), A: stop, D: ok(d), F: ok(f) })
        const requests = cold('abcdef|', { a, b, c, d, e, f })
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 20 }))).toBe(
          '------e-c-a-(df) 5ms (b|)',
          {
            e: success(e, ok(e)),
            c: success(c, ok(c)),
            a: errorResponse(a, stop),
            d: success(d, ok(d)),
            f: success(f, ok(f)),
            b: timedOut(b)
          }
        )
      })
    })

    it('settles a thousand concurrent transactions, each exactly once', () => {
      const scheduler = testScheduler()
      const outcomes: Outcome[] = []
      let completed = false
      scheduler.run(() => {
        const requests = new Subject<MsrpRequest>()
        const responses = new Subject<MsrpResponse>()
        requests.pipe(matchTransactions(responses, { timeoutMs: 100 })).subscribe({
          next: (o) => outcomes.push(o),
          complete: () => (completed = true)
        })
        for (let k = 0; k < 1000; k++) requests.next(send(`tid${String(k).padStart(5, '0')}`))
        requests.complete()
        for (let k = 999; k >= 0; k -= 2) responses.next(response(`tid${String(k).padStart(5, '0')}`))
      })
      expect(outcomes).toHaveLength(1000)
      expect(outcomes.filter(E.isRight)).toHaveLength(500)
      expect(outcomes.filter((o) => E.isLeft(o) && o.left.reason === 'Timeout')).toHaveLength(500)
      const requestOf = (o: Outcome) => (E.isRight(o) ? o.right.request : 'request' in o.left ? o.left.request : null)
      expect(new Set(outcomes.map(requestOf)).size).toBe(1000)
      expect(completed).toBe(true)
    })
  })

  describe('completion', () => {
    it('completes once the requests have completed and every pending transaction has ended', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const responses = hot('---x', { x: response(A.transactionId) })
        const requests = cold('ab|', { a: A, b: C })
        expectObservable(requests.pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('---x 7ms (y|)', {
          x: success(A, response(A.transactionId)),
          y: released(C)
        })
        expectSubscriptions(responses.subscriptions).toBe('^ 10ms !')
      })
    })

    it('does not end pending transactions when the responses complete: their timers still run', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const responses = cold<MsrpResponse>('-|')
        expectObservable(cold('a|', { a: A }).pipe(matchTransactions(responses, { timeoutMs: 10 }))).toBe('10ms (t|)', {
          t: timedOut(A)
        })
      })
    })

    it('keeps one state per subscription', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const responses = hot('--x', { x: response(A.transactionId) })
        const outcomes = cold('a', { a: A }).pipe(matchTransactions(responses, { timeoutMs: 10 }))
        expectObservable(outcomes).toBe('--x', { x: success(A, response(A.transactionId)) })
        expectObservable(outcomes, '---^').toBe('--- 10ms t', { t: timedOut(A) })
      })
    })
  })
})
