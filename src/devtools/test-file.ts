// The test file format: `<name>.test.lisp`, read by the contract language's own reader and checked
// here, whole, before anything runs, so a malformed file fails at once with the line:column of the
// form at fault. Each form becomes a Step; docs/contract-testing.md describes every one.

import { MAX_AMOUNT } from '../core/ledger/body.js'
import { BUILTIN_TABLE } from '../core/vm/builtins.js'
import { CONSTANTS, SPECIAL_FORMS } from '../core/vm/interpreter.js'
import { GAS_LIMITS } from '../core/vm/gas.js'
import type { Node, Pos } from '../core/vm/reader.js'
import { TestFileError } from './errors.js'

export interface Name { readonly name: string, readonly pos: Pos }

export interface AccountStep { readonly kind: 'account', readonly pos: Pos, readonly name: Name, readonly balance: bigint }
export interface DeployStep {
  readonly kind: 'deploy', readonly pos: Pos, readonly name: Name, readonly path: string, readonly code: string,
  readonly args: readonly Node[], readonly as?: Name, readonly gas?: number
}
export interface CallStep {
  readonly kind: 'call', readonly pos: Pos, readonly contract?: Name, readonly fn: string, readonly args: readonly Node[],
  readonly as?: Name, readonly value?: bigint, readonly gas?: number, readonly time?: number
}
export interface QueryStep {
  readonly kind: 'query', readonly pos: Pos, readonly contract?: Name, readonly expr: Node,
  readonly as?: Name, readonly gas?: number, readonly time?: number
}
export interface TransferStep { readonly kind: 'transfer', readonly pos: Pos, readonly from: Name, readonly to: Name, readonly amount: bigint }
/** A test expression: contract-language code evaluated outside any contract, names standing for keys. */
export interface ExprAction { readonly kind: 'expr', readonly pos: Pos, readonly node: Node }
export type Action = CallStep | QueryStep | DeployStep | TransferStep | ExprAction
type Operation = Exclude<Action, ExprAction>

export type Step =
  | AccountStep | DeployStep | CallStep | QueryStep | TransferStep
  | { readonly kind: 'as', readonly pos: Pos, readonly name: Name }
  | { readonly kind: 'time', readonly pos: Pos, readonly time: number }
  | { readonly kind: 'expect', readonly pos: Pos, readonly desc: string, readonly expected: Node, readonly action: Action }
  | { readonly kind: 'expect-failure', readonly pos: Pos, readonly desc: string, readonly substring?: string, readonly action: Action }
  | { readonly kind: 'expect-event', readonly pos: Pos, readonly desc: string, readonly event: string, readonly data?: Node }

export interface Test { readonly name: string, readonly pos: Pos, readonly steps: readonly Step[] }
export interface TestFile { readonly setup: readonly Step[], readonly tests: readonly Test[] }

/** Reads a contract named by a deploy, for the parser (relative to the test file, bounded). */
export type ContractLoader = (path: string, pos: Pos) => string

/** The heads of test-language forms: not usable as account or contract names. */
export const KEYWORDS = new Set(['account', 'deploy', 'call', 'query', 'transfer', 'as', 'time', 'expect', 'expect-failure', 'expect-event', 'test', 'balance'])
const RESERVED = new Set<string>([...KEYWORDS, ...SPECIAL_FORMS, ...CONSTANTS.keys(), 'defun', 'defconst', 'else'])

type List = Extract<Node, { t: 'list' }>

/** A name of the language or of this format: an account or contract named so would shadow it. */
export function isLanguageName (name: string): boolean {
  return RESERVED.has(name) || BUILTIN_TABLE.has(name) || name.startsWith('%')
}

/** Turns a file's top-level forms into its setup steps and tests. */
export function parseTestFile (forms: readonly Node[], file: string, load: ContractLoader): TestFile {
  const p = new Parser(file, load)
  const setup: Step[] = []
  const tests: Test[] = []
  for (const form of forms) {
    const list = p.list(form, 'a top-level form')
    if (p.head(list) === 'test') {
      const name = p.string(list.items[1], list, 'the test name')
      if (tests.some(t => t.name === name)) p.fail(list.pos, `a test named "${name}" is already defined`)
      if (list.items.length < 3) p.fail(list.pos, 'a test needs at least one step after its name')
      tests.push({ name, pos: list.pos, steps: list.items.slice(2).map(s => p.step(s)) })
    } else {
      if (tests.length > 0) p.fail(list.pos, 'setup forms come before the first (test ...)')
      setup.push(p.step(form))
    }
  }
  return { setup, tests }
}

