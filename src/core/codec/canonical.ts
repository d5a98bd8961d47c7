// Canonical CBOR: exactly one byte string per value, so hashes and signatures agree everywhere.
// Encoding is cborg's deterministic mode restricted to our value types; decoding of untrusted
// bytes is bounded (size, depth, items) and accepts only bytes that re-encode to themselves.

import { encode as cborEncode, decode as cborDecode, Tokenizer, Type } from 'cborg'
import type { Token } from 'cborg'
import { MalformedError, UnencodableError } from '../errors.js'

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
  try {
    return cborEncode(value, encodeOptions)
  } catch (err) {
    if (err instanceof UnencodableError) throw err
    throw new UnencodableError((err as Error).message)
  }
}

const cborOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true
}

/**
 * Wraps cborg's tokenizer to enforce depth and item limits while tokens stream past, before
 * cborg allocates anything for them (cborg's own decoder has no depth limit).
 */
class BoundedTokenizer extends Tokenizer {
  private readonly remaining: number[] = []
  constructor (data: Uint8Array, private readonly limits: DecodeLimits) {
    super(data, cborOptions)
  }

  override next (): Token {
    const token = super.next()
    // this token fills one slot of the innermost open container
    const top = this.remaining.length - 1
    if (top >= 0) this.remaining[top]!--
    const isList = Type.equals(token.type, Type.array)
    const isMap = Type.equals(token.type, Type.map)
    const count = isList || isMap ? token.value as number : 0
    if (count > this.limits.maxItems) throw new MalformedError(`container of ${count} entries exceeds ${this.limits.maxItems}`)
    // an empty container is a level too, though it never goes on the stack
    if ((isList || isMap) && this.remaining.length + 1 > this.limits.maxDepth) throw new MalformedError(`nesting deeper than ${this.limits.maxDepth}`)
    if (count > 0) {
      // a container stays open (even with no slots left) until its last child is complete
      this.remaining.push(isMap ? count * 2 : count)
    } else {
      this.closeFinished()
    }
    return token
  }

  private closeFinished (): void {
    while (this.remaining.length > 0 && this.remaining[this.remaining.length - 1] === 0) this.remaining.pop()
  }
}

/** Decodes untrusted bytes; throws MalformedError unless they are canonical and within limits. */
export function decode (bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Value {
  if (!(bytes instanceof Uint8Array)) throw new MalformedError('expected bytes')
  if (bytes.length > limits.maxBytes) throw new MalformedError(`message of ${bytes.length} bytes exceeds ${limits.maxBytes}`)
  if (bytes.length === 0) throw new MalformedError('empty message')
  let value: Value
  try {
    value = cborDecode(bytes, { ...cborOptions, tokenizer: new BoundedTokenizer(bytes, limits) }) as Value
  } catch (err) {
    if (err instanceof MalformedError) throw err
    throw new MalformedError(`invalid CBOR: ${(err as Error).message}`)
  }
  // Re-encoding catches every non-canonical form at once: key order, floats, lengths, bad UTF-8.
  let again: Uint8Array
  try {
    again = encode(value)
  } catch {
    throw new MalformedError('value has no canonical encoding')
  }
  if (!bytesEqual(again, bytes)) throw new MalformedError('encoding is not canonical')
  return value
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
