// Paths around SecureBroadcast that one Byzantine validator and a few throwaway peers attacked
// (issue 9): a validator restarted from an older checkpoint would vote again for slots it had
// delivered, relayed checkpoints with another base, and certificates without votes whose ops
// filled memory. Each test states the property that now holds.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { encodeMessage } from '../../src/core/broadcast/messages.js'
import { rebuildCheckpoint } from '../../src/core/checkpoint/joiner.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

function transfers (net: LocalNet, fromSeq: number, toSeq: number): SignedOp[] {
  const ops: SignedOp[] = []
  for (let seq = fromSeq; seq <= toSeq; seq++) {
    net.accounts.forEach((a, i) => {
      ops.push(signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[(i + 1) % net.accounts.length]!.publicKey, amount: 1n } }))
    })
  }
  return ops
}

describe('a validator never goes back to an older checkpoint', () => {
  const net = new LocalNet({ validators: 4, accounts: 4, balance: 1000n, replica: { checkpoints: { interval: 8, retain: 0 } } })
  transfers(net, 1, 12).forEach((op, k) => { net.submit(k % 4, [op]); if (k % 5 === 0) net.settle(2) })
  net.settle(40)
  const certified = net.certified[0]!
  const older = certified[0]!
  const latest = certified[certified.length - 1]!
  const restored = (cp: typeof older): Replica => {
    const r = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[0]! })
    r.restore([], 0, rebuildCheckpoint(net.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks))
    return r
  }
  // a slot delivered after the older cut but before the latest one, and another op for it
  const account = net.accounts[0]!
  const seq = restored(older).ledger.nextSeq(account.publicKey)
  const conflicting = signOp(account, net.networkId, { account: account.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[2]!.publicKey, amount: 7n } })

  test('two checkpoints were certified, the later past the slot', () => {
    assert.ok(certified.length >= 2, `${certified.length} checkpoints`)
    assert.ok(restored(latest).ledger.nextSeq(account.publicKey) > seq)
  })

  test('from its latest checkpoint it refuses the conflicting op; from the older one it would vote: so it never installs the older one', () => {
    const fromLatest = restored(latest).receive(net.replicas[1]!.id, encodeMessage({ type: 'propose', ops: [conflicting.bytes] }), 1)
    assert.deepEqual(fromLatest.actions.map(a => a.type), ['send'])
    assert.equal(fromLatest.actions[0]!.type === 'send' && fromLatest.actions[0]!.kind, 'nack')
    const fromOlder = restored(older).receive(net.replicas[1]!.id, encodeMessage({ type: 'propose', ops: [conflicting.bytes] }), 1)
    assert.deepEqual(fromOlder.actions.map(a => a.type), ['persist', 'send'])
    // the guard the node and the simulator apply before any install
    const atOlder = rebuildCheckpoint(net.genesis, older.bytes, older.snapshot.manifestBytes, older.snapshot.chunks)
    assert.match(net.replicas[0]!.cannotInstall(older.msg.height, atOlder.ledger) ?? '', /not above the base|behind the base/)
    const atLatest = rebuildCheckpoint(net.genesis, latest.bytes, latest.snapshot.manifestBytes, latest.snapshot.chunks)
    assert.equal(new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[0]! }).cannotInstall(latest.msg.height, atLatest.ledger), undefined)
  })

  test('a relayed checkpoint with another base height does not carry its signatures', () => {
    const observer = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 3)) })
    const rebased = encodeMessage({ ...older.msg, baseHeight: older.msg.baseHeight + 1 < older.msg.height ? older.msg.baseHeight + 1 : 0 })
    const res = observer.receive('relay', rebased, 0)
    assert.equal(res.verdict, 'reject')
    assert.equal(res.actions.length, 0)
    // the genuine one is still taken afterwards
    assert.equal(observer.receive('peer', older.bytes, 1).verdict, 'accept')
  })
})

describe('memory under hostile certificates', () => {
  test('ops of certificates without a quorum are never kept, however large and many', () => {
    const net = new LocalNet({ validators: 4, accounts: 1 })
    const victim = net.replicas[0]!
    const attacker = signerFrom(sodiumScheme, seedOf('attacker', 0))
    const code = `(defun f () ${'(+ 1 1) '.repeat(7000)})`
    for (let c = 0; c < 20; c++) {
      const ops = Array.from({ length: 20 }, (_, i) => signOp(attacker, net.networkId, { account: attacker.publicKey, seq: c * 20 + i + 1, deps: [], body: { kind: 'deploy', code, args: [], sequencer: null, gasLimit: 1000 } }).bytes)
      const res = victim.receive('sybil', encodeMessage({ type: 'certified', ops, votes: [] }), c)
      assert.equal(res.verdict, 'reject')
    }
    assert.equal(victim.status().decodedBytes, 0)
    assert.equal(victim.status().buffered, 0)
  })
})
