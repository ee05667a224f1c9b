/**
 * SDP offers and answers for MSRP with the rules of RFC 4975 §8, RFC 6135 (`a=setup`), RFC 6714 (`a=msrp-cema`) and
 * RFC 5547 (file transfer) applied: `buildOffer` and `buildAnswer` fill in what those RFCs prescribe and refuse
 * what they forbid, with an `SdpFailure` naming the attribute.
 */
import * as E from 'fp-ts/Either'
import { parseUri, uriEquals, type MsrpUri } from '../wire/uri'
import { mediaTypeMatches } from '../wire/headers/content-type'
import type { Setup } from './attributes'
import { sdpFailure, type SdpFailure } from './failures'
import {
  formatMsrpMedia,
  parseMsrpMedia,
  type Direction,
  type FileAttributes,
  type MsrpMedia,
  type MsrpMediaOptions,
  type SdpSessionOptions
} from './msrp-media'

/** The roles an offer may carry (RFC 6135 §4.2.2: never `passive`, S-4.2.2-4; never `holdconn`, S-4.2.1-3). */
export type OfferSetup = 'actpass' | 'active'
/** The roles an answer may carry. */
export type AnswerSetup = 'active' | 'passive'

/** One offered m-line: `setup` defaults to `actpass` (a globally reachable UA, S-4.2.2-3). */
export interface OfferMediaOptions extends Omit<MsrpMediaOptions, 'setup'> {
  readonly setup?: OfferSetup
}

/**
 * One answered m-line. Defaults: `setup` is `passive` (S-4.2.2-5: SHOULD when not behind a NAT) unless the offer
 * was `active`/`passive`; `acceptTypes` are the offer's; `direction` mirrors the offer's; the RFC 5547 attributes are
 * copied as §8.3 says. `cema: true` says this UA supports RFC 6714: the answer then carries `a=msrp-cema` when the
 * offer did and no fallback criterion holds (M-4.3-2, M-4.3-3).
 */
export interface AnswerMediaOptions extends Omit<MsrpMediaOptions, 'setup'> {
  readonly setup?: AnswerSetup
}

/** @internal The setup of a received SDP as negotiation sees it: `holdconn` MUST be ignored (S-4.2.1-3). */
export const effectiveSetup = (s: Setup | undefined): Exclude<Setup, 'holdconn'> | undefined =>
  s === 'holdconn' ? undefined : s

/** @internal Whether an m-line's path goes through relays (more than the author's own URI, RFC 4976 §5.1). */
export const usesRelay = (m: Pick<MsrpMedia, 'path'>): boolean => m.path.length > 1

/** @internal */
const toUri = (p: string | MsrpUri): MsrpUri | undefined => {
  if (typeof p !== 'string') return p
  const u = parseUri(p)
  return E.isRight(u) ? u.right : undefined
}

/**
 * Whether two `accept-types` lists have a type in common (RFC 4975 §8.6): some entry of one admits a type that an entry
 * of the other admits too. `*` admits anything, `type/*` any subtype; parameters are ignored (`mediaTypeMatches`).
 * `accept-wrapped-types` do not count: they travel inside a container, and a container is listed in accept-types
 * (C-8.6-4), so a peer that understands no container cannot read them either.
 *
 * ```text
 * [message/cpim, text/plain]  vs  [text/*]     → true  (text/plain)
 * [text/plain]                vs  [image/png]  → false (C-8.6-6: answer 488)
 * ```
 */
export function acceptTypesOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => mediaTypeMatches(x, y) || mediaTypeMatches(y, x)))
}

/** The discard port an `a=setup:active` m-line carries (RFC 6135 §4.2.2, S-4.2.2-2). */
export const SETUP_ACTIVE_PORT = 9

/**
 * Whether the c/m-line address and port equal the authority of one of the path URIs (RFC 6714 §4.4, M-4.4-1).
 * Hosts are compared as RFC 4975 §6.1 compares them (IPv6 by value, names case-insensitively); an FQDN is not
 * resolved here, so give IP addresses on both sides, or resolve first and compare yourself. An `a=setup:active`
 * m-line with port 9 is compared by address only: that port says "I do not listen" (S-4.2.2-2), not where (inferred).
 */
export function connectionMatchesPath(m: Pick<MsrpMedia, 'connection' | 'port' | 'path' | 'setup'>): boolean {
  const c = m.connection
  if (c === undefined) return false
  const host = c.ipVer === 6 || c.address.includes(':') ? `[${c.address}]` : c.address
  const anyPort = m.setup === 'active' && m.port === SETUP_ACTIVE_PORT
  return m.path.some((u) => {
    const target: MsrpUri = { scheme: 'msrp', host, port: anyPort ? u.port : m.port, transport: 'tcp', params: [] }
    return uriEquals({ ...u, scheme: 'msrp', transport: 'tcp', sessionId: undefined }, target)
  })
}

