// A saturated node turns clients away cheaply: HTTP 503 with a retry hint (Retry-After and
// retryAfterMs), before it reads or verifies the request, and counts it in its status. Here one
// validator of four runs alone, so nothing it proposes is certified and its queue only grows.

import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import { networkId } from '../../src/core/ledger/genesis.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import type { NodeConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { startApi } from '../../src/api/server.js'
import type { ApiServer } from '../../src/api/server.js'
import { freePorts } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'

describe('a saturated node', () => {
  const validators = [0, 1, 2, 3].map(i => seedOf('sat-validator', i))
  const accounts = [0, 1, 2, 3].map(i => signerFrom(sodiumScheme, seedOf('sat-account', i)))
  const genesis = makeGenesis({ network: 'saturation', validators: validators.map(s => sodiumScheme.publicKeyOf(s)), mintAuthority: accounts[0]!.publicKey, balances: accounts.map(a => ({ account: a.publicKey, amount: 1000n })) })
  const transfer = (from: Signer): string => toHex(signOp(from, networkId(genesis), { account: from.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: accounts[3]!.publicKey, amount: 1n } }).bytes)
  const dirs: string[] = []
  const running: Array<{ node: BftNode, api: ApiServer }> = []

  async function start (limits: Partial<NodeConfig>): Promise<{ node: BftNode, base: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-sat-'))
    dirs.push(dir)
    const [p2p, apiPort] = await freePorts(2)
    const node = await BftNode.start({ ...defaultConfig(dir), listen: [`/ip4/127.0.0.1/tcp/${p2p!}`], mdns: false, ...limits }, genesis, validators[0]!, silentLogger)
    const api = await startApi(node, '127.0.0.1', apiPort!)
    running.push({ node, api })
    return { node, base: `http://127.0.0.1:${api.port}/v1` }
  }

  const post = async (base: string, ops: string[]): Promise<{ status: number, retryAfter: string | null, json: { error?: { code: string, message: string, retryAfterMs?: number } } }> => {
    const res = await fetch(`${base}/ops`, { method: 'POST', body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } })
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: await res.json() as never }
  }

  after(async () => {
    for (const { node, api } of running) { await api.close(); await node.stop() }
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  test('past maxPendingOps it answers 503 with a retry hint, and the ops it holds are untouched', async () => {
    const { node, base } = await start({ maxPendingOps: 2 })
    assert.equal((await post(base, [transfer(accounts[0]!), transfer(accounts[1]!)])).status, 202)
    const busy = await post(base, [transfer(accounts[2]!)])
    assert.equal(busy.status, 503)
    assert.equal(busy.json.error?.code, 'ERR_BUSY')
    assert.match(busy.json.error!.message, /2 ops are on their way to certificates \(limit 2\)/)
    assert.ok(busy.json.error!.retryAfterMs! >= 100 && busy.json.error!.retryAfterMs! <= 5000, `hint ${busy.json.error!.retryAfterMs}`)
    assert.ok(Number(busy.retryAfter) >= 1, `Retry-After: ${busy.retryAfter}`)
    const status = await (await fetch(`${base}/status`)).json() as { shedRequests: number, stateHash?: string }
    assert.equal(status.shedRequests, 1)
    assert.match(status.stateHash ?? '', /^[0-9a-f]{64}$/)
    // pollers that watch counters skip the root, which costs a pass over every account
    const counters = await (await fetch(`${base}/status?stateHash=false`)).json() as { shedRequests: number, stateHash?: string }
    assert.equal(counters.stateHash, undefined)
    assert.equal(counters.shedRequests, 1)
    assert.equal(node.replica.load(Date.now()).heldOps, 2, 'the refused op was not taken')
  })

  test('while ops wait past maxQueueDelayMs for a batch it answers 503, and takes ops again once the queue moves', async () => {
    // the pipeline holds two batches; the third op waits in the queue for one to leave it, which
    // happens at their first resend (300 ms): on a loaded machine the fourth request can come
    // after that, when the queue has rightly moved on, so such a try is made again on a new node
    let base = ''
    let busy: Awaited<ReturnType<typeof post>> | undefined
    for (let attempt = 0; attempt < 3 && busy === undefined; attempt++) {
      base = (await start({ maxQueueDelayMs: 50 })).base
      const t0 = Date.now()
      for (const a of accounts.slice(0, 3)) assert.equal((await post(base, [transfer(a)])).status, 202)
      await new Promise(resolve => setTimeout(resolve, 100))
      const answer = await post(base, [transfer(accounts[3]!)])
      if (answer.status === 503 || Date.now() - t0 < 250) busy = answer
    }
    assert.ok(busy !== undefined, 'three tries were each too slow to see the queue wait')
    assert.equal(busy.status, 503)
    assert.match(busy.json.error!.message, /ops wait \d+ ms for a batch \(limit 50 ms\)/)
    // unanswered batches leave the pipeline at their first resend (300 ms): the queue moves on
    await new Promise(resolve => setTimeout(resolve, 400))
    assert.equal((await post(base, [transfer(accounts[3]!)])).status, 202)
  })
})
