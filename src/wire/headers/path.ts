/**
 * To-Path, From-Path (RFC 4975 §7.1, §9) and Use-Path (RFC 4976 §4, §7): one or more MSRP URIs separated by SP.
 */
import * as E from 'fp-ts/Either'
import type { ReadonlyNonEmptyArray } from 'fp-ts/ReadonlyNonEmptyArray'
import * as t from 'io-ts'
import { formatUri, isMsrpUri, MsrpUri, parseUri } from '../uri'
import { headerCodec } from './grammar'

/** A path: the URIs in wire order (leftmost first). Never empty. */
export type Path = ReadonlyNonEmptyArray<MsrpUri>

/** @internal */
const isPath = (u: unknown): u is Path => Array.isArray(u) && u.length > 0 && u.every(isMsrpUri)

/**
 * Parses `MSRP-URI *( SP MSRP-URI )`.
 *
 * Leniency (always on, documented): runs of spaces and leading or trailing spaces are accepted, because the
 * RFC 7977 §8 examples print two spaces after `To-Path:` / `From-Path:` (rfc7977-websocket.md §9.6 item 3) and a
 * framer may hand us the value with that extra space. Encoding always emits single spaces.
 */
export function parsePath(s: string): E.Either<string, Path> {
  const parts = s.split(' ').filter((p) => p !== '')
  const uris: MsrpUri[] = []
  for (const [i, part] of parts.entries()) {
    const u = parseUri(part)
    if (E.isLeft(u)) return E.left(`URI ${i + 1} is not an MSRP URI: ${u.left.detail}`)
    uris.push(u.right)
  }
  const [head, ...tail] = uris
  return head === undefined ? E.left('expected one or more MSRP URIs separated by SP') : E.right([head, ...tail])
}

/** Formats a path with single spaces. */
export const formatPath = (p: Path): string => p.map(formatUri).join(' ')

/** Builds a path codec named after its header. @internal */
const pathCodec = (name: string): t.Type<Path, string, string> => headerCodec(name, isPath, parsePath, formatPath)

/** To-Path: the URIs still to visit, leftmost = next hop, rightmost = final target (RFC 4975 §7.1). */
export type ToPath = Path
/** Codec for the To-Path header value (RFC 4975 §9). */
export const ToPath = pathCodec('ToPath')

/** From-Path: the way back, leftmost = previous hop, rightmost = original sender (RFC 4975 §7.1). */
export type FromPath = Path
/** Codec for the From-Path header value (RFC 4975 §9). */
export const FromPath = pathCodec('FromPath')

/**
 * Use-Path: the URIs a relay hands to an authenticated client, in To-Path order (RFC 4976 §5.1, §6.3).
 * Relays MUST put an FQDN and an explicit port in each (R-4.2-1); this codec follows the ABNF only, so a client
 * that wants to hold its relay to that checks `isNumericHost` / `port` itself.
 */
export type UsePath = Path
/** Codec for the Use-Path header value (RFC 4976 §7). */
export const UsePath = pathCodec('UsePath')
