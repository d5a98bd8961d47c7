// The ledger's contract rules: deploy, call and execute validity, replay protection, rollback,
// and the replica's handling of execute ops whose contract it has not delivered yet.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import { encodeMessage } from '../../src/core/broadcast/messages.js'
import type { Outcome, RejectReason } from '../../src/core/ledger/ledger.js'
import { ContractHarness } from '../support/contract-harness.js'
import { LocalNet } from '../support/localnet.js'

const COUNTER = `
(defun init (start) (put "n" start) true)
(defun add (k) (put "n" (+ (get "n") k)) (get "n"))
(defun drain (to) (transfer to (balance)) true)
(defun boom () (put "n" -1) (transfer (caller) 1) (emit "never" 1) (enforce false "boom"))
`

function rejected (o: Outcome, reason: RejectReason): void {
  assert.equal(o.status === 'rejected' ? o.reason : o.status, reason)
}

describe('contracts in the ledger', () => {
  test('a deploy with a parse or check error is rejected with line:column and creates nothing', () => {
    const h = new ContractHarness()
    const bad = h.deploy('alice', '(defun f (x)\n  (+ x y))')
    rejected(bad.outcome, 'contract-error')
    assert.match((bad.outcome as { detail: string }).detail, /2:8: unknown name "y"/)
    assert.equal(h.ledger.contract(bad.address), undefined)
    assert.equal(h.ledger.nextSeq(h.key('alice')), 2, 'the rejected deploy still used its slot')
  })

  test('a deploy whose init fails is rejected; a good one runs init and takes an address derived from the deploy slot', () => {
    const h = new ContractHarness()
    rejected(h.deploy('alice', '(defun init () (enforce false "no"))').outcome, 'contract-error')
    const c = h.deploy('alice', COUNTER, [5n])
    assert.equal(c.outcome.status, 'applied')
    assert.deepEqual(c.address, contractAddress(h.key('alice'), 2))
    const out = h.run('bob', c, 'add', [2n])
    assert.equal(out.status === 'ok' ? out.result : out.status, 7n)
  })

  test('a call must cite the deploy of its contract, so it is never delivered before the contract exists', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [0n])
    const { outcome } = h.apply(h.users.bob!, { kind: 'call', contract: c.address, fn: 'add', args: [1n], value: 0n, gasLimit: 1000 })
    rejected(outcome, 'bad-dependency')
  })

  test('a call to a contract whose deploy was rejected is rejected, and keeps its value', () => {
    const h = new ContractHarness()
    const dead = h.deploy('alice', '(defun init () (enforce false "no"))')
    const { outcome } = h.call('bob', dead, 'add', [1n], 50n)
    rejected(outcome, 'unknown-contract')
    assert.equal(h.holdings(h.key('bob')), 1_000_000n)
  })

  test('value attached to a call leaves the caller at delivery and stays counted while queued', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [0n])
    h.call('bob', c, 'add', [1n], 300n)
    assert.equal(h.ledger.balance(h.key('bob')), 1_000_000n - 300n)
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
    h.execute(c, 10)
    assert.equal(h.ledger.balance(c.address), 300n)
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
  })

  test('a failed call leaves storage, balances and events as they were and refunds its value', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [9n])
    h.run('carol', c, 'add', [0n], 100n) // the contract now holds 100
    const out = h.run('bob', c, 'boom', [], 40n)
    assert.equal(out.status, 'error')
    assert.equal((out as { errorKind: string }).errorKind, 'enforce')
    assert.equal(h.ledger.balance(c.address), 100n)
    assert.equal(h.holdings(h.key('bob')), 1_000_000n, 'value refunded as a credit')
    const n = h.run('dave', c, 'add', [0n])
    assert.equal((n as { result: unknown }).result, 9n)
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
  })

  test('a call that runs out of gas is rolled back like any failure', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [1n])
    const out = h.run('bob', c, 'add', [1n], 5n, 0, 12)
    assert.equal(out.status, 'error')
    assert.equal((out as { errorKind: string }).errorKind, 'out-of-gas')
    assert.equal((out as { gasUsed: number }).gasUsed, 12)
    assert.equal((h.run('bob', c, 'add', [0n]) as { result: unknown }).result, 1n)
  })

  test('an execute may not cite an unknown, repeated or already executed call, and time never goes back', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [0n])
    const alice = h.users.alice!
    const first = h.call('bob', c, 'add', [1n])
    assert.equal(h.execute(c, 100)?.status, 'applied')
    const again = h.apply(alice, { kind: 'execute', calls: [first.id], time: 200 }, [first.id], c.address)
    rejected(again.outcome, 'bad-call')
    const second = h.call('bob', c, 'add', [1n])
    const twice = h.apply(alice, { kind: 'execute', calls: [second.id, second.id], time: 200 }, [second.id], c.address)
    rejected(twice.outcome, 'bad-call')
    const early = h.apply(alice, { kind: 'execute', calls: [second.id], time: 50 }, [second.id], c.address)
    rejected(early.outcome, 'bad-time')
    const uncited = h.apply(alice, { kind: 'execute', calls: [second.id], time: 300 }, [], c.address)
    rejected(uncited.outcome, 'bad-dependency')
    assert.equal(h.ledger.callOutcome(second.id)?.status, 'queued')
    assert.equal(h.execute(c, 300)?.status, 'applied')
    assert.equal(h.ledger.callOutcome(second.id)?.status, 'ok')
  })

  test('a contract stream holds only execute ops, and execute ops only belong to contract streams', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [0n])
    h.run('bob', c, 'add', [0n], 500n)
    // the sequencer tries to move the contract's money with a plain transfer from its stream
    const theft = h.apply(h.users.alice!, { kind: 'transfer', to: h.key('alice'), amount: 500n }, [], c.address)
    rejected(theft.outcome, 'not-a-contract')
    assert.equal(h.ledger.balance(c.address), 500n)
    const stray = h.apply(h.users.bob!, { kind: 'execute', calls: [{ account: h.key('bob'), seq: 1 }], time: 0 }, [{ account: h.key('bob'), seq: 1 }])
    rejected(stray.outcome, 'not-a-contract')
  })

  test('contract transfers pay the recipient as an uncited credit and keep money conserved', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [0n])
    h.run('bob', c, 'add', [0n], 250n)
    h.run('carol', c, 'drain', [h.key('dave')])
    assert.equal(h.ledger.balance(c.address), 0n)
    assert.equal(h.ledger.uncitedCredits(h.key('dave')).reduce((a, x) => a + x.amount, 0n), 250n)
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
  })

  test('init runs only at deploy: a later call to it is rejected, so nobody can re-initialise a contract', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER, [5n])
    const { outcome } = h.call('carol', c, 'init', [0n])
    rejected(outcome, 'bad-call')
    assert.equal((h.run('bob', c, 'add', [0n]) as { result: unknown }).result, 5n)
  })

  test('integer literals outside 64 bits and %-names are refused at deploy; map keys passed in are normalised', () => {
    const h = new ContractHarness()
    rejected(h.deploy('alice', '(defun f () 100000000000000000000)').outcome, 'contract-error')
    rejected(h.deploy('alice', '(defun %transfer (a b) 1)').outcome, 'contract-error')
    const c = h.deploy('alice', '(defun pick (m) (map-get m 5))')
    const out = h.run('bob', c, 'pick', [{ 'i:+5': 42n }])
    assert.equal(out.status === 'ok' ? out.result : out.status, 42n)
  })

  test('contract storage is part of the state hash', () => {
    const a = new ContractHarness()
    const b = new ContractHarness()
    const ca = a.deploy('alice', COUNTER, [0n])
    const cb = b.deploy('alice', COUNTER, [0n])
    assert.deepEqual(a.ledger.stateHash(), b.ledger.stateHash())
    a.run('bob', ca, 'add', [1n])
    b.run('bob', cb, 'add', [2n])
    assert.notDeepEqual(a.ledger.stateHash(), b.ledger.stateHash())
  })
})

