/**
 * Keeps docs/errors.md current (STYLE.md §2, §7): every failure reason of the wire layer, of the operators
 * (`TransactionFailure`, `MsrpConnectionError`) and every input-line reason of `rx-msrp encode` is a row of its failure
 * type's table, and no row names a reason that no longer exists.
 *
 * The reasons are read from the declared types with the TypeScript checker, not by pattern-matching source text: the
 * members of the `WireFailure` union (src/wire/failures.ts), `TransactionFailure` (src/operators/match-transactions.ts)
 * and `LineFailure` (src/cli/ndjson.ts) each have a literal `_tag` and a `reason` that is a union of string literals,
 * however those are written or commented (members sharing a `_tag` pool their reasons); the `reason` property of the
 * `MsrpConnectionError` class (src/operators/errors.ts) is read the same way.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as ts from 'typescript'
import { isFatal, type WireFailure } from '../../src/wire/failures'

const ROOT = path.join(__dirname, '..', '..')
const ERRORS_MD = path.join(ROOT, 'docs', 'errors.md')

/** Where each documented failure union is declared. */
const SOURCES = [
  { file: path.join(ROOT, 'src', 'wire', 'failures.ts'), union: 'WireFailure' },
  { file: path.join(ROOT, 'src', 'cli', 'ndjson.ts'), union: 'LineFailure' },
  { file: path.join(ROOT, 'src', 'operators', 'match-transactions.ts'), union: 'TransactionFailure' },
  { file: path.join(ROOT, 'src', 'sdp', 'failures.ts'), union: 'SdpFailure' },
  { file: path.join(ROOT, 'src', 'cpim', 'cpim.ts'), union: 'CpimFailure' }
] as const

/**
 * Error classes of the error channel (STYLE.md §4 tier 3), documented like failure types: the class name is the section's
 * tag. Reasons they share with the failure type `sharedWith` are documented in that type's table only.
 */
const ERROR_CLASSES = [
  { file: path.join(ROOT, 'src', 'operators', 'errors.ts'), name: 'MsrpConnectionError', sharedWith: 'FramingFailure' },
  { file: path.join(ROOT, 'src', 'transport', 'transport.ts'), name: 'TransportError', sharedWith: '' },
  { file: path.join(ROOT, 'src', 'session', 'writer.ts'), name: 'WriterError', sharedWith: '' },
  { file: path.join(ROOT, 'src', 'session', 'session.ts'), name: 'SendError', sharedWith: '' },
  { file: path.join(ROOT, 'src', 'session', 'relay-client.ts'), name: 'RelayAuthError', sharedWith: '' }
] as const

/** Reasons declared as a plain union of string literals (no failure object of their own): the type name is the section's tag. */
const REASON_UNIONS = [
  { file: path.join(ROOT, 'src', 'operators', 'reassemble.ts'), name: 'ReassemblyReason' }
] as const

/** What the fatal column of a union's rows says; `undefined` where its table has none. */
const FATAL_OF: Readonly<Record<string, ((tag: string) => 'yes' | 'no') | undefined>> = {
  WireFailure: (tag) => (isFatal({ _tag: tag } as WireFailure) ? 'yes' : 'no'),
  TransactionFailure: () => 'no', // a value of the stream: one transaction, never the connection
  MsrpConnectionError: () => 'yes', // the error channel: the connection is over
  TransportError: () => 'yes', // the transport has ended
  SendError: () => 'no', // one message failed; the connection and the session go on
  RelayAuthError: () => 'no', // one AUTH exchange failed; the relay decides whether to close
  ReassemblyReason: () => 'no' // one incoming message fails; the connection goes on
}

/** Failure types that must be found, so that a broken extraction cannot pass vacuously. */
const KNOWN_TAGS = ['FramingFailure', 'FrameFailure', 'HeaderFailure', 'EncodeFailure', 'UriFailure', 'DigestFailure']

/** A failure type: the union it is a member of, and its reasons (in the checker's order, not the source's). */
interface FailureType {
  readonly union: string
  readonly reasons: readonly string[]
  /** For an error class: every reason it can carry, those documented in another type's table included. */
  readonly allReasons?: readonly string[]
}

