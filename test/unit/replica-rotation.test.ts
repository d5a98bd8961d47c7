// Rotation in SecureBroadcast: validators decide whether a sequencer rotation may take the
// contract's next slot (the deployer's request, or a sequencer silent past the deadline), and
// every node verifies again, at delivery, the ops of accounts that rotated.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual } from '../../src/core/codec/canonical.js'
import { Domain, signFor, signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { signRotationRequest } from '../../src/core/ledger/rotation.js'
import { batchDigest, decodeMessage, encodeMessage, votePayload } from '../../src/core/broadcast/messages.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

const COUNTER = '(defun add (k) (put "n" k) true)'
const SILENCE = 10_000
const DEPLOY_SEQ = 1

let DEPLOY: Slot

function op (signer: Signer, account: Uint8Array, seq: number, body: OpBody, deps: Slot[] = [], net: LocalNet): SignedOp {
  return signOp(signer, net.networkId, { account, seq, deps, body })
}

/** A contract deployed by account 0 (its sequencer) with one queued call of account 1, delivered everywhere at time 0. */
function setup (limits: { maxSilenceTracked?: number } = {}): { net: LocalNet, address: Uint8Array, call: Slot, next: Signer } {
  const net = new LocalNet({ replica: { timing: { sequencerSilence: SILENCE }, limits } })
  const [alice, bob] = net.accounts
  const deploy = op(alice!, alice!.publicKey, 1, { kind: 'deploy', code: COUNTER, args: [], sequencer: null, gasLimit: 10_000 }, [], net)
  const address = contractAddress(alice!.publicKey, DEPLOY_SEQ)
  DEPLOY = { account: alice!.publicKey, seq: DEPLOY_SEQ }
  const call = op(bob!, bob!.publicKey, 1, { kind: 'call', contract: address, fn: 'add', args: [1n], value: 0n, gasLimit: 10_000 }, [{ account: alice!.publicKey, seq: 1 }], net)
  net.submit(0, [deploy])
  net.settle()
  net.submit(0, [call])
  net.settle()
  for (const r of net.replicas) assert.equal(r.ledger.contract(address)?.queue.size, 1)
  return { net, address, call: { account: call.account, seq: call.seq }, next: signerFrom(sodiumScheme, seedOf('next-sequencer', 0)) }
}

/** What validator `v` (default 1) answers to a proposal of `ops`: 'vote' or 'nack' (with its deferred slots). */
function answer (net: LocalNet, ops: SignedOp[], v = 1): { type: string, deferred: number } {
  const res = net.replicas[v]!.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: ops.map(o => o.bytes) }), net.now)
  const reply = res.actions.find(a => a.type === 'send')
  assert.ok(reply?.type === 'send', `no reply: ${res.reason ?? ''}`)
  const m = decodeMessage(reply.bytes)
  return { type: m.type, deferred: m.type === 'nack' ? m.deferred.length : 0 }
}

describe('sequencer rotation at validators', () => {
  test('without a request, a rotation is deferred before the silence deadline and voted after it', () => {
    const { net, address, next } = setup()
    const rotation = op(next, address, 1, { kind: 'rotate-sequencer', to: next.publicKey, request: null }, [DEPLOY], net)
    net.now += SILENCE - 100
    assert.deepEqual(answer(net, [rotation]), { type: 'nack', deferred: 1 })
    net.now += 200
    assert.deepEqual(answer(net, [rotation]), { type: 'vote', deferred: 0 })
  })

  test('past the tracking bound, a contract whose progress went untracked never counts as silent; the request still works', () => {
    const { net, address, next } = setup({ maxSilenceTracked: 0 })
    net.now += SILENCE * 3
    assert.deepEqual(answer(net, [op(next, address, 1, { kind: 'rotate-sequencer', to: next.publicKey, request: null }, [DEPLOY], net)]), { type: 'nack', deferred: 1 })
    const request = signRotationRequest(net.accounts[0]!, net.networkId, address, 1, next.publicKey)
    assert.deepEqual(answer(net, [op(next, address, 1, { kind: 'rotate-sequencer', to: next.publicKey, request }, [DEPLOY], net)]), { type: 'vote', deferred: 0 })
  })

  test('with the deployer\'s request, a rotation is voted at once; a forged request does not help', () => {
    const { net, address, next } = setup()
    const request = signRotationRequest(net.accounts[0]!, net.networkId, address, 1, next.publicKey)
    const forged = signRotationRequest(net.accounts[1]!, net.networkId, address, 1, next.publicKey)
    assert.deepEqual(answer(net, [op(next, address, 1, { kind: 'rotate-sequencer', to: next.publicKey, request: forged }, [DEPLOY], net)]), { type: 'nack', deferred: 1 })
    assert.deepEqual(answer(net, [op(next, address, 1, { kind: 'rotate-sequencer', to: next.publicKey, request }, [DEPLOY], net)]), { type: 'vote', deferred: 0 })
  })

  test('a rotation not signed by the key it names is not voted', () => {
    const { net, address, next } = setup()
    const request = signRotationRequest(net.accounts[0]!, net.networkId, address, 1, next.publicKey)
    const bad = op(net.accounts[2]!, address, 1, { kind: 'rotate-sequencer', to: next.publicKey, request }, [DEPLOY], net)
    const res = net.replicas[1]!.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [bad.bytes] }), net.now)
    assert.equal(res.verdict, 'reject')
  })

  test('a sequencer that makes progress is not silent: its execute restarts the clock', () => {
    const { net, address, call } = setup()
    const alice = net.accounts[0]!
    const bob = net.accounts[1]!
    net.now += SILENCE - 1000
    net.submit(0, [op(alice, address, 1, { kind: 'execute', calls: [call], time: 1 }, [call], net)])
    net.settle()
    // another call, so the queue is not empty
    const call2 = op(bob, bob.publicKey, 2, { kind: 'call', contract: address, fn: 'add', args: [2n], value: 0n, gasLimit: 10_000 }, [{ account: alice.publicKey, seq: 1 }], net)
    net.submit(1, [call2])
    net.settle()
    net.now += 2000
    const next = signerFrom(sodiumScheme, seedOf('next-sequencer', 1))
    assert.deepEqual(answer(net, [op(next, address, 2, { kind: 'rotate-sequencer', to: next.publicKey, request: null }, [DEPLOY], net)]), { type: 'nack', deferred: 1 })
  })
})

