// Values inside the contract VM, and their one canonical form outside it (args, storage, results,
// the state hash). Integers are bigint within the codec's 64-bit range; maps are immutable and
// iterate in the order of their keys' canonical tags, so no program can observe insertion order.

import { encode, MAX_UINT64 } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import { toHex, fromHex } from '../crypto/hash.js'
import type { Node, Pos } from './reader.js'
import { ContractError } from './errors.js'

export type VmValue = bigint | boolean | string | Uint8Array | null | readonly VmValue[] | VmMap | VmFunction

/** A function value: a lambda with its scope, or a reference to a top-level defun. */
export type VmFunction =
  | { readonly kind: 'lambda', readonly params: readonly string[], readonly body: readonly Node[], readonly scope: Scope }
  | { readonly kind: 'defun', readonly name: string }

export interface Scope { readonly vars: ReadonlyMap<string, VmValue>, readonly parent?: Scope }

/** An immutable map; keys are integers, strings or bytes. */
export class VmMap {
  constructor (readonly entries: ReadonlyMap<string, readonly [VmValue, VmValue]>) {}
  static readonly empty = new VmMap(new Map())
  get size (): number { return this.entries.size }
  get (key: VmValue): VmValue | undefined { return this.entries.get(keyTag(key))?.[1] }
  with (key: VmValue, value: VmValue): VmMap {
    const next = new Map(this.entries)
    next.set(keyTag(key), [key, value])
    return new VmMap(next)
  }

  without (key: VmValue): VmMap {
    const next = new Map(this.entries)
    next.delete(keyTag(key))
    return new VmMap(next)
  }

  /** Entries sorted by key tag: the only order a program can see. */
  sorted (): Array<readonly [VmValue, VmValue]> {
    return [...this.entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e)
  }
}

export const MAX_INT = MAX_UINT64
export const MIN_INT = -MAX_UINT64 - 1n

export function checkInt (n: bigint, pos?: Pos): bigint {
  if (n > MAX_INT || n < MIN_INT) throw new ContractError('runtime', 'integer overflow (values are 64-bit)', pos)
  return n
}

/** The canonical tag of a map or storage key: the type is part of it, so 1 and "1" differ. */
export function keyTag (key: VmValue): string {
  if (typeof key === 'bigint') return `i:${key < 0n ? '-' : '+'}${(key < 0n ? -key : key).toString().padStart(20, '0')}`
  if (typeof key === 'string') return `s:${key}`
  if (key instanceof Uint8Array) return `b:${toHex(key)}`
  throw new ContractError('type', `a key must be an integer, string or bytes, not ${typeName(key)}`)
}

export function keyFromTag (tag: string): VmValue {
  const kind = tag.slice(0, 2)
  const body = tag.slice(2)
  if (kind === 's:') return body
  if (kind === 'b:') return fromHex(body)
  if (kind === 'i:' && /^[+-][0-9]{1,20}$/.test(body)) return checkInt(BigInt((body[0] === '-' ? '-' : '') + body.slice(1)))
  throw new ContractError('type', `bad key tag ${tag.slice(0, 20)}`)
}

export function typeName (v: VmValue): string {
  if (v === null) return 'nil'
  if (typeof v === 'bigint') return 'integer'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'string') return 'string'
  if (v instanceof Uint8Array) return 'bytes'
  if (Array.isArray(v)) return 'list'
  if (v instanceof VmMap) return 'map'
  return 'function'
}

/** VM value to its canonical codec form; functions have none (they cannot be stored or returned). */
export function toCodec (v: VmValue): Value {
  if (v === null || typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'string' || v instanceof Uint8Array) return v
  if (Array.isArray(v)) return (v as readonly VmValue[]).map(toCodec)
  if (v instanceof VmMap) {
    const out: Record<string, Value> = {}
    for (const [tag, [, value]] of v.entries) out[tag] = toCodec(value)
    return out
  }
  throw new ContractError('type', 'a function cannot be stored, passed in or returned')
}

/** Codec value (decoded from an op or from state) to a VM value; integers become bigint. */
export function fromCodec (v: Value): VmValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint' || v instanceof Uint8Array) return v
  if (typeof v === 'number') return BigInt(v)
  if (Array.isArray(v)) return (v as readonly Value[]).map(fromCodec)
  const entries = new Map<string, readonly [VmValue, VmValue]>()
  for (const [tag, value] of Object.entries(v as Record<string, Value>)) {
    // re-tag: a map from outside may spell a key loosely ("i:+5"); inside, one key has one tag
    const key = keyFromTag(tag)
    entries.set(keyTag(key), [key, fromCodec(value)])
  }
  return new VmMap(entries)
}

const measures = new WeakMap<object, { size: number, depth: number }>()

/** Values nested deeper than this cannot be compared, stored, emitted or returned. */
export const MAX_VALUE_DEPTH = 32

/**
 * A value's size in nodes (a string or byte string counts one per 32 bytes) and its nesting
 * depth. Builtins that walk a whole value (=, contains, str, put, emit, a call's result) charge gas
 * by size first and refuse values deeper than MAX_VALUE_DEPTH: lists can share parts, so a value
 * may be exponentially larger than the gas spent building it, and arbitrarily deep. Iterative and
 * memoised per object, so measuring never overflows the stack and costs no more than building did.
 */
export function measure (root: VmValue): { size: number, depth: number } {
  const leaf = (v: VmValue): { size: number, depth: number } | undefined => {
    if (typeof v === 'string' || v instanceof Uint8Array) return { size: 1 + (v.length >> 5), depth: 0 }
    if (v === null || typeof v !== 'object' || !(Array.isArray(v) || v instanceof VmMap)) return { size: 1, depth: 0 }
    return measures.get(v)
  }
  const done = leaf(root)
  if (done !== undefined) return done
  const children = (v: object): VmValue[] => Array.isArray(v) ? v as VmValue[] : [...(v as VmMap).entries.values()].flat()
  const stack: object[] = [root as object]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!
    if (measures.has(top)) { stack.pop(); continue }
    const kids = children(top)
    const pending = kids.filter(k => leaf(k) === undefined) as object[]
    if (pending.length > 0) { stack.push(...pending); continue }
    let size = 1
    let depth = 0
    for (const k of kids) { const m = leaf(k)!; size += m.size; depth = Math.max(depth, m.depth) }
    measures.set(top, { size, depth: depth + 1 })
    stack.pop()
  }
  return measures.get(root as object)!
}

export function sizeOf (v: VmValue): number {
  return measure(v).size
}

/** Encoded size in bytes: what storage and event gas is charged on. */
export function encodedSize (v: VmValue): number {
  return encode(toCodec(v)).length
}

export function equal (a: VmValue, b: VmValue): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null) return false
  if (typeof a === 'object' && typeof b === 'object') {
    if (typeName(a) !== typeName(b) || typeName(a) === 'function') return false
    const ea = encode(toCodec(a))
    const eb = encode(toCodec(b))
    return ea.length === eb.length && ea.every((x, i) => x === eb[i])
  }
  return false
}

export function show (v: VmValue): string {
  if (v === null) return 'nil'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'string') return JSON.stringify(v)
  if (v instanceof Uint8Array) return `0x${toHex(v)}`
  if (Array.isArray(v)) return `(list ${(v as readonly VmValue[]).map(show).join(' ')})`
  if (v instanceof VmMap) return `{${v.sorted().map(([k, x]) => `${show(k)} ${show(x)}`).join(', ')}}`
  return '<function>'
}
