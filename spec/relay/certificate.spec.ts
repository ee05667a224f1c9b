import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { firstValueFrom, lastValueFrom } from 'rxjs'
import { isCertificateHost, selfSignedCertificate, SELF_SIGNED_DEFAULT_HOSTS } from '../../src/relay/certificate'
import { connectTls, listenTls } from '../../src/transport/tls'
import { connectWebSocket, listenWebSocket } from '../../src/transport/websocket'
import { failureOf, start, type Running } from '../transport/helpers'

describe('selfSignedCertificate', () => {
  const made = selfSignedCertificate()
  const x509 = new X509Certificate(made.cert)

  it('makes a certificate node parses, signed by its own key, with the key that goes with it', () => {
    expect(x509.subject).toBe('CN=localhost')
    expect(x509.issuer).toBe(x509.subject)
    expect(x509.verify(x509.publicKey)).toBe(true)
    expect(x509.checkPrivateKey(createPrivateKey(made.key))).toBe(true)
    expect(x509.fingerprint256).toBe(made.fingerprint256)
    expect(createPublicKey(made.key).asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(x509.publicKey.asymmetricKeyType).toBe('ec')
  })

  it('names loopback by default: localhost, 127.0.0.1 and ::1, and nothing else', () => {
    expect(SELF_SIGNED_DEFAULT_HOSTS).toEqual(['localhost', '127.0.0.1', '::1'])
    expect(x509.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(x509.checkHost('localhost')).toBe('localhost')
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(x509.checkIP('::1')).toBe('::1')
    expect(x509.checkHost('example.com')).toBeUndefined()
    expect(x509.checkIP('127.0.0.2')).toBeUndefined()
  })

  it('is an end-entity certificate for TLS servers and clients', () => {
    expect(x509.ca).toBe(false)
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
  })

  it('is valid from a little before now for the given number of days', () => {
    const now = new Date('2030-01-01T12:00:00Z')
    const c = new X509Certificate(selfSignedCertificate({ days: 3, now }).cert)
    expect(new Date(c.validFrom).getTime()).toBe(now.getTime() - 60 * 60 * 1000)
    expect(new Date(c.validTo).getTime()).toBe(now.getTime() + 3 * 86_400_000)
  })

  it('encodes dates from 2050 on as GeneralizedTime, which node reads back', () => {
    const c = new X509Certificate(selfSignedCertificate({ days: 1, now: new Date('2049-12-31T23:30:00Z') }).cert)
    expect(new Date(c.validTo).toISOString()).toBe('2050-01-01T23:30:00.000Z')
    expect(new Date(c.validFrom).toISOString()).toBe('2049-12-31T22:30:00.000Z')
  })

  it('names the hosts it is given, IPv6 in any text form', () => {
    const c = new X509Certificate(
      selfSignedCertificate({ hosts: ['relay.example.com', '::ffff:10.0.0.1', 'fe80::1:2', '10.1.2.3'] }).cert
    )
    expect(c.subject).toBe('CN=relay.example.com')
    expect(c.checkHost('relay.example.com')).toBe('relay.example.com')
    expect(c.checkIP('10.1.2.3')).toBe('10.1.2.3')
    expect(c.checkIP('fe80::1:2')).toBe('fe80::1:2')
    expect(c.subjectAltName).toContain('IP Address:0:0:0:0:0:FFFF:A00:1')
  })

  it('gets a fresh key and serial number each time', () => {
    const other = new X509Certificate(selfSignedCertificate().cert)
    expect(other.serialNumber).not.toBe(x509.serialNumber)
    expect(other.fingerprint256).not.toBe(x509.fingerprint256)
  })

  it('tells which hosts a certificate can name', () => {
    expect(['localhost', 'relay.example.com', '10.0.0.1', '::1', 'fe80::1'].every(isCertificateHost)).toBe(true)
    expect(['relay_1', 'a b', '', '-x.example', '[::1]'].some(isCertificateHost)).toBe(false)
  })

  it('refuses a host that is no IP address or DNS name, and days that are not a positive integer', () => {
    expect(() => selfSignedCertificate({ hosts: ['bad host'] })).toThrow(/not an IP address or DNS name: "bad host"/)
    expect(() => selfSignedCertificate({ hosts: [] })).toThrow(/at least one host/)
    expect(() => selfSignedCertificate({ days: 0 })).toThrow(/positive integer/)
  })

  describe('in a real handshake on loopback, with verification on', () => {
    let running: Running | undefined
    afterEach(() => {
      running?.stop()
      running = undefined
    })

    it('a TLS client that trusts the certificate connects to 127.0.0.1 and to ::1', async () => {
      for (const host of ['127.0.0.1', '::1']) {
        running = await start(listenTls({ host, port: 0, cert: made.cert, key: made.key }))
        const accepted = firstValueFrom(running.listener.connections$)
        const client = await lastValueFrom(connectTls({ host, port: running.listener.address.port, ca: made.cert }))
        const server = await accepted
        expect(client.info.peerCertificate?.fingerprint256).toBe(made.fingerprint256)
        client.close()
        server.close()
        running.stop()
      }
    })

    it('a WSS client that trusts the certificate connects by the name localhost', async () => {
      running = await start(listenWebSocket({ host: '127.0.0.1', port: 0, tls: { cert: made.cert, key: made.key } }))
      const accepted = firstValueFrom(running.listener.connections$)
      const url = `wss://localhost:${running.listener.address.port}/`
      const client = await lastValueFrom(connectWebSocket({ url, ca: made.cert, keepAliveIntervalMs: 0 }))
      const server = await accepted
      expect(client.info.secure).toBe(true)
      client.close()
      server.close()
    })

    it('a client that trusts another certificate refuses it', async () => {
      running = await start(listenTls({ host: '127.0.0.1', port: 0, cert: made.cert, key: made.key }))
      const port = running.listener.address.port
      const error = await failureOf(connectTls({ host: '127.0.0.1', port, ca: selfSignedCertificate().cert }))
      expect(error.reason).toBe('TlsFailed')
    })
  })
})
