// Small statistics for the report: percentiles and a least-squares slope.

/** The p-th percentile (nearest rank) of the values; NaN when there are none. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]!
}

export interface LatencySummary { samples: number, p50: number, p90: number, p99: number, mean: number, max: number, timedOut: number }

export function summarise (ms: readonly number[], timedOut = 0): LatencySummary {
  return {
    samples: ms.length,
    p50: percentile(ms, 50),
    p90: percentile(ms, 90),
    p99: percentile(ms, 99),
    mean: ms.length === 0 ? NaN : ms.reduce((a, b) => a + b, 0) / ms.length,
    max: ms.length === 0 ? NaN : Math.max(...ms),
    timedOut
  }
}

/** Slope of the least-squares line through (x, y); NaN with fewer than two distinct x. */
export function slope (xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length
  if (n < 2) return NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my)
    sxx += (xs[i]! - mx) ** 2
  }
  return sxx === 0 ? NaN : sxy / sxx
}

export const mean = (xs: readonly number[]): number => xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length
