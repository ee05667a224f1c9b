/**
 * parseMsrpMedia / formatMsrpMedia (src/sdp/msrp-media.ts): what is built parses back to the same values, and a bad
 * or missing attribute is a typed failure naming the attribute and the m-line.
 */
import fc from 'fast-check'
import { formatMsrpMedia, parseMsrpMedia, type MsrpMedia, type MsrpMediaOptions } from '../../src/sdp/msrp-media'
import { arbFileAttributes, arbFormatList, arbSdpPath } from './arbitraries'
import { left, right } from '../helpers/either'

const arbMediaOptions: fc.Arbitrary<MsrpMediaOptions> = fc.record(
  {
    path: arbSdpPath,
    acceptTypes: arbFormatList,
    acceptWrappedTypes: arbFormatList,
    maxSize: fc.nat(),
    setup: fc.constantFrom('active' as const, 'passive' as const, 'actpass' as const),
    cema: fc.boolean(),
    direction: fc.constantFrom('sendrecv' as const, 'sendonly' as const, 'recvonly' as const, 'inactive' as const),
    file: arbFileAttributes,
    title: fc
      .string({ unit: fc.constantFrom(...'abc xyz,.!'), minLength: 1, maxLength: 20 })
      .filter((s) => s.trim() === s)
  },
  { requiredKeys: ['path'] }
)

const base = (path = 'msrp://a.example.com:7394/s1;tcp'): string[] => [
  'v=0',
  'o=- 1 1 IN IP4 a.example.com',
  's=-',
  'c=IN IP4 a.example.com',
  't=0 0',
  'm=message 7394 TCP/MSRP *',
  'a=accept-types:text/plain',
  `a=path:${path}`
]
const sdp = (...ls: string[]): string => `${ls.join('\r\n')}\r\n`

