/**
 * The example flows of RFC 4975 (§4, §5.1, §11; rfc4975-core.md §14) played between two of our endpoints over an
 * in-memory pair whose writes are tapped: every frame either side writes is decoded again with the `Framer` and
 * compared with the RFC's message (spec/fixtures/rfc-vectors.md), octet for octet, once the transaction id (random)
 * and the Byte-Range values (several RFC examples miscount their bodies, rfc4975-core.md §14) are put right.
 * Sessions take the URIs of the RFC examples: over a memory pair the hosts are never resolved.
 */
import { firstValueFrom, lastValueFrom, toArray, type Subscription } from 'rxjs'
import { loadFixtures } from '../helpers/fixtures'
import { memoryPair } from '../../src/transport/memory'
import type { Transport } from '../../src/transport/transport'
import { Framer } from '../../src/wire/framer'
import { getHeader, type MsrpFrame, type MsrpRequest } from '../../src/wire/model'
import { MsrpEndpoint, type EndpointOptions } from '../../src/session/endpoint'
import type { IncomingMessage } from '../../src/session/incoming'
import type { MsrpSession, SendEvent } from '../../src/session/session'

const ALICE = 'msrp://alicepc.example.com:7777/iau39soe2843z;tcp'
const BOB = 'msrp://bob.example.com:8888/9di4eae923wzd;tcp'

const vectors = loadFixtures('rfc-vectors')
/** RFC vector `n` of spec/fixtures/rfc-vectors.md (its section number). */
function vector(n: number): string {
  const v = vectors.find((f) => f.title.startsWith(`${n}. `))
  if (v === undefined) throw new Error(`no vector ${n}`)
  return Buffer.from(v.bytes).toString('latin1')
}
/** The body of RFC vector `n`, as its own frame carries it. */
function bodyOf(n: number): Buffer {
  const events = new Framer().push(Buffer.from(vector(n), 'latin1'))
  const e = events[0]
  if (events.length !== 1 || e?.type !== 'frame' || e.frame.type !== 'request' || e.frame.body === undefined) {
    throw new Error(`vector ${n} is not one request with a body`)
  }
  return Buffer.from(e.frame.body)
}

/** One frame as it went over the wire: who wrote it, its bytes, and what the Framer reads back from them. */
interface Written {
  readonly from: 'alice' | 'bob'
  readonly text: string
  /** `undefined` when the bytes of one write were not exactly one frame. */
  readonly frame: MsrpFrame | undefined
}
type Entry = Written | { readonly from: 'marker'; readonly label: string }

/** A transport that records what is written through it, one entry per `write` (the writer writes frames whole). */
function tapped(t: Transport, from: 'alice' | 'bob', log: Entry[]): Transport {
  return {
    incoming$: t.incoming$,
    drain$: t.drain$,
    closed$: t.closed$,
    info: t.info,
    pause: () => t.pause(),
    resume: () => t.resume(),
    close: (reason) => t.close(reason),
    write(pieces) {
      const bytes = Buffer.concat(pieces)
      const events = new Framer().push(Buffer.from(bytes))
      const e = events[0]
      log.push({
        from,
        text: bytes.toString('latin1'),
        frame: events.length === 1 && e?.type === 'frame' && e.failures.length === 0 ? e.frame : undefined
      })
      return t.write(pieces)
    }
  }
}

const frames = (log: readonly Entry[], from?: 'alice' | 'bob'): Written[] =>
  log.filter((e): e is Written => e.from !== 'marker' && (from === undefined || e.from === from))
const frameOf = (w: Written | undefined): MsrpFrame => {
  if (w?.frame === undefined) throw new Error(`not one whole frame: ${JSON.stringify(w?.text)}`)
  return w.frame
}
const tidOf = (w: Written | undefined): string => frameOf(w).transactionId
const header = (w: Written | undefined, name: string): string | undefined => getHeader(frameOf(w).headers, name)
const startLine = (w: Written): string => w.text.slice(0, w.text.indexOf('\r\n'))

/** RFC vector `n` with its transaction id `rfcTid` replaced by ours, and other replacements. */
function expected(
  n: number,
  rfcTid: string,
  tid: string,
  edits: ReadonlyArray<readonly [string, string]> = []
): string {
  let s = vector(n).split(rfcTid).join(tid)
  for (const [a, b] of edits) {
    if (!s.includes(a)) throw new Error(`vector ${n} has no ${JSON.stringify(a)}`)
    s = s.split(a).join(b)
  }
  return s
}

