// Differential test of decode against the decoder it replaced (oldDecode below: cborg's strict
// decode under a bounded tokenizer, then a re-encode that must give back the input). Both must
// accept exactly the same bytes, return deep-equal values (bigint and number told apart), and
// throw MalformedError for everything else. Runs are seeded so a failure replays; set
// CODEC_DIFF_RUNS (runs per property) and CODEC_DIFF_SEED to explore more cases locally.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decode as cborDecode, encode as cborEncode, Tokenizer, Type } from 'cborg'
import type { Token } from 'cborg'
import { encode, decode, bytesEqual, compareBytes, DEFAULT_LIMITS, MAX_UINT64 } from '../../src/core/codec/canonical.js'
import type { Value, DecodeLimits } from '../../src/core/codec/canonical.js'
import { MalformedError, UnencodableError } from '../../src/core/errors.js'

// --- the old decoder, as it was in canonical.ts, with cborg's encode as it was --------------------

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

function oldEncode (value: Value): Uint8Array {
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

class BoundedTokenizer extends Tokenizer {
  private readonly remaining: number[] = []
  constructor (data: Uint8Array, private readonly limits: DecodeLimits) {
    super(data, cborOptions)
  }

  override next (): Token {
    const token = super.next()
    const top = this.remaining.length - 1
    if (top >= 0) this.remaining[top]!--
    const isList = Type.equals(token.type, Type.array)
    const isMap = Type.equals(token.type, Type.map)
    const count = isList || isMap ? token.value as number : 0
    if (count > this.limits.maxItems) throw new MalformedError(`container of ${count} entries exceeds ${this.limits.maxItems}`)
    if ((isList || isMap) && this.remaining.length + 1 > this.limits.maxDepth) throw new MalformedError(`nesting deeper than ${this.limits.maxDepth}`)
    if (count > 0) {
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

function oldDecode (bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Value {
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
  let again: Uint8Array
  try {
    again = oldEncode(value)
  } catch {
    throw new MalformedError('value has no canonical encoding')
  }
  if (!bytesEqual(again, bytes)) throw new MalformedError('encoding is not canonical')
  return value
}

// --- comparison --------------------------------------------------------------------------------

const hex = (b: Uint8Array | number[]): string => Buffer.from(b).toString('hex')
const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

type Outcome = { ok: true, value: Value } | { ok: false, err: unknown }

function run (f: () => Value): Outcome {
  try {
    return { ok: true, value: f() }
  } catch (err) {
    return { ok: false, err }
  }
}

const stats = { accepted: 0, rejected: 0 }

/** Both decoders on the same input: the same verdict, MalformedError on failure, equal values. */
function agree (input: Uint8Array, limits?: DecodeLimits): void {
  // a plain copy: encode sometimes returns a Buffer, of which the old decoder handed out views
  const bytes = new Uint8Array(input)
  const old = run(() => oldDecode(bytes, limits))
  const now = run(() => decode(bytes, limits))
  const where = `${hex(bytes)} under ${JSON.stringify(limits ?? 'defaults')}`
  if (!old.ok) assert.ok(old.err instanceof MalformedError, `old decoder threw ${String(old.err)} for ${where}`)
  if (!now.ok) assert.ok(now.err instanceof MalformedError, `decode threw ${String(now.err)} for ${where}`)
  assert.equal(now.ok, old.ok, `${old.ok ? 'old accepts' : 'old rejects'} but ${now.ok ? 'new accepts' : `new rejects (${String((now as { err: unknown }).err)})`}: ${where}`)
  if (old.ok && now.ok) {
    assert.deepStrictEqual(now.value, old.value, where)
    stats.accepted++
  } else {
    stats.rejected++
  }
}

const RUNS = Number(process.env.CODEC_DIFF_RUNS ?? 0) || undefined
const runs = (n: number): number => RUNS ?? n
const SEED = Number(process.env.CODEC_DIFF_SEED ?? 0xc0dec)

const limitsArb: fc.Arbitrary<DecodeLimits | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.record({ maxBytes: fc.integer({ min: 0, max: 400 }), maxDepth: fc.integer({ min: 0, max: 6 }), maxItems: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ maxBytes: fc.constantFrom(NaN, Infinity, 1e9), maxDepth: fc.constantFrom(NaN, Infinity, -1, 0, 1), maxItems: fc.constantFrom(NaN, Infinity, -1, 0, 1) }) }
)

// --- values: decode(encode(v)) ------------------------------------------------------------------

const MIN_INT = -(MAX_UINT64 + 1n)
const TWO53 = 2n ** 53n
const edges = [0n, 23n, 24n, 255n, 256n, 65535n, 65536n, 2n ** 32n - 1n, 2n ** 32n, TWO53 - 2n, TWO53 - 1n, TWO53, TWO53 + 1n, MAX_UINT64 - 1n, MAX_UINT64]
const edgeInts = [...edges, ...edges.map(n => -n), ...edges.map(n => -1n - n)]

const intArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom(...edgeInts),
  fc.constantFrom(...edgeInts).map(n => (n >= -(TWO53 - 1n) && n <= TWO53 - 1n ? Number(n) : n)),
  fc.bigInt({ min: MIN_INT, max: MAX_UINT64 }),
  fc.bigInt({ min: -TWO53 - 5n, max: TWO53 + 5n }),
  fc.maxSafeInteger(),
  fc.integer({ min: -300, max: 300 })
)

// keys that look like array indices, prototype names, a byte order mark, multi-byte UTF-8
const oddKey = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '1', '10', '4294967295', '-1', '', 'a\uFEFF', 'é', '€', '😀', 'a'.repeat(33))
const textArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 30, maxLength: 60 }) },
  { weight: 2, arbitrary: oddKey },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).map(s => '\uFEFF' + s) }
).chain(s => s.startsWith('\uFEFF') ? fc.oneof({ weight: 3, arbitrary: fc.constant(s.slice(1)) }, { weight: 1, arbitrary: fc.constant(s) }) : fc.constant(s))

