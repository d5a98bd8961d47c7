// A running bftnode: the replica (pure protocol) wired to libp2p, LevelDB, a clock and the local
// API. The node only executes the replica's actions, through the host's ActionExecutor: a persist
// finishes (on disk, synced) before anything after it, across inputs too, so no vote ever leaves
// before the binding it promises. It also sequences the contracts whose sequencer key it holds.

import { existsSync } from 'node:fs'
import { toHex } from '../core/crypto/hash.js'
import { signerFrom } from '../core/crypto/signing.js'
import type { Signer } from '../core/crypto/signing.js'
import { encodeGenesis, faultModel, networkId, probeAnswersNeeded, quorumSize } from '../core/ledger/genesis.js'
import type { Genesis } from '../core/ledger/genesis.js'
import { decodeOp, signOp } from '../core/ledger/op.js'
import { rotationRequested } from '../core/ledger/rotation.js'
import { BftError } from '../core/errors.js'
import type { SignedOp } from '../core/ledger/op.js'
import type { Outcome } from '../core/ledger/ledger.js'
import { ContractSequencer } from '../core/ledger/sequencer.js'
import { Replica } from '../core/broadcast/replica.js'
import type { Action, SubmitStatus, Verdict } from '../core/broadcast/actions.js'
import { ReconfigurationError } from '../core/epoch/reconfigurer.js'
import type { Epoch } from '../core/epoch/epochs.js'
import { ActionExecutor } from '../host/executor.js'
import type { ActionPorts } from '../host/ports.js'
import { bytesEqual } from '../core/codec/canonical.js'
import { sodiumScheme } from '../native/sodium.js'
import { P2PNetwork } from '../net/network.js'
import { NodeDatabase } from '../store/database.js'
import { StorageError } from '../store/errors.js'
import type { NodeConfig } from './config.js'
import type { Logger } from './log.js'
import { StatusReporter } from './status-line.js'
import type { StatusFigures } from './status-line.js'
import { joinNetwork } from './join.js'
import { RecentActivity } from './activity.js'
import { HistoryIndex } from './history.js'
import { NodeMetrics } from './metrics.js'
import { nodeGauges } from './health.js'
import { RECOVER_ADVICE, buildVersion, divergenceBundle, divergenceFile, writeDivergenceBundle } from './divergence.js'
import type { Divergence } from '../core/checkpoint/keeper.js'
import type { CertifiedCheckpoint } from '../core/checkpoint/keeper.js'
import { rebuildCheckpoint } from '../core/checkpoint/joiner.js'
import type { ValidatorSet } from '../core/checkpoint/certificate.js'
import { SYNC_MESSAGE_LIMITS, decodeSyncRequest, encodeSyncResponse } from '../core/checkpoint/sync-messages.js'
import { Ledger } from '../core/ledger/ledger.js'
import type { ReplicatedAlgorithm } from '../core/algorithm/algorithm.js'
import { createAlgorithm } from '../core/algorithm/registry.js'
import { fromHex } from '../core/crypto/hash.js'
import { TraceRecorder } from './trace.js'

/** What became of an op this node has seen, for clients waiting on it. */
export type OpStatus =
  | { readonly status: 'queued' }
  | { readonly status: 'delivered', readonly account: string, readonly seq: number, readonly outcome: Outcome }
  | { readonly status: 'dropped', readonly reason: string }

/** One validator added to or removed from the current set (a key replaced is two changes). */
export interface ValidatorChange {
  readonly kind: 'add' | 'remove'
  readonly key: Uint8Array
}

/**
 * This node in the current epoch's set: a validator that votes, one of a new epoch waiting for the
 * previous set's hand-off before it votes, one that abstains (a lost data dir), or an observer.
 */
export type ValidatorRole = 'votes' | 'waiting-for-handoff' | 'abstains' | 'diverged' | 'observer'

/** A proposal to change the validator set after a proposal or an approval here. */
export interface ReconfigurationResult {
  readonly id: string
  /** The epoch the proposal starts. */
  readonly epoch: number
  /** Validators of the current epoch that approved it (the proposer included), and how many it needs. */
  readonly approvals: number
  readonly approvalsNeeded: number
  /** A quorum approved it: the network moves (moved, here) to `epoch`. */
  readonly certified: boolean
}

/** A sequencer rotation this node cannot sign now; the message says why. */
export class SequencerRotationError extends BftError {
  readonly code = 'ERR_SEQUENCER_ROTATION'
}

/** A rotation of a contract's sequencer to this node, signed here and submitted. */
export interface SequencerRotationResult {
  readonly hash: string
  readonly contract: string
  readonly seq: number
  /** This node's key: the contract's sequencer once the op is delivered. */
  readonly to: string
  /** It carries the deployer's request, so validators vote for it at once. */
  readonly requested: boolean
  /** Without the request, validators vote once the sequencer was silent this long (this node's setting) with calls queued. */
  readonly silenceMs: number
  /** The op signed earlier for this slot, submitted again (never a second op for one slot). */
  readonly resubmitted: boolean
  /** What this node's submission answered: queued, delivered, or rejected with a code. */
  readonly submit: { readonly status: string, readonly code?: string, readonly reason?: string }
}

/**
 * Op statuses the API answers from (newest kept). Every node tracks every op it delivers, so at
 * ~400 bytes an entry this is a large share of a busy node's memory: 50,000 is minutes of history
 * at full load, enough for clients polling the ops they submitted.
 */
const MAX_TRACKED_OPS = 50_000
/** How often a pending Execute op is offered again until it is delivered (ms). */
const RESEQUENCE_MS = 1000

/** How long a validator on probation waits before asking its peers again (ms). */
const PROBE_RETRY_MS = 5000

/** The longest an idle node goes without a tick (ms). */
const MAX_IDLE_TICK_MS = 250

/** Bounds of the retry hint a saturated node gives (ms). */
const MIN_RETRY_HINT_MS = 100
const MAX_RETRY_HINT_MS = 5000
const PENDING_RETRY_HINT_MS = 1000

