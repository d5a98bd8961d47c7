// Clients that hold connections without finishing a request are cut off on time: headers sent a
// byte a second (Node 20 checked its 10 s headers timeout only every 30 s, so such a client stayed
// 30 s), a body trickled in, idle keep-alive sockets, and more connections than the cap. The
// node's real limits, real sockets; the tests run side by side, so the file takes ~12 s.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { DEFAULT_CONNECTION_LIMITS } from '../../src/api/connections.js'
import { DEFAULT_BODY_LIMITS } from '../../src/api/server.js'
import { errorCode, exchange, parseResponses } from '../support/raw-http.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'

interface Trickled { closedAfterMs: number, bytes: Buffer, sent: number }

/** Sends `head` at once, then `trickle` one byte every `everyMs`, until the server closes. */
async function trickle (port: number, head: string, rest: string, everyMs: number, giveUpMs: number): Promise<Trickled> {
  return await new Promise((resolve, reject) => {
    const started = performance.now()
    const chunks: Uint8Array[] = []
    let sent = 0
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(head)
      const next = (): void => {
        if (socket.destroyed || sent >= rest.length) return
        socket.write(rest[sent++]!)
        timer = setTimeout(next, everyMs)
      }
      timer = setTimeout(next, everyMs)
    })
    let timer: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => { socket.destroy(); reject(new Error(`still open after ${giveUpMs} ms, ${sent} bytes trickled`)) }, giveUpMs)
    socket.on('data', (d: Buffer) => chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      clearTimeout(giveUp)
      resolve({ closedAfterMs: performance.now() - started, bytes: Buffer.concat(chunks), sent })
    })
  })
}

describe('slow senders', { concurrency: true }, () => {
  let net: ApiNode
  before(async () => { net = await startApiNode('api-slow') })
  after(async () => { await net.stop() })

  test('a client sending headers a byte a second is cut off at the headers timeout', async () => {
    const limit = DEFAULT_CONNECTION_LIMITS.headersTimeoutMs
    const headers = `GET /v1/status HTTP/1.1\r\nHost: t\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`
    const t = await trickle(net.port, 'G', headers.slice(1), 1000, limit + 10_000)
    assert.ok(t.closedAfterMs >= limit - 1000, `cut off early: ${t.closedAfterMs} ms`)
    assert.ok(t.closedAfterMs <= limit + 2000, `cut off after ${Math.round(t.closedAfterMs)} ms, more than the ${limit} ms headers timeout + 2 s`)
    const [r] = parseResponses(t.bytes)
    assert.equal(r?.status, 408)
    assert.equal(errorCode(r), 'ERR_TIMEOUT')
  })

  test('a body trickled in is cut off with 408 once it falls behind the minimum rate', async () => {
    const body = JSON.stringify({ ops: ['00'.repeat(200)] })
    const head = `POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
    const t = await trickle(net.port, head, body, 100, 10_000)
    assert.ok(t.closedAfterMs <= DEFAULT_BODY_LIMITS.graceMs + 2000, `cut off after ${Math.round(t.closedAfterMs)} ms`)
    assert.ok(t.sent < body.length)
    const [r] = parseResponses(t.bytes)
    assert.equal(r?.status, 408)
    assert.equal(errorCode(r), 'ERR_SLOW_BODY')
    assert.equal(r.header('connection'), 'close')
  })

  test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const limit = DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs
    const t = await trickle(net.port, 'GET /v1/peers HTTP/1.1\r\nHost: t\r\n\r\n', '', 1000, limit + 5000)
    assert.ok(t.closedAfterMs >= limit - 500 && t.closedAfterMs <= limit + 2000, `closed after ${Math.round(t.closedAfterMs)} ms`)
    assert.equal(parseResponses(t.bytes)[0]?.status, 200)
  })

  test('past the connection cap a new connection is refused, and served again once others close', async () => {
    const capped = await net.another({ connections: { maxConnections: 4 } })
    const idle = await Promise.all(Array.from({ length: 4 }, async () => await new Promise<ReturnType<typeof connect>>(resolve => {
      const s = connect(capped.port, '127.0.0.1', () => resolve(s))
      s.on('error', () => {})
    })))
    // the server counts a connection once it has accepted it
    await new Promise(resolve => setTimeout(resolve, 200))
    const refused = await exchange(capped.port, 'GET /v1/peers HTTP/1.1\r\nHost: t\r\n\r\n', 3000)
    assert.ok(refused.closed, 'the fifth connection was neither served nor closed')
    assert.equal(refused.bytes.length, 0)
    for (const s of idle) s.destroy()
    await new Promise(resolve => setTimeout(resolve, 200))
    const served = await exchange(capped.port, 'GET /v1/peers HTTP/1.1\r\nHost: t\r\n\r\n')
    assert.equal(parseResponses(served.bytes)[0]?.status, 200)
  })

  test('meanwhile the node answers everyone else at once', async () => {
    for (let i = 0; i < 10; i++) {
      await new Promise(resolve => setTimeout(resolve, 500))
      const ex = await exchange(net.port, 'GET /v1/status?stateHash=false HTTP/1.1\r\nHost: t\r\n\r\n', 2000)
      assert.equal(parseResponses(ex.bytes)[0]?.status, 200)
      assert.ok(ex.ms < 1000, `a status request took ${Math.round(ex.ms)} ms`)
    }
  })
})
