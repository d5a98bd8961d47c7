// Who may call a real node's API: no CORS headers unless origins are configured, preflights
// answered for those origins only, a bearer token required (when set) by every route but the
// probes and the dashboard's static files, and a warning when the API listens beyond loopback.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { errorCode, exchange, parseResponses } from '../support/raw-http.js'
import type { RawResponse } from '../support/raw-http.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'
import { startApi } from '../../src/api/server.js'
import { exposureWarning, isLoopback } from '../../src/api/access.js'
import type { Logger } from '../../src/node/log.js'

const TOKEN = 'a-long-enough-test-token-0123456789'
const APP = 'http://app.example:8080'

async function ask (port: number, method: string, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const lines = Object.entries({ Host: 't', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('')
  const ex = await exchange(port, `${method} ${target} HTTP/1.1\r\n${lines}\r\n`)
  return parseResponses(ex.bytes, method === 'HEAD')[0]!
}

const corsHeaders = (r: RawResponse): string[] => [...r.headers.keys()].filter(k => k.startsWith('access-control-'))

describe('API access', () => {
  let net: ApiNode
  let corsPort: number
  let anyPort: number
  let tokenPort: number
  before(async () => {
    net = await startApiNode('api-access')
    corsPort = (await net.another({ cors: [APP, 'http://other.example'] })).port
    anyPort = (await net.another({ cors: ['*'] })).port
    tokenPort = (await net.another({ token: TOKEN, cors: [APP] })).port
  })
  after(async () => { await net.stop() })

  test('CORS is off by default: no Access-Control headers, even for a preflight', async () => {
    const r = await ask(net.port, 'GET', '/v1/status?stateHash=false', { Origin: APP })
    assert.equal(r.status, 200)
    assert.deepEqual(corsHeaders(r), [])
    assert.equal(r.header('vary'), undefined)
    const pre = await ask(net.port, 'OPTIONS', '/v1/ops', { Origin: APP, 'Access-Control-Request-Method': 'POST' })
    assert.equal(pre.status, 204)
    assert.deepEqual(corsHeaders(pre), [])
  })

  test('a listed origin gets Access-Control-Allow-Origin on answers and errors; others do not', async () => {
    const ok = await ask(corsPort, 'GET', '/v1/peers', { Origin: APP })
    assert.equal(ok.header('access-control-allow-origin'), APP)
    assert.equal(ok.header('vary'), 'Origin')
    const missing = await ask(corsPort, 'GET', '/v1/nowhere', { Origin: APP })
    assert.equal(missing.status, 404)
    assert.equal(missing.header('access-control-allow-origin'), APP)
    const other = await ask(corsPort, 'GET', '/v1/peers', { Origin: 'http://evil.example' })
    assert.equal(other.status, 200)
    assert.equal(other.header('access-control-allow-origin'), undefined)
    assert.equal(other.header('vary'), 'Origin')
    const any = await ask(anyPort, 'GET', '/v1/peers', { Origin: 'http://whoever.example' })
    assert.equal(any.header('access-control-allow-origin'), 'http://whoever.example')
  })

  test('a preflight from a listed origin is answered with methods, headers and max-age; others get 403', async () => {
    const pre = await ask(corsPort, 'OPTIONS', '/v1/ops', { Origin: APP, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' })
    assert.equal(pre.status, 204)
    assert.equal(pre.header('access-control-allow-origin'), APP)
    assert.match(pre.header('access-control-allow-methods') ?? '', /\bPOST\b/)
    assert.match(pre.header('access-control-allow-headers') ?? '', /Authorization/)
    assert.match(pre.header('access-control-allow-headers') ?? '', /Content-Type/)
    assert.ok(Number(pre.header('access-control-max-age')) > 0)
    const denied = await ask(corsPort, 'OPTIONS', '/v1/ops', { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' })
    assert.equal(denied.status, 403)
    assert.equal(errorCode(denied), 'ERR_ORIGIN_NOT_ALLOWED')
    // the preflight carries no token: it must not be asked for one
    const withToken = await ask(tokenPort, 'OPTIONS', '/v1/ops', { Origin: APP, 'Access-Control-Request-Method': 'POST' })
    assert.equal(withToken.status, 204)
  })

  test('with a token set, a request without it or with another gets 401 and a Bearer challenge', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
      { Authorization: 'Bearer x' },
      { Authorization: `Bearer ${'y'.repeat(4000)}` },
      { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
      { Authorization: 'Bearer' },
      { Authorization: TOKEN }
    ]
    for (const headers of attempts) {
      const r = await ask(tokenPort, 'GET', '/v1/status', headers)
      assert.equal(r.status, 401, JSON.stringify(headers).slice(0, 80))
      assert.equal(errorCode(r), 'ERR_UNAUTHORIZED')
      assert.match(r.header('www-authenticate') ?? '', /^Bearer /)
    }
    const post = await exchange(tokenPort, 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ops":[00]}')
    assert.equal(parseResponses(post.bytes)[0]?.status, 401)
    // a browser must be able to read the 401
    const cors = await ask(tokenPort, 'GET', '/v1/status', { Origin: APP })
    assert.equal(cors.header('access-control-allow-origin'), APP)
  })

  test('with the token every route answers as usual', async () => {
    for (const scheme of ['Bearer', 'bearer']) {
      const r = await ask(tokenPort, 'GET', '/v1/status?stateHash=false', { Authorization: `${scheme} ${TOKEN}` })
      assert.equal(r.status, 200)
    }
    const openapi = await ask(tokenPort, 'GET', '/v1/openapi.json', { Authorization: `Bearer ${TOKEN}` })
    assert.equal(openapi.status, 200)
  })

  test('probes and the dashboard\'s static files need no token; its data and everything else do', async () => {
    for (const [method, target] of [['GET', '/v1/health'], ['GET', '/v1/ready'], ['HEAD', '/v1/ready'], ['GET', '/dashboard'], ['GET', '/dashboard/app.js'], ['GET', '//dashboard/']]) {
      const r = await ask(tokenPort, method!, target!)
      assert.notEqual(r.status, 401, `${method!} ${target!}`)
    }
    for (const [method, target] of [['GET', '/v1/dashboard'], ['POST', '/dashboard'], ['POST', '/v1/health'], ['GET', '/v1/health/x'], ['GET', '/metrics'], ['GET', '/v1/peers']]) {
      const r = await ask(tokenPort, method!, target!, method === 'POST' ? { 'Content-Length': '0' } : {})
      assert.equal(r.status, 401, `${method!} ${target!}`)
    }
  })

  test('loopback hosts are told apart from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h)
    for (const h of ['0.0.0.0', '::', '', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', '::2', 'localhost.example.com']) assert.ok(!isLoopback(h), h)
    assert.equal(exposureWarning('127.0.0.1', {}), undefined)
    assert.match(exposureWarning('0.0.0.0', {}) ?? '', /every network interface with NO apiToken/)
    assert.match(exposureWarning('192.168.1.10', { token: TOKEN }) ?? '', /clear text/)
  })

  test('an API bound beyond loopback warns in the log and on stderr, louder without a token', async () => {
    const warnings: string[] = []
    const printed: string[] = []
    const log: Logger = { debug () {}, info () {}, warn (msg) { warnings.push(msg) }, error () {}, child () { return this } }
    for (const token of [undefined, TOKEN]) {
      const s = await startApi(net.node, '0.0.0.0', 0, { log, warn: line => printed.push(line), ...(token === undefined ? {} : { token }) })
      await s.close()
    }
    assert.equal(warnings.length, 2)
    assert.match(warnings[0]!, /NO apiToken/)
    assert.doesNotMatch(warnings[1]!, /NO apiToken/)
    assert.deepEqual(printed, warnings.map(w => `WARNING: ${w}`))
    const quiet = await startApi(net.node, '127.0.0.1', 0, { log, warn: line => printed.push(line) })
    await quiet.close()
    assert.equal(warnings.length, 2)
  })
})
