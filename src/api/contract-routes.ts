// The contract routes that read and run: contract views and lists, call outcomes, read-only
// queries and op simulations. Values in and out are in the JSON forms of src/client/values.ts.
// A query or a simulation is CPU the node spends for nothing in return, so they share one time
// budget (RunBudget) and are turned away while the node is saturated with ops.

import type { Value } from '../core/codec/canonical.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { BODY_LIMITS, MAX_AMOUNT } from '../core/ledger/body.js'
import type { ContractEvent, ContractState, CallOutcome } from '../core/ledger/contracts.js'
import { VmMap } from '../core/vm/values.js'
import type { VmValue } from '../core/vm/values.js'
import type { Ledger } from '../core/ledger/ledger.js'
import type { Genesis } from '../core/ledger/genesis.js'
import { runQuery, simulateOp } from '../core/ledger/simulate.js'
import type { RunOutcome, SimulatedBody, Simulation } from '../core/ledger/simulate.js'
import { GAS_LIMITS } from '../core/vm/gas.js'
import { READER_LIMITS } from '../core/vm/reader.js'
import { ArgumentError, keyTagToJson, parseArgs, valueToJson } from '../client/values.js'
import type { CallView, ContractView, EventView, Page, RunView, SimulateView } from '../client/api-client.js'
import { ApiError, badRequest } from './errors.js'
import { queryInteger, queryParam } from './request.js'

/** Largest body of a query: arguments only. */
export const QUERY_BODY_BYTES = 256 * 1024
/** Largest body of a simulation: a deploy carries code of up to READER_LIMITS.maxCodeBytes, escaped as JSON. */
export const SIMULATE_BODY_BYTES = 4 * READER_LIMITS.maxCodeBytes + 64 * 1024
/** Gas a query or a simulated run may use: what one call may (its default too). */
export const QUERY_GAS_LIMIT = GAS_LIMITS.maxCall
/**
 * Most a run's result, events and writes may come to as JSON. Gas is charged per 32 bytes of a
 * result, and a list may hold one string many times: 5,000,000 gas buys a result of 150 MB of JSON,
 * which would take seconds to serialise outside the time budget and as much memory per request.
 */
export const RUN_VIEW_BYTES = 4 * 1024 * 1024
/** GET /v1/contracts page size: default and most. */
export const CONTRACTS_PAGE = { default: 50, max: 100 } as const

const HEX32 = /^[0-9a-f]{64}$/
const AMOUNT = /^(0|[1-9][0-9]{0,19})$/
const ZERO_KEY = new Uint8Array(32)

/**
 * How much event-loop time queries and simulations may take: a token bucket of milliseconds that
 * refills at `share` of real time, up to `burstMs`. A run may start while the bucket is above
 * zero and is charged what it took after it ends (a run cannot be paused, and the gas cap bounds
 * one run), so over any stretch they hold the loop for at most share x time + burst, however many
 * clients ask and however they spread over connections. Past it: 503 ERR_BUSY with a retry hint.
 */
export class RunBudget {
  private tokens: number
  private last: number

  constructor (readonly share = 0.25, readonly burstMs = 1000, private readonly clock: () => number = () => performance.now()) {
    this.tokens = burstMs
    this.last = clock()
  }

  private refill (): void {
    const now = this.clock()
    this.tokens = Math.min(this.burstMs, this.tokens + (now - this.last) * this.share)
    this.last = now
  }

  /** Throws 503 ERR_BUSY while the budget is spent: asked before a request's body is read, and again before it runs. */
  admit (): void {
    this.refill()
    if (this.tokens > 0) return
    const retryAfterMs = Math.max(100, Math.ceil(-this.tokens / this.share))
    throw new ApiError(503, 'ERR_BUSY', `the node is spending its share of time on queries and simulations; retry in ${retryAfterMs} ms`, { retryAfterMs })
  }

