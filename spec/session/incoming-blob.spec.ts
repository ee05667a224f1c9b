/**
 * Receiving into what a page uses (issue 5): `collectBlob()` builds a Blob from Blob parts without a second full
 * copy, `stream()` hands the body on as a pull-based WHATWG ReadableStream.
 */
import * as E from 'fp-ts/Either'
import type { SendHead } from '../../src/wire/chunk'
import { parseMediaType } from '../../src/wire/headers/content-type'
import { IncomingMessage, MessageIncompleteError } from '../../src/session/incoming'

function message(contentType = 'image/png'): IncomingMessage {
  const type = parseMediaType(contentType)
  if (E.isLeft(type)) throw new Error(type.left)
  return new IncomingMessage({ messageId: 'm1', contentType: type.right } as SendHead, undefined)
}

const piece = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('IncomingMessage.collectBlob', () => {
  it('gathers the body into a Blob typed by the Content-Type without its parameters', async () => {
    const m = message('text/plain;charset=utf-8')
    const blob = m.collectBlob()
    m.data(new TextEncoder().encode('héllo '))
    m.data(new TextEncoder().encode('page'))
    m.finish({ type: 'complete', size: 11, duplicate: false })
    const b = await blob
    expect(b.type).toBe('text/plain')
    expect(await b.text()).toBe('héllo page')
  })

  it('folds pieces into Blob parts every partBytes, so pieces are not all held until the end', async () => {
    const m = message()
    const parts: unknown[][] = []
    const RealBlob = globalThis.Blob
    const spy = jest
      .spyOn(globalThis, 'Blob')
      .mockImplementation((p?: BlobPart[], o?: BlobPropertyBag) => (parts.push(p ?? []), new RealBlob(p, o)))
    try {
      const blob = m.collectBlob({ partBytes: 1000 })
      for (let i = 0; i < 10; i++) m.data(piece(400, i))
      m.finish({ type: 'complete', size: 4000, duplicate: false })
      const b = await blob
      expect(b.size).toBe(4000)
      expect(new Uint8Array(await b.arrayBuffer()).slice(3990)).toEqual(piece(10, 9))
      // Three parts of 3 × 400 bytes, then the last one: the remaining piece and the three parts (Blobs, not bytes).
      expect(parts.map((p) => p.length)).toEqual([3, 3, 3, 4])
      expect(parts[3]?.slice(0, 3).every((p) => p instanceof RealBlob)).toBe(true)
    } finally {
      spy.mockRestore()
    }
  })

  it('refuses more than maxBytes and discards the rest', async () => {
    const m = message()
    const blob = m.collectBlob({ maxBytes: 10 })
    m.data(piece(8, 1))
    m.data(piece(8, 2))
    await expect(blob).rejects.toThrow(RangeError)
  })

  it('fails with MessageIncompleteError when the sender aborts', async () => {
    const m = message()
    const blob = m.collectBlob()
    m.data(piece(8, 1))
    m.finish({ type: 'aborted', received: 8, reason: 'Aborted' })
    await expect(blob).rejects.toBeInstanceOf(MessageIncompleteError)
  })
})

describe('IncomingMessage.stream', () => {
  it('hands the body on in order and closes when the message completes', async () => {
    const m = message()
    const reader = m.stream().getReader()
    m.data(piece(3, 1))
    m.data(piece(2, 2))
    m.finish({ type: 'complete', size: 5, duplicate: false })
    const got: number[] = []
    for (let i = 0; i < 10; i++) {
      const next = await reader.read()
      if (next.done) break
      got.push(...next.value)
    }
    expect(got).toEqual([1, 1, 1, 2, 2])
  })

  it('errors with MessageIncompleteError when the connection cuts the message', async () => {
    const m = message()
    const reader = m.stream().getReader()
    m.finish({ type: 'aborted', received: 0, reason: 'ConnectionLost' })
    await expect(reader.read()).rejects.toBeInstanceOf(MessageIncompleteError)
  })

  it('discards the rest of the body when cancelled', async () => {
    const m = message()
    const stream = m.stream()
    m.data(piece(3, 1))
    await stream.cancel()
    m.data(piece(3, 2))
    await expect(m.collect()).resolves.toHaveLength(0)
  })
})
