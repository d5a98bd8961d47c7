// History over a real node's API: an account's ops and a contract's events appear once delivered
// and page back newest first; GET /v1/events streams a transfer's delivery and a contract's event
// to ApiClient.subscribe, resumes after Last-Event-ID, needs the token when one is set, refuses
// subscribers past its cap, cuts a reader that takes nothing, outlives the request and keep-alive
// timeouts, and does not hold up the API's close. After a restart the index refills from replay.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../src/core/crypto/hash.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { ApiClient, ApiRequestError } from '../../src/client/api-client.js'
import type { StreamMessage, SubscribeOptions } from '../../src/client/api-client.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'

const TOKEN_CODE = new URL('../../../contracts/token.lisp', import.meta.url)
const SPAM = '(defun spam (s n) (map (fn (i) (emit "big" s)) (range 0 n)) true)'
const API_TOKEN = 'a-long-enough-test-token-0123456789'

/** Signs `body` in `signer`'s stream at its next seq, citing `ordering` and every uncited credit, and waits for delivery. */
async function send (node: BftNode, signer: Signer, body: OpBody, ordering: Slot[] = []): Promise<Slot> {
  const ledger = node.replica.ledger
  const credits = ledger.uncitedCredits(signer.publicKey).map(c => c.source)
  const op = signOp(signer, node.replica.networkId, { account: signer.publicKey, seq: ledger.nextSeq(signer.publicKey), deps: [...ordering, ...credits], body })
  const [r] = node.submit([op.bytes])
  assert.equal(r!.status, 'queued', JSON.stringify(r))
  const st = await node.waitFor(toHex(op.hash), 15_000)
  assert.equal(st?.status, 'delivered')
  return { account: op.account, seq: op.seq }
}

/** Follows a subscription in the background, collecting what it yields. */
function follow (client: ApiClient, opts: Omit<SubscribeOptions, 'signal'> = {}): { got: StreamMessage[], stop: () => void, done: Promise<unknown> } {
  const ac = new AbortController()
  const got: StreamMessage[] = []
  const done = (async () => { for await (const m of client.subscribe({ ...opts, signal: ac.signal })) got.push(m) })().then(() => undefined, (err: unknown) => err)
  return { got, stop: () => ac.abort(), done }
}

