// Readers that turn a decoded Value into typed fields, throwing MalformedError on any mismatch.
// Every message and record schema is written with these, so validation reads like the shape.

import { MalformedError } from '../errors.js'
import type { Value } from './canonical.js'

export type Fields = { readonly [key: string]: Value }

export function map (v: Value | undefined, what: string, keys: readonly string[]): Fields {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw new MalformedError(`${what}: expected a map`)
  }
  const m = v as Fields
  const present = Object.keys(m)
  for (const k of present) if (!keys.includes(k)) throw new MalformedError(`${what}: unexpected field "${k}"`)
  return m
}

export function list (v: Value | undefined, what: string, maxItems: number): readonly Value[] {
  if (!Array.isArray(v)) throw new MalformedError(`${what}: expected a list`)
  if (v.length > maxItems) throw new MalformedError(`${what}: ${v.length} entries exceed ${maxItems}`)
  return v
}

export function bytes (v: Value | undefined, what: string, length?: number, maxLength = 1 << 20): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new MalformedError(`${what}: expected bytes`)
  if (length !== undefined && v.length !== length) throw new MalformedError(`${what}: expected ${length} bytes, got ${v.length}`)
  if (v.length > maxLength) throw new MalformedError(`${what}: ${v.length} bytes exceed ${maxLength}`)
  return v
}

export function text (v: Value | undefined, what: string, maxLength: number): string {
  if (typeof v !== 'string') throw new MalformedError(`${what}: expected a string`)
  if (v.length > maxLength) throw new MalformedError(`${what}: longer than ${maxLength}`)
  return v
}

export function bigint (v: Value | undefined, what: string, min: bigint, max: bigint): bigint {
  let n: bigint
  if (typeof v === 'bigint') n = v
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
  else throw new MalformedError(`${what}: expected an integer`)
  if (n < min || n > max) throw new MalformedError(`${what}: ${n} outside [${min}, ${max}]`)
  return n
}

/** A small non-negative integer (sequence numbers, indexes): returned as a JS number. */
export function uint (v: Value | undefined, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new MalformedError(`${what}: expected a non-negative integer`)
  if (v > max) throw new MalformedError(`${what}: ${v} exceeds ${max}`)
  return v
}

export function bool (v: Value | undefined, what: string): boolean {
  if (typeof v !== 'boolean') throw new MalformedError(`${what}: expected a boolean`)
  return v
}

export function optional<T> (v: Value | undefined, read: (v: Value) => T): T | undefined {
  return v === undefined ? undefined : read(v)
}