/** One form typed at a REPL: a step, (balance NAME) to print, or any other expression to query. */
export function parseReplForm (form: Node, file: string, load: ContractLoader): Step | ExprAction {
  const p = new Parser(file, load)
  if (form.t === 'list' && form.items[0]?.t === 'sym' && form.items[0].name === 'balance' && form.items.length === 2) return { kind: 'expr', pos: form.pos, node: p.expr(form) }
  if (form.t === 'list' && form.items[0]?.t === 'sym' && KEYWORDS.has(form.items[0].name) && !isContractBalance(form)) {
    if (form.items[0].name === 'test') p.fail(form.pos, 'tests belong in a .test.lisp file; run it with `bftnode contract test`')
    return p.step(form)
  }
  return p.query({ t: 'list', items: [{ t: 'sym', name: 'query', pos: form.pos }, form], pos: form.pos })
}

/** `(balance)` with no argument is the contract builtin, not the test form `(balance NAME)`. */
function isContractBalance (form: List): boolean {
  return form.items[0]?.t === 'sym' && form.items[0].name === 'balance' && form.items.length === 1
}

class Parser {
  private readonly loaded = new Map<string, string>()
  constructor (private readonly file: string, private readonly load: ContractLoader) {}

  fail (pos: Pos, detail: string): never {
    throw new TestFileError(this.file, pos, detail)
  }

  list (n: Node, what: string): List {
    if (n.t !== 'list') this.fail(n.pos, `${what} must be a form in parentheses`)
    return n
  }

  head (l: List): string {
    const h = l.items[0]
    if (h?.t !== 'sym') this.fail(l.pos, 'a form must start with a name')
    return h.name
  }

  string (n: Node | undefined, at: List, what: string): string {
    if (n?.t !== 'str') this.fail(n?.pos ?? at.pos, `${what} must be a string`)
    return n.v
  }

  name (n: Node | undefined, at: List, what: string): Name {
    if (n?.t !== 'sym') this.fail(n?.pos ?? at.pos, `${what} must be a name`)
    return { name: n.name, pos: n.pos }
  }

  /** A name for a new account or contract: it stands for a key in expressions, so it must not shadow the language. */
  newName (n: Node | undefined, at: List, what: string): Name {
    const name = this.name(n, at, what)
    if (isLanguageName(name.name)) {
      this.fail(name.pos, `"${name.name}" is a name of the language and cannot name ${what.replace(/^the /, 'an ')}`)
    }
    return name
  }

  int (n: Node | undefined, at: List, what: string, min: bigint, max: bigint): bigint {
    if (n?.t !== 'int') this.fail(n?.pos ?? at.pos, `${what} must be an integer`)
    if (n.v < min || n.v > max) this.fail(n.pos, `${what} must be between ${min} and ${max}`)
    return n.v
  }

  arity (l: List, min: number, max: number, shape: string): void {
    const n = l.items.length - 1
    if (n < min || n > max) this.fail(l.pos, `${this.head(l)} takes ${shape}`)
  }

