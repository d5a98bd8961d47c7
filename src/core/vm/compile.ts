// Deploy-time work: read the code, check every form (shape, unknown names, arity) so that a
// contract with a mistake is refused with line:column before anything is stored, evaluate its
// constants, and produce the Module the interpreter runs. Also the entry point for one call.

import type { Value } from '../codec/canonical.js'
import { BUILTIN_TABLE } from './builtins.js'
import { ContractError } from './errors.js'
import { GAS, GAS_LIMITS, VM_LIMITS } from './gas.js'
import { CONSTANTS, Context, SPECIAL_FORMS, builtinName } from './interpreter.js'
import type { FunctionDef, Host, Module } from './interpreter.js'
import { read } from './reader.js'
import type { Node, Pos } from './reader.js'
import { MAX_VALUE_DEPTH, fromCodec, measure, toCodec } from './values.js'
import type { VmValue } from './values.js'

export const MODULE_LIMITS = {
  maxFunctions: 256,
  maxParams: 16,
  /** Gas for evaluating all constants at deploy. */
  constGas: 100_000
} as const

type ListNode = Extract<Node, { t: 'list' }>

const RESERVED = new Set<string>([...SPECIAL_FORMS, ...CONSTANTS.keys(), 'defun', 'defconst', 'else'])

function fail (detail: string, pos: Pos): never {
  throw new ContractError('check', detail, pos)
}

function asList (n: Node | undefined, what: string, at: Pos): ListNode {
  if (n === undefined || n.t !== 'list') fail(`${what} must be a list`, n?.pos ?? at)
  return n
}

function asName (n: Node | undefined, what: string, at: Pos): string {
  if (n === undefined || n.t !== 'sym') fail(`${what} must be a name`, n?.pos ?? at)
  if (RESERVED.has(n.name)) fail(`"${n.name}" is reserved and cannot be ${what}`, n.pos)
  if (n.name.startsWith('%')) fail(`names starting with % are reserved for builtins ("${n.name}")`, n.pos)
  return n.name
}

function params (n: Node | undefined, at: Pos): string[] {
  const list = asList(n, 'the parameter list', at)
  if (list.items.length > MODULE_LIMITS.maxParams) fail(`more than ${MODULE_LIMITS.maxParams} parameters`, list.pos)
  const names = list.items.map(p => asName(p, 'a parameter', list.pos))
  if (new Set(names).size !== names.length) fail('a parameter name is repeated', list.pos)
  return names
}

interface Arities { readonly functions: ReadonlyMap<string, number>, readonly consts: ReadonlySet<string> }

