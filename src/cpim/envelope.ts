/**
 * What the CPIM message headers mean (RFC 3862 §3, §4; related.md §4; RFC 4975 §13, rfc4975-core.md §11): the escape
 * mechanism, io-ts codecs for the header values (From/To/cc addresses, DateTime, NS, Require, Subject), namespaces
 * and Require, read into a typed `CpimEnvelope` and built from one.
 *
 * ```ts
 * CpimAddress.decode('Winnie the Pooh <im:pooh@100akerwood.com>') // right({ name: 'Winnie the Pooh', uri: 'im:…' })
 * readEnvelope(message) // right({ from, to, cc, dateTime, subject, require, extensions })
 * ```
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { cpimFailure, type CpimFailure, type CpimHeader, type CpimMessage } from './cpim'
import type { Header } from '../wire/model'
import { HEADER_NAME, NAME } from './grammar'

/** The default namespace of message/cpim headers (RFC 3862 §3.4, §7). */
export const CPIM_HEADERS_NAMESPACE = 'urn:ietf:params:cpim-headers:'

// ---- escapes (RFC 3862 §3.2, P-2.3-1) ------------------------------------------------------------------------

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r'
}

/**
 * Escapes `text` for a header value (P-2.3-1): backslash, backspace, tab, LF and CR as `\\ \b \t \n \r`, the other
 * controls (U+0000–U+001F, U+007F) as `\uXXXX`; inside a quoted string (`quote`), that quote character as `\"` or
 * `\'`. Nothing else is escaped: non-ASCII text stays as it is (written as UTF-8).
 */
export function escapeCpim(text: string, quote?: '"' | "'"): string {
  let out = ''
  for (const c of text) {
    const short = SHORT_ESCAPES[c]
    if (short !== undefined) out += short
    else if (c === quote) out += `\\${c}`
    else if (c < ' ' || c === '\x7f') out += `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
    else out += c
  }
  return out
}

const UNESCAPES: Readonly<Record<string, string>> = { b: '\b', t: '\t', n: '\n', r: '\r' }

/**
 * Undoes the escapes of a header value (P-2.3-1): `\uXXXX`, `\b \t \n \r \" \' \\`; as RFC 3862 §3.2 advises, an
 * unknown `\x` is read as `x` and a lone trailing backslash is ignored.
 */
export function unescapeCpim(text: string): string {
  if (!text.includes('\\')) return text
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c !== '\\') {
      out += c
      continue
    }
    const n = text[i + 1]
    if (n === undefined) break
    const hex = text.slice(i + 2, i + 6)
    if (n === 'u' && /^[0-9A-Fa-f]{4}$/.test(hex)) {
      out += String.fromCharCode(parseInt(hex, 16))
      i += 5
    } else {
      out += UNESCAPES[n] ?? n
      i += 1
    }
  }
  return out
}

// ---- header value codecs -------------------------------------------------------------------------------------

/** `[Formal-name] "<" URI ">"` of From, To and cc (RFC 3862 §4.1–4.3). */
export interface CpimAddress {
  /** The formal (display) name, unescaped; absent when the header has none. */
  readonly name?: string
  /** An absolute URI (`im:pooh@100akerwood.com`, `sip:alice@example.com`). */
  readonly uri: string
}

