// End to end, with four validator processes on 127.0.0.1: `bftnode bench transfer` in both of its
// modes (one batch, one by one) prints sane figures and moves exactly count x amount; bad command
// lines and an unfunded sender are refused before anything is signed; and a run that times out
// (two validators down: no quorum) leaves the wallet so that the next command settles the run and
// goes on, once the network is back.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/api-client.js'
import { freeRun, waitFor } from '../support/ports.js'
import { BIN, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

describe('bftnode bench transfer with four validator processes', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let base: number
  let bob: string
  const procs: Array<ChildProcess | undefined> = []
  const apis: ApiClient[] = []
  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)

  const startNode = (i: number): void => {
    const p = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', `node${i + 1}`, 'config.json'), '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
    procs[i] = p
  }
  const stopNode = async (i: number): Promise<void> => {
    const p = procs[i]!
    const gone = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGKILL')
    await gone
    procs[i] = undefined
  }
  const connected = async (need: number): Promise<void> => {
    await waitFor(`node1 to see ${need} other validators`, 60_000, async () =>
      Number((await apis[0]!.status().catch(() => ({ validatorsConnected: 0 }))).validatorsConnected) >= need)
  }
  const spendable = async (account: string): Promise<bigint> => BigInt((await apis[0]!.account(account)).spendable)
  const nextSeq = async (name: string): Promise<number> => Number(/next seq\s+(\d+)/.exec((await cli('balance', name)).out)![1])

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-bench-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    base = await freeRun(8)
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(base), '--api-port', String(base + 4))
    assert.equal(init.code, 0, init.err)
    for (let i = 0; i < 4; i++) {
      apis.push(new ApiClient(`http://127.0.0.1:${base + 4 + i}`))
      startNode(i)
    }
    env.BFTNODE_API = `http://127.0.0.1:${base + 4}`
    await waitFor('every validator to see the others', 60_000, async () =>
      (await Promise.all(apis.map(async a => Number((await a.status().catch(() => ({ validatorsConnected: 0 }))).validatorsConnected)))).every(n => n >= 2))
    assert.equal((await cli('account', 'new', '--name', 'bob', '--insecure')).code, 0)
    bob = /account\s+([0-9a-f]{64})/.exec((await cli('balance', 'bob')).out)![1]!
  })

  after(async () => {
    for (const p of procs) p?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('one batch of 50: every transfer applied, bob gets 50 x amount, the figures are sane', async () => {
    const before = await spendable(bob)
    const seq = await nextSeq('treasury')
    const r = await cli('bench', 'transfer', '--count', '50', '--to', 'bob', '--amount', '3', '--json')
    assert.equal(r.code, 0, r.out + r.err)
    const j = JSON.parse(r.out) as Record<string, unknown> & { latencyMs: Record<string, number> }
    assert.equal(j.mode, 'batch')
    assert.equal(j.count, 50)
    assert.equal(j.delivered, 50)
    assert.equal(j.applied, 50)
    assert.equal(j.rejected, 0)
    assert.equal(j.complete, true)
    // 50 ops fit in one request
    assert.equal(j.requests, 1)
    assert.ok(Number(j.seconds) > 0 && Number(j.throughput) > 0, r.out)
    assert.ok(Math.abs(Number(j.throughput) - 50 / Number(j.seconds)) < 1e-6, 'throughput is delivered per second of wall time')
    assert.ok(Number(j.signSeconds) > 0)
    const l = j.latencyMs
    assert.equal(l.samples, 50)
    assert.ok(l.p50! > 0 && l.p50! <= l.p90! && l.p90! <= l.p99! && l.p99! <= l.max!, JSON.stringify(l))
    // no op of a transfer is counted before it left: latency is within the wall time
    assert.ok(l.max! <= Number(j.seconds) * 1000 + 1, JSON.stringify(j))
    assert.equal(await spendable(bob) - before, 150n)
    assert.equal(await nextSeq('treasury'), seq + 50)
    // nothing is left pending: the next command signs at once
    await assert.rejects(readFile(join(dir, 'home', 'wallet', 'treasury.pending.json')), { code: 'ENOENT' })
  })

  test('one by one: 50 single-op requests, 8 in flight; the text report; bob gets 50 x amount', async () => {
    const before = await spendable(bob)
    const r = await cli('bench', 'transfer', '--count', '50', '--to', bob, '--amount', '2', '--one-by-one', '--concurrency', '8')
    assert.equal(r.code, 0, r.out + r.err)
    const requests = Number(/one by one: (\d+) single-op requests, up to 8 in flight/.exec(r.out)?.[1])
    assert.ok(requests >= 50, r.out)
    assert.match(r.out, /^delivered +50 of 50: 50 applied, 0 rejected$/m)
    const tput = Number(/^throughput +(\d+) transfers\/s$/m.exec(r.out)?.[1])
    assert.ok(tput > 0, r.out)
    const m = /^latency +p50 ([\d.]+) ms, p90 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms \(submission to delivery, 50 transfers\)$/m.exec(r.out)
    assert.ok(m !== null, r.out)
    const [p50, p90, p99, max] = m.slice(1).map(Number) as [number, number, number, number]
    assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max, r.out)
    assert.equal(await spendable(bob) - before, 100n)
  })

  test('refused before anything is signed: a bad count, a stray --concurrency, a sender short of money', async () => {
    const seq = await nextSeq('treasury')
    const big = await cli('bench', 'transfer', '--count', '100001', '--to', 'bob')
    assert.equal(big.code, 1)
    assert.match(big.err, /--count must be a whole number from 1 to 100000/)
    const stray = await cli('bench', 'transfer', '--count', '5', '--to', 'bob', '--concurrency', '4')
    assert.equal(stray.code, 1)
    assert.match(stray.err, /--concurrency is for --one-by-one/)
    const noTo = await cli('bench', 'transfer', '--count', '5')
    assert.equal(noTo.code, 2)
    // bob holds 250; 10 x 100 is more
    const poor = await cli('bench', 'transfer', '--count', '10', '--from', 'bob', '--to', 'treasury', '--amount', '100')
    assert.equal(poor.code, 1)
    assert.match(poor.err, /bob can spend 250; 10 transfers of 100 need 1000; nothing was signed/)
    await assert.rejects(readFile(join(dir, 'home', 'wallet', 'bob.pending.json')), { code: 'ENOENT' })
    assert.equal(await nextSeq('treasury'), seq)
  })

  test('a run that times out (no quorum) prints partial figures; the next command settles it once the network is back', async () => {
    const before = await spendable(bob)
    const seq = await nextSeq('treasury')
    await stopNode(3)
    await stopNode(2)
    const r = await cli('bench', 'transfer', '--count', '20', '--to', 'bob', '--amount', '5', '--timeout', '3000', '--json')
    assert.equal(r.code, 1, r.out + r.err)
    const j = JSON.parse(r.out) as Record<string, unknown>
    assert.equal(j.complete, false)
    assert.match(String(j.stopReason), /no transfer was delivered for 3 s/)
    assert.equal(j.delivered, 0)
    assert.equal(j.throughput, 0)
    assert.equal(j.latencyMs, undefined)
    assert.match(r.err, new RegExp(`the wallet keeps transfer #${seq + 19} of treasury pending`))
    // the run's last op, which the node holds with the 19 before it
    const held = JSON.parse(await readFile(join(dir, 'home', 'wallet', 'treasury.pending.json'), 'utf8')) as { seq: number }
    assert.equal(held.seq, seq + 19)

    startNode(2)
    startNode(3)
    await connected(3)
    const t = await cli('transfer', '--from', 'treasury', '--to', 'bob', '--amount', '1', '--timeout', '60000')
    assert.equal(t.code, 0, t.out + t.err)
    assert.match(t.out, new RegExp(`\\(seq ${seq + 19}\\) that an earlier command left pending was delivered: applied`))
    assert.match(t.out, new RegExp(`\\(treasury #${seq + 20}\\) delivered: applied`))
    assert.equal(await spendable(bob) - before, 20n * 5n + 1n)
  })
})
