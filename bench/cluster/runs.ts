// One measured run against a running network: send a fixed set of pre-signed ops, and stop the
// clock when every validator has delivered all of them, or give up at the timeout with partial
// figures (flagged). CPU time and RSS of each validator are read at both ends.

import type { Prepared } from './accounts.js'
import type { Monitor } from './monitor.js'
import { newCounters, sendAll } from './load.js'
import type { SendCounters } from './load.js'
import { cpuSeconds, rssMB } from './proc.js'
import { summarise } from './stats.js'
import type { LatencySummary } from './stats.js'
import type { Validators } from './validators.js'

export interface RunResult {
  name: string
  ops: number
  /** All ops delivered at every validator before the timeout; when false the figures are partial. */
  complete: boolean
  stopReason?: string
  /** Submit of the first request to the interpolated moment the last validator delivered the last op. */
  seconds: number
  /** Ops delivered at every validator per second (partial runs: the fewest delivered anywhere / time). */
  throughput: number
  deliveredEverywhere: number
  deliveredPerValidator: number[]
  /** When each validator delivered the last op (s after the start; null: not yet). */
  finishedAtS: Array<number | null>
  send: SendCounters & { acceptRate: number }
  cpuSecondsPer1000: number[]
  /** CPU-seconds all validators used per second of the run: how much of the machine they got. */
  validatorCores: number
  /** The load generator's own CPU per 1,000 ops (it shares the machine with the validators). */
  loadGeneratorCpuSecondsPer1000: number
  rssStartMB: number[]
  rssEndMB: number[]
  latency?: LatencySummary
  /** Answer times of the status polls during the run (ms): what counting delivered ops cost. */
  statusPoll: LatencySummary & { intervalMs: number, polls: number }
  settings: Record<string, unknown>
}

