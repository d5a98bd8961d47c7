// The broadcaster's side of SecureBroadcast: ops submitted here wait in a queue, leave in batches
// (a batch closes when it is full or when the oldest op has waited `batchDelay`), and each batch
// stays pending, resent with backoff to the validators that have not voted, until a quorum of
// votes makes it a certificate or a proof of equivocation removes one of its ops.
//
// Batching adapts to load: at most `pipeline` batches wait for their first quorum at a time. A
// batch costs every validator a vote and a certificate whatever it carries, so while the pipeline
// is full, ops gather in the queue and leave together when a batch is certified; on a quiet node
// the pipeline is empty and an op leaves after batchDelay as before.

import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { bytesEqual } from '../codec/canonical.js'
import { slotKey } from '../ledger/op.js'
import type { SignedOp } from '../ledger/op.js'
import { MESSAGE_LIMITS, batchDigest } from './messages.js'

/** Room left in a message for the votes of a certificate and the encoding around the ops. */
export const MAX_BATCH_BYTES = MESSAGE_LIMITS.maxMessageBytes - 128 * 1024

export interface PendingBatch {
  readonly digest: Hash
  readonly id: string
  readonly ops: readonly SignedOp[]
  /** Valid votes so far, by voter id. */
  readonly votes: Map<string, Uint8Array>
  /** Validators that put off some of the batch's ops, and the slots (slotKey) they put off. */
  readonly deferredBy: Map<string, ReadonlySet<string>>
  /** When the batch was first proposed. */
  readonly openedAt: number
  nextRetryAt: number
  retryDelay: number
  /** Since when too many validators put off ops of this batch for a quorum (see giveUpAfter). */
  putOffSince?: number
}

export interface ProposerTiming {
  batchDelay: number
  /**
   * Batches that may wait for their first quorum at once. A batch stops counting once it is
   * resent or put off, so a stuck batch never holds the queue back for more than proposeRetry.
   */
  pipeline: number
  proposeRetry: number
  maxRetry: number
  giveUpAfter: number
}

export class Proposer {
  private readonly queue = new Map<string, SignedOp>()
  private queuedBytes = 0
  /** When each queued op was queued (in queue order): a batch closes `batchDelay` after its oldest op. */
  private readonly queuedAt = new Map<string, number>()
  private readonly pending = new Map<string, PendingBatch>()
  /** Ops inside pending batches, by op hash, so a re-submission is not batched twice. */
  private readonly inFlight = new Set<string>()
  /** Slots (slotKey) of the ops queued or in flight, so an account's next op can follow them. */
  private readonly slots = new Map<string, number>()

  /** Ops in pending batches too many validators put off (putOffSince set). */
  private putOffOps = 0
  /** Bytes of the ops in pending batches (queued ones are in queuedBytes). */
  private inFlightBytes = 0
  /** Slots (slotKey) of the ops in pending batches. */
  private readonly inFlightSlots = new Set<string>()
  /**
   * Ops whose stream predecessor is in a pending batch here, by the predecessor's slot. Validators
   * put off an op whose predecessor they have not seen certified, so proposing it now would cost
   * a round of nacks and a retry; it waits for that batch to end instead (see release).
   */
  private readonly waiting = new Map<string, SignedOp>()
  private readonly waitingIds = new Map<string, string>()
  private waitingBytes = 0

  constructor (private readonly timing: ProposerTiming, private readonly maxBatch: number, private readonly maxQueued: number, private readonly maxQueuedBytes = Infinity) {}

  /** Queues an op; false if the queue is full. An op already queued or in flight is accepted as is. */
  enqueue (op: SignedOp, now: number): boolean {
    const id = toHex(op.hash)
    if (this.queue.has(id) || this.inFlight.has(id) || this.waitingIds.has(id)) return true
    if (this.queue.size + this.inFlight.size + this.waiting.size >= this.maxQueued) return false
    if (this.queuedBytes + this.inFlightBytes + this.waitingBytes + op.bytes.length > this.maxQueuedBytes) return false
    this.queue.set(id, op)
    this.queuedAt.set(id, now)
    this.queuedBytes += op.bytes.length
    this.holdSlot(op, 1)
    return true
  }

