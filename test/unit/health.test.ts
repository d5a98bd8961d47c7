// Readiness as the node judges it (a quorum connected, not joining, no stuck backlog, not
// saturated) and the verdict `bftnode status` prints from it. The node here is a stand-in with
// the fields readiness reads; test/e2e/health.test.ts checks the real thing with processes.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_READY_BACKLOG, MAX_STALL_MS, readiness } from '../../src/node/health.js'
import type { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { verdict } from '../../src/cli/cmds/status.js'
import type { ReadinessView } from '../../src/client/api-client.js'

const NOW = 1_000_000
const V = ['v0', 'v1', 'v2', 'v3']

interface Shape {
  self?: string
  peers?: string[]
  buffered?: number
  joining?: boolean
  lastDeliveryAt?: number
  queueWaitMs?: number
  heldOps?: number
  checkpoint?: number
  checkpointStoredAt?: number
  votes?: boolean
}

function node (s: Shape = {}): BftNode {
  const self = s.self ?? 'v0'
  const validator = V.includes(self)
  const peers = (): string[] => s.peers ?? V.filter(v => v !== self)
  return {
    id: self,
    startedAt: NOW - 60_000,
    config: defaultConfig('/nowhere'),
    peers,
    // as BftNode counts them: peers that are validators other than this node
    validatorsConnected: () => peers().filter(p => p !== self && V.includes(p)).length,
    vitals: { joining: s.joining ?? false, checkpointStoredAt: s.checkpointStoredAt, lastDeliveryAt: s.lastDeliveryAt },
    replica: {
      validators: V,
      quorum: 3,
      isValidator: validator,
      votes: s.votes ?? validator,
      counters: () => ({ delivered: 42, buffered: s.buffered ?? 0 }),
      load: () => ({ heldOps: s.heldOps ?? 0, queueWaitMs: s.queueWaitMs ?? 0 }),
      latestCheckpoint: () => s.checkpoint === undefined ? undefined : { msg: { height: s.checkpoint } }
    }
  } as unknown as BftNode
}

describe('readiness', () => {
  test('a validator with every other validator connected and nothing waiting is ready', () => {
    const r = readiness(node({ checkpoint: 12_000, checkpointStoredAt: NOW - 4000, lastDeliveryAt: NOW - 100 }), NOW)
    assert.deepEqual(r.reasons, [])
    assert.equal(r.ready, true)
    assert.equal(r.validatorsConnected, 3)
    assert.equal(r.validatorsNeeded, 2)
    assert.deepEqual(r.checkpoint, { height: 12_000, ageMs: 4000 })
    assert.equal(r.lastDeliveryMsAgo, 100)
  })

  test('a validator counts itself toward the quorum: one other connected of the two needed is below it', () => {
    assert.equal(readiness(node({ peers: ['v1', 'v2', 'observer'] }), NOW).ready, true)
    const r = readiness(node({ peers: ['v1', 'observer'] }), NOW)
    assert.equal(r.ready, false)
    assert.deepEqual(r.reasons, ['below quorum (1 of 3 other validators connected, 2 needed)'])
  })

  test('a validator that does not vote counts only the others: its own vote certifies nothing', () => {
    const r = readiness(node({ votes: false, peers: ['v1', 'v2'] }), NOW)
    assert.equal(r.ready, false)
    assert.equal(r.validatorsNeeded, 3)
    assert.deepEqual(r.reasons, ['below quorum (2 of 3 other validators connected, 3 needed)'])
    assert.equal(readiness(node({ votes: false }), NOW).ready, true)
  })

  test('an observer needs a whole quorum of validators', () => {
    const r = readiness(node({ self: 'observer', peers: ['v0', 'v1'] }), NOW)
    assert.deepEqual(r.reasons, ['below quorum (2 of 4 validators connected, 3 needed)'])
    assert.equal(r.role, 'observer')
    assert.equal(readiness(node({ self: 'observer', peers: ['v0', 'v1', 'v3'] }), NOW).ready, true)
  })

  test('joining, a large backlog, a stuck one and saturation each make the node unready, with the reason', () => {
    assert.match(readiness(node({ joining: true }), NOW).reasons.join(), /^joining/)
    assert.match(readiness(node({ buffered: MAX_READY_BACKLOG + 1, lastDeliveryAt: NOW }), NOW).reasons.join(), /^behind: 4097 certified ops wait for earlier ones/)
    // a few buffered ops are normal while deliveries flow; the same few with no delivery for long are not
    assert.equal(readiness(node({ buffered: 10, lastDeliveryAt: NOW - 1000 }), NOW).ready, true)
    assert.match(readiness(node({ buffered: 10, lastDeliveryAt: NOW - MAX_STALL_MS - 2000 }), NOW).reasons.join(), /^behind: 10 certified ops have waited 12 s/)
    assert.match(readiness(node({ queueWaitMs: 1500 }), NOW).reasons.join(), /^saturated: queued ops wait 1500 ms for a batch \(limit 1000 ms\)/)
    assert.match(readiness(node({ heldOps: 20_000 }), NOW).reasons.join(), /^saturated: 20000 ops/)
    const both = readiness(node({ peers: [], joining: true }), NOW)
    assert.equal(both.reasons.length, 2)
  })
})

describe('the status verdict', () => {
  const view = (over: Partial<ReadinessView> = {}): ReadinessView => ({
    ready: true, reasons: [], role: 'validator', voting: true, validators: 4, quorum: 3, validatorsConnected: 3, validatorsNeeded: 2,
    peers: 3, delivered: 42, buffered: 0, lastDeliveryMsAgo: 800, checkpoint: { height: 12_000, ageMs: 4200 }, ...over
  })

  test('healthy says who is connected, whether ops flow and how old the checkpoint is', () => {
    assert.equal(verdict(view()), 'healthy: 3/3 other validators, delivering, checkpoint 12,000 (4 s ago)')
    assert.equal(verdict(view({ lastDeliveryMsAgo: null, checkpoint: null })), 'healthy: 3/3 other validators, idle, no checkpoint yet')
    assert.equal(verdict(view({ lastDeliveryMsAgo: 60_000, checkpoint: { height: 5, ageMs: null } })), 'healthy: 3/3 other validators, idle, checkpoint 5')
    assert.equal(verdict(view({ validators: 1, quorum: 1, validatorsConnected: 0, checkpoint: { height: 1000, ageMs: 300_000 } })), 'healthy: the only validator, delivering, checkpoint 1,000 (5 min ago)')
    assert.equal(verdict(view({ role: 'observer', voting: false, validatorsConnected: 4 })), 'healthy: observer, 4/4 validators, delivering, checkpoint 12,000 (4 s ago)')
    assert.equal(verdict(view({ voting: false, validatorsConnected: 2 })), 'healthy: 2/3 other validators, not voting, delivering, checkpoint 12,000 (4 s ago)')
  })

  test('unready gives every reason', () => {
    const r = view({ ready: false, reasons: ['below quorum (1 of 3 other validators connected, 2 needed)', 'joining: installing a certified checkpoint from peers'] })
    assert.equal(verdict(r), 'unready: below quorum (1 of 3 other validators connected, 2 needed); joining: installing a certified checkpoint from peers')
  })
})
