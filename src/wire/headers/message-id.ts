/**
 * Message-ID (RFC 4975 §7.1.1, §9): `ident = ALPHANUM 3*31(ALPHANUM / "." / "-" / "+" / "%" / "=")`.
 */
import * as E from 'fp-ts/Either'
import { headerCodec } from './grammar'

/** RFC 4975 §9 `ident`: 4 to 32 characters, the first one alphanumeric. Also the form of a transaction id. */
export const IDENT = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/

/** Whether `u` is an `ident` (RFC 4975 §9). */
export const isIdent = (u: unknown): u is string => typeof u === 'string' && IDENT.test(u)

/** A Message-ID value: identifies the whole message across all its chunks (RFC 4975 §7.1.1, C-7.1.1-2). */
export type MessageId = string

/** Parses a Message-ID value; it must be an `ident` (case-sensitive, kept as written). */
export const parseMessageId = (s: string): E.Either<string, MessageId> =>
  isIdent(s)
    ? E.right(s)
    : E.left('expected an ident: 4 to 32 characters of ALPHANUM . - + % =, starting with ALPHANUM')

/** Codec for the Message-ID header value (RFC 4975 §9). */
export const MessageId = headerCodec<MessageId>('MessageId', isIdent, parseMessageId, (id) => id)
