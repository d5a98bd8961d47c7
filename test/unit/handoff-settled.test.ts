// The binding hand-off when the set changed again before every validator of the previous set got
// to vote there: validators already voting in the new epoch hand over too, so one crash among the
// few old-set voters does not leave the rest waiting for ever (seen as crash-epochs seeds 8, 10).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compareBytes } from '../../src/core/codec/canonical.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signOp } from '../../src/core/ledger/op.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import { MalformedError } from '../../src/core/errors.js'
import { encode } from '../../src/core/codec/canonical.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

const key = (i: number): Uint8Array => signerFrom(sodiumScheme, seedOf('validator', i)).publicKey
const keys = (...is: number[]): Uint8Array[] => is.map(key).sort(compareBytes)

function reconfigure (net: LocalNet, by: number, validators: Uint8Array[], approvers: number[]): void {
  const { id, actions } = net.replicas[by]!.proposeReconfiguration(validators, net.now)
  net.execute(by, actions)
  net.run()
  for (const i of approvers) {
    const res = net.replicas[i]!.approveReconfiguration(id.slice(0, 12), net.now)
    net.execute(i, res.actions)
    net.run()
  }
  net.settle()
}

const isHandoff = (bytes: Uint8Array): boolean => decodeMessage(bytes).type === 'handoff'

describe('hand-off from validators already voting in the new epoch', () => {
  test('crash-only: a quorum of epoch 1 voted there, one of them dies after epoch 2 began; the others take over from the newcomer that already votes', () => {
    // genesis {0, 1, 2}, q = 2; nodes 3 and 4 follow until added
    const net = new LocalNet({ validators: 3, observers: 2, faults: 'crash' })
    // epoch 1 = {0, 1, 2, 3} (q = 3): v2 hears no hand-off and never votes there
    net.drop = (_from, to, bytes) => to === 2 && isHandoff(bytes)
    reconfigure(net, 0, keys(0, 1, 2, 3), [1])
    assert.deepEqual([0, 1, 2, 3].map(i => net.replicas[i]!.votes), [true, true, false, true])
    // epoch 2 = {0, 1, 2, 3, 4} (q = 3), approved by epoch 1's voters; of v0's hand-offs only
    // v4's arrives, and then v0 is gone for good
    net.drop = (from, to, bytes) => isHandoff(bytes) && (to === 2 || (from === 0 && to !== 4))
    reconfigure(net, 0, keys(0, 1, 2, 3, 4), [1, 3])
    assert.ok(net.replicas.every(r => r.epoch.number === 2))
    assert.ok(net.replicas[4]!.votes, 'v4 heard v0, v1 and v3: a quorum of epoch 1')
    net.drop = (from, to) => from === 0 || to === 0
    // v1 and v3 have each other and themselves, two of the three epoch-1 voters still alive;
    // v2 never voted in epoch 1: without v4's hand-off no quorum of epoch 1 is left to hear
    for (let i = 0; i < 10; i++) net.settle(5, 500)
    assert.deepEqual([1, 2, 3, 4].map(i => net.replicas[i]!.votes), [true, true, true, true], 'v1, v2 and v3 took over from v4 and vote')
    // and the four live validators of five certify (q = 3)
    const a = net.accounts[0]!
    const op = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 5n } })
    net.submit(1, [op])
    for (let i = 0; i < 5; i++) net.settle(5, 500)
    for (const i of [1, 2, 3, 4]) assert.ok(net.delivered[i]!.some(d => toHex(d.op.hash) === toHex(op.hash)), `v${i} delivered the transfer`)
  })

  test('the flag: written only when true, and a list that says false is refused', () => {
    const m = { type: 'handoff' as const, epoch: 2, ops: [], done: true, settled: true as const }
    assert.equal((decodeMessage(encodeMessage(m)) as { settled?: boolean }).settled, true)
    assert.equal('settled' in decodeMessage(encodeMessage({ type: 'handoff', epoch: 2, ops: [], done: true })), false)
    assert.throws(() => decodeMessage(encode({ type: 'handoff', epoch: 2, ops: [], done: true, settled: false })), MalformedError)
  })
})
