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
      // zip215: false = RFC 8032 strict rules, as libsodium applies them: without it noble accepts
      // small-order keys and points for which anyone can forge a signature
      return ed25519.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false // malformed point or signature encoding
    }
  }
}
