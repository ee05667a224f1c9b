/**
 * The incremental, binary-safe MSRP framer (RFC 4975 §7.1 and §9, rfc4975-core.md §2).
 *
 * Feed it byte slices of any size with `push`; it returns the events those bytes completed. It is an
 * explicit state machine (llhttp style): start line → header lines → body, then back to the start line.
 *
 * - MSRP has no Content-Length: a body ends at `CRLF -------<tid><flag> CRLF` (C-7.1-7, C-7.1-8). The
 *   body is searched for that end-line with a Horspool search over the whole `CRLF-------<tid>` needle,
 *   so on binary data the search skips ~needle-length bytes per step. Bytes that may start an end-line
 *   at the end of a slice are held back (at most the end-line's length) and completed by the next slice;
 *   no other byte is looked at twice, so the cost is linear in the input whatever the split.
 * - A body is only ended by its own transaction's end-line with a valid flag followed by CRLF: other
 *   transactions' end-lines, `-------` lines, NUL bytes and invalid UTF-8 in a body are body bytes.
 * - Memory is bounded: header bytes are limited (`FramerLimits`), and a SEND body that grows past
 *   `pieceBytes` is yielded as `head`, `body`…, `end` events instead of being buffered whole. Bodies are
 *   views (`subarray`) of the pushed slices, not copies: do not reuse a slice after pushing it.
 * - Problems that lose the stream's sync or break a limit are fatal: a `failure` event is the last
 *   event and the framer ignores all later input. Problems confined to one frame (a malformed header
 *   line) travel with the frame in `failures`, so a session can answer 400 and go on.
 */
import type { Continuation, Header, MsrpFrame, MsrpRequest, MsrpResponse, RequestHead } from './model'
import type { FrameFailure, FramingFailure, FramingReason } from './failures'
import { DEFAULT_FRAMER_LIMITS, type FramerLimits } from './limits'
import { ByteNeedle } from './search'
import { concatBytes } from './bytes'
import { HNAME } from './headers/grammar'

/** A frame that arrived whole: its body (if any) is at most `pieceBytes`, or it is not a SEND. */
export interface FrameEvent {
  readonly type: 'frame'
  readonly frame: MsrpFrame
  /** Per-frame problems (the frame is delimited correctly, the connection survives). Usually empty. */
  readonly failures: readonly FrameFailure[]
}

/** A SEND whose body is being streamed: `body` events and one `end` event follow. */
export interface HeadEvent {
  readonly type: 'head'
  readonly head: RequestHead
  readonly failures: readonly FrameFailure[]
}

/** A piece of the body of the request announced by the last `head` event. */
export interface BodyEvent {
  readonly type: 'body'
  readonly transactionId: string
  /** The piece, a view of a pushed slice. */
  readonly data: Uint8Array
  /** Offset of `data` within the body of this chunk (0 for the first piece). */
  readonly position: number
}

/** The end-line of the request announced by the last `head` event. */
export interface EndEvent {
  readonly type: 'end'
  readonly transactionId: string
  readonly continuation: Continuation
  /** Total body bytes of the chunk. */
  readonly size: number
}

/** A fatal framing failure; always the last event. */
export interface FailureEvent {
  readonly type: 'failure'
  readonly failure: FramingFailure
}

export type FramerEvent = FrameEvent | HeadEvent | BodyEvent | EndEvent | FailureEvent

export type FramerOptions = Partial<FramerLimits>

const CR = 0x0d
const LF = 0x0a
const SP = 0x20
const DASH = 0x2d
const DOLLAR = 0x24
const PLUS = 0x2b
const HASH = 0x23
/** `MSRP ` */
const PREFIX = [0x4d, 0x53, 0x52, 0x50, SP]
const MIN_TID = 4
const MAX_TID = 32

const PHASE_START = 0
const PHASE_HEADERS = 1
const PHASE_BODY = 2
const PHASE_FAILED = 3

const TEXT = new TextDecoder('utf-8')
/**
 * Every header line after the start line: CRLF, `hname ":"`, then utf8text (RFC 4975 §9: HTAB, printable ASCII,
 * non-ASCII; TextDecoder has already turned invalid UTF-8 into U+FFFD). Sticky: checked from the start line's end.
 */
