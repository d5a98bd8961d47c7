// Review finding: submitOne checks that the account holds value only for op.seq === next. Ops from a
// key nobody paid at seq 2, 3, ... pass (no dep, within the bind window), are queued and proposed;
// every validator puts them off (predecessor not certified), so their batch is never certified,
// never split (nothing left to split off) and never closed: it is resent with backoff for ever and
// counts against maxQueuedOps / maxQueuedBytes. A client with no funds fills any node's broadcaster
// and every honest submission there is answered 'busy'.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { LocalNet, seedOf } from '../support/localnet.js'

describe('review: broadcaster queue held by unpaid keys', () => {
  test('ops from a key that holds nothing do not stay in a broadcaster\'s queue and lock honest clients out', () => {
    const maxQueuedOps = 2000
    const net = new LocalNet({ replica: { limits: { maxQueuedOps } } })
    const junk = signerFrom(net.scheme, seedOf('unpaid', 0))
    const to = net.accounts[0]!.publicKey
    const ops = []
    for (let seq = 2; seq < 1024; seq++) ops.push(signOp(junk, net.networkId, { account: junk.publicKey, seq, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    const junk2 = signerFrom(net.scheme, seedOf('unpaid', 1))
    for (let seq = 2; seq < 1024; seq++) ops.push(signOp(junk2, net.networkId, { account: junk2.publicKey, seq, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    const statuses = net.submit(0, ops).results.map(r => r.status)
    console.log('unpaid ops at seq >= 2:', statuses.filter(s => s === 'queued').length, 'queued of', ops.length)
    // ten simulated minutes
    for (let i = 0; i < 600; i++) { net.tick(1000); net.run() }
    const st = net.replicas[0]!.status()
    console.log(`after 10 min: queued ${st.queued}, pending batches ${st.pendingBatches}, bindings at validators ${net.replicas.map(r => r.status().bindings).join(',')}`)
    const a = net.accounts[1]!
    const honest = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to, amount: 1n } })
    const res = net.submit(0, [honest]).results[0]!
    assert.equal(res.status, 'queued', `an honest, funded op is refused: ${JSON.stringify(res)}`)
  })

  test('a funded account\'s ops past a gap it never fills leave the queue after giveUpAfter', () => {
    const giveUpAfter = 60_000
    const net = new LocalNet({ replica: { timing: { giveUpAfter } } })
    const a = net.accounts[2]!
    const to = net.accounts[0]!.publicKey
    // seq 1 is never sent: every validator puts seq 2.. off, for ever
    const ops = []
    for (let seq = 2; seq < 50; seq++) ops.push(signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    assert.ok(net.submit(0, ops).results.every(r => r.status === 'queued'))
    for (let i = 0; i < 30; i++) { net.tick(1000); net.run() }
    assert.ok(net.replicas[0]!.status().pendingBatches > 0, 'the put-off batch waits a while (a dep may yet come)')
    for (let i = 0; i < 60; i++) { net.tick(1000); net.run() }
    const st = net.replicas[0]!.status()
    assert.equal(st.pendingBatches, 0, 'the batch was given up')
    assert.equal(st.queued, 0)
    // and the account can still go on from its real next seq
    const first = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to, amount: 1n } })
    assert.equal(net.submit(0, [first]).results[0]!.status, 'queued')
    for (let i = 0; i < 5; i++) { net.tick(100); net.run() }
    assert.equal(net.replicas[1]!.ledger.nextSeq(a.publicKey), 2)
  })
})
