// The demo run (`npm run demo`): one simulated 4-validator network of the real protocol core,
// with a Byzantine validator, an account that double-spends, lossy links and a crash, then a
// summary of what every node ended with. The real `bftnode` node replaces this as the main job.

import { runSeed } from './simulation.js'

const seed = Number(process.argv[2] ?? 2026)
const started = performance.now()
const r = runSeed(seed, 'mixed', {
  validators: 4,
  byzantine: [3],
  crashProne: [1],
  crashChance: 0.02,
  dropRate: 0.1,
  duplicateRate: 0.05,
  maxDelay: 40,
  honestAccounts: 4,
  equivocators: 1,
  opsPerAccount: 8
})
const s = r.scenario
const short = (hex: string): string => hex.slice(0, 12)

console.log(`bftnode demo: SecureBroadcast + AT2 ledger on ${s.validators} simulated validators (seed ${seed})`)
console.log(`  validator ${s.byzantine.join(', ')} is Byzantine (votes for everything, forges certificates, sends garbage)`)
console.log(`  validator ${s.crashProne.join(', ')} may be killed mid-write and restarted from its disk; links drop ${s.dropRate * 100}% and duplicate ${s.duplicateRate * 100}% of messages until t=${s.healAt} ms`)
console.log('  one account signs two different transfers for the same slot and sends them to different validators')
console.log('')
console.log(`${r.delivered} deliveries across the nodes, ${r.messages} messages (${r.dropped} lost, ${r.rejected} rejected as invalid), ${r.crashes} crash(es); every honest op delivered by t=${r.finishedAt} ms (simulated)`)
console.log('')
console.log('honest validator   delivered   state hash')
for (const n of r.nodes) console.log(`${short(n.id).padEnd(19)}${String(n.delivered).padEnd(12)}${short(n.stateHash)}`)
console.log('')
console.log('account        role             balance   uncited credits   ops delivered')
r.accounts.forEach((a, i) => {
  const role = i === 0 ? 'mint authority' : i === r.accounts.length - 1 ? 'double-spender' : 'wallet'
  console.log(`${short(a.account).padEnd(15)}${role.padEnd(17)}${String(a.balance).padEnd(10)}${String(a.credits).padEnd(18)}${a.nextSeq - 1}`)
})
console.log('')
console.log(`double spend: ${r.equivocationsDelivered} of the 2 conflicting transfers delivered (never both); ${r.conflictsProven} proof(s) of equivocation held by the nodes`)
console.log(`supply ${r.supply}; every node's balances plus uncited credits add up to it; all honest nodes agree on state ${short(r.stateHash)}`)
console.log(`(${(performance.now() - started).toFixed(0)} ms wall; any seed replays with: npm run sim -- <seed>)`)
