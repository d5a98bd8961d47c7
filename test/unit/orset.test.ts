// The observed-remove set behind the ReplicatedAlgorithm seam: convergence whatever the streams'
// interleaving, its rules (writers only, tags cited, the add cap), canonical snapshots that
// rebuild to the same root, and a genesis that names it without changing ledger network ids.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { decodeGenesis, encodeGenesis, makeGenesis, networkId } from '../../src/core/ledger/genesis.js'
import type { Genesis } from '../../src/core/ledger/genesis.js'
import { compareSlots, decodeOp, signOp } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { MAX_ADDS_PER_WRITER, ORSet } from '../../src/core/algorithm/orset.js'
import { createAlgorithm, restoreAlgorithm } from '../../src/core/algorithm/registry.js'
import { WrongAlgorithmError } from '../../src/core/algorithm/algorithm.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import { MalformedError, InvalidGenesisError } from '../../src/core/errors.js'
import { encode } from '../../src/core/codec/canonical.js'
import { snapshotOf } from '../../src/core/checkpoint/snapshot.js'

const key = (i: number): Signer => signerFrom(sodiumScheme, new Uint8Array(32).fill(i))
const validator = key(1)
const writers = [key(2), key(3), key(4)]
const stranger = key(9)

function setGenesis (): Genesis {
  return makeGenesis({ network: 'set', algorithm: 'orset', validators: [validator.publicKey], mintAuthority: writers[0]!.publicKey, balances: writers.map(w => ({ account: w.publicKey, amount: 1n })) })
}
const genesis = setGenesis()
const netId = networkId(genesis)

function op (signer: Signer, seq: number, body: OpBody, deps: Slot[] = []): SignedOp {
  return signOp(signer, netId, { account: signer.publicKey, seq, deps, body })
}

/** One writer's stream, built against the set as `model` sees it when each op is made. */
interface Plan { writer: number, element: string, remove: boolean, some: boolean }

/**
 * Builds each writer's stream in one (script) order: a remove cites the tags of its element that
 * the script had made by then, so its deps hold them. Returns the streams, seq-ordered.
 */
function streamsOf (plans: Plan[]): SignedOp[][] {
  const model = new ORSet(genesis)
  const streams: SignedOp[][] = writers.map(() => [])
  for (const p of plans) {
    const w = writers[p.writer]!
    const stream = streams[p.writer]!
    const seen = model.tagsOf(p.element)
    const tags = p.some ? seen.slice(0, 1) : seen
    const o = p.remove && tags.length > 0
      ? op(w, stream.length + 1, { kind: 'set-remove', element: p.element, tags }, tags)
      : op(w, stream.length + 1, { kind: 'set-add', element: p.element })
    stream.push(o)
    model.apply(o)
  }
  return streams
}

/** Delivers streams in an order `picks` chooses, each op only once its deps are delivered. */
function deliver (streams: SignedOp[][], picks: number[]): ORSet {
  const set = new ORSet(genesis)
  const at = streams.map(() => 0)
  let k = 0
  const ready = (i: number): boolean => {
    const next = streams[i]![at[i]!]
    return next !== undefined && next.deps.every(d => set.nextSeq(d.account) > d.seq)
  }
  for (;;) {
    const candidates = streams.map((_, i) => i).filter(ready)
    if (candidates.length === 0) break
    const i = candidates[(picks[k++ % Math.max(1, picks.length)] ?? 0) % candidates.length]!
    set.apply(streams[i]![at[i]!]!)
    at[i]!++
  }
  assert.deepEqual(at, streams.map(s => s.length), 'every op delivered')
  return set
}

const plan = fc.record({ writer: fc.integer({ min: 0, max: 2 }), element: fc.constantFrom('a', 'b', 'c'), remove: fc.boolean(), some: fc.boolean() })

