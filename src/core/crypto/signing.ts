// Domain-separated ed25519 signing. Every signature covers (domain tag, network id, canonical
// bytes), so a vote can never pass as an op signature, nor anything signed for one network as
// something signed for another. The scheme itself is injected: noble in wallets, libsodium in nodes.

import { concatBytes } from './hash.js'

export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
export const SEED_BYTES = 32

/** What a signature is for. Adding a domain never changes what an old one means. */
export const Domain = {
  op: 'bftnode/op/v1',
  vote: 'bftnode/vote/v1',
  checkpoint: 'bftnode/checkpoint/v1',
  reconfigure: 'bftnode/reconfigure/v1',
  /** A contract deployer's request that another key sequence its contract (ledger/rotation.ts). */
  rotateSequencer: 'bftnode/rotate-sequencer/v1'
} as const
export type Domain = typeof Domain[keyof typeof Domain]

/** An ed25519 implementation. Keys are 32-byte seeds; signatures are deterministic (RFC 8032). */
export interface SignatureScheme {
  readonly name: string
  publicKeyOf (seed: Uint8Array): Uint8Array
  sign (seed: Uint8Array, message: Uint8Array): Uint8Array
  verify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
}

/** A key held for signing: the scheme may cache expanded key material behind it. */
export interface Signer {
  readonly publicKey: Uint8Array
  sign (message: Uint8Array): Uint8Array
}

const encoder = new TextEncoder()
const domainPrefix = new Map<string, Uint8Array>()

export function signingBytes (domain: Domain, networkId: Uint8Array, payload: Uint8Array): Uint8Array {
  let prefix = domainPrefix.get(domain)
  if (prefix === undefined) {
    prefix = concatBytes(encoder.encode(domain), new Uint8Array([0]))
    domainPrefix.set(domain, prefix)
  }
  return concatBytes(prefix, networkId, payload)
}

/** Signatures kept by their signer's hex key, in that key's order: one canonical list of them. */
export function inSignerOrder<T> (sigs: ReadonlyMap<string, T>): T[] {
  return [...sigs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s)
}

export function signerFrom (scheme: SignatureScheme, seed: Uint8Array): Signer {
  if (seed.length !== SEED_BYTES) throw new TypeError(`a key seed is ${SEED_BYTES} bytes`)
  const publicKey = scheme.publicKeyOf(seed)
  return { publicKey, sign: (message) => scheme.sign(seed, message) }
}

export function signFor (signer: Signer, domain: Domain, networkId: Uint8Array, payload: Uint8Array): Uint8Array {
  return signer.sign(signingBytes(domain, networkId, payload))
}

export function verifyFor (scheme: SignatureScheme, publicKey: Uint8Array, domain: Domain, networkId: Uint8Array,
  payload: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false
  return scheme.verify(publicKey, signingBytes(domain, networkId, payload), signature)
}
