// `bftnode bench transfer`'s pure parts: the command line it accepts (and the clear errors for
// what it does not), and the figures it prints (nearest-rank percentiles, throughput, the report).

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { benchPlan, citations, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MAX_COUNT } from '../../src/cli/cmds/bench.js'
import { InsufficientFundsError } from '../../src/client/errors.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { formatReport, percentile, summarise, throughput } from '../../src/cli/bench-stats.js'
import type { BenchReport } from '../../src/cli/bench-stats.js'
import { UsageError } from '../../src/cli/context.js'
import { MESSAGE_LIMITS } from '../../src/core/broadcast/messages.js'

const plan = (over: Partial<Parameters<typeof benchPlan>[0]> = {}): ReturnType<typeof benchPlan> =>
  benchPlan({ count: 50, oneByOne: false, amount: '1', ...over })

describe('bench transfer: the command line', () => {
  test('a batch goes one request at a time with as many ops as a request may hold', () => {
    const p = plan({ count: 5000, amount: '7' })
    assert.deepEqual(p, { count: 5000, amount: 7n, oneByOne: false, concurrency: 1, opsPerRequest: MESSAGE_LIMITS.maxBatchOps })
  })

  test('one by one sends single-op requests, --concurrency of them in flight (32 unless told)', () => {
    assert.deepEqual(plan({ oneByOne: true }), { count: 50, amount: 1n, oneByOne: true, concurrency: DEFAULT_CONCURRENCY, opsPerRequest: 1 })
    assert.equal(plan({ oneByOne: true, concurrency: 5 }).concurrency, 5)
    assert.equal(plan({ oneByOne: true, concurrency: MAX_CONCURRENCY }).concurrency, MAX_CONCURRENCY)
  })

  test('--count is a whole number from 1 to 100,000', () => {
    assert.equal(plan({ count: 1 }).count, 1)
    assert.equal(plan({ count: MAX_COUNT }).count, 100_000)
    for (const count of [0, -3, 1.5, NaN, MAX_COUNT + 1, Infinity]) {
      assert.throws(() => plan({ count }), (err: unknown) => err instanceof UsageError && /--count must be a whole number from 1 to 100000/.test(err.message), String(count))
    }
  })

  test('--concurrency is refused without --one-by-one, and outside 1 to 256', () => {
    assert.throws(() => plan({ concurrency: 4 }), /--concurrency is for --one-by-one/)
    for (const concurrency of [0, 257, 2.5, NaN]) {
      assert.throws(() => plan({ oneByOne: true, concurrency }), /--concurrency must be a whole number from 1 to 256/, String(concurrency))
    }
  })

  test('--amount is a positive whole number within the ledger\'s range', () => {
    for (const amount of ['0', '-1', '1.5', 'ten', '', '99999999999999999999999']) {
      assert.throws(() => plan({ amount }), UsageError, amount)
    }
    assert.equal(plan({ amount: '18446744073709551615' }).amount, 18446744073709551615n)
  })
})

describe('bench transfer: the sender\'s money', () => {
  const credits = (n: number, amount: number): Array<{ account: string, seq: number, amount: string }> =>
    Array.from({ length: n }, (_, i) => ({ account: toHex(new Uint8Array(32).fill(1 + (i % 7))), seq: i + 1, amount: String(amount) }))

  test('a funded sender cites nothing', () => {
    assert.deepEqual(citations({ balance: '1000', credits: [] }, { count: 1000, amount: 1n }, 'treasury'), [])
  })

  test('uncited credits are claimed 64 an op by the first ops, each once, in order', () => {
    const view = { balance: '0', credits: credits(100, 2) }
    const deps = citations(view, { count: 3, amount: 60n }, 'bob')
    assert.deepEqual(deps.map(d => d.length), [64, 36])
    assert.deepEqual(deps.flat().map(d => d.seq), view.credits.map(c => c.seq))
  })

  test('more than the account can spend is refused, naming both sums', () => {
    assert.throws(() => citations({ balance: '50', credits: credits(100, 2) }, { count: 10, amount: 30n }, 'bob'),
      (err: unknown) => err instanceof InsufficientFundsError && /^bob can spend 250; 10 transfers of 30 need 300; nothing was signed$/.test(err.message))
  })

  test('a transfer due before the credits that pay for it are claimed is refused too', () => {
    // 100 credits of 1 cover 80, but the one op claims only 64 of them
    assert.throws(() => citations({ balance: '0', credits: credits(100, 1) }, { count: 1, amount: 80n }, 'bob'), /transfer 1 of 80 would find too little claimed yet/)
    assert.equal(citations({ balance: '16', credits: credits(100, 1) }, { count: 1, amount: 80n }, 'bob').length, 1)
  })
})

