// The seam between secure broadcast and what it replicates. SecureBroadcast orders each account's
// stream and delivers an op once its stream predecessor and its deps are delivered; everything
// else (is the op valid, what it changes, what the state hashes to) is the algorithm's. The AT2
// ledger (ledger/ledger.ts) and the observed-remove set (orset.ts) are the two implementations.

import type { Hash } from '../crypto/hash.js'
import { BftError } from '../errors.js'
import type { OpBody } from '../ledger/body.js'
import type { CallOutcome, ContractState } from '../ledger/contracts.js'
import type { Outcome } from '../ledger/ledger.js'
import type { AccountId, SignedOp, Slot } from '../ledger/op.js'
import type { Snapshot } from '../checkpoint/snapshot.js'

/** The algorithms a genesis may name; 'ledger' when it names none. */
export const ALGORITHMS = ['ledger', 'orset'] as const
export type AlgorithmName = typeof ALGORITHMS[number]

export interface ApplyOptions {
  /**
   * The op's signature does not verify against the signer in force (a rotation retired the key
   * that signed it after validators bound it): the op consumes its slot and is rejected. Only an
   * algorithm whose streams rotate keys (rotated() true) is ever told so.
   */
  readonly retiredKey?: boolean
}

/**
 * What the broadcast layer, the checkpoint keeper and the joiner need from a replicated
 * algorithm. Every method is deterministic: the same delivered streams give the same answers on
 * every node, whatever order the streams were interleaved in.
 */
export interface ReplicatedAlgorithm {
  readonly algorithm: AlgorithmName

  // -- streams: one per account, ordered by seq (1, 2, ...) -------------------------------------
  /** The seq the account's next delivered op must carry. */
  nextSeq: (account: AccountId) => number
  /** Accounts with at least one delivered op (nextSeq > 1), for frontiers and checkpoints. */
  streams: () => Iterable<{ account: AccountId, nextSeq: number }>
  /** The key that signs the account's next op. */
  signerOf: (account: AccountId) => AccountId
  /** The account's signer changed once: its ops are verified again at delivery. */
  rotated: (account: AccountId) => boolean

  // -- admission: what validators agree to bind at all (the anti-spam rule) ----------------------
  /**
   * Validators bind the account's next op only if this is true: a key the algorithm gives nothing
   * to (no funds, not a writer) must not make validators store its ops.
   */
  holdsValue: (account: AccountId) => boolean
  /** Why this account is not admitted, for the submitter; asked only when holdsValue is false. */
  admissionRefusal: (account: AccountId) => string
  /** The op kind belongs to this algorithm; validators bind no op of another kind. */
  supports: (body: OpBody) => boolean

  // -- delivery ------------------------------------------------------------------------------------
  /**
   * Applies the account's next op (seq == nextSeq, every dep already delivered). Validity is
   * decided here; an invalid op still consumes its slot, with the same outcome on every node.
   * Deps are the algorithm's to interpret: credits claimed (ledger) or observed adds (set).
   */
  apply: (op: SignedOp, opts?: ApplyOptions) => Outcome

  // -- state ---------------------------------------------------------------------------------------
  /** Total ops delivered: the height of the cut this state is at. */
  height: () => number
  /** The canonical state root: the hash of the snapshot's manifest. */
  stateHash: () => Hash
  /** The state as canonical chunks under a manifest (see checkpoint/snapshot.ts). */
  snapshot: () => Snapshot
  /** An independent copy: applying to one never changes the other. */
  fork: () => ReplicatedAlgorithm

  // -- ledger capabilities the broadcast layer asks about --------------------------------------------
  // Contracts have sequencer streams (signed by another key, rotated by a deployer's request) and
  // call outcomes kept as history. An algorithm without contracts answers: none, nothing to forget.
  contract: (address: AccountId) => ContractState | undefined
  callOutcome: (call: Slot) => CallOutcome | undefined
  forgetOutcomes: (account: AccountId, fromSeq: number, toSeq: number) => void
}

/** A ledger-only request (balances, contracts, mint) on a network that runs another algorithm. */
export class WrongAlgorithmError extends BftError {
  readonly code = 'ERR_WRONG_ALGORITHM'
  constructor (readonly running: AlgorithmName, readonly wanted: AlgorithmName) {
    super(`this network runs the ${running} algorithm; this request needs a ${wanted} network`)
  }
}