  holds (opHash: Hash): boolean {
    const id = toHex(opHash)
    return this.queue.has(id) || this.inFlight.has(id) || this.waitingIds.has(id)
  }

  /**
   * When the oldest queued op was queued. The delay runs from it, not from the last close: a
   * steady trickle of submissions must not keep pushing a batch back.
   */
  private oldestQueuedAt (): number {
    const first = this.queuedAt.values().next()
    return first.done === true ? Infinity : first.value
  }

  /** Some op for this slot is queued or in flight here. */
  holdsSlot (account: Uint8Array, seq: number): boolean {
    return this.slots.has(slotKey(account, seq))
  }

  private holdSlot (op: SignedOp, by: 1 | -1): void {
    const key = slotKey(op.account, op.seq)
    const n = (this.slots.get(key) ?? 0) + by
    if (n > 0) this.slots.set(key, n)
    else this.slots.delete(key)
  }

  /** Batches proposed less than proposeRetry ago that no validator has put off: the pipeline. */
  private inPipeline (now: number): number {
    let n = 0
    for (const b of this.pending.values()) if (this.fresh(b, now)) n++
    return n
  }

  private fresh (b: PendingBatch, now: number): boolean {
    // the put-off half of a split batch starts over, but validators already refused its ops
    return now < b.openedAt + this.timing.proposeRetry && b.deferredBy.size === 0 && b.putOffSince === undefined
  }

  /** A batch too many validators put off: its ops no longer count as work on its way (see held). */
  private putOff (b: PendingBatch, since: number): void {
    if (b.putOffSince === undefined) this.putOffOps += b.ops.length
    b.putOffSince = since
  }

  /**
   * Batches to propose now: every full batch, and the rest once the oldest op has waited long
   * enough and the pipeline has room. `force` (a batch was just certified) sends all queued ops.
   */
  closeBatches (now: number, force = false): PendingBatch[] {
    const out: PendingBatch[] = []
    const full = (): boolean => this.queue.size >= this.maxBatch || this.queuedBytes >= MAX_BATCH_BYTES
    let room = force ? Infinity : this.timing.pipeline - this.inPipeline(now)
    // eslint-disable-next-line no-unmodified-loop-condition -- the loop ends as the queue drains, not through force
    while (full() || (this.queue.size > 0 && room > 0 && (force || now - this.oldestQueuedAt() >= this.timing.batchDelay))) {
      room--
      const ops: SignedOp[] = []
      let bytes = 0
      for (const [id, op] of this.queue) {
        const pred = slotKey(op.account, op.seq - 1)
        if (this.inFlightSlots.has(pred) || this.waiting.has(slotKey(op.account, op.seq - 2))) {
          if (!this.waiting.has(pred)) {
            this.unqueue(id, op)
            this.waiting.set(pred, op)
            this.waitingIds.set(id, pred)
            this.waitingBytes += op.bytes.length
            continue
          }
        }
        // a batch must fit in one message with its votes, whatever its ops weigh
        if (ops.length >= this.maxBatch || (ops.length > 0 && bytes + op.bytes.length > MAX_BATCH_BYTES)) break
        ops.push(op)
        bytes += op.bytes.length
        this.unqueue(id, op)
        this.holdSlot(op, -1)
      }
      // an account's ops in seq order: a validator admits an op after its predecessor in the
      // same batch only if it came first, and ops reach the API out of order under concurrency
      ops.sort((x, y) => x.seq - y.seq)
      if (ops.length > 0) out.push(this.open(ops, now))
    }
    return out
  }

  private unqueue (id: string, op: SignedOp): void {
    this.queue.delete(id)
    this.queuedAt.delete(id)
    this.queuedBytes -= op.bytes.length
  }

