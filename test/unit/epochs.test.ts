// Epochs: the validator set as a chain of quorum-signed changes, and a replica's moves between
// sets (approvals, the binding hand-off, votes and certificates that name their epoch).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compareBytes } from '../../src/core/codec/canonical.js'
import { Domain, signFor, signerFrom } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { batchDigest, decodeMessage, encodeMessage, votePayload } from '../../src/core/broadcast/messages.js'
import type { ReconfigureMsg } from '../../src/core/broadcast/messages.js'
import { EpochChain, changeProblem, makeEpoch, signStatement, statementId } from '../../src/core/epoch/epochs.js'
import type { ReconfigureStatement } from '../../src/core/epoch/epochs.js'
import { ReconfigurationError } from '../../src/core/epoch/reconfigurer.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { Joiner } from '../../src/core/checkpoint/joiner.js'
import type { JoinRequest } from '../../src/core/checkpoint/joiner.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

const key = (i: number): Uint8Array => signerFrom(sodiumScheme, seedOf('validator', i)).publicKey
const keys = (...is: number[]): Uint8Array[] => is.map(key).sort(compareBytes)

function transfer (net: LocalNet, from: number, seq: number, to: number, amount: bigint): SignedOp {
  const a = net.accounts[from]!
  return signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[to]!.publicKey, amount } })
}

describe('the change rule', () => {
  test('adding or removing one validator passes; replacing one at once, or nothing, does not', () => {
    assert.equal(changeProblem(keys(0, 1, 2, 3), keys(0, 1, 2, 3, 4), 'byzantine'), undefined)
    assert.equal(changeProblem(keys(0, 1, 2, 3, 4), keys(0, 1, 2, 3), 'byzantine'), undefined)
    assert.equal(changeProblem(keys(0, 1, 2, 3, 4, 5), keys(0, 1, 2, 3, 4, 5, 6), 'byzantine'), undefined)
    assert.equal(changeProblem(keys(0, 1, 2, 3, 4, 5, 6), keys(0, 1, 2, 3, 4, 5), 'byzantine'), undefined)
    assert.match(changeProblem(keys(0, 1, 2, 3), keys(0, 1, 2, 4), 'byzantine')!, /share only 1 validator/)
    assert.match(changeProblem(keys(0, 1, 2, 3), keys(0, 1, 2, 3), 'byzantine')!, /same as the current/)
    assert.match(changeProblem(keys(0, 1, 2, 3), [], 'byzantine')!, /empty/)
    assert.match(changeProblem(keys(0, 1, 2, 3), [key(4), key(4)], 'byzantine')!, /sorted and distinct/)
  })
})

