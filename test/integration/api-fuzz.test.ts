// A seeded barrage of malformed HTTP against a real node's API over raw sockets: broken request
// lines, methods and versions; paths protocol-relative, percent-encoded (well and badly), huge,
// unicode, with dot segments; duplicate, oversized and invalid headers; bodies of random JSON
// shapes for every POST route, badly framed or not JSON at all; pipelined requests. Every answer
// must be well-formed HTTP with a status under 500, every 4xx a JSON error with a code, and the
// node must still answer afterwards with its state unchanged.
//
// Deterministic: request i is made from (seed, i) alone. A failure prints both and the request;
// replay it with API_FUZZ_SEED=<seed> API_FUZZ_ONLY=<i> node --test dist/test/integration/api-fuzz.test.js
// (API_FUZZ_RUNS=<n> for a longer run).

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Rng } from '../sim/rng.js'
import { errorCode, exchange, parseResponses } from '../support/raw-http.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'
import { ROUTES } from '../../src/api/routes.js'
import type { Logger } from '../../src/node/log.js'

const SEED = Number(process.env.API_FUZZ_SEED ?? 20_261_101)
const RUNS = Number(process.env.API_FUZZ_RUNS ?? 2000)
const ONLY = process.env.API_FUZZ_ONLY === undefined ? undefined : Number(process.env.API_FUZZ_ONLY)
const CONCURRENCY = 8
const TOKEN = 'fuzz-token-0123456789abcdef'
const OPS_ROUTE = ROUTES.find(r => r.method === 'POST' && r.path === '/v1/ops')!

interface FuzzRequest {
  bytes: Uint8Array
  /** One flag per request sent on the connection: HEAD answers have no body. */
  heads: boolean[]
  /** Which server: the plain API, or the one with a token and CORS. */
  guarded: boolean
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, c => c.charCodeAt(0) & 0xff)
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const join = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** Request i of a run: its own generator, so any one request can be replayed alone. */
function makeRequest (seed: number, i: number, token: string): FuzzRequest {
  const rng = new Rng((seed + Math.imul(i + 1, 0x9e3779b1)) >>> 0)
  const guarded = rng.chance(0.3)
  // a third of the requests are well-framed HTTP with odd contents, to reach the route handlers;
  // the rest break the framing too, a little or a lot
  const chaos = rng.pick([0, 1, 1, 3])
  const odd = (p: number): boolean => rng.chance(Math.min(1, p * chaos))
  const count = odd(0.05) ? rng.int(2, 4) : 1
  const parts: Uint8Array[] = []
  const heads: boolean[] = []
  for (let k = 0; k < count; k++) {
    const r = oneRequest(rng, odd, token)
    parts.push(r.bytes)
    heads.push(r.head)
  }
  return { bytes: join(parts), heads, guarded }
}

type Odd = (p: number) => boolean

