// Review of "API: a saturated node answers 503 ERR_BUSY": what counts toward maxPendingOps.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import { LocalNet } from '../support/localnet.js'

describe('admission load', () => {
  test('a client that skips its next seq parks ops that count toward maxPendingOps for minutes', () => {
    const net = new LocalNet({ accounts: 2 })
    const evil = net.accounts[0]!
    // seq 1 is never sent: seq 2..1024 (inside bindWindow) are each accepted as 'queued'
    const ops = []
    for (let seq = 2; seq <= 1024; seq++) ops.push(signOp(evil, net.networkId, { account: evil.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 1n } }))
    const res = net.submit(0, ops)
    assert.ok(res.results.every(r => r.status === 'queued'), 'every op is taken')
    net.run()
    for (let i = 0; i < 100; i++) { net.tick(1000); net.run() }
    const held = net.replicas[0]!.load(net.now).heldOps

    // every validator put these off 100 s ago; they still count as load the node is working on
    assert.ok(held < 100, `heldOps ${held} after ${net.now} ms`)
  })
})
