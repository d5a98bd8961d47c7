// The slow-disk warning on a real LevelDB: with the threshold at 0 every synced write is "slow",
// so the test sees what an operator would: one warning naming the write, then silence with a
// count until the report interval has passed.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeDatabase } from '../../src/store/database.js'
import { recordingLogger } from '../support/recording-logger.js'

describe('slow disk warnings', () => {
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'bftnode-slow-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  test('a synced write over the threshold is reported once, with its size, and not again for every write', async () => {
    const log = recordingLogger()
    const db = await NodeDatabase.open(join(dir, 'a'), log, 0)
    try {
      const cert = (i: number): Uint8Array => new TextEncoder().encode(`certificate ${i}`)
      await db.persist([{ kind: 'certificate', bytes: cert(0) }, { kind: 'certificate', bytes: cert(1) }])
      for (let i = 2; i < 20; i++) await db.persist([{ kind: 'certificate', bytes: cert(i) }])
      await db.saveSequencerOp('ab'.repeat(32), cert(99))
      const warned = log.lines.filter(l => l.level === 'warn')
      assert.equal(warned.length, 1, warned.map(l => l.msg).join('\n'))
      assert.match(warned[0]!.msg, /^disk slow: a synced LevelDB write took \d+ ms \(over 0 ms\); votes wait for it$/)
      assert.deepEqual({ write: warned[0]!.fields.write, records: warned[0]!.fields.records }, { write: 'persist', records: 2 })
      assert.equal((await db.replicaRecords()).length, 20, 'the writes themselves happened')
    } finally {
      await db.close()
    }
  })
})
