// End to end: a set network (`testnet init --algorithm orset`) with four validator processes on
// 127.0.0.1. Two wallets write through the CLI (adds, a remove, an element both add), every node
// lists the same set, a stranger's add is refused, and a ledger route answers 409.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient, ApiRequestError } from '../../src/client/api-client.js'
import { freeRun, waitFor } from '../support/ports.js'
import { BIN, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

describe('a set network from the CLI, four validator processes', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const apis: ApiClient[] = []
  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)
  const listed = async (i: number): Promise<string> => (await cli('set', 'list', '--api', apis[i]!.base)).out

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-set-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const base = await freeRun(8)
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(base), '--api-port', String(base + 4), '--algorithm', 'orset', '--writers', 'alice,bob')
    assert.equal(init.code, 0, init.err)
    assert.match(init.out, /algorithm orset: writers treasury, alice, bob/)
    for (let i = 0; i < 4; i++) {
      apis.push(new ApiClient(`http://127.0.0.1:${base + 4 + i}`))
      const p = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', `node${i + 1}`, 'config.json'), '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
      procs.push(p)
    }
    env.BFTNODE_API = apis[0]!.base
    await waitFor('every validator to see the others', 60_000, async () =>
      (await Promise.all(apis.map(async a => Number((await a.status()).validatorsConnected)))).every(n => n >= 2))
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('two wallets add and remove through the CLI; every node lists the same set', async () => {
    for (const [name, element] of [['alice', 'apple'], ['alice', 'pear'], ['bob', 'fig'], ['bob', 'apple']]) {
      const r = await cli('set', 'add', element!, '--name', name!)
      assert.equal(r.code, 0, r.err)
      assert.match(r.out, /delivered: applied/)
    }
    // bob removes pear through node2: the tags node2 delivered
    const rm1 = await cli('set', 'remove', 'pear', '--name', 'bob', '--api', apis[1]!.base)
    assert.equal(rm1.code, 0, rm1.err)
    assert.match(rm1.out, /delivered: applied/)
    // apple has two tags (alice's and bob's adds): one remove cites both
    const tagged = await cli('set', 'list', '--tags', '--element', 'apple')
    assert.equal(tagged.out.trim().split('\t')[1]!.split(' ').length, 2, tagged.out)
    const rm2 = await cli('set', 'remove', 'apple', '--name', 'alice')
    assert.equal(rm2.code, 0, rm2.err)
    await waitFor('every node to list the set', 30_000, async () =>
      (await Promise.all([0, 1, 2, 3].map(listed))).every(out => out === 'fig\n'))
    const roots = await Promise.all(apis.map(async a => (await a.status()).stateHash))
    assert.equal(new Set(roots).size, 1, `roots ${roots.join(' ')}`)
  })

  test('a wallet the genesis does not name is refused; ledger routes answer 409; removing what is not there signs nothing', async () => {
    assert.equal((await cli('account', 'new', '--name', 'mallory', '--insecure')).code, 0)
    const stranger = await cli('set', 'add', 'spam', '--name', 'mallory')
    assert.notEqual(stranger.code, 0)
    assert.match(stranger.err, /not a writer/)
    await assert.rejects(apis[0]!.contracts(), (err: unknown) => err instanceof ApiRequestError && err.status === 409 && err.code === 'ERR_WRONG_ALGORITHM')
    const missing = await cli('set', 'remove', 'durian', '--name', 'alice')
    assert.equal(missing.code, 1)
    assert.match(missing.err, /not in the set at this node; nothing was signed/)
  })
})
