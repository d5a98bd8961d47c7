// ed25519 from @noble/curves: audited, pure JS, runs anywhere (wallets, browsers). Slow to verify
// (~420/s here), so nodes use the libsodium scheme on their hot path; both give identical bytes.

import { ed25519 } from '@noble/curves/ed25519.js'
import type { SignatureScheme } from './signing.js'

export const nobleScheme: SignatureScheme = {
  name: 'noble',
  publicKeyOf: (seed) => ed25519.getPublicKey(seed),
  sign: (seed, message) => ed25519.sign(message, seed),
  verify (publicKey, message, signature) {
    try {
      return ed25519.verify(signature, message, publicKey)
    } catch {
      return false // malformed point or signature encoding
    }
  }
}
