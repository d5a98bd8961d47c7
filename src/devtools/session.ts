// Runs the steps of a test file, or forms typed at the REPL, against a local chain. A session
// knows who calls by default, the time the next Execute carries, the contracts deployed by name
// and the events of the last call. Every call, query and deploy is logged with its gas. An
// expectation that does not hold is reported and the test goes on; any other step that fails (an
// unknown name, a call meant to work) stops the test with a StepError.

import type { Value } from '../core/codec/canonical.js'
import { toHex } from '../core/crypto/hash.js'
import { BftError } from '../core/errors.js'
import type { ContractEvent } from '../core/ledger/contracts.js'
import type { Slot } from '../core/ledger/op.js'
import { compile } from '../core/vm/compile.js'
import { ContractError } from '../core/vm/errors.js'
import { GAS_LIMITS } from '../core/vm/gas.js'
import type { Module } from '../core/vm/interpreter.js'
import type { Node, Pos } from '../core/vm/reader.js'
import { equal, fromCodec, toCodec } from '../core/vm/values.js'
import type { VmValue } from '../core/vm/values.js'
import { LocalChainError } from './errors.js'
import { LocalChain } from './local-chain.js'
import { render, unread, valueSource } from './syntax.js'
import { nestedQuery } from './test-file.js'
import type { Action, CallStep, DeployStep, Name, QueryStep, Step, TransferStep } from './test-file.js'

/** A step that could not do what it says: the test stops here. */
export class StepError extends BftError {
  readonly code = 'ERR_TEST_STEP'
  constructor (readonly pos: Pos, readonly detail: string) {
    super(`${pos.line}:${pos.col}: ${detail}`)
  }
}

/** An expectation that did not hold: where, what, and the expected and actual lines. */
export interface Failure { readonly pos: Pos, readonly message: string, readonly details: readonly string[] }

export interface SessionHooks {
  /** One line per call, query, deploy and transfer, with its result and gas. */
  log (line: string): void
  fail (failure: Failure): void
  /** Log the events of each call too (the REPL does). */
  readonly events?: boolean
  /** A failed call, deploy or transfer step stops the test (a REPL only reports it). */
  readonly strict?: boolean
}

export interface DeployedContract { readonly name: string, readonly address: Uint8Array, readonly deployedAt: Slot, readonly path: string }

interface State {
  caller?: string
  time: number
  current?: string
  readonly contracts: Map<string, DeployedContract>
  events: readonly ContractEvent[]
}

type Result = { readonly ok: true, readonly value: VmValue } | { readonly ok: false, readonly error: string }

/** Long source or values are cut in log lines; the whole of them is rarely what a person needs. */
const clip = (s: string, n = 160): string => s.length > n ? `${s.slice(0, n - 1)}…` : s

export class Session {
  private constructor (readonly chain: LocalChain, private readonly state: State, readonly file: string, private readonly hooks: SessionHooks) {}

  static start (file: string, hooks: SessionHooks): Session {
    return new Session(new LocalChain({ network: 'contract-test' }), { time: 0, contracts: new Map(), events: [] }, file, hooks)
  }

  /** A copy to run a test in: chain and defaults are the same, and nothing done on one is seen by the other. */
  fork (hooks: SessionHooks = this.hooks): Session {
    return new Session(this.chain.fork(), { ...this.state, contracts: new Map(this.state.contracts) }, this.file, hooks)
  }

  get caller (): string | undefined { return this.state.caller }
  get time (): number { return this.state.time }
  get current (): DeployedContract | undefined { return this.state.current === undefined ? undefined : this.state.contracts.get(this.state.current) }

  /** Prints a value for people, keys as the names of accounts and contracts. */
  render (v: VmValue): string {
    return render(v, key => this.chain.nameOf(key) ?? [...this.state.contracts.values()].find(c => toHex(c.address) === toHex(key))?.name)
  }

  run (step: Step): void {
    try {
      this.step(step)
    } catch (err) {
      if (err instanceof LocalChainError) throw new StepError(step.pos, err.message)
      throw err
    }
  }

  private step (s: Step): void {
    switch (s.kind) {
      case 'account': {
        if (this.state.contracts.has(s.name.name)) throw new StepError(s.name.pos, `"${s.name.name}" already names a contract`)
        this.chain.addAccount(s.name.name, s.balance)
        this.state.caller ??= s.name.name
        return
      }
      case 'as': this.state.caller = this.account(s.name); return
      case 'time': this.state.time = s.time; return
      case 'expect': return this.expect(s.pos, s.desc, s.action, s.expected)
      case 'expect-failure': return this.expectFailure(s.pos, s.desc, s.action, s.substring)
      case 'expect-event': return this.expectEvent(s.pos, s.desc, s.event, s.data)
      default: {
        const r = this.action(s)
        if (!r.ok && this.hooks.strict === true) throw new StepError(s.pos, `${s.kind} failed: ${r.error}`)
      }
    }
  }

