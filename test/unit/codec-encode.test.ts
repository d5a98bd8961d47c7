// Differential test of encode against cborg's encode with the options canonical.ts has always
// used (oldEncode below): the same bytes for every value, and the same UnencodableError, message
// and all, for everything it refuses. The direct writer hands anything unusual back to cborg, so
// the exotic cases here check that it gives up rather than guesses.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode as cborEncode } from 'cborg'
import { encode, decode, MAX_UINT64 } from '../../src/core/codec/canonical.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { UnencodableError } from '../../src/core/errors.js'

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

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')

type Outcome = { ok: true, hex: string } | { ok: false, err: unknown }

function run (f: () => Uint8Array): Outcome {
  try {
    return { ok: true, hex: hex(f()) }
  } catch (err) {
    return { ok: false, err }
  }
}

let compared = 0

/** Both encoders on the same value: equal bytes, or the same refusal. */
function agree (v: unknown): void {
  const old = run(() => oldEncode(v as Value))
  const now = run(() => encode(v as Value))
  compared++
  if (old.ok && now.ok) {
    assert.equal(now.hex, old.hex)
    return
  }
  assert.equal(now.ok, old.ok, `old ${old.ok ? 'encodes' : `refuses (${String((old as { err: unknown }).err)})`}, new ${now.ok ? 'encodes' : `refuses (${String((now as { err: unknown }).err)})`}`)
  const [a, b] = [(old as { err: Error }).err, (now as { err: Error }).err]
  assert.ok(b instanceof UnencodableError, `encode threw ${String(b)}`)
  assert.equal(b.message, a.message)
}

const RUNS = Number(process.env.CODEC_DIFF_RUNS ?? 0) || undefined
const runs = (n: number): number => RUNS ?? n
const SEED = Number(process.env.CODEC_DIFF_SEED ?? 0xe0c0de)

// --- values ------------------------------------------------------------------------------------

const TWO53 = 2n ** 53n
const edges = [0n, 23n, 24n, 255n, 256n, 65535n, 65536n, 2n ** 32n - 1n, 2n ** 32n, TWO53 - 1n, TWO53, TWO53 + 1n, MAX_UINT64 - 1n, MAX_UINT64, MAX_UINT64 + 1n]
const edgeInts = [...edges, ...edges.map(n => -n), ...edges.map(n => -1n - n)]

const intArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...edgeInts),
  fc.constantFrom(...edgeInts).map(Number), // unsafe ones among them are refused
  fc.bigInt({ min: -(MAX_UINT64 + 1n), max: MAX_UINT64 }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.maxSafeInteger(),
  fc.integer({ min: -300, max: 300 })
)

// lone surrogates too: cborg writes U+FFFD for them
const charArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map(c => String.fromCharCode(c)) }
)
const textArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: charArb, maxLength: 30 }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', '0', '1', '10', '4294967295', '', '\uFEFF', 'é', '😀', 'a'.repeat(23), 'a'.repeat(24), 'é'.repeat(12), '😀'.repeat(6))
)

const bytesArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 40 }).map(b => Buffer.from(b)),
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 40 }), fc.nat(3)).map(([b, k]) => b.subarray(k, b.length - k))
)

class Thing { a = 1 }
const exoticArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0.5, 2 ** 53, -(2 ** 53), undefined, Symbol('s'), () => 1),
  fc.constantFrom('map', 'set', 'date', 'thing', 'nullproto', 'u16', 'i8', 'ab', 'dv', 'hole', 'ctor', 'ctorObject', 'boxed').map(kind => {
    switch (kind) {
      case 'map': return new Map([['a', 1]])
      case 'set': return new Set([1])
      case 'date': return new Date(0)
      case 'thing': return new Thing()
      case 'nullproto': return Object.assign(Object.create(null) as object, { b: 2, a: 1 })
      case 'u16': return new Uint16Array([1, 2])
      case 'i8': return new Int8Array([-1])
      case 'ab': return new ArrayBuffer(3)
      case 'dv': return new DataView(new ArrayBuffer(2))
      case 'hole': return [1, , 3] // eslint-disable-line no-sparse-arrays
      case 'ctor': return { constructor: 1, a: 2 }
      case 'ctorObject': return { constructor: Object }
      default: return Object('boxed') as unknown
    }
  })
)

