import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs'
import type { Listener } from '../../src/transport/transport'
import { connectTcp, listenTcp } from '../../src/transport/tcp'
import {
  closedPort,
  failureOf,
  LOOPBACK,
  rawServer,
  record,
  socketClosed,
  start,
  bufferedBytesOf,
  type Running
} from './helpers'

describe('connectTcp', () => {
  it('fails with ConnectFailed when nothing listens on the port', async () => {
    const port = await closedPort()
    const error = await failureOf(connectTcp({ host: LOOPBACK, port }))
    expect(error.reason).toBe('ConnectFailed')
    expect(error.message).toContain('ECONNREFUSED')
  })

  it('emits one transport, then completes', async () => {
    const raw = await rawServer()
    try {
      const emitted = await lastValueFrom(connectTcp({ host: LOOPBACK, port: raw.port }).pipe(toArray()))
      expect(emitted).toHaveLength(1)
      expect(emitted[0]!.info.remote).toEqual({ address: LOOPBACK, port: raw.port })
      emitted[0]!.close()
    } finally {
      await raw.close()
    }
  })

  it('aborts the connection when unsubscribed before it is connected', async () => {
    const raw = await rawServer()
    try {
      const next = jest.fn()
      const error = jest.fn()
      connectTcp({ host: LOOPBACK, port: raw.port }).subscribe({ next, error }).unsubscribe()
      // A later connection from the same process is accepted after the aborted one, if that reached the server.
      const probe = await lastValueFrom(connectTcp({ host: LOOPBACK, port: raw.port }))
      const first = await raw.nextSocket()
      if (first.remotePort !== probe.info.local?.port) await socketClosed(first)
      probe.close()
      expect(next).not.toHaveBeenCalled()
      expect(error).not.toHaveBeenCalled()
    } finally {
      await raw.close()
    }
  })

  it('applies highWaterMark: write returns false once more than that is queued', async () => {
    const raw = await rawServer()
    try {
      const t = await lastValueFrom(connectTcp({ host: LOOPBACK, port: raw.port, highWaterMark: 1024 }))
      expect(t.write([Buffer.alloc(1000)])).toBe(true)
      expect(t.write([Buffer.alloc(1024)])).toBe(false)
      await firstValueFrom(t.drain$)
      expect(bufferedBytesOf(t)).toBe(0)
      t.close()
    } finally {
      await raw.close()
    }
  })

  it('sends a clean FIN on close and completes when the peer answers with its own', async () => {
    const raw = await rawServer()
    try {
      const t = await lastValueFrom(connectTcp({ host: LOOPBACK, port: raw.port }))
      const at = record(t)
      const socket = await raw.nextSocket()
      const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()))
      t.close()
      await ended // Node answers the FIN with its own (allowHalfOpen: false)
      await expect(at.ended).resolves.toEqual({ kind: 'complete' })
      await socketClosed(socket)
    } finally {
      await raw.close()
    }
  })
})

describe('listenTcp', () => {
  let running: Running | undefined
  afterEach(() => {
    running?.stop()
    running = undefined
  })

  it('binds port 0 to a free port and reports it', async () => {
    running = await start(listenTcp({ host: LOOPBACK, port: 0 }))
    expect(running.listener.address.address).toBe(LOOPBACK)
    expect(running.listener.address.port).toBeGreaterThan(0)
  })

  it('keeps connections that arrive before connections$ is subscribed', async () => {
    running = await start(listenTcp({ host: LOOPBACK, port: 0 }))
    const port = running.listener.address.port
    const a1 = await lastValueFrom(connectTcp({ host: LOOPBACK, port }))
    const a2 = await lastValueFrom(connectTcp({ host: LOOPBACK, port }))
    const accepted = await lastValueFrom(running.listener.connections$.pipe(take(2), toArray()))
    expect(accepted.map((t) => t.info.remote?.port).sort()).toEqual([a1.info.local?.port, a2.info.local?.port].sort())
    for (const t of [a1, a2, ...accepted]) t.close()
  })

  it('stops accepting on close(), completes, and leaves accepted transports open', async () => {
    const complete = jest.fn()
    const listener = await new Promise<Listener>((resolve) =>
      listenTcp({ host: LOOPBACK, port: 0 }).subscribe({ next: resolve, complete })
    )
    const port = listener.address.port
    const accepted = firstValueFrom(listener.connections$)
    const a = await lastValueFrom(connectTcp({ host: LOOPBACK, port }))
    const b = await accepted
    await listener.close()
    expect(complete).toHaveBeenCalled()
    await expect(lastValueFrom(listener.connections$.pipe(toArray()))).resolves.toEqual([])
    const refused = await failureOf(connectTcp({ host: LOOPBACK, port }))
    expect(refused.reason).toBe('ConnectFailed')
    const atA = record(a)
    b.write([Buffer.from('still open')])
    await atA.waitBytes(10)
    expect(atA.bytes().toString()).toBe('still open')
    a.close()
    b.close()
  })

  it('stops accepting when unsubscribed', async () => {
    const { listener, stop } = await start(listenTcp({ host: LOOPBACK, port: 0 }))
    stop()
    const refused = await failureOf(connectTcp({ host: LOOPBACK, port: listener.address.port }))
    expect(refused.reason).toBe('ConnectFailed')
  })

  it('closes the connections nobody took when it stops', async () => {
    const { listener, stop } = await start(listenTcp({ host: LOOPBACK, port: 0 }))
    const a = await lastValueFrom(connectTcp({ host: LOOPBACK, port: listener.address.port }))
    const atA = record(a)
    stop()
    // Completes when the server had accepted it (and closed it), fails with Reset when it was still in the backlog.
    const end = await atA.ended
    if (end.kind === 'error') expect(end.error).toMatchObject({ reason: 'Reset' })
  })

  it('fails with ConnectFailed when the port is taken', async () => {
    running = await start(listenTcp({ host: LOOPBACK, port: 0 }))
    const error = await failureOf(listenTcp({ host: LOOPBACK, port: running.listener.address.port }))
    expect(error.reason).toBe('ConnectFailed')
    expect(error.message).toContain('EADDRINUSE')
  })
})
