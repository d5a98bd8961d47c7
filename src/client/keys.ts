// Keys for wallets and web apps: a new ed25519 seed, and a Signer over a seed with the pure-JS
// noble scheme (the same bytes libsodium gives, in any JS runtime). A seed is the secret: keep it
// in a key file (keyfile.ts seals one under a passphrase), never send it anywhere.

import { randomBytes } from '@noble/ciphers/utils.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { nobleScheme } from '../core/crypto/noble.js'
import { SEED_BYTES, signerFrom } from '../core/crypto/signing.js'
import type { Signer } from '../core/crypto/signing.js'
import { InvalidKeyError } from './errors.js'

export type { Signer }

/** A new secret key (a 32-byte ed25519 seed) from the platform's secure random source. */
export function generateSeed (): Uint8Array {
  return randomBytes(SEED_BYTES)
}

/** A Signer for a seed (bytes or 64 hex digits). */
export function signerFromSeed (seed: Uint8Array | string): Signer {
  const bytes = typeof seed === 'string' ? seedFromHex(seed) : seed
  if (bytes.length !== SEED_BYTES) throw new InvalidKeyError(`a secret key is ${SEED_BYTES} bytes`)
  return signerFrom(nobleScheme, bytes)
}

/** An account key (what others send to): the public key of a seed, hex. */
export function publicKeyOf (seed: Uint8Array | string): string {
  return toHex(signerFromSeed(seed).publicKey)
}

function seedFromHex (hex: string): Uint8Array {
  const h = hex.trim().toLowerCase().replace(/^0x/, '')
  if (!/^[0-9a-f]{64}$/.test(h)) throw new InvalidKeyError('a secret key is 64 hex digits (a 32-byte seed)')
  return fromHex(h)
}
