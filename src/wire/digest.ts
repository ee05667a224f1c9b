/**
 * HTTP Digest for MSRP AUTH: RFC 2617 as profiled by RFC 4976 §9.1 (checklist R-9.1-1 … R-9.1-10).
 *
 * Profile implemented: algorithm MD5 only (no MD5-sess), qop `auth` only (no auth-int, no RFC 2069 mode without
 * qop), no Basic at all. The request-URI of H(A2) is the rightmost To-Path URI, as a string (R-9.1-8):
 * ```text
 * HA1      = MD5(username ":" realm ":" password)
 * response = MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" MD5("AUTH" ":" digest-uri))
 * rspauth  = MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" MD5(":" digest-uri))
 * ```
 * Everything here works on plain data; the header codecs (`headers/digest-params.ts`) turn these values into
 * `WWW-Authenticate`, `Authorization` and `Authentication-Info` strings and back. Strings are hashed as UTF-8.
 */
import * as E from 'fp-ts/Either'
import { newCnonce, newNonce } from './ids'
import { md5 } from './md5'
import type { AuthenticationInfo, DigestChallenge, DigestCredentials } from './headers/digest-params'
import type { DigestFailure, DigestReason } from './failures'

export type { DigestFailure, DigestReason } from './failures'

/** The only Digest algorithm of the profile (RFC 4976 §9.1, R-9.1-4); also the RFC 2617 default when absent. */
export const DIGEST_ALGORITHM = 'MD5'

/** The only quality of protection of the profile (RFC 4976 §9.1, R-9.1-3, R-9.1-6). */
export const DIGEST_QOP = 'auth'

/** The method name hashed into H(A2) for MSRP (RFC 4976 §9.1). */
export const AUTH_METHOD = 'AUTH'

/**
 * Default time a relay accepts a nonce after issuing it, before answering `stale=true`: 5 minutes. RFC 2617 §3.2.1
 * leaves nonce lifetime to the server; RFC 4976 gives no value (choice ours).
 */
export const DIGEST_NONCE_LIFETIME_MS = 300_000

/** Default bound on outstanding nonces a relay remembers, so memory stays bounded; the oldest is evicted beyond it. */
export const DIGEST_MAX_NONCES = 10_000

/** Largest nonce count that fits `nc-value = 8LHEX` (RFC 4976 §7). */
export const DIGEST_NC_MAX = 0xffffffff

/** Builds a {@link DigestFailure}. */
export const digestFailure = (reason: DigestReason, detail: string): DigestFailure => ({
  _tag: 'DigestFailure',
  reason,
  detail
})

/** What {@link verifyCredentials} returns on success: the Authentication-Info to send, and who authenticated. */
export interface DigestSuccess extends AuthenticationInfo {
  /** The authenticated username, for the relay's authorization decision (403 if not allowed, R-6.3-3). */
  readonly username: string
}

/** The shared secret: either HA1 (as a credential store keeps it) or the username and password to derive it. */
export type DigestSecret = { readonly ha1: string } | { readonly username: string; readonly password: string }

/** Everything hashed into a request-digest except the secret (RFC 2617 §3.2.2.1, qop=auth). */
export interface DigestHashParams {
  /** Used with `password` to derive HA1; ignored when `ha1` is given. */
  readonly realm: string
  readonly nonce: string
  /** 8 lowercase hex digits, exactly as sent. */
  readonly nc: string
  readonly cnonce: string
  readonly qop: string
  /** `AUTH` for MSRP; a parameter so that RFC 2617's own HTTP vectors (method `GET`) can be checked. */
  readonly method: string
  /** For MSRP, the rightmost To-Path URI string (R-9.1-8). */
  readonly digestUri: string
}

/** Parameters of {@link digestResponse}. */
export type DigestResponseParams = DigestHashParams & DigestSecret

/** HA1 = MD5(username ":" realm ":" password), lowercase hex (RFC 2617 §3.2.2.2, algorithm MD5). */
export function computeHa1(username: string, realm: string, password: string): string {
  return md5(`${username}:${realm}:${password}`)
}

