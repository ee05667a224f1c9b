/**
 * `a=fingerprint` (src/sdp/fingerprint.ts; RFC 4572 §5, RFC 4975 §14.4): building one's own from a DER certificate,
 * checking a peer's certificate against the peer's, the attribute codec, and how SDP parsing and formatting treat it.
 * Digests are checked against node:crypto.
 */
import { createHash, X509Certificate } from 'node:crypto'
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { selfSignedCertificate } from '../../src/relay/certificate'
import {
  certificateFingerprint,
  checkFingerprint,
  FingerprintAttribute,
  type Fingerprint,
  type FingerprintAlgorithm
} from '../../src/sdp/fingerprint'
import { formatMsrpMedia, parseMsrpMedia, type MsrpMedia } from '../../src/sdp/msrp-media'
import { left, right } from '../helpers/either'

/** A fresh self-signed certificate's DER bytes (src/relay/certificate.ts, no openssl). */
const der = (): Uint8Array => new X509Certificate(selfSignedCertificate().cert).raw
/** node:crypto's digest as `AB:CD:…`. */
const nodeHex = (algorithm: string, bytes: Uint8Array): string =>
  (createHash(algorithm).update(bytes).digest('hex').toUpperCase().match(/../g) ?? []).join(':')

const SUPPORTED: ReadonlyArray<readonly [FingerprintAlgorithm, string]> = [
  ['sha-1', 'sha1'],
  ['sha-256', 'sha256'],
  ['sha-384', 'sha384'],
  ['sha-512', 'sha512']
]

describe('certificateFingerprint: this side’s a=fingerprint (C-14.4-2)', () => {
  it('is sha-256 of the DER certificate by default, as node’s X509Certificate.fingerprint256 shows it', async () => {
    const cert = selfSignedCertificate()
    const bytes = new X509Certificate(cert.cert).raw
    expect(right(await certificateFingerprint(bytes))).toEqual({ type: 'sha-256', hash: cert.fingerprint256 })
  })

  it.each(SUPPORTED)('computes %s like node:crypto', async (algorithm, node) => {
    const bytes = der()
    expect(right(await certificateFingerprint(bytes, algorithm))).toEqual({
      type: algorithm,
      hash: nodeHex(node, bytes)
    })
  })

  it.each(['sha-224', 'md5', 'md2'] as const)('fails with FingerprintUnsupported for %s', async (algorithm) => {
    expect(left(await certificateFingerprint(der(), algorithm))).toMatchObject({
      reason: 'FingerprintUnsupported',
      attribute: 'fingerprint'
    })
  })

  it('is written into an m-line and read back (formatMsrpMedia → parseMsrpMedia)', async () => {
    const fingerprint = right(await certificateFingerprint(der()))
    const sdp = right(formatMsrpMedia([{ path: ['msrps://127.0.0.1:2855/abc;tcp'], fingerprint }]))
    expect(sdp).toContain(`\r\na=fingerprint:sha-256 ${fingerprint.hash}\r\n`)
    expect((right(parseMsrpMedia(sdp))[0] as MsrpMedia).fingerprint).toEqual(fingerprint)
  })
})

