/**
 * NICKNAME (RFC 7701 §7, multi-party chat): a participant asks the chat room (the conference focus) for a nickname
 * with a bodiless `NICKNAME` request carrying `Use-Nickname: "<nickname>"`; the chat room answers end to end with
 * 200 (granted), 424 (malformed nickname), 425 (reserved or already in use) or 403 (not allowed by policy). A new
 * NICKNAME replaces the participant's nickname; an empty one, `Use-Nickname: ""`, removes it (U-5). A nickname
 * belongs to the URI the focus knows the participant by, not to one MSRP session (N-7-1): see
 * `NicknameRegistryOptions.participantOf`. What of this the RFC text confirms, and what it could not: the checklist
 * below.
 *
 * ```text
 * MSRP a786hjs2 NICKNAME                                     MSRP a786hjs2 200 OK
 * To-Path: msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp  To-Path: msrp://alice.example.com:7777/iau39;tcp
 * From-Path: msrp://alice.example.com:7777/iau39;tcp         From-Path: msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp
 * Use-Nickname: "Alice the great"                            -------a786hjs2$
 * -------a786hjs2$
 * ```
 *
 * Here: building and validating the request (`nicknameRequest`, `nicknameHead`, `UseNickname`), the chat room's
 * answer (`answerNickname`, called by the session for each NICKNAME its connection routes to it, with the
 * `NicknameHandler` of `SessionOptions.nicknames`; `NicknameRegistry` is a ready-made one), and the participant's
 * side (`requestNickname`). Relays forward NICKNAME like AUTH, mapping the end-to-end response back (docs/cpim.md).
 */