/** @internal RFC 5547 §8.2.1 / §8.2.2 checks of a file-transfer offer (F-6-1, F-8.1-1, F-8.2.1-1, F-8.2.2-1). */
function checkFileOffer(o: OfferMediaOptions, index: number): SdpFailure | undefined {
  const f = o.file
  if (f === undefined) return undefined
  const fail = (attribute: string, detail: string): SdpFailure =>
    sdpFailure('FileTransferInvalid', detail, attribute, index)
  const s = f.selector
  if (s === undefined) return fail('file-selector', 'a file-transfer offer MUST carry a=file-selector (F-5-1)')
  if (f.transferId === undefined)
    return fail('file-transfer-id', 'a file-transfer offer MUST carry a=file-transfer-id (F-8.1-1)')
  if (s.name === undefined && s.type === undefined && s.size === undefined && s.hashes.length === 0)
    return fail('file-selector', 'a=file-selector MUST hold at least one selector in an offer (F-6-1)')
  if (o.direction === 'sendonly' && s.type === undefined && s.size === undefined && s.hashes.length === 0)
    return fail('file-selector', 'a push offer MUST select the file by type, size or hash (F-8.2.1-1)')
  if (o.direction !== 'sendonly' && o.direction !== 'recvonly')
    return fail('file-selector', 'a file-transfer offer is sendonly (push) or recvonly (pull) (F-8.2.1-1, F-8.2.2-1)')
  return undefined
}

/**
 * Builds an SDP offer with one MSRP m-line per entry (RFC 4975 §8; one m-line per file, RFC 5547 §8.2).
 * Applied rules: `a=setup` is always written, `actpass` unless `active` is given (S-4.2.1-1, S-4.2.2-3); `passive`
 * and `holdconn` are refused (S-4.2.2-4, S-4.2.1-3); with `cema` behind a relay the c/m-line names the relay and the
 * setup must be `actpass` (M-4.2-3); a file offer has a selector, a transfer id and a direction (RFC 5547 §8.2).
 */
export function buildOffer(
  media: OfferMediaOptions | readonly OfferMediaOptions[],
  session: SdpSessionOptions = {}
): E.Either<SdpFailure, string> {
  const list: readonly OfferMediaOptions[] = Array.isArray(media) ? media : [media as OfferMediaOptions]
  const out: MsrpMediaOptions[] = []
  for (const [i, m] of list.entries()) {
    const setup = (m.setup ?? 'actpass') as Setup
    if (setup !== 'actpass' && setup !== 'active')
      return E.left(sdpFailure('SetupInvalid', `a=setup:${setup} MUST NOT be offered (S-4.2.2-4)`, 'setup', i))
    if (m.cema === true && m.path.length > 1 && setup !== 'actpass')
      return E.left(
        sdpFailure('SetupInvalid', 'a CEMA offer behind a relay MUST be a=setup:actpass (M-4.2-3)', 'setup', i)
      )
    const file = checkFileOffer(m, i)
    if (file !== undefined) return E.left(file)
    out.push({ ...m, setup })
  }
  return formatMsrpMedia(out, session)
}

/** @internal The direction that answers an offered one (RFC 3264 §6.1). */
const mirror = (d: Direction | undefined): Direction | undefined =>
  d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d

/** @internal RFC 5547 §8.3: what an answer carries of the offer's file attributes. */
function answerFile(offered: FileAttributes, mine: FileAttributes | undefined, push: boolean): FileAttributes {
  const s = offered.selector
  // Push receiver (§8.3.1): copy name/type/size (and the hashes, as the RFC's Figure 9 does), MUST NOT add icon,
  // disposition or date. Pull sender (§8.3.2): copy the selector, MAY add its own hash, type, icon, disposition.
  const selector = mine?.selector ?? s
  return {
    ...(selector !== undefined ? { selector } : {}),
    ...(offered.transferId !== undefined ? { transferId: offered.transferId } : {}),
    ...(!push && mine?.disposition !== undefined ? { disposition: mine.disposition } : {}),
    ...(!push && mine?.icon !== undefined ? { icon: mine.icon } : {}),
    ...(offered.range !== undefined ? { range: offered.range } : {})
  }
}

/**
 * Answers an offer's MSRP m-lines (RFC 3264 with RFC 4975 §8, RFC 6135 §4.2.2, RFC 6714 §4.3, RFC 5547 §8.3).
 * `answer` gives this side's options for every offered m-line, or is a function choosing per m-line; `undefined`
 * rejects that m-line (port 0, mirroring the file selector and transfer id, F-8.1-2). The answer has one m-line per
 * offered MSRP m-line, in the offer's order.
 *
 * Fails with `NoCommonType` when `acceptTypes` admits none of the offered accept-types (answer the INVITE with 488,
 * C-8.6-6), `SetupInvalid` when the chosen role cannot work with the offered one (both active, an `active` answer to
 * an RFC 4975 offer without `a=setup`, …), `CemaMismatch` when a CEMA answerer gets an offer without `a=msrp-cema`
 * whose c/m-line matches no path URI (a middlebox rewrote it: answer 488, M-4.3-1), and `FileTransferInvalid` when
 * the answer would change the file transfer id (F-8.1-1).
 */
