// Contract values as JSON: every value has one JSON form, that form reads back as the same value,
// and anything a person could mean two ways is refused with the place it sits.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode } from '../../src/core/codec/canonical.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { MAX_INT, MIN_INT, VmMap, fromCodec, toCodec } from '../../src/core/vm/values.js'
import type { VmValue } from '../../src/core/vm/values.js'
import { ArgumentError, keyTagToJson, parseArgs, parseValue, showJson, valueToJson } from '../../src/client/values.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Arbitrary contract data: what a result, an event or a storage entry can hold. */
const key = fc.oneof(fc.bigInt({ min: MIN_INT, max: MAX_INT }), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 8 }))
const data: fc.Arbitrary<VmValue> = fc.letrec<{ v: VmValue }>(tie => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.bigInt({ min: MIN_INT, max: MAX_INT }), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map(pairs => {
      let m = VmMap.empty
      for (const [k, x] of pairs) m = m.with(k, x)
      return m
    })
  )
})).v

describe('contract values as JSON', () => {
  test('every value survives JSON text and back, exactly (property)', () => {
    fc.assert(fc.property(data, v => {
      const canonical = toCodec(v)
      const text = JSON.stringify(valueToJson(canonical))
      assert.deepEqual(encode(parseValue(JSON.parse(text))), encode(canonical))
    }), { numRuns: 500 })
  })

  test('the explicit forms', () => {
    const k = 'ab'.repeat(32)
    assert.deepEqual(parseArgs([{ int: '18446744073709551615' }, { int: -5 }, 7, { bytes: '0xAB01' }, { key: k }, { str: '0x12' }, 'plain', true, null]),
      [MAX_INT, -5n, 7n, new Uint8Array([0xab, 1]), new Uint8Array(32).fill(0xab), '0x12', 'plain', true, null])
    assert.deepEqual(parseValue({ map: { from: { bytes: '01' }, n: 2 } }), { 's:from': new Uint8Array([1]), 's:n': 2n })
    assert.deepEqual(parseValue({ map: [[1, 'x'], [{ bytes: '02' }, 'y']] }), { 'i:+00000000000000000001': 'x', 'b:02': 'y' })
  })

  test('a wallet name where a key is expected goes to the resolver', () => {
    const alice = new Uint8Array(32).fill(1)
    assert.deepEqual(parseArgs([{ key: 'alice' }], { resolveKey: name => { assert.equal(name, 'alice'); return alice } }), [alice])
    assert.throws(() => parseArgs([{ key: 'alice' }]), (err: ArgumentError) => err.code === 'ERR_BAD_ARGUMENT' && /args\[0\]: "alice" is not an account key/.test(err.message))
  })

  test('ambiguous or malformed input is refused, naming where it sits', () => {
    const cases: Array<[unknown, RegExp]> = [
      [['0xab'], /args\[0\]: "0xab" is ambiguous/],
      [[1, ['123']], /args\[1\]\[0\]: "123" is ambiguous/],
      [['123n'], /ambiguous/],
      [['ab'.repeat(32)], /ambiguous/],
      [[1.5], /not a whole number/],
      [[2 ** 60], /not a whole number JSON can carry exactly/],
      [[{ int: '1.5' }], /string of digits/],
      [[{ int: '18446744073709551616' }], /outside the 64-bit range/],
      [[{ bytes: 'abc' }], /even number of hex digits/],
      [[{ foo: 1 }], /an object must be one of/],
      [[{ int: '1', str: 'x' }], /an object must be one of/],
      [[{ map: [[true, 1]] }], /args\[0\]\.map\[0\]: a map key is/],
      [[{ map: [['a', 1], ['a', 2]] }], /appears twice/],
      [[{ map: 3 }], /holds an object/],
      [{ not: 'a list' }, /args: must be a JSON list/]
    ]
    for (const [input, message] of cases) {
      assert.throws(() => parseArgs(input), (err: Error) => err instanceof ArgumentError && message.test(err.message), JSON.stringify(input))
    }
  })

  test('deep or huge input is refused before it is walked', () => {
    let deep: unknown = 1
    for (let i = 0; i < 100; i++) deep = [deep]
    assert.throws(() => parseValue(deep), /nested deeper than 32/)
    assert.throws(() => parseValue(new Array(20_000).fill(1)), /more than 10000 elements/)
  })

  test('output needs no internal tags, and strings input would refuse go out explicit', () => {
    const ev = fromCodec({ 's:from': new Uint8Array([1]), 's:amount': 10n, 's:memo': '42' } as Value)
    assert.deepEqual(valueToJson(ev), { map: { amount: { int: '10' }, from: { bytes: '01' }, memo: { str: '42' } } })
    assert.equal(showJson(valueToJson(ev)), '{"amount" 10, "from" 0x01, "memo" "42"}')
    assert.deepEqual(keyTagToJson('b:' + hex(new Uint8Array([9]))), { bytes: '09' })
    assert.deepEqual(keyTagToJson('s:owner'), 'owner')
    assert.deepEqual(keyTagToJson('i:-00000000000000000003'), { int: '-3' })
  })
})
