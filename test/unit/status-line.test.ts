// The status line and the warnings behind it, driven by hand: each state is said when it changes
// (not at every check), counts are summed per interval, and the line reads as an operator wants.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PEER_GRACE_MS, StatusReporter, statusLine, verdict } from '../../src/node/status-line.js'
import type { StatusFigures } from '../../src/node/status-line.js'
import { recordingLogger } from '../support/recording-logger.js'
import { decodeMessage } from '../../src/core/broadcast/messages.js'
import { encode } from '../../src/core/codec/canonical.js'

const healthy: StatusFigures = {
  validator: true,
  voting: true,
  peers: 3,
  validatorsConnected: 3,
  otherValidators: 3,
  quorum: 3,
  expectPeers: true,
  delivered: 12_345,
  queued: 0,
  buffered: 0,
  checkpoint: 12_000,
  checkpointAt: 0,
  shedRequests: 0,
  shedReason: undefined
}

/** A reporter on a hand-driven clock, checked by hand (its timer never fires: intervals are long). */
function reporter (intervalMs = 10_000): { r: StatusReporter, set: (f: Partial<StatusFigures>) => void, step: (ms: number) => void, said: (level?: string) => string[] } {
  let figures = healthy
  let now = 1_000_000
  const log = recordingLogger()
  const r = new StatusReporter(() => figures, log, intervalMs, () => now)
  r.start()
  r.stop()
  return {
    r,
    set: f => { figures = { ...figures, ...f } },
    step: ms => { now += ms; r.check() },
    said: level => log.lines.filter(l => level === undefined || l.level === level).map(l => l.msg)
  }
}

describe('status line', () => {
  test('the line names the verdict, peers, validators, delivered with its rate, queue and checkpoint age', () => {
    assert.equal(statusLine(healthy, { rate: 56.4, busy: false, now: 4000 }), 'status: healthy | peers 3 | validators 3/3 | delivered 12,345 (+56/s) | queued 0 | checkpoint 12,000 (4 s ago)')
    assert.equal(statusLine({ ...healthy, checkpoint: 0, buffered: 7 }, { rate: 0, busy: false, now: 0 }), 'status: healthy | peers 3 | validators 3/3 | delivered 12,345 (+0/s) | queued 0 | buffered 7 | checkpoint none')
    assert.match(statusLine(healthy, { rate: 0, busy: false, now: 300_000 }), /checkpoint 12,000 \(5 min ago\)$/)
  })

  test('the verdict is the worst state: no peers, below quorum, saturated, not voting, healthy', () => {
    assert.equal(verdict({ ...healthy, peers: 0, validatorsConnected: 0 }), 'no peers')
    assert.equal(verdict({ ...healthy, validatorsConnected: 1 }), 'below quorum')
    assert.equal(verdict(healthy, true), 'saturated')
    assert.equal(verdict({ ...healthy, voting: false }), 'not voting')
    assert.equal(verdict({ ...healthy, voting: false, validatorsConnected: 1 }), 'below quorum', 'a validator on probation needs a quorum to start voting')
    assert.equal(verdict({ ...healthy, voting: false, validatorsConnected: 2 }), 'below quorum', 'without its own vote, a quorum of others')
    assert.equal(verdict({ ...healthy, validator: false, voting: false, peers: 1, validatorsConnected: 1, otherValidators: 4 }), 'healthy')
    assert.equal(verdict({ ...healthy, peers: 0, validatorsConnected: 0, otherValidators: 0, quorum: 1, expectPeers: false }), 'healthy', 'a lone dev validator')
  })

  test('each check prints the line, with the delivery rate since the last check', () => {
    const { set, step, said } = reporter()
    set({ delivered: 12_345 + 560 })
    step(10_000)
    assert.deepEqual(said(), ['status: healthy | peers 3 | validators 3/3 | delivered 12,905 (+56/s) | queued 0 | checkpoint 12,000 (17 min ago)'])
  })

  test('with the line off, warnings are still checked', () => {
    const { set, step, said } = reporter(0)
    set({ validatorsConnected: 0, peers: 0 })
    step(PEER_GRACE_MS)
    assert.deepEqual(said('info'), [])
    assert.equal(said('warn').length, 2)
  })
})

