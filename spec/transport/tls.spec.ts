import type { AddressInfo } from 'node:net'
import * as tls from 'node:tls'
import { firstValueFrom, lastValueFrom } from 'rxjs'
import { connectTls, listenTls } from '../../src/transport/tls'
import {
  certificates,
  closedPort,
  failureOf,
  LOOPBACK,
  rawServer,
  record,
  socketClosed,
  start,
  type Running
} from './helpers'

/** Options that let a Node client or server speak TLS 1.1 (OpenSSL 3 disables it at its default security level). */
const TLS_1_1 = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const

/** Starts a raw `tls.Server` on loopback. */
async function rawTlsServer(options: tls.TlsOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer(options, (socket) => socket.on('error', () => {}))
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** Resolves with the error of a raw TLS client, or 'connected'. */
function rawTlsOutcome(options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect(options)
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    socket.on('secureConnect', () => {
      resolve(`connected ${socket.getProtocol() ?? ''}`)
      socket.end()
    })
  })
}

describe('connectTls', () => {
  let running: Running | undefined
  afterEach(() => {
    running?.stop()
    running = undefined
  })
  const listen = async (options: Partial<Parameters<typeof listenTls>[0]> = {}): Promise<number> => {
    running = await start(listenTls({ host: LOOPBACK, port: 0, ...certificates().server, ...options }))
    return running.listener.address.port
  }

  it('verifies the server certificate by default: a self-signed one without ca fails with TlsFailed', async () => {
    const port = await listen()
    const error = await failureOf(connectTls({ host: LOOPBACK, port }))
    expect(error.reason).toBe('TlsFailed')
    expect(error.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT')
  })

  it('fails with TlsFailed when the certificate chains to another CA', async () => {
    const port = await listen()
    const error = await failureOf(connectTls({ host: LOOPBACK, port, ca: certificates().stranger.cert }))
    expect(error.reason).toBe('TlsFailed')
  })

  it('fails with TlsFailed when the certificate does not name the server', async () => {
    const port = await listen()
    const { server } = certificates()
    const error = await failureOf(connectTls({ host: LOOPBACK, port, ca: server.cert, servername: 'wrong.example' }))
    expect(error.reason).toBe('TlsFailed')
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID')
  })

  it('connects with the right ca and reports the server certificate', async () => {
    const port = await listen()
    const accepted = firstValueFrom(running!.listener.connections$)
    const a = await lastValueFrom(connectTls({ host: LOOPBACK, port, ca: certificates().server.cert }))
    const b = await accepted
    expect(a.info.secure).toBe(true)
    expect(a.info.peerCertificate?.subject?.['CN']).toBe('localhost')
    expect(a.info.peerCertificate?.subjectaltname).toContain('IP Address:127.0.0.1')
    expect(a.info.peerCertificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(a.info.peerCertificate?.raw).toBeInstanceOf(Uint8Array)
    expect(b.info.peerCertificate).toBeUndefined() // the server did not ask for one
    a.close()
    b.close()
  })

  it('never negotiates below TLS 1.2: a TLS 1.1 server is refused with TlsFailed', async () => {
    const old = await rawTlsServer({ ...certificates().server, ...TLS_1_1 })
    try {
      // Sanity: that server does speak TLS 1.1 to a client that allows it.
      await expect(
        rawTlsOutcome({ host: LOOPBACK, port: old.port, rejectUnauthorized: false, ...TLS_1_1 })
      ).resolves.toBe('connected TLSv1.1')
      const error = await failureOf(connectTls({ host: LOOPBACK, port: old.port, ca: certificates().server.cert }))
      expect(error.reason).toBe('TlsFailed')
    } finally {
      await old.close()
    }
  })

  it('fails with ConnectFailed when nothing listens on the port', async () => {
    const error = await failureOf(connectTls({ host: LOOPBACK, port: await closedPort() }))
    expect(error.reason).toBe('ConnectFailed')
  })

  it('fails with ConnectTimeout when the handshake does not finish in time, and closes the socket', async () => {
    const silent = await rawServer()
    try {
      const failure = failureOf(connectTls({ host: LOOPBACK, port: silent.port, timeoutMs: 200 }))
      const socket = await silent.nextSocket()
      expect((await failure).reason).toBe('ConnectTimeout')
      await socketClosed(socket)
    } finally {
      await silent.close()
    }
  })

  it('aborts the handshake when unsubscribed', async () => {
    const silent = await rawServer()
    try {
      const next = jest.fn()
      const subscription = connectTls({ host: LOOPBACK, port: silent.port }).subscribe({ next, error: next })
      const socket = await silent.nextSocket()
      subscription.unsubscribe()
      await socketClosed(socket)
      expect(next).not.toHaveBeenCalled()
    } finally {
      await silent.close()
    }
  })
})

describe('listenTls', () => {
  let running: Running | undefined
  afterEach(() => {
    running?.stop()
    running = undefined
  })

  it('refuses a TLS 1.1 client and emits only the connections that completed a handshake', async () => {
    running = await start(listenTls({ host: LOOPBACK, port: 0, ...certificates().server }))
    const port = running.listener.address.port
    const outcome = await rawTlsOutcome({ host: LOOPBACK, port, rejectUnauthorized: false, ...TLS_1_1 })
    expect(outcome).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')
    const good = await lastValueFrom(connectTls({ host: LOOPBACK, port, ca: certificates().server.cert }))
    const first = await firstValueFrom(running.listener.connections$)
    expect(first.info.remote?.port).toBe(good.info.local?.port)
    good.close()
    first.close()
  })

  it('with requestCert, reports the client certificate (mutual TLS)', async () => {
    const { server, client } = certificates()
    running = await start(listenTls({ host: LOOPBACK, port: 0, ...server, ca: client.cert, requestCert: true }))
    const accepted = firstValueFrom(running.listener.connections$)
    const a = await lastValueFrom(
      connectTls({ host: LOOPBACK, port: running.listener.address.port, ca: server.cert, ...client })
    )
    const b = await accepted
    expect(b.info.peerCertificate?.subject?.['CN']).toBe('test-client')
    const atA = record(a)
    b.write([Buffer.from('hello')])
    await atA.waitBytes(5)
    a.close()
    b.close()
  })

  it('with requestCert, emits no transport for a client without a certificate', async () => {
    const { server, client } = certificates()
    running = await start(listenTls({ host: LOOPBACK, port: 0, ...server, ca: client.cert, requestCert: true }))
    const port = running.listener.address.port
    // TLS 1.3 tells the client after its side of the handshake: it fails at connect or right after.
    const anonymous = await new Promise<string>((resolve) =>
      connectTls({ host: LOOPBACK, port, ca: server.cert }).subscribe({
        next: (t) => t.incoming$.subscribe({ error: (e: { reason: string }) => resolve(e.reason) }),
        error: (e: { reason: string }) => resolve(e.reason)
      })
    )
    expect(anonymous).toBe('TlsFailed')
    const good = await lastValueFrom(connectTls({ host: LOOPBACK, port, ca: server.cert, ...client }))
    const first = await firstValueFrom(running.listener.connections$)
    expect(first.info.peerCertificate?.subject?.['CN']).toBe('test-client')
    good.close()
    first.close()
  })
})
