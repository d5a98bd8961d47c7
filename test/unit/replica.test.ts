// SecureBroadcast replica, driven message by message: the rules one node must keep on its own,
// whatever its peers send it.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode } from '../../src/core/codec/canonical.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { Domain, signFor, signerFrom } from '../../src/core/crypto/signing.js'
import type { SignatureScheme } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { MESSAGE_LIMITS, batchDigest, decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import type { Certified } from '../../src/core/broadcast/messages.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

function transfer (net: LocalNet, from: number, seq: number, to: number, amount: bigint, deps: SignedOp[] = []): SignedOp {
  const a = net.accounts[from]!
  return signOp(a, net.networkId, {
    account: a.publicKey,
    seq,
    deps: deps.map(d => ({ account: d.account, seq: d.seq })),
    body: { kind: 'transfer', to: net.accounts[to]!.publicKey, amount }
  })
}

function proposeBytes (...ops: SignedOp[]): Uint8Array {
  return encodeMessage({ type: 'propose', ops: ops.map(o => o.bytes) })
}

/** Collects a certificate for `ops` by hand from the given validators. */
function certify (net: LocalNet, ops: SignedOp[], voters: number[]): Certified {
  const digest = batchDigest(ops.map(o => o.hash))
  return {
    type: 'certified',
    ops: ops.map(o => o.bytes),
    votes: voters.map(i => ({ voter: net.validatorKeys[i]!.publicKey, sig: signFor(net.validatorKeys[i]!, Domain.vote, net.networkId, digest) }))
  }
}

describe('SecureBroadcast replica', () => {
  test('an op submitted at one node is certified and delivered at every node', () => {
    const net = new LocalNet()
    const op = transfer(net, 0, 1, 1, 10n)
    assert.equal(net.submit(0, [op]).results[0]!.status, 'queued')
    net.settle()
    for (const r of net.replicas) {
      assert.equal(r.ledger.nextSeq(op.account), 2)
      assert.equal(r.ledger.balance(op.account), 990n)
      assert.deepEqual(r.ledger.uncitedCredits(net.accounts[1]!.publicKey).map(c => c.amount), [10n])
    }
    assert.equal(new Set(net.stateHashes()).size, 1)
    assert.deepEqual(net.rejected, [])
  })

  test('a validator persists its bindings before it sends its vote', () => {
    const net = new LocalNet()
    const res = net.replicas[1]!.receive(net.replicas[0]!.id, proposeBytes(transfer(net, 0, 1, 1, 5n)), 0)
    assert.equal(res.verdict, 'accept')
    const kinds = res.actions.map(a => a.type === 'send' ? `send:${a.kind}` : a.type)
    assert.deepEqual(kinds, ['persist', 'send:vote'])
  })

  test('a validator never binds one slot to two ops: the second proposal gets a nack carrying the first op as proof', () => {
    const net = new LocalNet()
    const x = transfer(net, 0, 1, 1, 5n)
    const y = transfer(net, 0, 1, 2, 5n)
    const v = net.replicas[1]!
    v.receive(net.replicas[0]!.id, proposeBytes(x), 0)
    const res = v.receive(net.replicas[2]!.id, proposeBytes(y), 0)
    assert.equal(res.actions.length, 1)
    const reply = res.actions[0]!
    assert.ok(reply.type === 'send')
    const nack = decodeMessage(reply.bytes)
    assert.ok(nack.type === 'nack')
    assert.deepEqual(nack.conflicts.map(toHex), [toHex(x.bytes)])
    assert.equal(v.conflicts().length, 1, 'the validator keeps the proof')
  })

  test('a restarted validator keeps the bindings it persisted', () => {
    const net = new LocalNet()
    const x = transfer(net, 0, 1, 1, 5n)
    const y = transfer(net, 0, 1, 2, 5n)
    net.execute(1, net.replicas[1]!.receive(net.replicas[0]!.id, proposeBytes(x), 0).actions)
    const restarted = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[1]! })
    restarted.restore(net.disks[1]!, 0)
    const res = restarted.receive(net.replicas[2]!.id, proposeBytes(y), 0)
    const reply = res.actions.find(a => a.type === 'send')
    assert.ok(reply?.type === 'send' && reply.kind === 'nack')
  })

  test('an equivocating account gets at most one op delivered, the same everywhere; a broadcaster drops an op proven to equivocate and re-proposes the rest', () => {
    const net = new LocalNet()
    const x = transfer(net, 0, 1, 1, 5n)
    const y = transfer(net, 0, 1, 2, 7n)
    const honest = transfer(net, 1, 1, 2, 3n)
    // validators 1 and 2 see x first, validator 3 sees y first
    net.execute(1, net.replicas[1]!.receive(net.replicas[0]!.id, proposeBytes(x), 0).actions)
    net.execute(2, net.replicas[2]!.receive(net.replicas[0]!.id, proposeBytes(x), 0).actions)
    net.execute(3, net.replicas[3]!.receive(net.replicas[3]!.id, proposeBytes(y), 0).actions)
    net.submit(0, [x])
    const res = net.submit(3, [y, honest])
    assert.deepEqual(res.results.map(r => r.status), ['queued', 'queued'])
    net.settle(100)
    for (const r of net.replicas) {
      assert.ok(r.ledger.nextSeq(x.account) <= 2)
      const credited = r.ledger.uncitedCredits(net.accounts[1]!.publicKey).length + r.ledger.uncitedCredits(net.accounts[2]!.publicKey).filter(c => c.amount === 7n).length
      assert.equal(credited, r.ledger.nextSeq(x.account) - 1, 'at most one of x and y')
      assert.equal(r.ledger.nextSeq(honest.account), 2, 'the honest op in the same batch as y still got through')
    }
    const dropped = net.replicas[3]!.conflicts()
    assert.equal(dropped.length, 1)
    assert.equal(new Set(net.stateHashes()).size, 1)
  })

  test('a nack whose evidence is not signed by the account changes nothing', () => {
    const net = new LocalNet()
    const x = transfer(net, 0, 1, 1, 5n)
    net.submit(0, [x])
    net.tick(5) // node 0 closes its batch: x is now pending there
    const digest = batchDigest([x.hash])
    const forger = signerFrom(sodiumScheme, seedOf('forger', 0))
    const forged = signOp(forger, net.networkId, { account: forger.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: forger.publicKey, amount: 1n } })
    // claims to be account 0's op for slot 1, with the forger's signature
    const fake = encode([encode({ account: x.account, seq: 1, deps: [], body: { kind: 'transfer', to: forger.publicKey, amount: 1n } }), forged.sig])
    const res = net.replicas[0]!.receive(net.replicas[1]!.id, encodeMessage({ type: 'nack', digest, voter: net.validatorKeys[1]!.publicKey, conflicts: [fake], deferred: [] }), 0)
    assert.equal(res.verdict, 'reject')
    assert.equal(net.replicas[0]!.conflicts().length, 0)
    net.settle()
    assert.ok(net.replicas.every(r => r.ledger.nextSeq(x.account) === 2))
  })

  test('certificates with too few votes, a repeated voter, a non-member vote or a bad signature are rejected and change nothing', () => {
    const net = new LocalNet()
    const op = transfer(net, 0, 1, 1, 5n)
    const good = certify(net, [op], [0, 1, 2])
    const outsider = signerFrom(sodiumScheme, seedOf('outsider', 0))
    const digest = batchDigest([op.hash])
    const forged: Certified[] = [
      { ...good, votes: good.votes.slice(0, 2) },
      { ...good, votes: [good.votes[0]!, good.votes[1]!, good.votes[1]!] },
      { ...good, votes: [good.votes[0]!, good.votes[1]!, { voter: outsider.publicKey, sig: signFor(outsider, Domain.vote, net.networkId, digest) }] },
      { ...good, votes: [good.votes[0]!, good.votes[1]!, { voter: good.votes[2]!.voter, sig: new Uint8Array(64) }] },
      // votes for another batch replayed over this one
      { ...certify(net, [transfer(net, 0, 1, 2, 6n)], [0, 1, 2]), ops: [op.bytes] }
    ]
    const target = net.replicas[3]!
    const before = target.status()
    for (const cert of forged) {
      const res = target.receive(net.replicas[0]!.id, encodeMessage(cert), 0)
      assert.equal(res.verdict, 'reject')
      assert.deepEqual(res.actions, [])
    }
    assert.deepEqual(target.status(), before)
    assert.equal(target.receive(net.replicas[0]!.id, encodeMessage(good), 0).verdict, 'accept')
    assert.equal(target.ledger.nextSeq(op.account), 2)
  })

  test('a vote signature replayed as an op signature, or an op signed for another network, is refused', () => {
    const net = new LocalNet()
    const a = net.accounts[0]!
    const op = transfer(net, 0, 1, 1, 5n)
    const wrongDomain = encode([op.payload, signFor(a, Domain.vote, net.networkId, op.payload)])
    const otherNet = new Uint8Array(net.networkId); otherNet[0]! ^= 1
    const foreign = signOp(a, otherNet, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: a.publicKey, amount: 1n } })
    const res = net.replicas[0]!.submit([wrongDomain, foreign.bytes], 0)
    assert.deepEqual(res.results.map(r => r.status === 'rejected' ? r.code : r.status), ['bad-signature', 'bad-signature'])
    assert.equal(net.replicas[1]!.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [wrongDomain] }), 0).verdict, 'reject')
  })

  test('votes from non-members are rejected and never count toward a certificate', () => {
    const net = new LocalNet()
    const op = transfer(net, 0, 1, 1, 5n)
    net.submit(0, [op])
    net.tick(5)
    const digest = batchDigest([op.hash])
    const outsiders = [1, 2, 3].map(i => signerFrom(sodiumScheme, seedOf('outsider', i)))
    for (const o of outsiders) {
      const res = net.replicas[0]!.receive(toHex(o.publicKey), encodeMessage({ type: 'vote', digest, voter: o.publicKey, sig: signFor(o, Domain.vote, net.networkId, digest) }), 0)
      assert.equal(res.verdict, 'reject')
    }
    assert.equal(net.replicas[0]!.ledger.nextSeq(op.account), 1)
  })

  test('certified ops are buffered until their stream predecessor and deps are delivered', () => {
    const net = new LocalNet()
    const first = transfer(net, 0, 1, 1, 5n)
    const second = transfer(net, 0, 2, 1, 5n)
    const spendsCredit = transfer(net, 1, 1, 2, 1005n, [first])
    const r = net.replicas[3]!
    const from = net.replicas[0]!.id
    r.receive(from, encodeMessage(certify(net, [spendsCredit], [0, 1, 2])), 0)
    r.receive(from, encodeMessage(certify(net, [second], [0, 1, 2])), 0)
    assert.equal(r.status().buffered, 2)
    assert.equal(r.status().delivered, 0)
    const res = r.receive(from, encodeMessage(certify(net, [first], [0, 1, 2])), 0)
    const delivered = res.actions.flatMap(a => a.type === 'deliver' ? [`${toHex(a.op.account).slice(0, 4)}:${a.op.seq}:${a.outcome.status}`] : [])
    assert.equal(delivered.length, 3)
    assert.equal(delivered[0], `${toHex(first.account).slice(0, 4)}:1:applied`)
    assert.equal(r.ledger.balance(net.accounts[1]!.publicKey), 0n, 'the credit was cited and spent')
    assert.equal(r.status().buffered, 0)
  })

  test('ops a full delivery buffer turned away are taken from the certificate log once there is room', () => {
    const net = new LocalNet()
    const first = transfer(net, 0, 1, 1, 5n)
    const second = transfer(net, 0, 2, 1, 5n)
    const third = transfer(net, 0, 3, 1, 5n)
    const r = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 2)), limits: { maxBufferedOps: 1 } })
    const from = net.replicas[0]!.id
    const later = encodeMessage(certify(net, [second, third], [0, 1, 2]))
    r.receive(from, later, 0) // room for one of the two
    assert.equal(r.status().buffered, 1)
    // once there is room, the turned-away op is taken again from the certificate log
    r.receive(from, encodeMessage(certify(net, [first], [0, 1, 2])), 0)
    assert.equal(r.ledger.nextSeq(first.account), 4, 'first, second and third delivered')
    assert.equal(r.receive(from, later, 0).verdict, 'ignore')
  })

  test('batches are cut by size as well as count, so every proposal fits in one message', () => {
    const net = new LocalNet()
    const a = net.accounts[0]!
    const code = `(defun f () 1)\n;${'x'.repeat(60_000)}`
    const deploys = Array.from({ length: 70 }, (_, i) => signOp(a, net.networkId, { account: a.publicKey, seq: i + 1, deps: [], body: { kind: 'deploy', code, args: [], sequencer: null, gasLimit: 1000 } }))
    const sizes: number[] = []
    const res = net.replicas[0]!.submit(deploys.map(d => d.bytes), 0)
    const actions = [...res.actions, ...net.replicas[0]!.tick(10)]
    for (const act of actions) if (act.type === 'send' && act.kind === 'propose') sizes.push(act.bytes.length)
    // one account's later ops wait for its first batch's certificate before they are proposed
    assert.ok(sizes.length >= 3, 'a first batch, sent to the three other validators')
    assert.ok(sizes.every(n => n <= MESSAGE_LIMITS.maxMessageBytes))
    net.settle()
    assert.ok(net.replicas.every(r => r.ledger.nextSeq(a.publicKey) === 71))
    assert.ok(net.replicas[0]!.status().certificates >= 2, 'the 70 deploys (4 MiB) took more than one batch')
  })

  test('a node that missed a certificate fetches it from a peer when a later op needs it', () => {
    const net = new LocalNet()
    const first = transfer(net, 0, 1, 1, 5n)
    const second = transfer(net, 0, 2, 1, 5n)
    net.submit(0, [first])
    net.settle()
    const late = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 0)), peers: [net.replicas[0]!.id] })
    const res = late.receive(net.replicas[0]!.id, encodeMessage(certify(net, [second], [0, 1, 2])), 0)
    assert.equal(res.verdict, 'accept')
    const fetch = late.tick(1000).find(a => a.type === 'send' && a.kind === 'fetch')
    assert.ok(fetch?.type === 'send')
    const answer = net.replicas[0]!.receive(late.id, fetch.bytes, 1000).actions.filter(a => a.type === 'send')
    assert.ok(answer.length >= 1)
    for (const a of answer) if (a.type === 'send') late.receive(net.replicas[0]!.id, a.bytes, 1000)
    assert.equal(late.ledger.nextSeq(first.account), 3)
    assert.equal(late.ledger.balance(first.account), 990n)
  })

  test('an observer does not vote but delivers what validators certify', () => {
    const net = new LocalNet()
    const observer = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 1)) })
    assert.equal(observer.isValidator, false)
    const op = transfer(net, 0, 1, 1, 5n)
    assert.equal(observer.receive(net.replicas[0]!.id, proposeBytes(op), 0).verdict, 'ignore')
    assert.equal(observer.receive(net.replicas[0]!.id, encodeMessage(certify(net, [op], [1, 2, 3])), 0).verdict, 'accept')
    assert.equal(observer.ledger.nextSeq(op.account), 2)
  })

  test('no signature is verified twice on a node', () => {
    let verifies = 0
    const counting: SignatureScheme = { ...sodiumScheme, name: 'counting', verify: (...args) => { verifies++; return sodiumScheme.verify(...args) } }
    const net = new LocalNet({ scheme: counting })
    const ops = [transfer(net, 0, 1, 1, 5n), transfer(net, 1, 1, 2, 5n), transfer(net, 2, 1, 0, 5n)]
    const v = net.replicas[1]!
    v.receive(net.replicas[0]!.id, proposeBytes(...ops), 0)
    assert.equal(verifies, 3)
    v.receive(net.replicas[0]!.id, proposeBytes(...ops), 0) // a retransmission
    v.receive(net.replicas[2]!.id, proposeBytes(ops[0]!), 0) // one op again, in another batch
    assert.equal(verifies, 3)
    const cert = encodeMessage(certify(net, ops, [0, 2, 3]))
    v.receive(net.replicas[0]!.id, cert, 0)
    assert.equal(verifies, 6, 'three vote signatures, not the op signatures again')
    v.receive(net.replicas[2]!.id, cert, 0)
    assert.equal(verifies, 6)
  })

  test('malformed or random bytes from a peer are rejected, never throw, and change nothing', () => {
    const net = new LocalNet()
    const op = transfer(net, 0, 1, 1, 5n)
    net.submit(0, [op])
    net.settle()
    const valid = [proposeBytes(transfer(net, 0, 2, 1, 1n)), encodeMessage(certify(net, [op], [0, 1, 2]))]
    const target = net.replicas[2]!
    const before = JSON.stringify(target.status())
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, i, bit]) => { const c = new Uint8Array(b); c[i % c.length]! ^= 1 << bit; return c }),
        fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([b, n]) => b.subarray(0, n % b.length))
      ),
      bytes => {
        const res = target.receive(net.replicas[0]!.id, bytes, 0)
        if (res.verdict === 'reject') assert.deepEqual(res.actions, [])
      }
    ), { numRuns: 2000 })
    // nothing was delivered, bound or certified by any of it
    const after = target.status()
    assert.equal(JSON.stringify({ ...after, queued: 0, pendingBatches: 0 }), JSON.stringify({ ...JSON.parse(before), queued: 0, pendingBatches: 0 }))
  })
})
