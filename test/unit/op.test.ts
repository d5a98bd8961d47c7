// Ops on the wire: [payload, sig] where payload is the canonical encoding of the unsigned fields.
// decodeOp must accept exactly the well-formed ops signOp makes and reject everything else with
// MalformedError; verifyOpSignature must bind the signature to the key, the network and the bytes.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encode, compareBytes, MAX_UINT64 } from '../../src/core/codec/canonical.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { sha256 } from '../../src/core/crypto/hash.js'
import { Domain, signerFrom, signFor } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { MalformedError } from '../../src/core/errors.js'
import { OP_LIMITS, compareSlots, decodeOp, signOp, verifyOpSignature } from '../../src/core/ledger/op.js'
import type { Slot, UnsignedOp } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { assertThrowsTyped } from '../support/errors.js'

const seed = (i: number): Uint8Array => new Uint8Array(32).fill(i)
const keys: Signer[] = Array.from({ length: 8 }, (_, i) => signerFrom(sodiumScheme, seed(i + 1)))
const A = keys[0]!
const B = keys[1]!
const C = keys[2]!
const NET = sha256(new TextEncoder().encode('op-test-network'))
const OTHER_NET = sha256(new TextEncoder().encode('another-network'))

function assertMalformed (fn: () => unknown, message?: RegExp): void {
  assertThrowsTyped(fn, MalformedError, 'ERR_MALFORMED', message)
}

function transfer (to: Uint8Array, amount: bigint): OpBody {
  return { kind: 'transfer', to, amount }
}

function unsigned (over: Partial<UnsignedOp> = {}): UnsignedOp {
  return { account: A.publicKey, seq: 1, deps: [], body: transfer(B.publicKey, 5n), ...over }
}

// --- hand-built payloads -------------------------------------------------------------------------

type Fields = { [key: string]: Value }

function bodyValue (over: Fields = {}): Fields {
  return { kind: 'transfer', to: B.publicKey, amount: 5n, ...over }
}

function payloadValue (over: Fields = {}): Fields {
  return { account: A.publicKey, seq: 1, deps: [], body: bodyValue(), ...over }
}

/** Wraps payload bytes in a correctly signed envelope, so only the payload can be at fault. */
function envelope (payload: Uint8Array, signer: Signer = A): Uint8Array {
  return encode([payload, signFor(signer, Domain.op, NET, payload)])
}

const opBytes = (over: Fields = {}): Uint8Array => envelope(encode(payloadValue(over)))

/** A copy as a plain Uint8Array (Buffer#slice would be a view, and Buffer != Uint8Array for deepEqual). */
const copy = (b: Uint8Array): Uint8Array => Uint8Array.from(b)

/** Deeply replaces every Buffer or Uint8Array view by a plain Uint8Array, for deepEqual. */
function plain<T> (v: T): T {
  if (v instanceof Uint8Array) return copy(v) as T
  if (Array.isArray(v)) return v.map(plain) as T
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) as T
  return v
}

/* eslint-disable no-labels -- a labelled continue is the plainest naive substring search */
function indexOf (haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}
/* eslint-enable no-labels */

function splice (bytes: Uint8Array, at: number, removed: number, inserted: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - removed + inserted.length)
  out.set(bytes.subarray(0, at), 0)
  out.set(inserted, at)
  out.set(bytes.subarray(at + removed), at + inserted.length)
  return out
}

// --- generators ----------------------------------------------------------------------------------

const keyIndex = fc.nat({ max: keys.length - 1 })
const amountArb = fc.bigInt(1n, MAX_UINT64)
const bodyArb: fc.Arbitrary<OpBody> = fc.record({
  kind: fc.constantFrom('transfer' as const, 'mint' as const),
  to: keyIndex.map(i => keys[i]!.publicKey),
  amount: amountArb
})
/** Distinct deps on streams other than A's (so any seq is allowed), in random order. */
const depsArb: fc.Arbitrary<Slot[]> = fc.uniqueArray(
  fc.record({ account: fc.integer({ min: 1, max: keys.length - 1 }).map(i => keys[i]!.publicKey), seq: fc.integer({ min: 1, max: 1000 }) }),
  { maxLength: OP_LIMITS.maxDeps, selector: d => `${d.account[0]!}:${d.seq}` })

