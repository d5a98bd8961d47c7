// Node figures on this machine, with real `bftnode` processes: cold start of `bftnode start` to
// "ready", RSS of an idle validator, and the end-to-end latency of one transfer (signed by a
// wallet, submitted to node1's API, delivered there) on a 4-validator local network: median and
// p90 of 100, one at a time. Run: npm run build && node dist/bench/node.js

import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromHex, toHex } from '../src/core/crypto/hash.js'
import { signerFrom } from '../src/core/crypto/signing.js'
import { nobleScheme } from '../src/core/crypto/noble.js'
import { signOp } from '../src/core/ledger/op.js'
import { ApiClient } from '../src/client/api-client.js'
import { openKey, parseKeyFile } from '../src/client/keyfile.js'
import { freePort, waitFor } from '../test/support/ports.js'

const BIN = fileURLToPath(new URL('../../bin/bftnode.js', import.meta.url))

async function run (env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => execFile(process.execPath, [BIN, ...args], { env }, (err, out, e) => err === null ? resolve(out) : reject(new Error(e))))
}

async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

const dir = await mkdtemp(join(tmpdir(), 'bftnode-bench-'))
const env = { ...process.env, BFTNODE_HOME: join(dir, 'home'), BFTNODE_LOG_LEVEL: 'warn' }
const base = Math.min(await freePort(), 60_000)
await run(env, 'testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(base), '--api-port', String(base + 4))
const children: ChildProcess[] = []
try {
  // cold start: process spawn to the "ready" line, each node started alone
  const starts: number[] = []
  for (let i = 0; i < 4; i++) {
    const t = performance.now()
    const child = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', `node${i + 1}`, 'config.json')], { env, stdio: ['ignore', 'pipe', 'ignore'] })
    children.push(child)
    await new Promise<void>(resolve => child.stdout?.on('data', (b: Buffer) => { if (b.toString().includes('ready in')) resolve() }))
    starts.push(performance.now() - t)
  }
  const apis = Array.from({ length: 4 }, (_, i) => new ApiClient(`http://127.0.0.1:${base + 4 + i}`))
  await waitFor('a full mesh', 30_000, async () => (await Promise.all(apis.map(async a => Number((await a.status()).validatorsConnected)))).every(n => n === 3))
  await new Promise(resolve => setTimeout(resolve, 3000))
  const rss = await Promise.all(children.map(async c => await rssOf(c.pid!)))

  // latency: the treasury pays a fresh account 100 times, one op at a time
  const treasury = signerFrom(nobleScheme, await openKey(parseKeyFile(await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')), undefined))
  const api = apis[0]!
  const networkId = fromHex((await api.genesis()).networkId)
  const to = fromHex('11'.repeat(32))
  const latencies: number[] = []
  for (let seq = 1; seq <= 100; seq++) {
    const op = signOp(treasury, networkId, { account: treasury.publicKey, seq, deps: [], body: { kind: 'transfer', to, amount: 1n } })
    const t = performance.now()
    await api.submit([toHex(op.bytes)])
    const st = await api.op(toHex(op.hash), 10_000)
    if (st.status !== 'delivered') throw new Error(`op ${seq} not delivered`)
    latencies.push(performance.now() - t)
  }
  latencies.sort((a, b) => a - b)
  const rssAfter = await Promise.all(children.map(async c => await rssOf(c.pid!)))
  console.log(`cold start to ready (ms, 4 nodes one after another): ${starts.map(s => s.toFixed(0)).join(', ')}`)
  console.log(`RSS per idle validator (MB): ${rss.map(r => r.toFixed(0)).join(', ')}; after 100 transfers: ${rssAfter.map(r => r.toFixed(0)).join(', ')}`)
  console.log(`transfer latency, wallet-signed op submitted to node1 until delivered there (ms): median ${latencies[49]!.toFixed(1)}, p90 ${latencies[89]!.toFixed(1)}, min ${latencies[0]!.toFixed(1)}, max ${latencies[99]!.toFixed(1)}`)
} finally {
  for (const c of children) c.kill('SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 1000))
  await rm(dir, { recursive: true, force: true })
}
