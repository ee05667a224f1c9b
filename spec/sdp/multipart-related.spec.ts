/**
 * An SDP with its file icon in a `multipart/related` body (src/sdp/multipart-related.ts; RFC 5547 §6 and §9.1,
 * F-8.8-1; RFC 2387; RFC 2046 §5.1): built and read on bytes, any icon octets, the boundary outside every part.
 */
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import {
  buildMultipartRelated,
  cidUrl,
  contentIdOf,
  MULTIPART_BOUNDARY_RANDOM_CHARS,
  parseMultipartRelated,
  RelatedContentTypeCodec,
  relatedPartFor,
  type RelatedContentType,
  type RelatedPart
} from '../../src/sdp/multipart-related'
import { RFC_SDP_EXAMPLES } from './rfc-examples'
import { left, right } from '../helpers/either'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1')

/** RFC 5547 §9.1 Figure 8: a push offer whose m-line has `a=file-icon:cid:id2@alicepc.example.com`. */
const FIGURE_8 = RFC_SDP_EXAMPLES.find((e) => e.name.startsWith('RFC 5547 §9.1 Figure 8'))?.sdp ?? ''
/** Icon octets with everything a text parser trips on: CR, LF, NUL, a boundary-like line, invalid UTF-8. */
const ICON = Uint8Array.from([0xff, 0xd8, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xc3, 0x28, 0x0d, 0x0a, 0x0d, 0x0a, 0xff, 0xd9])
const ICON_PART: RelatedPart = { contentId: 'id2@alicepc.example.com', contentType: 'image/jpeg', body: ICON }
/** `randomBytes` for the boundary: all zeros, so the first boundary drawn is `rx-msrp-000…0`. */
const zeros = (n: number): Uint8Array => new Uint8Array(n)
/** Figure 8 without its a=file-icon line, so that any parts may go with it. */
const WITHOUT_ICON = FIGURE_8.replace(/^a=file-icon.*\n/m, '')
const ZERO_BOUNDARY = `rx-msrp-${'0'.repeat(MULTIPART_BOUNDARY_RANDOM_CHARS)}`

