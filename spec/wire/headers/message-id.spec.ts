import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { isIdent, MessageId } from '../../../src/wire/headers'
import { arbIdent } from '../../arbitraries/headers'

describe('Message-ID (RFC 4975 §9 ident)', () => {
  it.each(['87652491', '12339sdqwer', '456s9wlk3', '4564dpWd', 'm1b2c3d4e5f6', 'a.-+%=', 'A' + 'b'.repeat(31)])(
    'accepts %s and encodes it unchanged',
    (id) => {
      expect(MessageId.decode(id)).toEqual(E.right(id))
      expect(MessageId.encode(id)).toBe(id)
    }
  )

  it.each([
    ['', 'empty'],
    ['abc', 'too short (3 characters)'],
    ['A' + 'b'.repeat(32), 'too long (33 characters)'],
    ['.abc', 'starts with a non-ALPHANUM'],
    ['abc def', 'contains SP'],
    ['abc_def', 'contains "_"'],
    ['abcdé', 'contains non-ASCII'],
    [' abcd', 'leading space'],
    ['abcd\r\n', 'trailing CRLF']
  ])('rejects %j (%s)', (id) => {
    const r = MessageId.decode(id)
    expect(E.isLeft(r) && r.left[0]?.message).toMatch(/ident/)
  })

  it('round-trips any ident', () => {
    fc.assert(fc.property(arbIdent, (id) => expect(MessageId.decode(MessageId.encode(id))).toEqual(E.right(id))))
  })

  it('never throws, and accepts exactly the idents', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        expect(E.isRight(MessageId.decode(s))).toBe(isIdent(s))
      })
    )
  })
})
