// Queries and simulations (src/core/ledger/simulate.ts): a query never changes the state or its
// root, whatever it runs; a simulation works on a fork that never leaks into the ledger; the gas
// estimate is enough for the call to succeed; and each refusal is told apart.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Value } from '../../src/core/codec/canonical.js'
import { encode } from '../../src/core/codec/canonical.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { gasEstimate, runQuery, simulateOp } from '../../src/core/ledger/simulate.js'
import type { RunOutcome } from '../../src/core/ledger/simulate.js'
import { GAS_LIMITS } from '../../src/core/vm/gas.js'
import { ContractHarness } from '../support/contract-harness.js'
import type { Deployed } from '../support/contract-harness.js'
import { Rng } from '../sim/rng.js'

const contract = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../contracts/${name}.lisp`, import.meta.url)), 'utf8')
const TOKEN = contract('token')
const ESCROW = contract('escrow')
const MULTISIG = contract('multisig')

/** Uniform in [0, n). */
const below = (rng: Rng, n: number): number => rng.int(0, n - 1)

const stateBytes = (h: ContractHarness): string => toHex(encode(h.ledger.canonicalState()))

function ok (r: RunOutcome | undefined): Extract<RunOutcome, { status: 'ok' }> {
  assert.ok(r !== undefined && r.status === 'ok', `expected ok, got ${JSON.stringify(r, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)}`)
  return r
}

function setup (): { h: ContractHarness, token: Deployed, escrow: Deployed, multisig: Deployed } {
  const h = new ContractHarness()
  const token = h.deploy('alice', TOKEN, [h.key('alice'), 1_000_000n])
  const escrow = h.deploy('alice', ESCROW, [h.key('alice'), h.key('bob'), h.key('carol')])
  const multisig = h.deploy('bob', MULTISIG, [[h.key('alice'), h.key('bob'), h.key('carol')], 2n])
  for (const d of [token, escrow, multisig]) assert.equal(d.outcome.status, 'applied')
  assert.equal(h.run('alice', token, 'transfer', [h.key('bob'), 250n]).status, 'ok')
  return { h, token, escrow, multisig }
}

describe('queries', () => {
  test('a read returns the value, its gas and nothing to write', () => {
    const { h, token } = setup()
    const r = ok(runQuery(h.ledger, h.ledger.contract(token.address)!, { fn: 'balance-of', args: [h.key('bob')], caller: new Uint8Array(32), value: 0n, gasLimit: GAS_LIMITS.maxCall }))
    assert.equal(r.result, 250n)
    assert.ok(r.gasUsed > 0)
    assert.deepEqual(r.writes, [])
  })

  test('a write run as a query reports its writes, events and transfers, and stores none of them', () => {
    const { h, token } = setup()
    const before = stateBytes(h)
    const root = toHex(h.ledger.stateHash())
    const r = ok(runQuery(h.ledger, h.ledger.contract(token.address)!, { fn: 'transfer', args: [h.key('carol'), 50n], caller: h.key('bob'), value: 0n, gasLimit: 100_000 }))
    assert.deepEqual(r.writes.map(w => [toHex(w.key as Uint8Array), w.value]).sort(), [[toHex(h.key('bob')), 200n], [toHex(h.key('carol')), 50n]].sort())
    assert.equal(r.events[0]!.name, 'transfer')
    assert.equal(stateBytes(h), before)
    assert.equal(toHex(h.ledger.stateHash()), root)
  })

  test('unknown functions, init and a wrong argument count are refused before running', () => {
    const { h, token } = setup()
    const c = h.ledger.contract(token.address)!
    const q = (fn: string, args: Value[]): RunOutcome => runQuery(h.ledger, c, { fn, args, caller: h.key('bob'), value: 0n, gasLimit: 100_000 })
    assert.deepEqual(q('nope', []), { status: 'error', errorKind: 'unknown-function', error: 'the contract has no function "nope"', gasUsed: 0 })
    assert.equal((q('init', [h.key('bob'), 1n]) as { errorKind: string }).errorKind, 'init-only')
    const arity = q('balance-of', []) as { errorKind: string, error: string }
    assert.equal(arity.errorKind, 'arity')
    assert.match(arity.error, /balance-of takes 1 argument\(s\) \(who\), got 0/)
    const enforce = q('transfer', [h.key('carol'), 1_000_000n]) as { errorKind: string }
    assert.equal(enforce.errorKind, 'enforce')
  })

  test('property: random queries over the sample contracts never change the state or its root', () => {
    const { h, token, escrow, multisig } = setup()
    const rng = new Rng(12)
    const keys = ['alice', 'bob', 'carol', 'dave'].map(n => h.key(n))
    const anyValue = (depth = 0): Value => {
      switch (below(rng, depth > 1 ? 4 : 6)) {
        case 0: return BigInt(below(rng, 2000)) - 500n
        case 1: return rng.pick(keys)
        case 2: return rng.pick(['owner', 'supply', 'status', ''])
        case 3: return below(rng, 2) === 0
        case 4: return [anyValue(depth + 1), anyValue(depth + 1)]
        default: return null
      }
    }
    const before = stateBytes(h)
    const root = toHex(h.ledger.stateHash())
    const seen = new Set<string>()
    for (let i = 0; i < 400; i++) {
      const d = rng.pick([token, escrow, multisig])
      const c = h.ledger.contract(d.address)!
      const fns = [...c.module.functions.keys(), 'missing']
      const fn = rng.pick(fns)
      const arity = c.module.functions.get(fn)?.params.length ?? 0
      const args = Array.from({ length: below(rng, 4) === 0 ? below(rng, 4) : arity }, () => anyValue())
      const r = runQuery(h.ledger, c, { fn, args, caller: rng.pick(keys), value: BigInt(below(rng, 3) * 100), gasLimit: rng.pick([50, 1000, 100_000]) })
      seen.add(r.status === 'ok' ? 'ok' : r.errorKind)
    }
    assert.equal(stateBytes(h), before)
    assert.equal(toHex(h.ledger.stateHash()), root)
    for (const kind of ['ok', 'unknown-function', 'init-only', 'arity', 'enforce', 'out-of-gas']) assert.ok(seen.has(kind), `no query ended ${kind}: ${[...seen].join(', ')}`)
  })
})

describe('simulations', () => {
  test('a simulated op is applied to a fork: the ledger, its root and the account stream stay as they were', () => {
    const { h, token } = setup()
    const before = stateBytes(h)
    const root = toHex(h.ledger.stateHash())
    const bob = h.key('bob')
    const sims = [
      simulateOp(h.ledger, h.genesis, bob, { kind: 'transfer', to: h.key('carol'), amount: 10n }),
      simulateOp(h.ledger, h.genesis, bob, { kind: 'call', contract: token.address, fn: 'transfer', args: [h.key('carol'), 5n], value: 7n, gasLimit: GAS_LIMITS.maxCall }),
      simulateOp(h.ledger, h.genesis, bob, { kind: 'deploy', code: TOKEN, args: [bob, 5n], sequencer: null, gasLimit: GAS_LIMITS.maxCall })
    ]
    for (const s of sims) assert.deepEqual(s.outcome, { status: 'applied' })
    assert.equal(stateBytes(h), before)
    assert.equal(toHex(h.ledger.stateHash()), root)
    assert.equal(h.ledger.nextSeq(bob), 2)
    assert.equal(h.ledger.contract(sims[2]!.address!), undefined)
    // and the ledger goes on as if nothing happened, its writes not seen by the forks' leftovers
    assert.equal(h.run('bob', token, 'transfer', [h.key('carol'), 5n]).status, 'ok')
    assert.equal(h.ledger.nextSeq(bob), 2 + 1)
  })

  test('a fork never leaks, with credits cited and contracts written (a fuzz of ops simulated between real ones)', () => {
    const { h, token } = setup()
    const rng = new Rng(7)
    const names = ['alice', 'bob', 'carol', 'dave']
    for (let i = 0; i < 60; i++) {
      const who = rng.pick(names)
      const before = stateBytes(h)
      const sim = below(rng, 3) === 0
        ? simulateOp(h.ledger, h.genesis, h.key(who), { kind: 'call', contract: token.address, fn: 'transfer', args: [h.key(rng.pick(names)), BigInt(below(rng, 300))], value: BigInt(below(rng, 50)), gasLimit: 100_000 })
        : simulateOp(h.ledger, h.genesis, h.key(who), { kind: 'transfer', to: h.key(rng.pick(names)), amount: BigInt(1 + below(rng, 100)) })
      assert.ok(sim.outcome.status === 'applied' || sim.outcome.status === 'rejected')
      assert.equal(stateBytes(h), before, `simulation ${i} leaked into the ledger`)
      // a real op, so the ledger writes objects the forks shared
      h.transfer(who, h.key(rng.pick(names)), BigInt(1 + below(rng, 10)))
      if (below(rng, 4) === 0) h.run(who, token, 'balance-of', [h.key(who)])
    }
  })

  test('the gas estimate is at least the gas used, and a call sent with it succeeds', () => {
    const { h, token } = setup()
    const sim = simulateOp(h.ledger, h.genesis, h.key('bob'), { kind: 'call', contract: token.address, fn: 'transfer', args: [h.key('carol'), 5n], value: 0n, gasLimit: GAS_LIMITS.maxCall })
    const used = ok(sim.run).gasUsed
    assert.ok(sim.gasEstimate! >= used)
    assert.equal(sim.gasEstimate, gasEstimate(used))
    const out = h.run('bob', token, 'transfer', [h.key('carol'), 5n], 0n, 0, sim.gasEstimate)
    assert.equal(out.status, 'ok')
    assert.ok(out.status === 'ok' && out.gasUsed <= sim.gasEstimate!)
    // a call asking for too little gas still gets an estimate from a run with enough
    const short = simulateOp(h.ledger, h.genesis, h.key('bob'), { kind: 'call', contract: token.address, fn: 'transfer', args: [h.key('carol'), 5n], value: 0n, gasLimit: 10 })
    assert.equal((short.run as { errorKind: string }).errorKind, 'out-of-gas')
    assert.ok(short.gasEstimate! >= used)
    // and a deploy's estimate covers its init
    const d = simulateOp(h.ledger, h.genesis, h.key('dave'), { kind: 'deploy', code: TOKEN, args: [h.key('dave'), 5n], sequencer: null, gasLimit: GAS_LIMITS.maxCall })
    const deployed = h.deploy('dave', TOKEN, [h.key('dave'), 5n], d.gasEstimate)
    assert.equal(deployed.outcome.status, 'applied')
    assert.deepEqual(deployed.address, d.address)
  })

  test('the margin: +20% and +1,000, within the per-call cap', () => {
    assert.equal(gasEstimate(0), 1000)
    assert.equal(gasEstimate(1000), 2200)
    assert.equal(gasEstimate(GAS_LIMITS.maxCall - 10), GAS_LIMITS.maxCall)
  })

  test('each refusal is told apart', () => {
    const { h, token } = setup()
    const nobody = new Uint8Array(32).fill(9)
    const bob = h.key('bob')
    const call = (fn: string, args: Value[], value = 0n, who = bob) => simulateOp(h.ledger, h.genesis, who, { kind: 'call', contract: token.address, fn, args, value, gasLimit: GAS_LIMITS.maxCall })
    // an account holding nothing: validators would not take the op
    assert.match(simulateOp(h.ledger, h.genesis, nobody, { kind: 'transfer', to: bob, amount: 1n }).refused!, /holds nothing/)
    // too little money: the ledger would reject it at delivery
    const poor = simulateOp(h.ledger, h.genesis, bob, { kind: 'transfer', to: nobody, amount: 10_000_000n })
    assert.equal(poor.refused, undefined)
    assert.equal(poor.outcome.status === 'rejected' && poor.outcome.reason, 'insufficient-funds')
    assert.equal((call('transfer', [nobody, 1n], 10_000_000n).outcome as { reason: string }).reason, 'insufficient-funds')
    // an unknown contract
    const lost = simulateOp(h.ledger, h.genesis, bob, { kind: 'call', contract: nobody, fn: 'x', args: [], value: 0n, gasLimit: 10 })
    assert.equal((lost.outcome as { reason: string }).reason, 'unknown-contract')
    // init: the ledger itself rejects it; unknown functions and arity would fail when executed
    assert.equal((call('init', [bob, 1n]).outcome as { reason: string }).reason, 'bad-call')
    assert.equal((call('nope', []).run as { errorKind: string }).errorKind, 'unknown-function')
    assert.equal((call('transfer', [nobody]).run as { errorKind: string }).errorKind, 'arity')
    // the function failing now
    const failing = call('transfer', [nobody, 5_000_000n])
    assert.deepEqual(failing.outcome, { status: 'applied' }, 'the Call op itself would be queued')
    assert.equal((failing.run as { errorKind: string }).errorKind, 'enforce')
    assert.equal(failing.gasEstimate, undefined)
    // a deploy: bad code, a failing init, init with the wrong arity
    const deploy = (code: string, args: Value[]) => simulateOp(h.ledger, h.genesis, bob, { kind: 'deploy', code, args, sequencer: null, gasLimit: 100_000 })
    const bad = deploy('(defun f (x) y)', [])
    assert.equal((bad.outcome as { reason: string }).reason, 'contract-error')
    assert.equal((bad.run as { errorKind: string }).errorKind, 'check')
    const initFails = deploy(TOKEN, [bob, -1n])
    assert.match((initFails.outcome as { detail: string }).detail, /init failed: .*supply cannot be negative/)
    assert.equal((initFails.run as { errorKind: string }).errorKind, 'enforce')
    assert.equal((deploy(TOKEN, [bob]).run as { errorKind: string }).errorKind, 'arity')
    // a cancel with nothing to cancel
    const cancel = simulateOp(h.ledger, h.genesis, bob, { kind: 'cancel', contract: token.address, call: 1 })
    assert.equal(cancel.outcome.status, 'rejected')
  })
})