describe('the epoch chain', () => {
  const net = new LocalNet({ validators: 4 })
  const signers = net.validatorKeys
  const statement = (over: Partial<ReconfigureStatement> = {}): ReconfigureStatement =>
    ({ epoch: 1, validators: keys(0, 1, 2, 3, 4), prev: net.networkId, proposer: signers[0]!.publicKey, ...over })
  const record = (s: ReconfigureStatement, by: number[]): { sigs: ReturnType<typeof signStatement>[], bytes: Uint8Array } => {
    const sigs = by.map(i => signStatement(signers[i]!, net.networkId, s))
    return { sigs, bytes: encodeMessage({ type: 'reconfigure', ...s, sigs }) }
  }

  test('a quorum of the previous set extends it; the new epoch cites the statement', () => {
    const chain = new EpochChain(sodiumScheme, net.networkId, net.genesis.validators, 'byzantine')
    const s = statement()
    const { sigs, bytes } = record(s, [0, 1, 2])
    const e = chain.extend(s, sigs, bytes)
    assert.ok(typeof e !== 'string', String(e))
    assert.equal(chain.current.number, 1)
    assert.equal(chain.current.quorum, 4)
    assert.deepEqual(chain.current.id, statementId(s))
    assert.deepEqual(chain.recordsFrom(1, 10), [bytes])
  })

  test('too few, foreign, repeated or forged signatures and broken links are refused', () => {
    const outsider = signerFrom(sodiumScheme, seedOf('validator', 9))
    const s = statement()
    const good = record(s, [0, 1, 2])
    const cases: Array<[string, ReconfigureStatement, ReturnType<typeof signStatement>[], RegExp]> = [
      ['two signatures', s, good.sigs.slice(0, 2), /needs 3/],
      ['a non-member', s, [...good.sigs.slice(0, 2), signStatement(outsider, net.networkId, s)], /not a validator of epoch 0/],
      ['one signer twice', s, [good.sigs[0]!, good.sigs[0]!, good.sigs[1]!], /twice/],
      ['a forged signature', s, [...good.sigs.slice(0, 2), { signer: signers[3]!.publicKey, sig: good.sigs[2]!.sig }], /does not verify/],
      ['another chain', statement({ prev: new Uint8Array(32) }), good.sigs, /does not follow epoch 0/],
      ['a skipped epoch', statement({ epoch: 2 }), good.sigs, /next is 1/],
      ['an outside proposer', statement({ proposer: outsider.publicKey }), good.sigs, /non-validator/],
      ['a swap of two validators', statement({ validators: keys(0, 1, 4, 5) }), good.sigs, /share only/]
    ]
    for (const [what, st, sigs, why] of cases) {
      const chain = new EpochChain(sodiumScheme, net.networkId, net.genesis.validators, 'byzantine')
      const res = chain.extend(st, sigs, good.bytes)
      assert.equal(typeof res, 'string', what)
      assert.match(res as string, why, what)
      assert.equal(chain.current.number, 0, what)
    }
  })

  test('makeEpoch sizes the quorum from the set', () => {
    assert.equal(makeEpoch(3, keys(0, 1, 2, 3, 4, 5, 6), new Uint8Array(32), 'byzantine').quorum, 5)
  })
})

