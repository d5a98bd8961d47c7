// Adversarial review of queries and simulations: hostile simulations and queries leave the ledger,
// its root and its caches exactly as they were; a simulation answers what the chain would do (the
// time a sequencer writes, a deadline already passed, an op validators would refuse as
// malformed); and hostile JSON gets a 4xx-kind error, never an exception of the node.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { encode } from '../../src/core/codec/canonical.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { runQuery, simulateOp } from '../../src/core/ledger/simulate.js'
import type { SimulatedBody } from '../../src/core/ledger/simulate.js'
import { GAS_LIMITS } from '../../src/core/vm/gas.js'
import { ArgumentError, parseArgs } from '../../src/client/values.js'
import { RUN_VIEW_BYTES, runView } from '../../src/api/contract-routes.js'
import { ContractHarness } from '../support/contract-harness.js'
import { Rng } from '../sim/rng.js'

const contract = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../contracts/${name}.lisp`, import.meta.url)), 'utf8')
const TOKEN = contract('token')
const ESCROW = contract('escrow')

/** A contract whose call succeeds only once the sequencer's clock has reached `t`. */
const CLOCKED = `(defun init () (put "n" 0) true)
(defun after (t) (enforce (>= (now) t) "too early") (put "n" (+ (get "n") 1)) (now))
(defun pay (to amount) (transfer to amount) (balance))`

const stateBytes = (l: Ledger): string => toHex(encode(l.canonicalState()))

describe('review: queries and simulations never touch the ledger', () => {
  test('hostile simulations and queries leave the state, the root and the root caches as they were', () => {
    const h = new ContractHarness()
    const token = h.deploy('alice', TOKEN, [h.key('alice'), 1_000_000n])
    const escrow = h.deploy('alice', ESCROW, [h.key('alice'), h.key('bob'), h.key('carol')])
    const clocked = h.deploy('bob', CLOCKED)
    // a queued call with a deadline, past it, so cancels have something to cancel
    const queued = h.call('carol', clocked, 'after', [1n], 7n, 100_000, 1)
    assert.equal(queued.outcome.status, 'applied')
    const other = h.call('bob', clocked, 'after', [0n])
    assert.equal(h.executeCalls(clocked, [other.id], 10).outcome.status, 'applied')
    h.run('alice', escrow, 'deposit', [], 500n)
    h.transfer('dave', h.key('carol'), 3n) // an uncited credit to carol
    const rng = new Rng(99)
    const names = ['alice', 'bob', 'carol', 'dave']
    const stranger = new Uint8Array(32).fill(7)
    const accounts = [...names.map(n => h.key(n)), stranger, h.mint.publicKey, token.address, clocked.address]
    const contracts = [token, escrow, clocked]
    const root = toHex(h.ledger.stateHash())
    const before = stateBytes(h.ledger)
    for (let i = 0; i < 300; i++) {
      const who = rng.pick(accounts)
      const c = rng.pick(contracts)
      const bodies: SimulatedBody[] = [
        { kind: 'transfer', to: rng.pick([...accounts, new Uint8Array(32).fill(i % 256)]), amount: BigInt(rng.int(1, 2_000_000)) },
        { kind: 'deploy', code: rng.pick([TOKEN, CLOCKED, '(defun init () (put "x" (list 1 2)) (emit "e" 1) true)', '(defun init () (enforce false "no"))', '(defun']), args: rng.pick([[], [who, 5n]]), sequencer: null, gasLimit: rng.pick([10, 100_000, GAS_LIMITS.maxCall]) },
        { kind: 'call', contract: c.address, fn: rng.pick(['transfer', 'mint', 'deposit', 'release', 'after', 'pay', 'init', 'nope']), args: rng.pick([[], [h.key('bob'), 5n], [stranger, 1_000n]]), value: BigInt(rng.int(0, 3)) * 400n, gasLimit: rng.pick([10, 100_000]), ...(rng.int(0, 1) === 0 ? { deadline: rng.int(1, 5) } : {}) },
        { kind: 'cancel', contract: c.address, call: rng.int(1, 4) }
      ]
      const sim = simulateOp(h.ledger, h.genesis, who, rng.pick(bodies), rng.int(0, 10_000))
      assert.ok(sim.outcome.status === 'applied' || sim.outcome.status === 'rejected')
      const state = h.ledger.contract(c.address)!
      runQuery(h.ledger, state, { fn: rng.pick(['transfer', 'pay', 'after', 'deposit', 'balance-of']), args: [h.key('bob'), 1n], caller: who, value: BigInt(rng.int(0, 1_000)), gasLimit: 100_000, time: rng.int(0, 10_000) })
    }
    assert.equal(stateBytes(h.ledger), before)
    assert.equal(toHex(h.ledger.stateHash()), root, 'the cached root')
    assert.equal(toHex(Ledger.fromState(h.genesis, h.ledger.exportState()).stateHash()), root, 'the root computed afresh')
    // the ledger goes on; its cached encodings must not be stale
    assert.equal(h.transfer('carol', stranger, 1n).status, 'applied')
    assert.equal(h.run('bob', token, 'balance-of', [h.key('bob')]).status, 'ok')
    assert.equal(toHex(h.ledger.stateHash()), toHex(Ledger.fromState(h.genesis, h.ledger.exportState()).stateHash()))
  })
})

describe('review: a simulation answers what the chain would do', () => {
  test('a call runs at the time a sequencer would write, not at the contract\'s last execute', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', CLOCKED)
    // one execute at t = 1,000: the contract's last time
    assert.equal(h.run('bob', c, 'after', [0n], 0n, 1_000).status, 'ok')
    const body: SimulatedBody = { kind: 'call', contract: c.address, fn: 'after', args: [5_000n], value: 0n, gasLimit: GAS_LIMITS.maxCall }
    // at t = 6,000 the sequencer's execute runs the call fine...
    const fork = h.fork()
    assert.equal(fork.run('bob', c, 'after', [5_000n], 0n, 6_000).status, 'ok')
    // ...so a simulation at that time must not say it would fail (the CLI would refuse to sign it)
    const sim = simulateOp(h.ledger, h.genesis, h.key('bob'), body, 6_000)
    assert.equal(sim.run?.status, 'ok', JSON.stringify(sim.run, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v))
    assert.equal(sim.run?.status === 'ok' && sim.run.result, 6_000n)
    // and time never goes back: a clock behind the contract's last time runs at that last time
    const behind = simulateOp(h.ledger, h.genesis, h.key('bob'), { ...body, args: [1_000n] }, 10)
    assert.equal(behind.run?.status === 'ok' && behind.run.result, 1_000n)
    const q = runQuery(h.ledger, h.ledger.contract(c.address)!, { fn: 'after', args: [5_000n], caller: h.key('bob'), value: 0n, gasLimit: 100_000, time: 6_000 })
    assert.equal(q.status, 'ok')
  })

  test('(balance) in a query counts the credits an Execute would claim first, as a real call sees it', () => {
    const h = new ContractHarness()
    const jar = h.deploy('alice', '(defun held () (balance))')
    assert.equal(h.transfer('bob', jar.address, 100n).status, 'applied') // an uncited credit to the contract
    const q = runQuery(h.ledger, h.ledger.contract(jar.address)!, { fn: 'held', args: [], caller: h.key('carol'), value: 0n, gasLimit: 1000 })
    const real = h.run('carol', jar, 'held')
    assert.equal(real.status, 'ok')
    assert.equal(q.status === 'ok' && q.result, 100n)
    assert.equal(real.status === 'ok' && real.result, 100n)
  })

  test('a call whose deadline the contract\'s stream has passed would never run: the simulation says so', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', CLOCKED)
    h.run('bob', c, 'after', [0n], 0n, 1) // contract seq 1
    h.run('bob', c, 'after', [0n], 0n, 2) // contract seq 2: the next execute is seq 3
    const sim = simulateOp(h.ledger, h.genesis, h.key('carol'), { kind: 'call', contract: c.address, fn: 'after', args: [0n], value: 10n, gasLimit: 100_000, deadline: 2 })
    assert.deepEqual(sim.outcome, { status: 'applied' }, 'the call op itself is queued')
    assert.equal(sim.run?.status === 'error' && sim.run.errorKind, 'deadline-passed')
    assert.equal(sim.gasEstimate, undefined)
    // on chain: queued, and no execute ever runs it
    const { id, outcome } = h.call('carol', c, 'after', [0n], 10n, 100_000, 2)
    assert.equal(outcome.status, 'applied')
    assert.equal(h.execute(c, 5), undefined)
    assert.equal(h.ledger.callOutcome(id)?.status, 'queued')
    // a deadline the next execute still meets is fine
    const ok = simulateOp(h.ledger, h.genesis, h.key('carol'), { kind: 'call', contract: c.address, fn: 'after', args: [0n], value: 10n, gasLimit: 100_000, deadline: 3 })
    assert.equal(ok.run?.status, 'ok')
  })

  test('an op validators would refuse as malformed is refused, not reported as applied', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', TOKEN, [h.key('alice'), 1_000n])
    // JSON forms allow 32 levels; an op's payload decodes 16 deep
    let deep: Value = 1n
    for (let i = 0; i < 20; i++) deep = [deep]
    const body: SimulatedBody = { kind: 'call', contract: c.address, fn: 'balance-of', args: [deep], value: 0n, gasLimit: 100_000 }
    const sim = simulateOp(h.ledger, h.genesis, h.key('bob'), body)
    assert.match(sim.refused ?? '', /malformed/)
    // and a list longer than one op may carry
    const long = simulateOp(h.ledger, h.genesis, h.key('bob'), { ...body, args: [Array.from({ length: 5_000 }, () => 0n)] })
    assert.match(long.refused ?? '', /malformed/)
  })
})

describe('review: hostile JSON', () => {
  test('arguments nested far past the limit are refused with an ArgumentError, never a stack overflow', () => {
    const deep = JSON.parse(`[{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}]`) as unknown
    assert.throws(() => parseArgs(deep), (err: unknown) => err instanceof ArgumentError && /an object must be one of/.test(err.message))
    const inForm = JSON.parse(`[{"int": ${'['.repeat(100_000)}${']'.repeat(100_000)}}]`) as unknown
    assert.throws(() => parseArgs(inForm), (err: unknown) => err instanceof ArgumentError && /holds a whole number/.test(err.message))
    // messages still show small values whole
    assert.throws(() => parseArgs([{ a: 1 }]), /got \{"a":1\}/)
  })

  test('a run whose answer would be huge is answered as an error, not serialised', () => {
    const h = new ContractHarness()
    // a result that large is refused by the VM itself (VM_LIMITS.maxResultSize); events are
    // bounded only by gas (1 per byte): 70 events of a 64 KiB string are ~4.6 MB as JSON
    const c = h.deploy('alice', `(defun dbl (s n) (if (= n 0) s (dbl (concat s s) (- n 1))))
