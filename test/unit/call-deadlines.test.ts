// Call deadlines and cancels: a caller takes back a queued call that no Execute ran by its deadline.
// The outcome of every op must depend only on its own stream and its deps, so these tests replay
// the same signed ops in many delivery orders that respect stream order and deps, and compare.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import type { Outcome, RejectReason } from '../../src/core/ledger/ledger.js'
import { slotKey } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import { buildSnapshot, readSnapshot } from '../../src/core/checkpoint/snapshot.js'
import { ContractSequencer } from '../../src/core/ledger/sequencer.js'
import { ContractHarness } from '../support/contract-harness.js'
import type { Deployed } from '../support/contract-harness.js'
import { Rng } from '../sim/rng.js'

const BANK = `
(defun init () (put "n" 0) true)
(defun deposit () (put "n" (+ (get "n") 1)) (balance))
`

function rejected (o: Outcome, reason: RejectReason): void {
  assert.equal(o.status === 'rejected' ? o.reason : o.status, reason, o.status === 'rejected' ? o.detail : '')
}

interface Replay { hash: string, outcomes: Map<string, Outcome>, calls: Map<string, unknown>, order: string[] }

/** Applies `ops` to a fresh ledger in a random order that delivers each op after its stream's previous op and its deps. */
function replay (h: ContractHarness, ops: readonly SignedOp[], rng: Rng, callIds: readonly Slot[]): Replay {
  const ledger = new Ledger(h.genesis)
  const delivered = new Set<string>()
  const waiting = [...ops]
  const outcomes = new Map<string, Outcome>()
  const order: string[] = []
  while (waiting.length > 0) {
    const ready = waiting.filter(op => (op.seq === 1 || delivered.has(slotKey(op.account, op.seq - 1))) && op.deps.every(d => delivered.has(slotKey(d.account, d.seq))))
    assert.ok(ready.length > 0, 'some op must be deliverable')
    const op = rng.pick(ready)
    waiting.splice(waiting.indexOf(op), 1)
    outcomes.set(slotKey(op.account, op.seq), ledger.apply(op))
    delivered.add(slotKey(op.account, op.seq))
    order.push(slotKey(op.account, op.seq))
    assert.equal(ledger.totalHeld(), ledger.totalSupply(), 'value is conserved after every op')
  }
  const calls = new Map(callIds.map(id => [slotKey(id.account, id.seq), ledger.callOutcome(id)] as const))
  return { hash: toHex(ledger.stateHash()), outcomes, calls, order }
}

/** Replays every order against the harness's own run; returns the orders seen. */
function sameEverywhere (h: ContractHarness, callIds: readonly Slot[], orders = 60): { reference: Replay, seen: string[][] } {
  const ops = h.applied.map(a => a.op)
  const reference: Replay = {
    hash: toHex(h.ledger.stateHash()),
    outcomes: new Map(h.applied.map(a => [slotKey(a.op.account, a.op.seq), a.outcome] as const)),
    calls: new Map(callIds.map(id => [slotKey(id.account, id.seq), h.ledger.callOutcome(id)] as const)),
    order: []
  }
  const seen: string[][] = []
  for (let seed = 1; seed <= orders; seed++) {
    const r = replay(h, ops, new Rng(seed), callIds)
    assert.equal(r.hash, reference.hash, `delivery order ${seed} reached another state`)
    assert.deepEqual(r.outcomes, reference.outcomes, `delivery order ${seed} decided an op differently`)
    assert.deepEqual(r.calls, reference.calls, `delivery order ${seed} recorded another call outcome`)
    seen.push(r.order)
  }
  return { reference, seen }
}

function setup (): { h: ContractHarness, c: Deployed } {
  const h = new ContractHarness()
  const c = h.deploy('alice', BANK)
  assert.equal(c.outcome.status, 'applied')
  return { h, c }
}