export function buildAnswer(
  offer: string | readonly MsrpMedia[],
  answer: AnswerMediaOptions | ((offered: MsrpMedia) => AnswerMediaOptions | undefined),
  session: SdpSessionOptions = {}
): E.Either<SdpFailure, string> {
  const parsed = typeof offer === 'string' ? parseMsrpMedia(offer) : E.right(offer)
  if (E.isLeft(parsed)) return parsed
  const out: MsrpMediaOptions[] = []
  for (const o of parsed.right) {
    const mine = typeof answer === 'function' ? answer(o) : answer
    if (mine === undefined || o.port === 0) {
      // Rejected: port 0, with the offer's proto, file selector and transfer id mirrored (RFC 5547 §8.1, F-8.1-2).
      const file = o.file === undefined ? undefined : { selector: o.file.selector, transferId: o.file.transferId }
      out.push({ path: [], port: 0, proto: o.proto, ...(file !== undefined ? { file } : {}) })
      continue
    }
    // C-8.6-6: if the answerer understands none of the offered types, it SHOULD reject the offer (SIP: 488).
    if (!acceptTypesOverlap(o.acceptTypes, mine.acceptTypes ?? o.acceptTypes))
      return E.left(
        sdpFailure(
          'NoCommonType',
          `none of the offered types (${o.acceptTypes.join(' ')}) is accepted here (${(mine.acceptTypes ?? []).join(' ')}): reject the offer with 488 (C-8.6-6)`,
          'accept-types',
          o.index
        )
      )
    const myPath = mine.path.map(toUri)
    if (myPath.some((u) => u === undefined))
      return E.left(sdpFailure('AttributeInvalid', 'a=path: not an MSRP URI', 'path', o.index))
    const answererRelay = myPath.length > 1
    const offererRelay = usesRelay(o)
    const offered = effectiveSetup(o.setup)
    // RFC 6135 §4.2.2 and RFC 4975 §5.4: an offer without a=setup (or active) means the offerer connects. To a CEMA
    // offer from behind a relay, a relay-less CEMA answerer answers active, so that CEMA stays on (RFC 6714 §4.1).
    const keepCema = mine.cema === true && o.cema && offererRelay && !answererRelay && offered === 'actpass'
    const setup: AnswerSetup = mine.setup ?? (offered === 'passive' || keepCema ? 'active' : 'passive')
    if (setup === 'active' && (offered === undefined || offered === 'active')) {
      const what = offered === undefined ? 'an offer without a=setup (the offerer connects, RFC 4975 §5.4)' : 'active'
      return E.left(sdpFailure('SetupInvalid', `a=setup:active cannot answer ${what}`, 'setup', o.index))
    }
    if (setup === 'passive' && offered === 'passive')
      return E.left(sdpFailure('SetupInvalid', 'a=setup:passive cannot answer a=setup:passive', 'setup', o.index))

    // RFC 6714 §4.3.
    if (mine.cema === true && !o.cema && !connectionMatchesPath(o))
      return E.left(
        sdpFailure(
          'CemaMismatch',
          'the offer has no a=msrp-cema and its c/m-line matches no a=path URI: reject it with 488 (M-4.3-1)',
          'msrp-cema',
          o.index
        )
      )
    const offererActive = setup === 'passive'
    const fallback =
      (offererRelay && answererRelay) || (offererRelay && offererActive) || (answererRelay && offered === 'passive')
    const cema = mine.cema === true && o.cema && !fallback
    if (cema && answererRelay && setup !== 'passive')
      return E.left(
        sdpFailure('SetupInvalid', 'a CEMA answer behind a relay MUST be a=setup:passive (M-4.3-3)', 'setup', o.index)
      )

    // RFC 5547 §8.3.
    let file: FileAttributes | undefined = mine.file
    if (o.file !== undefined) {
      if (mine.file?.transferId !== undefined && mine.file.transferId !== o.file.transferId)
        return E.left(
          sdpFailure(
            'FileTransferInvalid',
            'the answer MUST copy the offered a=file-transfer-id (F-8.1-1)',
            'file-transfer-id',
            o.index
          )
        )
      file = answerFile(o.file, mine.file, o.direction === 'sendonly')
    }
    const direction = mine.direction ?? mirror(o.direction)
    out.push({
      ...mine,
      setup,
      cema,
      acceptTypes: mine.acceptTypes ?? o.acceptTypes,
      ...(direction !== undefined ? { direction } : {}),
      ...(file !== undefined ? { file } : {})
    })
  }
  return formatMsrpMedia(out, session)
}
