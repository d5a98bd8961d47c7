// Read-only runs against a ledger: a contract function run as a query (never committed), and an
// op simulated as if its account signed it now. Pure: the state is read, or a fork of it is
// written, never the ledger itself; no clocks (the caller says what time it is), no randomness,
// no signatures.

import { encode } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import { sha256 } from '../crypto/hash.js'
import { MalformedError } from '../errors.js'
import { SIGNATURE_BYTES } from '../crypto/signing.js'
import { compile, invoke } from '../vm/compile.js'
import { ContractError } from '../vm/errors.js'
import { GAS_LIMITS } from '../vm/gas.js'
import { keyFromTag } from '../vm/values.js'
import type { VmValue } from '../vm/values.js'
import { encodeBody } from './body.js'
import type { OpBody } from './body.js'
import { CallSandbox, contractAddress } from './contracts.js'
import type { ContractEvent, ContractState } from './contracts.js'
import { Ledger } from './ledger.js'
import type { LedgerState, Outcome } from './ledger.js'
import type { Genesis } from './genesis.js'
import { OP_LIMITS, accountKey, decodeOp, slotKey, sortDeps } from './op.js'
import type { AccountId, SignedOp, Slot } from './op.js'
import { slotValue } from './slot.js'
import { claimedByExecute } from './sequencer.js'

/**
 * Why a run did not happen or failed: a contract error's kind, or one of the refusals checked
 * before anything runs (a Call naming these would only fail, or be rejected, on chain).
 */
export type RunErrorKind = ContractError['kind'] | 'unknown-function' | 'init-only' | 'arity' | 'deadline-passed'

export type RunOutcome =
  | {
    readonly status: 'ok'
    readonly result: Value
    readonly gasUsed: number
    readonly events: readonly ContractEvent[]
    /** Storage the run would write, sorted by key tag; value null: deleted. */
    readonly writes: ReadonlyArray<{ readonly key: VmValue, readonly value: VmValue | null }>
    /** Money the run would send out of the contract. */
    readonly transfers: ReadonlyArray<{ readonly to: AccountId, readonly amount: bigint }>
  }
  | { readonly status: 'error', readonly errorKind: RunErrorKind, readonly error: string, readonly gasUsed: number }

export interface RunRequest {
  readonly fn: string
  readonly args: readonly Value[]
  /** Who `(caller)` is. */
  readonly caller: AccountId
  /** Money attached: `(value)`, and part of `(balance)` as at execution. */
  readonly value: bigint
  /** Capped at GAS_LIMITS.maxCall. */
  readonly gasLimit: number
  /**
   * The time (ms) a sequencer would write into the Execute now, its clock: `(now)` is the later of
   * this and the contract's last time, as for a real Execute. Default: the contract's last time.
   */
  readonly time?: number
}

const refused = (errorKind: RunErrorKind, error: string): RunOutcome => ({ status: 'error', errorKind, error, gasUsed: 0 })

/**
 * Runs `fn` over the contract's current state as an Execute would run a queued call now: at
 * `req.time` (never before the contract's last time), with its balance plus the value attached. Nothing is committed: the
 * sandbox's writes, transfers and events are reported and dropped.
 */
export function runQuery (ledger: Ledger, contract: ContractState, req: RunRequest): RunOutcome {
  const def = contract.module.functions.get(req.fn)
  if (def === undefined) return refused('unknown-function', `the contract has no function "${req.fn}"`)
  if (req.fn === 'init') return refused('init-only', 'init runs only at deploy; it cannot be called')
  if (def.params.length !== req.args.length) return refused('arity', `${req.fn} takes ${def.params.length} argument(s) (${def.params.join(', ')}), got ${req.args.length}`)
  return runIn(contract, executeNowSandbox(ledger, contract, req.caller, req.value, req.time ?? 0), req.fn, req.args, req.gasLimit)
}

/**
 * The sandbox a lone call would run in if an Execute ran it now: at `time` (never before the
 * contract's last), with the contract's balance, plus the uncited credits that Execute claims
 * before its calls run, plus the value attached. Nothing run in it is committed.
 */
export function executeNowSandbox (ledger: Ledger, contract: ContractState, caller: AccountId, value: bigint, time: number): CallSandbox {
  const credits = claimedByExecute(ledger, contract.address, 1).reduce((a, c) => a + c.amount, 0n)
  return new CallSandbox(contract, ledger.balance(contract.address) + credits + value, caller, value, BigInt(Math.max(time, contract.lastTime)))
}

