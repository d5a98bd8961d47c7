// The binding hand-off when the set changed again before every validator of the previous set got
// to vote there: validators already voting in the new epoch hand over too, so one crash among the
// few old-set voters does not leave the rest waiting for ever (seen as crash-epochs seeds 8, 10).

import { describe, test } from 'node:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { compareBytes } from '../../src/core/codec/canonical.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signOp } from '../../src/core/ledger/op.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import type { Handoff } from '../../src/core/broadcast/messages.js'
import { MalformedError } from '../../src/core/errors.js'
import { encode } from '../../src/core/codec/canonical.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { NodeDatabase } from '../../src/store/database.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

const key = (i: number): Uint8Array => signerFrom(sodiumScheme, seedOf('validator', i)).publicKey
const keys = (...is: number[]): Uint8Array[] => is.map(key).sort(compareBytes)

const isHandoff = (bytes: Uint8Array): boolean => decodeMessage(bytes).type === 'handoff'

/**
 * Crash-only genesis {0, 1, 2, 3} delivers one transfer while node 4 hears nothing; then epoch 1 =
 * {0, ..., 4}: v4 learns it, hears no hand-off and fetches nothing yet.
 */
function newcomerLagging (): { net: LocalNet, a: LocalNet['accounts'][number], op: ReturnType<typeof signOp> } {
  const net = new LocalNet({ validators: 4, observers: 1, faults: 'crash' })
  net.drop = (_from, to) => to === 4
  const a = net.accounts[0]!
  const op = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 5n } })
  net.submit(0, [op])
  net.settle()
  net.drop = (_from, to, bytes) => to === 4 && decodeMessage(bytes).type !== 'reconfigure'
  net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
  return { net, a, op }
}