describe('op encoding round trip', () => {
  test('decodeOp(signOp(op).bytes) returns the same fields, sig, payload and bytes', () => {
    const op = signOp(A, NET, unsigned({ seq: 7, deps: [{ account: B.publicKey, seq: 3 }, { account: C.publicKey, seq: 1 }] }))
    const back = decodeOp(op.bytes)
    assert.deepEqual(plain(back.account), A.publicKey)
    assert.equal(back.seq, 7)
    assert.deepEqual(plain(back.deps), plain(op.deps))
    assert.deepEqual(plain(back.body), { kind: 'transfer', to: B.publicKey, amount: 5n })
    assert.deepEqual(plain(back.sig), plain(op.sig))
    assert.deepEqual(plain(back.payload), plain(op.payload))
    assert.deepEqual(plain(back.bytes), plain(op.bytes))
    assert.deepEqual(plain(back.hash), plain(op.hash))
    assert.deepEqual(plain(back), plain(op))
  })

  test('the op hash is sha256 of the envelope bytes', () => {
    const op = signOp(A, NET, unsigned())
    assert.deepEqual(op.hash, sha256(op.bytes))
    assert.deepEqual(decodeOp(op.bytes).hash, sha256(op.bytes))
    const given = new Uint8Array(32).fill(9)
    assert.deepEqual(decodeOp(op.bytes, given).hash, given, 'a precomputed hash is used as given')
  })

  test('the signature of a signed op verifies with verifyOpSignature under the signer key', () => {
    const op = signOp(A, NET, unsigned())
    assert.equal(op.sig.length, 64)
    assert.equal(verifyOpSignature(sodiumScheme, NET, op, A.publicKey), true)
    assert.equal(verifyOpSignature(sodiumScheme, NET, decodeOp(op.bytes), A.publicKey), true)
  })

  test('every body kind survives the round trip', () => {
    const bodies: OpBody[] = [
      transfer(B.publicKey, MAX_UINT64),
      { kind: 'mint', to: C.publicKey, amount: 1n },
      { kind: 'deploy', code: '(defn f [x] x)', args: [1, 'two', new Uint8Array([3]), [4, null, true]], sequencer: null, gasLimit: 1000 },
      { kind: 'deploy', code: '', args: [], sequencer: B.publicKey, gasLimit: 1 },
      { kind: 'call', contract: C.publicKey, fn: 'f', args: [{ k: 'v' }], value: 0n, gasLimit: 10 },
      { kind: 'call', contract: C.publicKey, fn: 'f', args: [], value: 5n, gasLimit: 10, deadline: 1 },
      { kind: 'call', contract: C.publicKey, fn: 'f', args: [], value: 5n, gasLimit: 10, deadline: OP_LIMITS.maxSeq },
      { kind: 'cancel', contract: C.publicKey, call: 3 },
      { kind: 'execute', calls: [{ account: B.publicKey, seq: 2 }, { account: C.publicKey, seq: 1 }], time: 1234 }
    ]
    for (const body of bodies) {
      const op = signOp(A, NET, unsigned({ body }))
      assert.deepEqual(plain(decodeOp(op.bytes)), plain(op), body.kind)
    }
  })

  test('property: signOp then decodeOp is the identity and the signature verifies', () => {
    fc.assert(fc.property(keyIndex, fc.integer({ min: 1, max: OP_LIMITS.maxSeq }), depsArb, bodyArb, (who, seq, deps, body) => {
      const signer = keys[who]!
      // deps on the signer's own stream must come before seq; keep only other streams
      const own = deps.filter(d => compareBytes(d.account, signer.publicKey) !== 0)
      const op = signOp(signer, NET, { account: signer.publicKey, seq, deps: own, body })
      const back = decodeOp(op.bytes)
      assert.deepEqual(plain(back), plain(op))
      assert.deepEqual(back.hash, sha256(op.bytes))
      assert.equal(verifyOpSignature(sodiumScheme, NET, back, signer.publicKey), true)
    }), { numRuns: 150 })
  })
})