const HEX64 = 'ab'.repeat(32)
const ODD_METHODS = ['PUT', 'DELETE', 'PATCH', 'TRACE', 'CONNECT', 'SEARCH', 'PURGE', 'M-SEARCH', 'get', 'FOO', 'GET ', '', 'G\u0000T', 'POST\t', 'ÄÖÜ', 'PRI']
const ODD_VERSIONS = ['HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/9.9', 'http/1.1', 'HTTP/1.1 x', 'HTTP/1', '']
const PREFIXES = ['/', '//', '//x:99999', '//@', '///', 'http://h', 'https://h:1', 'http://[::1]:80', 'v1', '\\', '/./', '/../', '*', '%2F', 'mailto:x']
const PARAM_VALUES = [HEX64, HEX64, HEX64, 'AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'zz'.repeat(32), '%zz', '%', '%2', '..', '%2e%2e', '.', 'a%2Fb', 'a%5Cb', '%00', '%C3%28', '%E2%82%AC', '%F0%9F%98%80', '1', '1', '0', '-1', '1e3', '0x10', '99999999999999999999', '9007199254740993', ' 1', '%201', 'é', '😀', '\u0000']
const QUERY_VALUES = ['0', '1', '25', '50', 'abc', '-1', '1e999', '', '%31', '0x10', '99999999999999999999', '1.5', '%zz', 'true', 'false', 'TRUE', '%', '%%']

function oneRequest (rng: Rng, odd: Odd, token: string): { bytes: Uint8Array, head: boolean } {
  // POST /v1/ops, the node's write path, is drawn more often than its 1 in ROUTES.length: its
  // 202 needs a well-framed request with a valid body too, and with two dozen routes the seed
  // could go 2000 requests without one
  const route = rng.chance(0.1) ? OPS_ROUTE : rng.pick(ROUTES)
  const method = odd(0.03) ? randomText(rng, rng.int(1, 12)) : odd(0.1) ? rng.pick(ODD_METHODS) : rng.chance(0.1) ? rng.pick(['HEAD', 'OPTIONS', 'GET', 'POST']) : route.method
  const path = makePath(rng, odd, route.path)
  const version = odd(0.05) ? rng.pick(ODD_VERSIONS) : 'HTTP/1.1'
  const eol = odd(0.02) ? rng.pick(['\n', '\r', '\n\r', '\r\r\n']) : '\r\n'
  const line = odd(0.01) ? randomText(rng, rng.int(0, 40)) : `${method}${odd(0.01) ? '  ' : ' '}${path}${version === '' ? '' : ' ' + version}`
  const { headers, body } = makeHeadersAndBody(rng, odd, method, token)
  const headerText = headers.map(([k, v]) => `${k}:${odd(0.02) ? '' : ' '}${v}${eol}`).join('')
  const bytes = join([
    odd(0.01) ? latin1('\r\n') : new Uint8Array(0),
    // raw UTF-8 in the request line and headers, or the same characters cut to one byte each
    rng.chance(0.5) ? utf8(`${line}${eol}${headerText}${eol}`) : latin1(`${line}${eol}${headerText}${eol}`),
    body
  ])
  // a request cut short anywhere: the server sees the end of the stream mid-request
  return { bytes: odd(0.01) ? bytes.subarray(0, rng.int(0, bytes.length)) : bytes, head: method === 'HEAD' }
}

function randomText (rng: Rng, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    const kind = rng.int(0, 9)
    s += kind < 6 ? String.fromCharCode(rng.int(0x21, 0x7e)) : kind < 8 ? String.fromCharCode(rng.int(0, 0xff)) : String.fromCodePoint(rng.pick([rng.int(0x80, 0xd7ff), rng.int(0xe000, 0x1f600)]))
  }
  return s
}

function makePath (rng: Rng, odd: Odd, template: string): string {
  if (odd(0.005)) return '/v1/accounts/' + 'a'.repeat(rng.int(15_000, 20_000))
  let path = template.replace(/\{\w+\}/g, () => rng.pick(PARAM_VALUES))
  if (rng.chance(0.25)) {
    // mangle: extra segments, dot segments, encodings, random bytes
    const segs = path.split('/')
    const at = rng.int(0, segs.length)
    const extra = rng.pick(['..', '.', '', '%2e', '%2E%2e', 'x', randomText(rng, rng.int(1, 8)), encodeURIComponent(randomText(rng, 4)), 'v1', 'dashboard', '%76%31', '%ff', '%'])
    segs.splice(at, rng.chance(0.5) ? 1 : 0, extra)
    path = segs.join('/')
  }
  if (rng.chance(0.15)) path = rng.pick(PREFIXES) + path
  if (rng.chance(0.4)) {
    const pairs = Array.from({ length: rng.int(0, 3) }, () => {
      const key = rng.pick(['wait', 'stateHash', 'wait', randomText(rng, rng.int(0, 5)), '%zz', ''])
      return rng.chance(0.1) ? key : `${key}=${rng.pick(QUERY_VALUES)}`
    })
    path += '?' + pairs.join(rng.pick(['&', '&', ';', '&&']))
  }
  if (rng.chance(0.03)) path += '#' + randomText(rng, 5)
  return path
}

