// The sample contracts in contracts/ (token, escrow, vesting, multisig) run through the ledger with
// ContractHarness: each one's happy path, every enforce path with proof that a failed call changed
// nothing (storage, balances, the value it carried), properties over random call sequences, and
// the gas of each contract's main function, which must be the same in every fresh run.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import type { Value } from '../../src/core/codec/canonical.js'
import type { CallOutcome } from '../../src/core/ledger/contracts.js'
import { toCodec } from '../../src/core/vm/values.js'
import { ContractHarness } from '../support/contract-harness.js'
import type { Deployed } from '../support/contract-harness.js'

// ---------------------------------------------------------------------------------------------
// Helpers

/** Tests run from dist/test/unit/, so the sources are three levels up. */
function source (name: string): string {
  return readFileSync(new URL(`../../../contracts/${name}.lisp`, import.meta.url), 'utf8')
}

const TOKEN = source('token')
const ESCROW = source('escrow')
const VESTING = source('vesting')
const MULTISIG = source('multisig')

const USERS = ['alice', 'bob', 'carol', 'dave'] as const
type User = typeof USERS[number]
const START = 1_000_000n

function deployed (h: ContractHarness, from: User, code: string, args: Value[]): Deployed {
  const c = h.deploy(from, code, args)
  assert.equal(c.outcome.status, 'applied', c.outcome.status === 'rejected' ? c.outcome.detail : '')
  return c
}

function deployRejected (code: string, args: (h: ContractHarness) => Value[], message: RegExp): void {
  const h = new ContractHarness()
  const c = h.deploy('alice', code, args(h))
  assert.equal(c.outcome.status, 'rejected')
  if (c.outcome.status === 'rejected') {
    assert.equal(c.outcome.reason, 'contract-error')
    assert.match(c.outcome.detail, message)
  }
  assert.equal(h.ledger.contract(c.address), undefined)
}

/** The call succeeded: its result. */
function ok (out: CallOutcome): Value {
  if (out.status !== 'ok') assert.fail(`expected ok, got ${out.status === 'error' ? out.error : out.status}`)
  return out.result
}

function eventsOf (out: CallOutcome): Array<{ name: string, data: Value }> {
  assert.equal(out.status, 'ok')
  return out.status === 'ok' ? out.events.map(e => ({ name: e.name, data: e.data })) : []
}

/** A query: a call with no value whose result is returned. */
function query (h: ContractHarness, c: Deployed, fn: string, args: Value[] = [], time = 0): Value {
  return ok(h.run('dave', c, fn, args, 0n, time))
}

/** Everything a call could change: the contract's storage and holdings, and every user's holdings. */
function snapshot (h: ContractHarness, c: Deployed): unknown {
  const storage = [...h.ledger.contract(c.address)!.storage.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([tag, [, v]]) => [tag, toCodec(v)])
  return { storage, contract: h.holdings(c.address), users: USERS.map(u => h.holdings(h.key(u))) }
}

function conserved (h: ContractHarness): void {
  assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
}

/**
 * Runs a call that must fail an enforce with `message`, and checks it changed nothing: storage,
 * the contract's money and everyone's holdings (so an attached value came back to the caller).
 */
function refused (h: ContractHarness, c: Deployed, from: User, fn: string, args: Value[], message: RegExp, value = 0n, time = 0): void {
  const before = snapshot(h, c)
  const out = h.run(from, c, fn, args, value, time)
  assert.equal(out.status, 'error', `${fn} by ${from} should fail`)
  if (out.status === 'error') {
    assert.equal(out.errorKind, 'enforce', out.error)
    assert.match(out.error, message)
  }
  assert.deepEqual(snapshot(h, c), before, `${fn} by ${from} failed but changed something`)
  conserved(h)
}

/** Calling init again after deploy is refused (by the ledger, or by the call failing) and changes nothing. */
function initIsDeployOnly (h: ContractHarness, c: Deployed, args: Value[]): void {
  const before = snapshot(h, c)
  const { id, outcome } = h.call('bob', c, 'init', args)
  if (outcome.status === 'applied') {
    h.execute(c)
    assert.equal(h.ledger.callOutcome(id)?.status, 'error', 'a second init must not run')
  } else {
    assert.equal(outcome.reason, 'bad-call')
  }
  assert.deepEqual(snapshot(h, c), before)
  conserved(h)
}

