// Signatures and hashes. Wallets sign with noble and nodes verify with libsodium, so the two
// schemes must agree byte for byte; domain separation keeps one signature from meaning two things.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { Domain, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signFor, signerFrom, signingBytes, verifyFor } from '../../src/core/crypto/signing.js'
import type { SignatureScheme } from '../../src/core/crypto/signing.js'
import { sha256, toHex, fromHex, concatBytes } from '../../src/core/crypto/hash.js'

const schemes: readonly SignatureScheme[] = [nobleScheme, sodiumScheme]
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
const messageArb = fc.uint8Array({ maxLength: 300 })

function flipBit (b: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(b)
  const i = bit % (out.length * 8)
  out[i >> 3] = out[i >> 3]! ^ (1 << (i & 7))
  return out
}

/** verify must answer false, never throw, however malformed its inputs. */
function verifySafely (scheme: SignatureScheme, pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  let ok: boolean
  assert.doesNotThrow(() => { ok = scheme.verify(pk, msg, sig) }, `${scheme.name}.verify threw`)
  return ok!
}

describe('noble and libsodium agree', () => {
  test('noble and libsodium derive the same public key from a seed', () => {
    fc.assert(fc.property(seedArb, seed => {
      assert.equal(toHex(sodiumScheme.publicKeyOf(seed)), toHex(nobleScheme.publicKeyOf(seed)))
    }), { numRuns: 50 })
  })

  test('noble and libsodium produce byte-identical signatures and verify each other\'s', () => {
    fc.assert(fc.property(seedArb, messageArb, (seed, msg) => {
      const pk = nobleScheme.publicKeyOf(seed)
      const sigNoble = nobleScheme.sign(seed, msg)
      const sigSodium = sodiumScheme.sign(seed, msg)
      assert.equal(sigNoble.length, SIGNATURE_BYTES)
      assert.equal(toHex(sigSodium), toHex(sigNoble))
      assert.ok(nobleScheme.verify(pk, msg, sigSodium), 'noble rejects a libsodium signature')
      assert.ok(sodiumScheme.verify(pk, msg, sigNoble), 'libsodium rejects a noble signature')
    }), { numRuns: 40 })
  })

  test('signing is deterministic and does not depend on the key cache', () => {
    const seed = new Uint8Array(32).fill(3)
    const msg = new TextEncoder().encode('same bytes twice')
    for (const s of schemes) assert.equal(toHex(s.sign(seed, msg)), toHex(s.sign(new Uint8Array(seed), msg)))
    // a seed viewed at a non-zero byteOffset of a larger buffer reads exactly its 32 bytes
    const backing = new Uint8Array(64).fill(9)
    backing.set(seed, 16)
    const sliced = backing.subarray(16, 48)
    assert.equal(toHex(sodiumScheme.publicKeyOf(sliced)), toHex(nobleScheme.publicKeyOf(seed)))
    assert.equal(toHex(sodiumScheme.sign(sliced, msg)), toHex(nobleScheme.sign(seed, msg)))
  })

  test('a signature returned by sign is not overwritten by later signing', () => {
    const seed = new Uint8Array(32).fill(1)
    for (const s of schemes) {
      const first = s.sign(seed, new Uint8Array([1]))
      const copy = toHex(first)
      s.sign(seed, new Uint8Array([2]))
      assert.equal(toHex(first), copy, s.name)
    }
  })

  test('noble and libsodium agree on a small-order key (identity point, R = identity, S = 0)', () => {
    const identity = fromHex('01' + '00'.repeat(31))
    const forged = concatBytes(identity, new Uint8Array(32))
    for (const msg of [new Uint8Array(0), new TextEncoder().encode('anything at all')]) {
      assert.equal(sodiumScheme.verify(identity, msg, forged), false)
      assert.equal(nobleScheme.verify(identity, msg, forged), false)
    }
  })
})

describe('RFC 8032 test vector 1', () => {
  const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
  const publicKey = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
  const signature = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  const empty = new Uint8Array(0)

  for (const s of schemes) {
    test(`${s.name} matches the RFC 8032 key, signature and verification`, () => {
      assert.equal(toHex(s.publicKeyOf(seed)), publicKey)
      assert.equal(toHex(s.sign(seed, empty)), signature)
      assert.ok(s.verify(fromHex(publicKey), empty, fromHex(signature)))
      assert.equal(s.verify(fromHex(publicKey), new Uint8Array(1), fromHex(signature)), false)
    })
  }
})