  private expect (pos: Pos, desc: string, action: Action, expectedNode: Node): void {
    const r = this.action(action)
    const expected = this.value(expectedNode)
    if (!r.ok) this.hooks.fail({ pos, message: `expect "${desc}": it failed`, details: [`expected: ${this.render(expected)}`, `error:    ${r.error}`] })
    else if (!equal(expected, r.value)) this.hooks.fail({ pos, message: `expect "${desc}"`, details: [`expected: ${this.render(expected)}`, `actual:   ${this.render(r.value)}`] })
  }

  private expectFailure (pos: Pos, desc: string, action: Action, substring: string | undefined): void {
    const r = this.action(action)
    if (r.ok) {
      this.hooks.fail({ pos, message: `expect-failure "${desc}": it succeeded`, details: [`expected: a failure${substring === undefined ? '' : ` containing ${JSON.stringify(substring)}`}`, `actual:   ${this.render(r.value)}`] })
    } else if (substring !== undefined && !r.error.includes(substring)) {
      this.hooks.fail({ pos, message: `expect-failure "${desc}": another error`, details: [`expected: an error containing ${JSON.stringify(substring)}`, `actual:   ${r.error}`] })
    }
  }

  private expectEvent (pos: Pos, desc: string, name: string, dataNode: Node | undefined): void {
    const data = dataNode === undefined ? undefined : this.value(dataNode)
    const events = this.state.events
    if (events.some(e => e.name === name && (data === undefined || equal(fromCodec(e.data), data)))) return
    const emitted = events.map(e => `emitted:  ${e.name} ${this.render(fromCodec(e.data))}`)
    this.hooks.fail({
      pos,
      message: `expect-event "${desc}": not emitted by the last call`,
      details: [`expected: ${name}${data === undefined ? '' : ` ${this.render(data)}`}`, ...(emitted.length > 0 ? emitted : ['emitted:  nothing'])]
    })
  }

  /** Runs an action; what failed in the contract or the ledger is a result, a mistake in the test is thrown. */
  action (a: Action): Result {
    switch (a.kind) {
      case 'call': return this.call(a)
      case 'query': return this.query(a)
      case 'deploy': return this.deploy(a)
      case 'transfer': return this.transfer(a)
      case 'expr': return { ok: true, value: this.value(a.node) }
    }
  }

  private call (s: CallStep): Result {
    const c = this.contract(s.contract, s.pos)
    const from = s.as === undefined ? this.defaultCaller(s.pos) : this.account(s.as)
    const args = s.args.map(a => this.data(a))
    this.checkCall(c, s.fn, args.length, s.pos)
    // as on the network, a sequencer's clock never goes back: a call runs at the contract's last time or later
    const time = Math.max(s.time ?? this.state.time, this.chain.ledger.contract(c.address)!.lastTime)
    const value = s.value ?? 0n
    const what = `call ${c.name} ${clip(`(${[s.fn, ...args.map(a => this.render(fromCodec(a)))].join(' ')})`)} as ${from}${value > 0n ? ` value ${value}` : ''}${time > 0 ? ` at ${time}` : ''}`
    this.state.events = []
    const { id, outcome } = this.chain.call(from, c, s.fn, args, value, s.gas ?? GAS_LIMITS.defaultCall)
    if (outcome.status === 'rejected') return this.failed(what, `call op rejected (${outcome.reason}): ${outcome.detail}`)
    this.chain.execute(c, time)
    const out = this.chain.ledger.callOutcome(id)
    if (out?.status === 'ok') return this.succeeded(what, out.result, out.gasUsed, out.events)
    if (out?.status === 'error') return this.failed(what, out.error, out.gasUsed)
    return this.failed(what, `the call was not executed (${out?.status ?? 'no outcome'})`)
  }

