// `bftnode account rotate-key` when the delivery is not confirmed: both keys stay on disk, the
// command says how to finish, running it again resubmits the same signed op (never a second
// rotation), other commands wait for it, and once validators deliver it the wallet switches keys.
// Against the fake node API, with the real binary.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseKeyFile } from '../../src/client/keyfile.js'
import { Wallet } from '../../src/cli/wallet.js'
import { FakeApi } from '../support/fake-api.js'
import { freePort } from '../support/ports.js'

const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))

interface Run { code: number, out: string, err: string }

describe('bftnode account rotate-key, unconfirmed', () => {
  test('keeps both keys, resubmits the same op, then switches', { timeout: 60_000 }, async () => {
    const fake = await new FakeApi(await freePort()).start()
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-rotate-'))
    const cli = async (...args: string[]): Promise<Run> => await new Promise(resolve => {
      execFile(process.execPath, [BIN, ...args, '--api', fake.url, '--wallet-dir', dir], { env: { ...process.env, BFTNODE_HOME: dir }, timeout: 30_000 }, (err, out, errOut) => {
        resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), out, err: errOut })
      })
    })
    try {
      const w = new Wallet(dir)
      const old = await w.create('alice', undefined, new Uint8Array(32).fill(3))
      fake.live = false // validators down: the op is taken, bound, not delivered
      const first = await cli('account', 'rotate-key', '--name', 'alice', '--timeout', '400')
      assert.equal(first.code, 1, first.out + first.err)
      assert.match(first.out, /the rotation of alice is not confirmed delivered/)
      assert.match(first.out, /both keys are kept: .*alice\.key\.json .* and .*alice\.next\.key/)
      assert.match(first.out, /run `bftnode account rotate-key --name alice` again to finish/)
      const next = parseKeyFile(await readFile(w.nextKeyPath('alice'), 'utf8'))
      assert.equal(next.account, old.publicKey)
      assert.equal((await w.load('alice')).publicKey, old.publicKey, 'the old key stays in force')

      const second = await cli('account', 'rotate-key', '--name', 'alice', '--timeout', '400')
      assert.equal(second.code, 1, second.out + second.err)
      assert.match(second.out, /did not finish: going on with its new key/)
      const transfer = await cli('transfer', '--from', 'alice', '--to', 'ab'.repeat(32), '--amount', '1')
      assert.equal(transfer.code, 1)
      assert.match(transfer.err, /a key rotation of alice did not finish/)
      assert.equal(new Set(fake.received.filter(r => r.seq === 1).map(r => r.op)).size, 1, 'one op for slot 1, submitted again')
      assert.ok(fake.received.every(r => r.seq === 1))

      fake.release()
      const third = await cli('account', 'rotate-key', '--name', 'alice')
      assert.equal(third.code, 0, third.out + third.err)
      assert.match(third.out, /account alice \(.*\) rotated its key/)
      assert.equal((await w.load('alice')).publicKey, next.publicKey)
      assert.equal(await w.account('alice'), old.publicKey)
      assert.deepEqual((await readdir(dir)).filter(f => f.startsWith('alice')).sort(), ['alice.key.json', 'alice.retired-1.key'])
      assert.equal(new Set(fake.received.map(r => r.op)).size, 1, 'no second rotation was signed')
      assert.deepEqual(fake.equivocations(), [])
    } finally {
      await fake.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
