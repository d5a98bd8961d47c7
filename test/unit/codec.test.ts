// Canonical codec: every value has exactly one encoding, and decode accepts exactly those
// encodings (within limits) and nothing else. Hashes and signatures depend on both halves.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode, decode, bytesEqual, compareBytes, DEFAULT_LIMITS, MAX_UINT64 } from '../../src/core/codec/canonical.js'
import type { Value, DecodeLimits } from '../../src/core/codec/canonical.js'
import * as read from '../../src/core/codec/read.js'
import { MalformedError, UnencodableError } from '../../src/core/errors.js'

const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function isMalformed (err: unknown): boolean {
  return err instanceof MalformedError &&
    (err as Error).name === 'MalformedError' && (err as MalformedError).code === 'ERR_MALFORMED'
}

function assertMalformed (fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isMalformed(err), `expected MalformedError, got ${String(err)}`)
    if (message !== undefined) assert.match((err as Error).message, message)
    return true
  })
}

function assertUnencodable (value: unknown): void {
  assert.throws(() => encode(value as Value), (err: unknown) => {
    assert.ok(err instanceof UnencodableError, `expected UnencodableError, got ${String(err)}`)
    assert.equal((err as UnencodableError).name, 'UnencodableError')
    assert.equal((err as UnencodableError).code, 'ERR_UNENCODABLE')
    return true
  })
}

// --- generators --------------------------------------------------------------------------------

const MIN_INT = -(MAX_UINT64 + 1n) // CBOR major type 1 reaches -2^64

const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.bigInt({ min: MIN_INT, max: MAX_UINT64 }),
  fc.maxSafeInteger(),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null)
)

const { value: valueArb } = fc.letrec<{ value: Value }>(tie => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 5 },
    scalar,
    fc.array(tie('value'), { maxLength: 5 }),
    // plain prototypes: decode builds plain objects, and deepStrictEqual compares prototypes
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 10 }), tie('value'), { maxKeys: 5, noNullPrototype: true }))
}))

/** The value decode is expected to return: integers as number when safe, bigint otherwise. */
function normalize (v: Value): Value {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  if (typeof v === 'number') return v === 0 ? 0 : v // -0 has no encoding of its own
  if (v instanceof Uint8Array) return new Uint8Array(v)
  if (Array.isArray(v)) return v.map(normalize)
  if (v !== null && typeof v === 'object') {
    // fromEntries keeps a "__proto__" key as an own property, as decode does
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
  }
  return v
}

/** The same value with every map's entries inserted in reverse order. */
function reversedMaps (v: Value): Value {
  if (Array.isArray(v)) return v.map(reversedMaps)
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedMaps(x)]))
  }
  return v
}

/** Nests `inner` in `depth` one-element lists. */
function nestLists (depth: number, inner: string): Uint8Array {
  return h('81'.repeat(depth) + inner)
}

// --- round trip --------------------------------------------------------------------------------

