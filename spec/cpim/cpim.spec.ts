import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import {
  CPIM_MAX_HEADERS,
  decodeCpim,
  encodeCpim,
  unfoldMime,
  cpimContentHeader,
  type CpimReason
} from '../../src/cpim/cpim'
import {
  CpimAddress,
  CpimDateTime,
  CpimNamespace,
  buildCpim,
  escapeCpim,
  readEnvelope,
  unescapeCpim
} from '../../src/cpim/envelope'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const reasonOf = (e: E.Either<{ reason: CpimReason }, unknown>): CpimReason | undefined =>
  E.isLeft(e) ? e.left.reason : undefined

/** Text with characters that need escapes (controls, backslash, quotes) and non-ASCII, without lone surrogates. */
const arbText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\\', '"', "'", '\t', '\n', '\r', '\b', '\x00', '\x1b', '\x7f', '<', '>', ' ', 'é', '☃', '😀'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })
  ),
  maxLength: 30
})
const arbUri = fc.stringMatching(/^[a-z]{1,6}:[a-z0-9@.\-_~%]{1,20}$/)
const arbAddress = fc
  .record({ name: fc.option(arbText, { nil: undefined }), uri: arbUri })
  .map((a) => (a.name === undefined ? { uri: a.uri } : { name: a.name, uri: a.uri }))