function makeHeadersAndBody (rng: Rng, odd: Odd, method: string, token: string): { headers: Array<[string, string]>, body: Uint8Array } {
  const headers: Array<[string, string]> = []
  if (!odd(0.03)) headers.push(['Host', odd(0.05) ? rng.pick(['', 'x'.repeat(300), '[::1]', 'a b']) : rng.pick(['t', '127.0.0.1:7200'])])
  if (odd(0.02)) headers.push(['Host', 'u'])
  if (rng.chance(0.4)) headers.push(['Authorization', rng.chance(0.7) ? `Bearer ${token}` : rng.pick([`bearer ${token}`, 'Bearer x', 'Bearer', 'Basic dTpw', `Bearer ${token} extra`, `Bearer ${'y'.repeat(3000)}`, ''])])
  if (odd(0.02)) headers.push(['Authorization', `Bearer ${token}`])
  if (rng.chance(0.2)) headers.push(['Origin', rng.pick(['http://app.example', 'http://evil.example', 'null', '', '*', 'http://app.example/', 'HTTP://APP.EXAMPLE'])])
  if (rng.chance(0.1)) headers.push(['Access-Control-Request-Method', rng.pick(['POST', 'GET', 'DELETE', ''])])
  if (rng.chance(0.05)) headers.push(['Access-Control-Request-Headers', rng.pick(['authorization, content-type', 'x-weird', ''])])
  if (odd(0.03)) headers.push(['Expect', rng.pick(['100-continue', 'coffee', ''])])
  if (odd(0.03)) headers.push(['Connection', rng.pick(['close', 'keep-alive', 'upgrade', 'Upgrade, HTTP2-Settings', ''])])
  if (odd(0.03)) headers.push(['Upgrade', rng.pick(['websocket', 'h2c', 'HTTP/2.0'])])
  if (odd(0.02)) headers.push(['Content-Encoding', rng.pick(['gzip', 'identity', 'br', ''])])
  for (let k = odd(0.1) ? rng.int(1, 5) : 0; k > 0; k--) {
    const name = rng.chance(0.7) ? `X-${randomText(rng, rng.int(0, 6)).replace(/[:\r\n]/g, '')}` : randomText(rng, rng.int(0, 10))
    const value = rng.chance(0.05) ? 'v'.repeat(rng.int(1000, 20_000)) : rng.chance(0.05) ? 'a\r\n folded' : randomText(rng, rng.int(0, 20))
    headers.push([name, value])
  }
  const wantsBody = method === 'POST' || odd(0.03)
  if (!wantsBody) {
    if (odd(0.02)) headers.push(['Content-Length', rng.pick(['0', '-1', 'abc', '5', ' 5', '1e3', '99999999999999999999'])])
    return { headers, body: new Uint8Array(0) }
  }
  if (!odd(0.05)) headers.push(['Content-Type', odd(0.1) ? rng.pick(['application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json, text/plain']) : rng.pick(['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'])])
  if (odd(0.02)) headers.push(['Content-Type', 'text/plain'])
  const body = makeBody(rng, odd)
  if (odd(0.05)) {
    // framing that lies: too short, too long, both, duplicated, negative
    const lie = rng.pick([
      [['Content-Length', String(Math.max(0, body.length - rng.int(1, 10)))]],
      [['Content-Length', String(body.length + rng.int(1, 10))]],
      [['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']],
      [['Content-Length', String(body.length)], ['Content-Length', String(body.length + 1)]],
      [['Content-Length', '-1']],
      [['Transfer-Encoding', 'gzip, chunked']],
      [['Content-Length', '99999999999']]
    ] as Array<Array<[string, string]>>)
    headers.push(...lie)
    return { headers, body }
  }
  if (rng.chance(0.2)) {
    headers.push(['Transfer-Encoding', 'chunked'])
    return { headers, body: chunked(rng, odd, body) }
  }
  headers.push(['Content-Length', String(body.length)])
  return { headers, body }
}

