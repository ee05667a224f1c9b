/** A stream that keeps its text, for specs that run a CLI command in process. */
import { PassThrough } from 'node:stream'

/** Lines written to a stream, with a wait for one that passes a test (rejected when `ended` settles first). */
export function capture(): {
  stream: PassThrough
  text: () => string
  line: (test: (l: string) => boolean) => Promise<string>
} {
  const stream = new PassThrough()
  let text = ''
  const waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = []
  const find = (test: (l: string) => boolean): string | undefined => text.split('\n').slice(0, -1).find(test)
  stream.on('data', (d: Buffer) => {
    text += d.toString('utf8')
    for (const w of waiters.splice(0)) {
      const found = find(w.test)
      if (found !== undefined) w.resolve(found)
      else waiters.push(w)
    }
  })
  return {
    stream,
    text: () => text,
    line: (test) =>
      new Promise((resolve) => {
        const found = find(test)
        if (found !== undefined) resolve(found)
        else waiters.push({ test, resolve })
      })
  }
}
