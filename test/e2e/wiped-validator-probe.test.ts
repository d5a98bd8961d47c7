// Review finding: a validator on a new data dir, started plainly (BftNode.probe), treats any failure
// to ask its peers (no peer reachable within 30 s, a join error) as "the network is young" and starts
// voting. Here the network has certified checkpoints; the wiped validator restarts while its peers
// are unreachable, and 30 s later it votes with no memory of the slots it bound before the wipe.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/api-client.js'
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

describe('a wiped validator that cannot reach its peers', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const apis: ApiClient[] = []
  let treasury: Signer
  let networkIdHex: string

  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-probe-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const apiPorts = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0]))
    assert.equal(init.code, 0, init.err)
    const configs = await placeTestnet(join(dir, 'net'), ports, apiPorts, { checkpointInterval: 20 })
    for (let i = 0; i < 4; i++) {
      procs.push(spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', 'warn'], { env, stdio: 'ignore' }))
      apis.push(new ApiClient(`http://127.0.0.1:${apiPorts[i]}`))
    }
    const keyText = await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')
    treasury = signerFrom(nobleScheme, await openKey(parseKeyFile(keyText), undefined))
    networkIdHex = String((await until('the validators to connect', 60_000, async () => {
      const st = await Promise.all(apis.map(async a => await a.status()))
      return st.every(s => Number(s.validatorsConnected) >= 2) ? st[0] : undefined
    })).networkId)
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('it stays out of voting while it cannot tell whether the network has checkpoints', async () => {
    const to = signerFrom(nobleScheme, seedOf('review-user', 0)).publicKey
    const ops = Array.from({ length: 60 }, (_, i) => signOp(treasury, fromHex(networkIdHex), { account: treasury.publicKey, seq: i + 1, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    await apis[0]!.submit(ops.map(o => toHex(o.bytes)))
    await waitFor('a certified checkpoint at node 3', 60_000, async () => Number((await apis[2]!.status()).checkpoint) > 0)
    // the others go offline; node 3's disk is lost and it is started as before
    for (const i of [0, 1, 3]) procs[i]!.kill('SIGKILL')
    const old = procs[2]!
    old.kill('SIGKILL')
    await new Promise(resolve => old.once('exit', resolve))
    const config = join(dir, 'net', 'node3', 'config.json')
    const dataDir = join(dir, 'net', 'node3', (JSON.parse(await readFile(config, 'utf8')) as { dataDir: string }).dataDir)
    await rm(dataDir, { recursive: true, force: true })
    procs[2] = spawn(process.execPath, [BIN, 'start', '--config', config, '--log-level', 'warn'], { env, stdio: 'ignore' })
    await until('node 3 to answer', 30_000, async () => await apis[2]!.status().catch(() => undefined))
    await new Promise(resolve => setTimeout(resolve, 40_000))
    const st = await apis[2]!.status()
    assert.equal(st.voting, false, 'the wiped validator votes after 30 s without reaching a single peer')
  })
})
