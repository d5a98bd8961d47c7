// The contract interpreter: evaluates a checked module's functions over VM values, charging gas
// for every step from the one table in gas.ts. Deterministic to the step: no clocks, randomness
// or I/O are reachable, maps iterate in key order, and every limit is counted, never left to the
// JS stack. The host (the ledger) supplies caller, value, storage, transfers and events.

import type { Node, Pos } from './reader.js'
import { ContractError } from './errors.js'
import { GAS, VM_LIMITS } from './gas.js'
import { VmMap, checkInt, equal, typeName } from './values.js'
import type { Scope, VmFunction, VmValue } from './values.js'

export interface FunctionDef {
  readonly name: string
  readonly params: readonly string[]
  readonly body: readonly Node[]
  readonly pos: Pos
}

export interface Module {
  readonly functions: ReadonlyMap<string, FunctionDef>
  readonly consts: ReadonlyMap<string, VmValue>
}

/** What a contract may reach outside itself. */
export interface Host {
  readonly caller: Uint8Array
  readonly value: bigint
  readonly self: Uint8Array
  readonly now: bigint
  balance (): bigint
  get (key: VmValue): VmValue | undefined
  put (key: VmValue, value: VmValue): void
  del (key: VmValue): void
  transfer (to: Uint8Array, amount: bigint): void
  emit (name: string, data: VmValue): void
}

export interface Builtin {
  readonly name: string
  /** Exact argument count, or [min, max] (max Infinity for variadic). */
  readonly arity: number | readonly [number, number]
  /** Gas on top of the step, before any size-dependent part the implementation charges. */
  readonly gas: number
  readonly doc: string
  /** Host builtins are unavailable where no host is (constants at deploy). */
  readonly host?: boolean
  readonly fn: (args: VmValue[], ctx: Context, pos: Pos) => VmValue
}

/**
 * A contract's own function may take a builtin's name (a token's `transfer`); the builtin stays
 * reachable as `%name` (`(%transfer to amount)`), whatever the contract defines.
 */
export function builtinName (name: string): string {
  return name.startsWith('%') ? name.slice(1) : name
}

export const SPECIAL_FORMS = ['let', 'if', 'cond', 'do', 'enforce', 'fn', 'and', 'or'] as const
export const CONSTANTS: ReadonlyMap<string, VmValue> = new Map<string, VmValue>([['true', true], ['false', false], ['nil', null]])

/** Runs one call: gas accounting, depth, and the bridge from builtins back into evaluation. */
export class Context {
  gasUsed = 0
  /** Forms evaluated: reported by benchmarks next to gas. */
  steps = 0
  private depth = 0

  constructor (
    readonly module: Module,
    readonly builtins: ReadonlyMap<string, Builtin>,
    readonly gasLimit: number,
    readonly host: Host | undefined
  ) {}

  charge (amount: number, pos?: Pos): void {
    this.gasUsed += amount
    if (this.gasUsed > this.gasLimit) {
      this.gasUsed = this.gasLimit
      throw new ContractError('out-of-gas', `gas limit ${this.gasLimit} reached`, pos)
    }
  }

  requireHost (pos: Pos): Host {
    if (this.host === undefined) throw new ContractError('check', 'host functions are not available in constants', pos)
    return this.host
  }

  /** Calls a defun by name (from outside, or from map/filter/fold with a defun reference). */
  callFunction (name: string, args: readonly VmValue[], pos: Pos): VmValue {
    const def = this.module.functions.get(name)
    if (def === undefined) throw new ContractError('runtime', `no function "${name}"`, pos)
    if (def.params.length !== args.length) throw new ContractError('runtime', `${name} takes ${def.params.length} argument(s), got ${args.length}`, pos)
    return this.enter(def.params, args, def.body, { vars: new Map() }, pos)
  }

  apply (f: VmValue, args: readonly VmValue[], pos: Pos): VmValue {
    if (typeof f !== 'object' || f === null || !('kind' in f)) throw new ContractError('type', `expected a function, got ${typeName(f)}`, pos)
    const fn = f as VmFunction
    if (fn.kind === 'defun') return this.callFunction(fn.name, args, pos)
    if (fn.params.length !== args.length) throw new ContractError('runtime', `function takes ${fn.params.length} argument(s), got ${args.length}`, pos)
    return this.enter(fn.params, args, fn.body, fn.scope, pos)
  }

  private enter (params: readonly string[], args: readonly VmValue[], body: readonly Node[], scope: Scope, pos: Pos): VmValue {
    this.charge(GAS.call, pos)
    const vars = new Map<string, VmValue>()
    params.forEach((p, i) => vars.set(p, args[i]!))
    return this.body(body, { vars, parent: scope })
  }

  private body (forms: readonly Node[], scope: Scope): VmValue {
    let result: VmValue = null
    for (const f of forms) result = this.eval(f, scope)
    return result
  }

  eval (node: Node, scope: Scope): VmValue {
    this.steps++
    this.charge(GAS.step, node.pos)
    if (++this.depth > VM_LIMITS.maxDepth) throw new ContractError('runtime', `evaluation nested deeper than ${VM_LIMITS.maxDepth}`, node.pos)
    try {
      return this.evalNode(node, scope)
    } finally {
      this.depth--
    }
  }

