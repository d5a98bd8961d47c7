// Changing the validator set through the API, as `bftnode validator` does: four validators and an
// observer on real libp2p over 127.0.0.1, each with its API. The observer's key is proposed at one
// validator, approved at two more (a quorum of 3), and every node ends in epoch 1 with five
// validators, the new one voting, and ops still delivered. Malformed bodies are 400, changes the
// core refuses 409 with its reason, and without a token only this machine may sign changes.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IncomingMessage } from 'node:http'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { BftNode } from '../../src/node/node.js'
import { defaultConfig } from '../../src/node/config.js'
import { silentLogger } from '../../src/node/log.js'
import { peerIdForSeed } from '../../src/net/network.js'
import { startApi } from '../../src/api/server.js'
import type { ApiServer } from '../../src/api/server.js'
import { Access } from '../../src/api/access.js'
import { ApiError } from '../../src/api/errors.js'
import { checkOperator } from '../../src/api/validator-routes.js'
import { ApiClient, ApiRequestError } from '../../src/client/api-client.js'
import type { ValidatorsView } from '../../src/client/api-client.js'
import { freePorts, waitFor } from '../support/ports.js'
import { seedOf } from '../support/localnet.js'
import { startApiNode } from '../support/api-node.js'

const VALIDATORS = 4