/** The oldest a state root served by the API may be while ops keep arriving (see stateRoot). */
const STATE_ROOT_MAX_AGE_MS = 1000

/** Why a validator on a new data dir does not vote yet (see BftNode.probe). */
const PROBATION = 'its data dir is new: it votes once peers show no certified checkpoint (the network is young), or never if they hold one (start once with --resume-voting if this key never voted on this network)'

const RECOVERING = 'bftnode recover cleared its state: it votes once it holds a verified snapshot at or past the cut it diverged at'

export class BftNode {
  private current: Replica
  readonly networkIdHex: string
  readonly startedAt = Date.now()
  private rootCache: { root: string, at: number, computedAt: number } | undefined
  private net: P2PNetwork | undefined
  private timer: NodeJS.Timeout | undefined
  /** When the timer fires (Infinity: not set), and when the last tick ran. */
  private wakeAt = Infinity
  private lastTick = 0
  /** This node sequences a contract with calls waiting: tick at full rate. */
  private sequencerBusy = false
  private readonly executor: ActionExecutor
  /** Records messages and local events for charts when config.traceFile is set (trace.ts). */
  private readonly tracer: TraceRecorder | undefined
  /** Sequencer ops being saved before they are offered, one after another. */
  private sequencing: Promise<void> = Promise.resolve()
  private readonly ops = new Map<string, OpStatus>()
  private readonly waiters = new Map<string, Array<(s: OpStatus) => void>>()
  private readonly sequencer: ContractSequencer
  private readonly sequenced = new Map<string, { hash: string, at: number }>()
  /** Sequencer rotations to this node's key, by contract: kept (and persisted) so a slot is never signed twice. */
  private readonly rotations = new Map<string, SignedOp>()
  private readonly rotationSaves = new Map<string, Promise<void>>()
  private stopping = false
  private lastPeers = ''
  /** Certified checkpoints this node serves snapshots of, by root (the latest few). */
  private readonly serving = new Map<string, CertifiedCheckpoint>()
  private rejoining = false
  /** A snapshot is being installed: inputs wait (are ignored) until the new replica takes over. */
  private installing = false
  private turnedAway = 0
  /** Why this validator does not vote (its data dir was new when it joined a running network). */
  private abstain: string | undefined
  /** Recent rejections, latencies, peers heard and checkpoint times, for the dashboard. */
  readonly activity = new RecentActivity()
  /** Ops of each account and events of each contract delivered here, bounded (see history.ts). */
  readonly history = new HistoryIndex()
  /** The status line and the warnings about peers, quorum and load (see status-line.ts). */
  private reporter: StatusReporter | undefined
  /** Why the API last turned a client away, and when this node reached its latest checkpoint (epoch ms). */
  private shedReason: string | undefined
  private checkpointAt: number | undefined
  /** Set by bftnode recover: join from a snapshot at least this high before anything else. */
  private recoverAbove: number | undefined
  /** Prometheus metrics (unset when config.metrics is off): GET /metrics serves them. */
  readonly metrics: NodeMetrics | undefined
  /** When this node last delivered an op (epoch ms). */
  private lastDeliveryAt: number | undefined
  private closing: Promise<void> | undefined
  private halt!: (err: Error) => void
  /** Settles with the error if the node stops on its own (a failed disk write): the process should end. */
  readonly halted = new Promise<Error>(resolve => { this.halt = resolve })

  private constructor (
    readonly config: NodeConfig,
    readonly genesis: Genesis,
    readonly signer: Signer,
    private readonly db: NodeDatabase,
    private readonly log: Logger,
    abstain: string | undefined
  ) {
    this.abstain = abstain
    this.current = this.newReplica()
    this.networkIdHex = toHex(networkId(genesis))
    this.sequencer = new ContractSequencer(signer, networkId(genesis))
    this.tracer = config.traceFile === undefined ? undefined : TraceRecorder.toFile(this.current.id, config.traceFile)
    this.executor = new ActionExecutor(this.tracer?.ports(this.ports()) ?? this.ports(), (err, action) => this.fatal(err, { action: action.type }))
    this.metrics = config.metrics ? new NodeMetrics(() => nodeGauges(this)) : undefined
  }

  /** The replica: replaced only when the node re-joins from a snapshot. */
  get replica (): Replica {
    return this.current
  }

  private newReplica (): Replica {
    return new Replica({
      genesis: this.genesis,
      scheme: sodiumScheme,
      signer: this.signer,
      checkpoints: { interval: this.config.checkpointInterval, retain: this.config.checkpointRetain },
      autoApproveReconfiguration: this.config.autoApproveReconfiguration,
      timing: { sequencerSilence: this.config.sequencerSilenceMs },
      ...(this.abstain === undefined ? {} : { abstain: this.abstain })
    })
  }

  private get validatorSet (): ValidatorSet {
    // genesis's set: a joiner proves later epochs' sets from it, record by record
    return { networkId: networkId(this.genesis), scheme: sodiumScheme, validators: new Set(this.genesis.validators.map(toHex)), quorum: quorumSize(this.genesis.validators.length, faultModel(this.genesis)) }
  }

