// A strict, single-pass reader for canonical CBOR. It accepts exactly the bytes that cborg's
// deterministic encoder (as configured in canonical.ts) writes for our value types, so decode
// needs no second, re-encoding pass to prove the input canonical. Every rule below mirrors one
// way a cborg decode followed by a byte comparison with cborg's re-encoding could fail:
// - integers and lengths in their shortest form; integers as number when safe, else bigint
// - byte strings, text strings (well-formed UTF-8), arrays, maps with text keys, true/false/null
// - no floats, tags, undefined, other simple values or indefinite lengths
// - map keys strictly increasing by encoded length, then bytewise (cborg's mapSorter)
// - no bytes after the value
// - a text string must not start with U+FEFF: cborg's TextDecoder drops it, so it never re-encoded

import type { DecodeLimits, Value } from './canonical.js'
import { MalformedError } from '../errors.js'

// Module state for the one decode in progress. decode never runs caller code (plain objects and
// arrays only, "__proto__" is defined, not assigned), so nothing can re-enter it midway.
const EMPTY = new Uint8Array(0)
let buf: Uint8Array = EMPTY
let pos = 0
let maxDepth = 0
let maxItems = 0

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The one value in `bytes`; the caller has checked type, emptiness and size already. */
export function readCanonical (bytes: Uint8Array, limits: DecodeLimits): Value {
  // a Buffer (or other subclass) would hand out views on slice; read it through a plain view
  buf = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  pos = 0
  maxDepth = limits.maxDepth
  maxItems = limits.maxItems
  // the old tokenizer held every item, scalars too, to maxItems: a negative limit refuses all
  if (maxItems < 0) throw new MalformedError(`item limit ${maxItems} admits nothing`)
  try {
    const value = readItem(0)
    if (pos !== buf.length) fail('bytes after the value')
    return value
  } catch (err) {
    if (err instanceof MalformedError) throw err
    // a stack overflow under a generous maxDepth, say
    throw new MalformedError(`invalid CBOR: ${(err as Error).message}`)
  } finally {
    buf = EMPTY // do not keep the caller's bytes alive
  }
}

function fail (why: string): never {
  throw new MalformedError(`invalid CBOR at byte ${pos}: ${why}`)
}

/** Well-formed CBOR, but not the one encoding we accept. */
function notCanonical (why: string): never {
  throw new MalformedError(`encoding is not canonical at byte ${pos}: ${why}`)
}

/** Reads one item whose enclosing lists and maps number `depth`. */
function readItem (depth: number): Value {
  if (pos >= buf.length) fail('unexpected end of input')
  const initial = buf[pos++]!
  const info = initial & 0x1f
  switch (initial >> 5) {
    case 0: return info < 24 ? info : readArgument(info)
    case 1: return info < 24 ? -1 - info : readNegint(info)
    case 2: {
      const n = info < 24 ? info : readLength(info)
      if (n > buf.length - pos) fail('byte string runs past the end')
      const start = pos
      pos += n
      // an own copy, not a slab slice: a peer's bytes may be kept long, and must not pin a slab
      return buf.slice(start, start + n)
    }
    case 3: {
      const n = info < 24 ? info : readLength(info)
      if (n > buf.length - pos) fail('text string runs past the end')
      return readText(n)
    }
    case 4: return readList(info < 24 ? info : readLength(info), depth)
    case 5: return readMap(info < 24 ? info : readLength(info), depth)
    case 6: return fail('tags are not allowed')
    default:
      if (initial === 0xf4) return false
      if (initial === 0xf5) return true
      if (initial === 0xf6) return null
      if (initial >= 0xf9 && initial <= 0xfb) notCanonical('floats are not allowed')
      if (initial === 0xff) fail('break outside an indefinite-length item')
      return fail(`simple value 0x${initial.toString(16)} is not allowed`)
  }
}

/** The argument of a header whose additional info is 24..27, as a number below 2^53. */
function readLength (info: number): number {
  const n = readArgument(info)
  if (typeof n !== 'number') fail('length beyond 2^53')
  return n
}

function readNegint (info: number): number | bigint {
  const n = readArgument(info)
  if (typeof n === 'number') {
    // -1 - (2^53 - 1) is -2^53: exact as a double but outside the safe range
    const v = -1 - n
    if (v >= Number.MIN_SAFE_INTEGER) return v
    return -1n - BigInt(n)
  }
  return -1n - n
}