/**
 * The request-digest for qop=auth: MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" MD5(method ":" digest-uri)),
 * 32 lowercase hex digits (RFC 2617 §3.2.2.1; RFC 4976 §9.1 with method `AUTH`, R-9.1-8). A given `ha1` is
 * lower-cased first, so HA1 values stored in upper-case hex work too.
 */
export function digestResponse(params: DigestResponseParams): string {
  const ha1 = 'ha1' in params ? params.ha1.toLowerCase() : computeHa1(params.username, params.realm, params.password)
  const ha2 = md5(`${params.method}:${params.digestUri}`)
  return md5(`${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:${params.qop}:${ha2}`)
}

/**
 * The `rspauth` of Authentication-Info: the request-digest with an empty method,
 * MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" MD5(":" digest-uri)) (RFC 2617 §3.2.3; RFC 4976 §9.1, R-9.1-9).
 */
export function digestRspauth(params: Omit<DigestHashParams, 'method'> & DigestSecret): string {
  return digestResponse({ ...params, method: '' })
}

/**
 * A nonce count as `nc-value = 8LHEX` (RFC 4976 §7), e.g. `formatNc(1) === '00000001'`. Throws a `RangeError` on a
 * programmer error (`n` not an integer from 1 to {@link DIGEST_NC_MAX}).
 */
export function formatNc(n: number): string {
  if (!isNonceCount(n)) throw new RangeError(`formatNc: expected an integer from 1 to ${DIGEST_NC_MAX}, got ${n}`)
  return n.toString(16).padStart(8, '0')
}

/**
 * The digest-uri of an AUTH: its rightmost To-Path URI string (RFC 4976 §9.1, R-9.1-8), or `MissingParameter` for
 * an empty To-Path.
 */
export function digestUriFromToPath(toPath: readonly string[]): E.Either<DigestFailure, string> {
  const uri = toPath[toPath.length - 1]
  return uri === undefined ? E.left(digestFailure('MissingParameter', 'To-Path is empty')) : E.right(uri)
}

/**
 * Compares two strings in time that depends only on their lengths, not on where they differ, so that a response
 * hash cannot be guessed byte by byte from timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length)
  let diff = a.length ^ b.length
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0)
  return diff === 0
}

// ---------------------------------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------------------------------

/** The user's account at a relay. */
export interface DigestAccount {
  readonly username: string
  readonly password: string
}

/** Options of {@link answerChallenge}. */
export interface AnswerChallengeOptions {
  /** The rightmost To-Path URI of the AUTH that will carry the credentials (R-9.1-8). */
  readonly digestUri: string
  /** How many requests this client has sent with this nonce, this one included: 1 for a fresh nonce. */
  readonly nc: number
  /** Default: a fresh {@link newCnonce}. */
  readonly cnonce?: string
  /**
   * Also send `uri=` (as RFC 7977's example does). Default `false`: RFC 4976's ABNF has no `uri` parameter, the URI
   * being implied by To-Path.
   */
  readonly includeUri?: boolean
}

/**
 * Answers a relay's 401 challenge with credentials for a new AUTH (RFC 4976 §5.1, R-5.1-2, R-5.1-6).
 *
 * Refuses a challenge outside the profile rather than downgrading: one without `qop` (`MissingParameter`, R-9.1-6),
 * one whose qop list lacks `auth` (`UnsupportedQop`, R-9.1-3), or one with an algorithm other than MD5, such as
 * MD5-sess (`UnsupportedAlgorithm`, R-9.1-4). Always sends `qop`, `cnonce` and `nc` (R-9.1-6, R-9.1-7); echoes
 * `opaque`; ignores `domain` (R-9.1-5).
 */
