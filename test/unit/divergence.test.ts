// Divergence in the pure core: a node whose state at a certified cut has another root than the
// quorum's stops voting at once, says so once (with the evidence), keeps following, and stays
// halted across a restart; a cut with a wrong root that no quorum signed halts nobody.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import type { Action, PersistRecord } from '../../src/core/broadcast/actions.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import { rebuildCheckpoint } from '../../src/core/checkpoint/joiner.js'
import { signCheckpoint } from '../../src/core/checkpoint/certificate.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet } from '../support/localnet.js'

const INTERVAL = 10

function transfer (net: LocalNet, from: number, seq: number, amount = 1n): SignedOp {
  const a = net.accounts[from]!
  return signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[(from + 1) % net.accounts.length]!.publicKey, amount } })
}

/** Each account's next `count` transfers, submitted round the validators. */
function submitRound (net: LocalNet, fromSeq: number, count: number): void {
  let k = 0
  for (let seq = fromSeq; seq < fromSeq + count; seq++) {
    net.accounts.forEach((_, i) => { net.submit(k++ % 3, [transfer(net, i, seq)]) })
  }
  net.settle(40)
}

/** Ticks every node through `ms` of time, delivering messages between ticks. */
function passTime (net: LocalNet, ms: number): void {
  for (let t = 0; t < ms; t += 250) {
    net.tick(250)
    net.run()
  }
}

/**
 * Four validators with a certified checkpoint and a few delivered ops past it; node 3 is then
 * restarted from a disk where one of those ops was swapped for another op its account signed for
 * the same slot (disk damage, or a bug: records from disk are not verified again).
 */
function divergedNetwork (): { net: LocalNet, records: PersistRecord[], actions: Action[][] } {
  const net = new LocalNet({ validators: 4, accounts: 5, balance: 1000n, replica: { checkpoints: { interval: INTERVAL, retain: 4 } } })
  submitRound(net, 1, 4) // 20 ops: checkpoints at 10 and 20
  passTime(net, 20_000)
  submitRound(net, 5, 1) // 5 ops past them
  const cp = net.replicas[3]!.latestCheckpoint()
  assert.ok(cp !== undefined && cp.msg.height === 20, 'a checkpoint was certified')
  assert.equal(net.replicas[3]!.status().sinceCheckpoint, 5)
  const disk = [...net.disks[3]!]
  // the last certificate holds ops past the checkpoint: swap one for a conflicting op
  let at = disk.length - 1
  while (disk[at]!.kind !== 'certificate') at--
  const cert = decodeMessage((disk[at] as { bytes: Uint8Array }).bytes)
  assert.equal(cert.type, 'certified')
  if (cert.type !== 'certified') throw new Error('unreachable')
  const ops = [...cert.ops]
  const first = signOpOf(net, ops[0]!)
  ops[0] = transfer(net, first.from, first.seq, 7n).bytes
  disk[at] = { kind: 'certificate', bytes: encodeMessage({ ...cert, ops }) }
  const actions: Action[][] = []
  const restarted = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[3]!, checkpoints: { interval: INTERVAL, retain: 4 } })
  restarted.restore(disk, net.now, rebuildCheckpoint(net.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks))
  net.replicas[3] = restarted
  net.disks[3]!.splice(0, net.disks[3]!.length, ...disk)
  spy(net, 3, actions)
  return { net, records: disk, actions }
}

/** The account index and slot of an encoded op of `net`'s accounts. */
function signOpOf (net: LocalNet, bytes: Uint8Array): { from: number, seq: number } {
  for (let i = 0; i < net.accounts.length; i++) {
    for (let seq = 1; seq < 100; seq++) if (toHex(transfer(net, i, seq).bytes) === toHex(bytes)) return { from: i, seq }
  }
  throw new Error('op not found')
}

/** Records every action node `i` produces from now on. */
function spy (net: LocalNet, i: number, into: Action[][]): void {
  const r = net.replicas[i]!
  const receive = r.receive.bind(r)
  const tick = r.tick.bind(r)
  r.receive = (from, bytes, now) => { const res = receive(from, bytes, now); into.push(res.actions); return res }
  r.tick = now => { const a = tick(now); into.push(a); return a }
}