const scalarArb: fc.Arbitrary<Value> = fc.oneof(intArb, textArb, fc.uint8Array({ maxLength: 40 }), fc.boolean(), fc.constant(null))

const { value: valueArb } = fc.letrec<{ value: Value }>(tie => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 6 },
    scalarArb,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.oneof(textArb, oddKey), tie('value'), { maxKeys: 6, noNullPrototype: true }))
}))

// --- wild CBOR: canonical-ish trees with every way to go wrong ------------------------------------

type Width = -1 | 0 | 1 | 2 | 4 | 8
type Wild =
  | { t: 'int', major: 0 | 1, arg: bigint, w: Width }
  | { t: 'str', major: 2 | 3, data: Uint8Array, w: Width, chunked: boolean }
  | { t: 'list', items: Wild[], w: Width, indef: boolean, delta: number }
  | { t: 'map', entries: Array<[Wild, Wild]>, w: Width, indef: boolean, order: 'sorted' | 'asis' | 'reversed', dedupe: boolean }
  | { t: 'tag', arg: bigint, item: Wild }
  | { t: 'raw', bytes: number[] }

function head (major: number, arg: bigint, width: Width): number[] {
  const fits = (w: Width): boolean => w === 0 ? arg < 24n : w === 1 ? arg < 256n : w === 2 ? arg < 65536n : w === 4 ? arg < 2n ** 32n : true
  let w: Width = width === -1 ? 0 : width
  // a forced width too narrow for the argument widens to one that holds it
  while (!fits(w)) w = w === 0 ? 1 : w === 1 ? 2 : w === 2 ? 4 : 8
  if (w === 0) return [(major << 5) | Number(arg)]
  const out = [(major << 5) | (w === 1 ? 24 : w === 2 ? 25 : w === 4 ? 26 : 27)]
  for (let i = w - 1; i >= 0; i--) out.push(Number((arg >> BigInt(8 * i)) & 0xffn))
  return out
}