export function answerChallenge(
  challenge: Partial<DigestChallenge>,
  account: DigestAccount,
  options: AnswerChallengeOptions
): E.Either<DigestFailure, DigestCredentials> {
  const { realm, nonce, qop, algorithm, opaque } = challenge
  if (realm === undefined || nonce === undefined)
    return E.left(digestFailure('MissingParameter', 'the challenge needs realm and nonce'))
  // R-9.1-6: qop is mandatory in every challenge; without it RFC 2617 would fall back to RFC 2069 (no cnonce/nc).
  if (qop === undefined || qop.length === 0)
    return E.left(digestFailure('MissingParameter', 'the challenge has no qop (RFC 4976 §9.1)'))
  const offered = qop.find((q) => q.toLowerCase() === DIGEST_QOP)
  if (offered === undefined)
    return E.left(digestFailure('UnsupportedQop', `qop "${qop.join(',')}" does not offer auth (RFC 4976 §9.1)`))
  if (algorithm !== undefined && algorithm.toUpperCase() !== DIGEST_ALGORITHM)
    return E.left(digestFailure('UnsupportedAlgorithm', `algorithm ${algorithm} is not MD5 (RFC 4976 §9.1)`))
  if (!isNonceCount(options.nc))
    return E.left(digestFailure('InvalidParameter', `nonce count ${options.nc} is not 1 to ${DIGEST_NC_MAX}`))
  if (options.digestUri === '') return E.left(digestFailure('MissingParameter', 'the digest-uri is empty'))
  const nc = formatNc(options.nc)
  const cnonce = options.cnonce ?? newCnonce()
  const response = digestResponse({
    username: account.username,
    password: account.password,
    realm,
    nonce,
    nc,
    cnonce,
    qop: DIGEST_QOP,
    method: AUTH_METHOD,
    digestUri: options.digestUri
  })
  return E.right({
    username: account.username,
    realm,
    nonce,
    ...(options.includeUri === true ? { uri: options.digestUri } : {}),
    response,
    cnonce,
    nc,
    qop: DIGEST_QOP,
    ...(algorithm !== undefined ? { algorithm: DIGEST_ALGORITHM } : {}),
    ...(opaque !== undefined ? { opaque } : {})
  })
}

/** What {@link verifyRspauth} needs besides Authentication-Info: what was sent and the secret. */
export type VerifyRspauthContext = {
  /** The credentials sent in the AUTH this 200 answers. */
  readonly credentials: DigestCredentials
  /** The rightmost To-Path URI of that AUTH. */
  readonly digestUri: string
} & ({ readonly password: string } | { readonly ha1: string })

/**
 * Checks the Authentication-Info of a 200 to AUTH (RFC 2617 §3.2.3; RFC 4976 §9.1, R-9.1-9): rspauth, cnonce, nc
 * and qop must be present, the last three must echo what was sent, and rspauth must be the digest with an empty
 * method. On success returns the info, whose `nextnonce` (if any) is the nonce for the next AUTH (with nc = 1).
 */
export function verifyRspauth(
  info: Partial<AuthenticationInfo>,
  context: VerifyRspauthContext
): E.Either<DigestFailure, AuthenticationInfo> {
  const { rspauth, cnonce, nc, qop, nextnonce } = info
  const missing = missingOf({ rspauth, cnonce, nc, qop })
  if (rspauth === undefined || cnonce === undefined || nc === undefined || qop === undefined)
    return E.left(digestFailure('MissingParameter', `Authentication-Info lacks ${missing} (RFC 4976 §9.1)`))
  const sent = context.credentials
  if (cnonce !== sent.cnonce || nc !== sent.nc || qop !== sent.qop)
    return E.left(digestFailure('AuthenticationInfoMismatch', 'cnonce, nc or qop differ from the ones sent'))
  const secret = 'ha1' in context ? { ha1: context.ha1 } : { username: sent.username, password: context.password }
  const expected = digestRspauth({
    ...secret,
    realm: sent.realm,
    nonce: sent.nonce,
    nc,
    cnonce,
    qop,
    digestUri: context.digestUri
  })
  if (!constantTimeEqual(rspauth, expected))
    return E.left(digestFailure('BadRspauth', 'rspauth does not match: the relay does not know the password'))
  return E.right({ ...(nextnonce !== undefined ? { nextnonce } : {}), rspauth, cnonce, nc, qop })
}

