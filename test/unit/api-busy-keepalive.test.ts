// Review: the 503 answer before the body is read, over a keep-alive connection.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startApi } from '../../src/api/server.js'
import type { BftNode } from '../../src/node/node.js'

const stub = { admission: () => ({ retryAfterMs: 250, reason: 'the node is saturated: test' }), replica: { ledger: {} } } as unknown as BftNode

function post (agent: http.Agent, port: number, body: Buffer): Promise<{ status: number, retryAfter: string | undefined, reused: boolean, text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/ops', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, res => {
      let text = ''
      res.on('data', d => { text += d })
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], reused: req.reusedSocket, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('503 before reading the body', () => {
  test('keep-alive survives a 503 sent before a large body was read', async () => {
    const api = await startApi(stub, '127.0.0.1', 0)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const big = Buffer.from(JSON.stringify({ ops: ['00'.repeat(1_000_000)] }))
      const a = await post(agent, api.port, big)
      const b = await post(agent, api.port, big)
      assert.equal(a.status, 503)
      assert.equal(b.status, 503)
    } finally { agent.destroy(); await api.close() }
  })
})
