// End to end: a contract whose sequencer dies gets a new one with `bftnode contract
// rotate-sequencer`, with four real validator processes (sequencerSilenceMs 2000). Node 1
// sequences a token; its process is killed (SIGKILL) while calls are queued; node 2, asked without
// the deployer, signs the rotation and validators vote once the sequencer has been silent; node 2
// then runs every queued call exactly once. Then the deployer's request (--from) moves the
// contract to node 3 at once, while node 2 is alive, and then to a wallet key (--to). The nodes
// left end on one state root.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/client/api-client.js'
import { BftClient } from '../../src/client/client.js'
import { callBody } from '../../src/client/bodies.js'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { MemoryPendingStore } from '../../src/client/pending.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { freePort } from '../support/ports.js'
import { BIN, placeTestnet, runCli, until } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))
const CALLS = 5

describe('bftnode contract rotate-sequencer', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const apis: ApiClient[] = []
  const urls: string[] = []
  let alice: Signer

  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)
  const keyOf = async (name: string): Promise<string> => parseKeyFile(await readFile(join(dir, 'home', 'wallet', `${name}.key.json`), 'utf8')).publicKey
  const balanceOf = async (api: ApiClient, token: string, who: string): Promise<string> => {
    const r = await api.query(token, { fn: 'balance-of', args: [{ key: who }] })
    return JSON.stringify((r as { result?: unknown }).result)
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-rotseq-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const apiPorts = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0]))
    assert.equal(init.code, 0, init.err)
    const configs = await placeTestnet(join(dir, 'net'), ports, apiPorts, { sequencerSilenceMs: 2000 })
    for (let i = 0; i < 4; i++) {
      const p = spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
      procs.push(p)
      urls.push(`http://127.0.0.1:${apiPorts[i]}`)
      apis.push(new ApiClient(urls[i]!))
    }
    env.BFTNODE_API = urls[0]
    await until('the validators to connect', 60_000, async () => {
      const st = await Promise.all(apis.map(async a => await a.status()))
      return st.every(s => Number(s.validatorsConnected) >= 2 && s.voting === true) ? true : undefined
    })
    assert.equal((await cli('account', 'new', '--name', 'alice', '--insecure')).code, 0)
    assert.equal((await cli('account', 'new', '--name', 'bob', '--insecure')).code, 0)
    const fund = await cli('transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')
    assert.equal(fund.code, 0, fund.out + fund.err)
    alice = signerFrom(nobleScheme, await openKey(parseKeyFile(await readFile(join(dir, 'home', 'wallet', 'alice.key.json'), 'utf8')), undefined))
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('a dead sequencer is replaced; every queued call runs exactly once; the nodes agree', { timeout: 90_000 }, async () => {
    const bob = await keyOf('bob')
    const aliceKey = await keyOf('alice')
    // deployed through node 1: node 1 sequences it
    const d = await cli('deploy', TOKEN, '--from', 'alice', '--args', JSON.stringify([{ key: 'alice' }, 1_000_000]))
    assert.equal(d.code, 0, d.out + d.err)
    const token = d.out.match(/contract ([0-9a-f]{64})/)![1]!
    const node1 = String((await apis[0]!.status()).nodeId)
    assert.equal((await apis[1]!.contract(token)).sequencer, node1)

    // node 1 dies; calls queue up behind it (sent through node 2, delivered, never executed)
    procs[0]!.kill('SIGKILL')
    const live = apis.slice(1)
    const client = new BftClient({ api: apis[1]!, signer: alice, pending: new MemoryPendingStore(), timeoutMs: 20_000 })
    const calls: number[] = []
    for (let i = 0; i < CALLS; i++) {
      const sent = await client.send(callBody({ contract: token, fn: 'transfer', args: { json: [{ key: bob }, 1] }, gasLimit: 100_000 }))
      assert.equal(sent.status.outcome?.status, 'applied', JSON.stringify(sent.status))
      calls.push(sent.slot.seq)
    }
    assert.equal((await apis[1]!.contract(token)).queued, CALLS)

    // node 2 becomes the sequencer: without the deployer's request validators wait for the silence
    const rot = await cli('contract', 'rotate-sequencer', token, '--api', urls[1]!)
    assert.equal(rot.code, 0, rot.out + rot.err)
    assert.match(rot.out, /without the deployer's request: validators vote only once .* silent for their sequencerSilenceMs \(2000 ms at this node\)/)
    const node2 = String((await apis[1]!.status()).nodeId)
    assert.match(rot.out, new RegExp(`delivered: applied; the contract is now sequenced by ${node2}`))

    // every queued call runs once, at node 2's executes
    await until('the queued calls to run', 30_000, async () => (await apis[1]!.contract(token)).queued === 0 ? true : undefined)
    for (const seq of calls) {
      const out = await apis[1]!.call(aliceKey, seq)
      assert.equal(out.status, 'ok', JSON.stringify(out))
    }
    assert.equal(await balanceOf(apis[1]!, token, bob), JSON.stringify({ int: String(CALLS) }))
    const h = await cli('history', 'alice', '--api', urls[1]!)
    assert.equal(h.code, 0, h.out + h.err)

    // the deployer's request: node 3 takes over at once, though node 2 is alive and nothing is queued
    const now = await cli('contract', 'rotate-sequencer', token, '--from', 'alice', '--api', urls[2]!)
    assert.equal(now.code, 0, now.out + now.err)
    assert.match(now.out, /with the deployer's request: validators vote for it now/)
    const node3 = String((await apis[2]!.status()).nodeId)
    assert.match(now.out, new RegExp(`the contract is now sequenced by ${node3}`))
    const more = await client.call({ contract: token, fn: 'transfer', args: { json: [{ key: bob }, 1] }, gasLimit: 100_000 })
    assert.equal(more.outcome?.status, 'ok', JSON.stringify(more))
    assert.equal(await balanceOf(apis[2]!, token, bob), JSON.stringify({ int: String(CALLS + 1) }))

    // asked again with nothing to rotate, the node says why and signs nothing
    const again = await cli('contract', 'rotate-sequencer', token, '--api', urls[2]!)
    assert.equal(again.code, 1)
    assert.match(again.err, /sequences the contract already/)

    // --to: a wallet key becomes the sequencer (it signs the rotation; the deployer asks for it)
    const toBob = await cli('contract', 'rotate-sequencer', token, '--to', 'bob', '--from', 'alice', '--api', urls[3]!)
    assert.equal(toBob.code, 0, toBob.out + toBob.err)
    assert.match(toBob.out, new RegExp(`the contract is now sequenced by ${bob}`))
    // without the deployer and with nothing queued, the node refuses to sign
    const idle = await cli('contract', 'rotate-sequencer', token, '--api', urls[3]!)
    assert.equal(idle.code, 1)
    assert.match(idle.err, /no queued calls/)

    // the nodes left agree on the state
    await until('the nodes to reach one state root', 30_000, async () => {
      const st = await Promise.all(live.map(async a => await a.status()))
      const roots = new Set(st.map(s => `${String(s.delivered)}:${String(s.stateHash)}`))
      return roots.size === 1 ? true : undefined
    })
    for (const a of live) assert.equal(await balanceOf(a, token, bob), JSON.stringify({ int: String(CALLS + 1) }))
  })
})