// ---------------------------------------------------------------------------------------------------------------
// Relay side
// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link createNonceStore}. Every field is optional. */
export interface NonceStoreOptions {
  /** How long a nonce is accepted after issue. Default {@link DIGEST_NONCE_LIFETIME_MS}. */
  readonly lifetimeMs?: number
  /** Outstanding nonces remembered; issuing one more evicts the oldest. Default {@link DIGEST_MAX_NONCES}. */
  readonly maxNonces?: number
  /** Clock in milliseconds. Default `Date.now`; inject a fake one in tests. */
  readonly now?: () => number
  /** Nonce generator. Default {@link newNonce} (131 random bits). */
  readonly newNonce?: () => string
}

/** What a relay remembers about a nonce it issued. */
export interface NonceRecord {
  /** When the nonce was issued, by the store's clock. */
  readonly issuedAtMs: number
  /** The highest nc accepted so far with this nonce; 0 before the first use. */
  readonly lastNc: number
}

/**
 * The nonces a relay has issued, with their issue time and the last nonce count used, in bounded memory: at most
 * `maxNonces` records, the oldest evicted first (an evicted nonce then fails as `UnknownNonce`).
 */
export interface NonceStore {
  readonly lifetimeMs: number
  readonly maxNonces: number
  /** Number of nonces currently remembered (never above `maxNonces`). */
  readonly size: number
  /** The store's clock. */
  now(): number
  /** Issues and remembers a new nonce. */
  issue(): string
  /** The record of a nonce, or `undefined` if it was never issued, was revoked or was evicted. */
  lookup(nonce: string): NonceRecord | undefined
  /** Whether a nonce issued at `record.issuedAtMs` has expired at `nowMs`. */
  isStale(record: NonceRecord, nowMs: number): boolean
  /** Records `nc` as used with `nonce` if it is strictly greater than the last one; `false` otherwise. */
  useNonceCount(nonce: string, nc: number): boolean
  /** Forgets a nonce; `true` if it was known. */
  revoke(nonce: string): boolean
}

/**
 * A {@link NonceStore} in memory (RFC 2617 §3.2.1, §3.2.2: nonce lifetime and nonce-count replay protection).
 * Throws a `RangeError` on a programmer error (`lifetimeMs` not positive, `maxNonces` not a positive integer).
 */
export function createNonceStore(options: NonceStoreOptions = {}): NonceStore {
  const lifetimeMs = options.lifetimeMs ?? DIGEST_NONCE_LIFETIME_MS
  const maxNonces = options.maxNonces ?? DIGEST_MAX_NONCES
  const now = options.now ?? Date.now
  const generate = options.newNonce ?? newNonce
  if (!(lifetimeMs > 0)) throw new RangeError(`createNonceStore: lifetimeMs must be > 0, got ${lifetimeMs}`)
  if (!Number.isSafeInteger(maxNonces) || maxNonces < 1)
    throw new RangeError(`createNonceStore: maxNonces must be a positive integer, got ${maxNonces}`)
  // A Map iterates in insertion order, so its first key is always the oldest nonce: O(1) eviction.
  const records = new Map<string, { issuedAtMs: number; lastNc: number }>()
  return {
    lifetimeMs,
    maxNonces,
    get size() {
      return records.size
    },
    now: () => now(),
    issue() {
      const nonce = generate()
      records.delete(nonce) // a re-issued value moves to the young end
      records.set(nonce, { issuedAtMs: now(), lastNc: 0 })
      while (records.size > maxNonces) {
        const oldest = records.keys().next()
        if (oldest.done === true) break
        records.delete(oldest.value)
      }
      return nonce
    },
    lookup(nonce) {
      const record = records.get(nonce)
      return record === undefined ? undefined : { issuedAtMs: record.issuedAtMs, lastNc: record.lastNc }
    },
    isStale: (record, nowMs) => nowMs - record.issuedAtMs >= lifetimeMs,
    useNonceCount(nonce, nc) {
      const record = records.get(nonce)
      if (record === undefined || !(nc > record.lastNc)) return false
      record.lastNc = nc
      return true
    },
    revoke: (nonce) => records.delete(nonce)
  }
}