const HEADER_LINES =
  /(?:\r\n[A-Za-z][\x21\x23-\x27\x2A\x2B\x2D\x2E\x30-\x39\x41-\x5A\x5E-\x7E]*:[\t\x20-\x7E\u0080-\uFFFF]*)*$/y
/** Characters utf8text (RFC 4975 §9) excludes: controls other than HTAB, and DEL. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/

const NO_FAILURES = Object.freeze([]) as unknown as FrameFailure[]

/**
 * The line-end table of every header section scanned whole within one `push` (the usual case), shared by all framers
 * so that an idle framer holds none: nothing else runs between `scanHead` filling it and `finishHead` reading it, and
 * a section that spans pushes is copied into the framer's own table first (`keepLineEnds`).
 */
let sharedLineEnds: Int32Array = new Int32Array(0)

/** The shared line-end table, grown to hold `count` entries. */
function sharedLineEndsFor(count: number): Int32Array {
  if (sharedLineEnds.length < count) sharedLineEnds = new Int32Array(count)
  return sharedLineEnds
}

/** What follows the transaction id on a start line: a method, or a status code and its comment. */
interface StartRest {
  /** `undefined` for a response. */
  readonly method: string | undefined
  readonly status: number
  readonly comment: string | undefined
}

/**
 * Reads `method` (1*UPALPHA) or `status-code [SP comment]` (3DIGIT) from `s[from, to)`, RFC 4975 §9.
 * Hand-written rather than a regex: it runs once per frame and a match array costs more than this.
 */
function parseStartRest(s: string, from: number, to: number): StartRest | undefined {
  if (from >= to) return undefined
  const c0 = s.charCodeAt(from)
  if (c0 >= 0x30 && c0 <= 0x39) {
    if (to - from < 3 || (to - from > 3 && s.charCodeAt(from + 3) !== SP)) return undefined
    let status = 0
    for (let k = from; k < from + 3; k++) {
      const c = s.charCodeAt(k)
      if (c < 0x30 || c > 0x39) return undefined
      status = status * 10 + (c - 0x30)
    }
    return { method: undefined, status, comment: to - from > 3 ? s.slice(from + 4, to) : undefined }
  }
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k)
    if (c < 0x41 || c > 0x5a) return undefined
  }
  return { method: s.slice(from, to), status: 0, comment: undefined }
}

const isFlag = (c: number | undefined): boolean => c === DOLLAR || c === PLUS || c === HASH

/** ident-char of RFC 4975 §9: ALPHANUM / "." / "-" / "+" / "%" / "=". */
function isIdentChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2e ||
    c === DASH ||
    c === PLUS ||
    c === 0x25 ||
    c === 0x3d
  )
}
const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)

const FLAG_OF: Record<number, Continuation> = { [DOLLAR]: '$', [PLUS]: '+', [HASH]: '#' }

/**
 * Streaming MSRP framer. One instance per connection (or per WebSocket message stream).
 *
 * ```ts
 * const framer = new Framer()
 * socket.on('data', (bytes) => { for (const e of framer.push(bytes)) handle(e) })
 * ```
 */
export class Framer {
  private readonly limits: FramerLimits
  /** Stream offset of byte 0 of the slice being pushed. */
  private consumed = 0
  private phase = PHASE_START

  // Header section. Positions are relative to the first byte of the frame (`headOffset`).
  private headOffset = 0
  private headBuf: Uint8Array | undefined
  private headLen = 0
  private scanPos = 0
  private lineStart = 0
  private headerCount = 0
  /** Relative offset and length of the transaction id in the start line. */
  private tidStart = 0
  private tidLen = 0
  /**
   * Relative offset of the CR ending each header line, so that an ASCII head is cut without searching again: the
   * shared table while a section is scanned within one push, `ownLineEnds` while it spans pushes.
   */
  private lineEnds: Int32Array = sharedLineEnds
  /** Allocated the first time a header section spans pushes, then reused. */
  private ownLineEnds: Int32Array | undefined
  /** Method of a frame broken in its header section: a string, `null` for a response, `undefined` if unknown. */
  private brokenMethod: string | null | undefined = undefined
  private tid = ''

