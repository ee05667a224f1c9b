import fc from 'fast-check'
import type { Header, MsrpFrame, MsrpRequest, MsrpResponse } from '../../src/wire/model'

const IDENT_FIRST = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const IDENT_REST = IDENT_FIRST + '.-+%='

/** `ident` of RFC 4975 §9: ALPHANUM 3*31ident-char. */
export const arbIdent = fc
  .tuple(fc.constantFrom(...IDENT_FIRST), fc.array(fc.constantFrom(...IDENT_REST), { minLength: 3, maxLength: 31 }))
  .map(([a, rest]) => a + rest.join(''))

const TOKEN_CHARS = "!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~"

/** hname: ALPHA *token; never Content-Type (its placement is constrained, see arbRequest). */
export const arbHeaderName = fc
  .tuple(
    fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
    fc.array(fc.constantFrom(...TOKEN_CHARS), { maxLength: 20 })
  )
  .map(([a, rest]) => a + rest.join(''))
  .filter((n) => n.toLowerCase() !== 'content-type')

/** utf8text: HTAB, printable ASCII and any non-ASCII character. */
export const arbHeaderValue = fc
  .array(
    fc.oneof(
      fc.constantFrom('\t', ' '),
      fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc.integer({ min: 0xa0, max: 0xd7ff }).map((c) => String.fromCharCode(c))
    ),
    { maxLength: 60 }
  )
  .map((cs) => cs.join(''))

export const arbHeaders: fc.Arbitrary<Header[]> = fc.array(fc.tuple(arbHeaderName, arbHeaderValue), { maxLength: 8 })

export const arbMethod = fc.oneof(fc.constantFrom('SEND', 'REPORT', 'AUTH'), fc.stringMatching(/^[A-Z]{1,12}$/))

/** Any request the encoder accepts: a body comes with Content-Type last; non-SEND bodies ≤ 10240. */
export const arbRequest: fc.Arbitrary<MsrpRequest> = fc
  .record({
    transactionId: arbIdent,
    method: arbMethod,
    headers: arbHeaders,
    body: fc.option(fc.uint8Array({ maxLength: 4096 }), { nil: undefined }),
    continuation: fc.constantFrom('$' as const, '+' as const, '#' as const),
    contentType: fc.constantFrom('text/plain', 'application/octet-stream', 'message/cpim')
  })
  .filter(
    ({ body, transactionId }) =>
      body === undefined || !new TextDecoder('latin1').decode(body).includes('-------' + transactionId)
  )
  .map(({ contentType, body, headers, ...r }) => ({
    type: 'request' as const,
    ...r,
    headers: body === undefined ? headers : [...headers, ['Content-Type', contentType] as const],
    body
  }))

export const arbResponse: fc.Arbitrary<MsrpResponse> = fc.record({
  type: fc.constant('response' as const),
  transactionId: arbIdent,
  status: fc.integer({ min: 0, max: 999 }),
  comment: fc.option(arbHeaderValue, { nil: undefined }),
  headers: arbHeaders,
  continuation: fc.constant('$' as const)
})

export const arbFrame: fc.Arbitrary<MsrpFrame> = fc.oneof(arbRequest, arbResponse)
