// GET /v1/events pipelined behind a slower request on one keep-alive connection: its response is
// queued, with no socket (res.socket is null) until the one before it is done. A client that ends
// its side while the stream is still queued gets every answer, the stream's ended cleanly, and then
// the connection closes; one that drops the connection frees its stream slot at once. Before the
// fix the queued stream never saw the client go: it stayed open (and held a slot) forever, and
// the API fuzzer hung on its seed request 717.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { parseResponses } from '../support/raw-http.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'
import { waitFor } from '../support/ports.js'

const UNKNOWN_OP = 'ab'.repeat(32)
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** A raw connection that keeps what the server sends and notes when the server closes it. */
async function rawConnection (port: number): Promise<{ socket: Socket, received: () => Buffer, closed: Promise<number> }> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>(resolve => socket.once('connect', resolve))
  const chunks: Uint8Array[] = []
  socket.on('data', (d: Buffer) => chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)))
  socket.on('error', () => {})
  const closed = new Promise<number>(resolve => socket.once('close', () => resolve(Date.now())))
  return { socket, received: () => Buffer.concat(chunks), closed }
}

describe('a pipelined event stream', () => {
  let net: ApiNode
  before(async () => { net = await startApiNode('history-pipelined') })
  after(async () => { await net.stop() })

  /** Whether the API (capped at one stream) has its stream slot free: it answers 200, not 503. */
  const slotFree = async (port: number): Promise<boolean> => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/events`)
    if (res.status === 200) await res.body?.cancel()
    else await res.arrayBuffer()
    return res.status === 200
  }

  test('queued behind a slow answer, it ends once the client has ended its side; every answer arrives and the slot is freed', async () => {
    const api = await net.another({ streams: { maxSubscribers: 1 } })
    const conn = await rawConnection(api.port)
    conn.socket.write(
      `GET /v1/ops/${UNKNOWN_OP}?wait=1000 HTTP/1.1\r\nHost: t\r\n\r\n` +
      'GET /v1/events HTTP/1.1\r\nHost: t\r\n\r\n' +
      'GET /v1/health HTTP/1.1\r\nHost: t\r\n\r\n')
    await sleep(150)
    // the queued stream holds the only slot, though nothing of it was sent yet
    assert.equal(await slotFree(api.port), false)
    assert.equal(conn.received().length, 0)
    // the client has sent everything: it ends its side while the stream is still queued
    const ended = Date.now()
    conn.socket.end()
    const closedAt = await Promise.race([conn.closed, sleep(5000).then(() => undefined)])
    assert.ok(closedAt !== undefined, 'the server did not close the connection within 5 s')
    // the op wait (1 s) is the only thing the close waited for
    assert.ok(closedAt - ended < 3000, `closed ${closedAt - ended} ms after the client ended`)
    const answers = parseResponses(conn.received())
    assert.deepEqual(answers.map(r => r.status), [404, 200, 200])
    assert.match(answers[1]!.header('content-type') ?? '', /^text\/event-stream/)
    assert.match(answers[1]!.body.toString('utf8'), /^: subscribed; last index \d+\nretry: 3000\n\n$/)
    assert.equal(JSON.parse(answers[2]!.body.toString('utf8')).status, 'ok')
    assert.equal(await slotFree(api.port), true, 'the stream still holds its slot')
    const started = Date.now()
    await api.close()
    assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`)
  })

  test('queued behind a slow answer, its slot is freed as soon as the client drops the connection', async () => {
    const api = await net.another({ streams: { maxSubscribers: 1 } })
    const conn = await rawConnection(api.port)
    conn.socket.write(`GET /v1/ops/${UNKNOWN_OP}?wait=3000 HTTP/1.1\r\nHost: t\r\n\r\nGET /v1/events HTTP/1.1\r\nHost: t\r\n\r\n`)
    await sleep(150)
    assert.equal(await slotFree(api.port), false)
    const dropped = Date.now()
    conn.socket.destroy()
    // long before the op wait ends (and the stream would have reached the front)
    await waitFor('the stream slot', 1000, async () => await slotFree(api.port))
    assert.ok(Date.now() - dropped < 1500)
    await api.close()
  })
})
