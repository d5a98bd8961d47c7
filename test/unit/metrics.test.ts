// The node's metrics registry: every documented metric is exposed, two nodes' registries share
// nothing (nor touch prom-client's global one), the hot-path hooks count what happened, and the
// label-free histogram writes exactly what prom-client's own would. docs/metrics.md lists every
// bftnode metric, and the Grafana dashboard asks only for metrics a node has.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { Histogram, Registry, register as globalRegistry } from 'prom-client'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import type { Action } from '../../src/core/broadcast/actions.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { NodeMetrics, PlainHistogram, peekBatch } from '../../src/node/metrics.js'
import type { NodeGauges } from '../../src/node/metrics.js'
import { seedOf } from '../support/localnet.js'

/** Every bftnode_* metric docs/metrics.md lists, and the process figures an operator alerts on. */
export const METRIC_NAMES = [
  'bftnode_ops_submitted_total', 'bftnode_ops_proposed_total', 'bftnode_batches_proposed_total',
  'bftnode_ops_certified_total', 'bftnode_batches_certified_total', 'bftnode_ops_delivered_total',
  'bftnode_ops_rejected_total', 'bftnode_messages_sent_total', 'bftnode_messages_rejected_total',
  'bftnode_api_shed_requests_total',
  'bftnode_submit_to_delivered_seconds', 'bftnode_certificate_seconds', 'bftnode_vote_seconds',
  'bftnode_batch_ops', 'bftnode_db_write_seconds', 'bftnode_checkpoint_store_seconds',
  'bftnode_ready', 'bftnode_voting', 'bftnode_peers', 'bftnode_validators_connected', 'bftnode_validators',
  'bftnode_quorum', 'bftnode_epoch', 'bftnode_queued_ops', 'bftnode_queue_wait_seconds', 'bftnode_pending_batches',
  'bftnode_held_ops', 'bftnode_buffered_ops', 'bftnode_bindings', 'bftnode_certificates',
  'bftnode_checkpoint_height', 'bftnode_checkpoint_age_seconds', 'bftnode_ops_since_checkpoint',
  'bftnode_equivocations', 'bftnode_info',
  'nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes'
]

const gauges = (over: Partial<NodeGauges> = {}): NodeGauges => ({
  network: 'unit', nodeId: 'ab'.repeat(32), validator: true, voting: true, ready: true, peers: 3, validatorsConnected: 3,
  validators: 4, quorum: 3, epoch: 2, queued: 7, pendingBatches: 2, heldOps: 9, queueWaitMs: 250, buffered: 1, bindings: 5,
  certificates: 11, checkpoint: 1000, checkpointAt: Date.now() - 4000, sinceCheckpoint: 12, equivocations: 0, shedRequests: 2,
  ...over
})