  // Body.
  private current: {
    /** `undefined` for a response. */
    readonly method: string | undefined
    readonly rest: StartRest
    readonly headers: Header[]
    readonly failures: FrameFailure[]
  } | null = null
  /** `CRLF-------<tid>`: the end-line of the current body without its flag and CRLF (allocated by the first body). */
  private needle: ByteNeedle | undefined
  private parts: Uint8Array[] = []
  private partsBytes = 0
  private bodyBytes = 0
  private streaming = false
  /** Allocated the first time a slice ends inside a possible end-line. */
  private carry: Uint8Array | undefined
  private carryLen = 0

  constructor(options: FramerOptions = {}) {
    // The defaults themselves (the `frame` operator's usual options) are shared rather than copied per framer.
    this.limits = options === DEFAULT_FRAMER_LIMITS ? DEFAULT_FRAMER_LIMITS : { ...DEFAULT_FRAMER_LIMITS, ...options }
  }

  /** True between frames: no partial frame is buffered. */
  get idle(): boolean {
    return this.phase === PHASE_START && this.headLen === 0
  }

  /** True once a fatal failure was reported or `finish()` was called; later input is ignored. */
  get failed(): boolean {
    return this.phase === PHASE_FAILED
  }

  /** Bytes of the stream the framer holds on to: a partial header section, body bytes not yet yielded. */
  get bufferedBytes(): number {
    return this.headLen + this.partsBytes + this.carryLen
  }

  /** Total bytes pushed so far. */
  get offset(): number {
    return this.consumed
  }

  /** Feeds the next bytes of the stream and returns the events they complete (often none). */
  push(bytes: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = []
    if (this.phase === PHASE_FAILED) return out
    // A Node Buffer's subarray() builds another Buffer, which costs several times a plain view; the framer
    // takes many views per frame, so it works on a plain Uint8Array over the same memory.
    const b = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
    const end = b.length
    let i = 0
    while (i < end && this.phase !== PHASE_FAILED) {
      i = this.phase === PHASE_BODY ? this.scanBody(b, i, end, out) : this.readHead(b, i, end, out)
    }
    this.consumed += end
    return out
  }

  /**
   * Feeds one message of a message-oriented transport (a WebSocket message), which must hold exactly one whole
   * frame (RFC 7977 §5.1, W-5.1-3). Anything else — two frames, part of one, a frame and more bytes — is the fatal
   * failure `NotOneFrame`, and none of the message's frames is delivered.
   */
  pushMessage(message: Uint8Array): FramerEvent[] {
    if (this.phase === PHASE_FAILED) return []
    const start = this.consumed
    const events = this.push(message)
    if (this.phase === PHASE_FAILED) return events
    let frames = 0
    for (const e of events) if (e.type === 'frame' || e.type === 'end') frames++
    if (frames === 1 && this.idle) return events
    const out: FramerEvent[] = []
    const what = frames === 0 ? 'no whole frame' : frames > 1 ? `${frames} frames` : 'a frame and more bytes'
    this.fail(
      'NotOneFrame',
      `a message of ${message.length} bytes holds ${what}, not exactly one frame (W-5.1-3)`,
      start,
      out
    )
    return out
  }

  /**
   * Declares the end of the stream. Returns a `Truncated` failure if a frame was cut short, else nothing.
   * The framer is unusable afterwards.
   */
  finish(): FramerEvent[] {
    if (this.phase === PHASE_FAILED) return []
    if (this.idle) {
      this.phase = PHASE_FAILED
      return []
    }
    const out: FramerEvent[] = []
    if (this.phase === PHASE_HEADERS && this.headBuf !== undefined) this.nameBrokenFrame(this.headBuf, 0, this.headLen)
    this.fail(
      'Truncated',
      `the stream ended inside a frame that started at offset ${this.headOffset}`,
      this.consumed,
      out
    )
    return out
  }

  // ---- header section ---------------------------------------------------------------------------

