// The node's LevelDB (classic-level) in its data dir. One key prefix per kind of record, each
// behind a small repository; writes the protocol depends on (bindings, certificates) are synced
// before the call returns, because the replica sends votes only after they are on disk. Certified
// checkpoints (a certificate, a manifest and the snapshot's chunks) are kept for the newest few.

import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import type { PersistRecord } from '../core/broadcast/actions.js'
import { sha256, toHex } from '../core/crypto/hash.js'
import { decodeVoteEvidence, encodeVoteEvidence } from '../core/broadcast/evidence.js'
import { DataDirLockedError, StorageError } from './errors.js'
import { silentLogger } from '../node/log.js'
import type { Logger } from '../node/log.js'
import { LogThrottle } from '../node/log-throttle.js'

type Db = ClassicLevel<string, Uint8Array>

const PREFIX = {
  binding: 'b/',
  /** Ops hand-offs named for slots bound to another op (`o/<op hash>`): no vote there. */
  contested: 'o/',
  certificate: 'c/',
  sequencer: 's/',
  meta: 'm/',
  checkpoint: 'k/',
  checkpointSig: 'v/',
  /** The epoch chain (`e/<epoch>`), this validator's approvals (`a/<epoch>`) and finished hand-offs (`h/<epoch>`). */
  epoch: 'e/',
  approval: 'a/',
  handoffDone: 'h/',
  /** This node's state diverged (`x/<height>`: our root then the certified checkpoint message). */
  diverged: 'x/',
  /** Proofs that validators voted twice (`p/<validator hex>`, one each). */
  voteEvidence: 'p/'
} as const

const epochKey = (prefix: string, epoch: number): string => prefix + epoch.toString().padStart(12, '0')
const epochOf = (prefix: string, key: string): number => Number(key.slice(prefix.length))

/** Keys sort as strings: a fixed-width counter keeps certificates in the order they were accepted. */
const counterKey = (n: number): string => n.toString().padStart(12, '0')

/** Every key that starts with `prefix` (keys are ASCII: '\xff' sorts after all of them). */
const under = (prefix: string): { gte: string, lt: string } => ({ gte: prefix, lt: prefix + '\xff' })

/**
 * A checkpoint's keys: `k/<height, 16 digits>/` then `c` (certificate), `d/<chunk, 6 digits>` and
 * `m` (manifest), in that key order.
 */
const checkpointBase = (height: number): string => PREFIX.checkpoint + height.toString().padStart(16, '0') + '/'
const chunkKey = (height: number, index: number): string => checkpointBase(height) + 'd/' + index.toString().padStart(6, '0')
const heightOf = (key: string): number => Number(key.slice(PREFIX.checkpoint.length, PREFIX.checkpoint.length + 16))
const MAX_CHUNKS = 1_000_000

/** Deletions per batch when pruning: bounds the memory one batch holds. */
const PRUNE_BATCH = 1000

/** A synced write slower than this is reported (ms): votes wait on it, so the network does too. */
export const SLOW_WRITE_MS = 200
/** At most one slow-disk warning per this long (ms), with a count of the others. */
const SLOW_WRITE_REPORT_MS = 10_000

/** A certified checkpoint as stored: what a joining node needs to check and rebuild the state. */
export interface StoredCheckpoint {
  /** Total ops in the cut (below 2^53). */
  readonly height: number
  /** The encoded certified checkpoint. */
  readonly certificate: Uint8Array
  readonly manifest: Uint8Array
  readonly chunks: readonly Uint8Array[]
}

/** What `checkpoints()` lists: a stored checkpoint without its chunks. */
export type CheckpointSummary = Omit<StoredCheckpoint, 'chunks'>

/** A stored checkpoint signature: `v/<height>` holding the signed checkpoint message. */
function checkpointSigRecord (key: string, value: Uint8Array): PersistRecord {
  return { kind: 'checkpoint-sig', height: Number(key.slice(PREFIX.checkpointSig.length)), bytes: value }
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Heights fit the 16-digit keys and chunk indexes the 6-digit ones; anything else is a bug. */
function checkIndex (what: string, n: number, below: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n >= below) throw new RangeError(`${what} ${n} is not an integer in [0, ${below})`)
}

export class NodeDatabase {
  private certificateCount = 0
  private readonly slowWrites = new LogThrottle(SLOW_WRITE_REPORT_MS)

  private constructor (private readonly db: Db, readonly dir: string, private readonly log: Logger, private readonly slowWriteMs: number) {}