/** Endpoints to close after each test. */
const opened: MsrpEndpoint[] = []
afterEach(() => {
  for (const ep of opened.splice(0)) ep.close()
})

/** Alice and Bob on a tapped memory pair; Alice connects (binding SEND, C-5.4-3) when `bind` is not false. */
async function flow(
  options: { alice?: EndpointOptions; bob?: EndpointOptions; aliceUri?: string; bobUri?: string } = {}
) {
  const log: Entry[] = []
  const [ta, tb] = memoryPair()
  const aliceEp = new MsrpEndpoint(options.alice)
  const bobEp = new MsrpEndpoint(options.bob)
  bobEp.accept(tapped(tb, 'bob', log))
  const bob = bobEp.createSession(options.bobUri ?? BOB)
  const alice = aliceEp.createSession(options.aliceUri ?? ALICE)
  opened.push(aliceEp, bobEp)
  // Bob learns Alice's path from her SDP (RFC 4975 §8.2); here, from the test.
  bob.remotePath = [alice.uri]
  const connect = (to: string) => aliceEp.connect(alice, [to], tapped(ta, 'alice', log))
  return { log, alice, bob, connect }
}

/** One more exchange: once it is answered, whatever the flow before it made either side write has been written. */
async function barrier(from: MsrpSession, to: MsrpSession): Promise<void> {
  const got = firstValueFrom(to.messages$)
  await lastValueFrom(from.send('barrier'))
  await (await got).collect()
}

