// `bftnode status`: a verdict first ("healthy: 3/3 other validators, delivering, checkpoint 12,000
// (4 s ago)" or "unready: below quorum (...)"), from the node's GET /v1/ready, then what the node
// knows (GET /v1/status). `--json` prints both answers as they came.

import type { ReadinessView } from '../../client/api-client.js'
import { api, say } from '../context.js'
import type { CliCommand } from '../context.js'
import { nodeLabel } from '../node-id.js'
import { roleText, toleranceText } from './validator.js'
import type { ValidatorRoleView } from '../../client/api-client.js'

/** A node that delivered within this long is "delivering"; otherwise "idle" (ms). */
const DELIVERING_MS = 10_000

/**
 * The validator set as `status` shows it: `epoch 1: 5 validators (quorum 4); this node: a
 * validator that votes`; a crash-only network says so: `(quorum 3, tolerates 2 crashed (crash-only))`.
 */
export function validatorSummary (status: Record<string, unknown>): string | undefined {
  if (typeof status.epoch !== 'number' || typeof status.validators !== 'number') return undefined
  const role = typeof status.thisNode === 'string' ? `; this node: ${roleText(status.thisNode as ValidatorRoleView)}` : ''
  // the Byzantine default reads as before; crash-only gives something up, and says it
  const model = status.faults === 'crash' && typeof status.faultsTolerated === 'number' ? `, ${toleranceText(status.faultsTolerated, status.faults)}` : ''
  return `epoch ${status.epoch}: ${status.validators} validator${status.validators === 1 ? '' : 's'} (quorum ${String(status.quorum)}${model})${role}`
}

/** One line a person reads first: healthy or unready, and why. */
export function verdict (r: ReadinessView): string {
  if (!r.ready) return `unready: ${r.reasons.join('; ')}`
  const others = r.validators - (r.role === 'validator' ? 1 : 0)
  const parts = [
    r.role === 'validator'
      ? (others === 0 ? 'the only validator' : `${r.validatorsConnected}/${others} other validators`)
      : `observer, ${r.validatorsConnected}/${r.validators} validators`
  ]
  if (r.role === 'validator' && !r.voting) parts.push('not voting')
  parts.push(r.lastDeliveryMsAgo !== null && r.lastDeliveryMsAgo < DELIVERING_MS ? 'delivering' : 'idle')
  const cp = r.checkpoint
  parts.push(cp === null ? 'no checkpoint yet' : `checkpoint ${cp.height.toLocaleString('en-US')}${cp.ageMs === null ? '' : ` (${ago(cp.ageMs)})`}`)
  return `healthy: ${parts.join(', ')}`
}

function ago (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s} s ago`
  if (s < 7200) return `${Math.round(s / 60)} min ago`
  return `${Math.round(s / 3600)} h ago`
}

export const statusCommand: CliCommand<{ json: boolean }> = {
  command: 'status',
  describe: 'is the node healthy (a quorum connected, caught up), then what it knows: network, peers, delivered ops, state hash',
  examples: [
    ['bftnode status', 'verdict first: "healthy: 3/3 other validators, delivering, checkpoint 12,000 (4 s ago)"'],
    ['bftnode status --json', 'the node\'s answers to /v1/status and /v1/ready, as JSON']
  ],
  options: {
    json: { type: 'boolean', default: false, describe: 'print the raw JSON ({"status": ..., "ready": ...})' }
  },
  handler: async (a) => {
    const client = api(a)
    const [status, ready] = await Promise.all([client.status(), client.ready()])
    if (a.json) {
      say(JSON.stringify({ status, ready }, null, 2))
      return
    }
    say(verdict(ready))
    const set = validatorSummary(status)
    if (set !== undefined) say(set)
    for (const [k, v] of Object.entries(status)) say(`  ${k.padEnd(20)} ${k === 'nodeId' ? await nodeLabel(String(v), status.validator === true) : Array.isArray(v) ? v.join(' ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
  }
}
