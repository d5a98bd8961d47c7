// What a node says about itself to operators: liveness (the process serves), readiness (it is
// connected to a quorum of validators and caught up, or the reasons it is not), and the gauges
// its metrics read when scraped. Read from the node's replica and network; nothing here acts.

import type { BftNode } from './node.js'
import type { NodeGauges } from './metrics.js'

/**
 * Certified ops that may wait in the delivery buffer for earlier ones before the node counts as
 * behind: four full batches, more than arrive out of order on a busy but healthy node.
 */
export const MAX_READY_BACKLOG = 4096

/** How long certified ops may wait without any delivery before the node counts as stuck (ms). */
export const MAX_STALL_MS = 10_000

export interface Liveness {
  /** 'diverged': the process serves, but its state is not the network's (see docs/divergence.md). */
  readonly status: 'ok' | 'diverged'
  readonly reason?: string
  readonly uptimeMs: number
  readonly startedAt: string
  readonly nodeId: string
  readonly network: string
}

export interface Readiness {
  readonly ready: boolean
  /** Why the node is not ready, one sentence each (empty when ready). */
  readonly reasons: string[]
  readonly role: 'validator' | 'observer'
  /** A validator that votes (false: an observer, or a validator that abstains; see /v1/status). */
  readonly voting: boolean
  readonly validators: number
  readonly quorum: number
  /** Other validators connected (this node not counted). */
  readonly validatorsConnected: number
  /** Other validators that must be connected for a quorum (this node counted if it votes). */
  readonly validatorsNeeded: number
  readonly peers: number
  readonly delivered: number
  /** Certified ops waiting for earlier ones before delivery. */
  readonly buffered: number
  /** Since the last delivery this node made after it started (null: none yet). */
  readonly lastDeliveryMsAgo: number | null
  readonly checkpoint: { readonly height: number, readonly ageMs: number | null } | null
}

export function liveness (node: BftNode): Liveness {
  const d = node.divergence
  const status = d === undefined ? { status: 'ok' as const } : { status: 'diverged' as const, reason: divergedReason(d) }
  return { ...status, uptimeMs: Date.now() - node.startedAt, startedAt: new Date(node.startedAt).toISOString(), nodeId: node.id, network: node.genesis.network }
}

export function readiness (node: BftNode, now = Date.now()): Readiness {
  const replica = node.replica
  const st = replica.counters()
  const vitals = node.vitals
  const peers = node.peers()
  const connected = node.validatorsConnected()
  const others = replica.validators.length - (replica.isValidator ? 1 : 0)
  // a validator's own vote counts toward a quorum only if it votes
  const needed = Math.max(0, replica.quorum - (replica.votes ? 1 : 0))
  const reasons: string[] = []
  const d = node.divergence
  if (d !== undefined) reasons.push(divergedReason(d))
  if (connected < needed) {
    reasons.push(`below quorum (${connected} of ${others} ${replica.isValidator ? 'other ' : ''}validators connected, ${needed} needed)`)
  }
  if (vitals.joining) reasons.push('joining: installing a certified checkpoint from peers')
  const stalledMs = now - (vitals.lastDeliveryAt ?? node.startedAt)
  if (st.buffered > MAX_READY_BACKLOG) {
    reasons.push(`behind: ${st.buffered} certified ops wait for earlier ones (more than ${MAX_READY_BACKLOG})`)
  } else if (st.buffered > 0 && stalledMs > MAX_STALL_MS) {
    reasons.push(`behind: ${st.buffered} certified ops have waited ${Math.round(stalledMs / 1000)} s for earlier ones`)
  }
  const load = replica.load(now)
  if (load.queueWaitMs > node.config.maxQueueDelayMs) {
    reasons.push(`saturated: queued ops wait ${Math.round(load.queueWaitMs)} ms for a batch (limit ${node.config.maxQueueDelayMs} ms)`)
  } else if (load.heldOps >= node.config.maxPendingOps) {
    reasons.push(`saturated: ${load.heldOps} ops on their way to certificates (limit ${node.config.maxPendingOps})`)
  }
  const cp = replica.latestCheckpoint()
  return {
    ready: reasons.length === 0,
    reasons,
    role: replica.isValidator ? 'validator' : 'observer',
    voting: replica.votes,
    validators: replica.validators.length,
    quorum: replica.quorum,
    validatorsConnected: connected,
    validatorsNeeded: needed,
    peers: peers.length,
    delivered: st.delivered,
    buffered: st.buffered,
    lastDeliveryMsAgo: vitals.lastDeliveryAt === undefined ? null : now - vitals.lastDeliveryAt,
    checkpoint: cp === undefined ? null : { height: cp.msg.height, ageMs: vitals.checkpointStoredAt === undefined ? null : now - vitals.checkpointStoredAt }
  }
}

/** One sentence on a divergence: what, where the evidence is, and what to do. */
export function divergedReason (d: { height: number, root: string, ours: string, evidence: string }): string {
  return `diverged: a quorum certified root ${d.root.slice(0, 16)} at height ${d.height}, this node computed ${d.ours.slice(0, 16)}; it does not vote and its reads are untrusted; evidence in ${d.evidence}; stop it and run bftnode recover`
}

/** The figures the metrics' gauges show, read once per scrape. */
export function nodeGauges (node: BftNode): NodeGauges {
  const replica = node.replica
  const st = replica.counters()
  const now = Date.now()
  const load = replica.load(now)
  const peers = node.peers()
  return {
    network: node.genesis.network,
    nodeId: node.id,
    validator: replica.isValidator,
    voting: replica.votes,
    ready: readiness(node, now).ready,
    peers: peers.length,
    validatorsConnected: node.validatorsConnected(),
    validators: replica.validators.length,
    quorum: replica.quorum,
    epoch: replica.epoch.number,
    queued: st.queued,
    pendingBatches: st.pendingBatches,
    heldOps: load.heldOps,
    queueWaitMs: load.queueWaitMs,
    buffered: st.buffered,
    bindings: st.bindings,
    certificates: st.certificates,
    checkpoint: st.checkpoint,
    checkpointAt: node.vitals.checkpointStoredAt,
    sinceCheckpoint: st.sinceCheckpoint,
    equivocations: st.equivocations,
    diverged: replica.diverged !== undefined,
    shedRequests: node.shedRequests
  }
}
