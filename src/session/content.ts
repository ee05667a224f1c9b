/**
 * What an application may send, normalised into what `ConnectionWriter.sendMessage` reads: an async iterable of
 * byte slices, the total size when it is known, and a default Content-Type (RFC 4975 §7.1.1: Byte-Range counts
 * octets, so a string is measured after UTF-8 encoding).
 */

/** The Content-Type of a string sent without an explicit one. */
export const TEXT_CONTENT_TYPE = 'text/plain;charset=utf-8'
/** The Content-Type of bytes and streams sent without an explicit one. */
export const BINARY_CONTENT_TYPE = 'application/octet-stream'

/** Anything `toContent` accepts. A Node `Readable` is an `AsyncIterable<Buffer>`, and a Buffer is a Uint8Array. */
export type ContentSource = Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/** Options of {@link toContent}. */
export interface ToContentOptions {
  /**
   * Total bytes of a stream or iterable, when the caller knows it (e.g. a file's size): it then appears as the
   * Byte-Range total of every chunk (C-7.1.1-13). For a string or byte array it must equal the byte length.
   */
  readonly size?: number
}

/** A message body ready for the writer. */
export interface Content {
  /** The bytes; may be iterated again for strings and byte arrays (each iteration starts over). */
  readonly body: AsyncIterable<Uint8Array>
  /** Total bytes if known, else `undefined` (the writer then sends `*` totals until the final chunk). */
  readonly size: number | undefined
  readonly defaultContentType: string
}

const UTF8 = new TextEncoder()

/**
 * Normalises `content` for `ConnectionWriter.sendMessage`.
 *
 * - a string is UTF-8 encoded once (`'é'` counts 2 bytes) and defaults to `text/plain;charset=utf-8`;
 * - a byte array is sent as it is (no copy), `application/octet-stream`;
 * - an async iterable (a Node `Readable`, an async generator) or a sync iterable of byte arrays is passed through
 *   lazily, `application/octet-stream`, with `options.size` as its size if given.
 *
 * Throws a `RangeError` (programmer error) when `options.size` is not a non-negative safe integer, or disagrees with
 * the length of a string or byte array.
 *
 * ```ts
 * toContent('héllo') // { size: 6, defaultContentType: 'text/plain;charset=utf-8', body: … }
 * toContent(fs.createReadStream(file), { size: fs.statSync(file).size })
 * ```
 */
export function toContent(content: ContentSource, options: ToContentOptions = {}): Content {
  const size = options.size
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new RangeError(`toContent: size must be a non-negative safe integer, got ${size}`)
  }
  if (typeof content === 'string' || content instanceof Uint8Array) {
    const bytes = typeof content === 'string' ? UTF8.encode(content) : content
    if (size !== undefined && size !== bytes.length) {
      throw new RangeError(`toContent: size ${size} differs from the content's ${bytes.length} bytes`)
    }
    return {
      body: once(bytes),
      size: bytes.length,
      defaultContentType: typeof content === 'string' ? TEXT_CONTENT_TYPE : BINARY_CONTENT_TYPE
    }
  }
  if (isAsyncIterable(content)) return { body: content, size, defaultContentType: BINARY_CONTENT_TYPE }
  return { body: fromIterable(content), size, defaultContentType: BINARY_CONTENT_TYPE }
}

/** @internal */
function isAsyncIterable(u: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): u is AsyncIterable<Uint8Array> {
  return typeof (u as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === 'function'
}

/** An async iterable that yields `bytes` once per iteration (nothing for an empty array). @internal */
function once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      if (bytes.length > 0) yield bytes
    }
  }
}

/** A sync iterable as an async one; `for…of` inside forwards an early `return()` to the source. @internal */
function fromIterable(source: Iterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const bytes of source) yield bytes
    }
  }
}
