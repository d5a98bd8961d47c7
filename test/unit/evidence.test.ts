// Proof that a validator voted for two ops at one slot: recorded by the broadcaster that meets
// both votes, checkable by anyone with the genesis, and impossible to forge against an honest one.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { Domain, signFor } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { batchDigest, encodeMessage } from '../../src/core/broadcast/messages.js'
import { checkVoteEvidence } from '../../src/core/broadcast/evidence.js'
import type { VoteEvidence } from '../../src/core/broadcast/evidence.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet } from '../support/localnet.js'

const transfer = (net: LocalNet, amount: bigint): SignedOp => {
  const a = net.accounts[0]!
  return signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount } })
}

const vote = (net: LocalNet, i: number, ops: SignedOp[]): Uint8Array =>
  signFor(net.validatorKeys[i]!, Domain.vote, net.networkId, batchDigest(ops.map(o => o.hash)))

describe('evidence against a validator', () => {
  test('a broadcaster holding a vote for one op and a certificate with the same voter for another keeps a proof that verifies', () => {
    const net = new LocalNet()
    const x = transfer(net, 7n)
    const y = transfer(net, 9n)
    const broadcaster = net.replicas[0]!
    // node 0 proposes y; validator 3 (Byzantine) votes for it, and also for x with validators 1 and 2
    const submitted = broadcaster.submit([y.bytes], 0)
    assert.equal(submitted.results[0]!.status, 'queued')
    broadcaster.tick(10)
    const v3 = net.validatorKeys[3]!
    assert.equal(broadcaster.receive(toHex(v3.publicKey), encodeMessage({ type: 'vote', digest: batchDigest([y.hash]), voter: v3.publicKey, sig: vote(net, 3, [y]) }), 11).verdict, 'accept')
    const certX = encodeMessage({ type: 'certified', ops: [x.bytes], votes: [1, 2, 3].map(i => ({ voter: net.validatorKeys[i]!.publicKey, sig: vote(net, i, [x]) })) })
    const res = broadcaster.receive('a-peer', certX, 12)
    const recorded = res.actions.flatMap(a => a.type === 'evidence' ? [a.evidence] : [])
    assert.equal(recorded.length, 1)
    assert.equal(toHex(recorded[0]!.voter), toHex(v3.publicKey))
    assert.deepEqual(broadcaster.validatorEvidence(), recorded)
    const ctx = { networkId: net.networkId, scheme: sodiumScheme, membersOf: (e: number) => e === 0 ? new Set(net.replicas.map(r => r.id)) : undefined }
    const checked = checkVoteEvidence(ctx, recorded[0]!)
    assert.ok('slot' in checked)
    assert.equal(checked.slot.seq, 1)

    // forgeries name no one
    const ev = recorded[0]!
    const honest = net.validatorKeys[1]!.publicKey
    const forged: Array<[string, VoteEvidence]> = [
      ['another voter named', { ...ev, voter: honest }],
      ['a vote moved to the other batch', { ...ev, voter: honest, sig: vote(net, 1, [x]) }],
      ['the same op twice', { ...ev, ops: [x.bytes], sig: vote(net, 3, [x]) }],
      ['a garbled certificate', { ...ev, certificate: ev.certificate.slice(1) }]
    ]
    for (const [what, f] of forged) assert.ok('problem' in checkVoteEvidence(ctx, f), what)
  })
})
