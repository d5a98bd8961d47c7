// Genesis: the document a network starts from. Its canonical encoding hashes to the network id,
// so it must round-trip exactly, be sorted one way only, and refuse what cannot start a network.
// quorumSize/faultsTolerated decide certificate safety: two quorums meet in an honest validator.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compareBytes, encode, MAX_UINT64 } from '../../src/core/codec/canonical.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { InvalidGenesisError } from '../../src/core/errors.js'
import {
  MAX_VALIDATORS, decodeGenesis, encodeGenesis, faultsTolerated, makeGenesis, networkId, quorumSize, validatorIds
} from '../../src/core/ledger/genesis.js'
import type { Genesis } from '../../src/core/ledger/genesis.js'
import { assertThrowsTyped } from '../support/errors.js'

const key = (i: number): Uint8Array => signerFrom(sodiumScheme, new Uint8Array(32).fill(i)).publicKey
const keys = Array.from({ length: 12 }, (_, i) => key(i + 1))
const k = (i: number): Uint8Array => keys[i]!

function assertInvalid (fn: () => unknown, message?: RegExp): void {
  assertThrowsTyped(fn, InvalidGenesisError, 'ERR_INVALID_GENESIS', message)
}

/** Deeply replaces every Buffer (what the decoder may hand back) by a plain Uint8Array, for deepEqual. */
function plain<T> (v: T): T {
  if (v instanceof Uint8Array) return Uint8Array.from(v) as T
  if (Array.isArray(v)) return v.map(plain) as T
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) as T
  return v
}

const isSorted = (xs: readonly Uint8Array[]): boolean => xs.every((x, i) => i === 0 || compareBytes(xs[i - 1]!, x) < 0)

function base (): Genesis {
  return makeGenesis({
    network: 'testnet',
    validators: [k(0), k(1), k(2), k(3)],
    mintAuthority: k(4),
    balances: [{ account: k(5), amount: 100n }, { account: k(6), amount: 200n }]
  })
}

/** Encodes a genesis-shaped value without makeGenesis' checks, for decodeGenesis to judge. */
function rawGenesis (g: Genesis): Uint8Array {
  return encode({ network: g.network, validators: [...g.validators], mintAuthority: g.mintAuthority, balances: g.balances.map(b => [b.account, b.amount]) })
}

describe('makeGenesis', () => {
  test('makeGenesis sorts validators and balances given in any order', () => {
    fc.assert(fc.property(
      fc.shuffledSubarray(keys.slice(0, 8), { minLength: 1 }),
      fc.shuffledSubarray(keys, { minLength: 0 }),
      (validators, accounts) => {
        const balances = accounts.map((account, i) => ({ account, amount: BigInt(i + 1) }))
        const g = makeGenesis({ network: 'n', validators, mintAuthority: k(0), balances })
        assert.ok(isSorted(g.validators))
        assert.ok(isSorted(g.balances.map(b => b.account)))
        assert.deepEqual([...g.validators].map(toHex).sort(), validators.map(toHex).sort())
        // each amount stays with its account
        for (const b of g.balances) assert.equal(b.amount, balances.find(x => x.account === b.account)!.amount)
        // the order given does not change the document or its id
        const again = makeGenesis({ network: 'n', validators: [...validators].reverse(), mintAuthority: k(0), balances: [...balances].reverse() })
        assert.deepEqual(plain(networkId(again)), plain(networkId(g)))
      }), { numRuns: 100 })
  })

  test('makeGenesis does not reorder the caller\'s arrays', () => {
    const validators = [k(3), k(1), k(2)]
    const copy = [...validators]
    makeGenesis({ network: 'n', validators, mintAuthority: k(0), balances: [] })
    assert.deepEqual(validators, copy)
  })

  test('validatorIds lists the sorted validators as hex', () => {
    const g = base()
    assert.deepEqual(validatorIds(g), g.validators.map(toHex))
  })
})

