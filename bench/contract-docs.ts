// Regenerates the builtin, gas and limit tables of docs/contracts.md from the VM's own tables, so
// the contract reference cannot drift from the code. Only the text between the markers
// <!-- generated:builtins:start --> and <!-- generated:builtins:end --> is rewritten.
// `--check` changes nothing and exits 1 (naming the stale tables) when the doc is out of date.
// Run: npx tsc -p . && node dist/bench/contract-docs.js [--check]

import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { BODY_LIMITS } from '../src/core/ledger/body.js'
import { OP_LIMITS } from '../src/core/ledger/op.js'
import { BUILTINS } from '../src/core/vm/builtins.js'
import { MODULE_LIMITS } from '../src/core/vm/compile.js'
import { GAS, GAS_LIMITS, VM_LIMITS } from '../src/core/vm/gas.js'
import type { Builtin } from '../src/core/vm/interpreter.js'
import { READER_LIMITS } from '../src/core/vm/reader.js'
import { MAX_INT, MIN_INT } from '../src/core/vm/values.js'

const DOC = fileURLToPath(new URL('../../docs/contracts.md', import.meta.url))
const START = '<!-- generated:builtins:start -->'
const END = '<!-- generated:builtins:end -->'

class DocError extends Error {}

/** One generated table (or group of rows), named so --check can say which one is stale. */
interface Section { readonly name: string, readonly lines: readonly string[] }

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const code = (s: string): string => `\`${s}\``

