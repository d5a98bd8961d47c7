// The small interfaces a host gives the action executor, one per concern (js-libp2p
// "components" style): the node backs them with libp2p and LevelDB, the simulator and LocalNet
// with in-memory fakes. A port returns nothing when it finished its work, or a promise when the
// work finishes later; the executor runs nothing after it until that promise settles.

import type { PeerId, PersistRecord } from '../core/broadcast/actions.js'
import type { CertifiedCheckpoint, Divergence } from '../core/checkpoint/keeper.js'
import type { VoteEvidence } from '../core/broadcast/evidence.js'
import type { Outcome } from '../core/ledger/ledger.js'
import type { SignedOp } from '../core/ledger/op.js'

/** Done now (undefined) or when the promise resolves; a rejection stops the executor. */
export type PortResult = void | PromiseLike<void>

export interface NetworkPort {
  /** A direct message to one peer; `kind` names the message for metrics and logs. */
  send: (to: PeerId, bytes: Uint8Array, kind: string) => PortResult
  /** A message to every peer (gossip). */
  publish: (bytes: Uint8Array, kind: string) => PortResult
}

export interface StorePort {
  /**
   * Durably (synced) stores records, in order, as one write: the executor waits for it before
   * any later action, and passes every persist queued at the time together (group commit).
   */
  persist: (records: readonly PersistRecord[]) => PortResult
}

export interface DeliveriesPort {
  delivered: (op: SignedOp, outcome: Outcome, cert: string) => PortResult
  /** An op this node broadcast can never be certified: its account equivocated. */
  dropped: (op: SignedOp, reason: string, evidence: SignedOp) => PortResult
}

export interface CheckpointsPort {
  /** Keep the certified checkpoint (and its snapshot) and prune history behind it. */
  certified: (checkpoint: CertifiedCheckpoint) => PortResult
}

export interface SyncPort {
  /**
   * Peers certified a checkpoint this node cannot reach by delivering ops. The host starts a
   * catch-up from a snapshot; it should install it only once the executor is idle, so actions
   * after this one (and their persists) still belong to the replica that emitted them.
   */
  behind: (height: number, peers: readonly PeerId[]) => PortResult
}

export interface EpochsPort {
  /** The validator set changed (see Replica.epoch): the host updates whom it sends to and what it shows. */
  changed: (epoch: number) => PortResult
}

export interface MisbehaviourPort {
  /** A validator voted for two ops at one slot: keep and report the proof. */
  validatorVotedTwice: (evidence: VoteEvidence) => PortResult
  /**
   * This node's state differs from a certified checkpoint's: it stopped voting. The host keeps the
   * evidence and tells its operator (hosts without an operator may leave it out).
   */
  stateDiverged?: (divergence: Divergence) => PortResult
}

export interface ActionPorts {
  readonly network: NetworkPort
  readonly store: StorePort
  readonly deliveries: DeliveriesPort
  readonly checkpoints: CheckpointsPort
  readonly sync: SyncPort
  readonly misbehaviour: MisbehaviourPort
  readonly epochs: EpochsPort
}
