// Key and sequencer rotation in the ledger: the op bodies' encodings, what rotate-key and
// rotate-sequencer do at delivery, the one rule for who signs an op (expectedSigner), the
// retired-key rejection, and that a rotated key or sequencer survives a snapshot.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decode, encode } from '../../src/core/codec/canonical.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { decodeBody, encodeBody } from '../../src/core/ledger/body.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import type { Outcome, RejectReason } from '../../src/core/ledger/ledger.js'
import { signOp } from '../../src/core/ledger/op.js'
import { expectedSigner, rotationRequested, signRotationRequest } from '../../src/core/ledger/rotation.js'
import { buildSnapshot, readSnapshot } from '../../src/core/checkpoint/snapshot.js'
import { MalformedError } from '../../src/core/errors.js'
import { ContractHarness } from '../support/contract-harness.js'

const COUNTER = '(defun add (k) (put "n" (+ (or-zero) k)) true)\n(defun or-zero () (if (= (get "n") nil) 0 (get "n")))'
const SIMPLE = '(defun pay (to) (transfer to (value)) true)'
const fresh = (i: number): ReturnType<typeof signerFrom> => signerFrom(sodiumScheme, new Uint8Array(32).fill(200 + i))

function rejected (o: Outcome, reason: RejectReason): void {
  assert.equal(o.status === 'rejected' ? o.reason : o.status, reason, o.status === 'rejected' ? o.detail : '')
}

const roundTrip = (b: OpBody): OpBody => decodeBody(decode(encode(encodeBody(b))))

describe('rotation op bodies', () => {
  const key = new Uint8Array(32).fill(7)
  const sig = new Uint8Array(64).fill(9)
  test('rotate-key and rotate-sequencer round trip, with and without a request', () => {
    for (const b of [
      { kind: 'rotate-key', to: key },
      { kind: 'rotate-sequencer', to: key, request: null },
      { kind: 'rotate-sequencer', to: key, request: sig }
    ] as OpBody[]) assert.deepEqual(roundTrip(b), b)
  })
  test('malformed rotation bodies are refused', () => {
    const bad = [
      { kind: 'rotate-key', to: new Uint8Array(31) },
      { kind: 'rotate-key' },
      { kind: 'rotate-key', to: key, extra: 1n },
      { kind: 'rotate-sequencer', to: key },
      { kind: 'rotate-sequencer', to: key, request: new Uint8Array(63) },
      { kind: 'rotate-sequencer', to: 'ab', request: null }
    ]
    for (const v of bad) assert.throws(() => decodeBody(decode(encode(v as never))), MalformedError, JSON.stringify(Object.keys(v)))
  })
})