  /** Runs `fn` if the budget allows, charging the time it took; else throws 503 ERR_BUSY. */
  run<T>(fn: () => T): T {
    this.admit()
    const started = this.clock()
    try {
      return fn()
    } finally {
      this.tokens -= this.clock() - started
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Views

export function eventView (e: ContractEvent): EventView {
  return { name: e.name, data: valueToJson(e.data) }
}

export function contractView (ledger: Ledger, c: ContractState, withStorage: boolean): ContractView {
  const functions = [...c.module.functions.values()].filter(f => f.name !== 'init').map(f => ({ name: f.name, params: [...f.params] }))
  return {
    address: toHex(c.address),
    sequencer: toHex(c.sequencer),
    deployedAt: { account: toHex(c.deployedAt.account), seq: c.deployedAt.seq },
    balance: ledger.balance(c.address).toString(),
    queued: c.queue.size,
    executes: ledger.nextSeq(c.address) - 1,
    functions,
    ...(withStorage
      ? { storage: [...c.storage.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([tag, [, v]]) => ({ key: keyTagToJson(tag), value: valueToJson(v) })) }
      : {})
  }
}

const slotView = (s: { account: Uint8Array, seq: number }): { account: string, seq: number } => ({ account: toHex(s.account), seq: s.seq })

export function callView (o: CallOutcome): CallView {
  switch (o.status) {
    case 'queued': return { status: 'queued', contract: toHex(o.contract), ...(o.deadline === undefined ? {} : { deadline: o.deadline }) }
    case 'ok': return { status: 'ok', result: valueToJson(o.result), gasUsed: o.gasUsed, events: o.events.map(eventView), executedIn: slotView(o.executedIn) }
    case 'error': return { status: 'error', error: o.error, errorKind: o.errorKind, gasUsed: o.gasUsed, executedIn: slotView(o.executedIn) }
    case 'cancelled': return { status: 'cancelled', cancelledBy: slotView(o.cancelledBy) }
  }
}

export function runView (r: RunOutcome): RunView {
  if (r.status === 'error') return { status: 'error', error: r.error, errorKind: r.errorKind, gasUsed: r.gasUsed }
  if (jsonSizeOver(runParts(r), RUN_VIEW_BYTES)) {
    return { status: 'error', errorKind: 'too-large', error: `the run succeeded, but its result, events and writes come to more than ${RUN_VIEW_BYTES} bytes as JSON, more than the node answers with`, gasUsed: r.gasUsed }
  }
  return {
    status: 'ok',
    result: valueToJson(r.result),
    gasUsed: r.gasUsed,
    events: r.events.map(eventView),
    writes: r.writes.map(w => ({ key: valueToJson(w.key), value: w.value === null ? null : valueToJson(w.value) })),
    transfers: r.transfers.map(t => ({ to: toHex(t.to), amount: t.amount.toString() }))
  }
}

function * runParts (r: Extract<RunOutcome, { status: 'ok' }>): Iterable<Value | VmValue> {
  yield r.result
  for (const e of r.events) yield e.data
  for (const w of r.writes) { yield w.key; yield w.value }
}

/**
 * Whether the values' JSON forms come to more than `limit` characters (about: each value's text,
 * bytes as hex, plus a little for its form). Walks each node once and stops past the limit, so it
 * costs at most what building the values cost in gas, never what their text would.
 */
function jsonSizeOver (values: Iterable<Value | VmValue>, limit: number): boolean {
  let size = 0
  const stack: Array<Value | VmValue> = [...values]
  while (stack.length > 0) {
    const v = stack.pop()!
    if (typeof v === 'string') size += v.length + 10
    else if (v instanceof Uint8Array) size += 2 * v.length + 12
    else if (Array.isArray(v)) {
      size += 2 + v.length
      for (const x of v as Array<Value | VmValue>) stack.push(x)
    } else if (v instanceof VmMap) {
      for (const [k, x] of v.entries.values()) { size += 4; stack.push(k, x) }
    } else if (v !== null && typeof v === 'object') {
      // a map in codec form (functions are never stored or returned)
      for (const [k, x] of Object.entries(v as Record<string, Value>)) { size += k.length + 4; stack.push(x) }
    } else size += 24
    if (size > limit) return true
  }
  return false
}

export function simulateView (s: Simulation): SimulateView {
  const o = s.outcome
  return {
    outcome: o.status === 'applied' ? { status: 'applied' } : { status: 'rejected', reason: o.reason, detail: o.detail },
    ...(s.refused === undefined ? {} : { refused: s.refused }),
    ...(s.run === undefined ? {} : { run: runView(s.run) }),
    ...(s.gasEstimate === undefined ? {} : { gasEstimate: s.gasEstimate }),
    ...(s.address === undefined ? {} : { address: toHex(s.address) })
  }
}

/** GET /v1/contracts: contracts sorted by address, after the cursor. */
export function listContracts (ledger: Ledger, query: URLSearchParams): Page<ContractView> {
  const after = queryParam(query, 'after')
  if (after !== undefined && !HEX32.test(after)) throw new ApiError(400, 'ERR_BAD_QUERY', 'query parameter "after" must be a contract address (64 lowercase hex digits)')
  const limit = queryInteger(query, 'limit') ?? CONTRACTS_PAGE.default
  if (limit < 1 || limit > CONTRACTS_PAGE.max) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "limit" must be 1 to ${CONTRACTS_PAGE.max}`)
  const all = [...ledger.allContracts()].map(c => [toHex(c.address), c] as const).filter(([a]) => after === undefined || a > after).sort(([a], [b]) => (a < b ? -1 : 1))
  const items = all.slice(0, limit).map(([, c]) => contractView(ledger, c, false))
  return all.length > limit ? { items, next: items[items.length - 1]!.address } : { items }
}

// ---------------------------------------------------------------------------------------------
// Request bodies: every field checked, unknown ones refused (a misspelt "gas" must not be ignored)

type Fields = Record<string, unknown>

function fields (v: unknown, what: string, allowed: readonly string[], required: readonly string[]): Fields {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${what} must be a JSON object`)
  const f = v as Fields
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw badRequest(`${what} has an unknown field "${k.slice(0, 40)}"; it takes ${allowed.join(', ')}`)
  for (const k of required) if (f[k] === undefined) throw badRequest(`${what}.${k} is required`)
  return f
}

function key (v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || !HEX32.test(v)) throw badRequest(`${what} must be 64 lowercase hex digits`)
  return fromHex(v)
}

function amount (v: unknown, what: string, min: bigint): bigint {
  if (v === undefined) return 0n
  if (typeof v !== 'string' || !AMOUNT.test(v) || BigInt(v) > MAX_AMOUNT || BigInt(v) < min) throw badRequest(`${what} must be a decimal string, ${min} to ${MAX_AMOUNT}`)
  return BigInt(v)
}

function gas (v: unknown, what: string): number {
  if (v === undefined) return QUERY_GAS_LIMIT
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > QUERY_GAS_LIMIT) throw badRequest(`${what} must be a whole number from 1 to ${QUERY_GAS_LIMIT}`)
  return v
}