/*
 * ---- RFC 7701 §7 checklist (tests: spec/session/nickname.spec.ts, test names cite the IDs) ----------------------
 *
 * Sources. [S1] http://www.tech-invite.com/y75/tinv-ietf-rfc-7701-2.html (RFC 7701 part 2, p. 21-22: the opening
 * of §7; the stored copies of RFC 7701 reached for this check hold no more of §7 than that opening, so §7.1-§7.4 and
 * the ABNF could not be read). [S2] https://iana.org/assignments/msrp-parameters (MSRP registries as updated for
 * RFC 7701, 2015-12-18). [S3] https://datatracker.ietf.org/doc/rfc7700/referencedby/ (RFC 7701 references RFC 7700
 * normatively) and https://emailstuff.org/rfc/rfc8266 (RFC 8266 obsoletes RFC 7700). [S4] RFC 8266 §2.1, §2.3 and
 * §2.4 as quoted word for word in PRECIS implementations (rocks.xmpp.precis NicknameProfile, Java; golang.org/x/text
 * secure/precis, Go). [S5] the PRECIS idempotence rule ("apply the rules repeatedly until the output string is
 * stable ... three additional times ... reject"), as quoted in PRECIS libraries (Dart, Rust); RFC 8264 by our
 * reading, its section not confirmed.
 *
 * Confirmed:
 * N-7-1 [S1] A nickname is associated with a URI, by which the focus knows the participant; a user joining under
 *       the same URI from several devices may ask for the same nickname on all of them.
 *       Enforced: NicknameRegistry (`participantOf`; without it each session is a participant of its own).
 *       Tested: "N-7-1: ...".
 * N-7-2 [S1] A nickname is unique in the chat room: it MUST unambiguously be associated with a single user in the
 *       scope of the chat room (conference instance).
 *       Enforced: NicknameRegistry.handler, 425 for a nickname (compared as in N-7-5c) another participant holds.
 *       Tested: "N-7-2, N-7-3: ...", "N-7-1: ...", "N-7-5c: ...".
 * N-7-3 [S1] Users reserve a nickname before using it.
 *       Enforced: `requestNickname` (the reservation) and `answerNickname`; using the nickname (e.g. in message/cpim)
 *       is the application's. Tested: "N-7-2, N-7-3: ...".
 * N-7-4 [S2] RFC 7701 registers the method NICKNAME, the header Use-Nickname and the status codes 424 "Malformed
 *       nickname" and 425 "Nickname reserved or already in use" (and 404, 428, for private messages: not here).
 *       Enforced: NICKNAME_METHOD, USE_NICKNAME_HEADER, KNOWN_METHODS (src/wire/model.ts), REASON_PHRASES
 *       (src/wire/replies.ts), NICKNAME_MALFORMED, NICKNAME_IN_USE. Tested: "N-7-4: ...".
 * N-7-5 [S3, S4] Nicknames follow the PRECIS Nickname profile (RFC 7700, now RFC 8266). Which section of RFC 7701
 *       asks for it, with which keyword, and whether the focus or the client applies it: not confirmed.
 *   a   Additional mapping rule: (a) non-ASCII spaces (Zs) to U+0020, (b) ASCII spaces at the ends removed, (c)
 *       interior runs of ASCII spaces to one. Enforced: `additionalMapping` (was `String.trim`, which also removed
 *       tabs, line breaks, U+2028/U+2029 and U+FEFF at the ends: fixed). Tested: "N-7-5a: ...".
 *   b   Enforcement is that rule then NFKC, and the result MUST NOT be empty. Enforced: `prepareNickname` (424 from
 *       NicknameRegistry). Tested: "prepares nicknames after RFC 8266 ...", "424 for a nickname ...".
 *   c   Comparison is the additional mapping rule, Unicode toLowerCase, then NFKC, in that order. Enforced:
 *       `nicknameKey`, on the nickname as asked for (was: on the prepared one, NFKC before lower case: fixed).
 *       Tested: "N-7-5c: ...".
 *   d   [S5] The rules are applied again until the result is stable; a string that does not settle is refused.
 *       Enforced: `settle` (was a single pass: fixed). Tested: "N-7-5d: ...".
 *   e   Code points outside the PRECIS FreeformClass are refused. Approximated: NICKNAME_DISALLOWED (controls, lone
 *       surrogates, line and paragraph separators); other disallowed code points (format characters such as U+200B,
 *       U+202E or U+FEFF, unassigned ones) are not checked. Tested: "N-7-5a: ...", "prepares nicknames ...".
 *
 * Implemented as recalled, not confirmed from the RFC text (see [S1]):
 * U-1   Use-Nickname holds an RFC 4975 quoted-string, one per request. `UseNickname`, `readNickname` (lenient on
 *       input: an unquoted or empty value is accepted, as python-msrplib sends it). Tested: "Use-Nickname is a
 *       quoted-string ...", "answerNickname: ...".
 * U-2   A NICKNAME carries To-Path, From-Path and Use-Nickname and no body. Whether Message-ID, Success-Report,
 *       Failure-Report or a body are required or forbidden: not known; we send none of them, and ignore a body.
 * U-3   200 grants; 424 and 425 as their registry names say (N-7-4). 403 (policy, or a failing handler) and 501
 *       (no handler: not a chat room, RFC 4975) are ours. Other codes RFC 7701 may name: not known.
 * U-4   Failure-Report on NICKNAME: not known. `answerNickname` writes no response for `Failure-Report: no` (RFC 4975
 *       C-7.1.4-2, as for any request here); the relay tracks a forwarded NICKNAME whatever its Failure-Report (the
 *       entry expires silently after the hop timeout).
 * U-5   A new NICKNAME replaces the participant's nickname; an empty one removes it (§7.2, §7.3 as recalled).
 *       SylkServer, too, drops the nickname on an empty Use-Nickname. Tested: "U-5: ...".
 * U-6   Relays keep transaction state for NICKNAME and map its end-to-end response back (src/relay/relay.ts), since
 *       RFC 4976 relays drop responses to no transaction of theirs. What RFC 7701 says of relays: not known.
 *       Tested: "the relay forwards NICKNAME ...".
 * U-7   Not implemented: the SDP chatroom attribute (nicknames offered), nicknames in the conference event package,
 *       private messages (404, 428).
 * U-8   No length limit is known; NICKNAME_MAX_CHARS is local policy.
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import type { Observable } from 'rxjs'
import { parsePath, type Path } from '../wire/headers/path'
import { quote, readQuotedString, isQuotable } from '../wire/headers/grammar'
import {
  getHeader,
  getHeaders,
  type MsrpFrame,
  type MsrpRequest,
  type MsrpResponse,
  type RequestHead
} from '../wire/model'
import { responseTo } from '../wire/replies'
import { newTransactionId } from '../wire/ids'
import type { Transaction, TransactionFailure } from '../operators/match-transactions'

/** The method, registered by RFC 7701 in the IANA MSRP Methods registry (N-7-4). */
export const NICKNAME_METHOD = 'NICKNAME'
/** The header carrying the nickname, registered by RFC 7701 in the IANA MSRP Header Fields registry (N-7-4). */
export const USE_NICKNAME_HEADER = 'Use-Nickname'
/** Longest nickname `NicknameRegistry` grants by default, in code points after preparation. */
export const NICKNAME_MAX_CHARS = 64

