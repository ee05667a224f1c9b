/**
 * The examples of docs/examples run as a user would run them: each `main` against a relay on loopback, with what it
 * promises asserted. And the Markdown docs hold no long code block that is not one of them.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { firstValueFrom, from, map, toArray } from 'rxjs'
import { forward, type RouteRequest } from '../../src'
import * as operators from '../../src/operators'
import { BOT_URI, main as botRouter } from '../../docs/examples/bot-router'
import { main as contentFilter } from '../../docs/examples/content-filter'
import { main as embedRelay } from '../../docs/examples/embed-relay'
import { main as firstMessage } from '../../docs/examples/first-message'
import { main as rateLimit, rateLimit as rateLimitRouter } from '../../docs/examples/rate-limit'
import { main as sendFile } from '../../docs/examples/send-file'
import { startRelay, type RunningRelay } from '../../docs/examples/start-relay'

const HOST = '127.0.0.1'
const quiet = (): void => undefined

describe('docs/examples against a relay on loopback', () => {
  let relay: RunningRelay

  beforeAll(async () => {
    relay = await startRelay({ host: HOST, port: 0 })
  })

  afterAll(async () => {
    await relay.close()
  })

  it('first-message.ts: Alice and Bob authenticate and Bob receives her text through the relay', async () => {
    const result = await firstMessage({ relayUri: relay.uri, text: 'Hello from the docs', log: quiet })
    expect(result.received).toBe('Hello from the docs')
    expect(result.contentType).toMatch(/^text\/plain/)
    expect(result.bobPath).toHaveLength(2)
    expect(relay.events.filter((e) => e.type === 'auth' && e.status === 200)).toHaveLength(2)
  })

  it('send-file.ts: a 3 MiB file arrives with the sha256 Alice computed, after progress events up to its size', async () => {
    const result = await sendFile({ relayUri: relay.uri, bytes: 3 * 1024 * 1024 + 17, log: quiet })
    expect(result.size).toBe(3 * 1024 * 1024 + 17)
    expect(result.receivedSha256).toBe(result.sentSha256)
    expect(result.disposition).toBe('attachment; filename="example.bin"')
    expect(result.progress.length).toBeGreaterThan(2)
    expect(result.progress[result.progress.length - 1]).toEqual({ sent: result.size, acknowledged: result.size })
    const acknowledged = result.progress.map((p) => p.acknowledged)
    expect([...acknowledged].sort((a, b) => a - b)).toEqual(acknowledged)
  })
})

describe('docs/examples that start their own relay on loopback', () => {
  /** The value of a Prometheus sample line, e.g. `msrp_relay_auth_total{status="200"}`; undefined when absent. */
  const sample = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }

  it('embed-relay.ts: a TCP client reaches a WebSocket client of the app server, whose routes and /metrics still work', async () => {
    const result = await embedRelay({ host: HOST, log: quiet })
    expect(result.received).toBe('Hello over TCP, read over WebSocket')
    expect(result.appRoute).toBe('the app\n')
    expect(sample(result.metricsText, 'msrp_relay_auth_total{status="200"}')).toBe(2)
    expect(sample(result.metricsText, 'msrp_relay_connections_total{kind="ws"}')).toBe(1)
    expect(sample(result.metricsText, 'msrp_relay_forwarded_frames_total{method="SEND"}')).toBeGreaterThanOrEqual(2)
  })

  it('content-filter.ts: the relay refuses application/x-spam with 415 and still forwards text', async () => {
    const result = await contentFilter({ host: HOST, log: quiet })
    expect(result.refusedStatus).toBe(415)
    expect(result.refusedReasons).toEqual(['MediaRefused'])
    expect(result.delivered).toEqual(['Hi Bob'])
  })

  it('rate-limit.ts: SENDs past the limit are answered 403, the others and a later one go through', async () => {
    const result = await rateLimit({ host: HOST, perSecond: 5, burst: 12, log: quiet })
    // The binding SEND counts too: 4 of the burst fit in its window (5 per window in two windows if the burst
    // straddles a second), and a message is counted once although the relay routes it twice (Alice → Bob).
    expect(result.accepted).toBeGreaterThanOrEqual(4)
    expect(result.accepted).toBeLessThanOrEqual(9)
    expect(result.refused).toHaveLength(12 - result.accepted)
    expect(new Set(result.refused)).toEqual(new Set([403]))
    expect(result.received).toBe(result.accepted + 1)
  })

  it('bot-router.ts: a message to the bot URI reaches the local handler, whose answer comes back through the relay', async () => {
    const result = await botRouter({ host: HOST, question: 'are you there?', log: quiet })
    expect(result.answer).toBe('echo: are you there?')
    expect(result.answerFromPath.split(' ')).toHaveLength(2)
    expect(result.answerFromPath.split(' ')[1]).toBe(BOT_URI)
  })
})

