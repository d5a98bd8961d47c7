// The delivery buffer: certified ops wait here until their stream predecessor (account, seq-1) and
// every dep are delivered. Each waiting op is indexed under the one slot it is blocked on, so a
// delivery wakes exactly the ops that were waiting for it. Bounded: a full buffer drops new ops,
// which anti-entropy and fetches bring back later. The slots waiting ops need but that are not
// here are kept in fetch order, so a tick reads only the ones due, however many ops wait.

import { slotKey } from '../ledger/op.js'
import type { SignedOp, Slot } from '../ledger/op.js'

export interface Waiting {
  readonly op: SignedOp
  /** Digest of the certificate it arrived in. */
  readonly cert: string
}

export interface StreamPositions {
  nextSeq (account: Uint8Array): number
}

export class DeliveryBuffer {
  private readonly waiting = new Map<string, Waiting>()
  private readonly blockedOn = new Map<string, { slot: Slot, ops: Set<string> }>()
  private ready: Waiting[] = []
  private readyAt = 0
  /** Missing slots never fetched, then missing slots by the time of their last fetch (oldest first). */
  private readonly unfetched = new Map<string, Slot>()
  private readonly fetched = new Map<string, { readonly slot: Slot, readonly at: number }>()

  /** Bytes of the ops waiting: the buffer is bounded in bytes as well as in ops. */
  private bytes = 0

  constructor (private readonly capacity: number, private readonly capacityBytes = Infinity) {}

  /** Another op that has to wait would be taken. */
  get hasRoom (): boolean {
    return this.waiting.size < this.capacity && this.bytes < this.capacityBytes
  }

  has (account: Uint8Array, seq: number): boolean {
    return this.waiting.has(slotKey(account, seq))
  }

  get size (): number {
    return this.waiting.size
  }

  /**
   * Returns false when the slot already waits, or the buffer is full and the op would have to
   * wait. An op deliverable right now is always taken: it is what a full buffer is waiting for.
   */
  add (w: Waiting, streams: StreamPositions): boolean {
    const key = slotKey(w.op.account, w.op.seq)
    if (this.waiting.has(key)) return false
    const full = this.waiting.size >= this.capacity || this.bytes + w.op.bytes.length > this.capacityBytes
    if (full && firstUndelivered(w.op, streams) !== undefined) return false
    this.waiting.set(key, w)
    this.bytes += w.op.bytes.length
    this.unfetched.delete(key)
    this.fetched.delete(key)
    this.place(key, w, streams)
    return true
  }

  /** Removes and returns the next op whose predecessors are all delivered. */
  next (): Waiting | undefined {
    if (this.readyAt >= this.ready.length) {
      if (this.ready.length > 0) { this.ready = []; this.readyAt = 0 }
      return undefined
    }
    const w = this.ready[this.readyAt++]!
    this.waiting.delete(slotKey(w.op.account, w.op.seq))
    this.bytes -= w.op.bytes.length
    return w
  }

  /** Called after (account, seq) is delivered: re-examines the ops that waited for it. */
  delivered (account: Uint8Array, seq: number, streams: StreamPositions): void {
    const key = slotKey(account, seq)
    const blocked = this.blockedOn.get(key)
    this.unfetched.delete(key)
    this.fetched.delete(key)
    if (blocked === undefined) return
    this.blockedOn.delete(key)
    for (const opKey of blocked.ops) {
      const w = this.waiting.get(opKey)
      if (w !== undefined) this.place(opKey, w, streams)
    }
  }

  /**
   * Up to `limit` slots that waiting ops need, that are not here themselves and were not fetched
   * in the last `retry` ms: what to fetch from peers now. Each one returned counts as fetched now.
   */
  dueFetches (now: number, retry: number, limit: number): Slot[] {
    const due: Array<[string, Slot]> = []
    for (const [key, slot] of this.unfetched) {
      if (due.length >= limit) break
      due.push([key, slot])
    }
    for (const [key, f] of this.fetched) {
      if (due.length >= limit || now - f.at < retry) break
      due.push([key, f.slot])
    }
    for (const [key, slot] of due) {
      this.unfetched.delete(key)
      this.fetched.delete(key)
      this.fetched.set(key, { slot, at: now })
    }
    return due.map(([, slot]) => slot)
  }

  /** When the next fetch is due (Infinity: nothing is missing). */
  nextFetchAt (retry: number): number {
    if (this.unfetched.size > 0) return 0
    const oldest = this.fetched.values().next()
    return oldest.done === true ? Infinity : oldest.value.at + retry
  }

  private place (opKey: string, w: Waiting, streams: StreamPositions): void {
    const blocker = firstUndelivered(w.op, streams)
    if (blocker === undefined) {
      this.ready.push(w)
      return
    }
    const key = slotKey(blocker.account, blocker.seq)
    let b = this.blockedOn.get(key)
    if (b === undefined) {
      b = { slot: blocker, ops: new Set() }
      this.blockedOn.set(key, b)
      if (!this.waiting.has(key)) this.unfetched.set(key, blocker)
    }
    b.ops.add(opKey)
  }
}

function firstUndelivered (op: SignedOp, streams: StreamPositions): Slot | undefined {
  if (streams.nextSeq(op.account) < op.seq) return { account: op.account, seq: op.seq - 1 }
  for (const dep of op.deps) if (streams.nextSeq(dep.account) <= dep.seq) return dep
  return undefined
}
