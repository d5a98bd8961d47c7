// POST /v1/contracts/{address}/sequencer: what its body may be, and that a refusal of the node's
// is a 409 with its own code, not a 500.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ApiError } from '../../src/api/errors.js'
import { hasBody, parseRotationRequest, rotateSequencer } from '../../src/api/validator-routes.js'
import { SequencerRotationError } from '../../src/node/node.js'
import type { IncomingMessage } from 'node:http'

const bad = (err: unknown): boolean => err instanceof ApiError && err.status === 400 && err.code === 'ERR_BAD_REQUEST'

describe('POST /v1/contracts/{address}/sequencer', () => {
  test('the body: nothing, {} or {"request": <128 hex>}', () => {
    assert.equal(parseRotationRequest({}), null)
    assert.equal(parseRotationRequest({ request: null }), null)
    assert.deepEqual(parseRotationRequest({ request: 'ab'.repeat(64) }), new Uint8Array(64).fill(0xab))
    for (const body of [null, [], 'x', { request: 'ab' }, { request: 'AB'.repeat(64) }, { request: 5 }, { to: 'ab'.repeat(32) }, { request: 'ab'.repeat(64), extra: 1 }]) {
      assert.throws(() => parseRotationRequest(body), bad, JSON.stringify(body))
    }
    const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage
    assert.equal(hasBody(req({})), false)
    assert.equal(hasBody(req({ 'content-length': '0' })), false)
    assert.equal(hasBody(req({ 'content-length': '2' })), true)
    assert.equal(hasBody(req({ 'transfer-encoding': 'chunked' })), true)
  })

  test('a rotation the node does not sign is 409 ERR_SEQUENCER_ROTATION', async () => {
    await assert.rejects(rotateSequencer(async () => { throw new SequencerRotationError('already sequences it') }),
      (err: unknown) => err instanceof ApiError && err.status === 409 && err.code === 'ERR_SEQUENCER_ROTATION' && /already/.test(err.message))
    await assert.rejects(rotateSequencer(async () => { throw new Error('disk') }), /disk/)
  })
})