const nextMessage = (s: MsrpSession): Promise<IncomingMessage> => firstValueFrom(s.messages$)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('RFC 4975 example flows between two endpoints, as they go over the wire', () => {
  it('§11.1 (Figure 12), §14.8, C-5.4-3, C-7.2-2..4: binding SEND, then a basic IM exchange both ways', async () => {
    const { log, alice, bob, connect } = await flow()
    await connect(BOB)
    const binding = frames(log)
    expect(binding.map((w) => w.from)).toEqual(['alice', 'bob'])
    // §14.8: the active side's first request is a bodiless SEND (C-5.4-3), Byte-Range 1-0/0 (C-7.1.1-15).
    const bindTid = tidOf(binding[0])
    const bindId = header(binding[0], 'Message-ID') as string
    expect(binding[0]?.text).toBe(expected(15, 'a1b2c3d4e5f6', bindTid, [['m1b2c3d4e5f6', bindId]]))
    expect(binding[1]?.text).toBe(expected(6, 'd93kswow', bindTid))

    // (4), (5): Alice -> Bob, 200 OK back on the same connection.
    const toBob = nextMessage(bob)
    const aliceBody = bodyOf(5)
    const aliceEvents = await lastValueFrom(
      alice.send(aliceBody, { contentType: 'text/plain', messageId: '12339sdqwer' }).pipe(toArray())
    )
    const m1 = await toBob
    expect(text(await m1.collect())).toBe("Hi, I'm Alice!")
    expect(m1).toMatchObject({ messageId: '12339sdqwer', contentType: 'text/plain', total: 14 })
    expect(aliceEvents[aliceEvents.length - 1]).toEqual({ type: 'done', messageId: '12339sdqwer', size: 14 })

    // (6), (7): Bob -> Alice.
    const toAlice = nextMessage(alice)
    await lastValueFrom(bob.send(bodyOf(7), { contentType: 'text/plain', messageId: '456s9wlk3' }))
    expect(text(await (await toAlice).collect())).toBe("Hi, Alice!  I'm Bob!")

    const rest = frames(log).slice(2)
    expect(rest.map((w) => [w.from, frameOf(w).type])).toEqual([
      ['alice', 'request'],
      ['bob', 'response'],
      ['bob', 'request'],
      ['alice', 'response']
    ])
    // Figure 12 (4)-(7): the RFC's messages, Byte-Range counted right (14 and 20 octets, not 16 and 21).
    const [send4, ok5, send6, ok7] = rest
    expect(send4?.text).toBe(expected(5, 'd93kswow', tidOf(send4), [['1-16/16', '1-14/14']]))
    expect(ok5?.text).toBe(expected(6, 'd93kswow', tidOf(send4)))
    expect(send6?.text).toBe(expected(7, 'dkei38sd', tidOf(send6), [['1-21/21', '1-20/20']]))
    expect(ok7?.text).toBe(expected(8, 'dkei38sd', tidOf(send6)))
    // C-7.1-1: every request has its own transaction id.
    expect(new Set([bindTid, tidOf(send4), tidOf(send6)]).size).toBe(3)
  })

  it('§11.4 (Figures 14, 15), §6.1, C-7.1.1-2, C-7.1.1-11, C-7.1-9: a message/cpim message in two chunks', async () => {
    const aliceUri = 'msrp://alicepc.example.com:7654/iau39soe2843z;tcp'
    const bobUri = 'msrp://bobpc.example.com:8888/9di4eae923wzd;tcp'
    const { log, alice, bob, connect } = await flow({ alice: { chunkBytes: 137 }, aliceUri, bobUri })
    await connect(bobUri)
    const first = bodyOf(10)
    const second = bodyOf(11)
    expect(first.length).toBe(137)
    const body = Buffer.concat([first, second])
    const incoming = nextMessage(bob)
    const events = await lastValueFrom(
      alice.send(body, { contentType: 'message/cpim', messageId: '12339sdqwer' }).pipe(toArray())
    )
    const message = await incoming
    expect(message).toMatchObject({ contentType: 'message/cpim', total: 147 })
    expect(Buffer.from(await message.collect()).equals(body)).toBe(true)
    expect(events.filter((e) => e.type === 'progress').map((e) => (e as { sent: number }).sent)).toContain(137)

    const sends = frames(log, 'alice').slice(1)
    expect(sends).toHaveLength(2)
    const [c1, c2] = sends
    // Same Message-ID, a new transaction per chunk, Byte-Range placing each body (total 147: the RFC says 148
    // but its second chunk has 10 octets), `+` then `$`.
    expect(c1?.text).toBe(expected(10, 'd93kswow', tidOf(c1), [['1-137/148', '1-137/147']]))
    expect(c2?.text).toBe(expected(11, 'op2nc9a', tidOf(c2), [['138-148/148', '138-147/147']]))
    expect(tidOf(c1)).not.toBe(tidOf(c2))
    // Each chunk is its own transaction, answered 200 (C-7.2-1, C-7.2-2).
    const answers = frames(log, 'bob').slice(1)
    expect(answers.map((w) => startLine(w))).toEqual([`MSRP ${tidOf(c1)} 200 OK`, `MSRP ${tidOf(c2)} 200 OK`])
  })

  it('§5.1, §6.1, C-7.1-9: an aborted message ends with a `#` chunk; the receiver reports it aborted', async () => {
    const { log, alice, bob, connect } = await flow({ alice: { chunkBytes: 4 } })
    await connect(BOB)
    let release!: () => void
    const stalled = new Promise<void>((r) => (release = r))
    async function* typing() {
      yield Buffer.from('abcd')
      yield Buffer.from('EFGH')
      yield Buffer.from('ij')
      await stalled // the rest never comes: the user cancels
    }
    const incoming = nextMessage(bob)
    const events: SendEvent[] = []
    const errors: unknown[] = []
    const sending = alice
      .send(typing(), { contentType: 'text/plain', messageId: '4564dpWd' })
      .subscribe({ next: (e) => events.push(e), error: (e: unknown) => errors.push(e) })
    const message = await incoming
    for (let k = 0; k < 10_000 && !events.some((e) => e.type === 'progress' && e.acknowledged === 8); k++) {
      await new Promise((r) => setImmediate(r))
    }
    sending.unsubscribe()
    expect(await message.outcome).toEqual({ type: 'aborted', received: 8, reason: 'Aborted' })
    await expect(message.collect()).rejects.toMatchObject({ name: 'MessageIncompleteError' })
    release()
    await barrier(alice, bob)

    const sends = frames(log, 'alice')
      .slice(1)
      .filter((w) => header(w, 'Message-ID') === '4564dpWd')
    // §6.3 (Figure 3), with the paths: "abcd" then "EFGH" in `+` chunks; then the abort, a chunk with flag `#`
    // starting where the message stopped (the total was never known: `*`, C-7.1.1-13).
    expect(
      sends.map((w) => [
        header(w, 'Byte-Range'),
        text((frameOf(w) as MsrpRequest).body ?? new Uint8Array()),
        frameOf(w).continuation
      ])
    ).toEqual([
      ['1-4/*', 'abcd', '+'],
      ['5-8/*', 'EFGH', '+'],
      ['9-*/*', '', '#']
    ])
    for (const w of sends) {
      expect(frameOf(w).headers.map(([n]) => n)).toEqual([
        'To-Path',
        'From-Path',
        'Message-ID',
        'Byte-Range',
        'Content-Type'
      ])
    }
    expect(new Set(sends.map(tidOf)).size).toBe(3)
    // Every chunk, the `#` one included, is a transaction Bob answers 200 (C-7.2-1).
    const answered = frames(log, 'bob').filter((w) => sends.some((s) => tidOf(s) === tidOf(w)))
    expect(answered.map((w) => (frameOf(w) as { status: number }).status)).toEqual([200, 200, 200])
    // Unsubscribing is the user's own abort: no error reaches the sender.
    expect(errors).toEqual([])
  })

  it('§11.6 (Figures 16, 17), C-7.1.3-1, C-7.1.3-3, C-7.1.2-1, C-7.1.2-6, C-7.1.4-2: a success REPORT, no response', async () => {
    const { log, alice, bob, connect } = await flow()
    await connect(BOB)
    const html = bodyOf(13)
    const n = html.length
    const incoming = nextMessage(bob)
    const events = await lastValueFrom(
      alice
        .send(html, { contentType: 'text/html', messageId: '12339sdqwer', successReport: true, failureReport: 'no' })
        .pipe(toArray())
    )
    expect(text(await (await incoming).collect())).toBe(html.toString('latin1'))
    // The send completes once the REPORT covers the whole message (C-7.3.2-2: namespace 000 is read as the code).
    expect(events.slice(-2)).toEqual([
      { type: 'report', messageId: '12339sdqwer', reported: n, status: 200 },
      { type: 'done', messageId: '12339sdqwer', size: n }
    ])
    await barrier(alice, bob)

    const [send, report, ...later] = frames(log).slice(2)
    expect(send?.text).toBe(expected(13, 'd93kswow', tidOf(send), [['1-106/106', `1-${n}/${n}`]]))
    // Figure 17: To-Path is the SEND's From-Path, From-Path Bob, the Message-ID copied, Status 000 200 OK.
    expect(report?.from).toBe('bob')
    expect(report?.text).toBe(expected(14, 'dkei38sd', tidOf(report), [['1-106/106', `1-${n}/${n}`]]))
    expect(tidOf(report)).not.toBe(tidOf(send))
    // Failure-Report: no → no 200 for the SEND; a REPORT gets no response: next is the barrier's SEND.
    expect(later.map((w) => [w.from, startLine(w).split(' ')[2]])).toEqual([
      ['alice', 'SEND'],
      ['bob', '200']
    ])
  })

  it('§11.5, C-7.1.4-2, C-7.1.1-8: a system message with Failure-Report: no is delivered and never answered', async () => {
    const sysadmin = 'msrp://example.com:7777/iau39soe2843z;tcp'
    const target = 'msrp://alicepc.example.com:8888/9di4eae923wzd;tcp'
    const { log, alice, bob, connect } = await flow({ aliceUri: sysadmin, bobUri: target })
    await connect(target)
    const incoming = nextMessage(bob)
    const events = await lastValueFrom(
      alice
        .send(bodyOf(12), { contentType: 'text/plain', messageId: '12339sdqwer', failureReport: 'no' })
        .pipe(toArray())
    )
    // Nothing comes back, so the send is done once written, nothing acknowledged.
    expect(events[events.length - 1]).toEqual({ type: 'done', messageId: '12339sdqwer', size: 37 })
    expect(events.every((e) => e.type !== 'progress' || e.acknowledged === 0)).toBe(true)
    expect(text(await (await incoming).collect())).toBe('This conference will end in 5 minutes')
    await barrier(alice, bob)
    const [send, ...later] = frames(log).slice(2)
    // The RFC also writes `Success-Report: no`, which is the default (C-7.1.1-8): ours leaves it out.
    expect(send?.text).toBe(
      expected(12, 'd93kswow', tidOf(send), [
        ['1-38/38', '1-37/37'],
        ['Success-Report: no\r\n', '']
      ])
    )
    expect(later.map((w) => [w.from, startLine(w).split(' ')[2]])).toEqual([
      ['alice', 'SEND'],
      ['bob', '200']
    ])
  })

  it('§5.4, §7.3, C-5.4-8, C-7.2-3: binding to a session Bob does not have is answered 481', async () => {
    const { log, connect } = await flow()
    const unknown = 'msrp://bob.example.com:8888/nosuchsession00;tcp'
    await expect(connect(unknown)).rejects.toMatchObject({ name: 'SendError', reason: 'ErrorResponse', status: 481 })
    const [bind, answer, ...rest] = frames(log)
    expect(rest).toEqual([])
    expect(bind?.from).toBe('alice')
    expect(answer?.from).toBe('bob')
    // To-Path: the first From-Path URI of the SEND; From-Path: the URI it was sent to (C-7.2-3, C-7.2-4).
    expect(answer?.text).toBe(
      `MSRP ${tidOf(bind)} 481 Session-does-not-exist\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${unknown}\r\n-------${tidOf(bind)}$\r\n`
    )
  })

  it('§8.6, C-7.3.1-4: a type Bob does not accept is answered 415; both sides see the failure', async () => {
    const { log, alice, bob, connect } = await flow({ bob: { acceptTypes: ['text/plain'] } })
    await connect(BOB)
    const incoming = nextMessage(bob)
    await expect(
      lastValueFrom(alice.send(new Uint8Array(8), { contentType: 'image/png', messageId: 'png0001' }))
    ).rejects.toMatchObject({ name: 'SendError', reason: 'ErrorResponse', status: 415 })
    expect(await (await incoming).outcome).toMatchObject({ type: 'failed', status: 415 })
    const [send, answer] = frames(log).slice(2)
    expect(header(send, 'Content-Type')).toBe('image/png')
    expect(answer?.text).toBe(
      `MSRP ${tidOf(send)} 415 MIME-not-understood\r\nTo-Path: ${ALICE}\r\nFrom-Path: ${BOB}\r\n-------${tidOf(send)}$\r\n`
    )
  })

  it('§7.3.1, C-10-2: after a 413 the sender writes no further chunk of the message, not even `#`', async () => {
    const { log, alice, bob, connect } = await flow({
      alice: { chunkBytes: 4096 },
      bob: { reassembly: { maxMessageBytes: 10_000 } }
    })
    await connect(BOB)
    const block = Buffer.alloc(4096, 0x61)
    async function* stream() {
      for (let k = 0; k < 1000; k++) yield block // at most 4 MB; the 413 must stop it after 3 chunks
    }
    const seen: IncomingMessage[] = []
    const sub: Subscription = bob.messages$.subscribe((m) => {
      seen.push(m)
      m.discard()
    })
    const error = await lastValueFrom(alice.send(stream(), { messageId: 'big0001' })).catch((e: unknown) => e)
    log.push({ from: 'marker', label: 'alice saw the 413' })
    expect(error).toMatchObject({ name: 'SendError', reason: 'ErrorResponse', status: 413 })
    expect(await seen[0]?.outcome).toMatchObject({ type: 'failed', status: 413, reason: 'TooLarge' })
    sub.unsubscribe()
    await barrier(alice, bob)

    const chunks = frames(log, 'alice').filter((w) => header(w, 'Message-ID') === 'big0001')
    // The third chunk crosses 10 000 bytes: 200, 200, then 413 Stop-sending-message (and 413 for any chunk that
    // was on its way already).
    const statuses = frames(log, 'bob')
      .filter((w) => chunks.some((c) => tidOf(c) === tidOf(w)))
      .map((w) => startLine(w).split(' ').slice(2).join(' '))
    expect(statuses.slice(0, 3)).toEqual(['200 OK', '200 OK', '413 Stop-sending-message'])
    expect(statuses.slice(3).every((s) => s === '413 Stop-sending-message')).toBe(true)
    expect(chunks.every((w) => frameOf(w).continuation === '+')).toBe(true)
    // Chunks > 2048 octets are interruptible (C-5.1-1): `*` range-end.
    expect(header(chunks[0], 'Byte-Range')).toBe('1-*/*')
    const marker = log.findIndex((e) => e.from === 'marker')
    const after = log.slice(marker).filter((e) => e.from === 'alice' && header(e, 'Message-ID') === 'big0001')
    expect(after).toEqual([])
    expect(chunks.length).toBeLessThan(1000)
  })

  it("§5.1, §7.1: a session that does not know the peer's path writes nothing and fails the send locally", async () => {
    const { log, alice, bob, connect } = await flow()
    await connect(BOB)
    bob.remotePath = [] // Bob never learnt Alice's path (no SDP answer applied)
    await expect(lastValueFrom(bob.send('to nobody'))).rejects.toMatchObject({
      name: 'SendError',
      reason: 'NotConnected'
    })
    await barrier(alice, bob)
    // A SEND needs a To-Path (RFC 4975 §7.1: the target path); none with an empty one goes out.
    expect(frames(log, 'bob').filter((w) => frameOf(w).type === 'request')).toEqual([])
  })
})
