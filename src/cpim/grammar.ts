/**
 * RFC 3862 §3.6 character classes and names, shared by cpim.ts and envelope.ts. Not re-exported by index.ts.
 * @internal
 */
/** RFC 3862 §3.6 NAMECHAR: US-ASCII except ".", CTLs and SEPARATORS. @internal */
const NAMECHAR = "[!#$%&'*+\\-^_`|~A-Za-z0-9]"
/** TOKENCHAR = NAMECHAR / "." / UCS-high. @internal */
const TOKENCHAR = "[!#$%&'*+\\-.^_`|~A-Za-z0-9\\u0080-\\u{10FFFF}]"
/** @internal `[Name-prefix "."] Name` */
export const HEADER_NAME = new RegExp(`^${NAMECHAR}+(?:\\.${NAMECHAR}+)?$`)
/** @internal */
export const NAME = new RegExp(`^${NAMECHAR}+$`)
/** @internal Token / Number (a Number is a Token too) */
export const TOKEN = new RegExp(`^${TOKENCHAR}+$`, 'u')
/** String = DQUOTE *(Str-char / Escape) DQUOTE; escapes checked loosely (receivers SHOULD accept any `\x`). */
export const STRING = /^"(?:[^"\\\x00-\x1F\x7F]|\\[^\x00-\x1F\x7F])*"$/u
/** @internal HEADERCHAR: any character but CTLs (an escape is a backslash and characters, all allowed). */
export const HEADER_VALUE = /^[^\x00-\x1F\x7F]*$/u
