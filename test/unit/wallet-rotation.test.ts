// Key rotation on the client side: a wallet account keeps its id while its key changes, old key
// files (no `account`) read as before, the retired key is kept, and the never-sign-twice pending
// record of the account holds across the change of key.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { decodeOp } from '../../src/core/ledger/op.js'
import { BftClient } from '../../src/client/client.js'
import { signerFromSeed } from '../../src/client/keys.js'
import { accountOf, parseKeyFile, sealKey } from '../../src/client/keyfile.js'
import { FilePendingStore } from '../../src/client/pending-file.js'
import { Wallet } from '../../src/cli/wallet.js'
import { FakeApi } from '../support/fake-api.js'
import { freePort } from '../support/ports.js'

const FAST = { N: 1024, r: 8, p: 1 } as const
const seed = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)
const BOB = 'b0'.repeat(32)

async function withDir (fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bftnode-rot-'))
  try { await fn(dir) } finally { await rm(dir, { recursive: true, force: true }) }
}

describe('wallet key rotation', () => {
  test('a key file from before rotation existed still reads: the account is its key', async () => {
    await withDir(async dir => {
      // written by the wallet before `account` existed: exactly these fields
      const old = '{\n  "version": 1,\n  "name": "alice",\n  "publicKey": "' + toHex(signerFromSeed(seed(1)).publicKey) + '",\n  "seed": "' + toHex(seed(1)) + '"\n}\n'
      await writeFile(join(dir, 'alice.key.json'), old)
      const w = new Wallet(dir)
      const file = await w.load('alice')
      assert.equal(file.account, undefined)
      assert.equal(await w.account('alice'), file.publicKey)
      assert.equal(toHex(await w.resolve('alice')), file.publicKey)
      assert.equal(toHex((await w.unlock('alice', undefined)).publicKey), file.publicKey)
    })
  })

  test('an account with an unfinished rotation is not removed unless forced; forced, its staged key goes too', async () => {
    await withDir(async dir => {
      const w = new Wallet(dir)
      const first = await w.create('alice', 'pw', seed(4))
      assert.equal(await w.stageNextKey('alice', await sealKey('alice', seed(5), 'pw', FAST, first.publicKey)), true)
      await assert.rejects(w.remove('alice', false), /key rotation that did not finish/)
      await w.remove('alice', true)
      // a new alice starts clean: nothing staged from the old one
      await w.create('alice', 'pw', seed(6))
      assert.equal(await w.nextKey('alice'), undefined)
      assert.equal(await w.stageNextKey('alice', await sealKey('alice', seed(7), 'pw', FAST, (await w.load('alice')).publicKey)), true)
    })
  })

  test('finishing a rotation keeps the account id, switches the key and keeps the retired file', async () => {
    await withDir(async dir => {
      const w = new Wallet(dir)
      const first = await w.create('alice', 'pw', seed(2))
      const account = first.publicKey
      const oldText = await readFile(w.keyPath('alice'), 'utf8')
      const next = await sealKey('alice', seed(3), 'pw', FAST, account)
      assert.equal(next.account, account)
      assert.equal(await w.stageNextKey('alice', next), true)
      assert.equal(await w.stageNextKey('alice', next), false, 'a staged key is never replaced')
      const retired = await w.finishRotation('alice')
      assert.equal(retired, w.retiredKeyPath('alice', 1))
      assert.equal(await readFile(retired, 'utf8'), oldText)
      const now = await w.load('alice')
      assert.equal(now.publicKey, next.publicKey)
      assert.equal(accountOf(now), account)
      assert.equal(await w.account('alice'), account)
      assert.equal(toHex(await w.resolve('alice')), account)
      assert.equal(toHex((await w.unlock('alice', 'pw')).publicKey), next.publicKey)
      assert.equal(await w.nextKey('alice'), undefined)
      // retired and staged keys are not accounts of their own
      assert.deepEqual((await w.list()).accounts.map(a => a.name), ['alice'])
      // a passphrase change keeps the account it signs for
      await w.rewrite('alice', await sealKey('alice', seed(3), 'new', FAST))
      assert.equal(await w.account('alice'), account)
      // a second rotation retires the second key beside the first
      await w.stageNextKey('alice', await sealKey('alice', seed(4), 'new', FAST, account))
      assert.equal(await w.finishRotation('alice'), w.retiredKeyPath('alice', 2))
      assert.equal(await w.account('alice'), account)
      assert.deepEqual((await readdir(dir)).sort(), ['alice.key.json', 'alice.retired-1.key', 'alice.retired-2.key'])
      // the key file names the account; a damaged `account` is reported
      assert.throws(() => parseKeyFile(JSON.stringify({ ...now, account: 'xyz' })), /account is not 64/)
    })
  })

  test('a finish that crashed after the switch only drops the staged file', async () => {
    await withDir(async dir => {
      const w = new Wallet(dir)
      const account = (await w.create('alice', undefined, seed(5))).publicKey
      const next = await sealKey('alice', seed(6), undefined, FAST, account)
      await w.stageNextKey('alice', next)
      await w.finishRotation('alice')
      await w.stageNextKey('alice', next) // as if the staged file had survived the crash
      assert.equal(await w.finishRotation('alice'), '')
      assert.equal((await w.load('alice')).publicKey, next.publicKey)
      assert.deepEqual((await readdir(dir)).sort(), ['alice.key.json', 'alice.retired-1.key'])
    })
  })

  test('the pending record holds across the key change: the rotated key resubmits, never signs anew', { timeout: 30_000 }, async () => {
    await withDir(async dir => {
      const fake = await new FakeApi(await freePort()).start()
      try {
        const w = new Wallet(dir)
        const account = (await w.create('alice', undefined, seed(7))).publicKey
        const oldKey = await w.unlock('alice', undefined)
        const newKey = signerFromSeed(seed(8))
        const client = new BftClient({ api: fake.url, signer: oldKey, pending: new FilePendingStore(dir), timeoutMs: 300 })
        assert.equal(client.account, account)
        fake.live = false
        await assert.rejects(client.rotateKey(newKey.publicKey), (err: Error & { code?: string }) => err.code === 'ERR_TIMEOUT')
        const pending = await w.pending('alice')
        assert.ok(pending !== undefined && pending.account === account)
        // the wallet switched keys meanwhile; the file store still finds the record by account id
        await w.stageNextKey('alice', await sealKey('alice', seed(8), undefined, FAST, account))
        await w.finishRotation('alice')
        const rotated = client.withSigner(newKey)
        assert.equal(rotated.account, account)
        fake.release()
        const sent = await new BftClient({ api: fake.url, signer: newKey, account, pending: new FilePendingStore(dir), timeoutMs: 5000 }).transfer(BOB, 1n)
        assert.equal(sent.slot.seq, 2, 'the rotation kept slot 1; the transfer came after it')
        const ops = fake.received.map(r => decodeOp(fromHex(r.op)))
        assert.equal(new Set(fake.received.filter(r => r.seq === 1).map(r => r.op)).size, 1, 'one op for slot 1')
        assert.ok(ops.every(o => toHex(o.account) === account))
        assert.equal(ops.find(o => o.seq === 1)?.body.kind, 'rotate-key')
        assert.deepEqual(fake.equivocations(), [])
        assert.equal(await w.pending('alice'), undefined)
      } finally {
        await fake.close()
      }
    })
  })
})