/** RFC 7701 status codes of a NICKNAME answer. */
export const NICKNAME_GRANTED = 200
export const NICKNAME_FORBIDDEN = 403
export const NICKNAME_MALFORMED = 424
export const NICKNAME_IN_USE = 425

/**
 * `Use-Nickname: "Alice the great"`: the nickname is an RFC 4975 `quoted-string` (U-1), whose only escapes
 * are `\\` and `\"`. Decodes to the unescaped nickname.
 */
export const UseNickname = new t.Type<string, string, string>(
  'UseNickname',
  (u): u is string => typeof u === 'string',
  (s, c) => {
    const q = readQuotedString(s, 0)
    return q !== undefined && q.end === s.length ? t.success(q.value) : t.failure(s, c, 'expected a quoted-string')
  },
  (nickname) => quote(nickname)
)

/** A NICKNAME request whose paths are valid: what the connection routes to a session. */
export interface NicknameHead {
  readonly request: RequestHead
  readonly toPath: Path
  readonly fromPath: Path
}

/** A NICKNAME request as a chat room's handler sees it. */
export interface NicknameRequest extends NicknameHead {
  /**
   * The nickname asked for, unescaped, as sent (not prepared: see `prepareNickname`). `''` asks to remove the
   * participant's nickname (U-5).
   */
  readonly nickname: string
}

/** Why a NICKNAME request is refused before any handler sees it, with the status to answer. */
export interface NicknameRefusal {
  readonly _tag: 'NicknameRefusal'
  readonly status: 400 | 424 | 501
  readonly detail: string
}

const refusal = (status: NicknameRefusal['status'], detail: string): NicknameRefusal => ({
  _tag: 'NicknameRefusal',
  status,
  detail
})

/** The paths of a NICKNAME request (RFC 4975 §7.1: To-Path and From-Path required), or a 400. */
export function nicknameHead(request: RequestHead): E.Either<NicknameRefusal, NicknameHead> {
  const to = parsePath(getHeader(request.headers, 'To-Path') ?? '')
  const from = parsePath(getHeader(request.headers, 'From-Path') ?? '')
  if (E.isLeft(to)) return E.left(refusal(400, `To-Path: ${to.left}`))
  if (E.isLeft(from)) return E.left(refusal(400, `From-Path: ${from.left}`))
  return E.right({ request, toPath: to.right, fromPath: from.right })
}

/**
 * The nickname of a NICKNAME request: exactly one Use-Nickname holding a quoted-string, or a 424 (U-1).
 * `""` is the removal (U-5); so is an empty value, which python-msrplib (SIP SIMPLE client SDK) writes for it.
 */
export function readNickname(head: NicknameHead): E.Either<NicknameRefusal, NicknameRequest> {
  const values = getHeaders(head.request.headers, USE_NICKNAME_HEADER)
  if (values.length !== 1) {
    return E.left(refusal(424, values.length === 0 ? 'no Use-Nickname header' : 'more than one Use-Nickname'))
  }
  const value = values[0] ?? ''
  if (value.trim() === '') return E.right({ ...head, nickname: '' })
  // Lenient on input: python-msrplib (Blink, SylkServer) sends the nickname unquoted. A value without any quote is
  // taken as the nickname itself (UTF-8 text, controls already refused by the framer); a malformed quoted one is 424.
  if (!value.includes('"')) return E.right({ ...head, nickname: value.trim() })
  return pipe(
    UseNickname.decode(value),
    E.mapLeft(() => refusal(424, `Use-Nickname is not a quoted-string: ${value}`)),
    E.map((nickname) => ({ ...head, nickname }))
  )
}

/** What `nicknameRequest` writes. */
export interface NicknameRequestOptions {
  /** The chat room's path (the session's remote path). */
  readonly toPath: readonly string[]
  /** The participant's session URI. */
  readonly fromPath: string
  /** `''` asks to remove the nickname (U-5). */
  readonly nickname: string
  /** Default: a fresh `newTransactionId()`. */
  readonly transactionId?: string
}

