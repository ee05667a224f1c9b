import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { Status } from '../../../src/wire/headers'
import { arbStatus } from '../../arbitraries/headers'

describe('Status (RFC 4975 §7.1.2, §9)', () => {
  it.each<[string, Status]>([
    ['000 200 OK', { namespace: 0, code: 200, comment: 'OK' }],
    [
      '000 408 Transaction-did-not-complete-in-allotted-time',
      { namespace: 0, code: 408, comment: 'Transaction-did-not-complete-in-allotted-time' }
    ],
    ['000 413', { namespace: 0, code: 413 }],
    ['000 200 ', { namespace: 0, code: 200, comment: '' }],
    ['123 999 multiple  words\tand tab', { namespace: 123, code: 999, comment: 'multiple  words\tand tab' }],
    ['000 200 ça marche ✓', { namespace: 0, code: 200, comment: 'ça marche ✓' }]
  ])('decodes %j and encodes it back', (s, st) => {
    expect(Status.decode(s)).toEqual(E.right(st))
    expect(Status.encode(st)).toBe(s)
  })

  it('keeps absent and empty comments apart', () => {
    const r = Status.decode('000 200')
    expect(E.isRight(r) && 'comment' in r.right).toBe(false)
  })

  it('pads namespace and code to three digits', () => {
    expect(Status.encode({ namespace: 0, code: 7 })).toBe('000 007')
  })

  it.each([
    [''],
    ['200'],
    ['000200'],
    ['00 200 OK'],
    ['0000 200 OK'],
    ['000 20 OK'],
    ['000 2000 OK'],
    ['000  200 OK'],
    ['000 200OK'],
    ['abc 200 OK'],
    [' 000 200 OK']
  ])('rejects %j as not namespace SP status-code [SP comment]', (s) => {
    const r = Status.decode(s)
    expect(E.isLeft(r) && r.left[0]?.message).toMatch(/expected namespace SP status-code/)
  })

  it.each([['000 200 O\r\nK'], ['000 200 \u0000'], ['000 200 a\u007fb'], ['000 200 \ud800']])(
    'rejects a comment with control characters or lone surrogates: %j',
    (s) => {
      const r = Status.decode(s)
      expect(E.isLeft(r) && r.left[0]?.message).toMatch(/utf8text/)
    }
  )

  it('is() rejects out-of-range fields and bad comments', () => {
    expect(Status.is({ namespace: 0, code: 200 })).toBe(true)
    expect(Status.is({ namespace: 1000, code: 200 })).toBe(false)
    expect(Status.is({ namespace: 0, code: 20.5 })).toBe(false)
    expect(Status.is({ namespace: 0, code: 200, comment: 'a\nb' })).toBe(false)
  })

  it('round-trips any status', () => {
    fc.assert(fc.property(arbStatus, (st) => expect(Status.decode(Status.encode(st))).toEqual(E.right(st))))
  })

  it('never throws, and what it decodes round-trips', () => {
    const statusish = fc
      .tuple(fc.nat(999), fc.nat(999), fc.string({ unit: 'binary' }))
      .map(([a, b, c]) => `${String(a).padStart(3, '0')} ${String(b).padStart(3, '0')} ${c}`)
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), statusish), (s) => {
        const r = Status.decode(s)
        if (E.isRight(r)) expect(Status.decode(Status.encode(r.right))).toEqual(r)
      })
    )
  })
})
