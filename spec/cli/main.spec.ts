import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS, main } from '../../src/cli/main'
import { DECODE_USAGE } from '../../src/cli/decode'
import { ENCODE_USAGE } from '../../src/cli/encode'
import { inputOf, RFC4975_OK, RFC4975_OK_JSON, Sink } from './cli-io'

async function run(argv: readonly string[], input = ''): Promise<{ code: number; stdout: Sink; stderr: Sink }> {
  const stdout = new Sink()
  const stderr = new Sink()
  const code = await main(argv, { stdin: inputOf(input), stdout, stderr })
  return { code, stdout, stderr }
}

describe('rx-msrp', () => {
  it.each([[['--help']], [['-h']], [[]]])('prints the usage on stderr and exits 2 for %j', async (argv) => {
    const { code, stdout, stderr } = await run(argv)
    expect(code).toBe(2)
    expect(stdout.text).toBe('')
    expect(stderr.text).toMatch(/^Usage: rx-msrp <command>/)
    for (const [name, command] of COMMANDS) expect(stderr.text).toContain(`  ${name}  ${command.summary}`)
  })

  it.each([
    ['decode', DECODE_USAGE],
    ['encode', ENCODE_USAGE]
  ])('prints the usage of %s on stderr and exits 2 for "%s --help"', async (name, text) => {
    const { code, stderr } = await run([name, '--help'])
    expect(code).toBe(2)
    expect(stderr.text).toBe(text)
  })

  it('says in decode --help that memory is bounded except for the body being joined', async () => {
    const { stderr } = await run(['decode', '--help'])
    expect(stderr.text).toContain('Memory stays bounded except for the body')
  })

  it.each([['frobnicate'], ['constructor'], ['__proto__']])(
    'refuses the unknown command %s with exit 2',
    async (name) => {
      const { code, stderr } = await run([name])
      expect(code).toBe(2)
      expect(stderr.text).toMatch(new RegExp(`^rx-msrp: unknown command "${name}"\\n\\nUsage: rx-msrp`))
    }
  )

  it('refuses an argument to decode with exit 2', async () => {
    const { code, stderr } = await run(['decode', 'capture.bin'])
    expect(code).toBe(2)
    expect(stderr.text).toBe(`rx-msrp decode: unexpected argument "capture.bin"\n\n${DECODE_USAGE}`)
  })

  it('prints the version of package.json on stdout for --version and exits 0', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
    const { code, stdout, stderr } = await run(['--version'])
    expect(code).toBe(0)
    expect(stdout.text).toBe(pkg.version + '\n')
    expect(stderr.text).toBe('')
  })

  it('runs the command it names on the given streams', async () => {
    const { code, stdout } = await run(['decode'], RFC4975_OK)
    expect(code).toBe(0)
    expect(stdout.lines).toEqual([RFC4975_OK_JSON])
  })
})
