/**
 * toContent with what a page has (issue 5): a File or Blob (size known, read as a stream, never whole) and a
 * WHATWG ReadableStream (`fetch`'s body). Node 20's Blob and ReadableStream are the browsers' (WHATWG) ones.
 */
import { BINARY_CONTENT_TYPE, toContent, type ReadableStreamLike } from '../../src/session/content'

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const piece of body) out.push(piece)
  return out
}

const joined = (pieces: readonly Uint8Array[]): Buffer => Buffer.concat(pieces)
const bytes = (n: number): Uint8Array<ArrayBuffer> => Uint8Array.from({ length: n }, (_, i) => (i * 31) % 251)

/** A ReadableStream of `pieces` that records how it was read. */
function recordingStream(pieces: readonly Uint8Array[]): { stream: ReadableStream<Uint8Array>; log: string[] } {
  const log: string[] = []
  let i = 0
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        log.push(`pull ${i}`)
        const piece = pieces[i++]
        if (piece === undefined) controller.close()
        else controller.enqueue(piece)
      },
      cancel() {
        log.push('cancel')
      }
    },
    { highWaterMark: 0 }
  )
  return { stream, log }
}

describe('toContent with a Blob or File', () => {
  it('C-7.1.1-13 takes the size from the Blob and its type as the default Content-Type', async () => {
    const data = bytes(200_000)
    const content = toContent(new Blob([data], { type: 'image/png' }))
    expect(content.size).toBe(200_000)
    expect(content.defaultContentType).toBe('image/png')
    expect(joined(await collect(content.body)).equals(Buffer.from(data))).toBe(true)
  })

  it('defaults a Blob without a type to application/octet-stream, and a File reads like a Blob', async () => {
    expect(toContent(new Blob([bytes(3)])).defaultContentType).toBe(BINARY_CONTENT_TYPE)
    const file = new File([bytes(5)], 'notes.txt', { type: 'text/plain' })
    const content = toContent(file)
    expect([content.size, content.defaultContentType]).toEqual([5, 'text/plain'])
    expect([...joined(await collect(content.body))]).toEqual([...bytes(5)])
  })

  it('reads the Blob as a stream, in pieces, and again for each iteration', async () => {
    const content = toContent(new Blob([bytes(100_000), bytes(100_000), bytes(100_000)]))
    const first = await collect(content.body)
    const second = await collect(content.body)
    expect(first.length).toBeGreaterThan(1) // streamed, not read whole
    expect(joined(first).length).toBe(300_000)
    expect(joined(second).equals(joined(first))).toBe(true)
  })

  it('refuses a size that is not the Blob’s (programmer error)', () => {
    expect(() => toContent(new Blob([bytes(4)]), { size: 5 })).toThrow(RangeError)
  })

  it('sends an empty Blob as size 0 with no pieces', async () => {
    const content = toContent(new Blob([]))
    expect(content.size).toBe(0)
    expect(await collect(content.body)).toEqual([])
  })
})

describe('toContent with a ReadableStream', () => {
  it('reads it as the writer asks, with the size it is told, once', async () => {
    const { stream, log } = recordingStream([bytes(2), bytes(3)])
    const content = toContent(stream, { size: 5 })
    expect([content.size, content.defaultContentType]).toEqual([5, BINARY_CONTENT_TYPE])
    expect(log).toEqual([]) // lazily: nothing read before the writer iterates
    expect(joined(await collect(content.body)).length).toBe(5)
    await expect(collect(content.body)).rejects.toThrow(/only once/)
  })

  it('cancels the stream when the writer stops early (an aborted send)', async () => {
    const { stream, log } = recordingStream([bytes(2), bytes(3), bytes(4)])
    for await (const piece of toContent(stream).body) {
      expect(piece.length).toBe(2)
      break
    }
    expect(log).toEqual(['pull 0', 'cancel'])
  })

  it('uses the reader, not async iteration, so that streams without it (Safari) work', async () => {
    const { stream } = recordingStream([bytes(7)])
    const readerOnly: ReadableStreamLike = { getReader: () => stream.getReader() }
    expect(joined(await collect(toContent(readerOnly).body)).length).toBe(7)
  })
})
