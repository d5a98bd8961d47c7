// The AT2 ledger: per-account balances, stream positions and uncited credits. Validity is decided
// here, at delivery, from nothing but the op, the account's own stream and the credits it cites,
// so every honest node reaches the same outcome whatever order the network delivered things in.
// Ops arrive already ordered by the delivery buffer: seq == nextSeq(account), deps delivered.

import { compareBytes } from '../codec/canonical.js'
import { encode } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import { bytesEqual } from '../codec/canonical.js'
import { fromHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { MAX_AMOUNT } from './body.js'
import type { CancelBody, DeployBody, ExecuteBody, RotateKeyBody, RotateSequencerBody } from './body.js'
import { CallSandbox, canonicalContract, contractAddress } from './contracts.js'
import type { CallOutcome, ContractState, QueuedCall } from './contracts.js'
import { compile, invoke } from '../vm/compile.js'
import { keyFromTag } from '../vm/values.js'
import type { VmValue } from '../vm/values.js'
import { accountItems, contractItems, snapshotOf } from '../checkpoint/snapshot.js'
import type { Snapshot } from '../checkpoint/snapshot.js'
import { ContractError } from '../vm/errors.js'
import type { Genesis } from './genesis.js'
import type { LedgerBody, OpBody } from './body.js'
import type { ReplicatedAlgorithm } from '../algorithm/algorithm.js'
import { accountKey, slotKey } from './op.js'
import type { AccountId, SignedOp, Slot } from './op.js'

export type RejectReason =
  | 'insufficient-funds'
  | 'bad-dependency'
  | 'not-mint-authority'
  | 'supply-cap'
  | 'contract-error'
  | 'unknown-contract'
  | 'not-a-contract'
  | 'bad-call'
  | 'bad-time'
  /** Signed by a key a rotation retired (validators behind the rotation could still certify it). */
  | 'retired-key'
  | 'bad-rotation'
  /** An op kind of another algorithm (a set op on a ledger network, a transfer on a set network). */
  | 'unsupported-op'
  /** Set networks: the stream's account is not a writer named by the genesis. */
  | 'not-a-writer'
  /** Set networks: the writer has made all the adds its stream may make. */
  | 'element-cap'

export type Outcome =
  | { readonly status: 'applied' }
  | { readonly status: 'rejected', readonly reason: RejectReason, readonly detail: string }

/** A credit to an account that it has not cited yet: claimable by listing `source` in an op's deps. */
export interface Credit {
  readonly source: Slot
  readonly amount: bigint
}

interface AccountState {
  readonly id: AccountId
  balance: bigint
  nextSeq: number
  /** Uncited credits, by slotKey of the op that made them. */
  readonly credits: Map<string, Credit>
  /** The key that signs for the account since it rotated (rotate-key); undefined: its id. */
  key?: AccountId
}

/** One account as a snapshot carries it. */
export interface AccountEntry {
  readonly id: AccountId
  readonly balance: bigint
  readonly nextSeq: number
  /** Sorted by source (account, then seq). */
  readonly credits: readonly Credit[]
  /** Present once the account has rotated its key: the key in force (it may equal the id again). */
  readonly key?: AccountId
}

/** A contract as a snapshot carries it: enough to rebuild it exactly (the module is recompiled). */
export interface ContractEntry {
  readonly address: AccountId
  readonly code: string
  readonly sequencer: AccountId
  readonly deployedAt: Slot
  readonly lastTime: number
  /** Storage entries by key tag, sorted by tag. */
  readonly storage: ReadonlyArray<readonly [string, VmValue]>
  /** Queued calls, sorted by caller slot. */
  readonly queue: readonly QueuedCall[]
  /** Its sequencer was rotated at least once (then ops are verified again at delivery). */
  readonly rotated?: boolean
}

/** The whole state, in canonical order: what a checkpoint's root commits to. */
export interface LedgerState {
  readonly supply: bigint
  /** Sorted by id. */
  readonly accounts: readonly AccountEntry[]
  /** Sorted by address. */
  readonly contracts: readonly ContractEntry[]
}

/**
 * Encoded snapshot items of account states, so a state root re-encodes only the accounts that
 * changed. Keyed by the state object: an entry is dropped whenever its object is handed out for
 * writing (Ledger.state), and objects shared between forks are never written.
 */
const encodedItems = new WeakMap<AccountState, Uint8Array[]>()

/**
 * Ops a node found, at delivery, not signed by the key in force (see ApplyOptions). Kept by op
 * object so that replaying the same op on a copy of the state (a checkpoint's cut is computed by
 * replaying delivered ops) rejects it again without anybody verifying a signature twice.
 */
const retiredSigned = new WeakSet<SignedOp>()

export interface ApplyOptions {
  /**
   * The op's signature does not verify against expectedSigner at this state: a rotation retired
   * the key that signed it after validators bound it. The ledger knows no signature scheme; the
   * replica verifies ops of rotated accounts at delivery and says so here. Omitted: the caller
   * vouches for the signature (or is replaying an op it already applied once).
   */
  readonly retiredKey?: boolean
}

/** Every kind a ledger network runs (typed so that a new ledger kind must be listed here). */
const LEDGER_KINDS: Readonly<Record<LedgerBody['kind'], true>> = { transfer: true, mint: true, deploy: true, call: true, execute: true, cancel: true, 'rotate-key': true, 'rotate-sequencer': true }

export class Ledger implements ReplicatedAlgorithm {
  readonly algorithm = 'ledger' as const
  private readonly accounts: Map<string, AccountState>
  private readonly contracts: Map<string, ContractState>
  /** Outcomes of calls (and of deploys that ran init), by the slot of the op that made them. */
  private readonly outcomes = new Map<string, CallOutcome>()
  /** Calls each account has queued, by account id: derived from the queues, not state. */
  private readonly queuedBy: Map<string, number>
  private supply = 0n
  /** The root of the current state, until the next apply changes it. */
  private root: Hash | undefined
  /**
   * Set once this ledger has been forked: its account and contract objects are shared with the
   * fork, so each is copied before its first write here (copy on write), and the fork does the same.
   */
  private shared = false
  /** With `shared`: ids of the accounts and contracts this ledger has copied, its own to write. */
  private readonly ownAccounts = new Set<string>()
  private readonly ownContracts = new Set<string>()
  /** Account ids in sorted order, except `unsorted`: ids created since, merged in when needed. */
  private sortedIds: string[] = []
  private unsorted: string[] = []

  constructor (private readonly genesis: Genesis, from?: LedgerState | Ledger) {
    if (from instanceof Ledger) {
      // a fork: every object shared, both sides copy before they write (see fork)
      this.accounts = new Map(from.accounts)
      this.contracts = new Map(from.contracts)
      this.queuedBy = new Map(from.queuedBy)
      this.supply = from.supply
      this.root = from.root
      this.sortedIds = from.ids()
      this.shared = true
      return
    }
    this.accounts = new Map()
    this.contracts = new Map()
    this.queuedBy = new Map()
    if (from !== undefined) {
      this.load(from)
      return
    }
    for (const { account, amount } of genesis.balances) {
      this.state(account).balance = amount
      this.supply += amount
    }
  }

  nextSeq (account: AccountId): number {
    return this.accounts.get(accountKey(account))?.nextSeq ?? 1
  }

  balance (account: AccountId): bigint {
    return this.accounts.get(accountKey(account))?.balance ?? 0n
  }

  /** Credits the account may cite in its next op's deps, oldest source first. */
  uncitedCredits (account: AccountId): Credit[] {
    const a = this.accounts.get(accountKey(account))
    return a === undefined ? [] : sortedCredits(a)
  }

  /**
   * The account has something at stake here: a balance, an uncited credit, or it is the mint
   * authority or a contract. Validators bind an account's next op only if so, so an op from a key
   * nobody paid costs its author more than a signature before it becomes durable state.
   */
  holdsValue (account: AccountId): boolean {
    if (bytesEqual(account, this.genesis.mintAuthority)) return true
    const id = accountKey(account)
    if (this.contracts.has(id)) return true
    const a = this.accounts.get(id)
    // a queued call's value is the caller's to take back with a cancel, even when it holds nothing else
    return a !== undefined && (a.balance > 0n || a.credits.size > 0 || (this.queuedBy.get(id) ?? 0) > 0)
  }

  admissionRefusal (): string {
    return 'the account holds nothing at this node (no balance, no credit, no queued call): validators do not take its ops until it is paid'
  }

  /** The ledger's own kinds only: one another algorithm adds later is refused without editing this. */
  supports (body: OpBody): boolean {
    return Object.hasOwn(LEDGER_KINDS, body.kind)
  }

  contract (address: AccountId): ContractState | undefined {
    return this.contracts.get(accountKey(address))
  }

  /** Every contract, in deployment order at this node. */
  * allContracts (): IterableIterator<ContractState> {
    yield * this.contracts.values()
  }

  /** The key that signs an account's ops: its own or the one it rotated to, or for a contract its sequencer's. */
  signerOf (account: AccountId): AccountId {
    const id = accountKey(account)
    return this.contracts.get(id)?.sequencer ?? this.accounts.get(id)?.key ?? account
  }

  /**
   * The account rotated its key or sequencer once: an op of it certified by validators that had
   * not delivered the rotation yet may carry a retired key's signature, so its signature is
   * verified again at delivery. Part of the state (a joiner learns it from the snapshot).
   */
  rotated (account: AccountId): boolean {
    const id = accountKey(account)
    const contract = this.contracts.get(id)
    if (contract !== undefined) return contract.rotated === true
    return this.accounts.get(id)?.key !== undefined
  }

  callOutcome (call: Slot): CallOutcome | undefined {
    return this.outcomes.get(slotKey(call.account, call.seq))
  }

  /** Drops the outcomes of the account's calls fromSeq..toSeq: history behind a checkpoint. */
  forgetOutcomes (account: AccountId, fromSeq: number, toSeq: number): void {
    if (this.outcomes.size === 0) return
    for (let seq = fromSeq; seq <= toSeq; seq++) this.outcomes.delete(slotKey(account, seq))
  }

  totalSupply (): bigint {
    return this.supply
  }

  /** Sum of every balance and every uncited credit: equals totalSupply() while money is conserved. */
  totalHeld (): bigint {
    let sum = 0n
    for (const a of this.accounts.values()) {
      sum += a.balance
      for (const c of a.credits.values()) sum += c.amount
    }
    // value attached to calls that are queued but not executed yet
    for (const c of this.contracts.values()) for (const q of c.queue.values()) sum += q.value
    return sum
  }

  /** Accounts that have a stream (nextSeq > 1), for anti-entropy frontiers. */
  * streams (): IterableIterator<{ account: AccountId, nextSeq: number }> {
    for (const a of this.accounts.values()) if (a.nextSeq > 1) yield { account: a.id, nextSeq: a.nextSeq }
  }

  /** Applies the next op of an account's stream; an invalid op still consumes its slot. */
  apply (op: SignedOp, opts?: ApplyOptions): Outcome {
    // checked before the account is created, so a refused call leaves no trace in the state
    const next = this.nextSeq(op.account)
    if (op.seq !== next) throw new Error(`ledger: op ${slotKey(op.account, op.seq)} applied out of order (next is ${next})`)
    const sender = this.state(op.account)
    this.root = undefined
    sender.nextSeq++
    if (opts?.retiredKey === true) retiredSigned.add(op)
    if (retiredSigned.has(op)) return reject('retired-key', `the op is not signed by the key in force for this stream at seq ${op.seq}: a rotation retired the key that signed it`)
    const outcome = this.decide(sender, op)
    return outcome
  }

  private decide (sender: AccountState, op: SignedOp): Outcome {
    const body = op.body
    if (body.kind === 'set-add' || body.kind === 'set-remove') return reject('unsupported-op', `${body.kind} ops belong to set networks; this network runs the ledger`)
    // Deps are credit claims, except the ones a body names for ordering: a call cites its
    // contract's deploy, an execute cites the calls it runs, a cancel cites its contract's stream.
    const ordering = new Set<string>()
    if (body.kind === 'call') {
      const deploy = op.deps.find(d => bytesEqual(contractAddress(d.account, d.seq), body.contract))
      if (deploy === undefined) return reject('bad-dependency', 'a call must cite the deploy op of its contract in deps')
      ordering.add(slotKey(deploy.account, deploy.seq))
    } else if (body.kind === 'execute') {
      for (const c of body.calls) {
        const key = slotKey(c.account, c.seq)
        if (ordering.has(key)) return reject('bad-call', `call ${key} is listed twice`)
        if (!op.deps.some(d => d.seq === c.seq && bytesEqual(d.account, c.account))) return reject('bad-dependency', `call ${key} must also be cited in deps`)
        ordering.add(key)
      }
    } else if (body.kind === 'rotate-sequencer') {
      // Cited so every node delivers it after the contract exists: a contract's stream is not
      // otherwise ordered after its deploy, and a rotation applied at one node and refused at
      // another (no contract there yet) would split the state.
      const deploy = op.deps.find(d => bytesEqual(contractAddress(d.account, d.seq), op.account))
      if (deploy === undefined) return reject('bad-dependency', 'a sequencer rotation must cite the deploy op of its contract in deps')
      ordering.add(slotKey(deploy.account, deploy.seq))
    } else if (body.kind === 'cancel') {
      // a slot of the contract's stream orders the cancel after that slot's execute; it may also
      // be a credit to the caller (a refund or payout), and then it is claimed like any other
      const stream = op.deps.filter(d => bytesEqual(d.account, body.contract))
      if (stream.length === 0) return reject('bad-dependency', 'a cancel must cite a slot of its contract\'s stream in deps, at or after the call\'s deadline')
      for (const d of stream) {
        const key = slotKey(d.account, d.seq)
        if (!sender.credits.has(key)) ordering.add(key)
      }
    }
    // Every other dep must name an uncited credit to this account; all are claimed or none.
    let claimed = 0n
    const cited: string[] = []
    for (const dep of op.deps) {
      const key = slotKey(dep.account, dep.seq)
      if (ordering.has(key)) continue
      const credit = sender.credits.get(key)
      if (credit === undefined) return reject('bad-dependency', `dep ${key} is not an uncited credit to this account`)
      claimed += credit.amount
      cited.push(key)
    }
    // a contract's stream is its sequencer's to order calls in, never to move money at will
    const contractOp = body.kind === 'execute' || body.kind === 'rotate-sequencer'
    if (contractOp !== this.contracts.has(accountKey(op.account))) {
      return reject('not-a-contract', contractOp
        ? `${body.kind} ops belong to contract streams`
        : body.kind === 'rotate-key'
          ? 'a contract has no key of its own to rotate: its sequencer signs for it (rotate it with rotate-sequencer)'
          : 'a contract stream holds only execute and rotate-sequencer ops')
    }
    switch (body.kind) {
      case 'transfer': {
        if (sender.balance + claimed < body.amount) {
          return reject('insufficient-funds', `balance ${sender.balance} + cited ${claimed} < ${body.amount}`)
        }
        this.claim(sender, cited, claimed)
        sender.balance -= body.amount
        this.credit(body.to, sender, op.seq, body.amount)
        return APPLIED
      }
      case 'mint': {
        if (!bytesEqual(op.account, this.genesis.mintAuthority)) return reject('not-mint-authority', 'only the genesis mint authority may mint')
        if (this.supply + body.amount > MAX_AMOUNT) return reject('supply-cap', 'minting would exceed the supply cap of 2^64-1')
        this.claim(sender, cited, claimed)
        this.supply += body.amount
        this.credit(body.to, sender, op.seq, body.amount)
        return APPLIED
      }
      case 'deploy': return this.deploy(sender, op, body, cited, claimed)
      case 'call': {
        const contract = this.contractToWrite(accountKey(body.contract))
        if (contract === undefined) return reject('unknown-contract', 'no contract at that address (its deploy was rejected)')
        // init sets a contract up at deploy; calling it again would let anyone re-initialise it
        if (body.fn === 'init') return reject('bad-call', 'init runs only at deploy')
        if (sender.balance + claimed < body.value) return reject('insufficient-funds', `balance ${sender.balance} + cited ${claimed} < value ${body.value}`)
        this.claim(sender, cited, claimed)
        sender.balance -= body.value
        const id = { account: op.account, seq: op.seq }
        const deadline = body.deadline === undefined ? {} : { deadline: body.deadline }
        contract.queue.set(slotKey(op.account, op.seq), { id, caller: op.account, fn: body.fn, args: body.args, value: body.value, gasLimit: body.gasLimit, ...deadline })
        this.countQueued(op.account, 1)
        this.outcomes.set(slotKey(op.account, op.seq), { status: 'queued', contract: body.contract, ...deadline })
        return APPLIED
      }
      case 'execute': return this.execute(sender, op, body, cited, claimed)
      case 'cancel': return this.cancel(sender, op, body, cited, claimed)
      case 'rotate-key': return this.rotateKey(sender, body, cited, claimed)
      case 'rotate-sequencer': return this.rotateSequencer(sender, op, body, cited, claimed)
    }
  }

  /** The account keeps its id, balance and stream; from the next slot on `to` signs for it. */
  private rotateKey (sender: AccountState, body: RotateKeyBody, cited: string[], claimed: bigint): Outcome {
    if (bytesEqual(body.to, sender.key ?? sender.id)) return reject('bad-rotation', 'the new key is the key already in force')
    this.claim(sender, cited, claimed)
    // kept even when it names the id again: the account stays one whose ops are checked at delivery
    sender.key = body.to
    return APPLIED
  }

  /**
   * The contract's next slots are `to`'s to sign. Whether the rotation was wanted (the deployer's
   * request, or a silent sequencer) validators decided before they certified it; the slot it took
   * is one no Execute of the old sequencer can take, and its queued calls stay queued for the new.
   */
  private rotateSequencer (sender: AccountState, op: SignedOp, body: RotateSequencerBody, cited: string[], claimed: bigint): Outcome {
    const contract = this.contractToWrite(accountKey(op.account))!
    if (bytesEqual(body.to, contract.sequencer)) return reject('bad-rotation', 'the new sequencer is the one already in force')
    this.claim(sender, cited, claimed)
    contract.sequencer = body.to
    contract.rotated = true
    return APPLIED
  }

  private deploy (sender: AccountState, op: SignedOp, body: DeployBody, cited: string[], claimed: bigint): Outcome {
    let module
    try {
      module = compile(body.code)
    } catch (err) {
      if (err instanceof ContractError) return reject('contract-error', err.message)
      throw err
    }
    const address = contractAddress(op.account, op.seq)
    const contract: ContractState = {
      address,
      code: body.code,
      module,
      // the deployer's key in force: after a rotation its id is a retired key, not one to sequence with
      sequencer: body.sequencer ?? sender.key ?? op.account,
      deployedAt: { account: op.account, seq: op.seq },
      storage: new Map(),
      queue: new Map(),
      lastTime: 0
    }
    const here = { account: op.account, seq: op.seq }
    if (module.functions.has('init')) {
      const sandbox = new CallSandbox(contract, 0n, op.account, 0n, 0n)
      const res = invoke(module, 'init', body.args, sandbox, body.gasLimit)
      if (!res.ok) return reject('contract-error', `init failed: ${res.error.message}`)
      sandbox.commitStorage()
      this.outcomes.set(slotKey(op.account, op.seq), { status: 'ok', result: res.result, gasUsed: res.gasUsed, events: sandbox.events, executedIn: here })
    }
    this.claim(sender, cited, claimed)
    this.contracts.set(accountKey(address), contract)
    if (this.shared) this.ownContracts.add(accountKey(address))
    this.state(address)
    return APPLIED
  }

  private execute (sender: AccountState, op: SignedOp, body: ExecuteBody, cited: string[], claimed: bigint): Outcome {
    const contract = this.contractToWrite(accountKey(op.account))!
    if (body.time < contract.lastTime) return reject('bad-time', `time ${body.time} is before the last execute's ${contract.lastTime}`)
    const calls: QueuedCall[] = []
    for (const c of body.calls) {
      const call = contract.queue.get(slotKey(c.account, c.seq))
      // One message for both: a call past its deadline may already be cancelled at one node and
      // not yet at another, and the rejection must read the same everywhere.
      if (call === undefined || (call.deadline !== undefined && call.deadline < op.seq)) {
        return reject('bad-call', `call ${slotKey(c.account, c.seq)} cannot run at contract seq ${op.seq}: it is not queued for this contract (unknown, rejected, executed or cancelled) or its deadline has passed`)
      }
      calls.push(call)
    }
    this.claim(sender, cited, claimed)
    contract.lastTime = body.time
    const here = { account: op.account, seq: op.seq }
    for (const call of calls) {
      const key = slotKey(call.id.account, call.id.seq)
      contract.queue.delete(key)
      this.countQueued(call.caller, -1)
      const sandbox = new CallSandbox(contract, sender.balance + call.value, call.caller, call.value, BigInt(body.time))
      const res = invoke(contract.module, call.fn, call.args, sandbox, call.gasLimit)
      if (res.ok) {
        sender.balance += call.value - sandbox.commitStorage()
        for (const t of sandbox.transfers) this.credit(t.to, sender, op.seq, t.amount)
        this.outcomes.set(key, { status: 'ok', result: res.result, gasUsed: res.gasUsed, events: sandbox.events, executedIn: here })
      } else {
        // nothing the call did survives; its value goes back to the caller
        if (call.value > 0n) this.credit(call.caller, sender, op.seq, call.value)
        this.outcomes.set(key, { status: 'error', error: res.error.message, errorKind: res.error.kind, gasUsed: res.gasUsed, executedIn: here })
      }
    }
    return APPLIED
  }

  /**
   * Takes back a queued call whose deadline the cited contract slot has reached. Deterministic:
   * every Execute that may run the call sits at or before its deadline, so at or before the cited
   * slot, which every node delivered before this op; and only this stream cancels its own calls.
   * Whether the call already ran cannot be told apart from the other refusals the same way at
   * every node (its outcome may be forgotten, its deadline gone with it), so they share a message.
   */
  private cancel (sender: AccountState, op: SignedOp, body: CancelBody, cited: string[], claimed: bigint): Outcome {
    const key = slotKey(op.account, body.call)
    const reached = Math.max(...op.deps.filter(d => bytesEqual(d.account, body.contract)).map(d => d.seq))
    const contract = this.contractToWrite(accountKey(body.contract))
    const call = contract?.queue.get(key)
    if (body.call >= op.seq) return reject('bad-call', `a cancel names an earlier call of its own stream, not seq ${body.call}`)
    if (contract === undefined || call === undefined || call.deadline === undefined || call.deadline > reached) {
      return reject('bad-call', `call ${key} cannot be cancelled citing contract seq ${reached}: it must still be queued for this contract, with a deadline at or before that seq (it may have run, been cancelled, have no deadline, or its deadline is later)`)
    }
    this.claim(sender, cited, claimed)
    contract.queue.delete(key)
    this.countQueued(op.account, -1)
    sender.balance += call.value
    this.outcomes.set(key, { status: 'cancelled', cancelledBy: { account: op.account, seq: op.seq } })
    return APPLIED
  }

  private countQueued (caller: AccountId, delta: number): void {
    const id = accountKey(caller)
    const n = (this.queuedBy.get(id) ?? 0) + delta
    if (n > 0) this.queuedBy.set(id, n)
    else this.queuedBy.delete(id)
  }

  private claim (a: AccountState, cited: string[], amount: bigint): void {
    for (const key of cited) a.credits.delete(key)
    a.balance += amount
  }

  /** A credit from the op at `from`'s slot `seq`. */
  private credit (to: AccountId, from: AccountState, seq: number, amount: bigint): void {
    const key = slotKey(from.id, seq)
    const credits = this.state(to).credits
    const prior = credits.get(key)
    // the source names the payer's own id array, not the op's: an op's arrays are freed with it,
    // and a credit may be held for a long time
    credits.set(key, { source: { account: from.id, seq }, amount: (prior?.amount ?? 0n) + amount })
  }

  /** An account's state, to write: created if new, copied first if shared with a fork. */
  private state (account: AccountId): AccountState {
    const id = accountKey(account)
    let a = this.accounts.get(id)
    if (a === undefined) {
      a = { id: fromHex(id), balance: 0n, nextSeq: 1, credits: new Map() }
      this.accounts.set(id, a)
      this.unsorted.push(id)
      if (this.shared) this.ownAccounts.add(id)
    } else if (this.shared && !this.ownAccounts.has(id)) {
      a = { id: a.id, balance: a.balance, nextSeq: a.nextSeq, credits: new Map(a.credits), ...(a.key === undefined ? {} : { key: a.key }) }
      this.accounts.set(id, a)
      this.ownAccounts.add(id)
    } else {
      encodedItems.delete(a)
    }
    this.root = undefined
    return a
  }

  /** A contract's state, to write: copied first if shared with a fork (its module is immutable). */
  private contractToWrite (id: string): ContractState | undefined {
    const c = this.contracts.get(id)
    if (c === undefined || !this.shared || this.ownContracts.has(id)) return c
    const copy: ContractState = { ...c, storage: new Map(c.storage), queue: new Map(c.queue) }
    this.contracts.set(id, copy)
    this.ownContracts.add(id)
    return copy
  }

  /**
   * A copy of this ledger that costs one map of references, not a copy of every account: the two
   * share their account and contract objects, and each copies an object before it first writes it.
   * Call outcomes are history, not state: the fork starts without them, as fromState does.
   */
  fork (): Ledger {
    this.shared = true
    this.ownAccounts.clear()
    this.ownContracts.clear()
    return new Ledger(this.genesis, this)
  }

  /** Account ids in sorted order (new ids are merged in, not the whole list sorted again). */
  private ids (): string[] {
    if (this.unsorted.length === 0) return this.sortedIds
    const added = this.unsorted.sort()
    const merged: string[] = new Array(this.sortedIds.length + added.length)
    let i = 0
    let j = 0
    let k = 0
    while (i < this.sortedIds.length && j < added.length) merged[k++] = this.sortedIds[i]! < added[j]! ? this.sortedIds[i++]! : added[j++]!
    while (i < this.sortedIds.length) merged[k++] = this.sortedIds[i++]!
    while (j < added.length) merged[k++] = added[j++]!
    this.sortedIds = merged
    this.unsorted = []
    return merged
  }

  /**
   * The state's snapshot (see checkpoint/snapshot.ts). Accounts unchanged since an earlier
   * snapshot, here or in a ledger this one shares them with, are not encoded again.
   */
  snapshot (): Snapshot {
    const items: Uint8Array[] = []
    let height = 0
    for (const id of this.ids()) {
      const a = this.accounts.get(id)!
      height += a.nextSeq - 1
      let encoded = encodedItems.get(a)
      if (encoded === undefined) {
        encoded = accountItems(accountEntry(a)).map(v => encode(v))
        encodedItems.set(a, encoded)
      }
      for (const item of encoded) items.push(item)
    }
    // contracts are few: encoded afresh
    for (const id of [...this.contracts.keys()].sort()) for (const v of contractItems(this.contractEntry(this.contracts.get(id)!))) items.push(encode(v))
    const snapshot = snapshotOf(items, height, this.supply)
    this.root = snapshot.root
    return snapshot
  }

  /**
   * The canonical state: every account sorted by id (balance, next seq, sorted credits) and every
   * contract (code hash, sequencer, storage, queued calls). Call outcomes are history, not state.
   */
  canonicalState (): Value {
    const ids = [...this.accounts.keys()].sort()
    return {
      supply: this.supply,
      accounts: ids.map(id => {
        const a = this.accounts.get(id)!
        return [a.id, a.balance, a.nextSeq, this.uncitedCredits(a.id).map(c => [c.source.account, c.source.seq, c.amount]), ...(a.key === undefined ? [] : [a.key])]
      }),
      contracts: [...this.contracts.keys()].sort().map(id => canonicalContract(this.contracts.get(id)!))
    }
  }

  /** The state root: the hash of the state's snapshot manifest (see checkpoint/snapshot.ts). */
  stateHash (): Hash {
    return this.root ?? this.snapshot().root
  }

  /** Total ops delivered: the height of the cut this state is at. */
  height (): number {
    let n = 0
    for (const a of this.accounts.values()) n += a.nextSeq - 1
    return n
  }

  /** The state as plain data in canonical order: what snapshots are made of. */
  exportState (): LedgerState {
    const accounts = this.ids().map(id => accountEntry(this.accounts.get(id)!))
    const contracts = [...this.contracts.keys()].sort().map(id => this.contractEntry(this.contracts.get(id)!))
    return { supply: this.supply, accounts, contracts }
  }

  private contractEntry (c: ContractState): ContractEntry {
    return {
      address: c.address,
      code: c.code,
      sequencer: c.sequencer,
      deployedAt: c.deployedAt,
      lastTime: c.lastTime,
      storage: [...c.storage.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tag, [, v]]) => [tag, v] as const),
      queue: [...c.queue.values()].sort((x, y) => compareBytes(x.id.account, y.id.account) || x.id.seq - y.id.seq),
      ...(c.rotated === true ? { rotated: true } : {})
    }
  }

  /** Rebuilds a ledger from a snapshot's state (call outcomes before it are history, not state). */
  static fromState (genesis: Genesis, state: LedgerState): Ledger {
    return new Ledger(genesis, state)
  }

  private load (from: LedgerState): void {
    this.supply = from.supply
    for (const a of from.accounts) {
      const credits = new Map(a.credits.map(c => [slotKey(c.source.account, c.source.seq), c] as const))
      const id = accountKey(a.id)
      this.accounts.set(id, { id: a.id, balance: a.balance, nextSeq: a.nextSeq, credits, ...(a.key === undefined ? {} : { key: a.key }) })
      this.unsorted.push(id)
    }
    for (const c of from.contracts) {
      this.contracts.set(accountKey(c.address), {
        address: c.address,
        code: c.code,
        module: compile(c.code),
        sequencer: c.sequencer,
        deployedAt: c.deployedAt,
        storage: new Map(c.storage.map(([tag, v]) => [tag, [keyFromTag(tag), v]] as const)),
        queue: new Map(c.queue.map(q => [slotKey(q.id.account, q.id.seq), q] as const)),
        lastTime: c.lastTime,
        ...(c.rotated === true ? { rotated: true } : {})
      })
      for (const q of c.queue) this.countQueued(q.caller, 1)
    }
  }
}

function accountEntry (a: AccountState): AccountEntry {
  return { id: a.id, balance: a.balance, nextSeq: a.nextSeq, credits: sortedCredits(a), ...(a.key === undefined ? {} : { key: a.key }) }
}

function sortedCredits (a: AccountState): Credit[] {
  if (a.credits.size === 0) return []
  return [...a.credits.values()].sort((x, y) => compareBytes(x.source.account, y.source.account) || x.source.seq - y.source.seq)
}

const APPLIED: Outcome = { status: 'applied' }

function reject (reason: RejectReason, detail: string): Outcome {
  return { status: 'rejected', reason, detail }
}
