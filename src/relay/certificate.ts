/**
 * A self-signed X.509 v3 certificate for the relay's TLS and WSS listeners, made at start without openssl (RFC 5280):
 * an EC P-256 key from node:crypto, the certificate DER-encoded here, signed with ecdsa-with-SHA256.
 *
 * ```text
 * selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'] })
 *   → { key: '-----BEGIN PRIVATE KEY-----…', cert: '-----BEGIN CERTIFICATE-----…', fingerprint256: 'AB:CD:…' }
 * ```
 *
 * Clients trust it by pinning it: `ca: cert` (node:tls), `rx-msrp send --ca FILE`. It is an end-entity certificate
 * (basicConstraints cA false, keyUsage digitalSignature), as browsers want for a server (Firefox refuses a CA
 * certificate used as one); OpenSSL takes such a self-signed certificate as its own trust anchor. It names every host
 * of `hosts` in its subjectAltName (RFC 4975 §14.3: clients check it) and allows TLS server and client
 * authentication (a relay is a TLS client when it connects to another relay).
 */
import { createHash, generateKeyPairSync, sign, X509Certificate, randomBytes } from 'node:crypto'
import { isIP } from 'node:net'

/** Hosts the certificate names when none are given: loopback, as the embedded relay listens on loopback only. */
export const SELF_SIGNED_DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1']

/** Validity of a generated certificate when `days` is not given. */
export const SELF_SIGNED_VALIDITY_DAYS = 90

/** How far before "now" the validity starts, so that a client whose clock is a little behind accepts it. */
export const SELF_SIGNED_BACKDATE_MS = 60 * 60 * 1000

/** Options of {@link selfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Host names and IP addresses (IPv6 without brackets) to name; default {@link SELF_SIGNED_DEFAULT_HOSTS}. */
  readonly hosts?: readonly string[]
  /** Days of validity from now; default {@link SELF_SIGNED_VALIDITY_DAYS}. */
  readonly days?: number
  /** The subject's common name; default the first host. */
  readonly commonName?: string
  /** The clock; default `new Date()`. */
  readonly now?: Date
}

/** A certificate and its key, PEM. */
export interface SelfSigned {
  /** PKCS#8 private key, PEM. */
  readonly key: string
  /** The certificate, PEM. */
  readonly cert: string
  /** SHA-256 of the certificate as `AB:CD:…`, what node's `X509Certificate.fingerprint256` shows. */
  readonly fingerprint256: string
}

/**
 * Makes a fresh key and a self-signed certificate naming `hosts`. Throws (a programmer error) on a host that is
 * neither an IP address nor a DNS name, or on days that are not a positive integer.
 */
export function selfSignedCertificate(options: SelfSignedOptions = {}): SelfSigned {
  const hosts = options.hosts ?? SELF_SIGNED_DEFAULT_HOSTS
  const days = options.days ?? SELF_SIGNED_VALIDITY_DAYS
  if (!Number.isSafeInteger(days) || days < 1) throw new RangeError(`days must be a positive integer, got ${days}`)
  if (hosts.length === 0) throw new RangeError('a certificate names at least one host')
  const names = hosts.map(generalName)
  const commonName = options.commonName ?? (hosts[0] as string)
  const now = options.now ?? new Date()

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const subjectPublicKey = spkiPublicKeyBits(spki)
  const name = seq(set(seq(oid(OID.commonName), utf8(commonName))))
  const serial = randomBytes(16)
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01 // positive and not zero-led (RFC 5280 §4.1.2.2)

  const tbs = seq(
    explicit(0, integer(Uint8Array.of(2))), // v3
    integer(serial),
    seq(oid(OID.ecdsaWithSha256)),
    name,
    seq(time(new Date(now.getTime() - SELF_SIGNED_BACKDATE_MS)), time(new Date(now.getTime() + days * 86_400_000))),
    name,
    spki,
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, true, seq()), // cA FALSE (the DEFAULT, so left out: X.690 §11.5)
        extension(OID.keyUsage, true, keyUsage(KEY_USAGE.digitalSignature)),
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
        extension(OID.subjectAltName, false, seq(...names)),
        extension(OID.subjectKeyIdentifier, false, octets(createHash('sha1').update(subjectPublicKey).digest()))
      )
    )
  )
  const signature = sign('sha256', tbs, privateKey) // DER ECDSA-Sig-Value, as X.509 wants it
  const der = seq(tbs, seq(oid(OID.ecdsaWithSha256)), bitString(signature))
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: pem('CERTIFICATE', der),
    fingerprint256: new X509Certificate(der).fingerprint256
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A DER encoder for the few ASN.1 types a certificate needs (X.690 §8 and §10). @internal

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2'
} as const

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0 } as const

