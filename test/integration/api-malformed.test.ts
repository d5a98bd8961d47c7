// Malformed requests against a real node's API, over raw sockets: each gets a 4xx with a JSON
// error code (never a 5xx, never silence), and the node keeps serving. The first three were 500s:
// `new URL` read a protocol-relative path as a host and threw.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { errorCode, exchange, parseResponses } from '../support/raw-http.js'
import type { RawResponse } from '../support/raw-http.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'
import type { Logger } from '../../src/node/log.js'

const HEX = 'ab'.repeat(32)
const get = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: t\r\n${headers}\r\n`
const post = (target: string, body: string, headers = 'Content-Type: application/json\r\n'): string =>
  `POST ${target} HTTP/1.1\r\nHost: t\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
/** One byte a character: \u00ff is the byte 0xff, which is not UTF-8. */
const latin1 = (s: string): Uint8Array => Uint8Array.from(s, c => c.charCodeAt(0))
const postBytes = (target: string, body: Uint8Array): Uint8Array => {
  const head = latin1(`POST ${target} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`)
  const out = new Uint8Array(head.length + body.length)
  out.set(head)
  out.set(body, head.length)
  return out
}

describe('malformed API requests', () => {
  let net: ApiNode
  const errors: string[] = []
  const log: Logger = { debug () {}, info () {}, warn () {}, error (msg, f) { errors.push(`${msg} ${JSON.stringify(f)}`) }, child () { return this } }

  before(async () => { net = await startApiNode('api-malformed', {}, log) })
  after(async () => { await net.stop() })

  const one = async (request: string | Uint8Array, port = net.port, head = false): Promise<RawResponse> => {
    const ex = await exchange(port, request)
    const responses = parseResponses(ex.bytes, head)
    assert.ok(responses.length >= 1, `no response to ${JSON.stringify(String(request).slice(0, 120))}`)
    return responses[0]!
  }

  const cases: Array<[what: string, request: string | Uint8Array, status: number, code: string]> = [
    ['protocol-relative path with a bad port', get('//x:99999/v1/status'), 404, 'ERR_NOT_FOUND'],
    ['protocol-relative path with an empty userinfo', get('//@/v1/status'), 404, 'ERR_NOT_FOUND'],
    ['a path of two slashes', get('//'), 404, 'ERR_NOT_FOUND'],
    ['a path outside /v1', get('/nowhere'), 404, 'ERR_NOT_FOUND'],
    ['an unknown route', get('/v1/nowhere/at/all'), 404, 'ERR_NOT_FOUND'],
    ['invalid percent-encoding', get('/v1/accounts/%zz'), 400, 'ERR_BAD_PATH'],
    ['percent-encoded bytes that are not UTF-8', get('/v1/accounts/%C3%28'), 400, 'ERR_BAD_PATH'],
    ['a dot segment', get('/v1/../v1/status'), 400, 'ERR_BAD_PATH'],
    ['an encoded dot segment', get('/v1/%2e%2e/v1/status'), 400, 'ERR_BAD_PATH'],
    ['an encoded slash in a segment', get('/v1/accounts/ab%2Fcd'), 400, 'ERR_BAD_PATH'],
    ['an encoded NUL', get('/v1/accounts/%00'), 400, 'ERR_BAD_PATH'],
    ['a relative target', get('v1/status'), 400, 'ERR_BAD_HTTP'],
    ['* for GET', get('*'), 400, 'ERR_BAD_PATH'],
    ['a bad boolean', get('/v1/status?stateHash=maybe'), 400, 'ERR_BAD_QUERY'],
    ['a repeated query parameter', get('/v1/status?stateHash=false&stateHash=true'), 400, 'ERR_BAD_QUERY'],
    ['invalid percent-encoding in the query', get('/v1/status?a=%zz'), 400, 'ERR_BAD_QUERY'],
    ['a wait in exponent form', get(`/v1/ops/${HEX}?wait=1e400`), 400, 'ERR_BAD_QUERY'],
    ['a negative wait', get(`/v1/ops/${HEX}?wait=-1`), 400, 'ERR_BAD_QUERY'],
    ['a wait of 20 digits', get(`/v1/ops/${HEX}?wait=${'9'.repeat(20)}`), 400, 'ERR_BAD_QUERY'],
    ['uppercase hex', get(`/v1/accounts/${HEX.toUpperCase()}`), 400, 'ERR_BAD_REQUEST'],
    ['a call seq in exponent form', get(`/v1/calls/${HEX}/1e3`), 400, 'ERR_BAD_REQUEST'],
    ['a call seq in hex', get(`/v1/calls/${HEX}/0x10`), 400, 'ERR_BAD_REQUEST'],
    ['a call seq past 2^53', get(`/v1/calls/${HEX}/${'9'.repeat(17)}`), 400, 'ERR_BAD_REQUEST'],
    ['a call seq of 0', get(`/v1/calls/${HEX}/0`), 400, 'ERR_BAD_REQUEST'],
    ['an unknown method', 'FOO /v1/status HTTP/1.1\r\nHost: t\r\n\r\n', 405, 'ERR_METHOD_NOT_ALLOWED'],
    ['a lowercase method', 'get /v1/status HTTP/1.1\r\nHost: t\r\n\r\n', 405, 'ERR_METHOD_NOT_ALLOWED'],
    ['CONNECT', 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n', 405, 'ERR_METHOD_NOT_ALLOWED'],
    ['a known method on no route', 'DELETE /v1/nowhere HTTP/1.1\r\nHost: t\r\n\r\n', 404, 'ERR_NOT_FOUND'],
    ['HTTP/1.1 without Host', 'GET /v1/status HTTP/1.1\r\n\r\n', 400, 'ERR_BAD_REQUEST'],
    ['two Host headers', get('/v1/status', 'Host: u\r\n'), 400, 'ERR_BAD_REQUEST'],
    ['two Authorization headers', get('/v1/status', 'Authorization: Bearer a\r\nAuthorization: Bearer b\r\n'), 400, 'ERR_BAD_REQUEST'],
    ['a NUL in a header value', get('/v1/status', 'X-A: a\u0000b\r\n'), 400, 'ERR_BAD_HTTP'],
    ['a header line without a colon', get('/v1/status', 'nonsense\r\n'), 400, 'ERR_BAD_HTTP'],
    ['a request line of garbage', '\u0001\u0002\u0003 / HTTP/1.1\r\n\r\n', 405, 'ERR_METHOD_NOT_ALLOWED'],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'ERR_BAD_HTTP'],
    ['a header section over 16 KiB', get('/v1/status', `X-Big: ${'a'.repeat(20_000)}\r\n`), 431, 'ERR_HEADERS_TOO_LARGE'],
    ['a path over 16 KiB', get(`/v1/accounts/${'a'.repeat(20_000)}`), 431, 'ERR_HEADERS_TOO_LARGE'],
    ['an Expect other than 100-continue', get('/v1/status', 'Expect: coffee\r\n'), 417, 'ERR_EXPECTATION_FAILED'],
    ['a body that is not JSON', post('/v1/ops', '{not json'), 400, 'ERR_BAD_JSON'],
    ['a body that is not UTF-8', postBytes('/v1/ops', latin1('{"ops": ["\u00ff"]}')), 400, 'ERR_BAD_JSON'],
    ['null', post('/v1/ops', 'null'), 400, 'ERR_BAD_REQUEST'],
    ['a list', post('/v1/ops', '[]'), 400, 'ERR_BAD_REQUEST'],
    ['ops that are numbers', post('/v1/ops', '{"ops": [1, 2]}'), 400, 'ERR_BAD_REQUEST'],
    ['ops of odd-length hex', post('/v1/ops', '{"ops": ["abc"]}'), 400, 'ERR_BAD_REQUEST'],
    ['more ops than a batch holds', post('/v1/ops', JSON.stringify({ ops: Array(1025).fill('00') })), 400, 'ERR_BAD_REQUEST'],
    ['an empty body', post('/v1/ops', ''), 400, 'ERR_BAD_JSON'],
    ['a body declared as text', post('/v1/ops', '{"ops": ["00"]}', 'Content-Type: text/plain\r\n'), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a body with no content type', post('/v1/ops', '{"ops": ["00"]}', ''), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a body in Latin-1', post('/v1/ops', '{"ops": ["00"]}', 'Content-Type: application/json; charset=latin1\r\n'), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a gzipped body', post('/v1/ops', '{"ops": ["00"]}', 'Content-Type: application/json\r\nContent-Encoding: gzip\r\n'), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a Content-Length that is not a number', 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}', 400, 'ERR_BAD_HTTP'],
    ['two different Content-Lengths', 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400, 'ERR_BAD_HTTP'],
    ['Content-Length and chunked together', 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n', 400, 'ERR_BAD_HTTP'],
    ['a bad chunk size', 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'ERR_BAD_HTTP'],
    ['a declared body over 8 MiB', 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}', 413, 'ERR_TOO_LARGE'],
    ['a body cut short', 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ops"', 400, 'ERR_BAD_HTTP']
  ]

  for (const [what, request, status, code] of cases) {
    test(`${what}: ${status} ${code}`, async () => {
      const r = await one(request)
      assert.equal(r.status, status, r.body.toString())
      assert.equal(errorCode(r), code)
    })
  }

  test('405 lists the methods the path allows', async () => {
    const put = await one('PUT /v1/status HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n')
    assert.equal(put.status, 405)
    assert.equal(put.header('allow'), 'GET, HEAD, OPTIONS')
    const getOps = await one(get('/v1/ops'))
    assert.equal(getOps.status, 405)
    assert.equal(getOps.header('allow'), 'POST, OPTIONS')
  })

  test('odd but valid targets still reach their route', async () => {
    for (const target of ['//v1//status?stateHash=false', 'http://elsewhere/v1/status?stateHash=false', '/v1/status/?stateHash=false#frag', '/%76%31/status']) {
      const r = await one(get(target))
      assert.equal(r.status, 200, `${target}: ${r.body.toString()}`)
      assert.equal(typeof (JSON.parse(r.body.toString()) as { delivered: number }).delivered, 'number')
    }
    const head = await one('HEAD /v1/genesis HTTP/1.1\r\nHost: t\r\n\r\n', net.port, true)
    assert.equal(head.status, 200)
    assert.ok(Number(head.header('content-length')) > 0)
    const options = await one('OPTIONS /v1/ops HTTP/1.1\r\nHost: t\r\n\r\n')
    assert.equal(options.status, 204)
    assert.equal(options.header('allow'), 'POST, OPTIONS')
    assert.equal(options.header('access-control-allow-origin'), undefined)
  })

  test('a chunked body past the limit is cut off with 413', async () => {
    const small = await net.another({ body: { maxBytes: 1000 } })
    const chunk = `64\r\n${'a'.repeat(100)}\r\n`
    const r = await one(`POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(20)}0\r\n\r\n`, small.port)
    assert.equal(r.status, 413)
    assert.equal(errorCode(r), 'ERR_TOO_LARGE')
    assert.equal(r.header('connection'), 'close')
  })

  test('none of it was an internal error, and the node still answers', async () => {
    assert.deepEqual(errors, [])
    const r = await one(get('/v1/status'))
    assert.equal(r.status, 200)
  })
})