describe('message/cpim encode and decode (RFC 3862 §2, §3)', () => {
  it('P-2.3-1: escapes backslash, BS, TAB, LF, CR and other controls; the quote only inside its quoted string', () => {
    expect(escapeCpim('a\\b\bc\td\ne\rf\x00g\x7fh')).toBe('a\\\\b\\bc\\td\\ne\\rf\\u0000g\\u007Fh')
    expect(escapeCpim('say "hi" it\'s')).toBe('say "hi" it\'s')
    expect(escapeCpim('say "hi"', '"')).toBe('say \\"hi\\"')
    expect(escapeCpim("it's", "'")).toBe("it\\'s")
    expect(escapeCpim('été ☃')).toBe('été ☃')
  })

  it('P-2.3-1: unescapes \\uXXXX and the short escapes; an unknown \\x is x, a lone trailing backslash is ignored', () => {
    expect(unescapeCpim('\\u0041\\u00e9 \\b\\t\\n\\r\\"\\\'\\\\')).toBe('Aé \b\t\n\r"\'\\')
    expect(unescapeCpim('\\q')).toBe('q')
    expect(unescapeCpim('end\\')).toBe('end')
  })

  it('unescape(escape(s)) is s for any text, in or out of quotes', () => {
    fc.assert(
      fc.property(arbText, fc.constantFrom(undefined, '"' as const, "'" as const), (s, q) => {
        const escaped = escapeCpim(s, q)
        expect(escaped).not.toMatch(/[\x00-\x1f\x7f]/)
        expect(unescapeCpim(escaped)).toBe(s)
      })
    )
  })

  it('From/To/cc addresses: tokens or a quoted String before <URI>, any display name round-trips', () => {
    expect(CpimAddress.decode('Winnie the Pooh <im:pooh@100akerwood.com>')).toEqual(
      E.right({ name: 'Winnie the Pooh', uri: 'im:pooh@100akerwood.com' })
    )
    expect(CpimAddress.decode('<im:tigger@100akerwood.com>')).toEqual(E.right({ uri: 'im:tigger@100akerwood.com' }))
    expect(CpimAddress.encode({ name: 'Dr. "X", Esq.', uri: 'sip:x@example.com' })).toBe(
      '"Dr. \\"X\\", Esq." <sip:x@example.com>'
    )
    for (const bad of ['Pooh', 'Pooh <>', 'Pooh <not a uri>', 'two  spaces <im:a@b>', '"open <im:a@b>', 'a<im:b@c>'])
      expect(E.isLeft(CpimAddress.decode(bad))).toBe(true)
    fc.assert(
      fc.property(arbAddress, (a) => {
        expect(CpimAddress.decode(CpimAddress.encode(a))).toEqual(E.right(a))
      })
    )
  })

  it('DateTime is RFC 3339: offsets are applied; nonsense dates are refused', () => {
    expect(CpimDateTime.decode('2001-02-01T12:16:49-05:00')).toEqual(E.right(new Date('2001-02-01T17:16:49Z')))
    expect(CpimDateTime.decode('2001-02-01t12:16:49.25Z')).toEqual(E.right(new Date('2001-02-01T12:16:49.250Z')))
    for (const bad of ['2001-02-01', '2001-13-01T00:00:00Z', '2001-02-01T25:00:00Z', '2001-02-01 12:16:49Z', 'now'])
      expect(E.isLeft(CpimDateTime.decode(bad))).toBe(true)
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        expect(CpimDateTime.decode(CpimDateTime.encode(d))).toEqual(E.right(d))
      })
    )
  })

  it('P-3.4-1: NS values name an absolute URI without fragment', () => {
    expect(CpimNamespace.decode('MyAlias <mid:MessageFeatures@id.foo.com>')).toEqual(
      E.right({ prefix: 'MyAlias', uri: 'mid:MessageFeatures@id.foo.com' })
    )
    expect(CpimNamespace.decode('<urn:x:y>')).toEqual(E.right({ uri: 'urn:x:y' }))
    expect(E.isLeft(CpimNamespace.decode('A <urn:x#frag>'))).toBe(true)
    expect(E.isLeft(CpimNamespace.decode('A.B <urn:x>'))).toBe(true)
  })

  it('decode(encode(m)) is m and the envelope survives, for any headers needing escapes and any body bytes', () => {
    fc.assert(
      fc.property(
        arbAddress,
        fc.array(arbAddress, { minLength: 1, maxLength: 3 }),
        fc.array(arbAddress, { maxLength: 2 }),
        fc.array(fc.record({ text: arbText, lang: fc.constantFrom('en', 'fr', 'de-CH') }), { maxLength: 3 }),
        fc.array(arbText, { maxLength: 3 }),
        fc.uint8Array({ maxLength: 200 }),
        (from, to, cc, subjects, values, body) => {
          const uniqueSubjects = subjects.filter((s, i) => subjects.findIndex((o) => o.lang === s.lang) === i)
          const built = buildCpim(body, {
            from,
            to,
            cc,
            subject: uniqueSubjects,
            namespaces: [{ prefix: 'X', uri: 'urn:example:x' }],
            extensions: values.map((value, i) => ({ name: `X.H${i}`, value })),
            contentType: 'application/octet-stream',
            contentHeaders: [['Content-ID', '<1@x>']],
            dateTime: new Date('2020-01-02T03:04:05.678Z')
          })
          expect(E.isRight(built)).toBe(true)
          if (E.isLeft(built)) return
          const encoded = encodeCpim(built.right)
          const decoded = decodeCpim(encoded)
          expect(decoded).toEqual(E.right(built.right))
          if (E.isLeft(decoded)) return
          expect(encodeCpim(decoded.right)).toEqual(encoded)
          const envelope = readEnvelope(decoded.right)
          expect(envelope).toEqual(
            E.right({
              from,
              to,
              cc,
              dateTime: new Date('2020-01-02T03:04:05.678Z'),
              subject: uniqueSubjects,
              namespaces: [{ prefix: 'X', uri: 'urn:example:x' }],
              require: [],
              extensions: values.map((value, i) => ({
                prefix: 'X',
                namespace: 'urn:example:x',
                name: `H${i}`,
                params: [],
                value
              }))
            })
          )
        }
      )
    )
  })

  it('never throws on any input bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (input, lenient) => {
        const r = decodeCpim(input, { allowMissingSeparator: lenient })
        if (E.isRight(r)) expect(encodeCpim(r.right).length).toBeGreaterThanOrEqual(0)
      })
    )
  })

  it.each<[string, CpimReason, string]>([
    ['no empty line after the headers', 'MissingSeparator', 'From: <im:a@b>\r\nTo: <im:c@d>\r\n'],
    ['no empty line after the MIME headers', 'MissingSeparator', 'From: <im:a@b>\r\n\r\nContent-Type: text/plain\r\n'],
    ['no SP after the colon', 'HeaderSyntax', 'From:<im:a@b>\r\n\r\nContent-Type: t/p\r\n\r\n'],
    ['a folded message header (P-2.2-1)', 'HeaderSyntax', 'Subject: a\r\n b\r\n\r\nContent-Type: t/p\r\n\r\n'],
    ['a bare LF line end', 'HeaderSyntax', 'From: <im:a@b>\n\r\nContent-Type: t/p\r\n\r\n'],
    ['a control character in a value', 'HeaderSyntax', 'Subject: a\x01b\r\n\r\nContent-Type: t/p\r\n\r\n'],
    ['a parameter without a name', 'HeaderSyntax', 'Subject:;=fr x\r\n\r\nContent-Type: t/p\r\n\r\n'],
    [
      'no Content-Type in the MIME headers',
      'MissingContentType',
      'From: <im:a@b>\r\n\r\nContent-ID: <1@x>\r\n\r\nbody'
    ],
    ['a MIME line without a colon', 'ContentHeaderSyntax', 'From: <im:a@b>\r\n\r\nContent-Type text/plain\r\n\r\n']
  ])('fails on %s with %s', (_, reason, input) => {
    expect(reasonOf(decodeCpim(bytes(input)))).toBe(reason)
  })

  it('fails on header sections that are not UTF-8 (P-2.2-1)', () => {
    const input = Uint8Array.from([...bytes('Subject: '), 0xc3, 0x28, ...bytes('\r\n\r\nContent-Type: t/p\r\n\r\n')])
    expect(reasonOf(decodeCpim(input))).toBe('InvalidUtf8')
  })

  it('is bounded: too many headers, too long a line, too large a head', () => {
    const many = 'Subject: x\r\n'.repeat(CPIM_MAX_HEADERS + 1) + '\r\nContent-Type: t/p\r\n\r\n'
    expect(reasonOf(decodeCpim(bytes(many)))).toBe('TooManyHeaders')
    expect(reasonOf(decodeCpim(bytes(`Subject: ${'x'.repeat(100)}\r\n`), { maxLineBytes: 50 }))).toBe('HeaderTooLong')
    const big = 'Subject: x\r\n'.repeat(20) + '\r\nContent-Type: t/p\r\n\r\n'
    expect(reasonOf(decodeCpim(bytes(big), { maxHeadBytes: 100 }))).toBe('HeadTooLarge')
    const contents = 'From: <im:a@b>\r\n\r\n' + 'Content-X: y\r\n'.repeat(5) + 'Content-Type: t/p\r\n\r\n'
    expect(reasonOf(decodeCpim(bytes(contents), { maxContentHeaders: 3 }))).toBe('TooManyHeaders')
  })

  it('keeps folded MIME headers as written and unfolds them on request', () => {
    const input = bytes(
      'From: <im:a@b>\r\nTo: <im:c@d>\r\n\r\n' +
        'Content-Disposition: render; filename="My cool picture.jpg";\r\n   size=4092\r\n' +
        'Content-Type: image/jpeg\r\n\r\nJPEG'
    )
    const m = decodeCpim(input)
    expect(E.isRight(m)).toBe(true)
    if (E.isLeft(m)) return
    expect(m.right.contentHeaders[0]).toEqual([
      'Content-Disposition',
      'render; filename="My cool picture.jpg";\r\n   size=4092'
    ])
    expect(unfoldMime(m.right.contentHeaders[0]?.[1] ?? '')).toBe('render; filename="My cool picture.jpg";   size=4092')
    expect(cpimContentHeader(m.right, 'content-type')).toBe('image/jpeg')
    expect(encodeCpim(m.right)).toEqual(input)
  })

  it.each<[string, CpimReason, string]>([
    ['no From', 'Missing', 'To: <im:c@d>\r\n'],
    ['no To', 'Missing', 'From: <im:a@b>\r\n'],
    ['two From headers', 'Duplicate', 'From: <im:a@b>\r\nFrom: <im:e@f>\r\nTo: <im:c@d>\r\n'],
    [
      'two DateTime headers',
      'Duplicate',
      'From: <im:a@b>\r\nTo: <im:c@d>\r\nDateTime: 2001-02-01T12:16:49Z\r\nDateTime: 2001-02-01T12:16:49Z\r\n'
    ],
    ['a bad address', 'Invalid', 'From: Alice\r\nTo: <im:c@d>\r\n'],
    ['a bad DateTime', 'Invalid', 'From: <im:a@b>\r\nTo: <im:c@d>\r\nDateTime: yesterday\r\n'],
    ['an undeclared prefix (P-3.4-1)', 'UnknownPrefix', 'From: <im:a@b>\r\nTo: <im:c@d>\r\nX.Y: z\r\n'],
    [
      'a prefix declared after its use',
      'UnknownPrefix',
      'X.Y: z\r\nNS: X <urn:x>\r\nFrom: <im:a@b>\r\nTo: <im:c@d>\r\n'
    ]
  ])('reading the envelope fails on %s with %s', (_, reason, head) => {
    const m = decodeCpim(bytes(`${head}\r\nContent-Type: t/p\r\n\r\n`))
    expect(E.isRight(m)).toBe(true)
    if (E.isRight(m)) expect(reasonOf(readEnvelope(m.right))).toBe(reason)
  })

  it('P-2.2-2: header names are case-sensitive (from is an extension); NS <uri> changes the default namespace', () => {
    const m = decodeCpim(
      bytes(
        'from: <im:x@y>\r\nFrom: <im:a@b>\r\nTo: <im:c@d>\r\nNS: <urn:other>\r\nTo: t\r\n\r\nContent-Type: t/p\r\n\r\n'
      )
    )
    expect(E.isRight(m)).toBe(true)
    if (E.isLeft(m)) return
    const envelope = readEnvelope(m.right)
    expect(envelope).toEqual(
      E.right(
        expect.objectContaining({
          to: [{ uri: 'im:c@d' }],
          extensions: [
            { namespace: 'urn:ietf:params:cpim-headers:', name: 'from', params: [], value: '<im:x@y>' },
            { namespace: 'urn:other', name: 'To', params: [], value: 't' }
          ]
        })
      )
    )
  })

  it('buildCpim refuses what cannot be written, naming the header', () => {
    const base = { from: 'im:a@b', to: 'im:c@d', contentType: 'text/plain' }
    expect(buildCpim('x', { ...base, from: 'not a uri' })).toEqual(
      E.left(expect.objectContaining({ reason: 'Invalid', header: 'From' }))
    )
    expect(buildCpim('x', { ...base, to: [] })).toEqual(E.left(expect.objectContaining({ reason: 'Missing' })))
    expect(buildCpim('x', { ...base, namespaces: [{ prefix: 'a.b', uri: 'urn:x' }] })).toEqual(
      E.left(expect.objectContaining({ reason: 'Invalid', header: 'NS' }))
    )
    expect(buildCpim('x', { ...base, contentType: 'text/plain\r\nX: y' })).toEqual(
      E.left(expect.objectContaining({ reason: 'Invalid', header: 'Content-Type' }))
    )
  })
})
