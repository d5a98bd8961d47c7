// Review: many ledgers forked from each other at random points, each applying the shared history
// at its own pace, roots taken at random moments (so encodings get cached), then every ledger is
// compared with a fresh replay of the same prefix.
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
function history (seed: number): { h: ContractHarness, ops: SignedOp[] } {
  const r = rng(seed)
  const h = new ContractHarness()
  const names = Object.keys(h.users)
  const pick = (): string => names[Math.floor(r() * names.length)]!
  const contracts: Deployed[] = []
  for (let step = 0; step < 80; step++) {
    const x = r()
    if (x < 0.4 || contracts.length === 0) {
      const to = r() < 0.3 ? new Uint8Array(32).fill(step + 1) : h.key(pick())
      h.transfer(pick(), to, BigInt(1 + Math.floor(r() * 50)))
    } else if (x < 0.5) {
      const d = h.deploy(pick(), COUNTER, [BigInt(step)])
      if (d.outcome.status === 'applied') contracts.push(d)
    } else if (x < 0.8) {
      const c = contracts[Math.floor(r() * contracts.length)]!
      const fn = r() < 0.7 ? 'add' : 'pay'
      h.call(pick(), c, fn, fn === 'add' ? [BigInt(step)] : [h.key(pick())], BigInt(Math.floor(r() * 5)))
    } else {
      h.execute(contracts[Math.floor(r() * contracts.length)]!, step)
    }
  }
  return { h, ops: h.applied.map(a => a.op) }
}
const plain = (l: Ledger): string => JSON.stringify(l.exportState(), (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v)

describe('ledger forks under interleaved writes', () => {
  for (let seed = 1; seed <= 60; seed++) {
    test(`seed ${seed}`, () => {
      const { h, ops } = history(seed)
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
