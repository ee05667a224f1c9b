/**
 * The relay reuses a relay-less peer's own connection to reach that peer's URI (RFC 4975 §5.4 connection reuse; the
 * SDP answerer with `a=setup:active` of spec/sdp/relay.spec.ts), but only when the URI's host is the address the
 * connection comes from: a third party cannot claim another peer's URI and receive its messages.
 */
import * as net from 'node:net'
import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { MsrpRelay } from '../../src/relay/relay'
import { createAuthHandler } from '../../src/relay/auth'
import { createRegistry } from '../../src/relay/registry'
import { memoryCredentials } from '../../src/relay/credentials'
import { MsrpEndpoint } from '../../src/session/endpoint'
import { listenTcp } from '../../src/transport/tcp'
import { encodeFrame } from '../../src/wire/encoder'
import { newMessageId, newSessionId, newTransactionId } from '../../src/wire/ids'
import { start, type Running } from '../transport/helpers'

const HOST = '127.0.0.1'
/** Another loopback address (127.0.0.0/8 is all loopback on Linux): a host that is not Bob's. */
const ELSEWHERE = '127.0.0.2'

describe('MsrpRelay: reaching a relay-less peer over the connection it opened', () => {
  let relayListener: Running
  let bobListener: Running
  let relay: MsrpRelay
  const endpoints: MsrpEndpoint[] = []

  beforeEach(async () => {
    const registry = createRegistry()
    const auth = createAuthHandler({ realm: 'reuse', credentials: memoryCredentials({ alice: 'pw' }), registry })
    relay = new MsrpRelay({ auth, registry })
    relayListener = await start(listenTcp({ host: HOST, port: 0 }))
    relay.serve(relayListener.listener, `msrp://${HOST}:${relayListener.listener.address.port};tcp`)
    bobListener = await start(listenTcp({ host: HOST, port: 0 }))
  })

  afterEach(async () => {
    for (const e of endpoints.splice(0)) e.close()
    await relay.close()
    relayListener.stop()
    bobListener.stop()
  })

  /** Alice behind the relay; Bob, without relay, listening on his own port. */
  async function parties() {
    const relayUri = `msrp://${HOST}:${relayListener.listener.address.port};tcp`
    const aliceEp = new MsrpEndpoint()
    const bobEp = new MsrpEndpoint()
    endpoints.push(aliceEp, bobEp)
    bobEp.serve(bobListener.listener)
    const alice = aliceEp.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
    const registration = await aliceEp.authenticate(alice, relayUri, {
      username: 'alice',
      password: 'pw',
      allowInsecure: true
    })
    const bobUri = `msrp://${HOST}:${bobListener.listener.address.port}/${newSessionId()};tcp`
    const bob = bobEp.createSession(bobUri)
    alice.remotePath = registration.toPathFor([bobUri])
    return { alice, bob, bobUri, usePath: registration.usePath }
  }

  it('does not let a connection from another address claim a peer URI: the relay dials the peer itself', async () => {
    const { alice, bob, bobUri, usePath } = await parties()
    // Mallory, from 127.0.0.2, sends to Alice (any peer may) claiming Bob's URI as its own From-Path.
    const mallory = net.connect({ host: HOST, port: relayListener.listener.address.port, localAddress: ELSEWHERE })
    await new Promise<void>((resolve, reject) => mallory.once('connect', resolve).once('error', reject))
    const malloryGot: Buffer[] = []
    mallory.on('data', (d: Buffer) => malloryGot.push(d))
    const claim = encodeFrame({
      type: 'request',
      transactionId: newTransactionId(),
      method: 'SEND',
      headers: [
        ['To-Path', [...usePath, alice.uri].join(' ')],
        ['From-Path', bobUri],
        ['Message-ID', newMessageId()],
        ['Byte-Range', '1-2/2'],
        ['Content-Type', 'text/plain']
      ],
      body: new TextEncoder().encode('hi'),
      continuation: '$'
    })
    if (E.isLeft(claim)) throw new Error(claim.left.detail)
    const fromMallory = firstValueFrom(alice.messages$)
    mallory.write(Buffer.concat(claim.right))
    expect(new TextDecoder().decode(await (await fromMallory).collect())).toBe('hi') // forwarded to Alice, as allowed
    // Alice → Bob: the relay must reach the real Bob, not Mallory's connection.
    const toBob = firstValueFrom(bob.messages$)
    const events = await lastValueFrom(alice.send('for Bob only').pipe(toArray()))
    expect(events.pop()).toMatchObject({ type: 'done' })
    expect(new TextDecoder().decode(await (await toBob).collect())).toBe('for Bob only')
    expect(Buffer.concat(malloryGot).toString('latin1')).not.toContain('for Bob only')
    mallory.destroy()
  })

  it('reuses the connection a peer opened from its own address (RFC 4975 §5.4)', async () => {
    const { alice, bob, usePath } = await parties()
    // Bob connects to Alice's relay himself (an SDP answer with a=setup:active) and sends first.
    const bobEndpoint = endpoints[1] as MsrpEndpoint
    bob.remotePath = [...usePath, alice.uri]
    const connected = bobEndpoint.connect(bob, bob.remotePath)
    const bound = firstValueFrom(alice.messages$)
    await connected
    await lastValueFrom(bob.send('from Bob'))
    expect(new TextDecoder().decode(await (await bound).collect())).toBe('from Bob')
    // Alice's answer goes back over Bob's own connection: his session is bound to it and accepts it (no 506).
    const back = firstValueFrom(bob.messages$)
    await lastValueFrom(alice.send('back to Bob'))
    expect(new TextDecoder().decode(await (await back).collect())).toBe('back to Bob')
  })
})
