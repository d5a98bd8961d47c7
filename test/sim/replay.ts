// Replays simulator seeds: `npm run sim -- <seed> [<seed> ...] [--profile NAME] [--with JSON] [--trace]`.
// A failing seed printed by the property tests replays exactly here.

import { PROFILES, runSeed } from './simulation.js'
import type { Profile, Scenario } from './simulation.js'

const args = process.argv.slice(2)
const trace = args.includes('--trace')
const profileAt = args.indexOf('--profile')
const withAt = args.indexOf('--with')
const profile = (profileAt >= 0 ? args[profileAt + 1] : 'mixed') as Profile
const seeds = args.filter((a, i) => !a.startsWith('--') && (profileAt < 0 || i !== profileAt + 1) && (withAt < 0 || i !== withAt + 1)).map(Number)
const usage = `usage: npm run sim -- <seed (0..4294967295)> [...] [--profile ${Object.keys(PROFILES).join('|')}] [--with '<scenario JSON>'] [--trace]`
let extra: Partial<Scenario> = {}
try {
  if (withAt >= 0) extra = JSON.parse(args[withAt + 1] ?? '') as Partial<Scenario>
} catch {
  console.error(`--with takes a JSON object of scenario fields\n${usage}`)
  process.exit(2)
}
if (!(profile in PROFILES) || seeds.length === 0 || seeds.some(s => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) {
  console.error(usage)
  process.exit(2)
}
let failed = 0
for (const seed of seeds) {
  const started = performance.now()
  try {
    const r = runSeed(seed, profile, extra, trace ? line => console.log(line) : undefined)
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
}
process.exitCode = failed > 0 ? 1 : 0
