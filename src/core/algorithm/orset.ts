// An observed-remove set (OR-set) replicated over secure broadcast: the second algorithm behind
// the ReplicatedAlgorithm seam. Each writer adds and removes elements in its own stream. An add is
// tagged with its own slot (account, seq), unique network-wide; a remove takes away only the tags
// of its element that its writer observed, and cites each of them in deps, so every node delivers
// those adds before the remove. The set is then every add's tag minus every removed tag: a
// function of the delivered streams alone, whatever order they were interleaved in.
//
// Admission, the anti-spam rule: the writers are the accounts the genesis allocates to; no other
// key's ops are bound. What validators store is bounded by writers x MAX_ADDS_PER_WRITER live tags
// of at most SET_LIMITS.maxElementBytes each. The cap counts a writer's adds in its own stream
// (not live elements, which concurrent removes change in an order that differs between nodes),
// so the add past it is rejected on every node alike.

import { encode } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { fromHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { PUBLIC_KEY_BYTES } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { SET_LIMITS } from '../ledger/body.js'
import type { OpBody } from '../ledger/body.js'
import type { Genesis } from '../ledger/genesis.js'
import type { Outcome, RejectReason } from '../ledger/ledger.js'
import { accountKey, compareSlots, slotKey } from '../ledger/op.js'
import type { AccountId, SignedOp, Slot } from '../ledger/op.js'
import { snapshotItems, snapshotOf } from '../checkpoint/snapshot.js'
import type { Manifest, Snapshot } from '../checkpoint/snapshot.js'
import type { ReplicatedAlgorithm } from './algorithm.js'

/** Adds one writer's stream may make in its lifetime; the add past it is rejected. */
export const MAX_ADDS_PER_WRITER = 10_000

interface Stream {
  readonly id: AccountId
  nextSeq: number
  /** Adds applied from this stream (rejected ones not counted): what the cap counts. */
  adds: number
}

/** One element and the tags under which it is in the set. */
export interface SetEntry {
  readonly element: string
  /** Sorted by (account, seq). */
  readonly tags: readonly Slot[]
}

export class ORSet implements ReplicatedAlgorithm {
  readonly algorithm = 'orset' as const
  private readonly writers: ReadonlySet<string>
  private readonly streamsById = new Map<string, Stream>()
  /** Live tags by element, each by slotKey. */
  private readonly elements = new Map<string, Map<string, Slot>>()
  private root: Hash | undefined

  /** A set of a genesis: its writers, no streams yet (or a fork's writers, shared). */
  constructor (from: Genesis | ReadonlySet<string>) {
    this.writers = from instanceof Set ? from : new Set((from as Genesis).balances.map(b => accountKey(b.account)))
  }

  // -- streams ---------------------------------------------------------------------------------------

  nextSeq (account: AccountId): number {
    return this.streamsById.get(accountKey(account))?.nextSeq ?? 1
  }

  * streams (): IterableIterator<{ account: AccountId, nextSeq: number }> {
    for (const s of this.streamsById.values()) yield { account: s.id, nextSeq: s.nextSeq }
  }

  /** A writer signs its own stream and never rotates its key. */
  signerOf (account: AccountId): AccountId {
    return account
  }

  rotated (): boolean {
    return false
  }

  // -- admission -------------------------------------------------------------------------------------

  holdsValue (account: AccountId): boolean {
    return this.writers.has(accountKey(account))
  }

  isWriter (account: AccountId): boolean {
    return this.holdsValue(account)
  }

  admissionRefusal (): string {
    return 'the account is not a writer of this set network (writers are the accounts the genesis allocates to): validators do not take its ops'
  }

  supports (body: OpBody): boolean {
    return body.kind === 'set-add' || body.kind === 'set-remove'
  }

  // -- delivery --------------------------------------------------------------------------------------

  apply (op: SignedOp): Outcome {
    const next = this.nextSeq(op.account)
    if (op.seq !== next) throw new Error(`orset: op ${slotKey(op.account, op.seq)} applied out of order (next is ${next})`)
    const id = accountKey(op.account)
    let stream = this.streamsById.get(id)
    if (stream === undefined) {
      stream = { id: fromHex(id), nextSeq: 1, adds: 0 }
      this.streamsById.set(id, stream)
    }
    stream.nextSeq++
    this.root = undefined
    if (!this.writers.has(id)) return reject('not-a-writer', 'only the accounts the genesis allocates to write to the set')
    const body = op.body
    switch (body.kind) {
      case 'set-add': {
        // an add orders after nothing: deps would only be slots it waits for, never state it reads
        if (op.deps.length > 0) return reject('bad-dependency', 'a set-add cites no deps')
        if (stream.adds >= MAX_ADDS_PER_WRITER) return reject('element-cap', `a writer makes at most ${MAX_ADDS_PER_WRITER} adds`)
        stream.adds++
        let tags = this.elements.get(body.element)
        if (tags === undefined) {
          tags = new Map()
          this.elements.set(body.element, tags)
        }
        tags.set(slotKey(op.account, op.seq), { account: stream.id, seq: op.seq })
        return APPLIED
      }
      case 'set-remove': {
        // deps are exactly the tags: what makes every node deliver the adds first
        if (op.deps.length !== body.tags.length || op.deps.some((d, i) => compareSlots(d, body.tags[i]!) !== 0)) {
          return reject('bad-dependency', 'a set-remove cites exactly its tags in deps')
        }
        const tags = this.elements.get(body.element)
        if (tags === undefined) return APPLIED
        // a tag already removed, or not an add of this element, takes nothing away: the same
        // final set on every node, whichever of two concurrent removes came first
        for (const t of body.tags) tags.delete(slotKey(t.account, t.seq))
        if (tags.size === 0) this.elements.delete(body.element)
        return APPLIED
      }
      default:
        return reject('unsupported-op', `${body.kind} ops belong to ledger networks; this network runs an observed-remove set`)
    }
  }

  // -- queries ---------------------------------------------------------------------------------------

  has (element: string): boolean {
    return this.elements.has(element)
  }

  /** The live tags of one element, sorted (what a remove of it should cite). */
  tagsOf (element: string): Slot[] {
    return [...(this.elements.get(element)?.values() ?? [])].sort(compareSlots)
  }

  /** Elements in the set. */
  get size (): number {
    return this.elements.size
  }

  /** The set in canonical order, from the first element after `after` (exclusive), at most `limit`. */
  entries (after?: string, limit = Infinity): SetEntry[] {
    const out: SetEntry[] = []
    for (const element of this.sortedElements()) {
      if (after !== undefined && element <= after) continue
      if (out.length >= limit) break
      out.push({ element, tags: this.tagsOf(element) })
    }
    return out
  }

  private sortedElements (): string[] {
    return [...this.elements.keys()].sort(compareStrings)
  }

  // -- state -----------------------------------------------------------------------------------------

  height (): number {
    let n = 0
    for (const s of this.streamsById.values()) n += s.nextSeq - 1
    return n
  }

  /**
   * Canonical items: every stream sorted by account (['w', account, nextSeq, adds]), then every
   * live tag sorted by element, account, seq (['t', element, account, seq]).
   */
  snapshot (): Snapshot {
    const items: Uint8Array[] = []
    for (const id of [...this.streamsById.keys()].sort()) {
      const s = this.streamsById.get(id)!
      items.push(encode(['w', s.id, s.nextSeq, s.adds]))
    }
    for (const element of this.sortedElements()) {
      for (const t of this.tagsOf(element)) items.push(encode(['t', element, t.account, t.seq] as Value))
    }
    const snapshot = snapshotOf(items, this.height(), 0n)
    this.root = snapshot.root
    return snapshot
  }

  stateHash (): Hash {
    return this.root ?? this.snapshot().root
  }

  fork (): ORSet {
    const copy = new ORSet(this.writers)
    for (const [id, s] of this.streamsById) copy.streamsById.set(id, { ...s })
    for (const [element, tags] of this.elements) copy.elements.set(element, new Map(tags))
    copy.root = this.root
    return copy
  }

  /**
   * Rebuilds a set from a snapshot's chunks (already matched against the manifest). Items out of
   * shape or order throw MalformedError; the caller checks the rebuilt root against the signed one.
   */
  static fromSnapshot (genesis: Genesis, manifest: Manifest, chunks: readonly Uint8Array[]): ORSet {
    const set = new ORSet(genesis)
    let lastStream: string | undefined
    let last: { element: string, tag: Slot } | undefined
    for (const { item, what } of snapshotItems(manifest, chunks)) {
      const f = read.list(item, what, 4)
      const kind = read.text(f[0], `${what}.kind`, 1)
      if (kind === 'w') {
        if (last !== undefined) throw new MalformedError(`${what}: stream after elements`)
        const account = read.bytes(f[1], `${what}.account`, PUBLIC_KEY_BYTES)
        const id = accountKey(account)
        if (lastStream !== undefined && lastStream >= id) throw new MalformedError(`${what}: streams out of order`)
        lastStream = id
        const nextSeq = read.uint(f[2], `${what}.nextSeq`)
        if (nextSeq < 2) throw new MalformedError(`${what}: a stream holds at least one op`)
        set.streamsById.set(id, { id: account, nextSeq, adds: read.uint(f[3], `${what}.adds`, MAX_ADDS_PER_WRITER) })
      } else if (kind === 't') {
        const element = read.text(f[1], `${what}.element`, SET_LIMITS.maxElementBytes)
        const tag = { account: read.bytes(f[2], `${what}.account`, PUBLIC_KEY_BYTES), seq: read.uint(f[3], `${what}.seq`) }
        if (last !== undefined && (compareStrings(last.element, element) || compareSlots(last.tag, tag)) >= 0) throw new MalformedError(`${what}: tags out of order`)
        last = { element, tag }
        let tags = set.elements.get(element)
        if (tags === undefined) {
          tags = new Map()
          set.elements.set(element, tags)
        }
        tags.set(slotKey(tag.account, tag.seq), tag)
      } else {
        throw new MalformedError(`${what}: unknown item kind ${JSON.stringify(kind)}`)
      }
    }
    if (set.height() !== manifest.height) throw new MalformedError(`snapshot: streams add up to height ${set.height()}, the manifest says ${manifest.height}`)
    return set
  }

  // -- ledger capabilities: a set has no contracts and keeps no call outcomes --------------------------

  contract (): undefined {
    return undefined
  }

  callOutcome (): undefined {
    return undefined
  }

  forgetOutcomes (): void {}
}

/** Elements sort by UTF-16 code units (JavaScript's own order): the same on every node. */
function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

const APPLIED: Outcome = { status: 'applied' }

function reject (reason: RejectReason, detail: string): Outcome {
  return { status: 'rejected', reason, detail }
}
