// `bftnode recover`: after a person looked at a diverged node's evidence, clears the state it built
// (kept aside, never deleted) so its next start re-joins from a verified snapshot. What the node
// signed stays: its key, the slots it bound and the cuts it signed (DESIGN.md §5). And
// `bftnode evidence`: the proofs of equivocation a node holds (GET /v1/evidence).

import { existsSync } from 'node:fs'
import { cp, readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { BftError } from '../../core/errors.js'
import { NodeDatabase } from '../../store/database.js'
import { DataDirLockedError } from '../../store/errors.js'
import { divergenceFile } from '../../node/divergence.js'
import { api, say } from '../context.js'
import type { CliCommand } from '../context.js'

export class RecoverError extends BftError {
  readonly code = 'ERR_RECOVER'
}

/** Files never copied aside: a second copy of a secret key helps nobody. */
const NOT_COPIED = new Set(['node-key.json', 'LOCK'])

interface RecoverArgs { dataDir: string, force: boolean, dryRun: boolean }

async function openStopped (dir: string): Promise<NodeDatabase> {
  // opening creates a database where there is none: a mistyped dir must stay untouched
  if (!existsSync(join(dir, 'CURRENT'))) throw new RecoverError(`${dir} holds no node database: give the data dir of the node (its config's dataDir)`)
  try {
    return await NodeDatabase.open(dir)
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new RecoverError(`the node using ${dir} is running: stop it first (bftnode recover works on a stopped node's data dir)`)
    throw err
  }
}

export const recoverCommand: CliCommand<RecoverArgs> = {
  command: 'recover',
  describe: 'after a divergence (see docs/divergence.md): keep the diverged state aside and clear it, so the next start re-joins from a verified snapshot; keys, bindings and signed cuts stay',
  examples: [
    ['bftnode recover --data-dir ./net/node3 --dry-run', 'show the evidence and what would be done'],
    ['bftnode recover --data-dir ./net/node3', 'do it (the node must be stopped); then bftnode start as before']
  ],
  options: {
    'data-dir': { type: 'string', demandOption: true, describe: 'the stopped node\'s data dir' },
    force: { type: 'boolean', default: false, describe: 'clear the state even though the node recorded no divergence' },
    'dry-run': { type: 'boolean', default: false, describe: 'only show what would be done' }
  },
  handler: async (a) => {
    const dir = a.dataDir
    let db = await openStopped(dir)
    let heights: number[]
    try {
      heights = await db.divergedHeights()
      if (await db.getMeta('genesis') === undefined) throw new RecoverError(`${dir} holds no node state (no genesis recorded): nothing to recover`)
    } finally {
      await db.close()
    }
    if (heights.length === 0 && !a.force) throw new RecoverError(`the node in ${dir} has not diverged (no halt recorded): nothing to recover; --force clears its state anyway`)
    const height = heights.length === 0 ? 0 : Math.max(...heights)
    const aside = join(dir, `diverged-${new Date().toISOString().replace(/[:.]/g, '-')}`)
    say(heights.length === 0 ? `no divergence recorded in ${dir} (--force)` : `diverged at checkpoint ${height}; evidence: ${divergenceFile(dir, height)}`)
    say(`1. copy the node's database aside to ${aside} (kept; evidence/ stays where it is)`)
    say('2. forget the certificates and checkpoints it built, and the halt')
    say('   keep: its key, genesis, the slots it bound, the cuts it signed, approvals, sequencer ops, the epoch chain')
    say(`3. the next \`bftnode start\` joins from a verified snapshot${height > 0 ? ` at checkpoint ${height} or later` : ''}, then votes again`)
    if (a.dryRun) { say('(dry run: nothing done)'); return }
    const skip = (name: string): boolean => NOT_COPIED.has(name) || name === 'evidence' || name.startsWith('diverged-') || name.endsWith('.tmp')
    const entries = (await readdir(dir)).filter(n => !skip(n))
    for (const name of entries) await cp(join(dir, name), join(aside, name), { recursive: true, errorOnExist: true })
    db = await openStopped(dir)
    try {
      // the next start joins from a snapshot at or past the cut the network certified (recorded
      // in the same write as the clearing: a crash between them would leave a node that votes)
      const cleared = await db.clearDivergedState()
      say(`done: ${cleared.certificates} certificates and ${cleared.checkpoints} checkpoints cleared; the next start joins at checkpoint ${cleared.joinAtLeast} or later; the old database is in ${basename(aside)}`)
    } finally {
      await db.close()
    }
    say('next: start the node as before; it joins from a verified snapshot (bftnode status shows it)')
  }
}

export const evidenceCommand: CliCommand<{ json: boolean }> = {
  command: 'evidence',
  describe: 'proofs of misbehaviour the node holds: validators that voted for two ops at one slot (verified, gossiped between nodes) and accounts that signed two ops for one slot',
  examples: [['bftnode evidence --json', 'the node\'s GET /v1/evidence answer']],
  options: { json: { type: 'boolean', default: false, describe: 'print the raw JSON' } },
  handler: async (a) => {
    const ev = await api(a).evidence()
    if (a.json) { say(JSON.stringify(ev, null, 2)); return }
    say(ev.validators.length === 0 ? 'no validator voted twice' : `validators that voted for two ops at one slot: ${ev.validators.length}`)
    for (const v of ev.validators) say(`  ${v.validator}  ${v.slot === null ? '(the proof does not verify here)' : `slot ${v.slot.account.slice(0, 16)}/${v.slot.seq}`}`)
    say(ev.accounts.length === 0 ? 'no account signed twice' : `accounts that signed two ops for one slot: ${ev.accounts.length}`)
    for (const c of ev.accounts) say(`  ${c.account}  seq ${c.seq}`)
  }
}