/**
 * A NICKNAME request (U-2): To-Path, From-Path, Use-Nickname, no body, end-line `$`; `Use-Nickname: ""`
 * for an empty nickname (removal, U-5). Fails with a 424 refusal when the nickname cannot be a quoted-string (a
 * control character other than tab), a 400 when a path does not parse.
 */
export function nicknameRequest(options: NicknameRequestOptions): E.Either<NicknameRefusal, MsrpRequest> {
  if (!isQuotable(options.nickname)) {
    return E.left(refusal(424, 'a nickname is text without control characters'))
  }
  const toPath = options.toPath.join(' ')
  if (E.isLeft(parsePath(toPath)) || E.isLeft(parsePath(options.fromPath))) {
    return E.left(refusal(400, 'the paths of a NICKNAME request must be MSRP URIs'))
  }
  return E.right({
    type: 'request',
    transactionId: options.transactionId ?? newTransactionId(),
    method: NICKNAME_METHOD,
    headers: [
      ['To-Path', toPath],
      ['From-Path', options.fromPath],
      [USE_NICKNAME_HEADER, UseNickname.encode(options.nickname)]
    ],
    body: undefined,
    continuation: '$'
  })
}

// ---- nicknames compared -------------------------------------------------------------------------------------

/**
 * RFC 8266 §2.1 rule 2, the additional mapping rule (N-7-5a): (a) every non-ASCII space (Zs) becomes U+0020, (b)
 * ASCII spaces at the beginning and end go (only those: not tabs, line breaks or U+FEFF, as `String.trim` would), (c)
 * interior runs of ASCII spaces become one.
 */
const additionalMapping = (s: string): string =>
  s
    .replace(/\p{Zs}/gu, ' ')
    .replace(/^ +| +$/g, '')
    .replace(/ {2,}/g, ' ')

/** Code points refused in a nickname (N-7-5e): controls, lone surrogates, line and paragraph separators. */
const NICKNAME_DISALLOWED = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/u

/**
 * `rules` applied to `s`, then again until the result is stable (N-7-5d); `undefined` when three more applications
 * do not settle it (PRECIS: reject such a string).
 */
function settle(rules: (s: string) => string, s: string): string | undefined {
  let result = rules(s)
  for (let again = 1; again <= 3; again++) {
    const next = rules(result)
    if (next === result) return result
    result = next
  }
  return undefined
}

/**
 * Prepares (enforces) a nickname for use and display, after RFC 8266 §2.3 (PRECIS Nickname profile; RFC 7701
 * normatively references RFC 7700, which RFC 8266 obsoletes): the additional mapping rule (`additionalMapping`), then
 * NFKC, applied again until the result is stable (N-7-5d). Refuses an empty result (N-7-5b) and the code points of
 * `NICKNAME_DISALLOWED` (N-7-5e: an approximation of the PRECIS FreeformClass; other disallowed code points, e.g.
 * format characters such as U+200B or U+FEFF, are not checked).
 */
export function prepareNickname(nickname: string): E.Either<string, string> {
  if (NICKNAME_DISALLOWED.test(nickname)) return E.left('control characters or line separators in a nickname')
  const prepared = settle((s) => additionalMapping(s).normalize('NFKC'), nickname)
  if (prepared === undefined) return E.left('a nickname whose preparation does not settle')
  if (prepared === '') return E.left('an empty nickname')
  return E.right(prepared)
}

/**
 * The comparison key of a nickname (RFC 8266 §2.4, N-7-5c): the additional mapping rule, Unicode toLowerCase, then
 * NFKC, applied again until stable. Give it the nickname as asked for: the rules in this order are not always those
 * of `prepareNickname` followed by case folding (U+03F9 lower-cases to U+03F2, whose NFKC is U+03C2, but its NFKC is
 * U+03A3, which lower-cases to U+03C3). `Alice` and ` ALICE ` clash.
 */
export const nicknameKey = (nickname: string): string =>
  settle((s) => additionalMapping(s).toLowerCase().normalize('NFKC'), nickname) ?? nickname

// ---- the chat room's answer ----------------------------------------------------------------------------------

/** A chat room's decision: a status (200, 403, 424, 425, or another), with a comment if wanted. */
export type NicknameAnswer = number | { readonly status: number; readonly comment?: string }

/** Where a NICKNAME arrived: the chat room's session for this participant. */
export interface NicknameContext {
  readonly sessionUri: string
}