  private readHead(b: Uint8Array, i: number, end: number, out: FramerEvent[]): number {
    if (this.headLen === 0) {
      // Fast path: the header section is scanned in place in the pushed slice.
      this.headOffset = this.consumed + i
      this.lineEnds = sharedLineEndsFor(this.limits.maxHeaderCount)
      const r = this.scanHead(b, i, end, out)
      if (r >= 0) {
        this.finishHead(b, i, r, out)
        return i + r
      }
      if (this.phase !== PHASE_FAILED) {
        this.keepLineEnds()
        this.appendHead(b, i, end)
      }
      return end
    }
    // Slow path: the header section started in an earlier slice; append (bounded) and scan on.
    const before = this.headLen
    const room = this.limits.maxHeaderSectionBytes - before
    const take = Math.min(end - i, room)
    this.appendHead(b, i, i + take)
    const hb = this.headBuf as Uint8Array
    const r = this.scanHead(hb, 0, this.headLen, out)
    if (r >= 0) {
      this.finishHead(hb, 0, r, out)
      this.headLen = 0
      return i + (r - before)
    }
    if (this.phase !== PHASE_FAILED && take < end - i) {
      this.fail(
        'HeaderSectionTooLarge',
        this.limitText('header section', 'maxHeaderSectionBytes'),
        this.headOffset + this.headLen,
        out
      )
    }
    return i + take
  }

  /** The header section continues in a later push: its line ends so far move from the shared table to our own. */
  private keepLineEnds(): void {
    const own = (this.ownLineEnds ??= new Int32Array(this.limits.maxHeaderCount))
    own.set(this.lineEnds.subarray(0, this.headerCount))
    this.lineEnds = own
  }

  private appendHead(b: Uint8Array, from: number, to: number): void {
    const need = this.headLen + (to - from)
    if (this.headBuf === undefined || this.headBuf.length < need) {
      const grown = new Uint8Array(
        Math.min(Math.max(need, 2 * (this.headBuf?.length ?? 256)), this.limits.maxHeaderSectionBytes)
      )
      if (this.headBuf !== undefined) grown.set(this.headBuf.subarray(0, this.headLen))
      this.headBuf = grown
    }
    this.headBuf.set(b.subarray(from, to), this.headLen)
    this.headLen = need
  }

  /**
   * Advances over complete lines of the header section in `b[base + scanPos, end)`. Returns the
   * relative offset just after the section (after its blank line or its end-line), or -1 when more
   * bytes are needed or a fatal failure was reported.
   */
  private scanHead(b: Uint8Array, base: number, end: number, out: FramerEvent[]): number {
    const limits = this.limits
    for (;;) {
      const from = base + this.scanPos
      let lf = from < end ? b.indexOf(LF, from) : -1
      if (lf >= end) lf = -1
      const lineStart = base + this.lineStart
      if (lf === -1) {
        const pending = end - lineStart
        if (this.phase === PHASE_START) {
          if (pending > limits.maxStartLineBytes + 2) {
            return this.failHead(
              'StartLineTooLong',
              this.limitText('start line', 'maxStartLineBytes'),
              this.lineStart,
              out,
              b,
              base
            )
          }
          if (!this.startLinePrefixOk(b, lineStart, end)) {
            return this.failHead(
              'StartLineInvalid',
              'a frame must start with "MSRP <transaction-id> "',
              this.lineStart,
              out,
              b,
              base
            )
          }
        } else if (pending > limits.maxHeaderLineBytes + 2) {
          return this.failHead(
            'HeaderLineTooLong',
            this.limitText('header line', 'maxHeaderLineBytes'),
            this.lineStart,
            out,
            b,
            base
          )
        }
        if (end - base > limits.maxHeaderSectionBytes) {
          return this.failHead(
            'HeaderSectionTooLarge',
            this.limitText('header section', 'maxHeaderSectionBytes'),
            this.lineStart,
            out,
            b,
            base
          )
        }
        this.scanPos = end - base
        return -1
      }
      if (lf === lineStart || b[lf - 1] !== CR) {
        return this.failHead(
          'LineNotCrlf',
          'a line of the header section ends in LF without CR',
          lf - base,
          out,
          b,
          base
        )
      }
      const len = lf - 1 - lineStart
      const next = lf + 1 - base
      if (next > limits.maxHeaderSectionBytes) {
        return this.failHead(
          'HeaderSectionTooLarge',
          this.limitText('header section', 'maxHeaderSectionBytes'),
          this.lineStart,
          out,
          b,
          base
        )
      }
      if (this.phase === PHASE_START) {
        if (len > limits.maxStartLineBytes) {
          return this.failHead(
            'StartLineTooLong',
            this.limitText('start line', 'maxStartLineBytes'),
            this.lineStart,
            out,
            b,
            base
          )
        }
        if (!this.readTid(b, base, lineStart, lf - 1)) {
          return this.failHead(
            'StartLineInvalid',
            'a frame must start with "MSRP <transaction-id> <method or status>"',
            this.lineStart,
            out,
            b,
            base
          )
        }
        this.phase = PHASE_HEADERS
      } else if (len === 0) {
        return next // blank line: a body follows
      } else if (b[lineStart] === DASH && this.isOwnEndLine(b, base, lineStart, len)) {
        return next // end-line right after the headers: bodiless
      } else {
        if (len > limits.maxHeaderLineBytes) {
          return this.failHead(
            'HeaderLineTooLong',
            this.limitText('header line', 'maxHeaderLineBytes'),
            this.lineStart,
            out,
            b,
            base
          )
        }
        if (++this.headerCount > limits.maxHeaderCount) {
          return this.failHead(
            'TooManyHeaders',
            `more than ${limits.maxHeaderCount} header lines (maxHeaderCount)`,
            this.lineStart,
            out,
            b,
            base
          )
        }
        this.lineEnds[this.headerCount - 1] = lf - 1 - base
      }
      this.lineStart = this.scanPos = next
    }
  }

