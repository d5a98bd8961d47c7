// The CLI's wallet (it uses the file system, so it lives here and not in client/): a directory of
// key files, one per named account, plus the op each account signed but has not seen delivered.
// An account that rotated its key keeps its id: its key file then names the account (`account`)
// beside the key in force, the key it replaced is kept as `<name>.retired-<n>.key`, and a new key
// waits as `<name>.next.key` from before the rotation is signed until it is delivered.
// A wallet never signs two ops for one slot: while an op is pending, the next command resubmits it
// instead of signing another (which would make the account equivocate and lock its stream).

import { randomBytes } from '@noble/ciphers/utils.js'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { BftError } from '../core/errors.js'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { nobleScheme } from '../core/crypto/noble.js'
import { signerFrom } from '../core/crypto/signing.js'
import type { Signer } from '../core/crypto/signing.js'
import { accountOf, InvalidKeyFileError, openKey, parseKeyFile, sealKey } from '../client/keyfile.js'
import type { KeyFile } from '../client/keyfile.js'
import { PendingCorruptError as PendingRecordCorruptError, PendingExistsError } from '../client/errors.js'
import { pendingFromRecord, pendingRecord } from '../client/pending.js'
import type { PendingOp, PendingStore } from '../client/pending.js'
import { removeFiles, replaceFile, writeNewFile } from './durable-file.js'

export class UnknownAccountError extends BftError {
  readonly code = 'ERR_UNKNOWN_ACCOUNT'
  constructor (name: string, dir: string) { super(`no account "${name}" in wallet ${dir} (see \`bftnode account list\`)`) }
}

export class AccountExistsError extends BftError {
  readonly code = 'ERR_ACCOUNT_EXISTS'
  constructor (name: string) { super(`an account named "${name}" already exists in this wallet`) }
}

/** The pending-op file cannot be read: it may hold an op already sent, so nothing new is signed. */
export class PendingCorruptError extends PendingRecordCorruptError {
  constructor (path: string, why: string) {
    super(path, why, `the wallet's pending-op file ${path} is unreadable (${why}); it may hold an op already sent, so the wallet signs nothing more for this account until the file is restored, or removed once no op of this account can still be in flight`)
  }
}

export { PendingExistsError }
export type { PendingOp }

/** One key may live under one name only: each name has its own pending op, so two could sign two ops for one slot. */
export class KeyInWalletError extends BftError {
  readonly code = 'ERR_KEY_IN_WALLET'
  constructor (name: string) { super(`this key is already in the wallet as "${name}"; one key under two names could sign two ops for one slot`) }
}

/** An account with an op in flight is not deleted: its pending record is what stops a second op for the slot. */
export class AccountBusyError extends BftError {
  readonly code = 'ERR_ACCOUNT_BUSY'
  constructor (name: string, why: string) { super(`account "${name}" ${why}; run any op command for it to settle the op first, or pass --force if you know it cannot be delivered any more`) }
}

/** A key file the wallet holds but cannot read, and why. */
export interface BrokenKeyFile { readonly path: string, readonly reason: string }

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

export class Wallet {
  constructor (readonly dir: string) {}

  keyPath (name: string): string { return join(this.dir, `${name}.key.json`) }
  /** A key made for a rotation of `name` not yet known delivered (not a `.key.json`: no account of its own). */
  nextKeyPath (name: string): string { return join(this.dir, `${name}.next.key`) }
  retiredKeyPath (name: string, n: number): string { return join(this.dir, `${name}.retired-${n}.key`) }
  private pendingPath (name: string): string { return join(this.dir, `${name}.pending.json`) }

  static checkName (name: string): void {
    if (!NAME.test(name)) throw new BftErrorName(name)
  }

  async create (name: string, passphrase: string | undefined, seed: Uint8Array = nobleRandomSeed()): Promise<KeyFile> {
    Wallet.checkName(name)
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    if (await this.exists(name)) throw new AccountExistsError(name)
    return await this.add(name, await sealKey(name, seed, passphrase))
  }

  /** Adds a key file (made here or imported) under a new name; a key already held under any name is refused. */
  async add (name: string, file: KeyFile): Promise<KeyFile> {
    Wallet.checkName(name)
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    if (await this.exists(name)) throw new AccountExistsError(name)
    const { accounts } = await this.list()
    const holder = accounts.find(a => a.file.publicKey === file.publicKey || accountOf(a.file) === accountOf(file))
    if (holder !== undefined) throw new KeyInWalletError(holder.name)
    const named: KeyFile = { ...file, name }
    if (!await writeNewFile(this.keyPath(name), JSON.stringify(named, null, 2) + '\n')) throw new AccountExistsError(name)
    return named
  }

