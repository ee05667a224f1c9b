import * as E from 'fp-ts/Either'
import { asyncScheduler, Observable, timer, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'
import { decodeHeader } from '../wire/headers'
import { FAILURE_REPORT_DEFAULT } from '../wire/headers/report'
import type { MsrpRequest, MsrpResponse } from '../wire/model'

/** How long a request with Failure-Report `yes` waits for its response before it fails with a local 408 (C-7.1.1-6). */
export const TRANSACTION_TIMEOUT_MS = 30_000
/**
 * How long a response that matches no pending request is held, in case its request is fed just after it (a response
 * can arrive while `write` runs, before the caller feeds the request). 0 = until the scheduler's next turn.
 */
export const EARLY_RESPONSE_MS = 0
/** The status of the local failure of a request that got no response in time (RFC 4975 §10: 408 is a timeout). */
export const TIMEOUT_STATUS = 408

export interface MatchTransactionsOptions {
  /** Default `TRANSACTION_TIMEOUT_MS` (30 000): the timer of Failure-Report `yes` and the window of `partial`. */
  readonly timeoutMs?: number
  /** Default `EARLY_RESPONSE_MS` (0): how long a response that matches no pending request waits for it. */
  readonly earlyResponseMs?: number
  /** Every timer runs on this scheduler. Default `asyncScheduler`; a `TestScheduler` in marble tests. */
  readonly scheduler?: SchedulerLike
}

/** A request whose transaction ended well. */
export interface Transaction {
  readonly request: MsrpRequest
  /**
   * The 2xx response, or `undefined` when none was expected: Failure-Report `no`, a REPORT, or Failure-Report
   * `partial` with no error response within `timeoutMs`.
   */
  readonly response: MsrpResponse | undefined
}

/**
 * A transaction that ended badly, or a response that belongs to none. A value, never an error (STYLE.md §4, tier 2);
 * every reason is in docs/errors.md.
 */
export type TransactionFailure =
  /** No response within `timeoutMs` to a request with Failure-Report `yes` or none: a local 408 (C-7.1.1-6). */
  | {
      readonly _tag: 'TransactionFailure'
      readonly reason: 'Timeout'
      readonly status: 408
      readonly request: MsrpRequest
      readonly detail: string
    }
  /** The request was answered with a non-2xx status (C-7.1.1-6, C-7.1.1-7); `status` is the response's. */
  | {
      readonly _tag: 'TransactionFailure'
      readonly reason: 'ErrorResponse'
      readonly status: number
      readonly request: MsrpRequest
      readonly response: MsrpResponse
      readonly detail: string
    }
  /**
   * A response whose transaction id names no pending request: never sent, already answered, already timed out, or
   * one that expects no response (Failure-Report `no`, REPORT).
   */
  | {
      readonly _tag: 'TransactionFailure'
      readonly reason: 'UnmatchedResponse'
      readonly response: MsrpResponse
      readonly detail: string
    }
  /** A request reuses the transaction id of a pending one (C-7.1-1); it is not tracked, the pending one is. */
  | {
      readonly _tag: 'TransactionFailure'
      readonly reason: 'DuplicateTransactionId'
      readonly request: MsrpRequest
      readonly detail: string
    }

export type TransactionReason = TransactionFailure['reason']

/** @internal What the sender waits for: a response (`yes`), only an error response (`partial`), or nothing. */
type Expectation = 'response' | 'errorsOnly' | 'nothing'

/** @internal */
interface Pending {
  readonly request: MsrpRequest
  readonly expectation: 'response' | 'errorsOnly'
  /** When it times out, by the scheduler's clock. */
  readonly deadline: number
  settled: boolean
}

/** @internal A response that matched nothing on arrival, held for `earlyResponseMs`. */
interface Held {
  readonly response: MsrpResponse
  timer: Subscription | undefined
  settled: boolean
}

/**
 * @internal What a request expects back (RFC 4975 §7.1.1, §7.2; rfc4975-core.md §5.3). REPORTs are never answered
 * (C-7.1.2-6). Otherwise Failure-Report decides, absent meaning `yes` (C-7.1.1-8); an undecodable Failure-Report is
 * taken as `yes` too: the peer answers such a request (with a 400), so we wait for that answer.
 */
function expectationOf(request: MsrpRequest): Expectation {
  if (request.method === 'REPORT') return 'nothing'
  const header = decodeHeader(request.headers, 'Failure-Report')
  const value = E.isRight(header) ? (header.right ?? FAILURE_REPORT_DEFAULT) : FAILURE_REPORT_DEFAULT
  return value === 'yes' ? 'response' : value === 'partial' ? 'errorsOnly' : 'nothing'
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300

/** @internal The outcome of a request answered with `response`. */
function answered(request: MsrpRequest, response: MsrpResponse): E.Either<TransactionFailure, Transaction> {
  if (isSuccess(response.status)) return E.right({ request, response })
  const comment = response.comment === undefined ? '' : ` ${response.comment}`
  return E.left({
    _tag: 'TransactionFailure',
    reason: 'ErrorResponse',
    status: response.status,
    request,
    response,
    detail: `${request.method} ${request.transactionId} was answered ${response.status}${comment}`
  })
}

/**
 * Pairs each request that has just been written with its response (RFC 4975 §7.1.1, §7.2; rfc4975-core.md §5.3).
 *
 * Feed each request right after writing it (C-7.1.1-6 counts from the last byte sent); `responses$` is the
 * connection's responses. One outcome per request, by its Failure-Report (absent = `yes`, C-7.1.1-8):
 * - `yes`: its response ends it: 2xx → `right({ request, response })`, else `left(ErrorResponse)`. None within
 *   `timeoutMs` → `left(Timeout)`, status 408 (C-7.1.1-6).
 * - `partial`: no 200 ever comes (C-7.1.4-3), but an error response may (C-7.1.1-7). For `timeoutMs` an error
 *   response ends it as `left(ErrorResponse)`; if none came, it ends as `right({ request, response: undefined })`.
 * - `no`, and every REPORT (never answered, C-7.1.2-6): `right({ request, response: undefined })` at once.
 * - A request whose transaction id is pending: `left(DuplicateTransactionId)` at once, not tracked (C-7.1-1).
 *
 * A response that matches no pending request is held for `earlyResponseMs` (its request may be fed just after it),
 * then reported as `left(UnmatchedResponse)`; so is a late response after a timeout. Nothing is dropped silently.
 * When the requests complete, the output completes once every pending request and held response has ended. To
 * give up on the pending ones (connection lost), unsubscribe: that clears every timer. Errors of either input pass
 * through.
 *
 * ```text
 * requests:   a-b-c-----------        a, c: Failure-Report yes; b: no; timeoutMs = 10
 * responses:  ---A------------        A: 200 to a
 * result:     --BR----------T-        B = right({ request: b, response: undefined })
 *                                     R = right({ request: a, response: A })
 *                                     T = left(Timeout, 408) for c, 10 frames after c
 * ```
 */
export function matchTransactions(
  responses$: Observable<MsrpResponse>,
  options: MatchTransactionsOptions = {}
): OperatorFunction<MsrpRequest, E.Either<TransactionFailure, Transaction>> {
  const timeoutMs = options.timeoutMs ?? TRANSACTION_TIMEOUT_MS
  const earlyResponseMs = options.earlyResponseMs ?? EARLY_RESPONSE_MS
  const scheduler = options.scheduler ?? asyncScheduler // every timer goes through it
  return (requests$) =>
    new Observable<E.Either<TransactionFailure, Transaction>>((subscriber) => {
      // State per subscription (STYLE.md §3 rule 1), released by the teardown.
      const pending = new Map<string, Pending>()
      const held = new Map<string, Held[]>()
      let requestsDone = false

      const completeIfIdle = (): void => {
        if (requestsDone && pending.size === 0 && held.size === 0) subscriber.complete()
      }

      /** C-7.1.1-6 (`yes`): no response in time is a local 408. `partial`: no error response in time is success. */
      const expire = (entry: Pending): void => {
        if (entry.settled) return
        entry.settled = true
        pending.delete(entry.request.transactionId)
        const { request } = entry
        subscriber.next(
          entry.expectation === 'response'
            ? E.left({
                _tag: 'TransactionFailure',
                reason: 'Timeout',
                status: TIMEOUT_STATUS,
                request,
                detail: `no response to ${request.method} ${request.transactionId} within ${timeoutMs} ms (C-7.1.1-6)`
              })
            : E.right({ request, response: undefined })
        )
        completeIfIdle()
      }

      /**
       * One timer for all pending requests, not one each (a timer per chunk cost more than the chunk's bookkeeping):
       * every request waits the same `timeoutMs`, so deadlines grow in tracking order, and `pending` (a Map keeps
       * insertion order) always starts with the next request to expire. The timer is armed for that first deadline;
       * when it fires it expires what is due and re-arms for the next. A request answered early leaves the timer as
       * it is: it then fires once for nothing and re-arms.
       */
      let sweep: Subscription | undefined
      const arm = (): void => {
        const first = pending.values().next()
        if (first.done === true) return
        sweep = timer(Math.max(0, first.value.deadline - scheduler.now()), scheduler).subscribe(() => {
          sweep = undefined
          const now = scheduler.now()
          for (const entry of pending.values()) {
            if (entry.deadline > now) break
            expire(entry)
          }
          if (sweep === undefined) arm()
        })
      }

      const track = (request: MsrpRequest, expectation: Pending['expectation']): void => {
        const entry: Pending = { request, expectation, deadline: scheduler.now() + timeoutMs, settled: false }
        pending.set(request.transactionId, entry)
        if (sweep === undefined) arm()
      }

      /** Takes the oldest held response for `transactionId`, if any. */
      const takeHeld = (transactionId: string): MsrpResponse | undefined => {
        const list = held.get(transactionId)
        const first = list?.shift()
        if (list === undefined || first === undefined) return undefined
        if (list.length === 0) held.delete(transactionId)
        first.settled = true
        first.timer?.unsubscribe()
        return first.response
      }

      /** A response that matches nothing yet: its request may follow within `earlyResponseMs`, else report it. */
      const hold = (response: MsrpResponse): void => {
        const entry: Held = { response, timer: undefined, settled: false }
        const id = response.transactionId
        const list = held.get(id)
        if (list === undefined) held.set(id, [entry])
        else list.push(entry)
        const t = timer(earlyResponseMs, scheduler).subscribe(() => {
          if (entry.settled) return
          entry.settled = true
          const rest = (held.get(id) ?? []).filter((h) => h !== entry)
          if (rest.length === 0) held.delete(id)
          else held.set(id, rest)
          subscriber.next(
            E.left({
              _tag: 'TransactionFailure',
              reason: 'UnmatchedResponse',
              response,
              detail: `response ${response.status} to ${id} matches no pending request`
            })
          )
          completeIfIdle()
        })
        if (entry.settled) t.unsubscribe()
        else entry.timer = t
      }

      const onResponse = (response: MsrpResponse): void => {
        const entry = pending.get(response.transactionId)
        if (entry === undefined) return hold(response)
        // C-7.2-2: a response carries the transaction id of its request; it ends that transaction, whatever its status.
        entry.settled = true
        pending.delete(response.transactionId)
        subscriber.next(answered(entry.request, response))
        completeIfIdle()
      }

      const onRequest = (request: MsrpRequest): void => {
        const id = request.transactionId
        const existing = pending.get(id)
        if (existing !== undefined) {
          // C-7.1-1: a transaction id must not collide with one in flight; its responses could not be told apart.
          subscriber.next(
            E.left({
              _tag: 'TransactionFailure',
              reason: 'DuplicateTransactionId',
              request,
              detail: `${request.method} ${id} reuses the id of a pending ${existing.request.method} (C-7.1-1)`
            })
          )
          return
        }
        const expectation = expectationOf(request)
        // C-7.1.1-8 / C-7.1.2-6: Failure-Report `no` and REPORTs get no response; nothing to wait for.
        if (expectation === 'nothing') return subscriber.next(E.right({ request, response: undefined }))
        const early = takeHeld(id)
        if (early !== undefined) {
          subscriber.next(answered(request, early))
          return completeIfIdle()
        }
        track(request, expectation)
      }

      const responseSubscription = responses$.subscribe({
        next: onResponse,
        error: (err: unknown) => subscriber.error(err)
        // completion changes nothing: pending requests still end by their timers
      })
      const requestSubscription = requests$.subscribe({
        next: onRequest,
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          requestsDone = true
          completeIfIdle()
        }
      })

      return () => {
        requestSubscription.unsubscribe()
        responseSubscription.unsubscribe()
        sweep?.unsubscribe()
        for (const list of held.values()) for (const entry of list) entry.timer?.unsubscribe()
        pending.clear()
        held.clear()
      }
    })
}
