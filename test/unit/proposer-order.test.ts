// The proposer and one account's ops that reach the node out of seq order (concurrent requests):
// a batch carries them in seq order, and an op put off because its predecessor was not there yet
// goes again as soon as the predecessor's batch is certified, not at its backoff.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Proposer } from '../../src/core/broadcast/proposer.js'
import { PROPOSER_TIMING, opChain } from '../support/op-chain.js'

const timing = PROPOSER_TIMING

const chain = opChain

describe('proposer: an account\'s ops out of order', () => {
  test('a batch holds an account\'s ops in seq order, whatever order they were queued in', () => {
    const ops = chain(4)
    const p = new Proposer(timing, 1000, 1000)
    for (const i of [2, 0, 3, 1]) p.enqueue(ops[i]!, 0)
    const [b] = p.closeBatches(10, true)
    assert.deepEqual(b!.ops.map(o => o.seq), [1, 2, 3, 4])
  })

  test('a batch put off for want of its predecessor goes again when the predecessor\'s batch is certified', () => {
    const [s1, s2, s3, s4] = chain(4)
    const p = new Proposer(timing, 1000, 1000)
    p.enqueue(s1!, 0)
    const [b1] = p.closeBatches(0, true)
    // seq 3 arrives before seq 2: nothing of slot 2 is here, so it goes alone, and 3 of the 4
    // validators put it off (slot 2 is not certified at them)
    p.enqueue(s3!, 10)
    const [b3] = p.closeBatches(20, true)
    assert.deepEqual(b3!.ops.map(o => o.seq), [3])
    const slot3 = new Set([`${b3!.ops[0]!.account.reduce((h, x) => h + x.toString(16).padStart(2, '0'), '')}:3`])
    for (const v of ['v1', 'v2', 'v3']) p.deferred(b3!.id, v, slot3, 4, 3, 30)
    // its resends back off: 320, then 920, then 2120
    // (seq 1's batch, which no validator answers here, is resent too)
    const resent = (now: number): boolean => p.due(now).some(b => b.id === b3!.id)
    assert.ok(resent(320))
    assert.ok(!resent(900))
    assert.ok(resent(920))
    // seq 4 waits behind seq 3's batch; seq 2 behind seq 1's
    p.enqueue(s4!, 930)
    p.enqueue(s2!, 940)
    assert.deepEqual(p.closeBatches(950, true), [])
    p.close(b1!.id, 1000)
    const [b2] = p.closeBatches(1000, true)
    assert.deepEqual(b2!.ops.map(o => o.seq), [2])
    assert.ok(!resent(1010), 'not before seq 2 is certified')
    p.close(b2!.id, 1100)
    assert.ok(p.nextDue(1100) <= 1100, 'the put-off batch is due at once')
    assert.deepEqual(p.due(1100).map(b => b.id), [b3!.id], 'seq 3 goes again now, not at 2120')
  })
})
