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
import { ORSet } from '../../src/core/algorithm/orset.js'
import { SET_LIMITS } from '../../src/core/ledger/body.js'
import { listSet } from '../../src/api/set-routes.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { opLine } from '../../src/cli/cmds/history.js'
import type { AccountOpView } from '../../src/client/api-client.js'

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

describe('GET /v1/set is bounded by its limit', () => {
  // one element added over and over by every writer: its tags grow with the adds, not the page
  const set = new ORSet(genesis)
  const per = 2 * SET_LIMITS.maxTagsPerRemove
  for (const w of writers) for (let seq = 1; seq <= per; seq++) set.apply(op(w, seq, { kind: 'set-add', element: 'x' }))
  set.apply(op(writers[0]!, per + 1, { kind: 'set-add', element: 'y' }))

  test('an element lists at most the tags one remove can cite, and says how many it has', () => {
    for (const query of ['limit=1', 'element=x']) {
      const page = listSet(set, new URLSearchParams(query))
      const x = page.items[0]!
      assert.equal(x.element, 'x')
      assert.equal(x.tags.length, SET_LIMITS.maxTagsPerRemove, query)
      assert.equal(x.tagCount, writers.length * per, query)
      // the first tags in canonical order: what a remove of them cites, sorted already
      assert.deepEqual(x.tags, set.tagsOf('x').slice(0, SET_LIMITS.maxTagsPerRemove).map(t => ({ account: Buffer.from(t.account).toString('hex'), seq: t.seq })))
    }
    const all = listSet(set, new URLSearchParams())
    assert.deepEqual(all.items.map(e => [e.element, e.tags.length, e.tagCount]), [['x', SET_LIMITS.maxTagsPerRemove, writers.length * per], ['y', 1, 1]])
  })
})

describe('a third algorithm', () => {
  test('its op kinds are refused by the algorithms that exist, without editing them', () => {
    // what docs/architecture.md's step 2 adds to body.ts: neither the ledger nor the set knows it
    const other = { kind: 'counter-add', by: 1 } as unknown as OpBody
    const ledger = new Ledger(makeGenesis({ network: 'l', validators: [validator.publicKey], mintAuthority: writers[0]!.publicKey, balances: [{ account: writers[0]!.publicKey, amount: 5n }] }))
    assert.equal(ledger.supports(other), false)
    assert.equal(new ORSet(genesis).supports(other), false)
    // and each still takes its own
    assert.equal(ledger.supports({ kind: 'transfer', to: writers[1]!.publicKey, amount: 1n }), true)
    assert.equal(ledger.supports({ kind: 'set-add', element: 'x' }), false)
  })
})

describe('bftnode history on a set network', () => {
  test('a set op\'s line names its element', () => {
    const view = (kind: 'set-add' | 'set-remove'): AccountOpView => ({ hash: 'ab'.repeat(32), account: 'cd'.repeat(32), seq: 2, kind, element: 'apple', outcome: { status: 'applied' }, index: 7 }) as unknown as AccountOpView
    assert.match(opLine(view('set-add')), /set-add\s+"apple"\s+applied/)
    assert.match(opLine(view('set-remove')), /set-remove\s+"apple"\s+applied/)
  })
})
