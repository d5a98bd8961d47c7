// Many connections each sending the largest body: Node reads them all at once, so without a
// budget shared by the server's requests, maxConnections x maxBytes (1024 x 8 MiB = 8 GiB) could
// be held at once. Past the budget a request is answered 503 ERR_BUSY instead of read, and the
// budget is given back when a body is done with.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { errorCode, exchange, parseResponses } from '../support/raw-http.js'
import type { RawResponse } from '../support/raw-http.js'
import { startApiNode } from '../support/api-node.js'
import { waitFor } from '../support/ports.js'
import type { ApiNode } from '../support/api-node.js'

const MAX_BYTES = 1024 * 1024
const BUDGET = 3 * MAX_BYTES

/** Sends all but the last byte of a maxBytes body and keeps the connection open; `answer()` is what the server answered so far. */
async function holdBody (port: number): Promise<{ socket: Socket, answer: () => Buffer }> {
  return await new Promise(resolve => {
    const chunks: Uint8Array[] = []
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BYTES}\r\n\r\n`)
      socket.write(new Uint8Array(MAX_BYTES - 1).fill(0x20))
      resolve({ socket, answer: () => Buffer.concat(chunks) })
    })
    socket.on('data', (d: Buffer) => chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)))
    socket.on('error', () => {})
  })
}

describe('request bodies in flight', () => {
  let net: ApiNode
  before(async () => { net = await startApiNode('api-budget', { body: { maxBytes: MAX_BYTES, maxInFlightBytes: BUDGET, graceMs: 20_000 } }) })
  after(async () => { await net.stop() })

  test('past the budget, a body is answered 503 ERR_BUSY rather than held; the budget comes back', async () => {
    const held = await Promise.all(Array.from({ length: 6 }, async () => await holdBody(net.port)))
    const answered = (): Array<RawResponse | undefined> => held.map(h => h.answer().length === 0 ? undefined : parseResponses(h.answer())[0]!)
    const refused = (): number => answered().filter(r => r !== undefined && r.status === 503 && errorCode(r) === 'ERR_BUSY').length
    // how soon the bodies are read depends on the machine's load: wait for the refusals (graceMs is 20 s)
    await waitFor('three bodies refused', 10_000, async () => refused() >= 3).catch(() => {})
    const answers = answered()
    const busy = answers.filter(r => r !== undefined && r.status === 503 && errorCode(r) === 'ERR_BUSY')
    // three whole bodies fit (each holds at most maxBytes); the others are refused
    assert.ok(busy.length >= 3, `${busy.length} of 6 refused; answers: ${answers.map(r => r?.status ?? 'none').join(', ')}`)
    assert.ok(answers.filter(r => r === undefined).length >= 2, 'the bodies within the budget are still being read')
    for (const h of held) h.socket.destroy()
    await new Promise(resolve => setTimeout(resolve, 300))
    const ok = await exchange(net.port, 'POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{"ops":[]}')
    const [r] = parseResponses(ok.bytes)
    assert.equal(r?.status, 400, 'a body is read again once the others are gone')
    assert.equal(errorCode(r!), 'ERR_BAD_REQUEST')
  })
})
