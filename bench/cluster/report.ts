// What a run leaves behind: the printed table, results.json with every raw figure, and
// chart.svg (throughput and p50 latency against n), drawn by hand so it needs no dependency.

import type { RunResult } from './runs.js'
import type { LatencySummary } from './stats.js'
import { mean } from './stats.js'

export interface NetworkResult {
  n: number
  /** Process start to a full mesh, all validators started together (s). */
  startSeconds: number
  idleRssMB: number[]
  /** cores x verifies/s / n: the most ops/s n validators can verify on this machine. */
  signatureLimit: number
  accounts: number
  window: number
  funding: RunResult[]
  light?: LatencySummary & { complete: boolean }
  batch: RunResult[]
  single?: RunResult
  half?: RunResult & { rate: number }
  error?: string
}

const num = (x: number | undefined, digits = 0): string => x === undefined || !Number.isFinite(x) ? '-' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function refusals (r: RunResult): string {
  const busy = r.send.rejected.busy ?? 0
  const http503 = r.send.http['503'] ?? 0
  return busy + http503 === 0 ? '0' : `${busy} busy, ${http503} HTTP 503`
}

/** Open-loop runs that could not keep to their rate say by how much they fell behind. */
function completion (r: RunResult): string {
  if (!r.complete) return `PARTIAL (${r.stopReason ?? ''})`
  return r.send.lagMs > 1000 ? `yes, ${num(r.send.lagMs / 1000, 1)} s behind` : 'yes'
}

function runRow (n: number, r: RunResult, limit: number): string[] {
  const rssStart = Math.max(...r.rssStartMB)
  const rssEnd = Math.max(...r.rssEndMB)
  return [
    String(n), r.name, num(r.ops), completion(r), num(r.seconds, 1), num(r.throughput),
    `${num(100 * r.throughput / limit, 1)}%`, num(r.latency?.p50, 1), num(r.latency?.p90, 1), num(r.latency?.p99, 1),
    num(mean(r.cpuSecondsPer1000), 2), num(r.validatorCores, 2), `${num(rssStart)}→${num(rssEnd)}`, refusals(r)
  ]
}

export const HEADER = ['n', 'run', 'ops', 'complete', 's', 'tx/s', 'of sig. limit', 'p50 ms', 'p90 ms', 'p99 ms', 'CPU s/1k ops', 'cores used', 'RSS MB max', 'refused']

export function tableRows (nr: NetworkResult): string[][] {
  const rows: string[][] = []
  if (nr.light !== undefined) {
    const l = nr.light
    rows.push([String(nr.n), 'light (1 client)', num(l.samples), l.complete ? 'yes' : `PARTIAL (${l.timedOut} failed)`, '-', '-', '-', num(l.p50, 1), num(l.p90, 1), num(l.p99, 1), '-', '-', '-', '-'])
  }
  for (const r of nr.batch) rows.push(runRow(nr.n, r, nr.signatureLimit))
  if (nr.single !== undefined) rows.push(runRow(nr.n, nr.single, nr.signatureLimit))
  if (nr.half !== undefined) rows.push(runRow(nr.n, nr.half, nr.signatureLimit))
  if (nr.error !== undefined) rows.push([String(nr.n), `FAILED: ${nr.error}`, ...HEADER.slice(2).map(() => '')])
  return rows
}

export function formatTable (header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  // the text columns (run, complete) read better left-aligned, figures right-aligned
  const cell = (s: string, i: number): string => i === 1 || i === 3 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!)
  const line = (r: readonly string[]): string => r.map((s, i) => cell(s, i)).join('  ').trimEnd()
  return [line(header), widths.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export function markdownTable (header: readonly string[], rows: readonly string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n')
}

// ---------------------------------------------------------------------------------------------
// The chart

interface Series { name: string, color: string, dash?: boolean, points: Array<[number, number]> }

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b']
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A round step for about `ticks` grid lines up to `max`. */
function niceStep (max: number, ticks = 5): number {
  const raw = max / ticks
  const mag = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) ?? raw
}

