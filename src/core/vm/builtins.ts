// Every builtin of the contract language, with its arity, gas and one line of documentation.
// docs/contracts.md is generated from this table, so the reference and the code cannot drift.

import { sha256 } from '../crypto/hash.js'
import { PUBLIC_KEY_BYTES } from '../crypto/signing.js'
import { ContractError } from './errors.js'
import { GAS, VM_LIMITS } from './gas.js'
import { bytes, checkInt, checkedList, equal, int, list, map, str } from './interpreter.js'
import type { Builtin, Context } from './interpreter.js'
import type { Pos } from './reader.js'
import { MAX_VALUE_DEPTH, VmMap, encodedSize, keyTag, measure, show, typeName } from './values.js'
import type { VmValue } from './values.js'

const words = (n: number): number => Math.ceil(n / 32)

/**
 * Charges for walking whole values, before walking them (see sizeOf): one gas per node beyond the
 * first, so comparing or storing a plain integer costs no more than the step itself.
 */
function walk (ctx: Context, pos: Pos, ...values: VmValue[]): void {
  let n = 0
  for (const v of values) {
    const m = measure(v)
    if (m.depth > MAX_VALUE_DEPTH) throw new ContractError('runtime', `value nested deeper than ${MAX_VALUE_DEPTH}`, pos)
    n += m.size - 1
  }
  ctx.charge(n * GAS.perElement, pos)
}

function compare (a: VmValue, b: VmValue, pos: Pos): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  throw new ContractError('type', `cannot order ${typeName(a)} and ${typeName(b)}`, pos)
}

function concat (args: VmValue[], ctx: Context, pos: Pos): VmValue {
  // lengths are summed, checked and paid for before anything is joined
  const first = args[0]!
  if (typeof first === 'string') {
    const parts = args.map(a => str(a, pos))
    const len = parts.reduce((n, p) => n + p.length, 0)
    if (len > VM_LIMITS.maxStringBytes) throw new ContractError('runtime', `string longer than ${VM_LIMITS.maxStringBytes}`, pos)
    ctx.charge(words(len) * GAS.perWord, pos)
    return parts.join('')
  }
  if (first instanceof Uint8Array) {
    const parts = args.map(a => bytes(a, pos))
    const len = parts.reduce((n, p) => n + p.length, 0)
    if (len > VM_LIMITS.maxStringBytes) throw new ContractError('runtime', `bytes longer than ${VM_LIMITS.maxStringBytes}`, pos)
    ctx.charge(words(len) * GAS.perWord, pos)
    const out = new Uint8Array(len)
    let off = 0
    for (const p of parts) { out.set(p, off); off += p.length }
    return out
  }
  const lists = args.map(a => list(a, pos))
  const len = lists.reduce((n, l) => n + l.length, 0)
  if (len > VM_LIMITS.maxListLength) throw new ContractError('runtime', `list longer than ${VM_LIMITS.maxListLength}`, pos)
  ctx.charge(len * GAS.perElement, pos)
  return lists.flatMap(l => [...l])
}

const arith = (name: string, doc: string, op: (a: bigint, b: bigint, pos: Pos) => bigint): Builtin => ({
  name, arity: 2, gas: 1, doc, fn: ([a, b], _ctx, pos) => checkInt(op(int(a!, pos), int(b!, pos), pos), pos)
})

const cmp = (name: string, doc: string, test: (c: number) => boolean): Builtin => ({
  name, arity: 2, gas: 1, doc, fn: ([a, b], _ctx, pos) => test(compare(a!, b!, pos))
})

function nonZero (b: bigint, pos: Pos): bigint {
  if (b === 0n) throw new ContractError('runtime', 'division by zero', pos)
  return b
}

