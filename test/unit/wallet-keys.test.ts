// The wallet's keys: a key lives under one name only, an account with an op in flight is not
// deleted, a passphrase change replaces the key file whole, and a damaged key file is reported with
// its path and reason, never skipped.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromHex } from '../../src/core/crypto/hash.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { openKey, parseKeyFile, sealKey } from '../../src/client/keyfile.js'
import { Wallet } from '../../src/cli/wallet.js'

const FAST = { N: 1024, r: 8, p: 1 } as const
const seed = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)

async function withWallet (fn: (w: Wallet, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bftnode-keys-'))
  try { await fn(new Wallet(dir), dir) } finally { await rm(dir, { recursive: true, force: true }) }
}

const code = (c: string) => (err: Error & { code?: string }): boolean => err.code === c

describe('wallet keys', () => {
  test('one key under two names is refused: each name has its own pending op', async () => {
    await withWallet(async w => {
      await w.create('alice', undefined, seed(1))
      await assert.rejects(w.add('alice2', await sealKey('x', seed(1), undefined)), (err: Error & { code?: string }) => err.code === 'ERR_KEY_IN_WALLET' && /already in the wallet as "alice"/.test(err.message))
      await assert.rejects(w.add('alice', await sealKey('x', seed(2), undefined)), code('ERR_ACCOUNT_EXISTS'))
      const bob = await w.add('bob', await sealKey('exported-name', seed(2), undefined))
      assert.equal(bob.name, 'bob')
      assert.equal((await w.load('bob')).name, 'bob')
    })
  })

  test('an account with an op pending, or an unreadable pending file, is not deleted unless forced', async () => {
    await withWallet(async (w, dir) => {
      await w.create('alice', undefined, seed(3))
      const signer = signerFrom(nobleScheme, seed(3))
      const op = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: fromHex('0b'.repeat(32)), amount: 1n } })
      await w.setPending('alice', 1, op.bytes, op.hash)
      await assert.rejects(w.remove('alice', false), (err: Error & { code?: string }) => err.code === 'ERR_ACCOUNT_BUSY' && /seq 1\) pending/.test(err.message))
      await writeFile(join(dir, 'alice.pending.json'), '{ torn')
      await assert.rejects(w.remove('alice', false), (err: Error & { code?: string }) => err.code === 'ERR_ACCOUNT_BUSY' && /unreadable pending-op file/.test(err.message))
      assert.ok(await w.exists('alice'))
      await w.remove('alice', true)
      assert.deepEqual(await readdir(dir), [])
      await w.create('bob', undefined, seed(4))
      await w.remove('bob', false)
      assert.equal(await w.exists('bob'), false)
    })
  })

  test('a rewritten key file opens with the new passphrase only, and leaves no temporary file', async () => {
    await withWallet(async (w, dir) => {
      await w.add('alice', await sealKey('alice', seed(5), 'old', FAST))
      await w.rewrite('alice', await sealKey('alice', seed(5), 'new', FAST))
      assert.deepEqual(await w.seed('alice', 'new'), seed(5))
      await assert.rejects(w.seed('alice', 'old'), (err: Error & { code?: string }) => err.code === 'ERR_WRONG_PASSPHRASE' && err.message.includes(join(dir, 'alice.key.json')))
      await assert.rejects(w.rewrite('alice', await sealKey('alice', seed(6), undefined)), /another key/)
      assert.deepEqual(await readdir(dir), ['alice.key.json'])
    })
  })

  test('a damaged key file is listed with its path and reason, and every reader names it', async () => {
    await withWallet(async (w, dir) => {
      await w.create('alice', undefined, seed(7))
      await writeFile(join(dir, 'bad.key.json'), '{"version":1,')
      await writeFile(join(dir, 'odd.key.json'), JSON.stringify({ version: 1, name: 'odd', publicKey: 'ab'.repeat(32), seed: 'zz' }))
      const { accounts, broken } = await w.list()
      assert.deepEqual(accounts.map(a => a.name), ['alice'])
      assert.deepEqual(broken, [
        { path: join(dir, 'bad.key.json'), reason: 'not JSON (a damaged or foreign file)' },
        { path: join(dir, 'odd.key.json'), reason: 'holds neither a seed nor an encrypted seed' }
      ])
      await assert.rejects(w.load('bad'), (err: Error) => err.message === `key file ${join(dir, 'bad.key.json')}: not JSON (a damaged or foreign file)`)
    })
  })

  test('a clear key file whose seed is not its public key is refused, naming the file', async () => {
    const f = await sealKey('k', seed(8), undefined)
    const swapped = JSON.stringify({ ...f, publicKey: (await sealKey('k', seed(9), undefined)).publicKey })
    await assert.rejects(openKey(parseKeyFile(swapped, 'key file /x/k.json'), undefined, 'key file /x/k.json'), /^InvalidKeyFileError: key file \/x\/k.json: the seed does not match the public key$/)
  })
})
