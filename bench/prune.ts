// What checkpoint pruning saves: a real BftNode, the only validator of its network (so quorum is 1
// and it certifies its own batches and checkpoints), delivers N transfers (1,000,000 by default;
// --ops N) from 1000 funded accounts, once with checkpoints every 1000 ops keeping 2 behind the
// latest (pruning on) and once with checkpointInterval 0 (no checkpoints, nothing pruned). Each
// run is a child process of its own, so its RSS is its own. Reports the data dir's bytes, RSS and
// V8 heap (after a full GC) at 1/4, 1/2, 3/4 of the ops and at the end, with ops/s.
//
// A transfer leaves an uncited credit in the receiver's state until the receiver cites it in the
// deps of a later op. By default every op cites one credit, so the state keeps its size and only
// history grows: what pruning is for. With --keep-credits no op cites any, the state grows by one
// credit per op, and every checkpoint copies and hashes all of it (slower and slower).
//
// Run: npm run build && node dist/bench/prune.js [--ops N] [--only on|off] [--keep-credits]
//      [--log info] (the node's log on stderr; info shows each checkpoint's pruning and its ms)
// (the child, started by the parent: node --expose-gc dist/bench/prune.js --child --interval N
//  --retain R --ops M --dir D [--keep-credits] [--log L], prints one JSON line per sample and one result)

import '../src/net/polyfill.js'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { toHex } from '../src/core/crypto/hash.js'
import { signerFrom } from '../src/core/crypto/signing.js'
import type { Signer } from '../src/core/crypto/signing.js'
import { makeGenesis } from '../src/core/ledger/genesis.js'
import { signOp } from '../src/core/ledger/op.js'
import { sodiumScheme } from '../src/native/sodium.js'
import { BftNode } from '../src/node/node.js'
import { defaultConfig } from '../src/node/config.js'
import { createLogger } from '../src/node/log.js'
import type { LogLevel } from '../src/node/log.js'

const ACCOUNTS = 1000
const BALANCE = 10n ** 12n
/** Ops signed and submitted at a time. */
const SLICE = 2000
/** Submitted but not yet delivered, at most (before a slice is added). */
const MAX_OUTSTANDING = 20_000
/** No delivery progress for this long fails the run. */
const STALL_MS = 120_000
/** Claiming, an op cites the credit its account received this many rounds (of all accounts) back. */
const CLAIM_LAG = 2

