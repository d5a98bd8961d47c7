// Regenerates the CLI reference and the node option table in docs/running.md from the command
// objects and the option table themselves, so the docs never drift from the code. `--check` exits
// 1 when the doc is out of date.
// Run: npm run build && node dist/bench/cli-docs.js [--check]

import { readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Options } from 'yargs'
import { COMMANDS } from '../src/cli/index.js'
import { globalOptions } from '../src/cli/context.js'
import type { CliCommand } from '../src/cli/context.js'
import { envNames, flagOf, OPTION_NAMES, OPTIONS } from '../src/node/config.js'
import type { OptionSpec } from '../src/node/config.js'

const DOC = fileURLToPath(new URL('../../docs/running.md', import.meta.url))
const START = '<!-- generated:cli:start -->'
const END = '<!-- generated:cli:end -->'

function optionRows (options: Record<string, Options>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const dflt = o.default === undefined ? '' : ` (default: \`${JSON.stringify(o.default)}\`)`
    const req = o.demandOption === true ? ' **required**' : ''
    // node options that take numbers are left untyped for yargs (so errors can quote the text given)
    return `| \`--${name}\` | ${String(o.type ?? 'number')} | ${String(o.describe ?? '')}${dflt}${req} |`
  })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function render (cmd: CliCommand<any>, prefix = 'bftnode'): string[] {
  const name = `${prefix} ${cmd.command}`
  const out = [`### \`${name}\``, '', cmd.describe, '']
  const opts = { ...(cmd.positionals ?? {}), ...(cmd.options ?? {}) }
  if (Object.keys(opts).length > 0) out.push('| option | type | meaning |', '|---|---|---|', ...optionRows(opts), '')
  if ((cmd.examples ?? []).length > 0) {
    out.push('```sh')
    for (const [ex, what] of cmd.examples ?? []) out.push(`${ex}    # ${what}`)
    out.push('```', '')
  }
  for (const sub of cmd.subcommands ?? []) out.push(...render(sub, `${prefix} ${cmd.command}`))
  return out
}

const body = [
  START,
  '',
  '### Options of every command',
  '',
  '| option | type | meaning |', '|---|---|---|', ...optionRows(globalOptions), '',
  ...COMMANDS.flatMap(c => render(c)),
  END
].join('\n')

const C_START = '<!-- generated:config:start -->'
const C_END = '<!-- generated:config:end -->'

/** Every node option: its name in a config file, its flag, its variable, its default, its meaning. */
function optionTable (): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;')
  const rows = OPTION_NAMES.map(k => {
    const spec = OPTIONS[k] as OptionSpec<unknown>
    const flag = flagOf(k)
    const flags = flag === undefined ? '`--passphrase` (every command)' : [flag, ...(spec.aliases ?? [])].map(f => `\`--${f}\``).join(', ')
    const dflt = spec.defaultText !== undefined ? `\`${spec.defaultText}\`` : spec.default === undefined ? 'not set' : `\`${JSON.stringify(spec.default)}\``
    const notes = [spec.path === true ? 'a path' : '', spec.secret === true ? 'secret: masked by `config show`' : ''].filter(n => n !== '').join('; ')
    return `| \`${k}\` | ${flags} | ${envNames(k).map(e => `\`${e}\``).join(', ')} | ${dflt.replace(/\|/g, '\\|')} | ${cell(spec.describe)}${notes === '' ? '' : ` (${notes})`} |`
  })
  return [C_START, '', '| option | flag | variable | default | meaning |', '|---|---|---|---|---|', ...rows, '', C_END].join('\n')
}

function replaceBetween (doc: string, start: string, end: string, body: string): string {
  const a = doc.indexOf(start)
  const b = doc.indexOf(end)
  if (a < 0 || b < 0) throw new Error(`docs/running.md lacks the ${start} / ${end} markers`)
  return doc.slice(0, a) + body + doc.slice(b + end.length)
}

const doc = await readFile(DOC, 'utf8')
// paths under the home dir of whoever runs this are written as ~, so the doc is the same everywhere
const next = replaceBetween(replaceBetween(doc, START, END, body.split(homedir()).join('~')), C_START, C_END, optionTable())
if (process.argv.includes('--check')) {
  if (next !== doc) { console.error('docs/running.md is out of date: run node dist/bench/cli-docs.js'); process.exit(1) }
  console.log('docs/running.md is up to date')
} else {
  await writeFile(DOC, next)
  console.log('docs/running.md: CLI reference and option table regenerated')
}
