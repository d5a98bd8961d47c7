// The proposer's pipeline: at most `pipeline` batches wait for their first quorum; the rest of
// the queue waits for a certificate (a forced close) or for a batch to leave the pipeline.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp, slotKey } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Proposer } from '../../src/core/broadcast/proposer.js'
import { LocalNet } from '../support/localnet.js'

const timing = { batchDelay: 2, pipeline: 1, proposeRetry: 300, maxRetry: 4000, giveUpAfter: 120_000 }

/** First ops of `n` different accounts: none waits behind another. */
function firstOps (n: number): SignedOp[] {
  const net = new LocalNet({ accounts: n + 1 })
  return net.accounts.slice(0, n).map(a => signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[n]!.publicKey, amount: 1n } }))
}

describe('proposer pipeline', () => {
  test('with the pipeline full, queued ops wait and leave together once a batch is certified', () => {
    const [a, b, c] = firstOps(3)
    const p = new Proposer(timing, 1000, 1000)
    p.enqueue(a!, 0)
    const [first] = p.closeBatches(2)
    assert.equal(first?.ops.length, 1)
    p.enqueue(b!, 3)
    p.enqueue(c!, 4)
    assert.deepEqual(p.closeBatches(50), [], 'the pipeline holds one batch')
    assert.equal(p.nextDue(50), first!.nextRetryAt, 'the queue waits for the first batch, not batchDelay')
    p.close(first!.id, 60)
    const next = p.closeBatches(60, true)
    assert.equal(next.length, 1)
    assert.equal(next[0]!.ops.length, 2, 'both queued ops in one batch')
  })

  test('a batch leaves the pipeline at its first resend, so a stuck batch holds the queue back at most proposeRetry', () => {
    const [a, b] = firstOps(2)
    const p = new Proposer(timing, 1000, 1000)
    p.enqueue(a!, 0)
    p.closeBatches(2)
    p.enqueue(b!, 10)
    assert.deepEqual(p.closeBatches(301), [])
    const late = p.closeBatches(302)
    assert.equal(late.length, 1)
    assert.equal(late[0]!.ops[0], b)
  })

  test('a batch some validator put off leaves the pipeline at once', () => {
    const [a, b] = firstOps(2)
    const p = new Proposer(timing, 1000, 1000)
    p.enqueue(a!, 0)
    const [first] = p.closeBatches(2)
    p.enqueue(b!, 10)
    assert.deepEqual(p.closeBatches(20), [])
    p.deferred(first!.id, 'v1', new Set([slotKey(a!.account, a!.seq)]), 4, 3, 20)
    assert.equal(p.closeBatches(21).length, 1)
  })

  test('a full batch leaves whatever the pipeline holds', () => {
    const ops = firstOps(5)
    const p = new Proposer(timing, 2, 1000)
    p.enqueue(ops[0]!, 0)
    p.closeBatches(2)
    for (const op of ops.slice(1)) p.enqueue(op, 3)
    const out = p.closeBatches(3)
    assert.deepEqual(out.map(b => b.ops.length), [2, 2], 'full batches go; nothing is left over')
  })
})
