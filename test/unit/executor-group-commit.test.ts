// Review: group commit in the executor, randomized. Invariants: every persist is written exactly
// once, records in queue order; no other action runs before every persist queued ahead of it is
// written (resolved); settled() resolves only when all is done; compaction with holes is harmless.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Action, PersistRecord } from '../../src/core/broadcast/actions.js'
import { ActionExecutor } from '../../src/host/executor.js'
import type { ActionPorts } from '../../src/host/ports.js'

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

describe('executor group commit over random schedules', () => {
  for (let seed = 1; seed <= 20; seed++) {
    test(`seed ${seed}`, async () => {
      const r = rng(seed)
      let next = 0
      const written: number[] = [] // persist ids, once resolved
      const sent: Array<{ id: number, writtenBefore: number }> = []
      const pending: Array<() => void> = []
      const ports = {
        network: { send: (to: string) => { sent.push({ id: Number(to), writtenBefore: written.length }) }, publish: () => {} },
        store: {
          persist: (records: readonly PersistRecord[]) => {
            const ids = records.map(x => (x as { bytes: Uint8Array }).bytes[0]! + 256 * (x as { bytes: Uint8Array }).bytes[1]! + 65536 * (x as { bytes: Uint8Array }).bytes[2]!)
            if (r() < 0.3) { written.push(...ids); return }
            return new Promise<void>(resolve => pending.push(() => { written.push(...ids); resolve() }))
          }
        },
        deliveries: { delivered: () => {}, dropped: () => {} },
        checkpoints: { certified: () => {} },
        sync: { behind: () => {} },
        misbehaviour: { validatorVotedTwice: () => {} }
      } as unknown as ActionPorts
      const ex = new ActionExecutor(ports, err => { throw err })
      const persistsBefore = new Map<number, number>() // send id -> persists queued before it
      let persistsQueued = 0
      for (let step = 0; step < 400; step++) {
        const list: Action[] = []
        const n = 1 + Math.floor(r() * 20)
        for (let i = 0; i < n; i++) {
          const id = next++
          if (r() < 0.6) {
            list.push({ type: 'persist', record: { kind: 'certificate', bytes: new Uint8Array([id & 255, (id >> 8) & 255, id >> 16]) } })
            persistsQueued++
          } else {
            persistsBefore.set(id, persistsQueued)
            list.push({ type: 'send', to: String(id), bytes: new Uint8Array(), kind: 'vote' })
          }
        }
        ex.execute(list)
        while (pending.length > 0 && r() < 0.5) { pending.shift()!(); await Promise.resolve(); await Promise.resolve() }
      }
      const done = ex.settled()
      while (pending.length > 0 || !ex.idle) { pending.shift()?.(); await new Promise(resolve => setImmediate(resolve)) }
      await done
      assert.equal(written.length, persistsQueued, 'each persist written once')
      assert.deepEqual(written, [...written].sort((a, b) => a - b), 'records in order')
      assert.equal(sent.length, persistsBefore.size, 'every send ran')
      for (const s of sent) assert.ok(s.writtenBefore >= persistsBefore.get(s.id)!, `send ${s.id} left before a persist queued ahead of it was written`)
    })
  }
})
