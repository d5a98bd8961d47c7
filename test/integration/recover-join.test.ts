// A validator started after `bftnode recover` has no state, yet it voted before: the bindings
// behind its old checkpoints were pruned. Until it holds a verified snapshot at or past the mark
// recover left, it must bind and vote for nothing, even while the others propose to it.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '../../src/net/polyfill.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { encodeGenesis, makeGenesis } from '../../src/core/ledger/genesis.js'
import type { Genesis } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { NodeDatabase } from '../../src/store/database.js'
import { peerIdForSeed } from '../../src/net/network.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'

describe('a validator recovering from a divergence', () => {
  let dir: string
  let genesis: Genesis
  const nodes: BftNode[] = []
  const seeds = [0, 1, 2, 3].map(i => seedOf('it-recover', i))
  const user = signerFrom(sodiumScheme, seedOf('it-recover-user', 0))
  const configs: Array<ReturnType<typeof defaultConfig>> = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-it-recover-'))
    genesis = makeGenesis({ network: 'recover', validators: seeds.map(s => sodiumScheme.publicKeyOf(s)), mintAuthority: user.publicKey, balances: [{ account: user.publicKey, amount: 1_000_000n }] })
    const ports = await freePorts(4)
    const ids = await Promise.all(seeds.map(peerIdForSeed))
    for (let i = 0; i < 4; i++) {
      configs.push({
        ...defaultConfig(join(dir, `n${i}`)),
        listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
        bootstrap: ports.flatMap((p, j) => j === i ? [] : [`/ip4/127.0.0.1/tcp/${p}/p2p/${ids[j]!}`]),
        mdns: false,
        // three of four start new: on probation they would wait for the fourth before voting
        resumeVoting: i < 3,
        checkpointInterval: 20
      })
    }
    for (let i = 0; i < 3; i++) nodes.push(await BftNode.start(configs[i]!, genesis, seeds[i]!, silentLogger))
    await waitFor('three validators connected', 20_000, () => nodes.every(n => n.peers().length >= 2))
  })

  after(async () => {
    await Promise.all(nodes.map(async n => await n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  test('it binds and votes for nothing while it joins, though ops are proposed to it', async () => {
    // what bftnode recover leaves: the genesis, and a mark above any checkpoint the network has
    const db = await NodeDatabase.open(configs[3]!.dataDir)
    await db.putMeta('genesis', encodeGenesis(genesis))
    await db.putMeta('recover', new TextEncoder().encode('1000000'))
    await db.close()
    let seq = 1
    const submitting = { on: true }
    const load = (async () => {
      while (submitting.on) {
        const op = signOp(user, nodes[0]!.replica.networkId, { account: user.publicKey, seq: seq++, deps: [], body: { kind: 'transfer', to: sodiumScheme.publicKeyOf(seeds[0]!), amount: 1n } })
        nodes[0]!.submit([op.bytes])
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    })()
    const started = await BftNode.start(configs[3]!, genesis, seeds[3]!, silentLogger).then(n => n, (err: Error) => err)
    submitting.on = false
    await load
    if (started instanceof BftNode) await started.stop()
    // no peer has a snapshot that high: the start gives up
    assert.ok(started instanceof Error, 'the start fails without a snapshot at or past the mark')
    assert.match(started.message, /no peer offered a verified snapshot/)
    // the others delivered ops proposed to all four meanwhile
    await waitFor('the ops delivered', 10_000, () => nodes[0]!.replica.status().delivered >= 5)
    const again = await NodeDatabase.open(configs[3]!.dataDir)
    try {
      const bound = (await again.replicaRecords()).filter(r => r.kind === 'bindings')
      assert.deepEqual(bound.map(r => r.kind === 'bindings' ? r.ops.length : 0), [], 'node 4 bound slots while recovering (so it voted for them)')
    } finally {
      await again.close()
    }
  })

  test('once it holds a snapshot at or past the mark it votes again', async () => {
    await waitFor('a certified checkpoint', 20_000, () => (nodes[0]!.replica.latestCheckpoint()?.msg.height ?? 0) >= 20)
    const db = await NodeDatabase.open(configs[3]!.dataDir)
    await db.putMeta('recover', new TextEncoder().encode('20'))
    await db.close()
    const node = await BftNode.start(configs[3]!, genesis, seeds[3]!, silentLogger)
    nodes.push(node)
    assert.ok((node.replica.latestCheckpoint()?.msg.height ?? 0) >= 20)
    assert.equal(node.validatorRole, 'votes')
    assert.equal(node.replica.votes, true)
  })

  test('a halt found on disk without its evidence bundle (a crash between the two writes) gets one at start', async () => {
    const cp = nodes[0]!.replica.latestCheckpoint()!
    const obsDir = join(dir, 'observer')
    const db = await NodeDatabase.open(obsDir)
    await db.putMeta('genesis', encodeGenesis(genesis))
    await db.persist([{ kind: 'diverged', height: cp.msg.height, ours: new Uint8Array(32).fill(7), certified: cp.bytes }])
    await db.close()
    const observer = await BftNode.start({ ...configs[0]!, dataDir: obsDir, listen: ['/ip4/127.0.0.1/tcp/0'], resumeVoting: false }, genesis, seedOf('it-recover-observer', 0), silentLogger)
    nodes.push(observer)
    const d = observer.divergence
    assert.ok(d !== undefined, 'the halt is restored')
    const bundle = JSON.parse(await readFile(d.evidence, 'utf8')) as { height: number, certifiedRoot: string, ourRoot: string, signers: string[], partial?: string }
    assert.equal(bundle.height, cp.msg.height)
    assert.equal(bundle.certifiedRoot, toHex(cp.msg.root))
    assert.equal(bundle.ourRoot, toHex(new Uint8Array(32).fill(7)))
    assert.equal(bundle.signers.length, cp.msg.sigs.length)
    assert.match(bundle.partial ?? '', /ops of the cut were not kept/)
  })
})
