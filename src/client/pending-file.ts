// Pending records in files (Node only: not reachable from the browser entry). The files are the
// CLI wallet's own, `<name>.pending.json` in a directory, written the same durable way (a synced
// temporary file linked into place, so a second op for the slot is refused even across processes),
// so a program and the CLI sharing a wallet directory see one record per account: by default an
// account the wallet holds a key file for is recorded under that file's name, as the CLI does.

import { Wallet } from '../cli/wallet.js'
import { PendingCorruptError } from './errors.js'
import { accountOf } from './keyfile.js'
import type { PendingOp, PendingStore } from './pending.js'

export interface FilePendingStoreOptions {
  /**
   * The file name (before `.pending.json`) for an account key; default the name of the wallet's
   * key file for the account (by its id: the same file before and after a key rotation) if the directory holds one, else the key itself (hex).
   */
  readonly nameOf?: (account: string) => string
}

export class FilePendingStore implements PendingStore {
  private readonly wallet: Wallet
  private readonly nameOf: ((account: string) => string) | undefined

  constructor (readonly dir: string, opts: FilePendingStoreOptions = {}) {
    this.wallet = new Wallet(dir)
    this.nameOf = opts.nameOf
  }

  /** The CLI records an account's op under its wallet name: two names for one account would be two records. */
  private async store (account: string): Promise<PendingStore> {
    let name = this.nameOf?.(account)
    if (name === undefined) {
      const { accounts, broken } = await this.wallet.list()
      name = accounts.find(a => accountOf(a.file) === account)?.name
      if (name === undefined && broken.length > 0) {
        throw new PendingCorruptError(this.dir, `key file ${broken[0]!.path} is unreadable (${broken[0]!.reason}), so which name holds the pending record of ${account.slice(0, 16)} cannot be told`)
      }
      name ??= account
    }
    Wallet.checkName(name)
    return this.wallet.pendingStore(name)
  }

  async get (account: string): Promise<PendingOp | undefined> { return await (await this.store(account)).get(account) }
  /** Creates the directory if need be; the wallet's store writes the file durably. */
  async set (account: string, op: PendingOp): Promise<void> { await (await this.store(account)).set(account, op) }
  async clear (account: string, hash?: string): Promise<void> { await (await this.store(account)).clear(account, hash) }
}
