// Review of "Proposer: at most two batches wait for their first quorum at once".
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { LocalNet, seedOf } from '../support/localnet.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { sodiumScheme } from '../../src/native/sodium.js'

function firstOps (net: LocalNet, n: number): SignedOp[] {
  return net.accounts.slice(0, n).map(a => signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[n]!.publicKey, amount: 1n } }))
}

describe('pipeline', () => {
  test('a validator keeps at most `pipeline` (2) fresh batches: a plain tick must not flush the queue past it', () => {
    const net = new LocalNet({ accounts: 4 })
    const [a, b, c] = firstOps(net, 3)
    const r = net.replicas[0]! // a validator: votes
    assert.ok(r.votes)
    r.submit([a!.bytes], 0); r.tick(2) // batch 1
    r.submit([b!.bytes], 3); r.tick(5) // batch 2: the pipeline is full
    r.submit([c!.bytes], 6)
    assert.equal(r.counters().pendingBatches, 2)
    assert.equal(r.counters().queued, 1, 'c waits for a certificate or for a batch to leave the pipeline')
    // nothing was certified (no message was delivered), no batch is 300 ms old: c must still wait
    r.tick(20)
    assert.equal(r.counters().pendingBatches, 2, 'a third batch was proposed while two are fresh (reproposeStale closes with force)')
  })

  test('the same on an observer (no reproposeStale): the pipeline holds', () => {
    const net = new LocalNet({ accounts: 4 })
    const [a, b, c] = firstOps(net, 3)
    const r = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 0)) })
    assert.ok(!r.votes)
    r.submit([a!.bytes], 0); r.tick(2)
    r.submit([b!.bytes], 3); r.tick(5)
    r.submit([c!.bytes], 6)
    r.tick(20)
    assert.equal(r.counters().pendingBatches, 2)
  })
})

import { Proposer } from '../../src/core/broadcast/proposer.js'
import { slotKey } from '../../src/core/ledger/op.js'

describe('a split batch', () => {
  test('the put-off half of a split leaves no tick for the queue when it leaves the pipeline', () => {
    const net = new LocalNet({ accounts: 4 })
    const [x1, x2, z] = firstOps(net, 3)
    const timing = { batchDelay: 2, pipeline: 1, proposeRetry: 300, maxRetry: 4000, giveUpAfter: 120_000 }
    const p = new Proposer(timing, 1000, 1000)
    p.enqueue(x1!, 0); p.enqueue(x2!, 0)
    const [X] = p.closeBatches(2)
    // nobody answers for a while: resends back off to maxRetry
    let t = 2
    for (let i = 0; i < 4; i++) { t = X!.nextRetryAt; p.due(t) }
    assert.equal(X!.retryDelay, 4000)
    t += 10
    // two validators put off x1: no quorum is left for it, the batch splits
    p.deferred(X!.id, 'v1', new Set([slotKey(x1!.account, 1)]), 4, 3, t)
    const rest = p.deferred(X!.id, 'v2', new Set([slotKey(x1!.account, 1)]), 4, 3, t)
    assert.ok(rest !== undefined)
    // x2's new batch is abandoned (say a proof of equivocation came for another op in it): requeued
    p.requeue(rest.id, () => true, t + 1)
    p.enqueue(z!, t + 1)
    // the only pending batch holds ops every validator already put off; it counts as "fresh"
    // until t + 300, yet nextDue() asks for no tick until its resend at t + 4000
    const due = p.nextDue(t + 2)
    const freeAt = t + 300
    assert.ok(p.closeBatches(freeAt).length === 1, 'at t + 300 the queue may go')
    assert.ok(due <= freeAt, `the queue's next tick is ${due - t} ms after the split, the pipeline frees at +300`)
  })
})
