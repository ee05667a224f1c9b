/**
 * Malformed and misdirected frames at an endpoint over real TCP (RFC 4975 §7.2, §7.3, §5.4): each gets the status the
 * RFC asks for (or none), and none of them disturbs the other sessions of its connection, the other connection, or
 * the messages flowing on them afterwards.
 *
 * Bob serves a loopback listener. Connection A: Alice's endpoint, carrying the sessions alice1 → bob1 and
 * alice2 → bob2. Connection B: Carol's endpoint, carol → bob3. Frames are injected as raw bytes through the transport
 * of A or B (between whole frames of the writer), or over a plain `node:net` socket (connection C).
 */
import * as net from 'node:net'
import { filter, firstValueFrom, lastValueFrom, type Subscription } from 'rxjs'
import { start, type Running } from '../transport/helpers'
import { listenTcp } from '../../src/transport/tcp'
import { Framer } from '../../src/wire/framer'
import { newSessionId } from '../../src/wire/ids'
import type { MsrpFrame, MsrpResponse } from '../../src/wire/model'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpConnection } from '../../src/session/connection'
import type { IncomingMessage } from '../../src/session/incoming'
import type { MsrpSession } from '../../src/session/session'

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8')
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
let counter = 0
/** A fresh transaction id for an injected frame. */
const tid = (): string => `inj${++counter}x${newSessionId().slice(0, 8)}`

/** A SEND as raw text; `headers` replaces the default Message-ID/Byte-Range/Content-Type lines when given. */
function rawSend(t: string, to: string, from: string, options: { headers?: string[]; body?: string } = {}): Buffer {
  const body = options.body ?? 'injected'
  const headers = options.headers ?? [
    `Message-ID: m${t}`,
    `Byte-Range: 1-${Buffer.byteLength(body)}/${Buffer.byteLength(body)}`,
    'Content-Type: text/plain'
  ]
  return crlf(`MSRP ${t} SEND\nTo-Path: ${to}\nFrom-Path: ${from}\n${headers.join('\n')}\n\n${body}\n-------${t}$\n`)
}

/** Resolves once `check` holds, checking on each turn of the event loop (at most `turns` of them). */
async function until(check: () => boolean, what: string, turns = 100_000): Promise<void> {
  for (let k = 0; k < turns; k++) {
    if (check()) return
    await new Promise((r) => setImmediate(r))
  }
  throw new Error(`gave up waiting for ${what}`)
}

