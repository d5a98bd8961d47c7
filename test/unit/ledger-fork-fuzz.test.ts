// Review: many ledgers forked from each other at random points, each applying the shared history
// at its own pace, roots taken at random moments (so encodings get cached), then every ledger is
// compared with a fresh replay of the same prefix.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { buildSnapshot } from '../../src/core/checkpoint/snapshot.js'
import { ledgerHistory, rng } from '../support/ledger-history.js'

const plain = (l: Ledger): string => JSON.stringify(l.exportState(), (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v)

describe('ledger forks under interleaved writes', () => {
  for (let seed = 1; seed <= 60; seed++) {
    test(`seed ${seed}`, () => {
      const { h, ops } = ledgerHistory(seed, 80)
      const r = rng(seed * 31 + 7)
      const ledgers: Array<{ l: Ledger, at: number }> = [{ l: new Ledger(h.genesis), at: 0 }]
      for (let step = 0; step < 400; step++) {
        const x = r()
        const e = ledgers[Math.floor(r() * ledgers.length)]!
        if (x < 0.1 && ledgers.length < 8) ledgers.push({ l: e.l.fork(), at: e.at })
        else if (x < 0.3) e.l.stateHash()
        else if (e.at < ops.length) e.l.apply(ops[e.at++]!)
      }
      for (const [i, e] of ledgers.entries()) {
        const ref = new Ledger(h.genesis)
        for (const op of ops.slice(0, e.at)) ref.apply(op)
        assert.equal(plain(e.l), plain(ref), `ledger ${i} state at ${e.at}`)
        assert.equal(toHex(e.l.stateHash()), toHex(ref.stateHash()), `ledger ${i} root at ${e.at}`)
        assert.equal(toHex(buildSnapshot(e.l.exportState()).root), toHex(ref.stateHash()))
        assert.equal(e.l.totalHeld(), e.l.totalSupply())
      }
    })
  }
})
