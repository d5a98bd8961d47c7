// The node's Prometheus metrics: one prom-client Registry per node (never the global one, so
// several nodes in one process keep their figures apart), holding libp2p's metrics next to ours;
// the process's (event-loop lag, RSS, heap) come from one registry per process, scraped with it. Gauges are read from the node when scraped;
// what happens on hot paths is counted in plain numbers, mirrored into the registry at scrape.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { Metric } from 'prom-client'
import { toHex } from '../core/crypto/hash.js'
import type { Action, SubmitStatus } from '../core/broadcast/actions.js'
import type { Outcome } from '../core/ledger/ledger.js'

/** What the gauges show, read from the node once per scrape. */
export interface NodeGauges {
  readonly network: string
  readonly nodeId: string
  readonly validator: boolean
  readonly voting: boolean
  readonly ready: boolean
  readonly peers: number
  /** Other validators connected (not counting this node). */
  readonly validatorsConnected: number
  readonly validators: number
  readonly quorum: number
  /** The epoch of the validator set (0: genesis's set). */
  readonly epoch: number
  readonly queued: number
  readonly pendingBatches: number
  readonly heldOps: number
  readonly queueWaitMs: number
  readonly buffered: number
  readonly bindings: number
  readonly certificates: number
  readonly checkpoint: number
  /** When this node stored its latest certified checkpoint (epoch ms); undefined: none since start. */
  readonly checkpointAt: number | undefined
  readonly sinceCheckpoint: number
  readonly equivocations: number
  /** A certified checkpoint showed this node's state is not the network's: it stopped voting. */
  readonly diverged?: boolean
  readonly shedRequests: number
}

const LATENCY_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const DISK_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const BATCH_BOUNDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1024]
const CHECKPOINT_BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** Ops submitted here whose submit time is kept for the latency histogram (oldest dropped). */
const MAX_TIMED_OPS = 50_000
/** Batches proposed here whose first proposal time is kept until their certificate. */
const MAX_TIMED_BATCHES = 4096

/**
 * prom-client's default metrics describe the process, so one set serves every node in it. They
 * are collected once: each collectDefaultMetrics call starts a GC observer and an event-loop
 * timer that nothing stops, and they would keep a node's registry, and so the node, alive.
 */
let processRegistry: Registry | undefined

function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

export class NodeMetrics {
  readonly registry = new Registry()
  private readonly counts = { submitted: 0, delivered: 0, proposedOps: 0, proposedBatches: 0, certifiedOps: 0, certifiedBatches: 0, rejectedMessages: 0 }
  /** Rejected ops by stage, then reason. */
  private readonly rejected = new Map<string, Map<string, number>>()
  private readonly sent = new Map<string, number>()
  private readonly submittedAt = new Map<string, number>()
  /** A proposal's first sending, by its first op's signature (the same in its certificate). */
  private readonly proposedAt = new Map<string, number>()
  /** A proposal goes to every validator as one byte array: a new array is a new (or resent) batch. */
  private lastProposal: Uint8Array | undefined
  /** When the proposal a vote answers arrived, by the vote's bytes. */
  private readonly voteStarted = new WeakMap<Uint8Array, number>()
  private snapshot: NodeGauges | undefined

  readonly submitToDelivered = new PlainHistogram('bftnode_submit_to_delivered_seconds', 'time from an op\'s submission at this node to its delivery here', LATENCY_BOUNDS, this.registry)
  readonly certificateLatency = new PlainHistogram('bftnode_certificate_seconds', 'time from this node\'s first proposal of a batch to its certificate (a quorum of votes)', LATENCY_BOUNDS, this.registry)
  readonly voteLatency = new PlainHistogram('bftnode_vote_seconds', 'time from receiving a proposal to sending its vote: binding, the synced write, signing, and waiting behind earlier writes', DISK_BOUNDS, this.registry)
  readonly batchSize = new PlainHistogram('bftnode_batch_ops', 'ops in each batch this node certified', BATCH_BOUNDS, this.registry)
  readonly dbWrite = new PlainHistogram('bftnode_db_write_seconds', 'LevelDB writes the protocol waits for (bindings, certificates; synced, group-committed)', DISK_BOUNDS, this.registry)
  readonly checkpointStore = new PlainHistogram('bftnode_checkpoint_store_seconds', 'storing a certified checkpoint and pruning the history behind it', CHECKPOINT_BOUNDS, this.registry)

