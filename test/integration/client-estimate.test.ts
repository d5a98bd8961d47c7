// BftClient's deploy and call against a real node: without a gas limit they simulate first and ask
// for the estimate, refuse what would certainly fail before signing (no seq used), and send it
// anyway with `force`, as the CLI's --gas auto and --force do.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { decodeOp } from '../../src/core/ledger/op.js'
import { BftClient, MemoryPendingStore, WouldFailError } from '../../src/client/index.js'
import type { PendingOp } from '../../src/client/index.js'
import { startApiNode } from '../support/api-node.js'
import type { ApiNode } from '../support/api-node.js'

const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))
const BOB = 'b0'.repeat(32)

/** Keeps every op the client records before sending it: what was signed. */
class SignedOps extends MemoryPendingStore {
  readonly ops: PendingOp[] = []
  override async set (account: string, op: PendingOp): Promise<void> {
    this.ops.push(op)
    await super.set(account, op)
  }
}

describe('BftClient estimates gas and refuses what would fail', () => {
  let n: ApiNode
  let client: BftClient
  let alice: string
  const signed = new SignedOps()

  before(async () => {
    n = await startApiNode('client-estimate')
    client = new BftClient({ api: `http://127.0.0.1:${n.port}`, signer: n.alice, pending: signed, timeoutMs: 20_000 })
    alice = toHex(n.alice.publicKey)
  })

  after(async () => { await n.stop() })

  test('deploy and call ask for the estimated gas; a failing call is not signed unless forced', async () => {
    const code = await readFile(TOKEN, 'utf8')
    const refused = await client.deploy({ code, args: { json: [{ key: alice }, -1] } }).catch((err: unknown) => err)
    assert.ok(refused instanceof WouldFailError && refused.code === 'ERR_WOULD_FAIL', String(refused))
    assert.match(refused.message, /init failed: .*supply cannot be negative; nothing was signed/)
    assert.equal((await client.balance()).nextSeq, 1, 'nothing was signed')

    const sim = await client.simulate({ kind: 'deploy', code, args: [n.alice.publicKey, 1_000_000n], sequencer: null, gasLimit: 100_000 })
    const deployed = await client.deploy({ code, args: { json: [{ key: alice }, 1_000_000] } })
    assert.equal(deployed.status.outcome?.status, 'applied')
    // the deploy carried the estimate, not the 100,000 default
    const body = decodeOp(fromHex(signed.ops.at(-1)!.op)).body
    assert.ok(body.kind === 'deploy' && sim.gasEstimate !== undefined && body.gasLimit === sim.gasEstimate && body.gasLimit < 100_000, JSON.stringify({ estimate: sim.gasEstimate }))

    const before = (await client.balance()).nextSeq
    const nope = await client.call({ contract: deployed.address, fn: 'nope' }).catch((err: unknown) => err)
    assert.ok(nope instanceof WouldFailError, String(nope))
    assert.match(nope.message, /the call of nope would fail now \(unknown-function\)/)
    assert.equal((await client.balance()).nextSeq, before)

    const ok = await client.call({ contract: deployed.address, fn: 'transfer', args: { json: [{ key: BOB }, 5] } })
    assert.equal(ok.outcome?.status, 'ok')
    const call = decodeOp(fromHex(signed.ops.at(-1)!.op)).body
    assert.ok(call.kind === 'call' && call.gasLimit < 100_000 && ok.outcome?.status === 'ok' && call.gasLimit >= ok.outcome.gasUsed)
    const forced = await client.call({ contract: deployed.address, fn: 'nope', force: true })
    assert.equal(forced.outcome?.status, 'error')
    assert.equal((await client.balance()).nextSeq, before + 2)
  })
})
