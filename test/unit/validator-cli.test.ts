// `bftnode validator`: a node named by key, peer id or key file resolves to its key; what list,
// propose and approve print (approvals x/needed and the command to run next, or the new epoch);
// and the line `bftnode status` adds about the validator set.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../src/core/crypto/hash.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { sealKey } from '../../src/client/keyfile.js'
import type { ValidatorsView } from '../../src/client/api-client.js'
import { nodeKeyOf, peerIdOf } from '../../src/cli/node-id.js'
import { UsageError } from '../../src/cli/context.js'
import { outcomeLines, validatorLines } from '../../src/cli/cmds/validator.js'
import { validatorSummary } from '../../src/cli/cmds/status.js'
import { seedOf } from '../support/localnet.js'

const A = 'a1'.repeat(32)
const B = 'b2'.repeat(32)
const C = 'c3'.repeat(32)
const ID = '7e41c0d2e5f1'.padEnd(64, '0')

describe('bftnode validator', () => {
  test('a node is named by its hex key, its peer id or its key file', async () => {
    const seed = seedOf('validator-cli', 0)
    const key = toHex(sodiumScheme.publicKeyOf(seed))
    assert.equal(await nodeKeyOf(key.toUpperCase()), key)
    assert.equal(await nodeKeyOf(await peerIdOf(key)), key)
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-validator-cli-'))
    try {
      const file = join(dir, 'node-key.json')
      // encrypted: only the public key is read, no passphrase asked
      await writeFile(file, JSON.stringify(await sealKey('node', seed, 'a passphrase', { N: 1024, r: 8, p: 1 })))
      assert.equal(await nodeKeyOf(file), key)
      await assert.rejects(nodeKeyOf(join(dir, 'missing.json')), (err: unknown) => err instanceof UsageError && /64 hex digits, its peer id/.test(err.message))
    } finally { await rm(dir, { recursive: true, force: true }) }
    await assert.rejects(nodeKeyOf('12D3KooWnotapeerid'), UsageError)
    await assert.rejects(nodeKeyOf('abc'), UsageError)
  })

  test('list: epoch, the set with this node marked, open proposals with approvals x/needed', () => {
    const v: ValidatorsView = {
      epoch: 2,
      validators: [A, B],
      quorum: 2,
      faultsTolerated: 0,
      thisNode: 'votes',
      proposals: [{ id: ID, epoch: 3, validators: [A, B, C], proposer: B, add: [C], remove: [], approvals: [B], approvalsNeeded: 2, approvedHere: false }]
    }
    const peerIds = new Map([[A, '12D3KooA'], [B, '12D3KooB'], [C, '12D3KooC']])
    assert.deepEqual(validatorLines(v, peerIds, A), [
      'epoch 2: 2 validators, quorum 2 (tolerates 0 faulty)',
      'this node: a validator that votes',
      `  12D3KooA  ${A}  (this node)`,
      `  12D3KooB  ${B}`,
      'open proposals for epoch 3:',
      `  7e41c0d2e5f1  add 12D3KooC  ${C}`,
      '      approvals 1/2; proposed by 12D3KooB',
      'approve one with: bftnode validator approve <id>'
    ])
    const none = validatorLines({ ...v, thisNode: 'observer', proposals: [] }, peerIds, C)
    assert.deepEqual(none.slice(1, 2).concat(none.slice(-1)), ['this node: an observer (not in the set)', 'no open proposals for epoch 3'])
  })

  test('propose and approve say how many approvals are left and what to run, or the new epoch', () => {
    assert.deepEqual(outcomeLines({ id: ID, epoch: 1, approvals: 1, approvalsNeeded: 3, certified: false }, true), [
      `proposal ${ID}`,
      'for epoch 1, approved by this validator',
      'approvals 1/3: 2 more needed. On 2 other validators of epoch 0, run:',
      '  bftnode validator approve 7e41c0d2e5f1'
    ])
    assert.deepEqual(outcomeLines({ id: ID, epoch: 1, approvals: 2, approvalsNeeded: 3, certified: false }, false), [
      'approved proposal 7e41c0d2e5f1 for epoch 1',
      'approvals 2/3: 1 more needed. On 1 other validator of epoch 0, run:',
      '  bftnode validator approve 7e41c0d2e5f1'
    ])
    assert.deepEqual(outcomeLines({ id: ID, epoch: 1, approvals: 3, approvalsNeeded: 3, certified: true }, false), ['certified: the network moves to epoch 1'])
  })

  test('status: the epoch, the validator count and this node\'s role in one line', () => {
    assert.equal(validatorSummary({ epoch: 1, validators: 5, quorum: 4, thisNode: 'waiting-for-handoff' }), 'epoch 1: 5 validators (quorum 4); this node: a validator of this epoch, waiting for the previous set\'s hand-off before it votes')
    assert.equal(validatorSummary({ epoch: 0, validators: 1, quorum: 1 }), 'epoch 0: 1 validator (quorum 1)')
    assert.equal(validatorSummary({ validators: 4 }), undefined)
  })
})
