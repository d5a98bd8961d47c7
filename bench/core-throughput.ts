// Throughput of the protocol core alone: 4 validators in one process, no networking, every op
// proposed, voted, certified and delivered at all 4 nodes. Prints certified+delivered ops per
// CPU-second for batches of 1, 100 and 1000, beside the signature ceiling (libsodium verifies/s
// divided by the verifications one op costs across the 4 nodes, counted, not assumed).
// Run: npm run build && node dist/bench/core-throughput.js

import { signOp } from '../src/core/ledger/op.js'
import type { SignedOp } from '../src/core/ledger/op.js'
import type { SignatureScheme } from '../src/core/crypto/signing.js'
import { sodiumScheme } from '../src/native/sodium.js'
import { LocalNet } from '../test/support/localnet.js'

const NODES = 4

function measureVerifyRate (): number {
  const seed = new Uint8Array(32).fill(7)
  const msg = new Uint8Array(200).fill(1)
  const pk = sodiumScheme.publicKeyOf(seed)
  const sig = sodiumScheme.sign(seed, msg)
  for (let i = 0; i < 2000; i++) sodiumScheme.verify(pk, msg, sig)
  const n = 20_000
  const t = process.cpuUsage()
  for (let i = 0; i < n; i++) sodiumScheme.verify(pk, msg, sig)
  const cpu = process.cpuUsage(t)
  return n / ((cpu.user + cpu.system) / 1e6)
}

interface Row { batch: number, ops: number, cpuSeconds: number, opsPerCpuSecond: number, verifiesPerOp: number, signsPerOp: number, ceiling: number }

function run (batch: number, totalOps: number, verifyRate: number): Row {
  let verifies = 0
  let signs = 0
  const counting: SignatureScheme = {
    ...sodiumScheme,
    sign: (seed, m) => { signs++; return sodiumScheme.sign(seed, m) },
    verify: (pk, m, s) => { verifies++; return sodiumScheme.verify(pk, m, s) }
  }
  const accounts = Math.max(NODES, Math.ceil(totalOps / 200))
  const net = new LocalNet({ validators: NODES, accounts, balance: 1_000_000n, scheme: counting, replica: { limits: { maxBatchOps: batch } } })
  // wallets sign ahead of time: client work is not the node's
  const perNode: SignedOp[][] = Array.from({ length: NODES }, () => [])
  const opsPerAccount = Math.ceil(totalOps / accounts)
  for (let seq = 1; seq <= opsPerAccount; seq++) {
    for (let a = 0; a < accounts; a++) {
      const from = net.accounts[a]!
      perNode[a % NODES]!.push(signOp(from, net.networkId, { account: from.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[(a + 1) % accounts]!.publicKey, amount: 1n } }))
    }
  }
  const ops = perNode.reduce((n, l) => n + l.length, 0)
  verifies = 0
  signs = 0
  const started = process.cpuUsage()
  // submit in slices, as clients would, letting the network run between them
  const slice = Math.max(batch, 100)
  const longest = Math.max(...perNode.map(l => l.length))
  for (let i = 0; i < longest; i += slice) {
    for (let n = 0; n < NODES; n++) net.submit(n, perNode[n]!.slice(i, i + slice))
    net.tick(5)
    net.run()
  }
  net.settle(50, 5)
  const cpu = process.cpuUsage(started)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  const delivered = Math.min(...net.replicas.map(r => r.status().delivered))
  if (delivered !== ops) throw new Error(`only ${delivered} of ${ops} ops delivered at every node`)
  if (new Set(net.stateHashes()).size !== 1) throw new Error('nodes disagree on the state')
  const verifiesPerOp = verifies / ops
  return { batch, ops, cpuSeconds, opsPerCpuSecond: ops / cpuSeconds, verifiesPerOp, signsPerOp: signs / ops, ceiling: verifyRate / verifiesPerOp }
}

const verifyRate = measureVerifyRate()
console.log(`libsodium verify rate on this core: ${verifyRate.toFixed(0)}/s`)
const rows = [run(1, 2000, verifyRate), run(100, 20_000, verifyRate), run(1000, 20_000, verifyRate)]
console.log('')
console.log('batch   ops     cpu s   delivered ops/cpu-s   verifies/op (4 nodes)   signs/op   signature ceiling ops/s')
for (const r of rows) {
  console.log(`${String(r.batch).padEnd(8)}${String(r.ops).padEnd(8)}${r.cpuSeconds.toFixed(2).padEnd(8)}${r.opsPerCpuSecond.toFixed(0).padEnd(22)}${r.verifiesPerOp.toFixed(2).padEnd(24)}${r.signsPerOp.toFixed(3).padEnd(11)}${r.ceiling.toFixed(0)}`)
}
console.log(JSON.stringify({ verifyRate: Math.round(verifyRate), rows }))