/** The value of one sample line (`name` or `name{labels}`) in a scrape, or undefined. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const user = signerFrom(sodiumScheme, seedOf('metrics-user', 0))
const ops = (n: number, from = 1): SignedOp[] => Array.from({ length: n }, (_, i) =>
  signOp(user, new Uint8Array(32), { account: user.publicKey, seq: from + i, deps: [], body: { kind: 'transfer', to: new Uint8Array(32), amount: 1n } }))

describe('node metrics', () => {
  test('the registry exposes every named metric, with the gauges read from the node at scrape', async () => {
    let reads = 0
    const m = new NodeMetrics(() => { reads++; return gauges() })
    const text = await m.text()
    for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`)
    assert.equal(reads, 1, 'one read of the node per scrape')
    assert.equal(sample(text, 'bftnode_queued_ops'), 7)
    assert.equal(sample(text, 'bftnode_queue_wait_seconds'), 0.25)
    assert.equal(sample(text, 'bftnode_api_shed_requests_total'), 2)
    assert.equal(sample(text, 'bftnode_epoch'), 2)
    const age = sample(text, 'bftnode_checkpoint_age_seconds')!
    assert.ok(age >= 4 && age < 10, `checkpoint age ${age}`)
    assert.match(text, /^bftnode_info\{network="unit",node="abababababababab",role="validator"\} 1$/m)
    assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8')
    await m.text()
    assert.equal(reads, 2)
  })

  test('two nodes\' registries are separate, and the global registry is untouched', async () => {
    const a = new NodeMetrics(() => gauges({ queued: 1 }))
    const b = new NodeMetrics(() => gauges({ queued: 2 }))
    assert.notEqual(a.registry, b.registry)
    const batch = ops(3)
    a.submitted(batch.map(o => ({ status: 'queued', hash: o.hash })), batch.map(o => toHex(o.hash)), 1000)
    for (const o of batch) a.delivered(toHex(o.hash), { status: 'applied' }, 1250)
    const [ta, tb] = [await a.text(), await b.text()]
    assert.equal(sample(ta, 'bftnode_ops_submitted_total'), 3)
    assert.equal(sample(tb, 'bftnode_ops_submitted_total'), 0)
    assert.equal(sample(ta, 'bftnode_submit_to_delivered_seconds_count'), 3)
    assert.equal(sample(tb, 'bftnode_submit_to_delivered_seconds_count'), 0)
    assert.equal(sample(ta, 'bftnode_queued_ops'), 1)
    assert.equal(sample(tb, 'bftnode_queued_ops'), 2)
    assert.doesNotMatch(await globalRegistry.metrics(), /bftnode_|nodejs_eventloop_lag_seconds/)
  })

  test('submissions, deliveries and rejections are counted, with latency for ops submitted here only', async () => {
    const m = new NodeMetrics(() => gauges())
    const [x, y, z] = ops(3)
    m.submitted([
      { status: 'queued', hash: x!.hash },
      { status: 'rejected', code: 'unfunded', reason: '' },
      { status: 'rejected', code: 'unfunded', reason: '' },
      { status: 'rejected', code: 'bad-signature', reason: '' },
      { status: 'queued', hash: y!.hash }
    ], [toHex(x!.hash), undefined, undefined, undefined, toHex(y!.hash)], 10_000)
    // a resubmission of a queued op does not restart its clock
    m.submitted([{ status: 'queued', hash: x!.hash }], [toHex(x!.hash)], 10_500)
    m.delivered(toHex(x!.hash), { status: 'applied' }, 10_300)
    m.delivered(toHex(y!.hash), { status: 'rejected', reason: 'insufficient-funds', detail: '' }, 12_000)
    m.delivered(toHex(z!.hash), { status: 'applied' }, 12_000) // submitted elsewhere
    m.dropped()
    const text = await m.text()
    assert.equal(sample(text, 'bftnode_ops_submitted_total'), 2)
    assert.equal(sample(text, 'bftnode_ops_delivered_total'), 3)
    assert.equal(sample(text, 'bftnode_ops_rejected_total{stage="submit",reason="unfunded"}'), 2)
    assert.equal(sample(text, 'bftnode_ops_rejected_total{stage="submit",reason="bad-signature"}'), 1)
    assert.equal(sample(text, 'bftnode_ops_rejected_total{stage="delivery",reason="insufficient-funds"}'), 1)
    assert.equal(sample(text, 'bftnode_ops_rejected_total{stage="dropped",reason="equivocation"}'), 1)
    assert.equal(sample(text, 'bftnode_submit_to_delivered_seconds_count'), 2)
    assert.equal(sample(text, 'bftnode_submit_to_delivered_seconds_sum'), 2.3)
    assert.equal(sample(text, 'bftnode_submit_to_delivered_seconds_bucket{le="0.5"}'), 1)
    assert.equal(sample(text, 'bftnode_submit_to_delivered_seconds_bucket{le="2.5"}'), 2)
  })

  test('a batch is proposed once however many validators it goes to, and its certificate ends its clock', async () => {
    const m = new NodeMetrics(() => gauges())
    const batch = ops(5)
    const propose = encodeMessage({ type: 'propose', ops: batch.map(o => o.bytes) })
    for (let v = 0; v < 3; v++) m.send('propose', propose, 1000)
    // a resend is encoded anew: the same batch, not a new proposal
    m.send('propose', encodeMessage({ type: 'propose', ops: batch.map(o => o.bytes) }), 1400)
    const votes = [{ voter: new Uint8Array(32), sig: new Uint8Array(64) }]
    m.publish('certified', encodeMessage({ type: 'certified', ops: batch.map(o => o.bytes), votes }), 1600)
    // a single validator votes for its own batch: its certificate is all anyone sees of it
    const alone = ops(2, 6)
    m.publish('certified', encodeMessage({ type: 'certified', ops: alone.map(o => o.bytes), votes }), 2000)
    const text = await m.text()
    assert.equal(sample(text, 'bftnode_batches_proposed_total'), 2)
    assert.equal(sample(text, 'bftnode_ops_proposed_total'), 7)
    assert.equal(sample(text, 'bftnode_batches_certified_total'), 2)
    assert.equal(sample(text, 'bftnode_ops_certified_total'), 7)
    assert.equal(sample(text, 'bftnode_certificate_seconds_count'), 1)
    assert.equal(sample(text, 'bftnode_certificate_seconds_sum'), 0.6)
    assert.equal(sample(text, 'bftnode_batch_ops_sum'), 7)
    assert.equal(sample(text, 'bftnode_batch_ops_bucket{le="2"}'), 1)
    assert.equal(sample(text, 'bftnode_batch_ops_bucket{le="5"}'), 2)
    assert.equal(sample(text, 'bftnode_messages_sent_total{kind="propose"}'), 4)
    assert.equal(sample(text, 'bftnode_messages_sent_total{kind="certified"}'), 2)
  })

  test('a batch is read from its CBOR headers as decoding would read it, whatever its size', () => {
    const all = ops(1024)
    const votes = [{ voter: new Uint8Array(32), sig: new Uint8Array(64) }]
    for (const n of [1, 23, 24, 255, 256, 1024]) {
      for (const bytes of [encodeMessage({ type: 'propose', ops: all.slice(0, n).map(o => o.bytes) }), encodeMessage({ type: 'certified', ops: all.slice(0, n).map(o => o.bytes), votes })]) {
        const m = decodeMessage(bytes) as { ops: readonly Uint8Array[] }
        const first = m.ops[0]!
        assert.deepEqual(peekBatch(bytes), { ops: m.ops.length, key: toHex(first.subarray(first.length - 32)) }, `${n} ops`)
      }
    }
    assert.equal(peekBatch(encodeMessage({ type: 'vote', digest: new Uint8Array(32), voter: new Uint8Array(32), sig: new Uint8Array(64) })), undefined)
    assert.equal(peekBatch(encodeMessage({ type: 'frontier', entries: [], complete: true, checkpoint: 3 })), undefined)
    assert.equal(peekBatch(encodeMessage({ type: 'propose', ops: all.slice(0, 3).map(o => o.bytes) }).subarray(0, 20)), undefined)
    assert.equal(peekBatch(new Uint8Array(0)), undefined)
  })

  test('a vote is timed from the proposal that caused it; rejected messages are counted', async () => {
    const m = new NodeMetrics(() => gauges())
    const vote = encodeMessage({ type: 'vote', digest: new Uint8Array(32), voter: new Uint8Array(32), sig: new Uint8Array(64) })
    const actions: Action[] = [{ type: 'persist', record: { kind: 'bindings', ops: [] } }, { type: 'send', to: 'aa', bytes: vote, kind: 'vote' }]
    m.received(false, actions, 5000)
    m.send('vote', vote, 5004)
    m.received(true, [], 6000)
    const text = await m.text()
    assert.equal(sample(text, 'bftnode_vote_seconds_count'), 1)
    assert.equal(sample(text, 'bftnode_vote_seconds_sum'), 0.004)
    assert.equal(sample(text, 'bftnode_messages_rejected_total'), 1)
  })

  test('the label-free histogram writes what prom-client\'s Histogram writes for the same observations', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const bounds = [0.1, 0.5, 1, 5]
    const plain = new PlainHistogram('h_seconds', 'a histogram', bounds, ours)
    const reference = new Histogram({ name: 'h_seconds', help: 'a histogram', buckets: bounds, registers: [theirs] })
    for (const v of [0, 0.1, 0.10001, 0.7, 1, 4.9, 5, 6, 1e9]) { plain.observe(v); reference.observe(v) }
    assert.equal(await ours.metrics(), await theirs.metrics())
    assert.equal(plain.observations, 9)
  })

  test('docs/metrics.md lists every bftnode metric, and the dashboard asks only for metrics a node has', async () => {
    const text = await new NodeMetrics(() => gauges()).text()
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map(m => m[1]!))
    const doc = await readFile(new URL('../../../docs/metrics.md', import.meta.url), 'utf8')
    for (const name of exposed) if (name.startsWith('bftnode_')) assert.ok(doc.includes(`\`${name}`), `docs/metrics.md lists ${name}`)
    const dashboard = JSON.parse(await readFile(new URL('../../../ops/grafana/bftnode.json', import.meta.url), 'utf8')) as { panels: Array<{ type: string, targets?: Array<{ expr: string }> }> }
    const exprs = dashboard.panels.flatMap(p => (p.targets ?? []).map(t => t.expr))
    assert.ok(exprs.length > 20, `${exprs.length} queries`)
    // libp2p's are checked against a real node in test/integration/metrics.test.ts
    const used = new Set(exprs.flatMap(e => [...e.matchAll(/\b((?:bftnode|nodejs|process)_[a-z0-9_]+)/g)].map(m => m[1]!.replace(/_(bucket|sum|count)$/, ''))))
    for (const name of used) assert.ok(exposed.has(name), `the dashboard's ${name} is exposed`)
    for (const name of ['bftnode_ops_delivered_total', 'bftnode_submit_to_delivered_seconds', 'bftnode_queued_ops', 'bftnode_validators_connected', 'bftnode_checkpoint_age_seconds', 'process_resident_memory_bytes']) {
      assert.ok(used.has(name), `the dashboard shows ${name}`)
    }
  })
})