describe('parseMsrpMedia and formatMsrpMedia', () => {
  it('parse what format writes, for any MSRP attributes (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(arbMediaOptions, { minLength: 1, maxLength: 3 }), (media) => {
        const parsed = right(parseMsrpMedia(right(formatMsrpMedia(media))))
        expect(parsed).toHaveLength(media.length)
        parsed.forEach((m, i) => {
          const o = media[i] as MsrpMediaOptions
          expect(m.index).toBe(i)
          expect(m.path).toEqual(o.path)
          expect(m.acceptTypes).toEqual(o.acceptTypes ?? ['*'])
          expect(m.acceptWrappedTypes).toEqual(o.acceptWrappedTypes)
          expect(m.maxSize).toEqual(o.maxSize)
          expect(m.setup).toEqual(o.setup)
          expect(m.cema).toBe(o.cema === true)
          expect(m.direction).toEqual(o.direction)
          expect(m.title).toEqual(o.title)
          expect(m.file).toEqual(o.file === undefined || Object.keys(o.file).length === 0 ? undefined : o.file)
          // A parsed media formats to itself.
          expect(right(parseMsrpMedia(right(formatMsrpMedia(parsed))))).toEqual(parsed)
        })
      }),
      { numRuns: 200 }
    )
  })

  it('C-8.1-1, C-8.1-3: the c/m-line defaults to the address and port of the own (last) path URI', () => {
    const text = right(
      formatMsrpMedia([{ path: ['msrp://relay.example.com:9000/r;tcp', 'msrps://[2001:db8::1]:7000/me;tcp'] }])
    )
    expect(text).toContain('c=IN IP6 2001:db8::1\r\n')
    expect(text).toContain('m=message 7000 TCP/TLS/MSRP *\r\n')
    expect(text).toMatch(/^v=0\r\no=- \d+ \d+ IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n/)
  })

  it('M-4.2-3: with CEMA behind a relay the c/m-line names the relay; RFC 6135 active without relay uses port 9', () => {
    const cema = right(
      formatMsrpMedia([{ path: ['msrp://10.0.0.1:9000/r;tcp', 'msrp://10.0.0.2:7000/me;tcp'], cema: true }])
    )
    expect(cema).toContain('c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=message 9000 TCP/MSRP *\r\na=msrp-cema\r\n')
    const active = right(formatMsrpMedia([{ path: ['msrp://10.0.0.2:7000/me;tcp'], setup: 'active' }]))
    expect(active).toContain('m=message 9 TCP/MSRP *\r\na=setup:active\r\n')
  })

  it('RFC 7977 §5.2.2: a WebSocket client offers TCP/TLS/MSRP with its relay in the c/m-line, as §8.2.1 prints', () => {
    const path = ['msrps://a.example.com:2855/jui787s2f;tcp', 'msrps://df7jal23ls0d.invalid:2855/98cjs;ws']
    const text = right(formatMsrpMedia([{ path, acceptTypes: ['message/cpim', 'text/plain', 'text/html'] }]))
    expect(text).toContain('c=IN IP4 a.example.com\r\nt=0 0\r\nm=message 2855 TCP/TLS/MSRP *\r\n')
    expect(text).toContain(`a=path:${path.join(' ')}\r\n`)
  })

  it('every m-line keeps its own c= when the addresses differ; other media are skipped but counted', () => {
    const text = sdp(
      ...base(),
      'm=audio 49170 RTP/AVP 0',
      'm=message 8000 TCP/MSRP *',
      'c=IN IP4 b.example.com',
      'a=accept-types:*',
      'a=path:msrp://b.example.com:8000/s2;tcp',
      'm=message 5060 SIP *'
    )
    const media = right(parseMsrpMedia(text))
    expect(media.map((m) => [m.index, m.connection?.address])).toEqual([
      [0, 'a.example.com'],
      [2, 'b.example.com']
    ])
    expect(right(formatMsrpMedia(media))).toContain('m=message 8000 TCP/MSRP *\r\nc=IN IP4 b.example.com\r\n')
  })

  it('digit-only values stay strings (sdp-transform reads them as numbers)', () => {
    const media = right(
      parseMsrpMedia(sdp('c=IN IP4 6', 'm=message 1 TCP/MSRP *', 'i=42', 'a=accept-types:*', 'a=path:msrp://6:1/s;tcp'))
    )
    expect(media[0]).toMatchObject({ connection: { ipVer: 4, address: '6' }, title: '42' })
  })

  it('C-8.2-1, C-8.6-1: a missing path or accept-types is a failure naming the attribute and the m-line', () => {
    expect(left(parseMsrpMedia(sdp(...base().slice(0, 7))))).toMatchObject({
      reason: 'AttributeMissing',
      attribute: 'path',
      mediaIndex: 0
    })
    expect(left(parseMsrpMedia(sdp(...base().filter((l) => !l.startsWith('a=accept')))))).toMatchObject({
      reason: 'AttributeMissing',
      attribute: 'accept-types'
    })
  })

  it('a malformed attribute is an AttributeInvalid failure naming it', () => {
    const cases: Array<[string, string]> = [
      ['a=max-size:lots', 'max-size'],
      ['a=setup:sometimes', 'setup'],
      ['a=accept-wrapped-types:', 'accept-wrapped-types'],
      ['a=file-range:5-1', 'file-range'],
      ['a=file-transfer-id:a"b', 'file-transfer-id'],
      ['a=file-date:creation:"yesterday"', 'file-date'],
      ['a=file-icon:icon.png', 'file-icon'],
      ['a=file-selector:name:x', 'file-selector'],
      ['a=msrp-cema:yes', 'msrp-cema']
    ]
    for (const [line, attribute] of cases) {
      const f = left(parseMsrpMedia(sdp(...base(), line)))
      expect(f).toMatchObject({ _tag: 'SdpFailure', reason: 'AttributeInvalid', attribute, mediaIndex: 0 })
      expect(f.detail).toContain(`a=${attribute}`)
    }
    expect(left(parseMsrpMedia(sdp(...base('msrp://a.example.com/s1;tcp'))))).toMatchObject({
      reason: 'AttributeInvalid',
      attribute: 'path'
    })
  })

  it('a repeated attribute, a format other than *, or no MSRP m-line are failures too', () => {
    expect(left(parseMsrpMedia(sdp(...base(), 'a=max-size:1', 'a=max-size:2')))).toMatchObject({
      reason: 'AttributeDuplicate',
      attribute: 'max-size'
    })
    expect(left(parseMsrpMedia(sdp(...base().map((l) => l.replace(' *', ' 0')))))).toMatchObject({
      reason: 'FormatInvalid'
    })
    expect(left(parseMsrpMedia('v=0\r\nm=audio 49170 RTP/AVP 0\r\n'))).toMatchObject({ reason: 'NoMsrpMedia' })
    fc.assert(fc.property(fc.string(), (s) => expect(() => parseMsrpMedia(s)).not.toThrow()))
  })

  it('a rejected m-line (port 0) may omit path and accept-types; a=connection is ignored (S-4.4-1)', () => {
    const media = right(parseMsrpMedia(sdp('m=message 0 TCP/MSRP *', 'a=connection:new', 'a=file-transfer-id:abc')))
    expect(media[0]).toMatchObject<Partial<MsrpMedia>>({
      port: 0,
      path: [],
      acceptTypes: [],
      file: { transferId: 'abc' }
    })
  })

  it('C-8.4-2: the o= line takes the given session id and version, so an unchanged SDP can reuse it', () => {
    const o = { username: 'alice', sessionId: '2890844526', sessionVersion: 2890844527 }
    const text = right(formatMsrpMedia([{ path: ['msrp://alice.example.com:7394/s;tcp'] }], o))
    expect(text).toContain('o=alice 2890844526 2890844527 IN IP4 alice.example.com\r\n')
    expect(right(formatMsrpMedia([{ path: ['msrp://a.example.com:1/s;tcp'] }], { sessionId: 'abc' }))).toContain(
      'o=- abc 0 IN IP4 a.example.com\r\n'
    )
  })

  it('formatting refuses a bad value, naming the attribute', () => {
    expect(left(formatMsrpMedia([{ path: ['msrp://a.example.com:1/s;tcp'], acceptTypes: ['text'] }]))).toMatchObject({
      reason: 'AttributeInvalid',
      attribute: 'accept-types'
    })
    expect(left(formatMsrpMedia([{ path: ['msrp://a.example.com/s;tcp'] }]))).toMatchObject({ attribute: 'path' })
    expect(left(formatMsrpMedia([{ path: [] }]))).toMatchObject({ reason: 'AttributeMissing', attribute: 'path' })
  })
})