describe('observed-remove set', () => {
  test('the same streams delivered in any interleaving give the same state hash and the same set', () => {
    fc.assert(fc.property(fc.array(plan, { maxLength: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), (plans, a, b) => {
      const streams = streamsOf(plans)
      const x = deliver(streams, a)
      const y = deliver(streams, b)
      assert.equal(toHex(x.stateHash()), toHex(y.stateHash()))
      assert.deepEqual(x.entries(), y.entries())
    }), { numRuns: 150 })
  })

  test('a remove takes away only the tags it observed: a concurrent add of the same element survives', () => {
    const [alice, bob] = writers as [Signer, Signer]
    const set = new ORSet(genesis)
    const add1 = op(alice, 1, { kind: 'set-add', element: 'x' })
    set.apply(add1)
    // bob adds x again without having seen alice's remove, which names only alice's tag
    set.apply(op(bob, 1, { kind: 'set-add', element: 'x' }))
    const tag = { account: add1.account, seq: 1 }
    assert.deepEqual(set.apply(op(alice, 2, { kind: 'set-remove', element: 'x', tags: [tag] }, [tag])), { status: 'applied' })
    assert.equal(set.has('x'), true)
    assert.deepEqual(set.tagsOf('x').map(t => toHex(t.account)), [toHex(bob.publicKey)])
  })

  test('a remove must cite exactly its tags in deps, or it is rejected and removes nothing', () => {
    const [alice, bob] = writers as [Signer, Signer]
    const set = new ORSet(genesis)
    set.apply(op(alice, 1, { kind: 'set-add', element: 'x' }))
    set.apply(op(alice, 2, { kind: 'set-add', element: 'x' }))
    const tags = [{ account: alice.publicKey, seq: 1 }, { account: alice.publicKey, seq: 2 }].sort(compareSlots)
    const out = set.apply(op(bob, 1, { kind: 'set-remove', element: 'x', tags }, tags.slice(0, 1)))
    assert.equal(out.status === 'rejected' && out.reason, 'bad-dependency')
    assert.equal(set.tagsOf('x').length, 2)
    assert.equal(set.nextSeq(bob.publicKey), 2, 'the rejected op still consumes its slot')
  })

  test('only genesis writers are admitted; a stranger\'s op consumes its slot and is rejected; ledger ops are not supported', () => {
    const set = new ORSet(genesis)
    assert.equal(set.holdsValue(writers[1]!.publicKey), true)
    assert.equal(set.holdsValue(stranger.publicKey), false)
    const out = set.apply(op(stranger, 1, { kind: 'set-add', element: 'spam' }))
    assert.equal(out.status === 'rejected' && out.reason, 'not-a-writer')
    assert.equal(set.has('spam'), false)
    const transfer: OpBody = { kind: 'transfer', to: stranger.publicKey, amount: 1n }
    assert.equal(set.supports(transfer), false)
    const t = set.apply(op(writers[0]!, 1, transfer))
    assert.equal(t.status === 'rejected' && t.reason, 'unsupported-op')
    // and the ledger refuses set ops the same way
    const ledger = new Ledger(makeGenesis({ network: 'l', validators: [validator.publicKey], mintAuthority: writers[0]!.publicKey, balances: [{ account: writers[0]!.publicKey, amount: 5n }] }))
    assert.equal(ledger.supports({ kind: 'set-add', element: 'x' }), false)
  })

  test('a writer\'s adds past its cap are rejected on every node alike (the cap counts its own stream)', () => {
    const w = writers[0]!
    const full = new ORSet(genesis)
    for (let seq = 1; seq <= MAX_ADDS_PER_WRITER; seq++) full.apply(op(w, seq, { kind: 'set-add', element: `e${seq % 7}` }))
    const over = full.apply(op(w, MAX_ADDS_PER_WRITER + 1, { kind: 'set-add', element: 'one-too-many' }))
    assert.equal(over.status === 'rejected' && over.reason, 'element-cap')
    assert.equal(full.has('one-too-many'), false)
    // removes free no add budget: the cap bounds what a writer ever makes validators store
    const tags = full.tagsOf('e1').slice(0, 1)
    full.apply(op(w, MAX_ADDS_PER_WRITER + 2, { kind: 'set-remove', element: 'e1', tags }, tags))
    const again = full.apply(op(w, MAX_ADDS_PER_WRITER + 3, { kind: 'set-add', element: 'still-too-many' }))
    assert.equal(again.status === 'rejected' && again.reason, 'element-cap')
  })

  test('element and tag bounds are checked when the op is decoded', () => {
    const w = writers[0]!
    assert.throws(() => decodeOp(op(w, 1, { kind: 'set-add', element: 'é'.repeat(65) }).bytes), MalformedError)
    assert.throws(() => decodeOp(op(w, 1, { kind: 'set-add', element: '' }).bytes), MalformedError)
    const tags = Array.from({ length: 65 }, (_, i) => ({ account: w.publicKey, seq: i + 1 }))
    assert.throws(() => decodeOp(op(w, 100, { kind: 'set-remove', element: 'x', tags }).bytes), MalformedError)
    const ok = decodeOp(op(w, 3, { kind: 'set-remove', element: 'x', tags: tags.slice(0, 2) }, tags.slice(0, 2)).bytes)
    assert.equal(ok.body.kind, 'set-remove')
  })

  test('a snapshot rebuilds to the same root and set; a fork is independent', () => {
    fc.assert(fc.property(fc.array(plan, { maxLength: 30 }), plans => {
      const set = deliver(streamsOf(plans), [0])
      const snap = set.snapshot()
      const back = restoreAlgorithm(genesis, snap.manifest, snap.chunks) as ORSet
      assert.equal(toHex(back.stateHash()), toHex(snap.root))
      assert.deepEqual(back.entries(), set.entries())
      assert.equal(back.height(), set.height())
      const fork = set.fork()
      fork.apply(op(writers[2]!, fork.nextSeq(writers[2]!.publicKey), { kind: 'set-add', element: 'only-in-fork' }))
      assert.equal(set.has('only-in-fork'), false)
      assert.equal(toHex(set.stateHash()), toHex(snap.root))
    }), { numRuns: 40 })
  })

  test('a snapshot whose items are out of order, or whose height lies, is refused', () => {
    const set = new ORSet(genesis)
    set.apply(op(writers[0]!, 1, { kind: 'set-add', element: 'b' }))
    set.apply(op(writers[0]!, 2, { kind: 'set-add', element: 'a' }))
    const snap = set.snapshot()
    assert.doesNotThrow(() => ORSet.fromSnapshot(genesis, snap.manifest, snap.chunks))
    assert.throws(() => ORSet.fromSnapshot(genesis, { ...snap.manifest, height: 7 }, snap.chunks), MalformedError)
    // the same items with two tags swapped: a chunk of its own, under a manifest made for it
    const items = [['w', writers[0]!.publicKey, 3, 2], ['t', 'b', writers[0]!.publicKey, 1], ['t', 'a', writers[0]!.publicKey, 2]].map(v => encode(v))
    const bad = snapshotOf(items, 2, 0n)
    assert.throws(() => ORSet.fromSnapshot(genesis, bad.manifest, bad.chunks), /out of order/)
  })
})

describe('the genesis names the algorithm', () => {
  test('a genesis without it encodes as before and is a ledger network; with it, another id and an OR-set', () => {
    const plain = makeGenesis({ network: 'n', validators: [validator.publicKey], mintAuthority: writers[0]!.publicKey, balances: [{ account: writers[0]!.publicKey, amount: 5n }] })
    const explicit = makeGenesis({ ...plain, algorithm: 'ledger' })
    assert.deepEqual(encodeGenesis(explicit), encodeGenesis(plain))
    // the four fields a genesis always had, and nothing else: the bytes (and ids) of every existing network
    const before = encode({ network: 'n', validators: [validator.publicKey], mintAuthority: writers[0]!.publicKey, balances: [[writers[0]!.publicKey, 5n]] })
    assert.deepEqual(encodeGenesis(plain), before)
    assert.equal(Object.keys(plain).includes('algorithm'), false)
    assert.ok(createAlgorithm(plain) instanceof Ledger)
    const set = makeGenesis({ ...plain, algorithm: 'orset' })
    assert.notEqual(toHex(networkId(set)), toHex(networkId(plain)))
    assert.equal(decodeGenesis(encodeGenesis(set)).algorithm, 'orset')
    assert.ok(createAlgorithm(set) instanceof ORSet)
    assert.throws(() => makeGenesis({ ...plain, algorithm: 'bank' as 'orset' }), InvalidGenesisError)
    assert.throws(() => makeGenesis({ ...plain, algorithm: 'orset', balances: [] }), InvalidGenesisError)
  })

  test('a replica of a set network answers ledger requests with WrongAlgorithmError, and refuses ledger ops at submission', () => {
    const replica = new Replica({ genesis, scheme: sodiumScheme, signer: validator })
    assert.equal(replica.state.algorithm, 'orset')
    assert.throws(() => replica.ledger, (err: unknown) => err instanceof WrongAlgorithmError && err.code === 'ERR_WRONG_ALGORITHM')
    const submit = (o: SignedOp): { status: string, code?: string } => replica.submit([o.bytes], 0).results[0]! as { status: string, code?: string }
    assert.equal(submit(op(writers[0]!, 1, { kind: 'transfer', to: stranger.publicKey, amount: 1n })).status, 'rejected')
    assert.equal(submit(op(stranger, 1, { kind: 'set-add', element: 'x' })).code, 'unfunded')
    assert.equal(submit(op(writers[0]!, 1, { kind: 'set-add', element: 'x' })).status, 'queued')
  })

  test('a validator of a set network binds no ledger op a broadcaster proposes: it defers it instead of voting', () => {
    const v = new Replica({ genesis, scheme: sodiumScheme, signer: validator })
    const answer = (o: SignedOp): string[] => v.receive('peer', encodeMessage({ type: 'propose', ops: [o.bytes] }), 0).actions
      .flatMap(a => a.type === 'send' ? [decodeMessage(a.bytes).type] : [])
    assert.deepEqual(answer(op(writers[0]!, 1, { kind: 'transfer', to: stranger.publicKey, amount: 1n })), ['nack'])
    assert.deepEqual(answer(op(writers[1]!, 1, { kind: 'set-add', element: 'x' })), ['vote'])
  })
})
