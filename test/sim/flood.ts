// Hostile clients for the simulator: they pay nothing and try to make validators keep their ops
// for ever. Each act is one of:
// - junk: an op from a key nobody paid, citing a slot that does not exist or nothing at all,
//   submitted through a node and proposed straight to every validator by a sybil peer;
// - split: an equivocating account's two ops for its contested slot, each with the same run of
//   later ops, proposed to one half of the validators each, then the later ops alone to all
//   (without the binding rules, every validator votes for those and they sit in every buffer).
// What must hold (simulation.ts): nothing of theirs is certified that never becomes deliverable,
// and what validators hold for them stays within a bound set by the split accounts alone.

import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { encodeMessage } from '../../src/core/broadcast/messages.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import type { Rng } from './rng.js'
import type { Workload } from './workload.js'

/** Later ops a split account pushes past its contested slot. */
export const SPLIT_RUN = 6

export type FloodAct =
  | { readonly kind: 'submit', readonly ops: readonly SignedOp[] }
  /** Proposals from a sybil peer, one per honest validator named by its position in `to`. */
  | { readonly kind: 'propose', readonly to: 'all' | 'half-a' | 'half-b', readonly bytes: Uint8Array }

export class HostileClients {
  private readonly runs: ReadonlyArray<{ readonly x: SignedOp, readonly y: SignedOp, readonly later: readonly SignedOp[] }>

  /** An op of the network's own algorithm: one of another is refused for its kind, not its key. */
  private readonly body: OpBody

  constructor (private readonly workload: Workload, private readonly rng: Rng) {
    this.body = workload.genesis.algorithm === 'orset' ? { kind: 'set-add', element: 'spam' } : { kind: 'transfer', to: workload.honest[0]!.signer.publicKey, amount: 1n }
    this.runs = workload.equivocators.map(eq => {
      const [x, y] = eq.conflicting
      const later = Array.from({ length: SPLIT_RUN }, (_, i) => signOp(eq.signer, workload.networkId, {
        account: eq.signer.publicKey,
        seq: x.seq + 1 + i,
        deps: [],
        body: this.body
      }))
      return { x, y, later }
    })
  }

  /** The ops of the split runs: signed by equivocating accounts, which may be delivered. */
  splitOps (): SignedOp[] {
    return this.runs.flatMap(r => [r.x, r.y, ...r.later])
  }

  /** What one hostile client does now. */
  act (): FloodAct[] {
    if (this.runs.length > 0 && this.rng.chance(0.5)) {
      const run = this.rng.pick([...this.runs])
      const bytes = (ops: readonly SignedOp[]): Uint8Array => encodeMessage({ type: 'propose', ops: ops.map(o => o.bytes) })
      return [
        { kind: 'propose', to: 'half-a', bytes: bytes([run.x, ...run.later]) },
        { kind: 'propose', to: 'half-b', bytes: bytes([run.y, ...run.later]) },
        { kind: 'propose', to: 'all', bytes: bytes(run.later) }
      ]
    }
    const stranger = signerFrom(sodiumScheme, this.rng.bytes(32))
    const nowhere = signerFrom(sodiumScheme, this.rng.bytes(32)).publicKey
    const deps = this.rng.chance(0.5) ? [{ account: nowhere, seq: this.rng.int(1, 5) }] : []
    const ops = [1, 2, 3].map(seq => signOp(stranger, this.workload.networkId, {
      account: stranger.publicKey,
      seq,
      deps: seq === 1 ? deps : [],
      body: this.body
    }))
    return [
      { kind: 'submit', ops },
      { kind: 'propose', to: 'all', bytes: encodeMessage({ type: 'propose', ops: ops.map(o => o.bytes) }) }
    ]
  }
}
