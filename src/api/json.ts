// JSON for the API: bigints as decimal strings, bytes as hex, contract maps as objects keyed by
// their canonical key tags. One function, so every response speaks the same dialect.

import { toHex } from '../core/crypto/hash.js'
import { VmMap } from '../core/vm/values.js'

export function toJson (v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return toHex(v)
  if (v instanceof VmMap) return Object.fromEntries([...v.entries.entries()].map(([tag, [, value]]) => [tag, toJson(value)]))
  if (Array.isArray(v)) return v.map(toJson)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]))
  return v
}
