// Slot bindings: a validator's promise never to sign two different ops for one (account, seq).
// A binding is made before the vote that relies on it and persisted before that vote is sent,
// so the promise survives restarts. Bindings also let a validator re-propose ops whose
// broadcaster vanished: it holds every op it voted for until that op is certified.

import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { bytesEqual } from '../codec/canonical.js'
import { slotKey } from '../ledger/op.js'
import type { SignedOp } from '../ledger/op.js'

export interface Binding {
  readonly op: SignedOp
  /** When it was bound or last re-proposed: the next re-proposal waits from here. */
  since: number
  /** A certificate for this op has been seen: no need to re-propose it. */
  certified: boolean
}

export type BindResult =
  | { readonly kind: 'new' }
  | { readonly kind: 'same' }
  | { readonly kind: 'conflict', readonly bound: SignedOp }

export class SlotBindings {
  private readonly bySlot = new Map<string, Binding>()
  /**
   * Uncertified bindings in the order of `since` (times only grow, and a touched binding moves to
   * the end), so finding the stale ones reads only those, not every binding: per-tick work stays
   * proportional to what is due however many slots an account left bound.
   */
  private readonly uncertified = new Map<string, Binding>()

  check (op: SignedOp): BindResult {
    const b = this.bySlot.get(slotKey(op.account, op.seq))
    if (b === undefined) return { kind: 'new' }
    return bytesEqual(b.op.hash, op.hash) ? { kind: 'same' } : { kind: 'conflict', bound: b.op }
  }

  /** Records a binding; the caller has checked there is no conflicting one. */
  bind (op: SignedOp, now: number): void {
    const key = slotKey(op.account, op.seq)
    if (this.bySlot.has(key)) return
    const b = { op, since: now, certified: false }
    this.bySlot.set(key, b)
    this.uncertified.set(key, b)
  }

  markCertified (op: SignedOp): void {
    const key = slotKey(op.account, op.seq)
    const b = this.bySlot.get(key)
    if (b === undefined || !bytesEqual(b.op.hash, op.hash)) return
    b.certified = true
    this.uncertified.delete(key)
  }

  /** The op bound at this slot has been seen certified here. */
  certifiedAt (account: Uint8Array, seq: number): boolean {
    return this.bySlot.get(slotKey(account, seq))?.certified === true
  }

  /** Once a slot is delivered the delivered op itself is the binding; this one can go. */
  release (account: Uint8Array, seq: number): void {
    const key = slotKey(account, seq)
    this.bySlot.delete(key)
    this.uncertified.delete(key)
  }

  /**
   * Up to `limit` bound ops not certified within `after` ms of binding or of their last return
   * from here: candidates for re-proposal. Each one returned counts as re-proposed now.
   */
  stale (now: number, after: number, limit: number): Binding[] {
    const out: Binding[] = []
    for (const [key, b] of this.uncertified) {
      if (out.length >= limit || now - b.since < after) break
      out.push(b)
      this.uncertified.delete(key)
    }
    for (const b of out) {
      b.since = now
      this.uncertified.set(slotKey(b.op.account, b.op.seq), b)
    }
    return out
  }

  /** When the oldest uncertified binding becomes stale (Infinity: none). */
  nextStaleAt (after: number): number {
    const oldest = this.uncertified.values().next()
    return oldest.done === true ? Infinity : oldest.value.since + after
  }

  /** Every op bound here and not delivered yet: what a validator hands to the next epoch's set. */
  * ops (): IterableIterator<SignedOp> {
    for (const b of this.bySlot.values()) yield b.op
  }

  hashAt (key: string): Hash | undefined {
    return this.bySlot.get(key)?.op.hash
  }

  get size (): number {
    return this.bySlot.size
  }

  /** For logs and tests. */
  describe (): string[] {
    return [...this.bySlot.entries()].map(([k, b]) => `${k}=${toHex(b.op.hash).slice(0, 12)}`)
  }
}
