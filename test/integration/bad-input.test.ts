// Untrusted input against a real node: malformed and oversized API requests, ops with bad
// signatures, garbage and oversized frames from a libp2p peer, and a flood from one peer. The node
// answers with an error or drops the input, keeps serving others, and changes no state.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '../../src/net/polyfill.js'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { toHex } from '../../src/core/crypto/hash.js'
import { Domain, signFor, signerFrom } from '../../src/core/crypto/signing.js'
import { encode } from '../../src/core/codec/canonical.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import { encodeMessage } from '../../src/core/broadcast/messages.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { startApi } from '../../src/api/server.js'
import type { ApiServer } from '../../src/api/server.js'
import { peerIdForSeed } from '../../src/net/network.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'

describe('a node under bad input', () => {
  let dir: string
  let node: BftNode
  let api: ApiServer
  let base: string
  let p2pAddr: string
  const alice = signerFrom(sodiumScheme, seedOf('bad-alice', 0))
  const bob = signerFrom(sodiumScheme, seedOf('bad-bob', 0))
  const validatorSeed = seedOf('bad-validator', 0)

  const post = async (path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number, json: { error?: { code: string } } & Record<string, unknown> }> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
    return { status: res.status, json: await res.json() as { error?: { code: string } } }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-bad-'))
    const genesis = makeGenesis({ network: 'bad-input', validators: [sodiumScheme.publicKeyOf(validatorSeed)], mintAuthority: alice.publicKey, balances: [{ account: alice.publicKey, amount: 1000n }] })
    const [p2p, apiPort] = await freePorts(2)
    node = await BftNode.start({ ...defaultConfig(dir), listen: [`/ip4/127.0.0.1/tcp/${p2p!}`], mdns: false, inboundRate: 200 }, genesis, validatorSeed, silentLogger)
    api = await startApi(node, '127.0.0.1', apiPort!)
    base = `http://127.0.0.1:${api.port}/v1`
    p2pAddr = `/ip4/127.0.0.1/tcp/${p2p!}/p2p/${await peerIdForSeed(validatorSeed)}`
  })

  after(async () => {
    await api.close()
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  })

  test('malformed, oversized and mistyped API requests get a clear error and change nothing', async () => {
    const before = node.replica.status()
    const cases: Array<[string, string, number, string]> = [
      ['/ops', '{not json', 400, 'ERR_BAD_JSON'],
      ['/ops', '{"ops": "nope"}', 400, 'ERR_BAD_REQUEST'],
      ['/ops', '{"ops": []}', 400, 'ERR_BAD_REQUEST'],
      ['/ops', '{"ops": ["zz"]}', 400, 'ERR_BAD_REQUEST'],
      ['/ops', JSON.stringify({ ops: ['00'.repeat(5 * 1024 * 1024)] }), 413, 'ERR_TOO_LARGE']
    ]
    for (const [path, body, status, code] of cases) {
      const res = await post(path, body)
      assert.equal(res.status, status, `${body.slice(0, 30)}`)
      assert.equal(res.json.error?.code, code)
    }
    const notFound = await fetch(`${base}/accounts/xyz`)
    assert.equal(notFound.status, 400)
    assert.equal((await fetch(`${base}/nowhere`)).status, 404)
    assert.equal((await fetch(`${base}/calls/${'a'.repeat(64)}/0`)).status, 400)
    assert.deepEqual(node.replica.status(), before)
  })

  test('ops that are malformed or signed wrong are refused one by one with a reason', async () => {
    const good = signOp(alice, node.replica.networkId, { account: alice.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: bob.publicKey, amount: 5n } })
    const forged = encode([good.payload, signFor(bob, Domain.op, node.replica.networkId, good.payload)])
    const voteDomain = encode([good.payload, signFor(alice, Domain.vote, node.replica.networkId, good.payload)])
    const res = await post('/ops', JSON.stringify({ ops: [toHex(forged), toHex(voteDomain), 'a1', toHex(good.bytes)] }))
    assert.equal(res.status, 202)
    const results = res.json.results as Array<{ status: string, code?: string }>
    assert.deepEqual(results.map(r => r.code ?? r.status), ['bad-signature', 'bad-signature', 'malformed', 'queued'])
    assert.equal((await node.waitFor(toHex(good.hash), 5000))?.status, 'delivered')
    assert.equal(node.replica.ledger.balance(alice.publicKey), 995n)
  })

  test('garbage, oversized frames and a flood from one libp2p peer are dropped; the node keeps serving', async () => {
    const attacker = await createLibp2p({
      privateKey: await generateKeyPairFromSeed('Ed25519', seedOf('attacker', 0)),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
    try {
      const before = node.replica.status()
      const protocol = `/bftnode/${node.networkIdHex.slice(0, 16)}/direct/1.0.0`
      const stream = await attacker.dialProtocol(multiaddr(p2pAddr), protocol)
      const lp = lpStream(stream, { maxDataLength: 16 * 1024 * 1024 })
      await lp.write(new Uint8Array([0xff, 0x00, 0x13]))
      await lp.write(encodeMessage({ type: 'frontier', entries: [{ account: new Uint8Array(32), seq: 99 }], complete: false, checkpoint: 0 }))
      // a certificate without votes and one claimed by a non-member are rejected
      const op = signOp(bob, node.replica.networkId, { account: bob.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: alice.publicKey, amount: 1n } })
      await lp.write(encodeMessage({ type: 'certified', ops: [op.bytes], votes: [] }))
      // an oversized frame ends this stream
      await lp.write(new Uint8Array(5 * 1024 * 1024)).catch(() => {})
      // a flood on a new stream: far past the inbound rate (200/s here)
      const flood = lpStream(await attacker.dialProtocol(multiaddr(p2pAddr), protocol))
      const junk = encodeMessage({ type: 'fetch', account: new Uint8Array(32), fromSeq: 1, toSeq: 10 })
      await Promise.race([
        (async () => { for (let i = 0; i < 5000; i++) await flood.write(junk) })().catch(() => {}),
        new Promise(resolve => setTimeout(resolve, 5000))
      ])
      // the node still serves its API and still takes ops
      const after = node.replica.status()
      assert.equal(after.delivered, before.delivered)
      assert.equal(after.stateHash, before.stateHash)
      const next = signOp(alice, node.replica.networkId, { account: alice.publicKey, seq: 2, deps: [], body: { kind: 'transfer', to: bob.publicKey, amount: 1n } })
      const res = await post('/ops', JSON.stringify({ ops: [toHex(next.bytes)] }))
      assert.equal(res.status, 202)
      await waitFor('the next op to be delivered', 5000, () => node.replica.ledger.nextSeq(alice.publicKey) === 3)
    } finally {
      await attacker.stop()
    }
  })
})