/** Tag, length, value. */
function tlv(tag: number, ...contents: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(contents)
  const n = body.length
  let length: Buffer
  if (n < 0x80) length = Buffer.of(n)
  else {
    const bytes: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
    length = Buffer.of(0x80 | bytes.length, ...bytes)
  }
  return Buffer.concat([Buffer.of(tag), length, body])
}

const seq = (...items: readonly Uint8Array[]): Buffer => tlv(0x30, ...items)
const set = (...items: readonly Uint8Array[]): Buffer => tlv(0x31, ...items)
const explicit = (n: number, inner: Uint8Array): Buffer => tlv(0xa0 | n, inner)
const boolean = (b: boolean): Buffer => tlv(0x01, Buffer.of(b ? 0xff : 0x00))
const octets = (bytes: Uint8Array): Buffer => tlv(0x04, bytes)
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'))
const bitString = (bytes: Uint8Array): Buffer => tlv(0x03, Buffer.of(0), bytes)

/** A non-negative INTEGER from big-endian bytes: minimal, with a 0 byte in front when the top bit is set. */
function integer(bytes: Uint8Array): Buffer {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0 && ((bytes[i + 1] as number) & 0x80) === 0) i++
  const v = Buffer.from(bytes.subarray(i))
  return tlv(0x02, ((v[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.of(0), v]) : v)
}

/** OBJECT IDENTIFIER: the first two arcs as 40·a + b, then each arc in base 128. */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out: number[] = []
  const push = (v: number): void => {
    const chunk: number[] = [v & 0x7f]
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  push((arcs[0] as number) * 40 + (arcs[1] as number))
  for (const arc of arcs.slice(2)) push(arc)
  return tlv(0x06, Buffer.from(out))
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), both in seconds and `Z`. */
function time(d: Date): Buffer {
  const iso = d.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits))
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), boolean(true), octets(value)) : seq(oid(id), octets(value))
}

/** A KeyUsage BIT STRING with the given bits set, trailing zero bits dropped (X.690 §11.2.2). */
function keyUsage(...bits: readonly number[]): Buffer {
  const highest = Math.max(...bits)
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1)
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] as number) | (0x80 >> (bit & 7))
  return tlv(0x03, Buffer.of(7 - (highest & 7)), bytes)
}

/** A DNS name (RFC 1035 labels; a leading `*.` wildcard allowed). @internal */
const DNS_NAME =
  /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** Whether a certificate can name `host`: an IP address (IPv6 without brackets) or a DNS name. */
export const isCertificateHost = (host: string): boolean => isIP(host) !== 0 || DNS_NAME.test(host)

/** A subjectAltName entry: iPAddress [7] (4 or 16 bytes) or dNSName [2]. */
function generalName(host: string): Buffer {
  const family = isIP(host)
  if (family === 4) return tlv(0x87, Buffer.from(host.split('.').map(Number)))
  if (family === 6) return tlv(0x87, ipv6Bytes(host))
  if (!DNS_NAME.test(host)) throw new RangeError(`not an IP address or DNS name: ${JSON.stringify(host)}`)
  return tlv(0x82, Buffer.from(host, 'ascii'))
}

/** The 16 bytes of an IPv6 address that `net.isIP` accepted (`::` and a trailing dotted IPv4 included). */
function ipv6Bytes(address: string): Buffer {
  const groupsOf = (part: string): number[] => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number)
        out.push(a * 256 + b, c * 256 + d)
      } else out.push(parseInt(g, 16))
    }
    return out
  }
  const bare = address.split('%')[0] as string // a zone id is not part of the address
  const gap = bare.indexOf('::')
  const head = groupsOf(gap === -1 ? bare : bare.slice(0, gap))
  const tail = gap === -1 ? [] : groupsOf(bare.slice(gap + 2))
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2))
  return out
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (what the Subject Key Identifier hashes, RFC 5280 §4.2.1.2). */
function spkiPublicKeyBits(spki: Buffer): Buffer {
  // SEQUENCE { SEQUENCE algorithm, BIT STRING key }: skip the outer header and the algorithm, then the BIT STRING's
  // header and its unused-bits byte.
  const headerLength = (at: number): number => {
    const first = spki[at + 1] as number
    return first < 0x80 ? 2 : 2 + (first & 0x7f)
  }
  const contentLength = (at: number): number => {
    const first = spki[at + 1] as number
    if (first < 0x80) return first
    let n = 0
    for (let i = 0; i < (first & 0x7f); i++) n = n * 256 + (spki[at + 2 + i] as number)
    return n
  }
  const algorithm = headerLength(0)
  const bits = algorithm + headerLength(algorithm) + contentLength(algorithm)
  return spki.subarray(bits + headerLength(bits) + 1, bits + headerLength(bits) + contentLength(bits))
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