  /** The op at this slot left its pending batch: the ops waiting behind it are queued again. */
  private release (account: Uint8Array, seq: number, now: number): void {
    for (let key = slotKey(account, seq), op = this.waiting.get(key); op !== undefined; key = slotKey(account, op.seq), op = this.waiting.get(key)) {
      const id = toHex(op.hash)
      this.waiting.delete(key)
      this.waitingIds.delete(id)
      this.waitingBytes -= op.bytes.length
      this.queue.set(id, op)
      this.queuedAt.set(id, now)
      this.queuedBytes += op.bytes.length
    }
  }

  private open (ops: SignedOp[], now: number, retryDelay = this.timing.proposeRetry): PendingBatch {
    const digest = batchDigest(ops.map(o => o.hash))
    const batch: PendingBatch = { digest, id: toHex(digest), ops, votes: new Map(), deferredBy: new Map(), openedAt: now, nextRetryAt: now + retryDelay, retryDelay }
    this.pending.set(batch.id, batch)
    for (const op of ops) {
      this.inFlight.add(toHex(op.hash))
      this.inFlightSlots.add(slotKey(op.account, op.seq))
      this.inFlightBytes += op.bytes.length
      this.holdSlot(op, 1)
    }
    return batch
  }

  /**
   * A validator put off some of the batch's ops. Once too few validators are left for a quorum,
   * the batch splits so the other ops are not held hostage: returns the batch of the ops nobody
   * put off, to propose now, while the put-off ops wait in their own batch for the next retry.
   */
  deferred (id: string, voter: string, slots: ReadonlySet<string>, validators: number, quorum: number, now: number): PendingBatch | undefined {
    const batch = this.pending.get(id)
    if (batch === undefined || slots.size === 0) return undefined
    batch.deferredBy.set(voter, slots)
    if (validators - batch.deferredBy.size >= quorum) return undefined
    this.putOff(batch, batch.putOffSince ?? now)
    const off = new Set<string>()
    for (const s of batch.deferredBy.values()) for (const key of s) off.add(key)
    const rest = batch.ops.filter(op => !off.has(slotKey(op.account, op.seq)))
    const later = batch.ops.filter(op => off.has(slotKey(op.account, op.seq)))
    if (rest.length === 0 || later.length === 0) return undefined
    this.close(id, now)
    this.putOff(this.open(later, now, batch.retryDelay), batch.putOffSince!)
    return this.open(rest, now)
  }

  /**
   * The validator set changed: votes gathered so far count in an epoch that ended. Every pending
   * batch starts again (no votes, nothing put off) and is due for proposal now.
   */
  restartAll (now: number): void {
    for (const b of this.pending.values()) {
      b.votes.clear()
      b.deferredBy.clear()
      b.nextRetryAt = now
      b.retryDelay = this.timing.proposeRetry
    }
  }

  batch (id: string): PendingBatch | undefined {
    return this.pending.get(id)
  }

  /** Pending batches holding some op for the slot. */
  batchesAt (account: Uint8Array, seq: number): PendingBatch[] {
    if (!this.holdsSlot(account, seq)) return []
    return [...this.pending.values()].filter(b => b.ops.some(o => o.seq === seq && bytesEqual(o.account, account)))
  }

  /**
   * Ends a batch (certified, or abandoned); its ops leave the in-flight set and the ops waiting
   * behind them are queued (`now`: when they were released).
   */
  close (id: string, now = 0): PendingBatch | undefined {
    const batch = this.pending.get(id)
    if (batch === undefined) return undefined
    this.pending.delete(id)
    if (batch.putOffSince !== undefined) this.putOffOps -= batch.ops.length
    for (const op of batch.ops) {
      this.inFlight.delete(toHex(op.hash))
      this.inFlightSlots.delete(slotKey(op.account, op.seq))
      this.inFlightBytes -= op.bytes.length
      this.holdSlot(op, -1)
    }
    for (const op of batch.ops) this.release(op.account, op.seq, now)
    this.hurry(batch.ops, now)
    return batch
  }