describe('hand-off from validators already voting in the new epoch', () => {
  test('crash-only: only three of epoch 1 voted there, one of them dies after epoch 2 began; the others take over from the newcomer that already votes', () => {
    // genesis {0, 1, 2, 3}, q = 3; nodes 4 and 5 follow until added
    const net = new LocalNet({ validators: 4, observers: 2, faults: 'crash' })
    // epoch 1 = {0, 1, 2, 3, 4} (q = 3): v2 and v3 hear no hand-off and never vote there
    net.drop = (_from, to, bytes) => (to === 2 || to === 3) && isHandoff(bytes)
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    assert.deepEqual([0, 1, 2, 3, 4].map(i => net.replicas[i]!.votes), [true, true, false, false, true])
    // epoch 2 = {0, ..., 5} (q = 4), approved by epoch 1's three voters; of v0's hand-offs only
    // v5's arrives, and then v0 is gone for good
    net.drop = (from, to, bytes) => isHandoff(bytes) && (to === 2 || to === 3 || (from === 0 && to !== 5))
    net.reconfigure(0, keys(0, 1, 2, 3, 4, 5), [1, 4])
    assert.ok(net.replicas.every(r => r.epoch.number === 2))
    assert.ok(net.replicas[5]!.votes, 'v5 heard v0, v1 and v4: three of epoch 1, which meet every quorum there')
    net.drop = (from, to) => from === 0 || to === 0
    // v1 and v4 have each other and themselves, two of the three epoch-1 voters still alive;
    // v2 and v3 never voted in epoch 1: without v5's hand-off no three of epoch 1 are left to hear
    for (let i = 0; i < 10; i++) net.settle(5, 500)
    assert.deepEqual([1, 2, 3, 4, 5].map(i => net.replicas[i]!.votes), [true, true, true, true, true], 'v1 to v4 took over from v5 and vote')
    // and the five live validators of six certify (q = 4)
    const a = net.accounts[0]!
    const op = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 5n } })
    net.submit(1, [op])
    for (let i = 0; i < 5; i++) net.settle(5, 500)
    for (const i of [1, 2, 3, 4, 5]) assert.ok(net.delivered[i]!.some(d => toHex(d.op.hash) === toHex(op.hash)), `v${i} delivered the transfer`)
  })

  test('a settled list counts only once it ends: a flagged first part does not mark an earlier unflagged list settled', () => {
    // genesis {0, 1, 2, 3} (crash-only); node 4 hears nothing until it is added, so it lags
    const { net, a, op } = newcomerLagging()
    assert.ok(net.delivered[0]!.some(d => toHex(d.op.hash) === toHex(op.hash)))
    const v4 = net.replicas[4]!
    assert.equal(v4.epoch.number, 1)
    assert.equal(v4.votes, false)
    const v0 = net.replicas[0]!.id
    // v0's list from when it entered epoch 1 (it voted in genesis, not settled yet): it ends, and
    // v0 delivered further than v4, which must reach that first
    net.inject(v0, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [], done: false, entries: [{ account: a.publicKey, seq: 2 }] }))
    net.inject(v0, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [], done: true }))
    // then the first part of v0's settled list (more parts to come: many bound ops, many streams)
    net.inject(v0, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [], done: false, settled: true }))
    // v4 reaches v0's floor; the rest of the settled list never arrives
    net.drop = (_from, to, bytes) => to === 4 && isHandoff(bytes)
    for (let i = 0; i < 5; i++) net.settle(5, 500)
    assert.ok(net.delivered[4]!.some(d => toHex(d.op.hash) === toHex(op.hash)), 'v4 reached v0\'s floor')
    assert.equal(v4.votes, false, 'one unflagged list (one of two needed) and part of a settled one end no wait')
    // the end of the settled list does
    net.inject(v0, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [], done: true, settled: true }))
    assert.equal(v4.votes, true)
  })

  test('a list counts only whole: with a part lost on the way, its end does not end the wait', () => {
    const { net, a, op } = newcomerLagging()
    const v4 = net.replicas[4]!
    assert.equal(v4.votes, false)
    const v0 = net.replicas[0]!.id
    // v0's settled list in two parts (a long list: many streams); the first, with the floor v4
    // must reach, is lost (a full send queue drops the oldest frame), the second arrives
    const parts: Handoff[] = [
      { type: 'handoff', epoch: 1, ops: [], done: false, entries: [{ account: a.publicKey, seq: 2 }], settled: true, list: 7, part: 0 },
      { type: 'handoff', epoch: 1, ops: [], done: true, settled: true, list: 7, part: 1 }
    ]
    net.inject(v0, 4, encodeMessage(parts[1]!))
    assert.equal(v4.votes, false, 'the end of a list without its first part ends no wait')
    // a later list whose first part arrives does not complete the broken one either
    net.inject(v0, 4, encodeMessage({ ...parts[0]!, list: 8 }))
    net.inject(v0, 4, encodeMessage(parts[1]!))
    assert.equal(v4.votes, false, 'parts of two lists make no list')
    // the whole list does, once v4 reached v0's floor
    net.inject(v0, 4, encodeMessage(parts[0]!))
    net.inject(v0, 4, encodeMessage(parts[1]!))
    net.drop = (_from, to, bytes) => to === 4 && isHandoff(bytes)
    for (let i = 0; i < 5; i++) net.settle(5, 500)
    assert.ok(net.delivered[4]!.some(d => toHex(d.op.hash) === toHex(op.hash)))
    assert.equal(v4.votes, true)
  })

  test('parts: written only past the first, and read back', () => {
    const m: Handoff = { type: 'handoff', epoch: 2, ops: [], done: true, list: 3, part: 2 }
    const back = decodeMessage(encodeMessage(m)) as Handoff
    assert.deepEqual([back.list, back.part], [3, 2])
    assert.equal('part' in decodeMessage(encodeMessage({ type: 'handoff', epoch: 2, ops: [], done: true })), false)
    assert.throws(() => decodeMessage(encode({ type: 'handoff', epoch: 2, ops: [], done: true, list: 0, part: 0 })), MalformedError)
  })

  test('two ops handed over for one slot: the new validator votes for neither until one is delivered, restarted too', async () => {
    // genesis {0, 1, 2, 3} (crash-only, q = 3); the account signed two ops for seq 1: v0 voted
    // for x, v1 to v3 for y (certified, delivered nowhere yet). Epoch 1 adds v4; its hand-off
    // comes from v0 (x) first, then v1 (y): two of four, which meet every quorum of genesis.
    const net = new LocalNet({ validators: 4, observers: 1, faults: 'crash' })
    net.drop = (_from, to, bytes) => to === 4 && decodeMessage(bytes).type !== 'reconfigure'
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    const a = net.accounts[0]!
    const pay = (to: number, amount: bigint): ReturnType<typeof signOp> => signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[to]!.publicKey, amount } })
    const x = pay(1, 5n)
    const y = pay(2, 6n)
    const [v0, v1, v9] = [net.replicas[0]!.id, net.replicas[1]!.id, net.replicas[2]!.id]
    net.inject(v0, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [x.bytes], done: true }))
    net.inject(v1, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [y.bytes], done: true }))
    const v4 = net.replicas[4]!
    assert.equal(v4.votes, true)
    // a proposal of either op gets no vote from v4: y may be certified (it is), x was bound first
    const answers = (node: Replica): string[] => {
      const out: string[] = []
      for (const op of [x, y]) {
        for (const act of node.receive(v9, encodeMessage({ type: 'propose', ops: [op.bytes] }), net.now).actions) {
          if (act.type === 'send') out.push(decodeMessage(act.bytes).type)
        }
      }
      return out
    }
    assert.deepEqual(answers(v4), ['nack', 'nack'], 'no vote for x (another op of the slot may be certified) nor y')
    // and after a restart from its disk
    const again = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('validator', 4)) })
    again.restore(net.disks[4]!, net.now)
    assert.equal(again.votes, true)
    assert.deepEqual(answers(again), ['nack', 'nack'], 'restarted, it still votes for neither')
    // the same through the node's database
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-contested-'))
    try {
      let db = await NodeDatabase.open(dir)
      await db.persist(net.disks[4]!)
      await db.close()
      db = await NodeDatabase.open(dir)
      const fromDb = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('validator', 4)) })
      fromDb.restore(await db.replicaRecords(), net.now)
      await db.close()
      assert.deepEqual(answers(fromDb), ['nack', 'nack'], 'restarted from its database, it still votes for neither')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('an op handed over that this node cannot check yet (a key rotation it has not delivered) is bound once it reached the sender', () => {
    // genesis {0, 1, 2, 3} (crash-only): the account rotated its key at seq 1 (delivered there, not
    // at v4); v1 and v2 bound y at seq 2 (signed by the new key), certified, not delivered yet
    const net = new LocalNet({ validators: 4, observers: 1, faults: 'crash' })
    net.drop = (_from, to) => to === 4
    const a = net.accounts[0]!
    const next = signerFrom(sodiumScheme, seedOf('next-key', 0))
    const rotate = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'rotate-key', to: next.publicKey } })
    net.submit(0, [rotate])
    net.settle()
    assert.ok(net.delivered[1]!.some(d => toHex(d.op.hash) === toHex(rotate.hash)))
    net.drop = (_from, to, bytes) => to === 4 && decodeMessage(bytes).type !== 'reconfigure'
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    const pay = (to: number): ReturnType<typeof signOp> => signOp(next, net.networkId, { account: a.publicKey, seq: 2, deps: [], body: { kind: 'transfer', to: net.accounts[to]!.publicKey, amount: 5n } })
    const y = pay(1)
    const other = pay(2)
    const floor = [{ account: a.publicKey, seq: 2 }]
    net.inject(net.replicas[1]!.id, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [y.bytes], done: true, entries: floor }))
    net.inject(net.replicas[2]!.id, 4, encodeMessage({ type: 'handoff', epoch: 1, ops: [y.bytes], done: true, entries: floor }))
    // v4 fetches the rotation from them, and only hand-offs stay away
    net.drop = (_from, to, bytes) => to === 4 && isHandoff(bytes)
    for (let i = 0; i < 5; i++) net.settle(5, 500)
    const v4 = net.replicas[4]!
    assert.ok(net.delivered[4]!.some(d => toHex(d.op.hash) === toHex(rotate.hash)))
    assert.equal(v4.votes, true)
    const answer = v4.receive(net.replicas[3]!.id, encodeMessage({ type: 'propose', ops: [other.bytes] }), net.now).actions
      .flatMap(act => act.type === 'send' ? [decodeMessage(act.bytes).type] : [])
    assert.deepEqual(answer, ['nack'], 'v4 holds y (certified) bound: no vote for another op at its slot')
  })

  test('the flag: written only when true, and a list that says false is refused', () => {
    const m = { type: 'handoff' as const, epoch: 2, ops: [], done: true, settled: true as const }
    assert.equal((decodeMessage(encodeMessage(m)) as { settled?: boolean }).settled, true)
    assert.equal('settled' in decodeMessage(encodeMessage({ type: 'handoff', epoch: 2, ops: [], done: true })), false)
    assert.throws(() => decodeMessage(encode({ type: 'handoff', epoch: 2, ops: [], done: true, settled: false })), MalformedError)
  })
})