/** A raw GET that reads nothing back (a reader that has stopped taking data). */
async function stalledReader (port: number, path: string): Promise<{ closed: Promise<void>, drain: () => void }> {
  // (a paused socket sees the server's close only after reading what came before it)
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>(resolve => socket.once('connect', resolve))
  socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`)
  socket.pause()
  const closed = new Promise<void>(resolve => { socket.once('close', () => resolve()); socket.once('error', () => {}) })
  return { closed, drain: () => { socket.on('data', () => {}); socket.resume() } }
}

describe('history API', () => {
  let net: ApiNode
  let client: ApiClient
  let bob: Signer
  let token: { address: string, deployedAt: Slot }
  before(async () => {
    net = await startApiNode('history-api')
    client = new ApiClient(`http://127.0.0.1:${net.port}`)
    bob = signerFrom(sodiumScheme, seedOf('history-bob', 0))
    // the node sequences the token: it signs the Execute ops that run its calls
    const code = await readFile(TOKEN_CODE, 'utf8')
    const d = await send(net.node, net.alice, { kind: 'deploy', code, args: [net.alice.publicKey, 1_000_000n], sequencer: net.node.signer.publicKey, gasLimit: 1_000_000 })
    token = { address: toHex(contractAddress(d.account, d.seq)), deployedAt: d }
  })
  after(async () => { await net.stop() })

  const tokenTransfer = async (to: Uint8Array, amount: bigint): Promise<Slot> => {
    const call = await send(net.node, net.alice, { kind: 'call', contract: contractAddress(token.deployedAt.account, token.deployedAt.seq), fn: 'transfer', args: [to, amount], value: 0n, gasLimit: 100_000 }, [token.deployedAt])
    // the index is fed by the delivery hook, which may run a moment after the ledger applied the op
    await waitFor('the call\'s event', 15_000, () => net.node.history.contractEvents(token.address, undefined, 1).items[0]?.call.seq === call.seq)
    return call
  }

  test('an account\'s ops appear once delivered, newest first, and page back to the first', async () => {
    for (let i = 1; i <= 5; i++) await send(net.node, net.alice, { kind: 'transfer', to: bob.publicKey, amount: BigInt(i) })
    const alice = toHex(net.alice.publicKey)
    const first = await client.accountOps(alice, { limit: 2 })
    assert.deepEqual(first.items.map(o => [o.kind, o.amount]), [['transfer', '5'], ['transfer', '4']])
    assert.equal(first.items[0]!.to, toHex(bob.publicKey))
    assert.ok(first.items[0]!.index > first.items[1]!.index)
    const seqs: number[] = first.items.map(o => o.seq)
    let next = first.next
    while (next !== undefined) {
      const page = await client.accountOps(alice, { limit: 2, before: next })
      seqs.push(...page.items.map(o => o.seq))
      next = page.next
    }
    assert.deepEqual(seqs, [6, 5, 4, 3, 2, 1])
    const deploy = (await client.accountOps(alice, { before: String(first.items[1]!.index) })).items.at(-1)!
    assert.deepEqual([deploy.kind, deploy.address], ['deploy', token.address])
    // bob has sent nothing: an empty page; the literal segment and the query are checked
    assert.deepEqual(await client.accountOps(toHex(bob.publicKey)), { items: [] })
    for (const [path, status, code] of [
      [`/v1/accounts/${alice}/opz`, 404, 'ERR_NOT_FOUND'],
      [`/v1/accounts/${alice}/ops?limit=0`, 400, 'ERR_BAD_QUERY'],
      [`/v1/accounts/${alice}/ops?limit=201`, 400, 'ERR_BAD_QUERY'],
      [`/v1/accounts/${alice}/ops?before=x`, 400, 'ERR_BAD_QUERY'],
      ['/v1/accounts/ALICE/ops', 400, 'ERR_BAD_REQUEST'],
      [`/v1/contracts/${token.address}/evnts`, 404, 'ERR_NOT_FOUND'],
      [`/v1/contracts/${'ab'.repeat(32)}/events`, 404, 'ERR_UNKNOWN_CONTRACT'],
      ['/v1/events?account=xyz', 400, 'ERR_BAD_QUERY']
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${net.port}${path}`)
      assert.equal(res.status, status, path)
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code, path)
    }
  })

  test('a contract\'s events appear once its call ran, data in JSON forms, filtered by name', async () => {
    const call = await tokenTransfer(bob.publicKey, 250n)
    const page = await client.contractEvents(token.address)
    const ev = page.items[0]!
    assert.equal(ev.name, 'transfer')
    assert.deepEqual(ev.call, { account: toHex(call.account), seq: call.seq })
    assert.equal(ev.executedIn.account, token.address)
    assert.deepEqual(ev.data, { map: { amount: { int: '250' }, from: { bytes: toHex(net.alice.publicKey) }, to: { bytes: toHex(bob.publicKey) } } })
    assert.equal(ev.position, 0)
    assert.equal((await client.contractEvents(token.address, { name: 'mint' })).items.length, 0)
    assert.equal((await client.contractEvents(token.address, { name: 'transfer' })).items.length, page.items.length)
  })

  test('the stream brings a transfer\'s delivery and a contract\'s event; Last-Event-ID resumes after an id', async () => {
    const all = follow(client)
    const events = follow(client, { contract: token.address })
    const mine = follow(client, { account: toHex(bob.publicKey) })
    await waitFor('the streams to open', 5000, () => net.api !== undefined)
    await new Promise(resolve => setTimeout(resolve, 200))
    const t = await send(net.node, net.alice, { kind: 'transfer', to: bob.publicKey, amount: 7n })
    const call = await tokenTransfer(bob.publicKey, 3n)
    await waitFor('the messages', 10_000, () => events.got.length >= 1 && all.got.some(m => m.type === 'event'))
    const delivered = all.got.find(m => m.type === 'delivered' && m.op.account === toHex(t.account) && m.op.seq === t.seq)
    assert.ok(delivered?.type === 'delivered')
    assert.equal(delivered.op.amount, '7')
    assert.equal(delivered.id, String(delivered.op.index))
    const ev = events.got[0]!
    assert.ok(ev.type === 'event')
    assert.deepEqual([ev.event.name, ev.event.call.seq, ev.id], ['transfer', call.seq, `${ev.event.index}:0`])
    // the contract filter brings events only; bob sent nothing, so his stream is empty
    assert.ok(events.got.every(m => m.type === 'event'))
    assert.deepEqual(mine.got, [])
    // in delivery order: the Execute before the event it ran
    const ids = all.got.map(m => m.id)
    assert.ok(ids.indexOf(String(ev.event.index)) < ids.indexOf(ev.id))
    for (const f of [all, events, mine]) { f.stop(); assert.equal(await f.done, undefined, 'an abort ends the iteration quietly') }
    // resume after the transfer: everything since, from the index, then live
    const resumed = follow(client, { lastEventId: delivered.id })
    await waitFor('the resumed history', 5000, () => resumed.got.some(m => m.id === ev.id))
    assert.deepEqual(resumed.got.map(m => m.id).slice(0, ids.length - ids.indexOf(delivered.id) - 1), ids.slice(ids.indexOf(delivered.id) + 1))
    resumed.stop()
    await resumed.done
  })

  test('with an API token the stream needs it; subscribers past the cap get 503 ERR_BUSY', async () => {
    const api = await net.another({ token: API_TOKEN, streams: { maxSubscribers: 2 } })
    const base = `http://127.0.0.1:${api.port}`
    await assert.rejects(async () => { for await (const m of new ApiClient(base).subscribe()) void m }, (err: unknown) => err instanceof ApiRequestError && err.status === 401 && err.code === 'ERR_UNAUTHORIZED')
    const authed = new ApiClient(base, API_TOKEN)
    const a = follow(authed)
    const b = follow(authed)
    await waitFor('two streams', 5000, async () => {
      const res = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
      const body = res.status === 503 ? await res.json() as { error: { code: string } } : undefined
      if (res.status === 200) await res.body?.cancel()
      return body?.error.code === 'ERR_BUSY'
    })
    a.stop()
    await a.done
    // a slot is free again once a client goes
    await waitFor('a freed slot', 5000, async () => {
      const res = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${API_TOKEN}` } })
      await res.body?.cancel()
      return res.status === 200
    })
    b.stop()
    await b.done
    await api.close()
  })

  test('a reader that takes nothing is cut, not buffered for; the request and keep-alive timeouts do not cut a stream', async () => {
    const api = await net.another({
      streams: { maxSubscribers: 2, heartbeatMs: 200, stallMs: 1000 },
      connections: { headersTimeoutMs: 500, requestTimeoutMs: 600, keepAliveTimeoutMs: 300, checkIntervalMs: 100 }
    })
    const base = `http://127.0.0.1:${api.port}`
    // whether the server has a free stream slot: it has one once it cut a reader
    const slotFree = async (): Promise<boolean> => {
      const res = await fetch(`${base}/v1/events`)
      await res.body?.cancel()
      return res.status === 200
    }
    const live = follow(new ApiClient(base))
    const slow = await stalledReader(api.port, '/v1/events')
    // far past every timeout of normal requests, both streams are open (pinged)
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(await slotFree(), false)
    // Until its socket is full the node cannot tell a stalled reader from a fast one, and the
    // kernel takes MBs on loopback: ~4.8 MB a call (80 events of 60 KB, the most one call's gas
    // pays for; the index is told to keep data that large), until the server cuts the reader
    const d = await send(net.node, net.alice, { kind: 'deploy', code: SPAM, args: [], sequencer: net.node.signer.publicKey, gasLimit: 100_000 })
    const spam = contractAddress(d.account, d.seq)
    net.node.history.limits.maxEventDataBytes = 256 * 1024
    const big = 'x'.repeat(60_000)
    let calls = 0
    let cut = false
    for (; calls < 10 && !cut; calls++) {
      const call = await send(net.node, net.alice, { kind: 'call', contract: spam, fn: 'spam', args: [big, 80n] as Value[], value: 0n, gasLimit: 5_000_000 }, [d])
      await waitFor('the spam to run', 20_000, () => net.node.replica.ledger.callOutcome(call)?.status === 'ok')
      // the stall limit is 1 s
      await new Promise(resolve => setTimeout(resolve, 1200))
      cut = await slotFree()
    }
    net.node.history.limits.maxEventDataBytes = 16 * 1024
    assert.ok(cut, `the stalled reader was not cut after ${calls} calls`)
    // what the kernel held is read, then the stream ends: the server closed it
    slow.drain()
    await slow.closed
    // the reader that keeps up got everything
    await waitFor('the live reader', 20_000, () => live.got.filter(m => m.type === 'event' && m.event.contract === toHex(spam)).length === calls * 80)
    assert.equal(await Promise.race([live.done.then(() => 'ended'), new Promise(resolve => setTimeout(() => resolve('open'), 100))]), 'open')
    // closing the API with a stream open returns promptly and ends the stream
    const started = Date.now()
    await api.close()
    assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`)
    const end = await live.done
    assert.ok(end === undefined || (end as { code?: string }).code === 'ERR_STREAM_CLOSED', String(end))
  })
})

describe('history after a restart', () => {
  test('refills from the deliveries the node replays, numbered on where it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-history-restart-'))
    const seed = seedOf('history-restart-validator', 0)
    const alice = signerFrom(sodiumScheme, seedOf('history-restart-alice', 0))
    const genesis = makeGenesis({ network: 'history-restart', validators: [sodiumScheme.publicKeyOf(seed)], mintAuthority: alice.publicKey, balances: [{ account: alice.publicKey, amount: 1000n }] })
    const start = async (): Promise<BftNode> => {
      const [p2p] = await freePorts(1)
      return await BftNode.start({ ...defaultConfig(dir), listen: [`/ip4/127.0.0.1/tcp/${p2p!}`], mdns: false }, genesis, seed, silentLogger)
    }
    try {
      let node = await start()
      for (let i = 0; i < 3; i++) await send(node, alice, { kind: 'transfer', to: new Uint8Array(32).fill(9), amount: 1n })
      const before = node.history.accountOps(toHex(alice.publicKey), undefined, 10).items.map(r => [r.seq, r.index])
      await node.stop()
      node = await start()
      const afterRestart = node.history.accountOps(toHex(alice.publicKey), undefined, 10).items.map(r => [r.seq, r.index])
      assert.deepEqual(afterRestart, before)
      assert.equal(node.history.lastIndex, 3)
      await node.stop()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