  /**
   * Opens the data dir, replays what was persisted, joins the network and starts the clock. An
   * abort of `signal` (a stop asked for during start-up) ends it between steps, and a failure
   * closes what it had opened (libp2p too): the process must be able to exit.
   */
  static async start (config: NodeConfig, genesis: Genesis, seed: Uint8Array, logger: Logger, opts: { signal?: AbortSignal } = {}): Promise<BftNode> {
    const log = logger.child('node')
    const db = await NodeDatabase.open(config.dataDir, logger.child('store'))
    let node: BftNode | undefined
    try {
      const stored = await db.getMeta('genesis')
      const mine = encodeGenesis(genesis)
      if (stored === undefined) await db.putMeta('genesis', mine)
      else if (!bytesEqual(stored, mine)) throw new StorageError(`data dir ${config.dataDir} belongs to another network (its genesis differs); use another --data-dir`)
      const abstain = await db.getMeta('abstain')
      if (abstain !== undefined && config.resumeVoting) await db.deleteMeta('abstain')
      const signer = signerFrom(sodiumScheme, seed)
      // A validator on a new data dir may be one whose disk was lost. Unless told otherwise it
      // votes only once its peers show no certified checkpoint (a young network); see probe().
      const validator = genesis.validators.some(v => bytesEqual(v, signer.publicKey))
      const onProbation = stored === undefined && validator && genesis.validators.length > 1 && !config.join && !config.resumeVoting
      // after bftnode recover the state is gone but the votes it cast are not, and the bindings
      // behind its old checkpoints were pruned: it votes only once it holds the snapshot
      const recovering = await db.getMeta('recover')
      const why = abstain === undefined || config.resumeVoting ? (onProbation ? PROBATION : recovering !== undefined ? RECOVERING : undefined) : new TextDecoder().decode(abstain)
      node = new BftNode(config, genesis, signer, db, log, why)
      await node.restore()
      opts.signal?.throwIfAborted()
      node.net = await P2PNetwork.start({
        seed,
        networkId: node.networkIdHex,
        listen: config.listen,
        bootstrap: config.bootstrap,
        mdns: config.mdns,
        maxConnections: config.maxConnections,
        inboundRate: config.inboundRate,
        subscribe: !node.current.isValidator,
        ...(node.metrics === undefined ? {} : { metrics: node.metrics.registry }),
        ...(node.tracer === undefined ? {} : { trace: node.tracer }),
        log: logger.child('net')
      }, {
        direct: (from, bytes) => node!.receive(from, bytes),
        gossip: (from, bytes) => node!.receive(from, bytes),
        sync: async (from, bytes) => node!.answerSync(from, bytes)
      })
      opts.signal?.throwIfAborted()
      // a node with no state joins from a verified snapshot rather than replaying all history
      // (observers by default; a validator only when asked, as it could not vote on a snapshot's past)
      const fresh = node.current.status().delivered === 0 && node.current.latestCheckpoint() === undefined
      if (recovering !== undefined) {
        // bftnode recover cleared a diverged state: only a verified snapshot at or past the cut
        // the network certified will do (never genesis: that history is pruned). One already
        // held is one a start installed before it could clear the mark.
        node.recoverAbove = Math.max(0, Number(new TextDecoder().decode(recovering)) - 1)
        if ((node.current.latestCheckpoint()?.msg.height ?? 0) <= node.recoverAbove) {
          log.info('recovering: joining from a verified snapshot', { atLeast: node.recoverAbove + 1 })
          await node.join([], false, opts.signal)
          if ((node.current.latestCheckpoint()?.msg.height ?? 0) <= node.recoverAbove) throw new StorageError('recovering: no peer offered a verified snapshot; start again once validators are reachable')
        }
        await db.deleteMeta('recover')
        node.recoverAbove = undefined
        if (node.abstain === RECOVERING) {
          node.abstain = undefined
          node.current.resumeVoting()
        }
      } else if (fresh && (config.join || !node.current.isValidator)) {
        await node.join([], stored === undefined, opts.signal).catch(err => {
          if (config.join || opts.signal?.aborted === true) throw err
          log.warn('could not join from a snapshot; starting from genesis', { error: (err as Error).message })
        })
      } else if (onProbation) {
        void node.probe()
      }
      if (node.abstain !== undefined) log.warn('this validator does not vote', { why: node.abstain })
      const d = node.divergence
      if (d !== undefined) {
        // the halt is on disk before the bundle is written: a crash (or a full disk) between them
        // left no bundle; write what the halt record holds
        if (!existsSync(d.evidence)) await node.rewriteEvidence()
        log.error('this node\'s state diverged from a certified checkpoint before this start: it does not vote', { height: d.height, certifiedRoot: d.root, ourRoot: d.ours, evidence: d.evidence, whatNext: RECOVER_ADVICE })
      }
      node.reporter = new StatusReporter(() => node!.statusFigures(), logger.child('status'), config.statusIntervalMs)
      node.reporter.start()
      node.wake()
      return node
    } catch (err) {
      if (node !== undefined) await node.stop()
      else await db.close().catch(() => {})
      throw err
    }
  }

  private async restore (): Promise<void> {
    const stored = await this.db.latestCheckpoint()
    let from: { cp: CertifiedCheckpoint, ledger: ReplicatedAlgorithm } | undefined
    if (stored !== undefined) {
      from = rebuildCheckpoint(this.genesis, stored.certificate, stored.manifest, stored.chunks)
      this.serve(from.cp)
    }
    const records = await this.db.replicaRecords()
    const started = performance.now()
    // the replayed deliveries refill the history, numbered on from the checkpoint's height
    this.history.startAt(from?.cp.msg.height ?? 0)
    const actions = this.current.restore(records, Date.now(), from)
    for (const a of actions) if (a.type === 'deliver') this.delivered(a.op, a.outcome)
    const sequencerOps = (await this.db.sequencerOps()).map(b => decodeOp(b))
    this.sequencer.restore(sequencerOps)
    for (const op of sequencerOps) if (op.body.kind === 'rotate-sequencer') this.rotations.set(toHex(op.account), op)
    const st = this.current.status()
    this.log.info('state restored from disk', { checkpoint: st.checkpoint, certificates: st.certificates, delivered: st.delivered, bindings: st.bindings, ms: Math.round(performance.now() - started) })
  }

