// State snapshots: the ledger's state cut into chunks under a manifest, and the manifest's hash is
// the state root that checkpoints sign. A joiner checks each chunk against the manifest as it
// arrives, so any peer can serve any chunk and a bad one costs one retry, not the whole download.
//
// The state is a sequence of items in canonical order (accounts by id, each followed by its uncited
// credits, then each contract followed by its storage entries and queued calls); chunks are cut from it by size, deterministically, so
// every honest node derives byte-identical chunks and the same root from the same state.

import { decode, encode, compareBytes } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { concatBytes, sha256, toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { PUBLIC_KEY_BYTES } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { MAX_AMOUNT } from '../ledger/body.js'
import type { AccountEntry, ContractEntry, Credit, LedgerState } from '../ledger/ledger.js'
import type { QueuedCall } from '../ledger/contracts.js'
import { readSlot, slotValue } from '../ledger/slot.js'
import { MAX_VALUE_DEPTH, fromCodec, keyFromTag, keyTag, toCodec } from '../vm/values.js'
import { ContractError } from '../vm/errors.js'

export const SNAPSHOT_FORMAT = 'bftnode/state/v1'

export const SNAPSHOT_LIMITS = {
  /** A chunk closes once it holds this many bytes of items. */
  targetChunkBytes: 256 * 1024,
  /** Largest chunk accepted: one item may overshoot the target (a big storage value). */
  maxChunkBytes: 6 * 1024 * 1024,
  maxChunks: 1 << 16,
  maxItemsPerChunk: 100_000
} as const

export interface Manifest {
  readonly format: string
  /** Total ops delivered at the cut. */
  readonly height: number
  readonly supply: bigint
  readonly chunks: readonly Hash[]
}

export interface Snapshot {
  readonly root: Hash
  readonly manifest: Manifest
  readonly manifestBytes: Uint8Array
  readonly chunks: readonly Uint8Array[]
}

// ---------------------------------------------------------------------------------------------
// Building

/** An account's items: the account, then one item per uncited credit (credits sorted by source). */
export function accountItems (a: AccountEntry): Value[] {
  // one item per credit: an account may hold any number, a chunk holds a bounded item
  // a rotated key is appended only when there is one, so an unrotated account encodes as before
  return [['a', a.id, a.balance, a.nextSeq, ...(a.key === undefined ? [] : [a.key])], ...a.credits.map(c => ['r', a.id, c.source.account, c.source.seq, c.amount])]
}

/** A contract's items: the contract, its storage entries, then its queued calls. */
export function contractItems (c: ContractEntry): Value[] {
  return [
    ['c', c.address, c.code, c.sequencer, slotValue(c.deployedAt), c.lastTime, ...(c.rotated === true ? [true] : [])],
    ...c.storage.map(([tag, v]) => ['s', c.address, tag, toCodec(v)]),
    // a call's deadline is appended only when it has one, so one state has one encoding
    ...c.queue.map(q => ['q', c.address, slotValue(q.id), q.caller, q.fn, [...q.args], q.value, q.gasLimit, ...(q.deadline === undefined ? [] : [q.deadline])])
  ]
}

function * encodedItems (state: LedgerState): Generator<Uint8Array> {
  for (const a of state.accounts) for (const item of accountItems(a)) yield encode(item)
  for (const c of state.contracts) for (const item of contractItems(c)) yield encode(item)
}

/** Cuts the state into chunks and computes its manifest and root. */
export function buildSnapshot (state: LedgerState): Snapshot {
  const height = state.accounts.reduce((n, a) => n + a.nextSeq - 1, 0)
  return snapshotOf(encodedItems(state), height, state.supply)
}

/**
 * The snapshot of a state given as its items' encodings in canonical order (see buildSnapshot):
 * a ledger that keeps its accounts' encodings feeds them here without re-encoding the state.
 */
export function snapshotOf (items: Iterable<Uint8Array>, height: number, supply: bigint): Snapshot {
  const chunks: Uint8Array[] = []
  let pending: Uint8Array[] = []
  let size = 0
  const close = (): void => {
    chunks.push(concatBytes(arrayHeader(pending.length), ...pending))
    pending = []
    size = 0
  }
  for (const bytes of items) {
    pending.push(bytes)
    size += bytes.length
    if (size >= SNAPSHOT_LIMITS.targetChunkBytes) close()
  }
  if (pending.length > 0 || chunks.length === 0) close()
  const manifest: Manifest = { format: SNAPSHOT_FORMAT, height, supply, chunks: chunks.map(c => sha256(c)) }
  const manifestBytes = encodeManifest(manifest)
  return { root: sha256(manifestBytes), manifest, manifestBytes, chunks }
}

/** The CBOR header of a definite-length array: a chunk is its items' encodings behind one. */
function arrayHeader (n: number): Uint8Array {
  if (n < 24) return Uint8Array.of(0x80 | n)
  if (n < 0x100) return Uint8Array.of(0x98, n)
  if (n < 0x10000) return Uint8Array.of(0x99, n >> 8, n & 0xff)
  return Uint8Array.of(0x9a, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

export function encodeManifest (m: Manifest): Uint8Array {
  return encode({ format: m.format, height: m.height, supply: m.supply, chunks: [...m.chunks] })
}

export function manifestRoot (manifestBytes: Uint8Array): Hash {
  return sha256(manifestBytes)
}

// ---------------------------------------------------------------------------------------------
// Reading untrusted bytes

export function decodeManifest (bytes: Uint8Array): Manifest {
  const v = decode(bytes, { maxBytes: 64 + SNAPSHOT_LIMITS.maxChunks * 40, maxDepth: 2, maxItems: SNAPSHOT_LIMITS.maxChunks })
  const m = read.map(v, 'manifest', ['format', 'height', 'supply', 'chunks'])
  const format = read.text(m.format, 'manifest.format', 64)
  if (format !== SNAPSHOT_FORMAT) throw new MalformedError(`manifest: unknown format ${JSON.stringify(format)}`)
  const chunks = read.list(m.chunks, 'manifest.chunks', SNAPSHOT_LIMITS.maxChunks).map((h, i) => read.bytes(h, `manifest.chunks[${i}]`, 32))
  if (chunks.length === 0) throw new MalformedError('manifest: no chunks')
  return { format, height: read.uint(m.height, 'manifest.height'), supply: read.bigint(m.supply, 'manifest.supply', 0n, MAX_AMOUNT), chunks }
}

/** Checks a chunk against the manifest before anything decodes it. */
export function chunkMatches (manifest: Manifest, index: number, bytes: Uint8Array): boolean {
  const want = manifest.chunks[index]
  if (want === undefined || bytes.length > SNAPSHOT_LIMITS.maxChunkBytes) return false
  return toHex(sha256(bytes)) === toHex(want)
}

/** Written only as `true` (absent otherwise), so each state has one encoding. */
function rotatedFlag (v: Value | undefined, what: string): true {
  if (v !== true) throw new MalformedError(`${what}: expected true`)
  return true
}

const CHUNK_DECODE = { maxBytes: SNAPSHOT_LIMITS.maxChunkBytes, maxDepth: MAX_VALUE_DEPTH + 4, maxItems: SNAPSHOT_LIMITS.maxItemsPerChunk }

/**
 * Every item of a snapshot, chunk by chunk, each chunk checked against the manifest first: the
 * reader of an algorithm other than the ledger (see core/algorithm) parses the items it wrote.
 */
export function * snapshotItems (manifest: Manifest, chunks: readonly Uint8Array[]): Generator<{ item: Value, what: string }> {
  if (chunks.length !== manifest.chunks.length) throw new MalformedError(`snapshot: ${chunks.length} chunks for a manifest of ${manifest.chunks.length}`)
  for (let ci = 0; ci < chunks.length; ci++) {
    const bytes = chunks[ci]
    if (bytes === undefined || !chunkMatches(manifest, ci, bytes)) throw new MalformedError(`snapshot: chunk ${ci} is missing or does not match the manifest`)
    const list = read.list(decode(bytes, CHUNK_DECODE), `chunk ${ci}`, SNAPSHOT_LIMITS.maxItemsPerChunk)
    for (let ii = 0; ii < list.length; ii++) yield { item: list[ii]!, what: `chunk ${ci} item ${ii}` }
  }
}

/**
 * Rebuilds the state from a manifest and its chunks (each already matched against the manifest).
 * Throws MalformedError on anything out of shape or out of order; the caller then rebuilds the
 * ledger and checks that its root is the manifest's hash, which proves the whole reading exact.
 */
export function readSnapshot (manifest: Manifest, chunks: readonly Uint8Array[]): LedgerState {
  if (chunks.length !== manifest.chunks.length) throw new MalformedError(`snapshot: ${chunks.length} chunks for a manifest of ${manifest.chunks.length}`)
  for (let i = 0; i < chunks.length; i++) if (chunks[i] === undefined) throw new MalformedError(`snapshot: chunk ${i} is missing`)
  const accounts: Array<AccountEntry & { credits: Credit[] }> = []
  const contracts: Array<ContractEntry & { storage: Array<readonly [string, ReturnType<typeof fromCodec>]>, queue: QueuedCall[] }> = []
  chunks.forEach((bytes, ci) => {
    if (!chunkMatches(manifest, ci, bytes)) throw new MalformedError(`snapshot: chunk ${ci} does not match the manifest`)
    const list = read.list(decode(bytes, CHUNK_DECODE), `chunk ${ci}`, SNAPSHOT_LIMITS.maxItemsPerChunk)
    list.forEach((item, ii) => {
      const what = `chunk ${ci} item ${ii}`
      const f = read.list(item, what, 9)
      const kind = read.text(f[0], `${what}.kind`, 1)
      const current = contracts[contracts.length - 1]
      switch (kind) {
        case 'a': {
          if (contracts.length > 0) throw new MalformedError(`${what}: account after contracts`)
          const id = read.bytes(f[1], `${what}.id`, PUBLIC_KEY_BYTES)
          const prev = accounts[accounts.length - 1]
          if (prev !== undefined && compareBytes(prev.id, id) >= 0) throw new MalformedError(`${what}: accounts out of order`)
          accounts.push({ id, balance: read.bigint(f[2], `${what}.balance`, 0n, MAX_AMOUNT), nextSeq: read.uint(f[3], `${what}.nextSeq`), credits: [], ...(f.length > 4 ? { key: read.bytes(f[4], `${what}.key`, PUBLIC_KEY_BYTES) } : {}) })
          break
        }
        case 'r': {
          const owner = accounts[accounts.length - 1]
          if (contracts.length > 0 || owner === undefined || compareBytes(owner.id, read.bytes(f[1], `${what}.account`, PUBLIC_KEY_BYTES)) !== 0) throw new MalformedError(`${what}: credit outside its account`)
          const credit = { source: { account: read.bytes(f[2], `${what}.source`, PUBLIC_KEY_BYTES), seq: read.uint(f[3], `${what}.seq`) }, amount: read.bigint(f[4], `${what}.amount`, 1n, MAX_AMOUNT) }
          const last = owner.credits[owner.credits.length - 1]
          if (last !== undefined && (compareBytes(last.source.account, credit.source.account) || last.source.seq - credit.source.seq) >= 0) throw new MalformedError(`${what}: credits out of order`)
          owner.credits.push(credit)
          break
        }
        case 'c': {
          const address = read.bytes(f[1], `${what}.address`, 32)
          if (current !== undefined && compareBytes(current.address, address) >= 0) throw new MalformedError(`${what}: contracts out of order`)
          contracts.push({
            address,
            code: read.text(f[2], `${what}.code`, 1 << 20),
            sequencer: read.bytes(f[3], `${what}.sequencer`, PUBLIC_KEY_BYTES),
            deployedAt: readSlot(f[4], `${what}.deployedAt`),
            lastTime: read.uint(f[5], `${what}.lastTime`),
            storage: [],
            queue: [],
            ...(f.length > 6 ? { rotated: rotatedFlag(f[6], `${what}.rotated`) } : {})
          })
          break
        }
        case 's': {
          if (current === undefined || compareBytes(current.address, read.bytes(f[1], `${what}.address`, 32)) !== 0) throw new MalformedError(`${what}: storage outside its contract`)
          const tag = read.text(f[2], `${what}.tag`, 1 << 20)
          const last = current.storage[current.storage.length - 1]
          if (last !== undefined && last[0] >= tag) throw new MalformedError(`${what}: storage out of order`)
          try {
            if (keyTag(keyFromTag(tag)) !== tag) throw new MalformedError(`${what}: non-canonical key tag`)
            current.storage.push([tag, fromCodec(f[3] ?? null)])
          } catch (err) {
            if (err instanceof ContractError) throw new MalformedError(`${what}: ${err.message}`)
            throw err
          }
          break
        }
        case 'q': {
          if (current === undefined || compareBytes(current.address, read.bytes(f[1], `${what}.address`, 32)) !== 0) throw new MalformedError(`${what}: queued call outside its contract`)
          const id = readSlot(f[2], `${what}.id`)
          current.queue.push({
            id,
            caller: read.bytes(f[3], `${what}.caller`, PUBLIC_KEY_BYTES),
            fn: read.text(f[4], `${what}.fn`, 256),
            args: read.list(f[5], `${what}.args`, 1 << 16),
            value: read.bigint(f[6], `${what}.value`, 0n, MAX_AMOUNT),
            gasLimit: read.uint(f[7], `${what}.gasLimit`),
            ...(f.length > 8 ? { deadline: read.uint(f[8], `${what}.deadline`) } : {})
          })
          break
        }
        default: throw new MalformedError(`${what}: unknown item kind ${JSON.stringify(kind)}`)
      }
    })
  })
  return { supply: manifest.supply, accounts, contracts }
}
