// Review finding: the proposer's batch delay restarts whenever closeBatches runs with ops left in
// the queue, so a steady trickle of submissions (one per ms) keeps the first op from ever leaving
// until maxBatchOps ops are queued. docs/protocol.md §7: a batch closes when "the oldest queued op
// has waited batchDelay".

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import { decodeMessage } from '../../src/core/broadcast/messages.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { LocalNet, seedOf } from '../support/localnet.js'

describe('review: batch delay', () => {
  test('at an observer, the oldest queued op leaves within batchDelay (2 ms) however often ops are submitted', () => {
    const net = new LocalNet({ accounts: 40 })
    // an observer that takes client submissions (validators force-close their queue on every tick
    // in reproposeStale, which hides the problem there)
    const r = new Replica({ genesis: net.genesis, scheme: net.scheme, signer: signerFrom(net.scheme, seedOf('observer', 0)) })
    let firstProposedAt: number | undefined
    for (let t = 0; t < 30 && firstProposedAt === undefined; t++) {
      const a = net.accounts[t]!
      const op = signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[39]!.publicKey, amount: 1n } })
      const res = r.submit([op.bytes], t)
      const proposed = res.actions.some(x => x.type === 'send' && decodeMessage(x.bytes).type === 'propose')
      const ticked = r.nextTickAt(t) <= t ? r.tick(t).some(x => x.type === 'send' && decodeMessage(x.bytes).type === 'propose') : false
      if (proposed || ticked) firstProposedAt = t
    }
    console.log(`first proposal at ${String(firstProposedAt)} ms; nextTickAt after 30 submissions: ${r.nextTickAt(29)}`)
    assert.ok(firstProposedAt !== undefined && firstProposedAt <= 2, `the op queued at 0 ms was still queued at 29 ms (first proposal: ${String(firstProposedAt)})`)
  })
})
