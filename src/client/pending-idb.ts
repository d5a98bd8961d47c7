// Pending records in IndexedDB, for web apps: they survive a reload or a crashed tab, so a page
// that signed an op and lost the answer resubmits the same bytes next time instead of signing a
// second op for the slot. `set` checks and writes in one readwrite transaction (atomic across
// tabs of the origin) and resolves only when the transaction is complete, asking for `strict`
// durability (flushed to disk) where the browser supports the hint.

import { PendingExistsError } from './errors.js'
import type { PendingOp, PendingStore } from './pending.js'
import { pendingFromRecord, pendingRecord } from './pending.js'

// The few IndexedDB types used here (the library compiles without the DOM lib).
interface Req<T> { result: T, error: unknown, onsuccess: (() => void) | null, onerror: (() => void) | null }
interface OpenReq extends Req<Db> { onupgradeneeded: (() => void) | null, onblocked: (() => void) | null }
interface Db { objectStoreNames: { contains (name: string): boolean }, createObjectStore (name: string): unknown, transaction (store: string, mode: 'readonly' | 'readwrite', opts?: { durability: 'strict' }): Tx, close (): void }
interface Tx { objectStore (name: string): Store, oncomplete: (() => void) | null, onerror: (() => void) | null, onabort: (() => void) | null, error: unknown, abort (): void }
interface Store { get (key: string): Req<unknown>, put (value: unknown, key: string): Req<unknown>, delete (key: string): Req<unknown> }
interface Factory { open (name: string, version: number): OpenReq }

const STORE = 'pending'

export interface IdbPendingStoreOptions {
  /** The database name; one per app is enough (records are keyed by account). */
  readonly database?: string
  /** An IDBFactory; default: the global `indexedDB`. */
  readonly indexedDB?: unknown
}

export class IdbPendingStore implements PendingStore {
  private db: Promise<Db> | undefined
  private readonly name: string
  private readonly factory: Factory

  constructor (opts: IdbPendingStoreOptions = {}) {
    this.name = opts.database ?? 'bftnode-pending'
    const f = opts.indexedDB ?? (globalThis as { indexedDB?: unknown }).indexedDB
    if (f === undefined) throw new TypeError('IndexedDB is not available here; use another PendingStore')
    this.factory = f as Factory
  }

  private async open (): Promise<Db> {
    this.db ??= new Promise<Db>((resolve, reject) => {
      const req = this.factory.open(this.name, 1)
      req.onupgradeneeded = () => { if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE) }
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
      req.onblocked = () => reject(new Error(`IndexedDB ${this.name} is blocked by another tab holding an older version`))
    }).catch((err: unknown) => { this.db = undefined; throw err })
    return await this.db
  }

  /** Runs `body` in one transaction and resolves with what it produced once the transaction completed. */
  private async run<T> (mode: 'readonly' | 'readwrite', body: (store: Store, done: (value: T) => void, fail: (err: unknown) => void) => void): Promise<T> {
    const db = await this.open()
    return await new Promise<T>((resolve, reject) => {
      const tx = mode === 'readwrite' ? db.transaction(STORE, mode, { durability: 'strict' }) : db.transaction(STORE, mode)
      let value: T | undefined
      let failed: unknown
      tx.oncomplete = () => { if (failed === undefined) resolve(value as T); else reject(failed) }
      tx.onerror = () => reject(failed ?? tx.error)
      tx.onabort = () => reject(failed ?? tx.error ?? new Error('IndexedDB transaction aborted'))
      body(tx.objectStore(STORE), v => { value = v }, err => { failed = err; tx.abort() })
    })
  }

  async get (account: string): Promise<PendingOp | undefined> {
    const raw = await this.run<unknown>('readonly', (store, done) => {
      const req = store.get(account)
      req.onsuccess = () => done(req.result)
    })
    return raw === undefined ? undefined : pendingFromRecord(`IndexedDB ${this.name}/${account.slice(0, 16)}`, raw)
  }

  async set (account: string, op: PendingOp): Promise<void> {
    await this.run<undefined>('readwrite', (store, done, fail) => {
      const req = store.get(account)
      req.onsuccess = () => {
        if (req.result !== undefined) {
          let held: PendingOp
          try { held = pendingFromRecord(`IndexedDB ${this.name}/${account.slice(0, 16)}`, req.result) } catch (err) { fail(err); return }
          if (held.hash !== op.hash) { fail(new PendingExistsError(account.slice(0, 16), held)); return }
          done(undefined)
          return
        }
        store.put(pendingRecord(op), account)
        done(undefined)
      }
    })
  }

  /** With `hash`: only if the record still holds that op (checked and deleted in one transaction). */
  async clear (account: string, hash?: string): Promise<void> {
    await this.run<undefined>('readwrite', (store, done) => {
      if (hash === undefined) { store.delete(account); done(undefined); return }
      const req = store.get(account)
      req.onsuccess = () => {
        if ((req.result as { hash?: unknown } | null | undefined)?.hash === hash) store.delete(account)
        done(undefined)
      }
    })
  }

  /** Closes the database (a page about to go need not call it). */
  async close (): Promise<void> {
    const db = this.db
    this.db = undefined
    if (db !== undefined) (await db).close()
  }
}