describe('call deadlines and cancels on the wire', () => {
  const call = { kind: 'call', contract: C.publicKey, fn: 'f', args: [], value: 5n, gasLimit: 10 }
  const cancel = { kind: 'cancel', contract: C.publicKey, call: 2 }

  test('a call without a deadline encodes without the key, so it is the same bytes as before deadlines', () => {
    const op = signOp(A, NET, unsigned({ body: { kind: 'call', contract: C.publicKey, fn: 'f', args: [], value: 5n, gasLimit: 10 } }))
    assert.deepEqual(op.payload, encode(payloadValue({ body: call })))
    assert.equal('deadline' in decodeOp(op.bytes).body, false)
    assert.equal((decodeOp(opBytes({ body: { ...call, deadline: 9 } })).body as { deadline?: number }).deadline, 9)
  })

  test('a deadline that is not a seq (0, negative, unsafe, a string, null, a boolean) is rejected', () => {
    for (const deadline of [0, -1, 2n ** 60n, '3', null, true]) {
      assertMalformed(() => decodeOp(opBytes({ body: { ...call, deadline } })), /call\.deadline/)
    }
  })

  test('a cancel needs a 32-byte contract and a call seq of 1 or more, and nothing else', () => {
    const back = decodeOp(opBytes({ seq: 3, body: cancel })).body
    assert.ok(back.kind === 'cancel' && back.call === 2 && compareBytes(back.contract, C.publicKey) === 0)
    assertMalformed(() => decodeOp(opBytes({ body: { ...cancel, call: 0 } })), /cancel\.call/)
    assertMalformed(() => decodeOp(opBytes({ body: { ...cancel, call: '2' } })), /cancel\.call/)
    assertMalformed(() => decodeOp(opBytes({ body: { kind: 'cancel', contract: C.publicKey } })), /cancel\.call/)
    assertMalformed(() => decodeOp(opBytes({ body: { ...cancel, contract: new Uint8Array(31) } })), /cancel\.contract/)
    assertMalformed(() => decodeOp(opBytes({ body: { ...cancel, value: 1n } })), /unexpected field "value"/)
  })
})

describe('signOp', () => {
  test('signOp sorts deps given in any order', () => {
    fc.assert(fc.property(depsArb, fc.integer({ min: 1, max: 100 }), (deps, seq) => {
      const op = signOp(A, NET, unsigned({ seq, deps }))
      const sorted = [...deps].sort(compareSlots)
      assert.deepEqual(op.deps, sorted)
      for (let i = 1; i < op.deps.length; i++) assert.ok(compareSlots(op.deps[i - 1]!, op.deps[i]!) < 0)
      // and the result is accepted by decodeOp, which insists on sorted deps
      assert.deepEqual(plain(decodeOp(op.bytes).deps), plain(sorted))
    }), { numRuns: 100 })
  })

  test('signOp does not reorder the caller\'s deps array', () => {
    const deps = [{ account: C.publicKey, seq: 1 }, { account: B.publicKey, seq: 1 }]
    const given = [...deps]
    signOp(A, NET, unsigned({ deps }))
    assert.deepEqual(deps, given)
  })
})

