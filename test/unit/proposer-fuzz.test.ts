// Review: randomized Proposer runs (chains, equivocating twins, splits, requeues, give-ups).
// Invariant: once every batch is closed and closeBatches is forced, nothing stays queued or
// waiting, every op not forgotten was proposed, and queue room (ops and bytes) comes back whole.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp, slotKey } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { Proposer } from '../../src/core/broadcast/proposer.js'
import { LocalNet } from '../support/localnet.js'

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

const net = new LocalNet({ accounts: 4 })
const ops: SignedOp[] = []
for (const a of net.accounts.slice(0, 3)) {
  for (let seq = 1; seq <= 6; seq++) {
    for (const amount of [1n, 2n]) ops.push(signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[3]!.publicKey, amount } }))
  }
}

for (const withForget of [false, true]) {
  describe(`proposer over random operations (forget ${withForget ? 'on' : 'off'})`, () => {
    for (let seed = 1; seed <= (withForget ? 1000 : 300); seed++) {
      test(`seed ${seed}`, () => {
        const r = rng(seed)
        const timing = { batchDelay: 2, pipeline: 1 + Math.floor(r() * 3), proposeRetry: 300, maxRetry: 4000, giveUpAfter: 1000 }
        const p = new Proposer(timing, 1 + Math.floor(r() * 4), 1000, 1_000_000)
        const proposed = new Set<string>()
        const forgotten = new Set<string>()
        const enqueued = new Set<string>()
        let now = 0
        const take = (bs: ReturnType<Proposer['closeBatches']>): void => { for (const b of bs) for (const o of b.ops) proposed.add(toHex(o.hash)) }
        const open = (): string[] => {
          const ids: string[] = []
          for (const o of ops) for (const b of p.batchesAt(o.account, o.seq)) if (!ids.includes(b.id)) ids.push(b.id)
          return ids
        }
        for (let step = 0; step < 150; step++) {
          now += Math.floor(r() * 5)
          const x = r()
          if (x < 0.35) {
            const o = ops[Math.floor(r() * ops.length)]!
            if (p.enqueue(o, now)) enqueued.add(toHex(o.hash))
          } else if (x < 0.55) take(p.closeBatches(now, r() < 0.5))
          else if (x < 0.7) { const ids = open(); if (ids.length > 0) p.close(ids[Math.floor(r() * ids.length)]!, now) } else if (x < 0.78) { const ids = open(); if (ids.length > 0) p.requeue(ids[Math.floor(r() * ids.length)]!, () => r() < 0.7, now) } else if (x < 0.88) {
            const ids = open()
            if (ids.length > 0) {
              const b = p.batch(ids[Math.floor(r() * ids.length)]!)!
              const slots = new Set(b.ops.filter(() => r() < 0.5).map(o => slotKey(o.account, o.seq)))
              const rest = p.deferred(b.id, 'v' + String(Math.floor(r() * 4)), slots, 4, 3, now)
              if (rest !== undefined) for (const o of rest.ops) proposed.add(toHex(o.hash))
            }
          } else if (x < 0.94) { now += 600; p.due(now) } else if (withForget) {
            const o = ops[Math.floor(r() * ops.length)]!
            if (p.holds(o.hash) && !proposed.has(toHex(o.hash))) { p.forget(o.hash); forgotten.add(toHex(o.hash)) }
          }
        }
        // wind down: close everything, force the queue out, repeat
        for (let i = 0; i < 50; i++) {
          take(p.closeBatches(now, true))
          for (const id of open()) p.close(id, now)
          if (p.queued === 0 && p.pendingBatches === 0) break
        }
        const lost = [...enqueued].filter(h => !proposed.has(h) && !forgotten.has(h))
        assert.equal(p.queued, 0, `ops left queued/waiting: ${p.queued}`)
        assert.equal(p.pendingBatches, 0)
        assert.deepEqual(lost, [], 'ops enqueued but never proposed')
        for (const o of ops) assert.ok(!p.holdsSlot(o.account, o.seq), 'slot still held')
        // room comes back whole: 1000 ops fit again (counts) — probe with a fresh op each
        let fits = 0
        for (const o of ops) if (p.enqueue(o, now)) fits++
        assert.equal(fits, ops.length)
      })
    }
  })
}
