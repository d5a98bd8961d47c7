// The flags of the commands that run a node (`start`, `join`, `config show`), generated from the
// option table in node/config.ts, and the one place that turns a command's arguments, the config
// file and BFTNODE_* variables into the node's config, keeping where each value came from.

import type { Options } from 'yargs'
import { envNames, flagOf, OPTION_NAMES, OPTIONS } from '../node/config.js'
import type { NodeConfig, OptionName, OptionSpec } from '../node/config.js'
import { loadConfigFile } from '../node/config-file.js'
import { configFromEnv, configFromFlags, mergeConfig } from '../node/config-sources.js'
import type { ResolvedConfig } from '../node/config-sources.js'
import { UsageError } from './context.js'

/** The default as --help shows it. */
function defaultText (spec: OptionSpec<unknown>, override: unknown): string | undefined {
  if (override !== undefined) return JSON.stringify(override)
  if (spec.defaultText !== undefined) return spec.defaultText
  if (spec.default === undefined || (Array.isArray(spec.default) && spec.default.length === 0)) return undefined
  return JSON.stringify(spec.default)
}

/**
 * One flag per option (kebab-case), none with a yargs default: an absent flag must stay absent so
 * the file and the environment can set the option. Numbers are left untyped so that a value
 * yargs cannot read reaches the schema as the text given, and the error can quote it.
 */
export function nodeFlags (opts: { omit?: readonly OptionName[], defaults?: Partial<NodeConfig> } = {}): Record<string, Options> {
  const out: Record<string, Options> = {
    config: { type: 'string', requiresArg: true, describe: 'config file: JSON with comments, any option below by its name (tickMs); paths in it are relative to it (env BFTNODE_CONFIG)' }
  }
  for (const k of OPTION_NAMES) {
    const flag = flagOf(k)
    if (flag === undefined || opts.omit?.includes(k) === true) continue
    const spec = OPTIONS[k] as OptionSpec<unknown>
    const d = defaultText(spec, opts.defaults?.[k])
    const describe = `${spec.describe}${d === undefined ? '' : ` (default ${d})`}`
    const base: Options = { describe, ...(spec.aliases === undefined ? {} : { alias: [...spec.aliases] }) }
    out[flag] = spec.kind === 'boolean'
      ? { ...base, type: 'boolean' }
      : spec.kind === 'list'
        ? { ...base, type: 'array', string: true, requiresArg: true }
        : spec.kind === 'string' ? { ...base, type: 'string', requiresArg: true } : { ...base, requiresArg: true }
  }
  return out
}

export interface NodeArgs extends Record<string, unknown> {
  config?: string
  passphrase?: string
}

/**
 * The node's config from defaults, the config file (--config or BFTNODE_CONFIG), BFTNODE_*
 * variables and flags, later winning. `required` options must come from somewhere other than the defaults.
 */
export async function resolveNodeConfig (a: NodeArgs, opts: { defaults?: Partial<NodeConfig>, required?: readonly OptionName[], env?: NodeJS.ProcessEnv } = {}): Promise<ResolvedConfig & { configFile?: string }> {
  const env = opts.env ?? process.env
  const configFile = a.config ?? (env.BFTNODE_CONFIG === '' ? undefined : env.BFTNODE_CONFIG)
  const layers = [
    ...(configFile === undefined ? [] : [await loadConfigFile(configFile)]),
    configFromEnv(env, process.cwd()),
    configFromFlags(a, process.cwd(), { passphrase: a.passphrase })
  ]
  const resolved = mergeConfig(layers, opts.defaults)
  for (const k of opts.required ?? []) {
    if (resolved.sources[k] === 'default') {
      const flag = flagOf(k)
      throw new UsageError(`${k} is required: pass ${flag === undefined ? '' : `--${flag}, `}set "${k}" in the config file, or set ${envNames(k)[0]!}`)
    }
  }
  return { ...resolved, ...(configFile === undefined ? {} : { configFile }) }
}