describe('decodeOp rejects malformed ops with MalformedError', () => {
  test('a hand-built envelope of a valid payload is accepted (control for the cases below)', () => {
    const op = decodeOp(opBytes())
    assert.equal(op.seq, 1)
    assert.deepEqual(plain(op.body), { kind: 'transfer', to: B.publicKey, amount: 5n })
  })

  test('seq 0 is rejected (streams start at 1)', () => {
    assertMalformed(() => decodeOp(opBytes({ seq: 0 })), /seq/)
    assertMalformed(() => decodeOp(signOp(A, NET, unsigned({ seq: 0 })).bytes), /seq/)
  })

  test('a negative, unsafe or non-integer seq is rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ seq: -1 })))
    assertMalformed(() => decodeOp(opBytes({ seq: 2n ** 60n })))
    assertMalformed(() => decodeOp(opBytes({ seq: '1' })))
  })

  test('unsorted deps are rejected', () => {
    const [lo, hi] = compareBytes(B.publicKey, C.publicKey) < 0 ? [B, C] : [C, B]
    assertMalformed(() => decodeOp(opBytes({ deps: [[hi.publicKey, 1], [lo.publicKey, 1]] })), /sorted/)
    // same account, seqs descending
    assertMalformed(() => decodeOp(opBytes({ deps: [[B.publicKey, 5], [B.publicKey, 2]] })), /sorted/)
    // the sorted forms are accepted
    assert.equal(decodeOp(opBytes({ deps: [[lo.publicKey, 1], [hi.publicKey, 1]] })).deps.length, 2)
    assert.equal(decodeOp(opBytes({ deps: [[B.publicKey, 2], [B.publicKey, 5]] })).deps.length, 2)
  })

  test('duplicate deps are rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ deps: [[B.publicKey, 3], [B.publicKey, 3]] })), /distinct/)
    // signOp sorts but does not deduplicate, so decodeOp catches duplicates it signed too
    assertMalformed(() => decodeOp(signOp(A, NET, unsigned({ deps: [{ account: B.publicKey, seq: 3 }, { account: B.publicKey, seq: 3 }] })).bytes))
  })

  test('a dep citing the op\'s own stream at seq >= its own seq is rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ seq: 3, deps: [[A.publicKey, 3]] })), /own stream/)
    assertMalformed(() => decodeOp(opBytes({ seq: 3, deps: [[A.publicKey, 4]] })), /own stream/)
    assertMalformed(() => decodeOp(opBytes({ seq: 3, deps: [[A.publicKey, 1], [A.publicKey, 9]] })), /own stream/)
    // an earlier op of its own stream may be cited (a self-transfer's credit)
    assert.equal(decodeOp(opBytes({ seq: 3, deps: [[A.publicKey, 2]] })).deps.length, 1)
  })

  test('a dep at seq 0 or not shaped [account, seq] is rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ deps: [[B.publicKey, 0]] })))
    assertMalformed(() => decodeOp(opBytes({ deps: [[B.publicKey]] })))
    assertMalformed(() => decodeOp(opBytes({ deps: [[B.publicKey, 1, 2]] })))
    assertMalformed(() => decodeOp(opBytes({ deps: [B.publicKey] })))
    assertMalformed(() => decodeOp(opBytes({ deps: [[new Uint8Array(31), 1]] })))
  })

  test(`more than OP_LIMITS.maxDeps (${OP_LIMITS.maxDeps}) deps are rejected; exactly maxDeps are accepted`, () => {
    const deps = (n: number): Value[] => Array.from({ length: n }, (_, i) => [B.publicKey, i + 1])
    assert.equal(decodeOp(opBytes({ deps: deps(OP_LIMITS.maxDeps) })).deps.length, OP_LIMITS.maxDeps)
    assertMalformed(() => decodeOp(opBytes({ deps: deps(OP_LIMITS.maxDeps + 1) })))
  })

  test('an account of the wrong length is rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ account: new Uint8Array(31) })), /account/)
    assertMalformed(() => decodeOp(opBytes({ account: new Uint8Array(33) })), /account/)
    assertMalformed(() => decodeOp(opBytes({ account: new Uint8Array(0) })), /account/)
    assertMalformed(() => decodeOp(opBytes({ account: 'aa'.repeat(32) })), /account/)
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ to: new Uint8Array(31) }) })), /to/)
  })

  test('a transfer amount of 0 (or below) is rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ amount: 0n }) })), /amount/)
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ amount: -1n }) })), /amount/)
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ kind: 'mint', amount: 0 }) })), /amount/)
    // 1 is the smallest amount accepted
    assert.equal((decodeOp(opBytes({ body: bodyValue({ amount: 1n }) })).body as { amount: bigint }).amount, 1n)
  })

  test('a transfer amount above 2^64-1 is rejected (it has no plain CBOR integer form)', () => {
    // 2^64-1 itself is accepted
    const max = decodeOp(opBytes({ body: bodyValue({ amount: MAX_UINT64 }) }))
    assert.equal((max.body as { amount: bigint }).amount, MAX_UINT64)
    // encode refuses 2^64, so splice a bignum (tag 2) in place of 2^64-1 by hand
    const payload = encode(payloadValue({ body: bodyValue({ amount: MAX_UINT64 }) }))
    const maxForm = new Uint8Array([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    const at = indexOf(payload, maxForm)
    assert.ok(at > 0)
    const twoTo64 = new Uint8Array([0xc2, 0x49, 0x01, 0, 0, 0, 0, 0, 0, 0, 0])
    assertMalformed(() => decodeOp(envelope(splice(payload, at, maxForm.length, twoTo64))))
    // and 2^64 + 5 as a bignum too
    const big = new Uint8Array([0xc2, 0x49, 0x01, 0, 0, 0, 0, 0, 0, 0, 5])
    assertMalformed(() => decodeOp(envelope(splice(payload, at, maxForm.length, big))))
    // also the negative bignum extreme: -2^64 is a plain CBOR integer and out of range
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ amount: -(MAX_UINT64 + 1n) }) })), /amount/)
  })

  test('an unknown or missing body kind is rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ kind: 'burn' }) })), /kind/)
    assertMalformed(() => decodeOp(opBytes({ body: { to: B.publicKey, amount: 5n } })), /kind/)
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ kind: 7 }) })), /kind/)
    assertMalformed(() => decodeOp(opBytes({ body: [] })), /kind/)
    assertMalformed(() => decodeOp(opBytes({ body: null })), /kind/)
  })

  test('extra fields in the op or in its body are rejected', () => {
    assertMalformed(() => decodeOp(opBytes({ memo: 'hi' })), /unexpected field "memo"/)
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ memo: 'hi' }) })), /unexpected field "memo"/)
    assertMalformed(() => decodeOp(opBytes({ body: bodyValue({ fee: 1 }) })), /fee/)
  })

  test('missing op fields are rejected', () => {
    for (const field of ['account', 'seq', 'deps', 'body']) {
      const v = payloadValue()
      delete v[field]
      assertMalformed(() => decodeOp(envelope(encode(v))))
    }
  })

  test(`op bytes over OP_LIMITS.maxOpBytes (${OP_LIMITS.maxOpBytes}) are rejected`, () => {
    assertMalformed(() => decodeOp(new Uint8Array(OP_LIMITS.maxOpBytes + 1)), /exceeds/)
    const huge = encode([new Uint8Array(OP_LIMITS.maxOpBytes), new Uint8Array(64)])
    assert.ok(huge.length > OP_LIMITS.maxOpBytes)
    assertMalformed(() => decodeOp(huge), /exceeds/)
  })

  test('an envelope that is not [payload, sig] is rejected', () => {
    const payload = encode(payloadValue())
    const sig = signFor(A, Domain.op, NET, payload)
    assertMalformed(() => decodeOp(encode([payload])))
    assertMalformed(() => decodeOp(encode([])))
    assertMalformed(() => decodeOp(encode([payload, sig, sig])))
    assertMalformed(() => decodeOp(encode([sig, payload])))
    assertMalformed(() => decodeOp(encode({ payload, sig })))
    assertMalformed(() => decodeOp(payload))
    assertMalformed(() => decodeOp(encode(payload)))
    assertMalformed(() => decodeOp(encode([payloadValue(), sig])))
    assertMalformed(() => decodeOp(new Uint8Array(0)))
    assertMalformed(() => decodeOp(new Uint8Array([0xff])))
  })

  test('a sig of the wrong length is rejected', () => {
    const payload = encode(payloadValue())
    for (const n of [0, 32, 63, 65, 128]) assertMalformed(() => decodeOp(encode([payload, new Uint8Array(n)])), /sig/)
    assertMalformed(() => decodeOp(encode([payload, 'sig'])), /sig/)
  })

  test('a non-canonical payload encoding is rejected even when correctly signed', () => {
    const payload = encode(payloadValue({ seq: 1 }))
    // "seq" (text of 3) followed by 0x01; re-encode the 1 in its two-byte form 0x18 0x01
    const seqKey = new Uint8Array([0x63, 0x73, 0x65, 0x71, 0x01])
    const at = indexOf(payload, seqKey)
    assert.ok(at >= 0)
    const longSeq = splice(payload, at + 4, 1, new Uint8Array([0x18, 0x01]))
    assertMalformed(() => decodeOp(envelope(longSeq)), /canonical|more bytes than necessary/)
    // map keys out of canonical order: swap the first two entries' order by hand-assembling
    const entries: Array<[string, Value]> = [['account', A.publicKey], ['seq', 1], ['deps', []], ['body', bodyValue()]]
    const unordered = Uint8Array.from([0xa4, ...entries.flatMap(([k, v]) => [...encode(k), ...encode(v)])])
    assertMalformed(() => decodeOp(envelope(unordered)), /canonical/)
  })

  test('a non-canonical envelope encoding is rejected', () => {
    const op = signOp(A, NET, unsigned())
    // the envelope is 0x82, then the payload as a byte string; widen the payload's length header
    const p = op.payload.length
    assert.ok(p >= 24 && p < 256)
    assert.equal(op.bytes[1], 0x58)
    const widened = Uint8Array.from([0x82, 0x59, 0, p, ...op.bytes.subarray(3)])
    assertMalformed(() => decodeOp(widened), /canonical|more bytes than necessary/)
  })

  test('property: decodeOp never throws anything but MalformedError on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
      try {
        decodeOp(bytes)
      } catch (err) {
        assert.ok(err instanceof MalformedError, `expected MalformedError, got ${String(err)}`)
      }
    }), { numRuns: 300 })
  })
})