/** A 1, 2, 4 or 8 byte argument, refused unless a shorter form could not have held it. */
function readArgument (info: number): number | bigint {
  const b = buf
  const p = pos
  switch (info) {
    case 24: {
      if (p + 1 > b.length) fail('header runs past the end')
      const v = b[p]!
      if (v < 24) notCanonical('integer or length not in its shortest form')
      pos = p + 1
      return v
    }
    case 25: {
      if (p + 2 > b.length) fail('header runs past the end')
      const v = (b[p]! << 8) | b[p + 1]!
      if (v < 0x100) notCanonical('integer or length not in its shortest form')
      pos = p + 2
      return v
    }
    case 26: {
      if (p + 4 > b.length) fail('header runs past the end')
      const v = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!)
      if (v < 0x10000) notCanonical('integer or length not in its shortest form')
      pos = p + 4
      return v
    }
    case 27: {
      if (p + 8 > b.length) fail('header runs past the end')
      const hi = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!)
      const lo = b[p + 4]! * 0x1000000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!)
      if (hi === 0) notCanonical('integer or length not in its shortest form')
      pos = p + 8
      // below 2^53 the double is exact; cborg returns a number up to MAX_SAFE_INTEGER
      if (hi < 0x200000) return hi * 0x100000000 + lo
      return (BigInt(hi) << 32n) | BigInt(lo)
    }
    default:
      if (info === 31) notCanonical('indefinite length')
      return fail(`reserved additional info ${info}`)
  }
}

function enterContainer (count: number, depth: number, minBytes: number): void {
  // the same checks, in the same terms, as the old bounded tokenizer (an empty one counts too)
  if (count > maxItems) throw new MalformedError(`container of ${count} entries exceeds ${maxItems}`)
  if (depth + 1 > maxDepth) throw new MalformedError(`nesting deeper than ${maxDepth}`)
  // every entry takes at least a byte: refuse a length the input cannot hold before allocating
  if (count * minBytes > buf.length - pos) fail(`${count} entries cannot fit in what is left`)
}

function readList (count: number, depth: number): Value[] {
  enterContainer(count, depth, 1)
  const list: Value[] = []
  for (let i = 0; i < count; i++) list.push(readItem(depth + 1))
  return list
}

function readMap (count: number, depth: number): Value {
  enterContainer(count, depth, 2)
  const map: Record<string, Value> = {}
  let prevStart = 0
  let prevLength = -1
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) fail('unexpected end of input')
    const initial = buf[pos]!
    if (initial >> 5 !== 3) fail('map keys must be text strings')
    pos++
    const info = initial & 0x1f
    const n = info < 24 ? info : readLength(info)
    if (n > buf.length - pos) fail('text string runs past the end')
    if (!keyAfter(prevStart, prevLength, pos, n)) notCanonical('map keys out of order or repeated')
    prevStart = pos
    prevLength = n
    const key = readKey(n)
    const value = readItem(depth + 1)
    // assignment would call the prototype setter and drop the entry
    if (key === '__proto__') Object.defineProperty(map, key, { value, configurable: true, enumerable: true, writable: true })
    else map[key] = value
  }
  return map
}

/** Whether the key at [start, start + n) sorts strictly after the previous one. */
function keyAfter (prevStart: number, prevLength: number, start: number, n: number): boolean {
  if (n !== prevLength) return n > prevLength
  for (let i = 0; i < n; i++) {
    const d = buf[start + i]! - buf[prevStart + i]!
    if (d !== 0) return d > 0
  }
  return false
}

// The same few keys come in every message. A fresh string as a property name costs the store a
// lookup in V8's string table (~100 ns), so each short key's string is kept, internalized, in a
// small table indexed by a hash of its bytes and checked against them in full.
const KEY_SLOTS = 1024
const MAX_CACHED_KEY = 32
const keyBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(KEY_SLOTS).fill(undefined)
const keyStrings: string[] = new Array<string>(KEY_SLOTS).fill('')

function readKey (n: number): string {
  if (n > MAX_CACHED_KEY) return readText(n)
  const start = pos
  const end = start + n
  let h = n
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193)
  const slot = h & (KEY_SLOTS - 1)
  const cached = keyBytes[slot]
  if (cached !== undefined && cached.length === n) {
    let i = 0
    while (i < n && cached[i] === buf[start + i]) i++
    if (i === n) {
      pos = end
      return keyStrings[slot]!
    }
  }
  // only bytes that decoded without error are cached
  const key = readText(n)
  // a property name comes back from Object.keys internalized
  const interned = Object.keys({ [key]: 0 })[0]!
  keyBytes[slot] = buf.slice(start, end)
  keyStrings[slot] = interned
  return interned
}

/** Decodes the n bytes at pos (known to be in range) as a text string and moves past them. */
function readText (n: number): string {
  const start = pos
  const end = start + n
  pos = end
  if (n > 32) return readUtf8(start, end)
  let any = 0
  for (let i = start; i < end; i++) any |= buf[i]!
  if (any >= 0x80) return readUtf8(start, end)
  // short ASCII (every key and type name we use) is cheaper by hand than through TextDecoder,
  // and four characters a step make a quarter of the intermediate strings
  let s = ''
  let i = start
  for (; i + 4 <= end; i += 4) s += String.fromCharCode(buf[i]!, buf[i + 1]!, buf[i + 2]!, buf[i + 3]!)
  for (; i < end; i++) s += String.fromCharCode(buf[i]!)
  return s
}

function readUtf8 (start: number, end: number): string {
  if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
    pos = start
    notCanonical('text string starts with a byte order mark')
  }
  try {
    return utf8.decode(buf.subarray(start, end))
  } catch {
    pos = start
    return fail('text string is not valid UTF-8')
  }
}