  /**
   * Downloads a certified checkpoint above the one held from peers, stores it and starts the
   * replica from it. `newDataDir`: this node's data dir was created by this start.
   */
  private async join (prefer: readonly string[] = [], newDataDir = false, signal?: AbortSignal): Promise<void> {
    const above = Math.max(this.current.latestCheckpoint()?.msg.height ?? 0, this.recoverAbove ?? 0)
    const options = { above, ...(this.config.trustedRoot === undefined ? {} : { trustedRoot: fromHex(this.config.trustedRoot) }) }
    const got = await joinNetwork({ genesis: this.genesis, set: this.validatorSet, net: this.net!, log: this.log.child('join'), prefer, expectPeers: this.config.bootstrap.length, options, signal })
    if (got === undefined) return
    // A validator whose data dir is new, in a network that already certified checkpoints, may
    // be one whose disk was lost: it cannot know which slots it bound before, and voting again
    // could certify a second op for one of them. It follows without voting; the decision is kept.
    if (newDataDir && this.current.isValidator && !this.config.resumeVoting) {
      this.abstain = 'its data dir was new when it joined a network that already has certified checkpoints, so it cannot know which slots it bound before (start it once with --resume-voting if this key never voted on this network)'
      await this.db.putMeta('abstain', new TextEncoder().encode(this.abstain))
    }
    await this.install(got)
  }

  /**
   * A validator on a new data dir, started without --join, follows without voting until it knows
   * whether the network is young: if peers offer a certified checkpoint it joins from it and keeps
   * abstaining (as with --join); if none does, it starts voting. Residual: a network that has
   * delivered ops but certified no checkpoint yet looks young (docs/protocol.md §13).
   */
  private async probe (): Promise<void> {
    // Fails closed: it votes only once enough validators answered that they hold no certified
    // checkpoint that one of them must have signed any there is (see probeAnswersNeeded);
    // otherwise it asks again.
    const needed = probeAnswersNeeded(this.current.validators.length, this.current.epoch.faults)
    while (!this.stopping && this.abstain === PROBATION) {
      this.rejoining = true // one join at a time
      try {
        await this.join([], true)
        if (this.abstain === PROBATION && this.validatorsConnected() >= needed) {
          this.abstain = undefined
          this.current.resumeVoting()
          this.log.info('no validator holds a certified checkpoint: this new validator votes', { validatorsAsked: this.validatorsConnected() })
          return
        }
        if (this.abstain === PROBATION) this.log.info('too few validators reachable to know the network is young; not voting yet', { reachable: this.validatorsConnected(), needed })
      } catch (err) {
        this.log.warn('could not ask peers for a certified checkpoint; not voting yet, asking again', { error: (err as Error).message })
      } finally {
        this.rejoining = false
      }
      await new Promise(resolve => setTimeout(resolve, PROBE_RETRY_MS))
    }
  }

  /**
   * Keeps a checkpoint on disk, then restarts the replica from it (and what the disk holds after
   * it). Never to a state behind the one held: the new replica would forget slots the old one
   * delivered and bound (their records behind the base are pruned) and could vote for them again.
   */
  private async install (from: { cp: CertifiedCheckpoint, ledger: ReplicatedAlgorithm, epochs?: readonly Uint8Array[] }): Promise<void> {
    const cp = from.cp
    const swapped = await this.swapReplica(async replica => {
      // checked once the old replica has stopped: its base cannot move any more
      const refusal = this.current.cannotInstall(cp.msg.height, from.ledger)
      if (refusal !== undefined) {
        this.log.warn('not installing a checkpoint behind the state held here', { height: cp.msg.height, why: refusal })
        return false
      }
      await this.storeCheckpoint(cp)
      // the epochs that certify the checkpoint's signers: kept first, restored before anything of theirs
      const epochs = (from.epochs ?? []).map((bytes, i) => ({ kind: 'epoch' as const, epoch: i + 1, bytes }))
      if (epochs.length > 0) await this.db.persist(epochs)
      replica.restore(await this.db.replicaRecords(), Date.now(), from)
      return true
    })
    if (!swapped) return
    this.checkpointAt = Date.now()
    this.history.startAt(this.current.state.height())
    const st = this.current.status()
    this.log.child('checkpoint').info('started from a certified checkpoint', { height: cp.msg.height, root: toHex(cp.msg.root).slice(0, 16), delivered: st.delivered })
  }

  /**
   * Replaces the replica atomically with respect to inputs: from the first line, messages,
   * submissions and ticks are refused, so the old replica acts on nothing after the swap begins;
   * its actions already queued (persists before sends) finish before the new one reads the disk.
   */
  private async swapReplica (prepare: (replica: Replica) => Promise<boolean>): Promise<boolean> {
    if (this.installing) throw new Error('node: a replica swap is already under way')
    this.installing = true
    try {
      await this.executor.settled()
      await this.sequencing
      const replica = this.newReplica()
      if (!await prepare(replica)) return false
      this.current = replica
      this.lastPeers = ''
      return true
    } finally {
      this.installing = false
    }
  }

  private async storeCheckpoint (cp: CertifiedCheckpoint): Promise<void> {
    await this.db.saveCheckpoint({ height: cp.msg.height, certificate: cp.bytes, manifest: cp.snapshot.manifestBytes, chunks: cp.snapshot.chunks }, this.config.checkpointRetain + 1)
    this.serve(cp)
  }

  private serve (cp: CertifiedCheckpoint): void {
    this.serving.set(toHex(cp.msg.root), cp)
    while (this.serving.size > 2) this.serving.delete(this.serving.keys().next().value!)
  }

  /** After a certified checkpoint: store it, then drop stored history the replica has pruned. */
  private async onCheckpoint (cp: CertifiedCheckpoint): Promise<void> {
    this.checkpointAt = Date.now()
    const started = performance.now()
    await this.storeCheckpoint(cp)
    const r = this.current
    const certs = await this.db.pruneCertificates(bytes => r.prunable({ kind: 'certificate', bytes }))
    const bindings = await this.db.pruneBindings(opBytes => r.prunable({ kind: 'bindings', ops: [opBytes] }))
    await this.db.pruneCheckpointSigs(record => r.prunable(record))
    this.metrics?.checkpointStore.observe((performance.now() - started) / 1000)
    this.log.child('checkpoint').info('checkpoint certified', { height: cp.msg.height, root: toHex(cp.msg.root).slice(0, 16), chunks: cp.snapshot.chunks.length, prunedCertificates: certs, prunedBindings: bindings, ms: Math.round(performance.now() - started) })
  }

