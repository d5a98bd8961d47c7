// Pending records in files (Node only: not reachable from the browser entry). The files are the
// CLI wallet's own, `<name>.pending.json` in a directory, written the same durable way (a synced
// temporary file linked into place, so a second op for the slot is refused even across processes),
// so a program and the CLI sharing a wallet directory see one record per account.

import { Wallet } from '../cli/wallet.js'
import type { PendingOp, PendingStore } from './pending.js'

export interface FilePendingStoreOptions {
  /** The file name (before `.pending.json`) for an account key; default the key itself (hex). */
  readonly nameOf?: (account: string) => string
}

export class FilePendingStore implements PendingStore {
  private readonly wallet: Wallet
  private readonly nameOf: (account: string) => string

  constructor (readonly dir: string, opts: FilePendingStoreOptions = {}) {
    this.wallet = new Wallet(dir)
    this.nameOf = opts.nameOf ?? (account => account)
  }

  async get (account: string): Promise<PendingOp | undefined> { return await this.wallet.pendingStore(this.nameOf(account)).get(account) }
  /** Creates the directory if need be; the wallet's store writes the file durably. */
  async set (account: string, op: PendingOp): Promise<void> { await this.wallet.pendingStore(this.nameOf(account)).set(account, op) }
  async clear (account: string, hash?: string): Promise<void> { await this.wallet.pendingStore(this.nameOf(account)).clear(account, hash) }
}