describe('rate-limit.ts: the rateLimit router', () => {
  /** A request as the router sees it; only the fields rateLimit reads are real. */
  const request = (
    id: number,
    connectionId: string,
    transactionId: string,
    method = 'SEND',
    internalHops = 0
  ): RouteRequest =>
    ({
      id,
      head: { type: 'request', transactionId, method, headers: [] },
      connection: { id: connectionId },
      internalHops
    }) as never

  it('rejects SENDs past perSecond on a connection with 403, per connection, counting a re-routed request once', async () => {
    let now = 0
    const clock = [0, 0, 0, 0, 0, 0, 0, 1000]
    const requests = [
      request(1, 'c1', 't1'),
      request(2, 'c1', 't1', 'SEND', 1), // the same request routed again (two clients of one relay): not counted
      request(3, 'c1', 't2'),
      request(4, 'c1', 't3'), // third SEND in the window: refused
      request(5, 'c2', 't4'), // another connection has its own window
      request(6, 'c1', 't5', 'REPORT'), // only SENDs are counted
      request(7, 'c1', 't6'), // still refused
      request(8, 'c1', 't7') // a second later: a new window
    ]
    const router = rateLimitRouter(
      { perSecond: 2, now: () => now },
      map((r) => forward(r, { kind: 'connection', connectionId: 'next' }))
    )
    const decisions = await firstValueFrom(
      from(requests).pipe(
        map((r) => ((now = clock[r.id - 1]!), r)),
        router,
        toArray()
      )
    )
    const byId = new Map(decisions.map((d) => [d.id, d.kind === 'reject' ? d.status : d.kind]))
    expect([...byId.entries()].sort(([a], [b]) => a - b)).toEqual([
      [1, 'forward'],
      [2, 'forward'],
      [3, 'forward'],
      [4, 403],
      [5, 'forward'],
      [6, 'forward'],
      [7, 403],
      [8, 'forward']
    ])
  })
})

