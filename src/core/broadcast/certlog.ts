// The certificate log: every certificate this node accepted, and for each delivered slot the op
// hash and the certificate that carried it. It answers "what was delivered at this slot" (for
// binding checks and conflict evidence) and serves certificates to peers that are behind.
// Behind a certified checkpoint it forgets slots, and certificates no kept slot refers to.

import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { accountKey, slotKey } from '../ledger/op.js'
import { decodeOp } from '../ledger/op.js'
import type { SignedOp } from '../ledger/op.js'
import { decodeMessage } from './messages.js'

interface DeliveredSlot {
  readonly hash: Hash
  readonly cert: string
}

export class CertificateLog {
  private readonly certs = new Map<string, Uint8Array>()
  private readonly slots = new Map<string, DeliveredSlot>()
  /**
   * The slots each certificate carries: it may go once all of them are pruned. `passed` counts
   * the leading slots known pruned: floors only rise, so each slot is checked past once, and a
   * certificate of n ops pruned one account at a time costs O(n), not O(n^2).
   */
  private readonly carries = new Map<string, { readonly slots: ReadonlyArray<readonly [string, number]>, passed: number }>()
  /** Per account (hex), the last seq pruned. */
  private readonly floor = new Map<string, number>()

  hasCertificate (digest: string): boolean {
    return this.certs.has(digest)
  }

  addCertificate (digest: string, bytes: Uint8Array, ops: readonly SignedOp[]): void {
    this.certs.set(digest, bytes)
    this.carries.set(digest, { slots: ops.map(op => [accountKey(op.account), op.seq] as const), passed: 0 })
  }

  certificate (digest: string): Uint8Array | undefined {
    return this.certs.get(digest)
  }

  recordDelivery (op: SignedOp, cert: string): void {
    this.slots.set(slotKey(op.account, op.seq), { hash: op.hash, cert })
  }

  /** Forgets the account's slots fromSeq..toSeq, and certificates left without a slot. */
  prune (account: Uint8Array, fromSeq: number, toSeq: number): void {
    const id = accountKey(account)
    this.floor.set(id, Math.max(toSeq, this.floor.get(id) ?? 0))
    for (let seq = fromSeq; seq <= toSeq; seq++) {
      const key = slotKey(account, seq)
      const slot = this.slots.get(key)
      if (slot === undefined) continue
      this.slots.delete(key)
      // a certificate may also carry ops still waiting or kept: it goes with its last one
      const carried = this.carries.get(slot.cert)
      if (carried !== undefined) {
        const all = carried.slots
        while (carried.passed < all.length && all[carried.passed]![1] <= (this.floor.get(all[carried.passed]![0]) ?? 0)) carried.passed++
      }
      if (carried === undefined || carried.passed === carried.slots.length) {
        this.carries.delete(slot.cert)
        this.certs.delete(slot.cert)
      }
    }
  }

  /** The certificate that carried the op delivered at a slot, while it is kept. */
  deliveredCertificate (account: Uint8Array, seq: number): Uint8Array | undefined {
    const slot = this.slots.get(slotKey(account, seq))
    return slot === undefined ? undefined : this.certs.get(slot.cert)
  }

  deliveredHash (account: Uint8Array, seq: number): Hash | undefined {
    return this.slots.get(slotKey(account, seq))?.hash
  }

  /** The delivered op at a slot, read back out of its certificate (rare: conflict evidence). */
  deliveredOp (account: Uint8Array, seq: number): SignedOp | undefined {
    const slot = this.slots.get(slotKey(account, seq))
    if (slot === undefined) return undefined
    const bytes = this.certs.get(slot.cert)
    if (bytes === undefined) return undefined
    const msg = decodeMessage(bytes)
    if (msg.type !== 'certified') return undefined
    const want = toHex(slot.hash)
    for (const opBytes of msg.ops) {
      const op = decodeOp(opBytes)
      if (toHex(op.hash) === want) return op
    }
    return undefined
  }

  /** Distinct certificates covering delivered slots [fromSeq, toSeq] of an account, at most `limit`. */
  certificatesFor (account: Uint8Array, fromSeq: number, toSeq: number, limit: number): Uint8Array[] {
    const seen = new Set<string>()
    const out: Uint8Array[] = []
    for (let seq = fromSeq; seq <= toSeq && out.length < limit; seq++) {
      const slot = this.slots.get(slotKey(account, seq))
      if (slot === undefined) break
      if (seen.has(slot.cert)) continue
      seen.add(slot.cert)
      const bytes = this.certs.get(slot.cert)
      if (bytes !== undefined) out.push(bytes)
    }
    return out
  }

  get certificateCount (): number {
    return this.certs.size
  }
}
