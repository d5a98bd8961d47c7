// One account's transfers at seqs 1..n, and the proposer timing the proposer tests share.

import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { LocalNet } from './localnet.js'

export const PROPOSER_TIMING = { batchDelay: 2, pipeline: Infinity, proposeRetry: 300, maxRetry: 4000, giveUpAfter: 120_000 }

/** n transfers of 1 from one account to another, seqs 1..n, signed for a fresh LocalNet's network. */
export function opChain (n: number): SignedOp[] {
  const net = new LocalNet({ accounts: 2 })
  const a = net.accounts[0]!
  const out: SignedOp[] = []
  for (let seq = 1; seq <= n; seq++) out.push(signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 1n } }))
  return out
}