/** Options of {@link issueChallenge}. */
export interface IssueChallengeOptions {
  /** The relay's protection space; its hostname is a reasonable choice (RFC 4976 §5.1). */
  readonly realm: string
  /** Set after a `StaleNonce` failure, so the client retries silently with the new nonce (RFC 2617 §3.2.1). */
  readonly stale?: boolean
  readonly opaque?: string
}

/**
 * A fresh challenge for a 401 to AUTH (RFC 4976 §5.1, R-5.1-5): a new nonce from `store`, `qop="auth"` only
 * (R-9.1-3, R-9.1-6), no algorithm (so MD5, never MD5-sess, R-9.1-4) and no domain (R-9.1-5).
 */
export function issueChallenge(store: NonceStore, options: IssueChallengeOptions): DigestChallenge {
  return {
    realm: options.realm,
    nonce: store.issue(),
    qop: [DIGEST_QOP],
    ...(options.opaque !== undefined ? { opaque: options.opaque } : {}),
    ...(options.stale === true ? { stale: true } : {})
  }
}

/** Options of {@link verifyCredentials}. */
export interface VerifyCredentialsOptions {
  /** The rightmost To-Path URI of the AUTH (R-9.1-8); see {@link digestUriFromToPath}. */
  readonly digestUri: string
  /**
   * HA1 of `credentials.username` in `realm`, from the relay's credential store (turn a plain password into HA1
   * with {@link computeHa1}). `undefined` for an unknown user: it fails as `BadResponse`, like a wrong password, so
   * that the answer does not reveal which usernames exist.
   */
  readonly ha1: string | undefined
  /** The relay's realm. */
  readonly realm: string
  readonly nonceStore: NonceStore
  /** Default {@link AUTH_METHOD}. */
  readonly method?: string
  /** The current time in milliseconds. Default: the store's clock. */
  readonly now?: number
  /** Issue a `nextnonce` for the client's next AUTH (RFC 4976 §10.3 does, as local policy). Default `false`. */
  readonly issueNextNonce?: boolean
}

/**
 * Checks the credentials of an AUTH at a relay (RFC 4976 §6.3 and §9.1; R-5.1-5, R-9.1-1) and, on success, returns
 * the Authentication-Info for the 200 (rspauth, cnonce, nc, qop, R-9.1-9) and the username.
 *
 * Checks, in order: mandatory parameters (`MissingParameter`, R-9.1-6, R-9.1-7), algorithm MD5
 * (`UnsupportedAlgorithm`, R-9.1-4), qop auth (`UnsupportedQop`, R-9.1-3), shapes of nc and response
 * (`InvalidParameter`), realm (`RealmMismatch`), `uri=` against the rightmost To-Path URI (`UriMismatch`,
 * R-9.1-8), nonce known (`UnknownNonce`), response, compared in constant time (`BadResponse`), nc strictly
 * increasing (`ReplayedNonceCount`), nonce fresh (`StaleNonce`). Only a success records the nc.
 * Every failure is answered with 401 and a fresh challenge, with `stale=true` for `StaleNonce` only (RFC 4976 §6.3).
 */
