// SHA-256 and hex helpers. Pure JS (noble) by default, so the same code hashes in a node and in a
// browser wallet; a node installs a native implementation (same digests, ~2.4x the rate).

import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'

export type Hash = Uint8Array

let impl: (data: Uint8Array) => Hash = nobleSha256

export function sha256 (data: Uint8Array): Hash {
  return impl(data)
}

/** Replaces the SHA-256 implementation (a native one, in a node); it must give the same digests. */
export function useSha256 (f: (data: Uint8Array) => Hash): void {
  const probe = new Uint8Array([0x61, 0x62, 0x63])
  if (toHex(f(probe)) !== toHex(nobleSha256(probe))) throw new Error('useSha256: the implementation disagrees with SHA-256')
  impl = f
}

const HEX_DIGITS = Array.from('0123456789abcdef', c => c.charCodeAt(0))
// the digits' character codes are written here and decoded in one call: building the string two
// characters at a time made a rope of 32 pieces per key, flattened (copied) again as a map key,
// and hex keys are made for every op in several places
const ASCII = new TextDecoder('latin1')
const scratch = new Uint8Array(256)

export function toHex (b: Uint8Array): string {
  const out = b.length * 2 <= scratch.length ? scratch : new Uint8Array(b.length * 2)
  for (let i = 0; i < b.length; i++) {
    const x = b[i]!
    out[2 * i] = HEX_DIGITS[x >> 4]!
    out[2 * i + 1] = HEX_DIGITS[x & 15]!
  }
  return ASCII.decode(out.subarray(0, b.length * 2))
}

export function fromHex (s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(s)) throw new TypeError('invalid hex string')
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  let len = 0
  for (const p of parts) len += p.length
  const out = new Uint8Array(len)
  let off = 0
  for (const p of parts) { out.set(p, off); off += p.length }
  return out
}
