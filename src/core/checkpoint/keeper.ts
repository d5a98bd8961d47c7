// Certified checkpoints inside a replica. Every node keeps the state at its latest certified
// checkpoint (the base) and the ops it delivered since (the tail, in delivery order). A cut is
// described by its difference from the base; any node that delivered every op of the cut rebuilds
// the state there by replaying those ops of its tail on a copy of the base, whatever it delivered
// after, and gets the same root as every honest node. Validators sign (height, root), at most one
// cut per height; 2f+1 signatures certify it, it becomes the new base and history behind the
// `retain`-th certified checkpoint back may be pruned.
//
// Proposers take turns (by the base root) so one cut per height is usual; if the turn's proposer
// is silent, the next validator proposes a longer cut after every further `interval` ops.

import { bytesEqual } from '../codec/canonical.js'
import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import type { Signer } from '../crypto/signing.js'
import type { Genesis } from '../ledger/genesis.js'
import { Ledger } from '../ledger/ledger.js'
import type { SignedOp, Slot } from '../ledger/op.js'
import { MESSAGE_LIMITS, checkpointId, encodeMessage } from '../broadcast/messages.js'
import type { CheckpointMsg, CheckpointSig } from '../broadcast/messages.js'
import type { PeerId, Verdict } from '../broadcast/actions.js'
import { BoundedSet } from '../broadcast/bounded.js'
import { buildSnapshot } from './snapshot.js'
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

/** What the keeper needs from its replica. */
export interface KeeperHost {
  /** Stream positions of everything delivered so far. */
  nextSeq (account: Uint8Array): number
  broadcast (bytes: Uint8Array): void
  send (to: PeerId, bytes: Uint8Array): void
  certified (cp: CertifiedCheckpoint): void
  /** Persists this validator's signature promise before the signature leaves. */
  signed (height: number, root: Hash): void
  /** History of this account up to and including `toSeq` may be forgotten. */
  prune (account: Uint8Array, fromSeq: number, toSeq: number): void
  behind (height: number, peers: readonly PeerId[]): void
}

interface Base {
  readonly height: number
  readonly root: Hash
  readonly ledger: Ledger
  readonly cert?: CertifiedCheckpoint
}

type Computed =
  | { readonly ok: true, readonly ledger: Ledger, readonly snapshot: Snapshot }
  | { readonly ok: false, readonly reason: string }

interface Candidate {
  readonly id: string
  /** Who signed it first, as far as this node saw. */
  readonly proposer: string
  readonly msg: Omit<CheckpointMsg, 'sigs'>
  readonly sigs: Map<string, CheckpointSig>
  readonly from: Set<PeerId>
  computed?: Computed
}

/** Intervals of ops held in the tail without a certified checkpoint before it is let go. */
const MAX_TAIL_INTERVALS = 64

/** Open cuts kept per first signer: bounds what a flood of made-up cuts can cost. */
const MAX_CANDIDATES_PER_PROPOSER = 4

export class CheckpointKeeper {
  private base: Base
  private tail: SignedOp[] = []
  private readonly candidates = new Map<string, Candidate>()
  /** Heights this validator signed, with the root: never two roots for one height. */
  private readonly signed = new Map<number, string>()
  /** Heights and first signers whose cuts were computed: one computation each. */
  private readonly tried = new Set<string>()
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