  /** A peer asks for our latest checkpoint or a chunk of a snapshot we serve. */
  private answerSync (from: string, bytes: Uint8Array): Uint8Array | undefined {
    let req
    try {
      req = decodeSyncRequest(bytes)
    } catch (err) {
      this.log.debug('bad sync request', { peer: from.slice(0, 16), error: (err as Error).message })
      return undefined
    }
    if (req.type === 'latest') {
      const cp = this.current.latestCheckpoint()
      if (cp === undefined) return encodeSyncResponse({ type: 'none', reason: 'no certified checkpoint yet' })
      return encodeSyncResponse({ type: 'offer', checkpoint: cp.bytes, manifest: cp.snapshot.manifestBytes, epochs: this.current.epochRecords(1, SYNC_MESSAGE_LIMITS.maxOfferEpochs) })
    }
    const cp = this.serving.get(toHex(req.root))
    const chunk = cp?.snapshot.chunks[req.index]
    if (chunk === undefined) return encodeSyncResponse({ type: 'none', reason: 'not serving that snapshot chunk (pruned or unknown)' })
    return encodeSyncResponse({ type: 'chunk', index: req.index, bytes: chunk })
  }

  /** Peers certified checkpoints we cannot reach by fetching ops: join again from a snapshot. */
  private rejoin (peers: readonly string[]): void {
    // a diverged node waits for a person: a snapshot would hide what went wrong
    if (this.rejoining || this.stopping || this.current.diverged !== undefined) return
    this.rejoining = true
    this.log.warn('peers certified checkpoints this node cannot reach (its history was pruned there): joining again from a snapshot')
    void this.join(peers).catch(err => this.log.warn('re-join failed; will retry', { error: (err as Error).message })).finally(() => { this.rejoining = false })
  }

  // -------------------------------------------------------------------------------------------

  private receive (from: string, bytes: Uint8Array): Verdict {
    if (this.stopping || this.installing) return 'ignore'
    const started = Date.now()
    const res = this.current.receive(from, bytes, started)
    this.activity.heardFrom(from, started)
    this.metrics?.received(res.verdict === 'reject', res.actions, started)
    this.execute(res.actions)
    this.wake()
    if (res.verdict === 'reject') {
      this.log.debug('rejected message', { peer: from.slice(0, 16), reason: res.reason })
      this.reporter?.rejected(from, res.reason ?? 'invalid')
    }
    return res.verdict
  }

  /**
   * Whether the API should take more ops now, asked before it decodes or verifies anything: a
   * node past its limits turns requests away cheaply (HTTP 503) rather than queueing work that
   * would wait past re-proposal and be done twice. The hint is how long the queue now takes to
   * drain, roughly: a client that comes back then finds room.
   */
  admission (): { retryAfterMs: number, reason: string } | undefined {
    const busy = this.busy()
    if (busy !== undefined) this.shedReason = busy.reason
    return busy
  }

  private busy (): { retryAfterMs: number, reason: string } | undefined {
    if (this.installing) return { retryAfterMs: 1000, reason: 'the node is installing a snapshot' }
    const { heldOps, queueWaitMs } = this.current.load(Date.now())
    if (queueWaitMs > this.config.maxQueueDelayMs) {
      this.turnedAway++
      return { retryAfterMs: Math.min(MAX_RETRY_HINT_MS, Math.max(MIN_RETRY_HINT_MS, Math.round(queueWaitMs))), reason: `the node is saturated: ops wait ${Math.round(queueWaitMs)} ms for a batch (limit ${this.config.maxQueueDelayMs} ms)` }
    }
    if (heldOps >= this.config.maxPendingOps) {
      this.turnedAway++
      // the queue may be short while many batches are out: about one certificate round
      return { retryAfterMs: PENDING_RETRY_HINT_MS, reason: `the node is saturated: ${heldOps} ops are on their way to certificates (limit ${this.config.maxPendingOps})` }
    }
    return undefined
  }

  /** Requests the API turned away since start (see admission). */
  get shedRequests (): number {
    return this.turnedAway
  }

  /** Ops from the API: checked by the replica and queued for the next batch. */
  submit (opBytes: readonly Uint8Array[]): SubmitStatus[] {
    if (this.installing) return opBytes.map(() => ({ status: 'rejected', code: 'busy', reason: 'the node is installing a snapshot; retry shortly' }))
    const now = Date.now()
    const res = this.current.submit(opBytes, now)
    const ids = res.results.map((r, i) => {
      if (r.status !== 'queued') return undefined
      const id = toHex(r.hash)
      if (!this.ops.has(id)) this.track(decodeOp(opBytes[i]!), { status: 'queued' })
      return id
    })
    this.activity.submitted(opBytes, res.results, now, decodeOp, ids)
    this.metrics?.submitted(res.results, ids, now)
    this.execute(res.actions)
    this.wake()
    return res.results
  }

  /**
   * The operator proposes adding or removing one validator: the next epoch's set is the current
   * one with that change (a change of several at once could let quorums miss each other). This
   * validator's approval is the first; the others approve with `bftnode validator approve`.
   */
  proposeValidatorChange (change: ValidatorChange): ReconfigurationResult {
    const cur = this.current.epoch
    const key = toHex(change.key)
    if (this.installing) throw new ReconfigurationError('the node is installing a snapshot; retry shortly')
    if (change.kind === 'add' && cur.members.has(key)) throw new ReconfigurationError(`${key.slice(0, 16)}... is already a validator of epoch ${cur.number}`)
    if (change.kind === 'remove' && !cur.members.has(key)) throw new ReconfigurationError(`${key.slice(0, 16)}... is not a validator of epoch ${cur.number}`)
    const next = change.kind === 'add' ? [...cur.validators, change.key] : cur.validators.filter(v => toHex(v) !== key)
    const res = this.current.proposeReconfiguration(next, Date.now())
    this.execute(res.actions)
    this.wake()
    this.log.info('proposed a change of the validator set', { proposal: res.id.slice(0, 16), epoch: cur.number + 1, [change.kind]: key.slice(0, 16) })
    return this.reconfigurationResult(res.id, cur)
  }