/** `_tag` → its failure type, for every member of the unions in `SOURCES`; `texts` may replace a file's content. */
function readReasons(texts: Readonly<Record<string, string>> = {}): Map<string, FailureType> {
  const options: ts.CompilerOptions = { noEmit: true, strict: true, noLib: true, noResolve: true, types: [] }
  const host = ts.createCompilerHost(options)
  const readFile = (f: string): string | undefined => texts[path.resolve(f)] ?? ts.sys.readFile(f)
  host.readFile = readFile
  host.getSourceFile = (f, version) => {
    const text = readFile(f)
    return text === undefined ? undefined : ts.createSourceFile(f, text, version, true)
  }
  const program = ts.createProgram(
    [...SOURCES.map((s) => s.file), ...ERROR_CLASSES.map((c) => c.file), ...REASON_UNIONS.map((u) => u.file)],
    options,
    host
  )
  const checker = program.getTypeChecker()
  const literals = (type: ts.Type): string[] =>
    (type.isUnion() ? type.types : [type]).flatMap((t) => (t.isStringLiteral() ? [t.value] : []))
  const exported = (file: string, name: string): ts.Type => {
    const source = program.getSourceFile(file)
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    const symbol = module === undefined ? undefined : checker.getExportsOfModule(module).find((s) => s.name === name)
    if (symbol === undefined) throw new Error(`${name} is not exported by ${file}`)
    return checker.getDeclaredTypeOfSymbol(symbol)
  }
  const out = new Map<string, FailureType>()
  for (const { file, union } of SOURCES) {
    const type = exported(file, union)
    for (const member of type.isUnion() ? type.types : [type]) {
      const tag = member.getProperty('_tag')
      const reason = member.getProperty('reason')
      if (tag === undefined || reason === undefined) throw new Error(`a member of ${union} lacks _tag or reason`)
      const [name] = literals(checker.getTypeOfSymbol(tag))
      if (name === undefined) throw new Error(`a member of ${union} has no literal _tag`)
      const reasons = literals(checker.getTypeOfSymbol(reason))
      const known = out.get(name)?.reasons ?? []
      out.set(name, { union, reasons: [...known, ...reasons.filter((r) => !known.includes(r))] })
    }
  }
  for (const { file, name, sharedWith } of ERROR_CLASSES) {
    const reason = exported(file, name).getProperty('reason')
    if (reason === undefined) throw new Error(`${name} has no reason`)
    const allReasons = literals(checker.getTypeOfSymbol(reason))
    const shared = out.get(sharedWith)?.reasons ?? []
    out.set(name, { union: name, reasons: allReasons.filter((r) => !shared.includes(r)), allReasons })
  }
  for (const { file, name } of REASON_UNIONS) out.set(name, { union: name, reasons: literals(exported(file, name)) })
  return out
}

interface Row {
  readonly reason: string
  readonly cells: readonly string[]
}

/** The cells of a Markdown table row, `\|` kept inside a cell. */
const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim())

/**
 * The reason rows of errors.md by section: a `## ` heading naming a failure type in backticks (e.g. `FrameFailure`)
 * opens its section; `''` collects rows outside any such section. A reason row is one whose first cell is a single
 * backticked identifier, e.g. `| \`StartLineInvalid\` | … |`.
 */
function readDoc(markdown: string): Map<string, Row[]> {
  const sections = new Map<string, Row[]>([['', []]])
  let current = ''
  for (const line of markdown.split(/\r?\n/)) {
    if (line.startsWith('## ')) {
      current = /`(\w+(?:Failure|Error|Reason))`/.exec(line)?.[1] ?? ''
      if (!sections.has(current)) sections.set(current, [])
      continue
    }
    const cells = cellsOf(line)
    const reason = line.trimStart().startsWith('|') ? /^`(\w+)`$/.exec(cells[0] ?? '')?.[1] : undefined
    if (reason !== undefined) sections.get(current)?.push({ reason, cells })
  }
  return sections
}

/** Everything that makes errors.md disagree with the code; empty when it is current. */
function problems(types: ReadonlyMap<string, FailureType>, doc: ReadonlyMap<string, readonly Row[]>): string[] {
  const out: string[] = []
  const everyReason = new Set([...types.values()].flatMap((t) => t.reasons))
  for (const [tag, { union, reasons: expected }] of types) {
    const rows = doc.get(tag)
    if (rows === undefined) {
      out.push(`${tag}: no "## \`${tag}\` …" section`)
      continue
    }
    const documented = rows.map((r) => r.reason)
    for (const r of expected) if (!documented.includes(r)) out.push(`${tag}: \`${r}\` is not documented`)
    for (const r of documented)
      if (!expected.includes(r)) out.push(`${tag}: \`${r}\` is documented but is not a reason`)
    for (const r of new Set(documented))
      if (documented.filter((d) => d === r).length > 1) out.push(`${tag}: \`${r}\` is documented twice`)
    const fatalOf = FATAL_OF[union]
    if (fatalOf !== undefined) {
      const fatal = fatalOf(tag)
      for (const row of rows)
        if (row.cells[3] !== fatal) out.push(`${tag}: \`${row.reason}\` must say "${fatal}" in the fatal column`)
    }
  }
  for (const [section, rows] of doc) {
    if (types.has(section)) continue
    for (const row of rows)
      if (!everyReason.has(row.reason) && !types.has(row.reason))
        out.push(`${section || 'intro'}: \`${row.reason}\` is not a failure reason`)
  }
  return out
}