function wildBytes (n: Wild): number[] {
  switch (n.t) {
    case 'int': return head(n.major, n.arg, n.w)
    case 'str': {
      if (n.chunked) {
        const half = n.data.length >> 1
        return [(n.major << 5) | 31, ...head(n.major, BigInt(half), -1), ...n.data.subarray(0, half), ...head(n.major, BigInt(n.data.length - half), -1), ...n.data.subarray(half), 0xff]
      }
      return [...head(n.major, BigInt(n.data.length), n.w), ...n.data]
    }
    case 'list': {
      const body = n.items.flatMap(wildBytes)
      if (n.indef) return [0x9f, ...body, 0xff]
      return [...head(4, BigInt(Math.max(0, n.items.length + n.delta)), n.w), ...body]
    }
    case 'map': {
      let entries = n.entries.map(([k, v]) => [wildBytes(k), wildBytes(v)] as const)
      if (n.dedupe) entries = entries.filter(([k], i) => entries.findIndex(([k2]) => hex(k2) === hex(k)) === i)
      // canonical order compares the key's encoding: length first, then bytewise
      if (n.order !== 'asis') entries.sort(([a], [b]) => (a.length - b.length) || compareBytes(new Uint8Array(a), new Uint8Array(b)))
      if (n.order === 'reversed') entries.reverse()
      const body = entries.flatMap(([k, v]) => [...k, ...v])
      if (n.indef) return [0xbf, ...body, 0xff]
      return [...head(5, BigInt(entries.length), n.w), ...body]
    }
    case 'tag': return [...head(6, n.arg, -1), ...wildBytes(n.item)]
    case 'raw': return n.bytes
  }
}

const widthArb: fc.Arbitrary<Width> = fc.oneof({ weight: 40, arbitrary: fc.constant(-1 as const) }, { weight: 1, arbitrary: fc.constantFrom<Width>(0, 1, 2, 4, 8) })
/** True one time in forty. */
const rareArb = (): fc.Arbitrary<boolean> => fc.oneof({ weight: 39, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
const argArb = fc.oneof(fc.bigInt({ min: 0n, max: 30n }), fc.constantFrom(...edges, ...edges.map(n => n > 0n ? n - 1n : n)), fc.bigInt({ min: 0n, max: MAX_UINT64 }))

const badText = fc.constantFrom(
  'c328', '80', 'ff', 'c080', 'e080af', 'eda080', 'edbfbf', 'f4908080', 'e282', 'f0908d', 'efbbbf', 'efbbbf61', 'efbfbd', 'f8888080', 'c2', 'dfbf', 'eda0bdedb880'
).map(h)
const textBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }).map(utf8) },
  { weight: 6, arbitrary: fc.string({ maxLength: 40 }).map(utf8) },
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'aa', 'ab', 'ba', 'type', 'ops', 'seq').map(utf8) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 6 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 40 }), badText, fc.string({ maxLength: 3 })).map(([a, b, c]) => new Uint8Array([...utf8(a), ...b, ...utf8(c)])) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(s => utf8('\uFEFF' + s)) }
)
// few distinct keys, so that maps repeat and misorder them
const keyBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'aa', 'ab', 'ba', 'é', 'type', 'ops', 'seq', '__proto__').map(utf8) },
  { weight: 4, arbitrary: textBytesArb }
)

const simpleArb: fc.Arbitrary<Wild> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom([0xf4], [0xf5], [0xf6]) },
  { weight: 1, arbitrary: fc.constantFrom([0xf7], [0xff], [0xfc], [0xe0], [0xf3], [0x1c], [0x3f], [0x5c], [0x7e], [0xdc], [0xf8, 0x20], [0xf8, 0x10]) },
  // floats: integral ones (equal to an encodable number), -0, NaN, Infinity, anything
  { weight: 2, arbitrary: fc.constantFrom([0xf9, 0x3c, 0x00], [0xf9, 0x80, 0x00], [0xf9, 0x00, 0x00], [0xf9, 0x7e, 0x00], [0xf9, 0x7c, 0x00], [0xfa, 0x3f, 0x80, 0, 0], [0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], [0xfb, 0x43, 0x40, 0, 0, 0, 0, 0, 0]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0xf9, 0xfa, 0xfb), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([b, p]) => [b, ...p.subarray(0, b === 0xf9 ? 2 : b === 0xfa ? 4 : 8)]) }
).map((bytes): Wild => ({ t: 'raw', bytes: [...bytes] }))

const wildScalar: fc.Arbitrary<Wild> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('int' as const), major: fc.constantFrom<0 | 1>(0, 1), arg: argArb, w: widthArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('str' as const), major: fc.constant<3>(3), data: textBytesArb, w: widthArb, chunked: rareArb() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('str' as const), major: fc.constant<2>(2), data: fc.uint8Array({ maxLength: 40 }), w: widthArb, chunked: rareArb() }) },
  { weight: 1, arbitrary: simpleArb }
)

const keyArb: fc.Arbitrary<Wild> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ t: fc.constant('str' as const), major: fc.constant<3>(3), data: keyBytesArb, w: widthArb, chunked: rareArb() }) },
  { weight: 1, arbitrary: wildScalar }
)