function panel (x0: number, y0: number, w: number, h: number, title: string, yLabel: string, xs: readonly number[], series: readonly Series[]): string {
  const ymaxRaw = Math.max(1, ...series.flatMap(s => s.points.map(p => p[1])).filter(Number.isFinite))
  const step = niceStep(ymaxRaw)
  const ymax = Math.ceil(ymaxRaw / step) * step
  const xmin = Math.min(...xs)
  const xmax = Math.max(...xs)
  // one n alone sits in the middle
  const px = (x: number): number => xmax === xmin ? x0 + w / 2 : x0 + 20 + (x - xmin) / (xmax - xmin) * (w - 40)
  const py = (y: number): number => y0 + h - y / ymax * h
  const out: string[] = [`<text x="${x0 + w / 2}" y="${y0 - 12}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`]
  for (let y = 0; y <= ymax + step / 2; y += step) {
    out.push(`<line x1="${x0}" y1="${py(y)}" x2="${x0 + w}" y2="${py(y)}" stroke="#ddd"/>`)
    out.push(`<text x="${x0 - 6}" y="${py(y) + 4}" text-anchor="end">${num(y, step < 1 ? 1 : 0)}</text>`)
  }
  for (const x of xs) out.push(`<text x="${px(x)}" y="${y0 + h + 16}" text-anchor="middle">${x}</text>`)
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle">validators (n)</text>`)
  out.push(`<text transform="translate(${x0 - 48} ${y0 + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`)
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#888"/>`)
  series.forEach((s, i) => {
    const pts = s.points.filter(p => Number.isFinite(p[1]))
    if (pts.length === 0) return
    const dash = s.dash === true ? ' stroke-dasharray="6 4"' : ''
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map(p => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`)
    for (const p of pts) out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"/>`)
    const ly = y0 + 14 + i * 16
    out.push(`<line x1="${x0 + 10}" y1="${ly - 4}" x2="${x0 + 30}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`)
    out.push(`<text x="${x0 + 36}" y="${ly}">${esc(s.name)}</text>`)
  })
  return out.join('\n')
}

export function chartSvg (results: readonly NetworkResult[], subtitle: string): string {
  const xs = results.map(r => r.n)
  const byRun = new Map<string, Array<[number, number]>>()
  for (const r of results) {
    for (const run of [...r.batch, ...(r.single === undefined ? [] : [r.single])]) {
      const list = byRun.get(run.name) ?? []
      list.push([r.n, run.throughput])
      byRun.set(run.name, list)
    }
  }
  const throughput: Series[] = [...byRun.entries()].map(([name, points], i) => ({ name, color: COLORS[i % COLORS.length]!, points }))
  // the limit is usually far above the measured figures: drawn only when it would not squash them
  const measuredMax = Math.max(1, ...throughput.flatMap(s => s.points.map(p => p[1])))
  const limits = results.map(r => [r.n, r.signatureLimit] as [number, number])
  if (Math.max(...limits.map(l => l[1])) <= 4 * measuredMax) throughput.push({ name: 'signature limit', color: '#555', dash: true, points: limits })
  const latency: Series[] = [
    { name: 'light load (1 client)', color: COLORS[0]!, points: results.flatMap(r => r.light === undefined ? [] : [[r.n, r.light.p50] as [number, number]]) },
    { name: 'half of peak', color: COLORS[1]!, points: results.flatMap(r => r.half?.latency === undefined ? [] : [[r.n, r.half.latency.p50] as [number, number]]) }
  ]
  const W = 900
  const H = 380
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">bftnode cluster benchmark</text>`,
    `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
    panel(80, 80, 330, 230, 'delivered transfers/s (at every validator)', 'transfers/s', xs, throughput),
    panel(540, 80, 330, 230, 'p50 latency, submit to delivered', 'ms', xs, latency),
    '</svg>'
  ].join('\n') + '\n'
}
