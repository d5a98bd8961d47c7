// What a `bftnode bench transfer` run that stops early leaves in the wallet, against a stand-in
// node whose validators are down (it takes ops and delivers none) and that can refuse requests:
// the account's pending record names the highest transfer some node may hold, never one that only
// ever met refusals (no node holds those, so their slots are free again), so the next command can
// settle it, and no slot ever gets two ops a validator could bind.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchTransferCommand } from '../../src/cli/cmds/bench.js'
import type { BenchTransferArgs } from '../../src/cli/cmds/bench.js'
import type { GlobalArgs } from '../../src/cli/context.js'
import { walletClient } from '../../src/cli/ops.js'
import { ApiClient } from '../../src/client/api-client.js'
import { Wallet } from '../../src/cli/wallet.js'
import { FakeApi } from '../support/fake-api.js'
import { freePort } from '../support/ports.js'

const TO = 'ab'.repeat(32)

describe('bench transfer: a run that stops early leaves the wallet able to go on', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'bftnode-bench-wallet-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  /** Runs the command in this process; returns its JSON report, and leaves process.exitCode as it was. */
  const bench = async (fake: FakeApi, walletDir: string, over: Partial<BenchTransferArgs & GlobalArgs>): Promise<Record<string, unknown>> => {
    const args: BenchTransferArgs & GlobalArgs = { api: fake.url, walletDir, timeout: 1000, verbose: false, count: 10, oneByOne: true, concurrency: 1, from: 'payer', to: TO, amount: '1', json: true, ...over }
    let out = ''
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true }) as typeof process.stdout.write
    try {
      await benchTransferCommand.handler!(args)
    } finally {
      process.stdout.write = write
      process.exitCode = undefined
    }
    return JSON.parse(out) as Record<string, unknown>
  }

  const setUp = async (name: string): Promise<{ fake: FakeApi, w: Wallet, walletDir: string, account: string }> => {
    const walletDir = join(dir, name)
    const w = new Wallet(walletDir)
    const file = await w.create('payer', undefined)
    const fake = await new FakeApi(await freePort()).start()
    fake.live = false
    return { fake, w, walletDir, account: file.publicKey }
  }

  const settleAfterRelease = async (fake: FakeApi, w: Wallet): Promise<void> => {
    fake.release()
    const signer = await w.unlock('payer', undefined)
    const settled = await walletClient({ api: new ApiClient(fake.url), wallet: w, name: 'payer', signer, timeoutMs: 5000, say: () => {} }).settle()
    assert.equal(settled?.status.status, 'delivered')
    assert.equal(await w.pending('payer'), undefined)
  }

  test('every op taken, none delivered: the record is the run\'s highest op, and settles once validators are back', async () => {
    const { fake, w, walletDir, account } = await setUp('all-taken')
    try {
      const r = await bench(fake, walletDir, { concurrency: 4 })
      assert.equal(r.complete, false)
      assert.match(String(r.stopReason), /no transfer was delivered for 1 s/)
      assert.equal((await w.pending('payer'))?.seq, 10)
      await settleAfterRelease(fake, w)
      assert.equal(fake.nextSeq(account), 11)
      assert.deepEqual(fake.equivocations(), [])
    } finally { await fake.close() }
  })

  test('ops the node only ever refused give their slots back: the record moves down to the highest op it took', async () => {
    const { fake, w, walletDir, account } = await setUp('some-refused')
    let posts = 0
    // the first 4 single-op requests are taken (seq 1-4); every later one is refused as busy
    fake.fault = req => req.method === 'POST' && ++posts > 4 ? 'busy' : undefined
    try {
      const r = await bench(fake, walletDir, {})
      assert.equal(r.complete, false)
      assert.ok(Number(r.resent) > 0)
      assert.equal((await w.pending('payer'))?.seq, 4, 'not seq 10, which no node holds: it would never be delivered')
      fake.fault = () => undefined
      await settleAfterRelease(fake, w)
      assert.equal(fake.nextSeq(account), 5)
      // the next op signs at seq 5, which the refused transfer of the run never took
      const signer = await w.unlock('payer', undefined)
      const sent = await walletClient({ api: new ApiClient(fake.url), wallet: w, name: 'payer', signer, timeoutMs: 5000, say: () => {} }).send({ kind: 'transfer', to: new Uint8Array(32).fill(0xab), amount: 3n })
      assert.equal(sent.slot.seq, 5)
      assert.equal(sent.status.outcome?.status, 'applied')
      // the run's transfer at seq 5 reached the node only to be refused, so nothing could bind it:
      // the only slot with two signed ops on the wire is that one, and it holds the new op
      assert.deepEqual(fake.equivocations(), [`${account}:5`])
      assert.equal(fake.deliveredOp(account, 5), fake.received.at(-1)!.op)
    } finally { await fake.close() }
  })

  test('an op answered with a 500 may be held (the node queues before it fails): the record stays on it', async () => {
    const { fake, w, walletDir, account } = await setUp('answer-500')
    let posts = 0
    // seq 1-4 taken; the node takes seq 5 and then answers 500, as its API does when something
    // fails after the replica queued the op (and perhaps proposed it)
    fake.fault = req => req.method === 'POST' && ++posts === 5 ? '500-after' : undefined
    try {
      const r = await bench(fake, walletDir, {})
      assert.equal(r.complete, false)
      assert.equal(new Set(fake.received.map(o => o.seq)).size, 5)
      assert.equal((await w.pending('payer'))?.seq, 5, 'seq 5 is bound at the node: a record on seq 4 would let the next command sign another op for it')
      fake.fault = () => undefined
      await settleAfterRelease(fake, w)
      assert.equal(fake.nextSeq(account), 6)
      assert.deepEqual(fake.equivocations(), [])
    } finally { await fake.close() }
  })

  test('a node that restarts loses the ops it took: the run sends them again and finishes', async () => {
    const { fake, w, walletDir, account } = await setUp('node-restart')
    try {
      const running = bench(fake, walletDir, { count: 5, timeout: 6000 })
      while (fake.received.length < 5) await new Promise(resolve => setTimeout(resolve, 20))
      // taken, queued in the node's memory only, then gone with a restart; validators are back
      fake.forgetUndelivered()
      fake.live = true
      const r = await running
      assert.equal(r.complete, true, `the run stalled: ${String(r.stopReason)}`)
      assert.equal(fake.nextSeq(account), 6)
      assert.equal(await w.pending('payer'), undefined)
      assert.deepEqual(fake.equivocations(), [])
    } finally { await fake.close() }
  })

  test('an op the node took stays held when a copy sent again is refused', async () => {
    const { fake, w, walletDir, account } = await setUp('taken-then-refused')
    try {
      const running = bench(fake, walletDir, { count: 5, concurrency: 5, timeout: 3000 })
      while (fake.received.length < 5) await new Promise(resolve => setTimeout(resolve, 20))
      // the copies the stalled run sends again meet a busy node; the originals stay bound
      fake.fault = req => req.method === 'POST' ? 'busy' : undefined
      const r = await running
      assert.equal(r.complete, false)
      assert.ok(Number(r.resent) > 0)
      assert.equal((await w.pending('payer'))?.seq, 5, 'seq 1-5 are bound: their slots are not free')
      fake.fault = () => undefined
      await settleAfterRelease(fake, w)
      assert.equal(fake.nextSeq(account), 6)
      assert.deepEqual(fake.equivocations(), [])
    } finally { await fake.close() }
  })

  test('a run the node refused entirely leaves no record at all', async () => {
    const { fake, w, walletDir } = await setUp('all-refused')
    fake.fault = req => req.method === 'POST' ? 'busy' : undefined
    try {
      const r = await bench(fake, walletDir, { oneByOne: false, concurrency: undefined, count: 1 })
      assert.equal(r.complete, false)
      assert.equal(r.delivered, 0)
      assert.equal(await w.pending('payer'), undefined)
    } finally { await fake.close() }
  })
})
