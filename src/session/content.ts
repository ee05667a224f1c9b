/**
 * What an application may send, normalised into what `ConnectionWriter.sendMessage` reads: an async iterable of
 * byte slices, the total size when it is known, and a default Content-Type (RFC 4975 §7.1.1: Byte-Range counts
 * octets, so a string is measured after UTF-8 encoding).
 */

/** The Content-Type of a string sent without an explicit one. */
export const TEXT_CONTENT_TYPE = 'text/plain;charset=utf-8'
/** The Content-Type of bytes and streams sent without an explicit one. */
export const BINARY_CONTENT_TYPE = 'application/octet-stream'

/**
 * Anything `toContent` accepts. A Node `Readable` is an `AsyncIterable<Buffer>`, and a Buffer is a Uint8Array; in a
 * browser, a `File` is a `Blob` and `fetch`'s `response.body` a `ReadableStream`.
 */
export type ContentSource =
  Uint8Array | string | BlobLike | ReadableStreamLike | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/**
 * The reader of a WHATWG `ReadableStream` of bytes, as far as `toContent` uses it (declared here so that the types
 * need neither the DOM library nor Node's).
 */
export interface ReadableStreamReaderLike {
  read(): Promise<{ readonly done: boolean; readonly value?: Uint8Array | undefined }>
  cancel(reason?: unknown): Promise<void>
  releaseLock(): void
}

/** A WHATWG `ReadableStream<Uint8Array>` (browsers, Node ≥ 18): `response.body`, `blob.stream()`. */
export interface ReadableStreamLike {
  getReader(): ReadableStreamReaderLike
}

/** A `Blob` or `File` (browsers, Node ≥ 18): its size is known and it can be read again as a stream. */
export interface BlobLike {
  readonly size: number
  /** The MIME type a browser gives a `File` from its name (`image/png`), or ''. */
  readonly type: string
  stream(): ReadableStreamLike
}

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
 * - a `Blob` or `File` is read through `blob.stream()` as the writer asks for bytes (never loaded whole), once per
 *   iteration, with `blob.size` as its size and `blob.type` as its Content-Type (`application/octet-stream` if '');
 * - a `ReadableStream` (e.g. `fetch`'s `response.body`) is read likewise, once, with `options.size` if given; the
 *   writer stopping early (abort) cancels it;
 * - an async iterable (a Node `Readable`, an async generator) or a sync iterable of byte arrays is passed through
 *   lazily, `application/octet-stream`, with `options.size` as its size if given.
 *
 * Throws a `RangeError` (programmer error) when `options.size` is not a non-negative safe integer, or disagrees with
 * the length of a string or byte array.
 *
 * ```ts
 * toContent('héllo') // { size: 6, defaultContentType: 'text/plain;charset=utf-8', body: … }
 * toContent(fs.createReadStream(file), { size: fs.statSync(file).size })
 * toContent(input.files[0]) // a File: { size: file.size, defaultContentType: file.type || 'application/octet-stream' }
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
  if (isBlobLike(content)) {
    if (size !== undefined && size !== content.size) {
      throw new RangeError(`toContent: size ${size} differs from the blob's ${content.size} bytes`)
    }
    return {
      body: fromReadableStream(() => content.stream()),
      size: content.size,
      defaultContentType: content.type !== '' ? content.type : BINARY_CONTENT_TYPE
    }
  }
  if (isReadableStreamLike(content)) {
    let opened = false
    const open = (): ReadableStreamLike => {
      if (opened) throw new TypeError('toContent: a ReadableStream can be read only once')
      opened = true
      return content
    }
    return { body: fromReadableStream(open), size, defaultContentType: BINARY_CONTENT_TYPE }
  }
  if (isAsyncIterable(content)) return { body: content, size, defaultContentType: BINARY_CONTENT_TYPE }
  return { body: fromIterable(content), size, defaultContentType: BINARY_CONTENT_TYPE }
}

/** Duck-typed, so that a Blob of another realm (an iframe) or a polyfill is one too. @internal */
function isBlobLike(u: object): u is BlobLike {
  const b = u as Partial<BlobLike>
  return typeof b.stream === 'function' && typeof b.size === 'number' && typeof b.type === 'string'
}

/** Tested before async iterables: a ReadableStream of Node ≥ 18 is one too, but Safari's is not. @internal */
function isReadableStreamLike(u: object): u is ReadableStreamLike {
  return typeof (u as Partial<ReadableStreamLike>).getReader === 'function'
}

/**
 * Reads a stream (opened anew by each iteration) with its reader, which every browser has (async iteration of a
 * ReadableStream is not everywhere); an iteration that stops early cancels the stream, releasing the file. @internal
 */
function fromReadableStream(open: () => ReadableStreamLike): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const reader = open().getReader()
      let done = false
      try {
        while (!done) {
          const next = await reader.read()
          done = next.done
          if (!done && next.value !== undefined && next.value.length > 0) yield next.value
        }
      } finally {
        if (!done) await reader.cancel().catch(() => undefined)
        reader.releaseLock()
      }
    }
  }
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
