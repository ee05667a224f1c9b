/**
 * docs/examples/sdp-offer-answer.ts runs as a user would run it (docs/sip-integration.md points at it): a session set
 * up from an SDP offer/answer only, one message through it.
 */
import { main } from '../../docs/examples/sdp-offer-answer'

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
