// The `bftnode` command line: every command is a CliCommand object; this file turns them into
// yargs commands, adds the global options and BFTNODE_* environment variables, and prints errors a
// person caused as one line (stack traces only for internal errors, with --verbose). main()
// returns the exit code: 0 done, 1 an error (a person's or the node's), 2 a malformed command line.

import yargs from 'yargs'
import type { Argv, Options } from 'yargs'
import { BftError } from '../core/errors.js'
import { globalOptions, UsageError } from './context.js'
import type { CliCommand, GlobalArgs } from './context.js'
import { exitOnSignal, StopRequested } from './lifecycle.js'
import { joinCommand, startCommand } from './cmds/start.js'
import { testnetCommand, testnetStartCommand } from './cmds/testnet.js'
import { versionCommand } from './cmds/version.js'
import { configCommand } from './cmds/config.js'
import { demoCommand } from './cmds/demo.js'
import { accountCommand, balanceCommand, callCommand, cancelCommand, deployCommand, peersCommand, transferCommand } from './cmds/wallet-cmds.js'
import { statusCommand } from './cmds/status.js'
import { contractCommand } from './cmds/contract.js'
import { setCommand } from './cmds/set.js'
import { queryCommand } from './cmds/query.js'
import { eventsCommand, historyCommand } from './cmds/history.js'
import { validatorCommand } from './cmds/validator.js'
import { benchCommand } from './cmds/bench.js'
import { chartCommand } from './cmds/chart.js'
import { evidenceCommand, recoverCommand } from './cmds/recover.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command types its own args
export const COMMANDS: ReadonlyArray<CliCommand<any>> = [startCommand, joinCommand, configCommand, testnetCommand, accountCommand, transferCommand, balanceCommand, deployCommand, callCommand, queryCommand, cancelCommand, setCommand, historyCommand, eventsCommand, contractCommand, statusCommand, peersCommand, validatorCommand, evidenceCommand, recoverCommand, benchCommand, demoCommand, chartCommand, versionCommand]

/** Commands that run until stopped: a signal stops them cleanly (see lifecycle.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const LONG_RUNNING: ReadonlySet<CliCommand<any>> = new Set([startCommand, joinCommand, testnetStartCommand])

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function register (y: Argv, cmd: CliCommand<any>): Argv {
  return y.command({
    command: cmd.command,
    describe: cmd.describe,
    builder: (b: Argv) => {
      for (const [name, opt] of Object.entries(cmd.positionals ?? {})) b = b.positional(name, opt)
      b = b.options(cmd.ownEnv === true ? cmd.options ?? {} : withEnv(cmd.options ?? {}))
      if (envErrors[0] !== undefined) throw envErrors[0]
      for (const [example, what] of cmd.examples ?? []) b = b.example(example, what)
      for (const sub of cmd.subcommands ?? []) b = register(b, sub)
      if ((cmd.subcommands ?? []).length > 0) b = b.demandCommand(1, `${cmd.command}: name a subcommand (see --help)`)
      return b.strict()
    },
    handler: async (args: unknown) => {
      if (cmd.handler === undefined) return
      if (!LONG_RUNNING.has(cmd)) exitOnSignal()
      await cmd.handler(args as never)
    }
  })
}

export async function main (argv: string[]): Promise<number> {
  let verbose = argv.includes('--verbose')
  // `bftnode --version [--json]` is `bftnode version`; yargs' own --version is turned off below
  if (argv[0] === '--version') argv = ['version', ...argv.slice(1)]
  let y = yargs(argv)
    .scriptName('bftnode')
    .usage('$0 <command> [options]\n\nA node of a Byzantine-fault-tolerant payment and contract network.')
    .options(withEnv(globalOptions, ['passphrase', 'api-token']))
    .demandCommand(1, 'name a command (see --help)')
    .recommendCommands()
    .version(false)
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .epilogue('Every option can also be set as BFTNODE_<OPTION> (e.g. BFTNODE_API, BFTNODE_PASSPHRASE). Docs: docs/running.md')
    .fail((msg, err) => {
      if (err !== undefined && err !== null) throw err
      throw new UsageLine(unknownOnce(msg))
    })
  for (const cmd of COMMANDS) y = register(y, cmd)
  try {
    const args = await y.parseAsync() as unknown as GlobalArgs
    verbose = args.verbose
    // a command that finished but failed its purpose (an op rejected, a damaged key file listed) says so by process.exitCode
    return Number(process.exitCode ?? 0) || 0
  } catch (err) {
    if (err instanceof StopRequested) return 0 // a stop asked for while starting: not a failure
    if (err instanceof UsageLine) {
      process.stderr.write(`error: ${err.message}\n(run \`bftnode --help\` or \`bftnode <command> --help\`)\n`)
    } else if (err instanceof BftError) {
      process.stderr.write(`error: ${err.message}\n`)
      if (verbose) process.stderr.write(`${err.stack ?? ''}\n`)
    } else {
      process.stderr.write(`error: ${(err as Error).message ?? String(err)}\n`)
      if (verbose) process.stderr.write(`${(err as Error).stack ?? ''}\n`)
      else process.stderr.write('(internal error; run again with --verbose for details)\n')
    }
    return err instanceof UsageLine ? 2 : 1
  }
}

class UsageLine extends Error {}

/** yargs names an unknown `--foo-bar` twice (foo-bar, fooBar): keep the spelling a person typed. */
function unknownOnce (msg: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg)
  if (m === null) return msg
  const names = m[1]!.split(', ')
  const kebab = (s: string): string => s.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)
  const kept = names.filter(n => n === kebab(n) || !names.includes(kebab(n)))
  return `Unknown argument${kept.length > 1 ? 's' : ''}: ${kept.join(', ')}`
}

/**
 * BFTNODE_<OPTION> variables set an option's default (flags still win). Done per declared option
 * rather than with yargs' env(), so an unrelated BFTNODE_* variable is never an unknown argument.
 * `selfRead` options read their variable themselves (a passphrase as a default would show in --help).
 * A value of the wrong type is refused here, naming the variable, rather than passed on as NaN.
 */
function withEnv (options: Record<string, Options>, selfRead: readonly string[] = []): Record<string, Options> {
  const out: Record<string, Options> = {}
  for (const [name, opt] of Object.entries(options)) {
    const variable = `BFTNODE_${name.toUpperCase().replace(/-/g, '_')}`
    const raw = process.env[variable]
    if (raw === undefined || selfRead.includes(name)) { out[name] = opt; continue }
    const value = envValue(opt, raw)
    out[name] = value === undefined ? opt : { ...opt, default: value }
    if (value === undefined) envErrors.push(new UsageError(`${variable}: must be ${opt.type === 'number' ? 'a number' : 'true or false'}, got ${JSON.stringify(raw.slice(0, 60))}`))
  }
  return out
}

/** Variables withEnv refused; thrown when a command is built, so they are reported like any other error. */
const envErrors: UsageError[] = []

/** An option's value from its variable's text; undefined when the text is not one. */
function envValue (opt: Options, raw: string): unknown {
  switch (opt.type) {
    case 'number': return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(raw) ? Number(raw) : undefined
    case 'boolean': return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase()) ? true : ['0', 'false', 'no', 'off', ''].includes(raw.toLowerCase()) ? false : undefined
    case 'array': return raw.split(',').map(x => x.trim()).filter(x => x !== '')
    default: return raw
  }
}
