// Long mode: many transfers at a steady rate on one network, watching each validator's RSS and
// CPU as they go. Ops are signed in chunks just ahead of sending (a million signed ops held at
// once would be gigabytes of hex), samples are appended to long-samples.jsonl as they are taken
// so a long run can be watched, and at the end the RSS slope (MB per 100k transfers) is fitted
// by least squares after a warm-up.

import { createWriteStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadOps, takeBack } from './accounts.js'
import type { Prepared } from './accounts.js'
import type { Options } from './args.js'
import { SendClock, newCounters, sendAll } from './load.js'
import { machine } from './meta.js'
import { cpuSeconds, rssMB } from './proc.js'
import { formatTable } from './report.js'
import { measure, settle } from './runs.js'
import type { RunResult } from './runs.js'
import { openSession } from './session.js'
import { limitFor } from './signatures.js'
import type { SignatureLimit } from './signatures.js'
import { mean, slope } from './stats.js'

const CHUNK = 20_000
/** Ops signed between yields to the event loop, so sending never waits long for signing. */
const SIGN_SLICE = 500

interface LongSample {
  t: number
  accepted: number
  deliveredEverywhere: number
  delivered: number[]
  ratePerS: number
  rssMB: number[]
  cpuS: number[]
  benchHeapMB: number
}