describe('bench transfer: the figures', () => {
  test('percentiles are nearest-rank: always a sample, never below a lower one', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
    assert.equal(percentile(sorted, 50), 50)
    assert.equal(percentile(sorted, 90), 90)
    assert.equal(percentile(sorted, 99), 99)
    assert.equal(percentile(sorted, 100), 100)
    assert.equal(percentile([7], 50), 7)
    assert.equal(percentile([1, 2], 50), 1)
    assert.equal(percentile([1, 2], 99), 2)
    assert.ok(Number.isNaN(percentile([], 50)))
  })

  test('a summary sorts what it is given and is ordered p50 <= p90 <= p99 <= max', () => {
    const ms = [120, 5, 33, 900, 47, 61, 2, 18, 250, 75, 9]
    const s = summarise(ms)!
    assert.equal(s.samples, 11)
    assert.equal(s.max, 900)
    assert.equal(s.p50, 47)
    assert.equal(s.p90, 250)
    assert.equal(s.p99, 900)
    assert.ok(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max)
    assert.deepEqual(ms, [120, 5, 33, 900, 47, 61, 2, 18, 250, 75, 9], 'the caller\'s samples are left as they were')
  })

  test('no sample is no latency, not a latency of 0; NaN samples are left out', () => {
    assert.equal(summarise([]), undefined)
    assert.equal(summarise([NaN]), undefined)
    assert.equal(summarise([NaN, 4])!.samples, 1)
  })

  test('throughput is delivered per second, 0 when nothing was delivered or no time passed', () => {
    assert.equal(throughput(500, 2), 250)
    assert.equal(throughput(0, 2), 0)
    assert.equal(throughput(10, 0), 0)
  })

  const report: BenchReport = {
    mode: 'batch', count: 1000, amount: '1', from: 'treasury', to: 'alice', api: 'http://127.0.0.1:7200',
    requests: 1, opsPerRequest: 1000, resent: 0, signSeconds: 1.234, delivered: 1000, applied: 998, rejected: 2,
    seconds: 2.5, throughput: 400, latencyMs: { samples: 1000, p50: 1200.4, p90: 2000, p99: 2400, max: 2450.6 }, complete: true
  }

  test('the report says how it was sent, what was delivered, wall time, throughput and latency', () => {
    const text = formatReport(report).join('\n')
    assert.match(text, /^1000 transfers of 1 from treasury to alice, as one batch in 1 request\(s\) of up to 1000 ops$/m)
    assert.match(text, /^signed in +1\.23 s beforehand \(not counted below\)$/m)
    assert.match(text, /^delivered +1000 of 1000: 998 applied, 2 rejected$/m)
    assert.match(text, /^wall time +2\.50 s, first submission to last delivery at http:\/\/127\.0\.0\.1:7200$/m)
    assert.match(text, /^throughput +400 transfers\/s$/m)
    assert.match(text, /^latency +p50 1200 ms, p90 2000 ms, p99 2400 ms, max 2451 ms \(submission to delivery, 1000 transfers\)$/m)
  })

  test('a partial run says so and why; one by one names its requests and concurrency; nothing delivered has no latency', () => {
    const text = formatReport({ ...report, mode: 'one-by-one', requests: 1040, opsPerRequest: 1, concurrency: 32, resent: 40, delivered: 0, applied: 0, rejected: 0, throughput: 0, latencyMs: undefined, complete: false, stopReason: 'no transfer was delivered for 30 s (--timeout)' }).join('\n')
    assert.match(text, /one by one: 1040 single-op requests, up to 32 in flight \(40 sent again: refused for now, or taken and not delivered for a while\)/)
    assert.match(text, /delivered +0 of 1000: 0 applied, 0 rejected {2}PARTIAL: no transfer was delivered for 30 s \(--timeout\)$/m)
    assert.match(text, /^wall time +2\.50 s, first submission to the stop at /m)
    assert.match(text, /^latency +none measured \(nothing delivered\)$/m)
  })
})
