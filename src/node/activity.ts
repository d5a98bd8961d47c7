// What a node saw recently, for people watching it (the dashboard): the last rejected ops with
// their reasons, submit→delivered latencies of ops submitted here over the last minute, when each
// peer was last heard from. Every structure is
// bounded, and feeding it costs a map write or two: it sits on the node's hot paths.

import { toHex } from '../core/crypto/hash.js'
import type { SubmitStatus } from '../core/broadcast/actions.js'
import type { Outcome } from '../core/ledger/ledger.js'
import type { SignedOp } from '../core/ledger/op.js'

/** Rejected ops kept for the dashboard (newest first when listed). */
export const MAX_REJECTIONS = 50
/** The latency window (ms): percentiles cover ops delivered this recently. */
export const LATENCY_WINDOW_MS = 60_000
/** Latency samples kept: at more deliveries a minute than this, percentiles cover the newest only. */
export const MAX_LATENCY_SAMPLES = 16_384
/**
 * Submitted ops waiting for their delivery. One that never arrives (dropped, or the node was
 * saturated) is forgotten after MAX_PENDING_AGE_MS or when the map is full, oldest first.
 */
const MAX_PENDING = 20_000
const MAX_PENDING_AGE_MS = 5 * 60_000
/** Peers remembered for "last heard" (validators are few; observers could be many). */
const MAX_PEERS_HEARD = 1024
/** Characters of a rejection's detail kept: a decoder's error quotes what the client sent. */
const MAX_DETAIL = 300

/** Where a rejection was learnt: refused by this node's API, rejected by the ledger at delivery, or dropped for equivocation. */
export type RejectionStage = 'submit' | 'delivery' | 'dropped'

export interface Rejection {
  readonly at: number
  readonly stage: RejectionStage
  /** The op's hash, account and seq, when the op could be read. */
  readonly hash?: string
  readonly account?: string
  readonly seq?: number
  readonly kind?: string
  readonly reason: string
  readonly detail: string
}

export interface LatencySummary {
  readonly windowMs: number
  /** Samples in the window (at most MAX_LATENCY_SAMPLES). */
  readonly count: number
  readonly p50: number | null
  readonly p90: number | null
  readonly p99: number | null
  readonly max: number | null
}

export class RecentActivity {
  private readonly rejections: Rejection[] = []
  private next = 0
  private readonly pending = new Map<string, number>()
  private readonly sampleAt = new Float64Array(MAX_LATENCY_SAMPLES)
  private readonly sampleMs = new Float64Array(MAX_LATENCY_SAMPLES)
  private samples = 0
  private readonly heard = new Map<string, number>()
  /** Ops this node's API accepted (queued) or refused, and delivered outcomes since start. */
  accepted = 0
  refused = 0
  applied = 0
  rejected = 0

  /**
   * The API's submit answers: accepted ops start their latency clock, refused ones are recorded.
   * `ids`: the hex hash of each queued op, when the caller has it already.
   */
  submitted (ops: readonly Uint8Array[], results: readonly SubmitStatus[], now: number, read: (bytes: Uint8Array) => SignedOp, ids?: ReadonlyArray<string | undefined>): void {
    results.forEach((r, i) => {
      if (r.status === 'queued') {
        this.accepted++
        this.startClock(ids?.[i] ?? toHex(r.hash), now)
      } else if (r.status === 'rejected') {
        this.refused++
        let op: SignedOp | undefined
        try { op = read(ops[i]!) } catch { /* malformed: recorded without its fields */ }
        this.reject({ at: now, stage: 'submit', ...(op === undefined ? {} : fieldsOf(op)), reason: r.code, detail: r.reason })
      }
    })
  }

  /** `id`: the op's hex hash, when the caller has it already. */
  delivered (op: SignedOp, outcome: Outcome, now: number, id?: string): void {
    if (outcome.status === 'applied') this.applied++
    else {
      this.rejected++
      this.reject({ at: now, stage: 'delivery', ...fieldsOf(op), reason: outcome.reason, detail: outcome.detail })
    }
    if (this.pending.size === 0) return
    const key = id ?? toHex(op.hash)
    const since = this.pending.get(key)
    if (since === undefined) return
    this.pending.delete(key)
    const i = this.samples % MAX_LATENCY_SAMPLES
    this.sampleAt[i] = now
    this.sampleMs[i] = now - since
    this.samples++
  }

  dropped (op: SignedOp, reason: string, now: number): void {
    this.pending.delete(toHex(op.hash))
    this.reject({ at: now, stage: 'dropped', ...fieldsOf(op), reason: 'equivocation', detail: reason })
  }

  /** A message arrived from this peer. */
  heardFrom (peer: string, now: number): void {
    if (!this.heard.delete(peer) && this.heard.size >= MAX_PEERS_HEARD) this.heard.delete(this.heard.keys().next().value!)
    this.heard.set(peer, now)
  }

  lastHeard (peer: string): number | undefined {
    return this.heard.get(peer)
  }

  /** The last MAX_REJECTIONS rejections, newest first. */
  recentRejections (): Rejection[] {
    const n = this.rejections.length
    return Array.from({ length: n }, (_, k) => this.rejections[(this.next - 1 - k + n) % n]!)
  }

  /** Percentiles (nearest rank) of submit→delivered latencies of ops delivered in the window. */
  latency (now: number): LatencySummary {
    const since = now - LATENCY_WINDOW_MS
    const held = Math.min(this.samples, MAX_LATENCY_SAMPLES)
    const values: number[] = []
    for (let i = 0; i < held; i++) if (this.sampleAt[i]! >= since) values.push(this.sampleMs[i]!)
    values.sort((a, b) => a - b)
    const rank = (p: number): number | null => values.length === 0 ? null : values[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!
    return { windowMs: LATENCY_WINDOW_MS, count: values.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: values.length === 0 ? null : values[values.length - 1]! }
  }

  private startClock (id: string, now: number): void {
    if (this.pending.has(id)) return
    // insertion order is submit order: the oldest entries are first
    for (const [old, at] of this.pending) {
      if (this.pending.size < MAX_PENDING && now - at <= MAX_PENDING_AGE_MS) break
      this.pending.delete(old)
    }
    this.pending.set(id, now)
  }

  private reject (r: Rejection): void {
    // copied, so a slice does not keep the whole of a long detail in memory
    if (r.detail.length > MAX_DETAIL) r = { ...r, detail: Buffer.from(r.detail.slice(0, MAX_DETAIL - 1)).toString() + '…' }
    if (this.rejections.length < MAX_REJECTIONS) this.rejections.push(r)
    else this.rejections[this.next] = r
    this.next = (this.next + 1) % MAX_REJECTIONS
  }
}

function fieldsOf (op: SignedOp): { hash: string, account: string, seq: number, kind: string } {
  return { hash: toHex(op.hash), account: toHex(op.account), seq: op.seq, kind: op.body.kind }
}
