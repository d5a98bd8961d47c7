// Ledger.fork: a copy that shares account and contract objects with its parent, each side copying
// an object before it first writes it. Whatever either side applies afterwards, neither sees the
// other's writes, and a fork's state and root equal those of a full copy fed the same ops.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { buildSnapshot } from '../../src/core/checkpoint/snapshot.js'
import { ledgerHistory, rng } from '../support/ledger-history.js'

const snapshotOf = (l: Ledger): unknown => JSON.parse(JSON.stringify(l.exportState(), (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v))

describe('Ledger.fork', () => {
  for (let seed = 1; seed <= 40; seed++) {
    test(`seed ${seed}: parent and fork go separate ways without seeing each other's writes`, () => {
      const { h, ops } = ledgerHistory(seed, 60)
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
    const { h, ops } = ledgerHistory(99, 60)
    const l = new Ledger(h.genesis)
    for (const op of ops) {
      l.apply(op)
      assert.equal(toHex(l.stateHash()), toHex(buildSnapshot(l.exportState()).root))
    }
  })
})