/** Decides a NICKNAME request (`SessionOptions.nicknames`); may answer later through a Promise. */
export type NicknameHandler = (
  request: NicknameRequest,
  context: NicknameContext
) => NicknameAnswer | PromiseLike<NicknameAnswer>

/**
 * Answers a NICKNAME request routed to a session (U-3): 501 when the session takes no nicknames (no
 * handler: it is not a chat room, RFC 4975 §7.3), 424 for a missing or malformed Use-Nickname, else the handler's
 * answer; 403 if the handler throws or rejects. The response goes back along the whole From-Path (C-7.2-3), so that
 * relays can map it back; none is written for `Failure-Report: no`.
 */
export function answerNickname(
  head: NicknameHead,
  handler: NicknameHandler | undefined,
  context: NicknameContext,
  write: (response: MsrpResponse) => void
): void {
  const reply = (answer: NicknameAnswer): void => {
    if (getHeader(head.request.headers, 'Failure-Report')?.trim().toLowerCase() === 'no') return
    const { status, comment } = typeof answer === 'number' ? { status: answer, comment: undefined } : answer
    write(responseTo(head.request, status, { from: context.sessionUri, ...(comment !== undefined ? { comment } : {}) }))
  }
  if (handler === undefined) return reply(501)
  const request = readNickname(head)
  if (E.isLeft(request)) return reply({ status: request.left.status, comment: request.left.detail })
  let answer: NicknameAnswer | PromiseLike<NicknameAnswer>
  try {
    answer = handler(request.right, context)
  } catch {
    return reply(NICKNAME_FORBIDDEN)
  }
  if (typeof answer === 'number' || !('then' in answer)) return reply(answer)
  answer.then(reply, () => reply(NICKNAME_FORBIDDEN))
}

export interface NicknameRegistryOptions {
  /** Nicknames nobody may take (compared prepared and case-folded). */
  readonly reserved?: readonly string[]
  /** Default {@link NICKNAME_MAX_CHARS}. */
  readonly maxChars?: number
  /**
   * The URI the focus knows the participant of a chat-room session by (e.g. the SIP URI it joined with), or
   * `undefined`. RFC 7701 §7 ties a nickname to that URI, so that a user who joins under one URI from several
   * devices may use the same nickname on all of them: sessions of one participant share nicknames, and a nickname
   * stays held while any of them holds it. Default: every session is a participant of its own.
   */
  readonly participantOf?: (sessionUri: string) => string | undefined
}

/**
 * A chat room's nicknames (RFC 7701 §7): one per participant session, unique in the room as `nicknameKey` compares
 * them (N-7-2, N-7-5c), held by the participant (`participantOf`). Its `handler` grants a free nickname (200, replacing the
 * session's previous one, U-5), removes it for an empty one (200, U-5), refuses one that another participant holds
 * or that is reserved (425), and one that does not prepare or is too long (424).
 */
export class NicknameRegistry {
  private readonly bySession = new Map<string, { nickname: string; key: string }>()
  /** Per comparison key: the participant holding it and those of its sessions that use it. */
  private readonly byKey = new Map<string, { owner: string; sessions: Set<string> }>()
  private readonly reserved: ReadonlySet<string>
  private readonly maxChars: number
  private readonly participantOf: (sessionUri: string) => string | undefined

  constructor(options: NicknameRegistryOptions = {}) {
    this.reserved = new Set(
      (options.reserved ?? []).flatMap((n) =>
        pipe(
          prepareNickname(n),
          E.map(() => nicknameKey(n)),
          E.fold(
            () => [],
            (k) => [k]
          )
        )
      )
    )
    this.maxChars = options.maxChars ?? NICKNAME_MAX_CHARS
    this.participantOf = options.participantOf ?? (() => undefined)
  }

  /** Pass as `SessionOptions.nicknames`. */
  readonly handler: NicknameHandler = (request, context) => {
    const session = context.sessionUri
    if (request.nickname === '') {
      this.release(session)
      return NICKNAME_GRANTED
    }
    const prepared = prepareNickname(request.nickname)
    if (E.isLeft(prepared)) return { status: NICKNAME_MALFORMED, comment: prepared.left }
    if ([...prepared.right].length > this.maxChars) {
      return { status: NICKNAME_MALFORMED, comment: `longer than ${this.maxChars} characters` }
    }
    const key = nicknameKey(request.nickname)
    const owner = this.participantOf(session) ?? session
    const held = this.byKey.get(key)
    if (this.reserved.has(key) || (held !== undefined && held.owner !== owner)) return NICKNAME_IN_USE
    this.release(session)
    const entry = this.byKey.get(key) ?? { owner, sessions: new Set<string>() }
    entry.sessions.add(session)
    this.byKey.set(key, entry)
    this.bySession.set(session, { nickname: prepared.right, key })
    return NICKNAME_GRANTED
  }

