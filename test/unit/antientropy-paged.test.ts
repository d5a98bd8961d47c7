// Anti-entropy with a paged frontier (more streams than one frontier message holds). A validator
// frozen for a while misses the first op (seq 1) of some accounts: its ledger has them at
// nextSeq 1, so its own frontier never lists them, and a paged frontier never makes a peer serve
// unlisted accounts. Only the peers' frontier pages tell it what it lacks, so every page of every
// peer must reach it in the end, whatever the page count and the peer count.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MESSAGE_LIMITS } from '../../src/core/broadcast/messages.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { LocalNet } from '../support/localnet.js'

interface Wire { wire: Array<{ from: number, to: number, bytes: Uint8Array }> }

describe('anti-entropy with a paged frontier', () => {
  test('a validator that missed first ops while frozen catches up (3 pages, 3 peers)', () => {
    // 3 frontier pages per round and 3 peers each: the case where page and peer turns lock
    const accounts = 2 * MESSAGE_LIMITS.maxFrontierEntries + 800
    // no checkpoints: the lagging node must not be sent to a snapshot; anti-entropy alone repairs
    const net = new LocalNet({ accounts, replica: { checkpoints: { interval: 0 } } })
    const wire = net as unknown as Wire
    const down = new Set<number>()
    const step = (ms: number): void => {
      net.now += ms
      // a frozen node neither ticks nor hears anything; what was sent to it is lost
      net.replicas.forEach((r, i) => { if (!down.has(i)) net.execute(i, r.tick(net.now)) })
      while (wire.wire.length > 0) {
        const batch = wire.wire
        wire.wire = []
        for (const m of batch) {
          if (down.has(m.to)) continue
          const res = net.replicas[m.to]!.receive(net.replicas[m.from]!.id, m.bytes, net.now)
          net.execute(m.to, res.actions)
        }
      }
    }
    const first = (i: number): SignedOp => {
      const a = net.accounts[i]!
      return signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[(i + 1) % accounts]!.publicKey, amount: 1n } })
    }
    const submitAll = (ops: SignedOp[]): void => {
      for (let i = 0; i < ops.length; i += MESSAGE_LIMITS.maxBatchOps) {
        const res = net.submit(i % 3, ops.slice(i, i + MESSAGE_LIMITS.maxBatchOps))
        assert.ok(res.results.every(r => r.status === 'queued'))
      }
    }
    const until = (done: () => boolean, ms: number): void => {
      for (let t = 0; t < ms && !done(); t += 50) step(50)
      assert.ok(done())
    }

    // accounts spread over every page send their first op while node 3 is frozen
    const late = new Set(Array.from({ length: accounts }, (_, i) => i).filter(i => i % 97 === 5))
    submitAll(Array.from({ length: accounts }, (_, i) => i).filter(i => !late.has(i)).map(first))
    until(() => net.delivered.every(d => d.length === accounts - late.size), 60_000)

    down.add(3)
    // one certificate each, as under live load: fetching one does not bring the others
    for (const i of late) {
      assert.equal(net.submit(i % 3, [first(i)]).results[0]!.status, 'queued')
      step(5)
    }
    until(() => [0, 1, 2].every(i => net.delivered[i]!.length === accounts), 60_000)
    assert.equal(net.delivered[3]!.length, accounts - late.size)
    down.clear()

    // up to far longer than every page of every peer takes to reach node 3 (9 rounds of 1 s)
    const lacking = (): number[] => [...late].filter(i => net.replicas[3]!.ledger.nextSeq(net.accounts[i]!.publicKey) === 1)
    for (let t = 0; t < 120_000 && lacking().length > 0; t += 100) step(100)
    const missing = lacking()
    assert.deepEqual(net.replicas.map(r => r.status().buffered), [0, 0, 0, 0])
    assert.equal(missing.length, 0, `node 3 still lacks seq 1 of ${missing.length} of ${late.size} accounts after 120 s: ${net.delivered.map(d => d.length).join(', ')} delivered`)
    assert.equal(new Set(net.stateHashes()).size, 1)
  })
})