function fnName (v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '' || v.length > BODY_LIMITS.maxFnName) throw badRequest(`${what} must be a function name of 1 to ${BODY_LIMITS.maxFnName} characters`)
  return v
}

function seq (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw badRequest(`${what} must be a whole number from 1`)
  return v
}

/** Arguments in JSON forms; an invalid one is 400 ERR_BAD_ARGUMENT naming where it is. */
function args (v: unknown, what: string): Value[] {
  if (v === undefined) return []
  if (Array.isArray(v) && v.length > BODY_LIMITS.maxArgs) throw badRequest(`${what} holds at most ${BODY_LIMITS.maxArgs} arguments`)
  try {
    return parseArgs(v)
  } catch (err) {
    if (err instanceof ArgumentError) throw new ApiError(400, 'ERR_BAD_ARGUMENT', `${what}${err.message.slice('args'.length)}`)
    throw err
  }
}

/** POST /v1/contracts/{address}/query: the function run over the contract's state, never committed. */
export function query (ledger: Ledger, contract: ContractState, body: unknown, now = Date.now()): RunView {
  const f = fields(body, 'the query', ['fn', 'args', 'caller', 'value', 'gasLimit'], ['fn'])
  const req = {
    fn: fnName(f.fn, 'fn'),
    args: args(f.args, 'args'),
    caller: f.caller === undefined ? ZERO_KEY : key(f.caller, 'caller'),
    value: amount(f.value, 'value', 0n),
    gasLimit: gas(f.gasLimit, 'gasLimit'),
    // a call runs at the time its sequencer writes, its clock: this node's is the best guess
    time: now
  }
  return runView(runQuery(ledger, contract, req))
}

/** POST /v1/simulate: {account, body} to the op's simulated fate. */
export function simulate (ledger: Ledger, genesis: Genesis, request: unknown, now = Date.now()): SimulateView {
  const r = fields(request, 'the request', ['account', 'body'], ['account', 'body'])
  const account = key(r.account, 'account')
  return simulateView(simulateOp(ledger, genesis, account, simulatedBody(r.body), now))
}

function simulatedBody (v: unknown): SimulatedBody {
  const kind = (v !== null && typeof v === 'object' && !Array.isArray(v)) ? (v as Fields).kind : undefined
  switch (kind) {
    case 'transfer': {
      const f = fields(v, 'body', ['kind', 'to', 'amount'], ['to', 'amount'])
      return { kind, to: key(f.to, 'body.to'), amount: amount(f.amount, 'body.amount', 1n) }
    }
    case 'deploy': {
      const f = fields(v, 'body', ['kind', 'code', 'args', 'gasLimit', 'sequencer'], ['code'])
      if (typeof f.code !== 'string' || new TextEncoder().encode(f.code).length > READER_LIMITS.maxCodeBytes) throw badRequest(`body.code must be contract source of at most ${READER_LIMITS.maxCodeBytes} bytes`)
      return { kind, code: f.code, args: args(f.args, 'body.args'), gasLimit: gas(f.gasLimit, 'body.gasLimit'), sequencer: f.sequencer === undefined ? null : key(f.sequencer, 'body.sequencer') }
    }
    case 'call': {
      const f = fields(v, 'body', ['kind', 'contract', 'fn', 'args', 'value', 'gasLimit', 'deadline'], ['contract', 'fn'])
      const deadline = f.deadline === undefined ? {} : { deadline: seq(f.deadline, 'body.deadline') }
      return { kind, contract: key(f.contract, 'body.contract'), fn: fnName(f.fn, 'body.fn'), args: args(f.args, 'body.args'), value: amount(f.value, 'body.value', 0n), gasLimit: gas(f.gasLimit, 'body.gasLimit'), ...deadline }
    }
    case 'cancel': {
      const f = fields(v, 'body', ['kind', 'contract', 'call'], ['contract', 'call'])
      return { kind, contract: key(f.contract, 'body.contract'), call: seq(f.call, 'body.call') }
    }
    default:
      throw badRequest('body.kind must be one of transfer, deploy, call, cancel')
  }
}
