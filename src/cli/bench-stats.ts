// The figures of `bftnode bench transfer` (cmds/bench.ts), kept pure so they can be tested alone:
// latency percentiles, throughput, and the report as a person reads it. Times are milliseconds
// measured by the caller; nothing here reads a clock.

/** Latency of the transfers whose delivery was seen, in ms (nearest-rank percentiles). */
export interface LatencySummary {
  readonly samples: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

/** The value at or below which `p` percent of the sorted samples lie (nearest rank: always a sample). */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** Undefined when there is no sample: a run that delivered nothing has no latency, not a latency of 0. */
export function summarise (ms: readonly number[]): LatencySummary | undefined {
  const sorted = ms.filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  return { samples: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! }
}

/** Delivered transfers per second of wall time; 0 when nothing was delivered or no time passed. */
export function throughput (delivered: number, seconds: number): number {
  return delivered > 0 && seconds > 0 ? delivered / seconds : 0
}

/** What one run measured; also what --json prints. */
export interface BenchReport {
  readonly mode: 'batch' | 'one-by-one'
  readonly count: number
  readonly amount: string
  readonly from: string
  readonly to: string
  readonly api: string
  /** Requests that carried ops (retries included), and the most ops one request carried. */
  readonly requests: number
  readonly opsPerRequest: number
  /** One-by-one: single-op requests in flight at most. */
  readonly concurrency?: number
  /** Ops sent again: the node turned them away for now (busy, too far ahead), or took them and delivered nothing for a while. */
  readonly resent: number
  readonly signSeconds: number
  readonly delivered: number
  readonly applied: number
  readonly rejected: number
  /** First submission to the last delivery seen (or to the stop, for a partial run). */
  readonly seconds: number
  readonly throughput: number
  readonly latencyMs?: LatencySummary
  /** Every transfer delivered; when false the figures cover what was delivered before `stopReason`. */
  readonly complete: boolean
  readonly stopReason?: string
}

const ms = (x: number): string => x >= 100 ? x.toFixed(0) : x.toFixed(1)

/** The report in lines, in the order Juno's demo prints its figures: what was sent, then how fast. */
export function formatReport (r: BenchReport): string[] {
  const how = r.mode === 'batch'
    ? `as one batch in ${r.requests} request(s) of up to ${r.opsPerRequest} ops`
    : `one by one: ${r.requests} single-op requests, up to ${r.concurrency ?? 1} in flight`
  const lines = [
    `${r.count} transfers of ${r.amount} from ${r.from} to ${r.to}, ${how}${r.resent > 0 ? ` (${r.resent} sent again: refused for now, or taken and not delivered for a while)` : ''}`,
    `signed in     ${r.signSeconds.toFixed(2)} s beforehand (not counted below)`,
    `delivered     ${r.delivered} of ${r.count}: ${r.applied} applied, ${r.rejected} rejected${r.complete ? '' : `  PARTIAL: ${r.stopReason ?? 'stopped'}`}`,
    `wall time     ${r.seconds.toFixed(2)} s, first submission to ${r.complete ? 'last delivery' : 'the stop'} at ${r.api}`,
    `throughput    ${r.throughput.toFixed(0)} transfers/s`
  ]
  const l = r.latencyMs
  lines.push(l === undefined
    ? 'latency       none measured (nothing delivered)'
    : `latency       p50 ${ms(l.p50)} ms, p90 ${ms(l.p90)} ms, p99 ${ms(l.p99)} ms, max ${ms(l.max)} ms (submission to delivery, ${l.samples} transfers)`)
  return lines
}
