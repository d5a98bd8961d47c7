// Adversarial checks of BftClient's never-sign-twice rule with several sends sharing one pending
// store (one client, two clients, two tabs or programs): a send that learns an op's fate late must
// not drop a record another send made since, and a send whose view of the account went stale
// while another send filled the slot must not put a second op on it.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient, BftClient, MemoryPendingStore, signOp, signerFromSeed, toHex, transferBody } from '../../src/client/index.js'
import type { AccountView, OpStatusView, PendingStore } from '../../src/client/index.js'
import { FilePendingStore } from '../../src/client/node.js'
import { Wallet } from '../../src/cli/wallet.js'
import { FakeApi } from '../support/fake-api.js'
import { freePort } from '../support/ports.js'

const BOB = '0b'.repeat(32)

/** A gate a test opens by hand. */
function gate (): { wait: Promise<void>, open: () => void } {
  let open!: () => void
  const wait = new Promise<void>(resolve => { open = resolve })
  return { wait, open }
}

/** An ApiClient whose answers a test can hold back after the node gave them (a slow network). */
class HeldApi extends ApiClient {
  holdAccount: Promise<void> | undefined
  holdOp: Promise<void> | undefined
  /** Resolved when a held request has its answer from the node. */
  answered = gate()

  override async account (hex: string): Promise<AccountView> {
    const held = this.holdAccount
    this.holdAccount = undefined
    const v = await super.account(hex)
    if (held !== undefined) { this.answered.open(); await held }
    return v
  }

  override async op (hash: string, waitMs = 0): Promise<OpStatusView> {
    const held = this.holdOp
    const v = await super.op(hash, waitMs)
    if (held !== undefined && v.status === 'delivered') { this.holdOp = undefined; this.answered.open(); await held }
    return v
  }
}

async function until (cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!await cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

const stores: Array<[string, () => Promise<{ store: PendingStore, done: () => Promise<void> }>]> = [
  ['memory', async () => ({ store: new MemoryPendingStore(), done: async () => {} })],
  ['file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-review-'))
    return { store: new FilePendingStore(dir), done: async () => await rm(dir, { recursive: true, force: true }) }
  }]
]

describe('sends sharing one pending store', () => {
  for (const [kind, make] of stores) {
    test(`a send that learns a delivery late does not drop the record of the op signed since (${kind})`, { timeout: 30_000 }, async () => {
      const fake = await new FakeApi(await freePort()).start()
      const { store, done } = await make()
      try {
        const signer = signerFromSeed('21'.repeat(32))
        const me = toHex(signer.publicKey)
        const slow = new HeldApi(fake.url)
        const a = new BftClient({ api: fake.url, signer, pending: store, timeoutMs: 8000 })
        const b = new BftClient({ api: slow, signer, pending: store, timeoutMs: 8000 })
        fake.live = false
        const first = a.transfer(BOB, 1n)
        await until(() => fake.received.length === 1)
        // b settles the same op; the answer that it was delivered reaches b late
        const held = gate()
        slow.holdOp = held.wait
        const settling = b.settle()
        await until(() => fake.received.length === 2)
        fake.release()
        await slow.answered.wait
        assert.equal((await first).status.status, 'delivered')
        // a signs the next op (validators slow again): it is recorded, submitted, waiting
        fake.live = false
        const second = a.transfer(BOB, 2n).catch((err: Error) => err)
        await until(async () => (await store.get(me))?.seq === 2 && fake.received.length === 3)
        const recorded = (await store.get(me))!.hash
        held.open()
        await settling
        assert.equal((await store.get(me))?.hash, recorded, 'the record of the op in flight was dropped')
        // and so a third send would sign another op for its slot
        await b.transfer(BOB, 3n).catch(() => undefined)
        assert.deepEqual(fake.equivocations(), [])
        fake.release()
        await second
      } finally {
        await fake.close()
        await done()
      }
    })

    test(`a send whose account view went stale while another send filled the slot signs nothing for it (${kind})`, { timeout: 30_000 }, async () => {
      const fake = await new FakeApi(await freePort()).start()
      const { store, done } = await make()
      try {
        const signer = signerFromSeed('22'.repeat(32))
        const me = toHex(signer.publicKey)
        const slow = new HeldApi(fake.url)
        const a = new BftClient({ api: fake.url, signer, pending: store, timeoutMs: 8000 })
        const b = new BftClient({ api: slow, signer, pending: store, timeoutMs: 8000 })
        const held = gate()
        slow.holdAccount = held.wait
        // b reads the account (next seq 1), and the answer reaches it late
        const late = b.transfer(BOB, 5n)
        await slow.answered.wait
        // meanwhile a sends an op for seq 1, delivered, its record gone
        assert.equal((await a.transfer(BOB, 1n)).slot.seq, 1)
        assert.equal(await store.get(me), undefined)
        held.open()
        const sent = await late
        assert.deepEqual(fake.equivocations(), [], 'two different ops went out for one slot')
        assert.equal(sent.status.status, 'delivered')
        assert.equal(sent.slot.seq, 2)
      } finally {
        await fake.close()
        await done()
      }
    })
  }
})