  /** The nickname a chat-room session holds, prepared. */
  nicknameOf(sessionUri: string): string | undefined {
    return this.bySession.get(sessionUri)?.nickname
  }

  /**
   * The participant holding `nickname` (compared prepared and case-folded): its `participantOf` URI, or the session
   * URI when there is none.
   */
  holderOf(nickname: string): string | undefined {
    const prepared = prepareNickname(nickname)
    return E.isLeft(prepared) ? undefined : this.byKey.get(nicknameKey(nickname))?.owner
  }

  /**
   * Frees the nickname of a chat-room session (call it when the participant leaves; an empty NICKNAME does it too).
   * The nickname stays held while another session of the same participant uses it.
   */
  release(sessionUri: string): void {
    const held = this.bySession.get(sessionUri)
    if (held === undefined) return
    this.bySession.delete(sessionUri)
    const entry = this.byKey.get(held.key)
    entry?.sessions.delete(sessionUri)
    if (entry?.sessions.size === 0) this.byKey.delete(held.key)
  }
}

// ---- the participant's side ----------------------------------------------------------------------------------

/** Why `requestNickname` failed, with the status: the chat room's refusal (403, 424, 425, 501…), or a local one. */
export class NicknameError extends Error {
  override readonly name = 'NicknameError'
  constructor(
    readonly reason: 'Refused' | 'Timeout' | 'NotConnected' | 'ConnectionClosed' | 'Malformed',
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

/**
 * What `requestNickname` needs of a session: an `MsrpSession` fits (structural, so that this module does not
 * depend on session.ts).
 */
export interface NicknameSender {
  readonly uri: string
  readonly remotePath: readonly string[]
  readonly connection:
    | {
        readonly closed: boolean
        readonly writer: { sendFrame(frame: MsrpFrame): void }
        readonly written$: { next(request: MsrpRequest): void }
        readonly transactions$: Observable<E.Either<TransactionFailure, Transaction>>
        readonly transport: { readonly closed$: Observable<void> }
      }
    | undefined
}

/**
 * Asks the chat room at the other end of `session` for `nickname` (N-7-3), which replaces the one it holds
 * (U-5); `''` removes it (U-5). Resolves once the chat room answers 200;
 * rejects with a `NicknameError`: `Refused` with the chat room's status (424 malformed, 425 in use, 403, 501 if
 * the peer takes no nicknames), `Timeout` (408, no answer within the transaction timeout), `NotConnected`,
 * `ConnectionClosed` or `Malformed` (424, refused locally: it cannot be sent).
 */
export function requestNickname(session: NicknameSender, nickname: string): Promise<void> {
  const conn = session.connection
  if (conn === undefined || conn.closed || session.remotePath.length === 0) {
    return Promise.reject(new NicknameError('NotConnected', 481, 'the session has no connection or no remote path'))
  }
  const request = nicknameRequest({ toPath: session.remotePath, fromPath: session.uri, nickname })
  if (E.isLeft(request)) {
    return Promise.reject(new NicknameError('Malformed', request.left.status, request.left.detail))
  }
  const tid = request.right.transactionId
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      results.unsubscribe()
      closed.unsubscribe()
    }
    const results = conn.transactions$.subscribe({
      next: (r) => {
        if (E.isRight(r)) {
          if (r.right.request.transactionId !== tid) return
          done()
          return resolve()
        }
        const f = r.left
        if (!('request' in f) || f.request.transactionId !== tid) return
        done()
        if (f.reason === 'ErrorResponse') {
          return reject(new NicknameError('Refused', f.status, `${f.status} ${f.response.comment ?? ''}`.trim()))
        }
        reject(new NicknameError('Timeout', 408, f.detail))
      },
      complete: () => (done(), reject(new NicknameError('ConnectionClosed', 408, 'the connection closed')))
    })
    const closed = conn.transport.closed$.subscribe(() => {
      done()
      reject(new NicknameError('ConnectionClosed', 408, 'the connection closed'))
    })
    conn.writer.sendFrame(request.right)
    conn.written$.next(request.right)
  })
}
