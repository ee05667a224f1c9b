import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { FailureReport, SuccessReport } from '../../../src/wire/headers'
import { arbFailureReport, arbSuccessReport } from '../../arbitraries/headers'

describe('Success-Report (RFC 4975 §9)', () => {
  it.each([
    ['yes', 'yes'],
    ['no', 'no'],
    ['YES', 'yes'],
    ['No', 'no']
  ])('decodes %s case-insensitively as %s', (s, v) => {
    expect(SuccessReport.decode(s)).toEqual(E.right(v))
  })

  it.each(['partial', '', 'y', 'yes ', ' yes', 'true'])('rejects %j', (s) => {
    const r = SuccessReport.decode(s)
    expect(E.isLeft(r) && r.left[0]?.message).toBe('expected "yes" or "no"')
  })

  it('encodes lower case and round-trips', () => {
    fc.assert(
      fc.property(arbSuccessReport, (v) => expect(SuccessReport.decode(SuccessReport.encode(v))).toEqual(E.right(v)))
    )
    expect(SuccessReport.is('YES')).toBe(false)
  })

  it('never throws', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => typeof SuccessReport.decode(s)._tag === 'string'))
  })
})

describe('Failure-Report (RFC 4975 §9)', () => {
  it.each([
    ['yes', 'yes'],
    ['no', 'no'],
    ['partial', 'partial'],
    ['PARTIAL', 'partial'],
    ['Yes', 'yes']
  ])('decodes %s case-insensitively as %s', (s, v) => {
    expect(FailureReport.decode(s)).toEqual(E.right(v))
  })

  it.each(['', 'part', 'maybe', 'no\r\n'])('rejects %j', (s) => {
    const r = FailureReport.decode(s)
    expect(E.isLeft(r) && r.left[0]?.message).toBe('expected "yes" or "no" or "partial"')
  })

  it('encodes lower case and round-trips', () => {
    fc.assert(
      fc.property(arbFailureReport, (v) => expect(FailureReport.decode(FailureReport.encode(v))).toEqual(E.right(v)))
    )
  })

  it('never throws', () => {
    fc.assert(fc.property(fc.string(), (s) => typeof FailureReport.decode(s)._tag === 'string'))
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => typeof FailureReport.decode(s)._tag === 'string'))
  })
})
