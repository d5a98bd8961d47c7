// The never-sign-twice record. Once an op is signed it is recorded, durably, before it is
// submitted, and it stays recorded until its fate is known (delivered, its slot filled by any op,
// or refused for good). While a record is held, sending settles it first, resubmitting the same
// bytes, and signs nothing else for the account: two different ops for one slot would make the
// account equivocate and lock its stream for good. A store is where the record lives: memory (a
// page that may lose it on reload: tests and throwaway keys only), IndexedDB (pending-idb.ts) or
// files (pending-file.ts, Node only).

import { fromHex, toHex } from '../core/crypto/hash.js'
import { decodeOp } from '../core/ledger/op.js'
import { PendingCorruptError, PendingExistsError } from './errors.js'

/** A signed op not yet known delivered: nothing else is signed for the account meanwhile. */
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

/**
 * Where pending records live, one per account (keyed by the account key, hex). `set` must be
 * durable when it resolves (the op is submitted right after), must be a no-op for the op already
 * held, and must refuse another op (PendingExistsError). `get` of a record it cannot read throws
 * (PendingCorruptError), never answers "none". `clear` is called only once the op's fate is known,
 * with the op's hash: it must then remove the record only if it still holds that op, since sends
 * sharing the store (concurrent sends, two tabs, two programs) may learn one op's fate late, after
 * another send recorded the account's next op (dropping that record would let a third send sign a
 * second op for its slot). Without a hash it removes whatever is held.
 */
export interface PendingStore {
  get (account: string): Promise<PendingOp | undefined>
  set (account: string, op: PendingOp): Promise<void>
  clear (account: string, hash?: string): Promise<void>
}

/** Checks a stored record (untrusted: disk, IndexedDB) and derives its account from the op itself. */
export function pendingFromRecord (where: string, v: unknown): PendingOp {
  if (v === null || typeof v !== 'object') throw new PendingCorruptError(where, 'not a record')
  const { seq, op, hash, network } = v as { seq?: unknown, op?: unknown, hash?: unknown, network?: unknown }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new PendingCorruptError(where, 'bad seq')
  if (typeof op !== 'string' || !/^([0-9a-f]{2})+$/.test(op)) throw new PendingCorruptError(where, 'bad op')
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new PendingCorruptError(where, 'bad hash')
  if (network !== undefined && (typeof network !== 'string' || !/^[0-9a-f]{64}$/.test(network))) throw new PendingCorruptError(where, 'bad network')
  let decoded
  try { decoded = decodeOp(fromHex(op)) } catch (err) { throw new PendingCorruptError(where, `op: ${(err as Error).message}`) }
  if (toHex(decoded.hash) !== hash || decoded.seq !== seq) throw new PendingCorruptError(where, 'the op does not match its hash and seq')
  return { seq, op, hash, account: toHex(decoded.account), ...(network === undefined ? {} : { network }) }
}

/** What a store keeps of a record (the account is derived from the op when it is read back). */
export function pendingRecord (p: PendingOp): { seq: number, op: string, hash: string, network?: string } {
  return { seq: p.seq, op: p.op, hash: p.hash, ...(p.network === undefined ? {} : { network: p.network }) }
}

/**
 * Records in memory: gone when the process or page goes, so an op whose fate was unknown then
 * could be followed by a second op for its slot. For tests and throwaway keys.
 */
export class MemoryPendingStore implements PendingStore {
  private readonly records = new Map<string, PendingOp>()

  async get (account: string): Promise<PendingOp | undefined> { return this.records.get(account) }

  async set (account: string, op: PendingOp): Promise<void> {
    const held = this.records.get(account)
    if (held !== undefined && held.hash !== op.hash) throw new PendingExistsError(account.slice(0, 16), held)
    this.records.set(account, op)
  }

  async clear (account: string, hash?: string): Promise<void> {
    if (hash === undefined || this.records.get(account)?.hash === hash) this.records.delete(account)
  }
}
