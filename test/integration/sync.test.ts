// The sync protocol between real P2PNetwork hosts on 127.0.0.1: an answer comes back from the
// handler, and every way a request can fail ends in a SyncRequestError with its reason, while the
// server keeps answering the next request.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import '../../src/net/polyfill.js'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { sodiumScheme } from '../../src/native/sodium.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { silentLogger } from '../../src/node/log.js'
import { P2PNetwork } from '../../src/net/network.js'
import type { NetworkHandlers } from '../../src/net/network.js'
import { SYNC_LIMITS, SyncRequestError } from '../../src/net/sync.js'
import type { SyncFailure } from '../../src/net/sync.js'
import { freePorts } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'
import { rawPeer } from '../support/hosts.js'

const NETWORK_ID = 'ab'.repeat(32)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** What the server does with a request, chosen by the request's text. */
async function serverAnswer (request: Uint8Array): Promise<Uint8Array | undefined> {
  const ask = new TextDecoder().decode(request.subarray(0, 32))
  if (ask === 'refuse') return undefined
  if (ask === 'hang') return await new Promise(() => {})
  if (ask === 'throw') throw new Error('handler bug')
  if (ask.startsWith('big ')) return new Uint8Array(Number(ask.slice(4))).fill(7)
  return text(`echo ${ask}`)
}

async function rejectsWith (reason: SyncFailure, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SyncRequestError, `${String(err)}`)
    assert.equal(err.code, 'ERR_SYNC_REQUEST')
    assert.equal(err.reason, reason)
    assert.match(err.message, new RegExp(err.peer.slice(0, 16)))
    return true
  })
}

describe('the sync protocol over libp2p', () => {
  const seeds = [0, 1, 2].map(i => seedOf('it-sync', i))
  const keys = seeds.map(s => toHex(sodiumScheme.publicKeyOf(s)))
  const nets: P2PNetwork[] = []
  const seen: Array<{ from: string, bytes: number }> = []

  before(async () => {
    const ports = await freePorts(3)
    const handlers = (i: number): NetworkHandlers => ({
      direct: () => 'accept',
      gossip: () => 'accept',
      // the third host has no sync handler at all
      sync: i === 2
        ? undefined
        : async (from, request) => {
          seen.push({ from, bytes: request.byteLength })
          return await serverAnswer(request)
        }
    })
    for (let i = 0; i < 3; i++) {
      nets.push(await P2PNetwork.start({
        seed: seeds[i]!,
        networkId: NETWORK_ID,
        listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
        bootstrap: [],
        mdns: false,
        maxConnections: 16,
        inboundRate: 1000,
        log: silentLogger
      }, handlers(i)))
    }
  })

  after(async () => {
    await Promise.all(nets.map(async n => await n.stop()))
  })

  test('dial returns the remote key and refuses a bad address', async () => {
    assert.equal(await nets[1]!.dial(nets[0]!.addresses()[0]!), keys[0])
    assert.equal(await nets[1]!.dial(nets[2]!.addresses()[0]!), keys[2])
    await assert.rejects(nets[1]!.dial('not/a/multiaddr'), /not a peer address/)
  })

  test('a request gets the handler\'s answer, and the handler sees who asked', async () => {
    seen.length = 0
    const answer = await nets[1]!.request(keys[0]!, text('hello'))
    assert.equal(new TextDecoder().decode(answer), 'echo hello')
    assert.deepEqual(seen, [{ from: keys[1], bytes: 5 }])
  })

  test('an answer of several MiB arrives whole', async () => {
    const size = 6 * 1024 * 1024
    const answer = await nets[1]!.request(keys[0]!, text(`big ${size}`))
    assert.equal(answer.byteLength, size)
    assert.ok(answer.every(b => b === 7))
  })

  test('a handler returning undefined, or no handler, is a refusal', async () => {
    await rejectsWith('refused', nets[1]!.request(keys[0]!, text('refuse')))
    await rejectsWith('refused', nets[1]!.request(keys[2]!, text('hello')))
  })

  test('a handler that never answers ends in a timeout, on time', async () => {
    const start = Date.now()
    await rejectsWith('timeout', nets[1]!.request(keys[0]!, text('hang'), { timeoutMs: 500 }))
    const took = Date.now() - start
    assert.ok(took >= 450 && took < 2000, `took ${took} ms`)
  })

  test('an answer over the client\'s limit is too-large', async () => {
    await rejectsWith('too-large', nets[1]!.request(keys[0]!, text('big 2048'), { maxResponseBytes: 1024 }))
    // the limit is inclusive
    assert.equal((await nets[1]!.request(keys[0]!, text('big 1024'), { maxResponseBytes: 1024 })).byteLength, 1024)
  })

  test('an oversized request is refused without reaching the handler', async () => {
    seen.length = 0
    // our client does not even send it
    await rejectsWith('refused', nets[1]!.request(keys[0]!, new Uint8Array(SYNC_LIMITS.maxRequestBytes + 1)))
    // a client that does gets the empty frame that means refused
    const raw = await rawPeer(seedOf('it-sync-raw', 0))
    try {
      const stream = await raw.dialProtocol(multiaddr(nets[0]!.addresses()[0]!), `/bftnode/${NETWORK_ID.slice(0, 16)}/sync/1.0.0`)
      const lp = lpStream(stream)
      await lp.write(new Uint8Array(SYNC_LIMITS.maxRequestBytes + 1))
      assert.equal((await lp.read({ signal: AbortSignal.timeout(5000) })).byteLength, 0)
    } finally {
      await raw.stop()
    }
    assert.equal(seen.length, 0)
    // exactly the limit still reaches it
    assert.equal((await nets[1]!.request(keys[0]!, new Uint8Array(SYNC_LIMITS.maxRequestBytes))).byteLength > 0, true)
    assert.deepEqual(seen.map(s => s.bytes), [SYNC_LIMITS.maxRequestBytes])
  })

  test('a handler that throws closes that stream only; the server answers the next request', async () => {
    await rejectsWith('closed', nets[1]!.request(keys[0]!, text('throw')))
    assert.equal(new TextDecoder().decode(await nets[1]!.request(keys[0]!, text('again'))), 'echo again')
  })

  test('concurrent requests from two clients are each answered', async () => {
    await nets[2]!.dial(nets[0]!.addresses()[0]!)
    const asks = Array.from({ length: 12 }, (_, i) => `q${i}`)
    const answers = await Promise.all(asks.map(async (q, i) => await nets[1 + (i % 2)]!.request(keys[0]!, text(q))))
    assert.deepEqual(answers.map(a => new TextDecoder().decode(a)), asks.map(q => `echo ${q}`))
  })

  test('a peer nobody can reach is unreachable', async () => {
    const stranger = toHex(sodiumScheme.publicKeyOf(seedOf('it-sync-stranger', 0)))
    await rejectsWith('unreachable', nets[1]!.request(stranger, text('hello'), { timeoutMs: 2000 }))
  })
})