  /** While the start line is incomplete: do its first bytes still look like `MSRP <tid>`? Fails fast on garbage. */
  private startLinePrefixOk(b: Uint8Array, from: number, end: number): boolean {
    const n = Math.min(end - from, PREFIX.length)
    for (let k = 0; k < n; k++) if (b[from + k] !== PREFIX[k]) return false
    let k = from + PREFIX.length
    for (; k < end && k - from - PREFIX.length < MAX_TID + 1; k++) {
      const c = b[k] as number
      if (c === SP) return k - from - PREFIX.length >= MIN_TID
      if (!isIdentChar(c)) return false
    }
    return k - from - PREFIX.length <= MAX_TID
  }

  /**
   * Checks `MSRP SP transact-id SP` at the start of the start line `b[from, to)` and notes where the id is;
   * the id and the rest of the line are decoded with the headers, in one go.
   */
  private readTid(b: Uint8Array, base: number, from: number, to: number): boolean {
    for (let k = 0; k < PREFIX.length; k++) if (b[from + k] !== PREFIX[k]) return false
    const tidStart = from + PREFIX.length
    let k = tidStart
    while (k < to && b[k] !== SP) {
      if (!isIdentChar(b[k] as number)) return false
      k++
    }
    const n = k - tidStart
    if (n < MIN_TID || n > MAX_TID || k >= to - 1 || !isAlnum(b[tidStart] as number)) return false
    this.tidStart = tidStart - base
    this.tidLen = n
    return true
  }

  /** Is the line `b[from, from + len)` exactly `-------<tid><flag>`, with the tid of this frame's start line? */
  private isOwnEndLine(b: Uint8Array, base: number, from: number, len: number): boolean {
    const n = this.tidLen
    if (len !== 7 + n + 1) return false
    for (let k = 0; k < 7; k++) if (b[from + k] !== DASH) return false
    const tid = base + this.tidStart
    for (let k = 0; k < n; k++) if (b[from + 7 + k] !== b[tid + k]) return false
    return isFlag(b[from + len - 1])
  }

