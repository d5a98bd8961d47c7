// What a validator asks of an op before it binds a slot and votes (Replica.cannotBind): clients
// that pay nothing, cite what does not exist or split a slot get no durable work from validators,
// and an honest batch goes on without the ops they put off.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import type { Action } from '../../src/core/broadcast/actions.js'
import { SlotBindings } from '../../src/core/broadcast/bindings.js'
import { DeliveryBuffer } from '../../src/core/broadcast/delivery.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'
import type { Signer } from '../../src/core/crypto/signing.js'

const pay = (net: LocalNet, who: Signer, seq: number, body: OpBody, deps: Slot[] = []): SignedOp =>
  signOp(who, net.networkId, { account: who.publicKey, seq, deps, body })

const transfer = (net: LocalNet, who: Signer, seq: number, amount = 1n, deps: Slot[] = []): SignedOp =>
  pay(net, who, seq, { kind: 'transfer', to: net.accounts[1]!.publicKey, amount }, deps)

/** The reply a validator sends to a proposal: 'vote', or the slots it put off. */
function answer (actions: readonly Action[]): { kind: string, deferred: string[], persisted: boolean } {
  const persisted = actions.some(a => a.type === 'persist' && a.record.kind === 'bindings')
  for (const a of actions) {
    if (a.type !== 'send') continue
    const m = decodeMessage(a.bytes)
    if (m.type === 'vote') return { kind: 'vote', deferred: [], persisted }
    if (m.type === 'nack') return { kind: 'nack', deferred: m.deferred.map(d => `${toHex(d.account).slice(0, 8)}:${d.seq}`), persisted }
  }
  return { kind: 'none', deferred: [], persisted }
}

const slot = (op: SignedOp): string => `${toHex(op.account).slice(0, 8)}:${op.seq}`

describe('what validators ask before they bind', () => {
  test('a key nobody paid gets no binding or vote, whether or not its deps exist', () => {
    const net = new LocalNet()
    const stranger = signerFrom(sodiumScheme, seedOf('stranger', 0))
    const nowhere = { account: signerFrom(sodiumScheme, seedOf('nowhere', 0)).publicKey, seq: 5 }
    for (const op of [transfer(net, stranger, 1), transfer(net, stranger, 1, 1n, [nowhere])]) {
      const res = net.replicas[1]!.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [op.bytes] }), 0)
      assert.equal(res.verdict, 'accept')
      assert.deepEqual(answer(res.actions), { kind: 'nack', deferred: [slot(op)], persisted: false })
      const submitted = net.replicas[0]!.submit([op.bytes], 0).results[0]!
      assert.equal(submitted.status, 'rejected')
      assert.match(submitted.status === 'rejected' ? submitted.code : '', /unfunded|not-accepted/)
    }
    // paid once, the same key's op is taken
    const paid = transfer(net, net.accounts[0]!, 1, 5n)
    const toStranger = pay(net, net.accounts[0]!, 1, { kind: 'transfer', to: stranger.publicKey, amount: 5n })
    assert.notEqual(toHex(paid.hash), toHex(toStranger.hash))
    net.submit(0, [toStranger])
    net.settle()
    const claim = transfer(net, stranger, 1, 5n, [{ account: toStranger.account, seq: 1 }])
    assert.equal(net.submit(2, [claim]).results[0]!.status, 'queued')
    net.settle()
    for (const r of net.replicas) assert.equal(r.ledger.nextSeq(stranger.publicKey), 2)
  })

  test('an account that split a slot gets nothing past it certified', () => {
    const net = new LocalNet()
    const alice = net.accounts[0]!
    const x = transfer(net, alice, 1, 7n)
    const y = transfer(net, alice, 1, 9n)
    const later = [2, 3, 4].map(seq => transfer(net, alice, seq))
    const from = 'a-peer'
    // two validators see x first, two see y: each binds one, with the later ops in the same batch
    net.replicas.forEach((r, i) => {
      const res = r.receive(from, encodeMessage({ type: 'propose', ops: [i < 2 ? x.bytes : y.bytes, ...later.map(o => o.bytes)] }), 0)
      assert.equal(answer(res.actions).kind, 'vote')
    })
    // the later ops alone: every validator bound them, yet none votes while slot 1 is uncertified
    for (const r of net.replicas) {
      const res = r.receive(from, encodeMessage({ type: 'propose', ops: later.map(o => o.bytes) }), 1)
      assert.deepEqual(answer(res.actions), { kind: 'nack', deferred: later.map(slot), persisted: false })
    }
  })

  test('an honest batch goes on without the ops validators put off', () => {
    const net = new LocalNet()
    const honest = transfer(net, net.accounts[0]!, 1)
    // slot 2 of another account, whose slot 1 nobody has seen: every validator puts it off
    const early = transfer(net, net.accounts[2]!, 2)
    const res = net.submit(0, [honest, early])
    assert.deepEqual(res.results.map(r => r.status), ['queued', 'queued'])
    net.settle()
    for (const r of net.replicas) {
      assert.equal(r.ledger.nextSeq(honest.account), 2, 'the honest op was delivered')
      assert.equal(r.ledger.nextSeq(early.account), 1)
    }
    // once slot 1 is certified, the put-off op goes through on its batch's retry
    net.submit(1, [transfer(net, net.accounts[2]!, 1)])
    net.settle(40, 500)
    for (const r of net.replicas) assert.equal(r.ledger.nextSeq(early.account), 3)
  })

  test('an op of a contract stream that a validator cannot check yet holds back only itself', () => {
    const net = new LocalNet()
    const alice = net.accounts[0]!
    const deploy = pay(net, alice, 1, { kind: 'deploy', code: '(defun f () 1)', args: [], sequencer: null, gasLimit: 1000 })
    // signed by the sequencer for the contract's stream, but not an execute: a validator that has
    // not delivered the deploy cannot tell it from a forgery
    const address = contractAddress(alice.publicKey, 1)
    const odd = signOp(alice, net.networkId, { account: address, seq: 1, deps: [], body: { kind: 'transfer', to: alice.publicKey, amount: 1n } })
    const honest = transfer(net, net.accounts[1]!, 1)
    const fresh = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[3]! })
    const res = fresh.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [odd.bytes, honest.bytes] }), 0)
    assert.equal(res.verdict, 'accept')
    assert.deepEqual(answer(res.actions), { kind: 'nack', deferred: [slot(odd)], persisted: true })
    assert.ok(deploy.seq === 1)
  })
})

