// The node's history index: the ops of each account and the events of each contract, as this node
// delivered them, for GET /v1/accounts/{account}/ops, GET /v1/contracts/{address}/events and the
// GET /v1/events stream. It is fed from the delivery hook, so recording costs a few map writes per
// op; it is bounded by entries and by estimated bytes, oldest evicted first, so neither a busy
// network nor a hostile account or contract can grow it without limit.
//
// Retention: memory only. After a restart it refills from the deliveries the node replays since
// its latest checkpoint; anything older is gone. `index` numbers the node's deliveries: it is the
// node's delivered height just after the op (ops behind the checkpoint count too), so it grows
// across restarts, but it is this node's order, not the network's (nodes deliver concurrent ops
// of different accounts in different orders).

import type { Value } from '../core/codec/canonical.js'
import { toHex } from '../core/crypto/hash.js'
import type { Outcome } from '../core/ledger/ledger.js'
import { accountKey } from '../core/ledger/op.js'
import type { SignedOp, Slot } from '../core/ledger/op.js'
import { contractAddress } from '../core/ledger/contracts.js'
import type { CallOutcome } from '../core/ledger/contracts.js'
import type { AccountOpView, ContractEventView } from '../client/api-client.js'
import { valueToJson } from '../client/values.js'

export interface HistoryLimits {
  /** Op entries held, all accounts together. */
  maxOps: number
  /** Estimated heap bytes of op entries (an Execute citing 64 calls weighs ~60 plain transfers). */
  maxOpBytes: number
  /** Event entries held, all contracts together. */
  maxEvents: number
  /** Estimated heap bytes of event entries, their data included. */
  maxEventBytes: number
  /** An event whose data is estimated above this is kept without its data (`dataOmitted`). */
  maxEventDataBytes: number
}

/**
 * Measured on Node 20 (bench/history.ts, 10,000 accounts): a transfer's entry holds ~370 bytes of
 * heap (the entry, its hex strings, its list slots), an Execute of one call with its token event
 * ~640 (op and event together). 100,000 ops and 100,000 such events are ~65 MB: hours of history
 * on a quiet network, minutes at full load. The byte caps (on estimates that err high) bind
 * instead when entries are large (Executes of many calls, events with large data): 128 MiB of
 * estimates at most, whatever is delivered. A token event is estimated at ~1,200 bytes (its two
 * byte strings, map and call references, weighed high), so ~55,000 of them fill the event cap.
 */
export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  maxOps: 100_000,
  maxOpBytes: 64 * 1024 * 1024,
  maxEvents: 100_000,
  maxEventBytes: 64 * 1024 * 1024,
  maxEventDataBytes: 16 * 1024
}

/** Characters of a rejection's detail kept (a contract error can quote what the caller sent). */
const MAX_DETAIL = 300

/** What an entry weighs besides its strings (object, fields, list slots): measured, rounded up. */
const OP_BASE_BYTES = 80
const EVENT_BASE_BYTES = 100
const STRING_BYTES = 20
/**
 * What an account's (or contract's) list weighs while it holds entries (its map entry, key and
 * deque): counted in the byte caps, or 100,000 accounts of one op each would hold twice the estimate.
 */
const STREAM_BYTES = 400

export type OpKind = SignedOp['body']['kind']

/** An account's (or a contract's) entries, oldest first. */
export interface Stream<T> {
  readonly key: string
  readonly entries: Deque<T>
}

export interface OpRecord {
  readonly index: number
  readonly stream: Stream<OpRecord>
  readonly seq: number
  readonly hash: string
  readonly kind: OpKind
  readonly outcome: Outcome
  /** The kind-specific fields, already in their JSON form. */
  readonly fields: Readonly<Record<string, unknown>>
  readonly weight: number
}