  /** Decodes the header section `b[base, base + r)` and starts the body or emits a bodiless frame. */
  private finishHead(b: Uint8Array, base: number, r: number, out: FramerEvent[]): void {
    // r is just past the terminating line: either CRLF (blank line) or -------tid<flag>CRLF.
    const bodyFollows = r - this.lineStart === 2
    const terminatorStart = this.lineStart
    const text = TEXT.decode(b.subarray(base + this.tidStart, base + terminatorStart - 2))
    const end = text.length
    let eol = text.indexOf('\r\n')
    if (eol === -1) eol = end
    const tid = text.slice(0, this.tidLen)
    this.tid = tid
    const rest = parseStartRest(text, this.tidLen + 1, eol)
    if (rest === undefined) {
      const line = text.slice(0, Math.min(eol, 64))
      this.failHead('StartLineInvalid', `"${line}" is neither a method (1*UPALPHA) nor a status code`, 0, out)
      return
    }
    // One regex pass tells whether every header line is `hname ":" utf8text`; then the lines are cut with
    // indexOf alone. Only a head with a bad line takes the slow path that finds and reports it.
    HEADER_LINES.lastIndex = eol
    const clean = HEADER_LINES.test(text)
    let failures: FrameFailure[] = NO_FAILURES
    const headers: Header[] = []
    // All-ASCII head (as many chars as bytes): text offsets are byte offsets, so the line ends found by scanHead
    // are reused; otherwise each line end is searched in the text.
    const ascii = end === terminatorStart - 2 - this.tidStart
    const lineEnds = this.lineEnds
    for (let pos = eol + 2, k = 0; pos <= end; pos = eol + 2, k++) {
      eol = ascii ? (lineEnds[k] as number) - this.tidStart : text.indexOf('\r\n', pos)
      if (eol === -1) eol = end
      const colon = text.indexOf(':', pos)
      if (clean) {
        const value = text.charCodeAt(colon + 1) === SP ? text.slice(colon + 2, eol) : text.slice(colon + 1, eol)
        headers.push([text.slice(pos, colon), value])
        continue
      }
      const name = colon > pos && colon < eol ? text.slice(pos, colon) : ''
      const value = name === '' ? '' : text.slice(text.charCodeAt(colon + 1) === SP ? colon + 2 : colon + 1, eol)
      const problem =
        name === '' || !HNAME.test(name)
          ? `header line ${k + 1} is not "Name: value": "${text.slice(pos, Math.min(eol, pos + 64))}"`
          : CONTROL.test(value)
            ? `the value of ${name} holds a control character (utf8text)`
            : undefined
      if (problem === undefined) headers.push([name, value])
      else {
        if (failures === NO_FAILURES) failures = []
        failures.push(this.frameFailure('HeaderMalformed', problem))
      }
    }
    const method = rest.method
    this.resetHead()
    if (!bodyFollows) {
      const flag = FLAG_OF[b[base + r - 3] as number] as Continuation
      if (method !== undefined) {
        const frame: MsrpRequest = {
          type: 'request',
          transactionId: tid,
          method,
          headers,
          body: undefined,
          continuation: flag
        }
        out.push({ type: 'frame', frame, failures })
      } else {
        out.push(this.response(tid, rest, headers, undefined, flag, failures))
      }
      this.tid = ''
      return
    }
    this.current = { method, rest, headers, failures }
    this.needle ??= new ByteNeedle(new Uint8Array(9 + MAX_TID))
    this.needle.setAscii('\r\n-------' + tid)
    this.parts = []
    this.partsBytes = 0
    this.bodyBytes = 0
    this.streaming = false
    this.carryLen = 0
    this.phase = PHASE_BODY
  }

  private response(
    transactionId: string,
    rest: StartRest,
    headers: Header[],
    body: Uint8Array | undefined,
    continuation: Continuation,
    failures: FrameFailure[]
  ): FrameEvent {
    let all = failures
    if (continuation !== '$') {
      all = [...all, this.frameFailure('ResponseNotFinal', `a response ends with "${continuation}"`)]
    }
    if (body !== undefined) {
      all = [...all, this.frameFailure('ResponseBody', `a response carries a body of ${body.length} bytes (dropped)`)]
    }
    const frame: MsrpResponse = {
      type: 'response',
      transactionId,
      status: rest.status,
      comment: rest.comment,
      headers,
      continuation
    }
    return { type: 'frame', frame, failures: all }
  }

  private resetHead(): void {
    this.phase = PHASE_START
    this.scanPos = 0
    this.lineStart = 0
    this.headerCount = 0
  }

