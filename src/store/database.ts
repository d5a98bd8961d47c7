// The node's LevelDB (classic-level) in its data dir. One key prefix per kind of record, each
// behind a small repository; writes the protocol depends on (bindings, certificates) are synced
// before the call returns, because the replica sends votes only after they are on disk.

import { mkdir } from 'node:fs/promises'
import { ClassicLevel } from 'classic-level'
import type { PersistRecord } from '../core/broadcast/actions.js'
import { decodeOp, slotKey } from '../core/ledger/op.js'
import { DataDirLockedError, StorageError } from './errors.js'

type Db = ClassicLevel<string, Uint8Array>

const PREFIX = {
  binding: 'b/',
  certificate: 'c/',
  sequencer: 's/',
  meta: 'm/'
} as const

/** Keys sort as strings: a fixed-width counter keeps certificates in the order they were accepted. */
const counterKey = (n: number): string => n.toString().padStart(12, '0')

export class NodeDatabase {
  private certificateCount = 0

  private constructor (private readonly db: Db, readonly dir: string) {}

  static async open (dir: string): Promise<NodeDatabase> {
    await mkdir(dir, { recursive: true })
    const db: Db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw new DataDirLockedError(dir)
      throw new StorageError(`cannot open the database in ${dir}: ${(err as Error).message}`)
    }
    const store = new NodeDatabase(db, dir)
    for await (const key of db.keys({ gte: PREFIX.certificate, lt: PREFIX.certificate + '\xff', reverse: true, limit: 1 })) {
      store.certificateCount = Number(key.slice(PREFIX.certificate.length)) + 1
    }
    return store
  }

  /** Writes what the replica asked to keep, durably (fsync) before returning. */
  async persist (record: PersistRecord): Promise<void> {
    if (record.kind === 'bindings') {
      const batch = this.db.batch()
      for (const bytes of record.ops) {
        const op = decodeOp(bytes)
        batch.put(PREFIX.binding + slotKey(op.account, op.seq), bytes)
      }
      await batch.write({ sync: true })
    } else {
      await this.db.put(PREFIX.certificate + counterKey(this.certificateCount++), record.bytes, { sync: true })
    }
  }

  /** Everything the replica persisted, for Replica.restore: bindings first, then certificates in order. */
  async replicaRecords (): Promise<PersistRecord[]> {
    const records: PersistRecord[] = []
    const ops: Uint8Array[] = []
    for await (const value of this.db.values({ gte: PREFIX.binding, lt: PREFIX.binding + '\xff' })) ops.push(value)
    if (ops.length > 0) records.push({ kind: 'bindings', ops })
    for await (const value of this.db.values({ gte: PREFIX.certificate, lt: PREFIX.certificate + '\xff' })) records.push({ kind: 'certificate', bytes: value })
    return records
  }

  /** Execute ops this node's sequencer built, so a restart never signs a different one for the same slot. */
  async saveSequencerOp (contractHex: string, opBytes: Uint8Array): Promise<void> {
    await this.db.put(PREFIX.sequencer + contractHex, opBytes, { sync: true })
  }

  async sequencerOps (): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const value of this.db.values({ gte: PREFIX.sequencer, lt: PREFIX.sequencer + '\xff' })) out.push(value)
    return out
  }

  async getMeta (name: string): Promise<Uint8Array | undefined> {
    return await this.db.get(PREFIX.meta + name)
  }

  async putMeta (name: string, value: Uint8Array): Promise<void> {
    await this.db.put(PREFIX.meta + name, value, { sync: true })
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}