const { node: wildArb } = fc.letrec<{ node: Wild }>(tie => ({
  node: fc.oneof({ depthSize: 'small', maxDepth: 5 },
    { weight: 20, arbitrary: wildScalar },
    { weight: 10, arbitrary: fc.record({ t: fc.constant('list' as const), items: fc.array(tie('node'), { maxLength: 5 }), w: widthArb, indef: rareArb(), delta: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }) }) },
    { weight: 10, arbitrary: fc.record({ t: fc.constant('map' as const), entries: fc.array(fc.tuple(keyArb, tie('node')), { maxLength: 5 }), w: widthArb, indef: rareArb(), order: fc.oneof({ weight: 3, arbitrary: fc.constant('sorted' as const) }, { weight: 1, arbitrary: fc.constantFrom('asis' as const, 'reversed' as const) }), dedupe: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('tag' as const), arg: argArb, item: tie('node') }) })
}))

type Mutation =
  | { kind: 'flip', at: number, bit: number }
  | { kind: 'truncate', at: number }
  | { kind: 'insert', at: number, byte: number }
  | { kind: 'delete', at: number }
  | { kind: 'set', at: number, byte: number }
  | { kind: 'append', bytes: Uint8Array }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 3 }) })
)

function mutate (input: number[], m: Mutation): number[] {
  const b = [...input]
  const at = m.kind === 'append' ? 0 : m.at % (b.length + 1)
  switch (m.kind) {
    case 'flip': if (at < b.length) b[at] = b[at]! ^ (1 << m.bit); break
    case 'truncate': b.length = at; break
    case 'insert': b.splice(at, 0, m.byte); break
    case 'delete': b.splice(at, 1); break
    case 'set': if (at < b.length) b[at] = m.byte; break
    case 'append': b.push(...m.bytes); break
  }
  return b
}

const mutationsArb = fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) })

// bytes that start headers of every kind, so random arrays reach deeper than the first byte
const interesting = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0x38, 0x3b, 0x40, 0x41, 0x58, 0x5f, 0x60, 0x61, 0x62, 0x78, 0x7f,
  0x80, 0x81, 0x82, 0x98, 0x9f, 0xa0, 0xa1, 0xa2, 0xb8, 0xbf, 0xc0, 0xc2, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfb, 0xff]

// --- properties --------------------------------------------------------------------------------

describe('decode agrees with the re-encoding decoder it replaced', () => {
  test('on encodings of values', () => {
    fc.assert(fc.property(valueArb, limitsArb, (v, limits) => {
      let bytes: Uint8Array
      try {
        bytes = encode(v)
      } catch {
        return // a value encode refuses never reaches decode
      }
      agree(bytes, limits)
    }), { seed: SEED, numRuns: runs(3000) })
  })

  test('on wild CBOR: non-minimal heads, key order, duplicates, indefinite lengths, floats, tags, bad UTF-8', () => {
    const before = stats.accepted
    fc.assert(fc.property(wildArb, mutationsArb, limitsArb, (w, ms, limits) => {
      let b = wildBytes(w)
      for (const m of ms) b = mutate(b, m)
      agree(new Uint8Array(b), limits)
    }), { seed: SEED + 1, numRuns: runs(6000) })
    // the generator must reach valid inputs often, or the accepting half goes untested
    assert.ok(stats.accepted - before > runs(6000) / 10, `only ${stats.accepted - before} wild inputs were accepted`)
  })

  test('on mutated encodings of values', () => {
    fc.assert(fc.property(valueArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (v, ms) => {
      let b: number[]
      try {
        b = Array.from(encode(v))
      } catch {
        return
      }
      for (const m of ms) b = mutate(b, m)
      agree(new Uint8Array(b))
    }), { seed: SEED + 2, numRuns: runs(2000) })
  })

  test('on random bytes', () => {
    const headerHeavy = fc.array(fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: 255 })), { maxLength: 64 }).map(a => new Uint8Array(a))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 300 }), headerHeavy), limitsArb, (b, limits) => {
      agree(b, limits)
    }), { seed: SEED + 3, numRuns: runs(4000) })
  })

  test('on hand-picked edge cases', () => {
    const tight: DecodeLimits = { maxBytes: 64, maxDepth: 2, maxItems: 2 }
    const cases = [
      // integers at every width boundary, and their non-minimal forms
      '17', '1818', '1817', '18ff', '190100', '1900ff', '19ffff', '1a00010000', '1a0000ffff', '1affffffff', '1b0000000100000000', '1b00000000ffffffff',
      '1b001fffffffffffff', '1b0020000000000000', '1bffffffffffffffff', '3b001ffffffffffffe', '3b001fffffffffffff', '3b0020000000000000', '3bffffffffffffffff',
      // lengths too large for the input, or for 2^53
      '5b0000000100000000', '7b0000000100000000', '9b0000000100000000', 'bb0000000100000000', '5bffffffffffffffff', '9bffffffffffffffff', '9affffffff', 'baffffffff',
      // byte order marks and UTF-8 edges
      '63efbbbf', '64efbbbf61', '6461efbbbf', '63efbfbe', '63efbfbf', '64f48fbfbf', '64f4908080', '63eda080', '62c280', '62c1bf',
      'a163efbbbf00', 'a2616100616100', 'a2616100616200', 'a2616200616100', 'a260006100',
      // "__proto__" and other own keys
      'a1695f5f70726f746f5f5f01', 'a1695f5f70726f746f5f5fa0', 'a16b636f6e7374727563746f7201', 'a2613000613101',
      // depth and item limits, empty containers included
      '80', 'a0', '8180', '818180', '81818180', '820102', '83010203', 'a2616101616202', 'a3616101616202616303',
      // everything else
      'f4', 'f5', 'f6', 'f7', 'f93c00', 'c100', 'ff', '9fff', '00', '0000', ''
    ]
    for (const c of cases) for (const limits of [undefined, tight]) agree(h(c), limits)
  })
})

