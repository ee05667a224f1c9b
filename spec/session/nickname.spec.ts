/**
 * NICKNAME (RFC 7701 §7.1): the request and its header, nickname preparation, a chat room's answers (200, 424,
 * 425, 403, 501 when the endpoint is no chat room) between endpoints, and forwarding through the rx-msrp relay.
 */
import * as E from 'fp-ts/Either'
import { firstValueFrom } from 'rxjs'
import { memoryPair } from '../../src/transport/memory'
import { frame } from '../../src/operators/frame'
import { encodeFrame } from '../../src/wire/encoder'
import { newSessionId } from '../../src/wire/ids'
import { KNOWN_METHODS, type MsrpRequest, type MsrpResponse } from '../../src/wire/model'
import { REASON_PHRASES } from '../../src/wire/replies'
import { MsrpEndpoint, type EndpointOptions } from '../../src/session/endpoint'
import { MsrpRelay } from '../../src/relay/relay'
import { createAuthHandler } from '../../src/relay/auth'
import { createRegistry } from '../../src/relay/registry'
import { memoryCredentials } from '../../src/relay/credentials'
import {
  NICKNAME_IN_USE,
  NICKNAME_MALFORMED,
  NICKNAME_METHOD,
  NicknameError,
  NicknameRegistry,
  USE_NICKNAME_HEADER,
  UseNickname,
  answerNickname,
  nicknameHead,
  nicknameKey,
  nicknameRequest,
  prepareNickname,
  requestNickname,
  type NicknameHead
} from '../../src/session/nickname'

const uri = (port: number) => `msrp://127.0.0.1:${port}/${newSessionId()};tcp`
const text = (pieces: readonly Uint8Array[]) => pieces.map((p) => new TextDecoder().decode(p)).join('')
const ROOM = 'msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp'
const ALICE = 'msrp://alice.example.com:7777/iau39soe2843z;tcp'

/** Closed after each test, passed or failed, so that no timer outlives it. */
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

/** A chat room (with `roomOptions`) and participants connected to it over in-memory pairs. */
async function chatRoom(roomOptions: EndpointOptions = {}) {
  const roomEp = new MsrpEndpoint(roomOptions)
  const endpoints: MsrpEndpoint[] = [roomEp]
  cleanups.push(() => endpoints.forEach((e) => e.close()))
  const join = async () => {
    const ep = new MsrpEndpoint({ timeoutMs: 2_000 })
    endpoints.push(ep)
    const [mine, theirs] = memoryPair()
    roomEp.accept(theirs)
    const room = roomEp.createSession(uri(2855))
    const me = ep.createSession(uri(2856))
    await ep.connect(me, [room.uri], mine)
    return { me, room }
  }
  return { join, close: () => endpoints.forEach((e) => e.close()) }
}

/** The paths part of a NICKNAME request, for calling a handler directly. */
function nicknameRequestHead(): NicknameHead {
  const r = nicknameRequest({ toPath: [ROOM], fromPath: ALICE, nickname: 'x' })
  if (E.isLeft(r)) throw new Error(r.left.detail)
  const h = nicknameHead(r.right)
  if (E.isLeft(h)) throw new Error(h.left.detail)
  return h.right
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e
  )