  /**
   * The operator makes this node the sequencer of `contract`: signs, with the node's key, a
   * rotate-sequencer op at the contract's next slot citing its deploy, carrying the deployer's
   * `request` if given, and submits it. The op is persisted first and kept: asked again for the
   * same slot, the node resubmits it rather than sign another (two ops for one slot would stall
   * the contract's stream), and refuses a different request until the slot is filled.
   */
  async rotateSequencerHere (contract: Uint8Array, request: Uint8Array | null): Promise<SequencerRotationResult> {
    if (this.installing) throw new SequencerRotationError('the node is installing a snapshot; retry shortly')
    const ledger = this.current.ledger
    const c = ledger.contract(contract)
    if (c === undefined) throw new SequencerRotationError('no contract at that address here')
    const id = toHex(contract)
    const me = toHex(this.signer.publicKey)
    if (bytesEqual(c.sequencer, this.signer.publicKey)) throw new SequencerRotationError(`this node (${me.slice(0, 16)}) already sequences the contract`)
    const seq = ledger.nextSeq(contract)
    const silenceMs = this.config.sequencerSilenceMs
    let op = this.rotations.get(id)
    let resubmitted = false
    if (op !== undefined && op.seq >= seq) {
      const held = op.body.kind === 'rotate-sequencer' ? op.body.request : null
      const same = request === null || (held !== null && bytesEqual(held, request))
      if (!same) {
        throw new SequencerRotationError(`this node signed a rotation for slot ${op.seq} of the contract already (op ${toHex(op.hash).slice(0, 16)}, ${held === null ? 'without' : 'with another'} deployer request); it signs no second op for that slot: the op is resubmitted by asking again without a request, and lands once validators find the sequencer silent, or the slot is filled`)
      }
      resubmitted = true
      // not on the wire before it is on disk
      await this.rotationSaves.get(id)
    } else {
      const body = { kind: 'rotate-sequencer' as const, to: this.signer.publicKey, request }
      const unsigned = { account: contract, seq, deps: [c.deployedAt], body }
      if (request !== null && !rotationRequested(sodiumScheme, networkId(this.genesis), ledger, unsigned)) {
        throw new SequencerRotationError(`the request does not verify: it must be the deployer's signature (by its key in force) over contract ${id.slice(0, 16)}, slot ${seq}, new sequencer ${me.slice(0, 16)} (the contract's next slot here)`)
      }
      if (request === null && c.queue.size === 0) {
        throw new SequencerRotationError('the contract has no queued calls: without the deployer\'s request validators do not rotate its sequencer (they do once calls wait and the sequencer stays silent)')
      }
      op = signOp(this.signer, networkId(this.genesis), unsigned)
      // kept at once, so a request arriving while it is written resubmits it rather than sign another
      this.rotations.set(id, op)
      // on disk before it leaves, so a restart resubmits this op rather than sign another for the slot
      const saved = this.db.saveSequencerOp(id, op.bytes)
      this.rotationSaves.set(id, saved)
      await saved
      this.log.info('signed a rotation of a contract\'s sequencer to this node', { contract: id.slice(0, 16), seq, requested: request !== null })
    }
    const [r] = this.submit([op.bytes])
    const submit = r === undefined ? { status: 'rejected', code: 'busy', reason: 'no answer' } : r.status === 'rejected' ? { status: r.status, code: r.code, reason: r.reason } : { status: r.status }
    const held = op.body.kind === 'rotate-sequencer' ? op.body.request : null
    return { hash: toHex(op.hash), contract: id, seq: op.seq, to: me, requested: held !== null, silenceMs, resubmitted, submit }
  }

  /** The operator approves an open proposal (its id, or a unique prefix of at least 4 hex digits). */
  approveValidatorChange (idOrPrefix: string): ReconfigurationResult {
    if (this.installing) throw new ReconfigurationError('the node is installing a snapshot; retry shortly')
    const cur = this.current.epoch
    const res = this.current.approveReconfiguration(idOrPrefix, Date.now())
    this.execute(res.actions)
    this.wake()
    this.log.info('approved a change of the validator set', { proposal: res.id.slice(0, 16), epoch: cur.number + 1 })
    return this.reconfigurationResult(res.id, cur)
  }

  /** What this node is in the current epoch's set. */
  get validatorRole (): ValidatorRole {
    const r = this.current
    if (!r.isValidator) return 'observer'
    if (r.abstain !== undefined) return 'abstains'
    if (r.diverged !== undefined) return 'diverged'
    return r.votes ? 'votes' : 'waiting-for-handoff'
  }

  /** Where proposal `id` for the epoch after `from` stands now: certified, or its approvals so far. */
  private reconfigurationResult (id: string, from: Epoch): ReconfigurationResult {
    const epoch = from.number + 1
    if (this.current.epoch.number >= epoch) return { id, epoch, approvals: from.quorum, approvalsNeeded: from.quorum, certified: true }
    const open = this.current.reconfigurations().find(p => p.id === id)
    return { id, epoch, approvals: open?.sigs.size ?? 0, approvalsNeeded: from.quorum, certified: false }
  }

  private tick (): void {
    this.timer = undefined
    this.wakeAt = Infinity
    if (this.stopping) return
    const now = Date.now()
    this.lastTick = now
    if (!this.installing) {
      this.refreshPeers()
      this.sequencerBusy = this.sequenceContracts(now)
      this.execute(this.current.tick(now))
    }
    this.wake()
  }

  /**
   * Sets the clock for the replica's next tick: when it says it has work (Replica.nextTickAt), at
   * most every tickMs and at least every MAX_IDLE_TICK_MS. An idle node ticks a few times a second,
   * not every few ms. Called after every tick and input (an input can only bring work closer).
   */
  private wake (): void {
    if (this.stopping) return
    const now = Date.now()
    const soonest = this.lastTick + this.config.tickMs
    let at = Math.min(this.current.nextTickAt(now), now + MAX_IDLE_TICK_MS)
    if (this.sequencerBusy) at = soonest
    at = Math.max(at, soonest)
    if (at >= this.wakeAt) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.wakeAt = at
    this.timer = setTimeout(() => this.tick(), Math.max(0, at - now))
  }

