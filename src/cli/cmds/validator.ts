// `bftnode validator`: the validator set and changes of it, through the node's API. One validator
// proposes adding or removing one validator (`propose-add`, `propose-remove`), the others approve
// (`approve`), and at a quorum of approvals the network moves to the next epoch. Replacing a key
// is two changes: add the new key, then remove the old one.

import type { ReconfigurationView, ValidatorRoleView, ValidatorsView } from '../../client/api-client.js'
import { api, say } from '../context.js'
import type { CliCommand } from '../context.js'
import { nodeKeyOf, peerIdOf } from '../node-id.js'

/** Hex digits of a proposal id the printed hints use (the API takes any unique prefix of 4 or more). */
export const SHORT_ID = 12

const ROLE: Record<ValidatorRoleView, string> = {
  votes: 'a validator that votes',
  'waiting-for-handoff': 'a validator of this epoch, waiting for the previous set\'s hand-off before it votes',
  abstains: 'a validator that does not vote (see `bftnode status`)',
  observer: 'an observer (not in the set)'
}

export function roleText (role: ValidatorRoleView): string {
  return ROLE[role] ?? role
}

/** What the quorum lets fail: "tolerates 1 faulty" (Byzantine), "tolerates 2 crashed (crash-only)". */
export function toleranceText (tolerated: number, faults: unknown): string {
  return faults === 'crash' ? `tolerates ${tolerated} crashed (crash-only)` : `tolerates ${tolerated} faulty`
}

/** `bftnode validator list`: the epoch, the set (peer ids and keys), this node's role, the open proposals. */
export function validatorLines (v: ValidatorsView, peerIds: ReadonlyMap<string, string>, self: string | undefined): string[] {
  const label = (k: string): string => `${peerIds.get(k) ?? k}  ${k}`
  const out = [
    `epoch ${v.epoch}: ${v.validators.length} validator${v.validators.length === 1 ? '' : 's'}, quorum ${v.quorum} (${toleranceText(v.faultsTolerated, v.faults)})`,
    `this node: ${roleText(v.thisNode)}`
  ]
  for (const k of v.validators) out.push(`  ${label(k)}${k === self ? '  (this node)' : ''}`)
  if (v.proposals.length === 0) {
    out.push(`no open proposals for epoch ${v.epoch + 1}`)
    return out
  }
  out.push(`open proposals for epoch ${v.epoch + 1}:`)
  for (const p of v.proposals) {
    const change = [...p.add.map(k => `add ${label(k)}`), ...p.remove.map(k => `remove ${label(k)}`)].join(', ')
    out.push(`  ${p.id.slice(0, SHORT_ID)}  ${change}`)
    out.push(`      approvals ${p.approvals.length}/${p.approvalsNeeded}${p.approvedHere ? ', approved by this node' : ''}; proposed by ${peerIds.get(p.proposer) ?? p.proposer}`)
  }
  if (v.thisNode === 'votes' && v.proposals.some(p => !p.approvedHere)) out.push('approve one with: bftnode validator approve <id>')
  return out
}

/** Where a proposal stands after this node proposed or approved it, and what to do next. */
export function outcomeLines (r: ReconfigurationView, proposed: boolean): string[] {
  if (r.certified) return [`certified: the network moves to epoch ${r.epoch}`]
  const left = Math.max(0, r.approvalsNeeded - r.approvals)
  const head = proposed ? [`proposal ${r.id}`, `for epoch ${r.epoch}, approved by this validator`] : [`approved proposal ${r.id.slice(0, SHORT_ID)} for epoch ${r.epoch}`]
  return [
    ...head,
    `approvals ${r.approvals}/${r.approvalsNeeded}: ${left} more needed. On ${left} other validator${left === 1 ? '' : 's'} of epoch ${r.epoch - 1}, run:`,
    `  bftnode validator approve ${r.id.slice(0, SHORT_ID)}`
  ]
}

const json = { json: { type: 'boolean' as const, default: false, describe: 'print the node\'s answer as JSON' } }

function proposeCommand (kind: 'add' | 'remove'): CliCommand<{ node: string, json: boolean }> {
  return {
    command: `propose-${kind} <node>`,
    describe: kind === 'add'
      ? 'propose adding a validator in the next epoch (this node must be a voting validator; its approval is the first)'
      : 'propose removing a validator in the next epoch (this node must be a voting validator; its approval is the first)',
    positionals: {
      node: { type: 'string', describe: 'the node: its 64-hex-digit key, its peer id (12D3Koo...) or its key file' }
    },
    options: json,
    examples: kind === 'add'
      ? [['bftnode validator propose-add 12D3KooWQ1k3...', 'add the node with that peer id; then approve on other validators']]
      : [['bftnode validator propose-remove ./old/node-key.json', 'remove the validator whose key file that is (only its public key is read)']],
    handler: async (a) => {
      const key = await nodeKeyOf(a.node)
      const r = await api(a).proposeValidatorChange(kind === 'add' ? { add: key } : { remove: key })
      if (a.json) { say(JSON.stringify(r, null, 2)); return }
      say(`proposed: ${kind} ${await peerIdOf(key)}  ${key}`)
      for (const line of outcomeLines(r, true)) say(line)
    }
  }
}

const listCommand: CliCommand<{ json: boolean }> = {
  command: 'list',
  describe: 'the current epoch: its validators, quorum, this node\'s role, and the open proposals with their approvals',
  options: json,
  examples: [['bftnode validator list', 'epoch, validators by peer id and key, open proposals with approvals x/needed']],
  handler: async (a) => {
    const client = api(a)
    const [v, status] = await Promise.all([client.validators(), client.status()])
    if (a.json) { say(JSON.stringify(v, null, 2)); return }
    const keys = [...new Set([...v.validators, ...v.proposals.flatMap(p => [...p.add, p.proposer])])]
    const peerIds = new Map(await Promise.all(keys.map(async k => [k, await peerIdOf(k)] as const)))
    for (const line of validatorLines(v, peerIds, typeof status.nodeId === 'string' ? status.nodeId : undefined)) say(line)
  }
}

const approveCommand: CliCommand<{ proposal: string, json: boolean }> = {
  command: 'approve <proposal>',
  describe: 'approve an open proposal with this validator\'s key; at a quorum of approvals the network moves to the next epoch',
  positionals: {
    proposal: { type: 'string', describe: 'the proposal id, or a unique prefix of at least 4 hex digits (bftnode validator list shows them)' }
  },
  options: json,
  examples: [['bftnode validator approve 7e41c0d2e5f1', 'approvals 2/3, or "certified: the network moves to epoch 1"']],
  handler: async (a) => {
    const r = await api(a).approveValidatorChange(a.proposal.trim().toLowerCase())
    if (a.json) { say(JSON.stringify(r, null, 2)); return }
    for (const line of outcomeLines(r, false)) say(line)
  }
}

export const validatorCommand: CliCommand = {
  command: 'validator',
  describe: 'the validator set: list it, propose adding or removing one validator, approve a proposal',
  subcommands: [listCommand, proposeCommand('add'), proposeCommand('remove'), approveCommand]
}