/** Walks a body form; `locals` are the names in scope (parameters, let bindings, lambda parameters). */
function check (node: Node, locals: ReadonlySet<string>, top: Arities): void {
  switch (node.t) {
    case 'int': case 'str': case 'bytes': return
    case 'sym':
      if (locals.has(node.name) || CONSTANTS.has(node.name) || top.consts.has(node.name) || top.functions.has(node.name)) return
      if (BUILTIN_TABLE.has(builtinName(node.name))) fail(`builtin "${node.name}" cannot be used as a value; wrap it in (fn ...)`, node.pos)
      fail(`unknown name "${node.name}"`, node.pos)
  }
  const [head, ...rest] = node.items
  if (head === undefined) fail('empty form ()', node.pos)
  if (head.t !== 'sym') fail('a form must start with a name', head.pos)
  const name = head.name
  const need = (ok: boolean, shape: string): void => { if (!ok) fail(`${name} takes ${shape}`, node.pos) }
  switch (name) {
    case 'defun': case 'defconst':
      fail(`${name} is only allowed at the top level`, node.pos)
    // eslint-disable-next-line no-fallthrough
    case 'let': {
      need(rest.length >= 2, '((name value) ...) and a body')
      const inner = new Set(locals)
      for (const b of asList(rest[0], 'let bindings', node.pos).items) {
        const pair = asList(b, 'a let binding', node.pos)
        if (pair.items.length !== 2) fail('a let binding is (name value)', pair.pos)
        check(pair.items[1]!, inner, top)
        inner.add(asName(pair.items[0], 'a let binding name', pair.pos))
      }
      for (const f of rest.slice(1)) check(f, inner, top)
      return
    }
    case 'if': need(rest.length === 2 || rest.length === 3, 'a test, a then-form and an optional else-form'); break
    case 'cond': {
      need(rest.length >= 1, 'one or more (test form) clauses')
      rest.forEach((c, i) => {
        const clause = asList(c, 'a cond clause', node.pos)
        if (clause.items.length !== 2) fail('a cond clause is (test form)', clause.pos)
        const test = clause.items[0]!
        if (test.t === 'sym' && test.name === 'else') {
          if (i !== rest.length - 1) fail('else must be the last cond clause', test.pos)
        } else check(test, locals, top)
        check(clause.items[1]!, locals, top)
      })
      return
    }
    case 'do': need(rest.length >= 1, 'one or more forms'); break
    case 'enforce': need(rest.length === 2, 'a condition and a message'); break
    case 'and': case 'or': need(rest.length >= 1, 'one or more forms'); break
    case 'fn': {
      need(rest.length >= 2, '(params) and a body')
      const inner = new Set([...locals, ...params(rest[0], node.pos)])
      for (const f of rest.slice(1)) check(f, inner, top)
      return
    }
    default: {
      if (locals.has(name)) break // a function value held in a variable: its arity is checked when called
      const defArity = top.functions.get(name)
      if (defArity !== undefined) {
        if (rest.length !== defArity) fail(`${name} takes ${defArity} argument(s), got ${rest.length}`, node.pos)
        break
      }
      const builtin = BUILTIN_TABLE.get(builtinName(name))
      if (builtin === undefined) fail(`unknown function "${name}"`, head.pos)
      const [min, max] = typeof builtin.arity === 'number' ? [builtin.arity, builtin.arity] : builtin.arity
      if (rest.length < min || rest.length > max) {
        fail(`${name} takes ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`} argument(s), got ${rest.length}`, node.pos)
      }
    }
  }
  for (const f of rest) check(f, locals, top)
}

/** Reads and checks a contract; throws ContractError ('parse' or 'check') with line:column. */
export function compile (source: string): Module {
  const forms = read(source)
  const functions = new Map<string, FunctionDef>()
  const constForms: Array<{ name: string, expr: Node, pos: Pos }> = []
  const names = new Set<string>()
  for (const form of forms) {
    const list = asList(form, 'a top-level form', form.pos)
    const head = list.items[0]
    if (head?.t !== 'sym' || (head.name !== 'defun' && head.name !== 'defconst')) fail('only (defun ...) and (defconst ...) may appear at the top level', list.pos)
    const name = asName(list.items[1], `the ${head.name} name`, list.pos)
    if (names.has(name)) fail(`"${name}" is defined twice`, list.items[1]!.pos)
    names.add(name)
    if (head.name === 'defun') {
      if (list.items.length < 4) fail('defun takes a name, (params) and a body', list.pos)
      functions.set(name, { name, params: params(list.items[2], list.pos), body: list.items.slice(3), pos: list.pos })
    } else {
      if (list.items.length !== 3) fail('defconst takes a name and a value', list.pos)
      constForms.push({ name, expr: list.items[2]!, pos: list.pos })
    }
  }
  if (functions.size > MODULE_LIMITS.maxFunctions) fail(`more than ${MODULE_LIMITS.maxFunctions} functions`, { line: 1, col: 1 })
  const top: Arities = { functions: new Map([...functions].map(([n, f]) => [n, f.params.length])), consts: new Set(constForms.map(c => c.name)) }
  for (const f of functions.values()) for (const b of f.body) check(b, new Set(f.params), top)
  for (const c of constForms) check(c.expr, new Set(), top)

  // Constants are evaluated once, in order, with no host: they are part of the code.
  const consts = new Map<string, VmValue>()
  const module: Module = { functions, consts }
  const ctx = new Context(module, BUILTIN_TABLE, MODULE_LIMITS.constGas, undefined)
  for (const c of constForms) {
    try {
      const v = ctx.eval(c.expr, { vars: new Map() })
      toCodec(v) // a constant must be data
      consts.set(c.name, v)
    } catch (err) {
      if (err instanceof ContractError) throw new ContractError('check', `constant ${c.name}: ${err.detail}`, err.pos ?? c.pos)
      throw err
    }
  }
  return module
}

export type CallResult =
  | { readonly ok: true, readonly result: Value, readonly gasUsed: number }
  | { readonly ok: false, readonly error: ContractError, readonly gasUsed: number }

/** Runs `fn` with `args` against a host. Any failure is a result, never a throw. */
export function invoke (module: Module, fn: string, args: readonly Value[], host: Host, gasLimit: number = GAS_LIMITS.defaultCall): CallResult {
  const ctx = new Context(module, BUILTIN_TABLE, Math.min(gasLimit, GAS_LIMITS.maxCall), host)
  try {
    if (!module.functions.has(fn)) throw new ContractError('runtime', `the contract has no function "${fn}"`)
    const value = ctx.callFunction(fn, args.map(fromCodec), module.functions.get(fn)!.pos)
    const m = measure(value)
    if (m.depth > MAX_VALUE_DEPTH) throw new ContractError('runtime', `result nested deeper than ${MAX_VALUE_DEPTH}`)
    if (m.size > VM_LIMITS.maxResultSize) throw new ContractError('runtime', `result too large (${m.size} units of 32 bytes or one element; at most ${VM_LIMITS.maxResultSize}): store it and read it in parts`)
    ctx.charge((m.size - 1) * GAS.perElement) // encoding the result walks all of it
    const result = toCodec(value)
    return { ok: true, result, gasUsed: ctx.gasUsed }
  } catch (err) {
    if (err instanceof ContractError) return { ok: false, error: err, gasUsed: ctx.gasUsed }
    // Anything else is a bug in the VM, not in the contract; it must not take the node down.
    return { ok: false, error: new ContractError('runtime', `internal error: ${(err as Error).message}`), gasUsed: ctx.gasUsed }
  }
}