export function verifyCredentials(
  credentials: Partial<DigestCredentials>,
  options: VerifyCredentialsOptions
): E.Either<DigestFailure, DigestSuccess> {
  const { username, realm, nonce, uri, response, cnonce, nc, qop, algorithm } = credentials
  if (
    username === undefined ||
    realm === undefined ||
    nonce === undefined ||
    response === undefined ||
    cnonce === undefined ||
    nc === undefined ||
    qop === undefined
  ) {
    const missing = missingOf({ username, realm, nonce, response, cnonce, nc, qop })
    return E.left(digestFailure('MissingParameter', `Authorization lacks ${missing} (RFC 4976 §9.1)`))
  }
  // R-9.1-4: MD5 only; MD5-sess (or any other algorithm) is refused rather than guessed at.
  if (algorithm !== undefined && algorithm.toUpperCase() !== DIGEST_ALGORITHM)
    return E.left(digestFailure('UnsupportedAlgorithm', `algorithm ${algorithm} is not MD5 (RFC 4976 §9.1)`))
  // R-9.1-3: qop auth only (quoted ABNF literals are case-insensitive; the value is hashed as sent).
  if (qop.toLowerCase() !== DIGEST_QOP)
    return E.left(digestFailure('UnsupportedQop', `qop ${qop} is not auth (RFC 4976 §9.1)`))
  if (!NC_VALUE.test(nc)) return E.left(digestFailure('InvalidParameter', 'nc is not 8 lowercase hex digits'))
  if (!REQUEST_DIGEST.test(response))
    return E.left(digestFailure('InvalidParameter', 'response is not 32 lowercase hex digits'))
  if (realm !== options.realm)
    return E.left(digestFailure('RealmMismatch', `realm "${realm}" is not this relay's "${options.realm}"`))
  // R-9.1-8: the digest-uri is the rightmost To-Path URI; an explicit uri= (RFC 7977 example) must be that string.
  if (uri !== undefined && uri !== options.digestUri)
    return E.left(digestFailure('UriMismatch', `uri "${uri}" is not the rightmost To-Path URI "${options.digestUri}"`))
  const store = options.nonceStore
  const record = store.lookup(nonce)
  if (record === undefined)
    return E.left(digestFailure('UnknownNonce', 'nonce never issued by this relay, revoked or evicted'))
  const params = { realm, nonce, nc, cnonce, qop, digestUri: options.digestUri }
  const ha1 = options.ha1
  // Constant-time comparison; an unknown user is hashed and compared against a dummy HA1 (and then refused even if
  // that matched), so that unknown users and wrong passwords cost the same time.
  const expected = digestResponse({ ...params, ha1: ha1 ?? UNKNOWN_USER_HA1, method: options.method ?? AUTH_METHOD })
  const matches = constantTimeEqual(response, expected)
  if (ha1 === undefined || !matches)
    return E.left(digestFailure('BadResponse', `bad credentials for user "${username}"`))
  // RFC 2617 §3.2.2: the nonce count must increase with every request on the same nonce (replay protection).
  const count = parseInt(nc, 16)
  if (!(count > record.lastNc))
    return E.left(digestFailure('ReplayedNonceCount', `nc ${nc} is not above the last one used with this nonce`))
  // A good response with an expired nonce: RFC 4976 §6.3 answers 401 with stale=true so the client just retries.
  if (store.isStale(record, options.now ?? store.now()))
    return E.left(digestFailure('StaleNonce', 'the nonce has expired; challenge again with stale=true'))
  store.useNonceCount(nonce, count)
  const rspauth = digestRspauth({ ...params, ha1 })
  return E.right({
    username,
    ...(options.issueNextNonce === true ? { nextnonce: store.issue() } : {}),
    rspauth,
    cnonce,
    nc,
    qop
  })
}

/** @internal `nc-value = 8LHEX` (RFC 4976 §7). */
const NC_VALUE = /^[0-9a-f]{8}$/

/** @internal `request-digest = DQUOTE 32LHEX DQUOTE`, without the quotes (RFC 4976 §7). */
const REQUEST_DIGEST = /^[0-9a-f]{32}$/

/** @internal Hashed with when the user is unknown, so that the verification still takes its usual time. */
const UNKNOWN_USER_HA1 = '00000000000000000000000000000000'

/** @internal A nonce count that fits 8LHEX and is at least 1. */
function isNonceCount(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= DIGEST_NC_MAX
}

/** @internal The names of the absent fields, comma-separated. */
function missingOf(fields: Readonly<Record<string, string | undefined>>): string {
  return Object.keys(fields)
    .filter((k) => fields[k] === undefined)
    .join(', ')
}