/** 100000 -> 100,000; the same on every machine (no locale). */
function num (n: number | bigint): string {
  const s = String(n)
  const neg = s.startsWith('-')
  const digits = neg ? s.slice(1) : s
  return (neg ? '-' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

function bytesNum (n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${num(n)} (${num(n / 1024)} KiB)` : num(n)
}

function arity (a: Builtin['arity']): string {
  if (typeof a === 'number') return String(a)
  const [min, max] = a
  if (max === Infinity) return `${min} or more`
  if (max === min + 1) return `${min} or ${max}`
  return `${min} to ${max}`
}

/** "(get k [default]): the value ..." -> `(get k [default])`: the value ... */
function describe (doc: string): string {
  const m = /^(\([^)]*\))(?::\s*(.*))?$/.exec(doc)
  if (m === null) return cell(doc)
  return m[2] === undefined || m[2] === '' ? code(m[1]!) : `${code(m[1]!)}: ${cell(m[2])}`
}

// Groups follow the order of BUILTINS in src/core/vm/builtins.ts: each starts at the named builtin
// and runs until the next group's first builtin, so a builtin added inside a group lands in it.
const GROUPS: ReadonlyArray<{ readonly first: string, readonly title: string, readonly note?: string }> = [
  { first: '+', title: 'Integers', note: `Every result is checked: outside [\`MIN_INT\`, \`MAX_INT\`] = [${MIN_INT}, ${MAX_INT}] the call aborts with a \`runtime\` error (integer overflow); it never wraps.` },
  { first: '=', title: 'Comparison and logic' },
  { first: 'concat', title: 'Strings, bytes and lists' },
  { first: 'map', title: 'Higher order', note: 'The function argument is a lambda or a defun name (a builtin must be wrapped in `(fn ...)`). It runs once per element and every run pays its own `GAS.call` and steps.' },
  { first: 'dict', title: 'Maps', note: 'Maps are immutable: map-set and map-del return a new map. Keys are integers, strings or bytes; iteration is in key order.' },
  { first: 'caller', title: 'The host: the call and the contract\'s own account', note: 'Host builtins exist only while a call runs; in a `defconst` they are a `check` error at deploy.' },
  { first: 'hash', title: 'Hashing' }
]

function builtinSections (): Section[] {
  const starts = new Map<string, number>()
  for (const [i, g] of GROUPS.entries()) {
    if (!BUILTINS.some(b => b.name === g.first)) throw new DocError(`bench/contract-docs.ts: group "${g.title}" starts at builtin "${g.first}", which no longer exists`)
    starts.set(g.first, i)
  }
  const groups: Array<{ title: string, note?: string, rows: Builtin[] }> = []
  for (const b of BUILTINS) {
    const g = starts.get(b.name)
    if (g !== undefined) {
      const def = GROUPS[g]!
      groups.push({ title: def.title, ...(def.note === undefined ? {} : { note: def.note }), rows: [] })
    } else if (groups.length === 0) groups.push({ title: 'Other', rows: [] })
    groups.at(-1)!.rows.push(b)
  }
  return groups.map(g => ({
    name: `builtins: ${g.title}`,
    lines: [
      `#### ${g.title}`,
      '',
      ...(g.note === undefined ? [] : [g.note, '']),
      '| builtin | arity | gas | host | form and meaning |',
      '|---|---|---|---|---|',
      ...g.rows.map(b => `| ${code(b.name)} | ${arity(b.arity)} | ${b.gas} | ${b.host === true ? 'host' : ''} | ${describe(b.doc)} |`),
      ''
    ]
  }))
}

const GAS_MEANING: Record<keyof typeof GAS, string> = {
  step: 'every form evaluated: a literal, a name, a special form or a call (not the head name of a form, not `else`)',
  call: 'entering a defun or a lambda, the function a Call names included',
  perElement: 'per element a builtin copies or walks (see "+1 gas per element" in the builtin table)',
  perWord: 'per started 32 bytes a builtin produces or hashes (`concat` of strings or bytes, `hash`)',
  storageRead: '`(get k)`, on top of the step',
  storageWrite: '`(put k v)`, on top of the step',
  storageBytes: '`(put k v)`: per byte of the canonical encoding of k and of v',
  storageDelete: '`(del k)`, on top of the step',
  transfer: '`(transfer to amount)` (or `%transfer`), on top of the step',
  emit: '`(emit name data)`, on top of the step',
  eventBytes: '`(emit name data)`: per byte of the canonical encoding of data',
  hash: '`(hash b)`, on top of the step and before the per-word part'
}

interface LimitRow { readonly name: string, readonly value: string, readonly meaning: string }

function table (name: string, rows: readonly LimitRow[]): Section {
  return {
    name,
    lines: [`#### ${name}`, '', '| constant | value | what it bounds |', '|---|---|---|', ...rows.map(r => `| ${code(r.name)} | ${r.value} | ${cell(r.meaning)} |`), '']
  }
}

/** Rows for every key of `consts`; a key without a meaning here is an error, so no limit goes unlisted. */
function rows<T extends Record<string, number>> (prefix: string, consts: T, meaning: { [K in keyof T]: string }, fmt: (k: string, v: number) => string = (_k, v) => num(v)): LimitRow[] {
  const described: Record<string, string | undefined> = meaning
  return Object.entries(consts).map(([k, v]) => {
    const m = described[k]
    if (m === undefined) throw new DocError(`bench/contract-docs.ts: ${prefix}.${k} has no description`)
    return { name: `${prefix}.${k}`, value: fmt(k, v), meaning: m }
  })
}

function gasSection (): Section {
  const gasRows = rows('GAS', GAS, GAS_MEANING)
  return {
    name: 'gas table',
    lines: ['#### Gas table', '', '| constant | gas | charged for |', '|---|---|---|', ...gasRows.map(r => `| ${code(r.name)} | ${r.value} | ${cell(r.meaning)} |`), '']
  }
}

function limitSections (): Section[] {
  const inBytes = (k: string, v: number): string => /Bytes$/.test(k) ? bytesNum(v) : num(v)
  return [
    table('Gas per call', rows('GAS_LIMITS', GAS_LIMITS, {
      defaultCall: 'the gas limit used when a call names none (`invoke`\'s default; the CLI\'s `--gas` default)',
      maxCall: 'the largest gas limit a Call or Deploy may carry (`gasLimit` must be 1 ..= this)'
    })),
    table('Source code (reader)', rows('READER_LIMITS', READER_LIMITS, {
      maxCodeBytes: 'contract source, in UTF-8 bytes (`deploy.code` is also refused above this many characters)',
      maxNesting: 'parentheses open at once in the source',
      maxStringBytes: 'a string literal after escapes (counted in UTF-16 code units), and a byte literal (in bytes)',
      maxIntDigits: 'digits of an integer literal, the sign not counted'
    }, inBytes)),
    table('Module (checked at deploy)', rows('MODULE_LIMITS', MODULE_LIMITS, {
      maxFunctions: 'defuns in one contract',
      maxParams: 'parameters of one defun or fn',
      constGas: 'gas for evaluating all defconsts together, at deploy'
    })),
    table('Evaluation (per call)', rows('VM_LIMITS', VM_LIMITS, {
      maxDepth: 'nested evaluations (forms and function calls together) before the call aborts',
      maxListLength: 'elements of a list built by list, cons, append, concat or range; entries of a map grown by map-set',
      maxStringBytes: 'a string (UTF-16 code units) or byte string (bytes) built by concat',
      maxEvents: 'emits in one call',
      maxTransfers: 'transfers in one call',
      maxResultSize: 'size of a call\'s result: elements, plus one per 32 bytes of each string or byte string'
    }, inBytes)),
    table('Op bodies and ops', [
      ...rows('BODY_LIMITS', BODY_LIMITS, {
        maxArgs: 'arguments of a Call, and of a Deploy (for init)',
        maxFnName: 'characters of the function name in a Call',
        maxCallsPerExecute: 'calls one Execute runs'
      }),
      ...rows('OP_LIMITS', { maxDeps: OP_LIMITS.maxDeps, maxOpBytes: OP_LIMITS.maxOpBytes }, {
        maxDeps: 'deps of one op: a Call\'s deploy citation and credits; an Execute\'s calls and credits together',
        maxOpBytes: 'one encoded op, signature included (a Deploy carries its code)'
      }, inBytes)
    ])
  ]
}

function render (): { sections: Section[], block: string } {
  const sections = [...builtinSections(), gasSection(), ...limitSections()]
  const lines = [
    START,
    '<!-- Generated by bench/contract-docs.ts from src/core/vm/{builtins,gas,reader,compile}.ts and src/core/ledger/{body,op}.ts; do not edit by hand. -->',
    '',
    '### Builtins',
    '',
    `Gas in the table is charged on top of \`GAS.step\` for the form and the steps for its arguments. "host" marks builtins that need a running call. Every builtin is also reachable as \`%name\`, so a contract may define a function with a builtin's name (a token's \`transfer\`) and still call the builtin. ${BUILTINS.length} builtins:`,
    '',
    ...sections.filter(s => s.name.startsWith('builtins:')).flatMap(s => s.lines),
    '### Gas and limits',
    '',
    ...sections.filter(s => !s.name.startsWith('builtins:')).flatMap(s => s.lines),
    END
  ]
  return { sections, block: lines.join('\n') }
}

async function main (): Promise<number> {
  const check = process.argv.includes('--check')
  const doc = await readFile(DOC, 'utf8')
  const a = doc.indexOf(START)
  const b = doc.indexOf(END)
  if (a < 0 || b < a || doc.indexOf(START, a + 1) >= 0 || doc.indexOf(END, b + 1) >= 0) {
    throw new DocError(`docs/contracts.md must hold exactly one ${START} ... ${END} pair`)
  }
  const { sections, block } = render()
  const current = doc.slice(a, b + END.length)
  if (current === block) {
    console.log(`docs/contracts.md is up to date (${sections.length} tables)`)
    return 0
  }
  const stale = sections.filter(s => !current.includes(s.lines.join('\n'))).map(s => s.name)
  const what = stale.length > 0 ? stale.join(', ') : 'the text around the tables'
  if (check) {
    console.error(`docs/contracts.md is out of date: ${what}. Run: npx tsc -p . && node dist/bench/contract-docs.js`)
    return 1
  }
  await writeFile(DOC, doc.slice(0, a) + block + doc.slice(b + END.length))
  console.log(`docs/contracts.md: regenerated ${what}`)
  return 0
}

try {
  process.exitCode = await main()
} catch (err) {
  if (!(err instanceof DocError)) throw err
  console.error(err.message)
  process.exitCode = 1
}
