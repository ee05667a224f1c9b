/**
 * A bot inside the relay: a routing operator delivers messages addressed to the bot's URI to a local handler instead
 * of forwarding them, and the bot answers through the relay like any client would. docs/custom-routing.md.
 *
 *   npx ts-node docs/examples/bot-router.ts
 *
 * Imports the package source since the package is not installed into itself; in your project: `from 'rx-msrp'`.
 */
import { filter, firstValueFrom, lastValueFrom, map } from 'rxjs'
import {
  deliver,
  formatUri,
  memoryPair,
  MsrpEndpoint,
  MsrpSession,
  newSessionId,
  parseUri,
  route,
  uriEquals,
  type LocalDelivery,
  type MsrpConnection,
  type MsrpRelay,
  type MsrpUri,
  type RouteRequest,
  type Router
} from '../../src'
import { EXAMPLE_USERS, startRelay } from './start-relay'

/** The bot's URI: what clients put last in their To-Path (after their relay URI) to talk to it. */
export const BOT_URI = 'msrp://echo.bot.invalid:2855/echobot0123456789abcd;tcp'
/** Largest message the bot reads; the rest of a longer one is ignored. */
export const BOT_MAX_MESSAGE_BYTES = 4096
/** Conversations (one reply session each) kept at most; the oldest is closed past it. */
export const BOT_MAX_CONVERSATIONS = 1000

export interface Bot {
  /** Delivers requests for {@link BOT_URI} to the bot; everything else goes to RFC 4976's policy. */
  readonly router: Router
  /** Gives the bot the relay it answers through (the router must exist before the relay, the relay before replies). */
  attach(relay: MsrpRelay, relayUri: string): void
  close(): void
}

/** A bot that answers each single-chunk text message with `answer(text)`. */
export function createBot(answer: (text: string) => string): Bot {
  const bot = uriOf(BOT_URI)
  const endpoint = new MsrpEndpoint()
  const conversations = new Map<string, MsrpSession>()
  let relay: { readonly core: MsrpRelay; readonly uri: string } | undefined
  let connection: MsrpConnection | undefined

  // The bot's way into the relay: an in-process transport pair, opened when the first reply needs it. The relay
  // treats it as any client connection (probation included, hence lazily: its first SEND succeeds at once).
  const botConnection = (): MsrpConnection => {
    if (connection !== undefined && !connection.closed) return connection
    if (relay === undefined) throw new Error('the bot is not attached to a relay')
    for (const s of conversations.values()) s.close()
    conversations.clear()
    const [relaySide, botSide] = memoryPair()
    relay.core.accept(relaySide, relay.uri)
    connection = endpoint.accept(botSide)
    return connection
  }

  // The reply goes to the asker's relay URI (its binding) and on to the asker's own URI: the relay forwards it on the
  // asker's connection, as it would for any third party who knows that URI (RFC 4976 §6.4, R-3.1-1).
  const reply = (request: RouteRequest, text: string): void => {
    const key = formatUri(request.binding!.uri)
    let session = conversations.get(key)
    const conn = botConnection()
    if (session === undefined || session.closed) {
      session = new MsrpSession(bot, [key, ...request.fromPath.map(formatUri)])
      session.bind(conn)
      conversations.set(key, session)
      if (conversations.size > BOT_MAX_CONVERSATIONS) {
        const [oldest, old] = conversations.entries().next().value as [string, MsrpSession]
        conversations.delete(oldest)
        old.close()
      }
    }
    session.send(answer(text)).subscribe({ error: () => undefined }) // a lost answer is the asker's loss only
  }

  const handle = ({ request, body$ }: LocalDelivery): void => {
    const pieces: Uint8Array[] = []
    let size = 0
    body$.subscribe({
      next: (piece) => {
        size += piece.length
        if (size <= BOT_MAX_MESSAGE_BYTES) pieces.push(piece.slice()) // pieces are views of the reads: copy
      },
      complete: () => {
        const range = request.send?.byteRange
        // Bodiless SENDs (the binding SEND) and chunks of longer messages get their 200 from the relay, no answer.
        if (range === undefined || size === 0 || range.start !== 1 || range.total !== size) return
        if (size > BOT_MAX_MESSAGE_BYTES) return
        reply(request, new TextDecoder().decode(Buffer.concat(pieces)))
      },
      error: () => undefined // the asker's connection closed mid-message
    })
  }

  const forBot = (r: RouteRequest): boolean =>
    // Only from an authenticated client, over its own connection, addressed to its relay URI then to the bot.
    r.binding !== undefined &&
    r.binding.connectionId === r.connection.id &&
    r.toPath.length === 2 &&
    uriEquals(r.toPath[1]!, bot)

  return {
    router: map((r) => (forBot(r) ? deliver(r, handle) : route(r))),
    attach: (core, uri) => {
      relay = { core, uri }
    },
    close: () => endpoint.close()
  }
}

const uriOf = (text: string): MsrpUri => {
  const parsed = parseUri(text)
  if (parsed._tag === 'Left') throw new TypeError(parsed.left.detail)
  return parsed.right
}

export interface BotExampleOptions {
  readonly host?: string
  readonly question?: string
  readonly log?: (line: string) => void
}

export interface BotExampleResult {
  /** The bot's answer, as Alice received it. */
  readonly answer: string
  /** The From-Path of the answer: Alice's relay URI, then the bot. */
  readonly answerFromPath: string
}

export async function main(options: BotExampleOptions = {}): Promise<BotExampleResult> {
  const log = options.log ?? console.log
  const bot = createBot((text) => `echo: ${text}`)
  const relay = await startRelay({ ...(options.host !== undefined ? { host: options.host } : {}), router: bot.router })
  bot.attach(relay.relay, relay.uri)
  const alice = new MsrpEndpoint()
  try {
    const session = alice.createSession(`msrp://alice.invalid:2855/${newSessionId()};tcp`)
    await alice.authenticate(session, relay.uri, {
      username: 'alice',
      password: EXAMPLE_USERS.alice!,
      allowInsecure: true // loopback only
    })
    await alice.connect(session, [BOT_URI]) // To-Path: Alice's relay URI, then the bot
    const answered = firstValueFrom(session.messages$)
    await lastValueFrom(session.send(options.question ?? 'ping').pipe(filter((e) => e.type === 'done')))
    const message = await answered
    const answer = new TextDecoder().decode(await message.collect())
    const answerFromPath = message.head.fromPath.map(formatUri).join(' ')
    log(`the bot answered ${JSON.stringify(answer)} from ${answerFromPath}`)
    return { answer, answerFromPath }
  } finally {
    alice.close()
    bot.close()
    await relay.close()
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