  constructor (
    private readonly opts: CheckpointOptions,
    private readonly genesis: Genesis,
    private readonly set: ValidatorSet,
    private readonly validators: readonly PeerId[],
    private readonly signer: Signer | undefined,
    private readonly host: KeeperHost
  ) {
    const ledger = new Ledger(genesis)
    this.base = { height: 0, root: ledger.stateHash(), ledger }
    this.verified = new BoundedSet(4096)
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

  /** Starts from a certified checkpoint (from disk, or downloaded by a joiner); `ledger` is its state. */
  install (cp: CertifiedCheckpoint, ledger: Ledger): void {
    this.base = { height: cp.msg.height, root: cp.msg.root, ledger, cert: cp }
    this.tail = []
    this.tailLost = false
    this.history = [cp]
    this.prunedHeight = cp.msg.height
    this.candidates.clear()
    this.signed.clear()
    this.proposed.clear()
    // nothing older is held here: everything at or behind this cut counts as pruned
    for (const s of ledger.streams()) this.prunedTo.set(toHex(s.account), s.nextSeq - 1)
  }

  /** A signature promise from disk: never sign another root at that height. */
  restoreSigned (height: number, root: Hash): void {
    if (height > this.base.height) this.signed.set(height, toHex(root))
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
    this.propose()
    for (const c of this.candidates.values()) this.evaluate(c)
    this.watchLag(now)
  }

  /** A checkpoint message from a peer (or a validator's own). */
  receive (from: PeerId, m: CheckpointMsg): [Verdict, string?] {
    const bad = checkSigners(this.set, m.sigs)
    if (bad !== undefined) return ['reject', bad]
    if (m.sigs.length === 0) return ['reject', 'checkpoint without signatures']
    if (m.height <= this.base.height) return ['ignore', 'checkpoint at or behind the latest certified one']
    const id = checkpointId(m)
    let c = this.candidates.get(id)
    if (c === undefined) {
      // each proposer gets a few open cuts: one validator cannot crowd out the others'
      const proposer = toHex(m.sigs[0]!.signer)
      let open = 0
      for (const other of this.candidates.values()) if (other.proposer === proposer) open++
      if (open >= MAX_CANDIDATES_PER_PROPOSER) return ['ignore', 'too many checkpoints under way from this proposer']
      c = { id, proposer, msg: { type: 'checkpoint', height: m.height, root: m.root, baseHeight: m.baseHeight, base: m.base, delta: m.delta }, sigs: new Map(), from: new Set() }
    }
    let added = false
    for (const s of m.sigs) {
      const signer = toHex(s.signer)
      if (c.sigs.has(signer)) continue
      const key = id + signer
      if (!this.verified.has(key)) {
        if (!verifyCheckpointSig(this.set, m, s)) return ['reject', `bad checkpoint signature from ${signer.slice(0, 16)}`]
        this.verified.add(key)
      }
      c.sigs.set(signer, s)
      added = true
    }
    this.candidates.set(id, c)
    c.from.add(from)
    if (!added) return ['ignore', 'no new signatures']
    this.evaluate(c)
    return ['accept']
  }

  /** A peer reported its latest certified height: send it the certified checkpoints it lacks. */
  peerAt (peer: PeerId, height: number): void {
    for (const cp of this.history) if (cp.msg.height > height) this.host.send(peer, cp.bytes)
  }

  // -------------------------------------------------------------------------------------------

  /** Proposes a cut when it is this validator's turn (or the turn's proposer stayed silent). */
  private propose (): void {
    if (this.signer === undefined || this.opts.interval <= 0 || this.tailLost) return
    const phase = Math.floor(this.tail.length / this.opts.interval)
    if (phase < 1) return
    const turn = (this.base.root[0]! + phase - 1) % this.validators.length
    if (this.validators[turn] !== toHex(this.signer.publicKey)) return
    // the cut: the first ops of the tail, as many as the phase allows and the delta can carry
    const moved = new Map<string, Slot>()
    let count = 0
    for (const op of this.tail) {
      if (count >= phase * this.opts.interval) break
      const id = toHex(op.account)
      if (!moved.has(id) && moved.size >= MESSAGE_LIMITS.maxCheckpointDelta) break
      moved.set(id, { account: op.account, seq: op.seq })
      count++
    }
    const height = this.base.height + count
    if (this.proposed.has(height) || this.signed.has(height)) return
    this.proposed.add(height)
    const delta = [...moved.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s)
    const msg = { type: 'checkpoint' as const, height, baseHeight: this.base.height, base: this.base.root, delta }
    const computed = this.compute(msg)
    if (!computed.ok) return
    const c: Candidate = { id: checkpointId({ ...msg, root: computed.snapshot.root }), proposer: toHex(this.signer.publicKey), msg: { ...msg, root: computed.snapshot.root }, sigs: new Map(), from: new Set(), computed }
    this.candidates.set(c.id, c)
    this.evaluate(c)
  }

  /** Computes a candidate rooted on our base once its ops are here; signs it; certifies it. */
  private evaluate (c: Candidate): void {
    if (this.tailLost) return
    if (!bytesEqual(c.msg.base, this.base.root) || c.msg.baseHeight !== this.base.height) return
    if (c.computed === undefined) {
      if (!this.hasDelivered(c.msg.delta)) return
      // one computation per height and first signer: a validator flooding cuts pays, we do not
      const first = [...c.sigs.keys()][0] ?? 'self'
      const key = `${c.msg.height}/${first}`
      if (this.tried.has(key)) return
      this.tried.add(key)
      c.computed = this.compute(c.msg)
      if (c.computed.ok && !bytesEqual(c.computed.snapshot.root, c.msg.root)) c.computed = { ok: false, reason: 'root differs from ours' }
    }
    if (!c.computed.ok) return
    if (this.signer !== undefined && !this.signed.has(c.msg.height)) {
      this.signed.set(c.msg.height, c.id)
      this.host.signed(c.msg.height, c.msg.root)
      const mine = signCheckpoint(this.signer, this.set.networkId, c.msg)
      c.sigs.set(toHex(mine.signer), mine)
      this.host.broadcast(encodeMessage({ ...c.msg, sigs: sortedSigs(c.sigs) }))
    }
    if (c.sigs.size >= this.set.quorum) this.certify(c, c.computed)
  }

  private hasDelivered (delta: readonly Slot[]): boolean {
    return delta.every(s => this.host.nextSeq(s.account) > s.seq)
  }

  /** The state at a cut: our base, plus the ops of our tail inside the cut, in delivery order. */
  private compute (m: Omit<CheckpointMsg, 'sigs' | 'root'>): Computed {
    const cut = new Map<string, number>()
    for (const s of m.delta) {
      const id = toHex(s.account)
      if (cut.has(id)) return { ok: false, reason: 'an account appears twice in the cut' }
      if (s.seq < this.base.ledger.nextSeq(s.account)) return { ok: false, reason: 'the cut moves an account back' }
      cut.set(id, s.seq)
    }
    const inCut = (account: Uint8Array, seq: number): boolean => seq <= (cut.get(toHex(account)) ?? this.base.ledger.nextSeq(account) - 1)
    const ops = this.tail.filter(op => inCut(op.account, op.seq))
    if (ops.length !== m.height - m.baseHeight) return { ok: false, reason: `the cut holds ${ops.length} ops, not ${m.height - m.baseHeight}` }
    for (const op of ops) {
      for (const d of op.deps) if (!inCut(d.account, d.seq)) return { ok: false, reason: 'the cut is not closed under deps' }
    }
    const ledger = Ledger.fromState(this.genesis, this.base.ledger.exportState())
    for (const op of ops) ledger.apply(op)
    const snapshot = buildSnapshot(ledger.exportState())
    return { ok: true, ledger, snapshot }
  }

  private certify (c: Candidate, computed: Computed & { ok: true }): void {
    const sigs = sortedSigs(c.sigs).slice(0, this.set.quorum)
    const msg: CheckpointMsg = { ...c.msg, sigs }
    const cp: CertifiedCheckpoint = { msg, bytes: encodeMessage(msg), snapshot: computed.snapshot }
    const cut = new Map(msg.delta.map(s => [toHex(s.account), s.seq]))
    this.tail = this.tail.filter(op => op.seq > (cut.get(toHex(op.account)) ?? 0))
    this.base = { height: msg.height, root: msg.root, ledger: computed.ledger, cert: cp }
    for (const [id, other] of this.candidates) if (other.msg.height <= msg.height) this.candidates.delete(id)
    for (const h of this.signed.keys()) if (h <= msg.height) this.signed.delete(h)
    for (const h of this.proposed) if (h <= msg.height) this.proposed.delete(h)
    for (const k of this.tried) if (Number(k.split('/')[0]) <= msg.height) this.tried.delete(k)
    this.behindSince = undefined
    this.history.push(cp)
    this.host.certified(cp)
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
        const id = toHex(s.account)
        const from = (this.prunedTo.get(id) ?? 0) + 1
        if (s.seq < from) continue
        this.host.prune(s.account, from, s.seq)
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
      if (c.sigs.size >= this.set.quorum && c.msg.height > this.base.height && (ahead === undefined || c.msg.height > ahead.msg.height)) ahead = c
    }
    // live ops may still arrive for other accounts: only a new base counts as catching up
    if (ahead === undefined || this.base.height !== this.progress) {
      this.progress = this.base.height
      this.behindSince = ahead === undefined ? undefined : now
      return
    }
    this.behindSince ??= now
    if (now - this.behindSince < this.opts.behindAfter) return
    this.behindSince = now // ask again later if this does not help
    this.host.behind(ahead.msg.height, [...ahead.from])
  }
}

function sortedSigs (sigs: Map<string, CheckpointSig>): CheckpointSig[] {
  return [...sigs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s)
}