/** RFC 3862 URI: an absolute URI (RFC 2396: `scheme ":" …`) without spaces, controls or angle brackets. */
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"\x00-\x1F\x7F]+$/u
/** Tokens of a Formal-name: `1*(Token SP)`. */
const TOKEN_WORDS = /^(?:[!#$%&'*+\-.^_`|~A-Za-z0-9\u0080-\u{10FFFF}]+ )+$/u

const isAddress = (u: unknown): u is CpimAddress =>
  typeof u === 'object' &&
  u !== null &&
  typeof (u as CpimAddress).uri === 'string' &&
  ((u as CpimAddress).name === undefined || typeof (u as CpimAddress).name === 'string')

/** Reads a quoted String at the start of `s`: its unescaped content and the rest, or `undefined`. */
function readString(s: string): { value: string; rest: string } | undefined {
  if (s[0] !== '"') return undefined
  let i = 1
  while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1
  if (i >= s.length) return undefined
  return { value: unescapeCpim(s.slice(1, i)), rest: s.slice(i + 1) }
}

/** @internal */
function parseAddress(s: string): E.Either<string, CpimAddress> {
  let name: string | undefined
  let rest = s
  if (s[0] === '"') {
    const str = readString(s)
    if (str === undefined) return E.left('an unterminated quoted name')
    name = str.value
    rest = str.rest.replace(/^ /, '') // `"Name" <uri>` as generators write it (and `"Name"<uri>` as the ABNF has it)
  } else {
    const lt = s.indexOf('<')
    if (lt > 0) {
      const words = s.slice(0, lt)
      if (!TOKEN_WORDS.test(words)) return E.left('a formal name that is neither tokens nor a quoted string')
      name = unescapeCpim(words.slice(0, -1))
      rest = s.slice(lt)
    }
  }
  if (rest[0] !== '<' || rest[rest.length - 1] !== '>') return E.left('expected [Formal-name] "<" URI ">"')
  const uri = rest.slice(1, -1)
  if (!ABSOLUTE_URI.test(uri)) return E.left(`${JSON.stringify(uri)} is not an absolute URI`)
  return E.right(name === undefined ? { uri } : { name, uri })
}

/** @internal Writes the tokens form when the name is plain words, a quoted String otherwise. */
function formatAddress(a: CpimAddress): string {
  if (a.name === undefined) return `<${a.uri}>`
  if (TOKEN_WORDS.test(`${a.name} `) && !a.name.includes('\\')) return `${a.name} <${a.uri}>`
  return `"${escapeCpim(a.name, '"')}" <${a.uri}>`
}

/** @internal A `t.Type<A, string, string>` from a parser and a formatter (STYLE.md §5). */
function codec<A>(
  name: string,
  is: (u: unknown) => u is A,
  parse: (s: string) => E.Either<string, A>,
  format: (a: A) => string
): t.Type<A, string, string> {
  return new t.Type<A, string, string>(
    name,
    is,
    (s, c) =>
      pipe(
        parse(s),
        E.fold((detail) => t.failure(s, c, detail), t.success)
      ),
    format
  )
}

/** From, To and cc values: `Winnie the Pooh <im:pooh@100akerwood.com>`, `"Dr. \"X\"" <sip:x@example.com>`, `<im:x@y>`. */
export const CpimAddress = codec<CpimAddress>('CpimAddress', isAddress, parseAddress, formatAddress)

/** RFC 3339 date-time (RFC 3862 §4.4). */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/

/** @internal */
function parseDateTime(s: string): E.Either<string, Date> {
  const m = DATE_TIME.exec(s)
  if (m === null) return E.left('expected an RFC 3339 date-time')
  const [mo, d, h, mi, se, oh, om] = [m[2], m[3], m[4], m[5], m[6], m[8] ?? '0', m[9] ?? '0'].map(Number) as number[]
  const bad =
    mo === undefined || d === undefined || h === undefined || mi === undefined || se === undefined
      ? true
      : mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || (oh ?? 0) > 23 || (om ?? 0) > 59
  const date = new Date(s.replace(/:60(?=[.Zz+-])/, ':59'))
  if (bad || Number.isNaN(date.getTime())) return E.left('expected an RFC 3339 date-time')
  return E.right(date)
}

/** DateTime values (RFC 3862 §4.4): decoded to a `Date`; encoded in UTC (`2000-12-13T21:40:00.000Z`). */
export const CpimDateTime = codec<Date>(
  'CpimDateTime',
  (u): u is Date => u instanceof Date && !Number.isNaN(u.getTime()),
  parseDateTime,
  (d) => d.toISOString()
)

/** An NS declaration (RFC 3862 §3.4, §4.6): `MyAlias <mid:MessageFeatures@id.foo.com>`; no prefix sets the default. */
export interface CpimNamespace {
  readonly prefix?: string
  readonly uri: string
}

/** @internal */
function parseNamespace(s: string): E.Either<string, CpimNamespace> {
  const m = /^(?:([^ <]+) )?<([^>]*)>$/.exec(s)
  const prefix = m?.[1]
  const uri = m?.[2]
  if (m === null || uri === undefined) return E.left('expected [Name-prefix SP] "<" URI ">"')
  if (prefix !== undefined && !NAME.test(prefix)) return E.left(`${JSON.stringify(prefix)} is not a Name`)
  // P-3.4-1: an absolute URI, without fragment.
  if (!ABSOLUTE_URI.test(uri) || uri.includes('#')) return E.left(`${JSON.stringify(uri)} is not an absolute URI`)
  return E.right(prefix === undefined ? { uri } : { prefix, uri })
}

/** NS values: `MyFeatures <mid:MessageFeatures@id.foo.com>` or `<urn:…>` (default namespace). */
export const CpimNamespace = codec<CpimNamespace>(
  'CpimNamespace',
  (u): u is CpimNamespace => typeof u === 'object' && u !== null && typeof (u as CpimNamespace).uri === 'string',
  parseNamespace,
  (n) => (n.prefix === undefined ? `<${n.uri}>` : `${n.prefix} <${n.uri}>`)
)

/** Require values (RFC 3862 §4.7): `Header-name *("," Header-name)`. */
export const CpimRequire = codec<readonly string[]>(
  'CpimRequire',
  (u): u is readonly string[] => Array.isArray(u) && u.every((s) => typeof s === 'string'),
  (s) => {
    const names = s.split(',')
    return names.every((n) => HEADER_NAME.test(n)) ? E.right(names) : E.left('expected Header-name *("," Header-name)')
  },
  (names) => names.join(',')
)

// ---- the envelope --------------------------------------------------------------------------------------------

/** A Subject header (RFC 3862 §4.5): free text, unescaped, with its `;lang=` when given. */
export interface CpimSubject {
  readonly text: string
  readonly lang?: string
}

/** A header name in its namespace: `MyFeatures.VitalMessageOption` after `NS: MyFeatures <mid:…>`. */
export interface CpimName {
  readonly namespace: string
  readonly name: string
}

/** A header outside the standard set (RFC 3862 §3.4): its namespace, name, parameters as written, value unescaped. */
export interface CpimExtension extends CpimName {
  /** The prefix it was written with, if any. */
  readonly prefix?: string
  readonly params: readonly { readonly name: string; readonly value: string }[]
  readonly value: string
}

/** The meaning of a CPIM object's message headers, as far as the MSRP profile goes (RFC 4975 §13). */
export interface CpimEnvelope {
  readonly from: CpimAddress
  /** At least one. */
  readonly to: readonly CpimAddress[]
  readonly cc: readonly CpimAddress[]
  readonly dateTime?: Date
  readonly subject: readonly CpimSubject[]
  /** The namespace declarations, in order. */
  readonly namespaces: readonly CpimNamespace[]
  /** What Require lists, resolved to namespaces. */
  readonly require: readonly CpimName[]
  readonly extensions: readonly CpimExtension[]
}

export interface ReadEnvelopeOptions {
  /**
   * Extension headers this recipient understands, besides the standard ones: a Require naming any other fails with
   * `RequireNotUnderstood` (P-3.5-1). Default: none.
   */
  readonly understood?: readonly CpimName[]
}

const STANDARD = ['From', 'To', 'cc', 'DateTime', 'Subject', 'NS', 'Require'] as const
/** RFC 4975 §13: only NS, To and cc may occur more than once (Subject may repeat in other languages, RFC 3862 §5.1). */
const REPEATABLE = new Set(['NS', 'To', 'cc'])

/** @internal Splits `prefix.Name` as written. */
function splitName(written: string): { prefix?: string; name: string } {
  const dot = written.indexOf('.')
  return dot < 0 ? { name: written } : { prefix: written.slice(0, dot), name: written.slice(dot + 1) }
}

/**
 * Reads the message headers of `message` (RFC 3862 §3, §4; RFC 4975 §13): resolves each name in its namespace (NS
 * declarations apply to the headers after them, P-3.4-1), decodes the standard headers (From and at least one To
 * required, only NS, To and cc repeated; Subject once per language), keeps the others as extensions, and checks
 * that every header Require lists is understood (P-3.5-1). Header names are case-sensitive (P-2.2-2): `from` is an
 * extension, not From.
 */
export function readEnvelope(
  message: Pick<CpimMessage, 'headers'>,
  options: ReadEnvelopeOptions = {}
): E.Either<CpimFailure, CpimEnvelope> {
  const prefixes = new Map<string, string>()
  let defaultNs = CPIM_HEADERS_NAMESPACE
  let from: CpimAddress | undefined
  const to: CpimAddress[] = []
  const cc: CpimAddress[] = []
  let dateTime: Date | undefined
  const subject: CpimSubject[] = []
  const namespaces: CpimNamespace[] = []
  const require: CpimName[] = []
  const extensions: CpimExtension[] = []
  const seen = new Set<string>()
  const decode = <A>(h: CpimHeader, c: t.Type<A, string, string>): E.Either<CpimFailure, A> =>
    pipe(
      c.decode(h.value),
      E.mapLeft((errors) =>
        cpimFailure('Invalid', `${h.name}: ${errors[0]?.message ?? `not a ${c.name}`}: ${h.value}`, h.name)
      )
    )
  const resolve = (written: string): E.Either<CpimFailure, CpimName & { prefix?: string }> => {
    const { prefix, name } = splitName(written)
    if (prefix === undefined) return E.right({ namespace: defaultNs, name })
    const namespace = prefixes.get(prefix)
    if (namespace === undefined) {
      return E.left(cpimFailure('UnknownPrefix', `${written}: no NS header declares ${prefix} before it`, written))
    }
    return E.right({ prefix, namespace, name })
  }
  for (const h of message.headers) {
    const resolved = resolve(h.name)
    if (E.isLeft(resolved)) return resolved
    const { namespace, name } = resolved.right
    const standard = namespace === CPIM_HEADERS_NAMESPACE && (STANDARD as readonly string[]).includes(name)
    if (!standard) {
      extensions.push({ ...resolved.right, params: h.params, value: unescapeCpim(h.value) })
      continue
    }
    const lang = h.params.find((p) => p.name === 'lang')?.value
    const key = name === 'Subject' ? `Subject;${lang ?? ''}` : name
    if (seen.has(key) && !REPEATABLE.has(name)) {
      return E.left(cpimFailure('Duplicate', `${name} occurs more than once (RFC 4975 §13)`, name))
    }
    seen.add(key)
    switch (name) {
      case 'From':
      case 'To':
      case 'cc': {
        const a = decode(h, CpimAddress)
        if (E.isLeft(a)) return a
        if (name === 'From') from = a.right
        else (name === 'To' ? to : cc).push(a.right)
        break
      }
      case 'DateTime': {
        const d = decode(h, CpimDateTime)
        if (E.isLeft(d)) return d
        dateTime = d.right
        break
      }
      case 'Subject':
        subject.push(lang === undefined ? { text: unescapeCpim(h.value) } : { text: unescapeCpim(h.value), lang })
        break
      case 'NS': {
        const ns = decode(h, CpimNamespace)
        if (E.isLeft(ns)) return ns
        namespaces.push(ns.right)
        if (ns.right.prefix === undefined) defaultNs = ns.right.uri
        else prefixes.set(ns.right.prefix, ns.right.uri)
        break
      }
      case 'Require': {
        const names = decode(h, CpimRequire)
        if (E.isLeft(names)) return names
        for (const n of names.right) {
          const r = resolve(n)
          if (E.isLeft(r)) return r
          require.push({ namespace: r.right.namespace, name: r.right.name })
        }
        break
      }
    }
  }
  // RFC 4975 §13 (C-13-6): every message/cpim part carries From and To.
  if (from === undefined) return E.left(cpimFailure('Missing', 'no From header (RFC 4975 §13)', 'From'))
  if (to.length === 0) return E.left(cpimFailure('Missing', 'no To header (RFC 4975 §13)', 'To'))
  // P-3.5-1: every required header must be understood.
  const understood = options.understood ?? []
  for (const r of require) {
    const known =
      (r.namespace === CPIM_HEADERS_NAMESPACE && (STANDARD as readonly string[]).includes(r.name)) ||
      understood.some((u) => u.namespace === r.namespace && u.name === r.name)
    if (!known) {
      return E.left(cpimFailure('RequireNotUnderstood', `Require lists ${r.name} of <${r.namespace}>`, 'Require'))
    }
  }
  const envelope: CpimEnvelope = { from, to, cc, subject, namespaces, require, extensions }
  return E.right(dateTime === undefined ? envelope : { ...envelope, dateTime })
}

// ---- building ------------------------------------------------------------------------------------------------

/** What `buildCpim` writes. Strings for addresses are bare URIs. */
export interface CpimBuildOptions {
  readonly from: CpimAddress | string
  readonly to: CpimAddress | string | readonly (CpimAddress | string)[]
  readonly cc?: readonly (CpimAddress | string)[]
  /** A Date, or `true` for now. Default: none (RFC 4975 §13 requires it only for S/MIME-protected parts). */
  readonly dateTime?: Date | true
  readonly subject?: string | CpimSubject | readonly CpimSubject[]
  /** NS declarations written before the extension headers, e.g. `{ prefix: 'MyFeatures', uri: 'mid:…' }`. */
  readonly namespaces?: readonly CpimNamespace[]
  /** Written as one Require header, names as written (`MyFeatures.VitalMessageOption`). */
  readonly require?: readonly string[]
  /** Extension headers, written last: `{ name: 'MyFeatures.VitalMessageOption', value: 'Confirmation-requested' }`. */
  readonly extensions?: readonly { readonly name: string; readonly value: string }[]
  /** The Content-Type of the wrapped content (P-2.4-1). */
  readonly contentType: string
  /** Other MIME headers of the wrapped content (Content-ID, Content-Disposition…), written before Content-Type. */
  readonly contentHeaders?: readonly Header[]
}

const TEXT = new TextEncoder()
const asAddress = (a: CpimAddress | string): CpimAddress => (typeof a === 'string' ? { uri: a } : a)
const asArray = <A>(a: A | readonly A[]): readonly A[] => (Array.isArray(a) ? (a as readonly A[]) : [a as A])

/**
 * Builds a CPIM object around `body` (RFC 3862 §2, RFC 4975 §13): From, To, cc, DateTime, Subject, NS, Require and
 * extension headers in that order, escaped as P-2.3-1 asks, then the MIME headers with Content-Type. Fails with
 * `Invalid` on a value that cannot be written (a URI that is not absolute, a bad prefix or MIME header).
 */
export function buildCpim(body: Uint8Array | string, options: CpimBuildOptions): E.Either<CpimFailure, CpimMessage> {
  const headers: CpimHeader[] = []
  const add = (name: string, value: string, params: CpimHeader['params'] = []): void => {
    headers.push({ name, params, value })
  }
  const addresses: Array<[string, CpimAddress]> = [
    ['From', asAddress(options.from)],
    ...asArray(options.to).map((a): [string, CpimAddress] => ['To', asAddress(a)]),
    ...(options.cc ?? []).map((a): [string, CpimAddress] => ['cc', asAddress(a)])
  ]
  if (!addresses.some(([n]) => n === 'To')) return E.left(cpimFailure('Missing', 'no To address', 'To'))
  for (const [name, a] of addresses) {
    if (!ABSOLUTE_URI.test(a.uri)) {
      return E.left(cpimFailure('Invalid', `${name}: ${JSON.stringify(a.uri)} is not an absolute URI`, name))
    }
    add(name, formatAddress(a))
  }
  if (options.dateTime !== undefined) {
    const d = options.dateTime === true ? new Date() : options.dateTime
    if (Number.isNaN(d.getTime())) return E.left(cpimFailure('Invalid', 'DateTime: an invalid Date', 'DateTime'))
    add('DateTime', CpimDateTime.encode(d))
  }
  const subjects = options.subject === undefined ? [] : asArray(options.subject)
  for (const s of subjects) {
    const subject = typeof s === 'string' ? { text: s } : s
    if (subject.lang !== undefined && !/^[A-Za-z0-9-]+$/.test(subject.lang)) {
      return E.left(cpimFailure('Invalid', `Subject: ${JSON.stringify(subject.lang)} is not a language tag`, 'Subject'))
    }
    add('Subject', escapeCpim(subject.text), subject.lang === undefined ? [] : [{ name: 'lang', value: subject.lang }])
  }
  for (const ns of options.namespaces ?? []) {
    const written = CpimNamespace.encode(ns)
    if (E.isLeft(CpimNamespace.decode(written))) {
      return E.left(cpimFailure('Invalid', `NS: cannot declare ${JSON.stringify(written)}`, 'NS'))
    }
    add('NS', written)
  }
  if (options.require !== undefined && options.require.length > 0) {
    if (!options.require.every((n) => HEADER_NAME.test(n))) {
      return E.left(cpimFailure('Invalid', 'Require: a name is not a Header-name', 'Require'))
    }
    add('Require', CpimRequire.encode(options.require))
  }
  for (const x of options.extensions ?? []) {
    if (!HEADER_NAME.test(x.name))
      return E.left(cpimFailure('Invalid', `${JSON.stringify(x.name)} is not a Header-name`))
    add(x.name, escapeCpim(x.value))
  }
  const contentHeaders: Header[] = [...(options.contentHeaders ?? []), ['Content-Type', options.contentType]]
  for (const [name, value] of contentHeaders) {
    if (!/^[\x21-\x39\x3B-\x7E]+$/.test(name) || /[\x00-\x08\x0A-\x1F\x7F]/.test(value)) {
      return E.left(cpimFailure('Invalid', `MIME header ${JSON.stringify(name)} cannot be written`, name))
    }
  }
  return E.right({ headers, contentHeaders, body: typeof body === 'string' ? TEXT.encode(body) : body })
}
