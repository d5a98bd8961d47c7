// Wallet key files: an ed25519 seed encrypted under a passphrase (scrypt, then XChaCha20-Poly1305),
// as JSON. Browser-safe: noble only. A clear-text key file exists only when asked for explicitly
// (`insecure`), for tests and throwaway networks.

import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { randomBytes } from '@noble/ciphers/utils.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { nobleScheme } from '../core/crypto/noble.js'
import { BftError } from '../core/errors.js'

export class WrongPassphraseError extends BftError {
  readonly code = 'ERR_WRONG_PASSPHRASE'
  constructor (name: string, where?: string) { super(`wrong passphrase for key "${name}"${where === undefined ? '' : ` (${where})`}`) }
}

/** A key file that cannot be used: `where` is its path (or what it came from), `reason` what is wrong. */
export class InvalidKeyFileError extends BftError {
  readonly code = 'ERR_INVALID_KEY_FILE'
  constructor (readonly where: string, readonly reason: string) { super(`${where}: ${reason}`) }
}

export interface KeyFile {
  readonly version: 1
  readonly name: string
  /** The key that signs: the seed's public key. */
  readonly publicKey: string
  /**
   * The account the key signs for (hex), when it is not `publicKey`: an account that rotated its
   * key keeps its id, the key it was created with. Absent in files written before rotation, and
   * whenever the key is the account's first: then the account is `publicKey`.
   */
  readonly account?: string
  readonly encrypted?: {
    readonly kdf: { readonly name: 'scrypt', readonly N: number, readonly r: number, readonly p: number, readonly salt: string }
    readonly cipher: { readonly name: 'xchacha20-poly1305', readonly nonce: string }
    readonly ciphertext: string
  }
  /** Only in key files written with `insecure`. */
  readonly seed?: string
}

/** The account a key file signs for: its `account`, or its own public key. */
export function accountOf (file: Pick<KeyFile, 'publicKey' | 'account'>): string {
  return file.account ?? file.publicKey
}

/** scrypt cost: ~0.1-0.3 s per unlock on this class of machine; enough to slow a guesser. */
export const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const

async function keyFrom (passphrase: string, salt: Uint8Array, params: { N: number, r: number, p: number }): Promise<Uint8Array> {
  return await scryptAsync(new TextEncoder().encode(passphrase), salt, { ...params, dkLen: 32 })
}

/** A key file for `seed`; `account`: the account it signs for, when that is not the seed's own key (after a rotation). */
export async function sealKey (name: string, seed: Uint8Array, passphrase: string | undefined, params = SCRYPT, account?: string): Promise<KeyFile> {
  const publicKey = toHex(nobleScheme.publicKeyOf(seed))
  const of = account === undefined || account === publicKey ? {} : { account }
  if (passphrase === undefined) return { version: 1, name, publicKey, ...of, seed: toHex(seed) }
  const salt = randomBytes(16)
  const nonce = randomBytes(24)
  const key = await keyFrom(passphrase, salt, params)
  // the public key is authenticated data: a file whose key was swapped does not decrypt
  const ciphertext = xchacha20poly1305(key, nonce, fromHex(publicKey)).encrypt(seed)
  return {
    version: 1,
    name,
    publicKey,
    ...of,
    encrypted: { kdf: { name: 'scrypt', ...params, salt: toHex(salt) }, cipher: { name: 'xchacha20-poly1305', nonce: toHex(nonce) }, ciphertext: toHex(ciphertext) }
  }
}

/** Opens a key file; `where` (its path) goes into the errors. */
export async function openKey (file: KeyFile, passphrase: string | undefined, where = `key file "${file.name}"`): Promise<Uint8Array> {
  let seed: Uint8Array
  if (file.encrypted === undefined) {
    if (typeof file.seed !== 'string' || !HEX32.test(file.seed)) throw new InvalidKeyFileError(where, 'holds neither a seed nor an encrypted seed')
    seed = fromHex(file.seed)
  } else {
    if (passphrase === undefined) throw new WrongPassphraseError(file.name, where)
    const { kdf, cipher, ciphertext } = file.encrypted
    const key = await keyFrom(passphrase, fromHex(kdf.salt), kdf)
    try {
      seed = xchacha20poly1305(key, fromHex(cipher.nonce), fromHex(file.publicKey)).decrypt(fromHex(ciphertext))
    } catch {
      throw new WrongPassphraseError(file.name, where)
    }
  }
  if (seed.length !== 32 || toHex(nobleScheme.publicKeyOf(seed)) !== file.publicKey) throw new InvalidKeyFileError(where, 'the seed does not match the public key')
  return seed
}

const HEX32 = /^[0-9a-f]{64}$/
const HEX = /^([0-9a-f]{2})+$/

/** Parses and validates a key file's JSON (untrusted: it comes from disk); `where` (its path) goes into the errors. */
export function parseKeyFile (text: string, where = 'key file'): KeyFile {
  let v: unknown
  try { v = JSON.parse(text) } catch { throw new InvalidKeyFileError(where, 'not JSON (a damaged or foreign file)') }
  const f = v as Partial<KeyFile>
  if (f === null || typeof f !== 'object' || f.version !== 1 || typeof f.name !== 'string' || typeof f.publicKey !== 'string' || !HEX32.test(f.publicKey)) {
    throw new InvalidKeyFileError(where, 'not a bftnode key file (version 1 with a name and a 64-hex-digit publicKey)')
  }
  if (f.account !== undefined && (typeof f.account !== 'string' || !HEX32.test(f.account))) throw new InvalidKeyFileError(where, 'its account is not 64 lowercase hex digits')
  const e = f.encrypted
  if (e !== undefined && (e === null || typeof e !== 'object' || e.kdf?.name !== 'scrypt' || e.cipher?.name !== 'xchacha20-poly1305' || typeof e.cipher.nonce !== 'string' || typeof e.ciphertext !== 'string' ||
    !Number.isInteger(e.kdf.N) || e.kdf.N < 1024 || e.kdf.N > (1 << 20) || !Number.isInteger(e.kdf.r) || e.kdf.r < 1 || e.kdf.r > 32 || !Number.isInteger(e.kdf.p) || e.kdf.p < 1 || e.kdf.p > 16)) {
    throw new InvalidKeyFileError(where, 'unsupported encryption parameters')
  }
  if (e !== undefined && (typeof e.kdf.salt !== 'string' || !HEX.test(e.kdf.salt) || !/^[0-9a-f]{48}$/.test(e.cipher.nonce) || !HEX.test(e.ciphertext))) {
    throw new InvalidKeyFileError(where, 'damaged encrypted seed (salt, nonce or ciphertext is not hex of the right length)')
  }
  if (e === undefined && (typeof f.seed !== 'string' || !HEX32.test(f.seed))) throw new InvalidKeyFileError(where, 'holds neither a seed nor an encrypted seed')
  return f as KeyFile
}
