// GET /v1/dashboard: everything the browser dashboard shows, in one answer it can poll every
// second. Built from the same figures as GET /v1/status and /v1/peers, plus what the node's
// RecentActivity kept (rejections, latencies, peers last heard). Cheap: it
// never computes the state root.

import { toHex } from '../core/crypto/hash.js'
import type { BftNode } from '../node/node.js'
import type { LatencySummary, Rejection } from '../node/activity.js'

export interface PeerView {
  readonly id: string
  readonly connected: boolean
  readonly self: boolean
  readonly validator: boolean
  /** Milliseconds since a message from this peer arrived (null: none since start). */
  readonly lastHeardMs: number | null
}

export interface DashboardView {
  readonly node: {
    readonly id: string
    readonly network: string
    readonly networkId: string
    readonly role: 'validator' | 'observer'
    readonly voting: boolean
    readonly notVoting?: string
    readonly uptimeMs: number
    readonly addresses: string[]
  }
  readonly time: number
  readonly quorum: number
  /** The epoch of the validator set (0: genesis's). */
  readonly epoch: number
  /** Every validator of the current epoch, this node included, sorted by key. */
  readonly validators: PeerView[]
  /** Connected peers that are not validators (observers). */
  readonly observers: PeerView[]
  readonly counters: {
    /** Ops delivered here (network-wide: every node delivers every op). */
    readonly delivered: number
    /** Since start: delivered ops the ledger applied and rejected, and ops this node's API accepted and refused. */
    readonly applied: number
    readonly rejected: number
    readonly accepted: number
    readonly refused: number
    /** POST /v1/ops requests answered 503 (saturated) since start. */
    readonly shedRequests: number
    readonly certificates: number
    readonly bindings: number
    readonly equivocations: number
  }
  readonly queues: {
    /** Ops waiting here for a batch, and how long the oldest has waited (ms). */
    readonly queued: number
    readonly queueWaitMs: number
    /** Ops on their way through this node: queued, or in batches not yet certified. */
    readonly heldOps: number
    readonly pendingBatches: number
    /** Certified ops waiting for their dependencies before delivery. */
    readonly buffered: number
    readonly maxPendingOps: number
    readonly maxQueueDelayMs: number
  }
  readonly checkpoint: {
    readonly height: number
    readonly root: string | null
    /** Delivered ops since the latest checkpoint. */
    readonly sinceCheckpoint: number
    /** Milliseconds since this node learnt it was certified (null: before this start, or none). */
    readonly ageMs: number | null
  }
  readonly latency: LatencySummary
  /** The latest rejected ops, newest first. */
  readonly rejections: Rejection[]
}

export function dashboardView (node: BftNode, now = Date.now()): DashboardView {
  const replica = node.replica
  const st = replica.counters()
  const load = replica.load(now)
  const activity = node.activity
  const connected = new Set(node.peers())
  const validators = new Set(replica.validators)
  const peer = (id: string): PeerView => {
    const heard = activity.lastHeard(id)
    const self = id === node.id
    return { id, connected: self || connected.has(id), self, validator: validators.has(id), lastHeardMs: self ? 0 : heard === undefined ? null : now - heard }
  }
  const cp = replica.latestCheckpoint()
  // stored or installed from a snapshot: the node's one record of when its latest checkpoint came
  const checkpointAt = node.vitals.checkpointStoredAt
  return {
    node: {
      id: node.id,
      network: node.genesis.network,
      networkId: node.networkIdHex,
      role: st.validator ? 'validator' : 'observer',
      voting: replica.votes,
      ...(replica.abstain === undefined ? {} : { notVoting: replica.abstain }),
      uptimeMs: now - node.startedAt,
      addresses: node.addresses()
    },
    time: now,
    quorum: replica.quorum,
    epoch: replica.epoch.number,
    validators: replica.validators.map(peer),
    observers: [...connected].filter(p => !validators.has(p)).sort().map(peer),
    counters: {
      delivered: st.delivered,
      applied: activity.applied,
      rejected: activity.rejected,
      accepted: activity.accepted,
      refused: activity.refused,
      shedRequests: node.shedRequests,
      certificates: st.certificates,
      bindings: st.bindings,
      equivocations: st.equivocations
    },
    queues: {
      queued: st.queued,
      queueWaitMs: Math.round(load.queueWaitMs),
      heldOps: load.heldOps,
      pendingBatches: st.pendingBatches,
      buffered: st.buffered,
      maxPendingOps: node.config.maxPendingOps,
      maxQueueDelayMs: node.config.maxQueueDelayMs
    },
    checkpoint: {
      height: st.checkpoint,
      root: cp === undefined ? null : toHex(cp.msg.root),
      sinceCheckpoint: st.sinceCheckpoint,
      ageMs: checkpointAt === undefined ? null : now - checkpointAt
    },
    latency: activity.latency(now),
    rejections: activity.recentRejections()
  }
}
