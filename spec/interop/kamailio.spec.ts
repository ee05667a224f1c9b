/**
 * Interop with Kamailio's msrp relay (../shared/interop/kamailio.md): our endpoints authenticate at it and talk to
 * each other through it, over TCP and WebSocket. Kamailio must be installed (.ci/run installs it): without it these
 * tests fail with a message saying so, they are not skipped.
 */
import { createHash } from 'node:crypto'
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpSession } from '../../src/session/session'
import type { IncomingMessage } from '../../src/session/incoming'
import { DEFAULT_CHUNK_BYTES } from '../../src/session/writer'
import { newWebSocketClientUri, type RelayRegistration } from '../../src/session/relay-client'
import { newSessionId } from '../../src/wire/ids'
import { formatUri } from '../../src/wire/uri'
import { pseudoRandom } from '../helpers/bytes'
import { KAMAILIO_ACCOUNT, KAMAILIO_MIN_EXPIRES_SEC, startKamailio, type KamailioRelay } from './kamailio'

/** Kamailio reads nothing of a frame of this many bytes or more (kamailio.md). */
const KAMAILIO_FRAME_CAP_BYTES = 11_239
/** Headers of one of our SEND chunks through a relay stay well below this. */
const CHUNK_HEAD_BYTES_MAX = 1024

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const tcpUri = () => `msrp://127.0.0.1:2855/${newSessionId()};tcp`
/** Kamailio needs `uri=` in Authorization; AUTH over plain TCP/WS on loopback only. */
const auth = { ...KAMAILIO_ACCOUNT, includeUri: true, allowInsecure: true }

let kamailio: KamailioRelay | undefined
const relay = (): KamailioRelay => {
  if (kamailio === undefined) throw new Error('Kamailio did not start (see the beforeAll error above)')
  return kamailio
}

beforeAll(async () => {
  kamailio = await startKamailio()
}, 40_000)

afterAll(async () => {
  await kamailio?.stop()
}, 30_000)

interface Party {
  readonly endpoint: MsrpEndpoint
  readonly session: MsrpSession
  readonly registration: RelayRegistration
}

type Via = 'tcp' | 'tls' | 'ws' | 'wss'

/** The relay URI to AUTH at over `via`, and the own URI of a client using it (.invalid;ws for WebSocket, W-A-1). */
function plan(via: Via): { relayUri: string; ownUri: string; secure: boolean } {
  const k = relay()
  switch (via) {
    case 'tcp':
      return { relayUri: k.tcpUri, ownUri: tcpUri(), secure: false }
    case 'tls':
      return { relayUri: k.tlsUri, ownUri: tcpUri().replace(/^msrp:/, 'msrps:'), secure: true }
    case 'ws':
      return { relayUri: k.wsUri, ownUri: newWebSocketClientUri({ secure: false }), secure: false }
    case 'wss':
      return { relayUri: k.wssUri, ownUri: newWebSocketClientUri(), secure: true }
  }
}

async function register(via: Via): Promise<Party> {
  const { relayUri, ownUri, secure } = plan(via)
  // TLS and WSS verify Kamailio's certificate (SAN 127.0.0.1) against the harness's CA; AUTH needs no opt-in then.
  const endpoint = new MsrpEndpoint(secure ? { dial: { ca: relay().ca } } : {})
  const session = endpoint.createSession(ownUri)
  const registration = await endpoint.authenticate(session, relayUri, { ...auth, allowInsecure: !secure })
  return { endpoint, session, registration }
}

/** Sends `body` as text and returns what arrived, with the From-Path it arrived with. */
async function text(from: MsrpSession, to: MsrpSession, body: string): Promise<{ text: string; fromPath: string[] }> {
  const incoming = firstValueFrom(to.messages$)
  const sent = lastValueFrom(from.send(body).pipe(toArray()))
  const message: IncomingMessage = await incoming
  const received = new TextDecoder().decode(await message.collect())
  expect((await sent).pop()).toMatchObject({ type: 'done' })
  return { text: received, fromPath: message.head.fromPath.map(formatUri) }
}

