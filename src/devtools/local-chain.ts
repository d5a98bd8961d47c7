// A chain on one machine, for contract developers and tests: named accounts, and deploys, calls,
// executes and transfers made as real signed ops applied to a real Ledger, so a contract meets
// exactly the rules the network applies. No network and no disk. A fork is a copy-on-write fork
// of the ledger, cheap enough to give every test its own copy of a shared setup.

import type { Value } from '../core/codec/canonical.js'
import { sha256, toHex } from '../core/crypto/hash.js'
import { signerFrom } from '../core/crypto/signing.js'
import type { Signer } from '../core/crypto/signing.js'
import type { OpBody } from '../core/ledger/body.js'
import { contractAddress } from '../core/ledger/contracts.js'
import { executeNowSandbox } from '../core/ledger/simulate.js'
import type { CallOutcome, ContractEvent } from '../core/ledger/contracts.js'
import { makeGenesis, networkId } from '../core/ledger/genesis.js'
import type { Genesis } from '../core/ledger/genesis.js'
import { Ledger } from '../core/ledger/ledger.js'
import type { Outcome } from '../core/ledger/ledger.js'
import { OP_LIMITS, signOp } from '../core/ledger/op.js'
import type { SignedOp, Slot } from '../core/ledger/op.js'
import { ContractSequencer } from '../core/ledger/sequencer.js'
import { invoke } from '../core/vm/compile.js'
import type { ContractError } from '../core/vm/errors.js'
import type { Module } from '../core/vm/interpreter.js'
import type { VmValue } from '../core/vm/values.js'
import { sodiumScheme } from '../native/sodium.js'
import { LocalChainError } from './errors.js'

/** Which key a seed is for: a named account, the chain's mint authority, its one validator. */
export type SeedRole = 'account' | 'mint' | 'validator'
export type SeedFn = (role: SeedRole, name: string, index: number) => Uint8Array

/** Seeds from the name alone: the same account has the same key in every run and every file. */
export const nameSeed: SeedFn = (role, name) => sha256(new TextEncoder().encode(`bftnode/devtools/${role}/${name}`))

export interface LocalChainOptions {
  /** Accounts funded at genesis (a balance of 0 creates the key only). */
  readonly accounts?: ReadonlyArray<readonly [string, bigint]>
  readonly network?: string
  readonly seed?: SeedFn
}

/** What a call names a contract by: its address, and the deploy slot every call cites. */
export interface ContractRef { readonly address: Uint8Array, readonly deployedAt: Slot }

export interface Deployed extends ContractRef {
  readonly outcome: Outcome
  /** The outcome of init, when the contract has one and the deploy was applied. */
  readonly init?: CallOutcome
}

export interface Applied { readonly op: SignedOp, readonly outcome: Outcome }

export type QueryResult =
  | { readonly ok: true, readonly result: Value, readonly gasUsed: number, readonly events: readonly ContractEvent[] }
  | { readonly ok: false, readonly error: ContractError, readonly gasUsed: number }

export interface QueryOptions {
  readonly caller: Uint8Array
  readonly time?: number
  readonly gasLimit?: number
  /** Run against this module instead of the contract's own (a REPL expression added to it). */
  readonly module?: Module
}

export class LocalChain {
  readonly genesis: Genesis
  readonly networkId: Uint8Array
  readonly mint: Signer
  readonly ledger: Ledger
  /** Every op applied to this chain since it was made or forked, with its outcome. */
  readonly applied: Applied[] = []
  private readonly seed: SeedFn
  private readonly signers: Map<string, Signer>
  /** Account names by hex key, to print keys as names. */
  private readonly names: Map<string, string>