// ---------------------------------------------------------------------------------------------
// Token

describe('contracts/token.lisp', () => {
  const setup = (supply = 1000n): { h: ContractHarness, c: Deployed } => {
    const h = new ContractHarness()
    return { h, c: deployed(h, 'alice', TOKEN, [h.key('alice'), supply]) }
  }
  const balanceOf = (h: ContractHarness, c: Deployed, who: User): Value => query(h, c, 'balance-of', [h.key(who)])

  test('init gives the owner the whole supply; transfer moves tokens and emits an event; the owner mints', () => {
    const { h, c } = setup()
    assert.equal(query(h, c, 'total-supply'), 1000n)
    assert.equal(balanceOf(h, c, 'alice'), 1000n)
    assert.equal(balanceOf(h, c, 'bob'), 0n)

    const sent = h.run('alice', c, 'transfer', [h.key('bob'), 250n])
    assert.equal(ok(sent), true)
    assert.deepEqual(eventsOf(sent), [{ name: 'transfer', data: { 's:from': h.key('alice'), 's:to': h.key('bob'), 's:amount': 250n } }])
    assert.equal(balanceOf(h, c, 'alice'), 750n)
    assert.equal(balanceOf(h, c, 'bob'), 250n)

    assert.equal(ok(h.run('bob', c, 'transfer', [h.key('carol'), 250n])), true, 'a whole balance can be sent')
    assert.equal(balanceOf(h, c, 'bob'), 0n)

    const minted = h.run('alice', c, 'mint', [h.key('dave'), 500n])
    assert.equal(ok(minted), true)
    assert.deepEqual(eventsOf(minted), [{ name: 'mint', data: { 's:to': h.key('dave'), 's:amount': 500n } }])
    assert.equal(query(h, c, 'total-supply'), 1500n)
    assert.equal(balanceOf(h, c, 'dave'), 500n)
    // the token is storage only: no money moved anywhere
    for (const u of USERS) assert.equal(h.holdings(h.key(u)), START)
    assert.equal(h.holdings(c.address), 0n)
  })

  test('a transfer to oneself changes nothing', () => {
    const { h, c } = setup()
    assert.equal(ok(h.run('alice', c, 'transfer', [h.key('alice'), 600n])), true)
    assert.equal(balanceOf(h, c, 'alice'), 1000n)
    assert.equal(query(h, c, 'total-supply'), 1000n)
  })

  test('every refused call changes nothing, and the value it carried comes back', () => {
    const { h, c } = setup()
    ok(h.run('alice', c, 'transfer', [h.key('bob'), 100n]))
    refused(h, c, 'bob', 'mint', [h.key('bob'), 1000n], /only the owner may mint/, 7n)
    refused(h, c, 'bob', 'transfer', [h.key('carol'), 101n], /insufficient token balance/, 5n)
    refused(h, c, 'carol', 'transfer', [h.key('bob'), 1n], /insufficient token balance/)
    refused(h, c, 'bob', 'transfer', [h.key('carol'), 0n], /amount must be positive/)
    refused(h, c, 'bob', 'transfer', [h.key('carol'), -5n], /amount must be positive/)
    refused(h, c, 'bob', 'transfer', [new Uint8Array(16), 1n], /recipient must be an account key/)
    refused(h, c, 'alice', 'mint', [h.key('bob'), 0n], /amount must be positive/)
    refused(h, c, 'alice', 'mint', [new Uint8Array(31), 10n], /recipient must be an account key/)
    // and the queries agree that nothing moved
    assert.equal(balanceOf(h, c, 'alice'), 900n)
    assert.equal(balanceOf(h, c, 'bob'), 100n)
    assert.equal(query(h, c, 'total-supply'), 1000n)
  })

  test('minting past the 64-bit range aborts the call and changes nothing', () => {
    const { h, c } = setup((1n << 64n) - 10n)
    const before = snapshot(h, c)
    const out = h.run('alice', c, 'mint', [h.key('bob'), 10n])
    assert.equal(out.status === 'error' ? out.errorKind : out.status, 'runtime')
    assert.deepEqual(snapshot(h, c), before)
    assert.equal(ok(h.run('alice', c, 'mint', [h.key('bob'), 9n])), true, 'up to 2^64-1 is fine')
  })

  test('a bad deploy is rejected, and init cannot be run again', () => {
    deployRejected(TOKEN, () => [new Uint8Array(16), 10n], /owner must be an account key/)
    deployRejected(TOKEN, h => [h.key('alice'), -1n], /supply cannot be negative/)
    const { h, c } = setup()
    initIsDeployOnly(h, c, [h.key('bob'), 1n])
    assert.equal(query(h, c, 'total-supply'), 1000n)
  })

  test('property: after any sequence of transfers and mints, total supply is the sum of all balances', () => {
    const action = fc.record({
      kind: fc.constantFrom('transfer', 'mint'),
      from: fc.constantFrom(...USERS),
      to: fc.constantFrom(...USERS),
      amount: fc.bigInt({ min: -2n, max: 600n })
    })
    fc.assert(fc.property(fc.array(action, { maxLength: 12 }), actions => {
      const { h, c } = setup()
      const model = new Map<User, bigint>(USERS.map(u => [u, u === 'alice' ? 1000n : 0n]))
      let supply = 1000n
      for (const a of actions) {
        const have = model.get(a.from)!
        const valid = a.amount > 0n && (a.kind === 'transfer' ? have >= a.amount : a.from === 'alice')
        const out = h.run(a.from, c, a.kind, [h.key(a.to), a.amount])
        assert.equal(out.status, valid ? 'ok' : 'error', `${a.kind} ${a.from}->${a.to} ${a.amount}`)
        if (!valid) continue
        if (a.kind === 'transfer') model.set(a.from, have - a.amount)
        else supply += a.amount
        model.set(a.to, model.get(a.to)! + a.amount)
      }
      // every balance in storage (bytes keys), against "supply" and the model
      const storage = [...h.ledger.contract(c.address)!.storage.values()]
      const sum = storage.filter(([k]) => k instanceof Uint8Array).reduce((s, [, v]) => s + (v as bigint), 0n)
      assert.equal(sum, supply)
      assert.equal(query(h, c, 'total-supply'), supply)
      for (const u of USERS) assert.equal(balanceOf(h, c, u), model.get(u))
    }), { numRuns: 50 })
  })
})

