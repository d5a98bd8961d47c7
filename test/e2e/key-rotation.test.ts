// End to end: `bftnode account rotate-key` with a real `bftnode` process (one validator, to keep
// it quick). The wallet account keeps its id, the new key signs its transfers, the retired key is
// kept on disk but an op it signs moves no money, and no money appears or vanishes on the way.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/api-client.js'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

describe('bftnode account rotate-key', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let proc: ChildProcess | undefined
  let client: ApiClient
  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)
  const wallet = (): string => join(dir, 'home', 'wallet')
  const spendable = async (key: string): Promise<bigint> => BigInt((await client.account(key)).spendable)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-rotkey-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const [p2p, apiPort] = [await freePort(), await freePort()]
    const init = await cli('testnet', 'init', '--validators', '1', '--dir', join(dir, 'net'), '--base-port', String(p2p), '--api-port', String(apiPort))
    assert.equal(init.code, 0, init.err)
    proc = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', 'node1', 'config.json'), '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    proc.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node1] ${b.toString()}`) })
    env.BFTNODE_API = `http://127.0.0.1:${apiPort}`
    client = new ApiClient(env.BFTNODE_API)
    await waitFor('the node to be ready', 60_000, async () => (await client.ready()).ready)
  })

  after(async () => {
    proc?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('the new key signs for the account, the old key moves nothing, money is conserved', { timeout: 90_000 }, async () => {
    assert.equal((await cli('account', 'new', '--name', 'alice', '--insecure')).code, 0)
    assert.equal((await cli('account', 'new', '--name', 'bob', '--insecure')).code, 0)
    const fund = await cli('transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')
    assert.equal(fund.code, 0, fund.out + fund.err)
    // alice's key file is as the wallet always wrote it: no `account` field
    const before = parseKeyFile(await readFile(join(wallet(), 'alice.key.json'), 'utf8'))
    assert.equal(before.account, undefined)
    const alice = before.publicKey
    const bob = parseKeyFile(await readFile(join(wallet(), 'bob.key.json'), 'utf8')).publicKey
    const oldSigner = signerFrom(nobleScheme, await openKey(before, undefined))

    const rot = await cli('account', 'rotate-key', '--name', 'alice')
    assert.equal(rot.code, 0, rot.out + rot.err)
    assert.match(rot.out, new RegExp(`old key\\s+${alice}`))
    const newKey = rot.out.match(/new key\s+([0-9a-f]{64})/)?.[1]
    assert.ok(newKey !== undefined && newKey !== alice, rot.out)
    const after = parseKeyFile(await readFile(join(wallet(), 'alice.key.json'), 'utf8'))
    assert.equal(after.publicKey, newKey)
    assert.equal(after.account, alice, 'the account keeps its id')
    assert.equal((await client.account(alice)).key, newKey, 'the node has the new key in force')
    // the retired key is kept, not deleted; nothing is left half done
    const files = await readdir(wallet())
    assert.ok(files.includes('alice.retired-1.key'), files.join(' '))
    assert.ok(!files.includes('alice.next.key'))
    assert.equal(parseKeyFile(await readFile(join(wallet(), 'alice.retired-1.key'), 'utf8')).publicKey, alice)
    const list = await cli('account', 'list')
    assert.match(list.out, new RegExp(`alice\\s+${alice}\\s+\\(key rotated`))

    // a transfer from alice: signed by the new key, for the same account
    const sent = await cli('transfer', '--from', 'alice', '--to', 'bob', '--amount', '100')
    assert.equal(sent.code, 0, sent.out + sent.err)
    assert.match(sent.out, /delivered: applied/)
    const bal = await cli('balance', 'alice')
    assert.match(bal.out, new RegExp(`account\\s+${alice}`))
    assert.equal(await spendable(alice), 4900n)
    assert.equal(await spendable(bob), 100n)

    // an op signed by the retired key: refused at submission, or delivered as rejected; never applied
    const { networkId } = await client.genesis()
    const { nextSeq } = await client.account(alice)
    const forged = signOp(oldSigner, fromHex(networkId), { account: fromHex(alice), seq: nextSeq, deps: [], body: { kind: 'transfer', to: fromHex(bob), amount: 50n } })
    const [res] = await client.submit([toHex(forged.bytes)])
    if (res?.status !== 'rejected') {
      const st = await client.op(toHex(forged.hash), 5000).catch(() => undefined)
      assert.ok(st === undefined || st.status !== 'delivered' || st.outcome?.status === 'rejected', JSON.stringify(st))
    }
    // the account goes on with its new key, and no money moved by the old one
    const again = await cli('transfer', '--from', 'alice', '--to', 'bob', '--amount', '10')
    assert.equal(again.code, 0, again.out + again.err)
    assert.equal(await spendable(alice), 4890n)
    assert.equal(await spendable(bob), 110n)
    assert.equal(await spendable(alice) + await spendable(bob), 5000n, 'money is conserved')

    // rotating again retires the second key beside the first
    const rot2 = await cli('account', 'rotate-key', '--name', 'alice')
    assert.equal(rot2.code, 0, rot2.out + rot2.err)
    assert.ok((await readdir(wallet())).includes('alice.retired-2.key'))
    const third = await cli('transfer', '--from', 'alice', '--to', 'bob', '--amount', '1')
    assert.equal(third.code, 0, third.out + third.err)
    assert.equal(await spendable(alice) + await spendable(bob), 5000n)
  })
})
