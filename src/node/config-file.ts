// Config files: JSON with comments, read through the option schema with every refusal pointing at
// its line and column; and the fully commented file `testnet init` writes (every option, its
// meaning and its default), which reads back as exactly the values it sets.

import { dirname, isAbsolute, resolve } from 'node:path'
import { findNodeAtLocation, getNodeValue } from 'jsonc-parser'
import { closestOption, configSchema, ConfigError, envNames, flagOf, OPTION_NAMES, OPTIONS } from './config.js'
import type { NodeConfig, OptionName, OptionSpec } from './config.js'
import { parseJsonTree, position, readText } from './json-file.js'
import type { JsonNode } from './json-file.js'

/** Option values from one source, and where each came from (`file:<path>`, `env:NAME`, `flag:--x`). */
export interface ConfigLayer {
  readonly values: Partial<NodeConfig>
  readonly from: Partial<Record<OptionName, string>>
}

/** Parses a config file's text; `where` names it in errors, relative paths in it resolve against `base`. */
export function parseConfigText (text: string, where: string, base: string): ConfigLayer {
  const fail = (m: string): Error => new ConfigError(m)
  const root = parseJsonTree(text, where, fail, true)
  const at = (node: JsonNode): string => `${where}:${position(text, node.offset)}`
  if (root.type !== 'object') throw fail(`${at(root)}: expected a JSON object of options ({ "tickMs": 5, ... })`)
  const props = new Map<string, JsonNode>()
  for (const prop of root.children ?? []) {
    const key = prop.children?.[0]
    const name = String(key?.value)
    if (props.has(name)) throw fail(`${at(prop)}: option "${name}" is set twice`)
    props.set(name, prop)
  }
  const raw = getNodeValue(root) as Record<string, unknown>
  const checked = configSchema.safeParse(raw)
  if (!checked.success) {
    const issue = checked.error.issues[0]!
    if (issue.code === 'unrecognized_keys') {
      const name = issue.keys[0]!
      const near = closestOption(name)
      throw fail(`${at(props.get(name)!)}: unknown option "${name}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`)
    }
    const name = String(issue.path[0])
    // a whole value is pointed at by its option name; an element of a list by the element
    const node = issue.path.length > 1 ? findNodeAtLocation(root, issue.path as Array<string | number>) ?? props.get(name)! : props.get(name)!
    throw fail(`${at(node)}: option "${name}" ${issue.message}`)
  }
  const values: Record<string, unknown> = {}
  const from: Partial<Record<OptionName, string>> = {}
  for (const [k, v] of Object.entries(checked.data) as Array<[OptionName, unknown]>) {
    if (v === undefined) continue
    values[k] = (OPTIONS[k] as OptionSpec<unknown>).path === true && !isAbsolute(v as string) ? resolve(base, v as string) : v
    from[k] = `file:${where}`
  }
  return { values: values as Partial<NodeConfig>, from }
}

export async function loadConfigFile (path: string): Promise<ConfigLayer> {
  const text = await readText(path, 'config file', m => new ConfigError(m))
  return parseConfigText(text, path, dirname(resolve(path)))
}

const WIDTH = 98

function wrap (text: string, prefix: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > WIDTH) { lines.push(prefix + line); line = word } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(prefix + line)
  return lines
}

// every value ends with a comma (the reader allows a trailing one), so any option can be
// uncommented without editing the line before it
function valueLines (name: string, value: unknown): string[] {
  const json = Array.isArray(value) && value.length > 0 ? JSON.stringify(value, null, 2) : JSON.stringify(value)
  return `"${name}": ${json},`.split('\n')
}

/**
 * The whole config as a commented file: every option with its meaning, flag and variable; the
 * options in `set` as values, every other one commented out at its default (or an example).
 * Values must be as they should appear in the file (paths relative to it, if wanted).
 */
export function renderConfigFile (set: Partial<NodeConfig>, header: readonly string[]): string {
  const out = [...header.flatMap(h => wrap(h, '// ')), '{']
  OPTION_NAMES.forEach((k, i) => {
    const spec = OPTIONS[k] as OptionSpec<unknown>
    const flag = flagOf(k)
    if (i > 0) out.push('')
    out.push(...wrap(spec.describe, '  // '))
    const dflt = spec.default === undefined ? 'not set' : spec.defaultText ?? JSON.stringify(spec.default)
    out.push(`  // default: ${dflt}; ${flag === undefined ? '' : `flag --${flag}, `}env ${envNames(k)[0]!}${spec.path === true ? '; relative to this file' : ''}`)
    const given = set[k]
    if (given !== undefined) {
      out.push(...valueLines(k, given).map(l => '  ' + l))
    } else {
      // a default that depends on the machine or the data dir is described, not written out
      const example = spec.example ?? (typeof spec.default === 'function' || spec.defaultText !== undefined ? undefined : spec.default)
      if (example !== undefined) out.push(...valueLines(k, example).map(l => '  // ' + l))
    }
  })
  out.push('}')
  return out.join('\n') + '\n'
}