export const BUILTINS: readonly Builtin[] = [
  // integers (64-bit: a result outside [-2^64, 2^64-1] aborts the call)
  arith('+', '(+ a b): sum', (a, b) => a + b),
  arith('-', '(- a b): difference', (a, b) => a - b),
  arith('*', '(* a b): product', (a, b) => a * b),
  arith('/', '(/ a b): quotient, rounded toward zero; b = 0 aborts', (a, b, pos) => a / nonZero(b, pos)),
  arith('mod', '(mod a b): remainder with the sign of a; b = 0 aborts', (a, b, pos) => a % nonZero(b, pos)),
  arith('min', '(min a b): the smaller', (a, b) => (a < b ? a : b)),
  arith('max', '(max a b): the larger', (a, b) => (a > b ? a : b)),
  { name: 'abs', arity: 1, gas: 1, doc: '(abs a): absolute value', fn: ([a], _c, pos) => checkInt(int(a!, pos) < 0n ? -int(a!, pos) : int(a!, pos), pos) },
  // comparison and logic
  { name: '=', arity: 2, gas: 1, doc: '(= a b): structural equality of any two values; +1 gas per node of a and b beyond the first of each', fn: ([a, b], ctx, pos) => { walk(ctx, pos, a!, b!); return equal(a!, b!) } },
  { name: '!=', arity: 2, gas: 1, doc: '(!= a b): not equal; +1 gas per node of a and b beyond the first of each', fn: ([a, b], ctx, pos) => { walk(ctx, pos, a!, b!); return !equal(a!, b!) } },
  cmp('<', '(< a b): integers or strings', c => c < 0),
  cmp('<=', '(<= a b)', c => c <= 0),
  cmp('>', '(> a b)', c => c > 0),
  cmp('>=', '(>= a b)', c => c >= 0),
  { name: 'not', arity: 1, gas: 1, doc: '(not b): boolean negation', fn: ([a], ctx, pos) => !ctx.truthy(a!, pos) },
  { name: 'nil?', arity: 1, gas: 1, doc: '(nil? v): true if v is nil', fn: ([a]) => a === null },
  { name: 'type-of', arity: 1, gas: 1, doc: '(type-of v): "integer", "string", "bytes", "boolean", "list", "map", "nil" or "function"', fn: ([a]) => typeName(a!) },
  // strings, bytes, lists
  { name: 'concat', arity: [1, Infinity], gas: 2, doc: '(concat x ...): joins strings, byte strings or lists (all of one kind); +1 gas per 32 bytes or per element', fn: concat },
  { name: 'len', arity: 1, gas: 1, doc: '(len x): length of a string, bytes, list or map', fn: ([a], _c, pos) => {
    if (typeof a === 'string' || a instanceof Uint8Array || Array.isArray(a)) return BigInt((a as { length: number }).length)
    return BigInt(map(a!, pos).size)
  } },
  { name: 'str', arity: 1, gas: 2, doc: '(str v): a readable string of any value; +1 gas per node beyond the first and per 32 characters', fn: ([a], ctx, pos) => {
    walk(ctx, pos, a!)
    const s = typeof a === 'string' ? a : show(a!)
    if (s.length > VM_LIMITS.maxStringBytes) throw new ContractError('runtime', `string longer than ${VM_LIMITS.maxStringBytes}`, pos)
    ctx.charge(words(s.length) * GAS.perWord, pos)
    return s
  } },
  { name: 'list', arity: [0, Infinity], gas: 1, doc: '(list a ...): a list of its arguments; +1 gas per element', fn: (args, ctx, pos) => { ctx.charge(args.length * GAS.perElement, pos); return checkedList(args, pos) } },
  { name: 'nth', arity: 2, gas: 1, doc: '(nth i xs): element i (from 0); out of range aborts', fn: ([i, xs], _c, pos) => {
    const l = list(xs!, pos); const n = int(i!, pos)
    if (n < 0n || n >= BigInt(l.length)) throw new ContractError('runtime', `index ${n} out of range (length ${l.length})`, pos)
    return l[Number(n)]!
  } },
  { name: 'first', arity: 1, gas: 1, doc: '(first xs): the first element; empty aborts', fn: ([xs], _c, pos) => {
    const l = list(xs!, pos)
    if (l.length === 0) throw new ContractError('runtime', 'first of an empty list', pos)
    return l[0]!
  } },
  { name: 'rest', arity: 1, gas: 1, doc: '(rest xs): all but the first; +1 gas per element', fn: ([xs], ctx, pos) => { const l = list(xs!, pos); ctx.charge(l.length * GAS.perElement, pos); return l.slice(1) } },
  { name: 'cons', arity: 2, gas: 1, doc: '(cons x xs): x in front of xs; +1 gas per element', fn: ([x, xs], ctx, pos) => { const l = list(xs!, pos); ctx.charge(l.length * GAS.perElement, pos); return checkedList([x!, ...l], pos) } },
  { name: 'append', arity: 2, gas: 1, doc: '(append xs x): xs with x at the end; +1 gas per element', fn: ([xs, x], ctx, pos) => { const l = list(xs!, pos); ctx.charge(l.length * GAS.perElement, pos); return checkedList([...l, x!], pos) } },
  { name: 'range', arity: 2, gas: 1, doc: '(range a b): integers a, a+1, ... b-1; +1 gas per element', fn: ([a, b], ctx, pos) => {
    const lo = int(a!, pos); const hi = int(b!, pos)
    const n = hi > lo ? hi - lo : 0n
    if (n > BigInt(VM_LIMITS.maxListLength)) throw new ContractError('runtime', `list longer than ${VM_LIMITS.maxListLength}`, pos)
    ctx.charge(Number(n) * GAS.perElement, pos)
    return Array.from({ length: Number(n) }, (_, i) => lo + BigInt(i))
  } },
  { name: 'contains', arity: 2, gas: 1, doc: '(contains xs x): true if x is an element of xs; +1 gas per node of xs and x beyond the first of each, and per node of x beyond the first for each element', fn: ([xs, x], ctx, pos) => {
    const l = list(xs!, pos)
    walk(ctx, pos, xs!, x!)
    // each comparison may walk x again: pay for that too
    ctx.charge(l.length * (measure(x!).size - 1) * GAS.perElement, pos)
    return l.some(e => equal(e, x!))
  } },
  // higher order: the function runs once per element, each run paying its own gas
  { name: 'map', arity: 2, gas: 1, doc: '(map f xs): f applied to each element', fn: ([f, xs], ctx, pos) => list(xs!, pos).map(x => ctx.apply(f!, [x], pos)) },
  { name: 'filter', arity: 2, gas: 1, doc: '(filter f xs): the elements for which f is true', fn: ([f, xs], ctx, pos) => list(xs!, pos).filter(x => ctx.truthy(ctx.apply(f!, [x], pos), pos)) },
  { name: 'fold', arity: 3, gas: 1, doc: '(fold f init xs): (f (f init x0) x1) ...', fn: ([f, init, xs], ctx, pos) => list(xs!, pos).reduce<VmValue>((acc, x) => ctx.apply(f!, [acc, x], pos), init!) },
  // maps: immutable; keys are integers, strings or bytes; iteration in key order
  { name: 'dict', arity: [0, Infinity], gas: 1, doc: '(dict k1 v1 k2 v2 ...): a map; +1 gas per entry', fn: (args, ctx, pos) => {
    if (args.length % 2 !== 0) throw new ContractError('runtime', 'dict takes keys and values in pairs', pos)
    ctx.charge(args.length / 2 * GAS.perElement, pos)
    let m = VmMap.empty
    for (let i = 0; i < args.length; i += 2) m = m.with(args[i]!, args[i + 1]!)
    return m
  } },
  { name: 'map-get', arity: [2, 3], gas: 1, doc: '(map-get m k [default]): the value at k, else default (or nil)', fn: ([m, k, d], _c, pos) => { const v = map(m!, pos).get(k!); return v === undefined ? d ?? null : v } },
  { name: 'map-set', arity: 3, gas: 1, doc: '(map-set m k v): a copy of m with k set to v; +1 gas per entry', fn: ([m, k, v], ctx, pos) => {
    const mm = map(m!, pos); ctx.charge(mm.size * GAS.perElement, pos)
    if (mm.size >= VM_LIMITS.maxListLength) throw new ContractError('runtime', `map larger than ${VM_LIMITS.maxListLength}`, pos)
    return mm.with(k!, v!)
  } },
  { name: 'map-del', arity: 2, gas: 1, doc: '(map-del m k): a copy of m without k; +1 gas per entry', fn: ([m, k], ctx, pos) => { const mm = map(m!, pos); ctx.charge(mm.size * GAS.perElement, pos); return mm.without(k!) } },
  { name: 'map-has', arity: 2, gas: 1, doc: '(map-has m k): true if k is a key of m', fn: ([m, k], _c, pos) => map(m!, pos).get(k!) !== undefined },
  { name: 'map-keys', arity: 1, gas: 1, doc: '(map-keys m): the keys in key order; +1 gas per entry', fn: ([m], ctx, pos) => { const mm = map(m!, pos); ctx.charge(mm.size * GAS.perElement, pos); return mm.sorted().map(([k]) => k) } },
  { name: 'map-values', arity: 1, gas: 1, doc: '(map-values m): the values in key order; +1 gas per entry', fn: ([m], ctx, pos) => { const mm = map(m!, pos); ctx.charge(mm.size * GAS.perElement, pos); return mm.sorted().map(([, v]) => v) } },
  // the host: the call and the contract's own account
  { name: 'caller', arity: 0, gas: 1, host: true, doc: '(caller): the account that made this call (bytes)', fn: (_a, ctx, pos) => ctx.requireHost(pos).caller },
  { name: 'value', arity: 0, gas: 1, host: true, doc: '(value): the amount attached to this call, already in the contract balance', fn: (_a, ctx, pos) => ctx.requireHost(pos).value },
  { name: 'self', arity: 0, gas: 1, host: true, doc: '(self): this contract\'s address (bytes)', fn: (_a, ctx, pos) => ctx.requireHost(pos).self },
  { name: 'balance', arity: 0, gas: 5, host: true, doc: '(balance): the contract\'s spendable balance', fn: (_a, ctx, pos) => ctx.requireHost(pos).balance() },
  { name: 'now', arity: 0, gas: 1, host: true, doc: '(now): the time (ms) the sequencer put in the Execute op running this call', fn: (_a, ctx, pos) => ctx.requireHost(pos).now },
  { name: 'get', arity: [1, 2], gas: GAS.storageRead, host: true, doc: '(get k [default]): the contract\'s stored value at k, else default (or nil)', fn: ([k, d], ctx, pos) => { keyTag(k!); const v = ctx.requireHost(pos).get(k!); return v === undefined ? d ?? null : v } },
  { name: 'put', arity: 2, gas: GAS.storageWrite, host: true, doc: `(put k v): stores v at k; +${GAS.storageBytes} gas per byte of key and value`, fn: ([k, v], ctx, pos) => {
    const host = ctx.requireHost(pos)
    walk(ctx, pos, k!, v!)
    ctx.charge((encodedSize(k!) + encodedSize(v!)) * GAS.storageBytes, pos)
    host.put(k!, v!)
    return v!
  } },
  { name: 'del', arity: 1, gas: GAS.storageDelete, host: true, doc: '(del k): removes the stored value at k', fn: ([k], ctx, pos) => { keyTag(k!); ctx.requireHost(pos).del(k!); return null } },
  { name: 'transfer', arity: 2, gas: GAS.transfer, host: true, doc: '(transfer to amount): pays from the contract balance; the recipient gets an uncited credit', fn: ([to, amount], ctx, pos) => {
    const dest = bytes(to!, pos, 'recipient')
    if (dest.length !== PUBLIC_KEY_BYTES) throw new ContractError('runtime', `a recipient is ${PUBLIC_KEY_BYTES} bytes`, pos)
    const n = int(amount!, pos, 'amount')
    if (n <= 0n) throw new ContractError('runtime', 'a transfer amount must be positive', pos)
    const host = ctx.requireHost(pos)
    if (host.balance() < n) throw new ContractError('runtime', `contract balance ${host.balance()} is less than ${n}`, pos)
    host.transfer(dest, n)
    return true
  } },
  { name: 'emit', arity: 2, gas: GAS.emit, host: true, doc: `(emit name data): records an event in the call's outcome; +${GAS.eventBytes} gas per byte of data`, fn: ([name, data], ctx, pos) => {
    walk(ctx, pos, data!)
    ctx.charge(encodedSize(data!) * GAS.eventBytes, pos)
    ctx.requireHost(pos).emit(str(name!, pos, 'event name'), data!)
    return null
  } },
  { name: 'hash', arity: 1, gas: GAS.hash, doc: '(hash b): SHA-256 of bytes or a string (UTF-8); +1 gas per 32 bytes', fn: ([b], ctx, pos) => {
    const input = typeof b === 'string' ? new TextEncoder().encode(b) : bytes(b!, pos)
    ctx.charge(words(input.length) * GAS.perWord, pos)
    return sha256(input)
  } }
]

export const BUILTIN_TABLE: ReadonlyMap<string, Builtin> = new Map(BUILTINS.map(b => [b.name, b]))