  /** A new chain, or (given a chain) a fork of it: later ops on either are not seen by the other. */
  constructor (from: LocalChainOptions | LocalChain = {}) {
    if (from instanceof LocalChain) {
      this.genesis = from.genesis
      this.networkId = from.networkId
      this.mint = from.mint
      this.seed = from.seed
      this.signers = new Map(from.signers)
      this.names = new Map(from.names)
      this.ledger = from.ledger.fork()
      return
    }
    const seed = this.seed = from.seed ?? nameSeed
    const accounts = from.accounts ?? []
    this.signers = new Map()
    this.names = new Map()
    accounts.forEach(([name], i) => this.register(name, signerFrom(sodiumScheme, seed('account', name, i))))
    this.mint = signerFrom(sodiumScheme, seed('mint', 'mint', 0))
    this.genesis = makeGenesis({
      network: from.network ?? 'local',
      validators: [signerFrom(sodiumScheme, seed('validator', 'validator', 0)).publicKey],
      mintAuthority: this.mint.publicKey,
      balances: accounts.filter(([, amount]) => amount > 0n).map(([name, amount]) => ({ account: this.key(name), amount }))
    })
    this.networkId = networkId(this.genesis)
    this.ledger = new Ledger(this.genesis)
  }

  fork (): LocalChain {
    return new LocalChain(this)
  }

  /** Adds an account; a balance is minted to it (an uncited credit its first op claims). */
  addAccount (name: string, balance = 0n): Uint8Array {
    if (this.signers.has(name)) throw new LocalChainError(`account "${name}" already exists`)
    const signer = signerFrom(sodiumScheme, this.seed('account', name, this.signers.size))
    if (balance > 0n) {
      const { outcome } = this.apply(this.mint, { kind: 'mint', to: signer.publicKey, amount: balance })
      if (outcome.status === 'rejected') throw new LocalChainError(`cannot fund "${name}" with ${balance}: ${outcome.detail}`)
    }
    this.register(name, signer)
    return signer.publicKey
  }

  private register (name: string, signer: Signer): void {
    if (this.signers.has(name)) throw new LocalChainError(`account "${name}" is listed twice`)
    this.signers.set(name, signer)
    this.names.set(toHex(signer.publicKey), name)
  }

  hasAccount (name: string): boolean {
    return this.signers.has(name)
  }

  signer (name: string): Signer {
    const s = this.signers.get(name)
    if (s === undefined) throw new LocalChainError(`no account "${name}"`)
    return s
  }

  key (name: string): Uint8Array {
    return this.signer(name).publicKey
  }

  /** The account's name, if the key is one of this chain's accounts. */
  nameOf (key: Uint8Array): string | undefined {
    return this.names.get(toHex(key))
  }

  accountNames (): string[] {
    return [...this.signers.keys()]
  }

  /** Signs and applies an op in `signer`'s stream (or `account`'s, for contracts), citing all uncited credits. */
  apply (signer: Signer, body: OpBody, ordering: Slot[] = [], account: Uint8Array = signer.publicKey): Applied {
    // an ordering dep that is also a credit (a cancel citing a contract slot that paid it) is cited once
    const credits = this.ledger.uncitedCredits(account)
      .filter(c => !ordering.some(o => o.seq === c.source.seq && toHex(o.account) === toHex(c.source.account)))
      .slice(0, OP_LIMITS.maxDeps - ordering.length).map(c => c.source)
    const op = signOp(signer, this.networkId, { account, seq: this.ledger.nextSeq(account), deps: [...ordering, ...credits], body })
    return this.record(op)
  }

  private record (op: SignedOp): Applied {
    const applied = { op, outcome: this.ledger.apply(op) }
    this.applied.push(applied)
    return applied
  }

  transfer (from: string, to: Uint8Array, amount: bigint): Outcome {
    return this.apply(this.signer(from), { kind: 'transfer', to, amount }).outcome
  }

  /** Deploys `code`; the deployer sequences the contract unless `sequencer` names another key. */
  deploy (from: string, code: string, args: Value[] = [], gasLimit = 1_000_000, sequencer: Uint8Array | null = null): Deployed {
    const { op, outcome } = this.apply(this.signer(from), { kind: 'deploy', code, args, sequencer, gasLimit })
    const deployedAt = { account: op.account, seq: op.seq }
    const init = this.ledger.callOutcome(deployedAt)
    return { address: contractAddress(op.account, op.seq), deployedAt, outcome, ...(init === undefined ? {} : { init }) }
  }