  constructor (private readonly read: () => NodeGauges) {
    processMetrics()
    const r = this.registry
    const c = this.counts
    const gauges = (): NodeGauges => this.gauges()
    mirror(r, 'bftnode_ops_submitted_total', 'ops this node took from its API (queued for a batch)', () => c.submitted)
    mirror(r, 'bftnode_ops_proposed_total', 'ops in the batches this node proposed (first proposals, not resends)', () => c.proposedOps)
    mirror(r, 'bftnode_batches_proposed_total', 'batches this node proposed', () => c.proposedBatches)
    mirror(r, 'bftnode_ops_certified_total', 'ops in the batches this node proposed that a quorum certified', () => c.certifiedOps)
    mirror(r, 'bftnode_batches_certified_total', 'batches this node proposed that a quorum certified', () => c.certifiedBatches)
    mirror(r, 'bftnode_ops_delivered_total', 'ops delivered here (applied or rejected by the ledger), replays at start not counted', () => c.delivered)
    mirror(r, 'bftnode_messages_rejected_total', 'protocol messages from peers judged invalid (their senders are penalised)', () => c.rejectedMessages)
    mirror(r, 'bftnode_api_shed_requests_total', 'POST /v1/ops requests answered 503: the node was saturated', () => gauges().shedRequests)
    const rejected = this.rejected
    void new Counter({
      name: 'bftnode_ops_rejected_total',
      help: 'ops refused, by stage (submit: by the API; delivery: by the ledger; dropped: their account equivocated) and reason',
      labelNames: ['stage', 'reason'],
      registers: [r],
      collect () {
        this.reset()
        for (const [stage, reasons] of rejected) for (const [reason, n] of reasons) this.inc({ stage, reason }, n)
      }
    })
    const sent = this.sent
    void new Counter({
      name: 'bftnode_messages_sent_total',
      help: 'protocol messages sent, by kind (a certificate this node made counts once, though every validator gets it)',
      labelNames: ['kind'],
      registers: [r],
      collect () {
        this.reset()
        for (const [kind, n] of sent) this.inc({ kind }, n)
      }
    })
    const gauge = (name: string, help: string, value: (g: NodeGauges) => number): void => {
      void new Gauge({ name, help, registers: [r], collect () { this.set(value(gauges())) } })
    }
    gauge('bftnode_ready', '1 while GET /v1/ready answers 200 (a quorum connected, caught up)', g => Number(g.ready))
    gauge('bftnode_voting', '1 if this node is a validator that votes', g => Number(g.voting))
    gauge('bftnode_peers', 'peers connected', g => g.peers)
    gauge('bftnode_validators_connected', 'other validators connected (not counting this node)', g => g.validatorsConnected)
    gauge('bftnode_validators', 'validators of the network', g => g.validators)
    gauge('bftnode_quorum', 'votes a certificate needs', g => g.quorum)
    gauge('bftnode_epoch', 'epoch of the validator set (0: the genesis set; each certified change adds one)', g => g.epoch)
    gauge('bftnode_queued_ops', 'ops waiting at this node for a batch', g => g.queued)
    gauge('bftnode_queue_wait_seconds', 'how long the oldest queued op has waited for a batch', g => g.queueWaitMs / 1000)
    gauge('bftnode_pending_batches', 'batches proposed here that wait for a quorum of votes', g => g.pendingBatches)
    gauge('bftnode_held_ops', 'ops on their way through this node (queued, or in batches validators have not put off); the API sheds at maxPendingOps', g => g.heldOps)
    gauge('bftnode_buffered_ops', 'certified ops waiting for earlier ones of their account before delivery', g => g.buffered)
    gauge('bftnode_bindings', 'slots this validator has bound (voted for) and not yet delivered', g => g.bindings)
    gauge('bftnode_certificates', 'certificates held in memory (pruned behind checkpoints)', g => g.certificates)
    gauge('bftnode_checkpoint_height', 'height of the latest certified checkpoint', g => g.checkpoint)
    gauge('bftnode_checkpoint_age_seconds', 'time since this node stored its latest certified checkpoint (NaN: none since start)', g => g.checkpointAt === undefined ? NaN : (Date.now() - g.checkpointAt) / 1000)
    gauge('bftnode_ops_since_checkpoint', 'ops delivered since the latest certified checkpoint', g => g.sinceCheckpoint)
    gauge('bftnode_equivocations', 'accounts proven to have signed two ops for one slot', g => g.equivocations)
    gauge('bftnode_diverged', '1 once a quorum certified a state root other than this node\'s: it stopped voting (bftnode recover)', g => Number(g.diverged))
    void new Gauge({
      name: 'bftnode_info',
      help: 'always 1: the node\'s network, key (first 16 hex digits) and role as labels',
      labelNames: ['network', 'node', 'role'],
      registers: [r],
      collect () {
        const g = gauges()
        this.reset()
        this.set({ network: g.network, node: g.nodeId.slice(0, 16), role: g.validator ? 'validator' : 'observer' }, 1)
      }
    })
  }