describe('delivery-time signature check of rotated accounts', () => {
  test('an op of the retired key certified by validators behind the rotation is rejected at delivery, the same everywhere', () => {
    const net = new LocalNet()
    const alice = net.accounts[0]!
    const next = signerFrom(sodiumScheme, seedOf('alice-next', 0))
    const rotate = op(alice, alice.publicKey, 1, { kind: 'rotate-key', to: next.publicKey }, [], net)
    // the attacker holding alice's old key signs slot 2, and validators that do not check it
    // against the rotation (Byzantine ones, or bindings made before they checked) certify it
    const stale = op(alice, alice.publicKey, 2, { kind: 'transfer', to: net.accounts[2]!.publicKey, amount: 100n }, [], net)
    const cert = certificate(net, [rotate, stale])
    for (let v = 0; v < net.replicas.length; v++) net.inject(net.replicas[(v + 1) % net.replicas.length]!.id, v, cert)
    net.settle()
    for (const r of net.replicas) {
      assert.equal(r.ledger.nextSeq(alice.publicKey), 3)
      assert.equal(r.ledger.balance(alice.publicKey), 1000n, 'nothing signed by the retired key applied')
    }
    const outcomes = net.delivered.map(d => d.find(x => x.op.seq === 2 && bytesEqual(x.op.account, alice.publicKey))?.outcome)
    assert.equal(outcomes.length, 4)
    for (const o of outcomes) assert.equal(o?.status === 'rejected' ? o.reason : o?.status, 'retired-key')
    assert.equal(new Set(net.stateHashes()).size, 1)
    // the new key works
    net.submit(1, [op(next, alice.publicKey, 3, { kind: 'transfer', to: net.accounts[2]!.publicKey, amount: 5n }, [], net)])
    net.settle()
    for (const r of net.replicas) assert.equal(r.ledger.balance(alice.publicKey), 995n)
  })
})

/** A certificate for `ops` signed by every validator of the net (epoch 0), as a broadcaster would build it. */
function certificate (net: LocalNet, ops: SignedOp[]): Uint8Array {
  const digest = batchDigest(ops.map(o => o.hash))
  const votes = net.validatorKeys.map(k => ({ voter: k.publicKey, sig: signFor(k, Domain.vote, net.networkId, votePayload(0, digest)) }))
  return encodeMessage({ type: 'certified', ops: ops.map(o => o.bytes), votes, epoch: 0 })
}