describe('verification rejects tampering', () => {
  // one signature per case, checked by both schemes: noble verifies ~420/s, so keep runs modest
  test('both schemes reject a flipped bit in the message, signature or public key', () => {
    fc.assert(fc.property(seedArb, messageArb, fc.nat(), fc.nat(), fc.nat(), (seed, msg, mBit, sBit, kBit) => {
      const pk = sodiumScheme.publicKeyOf(seed)
      const sig = sodiumScheme.sign(seed, msg)
      const badMsg = msg.length > 0 ? flipBit(msg, mBit) : new Uint8Array([0])
      const badSig = flipBit(sig, sBit)
      const badPk = flipBit(pk, kBit)
      for (const s of schemes) {
        assert.equal(verifySafely(s, pk, badMsg, sig), false, `${s.name}: flipped message bit`)
        assert.equal(verifySafely(s, pk, msg, badSig), false, `${s.name}: flipped signature bit ${sBit % 512}`)
        assert.equal(verifySafely(s, badPk, msg, sig), false, `${s.name}: flipped key bit ${kBit % 256}`)
      }
    }), { numRuns: 25 })
  })

  test('every single-bit flip of a signature is rejected by both schemes', () => {
    const seed = new Uint8Array(32).fill(42)
    const msg = new TextEncoder().encode('flip me')
    const pk = nobleScheme.publicKeyOf(seed)
    const sig = nobleScheme.sign(seed, msg)
    // bytes 0, 31 (R's sign bit lives here), 32 and 63 (S's top bits, where S >= L must be refused)
    for (const byte of [0, 31, 32, 63]) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = flipBit(sig, byte * 8 + bit)
        for (const s of schemes) assert.equal(verifySafely(s, pk, msg, bad), false, `${s.name}: byte ${byte} bit ${bit}`)
      }
    }
  })

  test('wrong-length keys and signatures make verify return false, never throw', () => {
    const seed = new Uint8Array(32).fill(5)
    const msg = new Uint8Array([1, 2, 3])
    const pk = sodiumScheme.publicKeyOf(seed)
    const sig = sodiumScheme.sign(seed, msg)
    const lengths = [0, 1, 31, 33, 63, 64, 65, 128]
    for (const s of schemes) {
      for (const n of lengths) {
        if (n !== PUBLIC_KEY_BYTES) {
          const key = new Uint8Array(n)
          key.set(pk.subarray(0, Math.min(n, 32)))
          assert.equal(verifySafely(s, key, msg, sig), false, `${s.name}: ${n}-byte key`)
        }
        if (n !== SIGNATURE_BYTES) {
          const sg = new Uint8Array(n)
          sg.set(sig.subarray(0, Math.min(n, 64)))
          assert.equal(verifySafely(s, pk, msg, sg), false, `${s.name}: ${n}-byte signature`)
        }
      }
      // a correct signature with a trailing byte is still the wrong length
      assert.equal(verifySafely(s, pk, msg, concatBytes(sig, new Uint8Array(1))), false)
      assert.equal(verifySafely(s, concatBytes(pk, new Uint8Array(1)), msg, sig), false)
    }
  })

  test('keys that are not curve points and all-zero or all-ones inputs are rejected without throwing', () => {
    const msg = new Uint8Array([7])
    const sig = sodiumScheme.sign(new Uint8Array(32), msg)
    for (const s of schemes) {
      for (const key of [new Uint8Array(32), new Uint8Array(32).fill(0xff), fromHex('02' + '00'.repeat(31))]) {
        assert.equal(verifySafely(s, key, msg, sig), false, `${s.name}: key ${toHex(key)}`)
      }
      const pk = s.publicKeyOf(new Uint8Array(32))
      assert.equal(verifySafely(s, pk, msg, new Uint8Array(64)), false)
      assert.equal(verifySafely(s, pk, msg, new Uint8Array(64).fill(0xff)), false)
    }
  })
})

