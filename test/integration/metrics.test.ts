// Metrics that move with load: four validators on libp2p in one process, started together, each
// with its API on 127.0.0.1. Transfers go in over HTTP at one node; scrapes of GET /metrics
// before and after show deliveries, latencies, votes and bytes moving, each node counting its
// own (libp2p's metrics included). A node started with metrics off answers /metrics with 404.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import type { Genesis } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { peerIdForSeed } from '../../src/net/network.js'
import { startApi } from '../../src/api/server.js'
import type { ApiServer } from '../../src/api/server.js'
import { ApiClient } from '../../src/client/api-client.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'

/** The scrape as series -> value (`name` or `name{labels}` exactly as written). */
async function scrape (port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const out = new Map<string, number>()
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

const get = (m: Map<string, number>, series: string): number => {
  const v = m.get(series)
  assert.ok(v !== undefined, `the scrape has ${series}`)
  return v
}

/** The sum of every series of a metric whose labels match `labels`. */
const sum = (m: Map<string, number>, name: string, labels = /.*/): number =>
  [...m].filter(([k]) => k.startsWith(name + '{') && labels.test(k)).reduce((a, [, v]) => a + v, 0)

describe('metrics of four validators under load', () => {
  let dir: string
  let genesis: Genesis
  const nodes: BftNode[] = []
  const apis: ApiServer[] = []
  const seeds = [0, 1, 2, 3].map(i => seedOf('metrics-validator', i))
  const user = signerFrom(sodiumScheme, seedOf('metrics-user', 0))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-metrics-'))
    genesis = makeGenesis({
      network: 'metrics',
      validators: seeds.map(s => sodiumScheme.publicKeyOf(s)),
      mintAuthority: user.publicKey,
      balances: [{ account: user.publicKey, amount: 1_000_000n }]
    })
    const ports = await freePorts(4)
    const ids = await Promise.all(seeds.map(peerIdForSeed))
    // started together: libp2p's metrics must still land in each node's own registry
    nodes.push(...await Promise.all(seeds.map(async (seed, i) => await BftNode.start({
      ...defaultConfig(join(dir, `n${i}`)),
      listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
      bootstrap: ports.flatMap((p, j) => j === i ? [] : [`/ip4/127.0.0.1/tcp/${p}/p2p/${ids[j]!}`]),
      mdns: false,
      resumeVoting: true
    }, genesis, seed, silentLogger))))
    for (const n of nodes) apis.push(await startApi(n, '127.0.0.1', 0))
    await waitFor('a full mesh', 20_000, () => nodes.every(n => n.peers().length === 3))
  })

  after(async () => {
    for (const a of apis) await a.close()
    await Promise.all(nodes.map(async n => await n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  test('health and readiness answer over HTTP', async () => {
    const health = await fetch(`http://127.0.0.1:${apis[0]!.port}/v1/health`)
    assert.equal(health.status, 200)
    assert.equal((await health.json() as { status: string }).status, 'ok')
    await waitFor('node 1 to be ready', 10_000, async () => (await fetch(`http://127.0.0.1:${apis[0]!.port}/v1/ready`)).status === 200)
    const ready = await new ApiClient(`http://127.0.0.1:${apis[0]!.port}`).ready()
    assert.deepEqual(ready.reasons, [])
    assert.equal(ready.validatorsConnected, 3)
  })

  test('transfers submitted at one node move its counters and latencies, and every node\'s deliveries', async () => {
    const before = await Promise.all(apis.map(async a => await scrape(a.port)))
    const n = 40
    const to = signerFrom(sodiumScheme, seedOf('metrics-user', 1)).publicKey
    const ops = Array.from({ length: n }, (_, i) => signOp(user, nodes[0]!.replica.networkId, { account: user.publicKey, seq: i + 1, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    const client = new ApiClient(`http://127.0.0.1:${apis[0]!.port}`)
    // in a few requests, so several batches are proposed
    for (let i = 0; i < n; i += 10) {
      const results = await client.submit(ops.slice(i, i + 10).map(o => toHex(o.bytes)))
      assert.ok(results.every(r => r.status === 'queued'), JSON.stringify(results))
    }
    for (const o of ops) assert.equal((await client.op(toHex(o.hash), 10_000)).status, 'delivered')
    await waitFor('every node to deliver them', 10_000, () => nodes.every(node => node.replica.counters().delivered >= n))
    const after = await Promise.all(apis.map(async a => await scrape(a.port)))
    const rise = (i: number, series: string): number => get(after[i]!, series) - get(before[i]!, series)

    assert.equal(rise(0, 'bftnode_ops_submitted_total'), n)
    assert.equal(rise(0, 'bftnode_submit_to_delivered_seconds_count'), n)
    assert.ok(rise(0, 'bftnode_submit_to_delivered_seconds_sum') > 0)
    assert.ok(rise(0, 'bftnode_batches_certified_total') >= 1)
    assert.equal(rise(0, 'bftnode_ops_certified_total'), n)
    assert.equal(rise(0, 'bftnode_batch_ops_sum'), n)
    assert.ok(rise(0, 'bftnode_certificate_seconds_count') >= 1)
    assert.ok(rise(0, 'bftnode_db_write_seconds_count') >= 1)
    for (let i = 0; i < 4; i++) {
      assert.equal(rise(i, 'bftnode_ops_delivered_total'), n, `node ${i + 1} delivered all`)
      if (i > 0) {
        // the others delivered the ops but did not take them: no latency of theirs
        assert.equal(rise(i, 'bftnode_submit_to_delivered_seconds_count'), 0)
        assert.ok(rise(i, 'bftnode_vote_seconds_count') >= 1, `node ${i + 1} voted`)
      }
    }
    // libp2p's bytes per protocol: node 1 sent proposals and certificates on the direct protocol
    const direct = /direct\/1\.0\.0 sent"/
    assert.ok(sum(after[0]!, 'libp2p_data_transfer_bytes_total', direct) > sum(before[0]!, 'libp2p_data_transfer_bytes_total', direct))
  })

  test('each node\'s registry holds its own libp2p metrics', async () => {
    for (const a of apis) {
      const m = await scrape(a.port)
      // three peers, so three connections or more (both ends may dial): a node whose libp2p
      // metrics went to another node's registry has none in its own
      const connections = sum(m, 'libp2p_connection_manager_connections', /"(inbound|outbound)"/)
      assert.ok(connections >= 3 && connections <= 9, `${connections} connections`)
      assert.equal(get(m, 'bftnode_peers'), 3)
      assert.equal(get(m, 'bftnode_validators_connected'), 3)
      assert.equal(get(m, 'bftnode_ready'), 1)
      assert.ok(get(m, 'process_resident_memory_bytes') > 0)
      assert.ok(m.has('nodejs_eventloop_lag_seconds'))
    }
  })
})

describe('a node with metrics off', () => {
  test('answers GET /metrics with a JSON 404, and health still', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-nometrics-'))
    const seed = seedOf('nometrics', 0)
    const genesis = makeGenesis({ network: 'nometrics', validators: [sodiumScheme.publicKeyOf(seed)], mintAuthority: sodiumScheme.publicKeyOf(seed), balances: [] })
    const [port] = await freePorts(1)
    const node = await BftNode.start({ ...defaultConfig(dir), listen: [`/ip4/127.0.0.1/tcp/${port!}`], mdns: false, metrics: false }, genesis, seed, silentLogger)
    const api = await startApi(node, '127.0.0.1', 0)
    try {
      assert.equal(node.metrics, undefined)
      const res = await fetch(`http://127.0.0.1:${api.port}/metrics`)
      assert.equal(res.status, 404)
      assert.match(res.headers.get('content-type') ?? '', /application\/json/)
      assert.equal((await res.json() as { error: { code: string } }).error.code, 'ERR_NOT_FOUND')
      assert.equal((await fetch(`http://127.0.0.1:${api.port}/v1/health`)).status, 200)
      // a lone validator is its own quorum
      assert.equal((await fetch(`http://127.0.0.1:${api.port}/v1/ready`)).status, 200)
    } finally {
      await api.close()
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