  /** The node's state, read once per scrape: every collect of one scrape runs in the same turn. */
  private gauges (): NodeGauges {
    if (this.snapshot === undefined) {
      this.snapshot = this.read()
      queueMicrotask(() => { this.snapshot = undefined })
    }
    return this.snapshot
  }

  /** The text Prometheus scrapes: the node's metrics, then the process's. */
  async text (): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()])
    return `${own}\n${process}`
  }

  get contentType (): string {
    return this.registry.contentType
  }

  // -------------------------------------------------------------------------------------------
  // Hot paths: plain counting only.

  /** The API's submission results; `ids` holds the hex hash of each queued op (others undefined). */
  submitted (results: readonly SubmitStatus[], ids: ReadonlyArray<string | undefined>, now: number): void {
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!
      if (r.status === 'rejected') { this.reject('submit', r.code); continue }
      const id = ids[i]
      if (r.status !== 'queued' || id === undefined || this.submittedAt.has(id)) continue
      this.counts.submitted++
      this.submittedAt.set(id, now)
      if (this.submittedAt.size > MAX_TIMED_OPS) this.submittedAt.delete(this.submittedAt.keys().next().value!)
    }
  }

  delivered (id: string, outcome: Outcome, now: number): void {
    this.counts.delivered++
    if (outcome.status === 'rejected') this.reject('delivery', outcome.reason)
    if (this.submittedAt.size === 0) return
    const at = this.submittedAt.get(id)
    if (at === undefined) return
    this.submittedAt.delete(id)
    this.submitToDelivered.observe((now - at) / 1000)
  }

  dropped (): void {
    this.reject('dropped', 'equivocation')
  }

  private reject (stage: string, reason: string): void {
    let reasons = this.rejected.get(stage)
    if (reasons === undefined) this.rejected.set(stage, reasons = new Map())
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
  }

  /** A peer's message was handled: its verdict, and a vote it caused is timed from `started`. */
  received (rejected: boolean, actions: readonly Action[], started: number): void {
    if (rejected) { this.counts.rejectedMessages++; return }
    for (const a of actions) if (a.type === 'send' && a.kind === 'vote') this.voteStarted.set(a.bytes, started)
  }

  /** A message goes to one peer: counted by kind; a vote ends its timing, a new proposal starts one. */
  send (kind: string, bytes: Uint8Array, now: number): void {
    this.sent.set(kind, (this.sent.get(kind) ?? 0) + 1)
    if (kind === 'vote') {
      const started = this.voteStarted.get(bytes)
      if (started !== undefined) this.voteLatency.observe((now - started) / 1000)
    } else if (kind === 'propose' && bytes !== this.lastProposal) {
      this.lastProposal = bytes
      const batch = peekBatch(bytes)
      if (batch !== undefined && !this.proposedAt.has(batch.key)) this.proposed(batch, now)
    }
  }

  /** A message gossiped to every peer: for our own certificates, the end of a batch's round. */
  publish (kind: string, bytes: Uint8Array, now: number): void {
    this.sent.set(kind, (this.sent.get(kind) ?? 0) + 1)
    if (kind !== 'certified') return
    const batch = peekBatch(bytes)
    if (batch === undefined) return
    const at = this.proposedAt.get(batch.key)
    // a batch only this node voted on was never sent: it was proposed at this moment
    if (at === undefined) this.proposed(batch, now)
    else this.certificateLatency.observe((now - at) / 1000)
    this.proposedAt.delete(batch.key)
    this.counts.certifiedBatches++
    this.counts.certifiedOps += batch.ops
    this.batchSize.observe(batch.ops)
  }

  private proposed (batch: { key: string, ops: number }, now: number): void {
    this.counts.proposedBatches++
    this.counts.proposedOps += batch.ops
    this.proposedAt.set(batch.key, now)
    if (this.proposedAt.size > MAX_TIMED_BATCHES) this.proposedAt.delete(this.proposedAt.keys().next().value!)
  }

  /** Times a write: `await metrics.timed(histogram, promise)`. */
  async timed<T> (histogram: PlainHistogram, work: Promise<T>): Promise<T> {
    const started = performance.now()
    const result = await work
    histogram.observe((performance.now() - started) / 1000)
    return result
  }
}

