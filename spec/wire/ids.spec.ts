import {
  BASE36_LOWER_ALPHABET,
  BASE62_ALPHABET,
  CNONCE_CHARS,
  INVALID_HOST_CHARS,
  MESSAGE_ID_CHARS,
  NONCE_CHARS,
  SESSION_ID_CHARS,
  TRANSACTION_ID_CHARS,
  newCnonce,
  newInvalidHost,
  newMessageId,
  newNonce,
  newSessionId,
  newTransactionId,
  randomToken
} from '../../src/wire/ids'

// RFC 4975 §9: ident = ALPHANUM 3*31ident-char; session-id = 1*( unreserved / "+" / "=" / "/" ).
const IDENT = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/
const SESSION_ID = /^[A-Za-z0-9\-._~+=/]+$/
const DRAWS = 10_000

const bits = (chars: number, alphabetSize: number): number => chars * Math.log2(alphabetSize)

/** Counts, per character position, how often each character of the alphabet occurs. */
function positionCounts(tokens: readonly string[], length: number): Map<string, number>[] {
  const counts = Array.from({ length }, () => new Map<string, number>())
  for (const token of tokens)
    for (let i = 0; i < length; i++) {
      const c = token.charAt(i)
      const m = counts[i]
      if (m !== undefined) m.set(c, (m.get(c) ?? 0) + 1)
    }
  return counts
}

describe('ids', () => {
  describe('entropy constants', () => {
    it('C-7.1-1 transaction ids carry at least 64 random bits and fit ident (4–32 chars)', () => {
      expect(bits(TRANSACTION_ID_CHARS, 62)).toBeGreaterThanOrEqual(64)
      expect(TRANSACTION_ID_CHARS).toBeGreaterThanOrEqual(4)
      expect(TRANSACTION_ID_CHARS).toBeLessThanOrEqual(32)
    })
    it('C-14.1-1 / R-6.3-8 session-ids carry at least 80 random bits', () => {
      expect(bits(SESSION_ID_CHARS, 62)).toBeGreaterThanOrEqual(80)
    })
    it('C-7.1.1-1 Message-IDs carry at least 64 random bits and fit ident', () => {
      expect(bits(MESSAGE_ID_CHARS, 62)).toBeGreaterThanOrEqual(64)
      expect(MESSAGE_ID_CHARS).toBeLessThanOrEqual(32)
    })
    it('nonces carry at least 128 random bits', () => {
      expect(bits(NONCE_CHARS, 62)).toBeGreaterThanOrEqual(128)
    })
  })

  describe.each([
    ['newTransactionId', newTransactionId, TRANSACTION_ID_CHARS, IDENT],
    ['newSessionId', newSessionId, SESSION_ID_CHARS, SESSION_ID],
    ['newMessageId', newMessageId, MESSAGE_ID_CHARS, IDENT],
    ['newNonce', newNonce, NONCE_CHARS, /^[A-Za-z0-9]+$/],
    ['newCnonce', newCnonce, CNONCE_CHARS, /^[A-Za-z0-9]+$/]
  ])('%s', (_name, generate, length, format) => {
    const tokens = Array.from({ length: DRAWS }, () => generate())

    it(`has ${length} base62 characters and matches the RFC 4975 syntax`, () => {
      const base62 = new RegExp(`^[A-Za-z0-9]{${length}}$`)
      expect(tokens.filter((t) => !base62.test(t) || !format.test(t))).toEqual([])
    })

    it(`never repeats in ${DRAWS} draws`, () => {
      expect(new Set(tokens).size).toBe(DRAWS)
    })

    it('uses the whole alphabet at every character position', () => {
      for (const counts of positionCounts(tokens, length)) expect(counts.size).toBe(62)
    })
  })

  describe('newInvalidHost', () => {
    const hosts = Array.from({ length: DRAWS }, () => newInvalidHost())

    it('W-A-1 is a random lowercase label under the .invalid TLD, starting with a letter', () => {
      const format = new RegExp(`^[a-z][a-z0-9]{${INVALID_HOST_CHARS - 1}}\\.invalid$`)
      expect(hosts.filter((h) => !format.test(h))).toEqual([])
    })

    it(`never repeats in ${DRAWS} draws`, () => {
      expect(new Set(hosts).size).toBe(DRAWS)
    })

    it('uses all 26 letters first and all 36 base36 characters after', () => {
      const [first, ...rest] = positionCounts(hosts, INVALID_HOST_CHARS)
      expect(first?.size).toBe(26)
      for (const counts of rest) expect(counts.size).toBe(BASE36_LOWER_ALPHABET.length)
    })
  })

  describe('randomToken', () => {
    it('maps accepted bytes to alphabet[byte mod n] and rejects bytes at or above 256 - 256 mod n', () => {
      // n = 62: 256 mod 62 = 8, so bytes 248..255 would over-weight '0'..'7' and must be skipped.
      const feed = [248, 255, 0, 61, 62, 247, 125]
      const randomBytes = (n: number): Uint8Array => Uint8Array.from(feed.splice(0, n))
      expect(randomToken(5, { randomBytes })).toBe('0z0z1')
    })

    it('asks the random source again when bytes were rejected', () => {
      const calls: number[] = []
      const randomBytes = (n: number): Uint8Array => {
        calls.push(n)
        return new Uint8Array(n).fill(calls.length === 1 ? 255 : 1)
      }
      expect(randomToken(3, { randomBytes })).toBe('111')
      expect(calls.length).toBe(2)
    })

    it('draws each character uniformly (no modulo bias), checked on a bounded sample', () => {
      // 120 000 characters: about 1 935 per character, standard deviation about 44. A modulo-biased mapping would
      // give '0'..'7' about 25 % more than the others; ±12 % (over 5 standard deviations) separates the two.
      const sample = randomToken(120_000)
      const counts = new Map<string, number>()
      for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1)
      const expected = sample.length / 62
      expect(counts.size).toBe(62)
      for (const count of counts.values()) {
        expect(count).toBeGreaterThan(expected * 0.88)
        expect(count).toBeLessThan(expected * 1.12)
      }
    })

    it('supports other alphabets and lengths, including more than one getRandomValues call (65 536 bytes)', () => {
      expect(randomToken(0)).toBe('')
      expect(randomToken(200, { alphabet: '01' })).toMatch(/^[01]{200}$/)
      const long = randomToken(70_000, { alphabet: BASE62_ALPHABET })
      expect(long).toHaveLength(70_000)
    })

    it('throws a RangeError on programmer errors (bad length or alphabet)', () => {
      expect(() => randomToken(-1)).toThrow(RangeError)
      expect(() => randomToken(1.5)).toThrow(RangeError)
      expect(() => randomToken(4, { alphabet: 'a' })).toThrow(RangeError)
      expect(() => randomToken(4, { alphabet: 'aab' })).toThrow(RangeError)
    })
  })
})
