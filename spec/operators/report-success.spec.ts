import * as E from 'fp-ts/Either'
import { from, lastValueFrom, toArray } from 'rxjs'
import { reassemble, type ReassemblyEvent, type SendPiece } from '../../src/operators/reassemble'
import { reportSuccess } from '../../src/operators/report-success'
import { validateReport, validateSend, type SendHead } from '../../src/wire/chunk'
import type { SuccessReport } from '../../src/wire/headers/report'
import { IDENT } from '../../src/wire/headers/message-id'
import type { Header, MsrpRequest } from '../../src/wire/model'
import { testScheduler } from '../helpers/marbles'

const LOCAL = 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'
const FROM_PATH = 'msrp://relay.example.com:9000/r1;tcp msrp://alicepc.example.com:7777/iau39soe2843z;tcp'

/** A validated SEND head; no Success-Report header when `successReport` is undefined. */
function head(
  messageId: string,
  successReport?: SuccessReport,
  byteRange = '1-5/5',
  transactionId = 'tid0001'
): SendHead {
  const r = validateSend(
    {
      type: 'request',
      transactionId,
      method: 'SEND',
      headers: [
        ['To-Path', LOCAL],
        ['From-Path', FROM_PATH],
        ['Message-ID', messageId],
        ['Byte-Range', byteRange],
        ...(successReport === undefined ? [] : [['Success-Report', successReport] as Header]),
        ['Content-Type', 'text/plain']
      ]
    },
    true
  )
  if (E.isLeft(r)) throw new Error(r.left.detail)
  return r.right
}

const complete = (h: SendHead, size: number): ReassemblyEvent => ({
  type: 'complete',
  messageId: h.messageId,
  size,
  head: h
})

/** Transaction ids `rep0001`, `rep0002`, … for each subscription of the test. */
const counter = (): (() => string) => {
  let n = 0
  return () => `rep${String(++n).padStart(4, '0')}`
}

/** The success REPORT the RFC asks for: whole From-Path, own URI, Message-ID, 1-N/N, `000 200 OK`, nothing else. */
const report = (transactionId: string, messageId: string, size: number): MsrpRequest => ({
  type: 'request',
  transactionId,
  method: 'REPORT',
  headers: [
    ['To-Path', FROM_PATH],
    ['From-Path', LOCAL],
    ['Message-ID', messageId],
    ['Byte-Range', `1-${size}/${size}`],
    ['Status', '000 200 OK']
  ],
  body: undefined,
  continuation: '$'
})

