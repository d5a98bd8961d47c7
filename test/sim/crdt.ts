// The `crdt` profile's workload and reference model: writers of an observed-remove set network add
// and remove elements from a small pool (so their streams collide), each remove citing tags it saw
// earlier in the script. The reference model below computes the set from the delivered streams
// directly (every add's tag, minus the tags some remove of the same element names), with no
// state applied in any delivery order, so it is a check on the algorithm, not a copy of it.

import { sodiumScheme } from '../../src/native/sodium.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { makeGenesis, networkId } from '../../src/core/ledger/genesis.js'
import { compareSlots, signOp, slotKey } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { MAX_ADDS_PER_WRITER, ORSet } from '../../src/core/algorithm/orset.js'
import { Rng } from './rng.js'
import type { AccountScript, EquivocatorScript, Workload, WorkloadShape } from './workload.js'

const ELEMENTS = ['apple', 'pear', 'fig', 'plum', 'kiwi', 'lime']

export function makeSetWorkload (seed: number, shape: WorkloadShape): Workload {
  const rng = new Rng(seed)
  const signer = (): Signer => signerFrom(sodiumScheme, rng.bytes(32))
  const validatorSigners = Array.from({ length: shape.validators }, signer)
  const mint = signer()
  const writers = Array.from({ length: shape.honestAccounts }, signer)
  const equivocatorSigners = Array.from({ length: shape.equivocators }, signer)
  const genesis = makeGenesis({
    network: `sim-set-${seed}`,
    algorithm: 'orset',
    validators: validatorSigners.map(s => s.publicKey),
    mintAuthority: mint.publicKey,
    balances: [...writers, ...equivocatorSigners].map(s => ({ account: s.publicKey, amount: 1n }))
  })
  const netId = networkId(genesis)
  // the script order is one interleaving; the network delivers others, and must reach this state
  const reference = new ORSet(genesis)
  const append = (script: AccountScript, deps: Slot[], body: OpBody): SignedOp => {
    const op = signOp(script.signer, netId, { account: script.signer.publicKey, seq: script.ops.length + 1, deps, body })
    script.ops.push(op)
    reference.apply(op)
    return op
  }
  const honest: AccountScript[] = writers.map(s => ({ signer: s, ops: [] }))
  const total = shape.opsPerAccount * honest.length
  for (let i = 0; i < total; i++) {
    const script = rng.pick(honest)
    const element = rng.pick(ELEMENTS)
    const seen = reference.tagsOf(element)
    if (seen.length > 0 && rng.chance(0.45)) {
      // removes what this writer observed: all of it, or some (a concurrent add survives)
      const tags = (rng.chance(0.6) ? seen : rng.shuffle(seen).slice(0, rng.int(1, seen.length))).sort(compareSlots)
      // now and then deps that are not the tags: rejected the same way on every node
      const deps = rng.chance(0.05) && tags.length > 1 ? tags.slice(1) : tags
      append(script, deps, { kind: 'set-remove', element, tags })
    } else {
      append(script, [], { kind: 'set-add', element })
    }
  }
  // equivocators: honest adds, then two different adds for one slot, then one more op
  const equivocators: EquivocatorScript[] = equivocatorSigners.map(s => {
    const script: AccountScript = { signer: s, ops: [] }
    const prefix = rng.int(0, 3)
    for (let i = 0; i < prefix; i++) append(script, [], { kind: 'set-add', element: rng.pick(ELEMENTS) })
    const seq = script.ops.length + 1
    const mk = (element: string, at: number): SignedOp => signOp(s, netId, { account: s.publicKey, seq: at, deps: [], body: { kind: 'set-add', element } })
    return { ...script, conflicting: [mk(`x-${seq}`, seq), mk(`y-${seq}`, seq)] as const, after: mk('after', seq + 1) }
  })
  return {
    genesis,
    networkId: netId,
    validatorSigners,
    honest,
    equivocators,
    referenceHash: toHex(reference.stateHash()),
    referenceSupply: 0n
  }
}

/**
 * The set the delivered streams make, as `element -> sorted tag keys`: every add of a writer
 * (citing nothing, within its cap) minus each (element, tag) that a well-formed remove of a writer
 * names. Streams are in seq order; the order between them does not enter.
 */
export function referenceSet (writers: ReadonlySet<string>, streams: ReadonlyArray<readonly SignedOp[]>): Map<string, string[]> {
  const added: Array<{ element: string, tag: string }> = []
  const removed = new Set<string>()
  for (const stream of streams) {
    let adds = 0
    for (const op of stream) {
      if (!writers.has(toHex(op.account))) continue
      const b = op.body
      if (b.kind === 'set-add' && op.deps.length === 0 && adds < MAX_ADDS_PER_WRITER) {
        adds++
        added.push({ element: b.element, tag: slotKey(op.account, op.seq) })
      } else if (b.kind === 'set-remove' && op.deps.length === b.tags.length && op.deps.every((d, i) => compareSlots(d, b.tags[i]!) === 0)) {
        for (const t of b.tags) removed.add(`${b.element}|${slotKey(t.account, t.seq)}`)
      }
    }
  }
  const out = new Map<string, string[]>()
  for (const { element, tag } of added) {
    if (removed.has(`${element}|${tag}`)) continue
    out.set(element, [...(out.get(element) ?? []), tag])
  }
  for (const tags of out.values()) tags.sort()
  return out
}

/** The same shape from a node's set. */
export function nodeSet (set: ORSet): Map<string, string[]> {
  return new Map(set.entries().map(e => [e.element, e.tags.map(t => slotKey(t.account, t.seq)).sort()]))
}