  /** Replaces an account's key file in one step (a new passphrase, or none): never half written. */
  async rewrite (name: string, file: KeyFile): Promise<void> {
    const old = await this.load(name)
    if (old.publicKey !== file.publicKey) throw new Error(`internal: rewriting ${name} with another key`)
    // the account it signs for stays, whatever made the new file
    await replaceFile(this.keyPath(name), JSON.stringify({ ...file, name, ...(old.account === undefined ? {} : { account: old.account }) }, null, 2) + '\n')
  }

  /** Deletes an account's key (and its pending record, when forced). Refused while an op may be in flight. */
  async remove (name: string, force: boolean): Promise<void> {
    await this.load(name).catch((err: unknown) => { if (!(force && err instanceof InvalidKeyFileError)) throw err })
    if (!force) {
      let held: PendingOp | undefined
      try { held = await this.pending(name) } catch (err) {
        if (err instanceof PendingCorruptError) throw new AccountBusyError(name, `has an unreadable pending-op file (${err.message})`)
        throw err
      }
      if (held !== undefined) throw new AccountBusyError(name, `has op ${held.hash.slice(0, 16)} (seq ${held.seq}) pending, which may still be delivered`)
      // a staged key may be the only one that signs for the account once its rotation lands
      if (await this.nextKey(name).catch(() => undefined) !== undefined) throw new AccountBusyError(name, `has a key rotation that did not finish (${this.nextKeyPath(name)}); finish it with \`bftnode account rotate-key --name ${name}\`, or remove with --force`)
    }
    // forced: the staged key goes too, or a new account of this name would inherit a rotation
    await removeFiles(this.dir, [this.keyPath(name), this.pendingPath(name), this.nextKeyPath(name)])
  }

  async exists (name: string): Promise<boolean> {
    return await readFile(this.keyPath(name)).then(() => true, () => false)
  }