export interface EventRecord {
  /** The index of the Execute (or Deploy) that emitted it, and its place among that op's events. */
  readonly index: number
  readonly position: number
  readonly stream: Stream<EventRecord>
  readonly call: { readonly account: string, readonly seq: number }
  /** The op it ran in: the contract's own stream for an Execute, the deployer's for init. */
  readonly executedIn: { readonly account: string, readonly seq: number }
  readonly name: string
  /** Undefined when the data was too large to keep (see maxEventDataBytes). */
  readonly data: Value | undefined
  readonly weight: number
}

/** A position in the history: ops sort before the events of the same delivery (position -1). */
export interface Cursor { readonly index: number, readonly position: number }

export interface HistoryListener {
  op?: (r: OpRecord) => void
  event?: (r: EventRecord) => void
  /** The node stopped: nothing more will come. */
  closed?: () => void
}

/** What the catch-up of a stream reads: ops (all, or one account's) and events (all, or one contract's). */
export interface HistoryFilter {
  readonly ops: boolean
  readonly events: boolean
  readonly account?: string
  readonly contract?: string
}

export interface HistoryPage<T> { readonly items: T[], readonly next?: Cursor }

/** The part of the ledger the index reads: outcomes of calls and of deploys that ran init. */
export interface OutcomeSource {
  callOutcome: (slot: Slot) => CallOutcome | undefined
}

/** Entries a filtered page looks at at most, matching or not: a request's cost is bounded. */
export const MAX_SCAN = 10_000

export class HistoryIndex {
  private readonly ops = new Deque<OpRecord>()
  private readonly events = new Deque<EventRecord>()
  private readonly accounts = new Map<string, Stream<OpRecord>>()
  private readonly contracts = new Map<string, Stream<EventRecord>>()
  private opBytes = 0
  private eventBytes = 0
  private counter = 0
  private readonly listeners = new Set<HistoryListener>()
  private closed = false
  /** Entries evicted since start (ops, events), and the newest of each evicted so far. */
  evictedOps = 0
  evictedEvents = 0
  private evictedOpAt = 0
  private evictedEventAt = 0
  private evictedEventPosition = -1