describe('domain separation', () => {
  const netA = sha256(new TextEncoder().encode('network A'))
  const netB = sha256(new TextEncoder().encode('network B'))
  const payload = new TextEncoder().encode('the same payload bytes')
  const seed = new Uint8Array(32).fill(11)

  for (const scheme of schemes) {
    test(`${scheme.name}: a vote signature does not verify as an op signature, nor the reverse`, () => {
      const signer = signerFrom(scheme, seed)
      const vote = signFor(signer, Domain.vote, netA, payload)
      assert.ok(verifyFor(scheme, signer.publicKey, Domain.vote, netA, payload, vote))
      assert.equal(verifyFor(scheme, signer.publicKey, Domain.op, netA, payload, vote), false)
      assert.equal(verifyFor(scheme, signer.publicKey, Domain.checkpoint, netA, payload, vote), false)
      const op = signFor(signer, Domain.op, netA, payload)
      assert.equal(verifyFor(scheme, signer.publicKey, Domain.vote, netA, payload, op), false)
    })

    test(`${scheme.name}: a signature for network A does not verify for network B`, () => {
      const signer = signerFrom(scheme, seed)
      const sig = signFor(signer, Domain.op, netA, payload)
      assert.ok(verifyFor(scheme, signer.publicKey, Domain.op, netA, payload, sig))
      assert.equal(verifyFor(scheme, signer.publicKey, Domain.op, netB, payload, sig), false)
    })
  }

  test('domain-separated signatures cross-verify between noble and libsodium', () => {
    const a = signFor(signerFrom(nobleScheme, seed), Domain.checkpoint, netA, payload)
    const b = signFor(signerFrom(sodiumScheme, seed), Domain.checkpoint, netA, payload)
    assert.equal(toHex(a), toHex(b))
    const pk = nobleScheme.publicKeyOf(seed)
    assert.ok(verifyFor(sodiumScheme, pk, Domain.checkpoint, netA, payload, a))
    assert.ok(verifyFor(nobleScheme, pk, Domain.checkpoint, netA, payload, b))
  })

  test('a raw signature over the payload alone does not verify under any domain', () => {
    const raw = sodiumScheme.sign(seed, payload)
    const pk = sodiumScheme.publicKeyOf(seed)
    for (const d of Object.values(Domain)) assert.equal(verifyFor(sodiumScheme, pk, d, netA, payload, raw), false)
  })

  test('signing bytes are the domain tag, a zero byte, the network id, then the payload', () => {
    const bytes = signingBytes(Domain.vote, netA, payload)
    assert.equal(toHex(bytes), toHex(concatBytes(new TextEncoder().encode('bftnode/vote/v1'), new Uint8Array([0]), netA, payload)))
    // the tags differ before any caller-controlled byte, and none is a prefix of another
    const tags = Object.values(Domain)
    for (const x of tags) for (const y of tags) if (x !== y) assert.ok(!(x + '\0').startsWith(y + '\0'))
  })

  test('verifyFor returns false for wrong-length keys and signatures, and signerFrom refuses short seeds', () => {
    const signer = signerFrom(sodiumScheme, seed)
    const sig = signFor(signer, Domain.op, netA, payload)
    for (const s of schemes) {
      assert.equal(verifyFor(s, signer.publicKey.subarray(0, 31), Domain.op, netA, payload, sig), false)
      assert.equal(verifyFor(s, signer.publicKey, Domain.op, netA, payload, sig.subarray(0, 63)), false)
      assert.throws(() => signerFrom(s, new Uint8Array(31)), TypeError)
      assert.throws(() => signerFrom(s, new Uint8Array(64)), TypeError)
    }
  })
})

describe('hashing and hex', () => {
  test('sha256("abc") matches the FIPS 180-2 answer', () => {
    assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert.equal(toHex(sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })

  test('sha256 agrees with node:crypto', async () => {
    const { createHash } = await import('node:crypto')
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1000 }), b => {
      assert.equal(toHex(sha256(b)), createHash('sha256').update(b).digest('hex'))
    }), { numRuns: 200 })
  })

  test('fromHex(toHex(b)) is b, and toHex is lowercase two digits per byte', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), b => {
      const s = toHex(b)
      assert.equal(s, Buffer.from(b).toString('hex'))
      assert.deepStrictEqual(fromHex(s), b)
      assert.deepStrictEqual(fromHex(s.toUpperCase()), b)
    }), { numRuns: 300 })
  })

  test('fromHex rejects odd lengths and non-hex characters', () => {
    for (const bad of ['0', 'abc', 'zz', '0g', ' 00', '00 ', '0x00', '-1', '+1', '１２', '\u00e9e']) {
      assert.throws(() => fromHex(bad), TypeError, JSON.stringify(bad))
    }
    assert.deepStrictEqual(fromHex(''), new Uint8Array(0))
  })

  test('concatBytes joins in order', () => {
    assert.equal(toHex(concatBytes(fromHex('01'), new Uint8Array(0), fromHex('0203'))), '010203')
    assert.equal(concatBytes().length, 0)
  })
})

describe('hex', () => {
  test('toHex and fromHex agree with Buffer for every byte and for lengths past the scratch buffer', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    assert.equal(toHex(all), Buffer.from(all).toString('hex'))
    for (const n of [0, 1, 31, 32, 33, 127, 128, 129, 300, 5000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff)
      assert.equal(toHex(b), Buffer.from(b).toString('hex'), `length ${n}`)
      assert.deepEqual(fromHex(toHex(b)), b)
    }
    // a view into a larger buffer hexes only its own bytes
    assert.equal(toHex(all.subarray(250, 253)), 'fafbfc')
  })
})