describe('a replica across a change of its validator set', () => {
  test('grow 4 to 5: the observer is promoted, waits for the hand-off, then votes; state stays equal', () => {
    const net = new LocalNet({ validators: 4, observers: 1 })
    net.submit(0, [transfer(net, 0, 1, 1, 10n)])
    net.settle()
    const id = net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    for (const r of net.replicas) assert.equal(r.epoch.number, 1, `${r.id.slice(0, 8)} moved to epoch 1 (${id.slice(0, 8)})`)
    const newcomer = net.replicas[4]!
    assert.ok(newcomer.isValidator)
    assert.ok(newcomer.votes, 'a quorum of the old set handed its bindings over')
    assert.equal(newcomer.quorum, 4)
    // a certificate made now names epoch 1 and needs four of the five
    net.submit(4, [transfer(net, 1, 1, 2, 5n)])
    net.settle()
    const certs = net.disks[0]!.filter(r => r.kind === 'certificate').map(r => decodeMessage((r as { bytes: Uint8Array }).bytes))
    const last = certs.at(-1)!
    assert.equal(last.type, 'certified')
    assert.equal((last as { epoch?: number }).epoch, 1)
    assert.equal(new Set(net.stateHashes()).size, 1, 'every node on the same state')
    assert.equal(net.replicas[0]!.ledger.nextSeq(net.accounts[1]!.publicKey), 2)
    // the chain is on disk, and a replica restored from it is in epoch 1 with the newcomer voting
    const epochRecords = net.disks[4]!.filter(r => r.kind === 'epoch')
    assert.equal(epochRecords.length, 1)
    const restored = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[0]! })
    restored.restore(net.disks[0]!, net.now)
    assert.equal(restored.epoch.number, 1)
    const again = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('validator', 4)) })
    again.restore(net.disks[4]!, net.now)
    assert.ok(again.votes, 'the finished hand-off is remembered across a restart')
  })

  test('a removed validator\'s later votes do not count, and it follows as an observer', () => {
    const net = new LocalNet({ validators: 5 })
    net.reconfigure(0, keys(0, 1, 2, 3), [1, 2, 3])
    const removed = net.replicas[4]!
    assert.equal(removed.epoch.number, 1)
    assert.equal(removed.isValidator, false)
    net.submit(0, [transfer(net, 0, 1, 1, 10n)])
    net.settle()
    assert.equal(new Set(net.stateHashes()).size, 1)
    // a certificate of epoch 1 that counts the removed key is refused, though every vote verifies
    const op = transfer(net, 1, 1, 2, 3n)
    const digest = batchDigest([op.hash])
    const votes = [0, 1, 4].map(i => ({ voter: net.validatorKeys[i]!.publicKey, sig: signFor(net.validatorKeys[i]!, Domain.vote, net.networkId, votePayload(1, digest)) }))
    const res = net.inject(net.replicas[1]!.id, 0, encodeMessage({ type: 'certified', ops: [op.bytes], votes, epoch: 1 }))
    assert.equal(res.verdict, 'reject')
    assert.match(res.reason!, /non-validator of epoch 1/)
    assert.equal(net.replicas[0]!.ledger.nextSeq(net.accounts[1]!.publicKey), 1)
  })

  test('a validator approves one change per epoch, and a second proposal is refused with a reason', () => {
    const net = new LocalNet({ validators: 4, observers: 2 })
    const a = net.replicas[0]!.proposeReconfiguration(keys(0, 1, 2, 3, 4), net.now)
    net.execute(0, a.actions)
    net.run()
    assert.throws(() => net.replicas[0]!.proposeReconfiguration(keys(0, 1, 2, 3, 5), net.now), (err: unknown) => err instanceof ReconfigurationError && /already approved/.test(err.message))
    const b = net.replicas[1]!.proposeReconfiguration(keys(0, 1, 2, 3, 5), net.now)
    net.execute(1, b.actions)
    net.run()
    assert.throws(() => net.replicas[1]!.approveReconfiguration(a.id, net.now), /already approved/)
    assert.throws(() => net.replicas[4]!.approveReconfiguration(a.id, net.now), /voting validator/)
    assert.throws(() => net.replicas[2]!.approveReconfiguration('ffff', net.now), /no open proposal/)
    assert.equal(net.replicas[2]!.reconfigurations().length, 2)
    // the approval is persisted before it is sent, and restored: no second approval after a restart
    const approval = net.disks[0]!.find(r => r.kind === 'approval')
    assert.ok(approval !== undefined)
    const restarted = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[0]! })
    restarted.restore(net.disks[0]!, net.now)
    const msg = decodeMessage((approval as { bytes: Uint8Array }).bytes) as ReconfigureMsg
    restarted.receive(net.replicas[1]!.id, encodeMessage({ ...msg }), net.now)
    assert.throws(() => restarted.proposeReconfiguration(keys(0, 1, 2, 3, 5), net.now), /already approved/)
  })

  test('the hand-off carries a slot bound in the old epoch to the new validator, which then refuses a conflicting op', () => {
    const net = new LocalNet({ validators: 4, observers: 1 })
    // validator 1 binds an op whose certificate never forms (its broadcaster vanished)
    const honest = transfer(net, 0, 1, 1, 10n)
    const conflicting = transfer(net, 0, 1, 2, 10n)
    const res = net.replicas[1]!.receive(net.replicas[3]!.id, encodeMessage({ type: 'propose', ops: [honest.bytes] }), net.now)
    net.execute(1, res.actions.filter(a => a.type !== 'send'))
    const id = net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    assert.ok(id.length > 0)
    const newcomer = net.replicas[4]!
    assert.equal(newcomer.epoch.number, 1)
    const vote = newcomer.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [conflicting.bytes] }), net.now)
    const sent = vote.actions.filter(a => a.type === 'send').map(a => decodeMessage((a as { bytes: Uint8Array }).bytes).type)
    assert.deepEqual(sent, ['nack'], 'the newcomer adopted the binding and reports the conflict instead of voting')
  })

  test('a slot certified and delivered before a replacement is not certified again by the replacement', () => {
    // v0 is Byzantine (it signs any vote); v4 replaces v1 in two changes (add v4, remove v1).
    const net = new LocalNet({ validators: 4, observers: 1 })
    const [, v1, v2, v3, v4] = net.replicas as [Replica, Replica, Replica, Replica, Replica]
    const byz = net.validatorKeys[0]!
    const byzVote = (ops: SignedOp[], epoch: number): { voter: Uint8Array, sig: Uint8Array } =>
      ({ voter: byz.publicKey, sig: signFor(byz, Domain.vote, net.networkId, votePayload(epoch, batchDigest(ops.map(o => o.hash)))) })
    const voteOf = (r: Replica, i: number, op: SignedOp): { voter: Uint8Array, sig: Uint8Array } | undefined => {
      const res = r.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [op.bytes] }), net.now)
      net.execute(i, res.actions.filter(a => a.type !== 'send'))
      const m = res.actions.filter(a => a.type === 'send').map(a => decodeMessage((a as { bytes: Uint8Array }).bytes)).find(m => m.type === 'vote')
      return m?.type === 'vote' ? { voter: m.voter, sig: m.sig } : undefined
    }
    // v2 and v4 are cut off from certificates (and from what would bring them) for the whole run
    net.drop = (_from, to, bytes) => (to === 2 || to === 4) && ['certified', 'fetch', 'frontier'].includes(decodeMessage(bytes).type)
    const first = transfer(net, 0, 1, 1, 10n)
    const cert1 = encodeMessage({ type: 'certified', ops: [first.bytes], votes: [byzVote([first], 0), voteOf(v1, 1, first)!, voteOf(v3, 3, first)!], epoch: 0 })
    net.inject(net.replicas[0]!.id, 1, cert1)
    net.inject(net.replicas[0]!.id, 3, cert1)
    assert.equal(v1.ledger.nextSeq(net.accounts[0]!.publicKey), 2, 'v1 delivered the first op')
    net.reconfigure(1, keys(0, 1, 2, 3, 4), [2, 3])
    assert.equal(v4.epoch.number, 1)
    // v4 and v2 cannot reach the frontier v1 and v3 handed over: they do not vote yet ...
    const second = transfer(net, 0, 1, 2, 10n)
    assert.equal(voteOf(v4, 4, second), undefined, 'v4 must not vote for a slot the old set delivered')
    assert.equal(voteOf(v2, 2, second), undefined, 'nor v2, which never saw the first op')
    // ... nor help remove v1 (the second step of replacing it), which would leave v0, v2 and v4 a
    // quorum of epoch 2 that never saw the first op
    const removal = net.replicas[0]!.proposeReconfiguration(keys(0, 2, 3, 4), net.now)
    net.execute(0, removal.actions)
    net.run()
    assert.throws(() => v4.approveReconfiguration(removal.id, net.now), /still taking over/)
    assert.throws(() => v2.approveReconfiguration(removal.id, net.now), /still taking over/)
    assert.equal(v2.ledger.nextSeq(net.accounts[0]!.publicKey), 1)
    // once the link heals, v4 fetches what the old set delivered, and votes
    net.drop = undefined
    for (let i = 0; i < 10 && !v4.votes; i++) net.settle(5, 500)
    assert.ok(v4.votes, 'v4 votes once it reached the frontier the old set handed over')
    assert.ok(net.delivered[4]!.some(d => toHex(d.op.hash) === toHex(first.hash)), 'v4 delivered the first op')
  })

  test('a validator restarted during a second hand-off still counts its own, and votes with one old validator silent', () => {
    const net = new LocalNet({ validators: 4, observers: 1 })
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    assert.ok(net.replicas[2]!.votes)
    // v0 goes silent; v2 hears no hand-off for epoch 2 before it restarts
    net.drop = (from, to, bytes) => from === 0 || to === 0 || (to === 2 && decodeMessage(bytes).type === 'handoff')
    net.reconfigure(1, keys(0, 1, 2, 4), [2, 3, 4])
    assert.equal(net.replicas[2]!.epoch.number, 2)
    assert.equal(net.replicas[2]!.votes, false)
    const restarted = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[2]! })
    // in the order NodeDatabase.replicaRecords gives them: the chain, approvals, hand-offs, the rest
    const rank = ['epoch', 'approval', 'handoff-done', 'bindings', 'checkpoint-sig', 'certificate']
    restarted.restore([...net.disks[2]!].sort((a, b) => rank.indexOf(a.kind) - rank.indexOf(b.kind)), net.now)
    net.replicas[2] = restarted
    net.drop = (from, to) => from === 0 || to === 0
    for (let i = 0; i < 5 && !restarted.votes; i++) net.settle(5, 500)
    assert.ok(restarted.votes, 'v2 voted in epoch 1 (it wrote so) and three more of its five hand over: a quorum of four')
  })

  test('a validator still taking over the previous epoch neither approves the next change nor hands over for it', () => {
    const net = new LocalNet({ validators: 4, observers: 2 })
    // the newcomer hears no hand-off: it stays waiting in epoch 1
    net.drop = (_from, to, bytes) => to === 4 && decodeMessage(bytes).type === 'handoff'
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    const waiting = net.replicas[4]!
    assert.equal(waiting.epoch.number, 1)
    assert.equal(waiting.votes, false)
    assert.throws(() => waiting.proposeReconfiguration(keys(0, 1, 2, 3, 4, 5), net.now), /still taking over the bindings of epoch 0/)
    const { id, actions } = net.replicas[0]!.proposeReconfiguration(keys(0, 1, 2, 3, 4, 5), net.now)
    net.execute(0, actions)
    net.run()
    assert.throws(() => waiting.approveReconfiguration(id, net.now), /still taking over/)
    // were epoch 2 certified by the others, its hand-off would not count on this validator's list:
    // asked for it, it answers nothing
    const asked = waiting.receive(net.replicas[5]!.id, encodeMessage({ type: 'handoff-request', epoch: 1 }), net.now)
    assert.equal(asked.actions.filter(a => a.type === 'send').length, 0)
    assert.match(asked.reason ?? '', /not a validator waiting|did not vote/)
  })

  test('a removed validator cannot make the new set bind ops by handing them over once their wait is over', () => {
    const net = new LocalNet({ validators: 5 })
    net.reconfigure(0, keys(0, 1, 2, 3), [1, 2, 3])
    const v0 = net.replicas[0]!
    assert.ok(v0.votes)
    const before = v0.status().bindings
    // ops of accounts that hold nothing, which no validator binds from a proposal
    const junk = Array.from({ length: 50 }, (_, i) => {
      const k = signerFrom(sodiumScheme, seedOf('junk', i))
      return signOp(k, net.networkId, { account: k.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[0]!.publicKey, amount: 1n } }).bytes
    })
    net.inject(net.replicas[4]!.id, 0, encodeMessage({ type: 'handoff', epoch: 1, ops: junk, done: true }))
    assert.equal(v0.status().bindings, before, 'nothing bound: the hand-off of epoch 1 is over here')
  })

  test('a node behind learns the chain from a peer\'s frontier and then accepts that epoch\'s certificates', () => {
    const net = new LocalNet({ validators: 4, observers: 1 })
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    const late = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('late', 0)), peers: [net.replicas[0]!.id] })
    const res = net.replicas[0]!.receive(late.id, encodeMessage({ type: 'frontier', entries: [], complete: true, checkpoint: 0, epoch: 0 }), net.now)
    const records = res.actions.filter(a => a.type === 'send' && a.kind === 'reconfigure')
    assert.equal(records.length, 1)
    for (const a of records) late.receive(net.replicas[0]!.id, (a as { bytes: Uint8Array }).bytes, net.now)
    assert.equal(late.epoch.number, 1)
    assert.equal(toHex(late.epoch.id), toHex(net.replicas[0]!.epoch.id))
  })
})