describe('per-tick work follows what is due', () => {
  test('stale bindings come oldest first, each once per interval, certified ones never', () => {
    const net = new LocalNet()
    const b = new SlotBindings()
    const ops = [0, 1, 2].flatMap(i => [1, 2, 3, 4].map(seq => transfer(net, net.accounts[i]!, seq)))
    ops.forEach((op, i) => b.bind(op, i))
    b.markCertified(ops[1]!)
    const first = b.stale(100, 50, 5).map(x => x.op)
    assert.deepEqual(first, [ops[0], ops[2], ops[3], ops[4], ops[5]])
    const second = b.stale(100, 50, 100).map(x => x.op)
    assert.deepEqual(second, ops.slice(6), 'the ones just returned wait their interval again')
    assert.deepEqual(b.stale(149, 50, 100), [])
    assert.equal(b.stale(150, 50, 100).length, ops.length - 1)
  })

  test('missing slots are fetched once per retry interval, the oldest first, until they arrive', () => {
    const net = new LocalNet()
    const a = net.accounts[0]!
    const buffer = new DeliveryBuffer(100)
    const streams = { nextSeq: () => 1 }
    // slots 2, 4 and 6 wait; 1, 3 and 5 are missing
    for (const seq of [2, 4, 6]) buffer.add({ op: transfer(net, a, seq), cert: 'c' }, streams)
    const seqs = (xs: Slot[]): number[] => xs.map(s => s.seq)
    assert.deepEqual(seqs(buffer.dueFetches(0, 100, 2)), [1, 3])
    assert.deepEqual(seqs(buffer.dueFetches(10, 100, 10)), [5])
    assert.deepEqual(seqs(buffer.dueFetches(50, 100, 10)), [])
    buffer.add({ op: transfer(net, a, 3), cert: 'c' }, streams)
    assert.deepEqual(seqs(buffer.dueFetches(100, 100, 10)), [1], 'slot 3 arrived; 5 is not due yet')
    assert.deepEqual(seqs(buffer.dueFetches(110, 100, 10)), [5])
  })
})

describe('tables a client can grow are bounded in bytes', () => {
  test('the delivery buffer refuses an op that must wait once its bytes are used, and still takes one deliverable now', () => {
    const net = new LocalNet()
    const a = net.accounts[0]!
    const op = (seq: number): SignedOp => transfer(net, a, seq)
    const size = op(2).bytes.length
    const buffer = new DeliveryBuffer(1000, 2 * size)
    let next = 1
    const streams = { nextSeq: () => next }
    assert.equal(buffer.add({ op: op(2), cert: 'c' }, streams), true)
    assert.equal(buffer.add({ op: op(3), cert: 'c' }, streams), true)
    assert.equal(buffer.hasRoom, false)
    assert.equal(buffer.add({ op: op(4), cert: 'c' }, streams), false, 'over its bytes: refused')
    assert.equal(buffer.add({ op: op(1), cert: 'c' }, streams), true, 'deliverable now: always taken')
    // delivering drains it, and its bytes come back
    for (let w = buffer.next(); w !== undefined; w = buffer.next()) buffer.delivered(a.publicKey, next++, streams)
    assert.equal(next, 4)
    assert.equal(buffer.size, 0)
    assert.equal(buffer.hasRoom, true)
  })

  test('the broadcaster refuses ops past its queue bytes, counting ops in flight', () => {
    const net = new LocalNet({ replica: { limits: { maxQueuedBytes: 3 * 200 } } })
    const ops = [0, 1, 2].flatMap(i => [1, 2].map(seq => transfer(net, net.accounts[i]!, seq)))
    assert.ok(ops.every(o => o.bytes.length <= 200))
    const results = net.replicas[0]!.submit(ops.map(o => o.bytes), 0).results.map(r => r.status === 'rejected' ? r.code : r.status)
    assert.ok(results.includes('busy'), results.join(','))
    assert.ok(results.filter(r => r === 'queued').length >= 2)
  })
})