  step (n: Node): Step {
    const l = this.list(n, 'a step')
    const head = this.head(l)
    const it = l.items
    switch (head) {
      case 'account':
        this.arity(l, 2, 2, 'a name and a balance: (account NAME BALANCE)')
        return { kind: 'account', pos: l.pos, name: this.newName(it[1], l, 'the account'), balance: this.int(it[2], l, 'the balance', 0n, MAX_AMOUNT) }
      case 'deploy': case 'call': case 'query': case 'transfer': return this.action(l)
      case 'as':
        this.arity(l, 1, 1, 'an account name: (as NAME)')
        return { kind: 'as', pos: l.pos, name: this.name(it[1], l, 'the caller') }
      case 'time':
        this.arity(l, 1, 1, 'a time in ms: (time MS)')
        return { kind: 'time', pos: l.pos, time: Number(this.int(it[1], l, 'the time', 0n, BigInt(Number.MAX_SAFE_INTEGER))) }
      case 'expect':
        this.arity(l, 3, 3, 'a description, the expected value and an action: (expect "what" EXPECTED ACTION)')
        return { kind: 'expect', pos: l.pos, desc: this.string(it[1], l, 'the description'), expected: this.expr(it[2]!), action: this.actionOrExpr(it[3]!) }
      case 'expect-failure': {
        this.arity(l, 2, 3, 'a description, an optional error substring and an action: (expect-failure "what" ["error"] ACTION)')
        const substring = it.length === 4 ? { substring: this.string(it[2], l, 'the expected error') } : {}
        return { kind: 'expect-failure', pos: l.pos, desc: this.string(it[1], l, 'the description'), ...substring, action: this.actionOrExpr(it.at(-1)!) }
      }
      case 'expect-event': {
        this.arity(l, 2, 3, 'a description, an event name and optional data: (expect-event "what" "name" [DATA])')
        const data = it.length === 4 ? { data: this.expr(it[3]!) } : {}
        return { kind: 'expect-event', pos: l.pos, desc: this.string(it[1], l, 'the description'), event: this.string(it[2], l, 'the event name'), ...data }
      }
      case 'test': return this.fail(l.pos, 'a test cannot hold another test; (test ...) is a top-level form')
      case 'balance': return this.fail(l.pos, '(balance NAME) is a value: use it in an expect, e.g. (expect "what" 100 (balance alice))')
      default: return this.fail(l.pos, `unknown form "${head}" (one of: ${[...KEYWORDS].join(', ')})`)
    }
  }

  private actionOrExpr (n: Node): Action {
    if (n.t === 'list' && n.items[0]?.t === 'sym' && ['deploy', 'call', 'query', 'transfer'].includes(n.items[0].name)) return this.action(n)
    return { kind: 'expr', pos: n.pos, node: this.expr(n) }
  }

  private action (l: List): Operation {
    const it = l.items
    switch (this.head(l)) {
      case 'deploy': {
        if (it.length < 3) this.fail(l.pos, 'deploy takes a name, a file and options: (deploy NAME "file.lisp" (args ...) (as NAME) (gas N))')
        const path = this.string(it[2], l, 'the contract file')
        const opts = this.options(it.slice(3), l, ['args', 'as', 'gas'])
        return { kind: 'deploy', pos: l.pos, name: this.newName(it[1], l, 'the contract'), path, code: this.contract(path, it[2]!.pos), args: opts.args ?? [], ...pick(opts, 'as', 'gas') }
      }
      case 'call': {
        const named = it[1]?.t === 'sym'
        const call = it[named ? 2 : 1]
        if (call?.t !== 'list' || call.items[0]?.t !== 'sym') this.fail(call?.pos ?? l.pos, 'call takes an optional contract, then (FUNCTION ARG ...): (call [CONTRACT] (fn arg ...) (as NAME) (value N) (gas N) (time MS))')
        const opts = this.options(it.slice(named ? 3 : 2), l, ['as', 'value', 'gas', 'time'])
        const contract = named ? { contract: this.name(it[1], l, 'the contract') } : {}
        return { kind: 'call', pos: l.pos, ...contract, fn: call.items[0].name, args: call.items.slice(1).map(a => this.expr(a)), ...pick(opts, 'as', 'value', 'gas', 'time') }
      }
      case 'query': return this.query(l)
      case 'transfer':
        this.arity(l, 3, 3, 'a payer, a payee and an amount: (transfer FROM TO AMOUNT)')
        return { kind: 'transfer', pos: l.pos, from: this.name(it[1], l, 'the payer'), to: this.name(it[2], l, 'the payee'), amount: this.int(it[3], l, 'the amount', 1n, MAX_AMOUNT) }
      default: return this.fail(l.pos, `${this.head(l)} is not an action`)
    }
  }