describe('malformed and misdirected frames at an endpoint over TCP', () => {
  let running: Running
  let bobEp: MsrpEndpoint
  let aliceEp: MsrpEndpoint
  let carolEp: MsrpEndpoint
  let bob1: MsrpSession, bob2: MsrpSession, bob3: MsrpSession
  let alice1: MsrpSession, alice2: MsrpSession, carol: MsrpSession
  let connA: MsrpConnection, connB: MsrpConnection
  /** Every response arriving at Alice's (A) and Carol's (B) side, and every message each Bob session got. */
  const atA: MsrpResponse[] = []
  const atB: MsrpResponse[] = []
  const delivered = new Map<MsrpSession, IncomingMessage[]>()
  const subscriptions: Subscription[] = []
  let port: number

  const bobUri = (): string => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`
  const localUri = (): string => `msrp://127.0.0.1:1/${newSessionId()};tcp`

  function deliveredTo(s: MsrpSession): IncomingMessage[] {
    return delivered.get(s) ?? []
  }

  /** The next response to `t` on a connection (subscribe before writing the request). */
  const answerTo = (conn: MsrpConnection, t: string): Promise<MsrpResponse> =>
    firstValueFrom(conn.responses$.pipe(filter((r) => r.transactionId === t)))

  /** One message from `from` to `to`, checked at `to`. */
  async function exchange(from: MsrpSession, to: MsrpSession, body: string): Promise<void> {
    const got = firstValueFrom(to.messages$)
    await lastValueFrom(from.send(body))
    expect(text(await (await got).collect())).toBe(body)
  }

  /** Messages still flow both ways on every session of A and B. */
  async function everythingFlows(tag: string): Promise<void> {
    await Promise.all([
      exchange(alice1, bob1, `${tag} a1→b1`),
      exchange(alice2, bob2, `${tag} a2→b2`),
      exchange(carol, bob3, `${tag} c→b3`)
    ])
    await Promise.all([
      exchange(bob1, alice1, `${tag} b1→a1`),
      exchange(bob2, alice2, `${tag} b2→a2`),
      exchange(bob3, carol, `${tag} b3→c`)
    ])
    expect(bob1.connection).toBe(bob2.connection)
    expect(bob3.connection).not.toBe(bob1.connection)
    expect([bob1, bob2, bob3].every((s) => s.connection?.closed === false)).toBe(true)
  }

  beforeAll(async () => {
    running = await start(listenTcp({ host: '127.0.0.1', port: 0 }))
    port = running.listener.address.port
    bobEp = new MsrpEndpoint()
    bobEp.serve(running.listener)
    bob1 = bobEp.createSession(bobUri())
    bob2 = bobEp.createSession(bobUri())
    bob3 = bobEp.createSession(bobUri())
    for (const s of [bob1, bob2, bob3]) {
      subscriptions.push(
        s.messages$.subscribe((m) => {
          delivered.set(s, [...deliveredTo(s), m])
        })
      )
    }
    aliceEp = new MsrpEndpoint()
    alice1 = aliceEp.createSession(localUri())
    alice2 = aliceEp.createSession(localUri())
    await aliceEp.connect(alice1, [bob1.uri])
    connA = alice1.connection as MsrpConnection
    // The second session rides the same connection (C-5.4-1); its first SEND binds bob2 there (C-5.4-7).
    alice2.remotePath = [bob2.uri]
    alice2.bind(connA)
    carolEp = new MsrpEndpoint()
    carol = carolEp.createSession(localUri())
    await carolEp.connect(carol, [bob3.uri])
    connB = carol.connection as MsrpConnection
    bob1.remotePath = [alice1.uri]
    bob2.remotePath = [alice2.uri]
    bob3.remotePath = [carol.uri]
    subscriptions.push(connA.responses$.subscribe((r) => atA.push(r)))
    subscriptions.push(connB.responses$.subscribe((r) => atB.push(r)))
    await everythingFlows('setup')
  })

  afterAll(() => {
    for (const s of subscriptions) s.unsubscribe()
    aliceEp.close()
    carolEp.close()
    bobEp.close()
    running.stop()
  })

  it.each([
    [
      'a Byte-Range that is not start-end/total',
      ['Message-ID: bad1', 'Byte-Range: one-two/three', 'Content-Type: text/plain']
    ],
    ['no Message-ID', ['Byte-Range: 1-8/8', 'Content-Type: text/plain']],
    ['a header line with no colon', ['Message-ID: bad3', 'Byte-Range 1-8/8', 'Content-Type: text/plain']]
  ])('RFC 4975 §7.3, C-7.2-1..4: a SEND with %s is answered 400 and not delivered', async (_what, headers) => {
    const before = deliveredTo(bob1).length
    const t = tid()
    const answer = answerTo(connA, t)
    connA.transport.write([rawSend(t, bob1.uri, alice1.uri, { headers })])
    const r = await answer
    expect(r).toMatchObject({ status: 400, continuation: '$' })
    // To-Path: the SEND's first From-Path URI (C-7.2-3); From-Path: the session it was sent to (C-7.2-4).
    expect(r.headers).toEqual([
      ['To-Path', alice1.uri],
      ['From-Path', bob1.uri]
    ])
    await everythingFlows('after 400')
    expect(deliveredTo(bob1).length).toBe(before + 1) // only the exchange's message
  })

  it('C-14.5-4, C-7.3.1-1: a SEND whose body goes past its Byte-Range total is answered 400; the message is announced failed', async () => {
    const t = tid()
    const answer = answerTo(connA, t)
    const announced = firstValueFrom(bob2.messages$)
    connA.transport.write([
      rawSend(t, bob2.uri, alice2.uri, {
        headers: [`Message-ID: m${t}`, 'Byte-Range: 1-3/3', 'Content-Type: text/plain']
      })
    ])
    expect(await answer).toMatchObject({ status: 400 })
    const m = await announced
    expect(m.messageId).toBe(`m${t}`)
    expect(await m.outcome).toMatchObject({ type: 'failed', status: 400, reason: 'BeyondTotal' })
    await everythingFlows('after BeyondTotal')
  })

  it('C-12-2: an unknown method is answered 501', async () => {
    const t = tid()
    const answer = answerTo(connA, t)
    connA.transport.write([crlf(`MSRP ${t} FETCH\nTo-Path: ${bob2.uri}\nFrom-Path: ${alice2.uri}\n-------${t}$\n`)])
    expect(await answer).toMatchObject({ status: 501, comment: 'Request-method-not-understood' })
    await everythingFlows('after 501')
  })

  it('C-7.3-1, C-5.4-8: a SEND to a session Bob does not have is answered 481 (and not at all with Failure-Report: no)', async () => {
    const unknown = bobUri()
    const t1 = tid()
    const t2 = tid()
    const answer = answerTo(connA, t1)
    connA.transport.write([rawSend(t1, unknown, alice1.uri)])
    expect(await answer).toMatchObject({
      status: 481,
      headers: [
        ['To-Path', alice1.uri],
        ['From-Path', unknown]
      ]
    })
    connA.transport.write([
      rawSend(t2, unknown, alice1.uri, {
        headers: [`Message-ID: m${t2}`, 'Byte-Range: 1-8/8', 'Failure-Report: no', 'Content-Type: text/plain']
      })
    ])
    await everythingFlows('after 481') // Bob handles frames in order: an answer to t2 would have come by now
    expect(atA.filter((r) => r.transactionId === t2)).toEqual([])
  })

  it('C-5.4-9, C-7.2-5: a SEND for a session bound to another connection is answered 506 on its own connection', async () => {
    const before = deliveredTo(bob1).length
    const t = tid()
    const answer = answerTo(connB, t)
    connB.transport.write([rawSend(t, bob1.uri, carol.uri)])
    expect(await answer).toMatchObject({ status: 506, comment: 'Session-already-in-use' })
    expect(atA.filter((r) => r.transactionId === t)).toEqual([])
    await everythingFlows('after 506')
    // bob1 stays with connection A; the hijack attempt was not delivered.
    expect(bob1.connection).toBe(bob2.connection)
    expect(deliveredTo(bob1).length).toBe(before + 1)
  })

  it('C-7.1.2-6, C-7.1.2-3: a malformed REPORT and a REPORT for an unknown Message-ID get no answer', async () => {
    const t1 = tid()
    const t2 = tid()
    // No Status header: not a valid REPORT (C-7.1.2-1); REPORTs are never answered, not even with 400.
    connA.transport.write([
      crlf(`MSRP ${t1} REPORT\nTo-Path: ${bob1.uri}\nFrom-Path: ${alice1.uri}\nMessage-ID: x1\n-------${t1}$\n`)
    ])
    connA.transport.write([
      crlf(
        `MSRP ${t2} REPORT\nTo-Path: ${bob1.uri}\nFrom-Path: ${alice1.uri}\nMessage-ID: unknown${t2}\n` +
          `Byte-Range: 1-5/5\nStatus: 000 200 OK\n-------${t2}$\n`
      )
    ])
    await everythingFlows('after REPORTs')
    expect(atA.filter((r) => r.transactionId === t1 || r.transactionId === t2)).toEqual([])
  })

  it('a response that matches no transaction is ignored', async () => {
    const t = tid()
    connA.transport.write([crlf(`MSRP ${t} 200 OK\nTo-Path: ${bob1.uri}\nFrom-Path: ${alice1.uri}\n-------${t}$\n`)])
    connB.transport.write([
      crlf(`MSRP ${t} 413 Stop-sending-message\nTo-Path: ${bob3.uri}\nFrom-Path: ${carol.uri}\n-------${t}$\n`)
    ])
    await everythingFlows('after stray responses')
    expect([...atA, ...atB].filter((r) => r.transactionId === t)).toEqual([])
  })

  it('RFC 4975 §7.1, C-5.4-10: a start line that is not MSRP closes that connection only', async () => {
    const bob4 = bobEp.createSession(bobUri())
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    const frames: MsrpFrame[] = []
    const framer = new Framer()
    socket.on('data', (d: Buffer) => {
      for (const e of framer.push(Buffer.from(d))) if (e.type === 'frame') frames.push(e.frame)
    })
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    await new Promise<void>((r) => socket.once('connect', () => r()))
    const me = localUri()
    const t = tid()
    const incoming = firstValueFrom(bob4.messages$)
    socket.write(rawSend(t, bob4.uri, me, { body: 'hello from C' }))
    expect(text(await (await incoming).collect())).toBe('hello from C')
    await until(() => frames.some((f) => f.transactionId === t), 'the 200 on C')
    expect(frames).toEqual([expect.objectContaining({ type: 'response', transactionId: t, status: 200 })])
    expect(bob4.connection?.closed).toBe(false)

    socket.write(crlf('GET / HTTP/1.1\nHost: 127.0.0.1\n\n'))
    await closed
    expect(bob4.connection).toBeUndefined()
    expect(frames).toHaveLength(1) // nothing answers a stream that lost its framing
    await everythingFlows('after C closed')
  })

  /** A raw TCP connection to Bob (connection C), its decoded answers and its end. */
  async function rawConnection() {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    const frames: MsrpFrame[] = []
    const framer = new Framer()
    socket.on('data', (d: Buffer) => {
      for (const e of framer.push(Buffer.from(d))) if (e.type === 'frame') frames.push(e.frame)
    })
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    await new Promise<void>((r) => socket.once('connect', () => r()))
    return { socket, frames, closed }
  }

  it('a header section over the limit (more than 64 header lines) closes that connection only', async () => {
    const c = await rawConnection()
    const t = tid()
    const extra = Array.from({ length: 62 }, (_, k) => `X-Filler-${k}: ${k}`)
    c.socket.write(
      rawSend(t, bob1.uri, localUri(), {
        headers: ['Message-ID: many', 'Byte-Range: 1-8/8', ...extra, 'Content-Type: text/plain']
      })
    )
    await c.closed
    expect(c.frames).toEqual([])
    await everythingFlows('after too many headers')
  })

  it('C-5.4-10: a connection that ends inside a chunk body aborts the message being received', async () => {
    const bob5 = bobEp.createSession(bobUri())
    const c = await rawConnection()
    const t = tid()
    const incoming = firstValueFrom(bob5.messages$)
    // The head and 40 000 of the 100 000 body bytes of a first chunk (streamed in pieces), then the end.
    c.socket.write(
      crlf(
        `MSRP ${t} SEND\nTo-Path: ${bob5.uri}\nFrom-Path: ${localUri()}\nMessage-ID: cut${t}\n` +
          'Byte-Range: 1-*/100000\nContent-Type: application/octet-stream\n\n'
      )
    )
    c.socket.write(Buffer.alloc(40_000, 0x5a))
    const m = await incoming
    await until(() => m.receivedBytes === 40_000, 'the 40 000 bytes')
    c.socket.end()
    expect(await m.outcome).toEqual({ type: 'aborted', received: 40_000, reason: 'ConnectionLost' })
    await c.closed
    expect(bob5.connection).toBeUndefined()
    await everythingFlows('after a cut chunk')
  })
})
