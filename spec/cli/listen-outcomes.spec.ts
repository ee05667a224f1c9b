/**
 * How `rx-msrp listen` reports messages that do not complete, sent by a library endpoint (which, unlike `send`, can
 * stream a body of unknown size and abort it midway).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lastValueFrom } from 'rxjs'
import { MsrpEndpoint } from '../../src/session/endpoint'
import type { MsrpSession } from '../../src/session/session'
import {
  fromUri,
  listenUri,
  pseudoRandom,
  records,
  startListen,
  stopListeners,
  tempDir,
  type TempDir
} from './listen-send-io'

let dir: TempDir
let alice: MsrpEndpoint
beforeEach(() => {
  dir = tempDir()
  alice = new MsrpEndpoint()
})
afterEach(() => {
  alice.close()
  dir.remove()
})

async function connect(to: string): Promise<MsrpSession> {
  const session = alice.createSession(fromUri())
  await alice.connect(session, [to])
  return session
}

/** `count` pieces of one default chunk (8192 bytes) each, of unknown total size (Byte-Range totals `*`). */
async function* pieces(count: number): AsyncGenerator<Uint8Array> {
  for (let k = 0; k < count; k++) yield pseudoRandom(8192, k + 1)
}

afterEach(stopListeners)

describe('rx-msrp listen: messages that do not complete', () => {
  it('reports a message that grows past --max-size as a 413 error, and keeps no file of it', async () => {
    // The first chunk (1-8192/*) starts the message; the second takes it past the limit.
    const out = join(dir.path, 'inbox')
    const l = await startListen(['--uri', listenUri(), '--max-size', '10000', '--out', out, '--json'])
    const session = await connect(l.uri)
    const sent = lastValueFrom(session.send(pieces(5), { contentType: 'application/octet-stream' }))
    await expect(sent).rejects.toMatchObject({ status: 413 })
    const error = await l.stdout.waitEvent('error')
    expect(error).toEqual({
      event: 'error',
      messageId: expect.any(String),
      status: 413,
      reason: expect.stringMatching(/^Stop-sending-message: /)
    })
    expect(await l.stop()).toBe(0)
    expect(records(l.stdout).filter((e) => e.event === 'message')).toEqual([])
    expect(readdirSync(out)).toEqual([])
  })

  it('reports a message the sender aborts (#) as aborted, with the bytes received, kept in its .part file (RFC 4975 §5.4)', async () => {
    const out = join(dir.path, 'inbox')
    const l = await startListen(['--uri', listenUri(), '--out', out, '--json'])
    const session = await connect(l.uri)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield pseudoRandom(10_000)
      await gate
      yield pseudoRandom(10_000, 2)
    }
    // Abort once the first chunk is acknowledged: unsubscribing sends the rest as "#" (C-7.1-9).
    let acknowledged!: () => void
    const firstAcknowledged = new Promise<void>((resolve) => (acknowledged = resolve))
    const sending = session.send(stalled(), { contentType: 'application/octet-stream' }).subscribe({
      next: (e) => (e.type === 'progress' && e.acknowledged > 0 ? acknowledged() : undefined),
      error: () => undefined
    })
    await firstAcknowledged
    sending.unsubscribe()
    release()
    const aborted = await l.stdout.waitEvent('aborted')
    const messageId = String(aborted.messageId)
    expect(aborted).toEqual({
      event: 'aborted',
      messageId: expect.any(String),
      received: expect.any(Number),
      reason: 'Aborted',
      partial: join(out, `${messageId}.part`)
    })
    expect(await l.stop()).toBe(0)
    // The bytes received in order stay, for a resend of the rest (send --message-id --offset).
    expect(readdirSync(out)).toEqual([`${messageId}.part`])
    const received = Number(aborted.received)
    expect(received).toBeGreaterThan(0)
    expect(readFileSync(join(out, `${messageId}.part`))).toEqual(
      Buffer.from(pseudoRandom(10_000).subarray(0, received))
    )
  })

  it('reports a message cut by the connection as aborted (ConnectionLost)', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const session = await connect(l.uri)
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (let k = 0; k < 10_000; k++) {
        yield pseudoRandom(4096, k + 1)
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    // Cut the connection under the message once the listener has acknowledged a chunk of it.
    let acknowledged!: () => void
    const firstAcknowledged = new Promise<void>((resolve) => (acknowledged = resolve))
    let failed!: (e: unknown) => void
    const failure = new Promise<unknown>((resolve) => (failed = resolve))
    session.send(endless()).subscribe({
      next: (e) => (e.type === 'progress' && e.acknowledged > 0 ? acknowledged() : undefined),
      error: (e: unknown) => failed(e)
    })
    await firstAcknowledged
    session.connection?.transport.close()
    expect(await failure).toMatchObject({ status: 408 })
    expect(await l.stdout.waitEvent('aborted')).toEqual({
      event: 'aborted',
      messageId: expect.any(String),
      received: expect.any(Number),
      reason: 'ConnectionLost'
    })
    expect(await l.stop()).toBe(0)
  })
})
