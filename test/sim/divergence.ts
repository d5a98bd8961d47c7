// A test-only fault for the simulator: one honest validator's stored state is damaged (an op of a
// certificate on its disk swapped for another op its account signed for the same slot, as disk
// damage or a bug would; records from disk are not verified again) and it restarts from it. Its
// state then differs from the network's at the next certified checkpoint: it must halt there.

import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import type { PersistRecord } from '../../src/core/broadcast/actions.js'
import type { ReplicatedAlgorithm } from '../../src/core/algorithm/algorithm.js'
import { decodeOp, signOp, slotKey } from '../../src/core/ledger/op.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'

/**
 * Swaps, in every stored certificate, the op at the lowest delivered slot past the node's base of
 * a transfer of `amount` >= 2 by one of `wallets` for the same transfer of one less. Returns the
 * damaged disk and the slot, or undefined when no such op is stored yet.
 */
export function damageDisk (disk: readonly PersistRecord[], base: ReplicatedAlgorithm, wallets: readonly Signer[], networkId: Uint8Array): { disk: PersistRecord[], slot: string } | undefined {
  const keys = new Map(wallets.map(w => [toHex(w.publicKey), w]))
  let target: { slot: string, seq: number, bytes: Uint8Array, swapped: Uint8Array } | undefined
  for (const r of disk) {
    if (r.kind !== 'certificate') continue
    const m = decodeMessage(r.bytes)
    if (m.type !== 'certified') continue
    for (const bytes of m.ops) {
      const op = decodeOp(bytes)
      const signer = keys.get(toHex(op.account))
      if (signer === undefined || op.body.kind !== 'transfer' || op.body.amount < 2n || op.seq < base.nextSeq(op.account)) continue
      if (target !== undefined && target.seq <= op.seq) continue
      const swapped = signOp(signer, networkId, { account: op.account, seq: op.seq, deps: op.deps, body: { ...op.body, amount: op.body.amount - 1n } }).bytes
      target = { slot: slotKey(op.account, op.seq), seq: op.seq, bytes, swapped }
    }
  }
  if (target === undefined) return undefined
  const t = target
  const damaged = disk.map(r => {
    if (r.kind !== 'certificate') return r
    const m = decodeMessage(r.bytes)
    if (m.type !== 'certified' || !m.ops.some(b => toHex(b) === toHex(t.bytes))) return r
    return { kind: 'certificate' as const, bytes: encodeMessage({ ...m, ops: m.ops.map(b => (toHex(b) === toHex(t.bytes) ? t.swapped : b)) }) }
  })
  return { disk: damaged, slot: t.slot }
}
