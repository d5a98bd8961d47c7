// Contract accounts inside the ledger: their code, storage, queued calls and outcomes, and the
// sandbox one call runs in. A call's writes, transfers and events stay in the sandbox until the
// call succeeds; a failed call leaves the contract exactly as it was and its value goes back.

import { encode } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import { sha256, toHex } from '../crypto/hash.js'
import type { Host, Module } from '../vm/interpreter.js'
import { VM_LIMITS } from '../vm/gas.js'
import { ContractError } from '../vm/errors.js'
import { keyTag, toCodec } from '../vm/values.js'
import type { VmValue } from '../vm/values.js'
import type { AccountId, Slot } from './op.js'

export interface QueuedCall {
  readonly id: Slot
  readonly caller: AccountId
  readonly fn: string
  readonly args: readonly Value[]
  readonly value: bigint
  readonly gasLimit: number
  /** The last contract seq whose Execute may run it; absent: no deadline, never cancellable. */
  readonly deadline?: number
}

export interface ContractEvent { readonly name: string, readonly data: Value }

export type CallOutcome =
  | { readonly status: 'queued', readonly contract: AccountId, readonly deadline?: number }
  | { readonly status: 'ok', readonly result: Value, readonly gasUsed: number, readonly events: readonly ContractEvent[], readonly executedIn: Slot }
  | { readonly status: 'error', readonly error: string, readonly errorKind: string, readonly gasUsed: number, readonly executedIn: Slot }
  | { readonly status: 'cancelled', readonly cancelledBy: Slot }

export interface ContractState {
  readonly address: AccountId
  readonly code: string
  readonly module: Module
  /** Who signs its ops; a rotate-sequencer op replaces it. */
  sequencer: AccountId
  /** A rotate-sequencer op was applied once (see Ledger.rotated). */
  rotated?: boolean
  /** Where it was deployed: calls cite this slot so they are delivered after the deploy. */
  readonly deployedAt: Slot
  readonly storage: Map<string, readonly [VmValue, VmValue]>
  /** Calls delivered but not yet executed, in the order this node delivered them. */
  readonly queue: Map<string, QueuedCall>
  /** Time of the last Execute: times never go back. */
  lastTime: number
}

/** A contract's address: derived from its Deploy op's slot, so nobody can choose it. */
export function contractAddress (deployer: AccountId, seq: number): AccountId {
  return sha256(encode(['bftnode/contract/v1', deployer, seq]))
}

/** One call's view of the world, buffering every effect until commit. */
export class CallSandbox implements Host {
  readonly writes = new Map<string, readonly [VmValue, VmValue] | null>()
  readonly transfers: Array<{ to: AccountId, amount: bigint }> = []
  readonly events: ContractEvent[] = []
  private spent = 0n

  constructor (
    private readonly contract: ContractState,
    private readonly available: bigint,
    readonly caller: AccountId,
    readonly value: bigint,
    readonly now: bigint
  ) {}

  get self (): Uint8Array { return this.contract.address }

  balance (): bigint { return this.available - this.spent }

  get (key: VmValue): VmValue | undefined {
    const tag = keyTag(key)
    if (this.writes.has(tag)) return this.writes.get(tag)?.[1]
    return this.contract.storage.get(tag)?.[1]
  }

  put (key: VmValue, value: VmValue): void {
    toCodec(value) // only data can be stored
    this.writes.set(keyTag(key), [key, value])
  }

  del (key: VmValue): void {
    this.writes.set(keyTag(key), null)
  }

  transfer (to: AccountId, amount: bigint): void {
    if (this.transfers.length >= VM_LIMITS.maxTransfers) throw new ContractError('runtime', `more than ${VM_LIMITS.maxTransfers} transfers in one call`)
    this.spent += amount
    this.transfers.push({ to, amount })
  }

  emit (name: string, data: VmValue): void {
    if (this.events.length >= VM_LIMITS.maxEvents) throw new ContractError('runtime', `more than ${VM_LIMITS.maxEvents} events in one call`)
    this.events.push({ name, data: toCodec(data) })
  }

  /** Applies the buffered storage writes; returns what left the contract's balance. */
  commitStorage (): bigint {
    for (const [tag, entry] of this.writes) {
      if (entry === null) this.contract.storage.delete(tag)
      else this.contract.storage.set(tag, entry)
    }
    return this.spent
  }
}

/** The contract's part of the canonical state. */
export function canonicalContract (c: ContractState): Value {
  const storage = [...c.storage.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tag, [, v]]) => [tag, toCodec(v)])
  const queue = [...c.queue.values()]
    .sort((a, b) => (toHex(a.id.account) + a.id.seq.toString().padStart(16, '0') < toHex(b.id.account) + b.id.seq.toString().padStart(16, '0') ? -1 : 1))
    .map(q => [q.id.account, q.id.seq, q.fn, [...q.args], q.value, q.gasLimit, q.deadline ?? null])
  return [c.address, sha256(new TextEncoder().encode(c.code)), c.sequencer, [c.deployedAt.account, c.deployedAt.seq], c.lastTime, storage, queue, ...(c.rotated === true ? [true] : [])]
}
