// Review finding: a checkpoint proposer takes into its cut every candidate it holds that is closed
// over the base (keeper.ts propose(): "any signed cut above the base may be in some validator's
// floor"), whoever signed it and whatever root it claims, and gives up when the union moves more
// than maxCheckpointDelta (4096) accounts. One Byzantine validator sends two made-up cuts of 4096
// accounts each (wrong roots, so nobody signs them); they never leave the candidates (only a new
// base removes them), so no honest proposer proposes again: checkpoints stop for good.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { encodeMessage, MESSAGE_LIMITS } from '../../src/core/broadcast/messages.js'
import { signCheckpoint } from '../../src/core/checkpoint/certificate.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { LocalNet } from '../support/localnet.js'

const MAX = MESSAGE_LIMITS.maxCheckpointDelta

function run (attack: boolean): { heights: number[] } {
  const accounts = 2 * MAX + 8
  const net = new LocalNet({ validators: 4, accounts, balance: 10n, replica: { checkpoints: { interval: 2 * MAX + 4 } } })
  // every account but 0 pays account 0 once: 2*MAX+7 ops from distinct accounts, above the base
  const ops: SignedOp[] = []
  for (let i = 1; i < accounts; i++) {
    const a = net.accounts[i]!
    ops.push(signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[0]!.publicKey, amount: 1n } }))
  }
  for (let i = 0; i < ops.length; i += 1000) net.submit(i / 1000 % 3, ops.slice(i, i + 1000))
  net.run()
  net.tick(5)
  net.run()
  assert.ok(net.replicas.every(r => ops.every(op => r.ledger.nextSeq(op.account) === 2)), 'every op delivered')
  if (attack) {
    const byz = net.validatorKeys[3]!
    const base = new Ledger(net.genesis).stateHash()
    for (const part of [ops.slice(0, MAX), ops.slice(MAX, 2 * MAX)]) {
      const delta = part.map(o => ({ account: o.account, seq: 1 })).sort((x, y) => (toHex(x.account) < toHex(y.account) ? -1 : 1))
      const statement = { height: MAX, root: new Uint8Array(32), baseHeight: 0, base, proposer: byz.publicKey, delta }
      const bytes = encodeMessage({ type: 'checkpoint', ...statement, sigs: [signCheckpoint(byz, net.networkId, statement)] })
      for (let j = 0; j < 4; j++) net.inject(net.replicas[3]!.id, j, bytes)
    }
  }
  // a minute of simulated time: turns pass every behindAfter/4 = 3.75 s
  for (let i = 0; i < 60; i++) { net.tick(1000); net.run() }
  return { heights: net.replicas.map(r => r.status().checkpoint) }
}

describe('review: checkpoint stall', () => {
  test('control: without the Byzantine cuts, checkpoints are certified', () => {
    const { heights } = run(false)
    console.log('control heights', heights)
    assert.ok(heights.slice(0, 3).every(h => h > 0), `honest heights ${heights.join(',')}`)
  })

  test('two made-up cuts from one Byzantine validator do not stop checkpoints', () => {
    const { heights } = run(true)
    console.log('attacked heights', heights)
    assert.ok(heights.slice(0, 3).every(h => h > 0), `no honest node certified a checkpoint in a minute: heights ${heights.join(',')}`)
  })
})
