// Review of the ReplicatedAlgorithm seam and the OR-set (issue 14 item 1): the refusals a client
// hears on a set network, the bounds of GET /v1/set, and what a third algorithm would meet.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { makeGenesis, networkId } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { Replica } from '../../src/core/broadcast/replica.js'

const key = (i: number): Signer => signerFrom(sodiumScheme, new Uint8Array(32).fill(i))
const validator = key(1)
const writers = [key(2), key(3), key(4)]
const genesis = makeGenesis({ network: 'set-review', algorithm: 'orset', validators: [validator.publicKey], mintAuthority: writers[0]!.publicKey, balances: writers.map(w => ({ account: w.publicKey, amount: 1n })) })
const netId = networkId(genesis)

function op (signer: Signer, seq: number, body: OpBody, deps: Slot[] = []): SignedOp {
  return signOp(signer, netId, { account: signer.publicKey, seq, deps, body })
}

describe('a set network refuses ledger ops at submission, and says why', () => {
  const submit = (r: Replica, o: SignedOp): { status: string, code?: string, reason?: string } =>
    r.submit([o.bytes], 0).results[0]! as { status: string, code?: string, reason?: string }

  test('contract-stream ops (execute, rotate-sequencer) are not of this algorithm, not "retry shortly"', () => {
    const r = new Replica({ genesis, scheme: sodiumScheme, signer: validator })
    const w = writers[0]!
    const call = { account: writers[1]!.publicKey, seq: 1 }
    for (const [body, deps] of [[{ kind: 'execute', calls: [call], time: 1 }, [call]], [{ kind: 'rotate-sequencer', to: w.publicKey, request: null }, []]] as Array<[OpBody, Slot[]]>) {
      const out = submit(r, op(w, 1, body, deps))
      assert.equal(out.code, 'malformed', `${body.kind}: ${String(out.reason)}`)
      assert.match(String(out.reason), /not part of this network's algorithm/)
    }
  })

  test('a ledger op citing a slot the node does not know is refused for its kind, not put off', () => {
    const r = new Replica({ genesis, scheme: sodiumScheme, signer: validator })
    const out = submit(r, op(writers[0]!, 1, { kind: 'transfer', to: writers[1]!.publicKey, amount: 1n }, [{ account: writers[1]!.publicKey, seq: 3 }]))
    assert.equal(out.code, 'malformed', String(out.reason))
  })
})