describe('FilePendingStore on a CLI wallet directory', () => {
  test('a program and the CLI see one record for an account the wallet names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-review-'))
    try {
      const wallet = new Wallet(dir)
      const seed = new Uint8Array(32).fill(0x23)
      await wallet.create('alice', undefined, seed)
      const signer = signerFromSeed(seed)
      const me = toHex(signer.publicKey)
      const op = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: transferBody(BOB, 1n) })
      // the CLI has an op in flight for alice
      await wallet.setPending('alice', 1, op.bytes, op.hash)
      const store = new FilePendingStore(dir)
      assert.equal((await store.get(me))?.hash, toHex(op.hash), 'the program does not see the CLI\'s pending op')
      const other = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: transferBody(BOB, 2n) })
      await assert.rejects(store.set(me, { seq: 1, op: toHex(other.bytes), hash: toHex(other.hash), account: me }), (err: Error & { code?: string }) => err.code === 'ERR_PENDING_EXISTS')
      // and the other way round: what the program records, the CLI finds under the name
      await wallet.clearPending('alice')
      await store.set(me, { seq: 1, op: toHex(other.bytes), hash: toHex(other.hash), account: me })
      assert.equal((await wallet.pending('alice'))?.hash, toHex(other.hash))
      // an account the wallet does not name keeps its record under its key
      const stranger = signerFromSeed('24'.repeat(32))
      const s = signOp(stranger, new Uint8Array(32), { account: stranger.publicKey, seq: 1, deps: [], body: transferBody(BOB, 1n) })
      await store.set(toHex(stranger.publicKey), { seq: 1, op: toHex(s.bytes), hash: toHex(s.hash), account: toHex(stranger.publicKey) })
      assert.equal((await wallet.pending(toHex(stranger.publicKey)))?.hash, toHex(s.hash))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

/** A node whose answers about accounts are made up (a hostile or broken API). */
class LyingApi extends ApiClient {
  nextSeq: number | undefined
  override async account (hex: string): Promise<AccountView> {
    const v = await super.account(hex)
    return this.nextSeq === undefined ? v : { ...v, nextSeq: this.nextSeq }
  }
}

describe('a node that lies about the account', () => {
  for (const seq of [0, -1, 1.5, 2 ** 60]) {
    test(`next seq ${seq}: nothing that cannot be read back is recorded, so the store is not locked`, { timeout: 30_000 }, async () => {
      const fake = await new FakeApi(await freePort()).start()
      const dir = await mkdtemp(join(tmpdir(), 'bftnode-review-'))
      try {
        const signer = signerFromSeed('25'.repeat(32))
        const me = toHex(signer.publicKey)
        const store = new FilePendingStore(dir)
        const lying = new LyingApi(fake.url)
        lying.nextSeq = seq
        // the submission's answer is lost: the record stays
        fake.fault = r => (r.method === 'POST' ? 'hang' : undefined)
        await assert.rejects(new BftClient({ api: lying, signer, pending: store, timeoutMs: 300 }).transfer(BOB, 1n))
        assert.equal(fake.received.length, 0, 'an op no node can take went out')
        fake.fault = () => undefined
        // an honest node later: the account can send
        assert.equal(await store.get(me), undefined)
        const sent = await new BftClient({ api: fake.url, signer, pending: store, timeoutMs: 3000 }).transfer(BOB, 1n)
        assert.equal(sent.status.status, 'delivered')
      } finally {
        await fake.close()
        await rm(dir, { recursive: true, force: true })
      }
    })
  }
})

describe('reads against a node that never answers', () => {
  test('balance, query and simulate give up after timeoutMs', { timeout: 30_000 }, async () => {
    const fake = await new FakeApi(await freePort()).start()
    try {
      fake.fault = () => 'hang'
      const client = new BftClient({ api: fake.url, signer: signerFromSeed('26'.repeat(32)), pending: new MemoryPendingStore(), timeoutMs: 300 })
      const timeout = (err: Error & { code?: string }): boolean => err.code === 'ERR_TIMEOUT'
      await assert.rejects(client.balance(), timeout)
      await assert.rejects(client.query(BOB, { fn: 'get' }), timeout)
      await assert.rejects(client.simulate(transferBody(BOB, 1n)), timeout)
    } finally {
      await fake.close()
    }
  })
})

describe('the example\'s dev server', () => {
  test('serves nothing outside its folders, and a bad escape in a path does not bring it down', { timeout: 30_000 }, async () => {
    const url = new URL('../../../examples/browser-transfer/serve.js', import.meta.url).href
    const { serve } = await import(url) as { serve: (port: number) => Promise<import('node:http').Server> }
    const server = await serve(0)
    try {
      const { port } = server.address() as AddressInfo
      const status = async (path: string): Promise<number> => await new Promise((resolve, reject) => {
        get({ port, host: '127.0.0.1', path }, res => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject)
      })
      assert.equal(await status('/index.html'), 200)
      for (const path of ['/%E0%A4%A', '/%2e%2e/%2e%2e/package.json', '/dist/src/..%2f..%2fpackage.json', '/node_modules/cborg/..%2f..%2f..%2fpackage.json', '/a%00.js']) {
        assert.equal(await status(path), 404, path)
      }
      assert.equal(await status('/index.html'), 200, 'the server went down')
    } finally {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  })
})