describe('joining a network that changed its validator set', () => {
  /** Four validators and an observer, the observer added (epoch 1), and ops enough for a checkpoint of epoch 1. */
  const checkpointedInEpochOne = (): LocalNet => {
    const net = new LocalNet({ validators: 4, observers: 1, accounts: 4, replica: { checkpoints: { interval: 4, retain: 2 } } })
    net.reconfigure(0, keys(0, 1, 2, 3, 4), [1, 2])
    for (let seq = 1; seq <= 4; seq++) {
      net.submit(seq % 5, [transfer(net, 0, seq, 1, 1n), transfer(net, 2, seq, 3, 1n)])
      net.settle()
    }
    for (let i = 0; i < 40 && net.certified[0]!.length === 0; i++) net.settle(5, 500)
    return net
  }

  test('a checkpoint signed in epoch 1 is accepted only with the chain that proves its signers', () => {
    const net = checkpointedInEpochOne()
    const cp = net.certified[0]!.at(-1)
    assert.ok(cp !== undefined, 'a checkpoint was certified in epoch 1')
    assert.equal(cp.msg.epoch, 1)
    assert.equal(cp.msg.sigs.length, 4, 'a quorum of the five of epoch 1 (three would do in epoch 0)')
    const set = { networkId: net.networkId, scheme: sodiumScheme, validators: new Set(net.genesis.validators.map(toHex)), quorum: 3 }
    const records = net.replicas[0]!.epochRecords()
    const tampered = (() => {
      const m = decodeMessage(records[0]!) as ReconfigureMsg
      return encodeMessage({ ...m, sigs: m.sigs.slice(0, 2) })
    })()
    const offer = (epochs: Uint8Array[]): { joiner: Joiner, reqs: JoinRequest[] } => {
      const joiner = new Joiner(net.genesis, set, { offersWanted: 1 })
      joiner.addPeers(['p'], 0)
      return { joiner, reqs: joiner.onOffer('p', cp.bytes, cp.snapshot.manifestBytes, 0, epochs) }
    }
    const bare = offer([])
    assert.equal(bare.reqs.length, 0)
    assert.match(bare.joiner.misbehaved[0]!.reason, /epoch is not proven: the checkpoint names epoch 1 and only 0 came with it/)
    const forged = offer([tampered])
    assert.match(forged.joiner.misbehaved[0]!.reason, /has 2 signatures, needs 3/)
    const good = offer(records)
    let queue = good.reqs
    while (queue.length > 0) queue = queue.flatMap(r => r.kind === 'chunk' ? good.joiner.onChunk('p', r.index, cp.snapshot.chunks[r.index]!, 0) : [])
    const joined = good.joiner.result()
    assert.ok(joined !== undefined, good.joiner.failure)
    assert.deepEqual(joined.epochs, records)
    // a replica started from it, with the chain restored first, is in epoch 1
    const fresh = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('joiner', 0)) })
    fresh.restore(joined.epochs.map((bytes, i) => ({ kind: 'epoch' as const, epoch: i + 1, bytes })), net.now, joined)
    assert.equal(fresh.epoch.number, 1)
    assert.equal(toHex(fresh.ledger.stateHash()), toHex(cp.msg.root))
  })

  test('records a peer sends past what proves the checkpoint are not kept: they would stop the node at every start', () => {
    const net = checkpointedInEpochOne()
    const cp = net.certified[0]!.at(-1)!
    assert.equal(cp.msg.epoch, 1)
    const set = { networkId: net.networkId, scheme: sodiumScheme, validators: new Set(net.genesis.validators.map(toHex)), quorum: 3 }
    const records = net.replicas[0]!.epochRecords()
    // a forged next link: one signature where a quorum of epoch 1 is needed
    const bogus = (epoch: number, prev: Uint8Array): Uint8Array => {
      const s: ReconfigureStatement = { epoch, validators: keys(0, 1, 2, 3), prev, proposer: net.validatorKeys[0]!.publicKey }
      return encodeMessage({ type: 'reconfigure', ...s, sigs: [signStatement(net.validatorKeys[0]!, net.networkId, s)] })
    }
    const cases: Array<[string, Uint8Array[], { trustedRoot?: Uint8Array }]> = [
      ['a forged record after the proven chain', [...records, bogus(2, net.replicas[0]!.epoch.id)], {}],
      ['a forged chain with a trusted root', [bogus(1, net.networkId)], { trustedRoot: cp.msg.root }]
    ]
    for (const [what, epochs, opts] of cases) {
      const joiner = new Joiner(net.genesis, set, { offersWanted: 1, ...opts })
      joiner.addPeers(['p'], 0)
      let queue = joiner.onOffer('p', cp.bytes, cp.snapshot.manifestBytes, 0, epochs)
      while (queue.length > 0) queue = queue.flatMap(r => r.kind === 'chunk' ? joiner.onChunk('p', r.index, cp.snapshot.chunks[r.index]!, 0) : [])
      const joined = joiner.result()
      assert.ok(joined !== undefined, `${what}: ${joiner.failure}`)
      const fresh = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('joiner', 0)) })
      assert.doesNotThrow(() => fresh.restore(joined.epochs.map((bytes, i) => ({ kind: 'epoch' as const, epoch: i + 1, bytes })), net.now, joined), what)
    }
  })
})
