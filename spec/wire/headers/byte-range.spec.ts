import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { ByteRange, checkByteRange, parseByteRange } from '../../../src/wire/headers'
import { arbByteRange } from '../../arbitraries/headers'

describe('Byte-Range (RFC 4975 §7.1.1, §9)', () => {
  it.each<[string, ByteRange]>([
    ['1-25/25', { start: 1, end: 25, total: 25 }],
    ['1-*/8', { start: 1, end: '*', total: 8 }],
    ['5-8/8', { start: 5, end: 8, total: 8 }],
    ['138-148/148', { start: 138, end: 148, total: 148 }],
    ['1-0/0', { start: 1, end: 0, total: 0 }],
    ['1-*/*', { start: 1, end: '*', total: '*' }],
    ['3-10/*', { start: 3, end: 10, total: '*' }],
    ['5-4/8', { start: 5, end: 4, total: 8 }],
    ['9-*/8', { start: 9, end: '*', total: 8 }],
    ['9007199254740991-*/*', { start: Number.MAX_SAFE_INTEGER, end: '*', total: '*' }]
  ])('decodes %s', (s, r) => {
    expect(ByteRange.decode(s)).toEqual(E.right(r))
    expect(ByteRange.encode(r)).toBe(s)
  })

  it('accepts leading zeros (1*DIGIT) and encodes the canonical number', () => {
    expect(ByteRange.decode('01-05/010')).toEqual(E.right({ start: 1, end: 5, total: 10 }))
    expect(ByteRange.encode({ start: 1, end: 5, total: 10 })).toBe('1-5/10')
  })

  it('C-7.1.1-15: empty content still starts at 1 (1-0/0), so range-start 0 is rejected', () => {
    expect(E.isRight(ByteRange.decode('1-0/0'))).toBe(true)
    expect(parseByteRange('0-0/0')).toEqual(E.left(expect.stringMatching(/range-start must be at least 1/)))
    expect(parseByteRange('0-5/10')).toEqual(E.left(expect.stringMatching(/range-start must be at least 1/)))
  })

  it.each([
    ['', /expected start-end\/total/],
    ['x', /expected start-end\/total/],
    ['1-2', /expected start-end\/total/],
    ['1-2/', /expected start-end\/total/],
    ['*-2/3', /expected start-end\/total/],
    ['1 -2/3', /expected start-end\/total/],
    ['1-2/3 ', /expected start-end\/total/],
    ['-1-2/3', /expected start-end\/total/],
    ['1-2/3/4', /expected start-end\/total/],
    ['1.5-2/3', /expected start-end\/total/],
    ['１-2/3', /expected start-end\/total/],
    ['5-3/8', /range-end must not be below range-start - 1/],
    ['1-9/8', /range-end must not exceed total/],
    ['10-*/8', /range-start must not exceed total \+ 1/],
    ['10-9/8', /range-end must not exceed total/],
    ['1-' + '9'.repeat(30) + '/*', /safe integers/],
    ['9'.repeat(30) + '-*/*', /safe integers/],
    ['1-*/' + '9'.repeat(30), /safe integers/],
    ['9007199254740992-*/*', /safe integers/]
  ])('rejects %j', (s, message) => {
    const r = ByteRange.decode(s)
    expect(E.isLeft(r) && r.left[0]?.message).toMatch(message)
  })

  it('checkByteRange explains inconsistent values and accepts consistent ones', () => {
    expect(checkByteRange({ start: 1, end: 0, total: 0 })).toBeUndefined()
    expect(checkByteRange({ start: 0.5, end: '*', total: '*' })).toMatch(/safe integers/)
    expect(checkByteRange({ start: 1, end: '*', total: -1 })).toMatch(/total/)
  })

  it('is() rejects inconsistent or mistyped values', () => {
    expect(ByteRange.is({ start: 1, end: 5, total: 10 })).toBe(true)
    expect(ByteRange.is({ start: 0, end: 5, total: 10 })).toBe(false)
    expect(ByteRange.is({ start: 1, end: '5', total: 10 })).toBe(false)
    expect(ByteRange.is('1-5/10')).toBe(false)
  })

  it('round-trips any consistent range', () => {
    fc.assert(
      fc.property(arbByteRange, (r) => {
        expect(ByteRange.is(r)).toBe(true)
        expect(ByteRange.decode(ByteRange.encode(r))).toEqual(E.right(r))
      })
    )
  })

  it('never throws, and what it decodes is consistent and round-trips', () => {
    const rangeish = fc
      .tuple(
        fc.oneof(fc.nat(), fc.constant('*')),
        fc.oneof(fc.nat(), fc.constant('*')),
        fc.oneof(fc.nat(), fc.constant('*'))
      )
      .map(([a, b, c]) => `${a}-${b}/${c}`)
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), rangeish), (s) => {
        const r = ByteRange.decode(s)
        if (E.isRight(r)) {
          expect(checkByteRange(r.right)).toBeUndefined()
          expect(ByteRange.decode(ByteRange.encode(r.right))).toEqual(r)
        }
      })
    )
  })
})