  /** The validator set changed: send to the new set, order peers by it, and say so. */
  private epochChanged (epoch: number): void {
    const r = this.current
    this.lastPeers = ''
    this.refreshPeers()
    this.net?.setSubscribed(!r.isValidator)
    this.log.info('the validator set changed', { epoch, validators: r.validators.length, quorum: r.quorum, thisNode: r.isValidator ? (r.votes ? 'votes' : 'validator, waiting for the hand-off') : 'observer' })
  }

  private refreshPeers (): void {
    const peers = this.net?.connectedPeers() ?? []
    const key = peers.join(',')
    if (key === this.lastPeers) return
    this.lastPeers = key
    // validators first, so fetches and anti-entropy favour peers that have everything
    const validators = new Set(this.current.validators)
    this.current.setPeers([...peers.filter(p => validators.has(p)), ...peers.filter(p => !validators.has(p))])
    this.log.info('peers changed', { connected: peers.length, validators: peers.filter(p => validators.has(p)).length })
  }

  /** Turns calls queued for contracts this node sequences into Execute ops, one per slot. */
  private sequenceContracts (now: number): boolean {
    let waiting = false
    // only a ledger network has contracts to sequence
    if (!(this.current.state instanceof Ledger)) return false
    for (const c of this.current.ledger.allContracts()) {
      if (c.queue.size === 0 || !bytesEqual(c.sequencer, this.signer.publicKey)) continue
      waiting = true
      const op = this.sequencer.next(this.current.ledger, c.address, now)
      if (op === undefined) continue
      const id = toHex(c.address)
      const hash = toHex(op.hash)
      const last = this.sequenced.get(id)
      if (last !== undefined && last.hash === hash && now - last.at < RESEQUENCE_MS) continue
      this.sequenced.set(id, { hash, at: now })
      // on disk before it is offered, so a restart re-offers this op rather than signing another
      this.sequencing = this.sequencing.then(async () => await this.db.saveSequencerOp(id, op.bytes)).then(() => { this.submit([op.bytes]) }).catch(err => this.fatal(err))
    }
    return waiting
  }

  /** Runs actions in order after every earlier input's actions; persists are awaited. */
  private execute (actions: readonly Action[]): void {
    this.executor.execute(actions)
  }

  /** What the replica's actions do here: libp2p, LevelDB, the API's op statuses, re-joins. */
  private ports (): ActionPorts {
    return {
      network: {
        send: (to, bytes, kind) => {
          this.metrics?.send(kind, bytes, Date.now())
          this.net?.send(to, bytes)
        },
        // to validators directly (a certificate then reaches each before the broadcaster's next
        // proposal, which may build on it), to observers by gossip
        publish: (bytes, kind) => {
          this.metrics?.publish(kind, bytes, Date.now())
          const net = this.net
          if (net === undefined) return
          // every validator, connected now or not (send dials): validators no longer hear gossip
          for (const peer of this.current.validators) if (peer !== this.id) net.send(peer, bytes)
          net.publish(bytes)
        }
      },
      store: {
        persist: async records => {
          const write = this.db.persist(records)
          await (this.metrics === undefined ? write : this.metrics.timed(this.metrics.dbWrite, write))
        }
      },
      deliveries: {
        delivered: (op, outcome) => {
          const id = this.delivered(op, outcome)
          const now = this.lastDeliveryAt = Date.now()
          this.activity.delivered(op, outcome, now, id)
          this.metrics?.delivered(id, outcome, now)
        },
        dropped: (op, reason, evidence) => {
          this.activity.dropped(op, reason, Date.now())
          this.metrics?.dropped()
          this.track(op, { status: 'dropped', reason: `${reason} (evidence: op ${toHex(evidence.hash).slice(0, 16)})` })
          this.log.warn('dropped an op: its account equivocated', { account: toHex(op.account).slice(0, 16), seq: op.seq })
        }
      },
      checkpoints: { certified: async cp => await this.onCheckpoint(cp) },
      sync: { behind: (_height, peers) => this.rejoin(peers) },
      misbehaviour: {
        validatorVotedTwice: ev => {
          this.log.warn('a validator voted for two ops at one slot; GET /v1/evidence has the proof', { validator: toHex(ev.voter).slice(0, 16) })
        },
        stateDiverged: async d => await this.onDiverged(d)
      },
      epochs: { changed: epoch => { this.epochChanged(epoch) } }
    }
  }

  /**
   * A quorum certified a root other than ours: the replica stopped voting (and persisted that).
   * Write the evidence for a person and say what happened and what to do; reads go on, untrusted.
   */
  private async onDiverged (d: Divergence): Promise<void> {
    const path = divergenceFile(this.config.dataDir, d.height)
    try {
      const bundle = divergenceBundle(d, { network: this.genesis.network, nodeId: this.id, version: await buildVersion(), now: new Date() })
      await writeDivergenceBundle(this.config.dataDir, bundle)
    } catch (err) {
      this.log.error('could not write the divergence evidence', { path, error: (err as Error).message })
    }
    this.log.error('STATE DIVERGED: a quorum certified another state root than this node computes at the same cut', { height: d.height, certifiedRoot: toHex(d.root), ourRoot: toHex(d.ours), evidence: path, whatNext: RECOVER_ADVICE })
  }