  constructor (readonly limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {}

  /** The node's deliveries so far start at `height` (its checkpoint's, or a snapshot's): never goes back. */
  startAt (height: number): void {
    if (height > this.counter) this.counter = height
  }

  /** The index the last delivery got. */
  get lastIndex (): number {
    return this.counter
  }

  get size (): { ops: number, events: number, opBytes: number, eventBytes: number, accounts: number, contracts: number } {
    return { ops: this.ops.length, events: this.events.length, opBytes: this.opBytes, eventBytes: this.eventBytes, accounts: this.accounts.size, contracts: this.contracts.size }
  }

  /**
   * An op delivered at this node (from the delivery hook, also while the node replays at start).
   * `hash`: its hex hash, when the caller has it; `ledger`: the state just after its delivery,
   * for the events of the calls an Execute ran and of a deploy's init.
   */
  delivered (op: SignedOp, outcome: Outcome, hash: string | undefined, ledger: OutcomeSource): void {
    const index = ++this.counter
    const account = accountKey(op.account)
    let stream = this.accounts.get(account)
    if (stream === undefined) {
      stream = { key: account, entries: new Deque() }
      this.accounts.set(account, stream)
      this.opBytes += STREAM_BYTES
    }
    const body = op.body
    let fields: Record<string, unknown>
    let weight = OP_BASE_BYTES + 2 * (STRING_BYTES + 64)
    switch (body.kind) {
      case 'transfer':
      case 'mint':
        fields = { to: toHex(body.to), amount: body.amount.toString() }
        weight += 2 * STRING_BYTES + 64 + 20
        break
      case 'call':
        fields = { contract: toHex(body.contract), fn: body.fn, value: body.value.toString() }
        weight += 3 * STRING_BYTES + 64 + body.fn.length + 20
        break
      case 'deploy':
        fields = outcome.status === 'applied' ? { address: toHex(contractAddress(op.account, op.seq)) } : {}
        weight += STRING_BYTES + 64
        break
      case 'execute':
        fields = { calls: body.calls.map(c => ({ account: accountKey(c.account), seq: c.seq })) }
        weight += 16 + body.calls.length * (48 + STRING_BYTES + 64)
        break
      case 'cancel':
        fields = { contract: toHex(body.contract), call: body.call }
        weight += STRING_BYTES + 64
        break
      case 'rotate-key':
      case 'rotate-sequencer':
        fields = { to: toHex(body.to) }
        weight += STRING_BYTES + 64
        break
      case 'set-add':
      case 'set-remove':
        fields = { element: body.element }
        weight += STRING_BYTES + body.element.length
        break
    }
    let kept = outcome
    if (outcome.status === 'rejected') {
      // copied, so a slice does not keep a long detail alive
      const detail = outcome.detail.length > MAX_DETAIL ? Buffer.from(outcome.detail.slice(0, MAX_DETAIL - 1)).toString() + '…' : outcome.detail
      kept = { status: 'rejected', reason: outcome.reason, detail }
      weight += 48 + STRING_BYTES + detail.length
    }
    const r: OpRecord = { index, stream, seq: op.seq, hash: hash ?? toHex(op.hash), kind: body.kind, outcome: kept, fields, weight }
    stream.entries.push(r)
    this.ops.push(r)
    this.opBytes += weight
    this.evictOps()
    if (this.listeners.size > 0) this.notify(l => l.op?.(r))
    if (outcome.status !== 'applied') return
    if (body.kind === 'execute') {
      let position = 0
      for (const c of body.calls) position = this.eventsOf(ledger.callOutcome(c), account, index, position, c)
    } else if (body.kind === 'deploy') {
      const init = ledger.callOutcome(op)
      if (init?.status === 'ok' && init.events.length > 0) this.eventsOf(init, toHex(contractAddress(op.account, op.seq)), index, 0, op)
    }
  }

  /** Records the events of one call's outcome; returns the next position. */
  private eventsOf (outcome: CallOutcome | undefined, contract: string, index: number, position: number, call: Slot): number {
    if (outcome?.status !== 'ok' || outcome.events.length === 0) return position
    let stream = this.contracts.get(contract)
    if (stream === undefined) {
      stream = { key: contract, entries: new Deque() }
      this.contracts.set(contract, stream)
      this.eventBytes += STREAM_BYTES
    }
    const callRef = { account: accountKey(call.account), seq: call.seq }
    const executedIn = outcome.executedIn.seq === call.seq && accountKey(outcome.executedIn.account) === callRef.account
      ? callRef
      : { account: accountKey(outcome.executedIn.account), seq: outcome.executedIn.seq }
    // the call's two references (and their hex strings) are shared by its events: the first carries them
    let shared = 2 * (48 + STRING_BYTES + 64)
    for (const ev of outcome.events) {
      const dataBytes = weigh(ev.data, this.limits.maxEventDataBytes)
      const kept = dataBytes <= this.limits.maxEventDataBytes
      // the data is shared with the ledger's outcome until the ledger forgets it (at a checkpoint)
      const weight = EVENT_BASE_BYTES + STRING_BYTES + ev.name.length + (kept ? dataBytes : 0) + shared
      shared = 0
      const r: EventRecord = { index, position: position++, stream, call: callRef, executedIn, name: ev.name, data: kept ? ev.data : undefined, weight }
      stream.entries.push(r)
      this.events.push(r)
      this.eventBytes += weight
      this.evictEvents()
      if (this.listeners.size > 0) this.notify(l => l.event?.(r))
    }
    return position
  }

  /** A listener's fault must never reach the delivery hook (it would stop the node). */
  private notify (call: (l: HistoryListener) => void): void {
    for (const l of this.listeners) {
      try { call(l) } catch { /* the listener's own problem */ }
    }
  }

  private evictOps (): void {
    while (this.ops.length > 1 && (this.ops.length > this.limits.maxOps || this.opBytes > this.limits.maxOpBytes)) {
      const r = this.ops.shift()!
      this.opBytes -= r.weight
      this.evictedOps++
      this.evictedOpAt = r.index
      // the oldest entry overall is the oldest of its account
      r.stream.entries.shift()
      if (r.stream.entries.length === 0) { this.accounts.delete(r.stream.key); this.opBytes -= STREAM_BYTES }
    }
  }

  private evictEvents (): void {
    while (this.events.length > 1 && (this.events.length > this.limits.maxEvents || this.eventBytes > this.limits.maxEventBytes)) {
      const r = this.events.shift()!
      this.eventBytes -= r.weight
      this.evictedEvents++
      this.evictedEventAt = r.index
      this.evictedEventPosition = r.position
      r.stream.entries.shift()
      if (r.stream.entries.length === 0) { this.contracts.delete(r.stream.key); this.eventBytes -= STREAM_BYTES }
    }
  }

  /** An account's ops, newest first, older than `before`. */
  accountOps (account: string, before: Cursor | undefined, limit: number): HistoryPage<OpRecord> {
    const entries = this.accounts.get(account)?.entries
    if (entries === undefined) return { items: [] }
    return pageBack(entries, before, limit, () => true)
  }

  /** A contract's events, newest first, older than `before`, optionally only those named `name`. */
  contractEvents (contract: string, before: Cursor | undefined, limit: number, name?: string): HistoryPage<EventRecord> {
    const entries = this.contracts.get(contract)?.entries
    if (entries === undefined) return { items: [] }
    return pageBack(entries, before, limit, name === undefined ? () => true : r => r.name === name)
  }

  /** The newest op and the newest event evicted so far (everything older is gone too). */
  lastEvicted (): { ops: Cursor, events: Cursor } {
    return { ops: { index: this.evictedOpAt, position: -1 }, events: { index: this.evictedEventAt, position: this.evictedEventPosition } }
  }

  /** Whether the index holds any event of this contract. */
  hasEvents (contract: string): boolean {
    return this.contracts.has(contract)
  }

  /** Up to `max` entries after `after`, oldest first, ops and events merged in delivery order. */
  after (after: Cursor, filter: HistoryFilter, max: number): Array<OpRecord | EventRecord> {
    const ops = filter.ops ? (filter.account === undefined ? this.ops : this.accounts.get(filter.account)?.entries) : undefined
    const events = filter.events ? (filter.contract === undefined ? this.events : this.contracts.get(filter.contract)?.entries) : undefined
    let i = ops === undefined ? 0 : firstAfter(ops, after)
    let j = events === undefined ? 0 : firstAfter(events, after)
    const out: Array<OpRecord | EventRecord> = []
    while (out.length < max) {
      const a = ops?.at(i)
      const b = events?.at(j)
      if (a === undefined && b === undefined) break
      if (b === undefined || (a !== undefined && a.index <= b.index)) { out.push(a!); i++ } else { out.push(b); j++ }
    }
    return out
  }

  /** Called with every new entry; returns the function that stops it. */
  listen (l: HistoryListener): () => void {
    if (this.closed) { l.closed?.(); return () => {} }
    this.listeners.add(l)
    return () => { this.listeners.delete(l) }
  }

  get stopped (): boolean {
    return this.closed
  }

  /** The node stops: listeners are told, and forgotten. */
  close (): void {
    if (this.closed) return
    this.closed = true
    for (const l of [...this.listeners]) l.closed?.()
    this.listeners.clear()
  }
}

// -------------------------------------------------------------------------------------------
// Views and cursors

export function opView (r: OpRecord): AccountOpView {
  return { hash: r.hash, account: r.stream.key, seq: r.seq, kind: r.kind, outcome: r.outcome, index: r.index, ...r.fields }
}

export function eventView (r: EventRecord): ContractEventView {
  return {
    contract: r.stream.key,
    call: r.call,
    executedIn: r.executedIn,
    name: r.name,
    data: r.data === undefined ? null : valueToJson(r.data),
    ...(r.data === undefined ? { dataOmitted: true } : {}),
    index: r.index,
    position: r.position
  }
}

export const isEvent = (r: OpRecord | EventRecord): r is EventRecord => 'position' in r

export const cursorOf = (r: OpRecord | EventRecord): Cursor => ({ index: r.index, position: isEvent(r) ? r.position : -1 })

/** `12` (the op delivered at index 12), `12:0` (the first event it ran). */
export function formatCursor (c: Cursor): string {
  return c.position < 0 ? String(c.index) : `${c.index}:${c.position}`
}

export function parseCursor (s: string): Cursor | undefined {
  const m = /^([0-9]{1,15})(?::([0-9]{1,6}))?$/.exec(s)
  if (m === null) return undefined
  return { index: Number(m[1]), position: m[2] === undefined ? -1 : Number(m[2]) }
}

export const compare = (r: { index: number, position?: number }, c: Cursor): number => r.index - c.index || (r.position ?? -1) - c.position

/** Position (from the deque's head) of the first entry after the cursor. */
function firstAfter<T extends { index: number, position?: number }> (d: Deque<T>, c: Cursor): number {
  let lo = 0
  let hi = d.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compare(d.at(mid)!, c) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

function pageBack<T extends { index: number, position?: number }> (d: Deque<T>, before: Cursor | undefined, limit: number, keep: (r: T) => boolean): HistoryPage<T> {
  // the last entry before the cursor: one before the first at or after it
  let end = d.length
  if (before !== undefined) {
    let lo = 0
    let hi = d.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compare(d.at(mid)!, before) < 0) lo = mid + 1
      else hi = mid
    }
    end = lo
  }
  const items: T[] = []
  let i = end - 1
  let scanned = 0
  for (; i >= 0 && items.length < limit && scanned < MAX_SCAN; i--, scanned++) {
    const r = d.at(i)!
    if (keep(r)) items.push(r)
  }
  if (i < 0) return { items }
  // more is older: continue after the last entry looked at
  const last = d.at(i + 1)!
  return { items, next: { index: last.index, position: last.position ?? -1 } }
}

