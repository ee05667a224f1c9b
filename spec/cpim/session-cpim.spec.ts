/**
 * message/cpim end to end (src/session/cpim.ts): two endpoints over an in-memory transport pair; Alice sends
 * CPIM-wrapped messages, Bob unwraps them.
 */
import * as E from 'fp-ts/Either'
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs'
import { memoryPair } from '../../src/transport/memory'
import { newSessionId } from '../../src/wire/ids'
import { MsrpEndpoint, type EndpointOptions } from '../../src/session/endpoint'
import { CpimError, receiveCpim, sendCpim, unwrapMessages } from '../../src/session/cpim'

const uri = (port: number) => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Closed after each test, passed or failed. */
const cleanups: Array<() => unknown> = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

async function pair(bobOptions: EndpointOptions = {}) {
  const aliceEp = new MsrpEndpoint()
  const bobEp = new MsrpEndpoint(bobOptions)
  cleanups.push(() => (aliceEp.close(), bobEp.close()))
  const [ta, tb] = memoryPair()
  bobEp.accept(tb)
  const bob = bobEp.createSession(uri(2855))
  const alice = aliceEp.createSession(uri(2856))
  await aliceEp.connect(alice, [bob.uri], ta)
  return { alice, bob, close: () => (aliceEp.close(), bobEp.close()) }
}

const cpim = { from: { name: 'Alice', uri: 'sip:alice@example.com' }, to: 'sip:bob@example.com' }

describe('message/cpim between two endpoints (RFC 4975 §13)', () => {
  it('C-13-4, C-13-6: a wrapped message is sent as message/cpim and the receiver unwraps From, To and content', async () => {
    const { alice, bob, close } = await pair()
    const incoming = firstValueFrom(bob.messages$)
    const events = lastValueFrom(
      sendCpim(alice, 'Hi, Bob! ☃', { cpim: { ...cpim, dateTime: new Date('2006-05-15T18:02:31Z') } }).pipe(toArray())
    )
    const message = await incoming
    expect(message.contentType).toBe('message/cpim')
    const received = await receiveCpim(message)
    expect(E.isRight(received)).toBe(true)
    if (E.isLeft(received)) return
    expect(received.right.contentType).toBe('text/plain;charset=utf-8')
    expect(text(received.right.body)).toBe('Hi, Bob! ☃')
    expect(received.right.cpim?.envelope).toMatchObject({
      from: { name: 'Alice', uri: 'sip:alice@example.com' },
      to: [{ uri: 'sip:bob@example.com' }],
      dateTime: new Date('2006-05-15T18:02:31Z')
    })
    expect((await events).pop()).toMatchObject({ type: 'done' })
    close()
  })

  it('wraps before chunking: a 200 kB binary body crosses in many chunks and unwraps byte for byte', async () => {
    const { alice, bob, close } = await pair()
    const body = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256)
    const unwrapped = firstValueFrom(bob.messages$.pipe(unwrapMessages()))
    await lastValueFrom(sendCpim(alice, body, { cpim, contentType: 'application/octet-stream' }))
    const r = await unwrapped
    expect(E.isRight(r)).toBe(true)
    if (E.isRight(r)) {
      expect(r.right.contentType).toBe('application/octet-stream')
      expect(r.right.body).toEqual(body)
    }
    close()
  })

  it('§8.6: with the peer accept lists, a top-level type goes plain and a wrapped-only type goes in CPIM', async () => {
    const { alice, bob, close } = await pair()
    const peer = { acceptTypes: ['text/plain', 'message/cpim'], acceptWrappedTypes: ['image/png'] }
    const received = lastValueFrom(bob.messages$.pipe(unwrapMessages(), take(2), toArray()))
    await lastValueFrom(sendCpim(alice, 'plain text', { cpim, peer, contentType: 'text/plain' }))
    await lastValueFrom(sendCpim(alice, Uint8Array.of(137, 80, 78, 71), { cpim, peer, contentType: 'image/png' }))
    const [first, second] = await received
    expect(first).toEqual(E.right(expect.objectContaining({ cpim: undefined, contentType: 'text/plain' })))
    expect(second).toEqual(
      E.right(expect.objectContaining({ contentType: 'image/png', body: Uint8Array.of(137, 80, 78, 71) }))
    )
    if (second !== undefined && E.isRight(second)) expect(second.right.message.contentType).toBe('message/cpim')
    await expect(
      lastValueFrom(sendCpim(alice, 'x', { cpim, peer, contentType: 'application/pdf' }))
    ).rejects.toMatchObject({ name: 'CpimError', failure: { reason: 'TypeNotAccepted' } })
    close()
  })

  it('a CPIM failure errors before anything is written; a bad CPIM body arrives as a left, never dropped', async () => {
    const { alice, bob, close } = await pair()
    await expect(
      lastValueFrom(sendCpim(alice, 'x', { cpim: { from: 'no uri', to: 'sip:b@c' } }))
    ).rejects.toBeInstanceOf(CpimError)
    const next = firstValueFrom(bob.messages$.pipe(unwrapMessages()))
    await lastValueFrom(
      alice.send('From: <im:a@b>\r\n\r\nContent-Type: text/plain\r\n\r\nno To', { contentType: 'message/cpim' })
    )
    expect(await next).toEqual(E.left(expect.objectContaining({ _tag: 'CpimFailure', reason: 'Missing' })))
    close()
  })
})
