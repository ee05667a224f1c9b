#!/usr/bin/env node
/**
 * The `rx-msrp` bin: dispatches `rx-msrp <command> …` to the command table (docs/cli.md).
 *
 * ```text
 * rx-msrp decode < capture.bin > frames.ndjson        rx-msrp encode < frames.ndjson > capture.bin
 * rx-msrp listen --uri "msrp://127.0.0.1:0/s2;tcp"    rx-msrp send --from … --to-path … --text Hi
 * rx-msrp relay [--config relay.yaml]             →  listening msrp://127.0.0.1:2855;tcp …, user demo password …
 * rx-msrp --help | <command> --help | unknown     →  usage on stderr, exit 2
 * rx-msrp --version                               →  package.json's version on stdout, exit 0
 * ```
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decode, DECODE_USAGE } from './decode'
import { encode, ENCODE_USAGE } from './encode'
import { listen, LISTEN_USAGE } from './listen'
import { relay, RELAY_USAGE } from './relay'
import { send, SEND_USAGE } from './send'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type Stdio } from './stdio'

/** One subcommand. */
export interface Command {
  /** One line for the command list of `rx-msrp --help`. */
  readonly summary: string
  /** Printed for `rx-msrp <command> --help` and for a command line the command does not understand. */
  readonly usage: string
  /** Runs with the arguments after the command name (`--help` never reaches it); resolves to the exit status. */
  readonly run: (args: readonly string[], stdio: Stdio) => Promise<number>
}

const HELP_FLAGS: readonly string[] = ['--help', '-h']
const VERSION_FLAGS: readonly string[] = ['--version', '-V']

/** A command that takes no arguments: any argument is a usage error. */
function withoutArguments(name: string, usage: string, run: (stdio: Stdio) => Promise<number>): Command['run'] {
  return (args, stdio) => {
    if (args.length === 0) return run(stdio)
    stdio.stderr.write(`rx-msrp ${name}: unexpected argument "${args[0]}"\n\n${usage}`)
    return Promise.resolve(EXIT_USAGE)
  }
}

/** The subcommands, by name. A Map, so that `rx-msrp constructor` is an unknown command, not a prototype key. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  [
    'decode',
    {
      summary: 'MSRP bytes on stdin → one JSON object per frame on stdout (NDJSON)',
      usage: DECODE_USAGE,
      run: withoutArguments('decode', DECODE_USAGE, (io) => decode(io.stdin, io.stdout, io.stderr))
    }
  ],
  [
    'encode',
    {
      summary: 'NDJSON frames on stdin → MSRP bytes on stdout',
      usage: ENCODE_USAGE,
      run: withoutArguments('encode', ENCODE_USAGE, (io) => encode(io.stdin, io.stdout, io.stderr))
    }
  ],
  [
    'send',
    {
      summary: 'connect to an MSRP session and send it one message (text or a file)',
      usage: SEND_USAGE,
      run: (args, io) => send(args, io)
    }
  ],
  [
    'listen',
    {
      summary: 'be the passive end of an MSRP session: report (and save) every message until SIGINT',
      usage: LISTEN_USAGE,
      run: (args, io) => listen(args, io)
    }
  ],
  [
    'relay',
    {
      summary: 'run an MSRP relay (AUTH, forwarding, WebSocket clients) until SIGINT; no arguments: a loopback demo',
      usage: RELAY_USAGE,
      run: (args, io) => relay(args, io)
    }
  ]
])

/** The top-level usage, listing every command of `commands`. */
export function usage(commands: ReadonlyMap<string, Command> = COMMANDS): string {
  // Two spaces between name and summary, not padded to a column: spec/cli/main.spec.ts reads each line that way.
  const list = [...commands].map(([name, c]) => `  ${name}  ${c.summary}`).join('\n')
  return `Usage: rx-msrp <command> [--help]
       rx-msrp --version

Commands:
${list}

"rx-msrp <command> --help" describes a command. Help and usage errors exit with status 2.
`
}

/** The `version` of this package's package.json (two levels up from src/cli and from dist/cli). */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'))
  const version = typeof pkg === 'object' && pkg !== null ? (pkg as { version?: unknown }).version : undefined
  return typeof version === 'string' ? version : 'unknown'
}

/** Runs `rx-msrp <argv…>` on `stdio` and resolves to the exit status. */
export async function main(argv: readonly string[], stdio: Stdio): Promise<number> {
  const [first, ...rest] = argv
  if (first !== undefined && VERSION_FLAGS.includes(first) && rest.length === 0) {
    stdio.stdout.write(packageVersion() + '\n')
    return EXIT_OK
  }
  if (first === undefined || HELP_FLAGS.includes(first) || VERSION_FLAGS.includes(first)) {
    stdio.stderr.write(usage())
    return EXIT_USAGE
  }
  const command = COMMANDS.get(first)
  if (command === undefined) {
    stdio.stderr.write(`rx-msrp: unknown command "${first}"\n\n${usage()}`)
    return EXIT_USAGE
  }
  if (rest.some((arg) => HELP_FLAGS.includes(arg))) {
    stdio.stderr.write(command.usage)
    return EXIT_USAGE
  }
  return command.run(rest, stdio)
}

const isBrokenPipe = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'EPIPE'

if (require.main === module) {
  // The reader went away (`rx-msrp decode < capture | head -1`): stop quietly, as `head` expects.
  process.stdout.on('error', (e) => {
    if (isBrokenPipe(e)) process.exit(EXIT_OK)
    throw e
  })
  main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code
      // Exit once stdout and stderr are flushed: a library timer the command gave up on (e.g. the 30 s timer of a
      // binding SEND whose connection closed first, see send.ts) must not keep the process alive after the result.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)))
    },
    (e: unknown) => {
      if (isBrokenPipe(e)) process.exit(EXIT_OK)
      process.stderr.write(`rx-msrp: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exitCode = EXIT_FAILURE
    }
  )
}