describe('NICKNAME requests (RFC 7701 §7.1)', () => {
  it('writes To-Path, From-Path and Use-Nickname as a quoted-string, no body', () => {
    const r = nicknameRequest({
      toPath: [ROOM],
      fromPath: ALICE,
      nickname: 'Alice "the great"',
      transactionId: 'a786hjs2'
    })
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    const bytes = encodeFrame(r.right)
    expect(E.isRight(bytes) && text(bytes.right)).toBe(
      'MSRP a786hjs2 NICKNAME\r\n' +
        `To-Path: ${ROOM}\r\n` +
        `From-Path: ${ALICE}\r\n` +
        'Use-Nickname: "Alice \\"the great\\""\r\n' +
        '-------a786hjs2$\r\n'
    )
  })

  it('Use-Nickname is a quoted-string: decoded unescaped, anything else refused', () => {
    expect(UseNickname.decode('"Alice the great"')).toEqual(E.right('Alice the great'))
    expect(UseNickname.decode('"a \\\\ b \\" c"')).toEqual(E.right('a \\ b " c'))
    for (const bad of ['Alice', '"open', '"a" b', '"\\x"']) expect(E.isLeft(UseNickname.decode(bad))).toBe(true)
    expect(nicknameRequest({ toPath: [ROOM], fromPath: ALICE, nickname: 'a\nb' })).toEqual(
      E.left(expect.objectContaining({ status: 424 }))
    )
  })

  it('U-5: an empty Use-Nickname ("") asks to remove the nickname', () => {
    expect(UseNickname.decode('""')).toEqual(E.right(''))
    const r = nicknameRequest({ toPath: [ROOM], fromPath: ALICE, nickname: '', transactionId: 'rm000001' })
    expect(E.isRight(r) && r.right.headers).toContainEqual(['Use-Nickname', '""'])
  })

  it('prepares nicknames after RFC 8266: spaces mapped, trimmed and collapsed, NFKC; empty and controls refused', () => {
    expect(prepareNickname('  Alice\u00a0\u2003the   great ')).toEqual(E.right('Alice the great'))
    expect(prepareNickname('ｆｕｌｌ')).toEqual(E.right('full'))
    expect(E.isLeft(prepareNickname('   '))).toBe(true)
    expect(E.isLeft(prepareNickname('a\u0007b'))).toBe(true)
  })

  it('answerNickname: 501 without a handler, 424 for a missing Use-Nickname, 403 when the handler throws', async () => {
    const head = (extra: MsrpRequest['headers']): NicknameHead => {
      const request: MsrpRequest = {
        type: 'request',
        transactionId: 't1',
        method: 'NICKNAME',
        headers: [['To-Path', ROOM], ['From-Path', ALICE], ...extra],
        body: undefined,
        continuation: '$'
      }
      const h = nicknameHead(request)
      if (E.isLeft(h)) throw new Error(h.left.detail)
      return h.right
    }
    const answers: MsrpResponse[] = []
    const write = (r: MsrpResponse) => answers.push(r)
    const ctx = { sessionUri: ROOM }
    answerNickname(head([['Use-Nickname', '"A"']]), undefined, ctx, write)
    answerNickname(head([]), () => 200, ctx, write)
    answerNickname(head([['Use-Nickname', '"open']]), () => 200, ctx, write)
    answerNickname(
      head([['Use-Nickname', '"A"']]),
      () => {
        throw new Error('boom')
      },
      ctx,
      write
    )
    answerNickname(
      head([
        ['Use-Nickname', '"A"'],
        ['Failure-Report', 'no']
      ]),
      () => 200,
      ctx,
      write
    )
    answerNickname(
      head([['Use-Nickname', '"A"']]),
      () => Promise.resolve({ status: 425, comment: 'taken' }),
      ctx,
      write
    )
    // RFC 7701 §7.3 (removal): `""`, and an empty value (as python-msrplib writes it), reach the handler as ''.
    const seen: string[] = []
    const record = (r: { nickname: string }) => {
      seen.push(r.nickname)
      return 200
    }
    answerNickname(head([['Use-Nickname', '""']]), record, ctx, write)
    answerNickname(head([['Use-Nickname', '']]), record, ctx, write)
    // python-msrplib (Blink, SylkServer) writes the nickname unquoted: taken as it is, for interop.
    answerNickname(head([['Use-Nickname', 'Alice']]), record, ctx, write)
    await new Promise((r) => setImmediate(r))
    expect(seen).toEqual(['', '', 'Alice'])
    expect(answers.map((a) => [a.status, a.comment])).toEqual([
      [501, 'Request-method-not-understood'],
      [424, 'no Use-Nickname header'],
      [424, 'Use-Nickname is not a quoted-string: "open'],
      [403, 'Action-not-allowed'],
      [200, 'OK'],
      [200, 'OK'],
      [200, 'OK'],
      [425, 'taken']
    ])
    // C-7.2-3: the response goes back along the whole From-Path, from the chat room's session.
    expect(answers[0]?.headers).toEqual([
      ['To-Path', ALICE],
      ['From-Path', ROOM]
    ])
    expect(nicknameHead({ ...head([]).request, headers: [['From-Path', ALICE]] })).toEqual(
      E.left(expect.objectContaining({ status: 400 }))
    )
  })
})