/** A (TCP) and B (TCP or WS) registered at Kamailio and connected to each other's path through it. */
async function converse(aVia: Via, bVia: Via): Promise<void> {
  const a = await register(aVia)
  const b = await register(bVia)
  try {
    // R-5.1-4: each side's path for the peer is Use-Path (reversed) + own URI; Kamailio's Use-Path ends in ;tcp
    // for WebSocket clients too (kamailio.md).
    expect(a.registration.path).toEqual([...a.registration.usePath, a.session.uri])
    const secureB = bVia === 'tls' || bVia === 'wss'
    const useB = secureB ? `msrps://127\\.0\\.0\\.1:${relay().tlsPort}` : `msrp://127\\.0\\.0\\.1:${relay().tcpPort}`
    expect(b.registration.usePath).toEqual([expect.stringMatching(new RegExp(`^${useB}/.+;tcp$`))])
    await a.endpoint.connect(a.session, b.registration.path)
    await b.endpoint.connect(b.session, a.registration.path)

    // Through Kamailio: each relay hop pushed its URI on From-Path (R-6.4.1-6); A's own URI stays last.
    const ab = await text(a.session, b.session, 'Hi B, this is A ☃')
    expect(ab.text).toBe('Hi B, this is A ☃')
    expect(ab.fromPath).toEqual([...b.registration.usePath, ...a.registration.usePath, a.session.uri])
    const ba = await text(b.session, a.session, 'Hi A, B here')
    expect(ba.text).toBe('Hi A, B here')
    expect(ba.fromPath).toEqual([...a.registration.usePath, ...b.registration.usePath, b.session.uri])

    // A success REPORT (C-7.1.3-1) goes back along the whole From-Path through Kamailio, which never answers it.
    const reported = firstValueFrom(b.session.messages$)
    const events = await lastValueFrom(a.session.send('report this', { successReport: true }).pipe(toArray()))
    expect(new TextDecoder().decode(await (await reported).collect())).toBe('report this')
    expect(events.filter((e) => e.type === 'report')).toEqual([
      { type: 'report', messageId: expect.any(String), reported: 11, status: 200 }
    ])

    // 1 MiB in our default chunks: each frame must stay under Kamailio's cap.
    expect(DEFAULT_CHUNK_BYTES + CHUNK_HEAD_BYTES_MAX).toBeLessThan(KAMAILIO_FRAME_CAP_BYTES)
    const body = pseudoRandom(1024 * 1024)
    const incoming = firstValueFrom(b.session.messages$)
    const sent = lastValueFrom(a.session.send(body).pipe(toArray()))
    const message = await incoming
    expect(sha(await message.collect())).toBe(sha(body))
    expect(await message.outcome).toEqual({ type: 'complete', size: body.length, duplicate: false })
    expect((await sent).pop()).toEqual({ type: 'done', messageId: expect.any(String), size: body.length })
  } finally {
    a.endpoint.close()
    b.endpoint.close()
  }
}

describe('Kamailio msrp relay interop', () => {
  it('R-5.1-1, R-5.1-6: AUTH with Digest at Kamailio gets Use-Path and Expires; a wrong password is refused', async () => {
    const a = await register('tcp')
    expect(a.registration.usePath).toHaveLength(1)
    expect(a.registration.expiresSec).toBeGreaterThan(0)
    a.endpoint.close()
    const endpoint = new MsrpEndpoint()
    const session = endpoint.createSession(tcpUri())
    await expect(
      endpoint.authenticate(session, relay().tcpUri, { ...auth, password: 'not the password' })
    ).rejects.toMatchObject({ reason: 'Unauthorized', status: 401 })
    endpoint.close()
  })

  it('R-6.3-4: Kamailio answers a too short Expires with 423 Min-Expires, and the client asks again within it', async () => {
    const endpoint = new MsrpEndpoint()
    const session = endpoint.createSession(tcpUri())
    const registration = await endpoint.authenticate(session, relay().tcpUri, { ...auth, expiresSec: 1 })
    expect(registration.expiresSec).toBe(KAMAILIO_MIN_EXPIRES_SEC)
    // R-9.4-1: refreshed before it expires, over the same connection (Kamailio issues a new URI each time).
    const refreshed = await firstValueFrom(registration.events$)
    expect(refreshed).toMatchObject({ type: 'refreshed', expiresSec: KAMAILIO_MIN_EXPIRES_SEC })
    expect(session.connection).toBe(registration.connection)
    endpoint.close()
  })

  it('A (TCP) → Kamailio → B (TCP): text both ways, then 1 MiB of binary in default chunks, sha256 equal', async () => {
    await converse('tcp', 'tcp')
  })

  it('RFC 7977: A (TCP) → Kamailio → B (WebSocket, .invalid;ws URI): text both ways, 1 MiB binary, sha256 equal', async () => {
    await converse('tcp', 'ws')
  })

  it('R-8-4, W-5.1-2: A (TLS) → Kamailio → B (WSS): AUTH over TLS only, text both ways, 1 MiB binary, sha256 equal', async () => {
    await converse('tls', 'wss')
  })
})
