// What the replica asks its host to do. The host executes actions in order and must finish a
// `persist` (durably: fsync) before it executes any action after it: that is how "a binding is
// on disk before the vote that relies on it leaves the node" holds across crashes.

import type { Hash } from '../crypto/hash.js'
import type { Outcome } from '../ledger/ledger.js'
import type { SignedOp, Slot } from '../ledger/op.js'
import type { CertifiedCheckpoint, Divergence } from '../checkpoint/keeper.js'
import type { VoteEvidence } from './evidence.js'

/** A peer is named by the hex of its public key (for a validator: its validator key). */
export type PeerId = string

export type PersistRecord =
  /** Slots this validator has bound, with the ops bound to them. */
  | { readonly kind: 'bindings', readonly ops: readonly Uint8Array[] }
  /** Ops hand-offs named for slots bound here to another op: this validator votes at neither. */
  | { readonly kind: 'contested', readonly ops: readonly Uint8Array[] }
  /** A verified certificate (the encoded Certified message). */
  | { readonly kind: 'certificate', readonly bytes: Uint8Array }
  /**
   * This validator signed this cut (the encoded checkpoint message, with its signature): it never
   * signs a cut that does not contain it, and re-sends it until a base does.
   */
  | { readonly kind: 'checkpoint-sig', readonly height: number, readonly bytes: Uint8Array }
  /** A certified change of the validator set (an encoded reconfigure message): the epoch chain. */
  | { readonly kind: 'epoch', readonly epoch: number, readonly bytes: Uint8Array }
  /** This validator approved a change for `epoch`: it never approves another for that epoch. */
  | { readonly kind: 'approval', readonly epoch: number, readonly bytes: Uint8Array }
  /** This validator of `epoch` has the hand-off of a quorum of the previous set: it votes after a restart. */
  | { readonly kind: 'handoff-done', readonly epoch: number }
  /**
   * A quorum certified a cut (the encoded checkpoint message) whose root differs from ours there
   * (`ours`): this node's state diverged, and it never votes again until a person recovers it.
   */
  | { readonly kind: 'diverged', readonly height: number, readonly ours: Hash, readonly certified: Uint8Array }
  /** Proof that a validator voted twice (one per validator; checkVoteEvidence verified it). */
  | { readonly kind: 'vote-evidence', readonly evidence: VoteEvidence }

export type Action =
  | { readonly type: 'send', readonly to: PeerId, readonly bytes: Uint8Array, readonly kind: string }
  | { readonly type: 'broadcast', readonly bytes: Uint8Array, readonly kind: string }
  | { readonly type: 'persist', readonly record: PersistRecord }
  | { readonly type: 'deliver', readonly op: SignedOp, readonly outcome: Outcome, readonly cert: string }
  /** An op this node was broadcasting can never be certified: its author equivocated. */
  | { readonly type: 'dropped', readonly op: SignedOp, readonly reason: string, readonly evidence: SignedOp }
  /**
   * A checkpoint was certified: keep it (with its snapshot, to restart from and to serve) and
   * prune stored history the replica no longer holds (see Replica.prunedThrough).
   */
  | { readonly type: 'checkpoint', readonly checkpoint: CertifiedCheckpoint }
  /** Peers certified a checkpoint this node cannot reach by delivering ops: fetch a snapshot. */
  | { readonly type: 'behind', readonly height: number, readonly peers: readonly PeerId[] }
  /** The validator set changed: this node is now in `epoch` (the host re-reads validators and peers). */
  | { readonly type: 'epoch', readonly epoch: number }
  /** Proof that a validator voted for two ops at one slot (checkVoteEvidence verifies it). */
  | { readonly type: 'evidence', readonly evidence: VoteEvidence }
  /** This node's state diverged from a certified checkpoint: it stopped voting (see Divergence). */
  | { readonly type: 'diverged', readonly divergence: Divergence }

/** How a message from the network was judged (gossip validation: reject penalises the sender). */
export type Verdict = 'accept' | 'ignore' | 'reject'

export interface ReceiveResult {
  readonly verdict: Verdict
  readonly reason?: string
  readonly actions: Action[]
}

export type SubmitStatus =
  | { readonly status: 'queued', readonly hash: Hash }
  | { readonly status: 'delivered', readonly hash: Hash }
  | { readonly status: 'rejected', readonly code: SubmitRejection, readonly reason: string }

export type SubmitRejection = 'malformed' | 'bad-signature' | 'conflict' | 'too-far-ahead' | 'unfunded' | 'busy' | 'not-accepted'

export interface SubmitResult {
  readonly results: SubmitStatus[]
  readonly actions: Action[]
}

export interface SlotConflict {
  readonly slot: Slot
  readonly ops: readonly [SignedOp, SignedOp]
}
