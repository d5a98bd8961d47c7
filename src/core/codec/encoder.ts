// A direct writer for the common shapes of canonical CBOR, byte for byte what cborg's encode
// writes with canonical.ts's options: integers and lengths in their shortest form, map entries
// ordered by encoded key (shorter first, then bytewise). It handles only plain values it knows
// cborg handles the same way; on anything else (a float, undefined, a Map, a class instance, an
// out-of-range bigint, a cycle) it gives up and canonical.ts asks cborg, which then encodes the
// value or throws exactly as before.

const MAX_UINT64 = (1n << 64n) - 1n
const MIN_INT64 = -(1n << 64n)
const TWO32 = 0x100000000

/** Thrown, never seen outside: the value is not one this writer handles. */
const GIVE_UP = new Error('not a value the direct writer handles')

const INITIAL_BYTES = 4096
// a buffer grown by one huge value is not kept for the small ones after it
const KEEP_BYTES = 1024 * 1024
let out = new Uint8Array(INITIAL_BYTES)
let at = 0
let busy = false

const utf8 = new TextEncoder()

/** The canonical encoding of `value`, or undefined where cborg must decide. */
export function writeCanonical (value: unknown): Uint8Array | undefined {
  // a getter that encodes would overwrite the buffer under us: leave nested calls to cborg
  if (busy) return undefined
  busy = true
  at = 0
  try {
    writeValue(value, 0)
    // an own copy: encoded ops and certificates are kept long, and a shared slab would be pinned
    return out.slice(0, at)
  } catch {
    // GIVE_UP, or anything unforeseen: cborg encodes or refuses it as it always did
    return undefined
  } finally {
    busy = false
    if (out.length > KEEP_BYTES) out = new Uint8Array(INITIAL_BYTES)
  }
}

function giveUp (): never {
  throw GIVE_UP
}

function room (n: number): void {
  if (at + n <= out.length) return
  const bigger = new Uint8Array(Math.max(out.length * 2, at + n))
  bigger.set(out.subarray(0, at))
  out = bigger
}

/** A head: major type and argument n (0 <= n < 2^53) in the fewest bytes. */
function head (major: number, n: number): void {
  room(9)
  const m = major << 5
  if (n < 24) {
    out[at++] = m | n
  } else if (n < 0x100) {
    out[at++] = m | 24
    out[at++] = n
  } else if (n < 0x10000) {
    out[at++] = m | 25
    out[at++] = n >>> 8
    out[at++] = n & 0xff
  } else if (n < TWO32) {
    out[at++] = m | 26
    out[at++] = n >>> 24
    out[at++] = (n >>> 16) & 0xff
    out[at++] = (n >>> 8) & 0xff
    out[at++] = n & 0xff
  } else {
    write64(m, Math.floor(n / TWO32), n >>> 0)
  }
}

function write64 (m: number, hi: number, lo: number): void {
  out[at++] = m | 27
  out[at++] = hi >>> 24
  out[at++] = (hi >>> 16) & 0xff
  out[at++] = (hi >>> 8) & 0xff
  out[at++] = hi & 0xff
  out[at++] = lo >>> 24
  out[at++] = (lo >>> 16) & 0xff
  out[at++] = (lo >>> 8) & 0xff
  out[at++] = lo & 0xff
}

function headBig (major: number, n: bigint): void {
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return head(major, Number(n))
  room(9)
  write64(major << 5, Number(n >> 32n), Number(n & 0xffffffffn))
}

// Deeper than any protocol value: a cycle, most likely, which cborg names in its refusal.
const MAX_DEPTH = 256

function writeValue (v: unknown, depth: number): void {
  switch (typeof v) {
    case 'number':
      // cborg's own check refuses the rest (floats, unsafe integers) with its message
      if (!Number.isSafeInteger(v)) giveUp()
      // -0 >= 0 too, and cborg writes it as 0
      if (v >= 0) head(0, v)
      else head(1, -1 - v)
      return
    case 'bigint':
      if (v >= 0n) {
        if (v > MAX_UINT64) giveUp()
        headBig(0, v)
      } else {
        if (v < MIN_INT64) giveUp()
        headBig(1, -1n - v)
      }
      return
    case 'string':
      writeString(v)
      return
    case 'boolean':
      room(1)
      out[at++] = v ? 0xf5 : 0xf4
      return
    case 'object':
      if (v === null) {
        room(1)
        out[at++] = 0xf6
        return
      }
      // the order of cborg's type test: arrays, then bytes, then objects whose constructor is Object
      if (depth >= MAX_DEPTH) giveUp()
      if (Array.isArray(v)) return writeList(v, depth)
      if (v instanceof Uint8Array) {
        head(2, v.length)
        writeBytes(v)
        return
      }
      if ((v as { constructor?: unknown }).constructor === Object) return writeMap(v as Record<string, unknown>, depth)
      return giveUp()
    default:
      return giveUp()
  }
}

