// The CLI's wallet (it uses the file system, so it lives here and not in client/): a directory of
// key files, one per named account, plus the op each account signed but has not seen delivered.
// A wallet never signs two ops for one slot: while an op is pending, the next command resubmits it
// instead of signing another (which would make the account equivocate and lock its stream).

import { randomBytes } from '@noble/ciphers/utils.js'
import { link, mkdir, open, readFile, readdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BftError } from '../core/errors.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { decodeOp } from '../core/ledger/op.js'
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

/** The pending-op file cannot be read: it may hold an op already sent, so nothing new is signed. */
export class PendingCorruptError extends BftError {
  readonly code = 'ERR_PENDING_CORRUPT'
  constructor (path: string, why: string) {
    super(`the wallet's pending-op file ${path} is unreadable (${why}); it may hold an op already sent, so the wallet signs nothing more for this account until the file is restored, or removed once no op of this account can still be in flight`)
  }
}

/** Another op is already pending for the account: recording a second could equivocate. */
export class PendingExistsError extends BftError {
  readonly code = 'ERR_PENDING_EXISTS'
  constructor (name: string, held: PendingOp) {
    super(`account "${name}" already has op ${held.hash.slice(0, 16)} (seq ${held.seq}) pending; the next command resubmits it (is another command for this account running?)`)
  }
}

/** A signed op not yet known delivered: the wallet signs nothing else for the account meanwhile. */
export interface PendingOp {
  readonly seq: number
  /** The signed op, hex: resubmitted byte for byte. */
  readonly op: string
  readonly hash: string
  /** The account key (hex) the op belongs to. */
  readonly account: string
  /** The network it was signed for (hex networkId); absent in records written before it was kept. */
  readonly network?: string
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
    if (!await writeDurable(this.keyPath(name), JSON.stringify(file, null, 2) + '\n')) throw new AccountExistsError(name)
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

  /** The op pending for an account. A file that is there but unreadable is an error, never "none". */
  async pending (name: string): Promise<PendingOp | undefined> {
    const path = this.pendingPath(name)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new PendingCorruptError(path, (err as Error).message)
    }
    return parsePending(path, text)
  }

  /**
   * Records a signed op, durably, before it is submitted, so no crash, timeout or lost answer can
   * lead to a second op for its slot. Recording the same op again is a no-op; another op is refused.
   */
  async setPending (name: string, seq: number, opBytes: Uint8Array, hash: Uint8Array, network?: string): Promise<void> {
    const text = JSON.stringify({ seq, op: toHex(opBytes), hash: toHex(hash), ...(network === undefined ? {} : { network }) }) + '\n'
    for (;;) {
      if (await writeDurable(this.pendingPath(name), text)) return
      const held = await this.pending(name)
      // gone between the two: another command settled it, so try again
      if (held === undefined) continue
      if (held.hash === toHex(hash)) return
      throw new PendingExistsError(name, held)
    }
  }

  /** Only once the op's fate is known: delivered, its slot filled, or refused for good. */
  async clearPending (name: string): Promise<void> {
    // no fsync: a record that comes back after a power cut is settled again (its slot is filled)
    await rm(this.pendingPath(name), { force: true })
  }
}

function parsePending (path: string, text: string): PendingOp {
  let v: { seq?: unknown, op?: unknown, hash?: unknown, network?: unknown }
  try { v = JSON.parse(text) } catch { throw new PendingCorruptError(path, 'not JSON') }
  if (v === null || typeof v !== 'object') throw new PendingCorruptError(path, 'not a record')
  const { seq, op, hash, network } = v
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new PendingCorruptError(path, 'bad seq')
  if (typeof op !== 'string' || !/^([0-9a-f]{2})+$/.test(op)) throw new PendingCorruptError(path, 'bad op')
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new PendingCorruptError(path, 'bad hash')
  if (network !== undefined && (typeof network !== 'string' || !/^[0-9a-f]{64}$/.test(network))) throw new PendingCorruptError(path, 'bad network')
  let decoded
  try { decoded = decodeOp(fromHex(op)) } catch (err) { throw new PendingCorruptError(path, `op: ${(err as Error).message}`) }
  if (toHex(decoded.hash) !== hash || decoded.seq !== seq) throw new PendingCorruptError(path, 'the op does not match its hash and seq')
  return { seq, op, hash, account: toHex(decoded.account), ...(network === undefined ? {} : { network }) }
}

class BftErrorName extends BftError {
  readonly code = 'ERR_BAD_NAME'
  constructor (name: string) { super(`"${name}" is not a valid account name (letters, digits, _ . -; up to 64)`) }
}

function nobleRandomSeed (): Uint8Array {
  return randomBytes(32)
}

/**
 * Writes a file whole and durably, or not at all: a synced temporary file linked into place, then
 * the directory synced. link() never replaces, so an existing file wins: returns false.
 */
async function writeDurable (path: string, text: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${toHex(randomBytes(4))}.tmp`
  const file = await open(tmp, 'wx', 0o600)
  try {
    try {
      await file.writeFile(text)
      await file.sync()
    } finally {
      await file.close()
    }
    try {
      await link(tmp, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw err
    }
  } finally {
    await rm(tmp, { force: true })
  }
  const dir = await open(dirname(path), 'r')
  try { await dir.sync() } finally { await dir.close() }
  return true
}
