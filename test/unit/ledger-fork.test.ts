// Ledger.fork: a copy that shares account and contract objects with its parent, each side copying
// an object before it first writes it. Whatever either side applies afterwards, neither sees the
// other's writes, and a fork's state and root equal those of a full copy fed the same ops.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { buildSnapshot } from '../../src/core/checkpoint/snapshot.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { ContractHarness } from '../support/contract-harness.js'
import type { Deployed } from '../support/contract-harness.js'

const COUNTER = `
(defun init (start) (put "n" start) true)
(defun add (k) (put (caller) k) (put "n" (+ (get "n") k)) (get "n"))
(defun pay (to) (transfer to 1) true)
`

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

/** A random history of transfers, deploys, calls (with value) and executes, in delivery order. */
function history (seed: number): { h: ContractHarness, ops: SignedOp[] } {
  const r = rng(seed)
  const h = new ContractHarness()
  const names = Object.keys(h.users)
  const pick = (): string => names[Math.floor(r() * names.length)]!
  const contracts: Deployed[] = []
  for (let step = 0; step < 60; step++) {
    const x = r()
    if (x < 0.45 || contracts.length === 0) {
      // new accounts appear too: a fresh key receives
      const to = r() < 0.3 ? new Uint8Array(32).fill(step + 1) : h.key(pick())
      h.transfer(pick(), to, BigInt(1 + Math.floor(r() * 50)))
    } else if (x < 0.55) {
      const d = h.deploy(pick(), COUNTER, [BigInt(step)])
      if (d.outcome.status === 'applied') contracts.push(d)
    } else if (x < 0.85) {
      const c = contracts[Math.floor(r() * contracts.length)]!
      const fn = r() < 0.7 ? 'add' : 'pay'
      h.call(pick(), c, fn, fn === 'add' ? [BigInt(step)] : [h.key(pick())], BigInt(Math.floor(r() * 5)))
    } else {
      h.execute(contracts[Math.floor(r() * contracts.length)]!, step)
    }
  }
  return { h, ops: h.applied.map(a => a.op) }
}

const snapshotOf = (l: Ledger): unknown => JSON.parse(JSON.stringify(l.exportState(), (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v))

describe('Ledger.fork', () => {
  for (let seed = 1; seed <= 40; seed++) {
    test(`seed ${seed}: parent and fork go separate ways without seeing each other's writes`, () => {
      const { h, ops } = history(seed)
      const r = rng(seed * 7919)
      const cut = Math.floor(r() * ops.length)
      const parent = new Ledger(h.genesis)
      for (const op of ops.slice(0, cut)) parent.apply(op)
      const rootAtCut = toHex(parent.stateHash())
      const stateAtCut = snapshotOf(parent)

      const fork = parent.fork()
      assert.equal(toHex(fork.stateHash()), rootAtCut)
      for (const op of ops.slice(cut)) fork.apply(op)
      // the parent did not move
      assert.equal(toHex(parent.stateHash()), rootAtCut)
      assert.deepEqual(snapshotOf(parent), stateAtCut)
      // the fork holds what the whole history makes, and its root is the full computation's
      assert.deepEqual(snapshotOf(fork), snapshotOf(h.ledger))
      assert.equal(toHex(fork.stateHash()), toHex(h.ledger.stateHash()))
      assert.equal(toHex(fork.stateHash()), toHex(buildSnapshot(fork.exportState()).root))

      // a fork of the fork, then the parent catches up on its own: three ledgers, no leaks
      const forkRoot = toHex(fork.stateHash())
      const grandchild = fork.fork()
      const extra = h.transfer('alice', h.key('bob'), 1n)
      assert.equal(extra.status, 'applied')
      grandchild.apply(h.applied.at(-1)!.op)
      for (const op of ops.slice(cut)) parent.apply(op)
      assert.equal(toHex(parent.stateHash()), forkRoot)
      assert.equal(toHex(fork.stateHash()), forkRoot)
      assert.deepEqual(snapshotOf(grandchild), snapshotOf(h.ledger))
      assert.equal(toHex(grandchild.stateHash()), toHex(buildSnapshot(h.ledger.exportState()).root))
      assert.equal(grandchild.totalHeld(), grandchild.totalSupply())
    })
  }

  test('a snapshot taken again reuses nothing stale: the root follows every write', () => {
    const { h, ops } = history(99)
    const l = new Ledger(h.genesis)
    for (const op of ops) {
      l.apply(op)
      assert.equal(toHex(l.stateHash()), toHex(buildSnapshot(l.exportState()).root))
    }
  })
})
