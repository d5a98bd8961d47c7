// End to end, with real `bftnode` processes (one validator, to be quick): `bftnode events <token>
// --follow` prints the transfer event of a call made while it runs, and `bftnode history` lists
// the account's ops newest first.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/client/api-client.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))

describe('bftnode history and events', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let node: ChildProcess | undefined
  let follower: ChildProcess | undefined
  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-history-'))
    const [p2p, apiPort] = [await freePort(), await freePort()]
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home'), BFTNODE_API: `http://127.0.0.1:${apiPort}` }
    const init = await cli('testnet', 'init', '--validators', '1', '--dir', join(dir, 'net'), '--base-port', String(p2p), '--api-port', String(apiPort))
    assert.equal(init.code, 0, init.err)
    node = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', 'node1', 'config.json'), '--log-level', 'warn'], { env, stdio: 'ignore' })
    const api = new ApiClient(env.BFTNODE_API!)
    await waitFor('the node to answer', 30_000, async () => await api.health().then(() => true, () => false))
  })

  after(async () => {
    follower?.kill('SIGKILL')
    node?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('events --follow prints a transfer emitted by a call made meanwhile; history lists the ops', async () => {
    assert.equal((await cli('account', 'new', '--name', 'alice', '--insecure')).code, 0)
    assert.equal((await cli('account', 'new', '--name', 'bob', '--insecure')).code, 0)
    assert.equal((await cli('transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')).code, 0)
    const alice = (await cli('balance', 'alice')).out.match(/account\s+([0-9a-f]{64})/)![1]!
    const bob = (await cli('balance', 'bob')).out.match(/account\s+([0-9a-f]{64})/)![1]!
    const d = await cli('deploy', TOKEN, '--from', 'alice', '--args', JSON.stringify([{ key: alice }, 1_000_000]))
    assert.equal(d.code, 0, d.out + d.err)
    const address = d.out.match(/contract ([0-9a-f]{64})/)![1]!
    const first = await cli('call', address, 'transfer', '--from', 'alice', '--args', JSON.stringify([{ key: bob }, 11]))
    assert.equal(first.code, 0, first.out + first.err)

    let out = ''
    follower = spawn(process.execPath, [BIN, 'events', address, '--follow'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    follower.stdout!.on('data', (b: Buffer) => { out += b.toString() })
    // the past transfer first: the follower is listening from right after it
    await waitFor('the past event', 15_000, () => /^transfer .*"amount" 11\b/m.test(out))
    const second = await cli('call', address, 'transfer', '--from', 'alice', '--args', JSON.stringify([{ key: bob }, 22]))
    assert.equal(second.code, 0, second.out + second.err)
    await waitFor('the new event', 15_000, () => /^transfer .*"amount" 22\b/m.test(out))
    assert.match(out, new RegExp(`^transfer \\{.*"to" 0x${bob}.*\\}  \\(call ${alice.slice(0, 8)}… #\\d+\\) \\[\\d+:0\\]$`, 'm'))
    follower.kill('SIGINT')
    await new Promise(resolve => follower!.once('exit', resolve))

    const h = await cli('history', 'alice', '--limit', '3')
    assert.equal(h.code, 0, h.err)
    const lines = h.out.trim().split('\n')
    assert.equal(lines.length, 3)
    assert.match(lines[0]!, new RegExp(`^#3 {2}call {5}${address.slice(0, 8)}… transfer {2}applied {2}\\[\\d+\\]$`))
    assert.match(lines[2]!, /^#1 {2}deploy {3}contract [0-9a-f]{64} {2}applied/)
  })
})