describe('docs/errors.md', () => {
  const types = readReasons()
  const markdown = fs.readFileSync(ERRORS_MD, 'utf8')

  it('reads the reasons of every wire failure type and of the CLI line failures from the types', () => {
    expect([...types.keys()]).toEqual(expect.arrayContaining([...KNOWN_TAGS, 'LineFailure']))
    for (const { reasons } of types.values()) expect(reasons.length).toBeGreaterThan(0)
    expect(types.get('FramingFailure')?.reasons).toContain('ChunkTooLarge')
    expect([...(types.get('LineFailure')?.reasons ?? [])].sort()).toEqual([
      'Base64Invalid',
      'FieldInvalid',
      'JsonInvalid',
      'Utf8Invalid'
    ])
  })

  it('reads the reasons of the operators: TransactionFailure (pooled over its members) and MsrpConnectionError', () => {
    expect([...(types.get('TransactionFailure')?.reasons ?? [])].sort()).toEqual([
      'DuplicateTransactionId',
      'ErrorResponse',
      'Timeout',
      'UnmatchedResponse'
    ])
    const connection = types.get('MsrpConnectionError')
    expect(connection?.reasons).toEqual(['TransportFailed'])
    // every framer failure can end a connection: MsrpConnectionError carries each FramingFailure reason
    expect(connection?.allReasons).toEqual(expect.arrayContaining([...(types.get('FramingFailure')?.reasons ?? [])]))
  })

  it('documents every reason in the table of its failure type, with the right fatal column, and no other', () => {
    expect(problems(types, readDoc(markdown))).toEqual([])
  })

  it('fails when a reason is added to failures.ts without a row in errors.md', () => {
    const file = SOURCES[0].file
    const text = fs
      .readFileSync(file, 'utf8')
      .replace(
        'export type FramingReason =',
        "export type FramingReason = 'BrandNewReason' | OldFramingReason\ntype OldFramingReason ="
      )
    const edited = readReasons({ [file]: text })
    expect(edited.get('FramingFailure')?.reasons).toContain('BrandNewReason')
    expect(problems(edited, readDoc(markdown))).toEqual(['FramingFailure: `BrandNewReason` is not documented'])
  })

  it('fails when a reason is added to TransactionFailure without a row in errors.md', () => {
    const file = SOURCES[2].file
    const text = fs
      .readFileSync(file, 'utf8')
      .replace("readonly reason: 'Timeout'", "readonly reason: 'Timeout' | 'BrandNewReason'")
    const edited = readReasons({ [file]: text })
    expect(problems(edited, readDoc(markdown))).toEqual(['TransactionFailure: `BrandNewReason` is not documented'])
  })

  it('fails when a TransactionFailure row says it is fatal, or an MsrpConnectionError row says it is not', () => {
    const wrong = markdown
      .replace(/^(\| `Timeout` \|.*\| )no( \|[^|]*\|)$/m, '$1yes$2')
      .replace(/^(\| `TransportFailed` \|.*\| )yes( \|[^|]*\|)$/m, '$1no$2')
    expect(problems(types, readDoc(wrong))).toEqual([
      'TransactionFailure: `Timeout` must say "no" in the fatal column',
      'MsrpConnectionError: `TransportFailed` must say "yes" in the fatal column'
    ])
  })

  it('fails when errors.md keeps a row for a reason that no longer exists', () => {
    const [first = ''] = types.get('DigestFailure')?.reasons ?? []
    const stale = markdown.replace(`| \`${first}\` |`, '| `GoneReason` |')
    expect(problems(types, readDoc(stale))).toEqual([
      `DigestFailure: \`${first}\` is not documented`,
      'DigestFailure: `GoneReason` is documented but is not a reason'
    ])
  })
})
