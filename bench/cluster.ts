// Cluster benchmark: n real `bftnode` validators on 127.0.0.1 and a load generator in this
// process. For each n: latency at light load, delivered transfers/s with client batching and
// with one op per request, latency at half of the measured peak; each beside the signature limit
// measured on this machine in the same run. A long mode watches RSS over a million transfers.
// Run: npm run bench:cluster -- --help (docs/performance.md says what each figure means).

import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { loadOps, streamOps, takeBack } from './cluster/accounts.js'
import type { Prepared } from './cluster/accounts.js'
import { parse, USAGE } from './cluster/args.js'
import type { Options } from './cluster/args.js'
import { runBftsmart } from './cluster/bftsmart.js'
import { runLong } from './cluster/long.js'
import { ROOT, machine } from './cluster/meta.js'
import { HEADER, chartSvg, formatTable, markdownTable, tableRows } from './cluster/report.js'
import type { NetworkResult } from './cluster/report.js'
import { lightLatency, measure } from './cluster/runs.js'
import type { RunResult, RunSpec } from './cluster/runs.js'
import { FundingError, openSession } from './cluster/session.js'
import { limitFor, measureSignatureLimit } from './cluster/signatures.js'
import type { SignatureLimit } from './cluster/signatures.js'

const say = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

let interrupted = false
// the first ^C (or SIGTERM, SIGHUP) ends the current run, stops the validators and writes what was
// measured; a second one leaves at once (the exit handler still kills the validators)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130)
    interrupted = true
    say(`${signal}: stopping the current run and the validators (again to leave at once)`)
  })
}

