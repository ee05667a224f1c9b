/**
 * `rx-msrp send --file` shows a progress bar on stderr when stderr is a terminal, and nothing when it is not.
 */
import { ProgressBar } from '../../src/cli/send'
import { Sink } from './cli-io'
import {
  fromUri,
  listenUri,
  pseudoRandom,
  runSend,
  startListen,
  stopListeners,
  tempDir,
  type TempDir
} from './listen-send-io'

/** A terminal as `process.stderr` is one: `isTTY` and `columns`. */
class Terminal extends Sink {
  readonly isTTY = true
  readonly columns = 80
}

let dir: TempDir
beforeEach(() => (dir = tempDir()))
afterEach(() => dir.remove())

afterEach(stopListeners)

describe('rx-msrp send: progress bar', () => {
  it('draws a bar in place (\\r) on a terminal, up to 100%, and ends its line', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const file = dir.file('1m.bin', pseudoRandom(1024 * 1024))
    const terminal = new Terminal()
    // 64 KiB chunks: straight to the peer the default would send the whole MiB as one chunk, one step of the bar.
    const args = ['--from', fromUri(), '--to-path', l.uri, '--file', file, '--chunk-size', '65536']
    const s = await runSend(args, {}, terminal)
    expect(s.code).toBe(0)
    const frames = terminal.text.split('\r').slice(1)
    expect(frames.length).toBeGreaterThan(2)
    expect(frames[frames.length - 1]).toBe(`[${'='.repeat(40)}] 100% 1.0/1.0 MiB\n`)
    expect(frames.slice(0, -1).every((f) => /^\[[=\- ]{40}\] +\d+% \d+\.\d\/1\.0 MiB$/.test(f))).toBe(true)
    expect(await l.stop()).toBe(0)
  })

  it('draws nothing when stderr is not a terminal, nor for --text', async () => {
    const l = await startListen(['--uri', listenUri(), '--json'])
    const file = dir.file('small.bin', pseudoRandom(20_000))
    const piped = await runSend(['--from', fromUri(), '--to-path', l.uri, '--file', file])
    expect(piped.code).toBe(0)
    expect(piped.stderr.text).toBe('')
    const terminal = new Terminal()
    const text = await runSend(['--from', fromUri(), '--to-path', l.uri, '--text', 'hi'], {}, terminal)
    expect(text.code).toBe(0)
    expect(terminal.text).toBe('')
    expect(await l.stop()).toBe(0)
  })

  it('shows acknowledged bytes as "=" and written ones not yet acknowledged as "-"', () => {
    const terminal = new Terminal()
    const bar = new ProgressBar(terminal, 100)
    bar.update(50, 25)
    bar.update(50, 25) // unchanged: not redrawn
    bar.finish()
    expect(terminal.text).toBe(`\r[${'='.repeat(10)}${'-'.repeat(10)}${' '.repeat(20)}]  25% 0.0/0.0 MiB\n`)
  })
})
