// Sequencing a contract: the holder of a contract's sequencer key turns the calls queued for it
// into Execute ops in the contract's own stream. It builds one Execute per seq and hands the same
// op back until it is delivered, so a resubmission can never become an equivocation.

import { bytesEqual } from '../codec/canonical.js'
import { toHex } from '../crypto/hash.js'
import type { Signer } from '../crypto/signing.js'
import { BODY_LIMITS } from './body.js'
import type { Credit, Ledger } from './ledger.js'
import { OP_LIMITS, signOp } from './op.js'
import type { AccountId, SignedOp, Slot } from './op.js'

/** The contract's uncited credits an Execute of `calls` calls claims: as many as fit in its deps beside them. */
export function claimedByExecute (ledger: Ledger, contract: AccountId, calls: number): Credit[] {
  return ledger.uncitedCredits(contract).slice(0, OP_LIMITS.maxDeps - calls)
}

export class ContractSequencer {
  private readonly built = new Map<string, SignedOp>()

  constructor (private readonly signer: Signer, private readonly networkId: Uint8Array) {}

  /**
   * The Execute op to submit for `contract` now: the undelivered one built before, or a new one
   * running up to `maxCalls` queued calls whose deadline (if any) this seq has not passed, in the
   * order this node delivered them, and claiming the contract's uncited credits. Undefined when
   * this key does not sequence the contract or no queued call can run. `time` is the sequencer's
   * clock; it never goes back.
   */
  next (ledger: Ledger, contract: AccountId, time: number, maxCalls: number = BODY_LIMITS.maxCallsPerExecute): SignedOp | undefined {
    const state = ledger.contract(contract)
    if (state === undefined || !bytesEqual(state.sequencer, this.signer.publicKey)) return undefined
    const id = toHex(contract)
    const seq = ledger.nextSeq(contract)
    const pending = this.built.get(id)
    if (pending !== undefined && pending.seq >= seq) return pending
    // a call whose deadline is before this seq would reject the whole Execute: its caller may take it back
    const runnable = [...state.queue.values()].filter(q => q.deadline === undefined || q.deadline >= seq)
    const calls: Slot[] = runnable.slice(0, Math.min(maxCalls, BODY_LIMITS.maxCallsPerExecute)).map(q => q.id)
    if (calls.length === 0) return undefined
    const credits = claimedByExecute(ledger, contract, calls.length).map(c => c.source)
    const op = signOp(this.signer, this.networkId, {
      account: contract,
      seq,
      deps: [...calls, ...credits],
      body: { kind: 'execute', calls, time: Math.max(time, state.lastTime) }
    })
    this.built.set(id, op)
    return op
  }

  /** Ops built before a restart (the node persists them) so the same slot is never signed twice. */
  restore (ops: readonly SignedOp[]): void {
    for (const op of ops) this.built.set(toHex(op.account), op)
  }
}