(defun big (k) (let ((s (dbl "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" 11))) (map (fn (i) s) (range 0 k))))
(defun loud (k) (let ((s (dbl "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" 11))) (map (fn (i) (emit "e" s)) (range 0 k)) true))`)
    const huge = runQuery(h.ledger, h.ledger.contract(c.address)!, { fn: 'big', args: [2_300n], caller: new Uint8Array(32), value: 0n, gasLimit: GAS_LIMITS.maxCall })
    assert.equal(huge.status === 'error' && /result too large/.test(huge.error), true)
    const run = runQuery(h.ledger, h.ledger.contract(c.address)!, { fn: 'loud', args: [70n], caller: new Uint8Array(32), value: 0n, gasLimit: GAS_LIMITS.maxCall })
    assert.equal(run.status, 'ok')
    const started = performance.now()
    const view = runView(run)
    assert.ok(performance.now() - started < 1_000)
    assert.equal(view.status === 'error' && view.errorKind, 'too-large')
    assert.ok(JSON.stringify(view).length < RUN_VIEW_BYTES)
    // a modest one is answered whole
    const small = runView(runQuery(h.ledger, h.ledger.contract(c.address)!, { fn: 'loud', args: [3n], caller: new Uint8Array(32), value: 0n, gasLimit: GAS_LIMITS.maxCall }))
    assert.equal(small.status, 'ok')
  })
})