describe('binding the slot after a rotation that is certified but not delivered', () => {
  /**
   * Alice pays carol at slot 1 citing a credit from bob that validator 1 has not delivered, then
   * rotates her key at slot 2: both are certified at validator 1 but wait in its buffer.
   * Validator 2 delivered everything. The holder of the retired key and alice's new key each sign
   * an op for slot 3. With `claim`, the rotation itself cites bob's credit instead (slot 1).
   */
  function split (claim = false): { net: LocalNet, stale: SignedOp, fresh: SignedOp } {
    const net = new LocalNet()
    const [alice, bob, carol] = net.accounts as [Signer, Signer, Signer]
    const next = signerFrom(sodiumScheme, seedOf('alice-next', 1))
    const credit = op(bob, bob.publicKey, 1, { kind: 'transfer', to: alice.publicKey, amount: 7n }, [], net)
    const fromBob = [{ account: bob.publicKey, seq: 1 }]
    const ops = claim
      ? [op(alice, alice.publicKey, 1, { kind: 'transfer', to: carol.publicKey, amount: 1n }, [], net), op(alice, alice.publicKey, 2, { kind: 'rotate-key', to: next.publicKey }, fromBob, net)]
      : [op(alice, alice.publicKey, 1, { kind: 'transfer', to: carol.publicKey, amount: 1n }, fromBob, net), op(alice, alice.publicKey, 2, { kind: 'rotate-key', to: next.publicKey }, [], net)]
    net.inject(net.replicas[0]!.id, 1, certificate(net, ops))
    for (const v of [0, 2, 3]) {
      net.inject(net.replicas[1]!.id, v, certificate(net, [credit]))
      net.inject(net.replicas[1]!.id, v, certificate(net, ops))
    }
    const r1 = net.replicas[1]!
    assert.equal(r1.ledger.nextSeq(alice.publicKey), claim ? 2 : 1, 'validator 1 has not delivered the rotation')
    assert.ok(r1.status().buffered >= 1, 'the rotation waits in its buffer for bob\'s credit')
    assert.ok(bytesEqual(net.replicas[2]!.ledger.signerOf(alice.publicKey), next.publicKey), 'validator 2 delivered it')
    const stale = op(alice, alice.publicKey, 3, { kind: 'transfer', to: carol.publicKey, amount: 100n }, [], net)
    const fresh = op(next, alice.publicKey, 3, { kind: 'transfer', to: carol.publicKey, amount: 5n }, [], net)
    return { net, stale, fresh }
  }

  test('a validator with the rotation in its buffer checks the next slot against the new key, like one that delivered it', () => {
    const { net, stale, fresh } = split()
    // before the fix validator 1 checked against the key its delivered state shows, the retired
    // one, and bound the retired key's op: validators 1 and 2 then split slot 3 between two ops
    assert.deepEqual(answer(net, [stale], 1), { type: 'nack', deferred: 1 }, 'the retired key\'s op is put off, not bound')
    assert.deepEqual(answer(net, [stale], 2), { type: 'nack', deferred: 1 })
    assert.deepEqual(answer(net, [fresh], 1), { type: 'vote', deferred: 0 }, 'the new key\'s op is bound')
    assert.deepEqual(answer(net, [fresh], 2), { type: 'vote', deferred: 0 })
    assert.deepEqual(answer(net, [stale], 1), { type: 'nack', deferred: 1 })
  })

  test('a rotation that claims a credit may be rejected at delivery: the slot after it waits until it is delivered', () => {
    const { net, stale, fresh } = split(true)
    assert.deepEqual(answer(net, [stale], 1), { type: 'nack', deferred: 1 })
    assert.deepEqual(answer(net, [fresh], 1), { type: 'nack', deferred: 1 })
    assert.deepEqual(answer(net, [fresh], 2), { type: 'vote', deferred: 0 })
    const refused = net.submit(1, [fresh]).results[0]!
    assert.equal(refused.status === 'rejected' ? refused.code : refused.status, 'not-accepted', 'not a bad signature: this node cannot tell yet')
  })

  test('the rotation in the same batch counts like one certified here', () => {
    const net = new LocalNet()
    const alice = net.accounts[0]!
    const next = signerFrom(sodiumScheme, seedOf('alice-next', 2))
    const rotate = op(alice, alice.publicKey, 1, { kind: 'rotate-key', to: next.publicKey }, [], net)
    const stale = op(alice, alice.publicKey, 2, { kind: 'transfer', to: net.accounts[2]!.publicKey, amount: 100n }, [], net)
    const fresh = op(next, alice.publicKey, 2, { kind: 'transfer', to: net.accounts[2]!.publicKey, amount: 5n }, [], net)
    assert.deepEqual(answer(net, [rotate, stale], 1), { type: 'nack', deferred: 1 })
    assert.deepEqual(answer(net, [rotate, fresh], 2), { type: 'vote', deferred: 0 })
  })

  test('a broadcaster with the rotation in its buffer takes the new key\'s op and refuses the retired key\'s; it gets through', () => {
    const { net, stale, fresh } = split()
    const refused = net.submit(1, [stale]).results[0]!
    assert.equal(refused.status === 'rejected' ? refused.code : refused.status, 'bad-signature')
    const taken = net.submit(1, [fresh]).results[0]!
    assert.equal(taken.status, 'queued')
    // validator 1 fetches bob's credit, delivers the rotation, and slot 3 gets its quorum
    net.settle(40)
    for (const r of net.replicas) {
      assert.equal(r.ledger.nextSeq(fresh.account), 4)
      assert.equal(r.ledger.balance(fresh.account), 1000n + 7n - 1n - 5n)
    }
    assert.equal(new Set(net.stateHashes()).size, 1)
  })
})