describe('docs/*.md: no long snippet that is not a checked example', () => {
  const DOCS = path.join(__dirname, '../../docs')
  /** Longest fenced block allowed without coming from docs/examples. */
  const MAX_UNCHECKED_LINES = 12
  /** Docs written before this check, with their number of long unchecked blocks (listed to be turned into examples). */
  const ALLOWED_LONG_BLOCKS: Readonly<Record<string, number>> = { 'browser.md': 1 }

  interface Block {
    readonly line: number
    readonly lines: readonly string[]
    /** The info string: `ts`, `sh`, `text` … */
    readonly lang: string
    /** The `<!-- example: docs/examples/x.ts -->` right above the fence, if any. */
    readonly example: string | undefined
  }

  /** The fenced blocks of a Markdown text (``` or ~~~, three or more). */
  const blocksOf = (text: string): Block[] => {
    const lines = text.split('\n')
    const blocks: Block[] = []
    for (let i = 0; i < lines.length; i++) {
      const open = /^ {0,3}(`{3,}|~{3,})/.exec(lines[i]!)
      if (open === null) continue
      const fence = open[1]!
      let end = i + 1
      while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++
      const marker = /^<!-- example: (\S+) -->$/.exec(lines[i - 1]?.trim() ?? '')
      const lang = lines[i]!.trim().slice(fence.length).trim()
      blocks.push({ line: i + 1, lang, lines: lines.slice(i + 1, end), example: marker?.[1] })
      i = end
    }
    return blocks
  }

  /** Whether `excerpt` is a run of consecutive lines of `file`. */
  const isExcerpt = (excerpt: readonly string[], file: readonly string[]): boolean =>
    file.some((_, start) => excerpt.every((l, k) => file[start + k] === l))

  const docs = fs.readdirSync(DOCS).filter((f) => f.endsWith('.md'))

  it.each(docs)('%s: every code block longer than 12 lines comes from docs/examples, verbatim', (doc) => {
    const blocks = blocksOf(fs.readFileSync(path.join(DOCS, doc), 'utf8'))
    // Diagrams, marbles and program output (`text`) are not snippets; code in any other block is.
    const unchecked = blocks.filter(
      (b) => b.example === undefined && b.lang !== 'text' && b.lines.length > MAX_UNCHECKED_LINES
    )
    expect(unchecked.map((b) => `${doc}:${b.line}`)).toHaveLength(ALLOWED_LONG_BLOCKS[doc] ?? 0)
    for (const b of blocks.filter((x) => x.example !== undefined)) {
      const file = path.join(DOCS, '..', b.example!)
      expect(fs.existsSync(file)).toBe(true)
      expect({
        at: `${doc}:${b.line}`,
        verbatim: isExcerpt(b.lines, fs.readFileSync(file, 'utf8').split('\n'))
      }).toEqual({
        at: `${doc}:${b.line}`,
        verbatim: true
      })
    }
  })

  it('finds a long unmarked block and a marked block that differs from its file', () => {
    const long = ['```sh', ...Array.from({ length: MAX_UNCHECKED_LINES + 1 }, (_, i) => `line ${i}`), '```'].join('\n')
    expect(blocksOf(long)).toEqual([expect.objectContaining({ lang: 'sh', example: undefined })])
    expect(blocksOf(long)[0]!.lines).toHaveLength(MAX_UNCHECKED_LINES + 1)
    const marked = blocksOf(`<!-- example: docs/examples/x.ts -->\n~~~ts\nconst a = 1\n~~~\n`)
    expect(marked).toEqual([{ line: 2, lang: 'ts', lines: ['const a = 1'], example: 'docs/examples/x.ts' }])
    expect(isExcerpt(['b', 'c'], ['a', 'b', 'c'])).toBe(true)
    expect(isExcerpt(['a', 'c'], ['a', 'b', 'c'])).toBe(false)
  })

  it('every example in docs/examples is pointed at by a doc', () => {
    const text = docs.map((d) => fs.readFileSync(path.join(DOCS, d), 'utf8')).join('\n')
    const examples = fs.readdirSync(path.join(DOCS, 'examples')).filter((f) => f.endsWith('.ts'))
    expect(examples.filter((f) => !text.includes(`examples/${f}`))).toEqual([])
  })
})

describe('docs/operators.md covers src/operators/index.ts', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/operators.md'), 'utf8')

  it('has a section for every operator and names every other runtime export', () => {
    const exported = Object.entries(operators)
    const factories = exported.filter(([name, v]) => typeof v === 'function' && /^[a-z]/.test(name)).map(([n]) => n)
    expect(factories.length).toBeGreaterThanOrEqual(6)
    expect(factories.filter((name) => !doc.includes(`## \`${name}(`))).toEqual([])
    expect(exported.map(([name]) => name).filter((name) => !doc.includes(`\`${name}`))).toEqual([])
  })
})