const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: intArb },
  { weight: 4, arbitrary: textArb },
  { weight: 3, arbitrary: bytesArb },
  { weight: 2, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: exoticArb }
)

const { value: valueArb } = fc.letrec<{ value: unknown }>(tie => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 5 },
    { weight: 3, arbitrary: scalarArb },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.dictionary(textArb, tie('value'), { maxKeys: 8, noNullPrototype: true }) },
    // "__proto__" as an own key, as decode makes it
    { weight: 1, arbitrary: fc.tuple(tie('value'), tie('value')).map(([a, b]) => JSON.parse('{"__proto__": 1, "z": 2}', (k, v: unknown) => k === '__proto__' ? a : k === 'z' ? b : v) as unknown) })
}))

// --- properties --------------------------------------------------------------------------------

describe('encode agrees with cborg', () => {
  test('on generated values, exotic ones among them', () => {
    fc.assert(fc.property(valueArb, v => { agree(v) }), { seed: SEED, numRuns: runs(4000) })
  })

  test('on values decoded from the wire', () => {
    fc.assert(fc.property(valueArb, v => {
      let bytes: Uint8Array
      let back: Value
      try {
        bytes = oldEncode(v as Value)
        // a string that starts with U+FEFF encodes but never decodes
        back = decode(new Uint8Array(bytes))
      } catch {
        return
      }
      agree(back)
      assert.equal(hex(encode(back)), hex(bytes))
    }), { seed: SEED + 1, numRuns: runs(1500) })
  })

  test('on hand-picked values', () => {
    const cycle: unknown[] = [1]
    cycle.push(cycle)
    const selfMap: Record<string, unknown> = { a: 1 }
    selfMap.b = selfMap
    let deep: unknown = 0
    for (let i = 0; i < 20_000; i++) deep = [deep]
    const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${(i * 7919) % 1000}`, i]))
    const cases: unknown[] = [
      0, -0, 23, 24, -24, -25, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 32, -(2 ** 32), 2 ** 32 - 1,
      0n, -1n, TWO53, -TWO53, MAX_UINT64, -(MAX_UINT64 + 1n), MAX_UINT64 + 1n, -(MAX_UINT64 + 2n),
      '', 'a'.repeat(23), 'a'.repeat(24), 'a'.repeat(255), 'a'.repeat(256), 'a'.repeat(70_000), 'é'.repeat(40_000),
      '\uD800', 'a\uDC00b', '\uD83D\uDE00', '\uDE00\uD83D', '\uD800'.repeat(30),
      new Uint8Array(0), new Uint8Array(70_000), Buffer.alloc(3, 1),
      [], {}, [[]], [{}], { a: [] }, wide,
      { b: 1, a: 2, aa: 3, é: 4, z: 5 }, { 10: 1, 9: 2, a: 3 }, { '\uD800': 1, a: 2 },
      cycle, selfMap, deep,
      [undefined], { a: undefined }, [1.5], { a: NaN }, [MAX_UINT64 + 1n], new Map(), [new Map()]
    ]
    for (const c of cases) agree(c)
  })

  test('a getter that encodes while encode runs gets the right bytes, and so does encode', () => {
    const inner = { x: [1, 2, 3] }
    let seen: Uint8Array | undefined
    const outer = { get a () { seen = encode(inner); return 'v' }, b: 'w'.repeat(30) }
    assert.equal(hex(encode(outer as unknown as Value)), hex(oldEncode({ a: 'v', b: 'w'.repeat(30) })))
    assert.equal(hex(seen!), hex(oldEncode(inner)))
  })
})

describe('encode output', () => {
  test('is a fresh plain Uint8Array each time', () => {
    const a = encode({ a: new Uint8Array(100) })
    const b = encode({ a: new Uint8Array(100) })
    assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype)
    assert.notEqual(a, b)
    a.fill(0)
    assert.equal(hex(b), hex(oldEncode({ a: new Uint8Array(100) })))
  })
})

test('how many values agreed', () => {
  console.log(`# codec-encode: ${compared} values compared`)
})
