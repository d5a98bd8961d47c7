// The certificate log forgets a certificate once every slot it carries is pruned, and not before.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { CertificateLog } from '../../src/core/broadcast/certlog.js'
import { LocalNet } from '../support/localnet.js'

const net = new LocalNet({ accounts: 4 })
const op = (a: number, seq: number): SignedOp => {
  const s = net.accounts[a]!
  return signOp(s, net.networkId, { account: s.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[3]!.publicKey, amount: 1n } })
}

describe('certificate log pruning', () => {
  test('a certificate goes with the last of its slots, whatever order accounts are pruned in', () => {
    const log = new CertificateLog()
    const ops = [op(0, 1), op(1, 1), op(2, 1), op(0, 2)]
    log.addCertificate('c1', new Uint8Array([1]), ops)
    for (const o of ops) log.recordDelivery(o, 'c1')
    log.prune(net.accounts[1]!.publicKey, 1, 1)
    log.prune(net.accounts[0]!.publicKey, 1, 1)
    assert.ok(log.hasCertificate('c1'), 'account 0 seq 2 and account 2 are still kept')
    log.prune(net.accounts[2]!.publicKey, 1, 1)
    assert.ok(log.hasCertificate('c1'), 'account 0 seq 2 is still kept')
    log.prune(net.accounts[0]!.publicKey, 2, 2)
    assert.ok(!log.hasCertificate('c1'))
  })

  test('a certificate carrying an op not delivered here stays until that slot is behind the floor too', () => {
    const log = new CertificateLog()
    const ops = [op(0, 1), op(1, 1)]
    log.addCertificate('c2', new Uint8Array([2]), ops)
    log.recordDelivery(ops[0]!, 'c2')
    log.prune(net.accounts[0]!.publicKey, 1, 1)
    assert.ok(log.hasCertificate('c2'))
    log.recordDelivery(ops[1]!, 'c2')
    log.prune(net.accounts[1]!.publicKey, 1, 1)
    assert.ok(!log.hasCertificate('c2'))
  })

  test('pruning a certificate of 2,000 ops one account at a time is linear, not quadratic', () => {
    const log = new CertificateLog()
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...op(0, 1), account: Uint8Array.of(i >> 8, i & 0xff, ...new Uint8Array(30)), seq: 1 }))
    log.addCertificate('big', new Uint8Array([3]), many)
    for (const o of many) log.recordDelivery(o, 'big')
    // counts floor lookups through a Map spy: O(n) passes, where the old every() made ~n^2/2
    let lookups = 0
    const floor = (log as unknown as { floor: Map<string, number> }).floor
    const get = floor.get.bind(floor)
    floor.get = (k: string) => { lookups++; return get(k) }
    for (const o of many) log.prune(o.account, 1, 1)
    assert.ok(!log.hasCertificate('big'))
    assert.ok(lookups < 3 * many.length, `${lookups} floor lookups for ${many.length} slots`)
  })
})
