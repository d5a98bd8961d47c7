// Certified checkpoints inside a replica. Every node keeps the state at its latest certified
// checkpoint (the base) and the ops it delivered since (the tail, in delivery order). A cut is
// described by its difference from the base; any node that delivered every op of the cut rebuilds
// the state there by replaying those ops of its tail on a copy of the base, whatever it delivered
// after, and gets the same root as every honest node. 2f+1 signatures certify a cut; it becomes
// the new base and history behind the `retain`-th certified checkpoint back may be pruned.
//
// Certified cuts form one chain: a validator signs a cut only if it contains every cut it signed
// before (its signed floor, persisted before the signature leaves). Any two certified cuts share
// an honest signer, so one contains the other, and a node at the lower extends to the higher.
// Proposers take turns (by the base root); a turn's proposer proposes the first ops of its tail
// together with every signed cut it holds that the base does not contain, so a proposer that
// showed different cuts to different validators delays the next checkpoint by a turn.
//
// Inputs from peers are bounded: a few open cuts per proposer, a few computations per turn.

import { bytesEqual, encode } from '../codec/canonical.js'
import { sha256, toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { inSignerOrder } from '../crypto/signing.js'
import type { Signer } from '../crypto/signing.js'
import type { Genesis } from '../ledger/genesis.js'
import type { ReplicatedAlgorithm } from '../algorithm/algorithm.js'
import { createAlgorithm } from '../algorithm/registry.js'
import { accountKey } from '../ledger/op.js'
import type { SignedOp, Slot } from '../ledger/op.js'
import { slotValue } from '../ledger/slot.js'
import { MESSAGE_LIMITS, checkpointId, encodeMessage } from '../broadcast/messages.js'
import type { CheckpointMsg, CheckpointSig } from '../broadcast/messages.js'
import type { PeerId, Verdict } from '../broadcast/actions.js'
import { BoundedSet } from '../broadcast/bounded.js'
import type { Snapshot } from './snapshot.js'
import { checkSigners, signCheckpoint, verifyCheckpointSig } from './certificate.js'
import type { ValidatorSet } from './certificate.js'

export interface CheckpointOptions {
  /** Delivered ops between checkpoints; 0: this node never proposes one. */
  interval: number
  /** Certified checkpoints whose history (certificates, call outcomes) is kept behind the latest. */
  retain: number
  /** How long peers' certified checkpoints may stay out of reach before this node asks for a snapshot (ms). */
  behindAfter: number
}

export const DEFAULT_CHECKPOINTS: CheckpointOptions = { interval: 1000, retain: 2, behindAfter: 15_000 }

/** A checkpoint with a quorum of signatures, and the state behind its root. */
export interface CertifiedCheckpoint {
  readonly msg: CheckpointMsg
  readonly bytes: Uint8Array
  readonly snapshot: Snapshot
}

/**
 * What the keeper asks of its replica, in the order it must happen (sans-IO: the keeper returns
 * these from `poll` instead of calling back; the replica turns each into its own actions).
 */
export type KeeperAction =
  | { readonly type: 'broadcast', readonly bytes: Uint8Array }
  | { readonly type: 'send', readonly to: PeerId, readonly bytes: Uint8Array }
  /** This validator's signature on a cut (its new signed floor): persisted before it leaves. */
  | { readonly type: 'signed', readonly height: number, readonly bytes: Uint8Array }
  | { readonly type: 'certified', readonly checkpoint: CertifiedCheckpoint }
  /** History of this account from `fromSeq` through `toSeq` may be forgotten. */
  | { readonly type: 'prune', readonly account: Uint8Array, readonly fromSeq: number, readonly toSeq: number }
  | { readonly type: 'behind', readonly height: number, readonly peers: readonly PeerId[] }
  /** A quorum certified a cut whose state here has another root: this node's state diverged. */
  | { readonly type: 'diverged', readonly divergence: Divergence }

/**
 * A certified cut whose root differs from the one this node computes from the same ops: its own
 * state (the base, or the ops it delivered) is not the network's. Reported once; the keeper stops
 * signing and stops asking for snapshots until a person recovers the node.
 */
export interface Divergence {
  /** The certified checkpoint message (with its quorum of signatures), encoded. */
  readonly certified: Uint8Array
  readonly height: number
  /** The root certified by the quorum, and the root this node computes at the same cut. */
  readonly root: Hash
  readonly ours: Hash
  /** The latest checkpoint this node agreed to (its base), and the ops of the cut it applied on top, in order. */
  readonly baseHeight: number
  readonly baseRoot: Hash
  readonly ops: readonly Uint8Array[]
}

/** The next seq of an account's stream at the replica (a read, never a change). */
export type DeliveredUpTo = (account: Uint8Array) => number

interface Base {
  readonly height: number
  readonly root: Hash
  /** The replicated state at the base (a Ledger on a ledger network). */
  readonly ledger: ReplicatedAlgorithm
  readonly cert?: CertifiedCheckpoint
}

type Computed =
  // the root only: a snapshot's chunks are rebuilt from the ledger if the cut is certified
  | { readonly ok: true, readonly ledger: ReplicatedAlgorithm, readonly root: Hash }
  // `ours`: computed, with another root than the cut claims
  | { readonly ok: false, readonly reason: string, readonly ours?: Hash }

type Statement = Omit<CheckpointMsg, 'type' | 'sigs'>

interface Candidate {
  readonly id: string
  readonly proposer: string
  readonly msg: Statement
  readonly sigs: Map<string, CheckpointSig>
  readonly from: Set<PeerId>
  computed?: Computed
}

/** Intervals of ops held in the tail without a certified checkpoint before it is let go. */
const MAX_TAIL_INTERVALS = 64

/** Cuts computed per proposer's turn: bounds the work a Byzantine proposer can ask for. */
const MAX_COMPUTATIONS_PER_TURN = 3

/** Computed cut states kept (each holds a ledger copy): the few latest. */
const MAX_COMPUTED_CUTS = 8

/** The longest a checkpointing keeper goes without a tick. */
const KEEPER_POLL_MS = 250

/** A turn lasts this share of `behindAfter` once ops stop moving the phase. */
const TURN_TIMEOUT = 0.25

/** Open cuts kept per proposer: bounds what a flood of made-up cuts can hold here. */
const MAX_CANDIDATES_PER_PROPOSER = 4

export class CheckpointKeeper {
  private base: Base
  private tail: SignedOp[] = []
  private readonly candidates = new Map<string, Candidate>()
  /**
   * The signed floor: per account (hex), the highest seq of any cut this validator signed, where
   * it is above the base. A cut is signed only if it reaches every entry.
   */
  private readonly signedFloor = new Map<string, Slot>()
  /** Cuts computed per proposer's turn (`base/proposer/turn`): how many, and the highest. */
  private readonly tried = new Map<string, { count: number, height: number }>()
  /** States computed at cuts from the base, by cut: proposers that reach the same cut share one. */
  private readonly computedCuts = new Map<string, Computed>()
  private readonly proposed = new Set<number>()
  private readonly verified: BoundedSet
  /** Certified checkpoints, oldest first: the base is the last. */
  private history: CertifiedCheckpoint[] = []
  /** Per account, the last seq whose history was pruned. */
  private readonly prunedTo = new Map<string, number>()
  private prunedHeight = 0
  /** The tail grew past its bound and was dropped: cuts can no longer be computed here. */
  private tailLost = false
  private behindSince: number | undefined
  private progress = -1
  private nextResendAt = 0
  /** The cut this validator signed last: it contains every cut it signed before. */
  private lastSigned: string | undefined
  /** The time of the last tick, and since when the current phase has lasted (see openTurn). */
  private now = 0
  private phaseSeen = -1
  private phaseSince = 0
  /** What the replica must do, gathered since the last poll. */
  private out: KeeperAction[] = []
  /** The epoch whose set signs and proposes cuts here. */
  private epoch = 0
  /** A certified cut showed this node's state diverged: it signs nothing and fetches no snapshot. */
  private halted = false

  constructor (
    private readonly opts: CheckpointOptions,
    private readonly genesis: Genesis,
    /** The validator set of each epoch this node knows (undefined: not known here yet). */
    private readonly setOf: (epoch: number) => ValidatorSet | undefined,
    private validators: readonly PeerId[],
    private signer: Signer | undefined,
    private readonly nextSeq: DeliveredUpTo
  ) {
    const ledger = createAlgorithm(genesis)
    this.base = { height: 0, root: ledger.stateHash(), ledger }
    this.verified = new BoundedSet(4096)
  }

  /**
   * When the keeper next needs a tick (Infinity: never). It proposes, evaluates and watches for
   * lag on ticks, so while it is checkpointing it asks to be polled a few times per turn.
   */
  nextTickAt (now: number): number {
    if (this.opts.interval <= 0 && this.candidates.size === 0) return Infinity
    const poll = now + Math.min(KEEPER_POLL_MS, this.opts.behindAfter * TURN_TIMEOUT / 4)
    // a new phase may open a turn: propose at once
    return this.phase !== this.phaseSeen ? now : poll
  }

  /** Takes the actions gathered since the last call: the replica polls after every input it passes on. */
  poll (): KeeperAction[] {
    const out = this.out
    this.out = []
    return out
  }

  /** The current epoch's set: the one whose members sign and propose cuts from now on. */
  private get set (): ValidatorSet {
    return this.setOf(this.epoch)!
  }

  /**
   * A new epoch: its validators take the turns; uncertified cuts of older epochs can never reach a
   * quorum (their signers moved on) and go, except the one this validator signed last, which
   * holds its floor. `signer` is undefined when this node does not sign in the new epoch.
   */
  changeEpoch (epoch: number, validators: readonly PeerId[], signer: Signer | undefined): void {
    this.epoch = epoch
    this.validators = validators
    this.signer = this.halted ? undefined : signer
    for (const [id, c] of this.candidates) {
      if ((c.msg.epoch ?? 0) < epoch && c.sigs.size < this.quorumOf(c.msg) && id !== this.lastSigned) this.candidates.delete(id)
    }
    this.phaseSeen = -1
  }

  /** Signatures that certify a cut: a quorum of the set of the epoch it names. */
  private quorumOf (m: Statement): number {
    return this.setOf(m.epoch ?? 0)?.quorum ?? Infinity
  }

  /** A validator that abstained signs cuts from now on. */
  startSigning (signer: Signer): void {
    if (!this.halted) this.signer ??= signer
  }

  /** This node's state diverged (now, or before a restart): never sign or propose a cut again. */
  halt (): void {
    this.halted = true
    this.signer = undefined
  }

  /** Height of the latest certified checkpoint (0: genesis). */
  get height (): number {
    return this.base.height
  }

  latest (): CertifiedCheckpoint | undefined {
    return this.base.cert
  }

  /** Ops delivered since the latest certified checkpoint. */
  get tailLength (): number {
    return this.tail.length
  }

  /** The last seq of an account whose history was pruned here (0: none). */
  prunedThrough (accountHex: string): number {
    return this.prunedTo.get(accountHex) ?? 0
  }

  /** The last seq of the account at the base (the latest certified cut). */
  baseSeq (account: Uint8Array): number {
    return this.base.ledger.nextSeq(account) - 1
  }

  /**
   * Why the base cannot move to this certified state, or undefined: the state must contain the
   * base (no account behind it), or a validator would forget slots it bound and delivered.
   */
  cannotInstall (height: number, ledger: ReplicatedAlgorithm): string | undefined {
    if (height <= this.base.height && this.base.height > 0) return `checkpoint ${height} is not above the base (${this.base.height})`
    for (const s of this.base.ledger.streams()) {
      if (ledger.nextSeq(s.account) < s.nextSeq) return `checkpoint ${height} holds account ${accountKey(s.account).slice(0, 16)} at seq ${ledger.nextSeq(s.account) - 1}, behind the base's ${s.nextSeq - 1}`
    }
    return undefined
  }

  /** Starts from a certified checkpoint (from disk, or downloaded by a joiner); `ledger` is its state. */
  install (cp: CertifiedCheckpoint, ledger: ReplicatedAlgorithm): void {
    this.base = { height: cp.msg.height, root: cp.msg.root, ledger, cert: cp }
    this.tail = []
    this.tailLost = false
    this.history = [cp]
    this.prunedHeight = cp.msg.height
    this.candidates.clear()
    this.proposed.clear()
    this.phaseSeen = -1
    this.tried.clear()
    this.computedCuts.clear()
    this.dropFloorBelowBase()
    // nothing older is held here: everything at or behind this cut counts as pruned
    for (const s of ledger.streams()) this.prunedTo.set(accountKey(s.account), s.nextSeq - 1)
  }

  /** A signed cut from disk: never sign a cut that does not contain it. */
  restoreSigned (m: CheckpointMsg): void {
    if (this.baseContains(m.delta)) return
    this.raiseFloor(m.delta)
    const c: Candidate = { id: checkpointId(m), proposer: toHex(m.proposer), msg: statementOf(m), sigs: new Map(m.sigs.map(s => [toHex(s.signer), s])), from: new Set() }
    this.candidates.set(c.id, c)
    const last = this.lastSigned === undefined ? undefined : this.candidates.get(this.lastSigned)
    if (last === undefined || last.msg.height <= c.msg.height) this.lastSigned = c.id
  }

  /** The base (the latest certified cut) contains this cut: a signature on it binds nothing more. */
  baseContains (delta: readonly Slot[]): boolean {
    return delta.every(s => s.seq <= this.baseSeq(s.account))
  }

  delivered (op: SignedOp): void {
    if (this.tailLost) return
    this.tail.push(op)
    // no checkpoint for this long (none in the network, or we cannot reach them): stop holding
    // the tail; this node can no longer compute cuts, and catches up by snapshot if others do
    if (this.tail.length > MAX_TAIL_INTERVALS * Math.max(this.opts.interval, DEFAULT_CHECKPOINTS.interval)) {
      this.tail = []
      this.tailLost = true
    }
  }

  tick (now: number): void {
    this.now = now
    if (this.phase !== this.phaseSeen) {
      this.phaseSeen = this.phase
      this.phaseSince = now
    }
    this.propose()
    for (const c of [...this.candidates.values()]) this.evaluate(c)
    this.resendSigned(now)
    this.watchLag(now)
  }

  /**
   * Signatures travel once and the network may lose them: every few seconds a validator sends
   * the last cut it signed again, if no base contains it yet, so every proposer learns the floor
   * it must reach.
   */
  private resendSigned (now: number): void {
    if (this.signer === undefined || now < this.nextResendAt) return
    this.nextResendAt = now + this.opts.behindAfter / 4
    const c = this.lastSigned === undefined ? undefined : this.candidates.get(this.lastSigned)
    if (c !== undefined) this.out.push({ type: 'broadcast', bytes: encodeMessage({ type: 'checkpoint', ...c.msg, sigs: inSignerOrder(c.sigs) }) })
  }

  /** A checkpoint message from a peer (or a validator's own). */
  receive (from: PeerId, m: CheckpointMsg): [Verdict, string?] {
    const set = this.setOf(m.epoch ?? 0)
    if (set === undefined) return ['ignore', `checkpoint of epoch ${m.epoch ?? 0}, not known here yet`]
    const bad = checkSigners(set, m.sigs)
    if (bad !== undefined) return ['reject', bad]
    if (m.sigs.length === 0) return ['reject', 'checkpoint without signatures']
    // an older epoch's signers sign no more: only a cut they already certified can still count
    if ((m.epoch ?? 0) < this.epoch && m.sigs.length < set.quorum) return ['ignore', `checkpoint of epoch ${m.epoch ?? 0}, which ended, without a quorum`]
    const proposer = toHex(m.proposer)
    if (!set.validators.has(proposer)) return ['reject', `checkpoint proposed by ${proposer.slice(0, 16)}, which is not a validator of its epoch`]
    if (this.baseContains(m.delta)) return ['ignore', 'the latest certified checkpoint contains this cut']
    const id = checkpointId(m)
    let c = this.candidates.get(id)
    if (c === undefined) {
      c = { id, proposer, msg: statementOf(m), sigs: new Map(), from: new Set() }
    }
    let added = false
    for (const s of m.sigs) {
      const signer = toHex(s.signer)
      if (c.sigs.has(signer)) continue
      const key = id + signer
      if (!this.verified.has(key)) {
        if (!verifyCheckpointSig(set, m, s)) return ['reject', `bad checkpoint signature from ${signer.slice(0, 16)}`]
        this.verified.add(key)
      }
      c.sigs.set(signer, s)
      added = true
    }
    if (!this.candidates.has(id)) this.admit(c)
    c.from.add(from)
    if (!added) return ['ignore', 'no new signatures']
    this.evaluate(c)
    return ['accept']
  }

  /** A peer reported its latest certified height: send it the certified checkpoints it lacks. */
  peerAt (peer: PeerId, height: number): void {
    for (const cp of this.history) if (cp.msg.height > height) this.out.push({ type: 'send', to: peer, bytes: cp.bytes })
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Each proposer keeps its few highest open cuts: a new one pushes out its lowest. The cut this
   * validator signed last is never pushed out: it contains all it signed before, and proposers
   * learn the floor they must reach from it.
   */
  private admit (c: Candidate): void {
    const theirs = [...this.candidates.values()].filter(o => o.proposer === c.proposer && o.id !== this.lastSigned)
    if (theirs.length >= MAX_CANDIDATES_PER_PROPOSER) {
      const lowest = theirs.reduce((a, b) => (b.msg.height < a.msg.height ? b : a))
      this.candidates.delete(lowest.id)
    }
    this.candidates.set(c.id, c)
  }

  /** The phase this node's tail has reached: turn `phase` is open for proposals. */
  private get phase (): number {
    return this.opts.interval <= 0 ? 0 : Math.floor(this.tail.length / this.opts.interval)
  }

  /**
   * The latest open turn: the phase, plus one more for every TURN_TIMEOUT share of `behindAfter`
   * the phase has lasted. Without it, once ops stop arriving the turns stop too, and a phase whose
   * proposers are all Byzantine or crashed would never see a checkpoint.
   */
  private get openTurn (): number {
    const phase = this.phase
    if (phase < 1) return phase
    return phase + Math.floor((this.now - this.phaseSince) / (this.opts.behindAfter * TURN_TIMEOUT))
  }

  /** The validator whose turn `turn` (1, 2, ...) is, from this base. */
  private proposerOf (turn: number): PeerId {
    return this.validators[(this.base.root[0]! + turn - 1) % this.validators.length]!
  }

  /** The latest of the n turns up to `upTo` (default: the next to open) that is `proposer`'s (0: none). */
  private latestTurnOf (proposer: PeerId, upTo = this.openTurn + 1): number {
    const n = this.validators.length
    for (let t = upTo; t >= 1 && t > upTo - n; t--) if (this.proposerOf(t) === proposer) return t
    return 0
  }

  /**
   * Proposes a cut when it is this validator's turn: the first ops of its tail, with its signed
   * floor and every signed cut it holds (so validators that signed different cuts can all sign
   * this one).
   */
  private propose (): void {
    if (this.signer === undefined || this.opts.interval <= 0 || this.tailLost) return
    // ops may arrive in bursts that skip phases: a proposer's turn stays open until n turns later
    const phase = this.phase
    if (phase < 1 || this.latestTurnOf(toHex(this.signer.publicKey), this.openTurn) === 0) return
    const cut = new Map<string, Slot>()
    // a cut signed from an older base may name accounts the base has since passed: not those
    const reach = (s: Slot): void => {
      const id = accountKey(s.account)
      if ((cut.get(id)?.seq ?? 0) < s.seq && s.seq > this.baseSeq(s.account)) cut.set(id, s)
    }
    for (const s of this.signedFloor.values()) reach(s)
    if (cut.size > MESSAGE_LIMITS.maxCheckpointDelta) return
    // Any signed cut above the base may be in some validator's floor, whatever base it came from.
    // Only cuts that can be in an honest floor count: computed here with the root it claims, or
    // not computable here but signed by more than f. Made-up cuts signed by their Byzantine
    // proposer alone must not swell the proposal past the delta limit and stop checkpoints.
    const faults = this.validators.length - this.set.quorum
    const floor = new Map(cut)
    for (const c of this.candidates.values()) {
      const honest = c.computed?.ok === true || (c.computed === undefined && c.sigs.size > faults && this.closedOverBase(c.msg.delta))
      if (honest) for (const s of c.msg.delta) reach(s)
    }
    if (cut.size > MESSAGE_LIMITS.maxCheckpointDelta) {
      // still too big: propose from the floor alone (validators that signed the others sign it
      // only if it contains theirs, but the next turns go on)
      cut.clear()
      for (const [id, s] of floor) cut.set(id, s)
    }
    let count = 0
    for (const op of this.tail) {
      if (count >= phase * this.opts.interval) break
      const id = accountKey(op.account)
      if (!cut.has(id) && cut.size >= MESSAGE_LIMITS.maxCheckpointDelta) break
      reach(op)
      count++
    }
    // signed cuts and the tail prefix together may cite deps outside them: take those in too
    // (deps are delivered before the ops citing them, so one pass from the end reaches all)
    for (let i = this.tail.length - 1; i >= 0; i--) {
      const op = this.tail[i]!
      if (op.seq <= (cut.get(accountKey(op.account))?.seq ?? 0)) for (const d of op.deps) if (d.seq > this.baseSeq(d.account)) reach(d)
    }
    if (cut.size > MESSAGE_LIMITS.maxCheckpointDelta) return
    const delta = [...cut.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => ({ account: s.account, seq: s.seq }))
    const height = this.base.height + this.tail.filter(op => op.seq <= (cut.get(accountKey(op.account))?.seq ?? 0)).length
    if (height === this.base.height || this.proposed.has(height)) return
    this.proposed.add(height)
    const draft = { height, baseHeight: this.base.height, base: this.base.root, proposer: this.signer.publicKey, delta, epoch: this.epoch }
    const computed = this.cachedCut(draft) ?? this.keepCut(draft, this.compute(draft))
    if (!computed.ok) return
    const msg = { ...draft, root: computed.root }
    const c: Candidate = { id: checkpointId(msg), proposer: toHex(this.signer.publicKey), msg, sigs: new Map(), from: new Set(), computed }
    this.admit(c)
    this.evaluate(c)
  }

  private onBase (m: Statement): boolean {
    return m.baseHeight === this.base.height && bytesEqual(m.base, this.base.root)
  }

  /**
   * This node can reach the cut from its own base: the cut is made from the base, or from an
   * earlier certified checkpoint and contains everything certified since.
   */
  private reachable (m: Statement): boolean {
    if (this.onBase(m)) return true
    const at = this.history.findIndex(cp => cp.msg.height === m.baseHeight && bytesEqual(cp.msg.root, m.base))
    if (at < 0) return false
    const cut = new Map(m.delta.map(s => [accountKey(s.account), s.seq]))
    for (const cp of this.history.slice(at + 1)) {
      for (const s of cp.msg.delta) if ((cut.get(accountKey(s.account)) ?? 0) < this.baseSeq(s.account)) return false
    }
    return true
  }

  /** Computes a cut once its ops are here; signs it if it is on our base; certifies it at a quorum. */
  private evaluate (c: Candidate): void {
    if (this.tailLost || c.msg.height <= this.base.height) return
    const certified = c.sigs.size >= this.quorumOf(c.msg)
    // a validator signs cuts from its own base, in its epoch; any node follows a certified cut it can reach
    const signable = this.signer !== undefined && (c.msg.epoch ?? 0) === this.epoch && this.onBase(c.msg) && !c.sigs.has(toHex(this.signer.publicKey))
    if (!certified && !signable) return
    if (!certified && !this.reachable(c.msg)) return
    if (c.computed === undefined) {
      if (!this.hasDelivered(c.msg.delta)) return
      // the same cut from another proposer costs nothing; otherwise a few computations per
      // proposer's turn, each higher than the last (a proposer learns floors it must reach);
      // certified cuts carry honest signatures: always
      const known = this.cachedCut(c.msg)
      if (known === undefined && !certified) {
        const turn = this.latestTurnOf(c.proposer)
        if (turn === 0) return
        const key = `${this.base.height}/${c.proposer}/${turn}`
        const done = this.tried.get(key)
        if (done !== undefined && (done.count >= MAX_COMPUTATIONS_PER_TURN || c.msg.height <= done.height)) return
        this.tried.set(key, { count: (done?.count ?? 0) + 1, height: c.msg.height })
      }
      c.computed = known ?? this.keepCut(c.msg, this.compute(c.msg))
      if (c.computed.ok && !bytesEqual(c.computed.root, c.msg.root)) {
        // a cut whose root is wrong is nobody honest's: forget it rather than keep it open
        if (!certified && c.id !== this.lastSigned) this.candidates.delete(c.id)
        c.computed = { ok: false, reason: 'root differs from ours', ours: c.computed.root }
      }
    }
    if (!c.computed.ok) {
      // a quorum (at least f+1 honest) vouches for that root: ours is the wrong one. One peer's
      // say-so (an uncertified cut) never gets here.
      if (certified && c.computed.ours !== undefined) this.diverge(c, c.computed.ours)
      return
    }
    if (signable && this.containsFloor(c.msg)) {
      this.raiseFloor(c.msg.delta)
      this.lastSigned = c.id
      const mine = signCheckpoint(this.signer!, this.set.networkId, c.msg)
      this.out.push({ type: 'signed', height: c.msg.height, bytes: encodeMessage({ type: 'checkpoint', ...c.msg, sigs: [mine] }) })
      c.sigs.set(toHex(mine.signer), mine)
      this.out.push({ type: 'broadcast', bytes: encodeMessage({ type: 'checkpoint', ...c.msg, sigs: inSignerOrder(c.sigs) }) })
    }
    if (c.sigs.size >= this.quorumOf(c.msg)) this.certify(c, c.computed)
  }

  /** Reports the first certified cut whose root differs from ours, and stops signing. */
  private diverge (c: Candidate, ours: Hash): void {
    if (this.halted) return
    this.halt()
    const cut = new Map(c.msg.delta.map(s => [accountKey(s.account), s.seq]))
    const ops = this.tail.filter(op => op.seq <= (cut.get(accountKey(op.account)) ?? this.baseSeq(op.account))).map(op => op.bytes)
    const sigs = inSignerOrder(c.sigs).slice(0, this.quorumOf(c.msg))
    this.out.push({
      type: 'diverged',
      divergence: { certified: encodeMessage({ type: 'checkpoint', ...c.msg, sigs }), height: c.msg.height, root: c.msg.root, ours, baseHeight: this.base.height, baseRoot: this.base.root, ops }
    })
  }

  /** States computed at cuts from the base are kept by cut, whoever proposed it. */
  private cachedCut (m: Omit<Statement, 'root'>): Computed | undefined {
    return this.computedCuts.get(cutKey(m))
  }

  private keepCut (m: Omit<Statement, 'root'>, computed: Computed): Computed {
    this.computedCuts.set(cutKey(m), computed)
    if (this.computedCuts.size > MAX_COMPUTED_CUTS) this.computedCuts.delete(this.computedCuts.keys().next().value!)
    return computed
  }

  /** The cut reaches every entry of the signed floor. */
  private containsFloor (m: Statement): boolean {
    const cut = new Map(m.delta.map(s => [accountKey(s.account), s.seq]))
    for (const [id, s] of this.signedFloor) if ((cut.get(id) ?? this.baseSeq(s.account)) < s.seq) return false
    return true
  }

  private raiseFloor (delta: readonly Slot[]): void {
    for (const s of delta) {
      const id = accountKey(s.account)
      if (s.seq > this.baseSeq(s.account) && (this.signedFloor.get(id)?.seq ?? 0) < s.seq) this.signedFloor.set(id, { account: s.account, seq: s.seq })
    }
  }

  private dropFloorBelowBase (): void {
    for (const [id, s] of this.signedFloor) if (s.seq <= this.baseSeq(s.account)) this.signedFloor.delete(id)
  }

  /** Every op of the cut is delivered here, and the cut with the base is closed under deps. */
  private closedOverBase (delta: readonly Slot[]): boolean {
    if (!this.hasDelivered(delta)) return false
    const cut = new Map(delta.map(s => [accountKey(s.account), s.seq]))
    const inCut = (account: Uint8Array, seq: number): boolean => seq <= Math.max(cut.get(accountKey(account)) ?? 0, this.baseSeq(account))
    return this.tail.every(op => !inCut(op.account, op.seq) || op.deps.every(d => inCut(d.account, d.seq)))
  }

  private hasDelivered (delta: readonly Slot[]): boolean {
    return delta.every(s => this.nextSeq(s.account) > s.seq)
  }

  /** The state at a cut: our base, plus the ops of our tail inside the cut, in delivery order. */
  private compute (m: Omit<Statement, 'root'>): Computed {
    const from = this.base
    const cut = new Map<string, number>()
    for (const s of m.delta) {
      const id = accountKey(s.account)
      if (cut.has(id)) return { ok: false, reason: 'an account appears twice in the cut' }
      if (s.seq < from.ledger.nextSeq(s.account) - 1) return { ok: false, reason: 'the cut moves an account back' }
      cut.set(id, s.seq)
    }
    const inCut = (account: Uint8Array, seq: number): boolean => seq <= (cut.get(accountKey(account)) ?? from.ledger.nextSeq(account) - 1)
    const ops = this.tail.filter(op => inCut(op.account, op.seq))
    if (ops.length !== m.height - from.height) return { ok: false, reason: `the cut holds ${ops.length} ops beyond our base, not ${m.height - from.height}` }
    for (const op of ops) {
      for (const d of op.deps) if (!inCut(d.account, d.seq)) return { ok: false, reason: 'the cut is not closed under deps' }
    }
    // a fork shares the base's accounts and copies only those the ops write; the root re-encodes
    // only those too
    const ledger = from.ledger.fork()
    for (const op of ops) ledger.apply(op)
    return { ok: true, ledger, root: ledger.stateHash() }
  }

  private certify (c: Candidate, computed: Computed & { ok: true }): void {
    const sigs = inSignerOrder(c.sigs).slice(0, this.quorumOf(c.msg))
    const msg: CheckpointMsg = { type: 'checkpoint', ...c.msg, sigs }
    const cp: CertifiedCheckpoint = { msg, bytes: encodeMessage(msg), snapshot: computed.ledger.snapshot() }
    this.base = { height: msg.height, root: msg.root, ledger: computed.ledger, cert: cp }
    this.tail = this.tail.filter(op => op.seq > this.baseSeq(op.account))
    // a cut the base does not contain stays: a validator that signed it needs it in every next one
    for (const [id, other] of this.candidates) if (this.baseContains(other.msg.delta)) this.candidates.delete(id)
    // heights proposed from the old base: from the new one they are new proposals
    this.proposed.clear()
    this.phaseSeen = -1
    this.tried.clear()
    this.computedCuts.clear()
    this.dropFloorBelowBase()
    this.behindSince = undefined
    this.history.push(cp)
    this.out.push({ type: 'certified', checkpoint: cp })
    this.pruneBehind()
  }

  /** Forgets history behind the checkpoint `retain` back; keeps that many certified ones to serve. */
  private pruneBehind (): void {
    const keep = this.opts.retain + 1
    const through = this.history[this.history.length - keep]
    if (through === undefined) return
    for (const cp of this.history) {
      if (cp.msg.height > through.msg.height || cp.msg.height <= this.prunedHeight) continue
      for (const s of cp.msg.delta) {
        const id = accountKey(s.account)
        const from = (this.prunedTo.get(id) ?? 0) + 1
        if (s.seq < from) continue
        this.out.push({ type: 'prune', account: s.account, fromSeq: from, toSeq: s.seq })
        this.prunedTo.set(id, s.seq)
      }
      this.prunedHeight = cp.msg.height
    }
    this.history = this.history.slice(-Math.max(keep, 1))
  }

  /**
   * Peers certify checkpoints this node cannot reach: their base is unknown here, or their ops
   * never arrive (peers pruned them). After `behindAfter` of that, the host fetches a snapshot.
   */
  private watchLag (now: number): void {
    let ahead: Candidate | undefined
    for (const c of this.candidates.values()) {
      if (c.sigs.size >= this.quorumOf(c.msg) && c.msg.height > this.base.height && (ahead === undefined || c.msg.height > ahead.msg.height)) ahead = c
    }
    // live ops may still arrive for other accounts: only a new base counts as catching up
    if (ahead === undefined || this.base.height !== this.progress) {
      this.progress = this.base.height
      this.behindSince = ahead === undefined ? undefined : now
      return
    }
    this.behindSince ??= now
    // a diverged node waits for a person (bftnode recover), not for a snapshot that hides it
    if (this.halted || now - this.behindSince < this.opts.behindAfter) return
    this.behindSince = now // ask again later if this does not help
    this.out.push({ type: 'behind', height: ahead.msg.height, peers: [...ahead.from] })
  }
}

/** A cut's identity from its base, whoever proposed it and whatever root it claims. */
function cutKey (m: Omit<Statement, 'root'>): string {
  return toHex(sha256(encode(['cut', m.baseHeight, m.base, m.height, m.delta.map(slotValue)])))
}

function statementOf (m: CheckpointMsg): Statement {
  return { height: m.height, root: m.root, baseHeight: m.baseHeight, base: m.base, proposer: m.proposer, delta: m.delta, epoch: m.epoch ?? 0 }
}