  /** Every key file in the wallet, and those it cannot read with the reason: a damaged key is reported, never hidden. */
  async list (): Promise<{ accounts: Array<{ name: string, file: KeyFile }>, broken: BrokenKeyFile[] }> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const accounts: Array<{ name: string, file: KeyFile }> = []
    const broken: BrokenKeyFile[] = []
    for (const n of names.filter(n => n.endsWith('.key.json')).sort()) {
      const path = join(this.dir, n)
      try {
        accounts.push({ name: n.slice(0, -'.key.json'.length), file: parseKeyFile(await readFile(path, 'utf8'), `key file ${path}`) })
      } catch (err) {
        broken.push({ path, reason: err instanceof InvalidKeyFileError ? err.reason : (err as NodeJS.ErrnoException).code ?? (err as Error).message })
      }
    }
    return { accounts, broken }
  }

  async load (name: string): Promise<KeyFile> {
    Wallet.checkName(name)
    const path = this.keyPath(name)
    let text: string
    try { text = await readFile(path, 'utf8') } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UnknownAccountError(name, this.dir)
      throw new InvalidKeyFileError(`key file ${path}`, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    return parseKeyFile(text, `key file ${path}`)
  }

  /** The seed of an account, checked against its public key; errors name the key file. */
  async seed (name: string, passphrase: string | undefined): Promise<Uint8Array> {
    return await openKey(await this.load(name), passphrase, `key file ${this.keyPath(name)}`)
  }

  async unlock (name: string, passphrase: string | undefined): Promise<Signer> {
    return signerFrom(nobleScheme, await this.seed(name, passphrase))
  }

  /** A name in this wallet, or a 64-hex-digit account key, to the account's id (its first key, whatever key signs for it now). */
  async resolve (ref: string): Promise<Uint8Array> {
    if (/^[0-9a-f]{64}$/.test(ref)) return fromHex(ref)
    return fromHex(accountOf(await this.load(ref)))
  }

  /** The account id of a wallet account, hex. */
  async account (name: string): Promise<string> {
    return accountOf(await this.load(name))
  }

  /** The key made for a rotation of `name` that is not finished, if any. */
  async nextKey (name: string): Promise<KeyFile | undefined> {
    Wallet.checkName(name)
    const path = this.nextKeyPath(name)
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined
      throw new InvalidKeyFileError(`key file ${path}`, `cannot read it (${err.code ?? err.message})`)
    })
    return text === undefined ? undefined : parseKeyFile(text, `key file ${path}`)
  }

  /**
   * Keeps, durably, the key a rotation of `name` moves to, before the rotation is signed: if it
   * is delivered, this is the only key that signs for the account. False if one is kept already.
   */
  async stageNextKey (name: string, file: KeyFile): Promise<boolean> {
    Wallet.checkName(name)
    return await writeNewFile(this.nextKeyPath(name), JSON.stringify({ ...file, name }, null, 2) + '\n')
  }

  /**
   * The rotation of `name` is delivered: the next key becomes the account's key (naming the
   * account), and the key it replaces is kept as `<name>.retired-<n>.key`, never deleted. Each
   * step leaves both keys on disk, so a crash between them loses neither. Returns the retired
   * file's path.
   */
  async finishRotation (name: string): Promise<string> {
    const old = await this.load(name)
    const next = await this.nextKey(name)
    if (next === undefined) throw new Error(`internal: no next key for ${name}`)
    // switched already (a crash before the next key's file went): only that file is left to go
    if (old.publicKey === next.publicKey) { await rm(this.nextKeyPath(name), { force: true }); return '' }
    const oldText = await readFile(this.keyPath(name), 'utf8')
    let retired = ''
    for (let n = 1; ; n++) {
      const path = this.retiredKeyPath(name, n)
      const held = await readFile(path, 'utf8').catch(() => undefined)
      if (held === oldText) { retired = path; break }
      if (held === undefined && await writeNewFile(path, oldText)) { retired = path; break }
    }
    await replaceFile(this.keyPath(name), JSON.stringify({ ...next, name, account: accountOf(old) }, null, 2) + '\n')
    await rm(this.nextKeyPath(name), { force: true })
    return retired
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
      if (await writeNewFile(this.pendingPath(name), text)) return
      const held = await this.pending(name)
      // gone between the two: another command settled it, so try again
      if (held === undefined) continue
      if (held.hash === toHex(hash)) return
      throw new PendingExistsError(name, held)
    }
  }

  /**
   * Only once the op's fate is known: delivered, its slot filled, or refused for good. With `hash`,
   * only if the file still holds that op: another command may have settled it and recorded the
   * account's next op since, and that record must stay.
   */
  async clearPending (name: string, hash?: string): Promise<void> {
    if (hash !== undefined) {
      const text = await readFile(this.pendingPath(name), 'utf8').catch(() => undefined)
      let held: unknown
      try { held = text === undefined ? undefined : JSON.parse(text) } catch { return }
      if ((held as { hash?: unknown } | undefined)?.hash !== hash) return
    }
    // no fsync: a record that comes back after a power cut is settled again (its slot is filled)
    await rm(this.pendingPath(name), { force: true })
  }

  /**
   * Moves the record from the op `held` to the account's later op `next` in one step (a run of
   * ops, bench.ts: its highest op that may have left): never a moment without a record. False,
   * writing nothing, if the file no longer holds `held`.
   */
  async replacePending (name: string, held: string, next: PendingOp): Promise<boolean> {
    if ((await this.pending(name))?.hash !== held) return false
    await replaceFile(this.pendingPath(name), JSON.stringify(pendingRecord(next)) + '\n')
    return true
  }

  /**
   * The account's pending record as the client library's PendingStore (the same file). Bound to
   * the name: the account key a call passes is not used to find the file, and a record signed by
   * another key is caught when the client compares it with its signer.
   */
  pendingStore (name: string): PendingStore {
    return {
      get: async () => await this.pending(name),
      set: async (_account, p) => {
        await mkdir(this.dir, { recursive: true, mode: 0o700 })
        await this.setPending(name, p.seq, fromHex(p.op), fromHex(p.hash), p.network)
      },
      clear: async (_account, hash) => { await this.clearPending(name, hash) }
    }
  }
}

function parsePending (path: string, text: string): PendingOp {
  let v: unknown
  try { v = JSON.parse(text) } catch { throw new PendingCorruptError(path, 'not JSON') }
  try {
    return pendingFromRecord(path, v)
  } catch (err) {
    // the same checks as every store's, with the file's own message
    if (err instanceof PendingRecordCorruptError) throw new PendingCorruptError(path, err.why)
    throw err
  }
}

class BftErrorName extends BftError {
  readonly code = 'ERR_BAD_NAME'
  constructor (name: string) { super(`"${name}" is not a valid account name (letters, digits, _ . -; up to 64)`) }
}

function nobleRandomSeed (): Uint8Array {
  return randomBytes(32)
}
