// The node database on a real LevelDB: certified checkpoints (kept for the newest few, chunks read
// back whole, all of it surviving a reopen), pruning of certificates and bindings, and the size
// of the data dir.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { decodeOp, signOp } from '../../src/core/ledger/op.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { NodeDatabase } from '../../src/store/database.js'
import type { StoredCheckpoint } from '../../src/store/database.js'
import { seedOf } from '../support/localnet.js'

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const untext = (b: Uint8Array): string => new TextDecoder().decode(b)

function checkpoint (height: number, chunks: number): StoredCheckpoint {
  return {
    height,
    certificate: text(`cert@${height}`),
    manifest: text(`manifest@${height}`),
    chunks: Array.from({ length: chunks }, () => new Uint8Array(randomBytes(1000 + height % 1000)))
  }
}

/** A checkpoint as plain strings: LevelDB hands back Buffers, which deepEqual tells from Uint8Arrays. */
const plain = (cp: StoredCheckpoint | undefined): unknown => cp === undefined
  ? undefined
  : { height: cp.height, certificate: toHex(cp.certificate), manifest: toHex(cp.manifest), chunks: cp.chunks.map(toHex) }

/** Certificates (their text) and binding count, as Replica.restore would get them. */
async function records (db: NodeDatabase): Promise<{ bindings: Uint8Array[], certificates: string[] }> {
  const all = await db.replicaRecords()
  const bindings = all[0]?.kind === 'bindings' ? all[0].ops : []
  // bindings come first: no bindings record after a certificate
  assert.ok(all.slice(1).every(r => r.kind === 'certificate'))
  return { bindings: [...bindings], certificates: all.flatMap(r => r.kind === 'certificate' ? [untext(r.bytes)] : []) }
}

describe('the node database on LevelDB', () => {
  let dir: string
  let db: NodeDatabase
  const reopen = async (): Promise<void> => {
    await db.close()
    db = await NodeDatabase.open(dir)
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-store-'))
    db = await NodeDatabase.open(dir)
  })

  after(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  test('checkpoints: the newest two are kept, chunks read back byte for byte, across a reopen', async () => {
    assert.equal(await db.latestCheckpoint(), undefined)
    const saved = [checkpoint(100, 3), checkpoint(250, 2), checkpoint(1_000_000_000_000, 4)]
    for (const cp of saved) await db.saveCheckpoint(cp, 2)
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(plain(await db.latestCheckpoint()), plain(saved[2]))
      assert.deepEqual((await db.checkpoints()).map(c => [c.height, untext(c.certificate), untext(c.manifest)]), [
        [1_000_000_000_000, 'cert@1000000000000', 'manifest@1000000000000'],
        [250, 'cert@250', 'manifest@250']
      ])
      assert.equal(toHex((await db.checkpointChunk(250, 1))!), toHex(saved[1]!.chunks[1]!))
      assert.equal(await db.checkpointChunk(250, 2), undefined)
      assert.equal(await db.checkpointChunk(100, 0), undefined, 'the oldest is gone, chunks too')
      await reopen()
    }
  })

  test('checkpoints: saving a height again replaces it whole; an old one is not stored; keep=1', async () => {
    const fewer = checkpoint(250, 1)
    await db.saveCheckpoint(fewer)
    assert.equal(toHex((await db.checkpointChunk(250, 0))!), toHex(fewer.chunks[0]!))
    assert.equal(await db.checkpointChunk(250, 1), undefined, 'the replaced one had two chunks')
    await db.saveCheckpoint(checkpoint(7, 1))
    assert.deepEqual((await db.checkpoints()).map(c => c.height), [1_000_000_000_000, 250])
    const next = checkpoint(2_000_000_000_000, 0)
    await db.saveCheckpoint(next, 1)
    assert.deepEqual((await db.checkpoints()).map(c => c.height), [2_000_000_000_000])
    assert.deepEqual(plain(await db.latestCheckpoint()), plain(next))
    await assert.rejects(db.saveCheckpoint(checkpoint(2 ** 53, 0)), RangeError)
    await assert.rejects(db.saveCheckpoint(checkpoint(1.5, 0)), RangeError)
  })

  test('pruneCertificates deletes exactly the records picked; the rest keep their order and the next one goes last', async () => {
    const n = 1500 // more than one pruning batch
    for (let i = 0; i < n; i++) await db.persist([{ kind: 'certificate', bytes: text(`c${i}`) }])
    const prunable = (b: Uint8Array): boolean => Number(untext(b).slice(1)) % 3 !== 0
    const expected = Array.from({ length: n }, (_, i) => `c${i}`).filter(c => !prunable(text(c)))
    assert.equal(await db.pruneCertificates(prunable), n - expected.length)
    assert.deepEqual((await records(db)).certificates, expected)
    assert.equal(await db.pruneCertificates(prunable), 0)
    await reopen()
    await db.persist([{ kind: 'certificate', bytes: text('after') }])
    assert.deepEqual((await records(db)).certificates, [...expected, 'after'])
  })

  test('pruneBindings deletes exactly the ops picked; certificates are untouched', async () => {
    const networkId = new Uint8Array(32).fill(9)
    const [alice, bob] = [0, 1].map(i => signerFrom(sodiumScheme, seedOf('store-account', i)))
    const ops = [alice!, bob!].flatMap(who => [1, 2, 3].map(seq =>
      signOp(who, networkId, { account: who.publicKey, seq, deps: [], body: { kind: 'transfer', to: new Uint8Array(32), amount: 1n } }).bytes))
    await db.persist([{ kind: 'bindings', ops }])
    const before = await records(db)
    assert.equal(before.bindings.length, 6)
    const isAlice = (b: Uint8Array): boolean => toHex(decodeOp(b).account) === toHex(alice!.publicKey)
    assert.equal(await db.pruneBindings(isAlice), 3)
    const after = await records(db)
    assert.deepEqual(after.bindings, before.bindings.filter(b => !isAlice(b)))
    assert.deepEqual(after.certificates, before.certificates)
  })

  test('sizeOnDisk counts the data dir and grows with what is written', async () => {
    const before = await db.sizeOnDisk()
    assert.ok(before > 0)
    await db.putMeta('blob', new Uint8Array(randomBytes(1024 * 1024)))
    const after = await db.sizeOnDisk()
    assert.ok(after - before >= 1024 * 1024, `${before} -> ${after}`)
  })
})