describe('the validator set through the API', () => {
  let dir: string
  const nodes: BftNode[] = []
  const apis: ApiServer[] = []
  const clients: ApiClient[] = []
  const seeds = Array.from({ length: VALIDATORS + 1 }, (_, i) => seedOf('it-validators', i))
  const keys = seeds.map(s => toHex(sodiumScheme.publicKeyOf(s)))
  const user = signerFrom(sodiumScheme, seedOf('it-validators-user', 0))
  const newcomer = keys[VALIDATORS]!
  const observer = VALIDATORS

  const post = async (node: number, path: string, body: string): Promise<{ status: number, error: { code: string, message: string } }> => {
    const res = await fetch(`http://127.0.0.1:${apis[node]!.port}/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    return { status: res.status, error: ((await res.json()) as { error: { code: string, message: string } }).error }
  }
  const refusal = async (p: Promise<unknown>): Promise<ApiRequestError> => {
    const err = await p.then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof ApiRequestError, `expected a refusal, got ${String(err)}`)
    return err
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-it-validators-'))
    const genesis = makeGenesis({
      network: 'it-validators',
      validators: seeds.slice(0, VALIDATORS).map(s => sodiumScheme.publicKeyOf(s)),
      mintAuthority: user.publicKey,
      balances: [{ account: user.publicKey, amount: 1000n }]
    })
    const ports = await freePorts(seeds.length)
    const ids = await Promise.all(seeds.map(peerIdForSeed))
    for (let i = 0; i < seeds.length; i++) {
      const config = {
        ...defaultConfig(join(dir, `n${i}`)),
        listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
        bootstrap: ports.flatMap((p, j) => j === i ? [] : [`/ip4/127.0.0.1/tcp/${p}/p2p/${ids[j]!}`]),
        mdns: false,
        // a young network: no probation, every validator votes from the start
        resumeVoting: true
      }
      nodes.push(await BftNode.start(config, genesis, seeds[i]!, silentLogger))
      apis.push(await startApi(nodes[i]!, '127.0.0.1', 0))
      clients.push(new ApiClient(`http://127.0.0.1:${apis[i]!.port}`))
    }
    await waitFor('a full mesh', 20_000, () => nodes.every(n => n.peers().length === seeds.length - 1))
  })

  after(async () => {
    for (const a of apis) await a.close()
    await Promise.all(nodes.map(async n => await n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  test('GET /v1/validators: epoch 0 is the genesis set; the observer is no validator', async () => {
    const v = await clients[0]!.validators()
    assert.deepEqual({ ...v, validators: [...v.validators] }, { epoch: 0, validators: keys.slice(0, VALIDATORS).sort(), quorum: 3, faultsTolerated: 1, faults: 'byzantine', thisNode: 'votes', proposals: [] })
    assert.equal((await clients[observer]!.validators()).thisNode, 'observer')
    const status = await clients[0]!.status()
    assert.equal(status.epoch, 0)
    assert.equal(status.thisNode, 'votes')
  })

  test('malformed bodies and ids are 400, unknown proposals 404', async () => {
    for (const body of ['{}', '[]', '"add"', `{"add": "${newcomer}", "remove": "${keys[0]!}"}`, '{"add": "12ab"}', `{"add": "${newcomer.toUpperCase()}"}`, `{"replace": "${newcomer}"}`]) {
      const r = await post(0, '/validators/proposals', body)
      assert.equal(r.status, 400, body)
      assert.equal(r.error.code, 'ERR_BAD_REQUEST', body)
    }
    assert.equal((await post(0, '/validators/proposals', '{"add": ')).error.code, 'ERR_BAD_JSON')
    assert.equal((await post(0, '/validators/proposals', 'x'.repeat(4096))).status, 413)
    assert.equal((await refusal(clients[0]!.approveValidatorChange('ab'))).status, 400)
    assert.equal((await refusal(clients[0]!.approveValidatorChange('xyz!'))).status, 400)
    const unknown = await refusal(clients[0]!.approveValidatorChange('abcdef'))
    assert.deepEqual([unknown.status, unknown.code], [404, 'ERR_UNKNOWN_PROPOSAL'])
    const withBody = await post(0, '/validators/proposals/abcdef/approve', '{}')
    assert.deepEqual([withBody.status, withBody.error.code], [400, 'ERR_BAD_REQUEST'])
  })

  test('a change the core refuses is 409 ERR_RECONFIGURATION with its reason, and proposes nothing', async () => {
    const existing = await refusal(clients[0]!.proposeValidatorChange({ add: keys[1]! }))
    assert.deepEqual([existing.status, existing.code], [409, 'ERR_RECONFIGURATION'])
    assert.match(existing.message, /already a validator of epoch 0/)
    const absent = await refusal(clients[0]!.proposeValidatorChange({ remove: newcomer }))
    assert.deepEqual([absent.status, absent.code], [409, 'ERR_RECONFIGURATION'])
    assert.match(absent.message, /not a validator of epoch 0/)
    const byObserver = await refusal(clients[observer]!.proposeValidatorChange({ add: newcomer }))
    assert.deepEqual([byObserver.status, byObserver.code], [409, 'ERR_RECONFIGURATION'])
    assert.match(byObserver.message, /only a voting validator/)
    assert.deepEqual((await clients[0]!.validators()).proposals, [])
  })

  test('proposed at one validator, approved at two more: every node moves to epoch 1 with five validators', async () => {
    const proposed = await clients[0]!.proposeValidatorChange({ add: newcomer })
    assert.deepEqual({ ...proposed, id: '' }, { id: '', epoch: 1, approvals: 1, approvalsNeeded: 3, certified: false })
    const open = async (i: number): Promise<ValidatorsView['proposals'][number] | undefined> => (await clients[i]!.validators()).proposals.find(p => p.id === proposed.id)
    await waitFor('the proposal at validators 1 and 2', 10_000, async () => (await open(1)) !== undefined && (await open(2)) !== undefined)
    const seen = (await open(1))!
    assert.deepEqual({ add: seen.add, remove: seen.remove, proposer: seen.proposer, approvals: seen.approvals, approvedHere: seen.approvedHere }, { add: [newcomer], remove: [], proposer: keys[0], approvals: [keys[0]], approvedHere: false })
    assert.equal((await open(0))!.approvedHere, true)

    const second = await clients[1]!.approveValidatorChange(proposed.id.slice(0, 8))
    assert.deepEqual(second, { id: proposed.id, epoch: 1, approvals: 2, approvalsNeeded: 3, certified: false })
    // validator 2 holds validator 1's approval before it adds its own, the third
    await waitFor('validator 1\'s approval at validator 2', 10_000, async () => (await open(2))?.approvals.length === 2)
    const third = await clients[2]!.approveValidatorChange(proposed.id)
    assert.deepEqual(third, { id: proposed.id, epoch: 1, approvals: 3, approvalsNeeded: 3, certified: true })

    const everyone = [...keys].sort()
    await waitFor('epoch 1 at every node', 20_000, async () => (await Promise.all(clients.map(async c => await c.validators()))).every(v => v.epoch === 1 && v.validators.length === 5))
    for (const c of clients) {
      const v = await c.validators()
      assert.deepEqual([v.validators, v.quorum, v.faultsTolerated, v.proposals], [everyone, 4, 1, []])
    }
    await waitFor('the new validator to vote', 20_000, async () => (await clients[observer]!.validators()).thisNode === 'votes')
    assert.equal((await clients[observer]!.status()).epoch, 1)
    // the new set certifies ops: a quorum of 4 needs the newcomer or all of the old set
    const op = signOp(user, nodes[0]!.replica.networkId, { account: user.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: new Uint8Array(32).fill(7), amount: 5n } })
    assert.equal(nodes[observer]!.submit([op.bytes])[0]!.status, 'queued')
    assert.equal((await nodes[observer]!.waitFor(toHex(op.hash), 15_000))?.status, 'delivered')
  })

  test('without a token, only this machine may change the set; with one, the token suffices', () => {
    const from = (remoteAddress: string): IncomingMessage => ({ socket: { remoteAddress } }) as unknown as IncomingMessage
    for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) checkOperator(from(local), new Access())
    assert.throws(() => checkOperator(from('10.1.2.3'), new Access()), (err: unknown) => err instanceof ApiError && err.status === 403 && err.code === 'ERR_OPERATOR_ONLY')
    checkOperator(from('10.1.2.3'), new Access({ token: 'a-token-of-16-chars' }))
  })
})

describe('the validator set of a one-validator network', () => {
  test('its only validator cannot be removed', async () => {
    const n = await startApiNode('it-validators-one')
    try {
      const client = new ApiClient(`http://127.0.0.1:${n.port}`)
      const v = await client.validators()
      assert.deepEqual([v.epoch, v.validators.length, v.quorum, v.faultsTolerated, v.thisNode], [0, 1, 1, 0, 'votes'])
      const err = await client.proposeValidatorChange({ remove: v.validators[0]! }).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof ApiRequestError)
      assert.deepEqual([err.status, err.code], [409, 'ERR_RECONFIGURATION'])
      assert.match(err.message, /the new set is empty/)
    } finally { await n.stop() }
  })
})
