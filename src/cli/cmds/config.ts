// `bftnode config show`: the config `bftnode start` would run with, given the same config file,
// BFTNODE_* variables and flags, and where each value came from. Secrets are masked. It checks the
// config as start would, so it is also the way to test a config file before a restart.

import { shownConfig } from '../../node/config-sources.js'
import { say } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { nodeFlags, resolveNodeConfig } from '../node-options.js'
import type { NodeArgs } from '../node-options.js'

function valueText (v: unknown): string {
  if (v === null) return '(not set)'
  if (Array.isArray(v)) return v.length === 0 ? '[]' : v.join(', ')
  return String(v)
}

export const configCommand: CliCommand = {
  command: 'config',
  describe: 'inspect node configuration',
  subcommands: [
    {
      command: 'show',
      describe: 'print the config `bftnode start` would run with (same config file, BFTNODE_* variables and flags) and where each value came from; secrets masked',
      examples: [
        ['bftnode config show --config ./net/node1/config.json', 'every option, its value and its source (default, file, env or flag)'],
        ['BFTNODE_TICK_MS=2 bftnode config show --config ./net/node1/config.json --json', 'as JSON: { option: { value, source } }']
      ],
      options: {
        ...nodeFlags(),
        json: { type: 'boolean', default: false, describe: 'print JSON: { "<option>": { "value": ..., "source": "default" | "file:<path>" | "env:<NAME>" | "flag:--<flag>" } }' }
      },
      ownEnv: true,
      handler: async (a: NodeArgs & GlobalArgs & { json?: boolean }) => {
        const rows = shownConfig(await resolveNodeConfig(a))
        if (a.json === true) {
          say(JSON.stringify(Object.fromEntries(rows.map(r => [r.name, { value: r.value, source: r.source }])), null, 2))
          return
        }
        const width = Math.max(...rows.map(r => r.name.length)) + 2
        const values = rows.map(r => valueText(r.value))
        const valueWidth = Math.min(60, Math.max(...values.map(v => v.length))) + 2
        say(`${'option'.padEnd(width)}${'value'.padEnd(valueWidth)}from`)
        rows.forEach((r, i) => say(`${r.name.padEnd(width)}${values[i]!.padEnd(valueWidth - 2)}  ${r.source}`))
      }
    }
  ]
}