  // ---- body ---------------------------------------------------------------------------------------

  /** Scans `b[i, end)` for the end-line of the current body. Returns the index where scanning stopped. */
  private scanBody(b: Uint8Array, i: number, end: number, out: FramerEvent[]): number {
    const needle = this.needle as ByteNeedle
    const full = needle.length + 3 // CRLF-------tid + flag + CRLF
    if (this.carryLen > 0) {
      // The previous slice ended with a possible start of the end-line: complete or refute it.
      const carry = this.carry as Uint8Array // allocated when carryLen became > 0
      let k = this.carryLen
      let j = i
      while (k < full && j < end && this.endLineByteOk(k, b[j] as number)) (k++, j++)
      if (k === full) {
        const n = needle.length
        const flag = (this.carryLen > n ? carry[n] : b[i + n - this.carryLen]) as number
        this.carryLen = 0
        return this.endBody(FLAG_OF[flag] as Continuation, j, out)
      }
      if (j === end) {
        carry.set(b.subarray(i, end), this.carryLen)
        this.carryLen = k
        return end
      }
      // Not an end-line after all: those bytes are body. Search on from the start of this slice.
      const held = carry.slice(0, this.carryLen)
      this.carryLen = 0
      if (!this.addBody(held, i, out)) return end
    }
    let from = i
    for (;;) {
      const at = needle.indexIn(b, from, end)
      if (at === -1 || at + full > end) break
      if (isFlag(b[at + needle.length]) && b[at + needle.length + 1] === CR && b[at + needle.length + 2] === LF) {
        if (at > i && !this.addBody(b.subarray(i, at), at, out)) return end
        return this.endBody(FLAG_OF[b[at + needle.length] as number] as Continuation, at + full, out)
      }
      from = at + 1
    }
    // No end-line in this slice: hold back a tail that could start one, the rest is body.
    let hold = end
    for (let p = Math.max(i, end - full + 1); p < end; p++) {
      if (b[p] === CR && this.isEndLinePrefix(b, p, end)) {
        hold = p
        break
      }
    }
    if (hold > i && !this.addBody(b.subarray(i, hold), hold, out)) return end
    if (hold < end) {
      this.carry ??= new Uint8Array(MAX_TID + 12)
      this.carry.set(b.subarray(hold, end), 0)
      this.carryLen = end - hold
    }
    return end
  }

  /** May byte `c` stand at position `k` of `CRLF-------<tid><flag>CRLF`? */
  private endLineByteOk(k: number, c: number): boolean {
    const needle = this.needle as ByteNeedle
    const n = needle.length
    if (k < n) return needle.bytes[k] === c
    if (k === n) return isFlag(c)
    return k === n + 1 ? c === CR : c === LF
  }

  private isEndLinePrefix(b: Uint8Array, from: number, end: number): boolean {
    for (let k = 0; from + k < end; k++) if (!this.endLineByteOk(k, b[from + k] as number)) return false
    return true
  }

  /**
   * Appends confirmed body bytes (which end at index `at` of the slice being pushed); flushes pieces of a
   * long SEND; enforces the body limits.
   */
  private addBody(data: Uint8Array, at: number, out: FramerEvent[]): boolean {
    const cur = this.current as NonNullable<Framer['current']>
    this.bodyBytes += data.length
    const limits = this.limits
    const send = cur.method === 'SEND'
    if (!send && this.bodyBytes > limits.maxNonSendBodyBytes) {
      const what = cur.method === undefined ? 'response' : `${cur.method} request`
      this.fail(
        'BodyTooLarge',
        `the body of a ${what} exceeds ${limits.maxNonSendBodyBytes} bytes (maxNonSendBodyBytes, C-7.1-4)`,
        this.consumed + at,
        out
      )
      return false
    }
    if (send && this.bodyBytes > limits.maxChunkBytes) {
      this.fail(
        'ChunkTooLarge',
        `a SEND chunk exceeds ${limits.maxChunkBytes} bytes (maxChunkBytes)`,
        this.consumed + at,
        out,
        413
      )
      return false
    }
    this.parts.push(data)
    this.partsBytes += data.length
    if (send && this.partsBytes > limits.pieceBytes) this.flushPieces(cur, out)
    return true
  }

