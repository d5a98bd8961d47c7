// ed25519 from libsodium (sodium-native), for a node's hot path: ~30x noble's verify rate.
// Lives outside core/ because it loads a native addon; the core only sees SignatureScheme (and
// a SHA-256 function, installed on import).

import sodium from 'sodium-native'
import type { SignatureScheme } from '../core/crypto/signing.js'
import { useSha256 } from '../core/crypto/hash.js'

// hashing is on every hot path (op ids, batch digests, snapshots): libsodium's SHA-256
useSha256(data => {
  const out = new Uint8Array(sodium.crypto_hash_sha256_BYTES)
  sodium.crypto_hash_sha256(out, data)
  return out
})

const expanded = new Map<string, { pk: Buffer, sk: Buffer }>()
const MAX_CACHED_KEYS = 1024

function keyPair (seed: Uint8Array): { pk: Buffer, sk: Buffer } {
  const id = Buffer.from(seed.buffer, seed.byteOffset, seed.length).toString('latin1')
  let kp = expanded.get(id)
  if (kp === undefined) {
    kp = { pk: Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES), sk: Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES) }
    sodium.crypto_sign_seed_keypair(kp.pk, kp.sk, asBuffer(seed))
    if (expanded.size >= MAX_CACHED_KEYS) expanded.clear()
    expanded.set(id, kp)
  }
  return kp
}

function asBuffer (b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)
}

export const sodiumScheme: SignatureScheme = {
  name: 'sodium',
  publicKeyOf: (seed) => new Uint8Array(keyPair(seed).pk),
  sign (seed, message) {
    const sig = Buffer.alloc(sodium.crypto_sign_BYTES)
    sodium.crypto_sign_detached(sig, asBuffer(message), keyPair(seed).sk)
    return new Uint8Array(sig.buffer, sig.byteOffset, sig.length)
  },
  verify (publicKey, message, signature) {
    if (publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES || signature.length !== sodium.crypto_sign_BYTES) return false
    return sodium.crypto_sign_verify_detached(asBuffer(signature), asBuffer(message), asBuffer(publicKey))
  }
}
