/**
 * docs/examples/sdp-offer-answer.ts and sdp-fingerprint.ts run as a user would run them (docs/sip-integration.md
 * points at them): a session set up from an SDP offer/answer only, one message through it; and the same over
 * peer-to-peer TLS checked by a=fingerprint.
 */
import { main } from '../../docs/examples/sdp-offer-answer'
import { main as fingerprintExample } from '../../docs/examples/sdp-fingerprint'

describe('docs/examples/sdp-offer-answer.ts', () => {
  it('Alice offers, Bob answers, Alice connects and Bob receives her text', async () => {
    const lines: string[] = []
    const result = await main({ text: 'Hello over SDP', log: (l) => lines.push(l) })
    expect(result.received).toBe('Hello over SDP')
    expect(result.aliceConnected).toBe(true)
    expect(result.offer).toMatch(/^v=0\r\n/)
    expect(result.offer).toContain(
      'a=setup:actpass\r\na=accept-types:text/plain message/cpim\r\na=max-size:1048576\r\n'
    )
    expect(result.answer).toContain('a=setup:passive\r\na=accept-types:text/plain\r\n')
    expect(lines.pop()).toBe('Bob received: Hello over SDP')
  })
})

describe('docs/examples/sdp-fingerprint.ts', () => {
  it('RFC 4975 §14.4: a self-signed certificate that matches the answer’s a=fingerprint carries the message', async () => {
    const lines: string[] = []
    const result = await fingerprintExample({ text: 'pinned', log: (l) => lines.push(l) })
    expect(result.answer).toMatch(/\r\na=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\r\n/)
    expect(result).toMatchObject({ received: 'pinned', failure: undefined })
    expect(lines.pop()).toBe('Bob received: pinned')
  })

  it('C-14.4-3: with another certificate’s fingerprint in the answer, Alice tears the session down', async () => {
    const result = await fingerprintExample({ answerWithAStrangersFingerprint: true, log: () => undefined })
    expect(result.received).toBeUndefined()
    expect(result.failure).toMatchObject({ reason: 'FingerprintMismatch', attribute: 'fingerprint' })
  })
})
