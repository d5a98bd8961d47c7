// End to end: four validator processes; one is stopped and its stored state damaged on disk (an op
// of a stored certificate swapped for another its account signed for the same slot: records from
// disk are not verified again). Restarted, it computes another root at the next certified
// checkpoint: it halts (no vote), says so in status, health, readiness, metrics and an untrusted
// header, and writes the evidence bundle; the others go on. `bftnode recover` refuses while it
// runs, keeps the state aside once it is stopped, and the next start re-joins with the network's
// root and votes again.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { parse as parseJsonc } from 'jsonc-parser'
import { ApiClient } from '../../src/client/api-client.js'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { decodeOp, signOp } from '../../src/core/ledger/op.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, placeTestnet, runCli, until } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'
import { seedOf } from '../support/localnet.js'

const INTERVAL = 50

describe('a validator whose state diverged halts, keeps evidence, and recovers', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const apis: ApiClient[] = []
  const configs: string[] = []
  let treasury: Signer
  let networkIdHex: string
  let seq = 1
  let node4Log = ''
  const to = signerFrom(nobleScheme, seedOf('e2e-diverge', 0)).publicKey

  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)

  const transfers = async (n: number, via: ApiClient, watch: ApiClient[] = [via]): Promise<void> => {
    const ops = Array.from({ length: n }, () => signOp(treasury, fromHex(networkIdHex), { account: treasury.publicKey, seq: seq++, deps: [], body: { kind: 'transfer', to, amount: 1n } }))
    const results = await via.submit(ops.map(o => toHex(o.bytes)))
    assert.ok(results.every(r => r.status !== 'rejected'), JSON.stringify(results.find(r => r.status === 'rejected')))
    for (const a of watch) await waitFor('the transfers to be delivered', 60_000, async () => (await a.account(toHex(treasury.publicKey))).nextSeq >= seq)
  }

  const start = (i: number): ChildProcess => {
    const p = spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', i === 3 ? 'info' : 'warn', '--log-format', 'json'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    p.stderr?.on('data', (b: Buffer) => { if (i === 3) node4Log += b.toString(); if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
    procs[i] = p
    return p
  }

  const stop = async (i: number): Promise<void> => {
    const p = procs[i]!
    if (p.exitCode !== null) return
    p.kill('SIGTERM')
    await new Promise(resolve => p.once('exit', resolve))
  }

  const dataDirOf = async (i: number): Promise<string> =>
    join(dir, 'net', `node${i + 1}`, (parseJsonc(await readFile(configs[i]!, 'utf8')) as { dataDir: string }).dataDir)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-diverge-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const apiPorts = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0]))
    assert.equal(init.code, 0, init.err)
    configs.push(...await placeTestnet(join(dir, 'net'), ports, apiPorts, { checkpointInterval: INTERVAL, checkpointRetain: 2 }))
    for (let i = 0; i < 4; i++) {
      start(i)
      apis.push(new ApiClient(`http://127.0.0.1:${apiPorts[i]}`))
    }
    const keyText = await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')
    treasury = signerFrom(nobleScheme, await openKey(parseKeyFile(keyText), undefined))
    networkIdHex = String((await until('the validators to connect and vote', 60_000, async () => {
      const st = await Promise.all(apis.map(async a => await a.status().catch(() => undefined)))
      return st.every(s => s !== undefined && Number(s.validatorsConnected) >= 2 && s.voting === true) ? st[0] : undefined
    })).networkId)
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('a validator restarted on a damaged state halts at the next certified checkpoint, says so everywhere, and the others go on', async () => {
    await transfers(INTERVAL + 10, apis[0]!, apis)
    await until('a checkpoint everywhere', 60_000, async () => (await Promise.all(apis.map(async a => Number((await a.status()).checkpoint)))).every(h => h >= INTERVAL) ? true : undefined)
    await transfers(5, apis[1]!, apis) // past the checkpoint, below the next
    const cpHeight = Number((await apis[3]!.status()).checkpoint)
    assert.ok(cpHeight < seq - 1, `the last ops lie past checkpoint ${cpHeight}`)
    await stop(3)
    // the damage: every stored certificate of the last op (a slow network may have certified its
    // batch twice, re-proposed) holds another op for the same slot
    const db = new ClassicLevel<string, Uint8Array>(await dataDirOf(3), { keyEncoding: 'utf8', valueEncoding: 'view' })
    const swapped = signOp(treasury, fromHex(networkIdHex), { account: treasury.publicKey, seq: seq - 1, deps: [], body: { kind: 'transfer', to, amount: 1000n } }).bytes
    let damaged = 0
    for await (const [key, value] of db.iterator({ gte: 'c/', lt: 'c/\xff' })) {
      const m = decodeMessage(value)
      if (m.type !== 'certified') continue
      const at = m.ops.findIndex(b => { const op = decodeOp(b); return op.seq === seq - 1 && toHex(op.account) === toHex(treasury.publicKey) })
      if (at < 0) continue
      const ops = [...m.ops]
      ops[at] = swapped
      await db.put(key, encodeMessage({ ...m, ops }))
      damaged++
    }
    await db.close()
    assert.ok(damaged > 0, 'found the certificate of the last op')
    start(3)
    await until('node 4 to restart on its damaged state', 60_000, async () => {
      const [a, b, acct] = await Promise.all([apis[0]!.status(), apis[3]!.status().catch(() => undefined), apis[3]!.account(toHex(treasury.publicKey)).catch(() => undefined)])
      // it delivered everything again (from disk), one op differently
      return b !== undefined && acct?.nextSeq === seq && b.stateHash !== a.stateHash ? true : undefined
    })
    // the next checkpoint covers the swapped op: a quorum certifies a root node 4 does not compute
    await transfers(INTERVAL, apis[0]!, apis.slice(0, 3))
    const st = await until('node 4 to halt', 60_000, async () => {
      const s = await apis[3]!.status()
      return s.trusted === false ? s : undefined
    })
    assert.equal(st.voting, false)
    assert.equal(st.thisNode, 'diverged')
    const d = st.diverged as { height: number, root: string, ours: string, evidence: string }
    assert.ok(d.height > cpHeight)
    assert.notEqual(d.root, d.ours)
    // health, readiness, metrics, the untrusted header on reads
    const base = apis[3]!.base
    const health = await fetch(`${base}/v1/health`)
    assert.equal(health.status, 503)
    assert.equal(((await health.json()) as { status: string }).status, 'diverged')
    const ready = await fetch(`${base}/v1/ready`)
    assert.equal(ready.status, 503)
    assert.match(((await ready.json()) as { reasons: string[] }).reasons.join(' '), /diverged: .*bftnode recover/)
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^bftnode_diverged 1$/m)
    const read = await fetch(`${base}/v1/accounts/${toHex(treasury.publicKey)}`)
    assert.equal(read.status, 200)
    assert.match(read.headers.get('x-bftnode-untrusted') ?? '', /diverged at checkpoint/)
    assert.equal((await fetch(`${apis[0]!.base}/v1/accounts/${toHex(treasury.publicKey)}`)).headers.get('x-bftnode-untrusted'), null)
    const status = await cli('status', '--api', base)
    assert.match(status.out, /unready: diverged/)
    // the bundle: both roots, the quorum's signatures, the ops since the agreed checkpoint, the version
    const bundle = JSON.parse(await readFile(d.evidence, 'utf8')) as Record<string, unknown>
    assert.equal(bundle.certifiedRoot, d.root)
    assert.equal(bundle.ourRoot, d.ours)
    assert.ok((bundle.signers as string[]).length >= 3)
    assert.ok((bundle.ops as string[]).length > 0)
    assert.equal((bundle.agreed as { height: number }).height, cpHeight)
    assert.equal(typeof (bundle.version as { version: string }).version, 'string')
    assert.match(node4Log, /STATE DIVERGED/)
    // the others keep certifying and agree
    await transfers(INTERVAL, apis[1]!, apis.slice(0, 3))
    await waitFor('the three to agree', 30_000, async () => new Set((await Promise.all(apis.slice(0, 3).map(async a => (await a.status()).stateHash)))).size === 1)
    await waitFor('a later checkpoint among the three', 60_000, async () => Number((await apis[0]!.status()).checkpoint) > d.height)
  })

  test('bftnode recover refuses a running node, keeps the state aside, and the node re-joins with the network\'s root', async () => {
    const dataDir = await dataDirOf(3)
    const running = await cli('recover', '--data-dir', dataDir)
    assert.notEqual(running.code, 0)
    assert.match(running.err, /running: stop it first/)
    // a restart alone keeps the halt
    await stop(3)
    start(3)
    assert.equal((await until('node 4 to restart', 30_000, async () => await apis[3]!.status().catch(() => undefined))).trusted, false)
    await stop(3)
    const r = await cli('recover', '--data-dir', dataDir)
    assert.equal(r.code, 0, r.out + r.err)
    assert.match(r.out, /evidence: .*divergence-\d+\.json/)
    const kept = await readdir(dataDir)
    assert.ok(kept.some(n => n.startsWith('diverged-')), 'the old database is kept aside')
    assert.ok((await readdir(join(dataDir, 'evidence'))).some(n => n.startsWith('divergence-')), 'the evidence stays')
    const again = await cli('recover', '--data-dir', dataDir)
    assert.notEqual(again.code, 0)
    assert.match(again.err, /has not diverged/)
    start(3)
    const st = await until('node 4 to re-join with the network\'s root', 90_000, async () => {
      const [a, b] = await Promise.all([apis[0]!.status(), apis[3]!.status().catch(() => undefined)])
      return b !== undefined && a.stateHash === b.stateHash ? b : undefined
    })
    assert.equal(st.trusted, true)
    assert.equal(st.voting, true)
    assert.match(node4Log, /started from a certified checkpoint/)
    // and it carries new transfers with the others
    await transfers(10, apis[3]!, apis)
    await waitFor('all four to agree', 30_000, async () => new Set((await Promise.all(apis.map(async a => (await a.status()).stateHash)))).size === 1)
  })
})