describe('rotate-key in the ledger', () => {
  test('after a rotation the new key signs; expectedSigner follows; money and id stay', () => {
    const h = new ContractHarness()
    const alice = h.users.alice!
    const next = fresh(1)
    const before = h.holdings(alice.publicKey)
    const rootBefore = toHex(h.ledger.stateHash())
    assert.equal(h.apply(alice, { kind: 'rotate-key', to: next.publicKey }).outcome.status, 'applied')
    assert.notEqual(toHex(h.ledger.stateHash()), rootBefore, 'the key is part of the state root')
    assert.deepEqual(h.ledger.signerOf(alice.publicKey), next.publicKey)
    assert.equal(h.ledger.rotated(alice.publicKey), true)
    assert.equal(h.holdings(alice.publicKey), before)
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
    const op = signOp(next, h.networkId, { account: alice.publicKey, seq: h.ledger.nextSeq(alice.publicKey), deps: [], body: { kind: 'transfer', to: h.key('bob'), amount: 5n } })
    assert.deepEqual(expectedSigner(h.ledger, op), next.publicKey)
    assert.equal(h.ledger.apply(op).status, 'applied')
    assert.equal(h.ledger.balance(alice.publicKey), before - 5n)
  })

  test('rotating to the key in force is rejected; a contract has no key to rotate', () => {
    const h = new ContractHarness()
    const alice = h.users.alice!
    rejected(h.apply(alice, { kind: 'rotate-key', to: alice.publicKey }).outcome, 'bad-rotation')
    const c = h.deploy('alice', COUNTER)
    const o = h.apply(alice, { kind: 'rotate-key', to: fresh(2).publicKey }, [], c.address).outcome
    rejected(o, 'not-a-contract')
    assert.match((o as { detail: string }).detail, /rotate-sequencer/)
    assert.deepEqual(h.ledger.signerOf(c.address), alice.publicKey)
  })

  test('an op the replica found signed by a retired key is rejected, consumes its slot, and again on replay', () => {
    const h = new ContractHarness()
    const alice = h.users.alice!
    h.apply(alice, { kind: 'rotate-key', to: fresh(3).publicKey })
    const seq = h.ledger.nextSeq(alice.publicKey)
    const stale = signOp(alice, h.networkId, { account: alice.publicKey, seq, deps: [], body: { kind: 'transfer', to: h.key('bob'), amount: 1n } })
    const fork = h.ledger.fork()
    const balance = h.ledger.balance(alice.publicKey)
    rejected(h.ledger.apply(stale, { retiredKey: true }), 'retired-key')
    assert.equal(h.ledger.nextSeq(alice.publicKey), seq + 1)
    assert.equal(h.ledger.balance(alice.publicKey), balance)
    // a checkpoint replays the same op objects without options: same outcome, same root
    rejected(fork.apply(stale), 'retired-key')
    assert.equal(toHex(fork.stateHash()), toHex(h.ledger.stateHash()))
  })

  test('a deploy without a sequencer after a rotation is sequenced by the key in force, not the retired one', () => {
    const h = new ContractHarness()
    const alice = h.users.alice!
    const next = fresh(5)
    h.apply(alice, { kind: 'rotate-key', to: next.publicKey })
    const seq = h.ledger.nextSeq(alice.publicKey)
    const op = signOp(next, h.networkId, { account: alice.publicKey, seq, deps: [], body: { kind: 'deploy', code: SIMPLE, args: [], sequencer: null, gasLimit: 1_000_000 } })
    assert.equal(h.ledger.apply(op).status, 'applied')
    const c = h.ledger.contract(contractAddress(alice.publicKey, seq))!
    assert.deepEqual(c.sequencer, next.publicKey, 'the retired key must not sign the new contract\'s executes')
  })

  test('a snapshot carries the rotated key; fromState keeps it and the root', () => {
    const h = new ContractHarness()
    const next = fresh(4)
    h.apply(h.users.bob!, { kind: 'rotate-key', to: next.publicKey })
    const c = h.deploy('alice', SIMPLE)
    h.apply(h.users.alice!, { kind: 'rotate-sequencer', to: next.publicKey, request: null }, [c.deployedAt], c.address)
    const snap = buildSnapshot(h.ledger.exportState())
    assert.equal(toHex(snap.root), toHex(h.ledger.stateHash()))
    const joined = Ledger.fromState(h.genesis, readSnapshot(snap.manifest, snap.chunks))
    assert.equal(toHex(joined.stateHash()), toHex(h.ledger.stateHash()))
    assert.deepEqual(joined.signerOf(h.key('bob')), next.publicKey)
    assert.equal(joined.rotated(h.key('bob')), true)
    assert.equal(joined.rotated(c.address), true)
    assert.equal(joined.rotated(h.key('carol')), false)
    assert.deepEqual(joined.signerOf(c.address), next.publicKey)
  })
})

