// A pending op whose slot is filled while the node no longer tracks the op (its op statuses are
// bounded): the client looks the slot up in the account's history before it calls the op lost, so
// an op that was delivered is not reported as lost (a user would pay twice), and the words say
// when nobody can tell.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { signOp } from '../../src/core/ledger/op.js'
import { BftClient, MemoryPendingStore, signerFromSeed } from '../../src/client/index.js'

const NETWORK = 'ab'.repeat(32)
const signer = signerFromSeed('01'.repeat(32))
const me = toHex(signer.publicKey)
const op = signOp(signer, fromHex(NETWORK), { account: signer.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: new Uint8Array(32).fill(9), amount: 5n } })
const hash = toHex(op.hash)

describe('a filled slot whose op the node forgot', () => {
  let server: Server
  let history: 'ours' | 'another' | 'none' = 'ours'
  let url = ''

  before(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? ''
      const json = (status: number, body: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)) }
      if (path === '/v1/genesis') return json(200, { networkId: NETWORK, genesis: {} })
      if (path === `/v1/accounts/${me}`) return json(200, { account: me, spendable: '0', balance: '0', nextSeq: 2, pending: '0', credits: [], contract: false })
      if (path.startsWith(`/v1/ops/${hash}`)) return json(404, { error: { code: 'ERR_UNKNOWN_OP', message: 'this node has not seen that op' } })
      if (path.startsWith(`/v1/accounts/${me}/ops`)) {
        if (history === 'none') return json(404, { error: { code: 'ERR_NOT_FOUND', message: 'no route' } })
        const held = history === 'ours' ? hash : 'cd'.repeat(32)
        return json(200, { items: [{ hash: held, account: me, seq: 1, kind: 'transfer', outcome: { status: 'applied' }, index: 7 }] })
      }
      json(404, { error: { code: 'ERR_NOT_FOUND', message: 'no route' } })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(async () => { await new Promise(resolve => server.close(resolve)) })

  const settle = async (): Promise<{ status: string, reason?: string }> => {
    const pending = new MemoryPendingStore()
    await pending.set(me, { seq: 1, op: toHex(op.bytes), hash, account: me, network: NETWORK })
    const client = new BftClient({ api: url, signer, pending, timeoutMs: 5000 })
    const settled = await client.settle()
    assert.equal(await pending.get(me), undefined, 'the record goes once the fate is known')
    return settled!.status
  }

  test('the history holds it: delivered, with its outcome', async () => {
    history = 'ours'
    const st = await settle()
    assert.equal(st.status, 'delivered')
    assert.deepEqual((st as { outcome?: unknown }).outcome, { status: 'applied' })
  })

  test('the history holds another op there: lost, naming it', async () => {
    history = 'another'
    const st = await settle()
    assert.equal(st.status, 'dropped')
    assert.match(st.reason ?? '', /slot 1 holds op cdcdcdcdcdcdcdcd, not op/)
  })

  test('nobody can tell: the words say it may have been delivered', async () => {
    history = 'none'
    const st = await settle()
    assert.equal(st.status, 'dropped')
    assert.match(st.reason ?? '', /no longer knows by which op; op [0-9a-f]{16} may have been delivered: check the account's history or balance before sending it again/)
  })
})