describe('inputs where old and new had to be reconciled', () => {
  test('a text string that starts with U+FEFF is refused, as the old decoder refused it', () => {
    // cborg decoded it through a BOM-dropping TextDecoder, so it never re-encoded to itself
    for (const v of ['\uFEFF', '\uFEFFabc', { '\uFEFF': 1 }, ['\uFEFF'.padEnd(40, 'x')]] as Value[]) {
      const bytes = encode(v)
      assert.throws(() => oldDecode(bytes), MalformedError)
      assert.throws(() => decode(bytes), /byte order mark/)
    }
    // elsewhere in a string it is an ordinary character
    assert.equal(decode(encode('a\uFEFF')), 'a\uFEFF')
  })

  test('a Buffer decodes to plain Uint8Array copies, not views of the Buffer', () => {
    // the old decoder handed out Buffer views of the input (Buffer#slice), sharing its memory
    const bytes = encode({ a: new Uint8Array([1, 2, 3]), b: [new Uint8Array(40).fill(9)] })
    const input = Buffer.from(bytes)
    const v = decode(input as unknown as Uint8Array) as { a: Uint8Array, b: Uint8Array[] }
    assert.deepStrictEqual(v, decode(new Uint8Array(bytes)))
    assert.equal(Object.getPrototypeOf(v.a), Uint8Array.prototype)
    input.fill(0)
    assert.deepStrictEqual(v.a, new Uint8Array([1, 2, 3]))
    assert.deepStrictEqual(v.b[0], new Uint8Array(40).fill(9))
  })

  test('byte strings are copies with their own buffer, as before', () => {
    const bytes = encode([new Uint8Array([1, 2, 3]), new Uint8Array(0)])
    const [a, empty] = decode(bytes) as Uint8Array[]
    assert.equal(a!.buffer.byteLength, 3)
    assert.equal(a!.byteOffset, 0)
    assert.equal(empty!.length, 0)
    bytes.fill(0)
    assert.deepStrictEqual(a, new Uint8Array([1, 2, 3]))
  })

  test('nesting deep enough to exhaust the stack fails with MalformedError', () => {
    const limits = { ...DEFAULT_LIMITS, maxDepth: Infinity }
    const deep = new Uint8Array(1_000_000).fill(0x81)
    assert.throws(() => decode(deep, limits), MalformedError)
    assert.throws(() => oldDecode(deep, limits), MalformedError)
  })
})

test('how many cases agreed', () => {
  // a local run with CODEC_DIFF_RUNS reports its total here
  console.log(`# codec-diff: ${stats.accepted + stats.rejected} inputs compared, ${stats.accepted} accepted by both, ${stats.rejected} rejected by both`)
})