function runIn (contract: ContractState, sandbox: CallSandbox, fn: string, args: readonly Value[], gasLimit: number): RunOutcome {
  const res = invoke(contract.module, fn, args, sandbox, Math.min(gasLimit, GAS_LIMITS.maxCall))
  if (!res.ok) return { status: 'error', errorKind: res.error.kind, error: res.error.message, gasUsed: res.gasUsed }
  const writes = [...sandbox.writes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tag, entry]) => ({ key: entry?.[0] ?? keyFromTag(tag), value: entry === null ? null : entry[1] }))
  return { status: 'ok', result: res.result, gasUsed: res.gasUsed, events: [...sandbox.events], writes, transfers: [...sandbox.transfers] }
}

/**
 * The gas to ask for, given what a run used now: +20% for state that grows before the call runs
 * (longer lists and maps, bigger stored values cost proportionally more) and +1,000 for the small
 * fixed differences (a branch taken, a key first written), within the per-call cap. Gas is a
 * bound on work, not a fee, so the margin costs the caller nothing.
 */
export function gasEstimate (gasUsed: number): number {
  return Math.min(GAS_LIMITS.maxCall, Math.max(gasUsed, Math.ceil(gasUsed * 1.2) + 1000))
}

export interface Simulation {
  /** The op's outcome at delivery, decided by the ledger on a fork of the state. */
  readonly outcome: Outcome
  /** Why validators would not take the op at submission at all, if they would not. */
  readonly refused?: string
  /** A deploy's init, or a call's function run now (a call really runs when executed). */
  readonly run?: RunOutcome
  /** What the run used plus a margin (gasEstimate), when it succeeded. */
  readonly gasEstimate?: number
  /** A deploy's contract address. */
  readonly address?: AccountId
  /** The slot the op would take. */
  readonly slot: Slot
}

/** Op bodies a wallet may simulate (an Execute is a sequencer's, a Mint the authority's). */
export type SimulatedBody = Exclude<OpBody, { kind: 'execute' | 'mint' | 'rotate-key' | 'rotate-sequencer' }>

/**
 * What `body` would do if `account` signed it now, citing every uncited credit it has (as the
 * wallet does) after the deps the body needs for order: a call cites its contract's deploy, a
 * cancel the contract's latest slot. The op is applied, unsigned, to a partial fork of the
 * ledger (see partialFork; the ledger checks no signatures: the replica does, before it binds an
 * op); the ledger itself is not written. The body is used as validators would decode it from the
 * signed bytes (an op they could not decode is refused as malformed). A call's function runs at
 * `now`, the time a sequencer's Execute would carry (its clock, ms), or the contract's last time.
 */
export function simulateOp (ledger: Ledger, genesis: Genesis, account: AccountId, body: SimulatedBody, now = 0): Simulation {
  const seq = ledger.nextSeq(account)
  const slot = { account, seq }
  const ordering: Slot[] = []
  if (body.kind === 'call') {
    const c = ledger.contract(body.contract)
    if (c === undefined) return { slot, outcome: { status: 'rejected', reason: 'unknown-contract', detail: 'no contract at that address (never deployed, or not delivered here yet)' } }
    ordering.push(c.deployedAt)
  } else if (body.kind === 'cancel') {
    const executes = ledger.nextSeq(body.contract) - 1
    if (executes > 0) ordering.push({ account: body.contract, seq: executes })
  }
  const orderKeys = new Set(ordering.map(o => slotKey(o.account, o.seq)))
  const credits = ledger.uncitedCredits(account)
    .filter(c => !orderKeys.has(slotKey(c.source.account, c.source.seq)))
    .slice(0, OP_LIMITS.maxDeps - ordering.length)
    .map(c => c.source)
  const deps = sortDeps([...ordering, ...credits])
  const payload = encode({ account, seq, deps: deps.map(slotValue), body: encodeBody(body) })
  const sig = new Uint8Array(SIGNATURE_BYTES)
  const bytes = encode([payload, sig])

  let refusal: string | undefined
  // what the chain sees is the body decoded from the signed bytes: nesting and list lengths the
  // JSON forms allow may not decode, and text is carried as UTF-8 (a lone surrogate becomes U+FFFD)
  let sent = body
  if (bytes.length > OP_LIMITS.maxOpBytes) refusal = `the signed op would be ${bytes.length} bytes, over the limit of ${OP_LIMITS.maxOpBytes}`
  else {
    try {
      sent = decodeOp(bytes).body as SimulatedBody
    } catch (err) {
      if (!(err instanceof MalformedError)) throw err
      refusal = `validators would refuse the op as malformed: ${err.message}`
    }
  }
  if (refusal === undefined && !ledger.holdsValue(account)) refusal = 'the account holds nothing (no balance, no credit, no queued call): validators take no op from it until it is paid'
  const chain: SimulatedBody = sent
  const op: SignedOp = { account, seq, deps, body: chain, sig, payload, bytes, hash: sha256(bytes) }

  const outcome = partialFork(ledger, genesis, account, chain).apply(op)
  const base = { slot, outcome, ...(refusal === undefined ? {} : { refused: refusal }) }
  if (chain.kind === 'deploy') {
    const address = contractAddress(account, seq)
    return { ...base, address, ...estimated(limit => runInit(chain.code, chain.args, account, address, limit), chain.gasLimit) }
  }
  if (chain.kind === 'call') {
    const contract = ledger.contract(chain.contract)!
    // an Execute at a seq past the call's deadline may not run it: it could only be cancelled
    const next = ledger.nextSeq(chain.contract)
    if (chain.deadline !== undefined && chain.deadline < next) {
      return { ...base, run: refused('deadline-passed', `the deadline, contract seq ${chain.deadline}, is before the contract's next execute (seq ${next}): no execute can run the call, it could only be cancelled`) }
    }
    return { ...base, ...estimated(limit => runQuery(ledger, contract, { fn: chain.fn, args: chain.args, caller: account, value: chain.value, gasLimit: limit, time: now }), chain.gasLimit) }
  }
  return base
}

