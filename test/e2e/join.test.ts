// End to end: four validator processes carry a few thousand transfers and a contract's calls,
// certify checkpoints and prune behind them; a fresh `bftnode join` with only the genesis file and
// bootstrap addresses downloads and verifies the latest checkpoint while two lying peers (real
// libp2p hosts) serve it a forged checkpoint and a manifest that is not the signed one. It names
// both, reaches the validators' state root, follows new transfers live, and a wallet submitting
// through it gets its transfer delivered.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/client/api-client.js'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import { decodeSyncResponse, encodeSyncRequest, encodeSyncResponse } from '../../src/core/checkpoint/sync-messages.js'
import { P2PNetwork } from '../../src/net/network.js'
import { silentLogger } from '../../src/node/log.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, placeTestnet, runCli, until } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'
import { seedOf } from '../support/localnet.js'
import { parse as parseJsonc } from 'jsonc-parser'

const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))
const INTERVAL = 250

describe('a new node joins a running network from a certified checkpoint', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const liars: P2PNetwork[] = []
  const apis: ApiClient[] = []
  let observer: ApiClient
  let observerLog = ''
  let treasury: Signer
  let networkIdHex: string
  let seq = 1

  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)

  /** Signs `n` transfers from the treasury and submits them through validator `via`, in windows. */
  const transfers = async (n: number, via: ApiClient): Promise<void> => {
    const to = signerFrom(nobleScheme, seedOf('e2e-user', 0)).publicKey
    for (let done = 0; done < n;) {
      const slice = Math.min(200, n - done)
      const ops = Array.from({ length: slice }, () => signOp(treasury, fromHex(networkIdHex), { account: treasury.publicKey, seq: seq++, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
      const results = await via.submit(ops.map(o => toHex(o.bytes)))
      assert.ok(results.every(r => r.status !== 'rejected'), JSON.stringify(results.find(r => r.status === 'rejected')))
      done += slice
      await waitFor('the window to be delivered', 60_000, async () => (await via.account(toHex(treasury.publicKey))).nextSeq >= seq)
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-join-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const apiPorts = await Promise.all(Array.from({ length: 5 }, async () => await freePort()))
    // validator ports need not be consecutive: write the configs' listen and bootstrap ourselves
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0]))
    assert.equal(init.code, 0, init.err)
    const configs = await placeTestnet(join(dir, 'net'), ports, apiPorts, { checkpointInterval: INTERVAL, checkpointRetain: 1 })
    for (let i = 0; i < 4; i++) {
      const p = spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
      procs.push(p)
      apis.push(new ApiClient(`http://127.0.0.1:${apiPorts[i]}`))
    }
    observer = new ApiClient(`http://127.0.0.1:${apiPorts[4]}`)
    env.BFTNODE_API = `http://127.0.0.1:${apiPorts[0]}`
    const keyText = await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')
    treasury = signerFrom(nobleScheme, await openKey(parseKeyFile(keyText), undefined))
    networkIdHex = String((await until('the validators to connect', 60_000, async () => {
      const st = await Promise.all(apis.map(async a => await a.status()))
      // new validators vote once they know the network is young, which needs all of them up
      return st.every(s => Number(s.validatorsConnected) >= 2 && s.voting === true) ? st[0] : undefined
    })).networkId)
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await Promise.all(liars.map(async l => await l.stop().catch(() => {})))
    await rm(dir, { recursive: true, force: true })
  })

  test('validators carry thousands of transfers and contract calls, certify checkpoints and prune', async () => {
    // validator 4 sleeps through it all: it comes back in the last test
    procs[3]!.kill('SIGKILL')
    await new Promise(resolve => procs[3]!.once('exit', resolve))
    await transfers(1500, apis[0]!)
    const me = toHex(treasury.publicKey)
    const d = await cli('deploy', TOKEN, '--from', 'treasury', '--args', JSON.stringify([{ key: me }, 1_000_000]))
    assert.equal(d.code, 0, d.out + d.err)
    seq++
    const address = d.out.match(/contract ([0-9a-f]{64})/)![1]!
    for (let i = 0; i < 3; i++) {
      const c = await cli('call', address, 'transfer', '--from', 'treasury', '--args', JSON.stringify([{ key: toHex(signerFrom(nobleScheme, seedOf('e2e-user', 1)).publicKey) }, 10]))
      assert.equal(c.code, 0, c.out + c.err)
      seq++
    }
    await transfers(1000, apis[1]!)
    const st = await until('every validator to certify a checkpoint past 2000 ops', 60_000, async () => {
      const all = await Promise.all(apis.slice(0, 3).map(async a => await a.status()))
      return all.every(s => Number(s.checkpoint) >= 2000) ? all : undefined
    })
    for (const s of st) assert.ok(Number(s.certificates) < 1500, `pruned: ${String(s.certificates)} certificates kept after 2500 ops`)
  })

  test('bftnode join reaches the validators\' root despite two lying peers, names them, follows live, and relays a wallet\'s transfer', async () => {
    const v1 = parseJsonc(await readFile(join(dir, 'net', 'node1', 'config.json'), 'utf8')) as { listen: string[] }
    const v2 = parseJsonc(await readFile(join(dir, 'net', 'node2', 'config.json'), 'utf8')) as { bootstrap: string[] }
    const bootstrap = v2.bootstrap.find(a => a.startsWith(v1.listen[0]!))!
    // two liars on the same network: one forges the checkpoint's signatures, one serves a manifest of its own
    // the real offer, fetched once, so the liars answer at once (the joiner hears them before it chooses)
    const fetcher = await P2PNetwork.start({ seed: seedOf('liar', 9), networkId: networkIdHex, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, maxConnections: 16, inboundRate: 1000, log: silentLogger }, { direct: () => 'ignore', gossip: () => 'ignore' })
    liars.push(fetcher)
    const real = decodeSyncResponse(await fetcher.request(await fetcher.dial(bootstrap), encodeSyncRequest({ type: 'latest' })))
    assert.equal(real.type, 'offer')
    if (real.type !== 'offer') return
    const cp = decodeMessage(real.checkpoint)
    assert.equal(cp.type, 'checkpoint')
    if (cp.type !== 'checkpoint') return
    const forged = encodeSyncResponse({ type: 'offer', checkpoint: encodeMessage({ ...cp, sigs: cp.sigs.map(s => ({ ...s, sig: s.sig.map((b, i) => i === 5 ? b ^ 0xff : b) })) }), manifest: real.manifest })
    const otherManifest = real.manifest.slice()
    otherManifest[otherManifest.length - 1]! ^= 1
    const foreign = encodeSyncResponse({ type: 'offer', checkpoint: real.checkpoint, manifest: otherManifest })
    for (const [k, answer] of [forged, foreign].entries()) {
      liars.push(await P2PNetwork.start({
        seed: seedOf('liar', k), networkId: networkIdHex, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, maxConnections: 16, inboundRate: 1000, log: silentLogger
      }, { direct: () => 'ignore', gossip: () => 'ignore', sync: async () => answer }))
    }
    const addrs = liars.slice(1).map(l => l.addresses()[0]! + '/p2p/' + l.peerId)
    const p = spawn(process.execPath, [BIN, 'join', '--genesis', join(dir, 'net', 'genesis.json'), '--bootstrap', bootstrap, ...addrs, '--data-dir', join(dir, 'observer'), '--api-port', String(new URL(observer.base).port), '--no-mdns', '--log-format', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    procs.push(p)
    p.stderr?.on('data', (b: Buffer) => { observerLog += b.toString(); if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[observer] ${b.toString()}`) })
    p.stdout?.on('data', (b: Buffer) => { observerLog += b.toString() })
    const joined = await until('the observer to reach the validators\' root', 90_000, async () => {
      const [o, v] = await Promise.all([observer.status(), apis[0]!.status()])
      return o.stateHash === v.stateHash ? o : undefined
    })
    assert.equal(joined.validator, false)
    assert.ok(Number(joined.checkpoint) >= 2000, 'it started from a checkpoint, not from genesis')
    assert.match(observerLog, /joined: snapshot verified and rebuilt/)
    const keys = [0, 1].map(k => toHex(signerFrom(nobleScheme, seedOf('liar', k)).publicKey).slice(0, 16))
    const named = (): string[] => observerLog.split('\n').filter(l => l.includes('peer misbehaved'))
    await waitFor('both liars to be named', 15_000, () => keys.every(key => named().some(l => l.includes(key))))
    assert.ok(named().some(l => /forged checkpoint/.test(l) && l.includes(keys[0]!)), named().join('\n'))
    assert.ok(named().some(l => /manifest that does not hash/.test(l) && l.includes(keys[1]!)), named().join('\n'))
    // live: new transfers through a validator reach the observer
    await transfers(50, apis[2]!)
    await waitFor('the observer to follow live', 60_000, async () => (await observer.status()).stateHash === (await apis[2]!.status()).stateHash)
    // a wallet submits through the observer
    const t = await cli('transfer', '--from', 'treasury', '--to', toHex(signerFrom(nobleScheme, seedOf('e2e-user', 2)).publicKey), '--amount', '7', '--api', observer.base)
    assert.equal(t.code, 0, t.out + t.err)
    assert.match(t.out, /delivered: applied/)
    await waitFor('the validators to agree with the observer', 30_000, async () => {
      const all = await Promise.all([observer, ...apis.slice(0, 3)].map(async a => (await a.status()).stateHash))
      return new Set(all).size === 1
    })
  })

  test('with nothing but the genesis file and one bootstrap address, a second observer joins too', async () => {
    const v2 = parseJsonc(await readFile(join(dir, 'net', 'node2', 'config.json'), 'utf8')) as { bootstrap: string[] }
    const api = new ApiClient(`http://127.0.0.1:${await freePort()}`)
    const p = spawn(process.execPath, [BIN, 'join', '--genesis', join(dir, 'net', 'genesis.json'), '--bootstrap', v2.bootstrap[0]!, '--data-dir', join(dir, 'observer2'), '--api-port', new URL(api.base).port, '--no-mdns', '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    procs.push(p)
    const st = await until('the second observer to reach the validators\' root', 60_000, async () => {
      const [o, v] = await Promise.all([api.status(), apis[0]!.status()])
      return o.stateHash === v.stateHash ? o : undefined
    })
    assert.equal(st.validator, false)
    assert.ok(Number(st.checkpoint) >= 2000)
  })

  test('a validator offline for longer than the kept history catches up from a snapshot the same way', async () => {
    const before = await apis[0]!.status()
    const p = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', 'node4', 'config.json'), '--log-level', 'info', '--log-format', 'json'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    p.stderr?.on('data', (b: Buffer) => { log += b.toString(); if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node4] ${b.toString()}`) })
    procs[3] = p
    await until('the returning validator to reach the others\' root', 90_000, async () => {
      const [a, b] = await Promise.all([apis[0]!.status(), apis[3]!.status()])
      return a.stateHash === b.stateHash ? b : undefined
    })
    assert.match(log, /joining again from a snapshot/)
    assert.match(log, /started from a certified checkpoint/)
    assert.ok(Number((await apis[3]!.status()).checkpoint) >= Number(before.checkpoint))
  })

  test('a validator whose data dir was lost joins from a snapshot and does not vote until told it never voted', async () => {
    const config = join(dir, 'net', 'node3', 'config.json')
    // relative paths in a config file are relative to the file
    const dataDir = join(dir, 'net', 'node3', (parseJsonc(await readFile(config, 'utf8')) as { dataDir: string }).dataDir)
    const restart = async (...flags: string[]): Promise<() => string> => {
      const old = procs[2]!
      if (old.exitCode === null) {
        old.kill('SIGKILL')
        await new Promise(resolve => old.once('exit', resolve))
      }
      const p = spawn(process.execPath, [BIN, 'start', '--config', config, '--log-level', 'info', '--log-format', 'json', ...flags], { env, stdio: ['ignore', 'ignore', 'pipe'] })
      let log = ''
      p.stderr?.on('data', (b: Buffer) => { log += b.toString() })
      procs[2] = p
      return () => log
    }
    // the operator's mistake: the disk is gone and the node is started as before, without --join
    await rm(dataDir, { recursive: true, force: true })
    const log = await restart()
    const st = await until('the wiped validator to reach the others\' root', 90_000, async () => {
      const [a, b] = await Promise.all([apis[0]!.status(), apis[2]!.status().catch(() => undefined)])
      return a.stateHash === b?.stateHash ? b : undefined
    })
    assert.equal(st.validator, true)
    assert.equal(st.voting, false)
    assert.match(String(st.notVoting), /data dir was new/)
    assert.match(log(), /this validator does not vote/)
    // the decision is kept across a plain restart, and lifted by --resume-voting
    await restart()
    assert.equal((await until('the validator to restart', 30_000, async () => await apis[2]!.status().catch(() => undefined))).voting, false)
    await restart('--resume-voting')
    assert.equal((await until('the validator to restart', 30_000, async () => await apis[2]!.status().catch(() => undefined))).voting, true)
  })
})