  private query (s: QueryStep): Result {
    const c = this.contract(s.contract, s.pos)
    const caller = this.chain.key(s.as === undefined ? this.defaultCaller(s.pos) : this.account(s.as))
    const state = this.chain.ledger.contract(c.address)!
    const e = s.expr
    const what = `query ${c.name} ${clip(unread(e))}`
    // a call of one of the contract's functions runs as a call would, for the same gas; any other
    // expression runs as the body of a function added to a copy of the contract
    const direct = e.t === 'list' && e.items[0]?.t === 'sym' && state.module.functions.has(e.items[0].name)
    let fn: string
    let args: Value[] = []
    let module: Module | undefined
    if (direct) {
      fn = (e.items[0] as { name: string }).name
      args = e.items.slice(1).map(a => this.data(a))
      this.checkCall(c, fn, args.length, s.pos)
    } else {
      fn = freshName(state.module)
      // the contract's own constants and functions are in scope there: they are not keys
      const own = new Set([...state.module.consts.keys(), ...state.module.functions.keys()])
      module = this.compiled(`${state.code}\n(defun ${fn} () ${this.source(e, false, own)})`, e)
    }
    const res = this.chain.query(c.address, fn, args, { caller, time: s.time ?? this.state.time, gasLimit: s.gas ?? GAS_LIMITS.defaultCall, ...(module === undefined ? {} : { module }) })
    return res.ok ? this.succeeded(what, res.result, res.gasUsed, res.events, false) : this.failed(what, res.error.message, res.gasUsed)
  }

  private deploy (s: DeployStep): Result {
    if (this.keyOf(s.name.name) !== undefined) throw new StepError(s.name.pos, `"${s.name.name}" already names an account or contract`)
    const from = s.as === undefined ? this.defaultCaller(s.pos) : this.account(s.as)
    const args = s.args.map(a => this.data(a))
    const what = `deploy ${s.name.name} (${s.path}) as ${from}`
    this.state.events = []
    const d = this.chain.deploy(from, s.code, args, s.gas ?? GAS_LIMITS.defaultCall)
    if (d.outcome.status === 'rejected') return this.failed(what, `deploy rejected (${d.outcome.reason}): ${d.outcome.detail}`)
    this.state.contracts.set(s.name.name, { name: s.name.name, address: d.address, deployedAt: d.deployedAt, path: s.path })
    this.state.current = s.name.name
    if (d.init?.status === 'ok') return this.succeeded(`${what}, init`, d.init.result, d.init.gasUsed, d.init.events)
    this.hooks.log(`${what}: no init`)
    return { ok: true, value: true }
  }

  private transfer (s: TransferStep): Result {
    const from = this.account(s.from)
    const to = this.key(s.to)
    const outcome = this.chain.transfer(from, to, s.amount)
    const what = `transfer ${s.amount} from ${from} to ${s.to.name}`
    if (outcome.status === 'rejected') return this.failed(what, `transfer rejected (${outcome.reason}): ${outcome.detail}`)
    this.hooks.log(`${what}: applied`)
    return { ok: true, value: true }
  }

  private succeeded (what: string, result: Value, gas: number, events: readonly ContractEvent[], lasting = true): Result {
    const value = fromCodec(result)
    this.hooks.log(`${what}: ${clip(this.render(value))}, ${gas} gas`)
    if (lasting) this.state.events = events
    if (this.hooks.events === true) for (const e of events) this.hooks.log(`  event ${e.name} ${clip(this.render(fromCodec(e.data)))}${lasting ? '' : ' (query: not kept)'}`)
    return { ok: true, value }
  }

  private failed (what: string, error: string, gas?: number): Result {
    this.hooks.log(`${what}: error ${error}${gas === undefined ? '' : `, ${gas} gas`}`)
    return { ok: false, error }
  }

  // -------------------------------------------------------------------------------------------
  // Names and test expressions

  private keyOf (name: string): Uint8Array | undefined {
    return this.state.contracts.get(name)?.address ?? (this.chain.hasAccount(name) ? this.chain.key(name) : undefined)
  }

  private key (n: Name): Uint8Array {
    const key = this.keyOf(n.name)
    if (key === undefined) throw new StepError(n.pos, `no account or contract "${n.name}"`)
    return key
  }

  private account (n: Name): string {
    if (!this.chain.hasAccount(n.name)) throw new StepError(n.pos, `no account "${n.name}" (declare it with (account ${n.name} BALANCE))`)
    return n.name
  }

  private defaultCaller (pos: Pos): string {
    if (this.state.caller === undefined) throw new StepError(pos, 'no caller: declare an account first, or say (as NAME)')
    return this.state.caller
  }

