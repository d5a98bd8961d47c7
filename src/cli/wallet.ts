// The CLI's wallet (it uses the file system, so it lives here and not in client/): a directory of
// key files, one per named account, plus the op each account signed but has not seen delivered.
// A wallet never signs two ops for one slot: while an op is pending, the next command resubmits it
// instead of signing another (which would make the account equivocate and lock its stream).

import { randomBytes } from '@noble/ciphers/utils.js'
import { mkdir, readFile, readdir, rename, writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BftError } from '../core/errors.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { nobleScheme } from '../core/crypto/noble.js'
import { signerFrom } from '../core/crypto/signing.js'
import type { Signer } from '../core/crypto/signing.js'
import { openKey, parseKeyFile, sealKey } from '../client/keyfile.js'
import type { KeyFile } from '../client/keyfile.js'

export class UnknownAccountError extends BftError {
  readonly code = 'ERR_UNKNOWN_ACCOUNT'
  constructor (name: string, dir: string) { super(`no account "${name}" in wallet ${dir} (see \`bftnode account list\`)`) }
}

export class AccountExistsError extends BftError {
  readonly code = 'ERR_ACCOUNT_EXISTS'
  constructor (name: string) { super(`an account named "${name}" already exists in this wallet`) }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

export class Wallet {
  constructor (readonly dir: string) {}

  private keyPath (name: string): string { return join(this.dir, `${name}.key.json`) }
  private pendingPath (name: string): string { return join(this.dir, `${name}.pending.json`) }

  static checkName (name: string): void {
    if (!NAME.test(name)) throw new BftErrorName(name)
  }

  async create (name: string, passphrase: string | undefined, seed: Uint8Array = nobleRandomSeed()): Promise<KeyFile> {
    Wallet.checkName(name)
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    if (await this.exists(name)) throw new AccountExistsError(name)
    const file = await sealKey(name, seed, passphrase)
    await writeAtomic(this.keyPath(name), JSON.stringify(file, null, 2) + '\n')
    return file
  }

  async exists (name: string): Promise<boolean> {
    return await readFile(this.keyPath(name)).then(() => true, () => false)
  }

  async list (): Promise<KeyFile[]> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const files: KeyFile[] = []
    for (const n of names.filter(n => n.endsWith('.key.json')).sort()) {
      try { files.push(parseKeyFile(await readFile(join(this.dir, n), 'utf8'))) } catch { /* not ours: skip */ }
    }
    return files
  }

  async load (name: string): Promise<KeyFile> {
    Wallet.checkName(name)
    let text: string
    try { text = await readFile(this.keyPath(name), 'utf8') } catch { throw new UnknownAccountError(name, this.dir) }
    return parseKeyFile(text)
  }

  async unlock (name: string, passphrase: string | undefined): Promise<Signer> {
    const seed = await openKey(await this.load(name), passphrase)
    return signerFrom(nobleScheme, seed)
  }

  /** A name in this wallet, or a 64-hex-digit account key, to the account's key. */
  async resolve (ref: string): Promise<Uint8Array> {
    if (/^[0-9a-f]{64}$/.test(ref)) return fromHex(ref)
    return fromHex((await this.load(ref)).publicKey)
  }

  async pending (name: string): Promise<{ seq: number, op: string, hash: string } | undefined> {
    try {
      return JSON.parse(await readFile(this.pendingPath(name), 'utf8')) as { seq: number, op: string, hash: string }
    } catch {
      return undefined
    }
  }

  /** Records a signed op before it is submitted, so a crash or timeout cannot lead to a second one. */
  async setPending (name: string, seq: number, opBytes: Uint8Array, hash: Uint8Array): Promise<void> {
    await writeAtomic(this.pendingPath(name), JSON.stringify({ seq, op: toHex(opBytes), hash: toHex(hash) }) + '\n')
  }

  async clearPending (name: string): Promise<void> {
    await rm(this.pendingPath(name), { force: true })
  }
}

class BftErrorName extends BftError {
  readonly code = 'ERR_BAD_NAME'
  constructor (name: string) { super(`"${name}" is not a valid account name (letters, digits, _ . -; up to 64)`) }
}

function nobleRandomSeed (): Uint8Array {
  return randomBytes(32)
}

async function writeAtomic (path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text, { mode: 0o600 })
  await rename(tmp, path)
}
