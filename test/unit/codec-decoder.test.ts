// The strict decoder's shortcut: byte strings are own copies (no shared slab a kept one could pin), and short map keys come
// from a cache keyed by their bytes. Neither may ever let one decoded value see another's bytes,
// or hand back a key other than the one on the wire.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode, decode } from '../../src/core/codec/canonical.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { MalformedError } from '../../src/core/errors.js'

const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
const filled = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('byte strings', () => {
  test('every size comes back intact and independent of the input and of each other', () => {
    const sizes = [0, 1, 63, 64, 65, 200, 1023, 1024, 1025, 5000, 9000]
    const input = encode(sizes.map((n, i) => filled(n, i + 1)))
    const out = decode(new Uint8Array(input)) as Uint8Array[]
    input.fill(0)
    for (const [i, b] of out.entries()) {
      assert.equal(b.length, sizes[i])
      assert.ok(b.every(x => x === i + 1), `size ${sizes[i]!}`)
      // writing through one never shows in another
      b.fill(0xee)
      for (const [j, c] of out.entries()) if (j > i) assert.ok(c.every(x => x === j + 1))
    }
  })

  test('strings from many decodes stay intact and independent', () => {
    const kept: Array<[Uint8Array, number]> = []
    for (let i = 0; i < 400; i++) {
      const n = 65 + (i * 37) % 960
      const [b] = decode(encode([filled(n, i & 0xff)])) as Uint8Array[]
      kept.push([b!, i & 0xff])
    }
    for (const [b, fill] of kept) assert.ok(b.every(x => x === fill))
  })
})

describe('map keys', () => {
  test('thousands of distinct keys, colliding in the cache, decode to themselves', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 40 }), keys => {
      const v = Object.fromEntries(keys.map((k, i) => [k, i]))
      assert.deepStrictEqual(decode(encode(v)), v)
    }), { seed: 42, numRuns: 500 })
    // keys of one length that differ in a single byte, decoded in turn, each many times
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3000; i++) {
        const key = `k${i.toString(36).padStart(4, '0')}`
        assert.deepStrictEqual(Object.keys(decode(encode({ [key]: 1 })) as object), [key])
      }
    }
  })

  test('a refused key leaves nothing behind for the next decode', () => {
    // 0x61 0xff is not UTF-8; 0x61 0x62 ("ab") follows with the same length
    assert.throws(() => decode(h('a162' + '61ff' + '00')), MalformedError)
    assert.throws(() => decode(h('a163' + 'efbbbf' + '00')), /byte order mark/)
    assert.deepStrictEqual(decode(h('a162' + '6162' + '00')), { ab: 0 })
    assert.deepStrictEqual(decode(h('a163' + 'e282ac' + '00')), { '€': 0 })
  })

  test('"__proto__" from the cache is still an own key', () => {
    for (let i = 0; i < 3; i++) {
      const v = decode(h('a1695f5f70726f746f5f5fa16178' + '01')) as Record<string, Value>
      assert.equal(Object.getPrototypeOf(v), Object.prototype)
      assert.deepStrictEqual(Object.keys(v), ['__proto__'])
      assert.deepStrictEqual(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, { x: 1 })
    }
  })
})