/**
 * A proposal's or certificate's op count, and its first op's signature as its name (the same in
 * both). Read from the CBOR headers alone: decoding a 1,000-op batch costs milliseconds, this
 * costs nothing that grows with the batch. Undefined for anything else (never for our messages).
 */
export function peekBatch (bytes: Uint8Array): { key: string, ops: number } | undefined {
  let pos = 0
  /** An item's major type and its count or length; undefined past the end or on indefinite lengths. */
  const head = (): { major: number, n: number } | undefined => {
    if (pos >= bytes.length) return undefined
    const first = bytes[pos++]!
    const info = first & 31
    let n = info
    if (info >= 24) {
      if (info > 27) return undefined
      const size = 1 << (info - 24)
      if (pos + size > bytes.length) return undefined
      n = 0
      for (let i = 0; i < size; i++) n = n * 256 + bytes[pos++]!
    }
    return { major: first >> 5, n }
  }
  const skip = (depth: number): boolean => {
    const h = head()
    if (h === undefined || depth > 8) return false
    if (h.major === 2 || h.major === 3) { pos += h.n; return pos <= bytes.length }
    if (h.major === 4 || h.major === 5) {
      for (let i = 0; i < h.n * (h.major === 5 ? 2 : 1); i++) if (!skip(depth + 1)) return false
    }
    return h.major !== 6
  }
  const map = head()
  if (map?.major !== 5) return undefined
  for (let k = 0; k < map.n; k++) {
    const key = head()
    if (key?.major !== 3) return undefined
    const name = key.n === 3 && bytes[pos] === 0x6f && bytes[pos + 1] === 0x70 && bytes[pos + 2] === 0x73 // "ops"
    pos += key.n
    if (!name) { if (!skip(0)) return undefined; continue }
    const list = head()
    if (list?.major !== 4 || list.n === 0) return undefined
    const op = head()
    if (op?.major !== 2 || op.n < 32 || pos + op.n > bytes.length) return undefined
    return { key: toHex(bytes.subarray(pos + op.n - 32, pos + op.n)), ops: list.n }
  }
  return undefined
}

/** A counter whose value is a plain number kept elsewhere, copied in when scraped. */
function mirror (registry: Registry, name: string, help: string, value: () => number): void {
  void new Counter({ name, help, registers: [registry], collect () { this.reset(); this.inc(value()) } })
}

/**
 * A histogram without labels whose observe is a scan of its bounds and three additions:
 * prom-client's own hashes a label set on every call (~10x the cost), and one of these runs for
 * every delivered op. It registers like any prom-client metric (name, type, get, reset).
 */
export class PlainHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly counts: Float64Array
  private sum = 0
  private count = 0

  constructor (readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    this.counts = new Float64Array(bounds.length)
    registry.registerMetric(this as unknown as Metric)
  }

  observe (value: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    if (i < bounds.length) this.counts[i] = (this.counts[i] ?? 0) + 1
    this.sum += value
    this.count++
  }

  /** Observations so far (for tests and the dashboard). */
  get observations (): number {
    return this.count
  }

  reset (): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }

  get (): { name: string, help: string, type: string, aggregator: string, values: Array<{ metricName: string, labels: Record<string, string | number>, value: number }> } {
    const values = []
    let cumulative = 0
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!
      values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i]! }, value: cumulative })
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count })
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum })
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count })
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}
