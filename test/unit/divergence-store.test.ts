// What the divergence work keeps in the node's database must come back on the next start, and
// bftnode recover's clearing must leave a node that cannot vote on a state behind what it had.

import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeDatabase } from '../../src/store/database.js'
import { MESSAGE_LIMITS } from '../../src/core/broadcast/messages.js'
import { MAX_BATCH_BYTES } from '../../src/core/broadcast/proposer.js'
import { OP_LIMITS } from '../../src/core/ledger/op.js'
import type { VoteEvidence } from '../../src/core/broadcast/evidence.js'

const dirs: string[] = []
const freshDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'bftnode-divstore-'))
  dirs.push(d)
  return d
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('vote evidence on disk', () => {
  test('a proof built from two full batches (each near a message) is read back at the next start', async () => {
    // the finder builds it from a certificate (up to a whole message) and a batch pending here
    // (up to MAX_BATCH_BYTES of ops): together more than one message
    const opBytes = OP_LIMITS.maxOpBytes - 1024
    const ops = Array.from({ length: Math.floor(MAX_BATCH_BYTES / opBytes) }, (_, i) => bytes(opBytes, i))
    const ev: VoteEvidence = { voter: bytes(32, 7), certificate: bytes(MESSAGE_LIMITS.maxMessageBytes - 64, 1), ops, sig: bytes(64, 9), epoch: 0 }
    const dir = await freshDir()
    let db = await NodeDatabase.open(dir)
    await db.persist([{ kind: 'vote-evidence', evidence: ev }])
    await db.close()
    db = await NodeDatabase.open(dir)
    try {
      const records = await db.replicaRecords()
      const kept = records.filter(r => r.kind === 'vote-evidence')
      assert.equal(kept.length, 1)
      assert.deepEqual(kept[0]!.kind === 'vote-evidence' ? kept[0]!.evidence.ops.length : -1, ops.length)
    } finally {
      await db.close()
    }
  })
})

describe('bftnode recover clears the built state in one write', () => {
  const checkpoint = (height: number): Parameters<NodeDatabase['saveCheckpoint']>[0] => ({ height, certificate: bytes(8, 1), manifest: bytes(8, 2), chunks: [bytes(8, 3)] })
  const marker = async (db: NodeDatabase): Promise<number | undefined> => {
    const m = await db.getMeta('recover')
    return m === undefined ? undefined : Number(new TextDecoder().decode(m))
  }

  test('the clearing itself leaves the join marker: no crash point gives a cleared node that starts from genesis', async () => {
    const db = await NodeDatabase.open(await freshDir())
    try {
      await db.saveCheckpoint(checkpoint(100))
      await db.persist([{ kind: 'diverged', height: 150, ours: bytes(32, 4), certified: bytes(16, 5) }])
      await db.clearDivergedState()
      assert.equal(await marker(db), 150)
      assert.deepEqual(await db.divergedHeights(), [])
      assert.equal(await db.latestCheckpoint(), undefined)
    } finally {
      await db.close()
    }
  })

  test('--force on a node that held checkpoints: it joins no lower than the highest (slots behind it have no bindings left)', async () => {
    const db = await NodeDatabase.open(await freshDir())
    try {
      await db.saveCheckpoint(checkpoint(100))
      await db.saveCheckpoint(checkpoint(200))
      await db.clearDivergedState()
      assert.equal(await marker(db), 200)
    } finally {
      await db.close()
    }
  })

  test('a second recover before the node started again keeps the first one\'s height', async () => {
    const db = await NodeDatabase.open(await freshDir())
    try {
      await db.saveCheckpoint(checkpoint(300))
      await db.persist([{ kind: 'diverged', height: 340, ours: bytes(32, 4), certified: bytes(16, 5) }])
      await db.clearDivergedState()
      await db.clearDivergedState()
      assert.equal(await marker(db), 340)
    } finally {
      await db.close()
    }
  })
})