describe('NICKNAME between endpoints (RFC 7701 §7.1)', () => {
  it('N-7-2, N-7-3: a chat room grants a free nickname (200), refuses one held by another participant (425) in any case', async () => {
    const registry = new NicknameRegistry({ reserved: ['Admin'] })
    const { join, close } = await chatRoom({ nicknames: registry.handler })
    const alice = await join()
    const carol = await join()
    await expect(requestNickname(alice.me, 'Alice')).resolves.toBeUndefined()
    expect(registry.nicknameOf(alice.room.uri)).toBe('Alice')
    expect(registry.holderOf('ALICE')).toBe(alice.room.uri)
    const taken = await refusal(requestNickname(carol.me, ' alice '))
    expect(taken).toBeInstanceOf(NicknameError)
    expect(taken).toMatchObject({ reason: 'Refused', status: 425 })
    expect(await refusal(requestNickname(carol.me, 'admin'))).toMatchObject({ reason: 'Refused', status: 425 })
    // A participant may change its nickname; the old one is free again.
    await requestNickname(alice.me, 'Alice the great')
    await requestNickname(carol.me, 'Alice')
    expect(registry.holderOf('alice')).toBe(carol.room.uri)
    registry.release(carol.room.uri)
    expect(registry.holderOf('alice')).toBeUndefined()
    close()
  })

  it('U-5: a participant removes its nickname with an empty one; it is free again', async () => {
    const registry = new NicknameRegistry()
    const { join, close } = await chatRoom({ nicknames: registry.handler })
    const alice = await join()
    const carol = await join()
    await requestNickname(alice.me, 'Alice')
    await expect(requestNickname(alice.me, '')).resolves.toBeUndefined()
    expect(registry.nicknameOf(alice.room.uri)).toBeUndefined()
    await expect(requestNickname(carol.me, 'alice')).resolves.toBeUndefined()
    // Removing when none is held is no error.
    await expect(requestNickname(alice.me, '')).resolves.toBeUndefined()
    close()
  })

  it('N-7-1: a nickname belongs to the participant’s URI, so its sessions on several devices share it', () => {
    const aor = new Map([
      ['msrp://room/s1;tcp', 'sip:alice@example.com'],
      ['msrp://room/s2;tcp', 'sip:alice@example.com'],
      ['msrp://room/s3;tcp', 'sip:carol@example.com']
    ])
    const registry = new NicknameRegistry({ participantOf: (sessionUri) => aor.get(sessionUri) })
    const ask = (sessionUri: string, nickname: string) =>
      registry.handler({ ...nicknameRequestHead(), nickname }, { sessionUri })
    expect(ask('msrp://room/s1;tcp', 'Alice')).toBe(200)
    expect(ask('msrp://room/s2;tcp', 'ALICE')).toBe(200)
    expect(ask('msrp://room/s3;tcp', 'alice')).toBe(425)
    expect(registry.holderOf('alice')).toBe('sip:alice@example.com')
    expect(registry.nicknameOf('msrp://room/s2;tcp')).toBe('ALICE')
    // Held while any of the participant's sessions holds it.
    registry.release('msrp://room/s1;tcp')
    expect(ask('msrp://room/s3;tcp', 'alice')).toBe(425)
    registry.release('msrp://room/s2;tcp')
    expect(registry.holderOf('alice')).toBeUndefined()
    expect(ask('msrp://room/s3;tcp', 'alice')).toBe(200)
    // Sessions the mapping does not know are participants of their own.
    expect(ask('msrp://room/s4;tcp', 'Alice')).toBe(425)
  })

  it('424 for a nickname the chat room cannot prepare or finds too long; local refusal for one that cannot be sent', async () => {
    const registry = new NicknameRegistry({ maxChars: 8 })
    const { join, close } = await chatRoom({ nicknames: registry.handler })
    const alice = await join()
    expect(await refusal(requestNickname(alice.me, '   '))).toMatchObject({ reason: 'Refused', status: 424 })
    expect(await refusal(requestNickname(alice.me, 'much too long a nickname'))).toMatchObject({ status: 424 })
    expect(await refusal(requestNickname(alice.me, 'bell\u0007'))).toMatchObject({ reason: 'Malformed', status: 424 })
    close()
  })

  it('RFC 4975 §7.3: an endpoint that is no chat room answers NICKNAME with 501', async () => {
    const { join, close } = await chatRoom()
    const alice = await join()
    expect(await refusal(requestNickname(alice.me, 'Alice'))).toMatchObject({ reason: 'Refused', status: 501 })
    close()
  })

  it('a NICKNAME for an unknown session gets 481; without a connection it fails locally', async () => {
    const roomEp = new MsrpEndpoint({ nicknames: () => 200 })
    cleanups.push(() => roomEp.close())
    const [mine, theirs] = memoryPair()
    roomEp.accept(theirs)
    const responses = firstValueFrom(mine.incoming$.pipe(frame()))
    const r = nicknameRequest({ toPath: [uri(2855)], fromPath: ALICE, nickname: 'A', transactionId: 'n1xx' })
    if (E.isLeft(r)) throw new Error(r.left.detail)
    const bytes = encodeFrame(r.right)
    if (E.isRight(bytes)) mine.write(bytes.right)
    const answer = await responses
    expect(answer.type === 'frame' && answer.frame.type === 'response' && answer.frame.status).toBe(481)
    const lonely = new MsrpEndpoint().createSession(uri(2857))
    expect(await refusal(requestNickname(lonely, 'A'))).toMatchObject({ reason: 'NotConnected' })
    roomEp.close()
  })
})