export async function runLong (o: Options, n: number, sig: SignatureLimit, out: string, logDir: string, interrupted: () => boolean, say: (line: string) => void): Promise<void> {
  const total = o.long!
  const warmup = o.warmup ?? Math.round(total / 5)
  const session = await openSession(n, { accounts: o.accounts, pollMs: o.pollMs, timeoutMs: o.timeoutMs ?? 600_000, maxBacklogMs: o.maxBacklogMs, nodeConfig: o.nodeConfig, nodeArgs: o.nodeArgs, logDir, keep: o.keep, interrupted, say })
  const { ctx, networkId, accounts } = session
  const { net, monitor } = ctx
  const samples: LongSample[] = []
  let timer: NodeJS.Timeout | undefined
  try {
    let cursor = 0
    let calibration: RunResult | undefined
    let rate = o.rate
    if (rate === undefined) {
      const count = Math.min(20_000, Math.max(2_000, Math.round(total / 10)))
      const ops = await loadOps(accounts, networkId, cursor, count)
      cursor += count
      say(`long: calibrating with ${count} batched transfers`)
      const accepted = new Uint8Array(count)
      calibration = await measure(ctx, { name: 'calibration batch 100/req', ops, opsPerRequest: 100, window: o.window, maxBacklogMs: o.maxBacklogMs, perNode: net.apis.map(() => o.inflight), accepted, settings: {} })
      // ops it never sent are signed again in the long run's first chunk
      takeBack(ops, accepted)
      rate = calibration.throughput / 2
      say(`long: peak ${calibration.throughput.toFixed(0)}/s${calibration.complete ? '' : ' (PARTIAL)'}; running at half: ${rate.toFixed(0)} transfers/s`)
    }
    const plannedS = total / rate
    const timeoutMs = o.timeoutMs ?? (3 * plannedS + 600) * 1000
    const base = await settle(ctx)
    const samplesPath = join(out, 'long-samples.jsonl')
    const stream = createWriteStream(samplesPath)
    say(`long: ${total} transfers from ${accounts.length} accounts at ${rate.toFixed(0)}/s (about ${(plannedS / 60).toFixed(1)} min); samples every ${o.sampleS} s in ${samplesPath}`)
    const cpu0 = net.pids.map(cpuSeconds)
    const counters = newCounters()
    const clock = new SendClock()
    const start = performance.now()
    let stopReason: string | undefined
    const stopped = (): boolean => {
      stopReason ??= net.broken() ?? (interrupted() ? 'interrupted' : performance.now() - start > timeoutMs ? `timeout after ${Math.round(timeoutMs / 1000)} s` : undefined)
      return stopReason !== undefined
    }
    const sample = (): void => {
      const delivered = monitor.latest.map((d, k) => d - base[k]!)
      const everywhere = Math.min(...delivered)
      const t = (performance.now() - start) / 1000
      const prev = samples.at(-1)
      const s: LongSample = {
        t,
        accepted: counters.accepted,
        deliveredEverywhere: everywhere,
        delivered,
        ratePerS: prev === undefined ? everywhere / Math.max(t, 1e-9) : (everywhere - prev.deliveredEverywhere) / Math.max(t - prev.t, 1e-9),
        rssMB: net.pids.map(rssMB),
        cpuS: net.pids.map((p, k) => cpuSeconds(p) - cpu0[k]!),
        benchHeapMB: process.memoryUsage().heapUsed / 2 ** 20
      }
      samples.push(s)
      stream.write(JSON.stringify(s) + '\n')
      say(`long: ${t.toFixed(0)} s, delivered everywhere ${everywhere} (${s.ratePerS.toFixed(0)}/s), accepted ${s.accepted}, RSS MB ${s.rssMB.map(r => r.toFixed(0)).join(', ')}`)
    }
    sample()
    timer = setInterval(sample, o.sampleS * 1000)

    // sign the next chunk while this one goes out
    const sign = async (from: number): Promise<Prepared> => await loadOps(accounts, networkId, cursor + from, Math.min(CHUNK, total - from), SIGN_SLICE)
    let signing = sign(0)
    for (let offset = 0; offset < total && !stopped(); offset += CHUNK) {
      const ops = await signing
      if (offset + CHUNK < total) signing = sign(offset + CHUNK)
      await sendAll({
        apis: net.apis,
        ops,
        offset,
        opsPerRequest: 1024,
        rate,
        startAt: start,
        window: o.window,
        maxBacklogMs: o.maxBacklogMs,
        clock,
        ...monitor.feeds(base),
        stopped,
        counters
      })
    }
    while (!stopped() && monitor.minSince(base) < total) await monitor.next()
    clearInterval(timer)
    timer = undefined
    sample()
    stream.end()

    const last = samples.at(-1)!
    const fit = samples.filter(s => s.deliveredEverywhere >= warmup)
    const slopes = net.pids.map((_, k) => slope(fit.map(s => s.deliveredEverywhere), fit.map(s => s.rssMB[k]!)) * 100_000)
    const cpuPer1000 = last.cpuS.map((c, k) => c / Math.max(1, last.delivered[k]!) * 1000)
    const limit = limitFor(sig, n)
    const result = {
      meta: { ...machine(), finished: new Date().toISOString() },
      options: { ...o, modes: [...o.modes] },
      signature: sig,
      n,
      accounts: accounts.length,
      funding: session.funding,
      calibration,
      rate,
      transfers: total,
      complete: stopReason === undefined,
      ...(stopReason === undefined ? {} : { stopReason }),
      seconds: last.t,
      deliveredEverywhere: last.deliveredEverywhere,
      throughput: last.deliveredEverywhere / last.t,
      signatureLimit: limit,
      send: counters,
      idleRssMB: session.idleRssMB,
      rssStartMB: samples[0]!.rssMB,
      rssEndMB: last.rssMB,
      warmupTransfers: warmup,
      rssSlopeMBPer100k: slopes,
      rssSlopeSamples: fit.length,
      cpuSecondsPer1000: cpuPer1000,
      samples
    }
    await writeFile(join(out, 'long.json'), JSON.stringify(result, null, 2) + '\n')
    const rows = net.pids.map((_, k) => [`node${k + 1}`, samples[0]!.rssMB[k]!.toFixed(0), last.rssMB[k]!.toFixed(0), Number.isFinite(slopes[k]!) ? slopes[k]!.toFixed(1) : '-', cpuPer1000[k]!.toFixed(2)])
    console.log(`\n${formatTable(['validator', 'RSS MB start', 'RSS MB end', 'MB per 100k after warm-up', 'CPU s/1k ops'], rows)}\n`)
    const busy = (counters.rejected.busy ?? 0) + (counters.http['503'] ?? 0)
    say(`long: ${last.deliveredEverywhere} of ${total} delivered everywhere in ${last.t.toFixed(0)} s (${result.throughput.toFixed(0)}/s, ${(100 * result.throughput / limit).toFixed(1)}% of the signature limit)${result.complete ? '' : ` PARTIAL: ${stopReason ?? ''}`}; mean RSS slope ${mean(slopes.filter(Number.isFinite)).toFixed(1)} MB per 100k; refused busy/503: ${busy}; most behind schedule ${(counters.lagMs / 1000).toFixed(1)} s`)
    say(`wrote ${join(out, 'long.json')} and ${samplesPath}`)
  } finally {
    if (timer !== undefined) clearInterval(timer)
    await session.close()
  }
  if (interrupted()) process.exitCode = 130
}
