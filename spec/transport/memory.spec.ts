import { firstValueFrom } from 'rxjs'
import { memoryPair } from '../../src/transport/memory'
import { closedOf, record, transportErrorOf } from './helpers'

describe('memoryPair', () => {
  it('is a stream-oriented, insecure memory transport by default', () => {
    const [a, b] = memoryPair()
    expect(a.info).toEqual({
      kind: 'memory',
      messageOriented: false,
      secure: false,
      local: undefined,
      remote: undefined,
      peerCertificate: undefined
    })
    expect(memoryPair({ messageOriented: true })[0].info.messageOriented).toBe(true)
    a.close()
    b.close()
  })

  it('delivers asynchronously, never inside write()', async () => {
    const [a, b] = memoryPair()
    const atB = record(b)
    a.write([Buffer.from('hi')])
    expect(atB.total()).toBe(0)
    await atB.waitBytes(2)
    expect(atB.bytes().toString()).toBe('hi')
  })

  it('delivers the written pieces themselves, not copies, when stream-oriented', async () => {
    const [a, b] = memoryPair()
    const atB = record(b)
    const pieces = [Buffer.from('head'), Buffer.from('body')]
    a.write(pieces)
    await atB.waitValues(2)
    expect(atB.values[0]).toBe(pieces[0])
    expect(atB.values[1]).toBe(pieces[1])
  })

  it('delivers one value per write when message-oriented, the piece itself when there is one', async () => {
    const [a, b] = memoryPair({ messageOriented: true })
    const atB = record(b)
    const single = Buffer.from('one')
    a.write([single])
    a.write([Buffer.from('t'), Buffer.from('wo')])
    await atB.waitValues(2)
    expect(atB.values[0]).toBe(single)
    expect(Buffer.from(atB.values[1]!).toString()).toBe('two')
  })

  it('returns false at highWaterMark while nobody reads, and drains once the reader has read it all', async () => {
    const [a, b] = memoryPair({ highWaterMark: 10 })
    expect(a.write([Buffer.alloc(6)])).toBe(true)
    expect(a.write([Buffer.alloc(4)])).toBe(false)
    expect(a.bufferedBytes).toBe(10)
    const drained = firstValueFrom(a.drain$)
    const atB = record(b)
    await drained
    expect(atB.total()).toBe(10)
    expect(a.bufferedBytes).toBe(0)
  })

  it('completes the other side after the bytes written before close, and refuses writes to a closed peer', async () => {
    const [a, b] = memoryPair()
    const atB = record(b)
    a.write([Buffer.from('last words')])
    a.close()
    expect(b.write([Buffer.from('too late')])).toBe(false)
    await expect(atB.ended).resolves.toEqual({ kind: 'complete' })
    expect(atB.bytes().toString()).toBe('last words')
    await Promise.all([closedOf(a), closedOf(b)])
  })

  it('drops what the closing side had not read', async () => {
    const [a, b] = memoryPair()
    const atB = record(b)
    b.write([Buffer.from('unread')])
    // Deliveries run from setImmediate callbacks in order: after this one, 'unread' waits in a.
    await new Promise<void>((resolve) => setImmediate(resolve))
    a.close()
    const atA = record(a)
    await expect(atA.ended).resolves.toEqual({ kind: 'complete' })
    expect(atA.total()).toBe(0)
    await expect(atB.ended).resolves.toEqual({ kind: 'complete' })
  })

  it('reset() fails both ends with Reset', async () => {
    const [a, b] = memoryPair()
    const atA = record(a)
    const atB = record(b)
    a.write([Buffer.from('lost')])
    b.reset()
    expect((await transportErrorOf(atA.ended)).reason).toBe('Reset')
    expect((await transportErrorOf(atB.ended)).reason).toBe('Reset')
    expect(atB.total()).toBe(0)
    await Promise.all([closedOf(a), closedOf(b)])
  })
})
