// The dashboard against a real node (one validator, in process): GET /v1/dashboard reports what
// the node did (deliveries, a rejection with its reason, latencies of ops submitted here), the
// page's files come with their content types and a same-origin CSP, nothing outside the fixed
// list of files is served whatever the path says, and `dashboard: false` turns all of it off.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { startApi } from '../../src/api/server.js'
import type { ApiServer } from '../../src/api/server.js'
import type { DashboardView } from '../../src/api/dashboard.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'

interface Raw { status: number, headers: http.IncomingHttpHeaders, body: string }

describe('the dashboard routes of a running node', () => {
  let dir: string
  let node: BftNode
  let api: ApiServer
  const alice = signerFrom(sodiumScheme, seedOf('dash-alice', 0))
  const bob = signerFrom(sodiumScheme, seedOf('dash-bob', 0))
  const validatorSeed = seedOf('dash-validator', 0)

  /** A request with the path exactly as given (fetch would normalise dot segments away). */
  const raw = async (path: string, method = 'GET'): Promise<Raw> => await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: api.port, path, method }, res => {
      let body = ''
      res.on('data', d => { body += d })
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })

  const view = async (): Promise<DashboardView> => JSON.parse((await raw('/v1/dashboard')).body) as DashboardView

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-dash-'))
    const genesis = makeGenesis({ network: 'dash', validators: [sodiumScheme.publicKeyOf(validatorSeed)], mintAuthority: alice.publicKey, balances: [{ account: alice.publicKey, amount: 1000n }] })
    const [p2p, apiPort] = await freePorts(2)
    node = await BftNode.start({ ...defaultConfig(dir), listen: [`/ip4/127.0.0.1/tcp/${p2p!}`], mdns: false }, genesis, validatorSeed, silentLogger)
    api = await startApi(node, '127.0.0.1', apiPort!)
  })

  after(async () => {
    await api.close()
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  })

  test('GET /v1/dashboard: the node, its validators, deliveries, a rejection with its reason, latencies', async () => {
    const first = await view()
    assert.equal(first.node.id, node.id)
    assert.equal(first.node.network, 'dash')
    assert.equal(first.node.role, 'validator')
    assert.deepEqual(first.validators.map(v => ({ id: v.id, self: v.self, connected: v.connected })), [{ id: node.id, self: true, connected: true }])
    assert.equal(first.counters.delivered, 0)
    assert.equal(first.checkpoint.height, 0)

    const net = node.replica.networkId
    const ok = signOp(alice, net, { account: alice.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: bob.publicKey, amount: 5n } })
    const overdrawn = signOp(alice, net, { account: alice.publicKey, seq: 2, deps: [], body: { kind: 'transfer', to: bob.publicKey, amount: 10_000n } })
    const res = await fetch(`http://127.0.0.1:${api.port}/v1/ops`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ops: [toHex(ok.bytes), toHex(overdrawn.bytes), 'a1'] }) })
    assert.equal(res.status, 202)
    await waitFor('both ops to be delivered', 10_000, () => node.opStatus(toHex(overdrawn.hash))?.status === 'delivered')

    const v = await view()
    assert.equal(v.counters.delivered, 2)
    assert.deepEqual({ applied: v.counters.applied, rejected: v.counters.rejected, accepted: v.counters.accepted, refused: v.counters.refused }, { applied: 1, rejected: 1, accepted: 2, refused: 1 })
    // newest first: the refusal came at submit, the rejection at delivery
    const [rejected, refused] = v.rejections
    assert.deepEqual({ stage: rejected!.stage, reason: rejected!.reason, seq: rejected!.seq, account: rejected!.account, hash: rejected!.hash },
      { stage: 'delivery', reason: 'insufficient-funds', seq: 2, account: toHex(alice.publicKey), hash: toHex(overdrawn.hash) })
    assert.match(rejected!.detail, /\S/)
    assert.deepEqual({ stage: refused!.stage, reason: refused!.reason }, { stage: 'submit', reason: 'malformed' })
    assert.equal(v.latency.count, 2)
    assert.ok(v.latency.p50 !== null && v.latency.p50 >= 0 && v.latency.p99! >= v.latency.p50)
    assert.ok(v.node.uptimeMs >= first.node.uptimeMs)
  })

  test('the page and its files are served with their types and a same-origin CSP', async () => {
    for (const [path, type, marker] of [
      ['/dashboard', 'text/html', '<table id="validators">'],
      ['/dashboard/', 'text/html', '<table id="validators">'],
      ['/dashboard/index.html', 'text/html', '<!doctype html>'],
      ['/dashboard/app.js', 'text/javascript', "api('/v1/dashboard')"],
      ['/dashboard/style.css', 'text/css', '.banner'],
      ['/dashboard/favicon.svg', 'image/svg+xml', '<svg']
    ] as const) {
      const r = await raw(path)
      assert.equal(r.status, 200, path)
      assert.ok(r.headers['content-type']?.startsWith(type), `${path}: ${r.headers['content-type']}`)
      assert.ok(r.body.includes(marker), path)
      const csp = String(r.headers['content-security-policy'])
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /script-src 'self'(;|$)/)
      assert.match(csp, /connect-src 'self'(;|$)/)
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
    }
    const head = await raw('/dashboard/app.js', 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
    assert.equal((await raw('/dashboard', 'POST')).status, 405)
  })

  test('no path reaches a file outside the list', async () => {
    for (const path of [
      '/dashboard/nope.js', '/dashboard/../package.json', '/dashboard/..%2fpackage.json', '/dashboard/%2e%2e/package.json',
      '/dashboard/%2e%2e/%2e%2e/package.json', '/dashboard/static/dashboard/app.js', '/dashboard/app.js/x', '/dashboard/APP.JS',
      '/dashboard/__proto__', '/dashboard/constructor', '/dashboard/toString', '/dashboard/hasOwnProperty', '/dashboard/app.js%00.html',
      '/dashboard/..\\..\\package.json', '/dashboard/%2fetc%2fpasswd'
    ]) {
      const r = await raw(path)
      // dot segments are refused by the API's path parser (400) before the file list (404) sees them
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`)
      assert.equal(r.headers['content-type'], 'application/json', path)
      assert.match((JSON.parse(r.body) as { error: { code: string } }).error.code, /^ERR_(NOT_FOUND|BAD_PATH)$/, path)
    }
  })

  test('dashboard: false turns off the page and its JSON', async () => {
    node.config.dashboard = false
    try {
      for (const path of ['/dashboard', '/dashboard/app.js', '/v1/dashboard']) {
        const r = await raw(path)
        assert.equal(r.status, 404, path)
        assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'ERR_NOT_FOUND', path)
      }
      assert.equal((await raw('/v1/status')).status, 200)
    } finally {
      node.config.dashboard = true
    }
  })
})
