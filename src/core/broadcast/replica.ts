// A replica: one node's whole view of SecureBroadcast and the ledger, as a deterministic state
// machine. Inputs are submitted ops, messages from peers and clock ticks (with the time passed in);
// outputs are actions for the host. No timers, sockets, disk, clocks or randomness in here, so
// the simulator replays any history exactly and the real node runs the same code.
//
// Roles in one replica: a broadcaster (proposes batches of submitted ops and gathers votes), a
// validator (binds slots and votes, if its key is in genesis) and a deliverer (verifies
// certificates, buffers them until their predecessors arrive, applies them to the ledger).

import { bytesEqual } from '../codec/canonical.js'
import { sha256, toHex, fromHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { Domain, signFor, verifyFor } from '../crypto/signing.js'
import type { SignatureScheme, Signer } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { networkId, faultModel, faultsTolerated, handoffsNeeded } from '../ledger/genesis.js'
import type { Genesis } from '../ledger/genesis.js'
import { Ledger } from '../ledger/ledger.js'
import { WrongAlgorithmError } from '../algorithm/algorithm.js'
import type { ReplicatedAlgorithm } from '../algorithm/algorithm.js'
import { createAlgorithm } from '../algorithm/registry.js'
import { accountKey, decodeOp, slotKey, verifyOpSignature } from '../ledger/op.js'
import { expectedSigner, isRotation, rotatesSurely, rotationRequested, signerAfter } from '../ledger/rotation.js'
import type { AccountId, SignedOp, Slot } from '../ledger/op.js'
import type { Action, PeerId, PersistRecord, ReceiveResult, SubmitResult, SubmitStatus, Verdict } from './actions.js'
import { SlotBindings } from './bindings.js'
import { BoundedSet } from './bounded.js'
import { CertificateLog } from './certlog.js'
import { DeliveryBuffer } from './delivery.js'
import { MESSAGE_LIMITS, batchDigest, decodeMessage, encodeMessage } from './messages.js'
import { votePayload } from './messages.js'
import type { Certified, Fetch, Frontier, Handoff, EvidenceMsg, HandoffRequest, Message, Nack, Propose, VoteMsg } from './messages.js'
import { Reconfigurer, ReconfigurationError } from '../epoch/reconfigurer.js'
import type { Proposal } from '../epoch/reconfigurer.js'
import type { Epoch } from '../epoch/epochs.js'
import type { ValidatorSet } from '../checkpoint/certificate.js'
import { Proposer } from './proposer.js'
import { checkVoteEvidence, encodeVoteEvidence } from './evidence.js'
import type { VoteEvidence } from './evidence.js'
import { CheckpointKeeper, DEFAULT_CHECKPOINTS } from '../checkpoint/keeper.js'
import type { CertifiedCheckpoint, CheckpointOptions, Divergence } from '../checkpoint/keeper.js'

export interface ReplicaTiming {
  /** Longest an op waits in the queue before its batch closes, while the pipeline has room (ms). */
  batchDelay: number
  /** Batches of this broadcaster waiting for their first quorum at once (see Proposer). */
  pipeline: number
  /** First resend of an unanswered proposal (ms); doubles up to maxRetry. */
  proposeRetry: number
  maxRetry: number
  /**
   * A batch too many validators put off is dropped after this (ms): its ops wait on something
   * that never came (a predecessor nobody was sent), and must not hold queue room for ever.
   */
  giveUpAfter: number
  /** A validator re-proposes an op it bound if no certificate came within this (ms). */
  reproposeAfter: number
  /** How long before asking again for a missing predecessor (ms). */
  fetchRetry: number
  /** Interval between anti-entropy frontier exchanges (ms). */
  antiEntropy: number
  /**
   * A contract with queued calls and no op of its stream delivered for this long (ms) is silent:
   * a validator then binds a rotate-sequencer op for it without the deployer's request.
   */
  sequencerSilence: number
}

export interface ReplicaLimits {
  maxBatchOps: number
  /** Ops queued or in flight at this broadcaster. */
  maxQueuedOps: number
  /** Bytes of those ops. */
  maxQueuedBytes: number
  /** A validator binds seq only below nextSeq + bindWindow, so one account cannot fill its memory. */
  bindWindow: number
  /** Certified ops waiting for their predecessors. */
  maxBufferedOps: number
  /** Bytes of those ops. */
  maxBufferedBytes: number
  /** Verified op and vote signatures remembered, so none is verified twice. */
  verifiedCache: number
  /**
   * Memory of checked ops kept decoded between proposal and delivery: their bytes plus
   * DECODED_OVERHEAD each for the objects and arrays a decoded op is made of.
   */
  decodedCacheBytes: number
  /** Proofs of equivocation kept (oldest go first). */
  maxEquivocations: number
  /** Bytes of the ops in those proofs. */
  maxEquivocationBytes: number
  /** Certificates sent in answer to one fetch or frontier. */
  maxCertsPerReply: number
  /** Fetch requests sent per tick. */
  maxFetchesPerTick: number
  /** Contracts with queued calls whose sequencer's silence is tracked (see Replica.contractProgress). */
  maxSilenceTracked: number
}

/**
 * Heap a decoded op costs beyond its bytes (measured: ~88 MB held for a 32 MiB budget of op bytes,
 * so about twice the bytes of a ~300-byte transfer): its own copies of account, hash and signature
 * each with an ArrayBuffer, the body and deps objects.
 */
const DECODED_OVERHEAD = 640
/** Rotated accounts whose retired keys are remembered (see Replica.retiredKeys). */
const MAX_RETIRED_ACCOUNTS = 100_000
/** Retired keys remembered per rotated account (see Replica.retiredKeys). */
const MAX_RETIRED_KEYS = 4
const decodedCost = (op: SignedOp): number => op.bytes.length + DECODED_OVERHEAD

/** What may change who signs an account's next slots, known here ahead of delivery (see Replica.unsettled). */
interface Unsettled {
  /** The last slot that put the account here: it leaves once that slot is delivered. */
  until: number
  /** Its rotation ops bound or certified here and not delivered yet. */
  rotations: Array<{ readonly op: SignedOp, certified: boolean }>
}

/** How far a walk over an account's slots got (see Replica.walk): the key in force at `seq`, or undefined when `seq` is unknown here. */
interface Walked { readonly seq: number, readonly signer: AccountId | undefined, readonly certain: boolean }

/**
 * The ops of a batch (or of one submission) by slot, as a validator reads them while it walks
 * an account's slots: an op admitted earlier in the batch tells the key in force after it. The
 * index is built only if some op needs a walk.
 */
class BatchSlots {
  private bySlot: Map<string, SignedOp> | undefined
  /** Accounts (hex) the batch holds a rotation op of. */
  readonly rotating = new Set<string>()
  /** Walks so far, per account: later ops of the account go on from there. */
  readonly walked = new Map<string, Walked>()

  constructor (private readonly ops: SignedOp[] = []) {
    for (const op of ops) if (isRotation(op)) this.rotating.add(accountKey(op.account))
  }

  /** The first op of the batch at the slot. */
  at (account: Uint8Array, seq: number): SignedOp | undefined {
    if (this.bySlot === undefined) {
      this.bySlot = new Map()
      for (const op of this.ops) {
        const key = slotKey(op.account, op.seq)
        if (!this.bySlot.has(key)) this.bySlot.set(key, op)
      }
    }
    return this.bySlot.get(slotKey(account, seq))
  }

  /** One more op (of a submission, taken in order). */
  add (op: SignedOp): void {
    this.ops.push(op)
    this.bySlot = undefined
    this.walked.clear()
    if (isRotation(op)) this.rotating.add(accountKey(op.account))
  }
}

export const DEFAULT_TIMING: ReplicaTiming = {
  batchDelay: 2,
  pipeline: 2,
  proposeRetry: 300,
  maxRetry: 4000,
  giveUpAfter: 120_000,
  reproposeAfter: 1500,
  fetchRetry: 400,
  antiEntropy: 1000,
  sequencerSilence: 60_000
}

export const DEFAULT_LIMITS: ReplicaLimits = {
  maxBatchOps: MESSAGE_LIMITS.maxBatchOps,
  maxQueuedOps: 100_000,
  maxQueuedBytes: 256 * 1024 * 1024,
  bindWindow: 1024,
  maxBufferedOps: 200_000,
  maxBufferedBytes: 256 * 1024 * 1024,
  // an op is looked up again when its certificate comes, seconds after its proposal: 50,000 is
  // minutes at today's peak, and each entry costs ~130 bytes twice (ops and votes)
  verifiedCache: 50_000,
  decodedCacheBytes: 32 * 1024 * 1024,
  maxEquivocations: 10_000,
  maxEquivocationBytes: 64 * 1024 * 1024,
  maxCertsPerReply: 64,
  maxFetchesPerTick: 32,
  maxSilenceTracked: 100_000
}

export interface ReplicaOptions {
  readonly genesis: Genesis
  readonly scheme: SignatureScheme
  /** This node's key: its identity, and its voting key if genesis lists it as a validator. */
  readonly signer: Signer
  readonly timing?: Partial<ReplicaTiming>
  readonly limits?: Partial<ReplicaLimits>
  /** Peers to exchange anti-entropy with and fetch from; default: the other validators. */
  readonly peers?: readonly PeerId[]
  readonly checkpoints?: Partial<CheckpointOptions>
  /**
   * A validator that must not vote (it cannot know what it voted for before: its data dir was
   * lost), with the reason: it binds nothing and signs no checkpoint, and follows like an observer.
   */
  readonly abstain?: string
  /** Approve every well-formed change of the validator set as it arrives (default: an operator approves). */
  readonly autoApproveReconfiguration?: boolean
}

export interface ReplicaStatus {
  readonly id: PeerId
  readonly validator: boolean
  readonly delivered: number
  readonly buffered: number
  readonly queued: number
  readonly pendingBatches: number
  readonly bindings: number
  readonly certificates: number
  readonly stateHash: string
  /** Height of the latest certified checkpoint (0: none yet), and ops delivered since. */
  readonly checkpoint: number
  readonly sinceCheckpoint: number
  /** Bytes of checked ops kept decoded, and proofs of equivocation held (both bounded). */
  readonly decodedBytes: number
  readonly equivocations: number
}

/** This node's state diverged from a certified checkpoint (see CheckpointKeeper's Divergence). */
export interface DivergedState {
  readonly height: number
  /** The certified root at that cut, and this node's. */
  readonly root: Hash
  readonly ours: Hash
  /** The certified checkpoint message (kept on disk too): enough to write the evidence again. */
  readonly certified: Uint8Array
}

export class Replica {
  readonly id: PeerId
  readonly networkId: Hash
  private abstaining: string | undefined
  /** Changes of the validator set, and the chain of epochs. */
  private readonly epochs: Reconfigurer
  /**
   * A validator of a new epoch waits, before it votes in it, for the hand-off of a quorum of the
   * previous epoch's set (see onHandoff); `heard` are those whose list ended and whose delivered
   * frontier this node reached. `floors`: per such validator, the streams it had delivered further
   * than this node (account key to its next seq); `ended`: those whose list ended meanwhile.
   * `settled`: validators of the new epoch already voting there whose list ended and whose
   * frontier this node reached (`flagged`: whose list said so); more than f of them end the wait too.
   * `parts`: per sender, the list of several messages arriving and the part it takes next;
   * `held`: per sender, ops of its current list this node could not check yet (see takeHanded).
   */
  private handoffWait: { readonly epoch: number, readonly previous: Epoch, readonly heard: Set<PeerId>, nextRequestAt: number, readonly floors: Map<PeerId, Map<string, Slot>>, readonly ended: Set<PeerId>, readonly settled: Set<PeerId>, readonly flagged: Set<PeerId>, readonly parts: Map<PeerId, { list: number, next: number }>, readonly held: Map<PeerId, Map<string, SignedOp>> } | undefined
  /**
   * The epoch before the current one, if this node voted in it (it was a member and had finished
   * its own hand-off there): only then does what it hands over cover every op certified so far.
   */
  private votedInPrevious: number | undefined
  /** When each new-epoch validator was last sent our hand-off on request (one list per retry interval). */
  private readonly handoffServed = new Map<PeerId, number>()
  /**
   * Slots for which hand-offs (or a hand-off and this node's own binding) named two ops: either
   * may be certified in an epoch whose quorums this one's need not meet, so this node votes for
   * neither until one is delivered here (an equivocating account's slot may stay stuck).
   */
  private readonly contested = new Set<string>()
  /** The name of the last hand-off list of several messages sent from here (from the clock, so it grows across restarts). */
  private handoffList = 0
  private readonly validatorSets = new Map<number, ValidatorSet>()
  private readonly explicitPeers: boolean
  private readonly timing: ReplicaTiming
  private readonly limits: ReplicaLimits
  private readonly scheme: SignatureScheme
  private readonly genesis: Genesis
  private readonly signer: Signer
  private peers: PeerId[]

  private readonly bindings = new SlotBindings()
  private readonly buffer: DeliveryBuffer
  private readonly log = new CertificateLog()
  private readonly checkpoints: CheckpointKeeper
  private stateNow: ReplicatedAlgorithm
  private readonly proposer: Proposer
  private readonly verifiedOps: BoundedSet
  /**
   * Recently checked ops by hash: a validator meets each op twice (proposal, certificate). Only
   * ops that passed their checks (signature, or a certificate's votes) get in, and the cache is
   * bounded in bytes: a peer cannot fill it with ops nobody signed or certified.
   */
  private readonly decoded = new Map<string, SignedOp>()
  private decodedBytes = 0
  private readonly verifiedVotes: BoundedSet
  /** Per validator (at most one record each), proof that it voted for two ops at one slot. */
  private readonly voteEvidence = new Map<string, VoteEvidence>()
  /** A certified cut showed this node's state diverged: it follows and never votes (persisted). */
  private divergedAt: DivergedState | undefined
  /** Slots where the author signed two ops, with the proof; such slots are never re-proposed. */
  private readonly equivocations = new Map<string, readonly [SignedOp, SignedOp]>()
  private equivocationBytes = 0
  /** Certificates some of whose ops a full buffer turned away, oldest first (see refuse). */
  private readonly refused = new Set<string>()
  private retrying = false
  private nextAntiEntropyAt = 0
  /** Turns of peers for fetches (see nextPeer). */
  private readonly peerTurns = { fetch: 0 }
  /** The first stream of the next frontier page, and the rounds of pages begun (see sendFrontier). */
  private frontierCursor = 0
  private frontierRound = 0
  private deliveredCount = 0
  /**
   * Per contract with queued calls, when its stream last moved here (or its queue last started
   * filling): how long its sequencer has been silent. Cleared when the queue empties; a contract
   * not listed (after a restart, or past the bound) counts from `startedAt`.
   */
  private readonly contractProgress = new Map<string, number>()
  /** Some contract's progress went untracked (the bound was reached): untracked ones are not silent. */
  private silenceUntracked = false
  /** The first time this replica delivered or judged a proposal (see contractProgress). */
  private startedAt: number | undefined
  /**
   * Keys rotated accounts signed with before, newest last (a few each, for accounts rotated in
   * this replica's delivered history), with the last slot each one signed for (its rotation's):
   * conflict evidence for a delivered slot may carry one.
   */
  private readonly retiredKeys = new Map<string, Array<{ readonly key: Uint8Array, readonly through: number }>>()
  /**
   * Accounts whose ops past their next slot may be signed by a key the delivered state does not
   * show yet: a rotation op of theirs is bound or certified here and not delivered, or a
   * certified op of theirs waits above a slot this node knows nothing of (which may hold one).
   * Only these (and accounts a batch rotates) pay for the walk over the slots between (see
   * walk). An account leaves once its slot `until` is delivered; each entry is owed to a binding
   * or a certified op, so the map is bounded as they are.
   */
  private readonly unsettled = new Map<string, Unsettled>()

  /** Actions gathered while handling one input. */
  private out: Action[] = []
  /** The time of the input being handled. */
  private now = 0
  /** Messages this replica sends to itself, handled before the input returns. */
  private readonly selfInbox: Array<{ bytes: Uint8Array, message: Message }> = []

  constructor (opts: ReplicaOptions) {
    this.timing = { ...DEFAULT_TIMING, ...opts.timing }
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits }
    this.scheme = opts.scheme
    this.genesis = opts.genesis
    this.signer = opts.signer
    this.id = toHex(opts.signer.publicKey)
    this.networkId = networkId(opts.genesis)
    this.stateNow = createAlgorithm(opts.genesis)
    this.epochs = new Reconfigurer(this.scheme, this.networkId, opts.genesis.validators, faultModel(opts.genesis), opts.autoApproveReconfiguration === true)
    this.abstaining = opts.abstain
    this.explicitPeers = opts.peers !== undefined
    this.peers = [...(opts.peers ?? this.validators)].filter(p => p !== this.id)
    this.buffer = new DeliveryBuffer(this.limits.maxBufferedOps, this.limits.maxBufferedBytes)
    this.proposer = new Proposer(this.timing, this.limits.maxBatchOps, this.limits.maxQueuedOps, this.limits.maxQueuedBytes)
    this.verifiedOps = new BoundedSet(this.limits.verifiedCache)
    this.verifiedVotes = new BoundedSet(this.limits.verifiedCache)
    this.checkpoints = new CheckpointKeeper({ ...DEFAULT_CHECKPOINTS, ...opts.checkpoints }, opts.genesis, epoch => this.validatorSetOf(epoch), this.validators, this.votes ? this.signer : undefined, account => this.stateNow.nextSeq(account))
  }

  /** The current epoch: its number, validators and quorum. */
  get epoch (): Epoch {
    return this.epochs.current
  }

  /** The validators of the current epoch (hex keys, sorted). */
  get validators (): readonly PeerId[] {
    return this.epochs.current.ids
  }

  get quorum (): number {
    return this.epochs.current.quorum
  }

  /** This node's key is in the current epoch's set. */
  get isValidator (): boolean {
    return this.epochs.current.members.has(this.id)
  }

  /** A validator that binds slots, votes and signs checkpoints. */
  get votes (): boolean {
    return this.isValidator && this.abstaining === undefined && this.handoffWait === undefined && this.divergedAt === undefined
  }

  /** Why a validator of the current epoch does not vote yet, or undefined. */
  private get notVoting (): string | undefined {
    if (!this.isValidator) return 'not a validator'
    if (this.divergedAt !== undefined) return `halted: this node's state diverged from the certified checkpoint at height ${this.divergedAt.height}`
    if (this.abstaining !== undefined) return `not voting: ${this.abstaining}`
    if (this.handoffWait !== undefined) return `not voting yet: waiting for the hand-off of epoch ${this.handoffWait.epoch} (${this.handoffWait.heard.size} of ${handoffsNeeded(this.handoffWait.previous.ids.length, this.handoffWait.previous.faults)} validators of epoch ${this.handoffWait.previous.number})`
    return undefined
  }

  /** The set (and quorum) whose signatures count in an epoch this node knows. */
  private validatorSetOf (epoch: number): ValidatorSet | undefined {
    let set = this.validatorSets.get(epoch)
    if (set === undefined) {
      const e = this.epochs.chain.get(epoch)
      if (e === undefined) return undefined
      set = { networkId: this.networkId, scheme: this.scheme, validators: e.members, quorum: e.quorum }
      this.validatorSets.set(epoch, set)
    }
    return set
  }

  /** Why this validator does not vote (undefined: it votes if it is a validator). */
  get abstain (): string | undefined {
    return this.abstaining
  }

  /** The reason to abstain is gone (the host learned the network is young): vote from now on. */
  resumeVoting (): void {
    if (this.abstaining === undefined) return
    this.abstaining = undefined
    if (this.isValidator && this.handoffWait === undefined) this.checkpoints.startSigning(this.signer)
  }

  /**
   * Why this replica must not be replaced by one started from this certified state, or undefined.
   * A replica never goes back: below its base it would forget slots it delivered and bound.
   */
  cannotInstall (height: number, ledger: ReplicatedAlgorithm): string | undefined {
    return this.checkpoints.cannotInstall(height, ledger)
  }

  /** The replicated state after every op delivered here, whichever algorithm the genesis names. */
  get state (): ReplicatedAlgorithm {
    return this.stateNow
  }

  /** The state of a ledger network; throws WrongAlgorithmError on a network of another algorithm. */
  get ledger (): Ledger {
    if (!(this.stateNow instanceof Ledger)) throw new WrongAlgorithmError(this.stateNow.algorithm, 'ledger')
    return this.stateNow
  }

  /** The latest certified checkpoint this replica holds (undefined before the first). */
  latestCheckpoint (): CertifiedCheckpoint | undefined {
    return this.checkpoints.latest()
  }

  get faultsTolerated (): number {
    return faultsTolerated(this.validators.length, this.epoch.faults)
  }

  setPeers (peers: readonly PeerId[]): void {
    this.peers = peers.filter(p => p !== this.id)
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /**
   * Rebuilds a replica from what it persisted: its bindings and the certificates it accepted.
   * Both were verified before they were written, so they are not verified again. Returns the
   * deliveries the replay produced (the host may already know them).
   */
  restore (records: Iterable<PersistRecord>, now: number, checkpoint?: { cp: CertifiedCheckpoint, ledger: ReplicatedAlgorithm }): Action[] {
    this.out = []
    this.now = now
    if (checkpoint !== undefined) {
      // a fresh replica starts at the checkpoint; its ops behind the cut are history, not replayed
      if (this.deliveredCount > 0) throw new Error('replica: a checkpoint is installed only before anything is delivered')
      this.stateNow = checkpoint.ledger
      // the keeper's base shares the live ledger's objects; each side copies what it writes
      this.checkpoints.install(checkpoint.cp, checkpoint.ledger.fork())
    }
    const list = [...records]
    // the store gives the whole chain before any hand-off: each wait ends as its epoch is entered,
    // so the next epoch knows this validator voted in the one before (and counts its own hand-off)
    const handedOver = new Set(list.flatMap(r => r.kind === 'handoff-done' ? [r.epoch] : []))
    for (const r of list) {
      if (r.kind === 'epoch') {
        const m = decodeMessage(r.bytes)
        if (m.type !== 'reconfigure') continue
        const previous = this.epochs.current
        const next = this.epochs.restoreEpoch(m, r.bytes)
        if (next !== undefined) this.enterEpoch(previous, next, false)
        if (next !== undefined && handedOver.has(next.number)) this.endHandoffWait()
      } else if (r.kind === 'approval') {
        const m = decodeMessage(r.bytes)
        if (m.type === 'reconfigure') this.epochs.restoreApproval(m)
      } else if (r.kind === 'handoff-done') {
        if (this.handoffWait?.epoch === r.epoch) this.endHandoffWait()
      } else if (r.kind === 'diverged') {
        this.restoreDiverged(r.height, r.ours, r.certified)
      } else if (r.kind === 'vote-evidence') {
        this.voteEvidence.set(toHex(r.evidence.voter), r.evidence)
      } else if (r.kind === 'bindings') {
        for (const bytes of r.ops) {
          const op = decodeOp(bytes)
          if (!this.isDelivered(op)) this.bind(op, now)
        }
      } else if (r.kind === 'contested') {
        for (const bytes of r.ops) {
          const op = decodeOp(bytes)
          if (!this.isDelivered(op)) this.contested.add(slotKey(op.account, op.seq))
        }
      } else if (r.kind === 'checkpoint-sig') {
        const m = decodeMessage(r.bytes)
        if (m.type === 'checkpoint') this.checkpoints.restoreSigned(m)
      } else {
        const m = decodeMessage(r.bytes)
        if (m.type === 'certified') this.acceptCertificate(m, r.bytes, 'disk')
      }
    }
    return this.flush()
  }

  /** Ops from local clients (through the API): checked, then queued for the next batch. */
  submit (opBytes: readonly Uint8Array[], now: number): SubmitResult {
    this.out = []
    this.now = now
    const taken = new BatchSlots()
    const results = opBytes.map(bytes => this.submitOne(bytes, now, taken))
    for (const batch of this.proposer.closeBatches(now)) this.propose(batch.ops.map(o => o.bytes))
    this.drainSelf(now)
    return { results, actions: this.flush() }
  }

  /** A message from a peer. Never throws: bad input is judged 'reject' and changes nothing. */
  receive (from: PeerId, bytes: Uint8Array, now: number): ReceiveResult {
    this.out = []
    this.now = now
    let message: Message
    try {
      message = decodeMessage(bytes)
    } catch (err) {
      return { verdict: 'reject', reason: (err as Error).message, actions: [] }
    }
    let verdict: Verdict
    let reason: string | undefined
    try {
      [verdict, reason] = this.handle(from, message, bytes, now)
    } catch (err) {
      if (!(err instanceof MalformedError)) throw err
      this.out = []
      return { verdict: 'reject', reason: err.message, actions: [] }
    }
    if (verdict === 'reject') {
      this.out = []
      return { verdict, reason: reason ?? 'rejected', actions: [] }
    }
    this.drainSelf(now)
    return reason === undefined ? { verdict, actions: this.flush() } : { verdict, reason, actions: this.flush() }
  }

  /** Time passes: close batches, resend, re-propose, fetch what is missing, exchange frontiers. */
  tick (now: number): Action[] {
    this.out = []
    this.now = now
    for (const batch of this.proposer.closeBatches(now)) this.propose(batch.ops.map(o => o.bytes))
    this.resendDue(now)
    if (this.votes) this.reproposeStale(now)
    this.fetchMissing(now)
    this.checkpoints.tick(now)
    this.takeKeeperActions()
    this.requestHandoffs(now)
    if (now >= this.nextAntiEntropyAt) {
      this.nextAntiEntropyAt = now + this.timing.antiEntropy
      this.sendFrontier()
      this.fromEpochs(this.epochs.resendApproved())
    }
    this.drainSelf(now)
    return this.flush()
  }

  /**
   * The time of the next tick that has work to do (sans-IO `poll_timeout`): the host may tick
   * later than every few ms while idle. Inputs can only bring it closer, so after each input the
   * host asks again.
   */
  nextTickAt (now: number): number {
    let at = Math.min(this.proposer.nextDue(now), this.buffer.nextFetchAt(this.timing.fetchRetry), this.checkpoints.nextTickAt(now))
    if (this.votes) at = Math.min(at, this.bindings.nextStaleAt(this.timing.reproposeAfter))
    if (this.peers.length > 0) at = Math.min(at, this.nextAntiEntropyAt)
    if (this.handoffWait !== undefined) at = Math.min(at, this.handoffWait.nextRequestAt)
    return Math.max(at, now)
  }

  status (): ReplicaStatus {
    return { ...this.counters(), stateHash: toHex(this.state.stateHash()) }
  }

  /**
   * How loaded this broadcaster is: ops on their way (queued, or in batches not put off), and how
   * long the oldest queued op has waited for a batch. The host turns clients away past its limits.
   */
  load (now: number): { heldOps: number, queueWaitMs: number } {
    return { heldOps: this.proposer.inProgress, queueWaitMs: this.proposer.queueWait(now) }
  }

  /** The status without the state root, which costs a pass over the whole state after any change. */
  counters (): Omit<ReplicaStatus, 'stateHash'> {
    return {
      id: this.id,
      validator: this.isValidator,
      delivered: this.deliveredCount,
      buffered: this.buffer.size,
      queued: this.proposer.queued,
      pendingBatches: this.proposer.pendingBatches,
      bindings: this.bindings.size,
      certificates: this.log.certificateCount,
      checkpoint: this.checkpoints.height,
      sinceCheckpoint: this.checkpoints.tailLength,
      decodedBytes: this.decodedBytes,
      equivocations: this.equivocations.size
    }
  }

  /** Proofs of equivocation this replica holds. */
  conflicts (): Array<readonly [SignedOp, SignedOp]> {
    return [...this.equivocations.values()]
  }

  /** Proofs that validators voted for two ops at one slot (see evidence.ts), one per validator. */
  validatorEvidence (): VoteEvidence[] {
    return [...this.voteEvidence.values()]
  }

  /** This node's state diverged from a certified checkpoint (undefined: it did not). */
  get diverged (): DivergedState | undefined {
    return this.divergedAt
  }

  /**
   * A quorum certified a root other than ours: stop voting at once (nothing this node signs from
   * now on could be trusted), keep that across restarts (persisted before anything after it),
   * and tell the host, which writes the evidence and waits for a person. Delivery goes on.
   */
  private diverge (d: Divergence): void {
    if (this.divergedAt !== undefined) return
    this.divergedAt = { height: d.height, root: d.root, ours: d.ours, certified: d.certified }
    this.checkpoints.halt()
    this.out.push({ type: 'persist', record: { kind: 'diverged', height: d.height, ours: d.ours, certified: d.certified } })
    this.out.push({ type: 'diverged', divergence: d })
  }

  private restoreDiverged (height: number, ours: Hash, certified: Uint8Array): void {
    const m = decodeMessage(certified)
    if (m.type !== 'checkpoint' || this.divergedAt !== undefined) return
    this.divergedAt = { height, root: m.root, ours, certified }
    this.checkpoints.halt()
  }

  /** Something is queued or waiting for votes here. */
  get busy (): boolean {
    return this.proposer.queued > 0 || this.proposer.pendingBatches > 0
  }

  /** The last seq of an account whose history this replica no longer holds (0: all held). */
  prunedThrough (account: Uint8Array): number {
    return this.checkpoints.prunedThrough(accountKey(account))
  }

  /** A persisted record that only holds history behind the kept checkpoints: the host may delete it. */
  prunable (record: PersistRecord): boolean {
    const behind = (bytes: Uint8Array): boolean => {
      const op = decodeOp(bytes)
      return op.seq <= this.prunedThrough(op.account)
    }
    switch (record.kind) {
      case 'bindings': case 'contested': return record.ops.every(behind)
      case 'certificate': {
        const m = decodeMessage(record.bytes)
        return m.type === 'certified' && m.ops.every(behind)
      }
      case 'checkpoint-sig': {
        const m = decodeMessage(record.bytes)
        return m.type !== 'checkpoint' || this.checkpoints.baseContains(m.delta)
      }
      // the chain is what joiners verify checkpoints with: kept for good (a few hundred bytes each)
      case 'epoch': return false
      case 'approval': return record.epoch <= this.epoch.number
      // the previous epoch's tells a restart this validator voted there (its own hand-off counts)
      case 'handoff-done': return record.epoch < this.epoch.number - 1
      // kept until a person recovers the node (bftnode recover), and proofs for good
      case 'diverged': return false
      case 'vote-evidence': return false
    }
  }

  /** This node has some op for the slot: certified, bound or on its way from here. */
  private heldHere (slot: Slot): boolean {
    return this.buffer.has(slot.account, slot.seq) || this.bindings.hashAt(slotKey(slot.account, slot.seq)) !== undefined || this.proposer.holdsSlot(slot.account, slot.seq)
  }

  isDelivered (slot: Slot): boolean {
    return this.state.nextSeq(slot.account) > slot.seq
  }

  // ---------------------------------------------------------------------------------------------
  // Submission

  /** `taken`: the ops of the same submission queued before this one (a rotation among them counts). */
  private submitOne (bytes: Uint8Array, now: number, taken: BatchSlots): SubmitStatus {
    let op: SignedOp
    try {
      op = decodeOp(bytes)
    } catch (err) {
      return { status: 'rejected', code: 'malformed', reason: (err as Error).message }
    }
    // the kind is the op's own: no state here makes it acceptable later, so no "retry shortly"
    if (!this.state.supports(op.body)) return { status: 'rejected', code: 'malformed', reason: `a ${op.body.kind} op is not part of this network's algorithm (${this.state.algorithm})` }
    if (this.awaitsContract(op)) return { status: 'rejected', code: 'not-accepted', reason: 'this node has not delivered the contract yet; retry shortly' }
    const next = this.state.nextSeq(op.account)
    const signer = this.signerAt(op, next, taken)
    if (signer === undefined || !this.checkOpSignature(op, signer)) {
      // certain only if this node knows every slot between: one it does not may rotate the key
      if (op.seq > next && op.seq < next + this.limits.bindWindow && this.walk(op, next, taken, true).signer === undefined) {
        return { status: 'rejected', code: 'not-accepted', reason: `the op signature does not verify against the key in force at this node, which does not know every slot of the account from ${next} to ${op.seq - 1} (one may rotate its key); retry shortly` }
      }
      return { status: 'rejected', code: 'bad-signature', reason: 'the op signature does not verify against its account key' }
    }
    if (op.seq < next) {
      const delivered = this.log.deliveredHash(op.account, op.seq)
      if (delivered !== undefined && bytesEqual(delivered, op.hash)) return { status: 'delivered', hash: op.hash }
      if (delivered === undefined) return { status: 'rejected', code: 'conflict', reason: `slot ${op.seq} of this account was delivered before this node's history begins (a checkpoint); its op is not kept here` }
      return { status: 'rejected', code: 'conflict', reason: `slot ${op.seq} of this account already holds another op` }
    }
    if (op.seq >= next + this.limits.bindWindow) {
      return { status: 'rejected', code: 'too-far-ahead', reason: `seq ${op.seq} is more than ${this.limits.bindWindow} ahead of the next delivered (${next})` }
    }
    if (this.equivocations.has(slotKey(op.account, op.seq))) {
      return { status: 'rejected', code: 'conflict', reason: 'the account signed two different ops for this slot' }
    }
    // what validators would put off (cannotBind) is refused here, where the client hears why
    const dep = op.deps.find(d => !this.isDelivered(d) && !this.heldHere(d))
    if (dep !== undefined) return { status: 'rejected', code: 'not-accepted', reason: `dep ${slotKey(dep.account, dep.seq)} is not known at this node; cite only delivered credits, or retry shortly` }
    // at any seq: ops past the next one from a key that holds nothing would wait here for ever
    if (!this.state.holdsValue(op.account)) return { status: 'rejected', code: 'unfunded', reason: this.state.admissionRefusal(op.account) }
    if (!this.proposer.enqueue(op, now)) return { status: 'rejected', code: 'busy', reason: 'too many ops waiting at this node; retry later' }
    taken.add(op)
    return { status: 'queued', hash: op.hash }
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private handle (from: PeerId, m: Message, bytes: Uint8Array, now: number): [Verdict, string?] {
    switch (m.type) {
      case 'propose': return this.onPropose(from, m, now)
      case 'vote': return this.onVote(m, now)
      case 'nack': return this.onNack(from, m, now)
      case 'certified': return this.onCertified(m, bytes)
      case 'fetch': return this.onFetch(from, m)
      case 'frontier': return this.onFrontier(from, m)
      case 'checkpoint': return this.fromKeeper(this.checkpoints.receive(from, m))
      case 'reconfigure': return this.fromEpochs(this.epochs.receive(m, this.epochSigner))
      case 'handoff': return this.onHandoff(from, m)
      case 'handoff-request': return this.onHandoffRequest(from, m)
      case 'evidence': return this.onEvidence(m)
    }
  }

  /** Validator: bind every op of the batch (persisted first), then vote; or refuse with proof. */
  private onPropose (from: PeerId, m: Propose, now: number): [Verdict, string?] {
    const idle = this.notVoting
    if (idle !== undefined) return ['ignore', idle]
    const ops = this.decodeBatch(m.ops)
    this.startedAt ??= now
    // An op whose signature fails here is put off, not the batch refused: its account may be a
    // contract whose deploy this node has not delivered yet (the sequencer signs for it), or it
    // may follow a rotation of its account's key that this node does not know yet, or (for an
    // account that rotated here) an honest broadcaster behind the rotation may have taken it.
    // Past the account's next slot the key is the one after the ops known here for the slots
    // between (signerAt): validators that have a rotation delivered, certified, bound or in the
    // batch all expect the new key, so an op of the old key cannot split the slot with one of
    // the new. An op whose key cannot be known here (a slot between is unknown) is put off too.
    const slots = new BatchSlots(ops)
    const signed = ops.filter(op => {
      if (this.awaitsContract(op)) return false
      const signer = this.signerAt(op, this.state.nextSeq(op.account), slots)
      return signer !== undefined && this.checkOpSignature(op, signer)
    })
    const mayAwait = (op: SignedOp): boolean => this.awaitsContract(op) || op.seq > this.state.nextSeq(op.account) || this.state.rotated(op.account)
    if (signed.length === 0 && ops.some(op => !mayAwait(op))) return ['reject', 'no op of the batch is signed by its account']
    this.remember(signed)
    const verified = new Set(signed)
    const digest = batchDigest(ops.map(o => o.hash))
    const fresh: SignedOp[] = []
    const conflicts: SignedOp[] = []
    const deferred: Slot[] = []
    const inBatch = new Map<string, SignedOp>()
    const admitted = new Set<string>()
    for (const op of ops) {
      const key = slotKey(op.account, op.seq)
      const earlier = inBatch.get(key)
      if (earlier !== undefined) { conflicts.push(earlier); this.recordEquivocation(op, earlier, false); continue }
      inBatch.set(key, op)
      if (!verified.has(op)) { deferred.push(op); continue }
      const next = this.state.nextSeq(op.account)
      if (op.seq < next) {
        // the op delivered here is the usual answer: compare hashes, decode only on a conflict
        const hash = this.log.deliveredHash(op.account, op.seq)
        if (hash !== undefined && bytesEqual(hash, op.hash)) continue
        const delivered = this.log.deliveredOp(op.account, op.seq)
        if (delivered === undefined) deferred.push(op)
        else if (!bytesEqual(delivered.hash, op.hash)) { conflicts.push(delivered); this.recordEquivocation(op, delivered, false) }
        continue
      }
      if (this.cannotBind(op, next, admitted) !== undefined || this.contested.has(key)) { deferred.push(op); continue }
      admitted.add(key)
      const bound = this.bindings.check(op)
      if (bound.kind === 'conflict') { conflicts.push(bound.bound); this.recordEquivocation(op, bound.bound, false) } else if (bound.kind === 'new') fresh.push(op)
    }
    for (const op of fresh) this.bind(op, now)
    if (fresh.length > 0) this.out.push({ type: 'persist', record: { kind: 'bindings', ops: fresh.map(o => o.bytes) } })
    if (conflicts.length > 0 || deferred.length > 0) {
      const nack: Nack = { type: 'nack', digest, voter: this.signer.publicKey, conflicts: conflicts.map(o => o.bytes), deferred: deferred.map(o => ({ account: o.account, seq: o.seq })) }
      this.send(from, nack)
      return ['accept']
    }
    const epoch = this.epoch.number
    const vote: VoteMsg = { type: 'vote', digest, voter: this.signer.publicKey, sig: signFor(this.signer, Domain.vote, this.networkId, votePayload(epoch, digest)), epoch }
    this.send(from, vote)
    return ['accept']
  }

  /**
   * Why this validator will not bind (nor vote for) the op now, or undefined. Asked again on every
   * proposal, for slots bound before too. Together the rules make every certified op deliverable
   * in the end, so nothing certified waits in a buffer for ever:
   * - the op is within `bindWindow` of the account's next slot;
   * - every dep is delivered here (it exists, and a credit it claims can be checked);
   * - its stream predecessor is delivered, certified here, or admitted earlier in this batch;
   * - at the account's next slot, the account holds value here (Ledger.holdsValue).
   * A quorum holds f + 1 honest validators, so a certified op's predecessor and deps were
   * certified or delivered somewhere honest, and fetching brings them.
   */
  private cannotBind (op: SignedOp, next: number, admitted: ReadonlySet<string>): string | undefined {
    if (op.seq >= next + this.limits.bindWindow) return `more than ${this.limits.bindWindow} slots ahead of the next delivered`
    for (const dep of op.deps) if (!this.isDelivered(dep)) return `dep ${slotKey(dep.account, dep.seq)} is not delivered here`
    if (!this.state.supports(op.body)) return `not an op of the ${this.state.algorithm} algorithm`
    if (op.body.kind === 'rotate-sequencer') {
      const why = this.cannotRotate(op, next)
      if (why !== undefined) return why
    }
    if (op.seq === next) return this.state.holdsValue(op.account) ? undefined : 'the account holds nothing here'
    const before = op.seq - 1
    if (admitted.has(slotKey(op.account, before)) || this.buffer.has(op.account, before) || this.bindings.certifiedAt(op.account, before)) return undefined
    return `slot ${before} of the account is not certified here`
  }

  /** Broadcaster: gather votes for a pending batch; a quorum makes the certificate. */
  private onVote (m: VoteMsg, now: number): [Verdict, string?] {
    const batch = this.proposer.batch(toHex(m.digest))
    if (batch === undefined) return ['ignore', 'no pending batch with that digest']
    const voter = toHex(m.voter)
    const epoch = m.epoch ?? 0
    if (epoch !== this.epoch.number) {
      // a voter behind us learns the epochs it missed; a batch counts votes of one epoch only
      if (epoch < this.epoch.number) this.fromEpochs(this.epochs.catchUp(voter, epoch))
      return ['ignore', `vote of epoch ${epoch}, this node is in ${this.epoch.number}`]
    }
    if (!this.epoch.members.has(voter)) return ['reject', 'vote from a non-validator']
    if (batch.votes.has(voter)) return ['ignore', 'duplicate vote']
    if (!this.checkVote(m.digest, m.voter, m.sig, epoch)) return ['reject', 'bad vote signature']
    this.checkVoterConsistency(m.voter, batch.ops, m.sig)
    batch.votes.set(voter, m.sig)
    if (batch.votes.size >= this.quorum) {
      this.proposer.close(batch.id, now)
      const votes = [...batch.votes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([v, sig]) => ({ voter: fromHex(v), sig }))
      const cert: Certified = { type: 'certified', ops: batch.ops.map(o => o.bytes), votes, epoch }
      const bytes = encodeMessage(cert)
      this.out.push({ type: 'broadcast', bytes, kind: 'certified' })
      this.acceptCertificate(cert, bytes, 'own')
      // ops that waited for this batch go now: the certificate reaches validators before them
      for (const next of this.proposer.closeBatches(now, true)) this.propose(next.ops.map(o => o.bytes))
    }
    return ['accept']
  }

  /** Broadcaster: a validator refused. Proof of equivocation drops that op; the rest go again. */
  private onNack (from: PeerId, m: Nack, now: number): [Verdict, string?] {
    const batch = this.proposer.batch(toHex(m.digest))
    if (batch === undefined) return ['ignore', 'no pending batch with that digest']
    // a validator removed in an epoch this one has not reached yet may still answer: not an attack
    if (!this.epoch.members.has(toHex(m.voter))) return ['ignore', 'nack from a non-validator of this epoch']
    // A nack is not signed; the transport authenticates the peer (its id is its key), so a
    // validator speaks only for itself: one Byzantine validator cannot put ops off for others.
    if (from !== toHex(m.voter) && from !== this.id) return ['reject', 'nack names another validator than its sender']
    // Check every proof before acting on any, so a half-forged nack changes nothing.
    const proven: Array<[SignedOp, SignedOp]> = []
    for (const evidenceBytes of m.conflicts) {
      const evidence = decodeOp(evidenceBytes)
      // Proof must be another op for the same slot, signed by the same account: a validator
      // cannot make an honest account's op disappear by claiming a conflict.
      const ours = batch.ops.find(o => o.seq === evidence.seq && bytesEqual(o.account, evidence.account) && !bytesEqual(o.hash, evidence.hash))
      if (ours === undefined) return ['reject', 'conflict evidence does not match the batch']
      if (!this.signedByKnownKey(evidence, batch.ops)) return ['reject', 'conflict evidence is not signed by the account']
      proven.push([ours, evidence])
    }
    if (proven.length > 0) {
      const dropped = new Set<string>()
      for (const [ours, evidence] of proven) {
        this.recordEquivocation(ours, evidence, true)
        dropped.add(toHex(ours.hash))
      }
      this.proposer.requeue(batch.id, op => !dropped.has(toHex(op.hash)) && !this.isDelivered(op), now)
    }
    // Put-off ops wait for the batch's retry; once no quorum is left without them, the rest go on.
    if (proven.length === 0 && m.deferred.length > 0) {
      const slots = new Set(m.deferred.filter(d => batch.ops.some(o => o.seq === d.seq && bytesEqual(o.account, d.account))).map(d => slotKey(d.account, d.seq)))
      const rest = this.proposer.deferred(batch.id, toHex(m.voter), slots, this.validators.length, this.quorum, now)
      if (rest !== undefined) this.propose(rest.ops.map(o => o.bytes))
    }
    return ['accept']
  }

  private onCertified (m: Certified, bytes: Uint8Array): [Verdict, string?] {
    return this.acceptCertificate(m, bytes, 'peer')
  }

  /**
   * Verifies a certificate (a peer's: ours were built from votes we checked, and the disk holds
   * only what we checked), persists it (unless it came from disk), buffers its ops and delivers
   * whatever became deliverable.
   */
  private acceptCertificate (m: Certified, bytes: Uint8Array, source: 'peer' | 'own' | 'disk'): [Verdict, string?] {
    const ops = this.decodeBatch(m.ops)
    const digest = batchDigest(ops.map(o => o.hash))
    const id = toHex(digest)
    const useful = ops.filter(op => !this.isDelivered(op) && !this.buffer.has(op.account, op.seq))
    if (useful.length === 0) return ['ignore', 'every op already delivered or buffered']
    // A certificate seen before may still carry ops a full buffer turned away: take them now.
    if (!this.log.hasCertificate(id)) {
      // its epoch's set is unknown here yet: once the chain arrives, anti-entropy brings it again
      if ((m.epoch ?? 0) > this.epoch.number) return ['ignore', `certificate of epoch ${m.epoch ?? 0}, ahead of this node's ${this.epoch.number}`]
      if (source === 'peer') {
        const problem = this.checkVotes(digest, m)
        if (problem !== undefined) return ['reject', problem]
      }
      this.log.addCertificate(id, bytes, ops)
      if (source !== 'disk') this.out.push({ type: 'persist', record: { kind: 'certificate', bytes } })
    }
    this.remember(ops)
    if (source === 'peer') this.compareVotes(m, bytes, ops)
    for (const op of ops) {
      this.bindings.markCertified(op)
      this.proposer.forget(op.hash, this.now)
    }
    // deliver as we go, so a later op of the batch finds its predecessor already delivered
    for (const op of useful) {
      const next = this.state.nextSeq(op.account)
      if (op.seq >= next && (isRotation(op) || (op.seq > next && !this.knownAt(op.account, op.seq - 1)))) this.unsettle(op, true)
      if (!this.buffer.add({ op, cert: id }, this.state) && !this.buffer.has(op.account, op.seq)) this.refuse(id)
      this.deliverReady()
    }
    return ['accept']
  }

  /**
   * A full buffer turned away an op of this certificate: take it again from the log once there is
   * room. Certified ops always become deliverable in the end (see cannotBind), so room comes.
   */
  private refuse (cert: string): void {
    this.refused.delete(cert)
    this.refused.add(cert)
  }

  private retryRefused (): void {
    for (const id of this.refused) {
      if (!this.buffer.hasRoom) return
      this.refused.delete(id)
      const bytes = this.log.certificate(id)
      const m = bytes === undefined ? undefined : decodeMessage(bytes)
      if (m?.type === 'certified') this.acceptCertificate(m, bytes!, 'disk')
    }
  }

  private deliverReady (): void {
    for (let w = this.buffer.next(); w !== undefined; w = this.buffer.next()) {
      const { op, cert } = w
      if (this.isDelivered(op)) continue
      this.startedAt ??= this.now
      // Validators verified the signature at bind time against the key in force there; one that
      // had not delivered a rotation of this account yet may have certified an op of the retired
      // key. Only rotated accounts pay for the second verification.
      const retiredKey = this.state.rotated(op.account) && !this.checkOpSignature(op)
      const before = isRotation(op) ? this.state.signerOf(op.account) : undefined
      const outcome = this.state.apply(op, retiredKey ? { retiredKey } : undefined)
      if (before !== undefined && outcome.status === 'applied') this.retire(op.account, before, op.seq)
      if (this.unsettled.size > 0) this.settle(op.account)
      this.noteContractProgress(op)
      this.deliveredCount++
      this.log.recordDelivery(op, cert)
      this.forgetDecoded(op)
      this.bindings.release(op.account, op.seq)
      if (this.contested.size > 0) this.contested.delete(slotKey(op.account, op.seq))
      this.proposer.forget(op.hash, this.now)
      this.checkpoints.delivered(op)
      this.out.push({ type: 'deliver', op, outcome, cert })
      this.buffer.delivered(op.account, op.seq, this.state)
      if (this.handoffWait !== undefined && this.handoffWait.floors.size > 0) this.passFloors(op.account)
    }
    if (this.refused.size > 0 && !this.retrying) {
      this.retrying = true
      try { this.retryRefused() } finally { this.retrying = false }
    }
  }

  private onFetch (from: PeerId, m: Fetch): [Verdict, string?] {
    const upTo = Math.min(m.toSeq, this.state.nextSeq(m.account) - 1)
    if (upTo < m.fromSeq) return ['ignore', 'nothing delivered in that range']
    for (const cert of this.log.certificatesFor(m.account, m.fromSeq, upTo, this.limits.maxCertsPerReply)) {
      this.out.push({ type: 'send', to: from, bytes: cert, kind: 'certified' })
    }
    return ['accept']
  }

  /** Anti-entropy: push what the peer lacks, fetch what we lack. */
  private onFrontier (from: PeerId, m: Frontier): [Verdict, string?] {
    let budget = this.limits.maxCertsPerReply
    let fetches = this.limits.maxFetchesPerTick
    const theirs = new Set<string>()
    const serve = (account: Uint8Array, fromSeq: number): void => {
      const upTo = this.state.nextSeq(account) - 1
      if (upTo < fromSeq || budget <= 0) return
      const certs = this.log.certificatesFor(account, fromSeq, Math.min(upTo, fromSeq + MESSAGE_LIMITS.maxFetchSpan - 1), budget)
      budget -= certs.length
      for (const cert of certs) this.out.push({ type: 'send', to: from, bytes: cert, kind: 'certified' })
    }
    for (const entry of m.entries) {
      theirs.add(toHex(entry.account))
      const mine = this.state.nextSeq(entry.account)
      if (mine > entry.seq) serve(entry.account, Math.max(entry.seq, 1))
      else if (entry.seq > mine && fetches-- > 0) this.fetchBelow(from, entry)
    }
    if (m.complete) {
      for (const s of this.state.streams()) if (!theirs.has(accountKey(s.account))) serve(s.account, 1)
    }
    this.checkpoints.peerAt(from, m.checkpoint)
    this.takeKeeperActions()
    this.fromEpochs(this.epochs.catchUp(from, m.epoch ?? 0))
    return ['accept']
  }

  // ---------------------------------------------------------------------------------------------
  // Epochs

  /**
   * The key this node approves changes with: only while it votes in the current epoch. A validator
   * still taking over the previous epoch's bindings must not help start the next one: the
   * hand-off into it would then count validators that do not know every op certified so far.
   */
  private get epochSigner (): Signer | undefined {
    return this.votes ? this.signer : undefined
  }

  private checkMaySign (): void {
    if (this.divergedAt !== undefined) throw new ReconfigurationError(`this node's state diverged from the certified checkpoint at height ${this.divergedAt.height}: it approves nothing until it is recovered (bftnode recover)`)
    if (this.isValidator && this.abstaining === undefined && this.handoffWait !== undefined) {
      throw new ReconfigurationError(`this validator is still taking over the bindings of epoch ${this.handoffWait.previous.number} (the hand-off); approve once it votes in epoch ${this.epoch.number} (bftnode validator list shows it)`)
    }
  }

  /** Proposes a new validator set for the next epoch (this validator's approval is the first). */
  proposeReconfiguration (validators: readonly Uint8Array[], now: number): { id: string, actions: Action[] } {
    this.checkMaySign()
    this.out = []
    this.now = now
    const id = this.fromEpochs(this.epochs.propose(validators, this.epochSigner))
    this.drainSelf(now)
    return { id, actions: this.flush() }
  }

  /** The operator approves an open proposal (its id, or a unique prefix of at least 4 hex digits). */
  approveReconfiguration (id: string, now: number): { id: string, actions: Action[] } {
    this.checkMaySign()
    this.out = []
    this.now = now
    const approved = this.fromEpochs(this.epochs.approve(id, this.epochSigner))
    this.drainSelf(now)
    return { id: approved, actions: this.flush() }
  }

  /** Open proposals for the next epoch, with who approved them and whether this node did. */
  reconfigurations (): Array<Proposal & { approvedHere: boolean }> {
    const mine = this.epochs.approvedFor(this.epoch.number + 1)
    return this.epochs.pending().map(p => ({ ...p, approvedHere: p.id === mine }))
  }

  /** The certified records of epochs from..current, in order (for joiners). */
  epochRecords (from = 1, max = Infinity): Uint8Array[] {
    return this.epochs.chain.recordsFrom(from, max)
  }

  /** Epoch `n` of the chain this node verified (undefined: not known here). */
  epochAt (n: number): Epoch | undefined {
    return this.epochs.chain.get(n)
  }

  private fromEpochs<T> (result: T): T {
    for (const a of this.epochs.poll()) {
      switch (a.type) {
        case 'broadcast': this.out.push({ type: 'broadcast', bytes: a.bytes, kind: 'reconfigure' }); break
        case 'send': this.out.push({ type: 'send', to: a.to, bytes: a.bytes, kind: 'reconfigure' }); break
        case 'approved': this.out.push({ type: 'persist', record: { kind: 'approval', epoch: a.epoch, bytes: a.bytes } }); break
        case 'epoch':
          this.out.push({ type: 'persist', record: { kind: 'epoch', epoch: a.epoch.number, bytes: a.bytes } })
          this.enterEpoch(a.previous, a.epoch, true)
          break
      }
    }
    return result
  }

  /**
   * The chain moved to `next`. Validators of the previous set stop voting in it (votes name their
   * epoch) and hand their bound, undelivered ops and delivered frontier to the new set; validators
   * of the new set vote in it once a quorum of the previous set handed theirs over (and they reached
   * those frontiers); batches in flight start again with
   * the new set. `live` is false while restoring from disk (nothing is sent then).
   */
  private enterEpoch (previous: Epoch, next: Epoch, live: boolean): void {
    const wasVoting = previous.members.has(this.id) && this.abstaining === undefined && this.handoffWait === undefined && this.divergedAt === undefined
    this.votedInPrevious = wasVoting ? previous.number : undefined
    this.handoffWait = undefined
    if (!this.explicitPeers) this.peers = next.ids.filter(p => p !== this.id)
    if (next.members.has(this.id)) {
      const heard = new Set<PeerId>(wasVoting ? [this.id] : [])
      this.handoffWait = { epoch: next.number, previous, heard, nextRequestAt: this.now, floors: new Map(), ended: new Set(), settled: new Set(), flagged: new Set(), parts: new Map(), held: new Map() }
      if (heard.size >= handoffsNeeded(previous.ids.length, previous.faults)) this.endHandoffWait(live)
    }
    this.checkpoints.changeEpoch(next.number, next.ids, this.votes ? this.signer : undefined)
    this.proposer.restartAll(this.now)
    if (!live) return
    if (wasVoting) for (const v of next.ids) if (v !== this.id) this.sendHandoff(v, next.number)
    this.out.push({ type: 'epoch', epoch: next.number })
  }

  /** The hand-off is complete: vote in the current epoch from now on (and after a restart). */
  private endHandoffWait (live = false): void {
    const wait = this.handoffWait
    if (wait === undefined) return
    this.handoffWait = undefined
    if (this.abstaining === undefined) this.checkpoints.startSigning(this.signer)
    if (live) this.out.push({ type: 'persist', record: { kind: 'handoff-done', epoch: wait.epoch } })
  }

  /**
   * Our bound, undelivered ops and our delivered frontier, in messages that fit, to a validator of
   * `epoch`; `settled`: this node votes in `epoch` (see onHandoffRequest).
   */
  private sendHandoff (to: PeerId, epoch: number, settled = false): void {
    const flag = settled ? { settled: true as const } : {}
    const parts: Handoff[] = []
    let ops: Uint8Array[] = []
    let bytes = 0
    for (const op of this.bindings.ops()) {
      if (this.isDelivered(op)) continue
      if (ops.length >= MESSAGE_LIMITS.maxBatchOps || bytes + op.bytes.length > MESSAGE_LIMITS.maxMessageBytes / 2) {
        parts.push({ type: 'handoff', epoch, ops, done: false, ...flag })
        ops = []
        bytes = 0
      }
      ops.push(op.bytes)
      bytes += op.bytes.length
    }
    // and what it delivered: an op it voted for may be delivered here and nowhere near `to` yet
    let entries: Slot[] = []
    for (const s of this.state.streams()) {
      if (entries.length >= MESSAGE_LIMITS.maxFrontierEntries) {
        parts.push({ type: 'handoff', epoch, ops, done: false, entries, ...flag })
        ops = []
        entries = []
      }
      entries.push({ account: s.account, seq: s.nextSeq })
    }
    parts.push({ type: 'handoff', epoch, ops, done: true, entries, ...flag })
    // several messages: numbered, under a name no list from here had (see onHandoff)
    if (parts.length === 1) return this.send(to, parts[0]!)
    const list = this.handoffList = Math.max(this.handoffList + 1, this.now)
    parts.forEach((m, part) => this.send(to, { ...m, list, part }))
  }

  /**
   * A validator of the previous epoch hands over what it bound: bind the same (a slot it voted for
   * can then get no other op's vote from here), and count it once its list ends.
   */
  private onHandoff (from: PeerId, m: Handoff): [Verdict, string?] {
    if (m.epoch !== this.epoch.number) return ['ignore', `hand-off for epoch ${m.epoch}, this node is in ${this.epoch.number}`]
    const previous = this.epochs.chain.get(m.epoch - 1)
    const settled = m.settled === true && this.epoch.members.has(from)
    if (previous === undefined || (!previous.members.has(from) && !settled)) return ['reject', 'hand-off from a non-validator of the previous epoch']
    if (!this.isValidator) return ['ignore', 'not a validator of this epoch']
    // taken only while this node waits and before the sender counts: the quorum that ends the
    // wait is all safety needs, and a validator of the previous set (removed, perhaps) must not
    // make this node bind ops no proposal would get bound (unfunded, far ahead) for ever
    const wait = this.handoffWait
    if (wait === undefined || wait.epoch !== m.epoch || wait.settled.has(from) || (wait.heard.has(from) && !settled)) return ['ignore', 'not waiting for this validator\'s hand-off']
    // ops this node cannot check yet (a key rotation, a contract or slots it has not delivered):
    // taken up again once it reached the sender's frontier (see passFloors); past the bound, the
    // list cannot count
    let held = wait.held.get(from)
    if (held === undefined) wait.held.set(from, held = new Map())
    const complete = this.takeHanded(this.decodeBatch(m.ops), held.size > MESSAGE_LIMITS.maxBatchOps * 4 ? undefined : held)
    // slots it delivered and this node did not: it may have voted for their ops, and this node
    // must not vote for another op there (it delivers them first, fetching from the sender)
    let fetches = this.limits.maxFetchesPerTick
    for (const entry of m.entries ?? []) {
      const mine = this.state.nextSeq(entry.account)
      if (entry.seq <= mine) continue
      let floors = wait.floors.get(from)
      if (floors === undefined) wait.floors.set(from, floors = new Map())
      floors.set(accountKey(entry.account), entry)
      if (fetches-- > 0) this.fetchBelow(from, entry)
    }
    // a list counts only whole: its parts in order, none lost (the receiver keeps what any part
    // bound or asked it to reach all the same)
    let whole = m.part === undefined && complete
    if (!complete) wait.parts.delete(from)
    if (m.part === 0) wait.parts.set(from, { list: m.list ?? 0, next: 1 })
    else if (m.part !== undefined) {
      const at = wait.parts.get(from)
      if (at === undefined || at.list !== m.list || at.next !== m.part) wait.parts.delete(from)
      else if (m.done) whole = wait.parts.delete(from)
      else at.next++
    }
    if (m.done && whole) {
      // settled by the list that ends here: an earlier part of a settled list, with the end of an
      // older unflagged one (its floors unreached till then), covers no more than that older list
      if (settled) wait.flagged.add(from)
      wait.ended.add(from)
      this.passFloors()
    }
    return ['accept']
  }

  /**
   * Binds handed-over ops (a second op for a bound slot contests it). Ops it cannot check yet go
   * to `hold` (false if there is none: the list cannot count); false if one of them still fails.
   */
  private takeHanded (ops: SignedOp[], hold?: Map<string, SignedOp>): boolean {
    const slots = new BatchSlots(ops)
    const fresh: SignedOp[] = []
    const contested: SignedOp[] = []
    let whole = true
    for (const op of ops) {
      const next = this.state.nextSeq(op.account)
      if (op.seq < next) continue
      // only ops their accounts signed: a validator cannot hand over an op nobody signed (by the
      // key after the slots between where it knows them, else by the key delivered here)
      if (op.seq >= next + this.limits.bindWindow || this.awaitsContract(op) || !this.checkOpSignature(op, this.signerAt(op, next, slots))) {
        if (hold === undefined) whole = false
        else hold.set(toHex(op.hash), op)
        continue
      }
      const bound = this.bindings.check(op)
      if (bound.kind === 'conflict') {
        this.recordEquivocation(op, bound.bound, false)
        // kept on disk: restored after the bindings, it marks the slot again
        if (!this.contested.has(slotKey(op.account, op.seq))) contested.push(op)
        this.contested.add(slotKey(op.account, op.seq))
      } else if (bound.kind === 'new') fresh.push(op)
    }
    for (const op of fresh) this.bind(op, this.now)
    if (fresh.length > 0) this.out.push({ type: 'persist', record: { kind: 'bindings', ops: fresh.map(o => o.bytes) } })
    if (contested.length > 0) this.out.push({ type: 'persist', record: { kind: 'contested', ops: contested.map(o => o.bytes) } })
    return whole
  }

  /**
   * Drops the floors this node reached (of `account`, or all); a validator whose list ended and
   * whose every floor is reached counts as heard, and a quorum of those ends the wait.
   */
  private passFloors (account?: Uint8Array): void {
    const wait = this.handoffWait
    if (wait === undefined) return
    const key = account === undefined ? undefined : accountKey(account)
    for (const [peer, floors] of wait.floors) {
      for (const [k, floor] of key === undefined ? floors : [[key, floors.get(key)] as const]) {
        if (floor !== undefined && this.state.nextSeq(floor.account) >= floor.seq) floors.delete(k)
      }
      if (floors.size === 0) wait.floors.delete(peer)
    }
    for (const peer of wait.ended) {
      if (wait.floors.has(peer)) continue
      wait.ended.delete(peer)
      // what it handed over that this node could not check before: it can now, or the sender
      // does not count (it is asked again)
      const held = wait.held.get(peer)
      wait.held.delete(peer)
      if (held === undefined || !this.takeHanded([...held.values()])) continue
      if (wait.previous.members.has(peer)) wait.heard.add(peer)
      if (wait.flagged.has(peer)) wait.settled.add(peer)
    }
    // A validator voting in this epoch holds (bound or delivered) every op certified before it,
    // as it took over from a quorum itself: one that does not lie (crash-only: any one; else more
    // than f) does as well as a quorum of the previous set. Without this, one crash among the only
    // previous validators that got to vote there (the change came quickly) stalls the rest.
    const liars = this.epoch.faults === 'crash' ? 0 : this.faultsTolerated
    if (wait.heard.size >= handoffsNeeded(wait.previous.ids.length, wait.previous.faults) || wait.settled.size > liars) this.endHandoffWait(true)
  }

  /** A validator of the current epoch still waits for our hand-off (at most one list per retry). */
  private onHandoffRequest (from: PeerId, m: HandoffRequest): [Verdict, string?] {
    if (m.epoch !== this.epoch.number || !this.epoch.members.has(from)) return ['ignore', 'not a validator waiting for this epoch\'s hand-off']
    const previous = this.epochs.chain.get(m.epoch - 1)
    // a validator that had not finished taking over the epoch before may lack ops certified then
    // one voting in this epoch (settled: it took over from a quorum) hands over all the same
    if (previous === undefined || (this.votedInPrevious !== previous.number && !this.votes)) return ['ignore', 'this node did not vote in the previous epoch and does not vote in this one: it hands nothing over']
    const last = this.handoffServed.get(from)
    if (last !== undefined && this.now - last < this.timing.antiEntropy) return ['ignore', 'hand-off sent recently']
    this.handoffServed.set(from, this.now)
    if (this.handoffServed.size > 4 * this.epoch.ids.length) this.handoffServed.delete(this.handoffServed.keys().next().value!)
    this.sendHandoff(from, m.epoch, this.votes)
    return ['accept']
  }

  /** While waiting for hand-offs, ask the validators of the previous epoch not heard from yet. */
  private requestHandoffs (now: number): void {
    const wait = this.handoffWait
    if (wait === undefined || now < wait.nextRequestAt) return
    wait.nextRequestAt = now + this.timing.antiEntropy
    // and those of this epoch, which answer once they vote here (see passFloors); one of the
    // previous set already heard is asked again only if it may come to vote here
    for (const v of new Set([...wait.previous.ids, ...this.epoch.ids])) {
      if (v === this.id || wait.settled.has(v) || wait.ended.has(v) || (wait.heard.has(v) && !this.epoch.members.has(v))) continue
      this.send(v, { type: 'handoff-request', epoch: wait.epoch })
    }
    // streams a validator had delivered further than this node: fetch them from it again
    let fetches = this.limits.maxFetchesPerTick
    for (const [peer, floors] of wait.floors) {
      for (const floor of floors.values()) {
        if (fetches-- <= 0) return
        this.fetchBelow(peer, floor)
      }
    }
  }

  private fromKeeper<T> (result: T): T {
    this.takeKeeperActions()
    return result
  }

  /** The keeper's requests become this replica's actions, in the keeper's order. */
  private takeKeeperActions (): void {
    for (const a of this.checkpoints.poll()) {
      switch (a.type) {
        case 'broadcast': this.out.push({ type: 'broadcast', bytes: a.bytes, kind: 'checkpoint' }); break
        case 'send': this.out.push({ type: 'send', to: a.to, bytes: a.bytes, kind: 'checkpoint' }); break
        case 'signed': this.out.push({ type: 'persist', record: { kind: 'checkpoint-sig', height: a.height, bytes: a.bytes } }); break
        case 'certified': this.out.push({ type: 'checkpoint', checkpoint: a.checkpoint }); break
        case 'prune':
          this.log.prune(a.account, a.fromSeq, a.toSeq)
          this.stateNow.forgetOutcomes(a.account, a.fromSeq, a.toSeq)
          break
        case 'behind': this.out.push({ type: 'behind', height: a.height, peers: a.peers }); break
        case 'diverged': this.diverge(a.divergence); break
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Timers

  private resendDue (now: number): void {
    for (const batch of this.proposer.due(now)) {
      if (batch.ops.every(op => this.isDelivered(op))) {
        this.proposer.close(batch.id, now)
        continue
      }
      const propose = encodeMessage({ type: 'propose', ops: batch.ops.map(o => o.bytes) })
      for (const v of this.validators) {
        if (!batch.votes.has(v)) this.sendBytes(v, propose, 'propose')
      }
    }
  }

  /** A bound op with no certificate in sight: its broadcaster may be gone, so propose it ourselves. */
  private reproposeStale (now: number): void {
    let stale = 0
    for (const b of this.bindings.stale(now, this.timing.reproposeAfter, this.limits.maxBatchOps)) {
      const { account, seq } = b.op
      if (this.isDelivered(b.op) || this.equivocations.has(slotKey(account, seq))) continue
      // a stream stuck on a slot its author split is not worth proposing past
      if (this.equivocations.has(slotKey(account, this.state.nextSeq(account)))) continue
      if (this.proposer.enqueue(b.op, now)) stale++
    }
    // re-proposals go at once, past the pipeline; a tick with none leaves the queue to it
    if (stale > 0) for (const batch of this.proposer.closeBatches(now, true)) this.propose(batch.ops.map(o => o.bytes))
  }

  /** Asks `peer` for the account's certificates from our next seq up to below `upTo.seq` (one span). */
  private fetchBelow (peer: PeerId, upTo: Slot): void {
    const mine = this.state.nextSeq(upTo.account)
    this.send(peer, { type: 'fetch', account: upTo.account, fromSeq: mine, toSeq: Math.min(upTo.seq - 1, mine + MESSAGE_LIMITS.maxFetchSpan - 1) })
  }

  private fetchMissing (now: number): void {
    if (this.peers.length === 0) return
    for (const slot of this.buffer.dueFetches(now, this.timing.fetchRetry, this.limits.maxFetchesPerTick)) {
      const fromSeq = this.state.nextSeq(slot.account)
      const toSeq = Math.min(slot.seq, fromSeq + MESSAGE_LIMITS.maxFetchSpan - 1)
      this.send(this.nextPeer('fetch'), { type: 'fetch', account: slot.account, fromSeq, toSeq })
    }
  }

  /**
   * One page of our frontier; pages rotate so every stream is offered within a few rounds. Page k
   * of round r goes to peer k + r, so each page reaches every peer within as many rounds as there
   * are peers. A peer hears of an account it holds at seq 1 only from our pages (its own frontier
   * cannot list it): with one peer turn per page, a page count that is a multiple of the peer count
   * would send each page to the same peer for ever, and such a gap would never be repaired.
   */
  private sendFrontier (): void {
    if (this.peers.length === 0) return
    const streams = [...this.state.streams()]
    const max = MESSAGE_LIMITS.maxFrontierEntries
    const complete = streams.length <= max
    if (complete || this.frontierCursor >= streams.length) {
      this.frontierCursor = 0
      this.frontierRound++
    }
    const index = Math.floor(this.frontierCursor / max)
    const page = complete ? streams : streams.slice(this.frontierCursor, this.frontierCursor + max)
    this.frontierCursor += page.length
    const to = this.peers[(index + this.frontierRound) % this.peers.length]!
    this.send(to, { type: 'frontier', entries: page.map(s => ({ account: s.account, seq: s.nextSeq })), complete, checkpoint: this.checkpoints.height, epoch: this.epoch.number })
  }

  /**
   * Peers in turn: the core has no randomness, and rotation reaches every peer. Frontiers do not
   * take turns here (see sendFrontier): fetches move the turn by any number each tick, which could
   * be a multiple of the peer count, and every frontier would go to the same (perhaps silent) peer.
   */
  private nextPeer (purpose: keyof typeof this.peerTurns): PeerId {
    const peer = this.peers[this.peerTurns[purpose] % this.peers.length]!
    this.peerTurns[purpose]++
    return peer
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private propose (ops: readonly Uint8Array[]): void {
    const bytes = encodeMessage({ type: 'propose', ops })
    for (const v of this.validators) this.sendBytes(v, bytes, 'propose')
  }

  private send (to: PeerId, m: Message): void {
    this.sendBytes(to, encodeMessage(m), m.type)
  }

  private sendBytes (to: PeerId, bytes: Uint8Array, kind: string): void {
    if (to === this.id) this.selfInbox.push({ bytes, message: decodeMessage(bytes) })
    else this.out.push({ type: 'send', to, bytes, kind })
  }

  private drainSelf (now: number): void {
    for (let next = this.selfInbox.shift(); next !== undefined; next = this.selfInbox.shift()) {
      this.handle(this.id, next.message, next.bytes, now)
    }
  }

  private flush (): Action[] {
    const actions = this.out
    this.out = []
    return actions
  }

  /** Decodes a batch's ops; duplicates make the whole batch malformed (digests stay canonical). */
  private decodeBatch (opBytes: readonly Uint8Array[]): SignedOp[] {
    const hashes = new Set<string>()
    return opBytes.map(bytes => {
      const hash = sha256(bytes)
      const id = toHex(hash)
      if (hashes.has(id)) throw new MalformedError('batch lists the same op twice')
      hashes.add(id)
      return this.decoded.get(id) ?? decodeOp(bytes, hash)
    })
  }

  /** Keeps checked ops decoded for their next appearance, within the cache's byte budget. */
  private remember (ops: readonly SignedOp[]): void {
    for (const op of ops) {
      const id = toHex(op.hash)
      if (this.decoded.has(id)) continue
      this.decoded.set(id, op)
      this.decodedBytes += decodedCost(op)
    }
    while (this.decodedBytes > this.limits.decodedCacheBytes || this.decoded.size > this.limits.verifiedCache) {
      const [id, oldest] = this.decoded.entries().next().value!
      this.decoded.delete(id)
      this.decodedBytes -= decodedCost(oldest)
    }
  }

  /** A delivered op is not proposed or certified again in the normal course: its decoding goes. */
  private forgetDecoded (op: SignedOp): void {
    const id = toHex(op.hash)
    if (this.decoded.delete(id)) this.decodedBytes -= decodedCost(op)
  }

  /** A contract-stream op for a contract this node has not delivered: its signer is unknown here. */
  private awaitsContract (op: SignedOp): boolean {
    return (op.body.kind === 'execute' || op.body.kind === 'rotate-sequencer') && this.state.contract(op.account) === undefined
  }

  /**
   * The op is signed by `signer`, by default the key in force for it at the state delivered here
   * (expectedSigner). Unless the signer is the account's own id (an account that never rotated),
   * the key is part of what was verified, so an op verified under one key (a retired one, or the
   * one before a rotation certified but not delivered yet) is not taken as verified under another.
   */
  private checkOpSignature (op: SignedOp, signer: AccountId = expectedSigner(this.state, op)): boolean {
    const id = bytesEqual(signer, op.account) ? toHex(op.hash) : toHex(op.hash) + accountKey(signer)
    if (this.verifiedOps.has(id)) return true
    const ok = verifyOpSignature(this.scheme, this.networkId, op, signer)
    if (ok) this.verifiedOps.add(id)
    return ok
  }

  /**
   * The key `op` must be signed by as far as this node knows (see walk), or undefined when a
   * slot between the account's next one and the op's is unknown here.
   */
  private signerAt (op: SignedOp, next: number, batch: BatchSlots): AccountId | undefined {
    return this.walk(op, next, batch, false).signer
  }

  /**
   * The key `op` must be signed by. At the account's next slot it is the one delivered here
   * (expectedSigner). Past it, it is the key after every op this node knows for the slots between:
   * certified and waiting in the buffer, else bound here, else in `batch`, each rotation among
   * them handing the stream to its `to` (signerAfter). A slot between that is unknown here, or a
   * rotation there that may be rejected at delivery (rotatesSurely), leaves the key unknown
   * (undefined): the op is put off, not judged against a guess. `certain`: every slot between is
   * certified here.
   *
   * Only accounts with something unsettled here (a rotation bound or certified, or a hole under a
   * certified op: see unsettled) and accounts `batch` rotates are walked, unless `force`; for the
   * others the delivered key stands, and the common path costs a map lookup. A batch's walks go
   * on from one another, so a batch of consecutive ops walks each slot once.
   */
  private walk (op: SignedOp, next: number, batch: BatchSlots, force: boolean): Walked {
    let signer = this.state.signerOf(op.account)
    if (op.seq <= next) return { seq: op.seq, signer: expectedSigner(this.state, op, signer), certain: true }
    const id = accountKey(op.account)
    const entry = this.unsettled.get(id)
    if (!force && entry === undefined && !batch.rotating.has(id)) return { seq: op.seq, signer: expectedSigner(this.state, op, signer), certain: false }
    // past the window cannotBind puts it off anyway; the walk stays bounded
    if (op.seq >= next + this.limits.bindWindow) return { seq: next, signer: undefined, certain: false }
    let seq = next
    let certain = true
    const before = force ? undefined : batch.walked.get(id)
    if (before !== undefined && (before.signer === undefined ? before.seq < op.seq : before.seq <= op.seq)) {
      if (before.signer === undefined) return before
      seq = before.seq
      signer = before.signer
      certain = before.certain
    }
    for (; seq < op.seq; seq++) {
      let known: SignedOp | null | undefined
      if (this.buffer.has(op.account, seq)) {
        known = entry?.rotations.find(r => r.certified && r.op.seq === seq)?.op ?? null
      } else {
        certain = false
        const bound = this.bindings.hashAt(slotKey(op.account, seq))
        if (bound !== undefined) known = entry?.rotations.find(r => r.op.seq === seq && bytesEqual(r.op.hash, bound))?.op ?? null
        else known = batch.at(op.account, seq)
      }
      if (known === undefined) return this.unknownFrom(id, seq, batch, force)
      if (known !== null) {
        const after = signerAfter(this.state, known, signer)
        // a rotation that may be rejected at delivery leaves the key unknown until it is delivered
        if (!bytesEqual(after, signer) && !rotatesSurely(known)) return this.unknownFrom(id, seq, batch, force)
        signer = after
      }
    }
    if (!force) batch.walked.set(id, { seq, signer, certain })
    return { seq, signer: expectedSigner(this.state, op, signer), certain }
  }

  /** The walk stops at `seq`: the key in force past it is unknown here. */
  private unknownFrom (id: string, seq: number, batch: BatchSlots, force: boolean): Walked {
    const unknown = { seq, signer: undefined, certain: false }
    if (!force) batch.walked.set(id, unknown)
    return unknown
  }

  /** Some op for the slot (at or past the account's next) is certified and waiting, or bound, here. */
  private knownAt (account: Uint8Array, seq: number): boolean {
    return this.buffer.has(account, seq) || this.bindings.hashAt(slotKey(account, seq)) !== undefined
  }

  /**
   * Binds `op` (checked free of conflict; the caller persists it) and notes what it unsettles: a
   * rotation, or an op above a slot unknown here, changes who may sign the account's later slots.
   */
  private bind (op: SignedOp, now: number): void {
    this.bindings.bind(op, now)
    const next = this.state.nextSeq(op.account)
    if (isRotation(op) || (op.seq > next && !this.knownAt(op.account, op.seq - 1))) this.unsettle(op, false)
  }

  /** The account's signer past its next slot depends on `op` (a rotation), or on the slots under it. */
  private unsettle (op: SignedOp, certified: boolean): void {
    const id = accountKey(op.account)
    let entry = this.unsettled.get(id)
    if (entry === undefined) {
      entry = { until: op.seq, rotations: [] }
      this.unsettled.set(id, entry)
    } else entry.until = Math.max(entry.until, op.seq)
    if (!isRotation(op)) return
    const known = entry.rotations.find(r => bytesEqual(r.op.hash, op.hash))
    if (known === undefined) entry.rotations.push({ op, certified })
    else if (certified) known.certified = true
  }

  /** After a delivery: what was unsettled for the account up to there is settled. */
  private settle (account: Uint8Array): void {
    const id = accountKey(account)
    const entry = this.unsettled.get(id)
    if (entry === undefined) return
    const next = this.state.nextSeq(account)
    if (entry.until < next) this.unsettled.delete(id)
    else if (entry.rotations.some(r => r.op.seq < next)) entry.rotations = entry.rotations.filter(r => r.op.seq >= next)
  }

  /**
   * Why this validator will not bind a rotate-sequencer op now, or undefined: it binds one at the
   * contract's next slot only when the deployer asked for it (its request verifies against the
   * deployer's key in force), or when the contract has queued calls and its sequencer has been
   * silent for `sequencerSilence`. Put off, not refused: the broadcaster retries until then.
   */
  private cannotRotate (op: SignedOp, next: number): string | undefined {
    const contract = this.state.contract(op.account)
    if (contract === undefined) return 'the contract is not delivered here'
    if (op.seq !== next) return 'a sequencer rotation is bound only at the contract\'s next slot'
    if (rotationRequested(this.scheme, this.networkId, this.state, op)) return undefined
    if (contract.queue.size === 0) return 'the contract has no queued calls and the deployer did not request the rotation'
    const tracked = this.contractProgress.get(accountKey(op.account))
    // past the bound an untracked contract may be one whose sequencer works: it never counts as silent
    if (tracked === undefined && this.silenceUntracked) return 'this validator tracks too many contracts with queued calls to know whether this sequencer is silent; the deployer\'s request still works'
    const since = tracked ?? this.startedAt ?? this.now
    if (this.now - since < this.timing.sequencerSilence) return `the sequencer has been silent for ${this.now - since} ms of ${this.timing.sequencerSilence}, and the deployer did not request the rotation`
    return undefined
  }

  /** `key` signed the account's slots up to `through` (its rotation's slot). */
  private retire (account: Uint8Array, key: Uint8Array, through: number): void {
    const id = accountKey(account)
    const keys = this.retiredKeys.get(id) ?? []
    keys.push({ key, through })
    if (keys.length > MAX_RETIRED_KEYS) keys.shift()
    if (this.retiredKeys.size < MAX_RETIRED_ACCOUNTS) this.retiredKeys.set(id, keys)
  }

  /**
   * Conflict evidence a validator sent for a slot of `batch` (this node's proposal) is signed by
   * a key that may sign that slot. For a slot delivered here: the key in force then (a retired
   * key up to its rotation's slot), or it is the op delivered. Past it: the key after the ops
   * known here for the slots between (walk, counting the batch's own); where that rests on slots
   * not certified here (bound, in the batch, unknown), this node may be behind or wrong, so the
   * delivered key and the keys rotations known here hand over count too. A retired key never
   * counts past its rotation: its holder cannot have an honest op dropped as equivocation.
   */
  private signedByKnownKey (op: SignedOp, batch: readonly SignedOp[]): boolean {
    const next = this.state.nextSeq(op.account)
    if (op.seq < next) {
      const delivered = this.log.deliveredHash(op.account, op.seq)
      if (delivered !== undefined && bytesEqual(delivered, op.hash)) return true
      if (this.checkOpSignature(op)) return true
      const retired = this.state.rotated(op.account) ? this.retiredKeys.get(accountKey(op.account)) : undefined
      return retired !== undefined && retired.some(r => r.through >= op.seq && this.checkOpSignature(op, r.key))
    }
    const ops = [...batch]
    const walked = this.walk(op, next, new BatchSlots(ops), false)
    if (walked.signer !== undefined && this.checkOpSignature(op, walked.signer)) return true
    if (walked.certain) return false
    if (this.checkOpSignature(op)) return true
    const rotations = [...(this.unsettled.get(accountKey(op.account))?.rotations.map(r => r.op) ?? []), ...ops.filter(isRotation)]
    return rotations.some(r => r.seq < op.seq && bytesEqual(r.account, op.account) && this.checkOpSignature(op, expectedSigner(this.state, op, signerAfter(this.state, r, this.state.signerOf(op.account)))))
  }

  /** After a delivery: the stream of the contract the op touched moved, or its queue filled or emptied. */
  private noteContractProgress (op: SignedOp): void {
    const address = op.body.kind === 'call' || op.body.kind === 'cancel' ? op.body.contract : op.account
    const contract = this.state.contract(address)
    if (contract === undefined) return
    const id = accountKey(address)
    if (contract.queue.size === 0) { this.contractProgress.delete(id); return }
    const own = address === op.account
    // a call starts the clock only on an idle contract: calls arriving do not prove the sequencer alive
    if (own || !this.contractProgress.has(id)) {
      if (own) this.contractProgress.delete(id)
      if (this.contractProgress.size < this.limits.maxSilenceTracked) this.contractProgress.set(id, this.now)
      else this.silenceUntracked = true
    }
  }

  private checkVote (digest: Hash, voter: Uint8Array, sig: Uint8Array, epoch: number): boolean {
    const id = toHex(digest) + toHex(voter) + toHex(sig) + epoch
    if (this.verifiedVotes.has(id)) return true
    const ok = verifyFor(this.scheme, voter, Domain.vote, this.networkId, votePayload(epoch, digest), sig)
    if (ok) this.verifiedVotes.add(id)
    return ok
  }

  /** Returns why a certificate is invalid, or undefined if a quorum of distinct validators signed it. */
  private checkVotes (digest: Hash, m: Certified): string | undefined {
    const epoch = this.epochs.chain.get(m.epoch ?? 0)!
    const seen = new Set<string>()
    for (const v of m.votes) {
      const voter = toHex(v.voter)
      if (!epoch.members.has(voter)) return `certificate has a vote from a non-validator of epoch ${epoch.number}`
      if (seen.has(voter)) return 'certificate counts one validator twice'
      seen.add(voter)
    }
    if (seen.size < epoch.quorum) return `certificate has ${seen.size} votes, needs ${epoch.quorum}`
    for (const v of m.votes) {
      if (!this.checkVote(digest, v.voter, v.sig, epoch.number)) return 'certificate has a bad vote signature'
    }
    return undefined
  }

  /**
   * A vote for a batch with an op at a slot where another op was delivered here: if the voter's
   * vote is in the certificate that delivered the other, it voted for both. Keep the proof.
   */
  private checkVoterConsistency (voter: Uint8Array, ops: readonly SignedOp[], sig: Uint8Array): void {
    const id = toHex(voter)
    if (this.voteEvidence.has(id)) return
    for (const op of ops) {
      if (!this.isDelivered(op)) continue
      const delivered = this.log.deliveredHash(op.account, op.seq)
      if (delivered === undefined || bytesEqual(delivered, op.hash)) continue
      const certificate = this.log.deliveredCertificate(op.account, op.seq)
      const cert = certificate === undefined ? undefined : decodeMessage(certificate)
      if (cert?.type !== 'certified' || !cert.votes.some(v => bytesEqual(v.voter, voter))) continue
      this.keepEvidence({ voter, certificate: certificate!, ops: ops.map(o => o.bytes), sig, epoch: this.epoch.number })
      return
    }
  }

  /**
   * A certificate for an op at a slot where a batch pending here holds another op: a validator
   * whose vote is in both voted for two ops at one slot. Keep the proof.
   */
  private compareVotes (m: Certified, bytes: Uint8Array, ops: readonly SignedOp[]): void {
    for (const op of ops) {
      if (this.proposer.holds(op.hash) || !this.proposer.holdsSlot(op.account, op.seq)) continue
      for (const batch of this.proposer.batchesAt(op.account, op.seq)) {
        for (const v of m.votes) {
          const id = toHex(v.voter)
          const sig = batch.votes.get(id)
          if (sig === undefined || this.voteEvidence.has(id)) continue
          this.keepEvidence({ voter: v.voter, certificate: bytes, ops: batch.ops.map(o => o.bytes), sig, epoch: this.epoch.number })
        }
      }
    }
  }

  /**
   * Keeps a proof (one per validator), on disk too, and passes it on once: every node verifies
   * it before keeping it, so a relay can blame nobody with it, and the flood ends at one record
   * per validator per node.
   */
  private keepEvidence (evidence: VoteEvidence): void {
    this.voteEvidence.set(toHex(evidence.voter), evidence)
    this.out.push({ type: 'persist', record: { kind: 'vote-evidence', evidence } })
    this.out.push({ type: 'evidence', evidence })
    const bytes = encodeVoteEvidence(evidence)
    if (bytes.length <= MESSAGE_LIMITS.maxMessageBytes) this.out.push({ type: 'broadcast', bytes, kind: 'evidence' })
  }

  /** A peer passes on a proof that a validator voted twice: kept only if it verifies here. */
  private onEvidence (m: EvidenceMsg): [Verdict, string?] {
    if (this.voteEvidence.has(toHex(m.voter))) return ['ignore', 'evidence against this validator already held']
    const evidence: VoteEvidence = { voter: m.voter, certificate: m.certificate, ops: m.ops, sig: m.sig, epoch: m.epoch ?? 0 }
    const checked = checkVoteEvidence({ networkId: this.networkId, scheme: this.scheme, membersOf: e => this.epochs.chain.get(e)?.members }, evidence)
    if ('problem' in checked) {
      // a record naming an epoch this node has not reached yet may be good: it comes again
      return checked.problem.endsWith('is not known here') ? ['ignore', checked.problem] : ['reject', `evidence does not verify: ${checked.problem}`]
    }
    this.keepEvidence(evidence)
    return ['accept']
  }

  /**
   * Keeps the proof that an account signed two ops for one slot: neither is re-proposed from
   * here again. `ours` is reported as dropped when this node was broadcasting it.
   */
  private recordEquivocation (ours: SignedOp, other: SignedOp, report: boolean): void {
    const key = slotKey(ours.account, ours.seq)
    if (!this.equivocations.has(key)) {
      this.equivocations.set(key, [ours, other])
      this.equivocationBytes += ours.bytes.length + other.bytes.length
      while (this.equivocations.size > this.limits.maxEquivocations || this.equivocationBytes > this.limits.maxEquivocationBytes) {
        const [oldest, [a, b]] = this.equivocations.entries().next().value!
        this.equivocations.delete(oldest)
        this.equivocationBytes -= a.bytes.length + b.bytes.length
      }
    }
    if (report) this.out.push({ type: 'dropped', op: ours, reason: 'the account signed another op for the same slot', evidence: other })
  }
}
