// Random ledger histories for property tests: transfers (some to new keys), deploys, calls with
// value and executes, made through the contract harness, so every op is valid to apply in order.

import type { SignedOp } from '../../src/core/ledger/op.js'
import { ContractHarness } from './contract-harness.js'
import type { Deployed } from './contract-harness.js'

const COUNTER = `
(defun init (start) (put "n" start) true)
(defun add (k) (put (caller) k) (put "n" (+ (get "n") k)) (get "n"))
(defun pay (to) (transfer to 1) true)
`

export function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

/** A random history of `steps` ops, in delivery order, and the harness that applied them. */
export function ledgerHistory (seed: number, steps: number): { h: ContractHarness, ops: SignedOp[] } {
  const r = rng(seed)
  const h = new ContractHarness()
  const names = Object.keys(h.users)
  const pick = (): string => names[Math.floor(r() * names.length)]!
  const contracts: Deployed[] = []
  for (let step = 0; step < steps; step++) {
    const x = r()
    if (x < 0.4 || contracts.length === 0) {
      // new accounts appear too: a fresh key receives
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
