// Replays simulator seeds: `npm run sim -- <seed> [<seed> ...] [--profile NAME] [--with JSON] [--trace]`.
// A failing seed printed by the property tests replays exactly here. With `--chart out.svg` (or
// .mmd, .md) one seed is also drawn as a message sequence chart (docs/charts.md).

import { writeFileSync } from 'node:fs'
import { PROFILES, runSeed } from './simulation.js'
import type { Profile, Scenario, SimReport } from './simulation.js'
import { formatOf, renderChart } from '../../src/devtools/chart.js'
import type { ChartOptions } from '../../src/devtools/chart.js'
import type { TraceEvent } from '../../src/node/trace.js'

const args = process.argv.slice(2)
const trace = args.includes('--trace')
/** Options that take a value: the value is no seed. */
const VALUED = ['--profile', '--with', '--chart', '--slot', '--account', '--from', '--to', '--max']
const value = (name: string): string | undefined => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const profile = (value('--profile') ?? 'mixed') as Profile
const seeds = args.filter((a, i) => !a.startsWith('--') && !VALUED.includes(args[i - 1] ?? '')).map(Number)
const usage = `usage: npm run sim -- <seed (0..4294967295)> [...] [--profile ${Object.keys(PROFILES).join('|')}] [--with '<scenario JSON>'] [--trace]\n` +
  '       npm run sim -- <seed> [--profile p] --chart <out.svg|out.mmd|out.md> [--slot <account>:<seq> | --account <hex prefix>|equivocator] [--from <ms>] [--to <ms>] [--max <messages>]'
let extra: Partial<Scenario> = {}
try {
  const w = value('--with')
  if (w !== undefined || args.includes('--with')) extra = JSON.parse(w ?? '') as Partial<Scenario>
} catch {
  console.error(`--with takes a JSON object of scenario fields\n${usage}`)
  process.exit(2)
}
const chartOut = value('--chart')
const numeric = (name: string): number | undefined => {
  const v = value(name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) {
    console.error(`${name} takes a number of ms (or messages for --max), got ${JSON.stringify(v)}\n${usage}`)
    process.exit(2)
  }
  return n
}
if (!(profile in PROFILES) || seeds.length === 0 || seeds.some(s => !Number.isInteger(s) || s < 0 || s > 0xffffffff) ||
    (chartOut !== undefined && (seeds.length !== 1 || !/\.(svg|mmd|md)$/i.test(chartOut)))) {
  console.error(usage)
  process.exit(2)
}
let failed = 0
for (const seed of seeds) {
  const started = performance.now()
  let events: TraceEvent[] | undefined
  let report: SimReport | undefined
  try {
    const r = report = runSeed(seed, profile, extra, trace ? line => console.log(line) : undefined, chartOut === undefined ? undefined : e => { events = e })
    const s = r.scenario
    console.log(`seed ${seed} (${profile}): ok in ${(performance.now() - started).toFixed(0)} ms wall, ${r.finishedAt} ms simulated | ` +
      `n=${s.validators}${s.faults === 'crash' ? ' faults=crash' : ''} byzantine=[${s.byzantine.join(',')}] crashProne=[${s.crashProne.join(',')}]${s.deadForGood > 0 ? ` dead=${r.dead.join(',')}` : ''} drop=${s.dropRate} dup=${s.duplicateRate} ` +
      `delay<=${s.maxDelay} partitions=${s.partitions.length} heal@${s.healAt} batch<=${s.maxBatchOps} | ` +
      `accounts=${s.honestAccounts}+${s.equivocators} equivocating, ${r.delivered} deliveries, ${r.messages} msgs (${r.dropped} lost, ${r.rejected} rejected), ` +
      `${r.crashes} crashes, ${r.checkpoints} certifications (lag ${r.checkpointLag} intervals), ${r.rejoins} re-joins, ${r.evidence} vote proofs, equivocations delivered ${r.equivocationsDelivered}/${s.equivocators}` +
      (r.contractCalls === undefined ? '' : ` | contract: ${r.contractCalls.ok} calls ok, ${r.contractCalls.failed} failed, ${r.contractCalls.executes} executes, ${r.contractCalls.payouts} payout`) +
      ` | state ${r.stateHash.slice(0, 16)}`)
  } catch (err) {
    failed++
    console.error(`seed ${seed}: FAILED\n${(err as Error).stack ?? String(err)}`)
  }
  if (chartOut !== undefined && events !== undefined) writeChart(seed, chartOut, events, report)
}
process.exitCode = failed > 0 ? 1 : 0

/** Draws the seed's trace; `--account equivocator` stands for the run's first equivocating account. */
function writeChart (seed: number, out: string, events: TraceEvent[], report: SimReport | undefined): void {
  let account = value('--account')
  if (account === 'equivocator') {
    const eq = report === undefined || report.scenario.equivocators === 0 ? undefined : report.accounts[report.accounts.length - report.scenario.equivocators]
    if (eq === undefined) {
      console.error(`seed ${seed} (${profile}) has no equivocating account: pick a seed of the equivocation profile`)
      process.exitCode = 2
      return
    }
    account = eq.account.slice(0, 8)
  }
  const slot = value('--slot')
  const filter = slot !== undefined ? ` slot ${slot}` : account !== undefined ? ` account ${account}` : ''
  const given = VALUED.filter(o => !['--profile', '--chart', '--with'].includes(o) && value(o) !== undefined).map(o => ` ${o} ${value(o)!}`).join('')
  const from = numeric('--from')
  const to = numeric('--to')
  const max = numeric('--max')
  const opts: ChartOptions = {
    title: `npm run sim -- ${seed} --profile ${profile}${given}${value('--account') === 'equivocator' ? ` (${account!})` : ''}`,
    ...(slot === undefined ? {} : { slot }),
    ...(account === undefined ? {} : { account }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(max === undefined ? {} : { max })
  }
  try {
    writeFileSync(out, renderChart(events, formatOf(out), opts))
  } catch (err) {
    console.error(`chart: ${(err as Error).message}`)
    process.exitCode = 2
    return
  }
  console.log(`chart of seed ${seed} (${events.length} trace events${filter === '' ? '' : `,${filter}`}) written to ${out}`)
}