  /** Queues a call; returns its id (the caller's slot) and the Call op's own outcome. */
  call (from: string, contract: ContractRef, fn: string, args: Value[] = [], value = 0n, gasLimit = 1_000_000, deadline?: number): { id: Slot, outcome: Outcome } {
    const body: OpBody = { kind: 'call', contract: contract.address, fn, args, value, gasLimit, ...(deadline === undefined ? {} : { deadline }) }
    const { op, outcome } = this.apply(this.signer(from), body, [contract.deployedAt])
    return { id: { account: op.account, seq: op.seq }, outcome }
  }

  /** `from` takes back its call at seq `call`, citing the contract's stream at seq `cite`. */
  cancel (from: string, contract: ContractRef, call: number, cite: number): Applied {
    return this.apply(this.signer(from), { kind: 'cancel', contract: contract.address, call }, cite > 0 ? [{ account: contract.address, seq: cite }] : [])
  }

  /** The contract's sequencer signs an Execute of exactly these calls at the contract's next seq. */
  executeCalls (contract: ContractRef, calls: Slot[], time = 0): Applied {
    return this.apply(this.sequencerOf(contract), { kind: 'execute', calls, time }, calls, contract.address)
  }

  /** The contract's sequencer runs every queued call, as a node's sequencer would (time never goes back). */
  execute (contract: ContractRef, time = 0): Outcome | undefined {
    // a sequencer remembers the ops it built; a fresh one per Execute cannot hand a fork a stale op
    const op = new ContractSequencer(this.sequencerOf(contract), this.networkId).next(this.ledger, contract.address, time)
    return op === undefined ? undefined : this.record(op).outcome
  }

  private sequencerOf (contract: ContractRef): Signer {
    const key = this.ledger.contract(contract.address)?.sequencer ?? contract.deployedAt.account
    const name = this.nameOf(key)
    if (name === undefined) throw new LocalChainError('the contract\'s sequencer is not an account of this chain')
    return this.signer(name)
  }

  /** Call and execute at once: the outcome of that call. */
  run (from: string, contract: ContractRef, fn: string, args: Value[] = [], value = 0n, time = 0, gasLimit = 1_000_000): CallOutcome {
    const { id, outcome } = this.call(from, contract, fn, args, value, gasLimit)
    if (outcome.status !== 'applied') throw new LocalChainError(`call op rejected (${outcome.reason}): ${outcome.detail}`)
    this.execute(contract, time)
    return this.ledger.callOutcome(id)!
  }

  /**
   * Runs `fn` as a call executed now would, in a sandbox that is never committed: storage,
   * balances and the queue stay as they are, and nothing is signed. The value attached is always 0.
   */
  query (contract: Uint8Array, fn: string, args: readonly Value[], opts: QueryOptions): QueryResult {
    const state = this.ledger.contract(contract)
    if (state === undefined) throw new LocalChainError(`no contract at ${toHex(contract)}`)
    // as the node's queries: (balance) includes the credits an Execute run now would claim first
    const sandbox = executeNowSandbox(this.ledger, state, opts.caller, 0n, opts.time ?? 0)
    const res = invoke(opts.module ?? state.module, fn, args, sandbox, opts.gasLimit)
    return res.ok ? { ok: true, result: res.result, gasUsed: res.gasUsed, events: sandbox.events } : res
  }

  /** Spendable balance plus uncited credits: what an account holds. */
  holdings (account: Uint8Array): bigint {
    return this.ledger.balance(account) + this.ledger.uncitedCredits(account).reduce((a, c) => a + c.amount, 0n)
  }

  /** A contract's storage as (key, value) pairs, in key-tag order. */
  storage (contract: Uint8Array): Array<readonly [VmValue, VmValue]> {
    const state = this.ledger.contract(contract)
    if (state === undefined) throw new LocalChainError(`no contract at ${toHex(contract)}`)
    return [...state.storage.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry)
  }
}