describe('checkFingerprint: the peer’s certificate against its a=fingerprint (RFC 4975 §14.4)', () => {
  it('accepts the certificate whose digest the SDP carries, whatever the case of hash name and hex digits', async () => {
    const bytes = der()
    const upper: Fingerprint = { type: 'SHA-256', hash: nodeHex('sha256', bytes) }
    const lower: Fingerprint = { type: 'sha-256', hash: upper.hash.toLowerCase() }
    expect(right(await checkFingerprint(bytes, upper))).toEqual(upper)
    expect(right(await checkFingerprint(bytes, lower))).toEqual(lower)
  })

  it('C-14.4-3: fails with FingerprintMismatch for another certificate, naming both digests', async () => {
    const mine = der()
    const other = der()
    const failure = left(await checkFingerprint(other, right(await certificateFingerprint(mine))))
    expect(failure).toMatchObject({ _tag: 'SdpFailure', reason: 'FingerprintMismatch', attribute: 'fingerprint' })
    expect(failure.detail).toContain(nodeHex('sha256', other))
    expect(failure.detail).toContain(nodeHex('sha256', mine))
  })

  it('C-14.4-3: fails with FingerprintMismatch when the peer presented no certificate', async () => {
    const fingerprint = right(await certificateFingerprint(der()))
    expect(left(await checkFingerprint(undefined, fingerprint))).toMatchObject({ reason: 'FingerprintMismatch' })
    expect(left(await checkFingerprint(new Uint8Array(0), fingerprint))).toMatchObject({
      reason: 'FingerprintMismatch'
    })
  })

  it('fails with FingerprintMismatch when the digest is of another length (sha-1 value under sha-256)', async () => {
    const bytes = der()
    const failure = left(await checkFingerprint(bytes, { type: 'sha-256', hash: nodeHex('sha1', bytes) }))
    expect(failure.reason).toBe('FingerprintMismatch')
  })

  it('fails with FingerprintUnsupported for a hash function it cannot compute, so nothing goes unchecked', async () => {
    const bytes = der()
    for (const type of ['sha-224', 'MD5', 'md2', 'whirlpool'])
      expect(left(await checkFingerprint(bytes, { type, hash: 'AB:CD' }))).toMatchObject({
        reason: 'FingerprintUnsupported'
      })
  })

  it('fails with AttributeInvalid for a value that breaks the RFC 4572 grammar', async () => {
    for (const hash of ['', 'ABCD', 'AB:C', 'AB::CD', 'GG:00', 'AB CD'])
      expect(left(await checkFingerprint(der(), { type: 'sha-256', hash }))).toMatchObject({
        reason: 'AttributeInvalid',
        attribute: 'fingerprint'
      })
  })

  it('matches exactly the bytes it was made from, for any bytes and hash function (fast-check, vs node:crypto)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.constantFrom(...SUPPORTED),
        fc.nat(),
        async (bytes, [algorithm, node], at) => {
          const made = right(await certificateFingerprint(bytes, algorithm))
          expect(made.hash).toBe(nodeHex(node, bytes))
          if (bytes.length === 0) return
          expect(right(await checkFingerprint(bytes, made))).toEqual(made)
          const changed = Uint8Array.from(bytes)
          changed[at % bytes.length] = ((changed[at % bytes.length] ?? 0) + 1) & 0xff
          expect(left(await checkFingerprint(changed, made)).reason).toBe('FingerprintMismatch')
        }
      ),
      { numRuns: 100 }
    )
  })
})

describe('FingerprintAttribute: the a=fingerprint value codec (RFC 4572 §5)', () => {
  const arbFingerprint: fc.Arbitrary<Fingerprint> = fc.record({
    type: fc.constantFrom('sha-1', 'SHA-256', 'sha-512', 'md5', 'x-hash'),
    hash: fc
      .array(
        fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).toUpperCase().padStart(2, '0')),
        { minLength: 1, maxLength: 64 }
      )
      .map((pairs) => pairs.join(':'))
  })

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(arbFingerprint, (f) => {
        expect(FingerprintAttribute.decode(FingerprintAttribute.encode(f))).toEqual(E.right(f))
      })
    )
  })

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(() => FingerprintAttribute.decode(s)).not.toThrow()
      })
    )
  })
})

describe('a=fingerprint in SDP (parseMsrpMedia, formatMsrpMedia)', () => {
  const m = (lines: string[]): string =>
    [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      ...lines,
      'a=accept-types:text/plain',
      'a=path:msrps://127.0.0.1:7654/jshA7weso3ks;tcp',
      ''
    ].join('\r\n')
  const HASH = '4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB'

  it('RFC 4572 §5: a session-level a=fingerprint applies to an m-line without its own', () => {
    const sdp = m([`a=fingerprint:SHA-1 ${HASH}`, 'm=message 7654 TCP/TLS/MSRP *'])
    expect((right(parseMsrpMedia(sdp))[0] as MsrpMedia).fingerprint).toEqual({ type: 'SHA-1', hash: HASH })
  })

  it('the media-level a=fingerprint wins over the session-level one', () => {
    const sdp = m(['a=fingerprint:sha-1 00:11', 'm=message 7654 TCP/TLS/MSRP *', `a=fingerprint:SHA-1 ${HASH}`])
    expect((right(parseMsrpMedia(sdp))[0] as MsrpMedia).fingerprint).toEqual({ type: 'SHA-1', hash: HASH })
  })

  it.each(['a=fingerprint:SHA-1', 'a=fingerprint:SHA-1 4A:A', 'a=fingerprint:SHA-1 XY:ZZ'])(
    '%s is AttributeInvalid, naming the attribute and the m-line',
    (line) => {
      expect(left(parseMsrpMedia(m(['m=message 7654 TCP/TLS/MSRP *', line])))).toMatchObject({
        reason: 'AttributeInvalid',
        attribute: 'fingerprint',
        mediaIndex: 0
      })
    }
  )

  it('formatMsrpMedia refuses a fingerprint it could not read back', () => {
    const path = ['msrps://127.0.0.1:2855/abc;tcp']
    expect(left(formatMsrpMedia([{ path, fingerprint: { type: 'sha-256', hash: 'nope' } }]))).toMatchObject({
      reason: 'AttributeInvalid',
      attribute: 'fingerprint'
    })
  })
})