describe('rotate-sequencer in the ledger', () => {
  test('the new sequencer executes the queued calls; the old one is refused; a call runs once', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER)
    const call1 = h.call('bob', c, 'add', [1n])
    const call2 = h.call('carol', c, 'add', [2n])
    const next = fresh(5)
    const seq = h.ledger.nextSeq(c.address)
    const uncited = signOp(next, h.networkId, { account: c.address, seq, deps: [], body: { kind: 'rotate-sequencer', to: next.publicKey, request: null } })
    rejected(h.ledger.fork().apply(uncited), 'bad-dependency')
    const rotation = signOp(next, h.networkId, { account: c.address, seq, deps: [c.deployedAt], body: { kind: 'rotate-sequencer', to: next.publicKey, request: null } })
    assert.deepEqual(expectedSigner(h.ledger, rotation), next.publicKey, 'a rotation is signed by the key it names')
    const rootBefore = toHex(h.ledger.stateHash())
    assert.equal(h.ledger.apply(rotation).status, 'applied')
    assert.notEqual(toHex(h.ledger.stateHash()), rootBefore)
    assert.deepEqual(h.ledger.signerOf(c.address), next.publicKey)
    assert.equal(h.ledger.contract(c.address)!.queue.size, 2, 'queued calls wait for the new sequencer')
    // the old sequencer's execute would be refused at delivery (the replica says so)
    const old = signOp(h.users.alice!, h.networkId, { account: c.address, seq: seq + 1, deps: [call1.id], body: { kind: 'execute', calls: [call1.id], time: 1 } })
    assert.deepEqual(expectedSigner(h.ledger, old), next.publicKey)
    rejected(h.ledger.apply(old, { retiredKey: true }), 'retired-key')
    const run = signOp(next, h.networkId, { account: c.address, seq: seq + 2, deps: [call1.id, call2.id], body: { kind: 'execute', calls: [call1.id, call2.id], time: 2 } })
    assert.equal(h.ledger.apply(run).status, 'applied')
    assert.equal(h.ledger.callOutcome(call1.id)?.status, 'ok')
    const again = signOp(next, h.networkId, { account: c.address, seq: seq + 3, deps: [call1.id], body: { kind: 'execute', calls: [call1.id], time: 3 } })
    rejected(h.ledger.apply(again), 'bad-call')
    assert.equal(h.ledger.totalHeld(), h.ledger.totalSupply())
  })

  test('a rotate-sequencer op in a key account is the account\'s own to sign, and rejected', () => {
    const h = new ContractHarness()
    const body: OpBody = { kind: 'rotate-sequencer', to: fresh(6).publicKey, request: null }
    const op = signOp(fresh(6), h.networkId, { account: h.key('bob'), seq: 1, deps: [], body })
    assert.deepEqual(expectedSigner(h.ledger, op), h.key('bob'))
    rejected(h.apply(h.users.bob!, body).outcome, 'bad-dependency')
  })

  test('rotating to the sequencer in force is rejected', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER)
    rejected(h.apply(h.users.alice!, { kind: 'rotate-sequencer', to: h.key('alice'), request: null }, [c.deployedAt], c.address).outcome, 'bad-rotation')
  })

  test('the deployer\'s request verifies for exactly this contract, slot and key, by the deployer\'s key in force', () => {
    const h = new ContractHarness()
    const c = h.deploy('alice', COUNTER)
    const to = fresh(7).publicKey
    const seq = h.ledger.nextSeq(c.address)
    const request = signRotationRequest(h.users.alice!, h.networkId, c.address, seq, to)
    const op = (s: number, r: Uint8Array | null, k = to): Parameters<typeof rotationRequested>[3] => ({ account: c.address, seq: s, body: { kind: 'rotate-sequencer', to: k, request: r } })
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq, request)), true)
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq + 1, request)), false, 'another slot')
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq, request, fresh(8).publicKey)), false, 'another key')
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq, null)), false)
    const bobs = signRotationRequest(h.users.bob!, h.networkId, c.address, seq, to)
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq, bobs)), false, 'not the deployer')
    // the deployer rotated its key: only the new key's request counts
    const aliceNext = fresh(9)
    h.apply(h.users.alice!, { kind: 'rotate-key', to: aliceNext.publicKey })
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq, request)), false)
    assert.equal(rotationRequested(sodiumScheme, h.networkId, h.ledger, op(seq, signRotationRequest(aliceNext, h.networkId, c.address, seq, to))), true)
  })
})