describe('genesis encoding', () => {
  test('encodeGenesis/decodeGenesis round trip', () => {
    const g = base()
    const back = decodeGenesis(encodeGenesis(g))
    assert.deepEqual(plain(back), plain(g))
    assert.deepEqual(plain(encodeGenesis(back)), plain(encodeGenesis(g)))
    assert.deepEqual(plain(networkId(back)), plain(networkId(g)))
  })

  test('property: any valid genesis round-trips through its encoding', () => {
    fc.assert(fc.property(
      fc.string({ minLength: 1, maxLength: 64 }),
      fc.shuffledSubarray(keys, { minLength: 1 }),
      fc.nat({ max: keys.length - 1 }),
      fc.array(fc.tuple(fc.nat({ max: keys.length - 1 }), fc.bigInt(1n, MAX_UINT64 / 16n)), { maxLength: 12 }),
      (network, validators, mint, raw) => {
        const seen = new Set<number>()
        const balances = raw.filter(([i]) => !seen.has(i) && (seen.add(i), true)).map(([i, amount]) => ({ account: k(i), amount }))
        const g = makeGenesis({ network, validators, mintAuthority: k(mint), balances })
        assert.deepEqual(plain(decodeGenesis(encodeGenesis(g))), plain(g))
      }), { numRuns: 100 })
  })

  test('a genesis with no balances and a total of exactly 2^64-1 both round-trip', () => {
    const empty = makeGenesis({ network: 'n', validators: [k(0)], mintAuthority: k(0), balances: [] })
    assert.deepEqual(plain(decodeGenesis(encodeGenesis(empty))), plain(empty))
    const full = makeGenesis({ network: 'n', validators: [k(0)], mintAuthority: k(0), balances: [{ account: k(1), amount: MAX_UINT64 - 1n }, { account: k(2), amount: 1n }] })
    assert.deepEqual(plain(decodeGenesis(encodeGenesis(full))), plain(full))
  })

  test('networkId is 32 bytes and changes when any field changes', () => {
    const g = base()
    const id = toHex(networkId(g))
    assert.equal(networkId(g).length, 32)
    assert.equal(toHex(networkId(base())), id, 'the same document has the same id')
    const variants: Array<[string, Genesis]> = [
      ['network name', { ...g, network: 'testnet2' }],
      ['validator added', makeGenesis({ ...g, validators: [...g.validators, k(7)] })],
      ['validator removed', makeGenesis({ ...g, validators: g.validators.slice(1) })],
      ['validator replaced', makeGenesis({ ...g, validators: [...g.validators.slice(1), k(8)] })],
      ['mint authority', { ...g, mintAuthority: k(9) }],
      ['balance amount', { ...g, balances: [g.balances[0]!, { ...g.balances[1]!, amount: 201n }] }],
      ['balance account', makeGenesis({ ...g, balances: [g.balances[0]!, { ...g.balances[1]!, account: k(10) }] })],
      ['balance added', makeGenesis({ ...g, balances: [...g.balances, { account: k(11), amount: 1n }] })],
      ['balance removed', { ...g, balances: g.balances.slice(1) }]
    ]
    const ids = new Set([id])
    for (const [what, v] of variants) {
      const vid = toHex(networkId(v))
      assert.notEqual(vid, id, what)
      ids.add(vid)
    }
    assert.equal(ids.size, variants.length + 1, 'every variant has its own id')
  })
})

describe('invalid genesis documents are rejected with InvalidGenesisError', () => {
  const g = base()

  test('no validators', () => {
    assertInvalid(() => makeGenesis({ ...g, validators: [] }), /validator/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, validators: [] })), /validator/)
  })

  test('duplicate validators', () => {
    assertInvalid(() => makeGenesis({ ...g, validators: [k(0), k(1), k(0)] }), /validators/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, validators: [k(0), k(0)] })), /validators/)
  })

  test('unsorted validators in encoded form', () => {
    const [lo, hi] = compareBytes(k(0), k(1)) < 0 ? [k(0), k(1)] : [k(1), k(0)]
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, validators: [hi, lo] })), /validators/)
  })

  test(`more than MAX_VALIDATORS (${MAX_VALIDATORS}) validators`, () => {
    const many = Array.from({ length: MAX_VALIDATORS + 1 }, (_, i) => {
      const b = new Uint8Array(32)
      b[0] = i >> 8
      b[1] = i & 0xff
      return b
    })
    assertInvalid(() => makeGenesis({ ...g, validators: many }))
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, validators: many })))
    assert.equal(makeGenesis({ ...g, validators: many.slice(0, MAX_VALIDATORS) }).validators.length, MAX_VALIDATORS)
  })

  test('duplicate balance accounts', () => {
    assertInvalid(() => makeGenesis({ ...g, balances: [{ account: k(5), amount: 1n }, { account: k(5), amount: 2n }] }), /balances/)
    assertInvalid(() => makeGenesis({ ...g, balances: [{ account: k(5), amount: 1n }, { account: k(6), amount: 1n }, { account: k(5), amount: 1n }] }), /balances/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, balances: [{ account: k(5), amount: 1n }, { account: k(5), amount: 1n }] })), /balances/)
  })

  test('total balances over 2^64-1', () => {
    const half = 1n << 63n
    assertInvalid(() => makeGenesis({ ...g, balances: [{ account: k(5), amount: half }, { account: k(6), amount: half }] }), /supply cap/)
    assertInvalid(() => makeGenesis({ ...g, balances: [{ account: k(5), amount: MAX_UINT64 }, { account: k(6), amount: 1n }] }), /supply cap/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, balances: sortedBalances([{ account: k(5), amount: half }, { account: k(6), amount: half }]) })), /supply cap/)
  })

  test('empty network name', () => {
    assertInvalid(() => makeGenesis({ ...g, network: '' }), /network/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, network: '' })), /network/)
  })

  test('malformed fields in encoded form', () => {
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, mintAuthority: new Uint8Array(31) })), /mintAuthority/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, validators: [new Uint8Array(33)] })), /validators/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, balances: [{ account: k(5), amount: 0n }] })), /amount/)
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, network: 'x'.repeat(65) })), /network/)
    assertInvalid(() => decodeGenesis(encode({ network: 'n', validators: [k(0)], mintAuthority: k(0), balances: [], extra: 1 })), /extra/)
    assertInvalid(() => decodeGenesis(encode({ network: 'n', validators: [k(0)], mintAuthority: k(0), balances: [[k(1)]] })))
  })

  test('garbage bytes', () => {
    assertInvalid(() => decodeGenesis(new Uint8Array(0)))
    assertInvalid(() => decodeGenesis(new Uint8Array([0xff, 0x00, 0x13])))
    assertInvalid(() => decodeGenesis(encode([1, 2, 3])))
    assertInvalid(() => decodeGenesis(encode('genesis')))
    const bytes = encodeGenesis(g)
    assertInvalid(() => decodeGenesis(bytes.subarray(0, bytes.length - 1)), /CBOR|canonical/)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), garbage => {
      assertInvalid(() => decodeGenesis(garbage))
    }), { numRuns: 200 })
  })

  test('makeGenesis rejects a starting balance that is not positive, as decodeGenesis does', () => {
    // Genesis documents balances as "each > 0" and decodeGenesis enforces it (amount in [1, 2^64-1]);
    // a document makeGenesis accepts should never be one decodeGenesis refuses.
    assertInvalid(() => decodeGenesis(rawGenesis({ ...g, balances: [{ account: k(5), amount: 0n }] })))
    assertInvalid(() => makeGenesis({ ...g, balances: [{ account: k(5), amount: 0n }] }))
    assertInvalid(() => makeGenesis({ ...g, balances: [{ account: k(5), amount: 10n }, { account: k(6), amount: -10n }] }))
  })
})