function chunked (rng: Rng, odd: Odd, body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = []
  let at = 0
  while (at < body.length) {
    const n = Math.min(body.length - at, rng.int(1, 200))
    const size = odd(0.02) ? rng.pick(['zz', '-1', '', 'ffffffffffffffff']) : n.toString(16) + (odd(0.02) ? ';ext=1' : '')
    parts.push(latin1(`${size}\r\n`), body.subarray(at, at + n), latin1('\r\n'))
    at += n
  }
  parts.push(latin1(odd(0.02) ? '0\r\n' : '0\r\n\r\n'))
  return join(parts)
}

function makeBody (rng: Rng, odd: Odd): Uint8Array {
  const kind = odd(0.3) ? rng.int(0, 5) : rng.int(6, 19)
  if (kind === 0) return new Uint8Array(0)
  if (kind === 1) return rng.bytes(rng.int(1, 300))
  if (kind === 2) return latin1('{"ops": ["\u00ff\u00fe"]}')
  if (kind === 3) return utf8('['.repeat(rng.int(1000, 100_000)))
  if (kind === 4) return utf8('['.repeat(5000) + ']'.repeat(5000))
  if (kind === 5) return utf8('\ufeff{"ops": ["00"]}')
  const value = kind < 12 ? { ops: randomOps(rng) } : randomJson(rng, 4)
  const text = JSON.stringify(value) ?? 'undefined'
  // a valid shape cut short is invalid JSON
  return utf8(odd(0.05) ? text.slice(0, rng.int(0, text.length)) : text)
}

function randomOps (rng: Rng): unknown {
  if (rng.chance(0.1)) return randomJson(rng, 2)
  const n = rng.chance(0.05) ? rng.int(1000, 1100) : rng.int(0, 5)
  return Array.from({ length: n }, () => rng.chance(0.8)
    ? Array.from(rng.bytes(rng.int(0, 300)), b => b.toString(16).padStart(2, '0')).join('') + (rng.chance(0.05) ? 'g' : '')
    : randomJson(rng, 2))
}

function randomJson (rng: Rng, depth: number): unknown {
  const kind = rng.int(0, depth <= 0 ? 4 : 6)
  switch (kind) {
    case 0: return null
    case 1: return rng.chance(0.5)
    case 2: return rng.pick([0, -0, 1, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, rng.int(-1e9, 1e9)])
    case 3: return rng.chance(0.2) ? '\ud800' : randomText(rng, rng.int(0, 20))
    case 4: return rng.chance(0.5) ? HEX64 : 'x'.repeat(rng.int(0, 10_000))
    case 5: return Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, depth - 1))
    default: return Object.fromEntries(Array.from({ length: rng.int(0, 4) }, () => [rng.pick(['ops', 'ops', 'op', 'OPS', '__proto__', 'constructor', 'toString', randomText(rng, 3)]), randomJson(rng, depth - 1)]))
  }
}

const show = (bytes: Uint8Array): string => JSON.stringify(String.fromCharCode(...bytes.subarray(0, 600))) + (bytes.length > 600 ? ` ... (${bytes.length} bytes)` : '')

