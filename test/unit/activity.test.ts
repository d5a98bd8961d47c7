// RecentActivity, what the dashboard shows of a node's recent past: it stays bounded however many
// rejections and deliveries it sees, lists the newest first, and its latency percentiles cover
// only ops submitted here and delivered within the last minute.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { decodeOp, signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { LATENCY_WINDOW_MS, MAX_LATENCY_SAMPLES, MAX_REJECTIONS, RecentActivity } from '../../src/node/activity.js'
import { encode } from '../../src/core/codec/canonical.js'
import { seedOf } from '../support/localnet.js'

const NETWORK = new Uint8Array(32).fill(7)
const alice = signerFrom(nobleScheme, seedOf('activity-alice', 0))
const bob = signerFrom(nobleScheme, seedOf('activity-bob', 0)).publicKey

function transfer (seq: number): SignedOp {
  return signOp(alice, NETWORK, { account: alice.publicKey, seq, deps: [], body: { kind: 'transfer', to: bob, amount: 1n } })
}

const REJECTED = { status: 'rejected', reason: 'insufficient-funds', detail: 'balance 0, needs 1' } as const

describe('RecentActivity', () => {
  test('keeps the last MAX_REJECTIONS rejections, newest first, with their reasons', () => {
    const a = new RecentActivity()
    const total = MAX_REJECTIONS + 17
    for (let seq = 1; seq <= total; seq++) a.delivered(transfer(seq), REJECTED, 1000 + seq)
    const list = a.recentRejections()
    assert.equal(list.length, MAX_REJECTIONS)
    assert.deepEqual(list.map(r => r.seq), Array.from({ length: MAX_REJECTIONS }, (_, i) => total - i))
    assert.equal(list[0]!.reason, 'insufficient-funds')
    assert.equal(list[0]!.stage, 'delivery')
    assert.equal(list[0]!.account, toHex(alice.publicKey))
    assert.equal(list[0]!.kind, 'transfer')
    assert.equal(a.rejected, total)
    assert.equal(a.applied, 0)
  })

  test('an op the API refuses is listed with its code, even when its bytes cannot be read', () => {
    const a = new RecentActivity()
    const op = transfer(1)
    const junk = new Uint8Array([1, 2, 3])
    a.submitted([op.bytes, junk], [
      { status: 'rejected', code: 'bad-signature', reason: 'the signature does not verify' },
      { status: 'rejected', code: 'malformed', reason: 'not an op' }
    ], 5, b => decodeOp(b))
    const [malformed, bad] = a.recentRejections()
    assert.equal(a.refused, 2)
    assert.deepEqual({ stage: bad!.stage, reason: bad!.reason, seq: bad!.seq, hash: bad!.hash }, { stage: 'submit', reason: 'bad-signature', seq: 1, hash: toHex(op.hash) })
    assert.equal(malformed!.reason, 'malformed')
    assert.equal(malformed!.account, undefined)
  })

  test('a refusal quoting what the client sent keeps only the start of it', () => {
    const a = new RecentActivity()
    // an op whose payload has a field name of 90 KB: the decoder's error quotes it whole
    const junk = encode([encode({ ['x'.repeat(90_000)]: 0 }), new Uint8Array(64)])
    let reason = ''
    try { decodeOp(junk) } catch (err) { reason = (err as Error).message }
    assert.ok(reason.length > 90_000)
    for (let i = 0; i < MAX_REJECTIONS; i++) a.submitted([junk], [{ status: 'rejected', code: 'malformed', reason }], i, b => decodeOp(b))
    const list = a.recentRejections()
    assert.ok(list.every(r => r.detail.length <= 300), `details of ${list[0]!.detail.length} characters`)
    assert.ok(list[0]!.detail.startsWith(reason.slice(0, 100)))
    // what GET /v1/dashboard sends every second stays small
    assert.ok(JSON.stringify(list).length < 50_000)
  })

  test('latency percentiles cover ops submitted here and delivered within the window', () => {
    const a = new RecentActivity()
    const ops = Array.from({ length: 100 }, (_, i) => transfer(i + 1))
    a.submitted(ops.map(o => o.bytes), ops.map(o => ({ status: 'queued', hash: o.hash })), 0, b => decodeOp(b))
    // op i is delivered i+1 ms after its submission
    ops.forEach((op, i) => a.delivered(op, { status: 'applied' }, i + 1))
    // delivered, but never submitted here: no latency
    a.delivered(transfer(1000), { status: 'applied' }, 5000)
    const now = 100
    const l = a.latency(now)
    assert.deepEqual({ count: l.count, p50: l.p50, p90: l.p90, p99: l.p99, max: l.max }, { count: 100, p50: 50, p90: 90, p99: 99, max: 100 })
    assert.equal(a.accepted, 100)
    assert.equal(a.applied, 101)
    // a minute later the window has moved past every sample
    const later = a.latency(1 + LATENCY_WINDOW_MS + 100)
    assert.deepEqual({ count: later.count, p50: later.p50 }, { count: 0, p50: null })
    // delivered twice (a replay): counted once
    a.delivered(ops[0]!, { status: 'applied' }, 200)
    assert.equal(a.latency(now).count, 100)
  })

  test('the latency window holds at most MAX_LATENCY_SAMPLES, the newest', () => {
    const a = new RecentActivity()
    const extra = 10
    for (let i = 0; i < MAX_LATENCY_SAMPLES + extra; i++) {
      const hash = new Uint8Array(32)
      new DataView(hash.buffer).setUint32(0, i)
      a.submitted([new Uint8Array()], [{ status: 'queued', hash }], 0, b => decodeOp(b))
      // only the hash is read on delivery
      a.delivered({ hash, account: alice.publicKey, seq: i + 1, body: { kind: 'transfer' } } as unknown as SignedOp, { status: 'applied' }, i < extra ? 50_000 : 10)
    }
    const l = a.latency(20)
    assert.equal(l.count, MAX_LATENCY_SAMPLES)
    assert.equal(l.max, 10, 'the oldest samples (50 s) were overwritten')
  })

  test('remembers when each peer was last heard', () => {
    const a = new RecentActivity()
    a.heardFrom('p1', 10)
    a.heardFrom('p2', 20)
    a.heardFrom('p1', 30)
    assert.equal(a.lastHeard('p1'), 30)
    assert.equal(a.lastHeard('p2'), 20)
    assert.equal(a.lastHeard('p3'), undefined)
  })

  test('an op dropped for equivocation is listed and stops its latency clock', () => {
    const a = new RecentActivity()
    const op = transfer(1)
    a.submitted([op.bytes], [{ status: 'queued', hash: op.hash }], 0, b => decodeOp(b))
    a.dropped(op, 'its account signed two ops for seq 1', 10)
    a.delivered(op, { status: 'applied' }, 20)
    assert.equal(a.latency(30).count, 0)
    assert.deepEqual({ stage: a.recentRejections()[0]!.stage, reason: a.recentRejections()[0]!.reason }, { stage: 'dropped', reason: 'equivocation' })
  })
})