/** Balances sorted by account, with no other check (for building documents decodeGenesis must judge). */
function sortedBalances (balances: Array<{ account: Uint8Array, amount: bigint }>): Array<{ account: Uint8Array, amount: bigint }> {
  return [...balances].sort((a, b) => compareBytes(a.account, b.account))
}

describe('quorumSize and faultsTolerated', () => {
  test('table for n = 1..10: f = floor((n-1)/3), q = floor((n+f)/2)+1', () => {
    const table: Array<[n: number, f: number, q: number]> = [
      [1, 0, 1], [2, 0, 2], [3, 0, 2], [4, 1, 3], [5, 1, 4],
      [6, 1, 4], [7, 2, 5], [8, 2, 6], [9, 2, 6], [10, 3, 7]
    ]
    for (const [n, f, q] of table) {
      assert.equal(faultsTolerated(n, 'byzantine'), f, `f(${n})`)
      assert.equal(quorumSize(n, 'byzantine'), q, `q(${n})`)
    }
  })

  test('for n = 3f+1 the quorum is 2f+1', () => {
    for (let f = 0; f <= 85; f++) {
      assert.equal(faultsTolerated(3 * f + 1, 'byzantine'), f)
      assert.equal(quorumSize(3 * f + 1, 'byzantine'), 2 * f + 1)
    }
  })

  test('property: over n in 1..256 two quorums intersect in more than f validators, and a quorum is reachable with f silent', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: MAX_VALIDATORS }), n => {
      const f = faultsTolerated(n, 'byzantine')
      const q = quorumSize(n, 'byzantine')
      assert.ok(Number.isInteger(f) && Number.isInteger(q))
      assert.ok(f >= 0 && 3 * f < n, `3f < n for n=${n}`)
      assert.ok(2 * q - n > f, `quorums intersect in an honest validator for n=${n}`)
      assert.ok(q <= n - f, `a quorum is reachable with f silent for n=${n}`)
      assert.ok(q >= 1 && q <= n)
    }), { numRuns: 300 })
    // and exhaustively, since the range is small
    for (let n = 1; n <= MAX_VALIDATORS; n++) {
      const f = faultsTolerated(n, 'byzantine')
      const q = quorumSize(n, 'byzantine')
      assert.ok(2 * q - n > f && q <= n - f, `n=${n}`)
    }
  })

  test('f is the largest number of faults with n > 3f', () => {
    for (let n = 1; n <= MAX_VALIDATORS; n++) {
      const f = faultsTolerated(n, 'byzantine')
      assert.ok(n > 3 * f && n <= 3 * (f + 1), `n=${n}`)
    }
  })
})
