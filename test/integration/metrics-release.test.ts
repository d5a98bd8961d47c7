// A node that stops lets go of everything: with metrics on, nothing process-wide (prom-client's
// default metrics, the copies of @libp2p/prometheus-metrics) may keep a stopped node's registry,
// and through its collect callbacks the node itself, alive. Tests and benchmarks start and stop
// many nodes in one process.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { seedOf } from '../support/localnet.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('stopping a node with metrics on', () => {
  test('the stopped node can be garbage collected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-release-'))
    const seed = seedOf('release-validator', 0)
    const user = signerFrom(sodiumScheme, seedOf('release-user', 0))
    const genesis = makeGenesis({ network: 'release', validators: [sodiumScheme.publicKeyOf(seed)], mintAuthority: user.publicKey, balances: [{ account: user.publicKey, amount: 1000n }] })
    // counted as they go (WeakRef.deref would keep them alive until the end of the job)
    let collected = 0
    const registry = new FinalizationRegistry(() => { collected++ })
    /** Starts a node, scrapes it and stops it; nothing here keeps it. */
    const cycle = async (i: number): Promise<void> => {
      const node = await BftNode.start({ ...defaultConfig(join(dir, `n${i}`)), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false }, genesis, seed, silentLogger)
      // a copy of libp2p's metrics module a stopped node used serves the next one
      const text = await node.metrics!.text()
      for (const name of ['libp2p_data_transfer_bytes_total', 'libp2p_connection_manager_connections']) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `node ${i} has ${name}`)
      await node.stop()
      registry.register(node, i)
    }
    try {
      for (let i = 0; i < 4; i++) await cycle(i)
      for (let k = 0; k < 30; k++) {
        if (collected === 4) break
        gc()
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      assert.equal(collected, 4, 'every stopped node was collected')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
