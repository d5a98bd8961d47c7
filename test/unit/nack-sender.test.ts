// Review finding: a nack's `voter` is not signed, so one Byzantine validator (or any peer that
// sees a proposal) can put off ops in the name of other validators and split every honest batch
// down to one op per retry round: an honest batch held hostage (docs/protocol.md §7, §13).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { batchDigest, decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import { LocalNet } from '../support/localnet.js'

function transfer (net: LocalNet, from: number, to: number): SignedOp {
  const a = net.accounts[from]!
  return signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[to]!.publicKey, amount: 1n } })
}

/** Runs the wire; validator 3 answers every proposal it sees with forged nacks. */
function runWithForger (net: LocalNet, forge: boolean): void {
  const anyNet = net as unknown as { wire: Array<{ from: number, to: number, bytes: Uint8Array }> }
  while (anyNet.wire.length > 0) {
    const batch = anyNet.wire
    anyNet.wire = []
    for (const m of batch) {
      // the forger sees every proposal sent to it, and (running honest code for the rest) its own
      if (forge && (m.to === 3 || (m.from === 3 && m.to === 0))) {
        const msg = decodeMessage(m.bytes)
        if (msg.type === 'propose' && msg.ops.length > 1) {
          const decoded = msg.ops.map(b => net.replicas[0]!['decodeBatch']([b])[0]!)
          const digest = batchDigest(decoded.map(o => o.hash))
          // put off every op but the first, in the name of validators 1 (honest) and 3 (us)
          const deferred = decoded.slice(1).map(o => ({ account: o.account, seq: o.seq }))
          for (const voter of [1, 3]) {
            const nack = encodeMessage({ type: 'nack', digest, voter: net.validatorKeys[voter]!.publicKey, conflicts: [], deferred })
            net.inject(net.replicas[3]!.id, m.from, nack)
          }
        }
      }
      const res = net.replicas[m.to]!.receive(net.replicas[m.from]!.id, m.bytes, net.now)
      net.execute(m.to, res.actions)
    }
  }
}

function timeToDeliver (forge: boolean, ops: number): number {
  const net = new LocalNet({ accounts: ops + 1 })
  const batch = Array.from({ length: ops }, (_, i) => transfer(net, i + 1, 0))
  const start = net.now
  net.submit(0, batch)
  for (let t = 0; t < 20_000; t++) {
    runWithForger(net, forge)
    if (net.replicas.every(r => batch.every(op => r.ledger.nextSeq(op.account) === 2))) return net.now - start
    net.tick(10)
  }
  return Infinity
}

describe('review: forged nacks', () => {
  test('one Byzantine validator cannot hold an honest batch hostage with nacks signed by nobody', () => {
    const honest = timeToDeliver(false, 16)
    const attacked = timeToDeliver(true, 16)
    console.log(`16 ops from 16 funded accounts: delivered everywhere after ${honest} ms without the forger, ${attacked} ms with it`)
    // an honest batch should not be delayed by more than a few retry rounds
    assert.ok(attacked <= honest + 2 * 300, `an honest batch of 16 ops took ${attacked} ms under forged nacks (vs ${honest} ms)`)
  })

  test('a nack that names a validator as voter is rejected unless that validator sent it', () => {
    const net = new LocalNet()
    const op1 = transfer(net, 1, 0)
    const op2 = transfer(net, 2, 0)
    net.submit(0, [op1, op2])
    net.tick(5) // the batch closes and is pending at node 0
    const digest = batchDigest([op1.hash, op2.hash])
    // a peer that is not validator 1 claims to be validator 1
    const res = net.inject('sybil-peer', 0, encodeMessage({ type: 'nack', digest, voter: net.validatorKeys[1]!.publicKey, conflicts: [], deferred: [{ account: op2.account, seq: 1 }] }))
    assert.equal(res.verdict, 'reject', 'a nack from a sybil peer speaking for validator 1 was accepted')
  })
})
