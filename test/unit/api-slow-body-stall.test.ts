// The slow-body guard judges the sender, not this process: while the event loop is stuck nothing
// is read, and a body that was sent in time must not be cut for it when the loop resumes.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { stat } from 'node:fs'
import { startApi } from '../../src/api/server.js'
import type { BftNode } from '../../src/node/node.js'
import { parseResponses } from '../support/raw-http.js'

const stub = { admission: () => undefined, submit: (ops: unknown[]) => ops.map(() => ({ status: 'rejected', code: 'malformed', reason: 'stub' })), replica: { ledger: {} } } as unknown as BftNode

describe('slow-body guard', () => {
  test('a stall of the node\'s own event loop does not count against a sender', async () => {
    const api = await startApi(stub, '127.0.0.1', 0, { body: { graceMs: 500, minBytesPerSecond: 4096 } })
    try {
      const body = JSON.stringify({ ops: ['00'] })
      const bytes = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Uint8Array[] = []
        const socket = connect(api.port, '127.0.0.1', () => {
          socket.write(`POST /v1/ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, -1)}`)
          // the server has the headers and most of the body; then this process stalls for 3 s in
          // an I/O callback (as a busy node would), so its timers run before it reads the rest
          setTimeout(() => stat('.', () => {
            const until = Date.now() + 3000
            while (Date.now() < until) { /* stuck */ }
            socket.end(body.slice(-1))
          }), 200)
        })
        socket.on('data', (d: Buffer) => chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)))
        socket.on('error', reject)
        socket.on('close', () => resolve(Buffer.concat(chunks)))
      })
      assert.equal(parseResponses(bytes)[0]?.status, 202, bytes.toString())
    } finally { await api.close() }
  })
})