describe('status warnings', () => {
  test('below quorum is said once when it starts, quorum restored once when it ends', () => {
    const { set, step, said } = reporter()
    set({ validatorsConnected: 1, peers: 1 })
    for (let i = 0; i < 5; i++) step(10_000)
    assert.deepEqual(said('warn'), ['below quorum: 1 of 3 other validators connected, 2 needed; no op can be certified until more connect'])
    set({ validatorsConnected: 2, peers: 2 })
    for (let i = 0; i < 3; i++) step(10_000)
    assert.deepEqual(said('info').filter(m => !m.startsWith('status:')), ['quorum restored: 2 of 3 other validators connected'])
    assert.equal(said('warn').length, 1)
  })

  test('peers get a grace period after start before their absence is a warning', () => {
    const { set, step, said } = reporter(1000)
    set({ peers: 0, validatorsConnected: 0 })
    step(1000)
    assert.deepEqual(said('warn'), [])
    assert.match(said('info')[0]!, /^status: no peers \| peers 0 \| validators 0\/3/)
    step(PEER_GRACE_MS)
    assert.deepEqual(said('warn'), [
      'no peers connected: check the bootstrap addresses and that the other nodes are up (net=debug shows each failed dial)',
      'below quorum: 0 of 3 other validators connected, 2 needed; no op can be certified until more connect'
    ])
    step(1000)
    assert.equal(said('warn').length, 2, 'not repeated at the next check')
    set({ peers: 3, validatorsConnected: 3 })
    step(1000)
    assert.ok(said('info').includes('peers connected again'))
    assert.ok(said('info').includes('quorum restored: 3 of 3 other validators connected'))
  })

  test('a lone validator with nothing to dial is not warned about peers; an observer is not warned about quorum', () => {
    const lone = reporter()
    lone.set({ peers: 0, validatorsConnected: 0, otherValidators: 0, quorum: 1, expectPeers: false })
    lone.step(10_000)
    assert.deepEqual(lone.said('warn'), [])
    const observer = reporter()
    observer.set({ validator: false, voting: false, peers: 1, validatorsConnected: 1, otherValidators: 4 })
    observer.step(10_000)
    assert.deepEqual(observer.said('warn'), [])
  })

  test('clients turned away are counted once per interval, not once per request', () => {
    const { set, step, said } = reporter()
    set({ shedRequests: 250, shedReason: 'the node is saturated: ops wait 1200 ms for a batch (limit 1000 ms)' })
    step(10_000)
    set({ shedRequests: 251 })
    step(10_000)
    step(10_000)
    assert.deepEqual(said('warn'), [
      'turned 250 client request(s) away with 503 ERR_BUSY in the last 10 s: the node is saturated: ops wait 1200 ms for a batch (limit 1000 ms)',
      'turned 1 client request(s) away with 503 ERR_BUSY in the last 10 s: the node is saturated: ops wait 1200 ms for a batch (limit 1000 ms)'
    ])
    assert.match(said('info')[0]!, /^status: saturated \|/)
    assert.match(said('info')[2]!, /^status: healthy \|/)
  })

  test('invalid messages are summed up per interval with the peers that sent them, worst first', () => {
    const { r, step, said } = reporter()
    for (let i = 0; i < 40; i++) r.rejected('a'.repeat(64), 'bad signature')
    r.rejected('b'.repeat(64), 'certificate has 1 votes, needs 3')
    step(10_000)
    step(10_000)
    assert.deepEqual(said('warn'), [`rejected 41 invalid message(s) from 2 peer(s) in the last 10 s: ${'a'.repeat(16)} x40 (bad signature), ${'b'.repeat(16)} x1 (certificate has 1 votes, needs 3)`])
  })

  test('a reason a peer wrote (a field name of its message) is said on one short line', () => {
    const { r, step, said } = reporter()
    // the replica rejects this with the decoder's message, which quotes the field name
    const forged = '\n' + 'Mar-01 12:00:00.000 ERROR [node] storage failed; stopping the node\x1b[2J' + 'x'.repeat(1_000_000)
    let reason = ''
    try { decodeMessage(encode({ [forged]: 0 })) } catch (err) { reason = (err as Error).message }
    assert.ok(reason.includes(forged), 'the reason holds the peer\'s text')
    r.rejected('a'.repeat(64), reason)
    step(10_000)
    const [warning] = said('warn')
    assert.ok(warning !== undefined)
    // eslint-disable-next-line no-control-regex -- the escape character is what must not be there
    assert.doesNotMatch(warning, /[\n\r\x1b]/, 'no line breaks or escape sequences from the peer')
    assert.ok(warning.length < 500, `a warning of ${warning.length} characters`)
  })
})