  /**
   * A function the contract does not have, or the wrong number of arguments, is a mistake in the
   * test (a typo), not a failure to expect: the network would run the call and fail it, and an
   * expect-failure would pass whatever the contract does. Calling init stays a call: the ledger
   * refuses it (bad-call), which a test may well expect.
   */
  private checkCall (c: DeployedContract, fn: string, argc: number, pos: Pos): void {
    if (fn === 'init') return
    const def = this.chain.ledger.contract(c.address)!.module.functions.get(fn)
    if (def === undefined) throw new StepError(pos, `${c.name} has no function "${fn}"`)
    if (def.params.length !== argc) throw new StepError(pos, `${fn} takes ${def.params.length} argument(s) (${def.params.join(', ')}), got ${argc}`)
  }

  private contract (n: Name | undefined, pos: Pos): DeployedContract {
    if (n === undefined) {
      const c = this.current
      if (c === undefined) throw new StepError(pos, 'no contract deployed yet')
      return c
    }
    const c = this.state.contracts.get(n.name)
    if (c === undefined) throw new StepError(n.pos, `no contract "${n.name}"`)
    return c
  }

  /** A test expression's value as call data. */
  private data (n: Node): Value {
    return toCodec(this.value(n))
  }

  /** Evaluates a test expression with the real checker and builtins, as a constant: no host, no state. */
  value (n: Node): VmValue {
    return this.compiled(`(defconst value ${this.source(n, true)})`, n).consts.get('value')!
  }

  private compiled (source: string, at: Node): Module {
    try {
      return compile(source)
    } catch (err) {
      if (!(err instanceof ContractError)) throw err
      throw new StepError(at.pos, `in ${clip(unread(at), 60)}: ${err.kind}: ${err.detail.replace(/^constant value: /, '')}`)
    }
  }

  /**
   * An expression as source: account and contract names become their keys (except where a name
   * is called, or is a local that a let or fn in scope binds: `bound`), and, in a test expression,
   * (query ...) and (balance NAME) become their values.
   */
  private source (n: Node, reads: boolean, bound: ReadonlySet<string> = new Set(), called = false): string {
    if (n.t === 'sym' && !called) {
      const key = bound.has(n.name) ? undefined : this.keyOf(n.name)
      return key === undefined ? n.name : `0x${toHex(key)}`
    }
    if (n.t !== 'list') return unread(n)
    const head = n.items[0]
    if (reads && head?.t === 'sym' && head.name === 'query') {
      const r = this.query(nestedQuery(n, this.file))
      if (!r.ok) throw new StepError(n.pos, `query failed: ${r.error}`)
      return valueSource(r.value)
    }
    if (reads && head?.t === 'sym' && head.name === 'balance' && n.items[1]?.t === 'sym') {
      return this.chain.holdings(this.key({ name: n.items[1].name, pos: n.items[1].pos })).toString()
    }
    const rest = (items: readonly Node[], scope: ReadonlySet<string>): string => items.map(x => ' ' + this.source(x, reads, scope)).join('')
    // binders, scoped as the checker scopes them (compile.ts); a malformed form is left for it to refuse
    if (head?.t === 'sym' && head.name === 'let' && n.items[1]?.t === 'list') {
      const inner = new Set(bound)
      const bindings = n.items[1].items.map(b => {
        const [name, expr] = b.t === 'list' && b.items.length === 2 ? b.items : []
        if (name?.t !== 'sym' || expr === undefined) return this.source(b, reads, inner)
        const value = this.source(expr, reads, inner)
        inner.add(name.name)
        return `(${name.name} ${value})`
      })
      return `(let (${bindings.join(' ')})${rest(n.items.slice(2), inner)})`
    }
    if (head?.t === 'sym' && head.name === 'fn' && n.items[1]?.t === 'list') {
      const inner = new Set([...bound, ...n.items[1].items.flatMap(p => p.t === 'sym' ? [p.name] : [])])
      return `(fn ${unread(n.items[1])}${rest(n.items.slice(2), inner)})`
    }
    // a cond clause is (test form), not a call: its test may be a name
    if (head?.t === 'sym' && head.name === 'cond') {
      return `(cond${n.items.slice(1).map(c => ' ' + (c.t === 'list' ? `(${c.items.map(x => this.source(x, reads, bound)).join(' ')})` : this.source(c, reads, bound))).join('')})`
    }
    return `(${n.items.map((x, i) => this.source(x, reads, bound, i === 0)).join(' ')})`
  }
}

/** A function name the contract does not use, for a query expression added to it. */
function freshName (module: Module): string {
  let name = 'repl-expression'
  for (let i = 2; module.functions.has(name) || module.consts.has(name); i++) name = `repl-expression-${i}`
  return name
}
