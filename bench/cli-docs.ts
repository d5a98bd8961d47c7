// Regenerates the CLI reference in docs/running.md from the command objects themselves, so the
// docs never drift from the code. `--check` exits 1 when the doc is out of date.
// Run: npm run build && node dist/bench/cli-docs.js [--check]

import { readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Options } from 'yargs'
import { COMMANDS } from '../src/cli/index.js'
import { globalOptions } from '../src/cli/context.js'
import type { CliCommand } from '../src/cli/context.js'

const DOC = fileURLToPath(new URL('../../docs/running.md', import.meta.url))
const START = '<!-- generated:cli:start -->'
const END = '<!-- generated:cli:end -->'

function optionRows (options: Record<string, Options>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const dflt = o.default === undefined ? '' : ` (default: \`${JSON.stringify(o.default)}\`)`
    const req = o.demandOption === true ? ' **required**' : ''
    return `| \`--${name}\` | ${String(o.type ?? '')} | ${String(o.describe ?? '')}${dflt}${req} |`
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

const doc = await readFile(DOC, 'utf8')
const a = doc.indexOf(START)
const b = doc.indexOf(END)
if (a < 0 || b < 0) throw new Error(`docs/running.md lacks the ${START} / ${END} markers`)
// paths under the home dir of whoever runs this are written as ~, so the doc is the same everywhere
const next = doc.slice(0, a) + body.split(homedir()).join('~') + doc.slice(b + END.length)
if (process.argv.includes('--check')) {
  if (next !== doc) { console.error('docs/running.md is out of date: run node dist/bench/cli-docs.js'); process.exit(1) }
  console.log('docs/running.md is up to date')
} else {
  await writeFile(DOC, next)
  console.log('docs/running.md: CLI reference regenerated')
}