describe('canonical codec round trip', () => {
  test('decode(encode(v)) equals v and re-encodes to the same bytes', () => {
    fc.assert(fc.property(valueArb, v => {
      const bytes = encode(v)
      const back = decode(bytes)
      assert.deepStrictEqual(normalize(back), normalize(v))
      assert.ok(bytesEqual(encode(back), bytes))
    }), { numRuns: 1500 })
  })

  test('decoded integers are numbers in the safe range and bigints outside it', () => {
    fc.assert(fc.property(fc.bigInt({ min: MIN_INT, max: MAX_UINT64 }), n => {
      const back = decode(encode(n))
      const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
      assert.equal(typeof back, safe ? 'number' : 'bigint')
      assert.equal(BigInt(back as number | bigint), n)
      // a bigint and the equal number share one encoding
      if (safe) assert.ok(bytesEqual(encode(Number(n)), encode(n)))
    }), { numRuns: 500 })
  })

  test('map key insertion order does not change the bytes', () => {
    fc.assert(fc.property(valueArb, v => {
      assert.equal(hex(encode(reversedMaps(v))), hex(encode(v)))
    }), { numRuns: 500 })
    assert.equal(hex(encode({ b: 1, a: 2 })), hex(encode({ a: 2, b: 1 })))
  })

  test('map keys are sorted shorter first, then bytewise', () => {
    // a3 "a" 3 "b" 1 "aa" 2
    assert.equal(hex(encode({ aa: 2, b: 1, a: 3 })), 'a3616103616201626161' + '02')
  })

  test('boundary integers encode in the fewest bytes', () => {
    const cases: Array<[Value, string]> = [
      [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'], [65535, '19ffff'],
      [65536, '1a00010000'], [4294967296, '1b0000000100000000'], [-1, '20'], [-24, '37'], [-25, '3818'],
      [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'], [MAX_UINT64, '1bffffffffffffffff'], [MIN_INT, '3bffffffffffffffff'],
      ['', '60'], [new Uint8Array(0), '40'], [[], '80'], [{}, 'a0'], [true, 'f5'], [false, 'f4'], [null, 'f6']
    ]
    for (const [v, expected] of cases) {
      assert.equal(hex(encode(v)), expected, String(v))
      assert.equal(hex(encode(decode(h(expected)))), expected)
    }
  })

  test('"__proto__" is an ordinary key, not a prototype', () => {
    const v = JSON.parse('{"__proto__": {"x": 1}}') as Value
    const back = decode(encode(v)) as Record<string, Value>
    assert.equal(Object.getPrototypeOf(back), Object.prototype)
    assert.deepStrictEqual(Object.keys(back), ['__proto__'])
  })
})

// --- limits ------------------------------------------------------------------------------------

describe('decode limits', () => {
  const small = (over: Partial<DecodeLimits>): DecodeLimits => ({ ...DEFAULT_LIMITS, ...over })

  test('input of exactly maxBytes is accepted and one byte more is rejected', () => {
    const bytes = encode(new Uint8Array(98)) // 58 62 + 98 bytes = 100
    assert.equal(bytes.length, 100)
    assert.equal((decode(bytes, small({ maxBytes: 100 })) as Uint8Array).length, 98)
    assertMalformed(() => decode(bytes, small({ maxBytes: 99 })), /exceeds 99/)
  })

  test('exactly maxDepth nested lists are accepted and maxDepth+1 rejected', () => {
    for (const maxDepth of [1, 2, 3, 5]) {
      const limits = small({ maxDepth })
      assert.deepStrictEqual(decode(nestLists(maxDepth, '00'), limits), JSON.parse('['.repeat(maxDepth) + '0' + ']'.repeat(maxDepth)))
      assertMalformed(() => decode(nestLists(maxDepth + 1, '00'), limits), /nesting/)
    }
  })

  test('exactly maxDepth nested maps are accepted and maxDepth+1 rejected', () => {
    const nestMaps = (depth: number): Uint8Array => h('a16161'.repeat(depth) + '00') // {"a": {"a": ... 0}}
    decode(nestMaps(3), small({ maxDepth: 3 }))
    assertMalformed(() => decode(nestMaps(4), small({ maxDepth: 3 })), /nesting/)
  })

  test('depth counts lists and maps alike, and closed siblings do not add depth', () => {
    const limits = small({ maxDepth: 2 })
    // [[1], {"a": [2]}] is depth 3
    assertMalformed(() => decode(encode([[1], { a: [2] }]), limits), /nesting/)
    // [[1], [2], {"a": 3}] stays at depth 2 however many siblings follow
    decode(encode([[1], [2], { a: 3 }]), limits)
    decode(encode(Array.from({ length: 50 }, (_, i) => [i])), limits)
  })

  test('an empty container one level below maxDepth is rejected', () => {
    // [[[[]]]] nests 4 lists, the innermost empty: one level too many for maxDepth 3
    assertMalformed(() => decode(nestLists(3, '80'), small({ maxDepth: 3 })))
  })

  test('the default depth limit holds, and very deep input fails cleanly instead of overflowing the stack', () => {
    decode(nestLists(DEFAULT_LIMITS.maxDepth, '00'))
    assertMalformed(() => decode(nestLists(DEFAULT_LIMITS.maxDepth + 1, '00')), /nesting/)
    const deep = new Uint8Array(200_000).fill(0x81)
    assertMalformed(() => decode(deep), /nesting/)
    assertMalformed(() => decode(new Uint8Array(200_000).fill(0xa1)))
  })

  test('a container header claiming more than maxItems entries is rejected before its entries are read', () => {
    // the headers alone, with no entries behind them: rejection must come from the count
    assertMalformed(() => decode(h('9affffffff')), /entries exceeds/)
    assertMalformed(() => decode(h('baffffffff')), /entries exceeds/)
    assertMalformed(() => decode(h('9a000186a1')), /entries exceeds/) // 100001
    assertMalformed(() => decode(h('9bffffffffffffffff')))
    assertMalformed(() => decode(h('bbffffffffffffffff')))
    const limits = small({ maxItems: 3 })
    assert.deepStrictEqual(decode(h('83010203'), limits), [1, 2, 3])
    assertMalformed(() => decode(h('8401020304'), limits), /4 entries exceeds 3/)
    assertMalformed(() => decode(h('84'), limits), /entries exceeds/)
    assert.deepStrictEqual(decode(encode({ a: 1, b: 2, c: 3 }), limits), { a: 1, b: 2, c: 3 })
    assertMalformed(() => decode(encode({ a: 1, b: 2, c: 3, d: 4 }), limits), /entries exceeds/)
    // the limit is per container, nested ones included
    assertMalformed(() => decode(encode([[1, 2, 3, 4]]), limits), /entries exceeds/)
  })

  test('a huge claimed length is rejected quickly', () => {
    const t0 = performance.now()
    for (let i = 0; i < 1000; i++) assertMalformed(() => decode(h('9affffffff')))
    assert.ok(performance.now() - t0 < 1000)
  })

  test('empty input and non-bytes are rejected', () => {
    assertMalformed(() => decode(new Uint8Array(0)), /empty/)
    assertMalformed(() => decode('a0' as unknown as Uint8Array))
    assertMalformed(() => decode([0] as unknown as Uint8Array))
  })
})

// --- non-canonical input -----------------------------------------------------------------------

describe('decode rejects every non-canonical encoding', () => {
  const reject = (cases: Record<string, string>): void => {
    for (const [why, bytes] of Object.entries(cases)) {
      assert.throws(() => decode(h(bytes)), (err: unknown) => {
        assert.ok(isMalformed(err), `${why} (${bytes}): expected MalformedError, got ${String(err)}`)
        return true
      }, `${why} (${bytes}) was accepted`)
    }
  }

  test('non-minimal integers and lengths', () => {
    reject({
      '0 in one extra byte': '1800', '23 in one extra byte': '1817', '24 in two bytes': '190018', '1 in four bytes': '1a00000001',
      '1 in eight bytes': '1b0000000000000001', '2^32-1 in eight bytes': '1b00000000ffffffff',
      '-1 in one extra byte': '3800', '-1 in eight bytes': '3b0000000000000000',
      'string length in extra byte': '780161', 'bytes length in extra byte': '580100',
      'list length in extra byte': '980100', 'map length in extra byte': 'b801616100', 'list length in 8 bytes': '9b000000000000000100'
    })
  })

  test('unsorted and duplicate map keys', () => {
    reject({
      'b before a': 'a2616202616101',
      'aa before b': 'a2626161026162' + '01',
      'duplicate a': 'a2616101616102',
      'duplicate a, equal values': 'a2616101616101'
    })
  })

  test('non-string map keys', () => {
    reject({ 'integer key': 'a10101', 'bytes key': 'a1416101', 'list key': 'a18000', 'null key': 'a1f601' })
  })

  test('floats, including floats equal to integers', () => {
    reject({
      'half 1.0': 'f93c00', 'single 1.0': 'fa3f800000', 'double 1.0': 'fb3ff0000000000000', 'double 0.0': 'fb0000000000000000',
      'half -0.0': 'f98000', 'double 1.5': 'fb3ff8000000000000', NaN: 'f97e00', Infinity: 'f97c00', '-Infinity': 'f9fc00',
      'double 2^53': 'fb4340000000000000', 'float in a list': '81f93c00', 'float as map value': 'a16161f93c00'
    })
  })

  test('indefinite-length items', () => {
    reject({ list: '9f01ff', 'empty list': '9fff', map: 'bf616101ff', bytes: '5f4101ff', string: '7f6161ff', 'bare break': 'ff' })
  })

  test('tags', () => {
    reject({
      'epoch time': 'c100', 'positive bignum': 'c249010000000000000000', 'negative bignum': 'c349010000000000000000',
      'date string': 'c074323031332d30332d32315432303a30343a30305a', 'cid tag 42': 'd82a4100', 'self-describe': 'd9d9f7f6', 'tag in list': '81c100'
    })
  })

  test('undefined and other simple values', () => {
    reject({ undefined: 'f7', 'undefined in map': 'a16161f7', 'simple 16': 'f0', 'simple 32': 'f820', 'simple 255': 'f8ff', reserved: 'fc' })
  })

  test('trailing bytes after the value', () => {
    reject({ 'two ints': '0101', 'map then zero': 'a000', 'list then break': '80ff', 'bytes then junk': '4101ff' })
    assertMalformed(() => decode(new Uint8Array([...encode({ a: [1, 2] }), 0])))
  })

  test('invalid UTF-8 in a text string', () => {
    reject({
      'bad continuation': '62c328', 'lone continuation': '6180', 'ff byte': '61ff', 'overlong NUL': '62c080',
      'overlong slash': '63e080af', 'UTF-16 surrogate': '63eda080', 'above U+10FFFF': '64f4908080', 'truncated sequence': '62e282',
      'bad key': 'a161ff00'
    })
  })

  test('truncated input', () => {
    const full = encode({ account: new Uint8Array(32).fill(7), seq: 300, deps: [[new Uint8Array(4), 1]], amount: MAX_UINT64, memo: 'héllo' })
    for (let n = 1; n < full.length; n++) assertMalformed(() => decode(full.subarray(0, n)))
    reject({ 'uint8 missing': '18', 'uint64 short': '1b0000', 'string short': '6261', 'list short': '8201', 'map value missing': 'a16161', 'bytes short': '5820' })
  })
})

// --- encode refuses ----------------------------------------------------------------------------

describe('encode refuses what has no canonical encoding', () => {
  test('non-integers and unsafe numbers', () => {
    for (const n of [1.5, -0.5, Number.EPSILON, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300]) assertUnencodable(n)
    assertUnencodable([1, 2.5])
    assertUnencodable({ a: { b: 0.1 } })
  })

  test('undefined, Map and other non-values', () => {
    assertUnencodable(undefined)
    assertUnencodable([undefined])
    assertUnencodable(new Map([['a', 1]]))
    assertUnencodable({ a: new Map() })
    assertUnencodable(new Set([1]))
    assertUnencodable(new Date(0))
    assertUnencodable(Symbol('x'))
    assertUnencodable(() => 1)
  })

  test('bigints outside the 64-bit range', () => {
    assertUnencodable(MAX_UINT64 + 1n)
    assertUnencodable(MIN_INT - 1n)
    assertUnencodable(1n << 100n)
    assertUnencodable([-(1n << 100n)])
    // the extremes themselves are fine
    encode(MAX_UINT64)
    encode(MIN_INT)
  })

  test('any float or out-of-range bigint is refused', () => {
    fc.assert(fc.property(fc.double().filter(d => !Number.isSafeInteger(d)), d => assertUnencodable(d)), { numRuns: 300 })
    fc.assert(fc.property(fc.oneof(fc.bigInt({ min: MAX_UINT64 + 1n, max: 1n << 200n }), fc.bigInt({ min: -(1n << 200n), max: MIN_INT - 1n })),
      n => assertUnencodable(n)), { numRuns: 300 })
  })
})

// --- fuzz --------------------------------------------------------------------------------------

/** decode must either fail with MalformedError or return a value whose encoding is the input. */
function decodeIsSound (bytes: Uint8Array, limits?: DecodeLimits): boolean {
  let v: Value
  try {
    v = decode(bytes, limits)
  } catch (err) {
    assert.ok(isMalformed(err), `decode(${hex(bytes)}) threw ${String(err)}`)
    return false
  }
  assert.equal(hex(encode(v)), hex(bytes))
  return true
}

type Mutation =
  | { kind: 'flip', at: number, bit: number }
  | { kind: 'truncate', at: number }
  | { kind: 'insert', at: number, byte: number }
  | { kind: 'delete', at: number }
  | { kind: 'set', at: number, byte: number }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) })
)