// ---------------------------------------------------------------------------------------------
// Escrow: bob buys from carol, dave arbitrates, alice deploys (and sequences)

describe('contracts/escrow.lisp', () => {
  const setup = (): { h: ContractHarness, c: Deployed } => {
    const h = new ContractHarness()
    return { h, c: deployed(h, 'alice', ESCROW, [h.key('bob'), h.key('carol'), h.key('dave')]) }
  }

  test('deposit then release: the seller is paid the deposit, once', () => {
    const { h, c } = setup()
    assert.equal(query(h, c, 'status'), 'awaiting-deposit')
    const dep = h.run('bob', c, 'deposit', [], 500n)
    assert.equal(ok(dep), 500n)
    assert.deepEqual(eventsOf(dep), [{ name: 'deposited', data: { 's:amount': 500n } }])
    assert.equal(query(h, c, 'status'), 'funded')
    assert.equal(query(h, c, 'amount'), 500n)
    assert.equal(h.holdings(c.address), 500n)
    assert.equal(h.holdings(h.key('bob')), START - 500n)

    const rel = h.run('dave', c, 'release')
    assert.equal(ok(rel), 500n)
    assert.deepEqual(eventsOf(rel), [{ name: 'released', data: { 's:to': h.key('carol'), 's:amount': 500n } }])
    assert.equal(query(h, c, 'status'), 'released')
    assert.equal(h.holdings(h.key('carol')), START + 500n)
    assert.equal(h.holdings(c.address), 0n)
    conserved(h)
  })

  test('deposit then refund: the buyer gets the deposit back; the buyer may release and the arbiter refund', () => {
    const { h, c } = setup()
    ok(h.run('bob', c, 'deposit', [], 300n))
    assert.equal(ok(h.run('carol', c, 'refund')), 300n, 'the seller may refund')
    assert.equal(query(h, c, 'status'), 'refunded')
    assert.equal(h.holdings(h.key('bob')), START)
    assert.equal(h.holdings(h.key('carol')), START)

    const b = setup()
    ok(b.h.run('bob', b.c, 'deposit', [], 10n))
    assert.equal(ok(b.h.run('bob', b.c, 'release')), 10n, 'the buyer may release')
    assert.equal(b.h.holdings(b.h.key('carol')), START + 10n)

    const d = setup()
    ok(d.h.run('bob', d.c, 'deposit', [], 10n))
    assert.equal(ok(d.h.run('dave', d.c, 'refund')), 10n, 'the arbiter may refund')
    assert.equal(d.h.holdings(d.h.key('bob')), START)
  })

  test('every refused call changes nothing, and the value it carried comes back', () => {
    const { h, c } = setup()
    refused(h, c, 'dave', 'release', [], /not funded, or already settled/)
    refused(h, c, 'dave', 'refund', [], /not funded, or already settled/)
    refused(h, c, 'carol', 'deposit', [], /only the buyer may deposit/, 100n)
    refused(h, c, 'bob', 'deposit', [], /attach the payment/)
    ok(h.run('bob', c, 'deposit', [], 400n))
    refused(h, c, 'bob', 'deposit', [], /already been made/, 50n)
    refused(h, c, 'carol', 'release', [], /only the arbiter or the buyer may release/)
    refused(h, c, 'alice', 'release', [], /only the arbiter or the buyer may release/)
    refused(h, c, 'bob', 'refund', [], /only the arbiter or the seller may refund/)
    refused(h, c, 'dave', 'release', [], /takes no value/, 25n)
    assert.equal(query(h, c, 'status'), 'funded')
    ok(h.run('dave', c, 'release'))
    refused(h, c, 'dave', 'release', [], /already settled/)
    refused(h, c, 'bob', 'release', [], /already settled/)
    refused(h, c, 'dave', 'refund', [], /already settled/)
    refused(h, c, 'carol', 'refund', [], /already settled/)
    assert.equal(query(h, c, 'status'), 'released')
    assert.equal(h.holdings(h.key('carol')), START + 400n)
  })

  test('a bad deploy is rejected, and init cannot be run again', () => {
    deployRejected(ESCROW, h => [h.key('bob'), h.key('bob'), h.key('dave')], /must be different accounts/)
    deployRejected(ESCROW, h => [h.key('bob'), 'carol', h.key('dave')], /must be account keys/)
    const { h, c } = setup()
    ok(h.run('bob', c, 'deposit', [], 100n))
    initIsDeployOnly(h, c, [h.key('alice'), h.key('alice'), h.key('alice')])
    assert.equal(query(h, c, 'status'), 'funded')
  })

  test('property: whatever the parties call, the escrow pays out at most once and money is conserved', () => {
    const action = fc.record({
      who: fc.constantFrom(...USERS),
      fn: fc.constantFrom('deposit', 'release', 'refund', 'status'),
      value: fc.constantFrom(0n, 1n, 250n)
    })
    fc.assert(fc.property(fc.array(action, { maxLength: 14 }), actions => {
      const { h, c } = setup()
      let state = 'awaiting-deposit'
      let amount = 0n
      let payouts = 0
      for (const a of actions) {
        const value = a.fn === 'status' ? 0n : a.value
        const expected =
          a.fn === 'deposit'
            ? a.who === 'bob' && state === 'awaiting-deposit' && value > 0n
            : a.fn === 'release'
              ? value === 0n && (a.who === 'dave' || a.who === 'bob') && state === 'funded'
              : a.fn === 'refund'
                ? value === 0n && (a.who === 'dave' || a.who === 'carol') && state === 'funded'
                : true
        const out = h.run(a.who, c, a.fn, [], value)
        assert.equal(out.status, expected ? 'ok' : 'error', `${a.fn} by ${a.who} with ${value} in ${state}`)
        if (out.status === 'error') assert.equal(out.errorKind, 'enforce')
        if (expected && a.fn === 'deposit') { state = 'funded'; amount = value }
        if (expected && a.fn === 'release') { state = 'released'; payouts++ }
        if (expected && a.fn === 'refund') { state = 'refunded'; payouts++ }
        assert.ok(payouts <= 1)
        assert.equal(h.holdings(c.address), state === 'funded' ? amount : 0n)
        assert.equal(h.holdings(h.key('bob')), state === 'funded' || state === 'released' ? START - amount : START)
        assert.equal(h.holdings(h.key('carol')), state === 'released' ? START + amount : START)
        assert.equal(h.holdings(h.key('alice')), START)
        assert.equal(h.holdings(h.key('dave')), START)
        conserved(h)
      }
      assert.equal(query(h, c, 'status'), state)
    }), { numRuns: 50 })
  })
})