async function networkRuns (o: Options, n: number, sig: SignatureLimit, logDir: string): Promise<NetworkResult> {
  const limit = limitFor(sig, n)
  const timeoutMs = o.timeoutMs ?? 180_000
  const session = await openSession(n, { accounts: o.accounts, pollMs: o.pollMs, timeoutMs, maxBacklogMs: o.maxBacklogMs, nodeConfig: o.nodeConfig, nodeArgs: o.nodeArgs, logDir, keep: o.keep, interrupted: () => interrupted, say })
  const { ctx, networkId, accounts } = session
  const result: NetworkResult = { n, startSeconds: ctx.net.startMs / 1000, idleRssMB: session.idleRssMB, signatureLimit: limit, accounts: accounts.length, window: o.window, funding: session.funding, batch: [] }
  const show = (what: string, tput: number, complete: boolean): void => say(`n=${n}: ${what}: ${tput.toFixed(0)} transfers/s delivered everywhere (${(100 * tput / limit).toFixed(1)}% of the signature limit ${limit.toFixed(0)}/s)${complete ? '' : ' PARTIAL'}`)
  let cursor = 0
  const next = async (count: number): Promise<Prepared> => {
    const t = performance.now()
    const ops = await loadOps(accounts, networkId, cursor, count)
    cursor += count
    say(`n=${n}: signed ${count} transfers in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    return ops
  }
  // a run that gave up leaves ops nobody accepted: their accounts sign them again next run
  const run = async (spec: RunSpec): Promise<RunResult> => {
    const accepted = new Uint8Array(spec.ops.hex.length)
    const r = await measure(ctx, { ...spec, accepted })
    const back = takeBack(spec.ops, accepted)
    if (back > 0) say(`n=${n}: ${back} ops of ${r.name} were never accepted; their accounts sign them again`)
    return r
  }
  try {
    if (o.modes.has('light') && !interrupted) {
      const per = Math.ceil(o.latencySamples / n)
      const streams = session.probes.map(p => streamOps(p, networkId, session.treasury.signer.publicKey, per))
      say(`n=${n}: light load, ${o.latencySamples} transfers one at a time`)
      result.light = await lightLatency(ctx, streams, o.latencySamples)
      say(`n=${n}: light load latency p50 ${result.light.p50.toFixed(1)} ms, p90 ${result.light.p90.toFixed(1)}, p99 ${result.light.p99.toFixed(1)}`)
    }
    for (const per of o.modes.has('batch') ? o.opsPerRequest : []) {
      if (interrupted) break
      const ops = await next(o.transfers)
      say(`n=${n}: batch, ${per} ops a request, ${o.inflight} requests in flight at each validator`)
      const r = await run({ name: `batch ${per}/req`, ops, opsPerRequest: per, window: o.window, maxBacklogMs: o.maxBacklogMs, perNode: ctx.net.apis.map(() => o.inflight), settings: { opsPerRequest: per, inflightPerValidator: o.inflight, window: o.window, maxBacklogMs: o.maxBacklogMs } })
      result.batch.push(r)
      show(r.name, r.throughput, r.complete)
    }
    if (o.modes.has('single') && !interrupted) {
      const ops = await next(o.transfers)
      // client c talks to validator c mod n
      const perNode = ctx.net.apis.map((_, k) => Math.floor(o.clients / n) + (k < o.clients % n ? 1 : 0))
      say(`n=${n}: single, ${o.clients} clients with one op a request`)
      result.single = await run({ name: `single ×${o.clients}`, ops, opsPerRequest: 1, window: o.window, maxBacklogMs: o.maxBacklogMs, perNode, settings: { clients: o.clients, window: o.window, maxBacklogMs: o.maxBacklogMs } })
      show(result.single.name, result.single.throughput, result.single.complete)
    }
    const peak = Math.max(0, ...[...result.batch, ...(result.single === undefined ? [] : [result.single])].map(r => r.throughput))
    if (o.modes.has('half') && !interrupted) {
      if (peak === 0) say(`n=${n}: half of peak skipped: no peak was measured (run batch or single too)`)
      else {
        const rate = peak / 2
        const count = Math.max(200, Math.round(rate * o.halfSeconds))
        const ops = await next(count)
        // about 300 latency samples, whatever the rate
        const sampleEvery = Math.max(1, Math.floor(count / 300))
        say(`n=${n}: half of peak, ${rate.toFixed(0)} transfers/s open loop for ${(count / rate).toFixed(0)} s`)
        const r = await run({ name: `half @${rate.toFixed(0)}/s`, ops, opsPerRequest: 1024, rate, window: o.window, maxBacklogMs: o.maxBacklogMs, sampleEvery, settings: { rate, peak, sampleEvery, window: o.window, maxBacklogMs: o.maxBacklogMs } })
        result.half = { ...r, rate }
        say(`n=${n}: half of peak latency p50 ${r.latency!.p50.toFixed(1)} ms, p90 ${r.latency!.p90.toFixed(1)}, p99 ${r.latency!.p99.toFixed(1)} (${r.latency!.samples} samples)${r.complete ? '' : ' PARTIAL'}`)
      }
    }
  } catch (err) {
    result.error = (err as Error).message
    say(`n=${n}: failed: ${result.error}`)
  } finally {
    await session.close()
  }
  return result
}

async function main (): Promise<void> {
  let o: Options
  try {
    o = parse(process.argv.slice(2))
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`)
    process.exit(2)
  }
  if (o.help) { console.log(USAGE); return }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const out = resolve(o.out ?? join(ROOT, 'bench-results', stamp))
  const logDir = join(out, 'logs')
  await mkdir(logDir, { recursive: true })
  say(`results in ${out}`)
  const meta = machine()
  say('measuring ed25519 verifies/s (sodium-native, one core)')
  const sig = measureSignatureLimit()
  say(`${sig.verifiesPerSecond.toFixed(0)} verifies/s (best of ${sig.trials.map(r => r.toFixed(0)).join(', ')}) x ${sig.cores} cores: signature limit ${o.validators.map(n => `n=${n} ${limitFor(sig, n).toFixed(0)}/s`).join(', ')}`)
  if (o.long !== undefined) {
    await runLong(o, o.validators[0]!, sig, out, logDir, () => interrupted, say)
    return
  }
  const results: NetworkResult[] = []
  const save = async (): Promise<void> => {
    const json = { meta: { ...meta, finished: new Date().toISOString(), loadavgEnd: loadavg() }, options: { ...o, modes: [...o.modes] }, signature: sig, networks: results }
    await writeFile(join(out, 'results.json'), JSON.stringify(json, null, 2) + '\n')
    await writeFile(join(out, 'chart.svg'), chartSvg(results, `${String(meta.date).slice(0, 16)}, commit ${String(meta.commit).slice(0, 10)}${meta.dirty === true ? ' (dirty)' : ''}, ${String(meta.cores)} cores, Node ${process.version}`))
  }
  for (const n of o.validators) {
    if (interrupted) break
    try {
      results.push(await networkRuns(o, n, sig, logDir))
    } catch (err) {
      say(`n=${n}: could not run: ${(err as Error).message}`)
      results.push({ n, startSeconds: NaN, idleRssMB: [], signatureLimit: limitFor(sig, n), accounts: o.accounts, window: o.window, funding: err instanceof FundingError ? err.funding : [], batch: [], error: (err as Error).message })
    }
    await save()
  }
  const rows = results.flatMap(tableRows)
  const table = formatTable(HEADER, rows)
  await writeFile(join(out, 'table.md'), markdownTable(HEADER, rows) + '\n')
  console.log(`\n${table}\n`)
  console.log(`signature limit: ${sig.cores} cores x ${sig.verifiesPerSecond.toFixed(0)} verifies/s / n; CPU s/1k ops: mean over validators; cores used: CPU-seconds of all validators per second; RSS: the largest validator at the start and end of the run`)
  console.log(`load average at the start ${(meta.loadavg as number[]).map(x => x.toFixed(1)).join(' ')}, at the end ${loadavg().map(x => x.toFixed(1)).join(' ')} (${sig.cores} cores; the machine may be shared)`)
  if (o.withBftsmart && !interrupted) {
    const peer = await runBftsmart(out, say)
    if ('skipped' in peer) say(`BFT-SMaRt skipped: ${peer.skipped}`)
    await writeFile(join(out, 'bftsmart.json'), JSON.stringify(peer, null, 2) + '\n')
  }
  say(`wrote ${join(out, 'results.json')}, chart.svg, table.md and logs/`)
  if (interrupted) process.exitCode = 130
}

await main()