describe('NICKNAME through the rx-msrp relay (RFC 4976 §6.4.2, RFC 7701)', () => {
  it('the relay forwards NICKNAME and maps the chat room’s end-to-end response back to the participant', async () => {
    const registry = createRegistry()
    const relayUri = 'msrps://relay.example.com:2855;tcp'
    const auth = createAuthHandler({
      realm: 'relay.example.com',
      credentials: memoryCredentials({ alice: 'wonderland', room: 'chat' }),
      registry
    })
    const relay = new MsrpRelay({ auth, registry })
    cleanups.push(() => relay.close())
    const nicknames = new NicknameRegistry()
    const party = async (options: EndpointOptions, username: string, password: string) => {
      const endpoint = new MsrpEndpoint({ timeoutMs: 2_000, ...options })
      cleanups.push(() => endpoint.close())
      const [mine, theirs] = memoryPair()
      relay.accept(theirs, relayUri)
      const session = endpoint.createSession(`msrps://${username}.example.com:7777/${newSessionId()};tcp`)
      const registration = await endpoint.authenticate(session, relayUri, { username, password }, mine)
      return { endpoint, session, registration }
    }
    const alice = await party({}, 'alice', 'wonderland')
    const room = await party({ nicknames: nicknames.handler }, 'room', 'chat')
    await alice.endpoint.connect(alice.session, room.registration.path)
    await room.endpoint.connect(room.session, alice.registration.path)
    await expect(requestNickname(alice.session, 'Alice')).resolves.toBeUndefined()
    expect(nicknames.nicknameOf(room.session.uri)).toBe('Alice')
    expect(relay.stats.pendingTransactions).toBe(0)
  })
})

describe('NICKNAME checklist (src/session/nickname.ts, N-7-*)', () => {
  it('N-7-5a: RFC 8266 rule (b) removes ASCII spaces at the ends only; a control or line separator there is refused', () => {
    for (const bad of ['Alice\t', '\tAlice', 'Alice\n', '\rAlice', '\u000bAlice', '\u2028Alice', 'Alice\u2029']) {
      expect([JSON.stringify(bad), E.isLeft(prepareNickname(bad))]).toEqual([JSON.stringify(bad), true])
    }
    expect(prepareNickname('  Alice  ')).toEqual(E.right('Alice'))
    const registry = new NicknameRegistry()
    expect(registry.handler({ ...nicknameRequestHead(), nickname: 'Alice\t' }, { sessionUri: ROOM })).toMatchObject({
      status: 424
    })
  })

  it('N-7-5d: the nickname rules are applied again until the result is stable (NFKC can make new spaces)', () => {
    // U+00A8 DIAERESIS is U+0020 U+0308 under NFKC: one pass leaves a leading space (rule b) or a double space
    // (rule c) in the result; a second pass removes it.
    expect(prepareNickname('\u00a8Alice')).toEqual(E.right('\u0308Alice'))
    expect(prepareNickname('a \u00a8')).toEqual(E.right('a \u0308'))
    for (const n of ['\u00a8Alice', 'a \u00a8', 'Alice\u00a8  \u00a8']) {
      const once = prepareNickname(n)
      expect(E.isRight(once) && prepareNickname(once.right)).toEqual(once)
    }
  })

  it('N-7-5c: nicknames are compared after RFC 8266 §2.4 (mapping, toLowerCase, then NFKC), on the nickname as asked for', () => {
    // U+03F9 GREEK CAPITAL LUNATE SIGMA SYMBOL: lower case first gives U+03F2, whose NFKC is U+03C2 (final sigma);
    // NFKC first would give U+03A3, lower case U+03C3, another letter.
    expect(nicknameKey('\u03f9')).toBe(nicknameKey('\u03c2'))
    expect(nicknameKey('\u03f9')).not.toBe(nicknameKey('\u03c3'))
    expect(nicknameKey('  ALICE\u00a0the  Great ')).toBe('alice the great')
    const registry = new NicknameRegistry()
    const ask = (sessionUri: string, nickname: string) =>
      registry.handler({ ...nicknameRequestHead(), nickname }, { sessionUri })
    expect(ask('msrp://room/s1;tcp', '\u03c2')).toBe(200)
    expect(ask('msrp://room/s2;tcp', '\u03f9')).toBe(425)
    expect(ask('msrp://room/s2;tcp', '\u03c3')).toBe(200)
    expect(registry.holderOf('\u03f9')).toBe('msrp://room/s1;tcp')
  })

  it('N-7-4: NICKNAME, Use-Nickname, 424 and 425 as RFC 7701 registers them with IANA', () => {
    expect([NICKNAME_METHOD, USE_NICKNAME_HEADER, NICKNAME_MALFORMED, NICKNAME_IN_USE]).toEqual([
      'NICKNAME',
      'Use-Nickname',
      424,
      425
    ])
    expect(KNOWN_METHODS).toContain('NICKNAME')
    expect([REASON_PHRASES[424], REASON_PHRASES[425]]).toEqual([
      'Malformed nickname',
      'Nickname reserved or already in use'
    ])
  })
})
