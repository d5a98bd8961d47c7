// Queries, simulations and contract listings against a real node's API: a token deployed, read
// for free (no seq used), a write dry-run, an op simulated with its gas estimate; malformed and
// oversized bodies answered 4xx with codes; and the time budget that turns a flood of queries
// away with 503 rather than let it take the node's event loop.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { toHex } from '../../src/core/crypto/hash.js'
import { signOp } from '../../src/core/ledger/op.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import { ApiClient, ApiRequestError } from '../../src/client/api-client.js'
import type { ContractView, RunView } from '../../src/client/api-client.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'
import { waitFor } from '../support/ports.js'

const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))
const BOB = 'b0'.repeat(32)

describe('API: queries, simulations, contract lists', () => {
  let n: ApiNode
  let client: ApiClient
  let token: string
  let alice: string
  const url = (path: string): string => `http://127.0.0.1:${n.port}/v1${path}`
  const post = async (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number, body: { error?: { code: string, message: string } } & Record<string, unknown> }> => {
    const res = await fetch(url(path), { method: 'POST', headers, body })
    return { status: res.status, body: await res.json() as { error?: { code: string, message: string } } }
  }

  before(async () => {
    n = await startApiNode('api-query')
    client = new ApiClient(`http://127.0.0.1:${n.port}`)
    alice = toHex(n.alice.publicKey)
    const code = await readFile(TOKEN, 'utf8')
    const sim = await client.simulate(alice, { kind: 'deploy', code, args: [{ key: alice }, 1_000_000] })
    assert.deepEqual(sim.outcome, { status: 'applied' })
    assert.ok(sim.gasEstimate !== undefined && sim.run?.status === 'ok' && sim.gasEstimate >= sim.run.gasUsed)
    const op = signOp(n.alice, n.node.replica.networkId, { account: n.alice.publicKey, seq: 1, deps: [], body: { kind: 'deploy', code, args: [n.alice.publicKey, 1_000_000n], sequencer: null, gasLimit: sim.gasEstimate } })
    n.node.submit([op.bytes])
    await waitFor('the deploy to be delivered', 10_000, () => n.node.opStatus(toHex(op.hash))?.status === 'delivered')
    token = toHex(contractAddress(n.alice.publicKey, 1))
    assert.equal(sim.address, token)
  })

  after(async () => { await n.stop() })

  test('a read costs no seq and answers in JSON forms', async () => {
    const before = (await client.account(alice)).nextSeq
    const r = await client.query(token, { fn: 'balance-of', args: [{ key: alice }] })
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      await client.query(token, { fn: 'balance-of', args: [{ key: alice }] })
      times.push(performance.now() - started)
    }
    const ms = times.sort((a, b) => a - b)[10]!
    const gets: number[] = []
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      await client.account(alice)
      gets.push(performance.now() - started)
    }
    assert.equal(r.status, 'ok')
    assert.deepEqual(r.status === 'ok' && r.result, { int: '1000000' })
    assert.equal((await client.account(alice)).nextSeq, before)
    process.stdout.write(`# query latency over HTTP (median of 20): ${ms.toFixed(1)} ms; GET /v1/accounts: ${gets.sort((a, b) => a - b)[10]!.toFixed(1)} ms\n`)
  })

  test('a write dry-run lists its writes and events, and stores nothing', async () => {
    const root = n.node.stateRoot().root
    const r = await client.query(token, { fn: 'transfer', args: [{ key: BOB }, 10], caller: alice }) as Extract<RunView, { status: 'ok' }>
    assert.equal(r.status, 'ok')
    assert.deepEqual(r.writes.map(w => [w.key, w.value]).sort(), [[{ bytes: alice }, { int: '999990' }], [{ bytes: BOB }, { int: '10' }]].sort())
    assert.equal(r.events[0]!.name, 'transfer')
    assert.equal(n.node.stateRoot().root, root)
    const failing = await client.query(token, { fn: 'transfer', args: [{ key: BOB }, 10] })
    assert.equal(failing.status, 'error')
    assert.equal(failing.status === 'error' && failing.errorKind, 'enforce')
    const unknown = await client.query(token, { fn: 'nope' })
    assert.equal(unknown.status === 'error' && unknown.errorKind, 'unknown-function')
  })

  test('contracts are listed by address with their functions; one contract shows its storage in JSON forms', async () => {
    const page = await client.contracts()
    assert.deepEqual(page.items.map(c => c.address), [token])
    assert.equal(page.next, undefined)
    assert.equal(page.items[0]!.storage, undefined)
    assert.deepEqual(page.items[0]!.functions.map(f => f.name), ['transfer', 'mint', 'balance-of', 'total-supply'])
    assert.deepEqual((await client.contracts({ after: token })).items, [])
    const one: ContractView = await client.contract(token)
    assert.deepEqual(one.storage?.find(e => JSON.stringify(e.key) === JSON.stringify({ str: 'supply' }) || e.key === 'supply')?.value, { int: '1000000' })
    assert.ok(one.storage?.every(e => !JSON.stringify(e.key).includes('s:')))
    for (const bad of ['?limit=0', '?limit=101', '?after=xyz', '?limit=1&limit=2']) {
      const res = await fetch(url(`/contracts${bad}`))
      assert.equal(res.status, 400, bad)
      assert.equal((await res.json() as { error: { code: string } }).error.code, 'ERR_BAD_QUERY')
    }
  })

  test('a simulated call: queued, its run now, the gas estimate; an unfunded account is refused', async () => {
    const sim = await client.simulate(alice, { kind: 'call', contract: token, fn: 'transfer', args: [{ key: BOB }, 5] })
    assert.deepEqual(sim.outcome, { status: 'applied' })
    assert.ok(sim.run?.status === 'ok' && sim.gasEstimate! >= sim.run.gasUsed)
    const broke = await client.simulate(BOB, { kind: 'transfer', to: alice, amount: '1' })
    assert.match(broke.refused!, /holds nothing/)
    assert.equal(broke.outcome.status, 'rejected')
    const lost = await client.simulate(alice, { kind: 'call', contract: BOB, fn: 'x' })
    assert.equal(lost.outcome.status === 'rejected' && lost.outcome.reason, 'unknown-contract')
  })

  test('malformed requests: 4xx with a code', async () => {
    const cases: Array<[string, string, number, string]> = [
      [`/contracts/${token}/query`, '{', 400, 'ERR_BAD_JSON'],
      [`/contracts/${token}/query`, '[]', 400, 'ERR_BAD_REQUEST'],
      [`/contracts/${token}/query`, '{}', 400, 'ERR_BAD_REQUEST'],
      [`/contracts/${token}/query`, '{"fn": "x", "gas": 5}', 400, 'ERR_BAD_REQUEST'],
      [`/contracts/${token}/query`, '{"fn": "balance-of", "args": ["0x12"]}', 400, 'ERR_BAD_ARGUMENT'],
      [`/contracts/${token}/query`, '{"fn": "balance-of", "args": [1.5]}', 400, 'ERR_BAD_ARGUMENT'],
      [`/contracts/${token}/query`, '{"fn": "x", "gasLimit": 5000001}', 400, 'ERR_BAD_REQUEST'],
      [`/contracts/${token}/query`, '{"fn": "x", "value": "-1"}', 400, 'ERR_BAD_REQUEST'],
      [`/contracts/${token}/query`, '{"fn": "x", "caller": "zz"}', 400, 'ERR_BAD_REQUEST'],
      [`/contracts/${BOB}/query`, '{"fn": "x"}', 404, 'ERR_UNKNOWN_CONTRACT'],
      [`/contracts/${token}/other`, '{"fn": "x"}', 404, 'ERR_NOT_FOUND'],
      ['/contracts/xyz/query', '{"fn": "x"}', 400, 'ERR_BAD_REQUEST'],
      ['/simulate', '{"account": "zz", "body": {}}', 400, 'ERR_BAD_REQUEST'],
      ['/simulate', `{"account": "${BOB}", "body": {"kind": "mint", "to": "${BOB}", "amount": "1"}}`, 400, 'ERR_BAD_REQUEST'],
      ['/simulate', `{"account": "${BOB}", "body": {"kind": "transfer", "to": "${BOB}", "amount": "0"}}`, 400, 'ERR_BAD_REQUEST'],
      ['/simulate', `{"account": "${BOB}", "body": {"kind": "call", "contract": "${token}", "fn": "f", "args": [{"key": "bob"}]}}`, 400, 'ERR_BAD_ARGUMENT'],
      // nested 100,000 deep, within the body limit: refused, not a stack overflow answered 500
      [`/contracts/${token}/query`, `{"fn": "x", "args": [{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`, 400, 'ERR_BAD_ARGUMENT']
    ]
    for (const [path, body, status, code] of cases) {
      const r = await post(path, body)
      assert.equal(r.status, status, `${path} ${body.slice(0, 200)}: ${JSON.stringify(r.body)}`)
      assert.equal(r.body.error?.code, code, `${path} ${body.slice(0, 200)}`)
    }
    const text = await post(`/contracts/${token}/query`, '{"fn": "x"}', { 'content-type': 'text/plain' })
    assert.equal(text.body.error?.code, 'ERR_UNSUPPORTED_MEDIA_TYPE')
    const huge = await post(`/contracts/${token}/query`, JSON.stringify({ fn: 'x', args: ['a'.repeat(300 * 1024)] }))
    assert.equal(huge.status, 413)
    assert.equal(huge.body.error?.code, 'ERR_TOO_LARGE')
  })

  test('a query and a simulated call run at the node\'s clock, as the sequencer\'s execute would', async () => {
    // never executed: its last time is 0, but an execute now carries the sequencer's clock
    const code = '(defun after (t) (enforce (>= (now) t) "too early") (now))'
    const op = signOp(n.alice, n.node.replica.networkId, { account: n.alice.publicKey, seq: 2, deps: [], body: { kind: 'deploy', code, args: [], sequencer: null, gasLimit: 1 } })
    n.node.submit([op.bytes])
    await waitFor('the deploy to be delivered', 10_000, () => n.node.opStatus(toHex(op.hash))?.status === 'delivered')
    const clocked = toHex(contractAddress(n.alice.publicKey, 2))
    const since = Date.now() - 60_000
    const q = await client.query(clocked, { fn: 'after', args: [since] })
    assert.equal(q.status, 'ok', JSON.stringify(q))
    const sim = await client.simulate(alice, { kind: 'call', contract: clocked, fn: 'after', args: [since] })
    assert.equal(sim.run?.status, 'ok', JSON.stringify(sim))
  })

  test('a flood of heavy queries is turned away with 503 once they used their share of time', async () => {
    // the slowest thing a query may be: the whole gas cap, spent walking lists
    const code = '(defun spin (n) (fold (fn (a x) (+ a (fold (fn (b y) (+ b y)) 0 (range 0 n)))) 0 (range 0 n)))'
    const op = signOp(n.alice, n.node.replica.networkId, { account: n.alice.publicKey, seq: 3, deps: [], body: { kind: 'deploy', code, args: [], sequencer: null, gasLimit: 1 } })
    n.node.submit([op.bytes])
    await waitFor('the deploy to be delivered', 10_000, () => n.node.opStatus(toHex(op.hash))?.status === 'delivered')
    const spin = toHex(contractAddress(n.alice.publicKey, 3))
    const started = performance.now()
    const answers = await Promise.all(Array.from({ length: 12 }, async () => await post(`/contracts/${spin}/query`, '{"fn": "spin", "args": [10000]}')))
    const took = performance.now() - started
    const ran = answers.filter(a => a.status === 200)
    const busy = answers.filter(a => a.status === 503)
    assert.ok(ran.length >= 1, 'the first runs')
    assert.ok(ran.every(a => a.body.errorKind === 'out-of-gas'))
    assert.ok(busy.length >= 1, `none refused: ${answers.map(a => a.status).join(',')}`)
    assert.ok(busy.every(a => a.body.error?.code === 'ERR_BUSY' && typeof (a.body.error as { retryAfterMs?: number }).retryAfterMs === 'number'))
    process.stdout.write(`# 12 queries of 5M gas at once: ${ran.length} ran, ${busy.length} got 503, in ${took.toFixed(0)} ms (${(took / ran.length).toFixed(0)} ms per run)\n`)
    // the node's own routes still answer meanwhile
    assert.equal((await fetch(url('/status?stateHash=false'))).status, 200)
    await assert.rejects(client.query(spin, { fn: 'spin', args: [10_000] }), (err: unknown) => err instanceof ApiRequestError && err.code === 'ERR_BUSY')
  })
})