export interface Context {
  readonly net: Validators
  readonly monitor: Monitor
  readonly timeoutMs: number
  readonly interrupted: () => boolean
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/**
 * Waits until every validator holds the same, unchanging delivered count (the previous run has
 * drained), up to `ms`; returns the counts, which the next run counts from.
 */
export async function settle (ctx: Context, ms = 60_000): Promise<number[]> {
  const deadline = performance.now() + ms
  let last = ''
  let same = 0
  while (performance.now() < deadline && ctx.net.broken() === undefined && !ctx.interrupted()) {
    await ctx.monitor.next()
    const d = ctx.monitor.latest
    const key = d.join(',')
    same = key === last && d.every(x => x === d[0]) ? same + 1 : 0
    last = key
    if (same >= 2) break
  }
  return [...ctx.monitor.latest]
}

export interface RunSpec {
  name: string
  ops: Prepared
  opsPerRequest: number
  window: number
  perNode?: readonly number[]
  rate?: number
  maxBacklogMs?: number
  /** Measure latency (submit to delivered at the validator asked) of every sampleEvery-th op. */
  sampleEvery?: number
  /** Set to 1 for each op a validator accepted, for taking back the rest after a partial run. */
  accepted?: Uint8Array
  settings: Record<string, unknown>
}

export async function measure (ctx: Context, spec: RunSpec): Promise<RunResult> {
  const { net, monitor } = ctx
  const total = spec.ops.hex.length
  const base = await settle(ctx)
  monitor.reset()
  const cpu0 = net.pids.map(cpuSeconds)
  const own0 = process.cpuUsage()
  const rssStartMB = net.pids.map(rssMB)
  let stopReason: string | undefined
  const stopped = (): boolean => {
    stopReason ??= net.broken() ?? (ctx.interrupted() ? 'interrupted' : undefined)
    return stopReason !== undefined
  }
  const latencies: number[] = []
  let timedOut = 0
  const probes: Array<Promise<void>> = []
  const accepted = spec.accepted ?? new Uint8Array(total)
  const onAccepted = (i: number, sentAt: number): void => {
    accepted[i] = 1
    if (spec.sampleEvery === undefined || i % spec.sampleEvery !== 0) return
    const api = net.apis[spec.ops.node[i]!]!
    probes.push(api.op(spec.ops.hash[i]!, 30_000).then(s => {
      if (s === 'delivered') latencies.push(performance.now() - sentAt)
      else timedOut++
    }, () => { timedOut++ }))
  }
  const start = performance.now()
  const sending = sendAll({
    apis: net.apis,
    ops: spec.ops,
    opsPerRequest: spec.opsPerRequest,
    perNode: spec.perNode,
    rate: spec.rate,
    startAt: start,
    window: spec.window,
    maxBacklogMs: spec.maxBacklogMs,
    ...monitor.feeds(base),
    stopped,
    onAccepted
  }).catch(err => {
    stopReason ??= `load generator failed: ${(err as Error).message}`
    return newCounters()
  })
  // the clock stops on delivery everywhere, not when the sender is done
  while (!stopped() && monitor.minSince(base) < total) {
    if (performance.now() - start > ctx.timeoutMs) stopReason = `timeout after ${Math.round(ctx.timeoutMs / 1000)} s`
    else await monitor.next()
  }
  const now = performance.now()
  const cpu1 = net.pids.map(cpuSeconds)
  const own = process.cpuUsage(own0)
  const rssEndMB = net.pids.map(rssMB)
  const send = await sending
  await Promise.race([Promise.all(probes), sleep(stopReason === undefined ? 30_000 : 1000)])
  const crossings = monitor.crossing(base, total)
  const complete = stopReason === undefined
  const end = complete ? Math.max(...crossings.map(t => t ?? now)) : now
  const seconds = (end - start) / 1000
  const perValidator = monitor.latest.map((d, k) => d - base[k]!)
  const everywhere = Math.min(...perValidator, total)
  return {
    name: spec.name,
    ops: total,
    complete,
    ...(complete ? {} : { stopReason }),
    seconds,
    throughput: everywhere / seconds,
    deliveredEverywhere: everywhere,
    deliveredPerValidator: perValidator,
    finishedAtS: crossings.map(t => t === undefined ? null : (t - start) / 1000),
    send: { ...send, acceptRate: send.accepted / Math.max(1e-9, (send.lastAcceptedAt - start) / 1000) },
    // per validator: its CPU over the run per 1,000 ops delivered there (none delivered: NaN)
    cpuSecondsPer1000: cpu1.map((c, k) => perValidator[k]! > 0 ? (c - cpu0[k]!) / Math.min(perValidator[k]!, total) * 1000 : NaN),
    validatorCores: cpu1.reduce((a, c, k) => a + c - cpu0[k]!, 0) / ((now - start) / 1000),
    loadGeneratorCpuSecondsPer1000: everywhere > 0 ? (own.user + own.system) / 1e6 / everywhere * 1000 : NaN,
    rssStartMB,
    rssEndMB,
    ...(spec.sampleEvery === undefined ? {} : { latency: summarise(latencies, timedOut) }),
    statusPoll: { ...summarise(monitor.pollMs, monitor.errors), intervalMs: monitor.interval, polls: monitor.samples().length - 1 },
    settings: spec.settings
  }
}

/**
 * Latency at light load: one client, one op at a time, submit until delivered at the validator
 * asked (GET /v1/ops/<hash>?wait). `streams[k]` holds ops of an account whose home is validator k.
 */
export async function lightLatency (ctx: Context, streams: Prepared[], samples: number): Promise<LatencySummary & { complete: boolean }> {
  await settle(ctx)
  const ms: number[] = []
  let failed = 0
  const deadline = performance.now() + ctx.timeoutMs
  for (let j = 0; j < samples && ctx.net.broken() === undefined && !ctx.interrupted() && performance.now() < deadline; j++) {
    const k = j % streams.length
    const s = streams[k]!
    const i = Math.floor(j / streams.length)
    const api = ctx.net.apis[k]!
    const t = performance.now()
    try {
      const r = await api.submit([s.hex[i]!])
      const res = r.results?.[0]
      if (res === undefined || res.status === 'rejected') { failed++; continue }
      if (await api.op(s.hash[i]!, 10_000) === 'delivered') ms.push(performance.now() - t)
      else failed++
    } catch {
      failed++
    }
  }
  return { ...summarise(ms, failed), complete: ms.length === samples }
}