  /**
   * Ops at these slots left their batch (certified, most often): a batch put off because it holds
   * their successors goes again now rather than at its backoff, which by then may be seconds. An
   * op that reached this node before its predecessor (concurrent requests) is put off once, and
   * every later op of its account waits behind it, so its retry paces the whole stream.
   */
  private hurry (closed: readonly SignedOp[], now: number): void {
    const after = closed.map(op => slotKey(op.account, op.seq + 1)).filter(key => this.inFlightSlots.has(key))
    if (after.length === 0) return
    const keys = new Set(after)
    for (const b of this.pending.values()) {
      if (b.deferredBy.size === 0 && b.putOffSince === undefined) continue
      if (!b.ops.some(op => keys.has(slotKey(op.account, op.seq)))) continue
      b.nextRetryAt = Math.min(b.nextRetryAt, now)
      b.retryDelay = this.timing.proposeRetry
    }
  }

  /** Abandons a batch and puts back the ops that `keep` accepts, to be proposed in a new batch. */
  requeue (id: string, keep: (op: SignedOp) => boolean, now: number): void {
    const batch = this.close(id, now)
    if (batch === undefined) return
    for (const op of batch.ops) if (keep(op)) this.enqueue(op, now)
  }

  /** Forgets a queued op (delivered through someone else's certificate, or dropped). */
  forget (opHash: Hash, now = 0): void {
    const id = toHex(opHash)
    const pred = this.waitingIds.get(id)
    if (pred !== undefined) {
      const op = this.waiting.get(pred)!
      this.waiting.delete(pred)
      this.waitingIds.delete(id)
      this.waitingBytes -= op.bytes.length
      this.holdSlot(op, -1)
      // what waited behind this op waits on nothing here any more
      this.release(op.account, op.seq, now)
      return
    }
    const op = this.queue.get(id)
    if (op === undefined) return
    this.unqueue(id, op)
    this.holdSlot(op, -1)
  }

  /**
   * Pending batches whose retry time has come; their next retry is pushed back (doubling). A
   * batch put off past `giveUpAfter` is closed instead: its ops leave this node.
   */
  due (now: number): PendingBatch[] {
    const out: PendingBatch[] = []
    for (const b of this.pending.values()) {
      if (now < b.nextRetryAt) continue
      if (b.putOffSince !== undefined && now - b.putOffSince >= this.timing.giveUpAfter) {
        this.close(b.id, now)
        continue
      }
      b.retryDelay = Math.min(b.retryDelay * 2, this.timing.maxRetry)
      b.nextRetryAt = now + b.retryDelay
      out.push(b)
    }
    return out
  }

  /**
   * When the next batch closes or the next resend is due (Infinity: nothing waits). With the
   * pipeline full the queue waits for a certificate, or for a batch to leave the pipeline at its
   * first resend.
   */
  nextDue (now: number): number {
    const open = this.queue.size > 0 && (this.queue.size >= this.maxBatch || this.inPipeline(now) < this.timing.pipeline)
    let at = open ? this.oldestQueuedAt() + this.timing.batchDelay : Infinity
    for (const b of this.pending.values()) {
      at = Math.min(at, b.nextRetryAt)
      // with the pipeline full, the queue goes when a batch leaves it, whenever its next resend is
      if (this.queue.size > 0 && this.fresh(b, now)) at = Math.min(at, b.openedAt + this.timing.proposeRetry)
    }
    return at
  }

  /** How long the oldest queued op has waited for a batch (0: none queued). */
  queueWait (now: number): number {
    const at = this.oldestQueuedAt()
    return at === Infinity ? 0 : Math.max(0, now - at)
  }

  /**
   * Ops on their way through this broadcaster: queued, or in a pending batch validators have not
   * put off. Put-off ops and those waiting behind them are left out: a client can park those here
   * (ops past a seq it never sends) until giveUpAfter, and must not make the node look saturated.
   */
  get inProgress (): number {
    return this.queue.size + this.inFlight.size - this.putOffOps
  }

  /** Ops queued or waiting for a predecessor's batch (not yet in a batch). */
  get queued (): number {
    return this.queue.size + this.waiting.size
  }

  get pendingBatches (): number {
    return this.pending.size
  }
}
