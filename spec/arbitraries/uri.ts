/**
 * fast-check arbitraries for MSRP URIs (RFC 4975 §6): every value is a valid, canonical `MsrpUri`
 * (lower-case scheme and transport), so `parseUri(formatUri(u))` must give `u` back.
 */
import fc from 'fast-check'
import type { MsrpUri, UriParam } from '../../src/wire/uri'

const chars = (s: string): string[] => [...s]
const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
const DIGIT = '0123456789'
const HEX = '0123456789abcdefABCDEF'
const UNRESERVED = `${ALPHA}${DIGIT}-._~`
// sub-delims without ";" (see uri.ts: ";" ends the authority)
const SUB_DELIMS = "!$&'()*+,="
const TOKEN_CHARS = chars("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~")

/** `%XX`, any byte. */
export const arbPctEncoded = fc
  .tuple(fc.constantFrom(...chars(HEX)), fc.constantFrom(...chars(HEX)))
  .map(([a, b]) => `%${a}${b}`)

const authorityUnit = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...chars(UNRESERVED + SUB_DELIMS)) },
  { weight: 1, arbitrary: arbPctEncoded }
)

/** RFC 3986 userinfo without ":" (no password, C-6-4) and without ";". May be empty. */
export const arbUserinfo = fc.string({ unit: authorityUnit, maxLength: 12 })

/** A reg-name host, e.g. `Alice.example.com` or `df7jal23ls0d.invalid`. */
export const arbRegName = fc.oneof(
  fc.string({ unit: authorityUnit, minLength: 1, maxLength: 20 }),
  fc
    .array(fc.string({ unit: fc.constantFrom(...chars(ALPHA + DIGIT)), minLength: 1, maxLength: 10 }), {
      minLength: 1,
      maxLength: 4
    })
    .map((labels) => labels.join('.'))
)

/** A dotted-quad IPv4 address. */
export const arbIpv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'))

const arbHexGroup = fc.string({ unit: fc.constantFrom(...chars(HEX)), minLength: 1, maxLength: 4 })

/** An IPv6 literal with brackets, in full, compressed (`::`) or IPv4-suffixed form. */
export const arbIpv6Literal = fc
  .tuple(fc.array(arbHexGroup, { minLength: 8, maxLength: 8 }), fc.nat(8), fc.nat(8), fc.boolean(), arbIpv4)
  .map(([groups, a, b, v4, ipv4]) => {
    const gs = v4 ? [...groups.slice(0, 6), ipv4] : groups
    const n = v4 ? 7 : 8 // pieces; the IPv4 piece counts as two groups but is one piece
    const start = Math.min(a, n)
    const len = Math.min(b, n - start)
    const text = len === 0 ? gs.join(':') : `${gs.slice(0, start).join(':')}::${gs.slice(start + len).join(':')}`
    return `[${text}]`
  })

/** Any valid host. */
export const arbHost = fc.oneof(arbRegName, arbIpv4, arbIpv6Literal)

/** A session-id: `1*( unreserved / "+" / "=" / "/" )`. */
export const arbSessionId = fc.string({
  unit: fc.constantFrom(...chars(`${UNRESERVED}+=/`)),
  minLength: 1,
  maxLength: 24
})

/** A lower-case transport: `tcp`, `ws` or another `1*ALPHANUM`. */
export const arbTransport = fc.oneof(
  fc.constantFrom('tcp', 'ws'),
  fc.string({ unit: fc.constantFrom(...chars('abcdefghijklmnopqrstuvwxyz0123456789')), minLength: 1, maxLength: 6 })
)

/** A token (RFC 4975 §9). */
export const arbToken = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 10 })

/** A URI parameter `token ["=" token]`. */
export const arbUriParam: fc.Arbitrary<UriParam> = fc.tuple(arbToken, fc.option(arbToken, { nil: undefined }))

/** A valid, canonical MSRP URI. Optional fields are absent (not `undefined`) when not drawn. */
export const arbMsrpUri: fc.Arbitrary<MsrpUri> = fc
  .record({
    scheme: fc.constantFrom('msrp' as const, 'msrps' as const),
    userinfo: fc.option(arbUserinfo, { nil: undefined }),
    host: arbHost,
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    sessionId: fc.option(arbSessionId, { nil: undefined }),
    transport: arbTransport,
    params: fc.array(arbUriParam, { maxLength: 3 })
  })
  .map(({ userinfo, port, sessionId, ...rest }) => ({
    ...rest,
    ...(userinfo === undefined ? {} : { userinfo }),
    ...(port === undefined ? {} : { port }),
    ...(sessionId === undefined ? {} : { sessionId })
  }))

/** Strings that look like URIs: valid ones with one character changed, inserted or removed, plus noise. */
export const arbUriLike: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(arbMsrpUri, fc.nat(), fc.string({ unit: 'binary-ascii', maxLength: 2 }), fc.nat(2))
    .map(([u, at, ins, del]) => {
      const s = formatLike(u)
      const i = at % (s.length + 1)
      return s.slice(0, i) + ins + s.slice(i + del)
    }),
  fc.string({ unit: 'binary' })
)

function formatLike(u: MsrpUri): string {
  const ui = u.userinfo === undefined ? '' : `${u.userinfo}@`
  const port = u.port === undefined ? '' : `:${u.port}`
  const sid = u.sessionId === undefined ? '' : `/${u.sessionId}`
  const ps = u.params.map(([n, v]) => (v === undefined ? `;${n}` : `;${n}=${v}`)).join('')
  return `${u.scheme}://${ui}${u.host}${port}${sid};${u.transport}${ps}`
}
