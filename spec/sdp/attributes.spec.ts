/**
 * The io-ts codecs of the MSRP media attributes (src/sdp/attributes.ts): they decode what they encode, never throw,
 * and refuse what the grammars of RFC 4975 §8, RFC 4145 and RFC 5547 §6 do not allow, saying what was expected.
 */
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import type * as t from 'io-ts'
import {
  AcceptTypes,
  FileDateAttribute,
  FileIcon,
  FileRangeAttribute,
  FileSelectorAttribute,
  FileTransferId,
  MaxSize,
  MSRP_ATTRIBUTE_CODECS,
  PathAttribute,
  SetupAttribute
} from '../../src/sdp/attributes'
import { arbFileDate, arbFileRange, arbFileSelector, arbFormatList, arbSdpPath, arbSdpToken } from './arbitraries'

const roundTrip = <A>(codec: t.Type<A, string, string>, arb: fc.Arbitrary<A>): void =>
  fc.assert(fc.property(arb, (a) => expect(codec.decode(codec.encode(a))).toEqual(E.right(a))))

const fails = <A>(codec: t.Type<A, string, string>, s: string): string => {
  const r = codec.decode(s)
  if (E.isRight(r)) throw new Error(`${codec.name} accepted ${JSON.stringify(s)}`)
  return r.left[0]?.message ?? ''
}

describe('MSRP SDP attribute codecs', () => {
  it('decode what they encode', () => {
    roundTrip(PathAttribute, arbSdpPath as never)
    roundTrip(AcceptTypes, arbFormatList)
    roundTrip(MaxSize, fc.nat())
    roundTrip(
      SetupAttribute,
      fc.constantFrom('active' as const, 'passive' as const, 'actpass' as const, 'holdconn' as const)
    )
    roundTrip(FileSelectorAttribute, arbFileSelector)
    roundTrip(FileTransferId, arbSdpToken)
    roundTrip(
      FileDateAttribute,
      arbFileDate.filter((d) => Object.keys(d).length > 0)
    )
    roundTrip(FileRangeAttribute, arbFileRange)
  })

  it('never throw, whatever the string', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(MSRP_ATTRIBUTE_CODECS)), fc.string({ unit: 'binary' }), (c, s) => {
        expect(() => (c as t.Type<unknown, string, string>).decode(s)).not.toThrow()
      })
    )
  })

  it('C-8.2-2: a path URI without a port is refused, and so is a non-MSRP URI', () => {
    expect(fails(PathAttribute, 'msrp://a.example.com/s1;tcp')).toMatch(/URI 1 has no port/)
    expect(fails(PathAttribute, 'msrp://a.example.com:1/s1;tcp sip:bob@example.com')).toMatch(/URI 2/)
    expect(fails(PathAttribute, '')).toMatch(/one or more/)
  })

  it('RFC 4975 §8.6: accept-types entries are *, type/* or type/subtype, at least one', () => {
    expect(AcceptTypes.decode('message/cpim text/* * text/plain;charset=utf-8')).toEqual(
      E.right(['message/cpim', 'text/*', '*', 'text/plain;charset=utf-8'])
    )
    expect(fails(AcceptTypes, 'text')).toMatch(/"text" is not/)
    expect(fails(AcceptTypes, '*/plain')).toMatch(/not a format/)
    expect(fails(AcceptTypes, ' ')).toMatch(/one or more/)
  })

  it('max-size is 1*DIGIT; setup is one of the four RFC 4145 roles', () => {
    expect(MaxSize.decode('1048576')).toEqual(E.right(1048576))
    expect(fails(MaxSize, '-1')).toMatch(/octets/)
    expect(fails(MaxSize, '1e3')).toMatch(/octets/)
    expect(fails(SetupAttribute, 'act-pass')).toMatch(/actpass/)
  })

  it('F-6-2: a file name with " % CR LF is percent-encoded, and decoded back', () => {
    const selector = { name: 'a "b" 100%\r\n.txt', hashes: [] }
    expect(FileSelectorAttribute.encode(selector)).toBe('name:"a %22b%22 100%25%0D%0A.txt"')
    expect(FileSelectorAttribute.decode('name:"a %22b%22 100%25%0D%0A.txt"')).toEqual(E.right(selector))
  })

  it('RFC 5547 §6: a bare file-selector is a capability indication; bad selectors are named', () => {
    expect(FileSelectorAttribute.decode('')).toEqual(E.right({ hashes: [] }))
    expect(fails(FileSelectorAttribute, 'size:12 size:13')).toMatch(/size selector occurs twice/)
    expect(fails(FileSelectorAttribute, 'hash:sha-1:7')).toMatch(/hash:/)
    expect(fails(FileSelectorAttribute, 'name:noquotes')).toMatch(/quoted/)
    expect(fails(FileSelectorAttribute, 'colour:red')).toMatch(/not a name, type, size or hash/)
    expect(FileSelectorAttribute.decode('type:text/plain;charset="utf-8"')).toEqual(
      E.right({ type: { type: 'text', subtype: 'plain', params: [['charset', 'utf-8']] }, hashes: [] })
    )
    expect(fails(FileSelectorAttribute, 'type:text/plain;charset=utf-8')).toMatch(/type:/)
  })

  it('F-6-4: file-date kinds occur once and carry a numeric zone', () => {
    expect(
      fails(FileDateAttribute, 'creation:"Mon, 15 May 2006 15:01:31 +0300" creation:"Mon, 15 May 2006 15:01:31 +0300"')
    ).toMatch(/twice/)
    expect(fails(FileDateAttribute, 'creation:"Mon, 15 May 2006 15:01:31 GMT"')).toMatch(/numeric zone/)
    expect(fails(FileDateAttribute, 'birth:"Mon, 15 May 2006 15:01:31 +0300"')).toMatch(
      /creation, modification or read/
    )
  })

  it('file-range is start-stop from 1, stop ≥ start or *; file-icon is a cid: URL; the id is a token', () => {
    expect(FileRangeAttribute.decode('1-*')).toEqual(E.right({ start: 1, stop: '*' }))
    expect(fails(FileRangeAttribute, '0-10')).toMatch(/integers from 1/)
    expect(fails(FileRangeAttribute, '10-9')).toMatch(/below the start/)
    expect(fails(FileIcon, 'http://example.com/i.png')).toMatch(/cid:/)
    expect(fails(FileTransferId, 'a b')).toMatch(/token/)
  })
})
