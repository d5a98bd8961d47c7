// A stream filtered to one account is cut only when an entry it was owed is evicted, not because
// other accounts' entries were: a sparse account's follower whose socket filled while 100,000
// other deliveries went by has lost nothing (found by the history review, fixed here). And a
// resume from an id whose successors were evicted is told so (event: gap), not left a silent hole.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { toHex } from '../../src/core/crypto/hash.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { DEFAULT_HISTORY_LIMITS, HistoryIndex } from '../../src/node/history.js'
import { DEFAULT_STREAM_LIMITS, EventStreams } from '../../src/api/history-routes.js'
import { parseTarget } from '../../src/api/request.js'
import { silentLogger } from '../../src/node/log.js'

const key = (): Uint8Array => new Uint8Array(randomBytes(32))
const none = { callOutcome: () => undefined }

function transfer (account: Uint8Array, seq: number): SignedOp {
  return { account, seq, deps: [], body: { kind: 'transfer', to: account, amount: 1n }, sig: new Uint8Array(0), payload: new Uint8Array(0), bytes: new Uint8Array(0), hash: key() }
}

/** A response whose socket buffer fills on demand and drains when told. */
class FakeResponse extends EventEmitter {
  written = ''
  full = false
  destroyed = false
  ended = false
  readonly socket = new EventEmitter()
  get writableNeedDrain (): boolean { return this.full }
  writeHead (): this { return this }
  write (text: string): boolean { this.written += text; return !this.full }
  end (): void { this.ended = true }
  destroy (): void { this.destroyed = true; this.emit('close') }
  drain (): void { this.full = false; this.emit('drain') }
}

test('a follower of one account survives other accounts\' evictions while its socket is full', async () => {
  const index = new HistoryIndex({ ...DEFAULT_HISTORY_LIMITS, maxOps: 10 })
  const streams = new EventStreams(index, DEFAULT_STREAM_LIMITS, silentLogger)
  const alice = key()
  const res = new FakeResponse()
  const req = { headers: {}, headersDistinct: {}, method: 'GET', socket: res.socket } as unknown as IncomingMessage
  streams.open(req, res as unknown as ServerResponse, parseTarget(`/v1/events?account=${toHex(alice)}`))
  const deliver = (op: SignedOp): void => { index.delivered(op, { status: 'applied' }, toHex(op.hash), none) }
  deliver(transfer(alice, 1))
  assert.match(res.written, /"seq":1/)
  // the reader's socket fills; 50 ops of others go by (the index keeps 10), then alice's next one
  res.full = true
  for (let i = 0; i < 50; i++) deliver(transfer(key(), 1))
  deliver(transfer(alice, 2))
  res.drain()
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(res.destroyed, false, 'cut though nothing it was owed was evicted')
  assert.equal(streams.cut, 0)
  assert.match(res.written, /"seq":2/)
  // caught up while others keep coming: still following
  for (let i = 0; i < 50; i++) deliver(transfer(key(), 1))
  res.full = true
  deliver(transfer(alice, 3))
  res.drain()
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(res.destroyed, false)
  assert.match(res.written, /"seq":3/)
  streams.close()
})

test('a resume from an id whose successors were evicted says so with a gap message, then carries on', async () => {
  const index = new HistoryIndex({ ...DEFAULT_HISTORY_LIMITS, maxOps: 10 })
  const streams = new EventStreams(index, DEFAULT_STREAM_LIMITS, silentLogger)
  for (let i = 0; i < 30; i++) index.delivered(transfer(key(), 1), { status: 'applied' }, undefined, none)
  const open = (lastEventId: string): FakeResponse => {
    const res = new FakeResponse()
    const req = { headers: { 'last-event-id': lastEventId }, headersDistinct: { 'last-event-id': [lastEventId] }, method: 'GET', socket: res.socket } as unknown as IncomingMessage
    streams.open(req, res as unknown as ServerResponse, parseTarget('/v1/events'))
    return res
  }
  const late = open('5')
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.match(late.written, /event: gap\ndata: \{"after":"5","through":"20"\}\n\n/)
  // what the index still holds follows the gap: ops 21 to 30
  assert.equal((late.written.match(/event: delivered/g) ?? []).length, 10)
  const onTime = open('25')
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.doesNotMatch(onTime.written, /event: gap/)
  assert.equal((onTime.written.match(/event: delivered/g) ?? []).length, 5)
  streams.close()
})