  /** `slowWriteMs`: a synced write slower than this is reported to `log` (tests set 0). */
  static async open (dir: string, log: Logger = silentLogger, slowWriteMs = SLOW_WRITE_MS): Promise<NodeDatabase> {
    await mkdir(dir, { recursive: true })
    const db: Db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw new DataDirLockedError(dir)
      throw new StorageError(`cannot open the database in ${dir}: ${(err as Error).message}`)
    }
    const store = new NodeDatabase(db, dir, log, slowWriteMs)
    for await (const key of db.keys({ gte: PREFIX.certificate, lt: PREFIX.certificate + '\xff', reverse: true, limit: 1 })) {
      store.certificateCount = Number(key.slice(PREFIX.certificate.length)) + 1
    }
    return store
  }

  /**
   * Writes what the replica asked to keep, durably, in one synced batch before returning: the
   * executor hands over every persist waiting in its queue at once (group commit), so a busy node
   * pays one fsync per batch of records, not one per record.
   */
  async persist (records: readonly PersistRecord[]): Promise<void> {
    const batch = this.db.batch()
    for (const record of records) {
      if (record.kind === 'bindings') {
        // keyed by op hash (the slot would need a decode); restore and pruning read the values
        for (const bytes of record.ops) batch.put(PREFIX.binding + toHex(sha256(bytes)), bytes)
      } else if (record.kind === 'contested') {
        for (const bytes of record.ops) batch.put(PREFIX.contested + toHex(sha256(bytes)), bytes)
      } else if (record.kind === 'certificate') {
        batch.put(PREFIX.certificate + counterKey(this.certificateCount++), record.bytes)
      } else if (record.kind === 'checkpoint-sig') {
        batch.put(PREFIX.checkpointSig + record.height.toString().padStart(16, '0'), record.bytes)
      } else if (record.kind === 'epoch') {
        batch.put(epochKey(PREFIX.epoch, record.epoch), record.bytes)
      } else if (record.kind === 'approval') {
        batch.put(epochKey(PREFIX.approval, record.epoch), record.bytes)
      } else if (record.kind === 'diverged') {
        batch.put(PREFIX.diverged + record.height.toString().padStart(16, '0'), concat(record.ours, record.certified))
      } else if (record.kind === 'vote-evidence') {
        batch.put(PREFIX.voteEvidence + toHex(record.evidence.voter), encodeVoteEvidence(record.evidence))
      } else {
        batch.put(epochKey(PREFIX.handoffDone, record.epoch), new Uint8Array(0))
      }
    }
    await this.timed('persist', records.length, async () => await batch.write({ sync: true }))
  }

  /** Runs a synced write and warns (throttled) when the disk took longer than SLOW_WRITE_MS. */
  private async timed (what: string, records: number, write: () => Promise<void>): Promise<void> {
    const started = performance.now()
    await write()
    const ms = Math.round(performance.now() - started)
    if (ms < this.slowWriteMs) return
    const held = this.slowWrites.take('write')
    if (held === undefined) return
    this.log.warn(`disk slow: a synced LevelDB write took ${ms} ms (over ${this.slowWriteMs} ms); votes wait for it`, { write: what, records, ms, ...(held > 0 ? { slowWritesNotShown: held } : {}) })
  }

  async pruneCheckpointSigs (prunable: (record: PersistRecord) => boolean): Promise<number> {
    return await this.prune(PREFIX.checkpointSig, (value, key) => prunable(checkpointSigRecord(key, value)))
  }

  /**
   * Everything the replica persisted, for Replica.restore: the epoch chain first (certificates
   * of later epochs are checked against it), approvals and hand-offs, bindings, checkpoint
   * signatures, then certificates in order.
   */
  async replicaRecords (): Promise<PersistRecord[]> {
    const records: PersistRecord[] = []
    for await (const [key, value] of this.db.iterator(under(PREFIX.diverged))) records.push({ kind: 'diverged', height: Number(key.slice(PREFIX.diverged.length)), ours: value.subarray(0, 32), certified: value.subarray(32) })
    for await (const value of this.db.values(under(PREFIX.voteEvidence))) records.push({ kind: 'vote-evidence', evidence: decodeVoteEvidence(value) })
    for await (const [key, value] of this.db.iterator(under(PREFIX.epoch))) records.push({ kind: 'epoch', epoch: epochOf(PREFIX.epoch, key), bytes: value })
    for await (const [key, value] of this.db.iterator(under(PREFIX.approval))) records.push({ kind: 'approval', epoch: epochOf(PREFIX.approval, key), bytes: value })
    for await (const key of this.db.keys(under(PREFIX.handoffDone))) records.push({ kind: 'handoff-done', epoch: epochOf(PREFIX.handoffDone, key) })
    const ops: Uint8Array[] = []
    for await (const value of this.db.values({ gte: PREFIX.binding, lt: PREFIX.binding + '\xff' })) ops.push(value)
    if (ops.length > 0) records.push({ kind: 'bindings', ops })
    const contested: Uint8Array[] = []
    for await (const value of this.db.values({ gte: PREFIX.contested, lt: PREFIX.contested + '\xff' })) contested.push(value)
    if (contested.length > 0) records.push({ kind: 'contested', ops: contested })
    for await (const [key, value] of this.db.iterator(under(PREFIX.checkpointSig))) records.push(checkpointSigRecord(key, value))
    for await (const value of this.db.values({ gte: PREFIX.certificate, lt: PREFIX.certificate + '\xff' })) records.push({ kind: 'certificate', bytes: value })
    return records
  }

  /** Execute ops this node's sequencer built, so a restart never signs a different one for the same slot. */
  async saveSequencerOp (contractHex: string, opBytes: Uint8Array): Promise<void> {
    await this.timed('sequencer op', 1, async () => await this.db.put(PREFIX.sequencer + contractHex, opBytes, { sync: true }))
  }

  async sequencerOps (): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const value of this.db.values({ gte: PREFIX.sequencer, lt: PREFIX.sequencer + '\xff' })) out.push(value)
    return out
  }

  /**
   * Stores a checkpoint and drops all but the newest `keep` (by height), in one synced batch: a
   * crash leaves either the old set or the new one. Saving a height again replaces it. Two saves
   * at once can at worst leave an extra checkpoint, which the next save drops.
   */
  async saveCheckpoint (cp: StoredCheckpoint, keep = 2): Promise<void> {
    checkIndex('checkpoint height', cp.height, Number.MAX_SAFE_INTEGER + 1)
    checkIndex('chunk count', cp.chunks.length, MAX_CHUNKS + 1)
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`cannot keep ${keep} checkpoints`)
    const heights = new Set(await this.checkpointHeights())
    heights.add(cp.height)
    const doomed = [...heights].sort((a, b) => b - a).slice(keep)
    if (doomed.includes(cp.height)) return // older than every checkpoint we keep
    // a replaced checkpoint may have had more chunks: clear it first (a batch applies in order)
    const stale: string[] = []
    for (const height of [cp.height, ...doomed]) {
      for await (const key of this.db.keys(under(checkpointBase(height)))) stale.push(key)
    }
    const batch = this.db.batch()
    for (const key of stale) batch.del(key)
    const base = checkpointBase(cp.height)
    batch.put(base + 'c', cp.certificate)
    batch.put(base + 'm', cp.manifest)
    cp.chunks.forEach((chunk, i) => batch.put(chunkKey(cp.height, i), chunk))
    await this.timed('checkpoint', stale.length + 2 + cp.chunks.length, async () => await batch.write({ sync: true }))
  }

  /**
   * The stored checkpoint with the highest height, chunks included. One backwards iterator reads
   * it all from one snapshot, so a checkpoint saved meanwhile cannot mix into it.
   */
  async latestCheckpoint (): Promise<StoredCheckpoint | undefined> {
    let base: string | undefined
    let certificate: Uint8Array | undefined
    let manifest: Uint8Array | undefined
    const chunks: Uint8Array[] = []
    for await (const [key, value] of this.db.iterator({ ...under(PREFIX.checkpoint), reverse: true })) {
      base ??= key.slice(0, checkpointBase(0).length)
      if (!key.startsWith(base)) break
      const part = key.slice(base.length)
      if (part === 'c') certificate = value
      else if (part === 'm') manifest = value
      else chunks.push(value)
    }
    if (base === undefined || certificate === undefined || manifest === undefined) return undefined
    return { height: heightOf(base), certificate, manifest, chunks: chunks.reverse() }
  }

  /** Every stored checkpoint, newest first, without chunks. */
  async checkpoints (): Promise<CheckpointSummary[]> {
    const out: CheckpointSummary[] = []
    for (const height of await this.checkpointHeights()) {
      const summary = await this.checkpointSummary(height)
      if (summary !== undefined) out.push(summary)
    }
    return out
  }

  async checkpointChunk (height: number, index: number): Promise<Uint8Array | undefined> {
    checkIndex('checkpoint height', height, Number.MAX_SAFE_INTEGER + 1)
    checkIndex('chunk index', index, MAX_CHUNKS)
    return await this.db.get(chunkKey(height, index))
  }

  /** Deletes the stored certificates `prunable` picks; returns how many. */
  async pruneCertificates (prunable: (bytes: Uint8Array) => boolean): Promise<number> {
    return await this.prune(PREFIX.certificate, prunable)
  }

  /** Deletes the stored bindings (signed op bytes) `prunable` picks; returns how many. */
  async pruneBindings (prunable: (opBytes: Uint8Array) => boolean): Promise<number> {
    return await this.prune(PREFIX.binding, prunable)
  }

  /** Total bytes of the files in the data dir (LevelDB keeps them flat there). */
  async sizeOnDisk (): Promise<number> {
    let total = 0
    for (const name of await readdir(this.dir)) {
      // compaction deletes files as we go: one that vanished no longer counts
      const info = await stat(join(this.dir, name)).catch(() => undefined)
      if (info?.isFile() === true) total += info.size
    }
    return total
  }

  /**
   * Pruning is not synced: a deletion lost in a crash only keeps extra history. The iterator
   * reads a snapshot, so deleting behind it is safe.
   */
  private async prune (prefix: string, prunable: (bytes: Uint8Array, key: string) => boolean): Promise<number> {
    let deleted = 0
    let keys: string[] = []
    const flush = async (): Promise<void> => {
      await this.db.batch(keys.map(key => ({ type: 'del' as const, key })))
      deleted += keys.length
      keys = []
    }
    for await (const [key, value] of this.db.iterator(under(prefix))) {
      if (!prunable(value, key)) continue
      keys.push(key)
      if (keys.length === PRUNE_BATCH) await flush()
    }
    await flush()
    return deleted
  }

  /** Stored checkpoint heights, highest first: one backwards step per checkpoint, not a scan of its chunks. */
  private async checkpointHeights (): Promise<number[]> {
    const heights: number[] = []
    let below = under(PREFIX.checkpoint).lt
    while (true) {
      let found: string | undefined
      for await (const key of this.db.keys({ gte: PREFIX.checkpoint, lt: below, reverse: true, limit: 1 })) found = key
      if (found === undefined) break
      const height = heightOf(found)
      heights.push(height)
      below = checkpointBase(height)
    }
    return heights
  }

  private async checkpointSummary (height: number): Promise<CheckpointSummary | undefined> {
    const base = checkpointBase(height)
    const [certificate, manifest] = await this.db.getMany([base + 'c', base + 'm'])
    if (certificate === undefined || manifest === undefined) return undefined
    return { height, certificate, manifest }
  }

  /**
   * For bftnode recover: forgets the state this node built (certificates, checkpoints) and that
   * it diverged, so the next start joins from a verified snapshot. Everything the node signed is
   * kept: bindings, checkpoint signatures, approvals, sequencer ops, and the epoch chain.
   * In the same write it records the lowest snapshot the next start may join from (meta
   * `recover`): the diverged cut, and never below the checkpoints it held (the slots behind them
   * have no bindings left) nor below an earlier recover's. A crash leaves all of it or none.
   */
  async clearDivergedState (): Promise<{ certificates: number, checkpoints: number, joinAtLeast: number }> {
    let certificates = 0
    let checkpoints = 0
    const earlier = await this.getMeta('recover')
    const joinAtLeast = Math.max(0, ...await this.divergedHeights(), ...await this.checkpointHeights(), earlier === undefined ? 0 : Number(new TextDecoder().decode(earlier)) || 0)
    const batch = this.db.batch()
    for await (const key of this.db.keys(under(PREFIX.certificate))) { batch.del(key); certificates++ }
    for await (const key of this.db.keys(under(PREFIX.checkpoint))) { batch.del(key); if (key.endsWith('/c')) checkpoints++ }
    for await (const key of this.db.keys(under(PREFIX.diverged))) batch.del(key)
    batch.put(PREFIX.meta + 'recover', new TextEncoder().encode(String(joinAtLeast)))
    await batch.write({ sync: true })
    this.certificateCount = 0
    return { certificates, checkpoints, joinAtLeast }
  }

  /** The divergence records kept here (see clearDivergedState): their heights. */
  async divergedHeights (): Promise<number[]> {
    const heights: number[] = []
    for await (const key of this.db.keys(under(PREFIX.diverged))) heights.push(Number(key.slice(PREFIX.diverged.length)))
    return heights
  }

  async getMeta (name: string): Promise<Uint8Array | undefined> {
    return await this.db.get(PREFIX.meta + name)
  }

  async putMeta (name: string, value: Uint8Array): Promise<void> {
    await this.db.put(PREFIX.meta + name, value, { sync: true })
  }

  async deleteMeta (name: string): Promise<void> {
    await this.db.del(PREFIX.meta + name, { sync: true })
  }

  async close (): Promise<void> {
    await this.db.close()
  }
}