describe('call deadlines and cancels', () => {
  test('a cancel after the deadline returns the value to the caller\'s balance and records the call as cancelled', () => {
    const { h, c } = setup()
    const call = h.call('carol', c, 'deposit', [], 300n, 1_000_000, 1)
    const other = h.call('dave', c, 'deposit', [], 0n)
    assert.equal(h.executeCalls(c, [other.id]).outcome.status, 'applied')
    assert.equal(h.ledger.balance(h.key('carol')), 1_000_000n - 300n)
    assert.ok(h.ledger.holdsValue(h.key('carol')))
    const { op, outcome } = h.cancel('carol', c, call.id.seq, 1)
    assert.equal(outcome.status, 'applied')
    assert.equal(h.ledger.balance(h.key('carol')), 1_000_000n, 'the value is back in the balance, not a credit')
    assert.deepEqual(h.ledger.callOutcome(call.id), { status: 'cancelled', cancelledBy: { account: op.account, seq: op.seq } })
    assert.equal(h.ledger.contract(c.address)!.queue.size, 0)
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
    // and it cannot be cancelled twice
    rejected(h.cancel('carol', c, call.id.seq, 1).outcome, 'bad-call')
    assert.equal(h.ledger.balance(h.key('carol')), 1_000_000n)
  })

  test('an execute that cites a call past its deadline is rejected as a whole', () => {
    const { h, c } = setup()
    const late = h.call('carol', c, 'deposit', [], 5n, 1_000_000, 1)
    const first = h.call('dave', c, 'deposit', [], 0n)
    assert.equal(h.executeCalls(c, [first.id]).outcome.status, 'applied')
    const fresh = h.call('bob', c, 'deposit', [], 7n)
    const { outcome } = h.executeCalls(c, [fresh.id, late.id])
    rejected(outcome, 'bad-call')
    assert.match((outcome as { detail: string }).detail, new RegExp(`call ${slotKey(late.id.account, late.id.seq)} cannot run at contract seq 2`))
    assert.equal(h.ledger.callOutcome(fresh.id)?.status, 'queued', 'no call of a rejected execute runs')
    assert.equal(h.ledger.balance(c.address), 0n)
    // at its deadline a call still runs
    const onTime = h.call('carol', c, 'deposit', [], 1n, 1_000_000, 3)
    assert.equal(h.executeCalls(c, [onTime.id, fresh.id]).outcome.status, 'applied')
    assert.equal(h.ledger.callOutcome(onTime.id)?.status, 'ok')
  })

  test('a cancel is rejected before the cited slot reaches the deadline, without a contract slot, for a call without deadline, and for an executed call', () => {
    const { h, c } = setup()
    const call = h.call('carol', c, 'deposit', [], 40n, 1_000_000, 2)
    const plain = h.call('carol', c, 'deposit', [], 60n)
    const ran = h.call('bob', c, 'deposit', [], 80n, 1_000_000, 1)
    assert.equal(h.executeCalls(c, [ran.id]).outcome.status, 'applied')
    const carol = h.ledger.balance(h.key('carol'))
    const bob = h.holdings(h.key('bob'))
    rejected(h.cancel('carol', c, call.id.seq, 1).outcome, 'bad-call') // deadline 2, cited seq 1
    rejected(h.cancel('carol', c, call.id.seq, 0).outcome, 'bad-dependency') // no contract slot cited
    rejected(h.cancel('carol', c, plain.id.seq, 1).outcome, 'bad-call') // no deadline
    rejected(h.cancel('bob', c, ran.id.seq, 1).outcome, 'bad-call') // already executed
    rejected(h.cancel('carol', c, 99, 1).outcome, 'bad-call') // not an earlier op of the stream
    assert.equal(h.ledger.balance(h.key('carol')), carol)
    assert.equal(h.holdings(h.key('bob')), bob)
    assert.equal(h.ledger.callOutcome(ran.id)?.status, 'ok')
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
  })

  test('only the caller can cancel its call: a cancel names a seq of its own stream', () => {
    const { h, c } = setup()
    const call = h.call('carol', c, 'deposit', [], 40n, 1_000_000, 1)
    const other = h.call('dave', c, 'deposit', [], 0n)
    h.executeCalls(c, [other.id])
    // bob names carol's seq: that is bob's own slot, which holds no call of his
    rejected(h.cancel('bob', c, call.id.seq, 1).outcome, 'bad-call')
    assert.equal(h.ledger.callOutcome(call.id)?.status, 'queued')
  })

  test('a cancel citing a contract slot that also paid the caller claims that credit once', () => {
    const { h, c } = setup()
    const call = h.call('carol', c, 'deposit', [], 40n, 1_000_000, 1)
    // carol's failing call at seq 1 refunds her from the contract's slot 1
    const failing = h.call('carol', c, 'nothing-here', [], 9n)
    assert.equal(h.executeCalls(c, [failing.id]).outcome.status, 'applied')
    assert.equal(h.ledger.uncitedCredits(h.key('carol')).length, 1)
    assert.equal(h.cancel('carol', c, call.id.seq, 1).outcome.status, 'applied')
    assert.equal(h.ledger.uncitedCredits(h.key('carol')).length, 0)
    assert.equal(h.ledger.balance(h.key('carol')), 1_000_000n)
  })

  test('every delivery order gives the same state and outcomes: cancel and a later execute race', () => {
    const { h, c } = setup()
    const expired = h.call('carol', c, 'deposit', [], 50n, 1_000_000, 1)
    const ran = h.call('bob', c, 'deposit', [], 100n, 1_000_000, 2)
    const waits = h.call('carol', c, 'deposit', [], 30n, 1_000_000, 5)
    const plain = h.call('dave', c, 'deposit', [], 20n)
    assert.equal(h.executeCalls(c, [ran.id]).outcome.status, 'applied') // seq 1: carol's call is left out
    assert.equal(h.executeCalls(c, [plain.id]).outcome.status, 'applied') // seq 2
    // carol cancels (cites seq 2) while the sequencer tries to run her expired call at seq 3:
    // the two are concurrent, so nodes deliver them in either order
    const { op: cancel, outcome: cancelled } = h.cancel('carol', c, expired.id.seq, 2)
    const { op: execute, outcome: tooLate } = h.executeCalls(c, [expired.id])
    const early = h.cancel('carol', c, waits.id.seq, 2).outcome // deadline 5 not reached
    const again = h.cancel('bob', c, ran.id.seq, 2).outcome // bob's call ran at seq 1
    assert.equal(cancelled.status, 'applied')
    rejected(tooLate, 'bad-call')
    rejected(early, 'bad-call')
    rejected(again, 'bad-call')
    const { reference: r, seen } = sameEverywhere(h, [expired.id, ran.id, waits.id, plain.id])
    const first = (o: string[]): boolean => o.indexOf(slotKey(cancel.account, cancel.seq)) < o.indexOf(slotKey(execute.account, execute.seq))
    assert.ok(seen.some(first) && !seen.every(first), 'both orders of the cancel and the late execute were replayed')
    assert.equal((r.calls.get(slotKey(expired.id.account, expired.id.seq)) as { status: string }).status, 'cancelled')
    assert.equal((r.calls.get(slotKey(ran.id.account, ran.id.seq)) as { status: string }).status, 'ok')
    assert.equal((r.calls.get(slotKey(waits.id.account, waits.id.seq)) as { status: string }).status, 'queued')
  })

  test('every delivery order agrees when the call runs at its deadline and the cancel cites that very slot', () => {
    const { h, c } = setup()
    const call = h.call('carol', c, 'deposit', [], 50n, 1_000_000, 1)
    assert.equal(h.executeCalls(c, [call.id]).outcome.status, 'applied')
    rejected(h.cancel('carol', c, call.id.seq, 1).outcome, 'bad-call')
    const r = sameEverywhere(h, [call.id]).reference
    assert.equal((r.calls.get(slotKey(call.id.account, call.id.seq)) as { status: string }).status, 'ok')
  })

  test('the sequencer leaves out calls past their deadline and builds nothing when only those are queued', () => {
    const { h, c } = setup()
    const sequencer = new ContractSequencer(h.users.alice!, h.networkId)
    const late = h.call('carol', c, 'deposit', [], 5n, 1_000_000, 1)
    const first = h.call('dave', c, 'deposit', [], 0n)
    h.executeCalls(c, [first.id])
    assert.equal(sequencer.next(h.ledger, c.address, 10), undefined, 'only an expired call is queued')
    const fresh = h.call('bob', c, 'deposit', [], 0n, 1_000_000, 2)
    const op = sequencer.next(h.ledger, c.address, 10)!
    assert.deepEqual(op.body.kind === 'execute' ? op.body.calls : [], [fresh.id])
    assert.equal(h.ledger.apply(op).status, 'applied')
    assert.equal(h.ledger.callOutcome(late.id)?.status, 'queued', 'the expired call waits for its caller to cancel it')
  })

  test('a snapshot carries queued calls with and without a deadline, and its root commits to the deadline', () => {
    const build = (deadline: number): ContractHarness => {
      const { h, c } = setup()
      h.call('carol', c, 'deposit', [], 5n, 1_000_000, deadline)
      h.call('bob', c, 'deposit', [], 7n)
      return h
    }
    const h = build(4)
    const state = h.ledger.exportState()
    assert.equal(state.contracts[0]!.queue.filter(q => q.deadline === 4).length, 1)
    const snap = buildSnapshot(state)
    const back = Ledger.fromState(h.genesis, readSnapshot(snap.manifest, snap.chunks))
    assert.deepEqual(back.exportState(), state)
    assert.equal(toHex(back.stateHash()), toHex(h.ledger.stateHash()))
    assert.ok(back.holdsValue(h.key('carol')))
    assert.notEqual(toHex(build(5).ledger.stateHash()), toHex(h.ledger.stateHash()), 'another deadline is another state')
  })
})
