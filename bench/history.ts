// The history index on the delivery hot path: what one delivery costs it (a transfer, an Execute
// whose call emitted a token event), with the index full so every delivery also evicts, and the
// heap one entry holds (measured after a collection, so the figures behind DEFAULT_HISTORY_LIMITS
// and the weights in history.ts can be checked). Ops are built by hand: the index never checks a
// signature, and the hash arrives as hex as the node's hook passes it.
// Run: npm run build && node --expose-gc dist/bench/history.js [deliveries]

import { randomBytes } from 'node:crypto'
import type { Value } from '../src/core/codec/canonical.js'
import { toHex } from '../src/core/crypto/hash.js'
import type { Outcome } from '../src/core/ledger/ledger.js'
import type { SignedOp, Slot } from '../src/core/ledger/op.js'
import type { CallOutcome } from '../src/core/ledger/contracts.js'
import { keyTag, toCodec, VmMap } from '../src/core/vm/values.js'
import { DEFAULT_HISTORY_LIMITS, HistoryIndex } from '../src/node/history.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) { console.error('run with node --expose-gc'); process.exit(2) }

const N = Number(process.argv[2] ?? 100_000)
const ACCOUNTS = 10_000
const APPLIED: Outcome = { status: 'applied' }
const accounts = Array.from({ length: ACCOUNTS }, () => new Uint8Array(randomBytes(32)))
const contract = new Uint8Array(randomBytes(32))
const seqs = new Map<Uint8Array, number>()
const nextSeq = (a: Uint8Array): number => { const s = (seqs.get(a) ?? 0) + 1; seqs.set(a, s); return s }

function transfer (i: number): SignedOp {
  // a fresh account array per op, as decoded ops have: the index must not rely on sharing
  const account = new Uint8Array(accounts[i % ACCOUNTS]!)
  return { account, seq: nextSeq(accounts[i % ACCOUNTS]!), deps: [], body: { kind: 'transfer', to: accounts[(i * 7 + 1) % ACCOUNTS]!, amount: 100n }, sig: new Uint8Array(64), payload: new Uint8Array(0), bytes: new Uint8Array(0), hash: new Uint8Array(randomBytes(32)) }
}

function execute (i: number): { op: SignedOp, ledger: { callOutcome: (s: Slot) => CallOutcome } } {
  const caller = accounts[i % ACCOUNTS]!
  const call = { account: new Uint8Array(caller), seq: i + 1 }
  const op: SignedOp = { account: new Uint8Array(contract), seq: nextSeq(contract), deps: [call], body: { kind: 'execute', calls: [call], time: i }, sig: new Uint8Array(64), payload: new Uint8Array(0), bytes: new Uint8Array(0), hash: new Uint8Array(randomBytes(32)) }
  // a token transfer event: {from, to, amount}, as the VM hands it over
  const data = toCodec(new VmMap(new Map([['from', caller], ['to', accounts[(i + 1) % ACCOUNTS]!], ['amount', 250n]].map(([k, v]) => [keyTag(k as string), [k as string, v as Uint8Array | bigint] as const])))) as Value
  const outcome: CallOutcome = { status: 'ok', result: true, gasUsed: 900, events: [{ name: 'transfer', data }], executedIn: { account: contract, seq: op.seq } }
  return { op, ledger: { callOutcome: () => outcome } }
}

const none = { callOutcome: () => undefined }

function heapPerEntry (what: 'transfer' | 'execute'): { perOp: number, perEvent: number } {
  const index = new HistoryIndex({ ...DEFAULT_HISTORY_LIMITS, maxOps: N, maxEvents: N, maxOpBytes: 1e12, maxEventBytes: 1e12 })
  gc!(); gc!()
  const mem = (): number => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }
  const before = mem()
  for (let i = 0; i < N; i++) {
    if (what === 'transfer') { const op = transfer(i); index.delivered(op, APPLIED, toHex(op.hash), none) } else { const { op, ledger } = execute(i); index.delivered(op, APPLIED, toHex(op.hash), ledger) }
  }
  gc!(); gc!()
  const used = mem() - before
  const size = index.size
  const estimated = what === 'transfer' ? size.opBytes / size.ops : (size.opBytes + size.eventBytes) / size.ops
  console.log(`${what}: ${N} entries hold ${(used / 1e6).toFixed(1)} MB: ${Math.round(used / N)} bytes per delivery (${size.events} events; weights estimate ${Math.round(estimated)})`)
  return what === 'transfer' ? { perOp: used / N, perEvent: 0 } : { perOp: 0, perEvent: used / N }
}

function costPerDelivery (what: 'transfer' | 'execute'): number {
  // a full index: every delivery also evicts one entry
  const index = new HistoryIndex({ ...DEFAULT_HISTORY_LIMITS, maxOps: N / 2, maxEvents: N / 2 })
  const ops = Array.from({ length: N }, (_, i) => what === 'transfer' ? { op: transfer(i), ledger: none } : execute(i))
  const hashes = ops.map(o => toHex(o.op.hash))
  // warm up, then time the steady state
  for (let i = 0; i < N / 2; i++) index.delivered(ops[i]!.op, APPLIED, hashes[i], ops[i]!.ledger)
  // timed in batches: the median batch says what a delivery costs on a quiet machine, the mean
  // adds collections and whatever else shares the CPU (the machine may be busy)
  const BATCH = 500
  const batches: number[] = []
  const t0 = process.hrtime.bigint()
  for (let b = N / 2; b < N; b += BATCH) {
    const t = process.hrtime.bigint()
    for (let i = b; i < Math.min(N, b + BATCH); i++) index.delivered(ops[i]!.op, APPLIED, hashes[i], ops[i]!.ledger)
    batches.push(Number(process.hrtime.bigint() - t) / BATCH)
  }
  const mean = Number(process.hrtime.bigint() - t0) / (N / 2)
  batches.sort((a, b) => a - b)
  const median = batches[batches.length >> 1]!
  console.log(`${what}: ${Math.round(median)} ns per delivery (median of batches; mean ${Math.round(mean)}), index full and evicting: ${index.evictedOps} ops and ${index.evictedEvents} events evicted`)
  return median
}

/** The same loop with a Map write per op instead of the index: what "a map write or two" costs here. */
function baseline (): void {
  const m = new Map<string, number>()
  const ops = Array.from({ length: N }, (_, i) => transfer(i))
  const hashes = ops.map(o => toHex(o.hash))
  const BATCH = 500
  const batches: number[] = []
  for (let b = 0; b < N; b += BATCH) {
    const t = process.hrtime.bigint()
    for (let i = b; i < Math.min(N, b + BATCH); i++) {
      m.set(hashes[i]!, i)
      if (m.size > N / 2) m.delete(m.keys().next().value!)
    }
    batches.push(Number(process.hrtime.bigint() - t) / BATCH)
  }
  batches.sort((a, b) => a - b)
  console.log(`baseline (one bounded Map write, as the node's op tracking does): ${Math.round(batches[batches.length >> 1]!)} ns per delivery (median)`)
}

heapPerEntry('transfer')
heapPerEntry('execute')
baseline()
costPerDelivery('transfer')
costPerDelivery('execute')
