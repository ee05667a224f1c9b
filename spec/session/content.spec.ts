import { Readable } from 'node:stream'
import { BINARY_CONTENT_TYPE, TEXT_CONTENT_TYPE, toContent } from '../../src/session/content'

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const piece of body) out.push(piece)
  return out
}

const bytesOf = (pieces: readonly Uint8Array[]): number[] => pieces.flatMap((p) => [...p])

describe('toContent', () => {
  it('C-7.1.1-11 encodes a string as UTF-8 and counts bytes, not characters (é is 2)', async () => {
    const content = toContent('héllo')
    expect(content.size).toBe(6)
    expect(content.defaultContentType).toBe(TEXT_CONTENT_TYPE)
    expect(bytesOf(await collect(content.body))).toEqual([...Buffer.from('héllo', 'utf8')])
  })

  it('yields a byte array as it is, without copying, and may be iterated again', async () => {
    const bytes = new Uint8Array([1, 2, 3])
    const content = toContent(bytes)
    expect(content.size).toBe(3)
    expect(content.defaultContentType).toBe(BINARY_CONTENT_TYPE)
    expect(await collect(content.body)).toEqual([bytes])
    expect((await collect(content.body))[0]).toBe(bytes)
  })

  it('C-7.1.1-15 makes empty content an empty body of size 0', async () => {
    const content = toContent('')
    expect(content.size).toBe(0)
    expect(await collect(content.body)).toEqual([])
  })

  it('passes an async iterable through with the size it is told, or none', async () => {
    async function* gen(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1])
      yield new Uint8Array([2, 3])
    }
    const source = gen()
    const known = toContent(source, { size: 3 })
    expect(known.body).toBe(source)
    expect(known.size).toBe(3)
    expect(known.defaultContentType).toBe(BINARY_CONTENT_TYPE)
    expect(toContent(gen()).size).toBeUndefined()
  })

  it('accepts a Node Readable as an async iterable', async () => {
    const stream = Readable.from([Buffer.from('ab'), Buffer.from('c')])
    const content = toContent(stream)
    expect(content.size).toBeUndefined()
    expect(Buffer.concat(await collect(content.body)).toString()).toBe('abc')
  })

  it('wraps a sync iterable and forwards an early stop to it', async () => {
    let finished = false
    function* gen(): Generator<Uint8Array> {
      try {
        yield new Uint8Array([1])
        yield new Uint8Array([2])
      } finally {
        finished = true
      }
    }
    const content = toContent(gen(), { size: 2 })
    expect(content.size).toBe(2)
    for await (const piece of content.body) {
      expect([...piece]).toEqual([1])
      break
    }
    expect(finished).toBe(true)
  })

  it('refuses a size that is not a byte count or disagrees with the content', () => {
    expect(() => toContent('abc', { size: 2 })).toThrow(RangeError)
    expect(() => toContent(new Uint8Array(1), { size: -1 })).toThrow(RangeError)
    expect(() => toContent([], { size: 1.5 })).toThrow(RangeError)
  })
})