// ---------------------------------------------------------------------------------------------
// Vesting: bob is the beneficiary

/** The schedule in TypeScript: what vesting.lisp must agree with. */
function vestedAt (t: bigint, start: bigint, cliff: bigint, duration: bigint, total: bigint): bigint {
  if (t < start + cliff) return 0n
  if (t >= start + duration) return total
  return total * (t - start) / duration
}

describe('contracts/vesting.lisp', () => {
  const setup = (start = 1000n, cliff = 500n, duration = 2000n): { h: ContractHarness, c: Deployed } => {
    const h = new ContractHarness()
    return { h, c: deployed(h, 'alice', VESTING, [h.key('bob'), start, cliff, duration]) }
  }

  test('vested follows the schedule: nothing before the cliff, linear after, everything at the end', () => {
    const { h, c } = setup()
    assert.equal(ok(h.run('carol', c, 'fund', [], 1000n, 10)), 1000n)
    for (const [t, v] of [[0n, 0n], [1000n, 0n], [1499n, 0n], [1500n, 250n], [1501n, 250n], [2000n, 500n], [2999n, 999n], [3000n, 1000n], [9000n, 1000n]] as const) {
      assert.equal(query(h, c, 'vested', [t]), v, `vested at ${t}`)
      assert.equal(v, vestedAt(t, 1000n, 500n, 2000n, 1000n))
    }
  })

  test('releases at several times pay the vested amount less what was paid, and sum to the funded amount', () => {
    const { h, c } = setup()
    ok(h.run('carol', c, 'fund', [], 1000n, 10))
    refused(h, c, 'bob', 'release', [], /nothing to release yet/, 0n, 1200)
    const first = h.run('carol', c, 'release', [], 0n, 1500) // anyone may trigger it; bob is paid
    assert.equal(ok(first), 250n)
    assert.deepEqual(eventsOf(first), [{ name: 'released', data: { 's:to': h.key('bob'), 's:amount': 250n, 's:at': 1500n } }])
    assert.equal(h.holdings(h.key('bob')), START + 250n)
    refused(h, c, 'bob', 'release', [], /nothing to release yet/, 0n, 1500)
    assert.equal(ok(h.run('bob', c, 'release', [], 0n, 2250)), 375n) // 625 vested
    // more funds later: the schedule applies to the new total, and what vested already is payable
    assert.equal(ok(h.run('dave', c, 'fund', [], 1000n, 2250)), 2000n)
    assert.equal(query(h, c, 'releasable', [], 2250), 625n) // 2000 * 1250 / 2000 - 625
    assert.equal(ok(h.run('bob', c, 'release', [], 0n, 2600)), 975n) // 1600 - 625
    assert.equal(ok(h.run('bob', c, 'release', [], 0n, 3000)), 400n) // all 2000
    refused(h, c, 'bob', 'release', [], /nothing to release yet/, 0n, 5000)
    assert.equal(query(h, c, 'released'), 2000n)
    assert.equal(h.holdings(h.key('bob')), START + 2000n)
    assert.equal(h.holdings(c.address), 0n)
    conserved(h)
  })

  test('every refused call changes nothing, and the value it carried comes back', () => {
    const { h, c } = setup()
    refused(h, c, 'bob', 'release', [], /nothing to release yet/, 0n, 5000) // nothing funded
    refused(h, c, 'carol', 'fund', [], /attach the amount/)
    ok(h.run('carol', c, 'fund', [], 100n, 5000))
    refused(h, c, 'bob', 'release', [], /takes no value/, 3n, 5000)
    assert.equal(query(h, c, 'released'), 0n)
    assert.equal(query(h, c, 'funded'), 100n)
  })

  test('a fund too large for the duration is refused instead of making vested overflow later', () => {
    // total * duration must fit in 64 bits: with duration 2^45 the total may be at most 2^19 - 1
    const duration = 1n << 45n
    const most = (1n << 19n) - 1n
    const h = new ContractHarness()
    const c = deployed(h, 'alice', VESTING, [h.key('bob'), 0n, 0n, duration])
    ok(h.run('carol', c, 'fund', [], most))
    refused(h, c, 'carol', 'fund', [], /total too large for this duration/, 1n)
    assert.equal(query(h, c, 'vested', [duration - 1n]), most * (duration - 1n) / duration)
  })

  test('a bad deploy is rejected, and init cannot be run again', () => {
    deployRejected(VESTING, h => [h.key('bob'), 0n, 3000n, 2000n], /cliff must be between 0 and duration/)
    deployRejected(VESTING, h => [h.key('bob'), 0n, 0n, 0n], /duration must be positive/)
    deployRejected(VESTING, h => [h.key('bob'), -1n, 0n, 10n], /start must be a time/)
    deployRejected(VESTING, () => [new Uint8Array(32 + 1), 0n, 0n, 10n], /beneficiary must be an account key/)
    const { h, c } = setup()
    initIsDeployOnly(h, c, [h.key('carol'), 0n, 0n, 1n])
  })

  test('property: releases at random times match the linear schedule and never exceed the funded amount', () => {
    const scenario = fc.record({
      start: fc.bigInt({ min: 0n, max: 10_000n }),
      duration: fc.bigInt({ min: 1n, max: 10_000n }),
      cliffShare: fc.integer({ min: 0, max: 100 }),
      total: fc.bigInt({ min: 1n, max: 500_000n }),
      steps: fc.array(fc.bigInt({ min: 0n, max: 25_000n }), { minLength: 1, maxLength: 8 })
    })
    fc.assert(fc.property(scenario, ({ start, duration, cliffShare, total, steps }) => {
      const cliff = duration * BigInt(cliffShare) / 100n
      const h = new ContractHarness()
      const c = deployed(h, 'alice', VESTING, [h.key('bob'), start, cliff, duration])
      ok(h.run('carol', c, 'fund', [], total))
      let paid = 0n
      for (const t of [...steps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
        const due = vestedAt(t, start, cliff, duration, total) - paid
        const out = h.run('dave', c, 'release', [], 0n, Number(t))
        if (due === 0n) {
          assert.equal(out.status === 'error' ? out.errorKind : out.status, 'enforce')
        } else {
          assert.equal(ok(out), due)
          paid += due
        }
        assert.ok(paid <= total)
        assert.equal(h.holdings(h.key('bob')), START + paid)
        assert.equal(h.holdings(c.address), total - paid)
        conserved(h)
      }
    }), { numRuns: 50 })
  })
})

// ---------------------------------------------------------------------------------------------
// Multisig: alice, bob and carol own it, 2 of 3 must approve; dave is an outsider

describe('contracts/multisig.lisp', () => {
  const setup = (fund = 1000n): { h: ContractHarness, c: Deployed } => {
    const h = new ContractHarness()
    const c = deployed(h, 'alice', MULTISIG, [[h.key('alice'), h.key('bob'), h.key('carol')], 2n])
    if (fund > 0n) ok(h.run('dave', c, 'fund', [], fund))
    return { h, c }
  }

  test('propose, two approvals, execute: the recipient is paid once', () => {
    const { h, c } = setup()
    assert.equal(h.holdings(c.address), 1000n)
    const proposed = h.run('bob', c, 'propose', [h.key('dave'), 300n])
    assert.equal(ok(proposed), 0n)
    assert.deepEqual(eventsOf(proposed), [{ name: 'proposed', data: { 's:id': 0n, 's:by': h.key('bob'), 's:to': h.key('dave'), 's:amount': 300n } }])
    assert.equal(ok(h.run('alice', c, 'propose', [h.key('carol'), 50n])), 1n, 'ids count up')
    assert.equal(query(h, c, 'approvals', [0n]), 0n, 'proposing is not approving')
    assert.equal(ok(h.run('alice', c, 'approve', [0n])), 1n)
    assert.equal(ok(h.run('carol', c, 'approve', [0n])), 2n)
    assert.deepEqual(query(h, c, 'proposal', [0n]), { 's:to': h.key('dave'), 's:amount': 300n, 's:approvals': [h.key('alice'), h.key('carol')], 's:executed': false })
    const paid = h.run('bob', c, 'execute', [0n])
    assert.equal(ok(paid), 300n)
    assert.deepEqual(eventsOf(paid), [{ name: 'executed', data: { 's:id': 0n, 's:to': h.key('dave'), 's:amount': 300n } }])
    assert.equal(query(h, c, 'executed?', [0n]), true)
    assert.equal(query(h, c, 'executed?', [1n]), false)
    assert.equal(h.holdings(h.key('dave')), START - 1000n + 300n)
    assert.equal(h.holdings(c.address), 700n)
    conserved(h)
  })

  test('every refused call changes nothing, and the value it carried comes back', () => {
    const { h, c } = setup()
    refused(h, c, 'dave', 'propose', [h.key('dave'), 10n], /only an owner/)
    refused(h, c, 'bob', 'propose', [h.key('dave'), 0n], /amount must be a positive integer/)
    refused(h, c, 'bob', 'propose', [new Uint8Array(8), 10n], /recipient must be an account key/)
    refused(h, c, 'bob', 'propose', [h.key('dave'), 10n], /takes no value/, 10n)
    ok(h.run('bob', c, 'propose', [h.key('dave'), 400n])) // id 0
    refused(h, c, 'dave', 'approve', [0n], /only an owner/)
    refused(h, c, 'alice', 'approve', [7n], /no such proposal/)
    refused(h, c, 'alice', 'approve', ['owners'], /a proposal id is an integer/)
    ok(h.run('alice', c, 'approve', [0n]))
    refused(h, c, 'alice', 'approve', [0n], /already approved/)
    refused(h, c, 'alice', 'execute', [0n], /not enough approvals/)
    ok(h.run('bob', c, 'approve', [0n]))
    refused(h, c, 'dave', 'execute', [0n], /only an owner/)
    refused(h, c, 'carol', 'execute', [0n], /takes no value/, 1n)
    assert.equal(query(h, c, 'approvals', [0n]), 2n)
    assert.equal(h.holdings(c.address), 1000n)
    assert.equal(ok(h.run('carol', c, 'execute', [0n])), 400n)
    refused(h, c, 'carol', 'execute', [0n], /already been executed/)
    refused(h, c, 'alice', 'execute', [0n], /already been executed/)
    refused(h, c, 'carol', 'approve', [0n], /already been executed/)
    // a payout larger than the account holds waits for funds
    ok(h.run('bob', c, 'propose', [h.key('dave'), 700n])) // id 1
    ok(h.run('alice', c, 'approve', [1n]))
    ok(h.run('bob', c, 'approve', [1n]))
    assert.equal(h.holdings(c.address), 600n)
    refused(h, c, 'alice', 'execute', [1n], /not enough funds/)
    ok(h.run('carol', c, 'fund', [], 100n))
    assert.equal(ok(h.run('alice', c, 'execute', [1n])), 700n)
    assert.equal(h.holdings(c.address), 0n)
    assert.equal(h.holdings(h.key('dave')), START - 1000n + 400n + 700n)
    conserved(h)
  })

  test('a bad deploy is rejected, and init cannot be run again', () => {
    deployRejected(MULTISIG, h => [[h.key('alice'), h.key('bob'), h.key('alice')], 2n], /an owner is listed twice/)
    deployRejected(MULTISIG, h => [[h.key('alice'), h.key('bob')], 3n], /threshold must be between 1 and the number of owners/)
    deployRejected(MULTISIG, h => [[h.key('alice'), h.key('bob')], 0n], /threshold must be between 1/)
    deployRejected(MULTISIG, h => [[h.key('alice'), new Uint8Array(31)], 1n], /every owner must be an account key/)
    deployRejected(MULTISIG, h => [h.key('alice'), 1n], /owners must be a list/)
    const { h, c } = setup()
    initIsDeployOnly(h, c, [[h.key('dave')], 1n])
    refused(h, c, 'dave', 'propose', [h.key('dave'), 1n], /only an owner/)
  })

  test('property: a payout runs only with threshold approvals, and only once', () => {
    const action = fc.record({
      who: fc.constantFrom(...USERS),
      fn: fc.constantFrom('approve', 'execute'),
      id: fc.constantFrom(0n, 1n)
    })
    fc.assert(fc.property(fc.array(action, { maxLength: 14 }), actions => {
      const { h, c } = setup(1000n)
      ok(h.run('alice', c, 'propose', [h.key('dave'), 300n]))
      ok(h.run('alice', c, 'propose', [h.key('dave'), 200n]))
      const approvals = [new Set<User>(), new Set<User>()]
      const executed = [false, false]
      const amounts = [300n, 200n]
      for (const a of actions) {
        const i = Number(a.id)
        const owner = a.who !== 'dave'
        const expected = owner && !executed[i]! && (a.fn === 'approve' ? !approvals[i]!.has(a.who) : approvals[i]!.size >= 2)
        const out = h.run(a.who, c, a.fn, [a.id])
        assert.equal(out.status, expected ? 'ok' : 'error', `${a.fn} ${a.id} by ${a.who}`)
        if (expected && a.fn === 'approve') approvals[i]!.add(a.who)
        if (expected && a.fn === 'execute') executed[i] = true
        const out2 = executed.reduce((s, e, j) => s + (e ? amounts[j]! : 0n), 0n)
        assert.equal(h.holdings(c.address), 1000n - out2)
        assert.equal(h.holdings(h.key('dave')), START - 1000n + out2)
        conserved(h)
      }
    }), { numRuns: 50 })
  })
})

// ---------------------------------------------------------------------------------------------
// Gas

describe('gas of the main functions', () => {
  /** One fresh scenario per contract; the gas of its main call. */
  function measure (): Record<string, number> {
    const gas = (out: CallOutcome): number => {
      ok(out)
      return out.status === 'ok' ? out.gasUsed : -1
    }
    const t = new ContractHarness()
    const token = deployed(t, 'alice', TOKEN, [t.key('alice'), 1_000_000n])
    const e = new ContractHarness()
    const escrow = deployed(e, 'alice', ESCROW, [e.key('bob'), e.key('carol'), e.key('dave')])
    const deposit = e.run('bob', escrow, 'deposit', [], 500n)
    const v = new ContractHarness()
    const vesting = deployed(v, 'alice', VESTING, [v.key('bob'), 1000n, 500n, 2000n])
    ok(v.run('carol', vesting, 'fund', [], 1000n))
    const m = new ContractHarness()
    const multisig = deployed(m, 'alice', MULTISIG, [[m.key('alice'), m.key('bob'), m.key('carol')], 2n])
    ok(m.run('dave', multisig, 'fund', [], 1000n))
    ok(m.run('bob', multisig, 'propose', [m.key('dave'), 300n]))
    ok(m.run('alice', multisig, 'approve', [0n]))
    const approve = m.run('carol', multisig, 'approve', [0n]) // the second approval reaches the threshold
    return {
      'token transfer': gas(t.run('alice', token, 'transfer', [t.key('bob'), 250n])),
      'token mint': gas(t.run('alice', token, 'mint', [t.key('carol'), 250n])),
      'escrow deposit': gas(deposit),
      'escrow release': gas(e.run('dave', escrow, 'release')),
      'vesting release': gas(v.run('bob', vesting, 'release', [], 0n, 2000)),
      'multisig approve': gas(approve),
      'multisig execute': gas(m.run('bob', multisig, 'execute', [0n]))
    }
  }

  test('the same scenario in fresh harnesses uses exactly the same gas', () => {
    const first = measure()
    const second = measure()
    assert.deepEqual(second, first)
    for (const [name, g] of Object.entries(first)) assert.ok(g > 0 && g < 5000, `${name}: ${g}`)
    console.log('gas used:', Object.entries(first).map(([k, g]) => `${k} ${g}`).join(', '))
  })
})
