import * as E from 'fp-ts/Either'
import { from, lastValueFrom, toArray } from 'rxjs'
import { answerChunks } from '../../src/operators/answer-chunks'
import { reassemble, type ReassemblyEvent, type SendPiece } from '../../src/operators/reassemble'
import { validateSend, type SendHead } from '../../src/wire/chunk'
import type { FailureReport } from '../../src/wire/headers/report'
import type { Header, MsrpResponse } from '../../src/wire/model'
import { testScheduler } from '../helpers/marbles'

const LOCAL = 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'
const PREVIOUS_HOP = 'msrp://relay.example.com:9000/r1;tcp'
const SENDER = 'msrp://alicepc.example.com:7777/iau39soe2843z;tcp'

/** A validated SEND head that came through one relay; no Failure-Report header when `failureReport` is undefined. */
function head(transactionId: string, failureReport?: FailureReport, byteRange = '1-5/5'): SendHead {
  const r = validateSend(
    {
      type: 'request',
      transactionId,
      method: 'SEND',
      headers: [
        ['To-Path', LOCAL],
        ['From-Path', `${PREVIOUS_HOP} ${SENDER}`],
        ['Message-ID', 'm-' + transactionId],
        ['Byte-Range', byteRange],
        ...(failureReport === undefined ? [] : [['Failure-Report', failureReport] as Header]),
        ['Content-Type', 'text/plain']
      ]
    },
    true
  )
  if (E.isLeft(r)) throw new Error(r.left.detail)
  return r.right
}

const chunk = (h: SendHead, status: number, received = 5): ReassemblyEvent => ({
  type: 'chunk',
  head: h,
  status,
  received
})

/** The response the RFC asks for: same transaction id, To-Path = previous hop only, From-Path = LOCAL, flag `$`. */
const answer = (transactionId: string, status: number, comment: string): MsrpResponse => ({
  type: 'response',
  transactionId,
  status,
  comment,
  headers: [
    ['To-Path', PREVIOUS_HOP],
    ['From-Path', LOCAL]
  ],
  continuation: '$'
})

const PHRASE: Record<number, string> = { 200: 'OK', 400: 'Unintelligible', 413: 'Stop-sending-message' }

describe('answerChunks (RFC 4975 §7.2)', () => {
  it('never: emits nothing and stays subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ReassemblyEvent>('-')
      expectObservable(source.pipe(answerChunks({ localUri: LOCAL }))).toBe('-')
      expectSubscriptions(source.subscriptions).toBe('^')
    })
  })

  it('empty: completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ReassemblyEvent>('|').pipe(answerChunks({ localUri: LOCAL }))).toBe('|')
    })
  })

  it('error: passes the source error through, after the responses before it', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = head('tida1')
      const source = cold<ReassemblyEvent>('a-#', { a: chunk(a, 200) }, new Error('lost'))
      expectObservable(source.pipe(answerChunks({ localUri: LOCAL }))).toBe(
        'A-#',
        { A: answer('tida1', 200, 'OK') },
        new Error('lost')
      )
    })
  })

  it('early unsubscribe: unsubscribes from the source and emits nothing more', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ReassemblyEvent>('a--b', { a: chunk(head('tida1'), 200), b: chunk(head('tidb1'), 200) })
      expectObservable(source.pipe(answerChunks({ localUri: LOCAL })), '^-!').toBe('A', {
        A: answer('tida1', 200, 'OK')
      })
      expectSubscriptions(source.subscriptions).toBe('^-!')
    })
  })

  it('values: answers the chunk events and ignores every other event, keeping order and time', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = head('tida1')
      const b = head('tidb1', 'partial')
      const c = head('tidc1', 'partial')
      const events: Record<string, ReassemblyEvent> = {
        s: { type: 'start', messageId: a.messageId, head: a, total: 5 },
        d: { type: 'data', messageId: a.messageId, offset: 0, data: new Uint8Array(5) },
        a: chunk(a, 200),
        x: { type: 'complete', messageId: a.messageId, size: 5, head: a },
        b: chunk(b, 200),
        f: { type: 'failed', messageId: c.messageId, head: c, status: 413, reason: 'TooLarge', detail: 'too large' },
        c: chunk(c, 413, 3),
        u: { type: 'duplicate', messageId: a.messageId, head: a },
        r: { type: 'aborted', messageId: b.messageId, received: 5, reason: 'Aborted' }
      }
      const source = cold<ReassemblyEvent>('sdaxbfcur|', events)
      expectObservable(source.pipe(answerChunks({ localUri: LOCAL }))).toBe('--A---C--|', {
        A: answer('tida1', 200, 'OK'),
        C: answer('tidc1', 413, 'Stop-sending-message')
      })
    })
  })

  // Every Failure-Report value (absent = yes, C-7.1.1-8) × a success and two failures.
  const cases: Array<[string, string, number, FailureReport | undefined, boolean]> = []
  for (const fr of ['yes', undefined, 'partial', 'no'] as const) {
    for (const status of [200, 413, 400]) {
      const respond = fr === 'yes' || fr === undefined ? true : fr === 'partial' ? status !== 200 : false
      const rule =
        fr === 'partial'
          ? status === 200
            ? 'C-7.1.4-3: MUST NOT send a 200 for Failure-Report partial'
            : 'C-7.1.4-3: SHOULD send the error response for Failure-Report partial'
          : fr === 'no'
            ? 'C-7.1.4-2: MUST NOT send any response for Failure-Report no'
            : 'C-7.2-1, C-7.1.4-1: MUST respond at once, 200 or the error, for Failure-Report yes or absent'
      cases.push([rule, fr ?? 'absent', status, fr, respond])
    }
  }

  it.each(cases)('%s (Failure-Report %s, status %i)', (_rule, _label, status, fr, respond) => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ReassemblyEvent>('-a-|', { a: chunk(head('tid0001', fr), status) })
      expectObservable(source.pipe(answerChunks({ localUri: LOCAL }))).toBe(
        respond ? '-A-|' : '---|',
        respond ? { A: answer('tid0001', status, PHRASE[status] as string) } : {}
      )
    })
  })

  it('C-7.2-2, C-7.2-3, C-7.2-4: same transaction id, To-Path = first From-Path URI only, From-Path = localUri, `$`', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ReassemblyEvent>('a|', { a: chunk(head('x9y8z7w6'), 200) })
      expectObservable(source.pipe(answerChunks({ localUri: LOCAL }))).toBe('A|', {
        A: {
          type: 'response',
          transactionId: 'x9y8z7w6',
          status: 200,
          comment: 'OK',
          headers: [
            ['To-Path', PREVIOUS_HOP],
            ['From-Path', LOCAL]
          ],
          continuation: '$'
        }
      })
    })
  })

  it('C-7.1.4-3, C-7.1.4-1: behind reassemble, a partial message past maxMessageBytes gets one 413 and no 200', async () => {
    const piece = (transactionId: string, range: string, body: string, fr: FailureReport): SendPiece => ({
      head: head(transactionId, fr, range),
      data: new TextEncoder().encode(body),
      position: 0,
      end: '$',
      bodiless: false
    })
    const pieces = [piece('tidok001', '1-4/4', 'abcd', 'partial'), piece('tidbig01', '1-8/8', 'abcdefgh', 'partial')]
    const out = await lastValueFrom(
      from(pieces).pipe(reassemble({ maxMessageBytes: 4 }), answerChunks({ localUri: LOCAL }), toArray())
    )
    expect(out).toEqual([answer('tidbig01', 413, 'Stop-sending-message')])
  })
})