describe('reportSuccess (RFC 4975 §7.1.3)', () => {
  it('never: emits nothing and stays subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ReassemblyEvent>('-')
      expectObservable(source.pipe(reportSuccess({ localUri: LOCAL }))).toBe('-')
      expectSubscriptions(source.subscriptions).toBe('^')
    })
  })

  it('empty: completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ReassemblyEvent>('|').pipe(reportSuccess({ localUri: LOCAL }))).toBe('|')
    })
  })

  it('error: passes the source error through, after the REPORTs before it', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ReassemblyEvent>('a-#', { a: complete(head('msg00001', 'yes'), 5) }, new Error('lost'))
      expectObservable(source.pipe(reportSuccess({ localUri: LOCAL, transactionIds: counter() }))).toBe(
        'R-#',
        { R: report('rep0001', 'msg00001', 5) },
        new Error('lost')
      )
    })
  })

  it('early unsubscribe: unsubscribes from the source and emits nothing more', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ReassemblyEvent>('a--b', {
        a: complete(head('msg00001', 'yes'), 5),
        b: complete(head('msg00002', 'yes'), 5)
      })
      expectObservable(source.pipe(reportSuccess({ localUri: LOCAL, transactionIds: counter() })), '^-!').toBe('R', {
        R: report('rep0001', 'msg00001', 5)
      })
      expectSubscriptions(source.subscriptions).toBe('^-!')
    })
  })

  it('C-7.1.3-1, C-7.1.3-5: values: a REPORT for each complete message that asked `yes`, none for `no` or absent', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const yes = head('msg0000y', 'yes')
      const events: Record<string, ReassemblyEvent> = {
        s: { type: 'start', messageId: yes.messageId, head: yes, total: 5 },
        d: { type: 'data', messageId: yes.messageId, offset: 0, data: new Uint8Array(5) },
        c: { type: 'chunk', head: yes, status: 200, received: 5 },
        a: complete(yes, 5),
        n: complete(head('msg0000n', 'no'), 7),
        x: complete(head('msg0000x'), 9),
        b: complete(head('msg0000z', 'yes', '1-0/0'), 0),
        u: { type: 'duplicate', messageId: yes.messageId, head: yes },
        r: { type: 'aborted', messageId: 'msg0000q', received: 3, reason: 'ConnectionLost' },
        f: { type: 'failed', messageId: 'msg0000w', head: yes, status: 413, reason: 'TooLarge', detail: 'too large' }
      }
      const source = cold<ReassemblyEvent>('sdcanxburf|', events)
      expectObservable(source.pipe(reportSuccess({ localUri: LOCAL, transactionIds: counter() }))).toBe(
        '---R--E---|',
        // an empty message is reported as 1-0/0 (C-7.1.1-15)
        { R: report('rep0001', 'msg0000y', 5), E: report('rep0002', 'msg0000z', 0) }
      )
    })
  })

  it.each([
    ['C-7.1.3-1: MUST send a success REPORT for Success-Report yes', 'yes', true],
    ['C-7.1.3-5: MUST NOT send a success REPORT for Success-Report no', 'no', false],
    ['C-7.1.3-5: MUST NOT send a success REPORT when Success-Report is absent', undefined, false]
  ] as const)('%s', (_rule, sr, reports) => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<ReassemblyEvent>('-a-|', { a: complete(head('msg00001', sr), 5) })
      expectObservable(source.pipe(reportSuccess({ localUri: LOCAL, transactionIds: counter() }))).toBe(
        reports ? '-R-|' : '---|',
        reports ? { R: report('rep0001', 'msg00001', 5) } : {}
      )
    })
  })

  it('C-7.1.3-2, C-7.1.3-3, C-7.1.2-1: behind reassemble, ONE REPORT covers a two-chunk message, 1-8/8', async () => {
    const piece = (tid: string, range: string, body: string, end: '+' | '$'): SendPiece => ({
      head: head('msg00001', 'yes', range, tid),
      data: new TextEncoder().encode(body),
      position: 0,
      end,
      bodiless: false
    })
    const out = await lastValueFrom(
      from([piece('tid0001', '1-4/8', 'abcd', '+'), piece('tid0002', '5-8/8', 'efgh', '$')]).pipe(
        reassemble(),
        reportSuccess({ localUri: LOCAL, transactionIds: counter() }),
        toArray()
      )
    )
    expect(out).toEqual([report('rep0001', 'msg00001', 8)])
    // A valid REPORT by our own validator, which refuses Success-Report / Failure-Report in a REPORT (C-7.1.2-1).
    expect(E.isRight(validateReport(out[0] as MsrpRequest))).toBe(true)
  })

  it('C-7.1-1: by default each REPORT gets a fresh random transaction id', async () => {
    const events = [complete(head('msg00001', 'yes'), 5), complete(head('msg00002', 'yes'), 5)]
    const out = await lastValueFrom(from(events).pipe(reportSuccess({ localUri: LOCAL }), toArray()))
    expect(out).toHaveLength(2)
    const [a, b] = out.map((r) => r.transactionId)
    expect(a).toMatch(IDENT)
    expect(b).toMatch(IDENT)
    expect(a).not.toBe(b)
  })

  it('an exception thrown by transactionIds reaches the error channel (STYLE.md §3 rule 3)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const boom = new Error('no ids')
      const source = cold<ReassemblyEvent>('a', { a: complete(head('msg00001', 'yes'), 5) })
      const ids = (): string => {
        throw boom
      }
      expectObservable(source.pipe(reportSuccess({ localUri: LOCAL, transactionIds: ids }))).toBe('#', {}, boom)
    })
  })
})