function writeBytes (b: Uint8Array): void {
  room(b.length)
  out.set(b, at)
  at += b.length
}

function writeList (list: readonly unknown[], depth: number): void {
  const n = list.length
  head(4, n)
  // a hole reads as undefined, which cborg refuses
  for (let i = 0; i < n; i++) writeValue(list[i], depth + 1)
}

function writeString (s: string): void {
  const n = s.length
  const start = at
  head(3, n)
  room(n)
  // ASCII first: one byte per character, and the head already written is right
  let p = at
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) {
      at = start
      return writeUtf8(s)
    }
    out[p++] = c
  }
  at = p
}

function writeUtf8 (s: string): void {
  // cborg writes U+FFFD for a lone surrogate too, so TextEncoder's bytes are its bytes
  const bytes = utf8.encode(s)
  head(3, bytes.length)
  room(bytes.length)
  out.set(bytes, at)
  at += bytes.length
}

// Encoded keys (head and UTF-8), reused: the protocol has few distinct keys.
const MAX_CACHED_KEYS = 4096
const keyCache = new Map<string, Uint8Array>()

function encodedKey (key: string): Uint8Array {
  let bytes = keyCache.get(key)
  if (bytes === undefined) {
    // keys with lone surrogates can collide once written; leave their order to cborg
    if (!(key as unknown as { isWellFormed (): boolean }).isWellFormed()) giveUp()
    const text = utf8.encode(key)
    const n = text.length
    // a JS string is shorter than 2^32 bytes, so the head takes at most 5
    const headBytes = n < 24 ? [0x60 | n] : n < 0x100 ? [0x78, n] : n < 0x10000 ? [0x79, n >>> 8, n & 0xff] : [0x7a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
    bytes = new Uint8Array(headBytes.length + n)
    bytes.set(headBytes)
    bytes.set(text, headBytes.length)
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear()
    keyCache.set(key, bytes)
  }
  return bytes
}

/** cborg's map order: the shorter encoded key first, then the bytewise smaller. */
function compareKeys (a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return 0
}

function writeMap (map: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(map)
  const n = keys.length
  head(5, n)
  if (n === 0) return
  // values are read in key order before sorting, as cborg reads them
  const encoded: Uint8Array[] = new Array<Uint8Array>(n)
  const values: unknown[] = new Array<unknown>(n)
  for (let i = 0; i < n; i++) {
    const key = keys[i]!
    encoded[i] = encodedKey(key)
    values[i] = map[key]
  }
  if (n > 1) sortEntries(encoded, values)
  for (let i = 0; i < n; i++) {
    writeBytes(encoded[i]!)
    writeValue(values[i], depth + 1)
  }
}

function sortEntries (encoded: Uint8Array[], values: unknown[]): void {
  const n = encoded.length
  if (n > 16) {
    const order = encoded.map((key, i) => i).sort((i, j) => compareKeys(encoded[i]!, encoded[j]!))
    const [keys, vals] = [order.map(i => encoded[i]!), order.map(i => values[i])]
    for (let i = 0; i < n; i++) {
      encoded[i] = keys[i]!
      values[i] = vals[i]
    }
    return
  }
  // insertion sort: maps are small, and most arrive in order already
  for (let i = 1; i < n; i++) {
    const key = encoded[i]!
    const value = values[i]
    let j = i - 1
    while (j >= 0 && compareKeys(encoded[j]!, key) > 0) {
      encoded[j + 1] = encoded[j]!
      values[j + 1] = values[j]
      j--
    }
    encoded[j + 1] = key
    values[j + 1] = value
  }
}