function mutate (input: Uint8Array, m: Mutation): Uint8Array {
  const b = Array.from(input)
  const at = m.at % (b.length + 1)
  switch (m.kind) {
    case 'flip': if (at < b.length) b[at] = b[at]! ^ (1 << m.bit); break
    case 'truncate': b.length = at; break
    case 'insert': b.splice(at, 0, m.byte); break
    case 'delete': b.splice(at, 1); break
    case 'set': if (at < b.length) b[at] = m.byte; break
  }
  return new Uint8Array(b)
}

// bytes that start headers of every kind, so random arrays reach deeper than the first byte
const interesting = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0x38, 0x40, 0x41, 0x58, 0x5f, 0x60, 0x61, 0x62, 0x78, 0x7f,
  0x80, 0x81, 0x82, 0x98, 0x9f, 0xa0, 0xa1, 0xa2, 0xb8, 0xbf, 0xc0, 0xc2, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfb, 0xff]

describe('decode fuzzing', () => {
  test('random bytes either decode to a value that re-encodes to them exactly or fail with MalformedError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), b => { decodeIsSound(b) }), { numRuns: 3000 })
    // short arrays hit valid encodings far more often
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), b => { decodeIsSound(b) }), { numRuns: 3000 })
  })

  test('random header-heavy bytes are decoded soundly, under tight limits too', () => {
    const arb = fc.array(fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: 255 })), { maxLength: 64 }).map(a => new Uint8Array(a))
    const tight: DecodeLimits = { maxBytes: 48, maxDepth: 3, maxItems: 4 }
    fc.assert(fc.property(arb, fc.boolean(), (b, useTight) => { decodeIsSound(b, useTight ? tight : undefined) }), { numRuns: 5000 })
  })

  test('mutated valid encodings are decoded soundly', () => {
    let decoded = 0
    fc.assert(fc.property(valueArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (v, ms) => {
      let b = encode(v)
      for (const m of ms) b = mutate(b, m)
      if (decodeIsSound(b)) decoded++
    }), { numRuns: 4000 })
    // some mutants must still decode, or the re-encoding half of the property was never exercised
    assert.ok(decoded > 100, `only ${decoded} mutants decoded`)
  })
})