  query (l: List): QueryStep {
    const it = l.items
    // (query EXPR opts) or (query CONTRACT EXPR opts): the contract is named when a second non-option follows it
    const named = it[1]?.t === 'sym' && it[2] !== undefined && !this.isOption(it[2], OPTIONS_OF_QUERY)
    const expr = it[named ? 2 : 1]
    if (expr === undefined) this.fail(l.pos, 'query takes an optional contract, then an expression: (query [CONTRACT] EXPR (as NAME) (gas N) (time MS))')
    const opts = this.options(it.slice(named ? 3 : 2), l, OPTIONS_OF_QUERY)
    const contract = named ? { contract: this.name(it[1], l, 'the contract') } : {}
    return { kind: 'query', pos: l.pos, ...contract, expr: this.checkNested(expr, false), ...pick(opts, 'as', 'gas', 'time') }
  }

  private isOption (n: Node, names: readonly string[]): boolean {
    return n.t === 'list' && n.items[0]?.t === 'sym' && names.includes(n.items[0].name)
  }

  private options (items: readonly Node[], at: List, allowed: readonly string[]): Opts {
    const out: { -readonly [K in keyof Opts]: Opts[K] } = {}
    for (const n of items) {
      if (!this.isOption(n, allowed)) this.fail(n.pos, `expected an option of ${this.head(at)}: ${allowed.map(a => `(${a} ...)`).join(', ')}`)
      const o = n as List
      const name = (o.items[0] as { name: keyof Opts }).name
      if (out[name] !== undefined) this.fail(o.pos, `option ${name} is given twice`)
      const one = (): Node => {
        if (o.items.length !== 2) this.fail(o.pos, `(${name} ...) takes one value`)
        return o.items[1]!
      }
      switch (name) {
        case 'args': out.args = o.items.slice(1).map(a => this.expr(a)); break
        case 'as': out.as = this.name(one(), o, 'the caller'); break
        case 'value': out.value = this.int(one(), o, 'the value', 0n, MAX_AMOUNT); break
        case 'gas': out.gas = Number(this.int(one(), o, 'the gas limit', 1n, BigInt(GAS_LIMITS.maxCall))); break
        case 'time': out.time = Number(this.int(one(), o, 'the time', 0n, BigInt(Number.MAX_SAFE_INTEGER))); break
      }
    }
    return out
  }

  /** A test expression: any contract-language form; (query ...) and (balance NAME) may appear inside. */
  expr (n: Node): Node {
    return this.checkNested(n, true)
  }

  /** Checks the test forms nested in an expression; in a query's own expression (contract code) there are none. */
  private checkNested (n: Node, reads: boolean): Node {
    if (n.t !== 'list') return n
    const head = n.items[0]
    if (head?.t === 'sym' && reads) {
      if (head.name === 'query') { this.query(n); return n }
      if (head.name === 'balance') {
        this.arity(n, 1, 1, 'an account or contract name: (balance NAME)')
        this.name(n.items[1], n, 'the account')
        return n
      }
      if (['call', 'deploy', 'transfer'].includes(head.name)) this.fail(n.pos, `${head.name} changes the chain: it can be a step, or the whole action of an expect, not part of an expression`)
    }
    for (const item of n.items) this.checkNested(item, reads)
    return n
  }

  private contract (path: string, pos: Pos): string {
    let code = this.loaded.get(path)
    if (code === undefined) this.loaded.set(path, code = this.load(path, pos))
    return code
  }
}

const OPTIONS_OF_QUERY = ['as', 'gas', 'time']

interface Opts { args?: Node[], as?: Name, value?: bigint, gas?: number, time?: number }

/** The options that are set, as optional properties (never present as undefined). */
function pick<K extends keyof Opts> (o: Opts, ...keys: K[]): Pick<Opts, K> {
  const out: Partial<Opts> = {}
  for (const k of keys) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k]
  return out as Pick<Opts, K>
}

/** A (query ...) met inside an expression while it runs (already checked with its file). */
export function nestedQuery (l: List, file: string): QueryStep {
  return new Parser(file, (_path, pos) => { throw new TestFileError(file, pos, 'no deploy here') }).query(l)
}