  private evalNode (node: Node, scope: Scope): VmValue {
    switch (node.t) {
      case 'int': return node.v
      case 'str': return node.v
      case 'bytes': return node.v
      case 'sym': return this.lookup(node.name, scope, node.pos)
      case 'list': break
    }
    const [head, ...rest] = node.items
    if (head === undefined || head.t !== 'sym') throw new ContractError('check', 'a form must start with a name', node.pos)
    switch (head.name) {
      case 'let': {
        // bindings are sequential: each opens a scope of its own, so it sees the ones before it
        // and a lambda made by one binding never sees a later binding of the same name
        let inner: Scope = scope
        for (const b of (rest[0] as Extract<Node, { t: 'list' }>).items) {
          const [name, expr] = (b as Extract<Node, { t: 'list' }>).items as [Extract<Node, { t: 'sym' }>, Node]
          inner = { vars: new Map([[name.name, this.eval(expr, inner)]]), parent: inner }
        }
        return this.body(rest.slice(1), inner)
      }
      case 'if': {
        const test = this.truthy(this.eval(rest[0]!, scope), rest[0]!.pos)
        if (test) return this.eval(rest[1]!, scope)
        return rest[2] === undefined ? null : this.eval(rest[2], scope)
      }
      case 'cond': {
        for (const clause of rest as Array<Extract<Node, { t: 'list' }>>) {
          const [test, expr] = clause.items as [Node, Node]
          if ((test.t === 'sym' && test.name === 'else') || this.truthy(this.eval(test, scope), test.pos)) return this.eval(expr, scope)
        }
        return null
      }
      case 'do': return this.body(rest, scope)
      case 'enforce': {
        const ok = this.truthy(this.eval(rest[0]!, scope), rest[0]!.pos)
        if (!ok) {
          const msg = this.eval(rest[1]!, scope)
          throw new ContractError('enforce', typeof msg === 'string' ? msg : 'enforce failed', node.pos)
        }
        return true
      }
      case 'fn': {
        const params = (rest[0] as Extract<Node, { t: 'list' }>).items.map(p => (p as Extract<Node, { t: 'sym' }>).name)
        return { kind: 'lambda', params, body: rest.slice(1), scope }
      }
      case 'and': {
        for (const e of rest) if (!this.truthy(this.eval(e, scope), e.pos)) return false
        return true
      }
      case 'or': {
        for (const e of rest) if (this.truthy(this.eval(e, scope), e.pos)) return true
        return false
      }
    }
    const args = rest.map(a => this.eval(a, scope))
    if (this.module.functions.has(head.name) && !this.isLocal(head.name, scope)) return this.callFunction(head.name, args, node.pos)
    const local = this.findLocal(head.name, scope)
    if (local !== undefined) return this.apply(local, args, node.pos)
    const builtin = this.builtins.get(builtinName(head.name))
    if (builtin === undefined) throw new ContractError('runtime', `unknown function "${head.name}"`, head.pos)
    this.charge(builtin.gas, node.pos)
    return builtin.fn(args, this, node.pos)
  }

  truthy (v: VmValue, pos: Pos): boolean {
    if (typeof v !== 'boolean') throw new ContractError('type', `expected a boolean, got ${typeName(v)}`, pos)
    return v
  }

  private isLocal (name: string, scope: Scope): boolean {
    return this.findLocal(name, scope) !== undefined
  }

  private findLocal (name: string, scope: Scope | undefined): VmValue | undefined {
    for (let s = scope; s !== undefined; s = s.parent) if (s.vars.has(name)) return s.vars.get(name)
    return undefined
  }

  private lookup (name: string, scope: Scope, pos: Pos): VmValue {
    const local = this.findLocal(name, scope)
    if (local !== undefined) return local
    const c = CONSTANTS.get(name)
    if (c !== undefined) return c
    const k = this.module.consts.get(name)
    if (k !== undefined) return k
    if (this.module.functions.has(name)) return { kind: 'defun', name }
    throw new ContractError('runtime', `unknown name "${name}"`, pos)
  }
}

// ---------------------------------------------------------------------------------------------
// Argument helpers for builtins

export function int (v: VmValue, pos: Pos, what = 'argument'): bigint {
  if (typeof v !== 'bigint') throw new ContractError('type', `${what} must be an integer, got ${typeName(v)}`, pos)
  return v
}

export function str (v: VmValue, pos: Pos, what = 'argument'): string {
  if (typeof v !== 'string') throw new ContractError('type', `${what} must be a string, got ${typeName(v)}`, pos)
  return v
}

export function bytes (v: VmValue, pos: Pos, what = 'argument'): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new ContractError('type', `${what} must be bytes, got ${typeName(v)}`, pos)
  return v
}

export function list (v: VmValue, pos: Pos, what = 'argument'): readonly VmValue[] {
  if (!Array.isArray(v)) throw new ContractError('type', `${what} must be a list, got ${typeName(v)}`, pos)
  return v
}

export function map (v: VmValue, pos: Pos, what = 'argument'): VmMap {
  if (!(v instanceof VmMap)) throw new ContractError('type', `${what} must be a map, got ${typeName(v)}`, pos)
  return v
}

export function checkedList (items: VmValue[], pos: Pos): VmValue[] {
  if (items.length > VM_LIMITS.maxListLength) throw new ContractError('runtime', `list longer than ${VM_LIMITS.maxListLength}`, pos)
  return items
}

export { checkInt, equal }