  private flushPieces(cur: NonNullable<Framer['current']>, out: FramerEvent[]): void {
    if (!this.streaming) {
      this.streaming = true
      const head: RequestHead = {
        type: 'request',
        transactionId: this.tid,
        method: cur.method as string,
        headers: cur.headers
      }
      out.push({ type: 'head', head, failures: cur.failures })
    }
    let position = this.bodyBytes - this.partsBytes
    for (const data of this.parts) {
      out.push({ type: 'body', transactionId: this.tid, data, position })
      position += data.length
    }
    this.parts = []
    this.partsBytes = 0
  }

  private endBody(flag: Continuation, next: number, out: FramerEvent[]): number {
    const cur = this.current as NonNullable<Framer['current']>
    if (this.streaming) {
      this.flushPieces(cur, out)
      out.push({ type: 'end', transactionId: this.tid, continuation: flag, size: this.bodyBytes })
    } else {
      const body = this.parts.length === 0 ? new Uint8Array(0) : concatBytes(this.parts)
      if (cur.method !== undefined) {
        const frame: MsrpRequest = {
          type: 'request',
          transactionId: this.tid,
          method: cur.method,
          headers: cur.headers,
          body,
          continuation: flag
        }
        out.push({ type: 'frame', frame, failures: cur.failures })
      } else {
        out.push(this.response(this.tid, cur.rest, cur.headers, body, flag, cur.failures))
      }
    }
    this.current = null
    this.tid = ''
    this.parts = []
    this.partsBytes = 0
    this.phase = PHASE_START
    return next
  }

  // ---- failures -----------------------------------------------------------------------------------

  private limitText(what: string, limit: keyof FramerLimits): string {
    return `the ${what} exceeds ${this.limits[limit]} bytes (${limit})`
  }

  /** A fatal failure in the header section; `b[base…]` holds the section, to name the transaction id. */
  private failHead(
    reason: FramingReason,
    detail: string,
    relative: number,
    out: FramerEvent[],
    b?: Uint8Array,
    base = 0
  ): number {
    if (b !== undefined && this.phase === PHASE_HEADERS)
      this.nameBrokenFrame(b, base, b === this.headBuf ? this.headLen : b.length)
    this.fail(reason, detail, this.headOffset + relative, out)
    return -1
  }

  /**
   * Before a fatal failure inside a header section whose start line was read: notes the transaction id and the
   * method (rare path), so that the session can answer the broken request, or know not to (a REPORT, a response).
   */
  private nameBrokenFrame(b: Uint8Array, base: number, limit: number): void {
    if (this.tid !== '') return
    const from = base + this.tidStart
    this.tid = String.fromCharCode(...b.subarray(from, from + this.tidLen))
    let end = from + this.tidLen + 1
    while (end < limit && b[end] !== CR) end++
    const rest = parseStartRest(
      String.fromCharCode(...b.subarray(from + this.tidLen + 1, end)),
      0,
      end - from - this.tidLen - 1
    )
    this.brokenMethod = rest === undefined ? undefined : (rest.method ?? null)
  }

  private fail(reason: FramingReason, detail: string, offset: number, out: FramerEvent[], status = 400): void {
    const known = this.phase !== PHASE_START && this.tid !== ''
    const method = this.current !== null ? this.current.method : this.brokenMethod
    const response = method === undefined && this.current !== null ? true : method === null
    const failure: FramingFailure = {
      _tag: 'FramingFailure',
      reason,
      detail,
      offset,
      status,
      ...(known ? { transactionId: this.tid } : {}),
      ...(typeof method === 'string' ? { method } : {}),
      ...(response ? { response: true } : {})
    }
    this.phase = PHASE_FAILED
    this.brokenMethod = undefined
    this.parts = []
    this.headBuf = undefined
    this.headLen = 0
    out.push({ type: 'failure', failure })
  }

  private frameFailure(reason: FrameFailure['reason'], detail: string): FrameFailure {
    return { _tag: 'FrameFailure', reason, detail, offset: this.headOffset, status: 400 }
  }
}