function arg (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

function wholeArg (name: string, fallback: number, min: number): number {
  const raw = arg(name)
  const n = raw === undefined ? fallback : Number(raw)
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} takes a whole number of at least ${min}`)
  return n
}

interface Figures {
  at: 'sample' | 'end'
  /** Ops the node reports delivered (see `backlog` for the replica's count). */
  delivered: number
  rssMB: number
  heapUsedMB: number
  /** Memory of Buffers and other objects outside the V8 heap. */
  externalMB: number
  diskMB: number
  /** The data dir by kind of file: LevelDB's write-ahead logs, its tables, the rest. */
  logMB: number
  tableMB: number
  files: number
  checkpoint: number
  certificates: number
  bindings: number
  /** Delivered by the replica but not yet reported delivered by the node (its writes trail). */
  backlog: number
  seconds: number
}

interface Result extends Figures {
  interval: number
  retain: number
  claim: boolean
  ops: number
  opsPerSecond: number
  signSeconds: number
  /** From the replica's last delivery to the node's. */
  trailSeconds: number
  idleRssMB: number
  diskAfterCloseMB: number
  rejected: Record<string, number>
}

const MB = 1024 * 1024

interface DirSize { total: number, log: number, table: number, files: number }

/** Bytes of every file under `dir`; files that vanish meanwhile (compaction) do not count. */
async function dirSize (dir: string, into: DirSize = { total: 0, log: 0, table: 0, files: 0 }): Promise<DirSize> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) { await dirSize(p, into); continue }
    if (!e.isFile()) continue
    const size = (await stat(p).catch(() => undefined))?.size
    if (size === undefined) continue
    into.total += size
    into.files++
    if (e.name.endsWith('.log')) into.log += size
    else if (e.name.endsWith('.ldb') || e.name.endsWith('.sst')) into.table += size
  }
  return into
}

function logLevel (): LogLevel {
  const level = arg('log') ?? 'warn'
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error('--log takes debug, info, warn or error')
  return level as LogLevel
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

function seed (tag: number, i: number): Uint8Array {
  const s = new Uint8Array(32)
  s[0] = tag
  new DataView(s.buffer).setUint32(1, i)
  return s
}

// ---------------------------------------------------------------------------------------------
// Child: one node, one configuration

async function child (): Promise<void> {
  const interval = wholeArg('interval', 1000, 0)
  const retain = wholeArg('retain', 2, 0)
  const total = wholeArg('ops', 1_000_000, 1)
  const dir = arg('dir')
  if (dir === undefined) throw new Error('--child needs --dir')
  const claim = !process.argv.includes('--keep-credits')
  const gc = (globalThis as { gc?: () => void }).gc

  const nodeSeed = seed(0xaa, 0)
  const accounts: Signer[] = Array.from({ length: ACCOUNTS }, (_, i) => signerFrom(sodiumScheme, seed(0xbb, i)))
  const genesis = makeGenesis({
    network: 'prune-bench',
    validators: [sodiumScheme.publicKeyOf(nodeSeed)],
    mintAuthority: accounts[0]!.publicKey,
    balances: accounts.map(a => ({ account: a.publicKey, amount: BALANCE }))
  })
  const config = { ...defaultConfig(dir), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], mdns: false, checkpointInterval: interval, checkpointRetain: retain }
  const log = createLogger({ level: logLevel(), format: 'text' }).child(`interval-${interval}`)
  const node = await BftNode.start(config, genesis, nodeSeed, log)
  await sleep(1000)
  gc?.()
  const idleRssMB = process.memoryUsage().rss / MB
  const networkId = node.replica.networkId

  // op i: account i % ACCOUNTS pays the next account 1, seq rising by one per round of accounts;
  // claiming, it also cites the credit its previous account sent it two rounds back, so each
  // account holds at most a few uncited credits and the state stays the same size
  const sign = (from: number, to: number): Array<{ bytes: Uint8Array, hash: string }> => {
    const out: Array<{ bytes: Uint8Array, hash: string }> = []
    for (let i = from; i < to; i++) {
      const a = i % ACCOUNTS
      const seq = Math.floor(i / ACCOUNTS) + 1
      const signer = accounts[a]!
      const deps = claim && seq > CLAIM_LAG ? [{ account: accounts[(a + ACCOUNTS - 1) % ACCOUNTS]!.publicKey, seq: seq - CLAIM_LAG }] : []
      const op = signOp(signer, networkId, { account: signer.publicKey, seq, deps, body: { kind: 'transfer', to: accounts[(a + 1) % ACCOUNTS]!.publicKey, amount: 1n } })
      out.push({ bytes: op.bytes, hash: toHex(op.hash) })
    }
    return out
  }
  // Two counts of delivered ops. The replica's: its ledger's height (status() would also hash the
  // state). The node's, which a client of its API sees: the node reports an op delivered only
  // after every disk write the replica asked for before it is done. With one validator the
  // replica certifies with its own vote at once, so the node's count may trail behind the
  // replica's; ops are offered against the node's count (at most MAX_OUTSTANDING ahead of it).
  const delivered = (): number => node.replica.ledger.height()
  const pending: string[] = []
  let confirmed = 0
  const confirm = (): number => {
    let i = 0
    while (i < pending.length && node.opStatus(pending[i]!)?.status === 'delivered') i++
    if (i > 0) { pending.splice(0, i); confirmed += i }
    return confirmed
  }

  const started = performance.now()
  const figures = async (at: Figures['at']): Promise<Figures> => {
    gc?.()
    const mem = process.memoryUsage()
    const st = node.replica.status()
    const disk = await dirSize(dir)
    const done = confirm()
    return {
      at,
      delivered: done,
      rssMB: mem.rss / MB,
      heapUsedMB: mem.heapUsed / MB,
      externalMB: mem.external / MB,
      diskMB: disk.total / MB,
      logMB: disk.log / MB,
      tableMB: disk.table / MB,
      files: disk.files,
      checkpoint: st.checkpoint,
      certificates: st.certificates,
      bindings: st.bindings,
      backlog: st.delivered - done,
      seconds: (performance.now() - started) / 1000
    }
  }

  const samplesAt = [Math.floor(total / 4), Math.floor(total / 2), Math.floor(total * 3 / 4)].filter(n => n > 0)
  let signSeconds = 0
  let next = 0
  let retry: Uint8Array[] = []
  const rejected: Record<string, number> = {}
  let lastProgress = performance.now()
  let lastDelivered = 0
  let lastReport = performance.now()
  let replicaDoneAt: number | undefined

  while (true) {
    const done = confirm()
    const inReplica = delivered()
    if (inReplica >= total) replicaDoneAt ??= performance.now()
    if (done !== lastDelivered) { lastDelivered = done; lastProgress = performance.now() }
    if (performance.now() - lastProgress > STALL_MS) throw new Error(`no delivery for ${STALL_MS / 1000} s at ${done} of ${total} ops (replica ${inReplica}, status ${JSON.stringify(node.replica.status())})`)
    while (samplesAt.length > 0 && done >= samplesAt[0]!) {
      samplesAt.shift()
      console.log(JSON.stringify(await figures('sample')))
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now()
      process.stderr.write(`[interval ${interval}] ${done} of ${total} delivered (replica ${inReplica}), ${((performance.now() - started) / 1000).toFixed(0)} s, rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB\n`)
    }
    if (done >= total) break
    if (next - done >= MAX_OUTSTANDING || (next >= total && retry.length === 0)) { await sleep(5); continue }
    let batch: Uint8Array[]
    if (retry.length > 0) {
      batch = retry
      retry = []
    } else {
      const t = performance.now()
      const signed = sign(next, Math.min(next + SLICE, total))
      signSeconds += (performance.now() - t) / 1000
      next += signed.length
      for (const o of signed) pending.push(o.hash)
      batch = signed.map(o => o.bytes)
    }
    const results = node.submit(batch)
    results.forEach((r, i) => {
      if (r.status !== 'rejected') return
      rejected[r.code] = (rejected[r.code] ?? 0) + 1
      if (r.code === 'busy') retry.push(batch[i]!)
      else throw new Error(`op rejected: ${r.code}: ${r.reason}`)
    })
    // a full queue: let the node work before offering the rest again
    if (retry.length > 0) await sleep(20)
    else await sleep(0)
  }
  const seconds = (performance.now() - started) / 1000
  const trailSeconds = (performance.now() - (replicaDoneAt ?? performance.now())) / 1000

  await sleep(2000)
  const end = await figures('end')
  await node.stop()
  const result: Result = {
    ...end,
    interval,
    retain,
    claim,
    ops: total,
    seconds,
    opsPerSecond: total / seconds,
    signSeconds,
    trailSeconds,
    idleRssMB,
    diskAfterCloseMB: (await dirSize(dir)).total / MB,
    rejected
  }
  console.log(JSON.stringify(result))
}

// ---------------------------------------------------------------------------------------------
// Parent: one child per configuration, one after the other, then a table

interface Run { name: string, interval: number, retain: number }

/** A run's samples, and its result or why there is none (a child that ran out of memory still has its samples). */
interface Done { run: Run, samples: Figures[], result?: Result, failure?: string }

async function runChild (run: Run, ops: number, keepCredits: boolean): Promise<Done> {
  const dir = await mkdtemp(join(tmpdir(), `bftnode-prune-${run.name}-`))
  const self = fileURLToPath(import.meta.url)
  try {
    const proc = spawn(process.execPath, ['--expose-gc', self, '--child', '--interval', String(run.interval), '--retain', String(run.retain), '--ops', String(ops), '--dir', dir, ...(keepCredits ? ['--keep-credits'] : []), '--log', logLevel()], { stdio: ['ignore', 'pipe', 'inherit'] })
    const samples: Figures[] = []
    let result: Result | undefined
    const lines = createInterface({ input: proc.stdout })
    lines.on('line', line => {
      const f = JSON.parse(line) as Figures | Result
      if (f.at === 'sample') {
        samples.push(f)
        process.stderr.write(`[${run.name}] at ${f.delivered} ops: disk ${f.diskMB.toFixed(1)} MB, rss ${f.rssMB.toFixed(0)} MB, heap ${f.heapUsedMB.toFixed(0)} MB\n`)
      } else {
        result = f as Result
        process.stderr.write(`[${run.name}] done: ${line}\n`)
      }
    })
    const [code, signal] = await new Promise<[number | null, string | null]>(resolve => proc.on('exit', (c, sig) => resolve([c, sig])))
    if (code !== 0 || result === undefined) return { run, samples, failure: `the child failed (${signal ?? `exit ${String(code)}`}) before ${ops} ops were delivered` }
    return { run, samples, result }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function parent (): Promise<void> {
  const ops = wholeArg('ops', 1_000_000, 1)
  const only = arg('only')
  const keepCredits = process.argv.includes('--keep-credits')
  const runs: Run[] = [
    { name: 'on', interval: 1000, retain: 2 },
    { name: 'off', interval: 0, retain: 2 }
  ].filter(r => only === undefined || r.name === only)
  if (runs.length === 0) throw new Error('--only takes on or off')
  const done: Done[] = []
  for (const run of runs) {
    process.stderr.write(`[${run.name}] checkpointInterval ${run.interval}, checkpointRetain ${run.retain}: ${ops} ops...\n`)
    done.push(await runChild(run, ops, keepCredits))
  }

  const credits = keepCredits ? 'citing no credits (every transfer leaves one more uncited credit in the state)' : `each citing the credit it received ${CLAIM_LAG} rounds back (the state stays the same size)`
  console.log(`\n${ops} transfers from ${ACCOUNTS} accounts, ${credits}, to one validator (quorum 1), submitted ${SLICE} at a time with at most ${MAX_OUTSTANDING} outstanding; figures after a full GC\n`)
  console.log('| pruning | delivered | data dir MB | of it: logs / tables MB | RSS MB | heap used MB | external MB | checkpoint | certificates | writes trail by (ops) | s |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const { run, samples, result, failure } of done) {
    const label = `${run.name} (interval ${run.interval}${run.interval > 0 ? `, retain ${run.retain}` : ''})`
    for (const f of result === undefined ? samples : [...samples, result]) {
      console.log(`| ${label} | ${f.delivered} | ${f.diskMB.toFixed(1)} | ${f.logMB.toFixed(1)} / ${f.tableMB.toFixed(1)} | ${f.rssMB.toFixed(0)} | ${f.heapUsedMB.toFixed(0)} | ${f.externalMB.toFixed(0)} | ${f.checkpoint} | ${f.certificates} | ${f.backlog} | ${f.seconds.toFixed(0)} |`)
    }
    if (failure !== undefined) console.log(`| ${label} | ${failure} | | | | | | | | | |`)
  }
  console.log('')
  console.log('| pruning | ops/s (signing included) | signing s | node trailed replica at the end (s) | idle RSS MB | data dir MB after close | rejected |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const { run, result } of done) {
    if (result === undefined) continue
    console.log(`| ${run.name} | ${result.opsPerSecond.toFixed(0)} | ${result.signSeconds.toFixed(1)} | ${result.trailSeconds.toFixed(1)} | ${result.idleRssMB.toFixed(0)} | ${result.diskAfterCloseMB.toFixed(1)} | ${JSON.stringify(result.rejected)} |`)
  }
  console.log(JSON.stringify(done.map(d => ({ name: d.run.name, samples: d.samples, result: d.result, failure: d.failure }))))
  if (done.some(d => d.failure !== undefined)) process.exitCode = 1
}

if (process.argv.includes('--child')) {
  await child()
  process.exit(0)
} else {
  await parent()
}
