// The other sources of options, BFTNODE_* variables and flags, read through the same schema as
// config files, and the merge of all of them (defaults, file, env, flags: later wins) that keeps
// where each value came from, for `bftnode config show` and for errors that name their source.

import { isAbsolute, resolve } from 'node:path'
import { ConfigError, DEFAULT_DATA_DIR, defaultOf, envNames, flagOf, OPTION_NAMES, OPTIONS } from './config.js'
import type { NodeConfig, OptionKind, OptionName, OptionSpec } from './config.js'
import type { ConfigLayer } from './config-file.js'

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i
const TRUE = ['true', '1', 'yes', 'on']
const FALSE = ['false', '0', 'no', 'off']

/** Text (a variable, a flag's argument) as the kind of value the option takes; anything else is left for the schema to refuse. */
function fromText (kind: OptionKind, text: string): unknown {
  switch (kind) {
    case 'string': return text
    case 'number': return NUMBER.test(text) ? Number(text) : text
    case 'boolean': return TRUE.includes(text.toLowerCase()) ? true : FALSE.includes(text.toLowerCase()) ? false : text
    case 'list': return text.split(',').map(x => x.trim()).filter(x => x !== '')
  }
}

/** Checks one value of one option; paths resolve against `base`. Errors are `<where>: <what is wrong>`. */
function checkValue (name: OptionName, value: unknown, where: string, base: string): unknown {
  const spec = OPTIONS[name] as OptionSpec<unknown>
  const r = spec.schema.safeParse(value)
  if (!r.success) throw new ConfigError(`${where}: ${r.error.issues[0]!.message}`)
  return spec.path === true && !isAbsolute(r.data as string) ? resolve(base, r.data as string) : r.data
}

/** Options set by BFTNODE_* variables (BFTNODE_TICK_MS); relative paths resolve against `cwd`. */
export function configFromEnv (env: NodeJS.ProcessEnv, cwd: string): ConfigLayer {
  const values: Record<string, unknown> = {}
  const from: Partial<Record<OptionName, string>> = {}
  for (const k of OPTION_NAMES) {
    const name = envNames(k).find(n => env[n] !== undefined)
    if (name === undefined) continue
    values[k] = checkValue(k, fromText(OPTIONS[k].kind, env[name]!), name, cwd)
    from[k] = `env:${name}`
  }
  return { values: values as Partial<NodeConfig>, from }
}

/**
 * Options set by flags, as yargs parsed them (camelCased). Numbers come as yargs guessed them (a
 * number, or the text it could not read), so the schema can quote what was given.
 */
export function configFromFlags (args: Record<string, unknown>, cwd: string, globals: { passphrase?: string } = {}): ConfigLayer {
  const values: Record<string, unknown> = {}
  const from: Partial<Record<OptionName, string>> = {}
  for (const k of OPTION_NAMES) {
    const flag = flagOf(k)
    let v = flag === undefined ? (k === 'passphrase' ? globals.passphrase : undefined) : args[camel(flag)]
    if (v === undefined) continue
    // a flag given twice: the last one counts, as with most command lines
    const kind = OPTIONS[k].kind
    if (kind !== 'list' && Array.isArray(v)) v = v.at(-1)
    if (kind === 'list') v = (v as unknown[]).flatMap(x => fromText('list', String(x)) as string[])
    else if (typeof v === 'string') v = fromText(kind, v)
    const where = kind === 'boolean' && v === false ? `--no-${flag ?? k}` : `--${flag ?? k}`
    values[k] = checkValue(k, v, where, cwd)
    from[k] = `flag:${where}`
  }
  return { values: values as Partial<NodeConfig>, from }
}

const camel = (kebab: string): string => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

export interface ResolvedConfig {
  readonly config: NodeConfig
  /** For each option: `default`, `file:<path>`, `env:NAME` or `flag:--x`. */
  readonly sources: Readonly<Record<OptionName, string>>
}

/**
 * Merges layers over the defaults, later layers winning. `defaults` replaces built-in defaults
 * (an observer's data dir and ports); defaults computed from the data dir use the settled one.
 */
export function mergeConfig (layers: readonly ConfigLayer[], defaults: Partial<NodeConfig> = {}): ResolvedConfig {
  const pick = <K extends OptionName>(k: K): { value: NodeConfig[K] | undefined, source: string } => {
    for (const layer of [...layers].reverse()) {
      if (layer.values[k] !== undefined) return { value: layer.values[k], source: layer.from[k] ?? 'default' }
    }
    return { value: defaults[k], source: 'default' }
  }
  const dataDir = pick('dataDir').value ?? DEFAULT_DATA_DIR
  const config: Record<string, unknown> = {}
  const sources: Record<string, string> = {}
  for (const k of OPTION_NAMES) {
    const { value, source } = pick(k)
    const v = value ?? defaultOf(k, dataDir)
    if (v !== undefined) config[k] = v
    sources[k] = source
  }
  return { config: config as unknown as NodeConfig, sources: sources as Record<OptionName, string> }
}

export const MASK = '********'

/** The config as it may be shown or logged: secrets masked, unset options as null. */
export function shownConfig (r: ResolvedConfig): Array<{ name: OptionName, value: unknown, source: string }> {
  return OPTION_NAMES.map(name => {
    const v = r.config[name]
    return { name, value: v === undefined ? null : (OPTIONS[name] as OptionSpec<unknown>).secret === true ? MASK : v, source: r.sources[name] }
  })
}
