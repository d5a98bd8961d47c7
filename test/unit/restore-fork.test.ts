// Review: a validator restarted from a checkpoint shares objects between its live ledger and its
// keeper's base; it keeps delivering and certifying, and every later checkpoint rebuilds exactly.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { rebuildCheckpoint } from '../../src/core/checkpoint/joiner.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet } from '../support/localnet.js'

function transfers (net: LocalNet, from: number, to: number): SignedOp[] {
  const ops: SignedOp[] = []
  for (let seq = from; seq <= to; seq++) {
    net.accounts.forEach((a, i) => {
      ops.push(signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[(i + 1) % net.accounts.length]!.publicKey, amount: 1n } }))
    })
  }
  return ops
}

describe('restore from a checkpoint, then keep checkpointing', () => {
  test('roots and snapshots stay right on the restarted validator', () => {
    const net = new LocalNet({ validators: 4, accounts: 5, balance: 1000n, replica: { checkpoints: { interval: 10, retain: 0 } } })
    const send = (ops: SignedOp[]): void => { ops.forEach((op, k) => { net.submit(k % 4, [op]); if (k % 7 === 0) net.settle(2) }); net.settle(40) }
    send(transfers(net, 1, 8))
    const cp = net.replicas[3]!.latestCheckpoint()!
    assert.ok(cp !== undefined)
    const from = rebuildCheckpoint(net.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks)
    const old = net.replicas[3]!
    const fresh = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[3]!, checkpoints: { interval: 10, retain: 0 } })
    fresh.restore(net.disks[3]!.filter(r => !old.prunable(r)), net.now, from)
    ;(net.replicas as Replica[])[3] = fresh
    send(transfers(net, 9, 20))
    assert.equal(new Set(net.stateHashes()).size, 1)
    const later = fresh.latestCheckpoint()!
    assert.ok(later.msg.height > cp.msg.height, `new checkpoint ${later.msg.height} > ${cp.msg.height}`)
    for (const r of net.replicas) {
      const c = r.latestCheckpoint()!
      const rebuilt = rebuildCheckpoint(net.genesis, c.bytes, c.snapshot.manifestBytes, c.snapshot.chunks)
      assert.equal(toHex(rebuilt.ledger.stateHash()), toHex(c.msg.root))
    }
    assert.equal(fresh.ledger.totalHeld(), fresh.ledger.totalSupply())
  })
})