describe('divergence', () => {
  const { net, actions } = divergedNetwork()
  const before = toHex(net.replicas[3]!.ledger.stateHash())
  assert.notEqual(before, toHex(net.replicas[0]!.ledger.stateHash()), 'the tampered replay gave node 3 another state')
  submitRound(net, 6, 2) // the next checkpoint covers the tampered op
  // node 3 may hold the turn (its cut has the wrong root, and nobody signs it): the next turn opens in time
  passTime(net, 20_000)
  const all = actions.flat()
  const at = all.findIndex(a => a.type === 'diverged')

  test('a certified cut whose root differs from ours halts the node, once, with the evidence', () => {
    const r = net.replicas[3]!
    assert.ok(at >= 0, 'a diverged action')
    const d = (all[at] as Extract<Action, { type: 'diverged' }>).divergence
    assert.equal(all.filter(a => a.type === 'diverged').length, 1)
    const certified = net.replicas[0]!.latestCheckpoint()!
    assert.ok(certified.msg.height >= d.height)
    assert.notEqual(toHex(d.ours), toHex(d.root))
    const msg = decodeMessage(d.certified)
    assert.ok(msg.type === 'checkpoint' && msg.sigs.length >= r.quorum, 'the certified statement carries a quorum')
    assert.ok(d.ops.length > 0 && d.ops.length === d.height - d.baseHeight, 'the ops of the cut since the base')
    assert.equal(r.votes, false)
    assert.deepEqual(r.diverged && { height: r.diverged.height, root: toHex(r.diverged.root) }, { height: d.height, root: toHex(d.root) })
    // persisted before the host hears of it
    const persistAt = all.findIndex(a => a.type === 'persist' && a.record.kind === 'diverged')
    assert.ok(persistAt >= 0 && persistAt < at)
  })

  test('after detection it casts no vote and signs no checkpoint, while the others go on and agree', () => {
    const after = all.slice(at)
    const votes = after.filter(a => a.type === 'send' && a.kind === 'vote')
    const sigs = after.filter(a => a.type === 'persist' && a.record.kind === 'checkpoint-sig')
    assert.equal(votes.length, 0)
    assert.equal(sigs.length, 0)
    const heightBefore = net.replicas[0]!.latestCheckpoint()!.msg.height
    const deliveredBefore = net.replicas[3]!.status().delivered
    submitRound(net, 8, 2)
    passTime(net, 20_000)
    assert.equal(actions.flat().slice(at).filter(a => a.type === 'send' && a.kind === 'vote').length, 0)
    const hashes = net.stateHashes().slice(0, 3)
    assert.equal(new Set(hashes).size, 1)
    assert.ok(net.replicas[0]!.latestCheckpoint()!.msg.height > heightBefore, 'the other three certify on')
    // it follows (reads go on, marked untrusted by the host) and asks for no snapshot
    assert.ok(net.replicas[3]!.status().delivered > deliveredBefore)
    assert.deepEqual(net.behind[3], [])
  })

  test('the halt survives a restart', () => {
    const again = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: net.validatorKeys[3]!, checkpoints: { interval: INTERVAL, retain: 4 } })
    again.restore(net.disks[3]!, net.now)
    assert.equal(again.votes, false)
    assert.ok(again.diverged !== undefined)
    const ops = [transfer(net, 0, 30)]
    const propose = encodeMessage({ type: 'propose', ops: ops.map(o => o.bytes) })
    const res = again.receive(net.replicas[0]!.id, propose, net.now)
    assert.equal(res.verdict, 'ignore')
    assert.match(res.reason ?? '', /diverged/)
    assert.equal(res.actions.length, 0)
  })
})

describe('no divergence without a quorum', () => {
  test('a cut with a wrong root signed by fewer than a quorum halts nobody', () => {
    const net = new LocalNet({ validators: 4, accounts: 5, balance: 1000n, replica: { checkpoints: { interval: INTERVAL, retain: 4 } } })
    // no checkpoint gets certified: every node reaches the first phase and computes the cut below
    net.drop = (_from, _to, bytes) => decodeMessage(bytes).type === 'checkpoint'
    submitRound(net, 1, 2)
    assert.equal(net.replicas[0]!.status().sinceCheckpoint, 10)
    // the cut of turn 1 (whose proposer the genesis root names), with a root nobody honest computes
    const genesisRoot = new Ledger(net.genesis).stateHash()
    const validators = net.replicas[0]!.validators
    const proposer = validators[genesisRoot[0]! % validators.length]!
    const delta = net.accounts.map(a => ({ account: a.publicKey, seq: 2 })).sort((x, y) => (toHex(x.account) < toHex(y.account) ? -1 : 1))
    const statement = { height: 10, root: new Uint8Array(32).fill(9), baseHeight: 0, base: genesisRoot, proposer: fromHex(proposer), delta, epoch: 0 }
    // quorum - 1 signers: Byzantine ones, or honest ones fooled, are still too few
    const signers = net.validatorKeys.filter(k => toHex(k.publicKey) !== net.replicas[0]!.id).slice(0, net.replicas[0]!.quorum - 1)
    const sigs = signers.map(k => signCheckpoint(k, net.networkId, statement))
    const res = net.inject(toHex(signers[0]!.publicKey), 0, encodeMessage({ type: 'checkpoint', ...statement, sigs }))
    assert.equal(res.verdict, 'accept')
    passTime(net, 5000)
    assert.equal(net.replicas[0]!.diverged, undefined)
    assert.equal(net.replicas[0]!.votes, true)
    assert.ok(res.actions.every(a => a.type !== 'diverged'))
  })
})
