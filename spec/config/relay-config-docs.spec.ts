/**
 * docs/relay-cli.md and docs/examples/relay.yaml stay complete: every key the config codec accepts is documented and
 * shown in the example.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/Either'
import { decodeRelayConfig } from '../../src/config/relay-config'

const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'relay-cli.md'), 'utf8')
const EXAMPLE = readFileSync(join(__dirname, '..', '..', 'docs', 'examples', 'relay.yaml'), 'utf8')

/** The keys an object of the config accepts, as its unknown-key error lists them. */
function keysAt(wrap: (probe: Record<string, number>) => unknown): string[] {
  const r = decodeRelayConfig(wrap({ 'no-such-key': 1 }))
  const detail = E.isLeft(r) ? (r.left[0]?.detail ?? '') : ''
  const list = /\(expected one of (.*)\)$/.exec(detail)?.[1]
  if (list === undefined) throw new Error(`no key list in ${JSON.stringify(detail)}`)
  return list.split(', ')
}

describe('docs/relay-cli.md', () => {
  it.each([
    ['the top level', keysAt((p) => p)],
    ['listen', keysAt((p) => ({ listen: p }))],
    ['limits', keysAt((p) => ({ limits: p }))]
  ])('documents and exemplifies every key of %s', (_where, keys) => {
    expect(keys.length).toBeGreaterThan(3)
    for (const key of keys) {
      expect(DOC).toContain(`\`${key}\``)
      expect(EXAMPLE).toMatch(new RegExp(`^ *${key}:`, 'm'))
    }
  })
})