describe('execute ops in SecureBroadcast', () => {
  test('a validator defers an execute op for a contract it has not delivered instead of calling it forged', () => {
    const net = new LocalNet()
    const alice = net.accounts[0]!
    const deploy = signOp(alice, net.networkId, { account: alice.publicKey, seq: 1, deps: [], body: { kind: 'deploy', code: COUNTER, args: [0n], sequencer: null, gasLimit: 10_000 } })
    const address = contractAddress(alice.publicKey, 1)
    const call = signOp(alice, net.networkId, { account: alice.publicKey, seq: 2, deps: [{ account: alice.publicKey, seq: 1 }], body: { kind: 'call', contract: address, fn: 'add', args: [1n], value: 0n, gasLimit: 10_000 } })
    const execute = signOp(alice, net.networkId, { account: address, seq: 1, deps: [{ account: alice.publicKey, seq: 2 }], body: { kind: 'execute', calls: [{ account: alice.publicKey, seq: 2 }], time: 1 } })
    const res = net.replicas[1]!.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [execute.bytes] }), 0)
    assert.equal(res.verdict, 'accept')
    const reply = res.actions.find(a => a.type === 'send')
    assert.ok(reply?.type === 'send' && reply.kind === 'nack')
    assert.equal(net.submit(0, [execute]).results[0]!.status, 'rejected')
    // once the contract is delivered everywhere, the same op goes through
    net.submit(0, [deploy, call])
    net.settle()
    assert.equal(net.submit(0, [execute]).results[0]!.status, 'queued')
    net.settle()
    for (const r of net.replicas) {
      assert.equal(r.ledger.callOutcome({ account: alice.publicKey, seq: 2 })?.status, 'ok')
    }
    assert.equal(new Set(net.stateHashes()).size, 1)
  })
})
