// Canonical CBOR: exactly one byte string per value, so hashes and signatures agree everywhere.
// Encoding is cborg's deterministic mode restricted to our value types (encoder.ts writes the
// common shapes directly, byte for byte as cborg would). Decoding of untrusted bytes is bounded
// (size, depth, items) and accepts only the bytes that encoding writes (decoder.ts checks each
// rule in one pass instead of encoding the value again).

import { encode as cborEncode } from 'cborg'
import { MalformedError, UnencodableError } from '../errors.js'
import { readCanonical } from './decoder.js'
import { writeCanonical } from './encoder.js'

/** The values the protocol exchanges. Integers decode as number (safe range) or bigint. */
export type Value =
  | bigint | number | string | boolean | null
  | Uint8Array
  | readonly Value[]
  | { readonly [key: string]: Value }

export interface DecodeLimits {
  /** Largest input accepted, in bytes. */
  maxBytes: number
  /** Deepest nesting of lists and maps. */
  maxDepth: number
  /** Most entries in one list or map. */
  maxItems: number
}

export const DEFAULT_LIMITS: DecodeLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 32, maxItems: 100_000 }

/** Largest integer the encoding carries (CBOR major types 0/1 are 64-bit). */
export const MAX_UINT64 = (1n << 64n) - 1n

const encodeOptions = {
  typeEncoders: {
    number (n: number) {
      if (!Number.isSafeInteger(n)) throw new UnencodableError(`cannot encode non-integer or unsafe number ${n}`)
      return null
    },
    bigint (n: bigint) {
      if (n > MAX_UINT64 || n < -(MAX_UINT64 + 1n)) throw new UnencodableError('integer out of 64-bit range')
      return null
    },
    undefined () { throw new UnencodableError('cannot encode undefined') },
    Map () { throw new UnencodableError('use plain objects with string keys, not Map') }
  }
}

export function encode (value: Value): Uint8Array {
  const direct = writeCanonical(value)
  if (direct !== undefined) return direct
  // what the direct writer leaves (and every refusal, with its message) is cborg's
  try {
    return cborEncode(value, encodeOptions)
  } catch (err) {
    if (err instanceof UnencodableError) throw err
    throw new UnencodableError((err as Error).message)
  }
}

/** Decodes untrusted bytes; throws MalformedError unless they are canonical and within limits. */
export function decode (bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Value {
  if (!(bytes instanceof Uint8Array)) throw new MalformedError('expected bytes')
  if (bytes.length > limits.maxBytes) throw new MalformedError(`message of ${bytes.length} bytes exceeds ${limits.maxBytes}`)
  if (bytes.length === 0) throw new MalformedError('empty message')
  return readCanonical(bytes, limits)
}

export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Bytewise order, used wherever the protocol sorts keys or accounts. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}
