// Review: ops waiting behind a predecessor's pending batch (proposer.ts `waiting`).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Proposer } from '../../src/core/broadcast/proposer.js'
import { PROPOSER_TIMING, opChain } from '../support/op-chain.js'

const timing = PROPOSER_TIMING

const chain = opChain

describe('proposer: ops waiting behind an in-flight predecessor', () => {
  test('s+2 waiting behind a waiting s+1 is stranded when s+1 is forgotten (delivered via another certificate)', () => {
    const [s1, s2, s3] = chain(3)
    const p = new Proposer(timing, 1000, 1000)
    p.enqueue(s1!, 0)
    const [b1] = p.closeBatches(0, true)
    assert.equal(b1!.ops.length, 1)
    p.enqueue(s2!, 1); p.enqueue(s3!, 1)
    assert.deepEqual(p.closeBatches(10, true), [], 'seq 2 and 3 wait behind seq 1')
    // someone else's certificate delivers seq 1 and 2: the replica forgets both (forget of the
    // in-flight seq 1 is a no-op), then resendDue closes our batch as all-delivered
    p.forget(s1!.hash); p.forget(s2!.hash)
    p.close(b1!.id, 500)
    const out = p.closeBatches(1000, true)
    console.log(`after close: batches=${out.length} queued=${p.queued} pending=${p.pendingBatches} holds(seq3)=${p.holds(s3!.hash)} nextDue=${p.nextDue(0)}`)
    assert.equal(out.length, 1, 'seq 3 should be proposed once its predecessors are delivered, but it stays in `waiting` for ever')
  })

  test('stranded op blocks re-submission and holds queue room for ever', () => {
    const [s1, s2, s3] = chain(3)
    const p = new Proposer(timing, 1000, 2)
    p.enqueue(s1!, 0)
    const [b1] = p.closeBatches(0, true)
    p.enqueue(s2!, 1)
    p.closeBatches(10, true)
    p.forget(s2!.hash)
    p.close(b1!.id, 500)
    // s2 gone; s3 comes in -- nothing is waiting now so this path is fine
    assert.ok(p.enqueue(s3!, 600))
    assert.equal(p.closeBatches(700, true).length, 1)
  })
})