/**
 * A rough estimate of the heap a value holds (bytes), stopping once past `cap`: enough to weigh
 * an event against the byte caps, cheap for the small events contracts usually emit. Errs high
 * (measured on Node 20): a byte string holds 200 to 250 bytes besides its contents (the view, its
 * buffer and the buffer's store), a list 32 and a slot per element, a map an entry per key and the
 * key itself (a contract picks its keys: one can be as long as any string, and a map of them is
 * all keys).
 */
export function weigh (v: Value, cap: number): number {
  let total = 0
  const stack: Value[] = [v]
  while (stack.length > 0 && total <= cap) {
    const x = stack.pop()!
    if (x === null || typeof x === 'boolean') total += 8
    else if (typeof x === 'string') total += STRING_BYTES + x.length * 2
    else if (typeof x === 'bigint' || typeof x === 'number') total += 24
    else if (x instanceof Uint8Array) total += 256 + x.length
    else if (Array.isArray(x)) { total += 32 + 8 * x.length; for (const y of x) stack.push(y) } else {
      total += 48
      const map = x as Readonly<Record<string, Value>>
      for (const k in map) {
        total += 48 + k.length * 2
        if (total > cap) break
        stack.push(map[k]!)
      }
    }
  }
  return total
}

/**
 * A FIFO that drops its references as entries leave, so nothing evicted stays reachable from it.
 * `at(i)` counts from the oldest entry held.
 */
export class Deque<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get length (): number {
    return this.items.length - this.head
  }

  push (x: T): void {
    this.items.push(x)
  }

  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const x = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= 16 && this.head * 2 >= this.items.length) {
      // not only for long ones: an account keeping one entry while a thousand of its older ones
      // were evicted would hold a thousand empty slots, for every such account
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return x
  }

  at (i: number): T | undefined {
    return i < 0 || i >= this.length ? undefined : this.items[this.head + i]
  }
}
