/**
 * fast-check arbitraries for header values: each draws a valid value of the codec's type, so
 * `Codec.decode(Codec.encode(a))` must be `right(a)`.
 */
import fc from 'fast-check'
import type {
  AuthenticationInfo,
  ByteRange,
  ContentType,
  DigestChallenge,
  DigestCredentials,
  DigestParam,
  FailureReport,
  MediaTypeParam,
  Path,
  Status,
  SuccessReport
} from '../../src/wire/headers'
import { MAX_EXPIRES_SECONDS } from '../../src/wire/headers'
import { arbMsrpUri, arbToken } from './uri'

export { arbToken }

const chars = (s: string): string[] => [...s]
const ALPHANUM = chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')

/** Omits the keys whose value is `undefined`, as the decoders do. */
const compact = <A extends object>(a: A): A =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

/** A path of 1 to 4 URIs. */
export const arbPath: fc.Arbitrary<Path> = fc
  .tuple(arbMsrpUri, fc.array(arbMsrpUri, { maxLength: 3 }))
  .map(([h, t]) => [h, ...t])

/** An `ident` (Message-ID, transaction id). */
export const arbIdent = fc
  .tuple(
    fc.constantFrom(...ALPHANUM),
    fc.string({ unit: fc.constantFrom(...ALPHANUM, '.', '-', '+', '%', '='), minLength: 3, maxLength: 31 })
  )
  .map(([a, b]) => a + b)

const position = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 })

/** A consistent Byte-Range: 1 ≤ start, start - 1 ≤ end ≤ total, start ≤ total + 1, some fields `*`. */
export const arbByteRange: fc.Arbitrary<ByteRange> = fc
  .tuple(position, position, position, fc.boolean(), fc.boolean(), fc.boolean())
  .map(([a, b, c, endStar, totalStar, small]) => {
    const [x, y, z] = (small ? [a % 50, b % 50, c % 50] : [a, b, c]).sort((p, q) => p - q) as [number, number, number]
    return { start: x + 1, end: endStar ? '*' : y, total: totalStar ? '*' : z }
  })

/** Any text a `utf8text` or `quoted-string` may carry: tab, printable ASCII (with `"` and `\`), non-ASCII. */
export const arbText = fc.string({
  unit: fc.oneof(
    { weight: 10, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom('\t', '"', '\\', 'é', '漢', '😀', '\u00a0', '\u0085') }
  ),
  maxLength: 20
})

/** A Status value with 3-digit fields and an optional comment. */
export const arbStatus: fc.Arbitrary<Status> = fc
  .record({
    namespace: fc.integer({ min: 0, max: 999 }),
    code: fc.integer({ min: 0, max: 999 }),
    comment: fc.option(arbText, { nil: undefined })
  })
  .map(compact)

export const arbSuccessReport: fc.Arbitrary<SuccessReport> = fc.constantFrom('yes', 'no')
export const arbFailureReport: fc.Arbitrary<FailureReport> = fc.constantFrom('yes', 'no', 'partial')

/** A media type with 0 to 3 parameters (values token, quoted or absent). */
export const arbContentType: fc.Arbitrary<ContentType> = fc.record({
  type: arbToken,
  subtype: arbToken,
  params: fc.array(fc.tuple(arbToken, fc.option(fc.oneof(arbToken, arbText), { nil: undefined })), {
    maxLength: 3
  }) as fc.Arbitrary<MediaTypeParam[]>
})

/** Seconds for Expires, Min-Expires and Max-Expires. */
export const arbExpires = fc.integer({ min: 0, max: MAX_EXPIRES_SECONDS })

const lhex = (n: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...chars('0123456789abcdef')), minLength: n, maxLength: n })

const arbNc = lhex(8)

/** Unknown parameters: lower-case token names not in `known`, no repeats; `undefined` when none (as decoded). */
const arbOtherParams = (known: readonly string[]): fc.Arbitrary<DigestParam[] | undefined> =>
  fc
    .uniqueArray(
      fc.tuple(
        arbToken.map((n) => n.toLowerCase()),
        arbText
      ),
      { selector: ([n]) => n, maxLength: 2 }
    )
    .map((ps) => ps.filter(([n]) => !known.includes(n)))
    .map((ps) => (ps.length === 0 ? undefined : ps))

export const arbDigestChallenge: fc.Arbitrary<DigestChallenge> = fc
  .record({
    realm: arbText,
    nonce: arbText,
    qop: fc.array(arbToken, { minLength: 1, maxLength: 3 }),
    opaque: fc.option(arbText, { nil: undefined }),
    stale: fc.option(fc.boolean(), { nil: undefined }),
    algorithm: fc.option(fc.oneof(fc.constant('MD5'), arbToken), { nil: undefined }),
    domain: fc.option(arbText, { nil: undefined }),
    otherParams: arbOtherParams(['realm', 'nonce', 'qop', 'opaque', 'stale', 'algorithm', 'domain'])
  })
  .map(compact)

export const arbDigestCredentials: fc.Arbitrary<DigestCredentials> = fc
  .record({
    username: arbText,
    realm: arbText,
    nonce: arbText,
    uri: fc.option(arbText, { nil: undefined }),
    response: lhex(32),
    cnonce: arbText,
    nc: arbNc,
    qop: fc.oneof(fc.constant('auth'), arbToken),
    algorithm: fc.option(arbToken, { nil: undefined }),
    opaque: fc.option(arbText, { nil: undefined }),
    otherParams: arbOtherParams([
      'username',
      'realm',
      'nonce',
      'uri',
      'response',
      'algorithm',
      'cnonce',
      'opaque',
      'qop',
      'nc'
    ])
  })
  .map(compact)

export const arbAuthenticationInfo: fc.Arbitrary<AuthenticationInfo> = fc
  .record({
    nextnonce: fc.option(arbText, { nil: undefined }),
    qop: fc.oneof(fc.constant('auth'), arbToken),
    rspauth: fc.oneof(lhex(32), lhex(0), lhex(7)),
    cnonce: arbText,
    nc: arbNc,
    otherParams: arbOtherParams(['nextnonce', 'qop', 'rspauth', 'cnonce', 'nc'])
  })
  .map(compact)
