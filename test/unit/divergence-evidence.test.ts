// Proofs that a validator voted twice travel: the node that found one keeps it on disk and passes
// it on; every other node verifies it before keeping it (one per validator), keeps it across a
// restart, and lists it. A forged record is refused and kept nowhere.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { Domain, signFor } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { batchDigest, encodeMessage } from '../../src/core/broadcast/messages.js'
import { decodeVoteEvidence, encodeVoteEvidence } from '../../src/core/broadcast/evidence.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet } from '../support/localnet.js'

const transfer = (net: LocalNet, amount: bigint): SignedOp => {
  const a = net.accounts[0]!
  return signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount } })
}

const vote = (net: LocalNet, i: number, ops: SignedOp[]): Uint8Array =>
  signFor(net.validatorKeys[i]!, Domain.vote, net.networkId, batchDigest(ops.map(o => o.hash)))

describe('vote evidence gossip', () => {
  const net = new LocalNet()
  const x = transfer(net, 7n)
  const y = transfer(net, 9n)
  const v3 = net.validatorKeys[3]!
  // node 0 proposes y; validator 3 votes for it, and for x in a certificate with validators 1 and 2
  net.replicas[0]!.submit([y.bytes], 0)
  net.replicas[0]!.tick(10)
  net.replicas[0]!.receive(toHex(v3.publicKey), encodeMessage({ type: 'vote', digest: batchDigest([y.hash]), voter: v3.publicKey, sig: vote(net, 3, [y]) }), 11)
  const certX = encodeMessage({ type: 'certified', ops: [x.bytes], votes: [1, 2, 3].map(i => ({ voter: net.validatorKeys[i]!.publicKey, sig: vote(net, i, [x]) })) })
  const found = net.inject('a-peer', 0, certX)
  net.run()

  test('the finder persists the proof and passes it on; every node verifies and keeps it', () => {
    assert.ok(found.actions.some(a => a.type === 'persist' && a.record.kind === 'vote-evidence'))
    assert.ok(found.actions.some(a => a.type === 'broadcast' && a.kind === 'evidence'))
    for (let i = 0; i < 4; i++) {
      const held = net.replicas[i]!.validatorEvidence()
      assert.equal(held.length, 1, `node ${i} holds the proof`)
      assert.equal(toHex(held[0]!.voter), toHex(v3.publicKey))
      assert.equal(net.disks[i]!.filter(r => r.kind === 'vote-evidence').length, 1, `node ${i} keeps it on disk`)
    }
  })

  test('one record per validator: a second proof against it is ignored and not passed on', () => {
    const again = net.inject(net.replicas[0]!.id, 1, encodeVoteEvidence(net.replicas[0]!.validatorEvidence()[0]!))
    assert.equal(again.verdict, 'ignore')
    assert.equal(again.actions.length, 0)
  })

  test('a record that does not verify is refused and kept nowhere', () => {
    const ev = net.replicas[0]!.validatorEvidence()[0]!
    const fresh = new LocalNet()
    const forged = encodeVoteEvidence({ ...ev, voter: net.validatorKeys[1]!.publicKey })
    const res = fresh.inject(fresh.replicas[0]!.id, 1, forged)
    assert.equal(res.verdict, 'reject')
    assert.match(res.reason ?? '', /does not verify/)
    assert.equal(fresh.replicas[1]!.validatorEvidence().length, 0)
    // the genuine one is taken by a node that never saw the votes
    assert.equal(fresh.inject(fresh.replicas[0]!.id, 2, encodeVoteEvidence(ev)).verdict, 'accept')
    assert.equal(fresh.replicas[2]!.validatorEvidence().length, 1)
  })

  test('the proof survives a restart, and round-trips through its encoding', () => {
    const again = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[2]! })
    again.restore(net.disks[2]!, 100)
    assert.equal(again.validatorEvidence().length, 1)
    const ev = again.validatorEvidence()[0]!
    assert.deepEqual(decodeVoteEvidence(encodeVoteEvidence(ev)), ev)
  })
})
