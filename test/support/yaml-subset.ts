// Reads the small subset of YAML that compose.yaml is written in, so a test can check it without a
// YAML dependency: block mappings and sequences by indentation, full-line comments, and scalars
// that are plain words, numbers, booleans, "double-quoted" strings or [JSON-style, flow, lists].
// Anything else (anchors, multi-line strings, single quotes, trailing comments) is an error here,
// never a silent misreading.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue }

interface Line { indent: number, text: string, no: number }

export function parseYamlSubset (source: string): YamlValue {
  const lines: Line[] = []
  source.split('\n').forEach((raw, i) => {
    if (raw.trim() === '' || raw.trim().startsWith('#')) return
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: a tab`)
    lines.push({ indent: raw.length - raw.trimStart().length, text: raw.trim(), no: i + 1 })
  })
  let at = 0
  const block = (indent: number): YamlValue => {
    const first = lines[at]
    if (first === undefined || first.indent < indent) return null
    if (first.text.startsWith('- ')) {
      const list: YamlValue[] = []
      while (lines[at] !== undefined && lines[at]!.indent === first.indent && lines[at]!.text.startsWith('- ')) {
        const line = lines[at++]!
        list.push(scalar(line.text.slice(2).trim(), line.no))
      }
      return list
    }
    const map: Record<string, YamlValue> = {}
    while (lines[at] !== undefined && lines[at]!.indent === first.indent) {
      const line = lines[at++]!
      const m = /^([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(line.text)
      if (m === null) throw new Error(`line ${line.no}: not "key: value": ${line.text}`)
      if (m[1]! in map) throw new Error(`line ${line.no}: ${m[1]!} given twice`)
      map[m[1]!] = m[2] === undefined ? block(first.indent + 1) : scalar(m[2].trim(), line.no)
    }
    if (lines[at] !== undefined && lines[at]!.indent > first.indent) throw new Error(`line ${lines[at]!.no}: unexpected indentation`)
    return map
  }
  const value = block(0)
  if (at !== lines.length) throw new Error(`line ${lines[at]!.no}: unexpected indentation`)
  return value
}

function scalar (text: string, no: number): YamlValue {
  if (text.startsWith('"') || text.startsWith('[')) {
    try {
      return JSON.parse(text) as YamlValue
    } catch {
      throw new Error(`line ${no}: not a JSON-style string or list: ${text}`)
    }
  }
  if (/^['&*!|>{]/.test(text) || text.includes(' #')) throw new Error(`line ${no}: YAML this checker does not read: ${text}`)
  if (text === 'true' || text === 'false') return text === 'true'
  if (text === 'null' || text === '~') return null
  if (/^-?[0-9]+$/.test(text)) return Number(text)
  return text
}
