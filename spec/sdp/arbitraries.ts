/**
 * fast-check arbitraries for the MSRP SDP attributes and media descriptions: every value is valid and canonical, so
 * formatting then parsing must give it back.
 */
import fc from 'fast-check'
import type { MsrpUri } from '../../src/wire/uri'
import type { FileDate, FileHash, FileRange, FileSelector } from '../../src/sdp/attributes'
import type { FileAttributes } from '../../src/sdp/msrp-media'
import { arbMsrpUri, arbToken } from '../arbitraries/uri'

/** An MSRP URI as SDP carries it: with a port (C-8.2-2). */
export const arbSdpUri: fc.Arbitrary<MsrpUri> = fc
  .tuple(arbMsrpUri, fc.integer({ min: 1, max: 65535 }))
  .map(([u, port]) => ({ ...u, port }))

/** A path of 1 to 4 URIs. */
export const arbSdpPath = fc.array(arbSdpUri, { minLength: 1, maxLength: 4 })

const alphaToken = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+.'),
  minLength: 1,
  maxLength: 8
})

/** A `format-list` entry: `*`, `type/*` or `type/subtype` with an optional `;name=token`. */
export const arbFormatEntry = fc.oneof(
  fc.constant('*'),
  alphaToken.map((t) => `${t}/*`),
  fc
    .tuple(alphaToken, alphaToken, fc.option(fc.tuple(alphaToken, alphaToken), { nil: undefined }))
    .map(([t, s, p]) => `${t}/${s}${p === undefined ? '' : `;${p[0]}=${p[1]}`}`)
)

export const arbFormatList = fc.array(arbFormatEntry, { minLength: 1, maxLength: 4 }) as fc.Arbitrary<
  [string, ...string[]]
>

const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).toUpperCase().padStart(2, '0'))
export const arbFileHash: fc.Arbitrary<FileHash> = fc
  .array(hexByte, { minLength: 1, maxLength: 20 })
  .map((bytes) => ({ algorithm: 'sha-1', value: bytes.join(':') }))

/** Any file name: every character, including `"`, `%`, CR, LF, NUL and non-ASCII. */
export const arbFileName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 })

export const arbFileSelector: fc.Arbitrary<FileSelector> = fc
  .record(
    {
      name: arbFileName,
      type: fc
        .tuple(
          alphaToken,
          alphaToken,
          fc.array(fc.tuple(arbToken, fc.string({ minLength: 1, maxLength: 6 })), { maxLength: 2 })
        )
        .map(([type, subtype, params]) => ({ type, subtype, params })),
      size: fc.nat(),
      hashes: fc.array(arbFileHash, { maxLength: 2 })
    },
    { requiredKeys: ['hashes'] }
  )
  .map((s) => s as FileSelector)

const arbDateTime = fc
  .date({ min: new Date(0), max: new Date(4_000_000_000_000), noInvalidDate: true })
  .map((d) => `${d.toUTCString().replace('GMT', '+0000')}`)
export const arbFileDate: fc.Arbitrary<FileDate> = fc.record(
  { creation: arbDateTime, modification: arbDateTime, read: arbDateTime },
  { requiredKeys: [] }
)

export const arbFileRange: fc.Arbitrary<FileRange> = fc
  .tuple(fc.integer({ min: 1, max: 2 ** 40 }), fc.option(fc.nat(2 ** 40), { nil: undefined }))
  .map(([start, extra]) => ({ start, stop: extra === undefined ? '*' : start + extra }))

/** `file-transfer-id` and `file-disposition` values: SDP tokens. */
export const arbSdpToken = arbToken

export const arbFileAttributes: fc.Arbitrary<FileAttributes> = fc.record(
  {
    selector: arbFileSelector,
    transferId: arbSdpToken,
    disposition: fc.constantFrom('render', 'attachment'),
    date: arbFileDate.filter((d) => Object.keys(d).length > 0),
    icon: arbSdpToken.map((t) => `cid:${t}@example.com`),
    range: arbFileRange
  },
  { requiredKeys: [] }
)