  /**
   * The bundle of a halt found on disk at start, from its record: the certified checkpoint and
   * our root; the ops of the cut are not kept, and the agreed checkpoint is the one held now.
   */
  private async rewriteEvidence (): Promise<void> {
    const d = this.current.diverged
    if (d === undefined) return
    const base = this.current.latestCheckpoint()?.msg
    const divergence: Divergence = { certified: d.certified, height: d.height, root: d.root, ours: d.ours, baseHeight: base?.height ?? 0, baseRoot: base?.root ?? createAlgorithm(this.genesis).stateHash(), ops: [] }
    try {
      const bundle = { ...divergenceBundle(divergence, { network: this.genesis.network, nodeId: this.id, version: await buildVersion(), now: new Date() }), partial: 'written again at a start: the ops of the cut were not kept' }
      await writeDivergenceBundle(this.config.dataDir, bundle)
    } catch (err) {
      this.log.error('could not write the divergence evidence', { path: divergenceFile(this.config.dataDir, d.height), error: (err as Error).message })
    }
  }

  /** This node's state diverged from a certified checkpoint (undefined: it did not), and where the evidence is. */
  get divergence (): { height: number, root: string, ours: string, evidence: string } | undefined {
    const d = this.current.diverged
    if (d === undefined) return undefined
    return { height: d.height, root: toHex(d.root), ours: toHex(d.ours), evidence: divergenceFile(this.config.dataDir, d.height) }
  }

  /** A failed disk write leaves the node unable to keep its promises: stop rather than go on. */
  private fatal (err: unknown, fields: Record<string, unknown> = {}): void {
    if (this.stopping) return
    this.log.error('storage failed; stopping the node', { error: (err as Error).message, ...fields })
    this.halt(err instanceof Error ? err : new Error(String(err)))
    void this.stop()
  }

  /** Returns the op's hex hash. */
  private delivered (op: SignedOp, outcome: Outcome): string {
    const id = this.track(op, { status: 'delivered', account: toHex(op.account), seq: op.seq, outcome })
    this.history.delivered(op, outcome, id, this.current.state)
    // a call queued for a contract this node sequences: tick at full rate (see wake)
    if (op.body.kind === 'call' && !this.sequencerBusy) {
      const c = this.current.state.contract(op.body.contract)
      if (c !== undefined && bytesEqual(c.sequencer, this.signer.publicKey)) this.sequencerBusy = true
    }
    return id
  }

  private track (op: SignedOp, status: OpStatus): string {
    const id = toHex(op.hash)
    this.ops.delete(id)
    this.ops.set(id, status)
    if (this.ops.size > MAX_TRACKED_OPS) this.ops.delete(this.ops.keys().next().value!)
    if (status.status !== 'queued') {
      for (const w of this.waiters.get(id) ?? []) w(status)
      this.waiters.delete(id)
    }
    return id
  }

  // -------------------------------------------------------------------------------------------
  // Queries (the API's)

  /**
   * The state root and the delivered count it was computed at. A root costs a pass over the
   * whole state, so under load it is recomputed at most once per STATE_ROOT_MAX_AGE_MS: a busy
   * node answers status calls from the last one rather than spend its time hashing.
   */
  stateRoot (): { root: string, at: number } {
    const delivered = this.replica.counters().delivered
    const cached = this.rootCache
    if (cached !== undefined && (cached.at === delivered || Date.now() - cached.computedAt < STATE_ROOT_MAX_AGE_MS)) return cached
    this.rootCache = { root: toHex(this.replica.state.stateHash()), at: delivered, computedAt: Date.now() }
    return this.rootCache
  }

  opStatus (hash: string): OpStatus | undefined {
    return this.ops.get(hash)
  }

  /** Resolves when the op is delivered or dropped, or with undefined after `ms`. */
  async waitFor (hash: string, ms: number): Promise<OpStatus | undefined> {
    const now = this.ops.get(hash)
    if (now !== undefined && now.status !== 'queued') return now
    return await new Promise(resolve => {
      const list = this.waiters.get(hash) ?? []
      const timer = setTimeout(() => {
        const l = this.waiters.get(hash)
        if (l !== undefined) this.waiters.set(hash, l.filter(f => f !== done))
        resolve(undefined)
      }, ms)
      const done = (s: OpStatus): void => { clearTimeout(timer); resolve(s) }
      list.push(done)
      this.waiters.set(hash, list)
    })
  }

  peers (): string[] {
    return this.net?.connectedPeers() ?? []
  }

  /** Other validators this node is connected to: what quorum warnings, readiness and status count. */
  validatorsConnected (): number {
    const validators = new Set(this.current.validators)
    return this.peers().filter(p => p !== this.id && validators.has(p)).length
  }

  /** What the status line and its warnings are made of. */
  private statusFigures (): StatusFigures {
    const st = this.current.counters()
    const others = this.current.validators.filter(v => v !== this.id)
    return {
      validator: st.validator,
      voting: this.current.votes,
      peers: this.peers().length,
      validatorsConnected: this.validatorsConnected(),
      otherValidators: others.length,
      quorum: this.current.quorum,
      epoch: this.current.epoch.number,
      expectPeers: others.length > 0 || this.config.bootstrap.length > 0,
      delivered: st.delivered,
      queued: st.queued,
      buffered: st.buffered,
      checkpoint: st.checkpoint,
      checkpointAt: this.checkpointAt,
      shedRequests: this.turnedAway,
      shedReason: this.shedReason
    }
  }

  addresses (): string[] {
    return this.net?.addresses() ?? []
  }

  get id (): string {
    return this.current.id
  }

  /** What readiness and metrics read besides the replica (see health.ts). */
  get vitals (): { joining: boolean, checkpointStoredAt: number | undefined, lastDeliveryAt: number | undefined } {
    return {
      // a validator on probation asks peers for checkpoints now and then; it is not joining until it installs one
      joining: this.installing || (this.rejoining && this.abstain !== PROBATION),
      checkpointStoredAt: this.checkpointAt,
      lastDeliveryAt: this.lastDeliveryAt
    }
  }

  /** Stops the node; every call waits for the same stop to finish. */
  async stop (): Promise<void> {
    this.closing ??= this.close()
    await this.closing
  }

  private async close (): Promise<void> {
    this.stopping = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.history.close()
    this.reporter?.stop()
    await this.net?.stop().catch(() => {})
    await this.executor.settled()
    await this.sequencing
    await this.db.close().catch(() => {})
    this.tracer?.close()
  }
}