describe('buildMultipartRelated: the SDP as root, the icon next to it (F-8.8-1)', () => {
  it('RFC 5547 §9.1: Figure 8 and its icon in the layout of the RFC, with the type parameter naming the SDP', () => {
    const built = right(buildMultipartRelated(FIGURE_8, [ICON_PART], { boundary: 'boundary71' }))
    expect(built.contentType).toBe('multipart/related;type="application/sdp";boundary=boundary71')
    expect(text(built.body)).toBe(
      text(
        Buffer.concat([
          Buffer.from(
            `--boundary71\r\nContent-Type: application/sdp\r\n\r\n${FIGURE_8}\r\n--boundary71\r\n` +
              'Content-Type: image/jpeg\r\nContent-Transfer-Encoding: binary\r\n' +
              'Content-ID: <id2@alicepc.example.com>\r\nContent-Disposition: icon\r\n\r\n'
          ),
          ICON,
          Buffer.from('\r\n--boundary71--\r\n')
        ])
      )
    )
  })

  it('reads back: the SDP, and the icon the m-line’s a=file-icon names (relatedPartFor)', () => {
    const built = right(buildMultipartRelated(FIGURE_8, [ICON_PART]))
    const parsed = right(parseMultipartRelated(built.contentType, built.body))
    expect(parsed.sdp).toBe(FIGURE_8)
    const media = right(parseMsrpMedia(parsed.sdp))[0] as MsrpMedia
    expect(media.file?.icon).toBe('cid:id2@alicepc.example.com')
    expect(relatedPartFor(parsed, media.file?.icon ?? '')).toEqual({ ...ICON_PART, disposition: 'icon' })
    expect(relatedPartFor(parsed, 'cid:other@alicepc.example.com')).toBeUndefined()
  })

  it('F-8.8-1: an a=file-icon that names none of the parts is MultipartInvalid, naming the attribute', () => {
    expect(left(buildMultipartRelated(FIGURE_8, []))).toMatchObject({
      reason: 'MultipartInvalid',
      attribute: 'file-icon',
      mediaIndex: 0
    })
    expect(
      left(buildMultipartRelated(FIGURE_8, [{ ...ICON_PART, contentId: 'id3@alicepc.example.com' }]))
    ).toMatchObject({ reason: 'MultipartInvalid' })
  })

  it('draws another boundary when the first occurs in a part', () => {
    const icon = bytes(`\r\n--${ZERO_BOUNDARY}--\r\n`)
    let call = 0
    const randomBytes = (n: number): Uint8Array => (call++ === 0 ? zeros(n) : new Uint8Array(n).fill(1))
    const built = right(buildMultipartRelated(FIGURE_8, [{ ...ICON_PART, body: icon }], { randomBytes }))
    expect(built.contentType).toContain(`boundary=rx-msrp-${'1'.repeat(MULTIPART_BOUNDARY_RANDOM_CHARS)}`)
    expect(
      relatedPartFor(right(parseMultipartRelated(built.contentType, built.body)), 'cid:id2@alicepc.example.com')?.body
    ).toEqual(icon)
  })

  it('fails, rather than writing an ambiguous body, when every boundary drawn (or the one given) occurs in a part', () => {
    const icon = bytes(`x${ZERO_BOUNDARY}x`)
    expect(left(buildMultipartRelated(FIGURE_8, [{ ...ICON_PART, body: icon }], { randomBytes: zeros })).reason).toBe(
      'MultipartInvalid'
    )
    expect(
      left(buildMultipartRelated(FIGURE_8, [{ ...ICON_PART, body: bytes('--b71') }], { boundary: 'b71' })).reason
    ).toBe('MultipartInvalid')
  })

  it.each([
    ['a Content-ID with angle brackets', { contentId: '<id2@alicepc.example.com>' }],
    ['a Content-ID with a space', { contentId: 'id 2@alicepc.example.com' }],
    ['a type that is no media type', { contentType: 'jpeg' }],
    ['a disposition with CRLF', { disposition: 'icon\r\nX-Evil: 1' }]
  ])('refuses %s (MultipartInvalid)', (_what, change) => {
    expect(
      left(buildMultipartRelated(FIGURE_8, [ICON_PART, { ...ICON_PART, contentId: 'x@y', ...change }])).reason
    ).toBe('MultipartInvalid')
  })

  it('refuses two parts with one Content-ID, a bad boundary, and an SDP without MSRP media', () => {
    expect(left(buildMultipartRelated(FIGURE_8, [ICON_PART, ICON_PART])).reason).toBe('MultipartInvalid')
    expect(left(buildMultipartRelated(FIGURE_8, [ICON_PART], { boundary: 'bad;boundary' })).reason).toBe(
      'MultipartInvalid'
    )
    expect(left(buildMultipartRelated('v=0\r\n', [ICON_PART])).reason).toBe('NoMsrpMedia')
  })

  it('round-trips any icons of any octets (fast-check): the SDP and every part come back, views of the body', () => {
    const arbPart = fc.record({
      contentId: fc.stringMatching(/^[A-Za-z0-9.$%_-]{1,12}@[a-z0-9.-]{1,12}$/),
      contentType: fc.constantFrom('image/jpeg', 'image/png', 'application/octet-stream'),
      disposition: fc.option(fc.constantFrom('icon', 'inline'), { nil: undefined }),
      body: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc
          .array(fc.constantFrom('\r\n', '--', 'rx-msrp-', '\r\n\r\n', 'a'), { maxLength: 30 })
          .map((a) => bytes(a.join('')))
      )
    })
    fc.assert(
      fc.property(fc.uniqueArray(arbPart, { maxLength: 3, selector: (p) => p.contentId }), (parts) => {
        const input: RelatedPart[] = parts.map(({ disposition, ...p }) =>
          disposition === undefined ? p : { ...p, disposition }
        )
        const built = right(buildMultipartRelated(WITHOUT_ICON, input))
        const parsed = right(parseMultipartRelated(built.contentType, built.body))
        expect(parsed.sdp).toBe(WITHOUT_ICON)
        expect(parsed.parts).toEqual(input.map((p) => ({ ...p, disposition: p.disposition ?? 'icon' })))
        for (const p of parsed.parts) if (p.body.length > 0) expect(p.body.buffer).toBe(built.body.buffer)
      }),
      { numRuns: 200 }
    )
  })
})

