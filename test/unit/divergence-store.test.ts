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