describe('verifyOpSignature', () => {
  const op = signOp(A, NET, unsigned({ seq: 2, deps: [{ account: B.publicKey, seq: 1 }] }))

  test('is false for a signature by another key', () => {
    const forged = signOp(B, NET, unsigned({ seq: 2, deps: [{ account: B.publicKey, seq: 1 }] }))
    assert.deepEqual(plain(forged.payload), plain(op.payload), 'same payload, only the signer differs')
    assert.equal(verifyOpSignature(sodiumScheme, NET, forged, A.publicKey), false)
    assert.equal(verifyOpSignature(sodiumScheme, NET, op, B.publicKey), false)
    assert.equal(verifyOpSignature(sodiumScheme, NET, op, C.publicKey), false)
  })

  test('is false under another network id', () => {
    assert.equal(verifyOpSignature(sodiumScheme, OTHER_NET, op, A.publicKey), false)
    const elsewhere = signOp(A, OTHER_NET, unsigned({ seq: 2, deps: [{ account: B.publicKey, seq: 1 }] }))
    assert.equal(verifyOpSignature(sodiumScheme, NET, elsewhere, A.publicKey), false)
    assert.equal(verifyOpSignature(sodiumScheme, OTHER_NET, elsewhere, A.publicKey), true)
  })

  test('is false for a signature over another domain', () => {
    const voteSig = signFor(A, Domain.vote, NET, op.payload)
    assert.equal(verifyOpSignature(sodiumScheme, NET, decodeOp(encode([op.payload, voteSig])), A.publicKey), false)
  })

  test('is false when a payload bit is flipped (re-encoded in the envelope), e.g. in the recipient', () => {
    const at = indexOf(op.payload, B.publicKey)
    assert.ok(at > 0)
    const flipped = copy(op.payload)
    flipped[at + 31]! ^= 0x01
    const tampered = decodeOp(encode([flipped, op.sig]))
    assert.notDeepEqual((tampered.body as { to: Uint8Array }).to, B.publicKey)
    assert.equal(verifyOpSignature(sodiumScheme, NET, tampered, A.publicKey), false)
  })

  test('property: flipping any payload bit makes the op malformed or its signature invalid', () => {
    fc.assert(fc.property(fc.nat({ max: op.payload.length * 8 - 1 }), bit => {
      const flipped = copy(op.payload)
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      let tampered
      try {
        tampered = decodeOp(encode([flipped, op.sig]))
      } catch (err) {
        assert.ok(err instanceof MalformedError, `expected MalformedError, got ${String(err)}`)
        return
      }
      assert.equal(verifyOpSignature(sodiumScheme, NET, tampered, A.publicKey), false)
    }), { numRuns: 200 })
  })

  test('is false for a flipped signature bit', () => {
    const sig = copy(op.sig)
    sig[10]! ^= 0x80
    assert.equal(verifyOpSignature(sodiumScheme, NET, decodeOp(encode([op.payload, sig])), A.publicKey), false)
  })
})