// --- readers -----------------------------------------------------------------------------------

describe('typed readers', () => {
  test('map accepts known fields (some may be absent) and rejects unknown ones', () => {
    const m = read.map(decode(encode({ a: 1, b: 'x' })), 'm', ['a', 'b', 'c'])
    assert.equal(m.a, 1)
    assert.equal(m.c, undefined)
    assertMalformed(() => read.map({ a: 1, z: 2 }, 'm', ['a']), /unexpected field "z"/)
    assertMalformed(() => read.map(decode(h('a1695f5f70726f746f5f5f01')), 'm', ['a']), /__proto__/)
    for (const v of [null, undefined, [], [1], new Uint8Array(1), 1, 1n, 'a', true]) assertMalformed(() => read.map(v, 'm', ['a']), /expected a map/)
  })

  test('list checks type and length', () => {
    assert.deepStrictEqual(read.list([1, 2], 'l', 2), [1, 2])
    assertMalformed(() => read.list([1, 2, 3], 'l', 2), /3 entries exceed 2/)
    for (const v of [null, undefined, {}, new Uint8Array(2), 'ab', 2]) assertMalformed(() => read.list(v, 'l', 5), /expected a list/)
  })

  test('bytes checks type, exact length and maximum length', () => {
    const b32 = new Uint8Array(32)
    assert.equal(read.bytes(b32, 'b', 32), b32)
    assertMalformed(() => read.bytes(new Uint8Array(31), 'b', 32), /expected 32 bytes, got 31/)
    assertMalformed(() => read.bytes(new Uint8Array(33), 'b', 32), /expected 32 bytes, got 33/)
    assert.equal(read.bytes(new Uint8Array(10), 'b', undefined, 10).length, 10)
    assertMalformed(() => read.bytes(new Uint8Array(11), 'b', undefined, 10), /exceed 10/)
    assertMalformed(() => read.bytes(new Uint8Array((1 << 20) + 1), 'b'), /exceed/)
    for (const v of [null, undefined, 'ab', [1, 2], {}, 1]) assertMalformed(() => read.bytes(v, 'b'), /expected bytes/)
  })

  test('text checks type and length', () => {
    assert.equal(read.text('abc', 't', 3), 'abc')
    assertMalformed(() => read.text('abcd', 't', 3), /longer than 3/)
    for (const v of [null, undefined, new Uint8Array(1), 1, ['a']]) assertMalformed(() => read.text(v, 't', 3), /expected a string/)
  })

  test('bigint accepts integers of either representation within inclusive bounds', () => {
    assert.equal(read.bigint(5, 'n', 0n, 10n), 5n)
    assert.equal(read.bigint(10n, 'n', 0n, 10n), 10n)
    assert.equal(read.bigint(0, 'n', 0n, 10n), 0n)
    assert.equal(read.bigint(decode(encode(MAX_UINT64)), 'n', 0n, MAX_UINT64), MAX_UINT64)
    assertMalformed(() => read.bigint(11n, 'n', 0n, 10n), /outside/)
    assertMalformed(() => read.bigint(-1, 'n', 0n, 10n), /outside/)
    assertMalformed(() => read.bigint(MAX_UINT64, 'n', 0n, MAX_UINT64 - 1n), /outside/)
    for (const v of [1.5, 2 ** 53, NaN, '1', null, undefined, true, new Uint8Array(1)]) assertMalformed(() => read.bigint(v as Value, 'n', 0n, MAX_UINT64), /expected an integer/)
  })

  test('uint accepts only non-negative safe numbers up to max', () => {
    assert.equal(read.uint(0, 'u'), 0)
    assert.equal(read.uint(Number.MAX_SAFE_INTEGER, 'u'), Number.MAX_SAFE_INTEGER)
    assert.equal(read.uint(7, 'u', 7), 7)
    assertMalformed(() => read.uint(8, 'u', 7), /exceeds 7/)
    // a decoded integer above 2^53-1 is a bigint, and uint refuses it rather than lose precision
    assertMalformed(() => read.uint(decode(encode(2n ** 53n)), 'u'), /non-negative integer/)
    for (const v of [1n, -1, -0.5, 1.5, NaN, Infinity, '1', null, undefined, true]) assertMalformed(() => read.uint(v as Value, 'u'), /non-negative integer/)
  })

  test('bool accepts only booleans', () => {
    assert.equal(read.bool(true, 'f'), true)
    assert.equal(read.bool(false, 'f'), false)
    for (const v of [0, 1, null, undefined, 'true']) assertMalformed(() => read.bool(v, 'f'), /expected a boolean/)
  })

  test('optional reads present values and passes absence through', () => {
    assert.equal(read.optional(undefined, v => read.uint(v, 'o')), undefined)
    assert.equal(read.optional(3, v => read.uint(v, 'o')), 3)
    assertMalformed(() => read.optional('x', v => read.uint(v, 'o')))
    // null is a value, not absence
    assertMalformed(() => read.optional(null, v => read.uint(v, 'o')))
  })
})

describe('byte helpers', () => {
  test('compareBytes is bytewise with shorter prefixes first, and bytesEqual agrees with it', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), (a, b) => {
      const c = compareBytes(a, b)
      assert.equal(Math.sign(c), Math.sign(Buffer.compare(a, b)))
      assert.equal(c === 0, bytesEqual(a, b))
      assert.equal(Math.sign(compareBytes(b, a)), -Math.sign(c) || 0) // || 0: no -0
    }), { numRuns: 500 })
  })
})
