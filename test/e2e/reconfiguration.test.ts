// End to end, with real processes: four validators run a network while its validator set changes.
// A fifth node joins as an observer with only the genesis file, is proposed with `bftnode validator
// propose-add` and approved by a quorum's operators, and votes in epoch 1; then one of the original
// four is removed the same way and stopped. Then the node sequencing a contract is killed and the
// contract's sequencer rotated to another node, which runs every queued call once. Transfers flow
// throughout, checkpoints are certified by each epoch's set, and every node still running ends on
// the same state root.

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
import { MemoryPendingStore } from '../../src/client/pending.js'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, placeTestnet, runCli, until } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'
import { seedOf } from '../support/localnet.js'
import { parse as parseJsonc } from 'jsonc-parser'

const INTERVAL = 40
const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))
const CALLS = 4

describe('the validator set changes while the network runs', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: Array<ChildProcess | undefined> = []
  const apis: ApiClient[] = []
  let treasury: Signer
  let networkIdHex: string
  let seq = 1
  const to = signerFrom(nobleScheme, seedOf('e2e-reconf-user', 0)).publicKey

  const cli = async (via: number, ...args: string[]): Promise<CliRun> => await runCli(env, dir, [...args, '--api', apis[via]!.base])
  const running = (): number[] => apis.map((_, i) => i).filter(i => procs[i] !== undefined)

  /** Signs `n` transfers and submits them through node `via`; waits until they are delivered there. */
  const transfers = async (n: number, via: number): Promise<void> => {
    const ops = Array.from({ length: n }, () => signOp(treasury, fromHex(networkIdHex), { account: treasury.publicKey, seq: seq++, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    const results = await apis[via]!.submit(ops.map(o => toHex(o.bytes)))
    assert.ok(results.every(r => r.status !== 'rejected'), JSON.stringify(results.find(r => r.status === 'rejected')))
    await waitFor(`${n} transfers to be delivered through node ${via + 1}`, 60_000, async () => (await apis[via]!.account(toHex(treasury.publicKey))).nextSeq >= seq)
  }

  const sameRoot = async (): Promise<void> => {
    await waitFor('every running node to reach the same state root', 60_000, async () => {
      const roots = await Promise.all(running().map(async i => (await apis[i]!.status()).stateHash))
      return new Set(roots).size === 1
    })
  }

  const validators = async (i: number): Promise<{ epoch: number, validators: string[], thisNode: string, quorum: number }> =>
    await apis[i]!.validators() as unknown as { epoch: number, validators: string[], thisNode: string, quorum: number }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-reconf-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const apiPorts = await Promise.all(Array.from({ length: 5 }, async () => await freePort()))
    const init = await runCli(env, dir, ['testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0])])
    assert.equal(init.code, 0, init.err)
    const configs = await placeTestnet(join(dir, 'net'), ports, apiPorts, { checkpointInterval: INTERVAL, checkpointRetain: 1, sequencerSilenceMs: 2000 })
    for (let i = 0; i < 4; i++) {
      const p = spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
      procs.push(p)
    }
    for (const port of apiPorts) apis.push(new ApiClient(`http://127.0.0.1:${port}`))
    const keyText = await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')
    treasury = signerFrom(nobleScheme, await openKey(parseKeyFile(keyText), undefined))
    networkIdHex = String((await until('the validators to connect and vote', 60_000, async () => {
      const st = await Promise.all(apis.slice(0, 4).map(async a => await a.status()))
      return st.every(s => Number(s.validatorsConnected) >= 2 && s.voting === true) ? st[0] : undefined
    })).networkId)
    // the fifth node: only the genesis and a bootstrap address, its own fresh key
    const v2 = parseJsonc(await readFile(join(dir, 'net', 'node2', 'config.json'), 'utf8')) as { bootstrap: string[] }
    const p = spawn(process.execPath, [BIN, 'join', '--genesis', join(dir, 'net', 'genesis.json'), '--bootstrap', ...v2.bootstrap, '--data-dir', join(dir, 'node5'), '--api-port', String(apiPorts[4]), '--no-mdns', '--log-level', 'warn', '--checkpoint-interval', String(INTERVAL)], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node5] ${b.toString()}`) })
    procs.push(p)
    await until('the fifth node to follow', 60_000, async () => await apis[4]!.status().catch(() => undefined))
  })

  after(async () => {
    for (const p of procs) p?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('transfers flow before any change, and the fifth node follows as an observer', async () => {
    await transfers(60, 0)
    await sameRoot()
    const v = await validators(4)
    assert.equal(v.epoch, 0)
    assert.equal(v.thisNode, 'observer')
    const status = await runCli(env, dir, ['status', '--api', apis[4]!.base])
    assert.match(status.out, /epoch 0/)
  })

  test('propose-add at one validator and approve at two more: every node moves to epoch 1 and the newcomer votes', async () => {
    const newcomer = String((await apis[4]!.status()).nodeId)
    const proposed = await cli(0, 'validator', 'propose-add', newcomer, '--json')
    assert.equal(proposed.code, 0, proposed.out + proposed.err)
    const id = (JSON.parse(proposed.out) as { id: string }).id
    // traffic while the change is pending and taking effect
    const during = transfers(40, 1)
    for (const via of [1, 2]) {
      const approved = await cli(via, 'validator', 'approve', id.slice(0, 12))
      assert.equal(approved.code, 0, approved.out + approved.err)
    }
    await during
    await waitFor('every node in epoch 1, the newcomer voting', 60_000, async () => {
      const all = await Promise.all(running().map(async i => await validators(i)))
      // every validator of the new set has taken over the old set's bindings and votes
      return all.every(v => v.epoch === 1 && v.validators.length === 5 && v.thisNode === 'votes')
    })
    assert.equal((await validators(0)).quorum, 4)
    await transfers(INTERVAL * 2, 4)
    await sameRoot()
    // a checkpoint certified by the set of epoch 1 (four of five signatures)
    await waitFor('a checkpoint certified in epoch 1', 60_000, async () => Number((await apis[4]!.status()).checkpoint) >= seq - 1 - INTERVAL * 2)
    const list = await cli(3, 'validator', 'list')
    assert.match(list.out, /epoch 1/)
  })

  test('one of the original four is removed, then stopped; the remaining four carry on in epoch 2', async () => {
    const removed = String((await apis[3]!.status()).nodeId)
    const proposed = await cli(4, 'validator', 'propose-remove', removed, '--json')
    assert.equal(proposed.code, 0, proposed.out + proposed.err)
    const id = (JSON.parse(proposed.out) as { id: string }).id
    const during = transfers(40, 0)
    for (const via of [0, 1, 2]) {
      const approved = await cli(via, 'validator', 'approve', id)
      assert.equal(approved.code, 0, approved.out + approved.err)
    }
    await during
    await waitFor('every node in epoch 2 with four validators', 60_000, async () => {
      const all = await Promise.all(running().map(async i => await validators(i)))
      return all.every(v => v.epoch === 2 && v.validators.length === 4 && !v.validators.includes(removed))
    })
    assert.equal((await validators(3)).thisNode, 'observer')
    // removed, it follows as an observer (by gossip again) until its operator stops it
    await transfers(20, 0)
    await sameRoot()
    procs[3]!.kill('SIGTERM')
    await new Promise(resolve => procs[3]!.once('exit', resolve))
    procs[3] = undefined
    await transfers(INTERVAL * 2, 2)
    await sameRoot()
    const roots = await Promise.all(running().map(async i => await apis[i]!.status()))
    assert.ok(roots.every(s => s.epoch === 2), JSON.stringify(roots.map(s => s.epoch)))
  })

  test('the node sequencing a contract is killed; another takes over with rotate-sequencer and runs each queued call once, while transfers go on', async () => {
    // alice calls, the treasury keeps transferring: two streams, no shared seq
    assert.equal((await runCli(env, dir, ['account', 'new', '--name', 'alice', '--insecure'])).code, 0)
    const fund = await cli(0, 'transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')
    assert.equal(fund.code, 0, fund.out + fund.err)
    seq = (await apis[0]!.account(toHex(treasury.publicKey))).nextSeq
    const aliceKey = parseKeyFile(await readFile(join(dir, 'home', 'wallet', 'alice.key.json'), 'utf8'))
    const alice = signerFrom(nobleScheme, await openKey(aliceKey, undefined))
    // deployed through node 2: node 2 sequences it
    const d = await cli(1, 'deploy', TOKEN, '--from', 'alice', '--args', JSON.stringify([{ key: 'alice' }, 1_000_000]))
    assert.equal(d.code, 0, d.out + d.err)
    const token = d.out.match(/contract ([0-9a-f]{64})/)![1]!
    assert.equal((await apis[0]!.contract(token)).sequencer, String((await apis[1]!.status()).nodeId))
    procs[1]!.kill('SIGKILL')
    await new Promise(resolve => procs[1]!.once('exit', resolve))
    procs[1] = undefined
    // three of the four validators of epoch 2 are left: a quorum; calls queue behind the dead sequencer
    const client = new BftClient({ api: apis[0]!, signer: alice, pending: new MemoryPendingStore(), timeoutMs: 20_000 })
    const bob = toHex(signerFrom(nobleScheme, seedOf('e2e-reconf-bob', 0)).publicKey)
    const calls: number[] = []
    for (let i = 0; i < CALLS; i++) {
      const sent = await client.send(callBody({ contract: token, fn: 'transfer', args: { json: [{ key: bob }, 1] }, gasLimit: 100_000 }))
      assert.equal(sent.status.outcome?.status, 'applied', JSON.stringify(sent.status))
      calls.push(sent.slot.seq)
    }
    assert.equal((await apis[0]!.contract(token)).queued, CALLS)
    const during = transfers(30, 0)
    // node 3 takes over at the deployer's request
    const rot = await cli(2, 'contract', 'rotate-sequencer', token, '--from', 'alice')
    assert.equal(rot.code, 0, rot.out + rot.err)
    const node3 = String((await apis[2]!.status()).nodeId)
    assert.match(rot.out, new RegExp(`the contract is now sequenced by ${node3}`))
    await during
    await until('the queued calls to run at the new sequencer', 30_000, async () => (await apis[0]!.contract(token)).queued === 0 ? true : undefined)
    for (const s of calls) assert.equal((await apis[0]!.call(toHex(alice.publicKey), s)).status, 'ok')
    const balance = await apis[4]!.query(token, { fn: 'balance-of', args: [{ key: bob }] })
    assert.deepEqual((balance as { result?: unknown }).result, { int: String(CALLS) }, 'each queued call ran once')
    // a call made now runs too, and the transfers go on
    const more = await client.call({ contract: token, fn: 'transfer', args: { json: [{ key: bob }, 1] }, gasLimit: 100_000 })
    assert.equal(more.outcome?.status, 'ok', JSON.stringify(more))
    await transfers(20, 4)
    await sameRoot()
  })
})
