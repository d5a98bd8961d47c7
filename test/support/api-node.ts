// A real one-validator node with its API on 127.0.0.1, for tests that talk HTTP to it: real
// LevelDB, real libp2p, real sockets. Ports and the data dir come from the harness.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import type { Logger } from '../../src/node/log.js'
import { startApi } from '../../src/api/server.js'
import type { ApiOptions, ApiServer } from '../../src/api/server.js'
import { freePorts } from './ports.js'
import { seedOf } from './localnet.js'

export interface ApiNode {
  node: BftNode
  api: ApiServer
  port: number
  /** A funded account (the mint authority) of the node's network. */
  alice: Signer
  /** Another API server on the same node, with other options. */
  another (opts: ApiOptions): Promise<ApiServer>
  stop (): Promise<void>
}

export async function startApiNode (label: string, opts: ApiOptions = {}, log: Logger = silentLogger): Promise<ApiNode> {
  const dir = await mkdtemp(join(tmpdir(), `bftnode-${label}-`))
  const validatorSeed = seedOf(`${label}-validator`, 0)
  const alice = signerFrom(sodiumScheme, seedOf(`${label}-alice`, 0))
  const genesis = makeGenesis({ network: label, validators: [sodiumScheme.publicKeyOf(validatorSeed)], mintAuthority: alice.publicKey, balances: [{ account: alice.publicKey, amount: 1000n }] })
  const [p2p] = await freePorts(1)
  const node = await BftNode.start({ ...defaultConfig(dir), listen: [`/ip4/127.0.0.1/tcp/${p2p!}`], mdns: false }, genesis, validatorSeed, log)
  const servers: ApiServer[] = []
  const another = async (o: ApiOptions): Promise<ApiServer> => {
    const s = await startApi(node, '127.0.0.1', 0, { log, ...o })
    servers.push(s)
    return s
  }
  const api = await another(opts)
  return {
    node,
    api,
    port: api.port,
    alice,
    another,
    stop: async () => {
      for (const s of servers) await s.close()
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