/**
 * The run with the gas the body asks for, and the estimate: from that run if it succeeded, or,
 * if it ran out of gas, from a run with all the gas a call may have. Undefined run: no init.
 */
function estimated (run: (gasLimit: number) => RunOutcome | undefined, gasLimit: number): { run?: RunOutcome, gasEstimate?: number } {
  const first = run(gasLimit)
  if (first === undefined) return { gasEstimate: gasEstimate(0) }
  if (first.status === 'ok') return { run: first, gasEstimate: gasEstimate(first.gasUsed) }
  if (first.errorKind === 'out-of-gas' && gasLimit < GAS_LIMITS.maxCall) {
    const again = run(GAS_LIMITS.maxCall)
    if (again?.status === 'ok') return { run: first, gasEstimate: gasEstimate(again.gasUsed) }
  }
  return { run: first }
}

/**
 * A ledger holding just what applying the op reads and writes: the account's stream, balance and
 * credits, and the contract a call or cancel names (and the account's own contract, if it is
 * one) with its queue. `Ledger.fork()` would do as well, but it copies the whole account map:
 * about 20-100 ms at 100,000 accounts, for every simulation. Built with fromState, it shares
 * nothing writable with the ledger. A contract's storage is left out: applying a Call or Cancel
 * queues or unqueues, it never reads storage (the function's run is runQuery's, over the real
 * contract), and a Deploy creates its contract afresh.
 */
function partialFork (ledger: Ledger, genesis: Genesis, account: AccountId, body: SimulatedBody): Ledger {
  const contracts = new Map<string, ContractState>()
  const add = (c: ContractState | undefined): void => { if (c !== undefined) contracts.set(accountKey(c.address), c) }
  add(ledger.contract(account))
  if (body.kind === 'call' || body.kind === 'cancel') add(ledger.contract(body.contract))
  const ids = new Map<string, AccountId>([[accountKey(account), account]])
  for (const c of contracts.values()) ids.set(accountKey(c.address), c.address)
  const state: LedgerState = {
    supply: ledger.totalSupply(),
    accounts: [...ids.keys()].sort().map(id => {
      const a = ids.get(id)!
      // a rotated key comes along: the fork's state is the account's as the ledger holds it
      const key = ledger.contract(a) === undefined && ledger.rotated(a) ? { key: ledger.signerOf(a) } : {}
      return { id: a, balance: ledger.balance(a), nextSeq: ledger.nextSeq(a), credits: ledger.uncitedCredits(a), ...key }
    }),
    contracts: [...contracts.keys()].sort().map(id => {
      const c = contracts.get(id)!
      return { address: c.address, code: c.code, sequencer: c.sequencer, deployedAt: c.deployedAt, lastTime: c.lastTime, storage: [], queue: [...c.queue.values()], ...(c.rotated === true ? { rotated: true } : {}) }
    })
  }
  return Ledger.fromState(genesis, state)
}

/** A deploy's init as the ledger runs it: as the deployer, value, balance and time 0. Undefined without init. */
function runInit (code: string, args: readonly Value[], deployer: AccountId, address: AccountId, gasLimit: number): RunOutcome | undefined {
  let module
  try {
    module = compile(code)
  } catch (err) {
    if (err instanceof ContractError) return { status: 'error', errorKind: err.kind, error: err.message, gasUsed: 0 }
    throw err
  }
  const def = module.functions.get('init')
  if (def === undefined) return undefined
  if (def.params.length !== args.length) return refused('arity', `init takes ${def.params.length} argument(s) (${def.params.join(', ')}), got ${args.length}`)
  const contract: ContractState = {
    address,
    code,
    module,
    sequencer: deployer,
    deployedAt: { account: deployer, seq: 0 },
    storage: new Map(),
    queue: new Map(),
    lastTime: 0
  }
  return runIn(contract, new CallSandbox(contract, 0n, deployer, 0n, 0n), 'init', args, gasLimit)
}
