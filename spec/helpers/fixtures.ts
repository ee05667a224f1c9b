import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Fixture {
  readonly title: string
  /** The message as printed (LF line ends). */
  readonly text: string
  /** Its wire bytes (CRLF line ends). */
  readonly bytes: Uint8Array
}

/** CRLF line ends, as every MSRP line has on the wire. */
export const wire = (text: string): Uint8Array => new TextEncoder().encode(text.replace(/\r?\n/g, '\r\n'))

/** Loads `spec/fixtures/<name>.md`: one fixture per `## title` section holding an `msrp` code block. */
export function loadFixtures(name: string): Fixture[] {
  const md = readFileSync(join(__dirname, '..', 'fixtures', `${name}.md`), 'utf8')
  const out: Fixture[] = []
  for (const section of md.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf('\n'))
    const block = /```msrp\n([\s\S]*?)\n```/.exec(section)
    if (block === null) continue
    const text = (block[1] as string) + '\n'
    out.push({ title, text, bytes: wire(text) })
  }
  return out
}