describe('parseMultipartRelated: an SDP body with parts, as a SIP peer sends it (RFC 2387, RFC 2046 §5.1)', () => {
  const CT = 'multipart/related; type="application/sdp"; boundary="boundary71"'
  const body = (...parts: string[]): Uint8Array => bytes(parts.join(''))
  const SDP_PART = `Content-Type: application/sdp\r\n\r\n${FIGURE_8}`
  const ICON_TEXT =
    'Content-Type: image/jpeg\r\nContent-ID: <id2@alicepc.example.com>\r\nContent-Disposition: icon\r\n\r\nJPEG'

  it('reads spaces around ; and =, a quoted boundary, a preamble, transport padding and an epilogue', () => {
    const parsed = right(
      parseMultipartRelated(
        CT,
        body(
          'preamble\r\n--boundary71  \r\n',
          SDP_PART,
          '\r\n--boundary71\r\n',
          ICON_TEXT,
          '\r\n--boundary71--\r\nepilogue'
        )
      )
    )
    expect(parsed.sdp).toBe(FIGURE_8)
    expect(parsed.parts).toEqual([
      { contentId: 'id2@alicepc.example.com', contentType: 'image/jpeg', disposition: 'icon', body: bytes('JPEG') }
    ])
  })

  it('decodes a base64 part, and unfolds a folded header', () => {
    const icon =
      'Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID:\r\n <i@a>\r\n\r\n' +
      Buffer.from(ICON)
        .toString('base64')
        .replace(/(.{8})/g, '$1\r\n')
    const parsed = right(
      parseMultipartRelated(CT, body('--boundary71\r\n', SDP_PART, '\r\n--boundary71\r\n', icon, '\r\n--boundary71--'))
    )
    expect(parsed.parts[0]).toMatchObject({ contentId: 'i@a', contentType: 'image/png', body: ICON })
  })

  it('RFC 2387 §3.2: the start parameter names the root when it is not the first part', () => {
    const parsed = right(
      parseMultipartRelated(
        'multipart/related;type="application/sdp";start="<sdp@a>";boundary=boundary71',
        body(
          '--boundary71\r\n',
          ICON_TEXT,
          '\r\n--boundary71\r\nContent-ID: <sdp@a>\r\n',
          SDP_PART,
          '\r\n--boundary71--'
        )
      )
    )
    expect(parsed.sdp).toBe(FIGURE_8)
    expect(parsed.parts.map((p) => p.contentId)).toEqual(['id2@alicepc.example.com'])
  })

  it.each([
    ['not multipart/related', 'multipart/mixed;type="application/sdp";boundary=boundary71'],
    ['F-8.8-1: no type parameter', 'multipart/related;boundary=boundary71'],
    ['a root type other than SDP', 'multipart/related;type="text/html";boundary=boundary71'],
    ['no boundary', 'multipart/related;type="application/sdp"'],
    ['a boundary of 71 characters', `multipart/related;type="application/sdp";boundary=${'b'.repeat(71)}`]
  ])('refuses a Content-Type with %s', (_what, contentType) => {
    const good = body('--boundary71\r\n', SDP_PART, '\r\n--boundary71--')
    expect(left(parseMultipartRelated(contentType, good)).reason).toBe('MultipartInvalid')
  })

  it.each([
    ['no boundary line', body(SDP_PART)],
    ['no close delimiter', body('--boundary71\r\n', SDP_PART)],
    ['a root that is not application/sdp (F-8.8-1)', body('--boundary71\r\n', ICON_TEXT, '\r\n--boundary71--')],
    [
      'a part without Content-ID',
      body('--boundary71\r\n', SDP_PART, '\r\n--boundary71\r\nContent-Type: image/png\r\n\r\nX\r\n--boundary71--')
    ],
    [
      'a part without the empty line after its headers',
      body('--boundary71\r\nContent-Type: application/sdp\r\n--boundary71--')
    ],
    [
      'an SDP that is not UTF-8',
      Buffer.concat([
        Buffer.from('--boundary71\r\nContent-Type: application/sdp\r\n\r\n'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('\r\n--boundary71--')
      ])
    ],
    [
      'an unknown transfer encoding',
      body('--boundary71\r\nContent-Transfer-Encoding: x-zip\r\n', SDP_PART, '\r\n--boundary71--')
    ]
  ])('refuses a body with %s', (_what, b) => {
    expect(left(parseMultipartRelated(CT, b)).reason).toBe('MultipartInvalid')
  })

  it('never throws, whatever the Content-Type and the bytes (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constant(CT)),
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .array(fc.constantFrom('--boundary71', '\r\n', '--', 'Content-ID: <a>', SDP_PART, ' '), { maxLength: 12 })
            .map((a) => bytes(a.join('')))
        ),
        (contentType, b) => {
          expect(() => parseMultipartRelated(contentType, b)).not.toThrow()
        }
      )
    )
  })
})

describe('RelatedContentTypeCodec and cid: URLs (RFC 2387 §3, RFC 2392 §2)', () => {
  const arbRelated: fc.Arbitrary<RelatedContentType> = fc.record(
    {
      boundary: fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/),
      type: fc.constantFrom('application/sdp', 'Application/SDP'),
      start: fc.stringMatching(/^[A-Za-z0-9.@_-]{1,20}$/)
    },
    { requiredKeys: ['boundary', 'type'] }
  )

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(arbRelated, (r) => {
        expect(RelatedContentTypeCodec.decode(RelatedContentTypeCodec.encode(r))).toEqual(E.right(r))
      })
    )
  })

  it('never throws on any string', () => {
    fc.assert(fc.property(fc.string(), (s) => expect(() => RelatedContentTypeCodec.decode(s)).not.toThrow()))
  })

  it('cidUrl and contentIdOf are inverse, and the RFC 5547 example needs no escaping', () => {
    expect(cidUrl('id2@alicepc.example.com')).toBe('cid:id2@alicepc.example.com')
    expect(contentIdOf('CID:foo4%25bar1@x')).toBe('foo4%bar1@x')
    expect(contentIdOf('http://x')).toBeUndefined()
    expect(contentIdOf('cid:%E0%A4%A')).toBeUndefined()
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x3B\x3D\x3F-\x7E]{1,30}$/), (id) => {
        expect(cidUrl(id)).toMatch(/^cid:\S+$/)
        expect(contentIdOf(cidUrl(id))).toBe(id)
      })
    )
  })
})