/** Checks the answers to one fuzz request; returns what is wrong, or undefined. */
function verdict (req: FuzzRequest, ex: { bytes: Buffer, closed: boolean }): string | undefined {
  if (!ex.closed) return 'the server neither answered and closed within 5 s'
  let responses
  try { responses = parseResponses(ex.bytes, req.heads) } catch (err) { return `malformed response: ${(err as Error).message}` }
  // only a request with nothing in it may go unanswered
  if (responses.length === 0 && req.bytes.some(b => b !== 0x0d && b !== 0x0a)) return 'no response'
  for (const [k, r] of responses.entries()) {
    if (r.status >= 500) return `status ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`
    const head = req.heads[k] ?? false
    if (r.status >= 400 && !(head && r.body.length === 0)) {
      try { errorCode(r) } catch (err) { return `a ${r.status} without a JSON error code: ${(err as Error).message}` }
    }
    // the dashboard's files, the metrics text and the event stream are the only answers that are not JSON
    const asJson = (r.header('content-type') ?? '').startsWith('application/json')
    if (!asJson && r.status === 200 && /^(text\/html|text\/css|text\/javascript|image\/svg\+xml|text\/plain|text\/event-stream)/.test(r.header('content-type') ?? '')) continue
    if (r.status < 300 && r.status !== 204 && !head) {
      try { JSON.parse(r.body.toString('utf8')) } catch { return `a ${r.status} whose body is not JSON` }
    }
  }
  return undefined
}

describe('API fuzz', () => {
  let net: ApiNode
  let guardedPort: number
  const internal: string[] = []
  const log: Logger = { debug () {}, info () {}, warn () {}, error (msg, f) { internal.push(`${msg} ${JSON.stringify(f)}`) }, child () { return this } }

  before(async () => {
    net = await startApiNode('api-fuzz', {}, log)
    guardedPort = (await net.another({ token: TOKEN, cors: ['http://app.example'] })).port
  })
  after(async () => { await net.stop() })

  test(`${ONLY === undefined ? RUNS : 1} seeded malformed requests (seed ${SEED}) get well-formed answers under 500, and the node carries on`, async () => {
    const before = net.node.replica.status()
    const indexes = ONLY === undefined ? Array.from({ length: RUNS }, (_, i) => i) : [ONLY]
    const failures: string[] = []
    let next = 0
    // what came back, to show the barrage reached every layer: parser, paths, access, routes, bodies
    const seen = new Map<string, number>()
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < indexes.length && failures.length === 0) {
        const i = indexes[next++]!
        const req = makeRequest(SEED, i, TOKEN)
        const ex = await exchange(req.guarded ? guardedPort : net.port, req.bytes, 5000)
        const wrong = verdict(req, ex)
        if (wrong !== undefined) {
          failures.push(`request ${i} of seed ${SEED} (${req.guarded ? 'token+CORS server' : 'plain server'}): ${wrong}\n  sent: ${show(req.bytes)}\n  got:  ${show(new Uint8Array(ex.bytes))}\n  replay: API_FUZZ_SEED=${SEED} API_FUZZ_ONLY=${i} node --test dist/test/integration/api-fuzz.test.js`)
        }
        for (const r of (() => { try { return parseResponses(ex.bytes, req.heads) } catch { return [] } })()) {
          const what = r.status >= 400 && r.body.length > 0 ? errorCode(r) : String(r.status)
          seen.set(what, (seen.get(what) ?? 0) + 1)
        }
      }
    }))
    assert.deepEqual(failures, [], failures.join('\n'))
    assert.deepEqual(internal, [], 'internal errors were logged')
    if (ONLY === undefined) {
      const expected = ['200', '202', '204', 'ERR_BAD_HTTP', 'ERR_BAD_PATH', 'ERR_BAD_QUERY', 'ERR_BAD_REQUEST', 'ERR_BAD_JSON', 'ERR_NOT_FOUND', 'ERR_METHOD_NOT_ALLOWED', 'ERR_UNAUTHORIZED', 'ERR_UNSUPPORTED_MEDIA_TYPE', 'ERR_HEADERS_TOO_LARGE', 'ERR_UNKNOWN_OP']
      const missing = expected.filter(e => !seen.has(e))
      assert.deepEqual(missing, [], `the barrage never drew these answers: ${JSON.stringify(Object.fromEntries(seen))}`)
    }
    const ex = await exchange(net.port, 'GET /v1/status HTTP/1.1\r\nHost: t\r\n\r\n')
    assert.equal(parseResponses(ex.bytes)[0]?.status, 200)
    assert.deepEqual(net.node.replica.status(), before)
  })
})
