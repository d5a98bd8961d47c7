// Review: end to end on LocalNet. A client submits seq 1 to node 0, then seq 2 and 3 to node 0
// (they wait behind seq 1's pending batch), then fails over and submits seq 1 and 2 to node 1.
// Node 1's certificate delivers seq 1 and 2 everywhere; node 0 forgets its waiting seq 2, and its
// waiting seq 3 (keyed by seq 2's slot) is never released: never proposed, never delivered, and
// re-submitting it at node 0 answers 'queued' for ever.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import { LocalNet } from '../support/localnet.js'
import { bytesEqual } from '../../src/core/codec/canonical.js'

describe('a client failing over to another node strands no waiting op', () => {
  test('seq 3 is delivered once seq 1 and 2 are delivered through another broadcaster', () => {
    const net = new LocalNet({ accounts: 2 })
    const a = net.accounts[0]!
    const op = (seq: number): ReturnType<typeof signOp> => signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 1n } })
    const [s1, s2, s3] = [op(1), op(2), op(3)]
    const wire = net as unknown as { wire: unknown[] }
    net.submit(0, [s1]); net.tick(5)
    const held = wire.wire.splice(0) // node 0's proposal of seq 1 is slow to arrive
    net.submit(0, [s2, s3]); net.tick(5)
    assert.equal(net.replicas[0]!.status().queued, 2, 'seq 2 and 3 wait behind seq 1')
    net.submit(1, [s1, s2])
    net.settle(5)
    wire.wire.push(...held)
    net.settle(200, 500)
    const count = (seq: number): number[] => net.delivered.map(d => d.filter(x => x.op.seq === seq && bytesEqual(x.op.account, a.publicKey)).length)
    const delivered = count(3)
    assert.deepEqual([count(1), count(2)], [[1, 1, 1, 1], [1, 1, 1, 1]], 'seq 1 and 2 delivered everywhere')
    const again = net.replicas[0]!.submit([s3.bytes], 1e9).results[0]
    console.log(`seq 3 delivered at nodes: ${delivered.join(',')}; node 0 queued=${net.replicas[0]!.status().queued} busy=${String(net.replicas[0]!.busy)}; resubmit at node 0 -> ${again?.status}`)
    assert.ok(delivered.every(n => n === 1), 'seq 3 never delivered')
  })
})
