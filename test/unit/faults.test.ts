// The fault model a genesis chooses: Byzantine (the default, f = floor((n-1)/3)) or crash-only
// (majority quorums, f = floor((n-1)/2)). Quorum sizes, the genesis field and its encoding, the
// one-change rule, certificates with a crash-only quorum, and the CLI that writes and shows it.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { compareBytes, encode } from '../../src/core/codec/canonical.js'
import { Domain, signFor, signerFrom } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { InvalidGenesisError } from '../../src/core/errors.js'
import { batchDigest, decodeMessage, encodeMessage, votePayload } from '../../src/core/broadcast/messages.js'
import { changeProblem } from '../../src/core/epoch/epochs.js'
import type { FaultModel, Genesis } from '../../src/core/ledger/genesis.js'
import { MAX_VALIDATORS, decodeGenesis, encodeGenesis, faultModel, faultsTolerated, handoffsNeeded, makeGenesis, networkId, probeAnswersNeeded, quorumSize } from '../../src/core/ledger/genesis.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { genesisFromJson, genesisToJson } from '../../src/node/genesis-file.js'
import { initTestnet } from '../../src/cli/cmds/testnet.js'
import { validatorLines } from '../../src/cli/cmds/validator.js'
import { validatorSummary } from '../../src/cli/cmds/status.js'
import { UsageError } from '../../src/cli/context.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'
import { assertThrowsTyped } from '../support/errors.js'

const keyCache = new Map<number, Uint8Array>()
function key (i: number): Uint8Array {
  let k = keyCache.get(i)
  if (k === undefined) keyCache.set(i, k = signerFrom(sodiumScheme, seedOf('faults', i)).publicKey)
  return k
}
const keys = (...is: number[]): Uint8Array[] => is.map(key).sort(compareBytes)

function genesis (faults?: FaultModel): Genesis {
  return genesisOf(keys(0, 1, 2, 3, 4), faults)
}

function genesisOf (validators: Uint8Array[], faults?: FaultModel): Genesis {
  return makeGenesis({
    network: 'faults',
    validators,
    mintAuthority: key(10),
    balances: [{ account: key(11), amount: 500n }],
    ...(faults === undefined ? {} : { faults })
  })
}

describe('quorum sizes per fault model', () => {
  test('crash-only: n = 5 certifies with 3 votes and n = 4 with 3; f = floor((n-1)/2)', () => {
    const table: Array<[n: number, f: number, q: number]> = [
      [1, 0, 1], [2, 0, 2], [3, 1, 2], [4, 1, 3], [5, 2, 3], [6, 2, 4], [7, 3, 4], [8, 3, 5], [9, 4, 5], [10, 4, 6]
    ]
    for (const [n, f, q] of table) {
      assert.equal(quorumSize(n, 'crash'), q, `q(${n})`)
      assert.equal(faultsTolerated(n, 'crash'), f, `f(${n})`)
    }
  })

  test('Byzantine networks are unchanged: a quorum of 4 is 3, of 5 is 4, of 7 is 5', () => {
    assert.deepEqual([4, 5, 7].map(n => quorumSize(n, 'byzantine')), [3, 4, 5])
    assert.deepEqual([4, 5, 7].map(n => faultsTolerated(n, 'byzantine')), [1, 1, 2])
  })

  test('property, n in 1..256: two crash-only quorums share a validator, a quorum is reachable with f down, and not with f+1 down', () => {
    for (let n = 1; n <= MAX_VALIDATORS; n++) {
      const q = quorumSize(n, 'crash')
      const f = faultsTolerated(n, 'crash')
      assert.ok(2 * q > n, `two quorums intersect for n=${n}`)
      assert.ok(q <= n - f, `reachable with f down for n=${n}`)
      assert.ok(q > n - (f + 1), `f is the most that may be down for n=${n}`)
      // never larger than the Byzantine quorum: crash-only only gives liveness back
      assert.ok(q <= quorumSize(n, 'byzantine') && f >= faultsTolerated(n, 'byzantine'), `n=${n}`)
    }
  })
})

describe('a validator on a new data dir (the probe before it votes)', () => {
  test('crash-only: the fewest answers of the others that always meet the other signers of any checkpoint', () => {
    for (let n = 2; n <= MAX_VALIDATORS; n++) {
      const others = n - 1
      const otherSigners = quorumSize(n, 'crash') - 1
      const needed = probeAnswersNeeded(n, 'crash')
      // any `needed` of the others include one of any `otherSigners` of them; one fewer may not
      assert.ok(needed + otherSigners > others, `safe for n=${n}`)
      assert.ok(needed - 1 + otherSigners <= others, `no more than needed for n=${n}`)
    }
    // five validators: three others suffice, so one other may be down
    assert.equal(probeAnswersNeeded(5, 'crash'), 3)
  })

  test('both models, n in 2..8, every case enumerated: any `needed` answers hold a truthful co-signer of any quorum the prober was in; one fewer may not', () => {
    // k-subsets of xs
    const choose = (xs: number[], k: number): number[][] => k === 0 ? [[]] : xs.flatMap((x, i) => choose(xs.slice(i + 1), k - 1).map(rest => [x, ...rest]))
    // some `k` answers of the others, `liars` of them lying, miss every other signer of quorum S (0 in S)
    const canMiss = (n: number, q: number, liars: number, k: number): boolean => {
      const others = Array.from({ length: n - 1 }, (_, i) => i + 1)
      return choose(others, q - 1).some(signers => choose(others, k).some(answers => {
        const truthful = answers.filter(a => signers.includes(a))
        return truthful.length <= liars
      }))
    }
    for (const faults of ['byzantine', 'crash'] as const) {
      for (let n = 2; n <= 8; n++) {
        const q = quorumSize(n, faults)
        // under crash-only nobody lies; Byzantine: up to f of the answers may
        const liars = faults === 'crash' ? 0 : faultsTolerated(n, faults)
        const needed = probeAnswersNeeded(n, faults)
        assert.ok(!canMiss(n, q, liars, needed), `${faults} n=${n}: ${needed} answers can miss every truthful signer`)
        assert.ok(canMiss(n, q, liars, needed - 1), `${faults} n=${n}: ${needed - 1} answers would do`)
      }
    }
  })

  test('Byzantine: three validators need both others (one may be the only other signer); four need all three', () => {
    // n = 3, q = 2: the prober and one other certified, the third never saw it and says "none"
    assert.equal(probeAnswersNeeded(3, 'byzantine'), 2)
    assert.deepEqual([4, 5, 7].map(n => probeAnswersNeeded(n, 'byzantine')), [3, 3, 5])
  })
})

describe('the binding hand-off: how many of the previous set a new-epoch validator takes over from', () => {
  test('any that many share a truthful validator with every quorum of the previous set (so it binds every op certified there); crash-only: one fewer than a quorum at an even n', () => {
    for (const faults of ['byzantine', 'crash'] as const) {
      for (let n = 1; n <= MAX_VALIDATORS; n++) {
        const q = quorumSize(n, faults)
        const liars = faults === 'crash' ? 0 : faultsTolerated(n, faults)
        const needed = handoffsNeeded(n, faults)
        // the fewest of `needed` that can be in a quorum: needed + q - n; more than the liars
        assert.ok(needed + q - n > liars, `${faults} n=${n}`)
        assert.ok(needed <= q, `never more than a quorum: ${faults} n=${n}`)
      }
    }
    assert.deepEqual([4, 5, 6, 7].map(n => handoffsNeeded(n, 'crash')), [2, 3, 3, 4])
    assert.deepEqual([4, 5, 6, 7].map(n => handoffsNeeded(n, 'byzantine')), [3, 4, 4, 5])
  })
})

describe('the genesis field', () => {
  test('a genesis without it encodes to the same bytes as before the field existed, and "byzantine" is the same network', () => {
    const g = genesis()
    // the encoding before the field: these four keys and nothing else
    const before = encode({ network: g.network, validators: [...g.validators], mintAuthority: g.mintAuthority, balances: g.balances.map(b => [b.account, b.amount]) })
    assert.deepEqual(encodeGenesis(g), before)
    assert.deepEqual(encodeGenesis(genesis('byzantine')), before)
    assert.deepEqual(networkId(genesis('byzantine')), networkId(g))
    assert.equal(faultModel(g), 'byzantine')
    assert.equal(decodeGenesis(before).faults, undefined)
  })

  test('crash-only round-trips through bytes and JSON and is another network', () => {
    const g = genesis('crash')
    const back = decodeGenesis(encodeGenesis(g))
    assert.equal(back.faults, 'crash')
    assert.equal(faultModel(back), 'crash')
    assert.notDeepEqual(networkId(g), networkId(genesis()))
    const json = genesisToJson(g)
    assert.equal(json.faults, 'crash')
    assert.deepEqual(networkId(genesisFromJson(JSON.parse(JSON.stringify(json)))), networkId(g))
    // the default stays out of the file
    assert.equal('faults' in genesisToJson(genesis()), false)
    assert.deepEqual(networkId(genesisFromJson({ ...genesisToJson(genesis()), faults: 'byzantine' })), networkId(genesis()))
  })

  test('anything else is refused with a clear error', () => {
    const invalid = (fn: () => unknown, message: RegExp): void => assertThrowsTyped(fn, InvalidGenesisError, 'ERR_INVALID_GENESIS', message)
    invalid(() => genesisOf(keys(0, 1, 2), 'omission' as FaultModel), /genesis.faults must be "byzantine" or "crash".*"omission"/)
    invalid(() => genesisFromJson({ ...genesisToJson(genesis()), faults: 'Crash' }), /genesis.faults must be/)
    invalid(() => genesisFromJson({ ...genesisToJson(genesis()), faults: 1 }), /"faults" must be "byzantine" or "crash"/)
    const g = genesis()
    const fields = { network: g.network, validators: [...g.validators], mintAuthority: g.mintAuthority, balances: g.balances.map(b => [b.account, b.amount]) }
    invalid(() => decodeGenesis(encode({ ...fields, faults: 'sometimes' })), /genesis.faults must be/)
    invalid(() => decodeGenesis(encode({ ...fields, faults: 7 })), /genesis.faults: expected a string/)
    // one meaning, one encoding: the default is written by leaving the field out
    invalid(() => decodeGenesis(encode({ ...fields, faults: 'byzantine' })), /leaving the field out/)
  })
})

describe('the one-change rule under crash-only', () => {
  /** Every set of `size` members of `set` (a bitmask), as bitmasks. */
  function subsetsOf (set: number, size: number): number[] {
    const out: number[] = []
    for (let s = set; ; s = (s - 1) & set) {
      if (popcount(s) === size) out.push(s)
      if (s === 0) break
    }
    return out
  }
  const popcount = (x: number): number => { let c = 0; for (; x !== 0; x &= x - 1) c++; return c }
  const members = (mask: number): Uint8Array[] => keys(...Array.from({ length: 6 }, (_, i) => i).filter(i => (mask & (1 << i)) !== 0))

  test('exhaustively over sets of up to 6 validators: a change passes exactly when every majority of the old set meets every majority of the new', () => {
    const universe = (1 << 6) - 1
    let passed = 0
    let refused = 0
    for (let from = 1; from <= universe; from++) {
      for (let to = 1; to <= universe; to++) {
        if (from === to) continue
        const qFrom = subsetsOf(from, quorumSize(popcount(from), 'crash'))
        const qTo = subsetsOf(to, quorumSize(popcount(to), 'crash'))
        const alwaysMeet = qFrom.every(a => qTo.every(b => (a & b) !== 0))
        const problem = changeProblem(members(from), members(to), 'crash')
        assert.equal(problem === undefined, alwaysMeet, `${from.toString(2)} -> ${to.toString(2)}: ${problem ?? 'passes'}`)
        if (alwaysMeet) passed++
        else refused++
      }
    }
    assert.ok(passed > 0 && refused > 0)
  })

  test('adding or removing one always passes; replacing one passes at an even n only, as the majorities say', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), n => {
      const set = Array.from({ length: n }, (_, i) => i)
      assert.equal(changeProblem(keys(...set), keys(...set, n), 'crash'), undefined)
      if (n > 1) assert.equal(changeProblem(keys(...set), keys(...set.slice(1)), 'crash'), undefined)
      const replaced = changeProblem(keys(...set), keys(...set.slice(1), n), 'crash')
      assert.equal(replaced === undefined, n % 2 === 0, `n=${n}: ${replaced ?? 'passes'}`)
    }), { numRuns: 40 })
    // the Byzantine rule is the stricter one: a replacement never passes there
    assert.match(changeProblem(keys(0, 1, 2, 3), keys(0, 1, 2, 4), 'byzantine')!, /share only 1 validator/)
    assert.equal(changeProblem(keys(0, 1, 2, 3), keys(0, 1, 2, 4), 'crash'), undefined)
    assert.match(changeProblem(keys(0, 1, 2, 3, 4), keys(0, 1, 2), 'crash')!, /could share no validator/)
  })
})

describe('certificates with a crash-only quorum', () => {
  /** A transfer through node 0 while `down` validators are gone; the votes of each certificate seen. */
  function transferWith (n: number, down: number[], faults: FaultModel): { delivered: boolean[], votes: number[], quorum: number } {
    const net = new LocalNet({ validators: n, observers: 1, faults })
    const votes: number[] = []
    net.drop = (from, to, bytes) => {
      const m = decodeMessage(bytes)
      if (m.type === 'certified') votes.push(m.votes.length)
      return down.includes(from) || down.includes(to)
    }
    const a = net.accounts[0]!
    net.submit(0, [signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[1]!.publicKey, amount: 5n } })])
    net.settle()
    const delivered = net.replicas.map((r, i) => down.includes(i) ? false : r.ledger.nextSeq(a.publicKey) === 2)
    return { delivered, votes, quorum: net.replicas[0]!.quorum }
  }

  test('five crash-only validators certify with three votes while two are down; the others and an observer accept the certificate', () => {
    const r = transferWith(5, [3, 4], 'crash')
    assert.equal(r.quorum, 3)
    assert.deepEqual(r.delivered, [true, true, true, false, false, true])
    assert.ok(r.votes.length > 0 && r.votes.every(v => v === 3), `votes per certificate: ${r.votes.join(',')}`)
  })

  test('five Byzantine-model validators with the same two down certify nothing (their quorum is 4)', () => {
    const r = transferWith(5, [3, 4], 'byzantine')
    assert.equal(r.quorum, 4)
    assert.deepEqual(r.delivered, [false, false, false, false, false, false])
    assert.deepEqual(r.votes, [])
  })

  test('four crash-only validators certify with three votes, one down; with two down they cannot', () => {
    const one = transferWith(4, [3], 'crash')
    assert.deepEqual(one.delivered, [true, true, true, false, true])
    assert.ok(one.votes.length > 0 && one.votes.every(v => v === 3))
    const two = transferWith(4, [2, 3], 'crash')
    assert.deepEqual(two.delivered, [false, false, false, false, false])
  })

  test('what crash-only gives up (docs/faults.md): at n = 5 one lying validator and two honest ones certify each of two ops for one slot', () => {
    const split = (faults: FaultModel): { verdicts: string[], delivered: string[] } => {
      const net = new LocalNet({ validators: 5, faults })
      const a = net.accounts[0]!
      const to = (k: number, amount: bigint): SignedOp => signOp(a, net.networkId, { account: a.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: net.accounts[k]!.publicKey, amount } })
      const [x, y] = [to(1, 5n), to(2, 7n)]
      // validator 0 lies: it votes for both; 1 and 2 only ever see x, 3 and 4 only y
      const liar = (op: SignedOp): { voter: Uint8Array, sig: Uint8Array } => ({ voter: net.validatorKeys[0]!.publicKey, sig: signFor(net.validatorKeys[0]!, Domain.vote, net.networkId, votePayload(0, batchDigest([op.hash]))) })
      const honest = (i: number, op: SignedOp): { voter: Uint8Array, sig: Uint8Array } => {
        const res = net.replicas[i]!.receive(net.replicas[0]!.id, encodeMessage({ type: 'propose', ops: [op.bytes] }), net.now)
        net.execute(i, res.actions.filter(act => act.type !== 'send'))
        const vote = res.actions.filter(act => act.type === 'send').map(act => decodeMessage((act as { bytes: Uint8Array }).bytes)).find(m => m.type === 'vote')
        assert.ok(vote?.type === 'vote', `validator ${i} votes`)
        return { voter: vote.voter, sig: vote.sig }
      }
      const cert = (op: SignedOp, voters: number[]): Uint8Array => encodeMessage({ type: 'certified', ops: [op.bytes], votes: [liar(op), ...voters.map(i => honest(i, op))].sort((p, q) => compareBytes(p.voter, q.voter)), epoch: 0 })
      const verdicts = [net.inject(net.replicas[0]!.id, 1, cert(x, [1, 2])).verdict, net.inject(net.replicas[0]!.id, 3, cert(y, [3, 4])).verdict]
      const delivered = [1, 3].map(i => net.delivered[i]!.map(d => toHex(d.op.hash).slice(0, 8)).join(','))
      return { verdicts, delivered }
    }
    const crash = split('crash')
    assert.deepEqual(crash.verdicts, ['accept', 'accept'])
    assert.notEqual(crash.delivered[0], '')
    assert.notEqual(crash.delivered[0], crash.delivered[1], 'two nodes delivered different ops for one slot')
    // the Byzantine quorum of 5 is 4: three votes certify nothing, and two quorums share three validators
    const byz = split('byzantine')
    assert.deepEqual(byz.verdicts, ['reject', 'reject'])
    assert.deepEqual(byz.delivered, ['', ''])
  })

  test('the replica and its epochs follow the genesis: quorum and faults tolerated', () => {
    const crash = new LocalNet({ validators: 5, faults: 'crash' }).replicas[0]!
    assert.deepEqual([crash.quorum, crash.faultsTolerated, crash.epoch.faults], [3, 2, 'crash'])
    const byz = new LocalNet({ validators: 5 }).replicas[0]!
    assert.deepEqual([byz.quorum, byz.faultsTolerated, byz.epoch.faults], [4, 1, 'byzantine'])
  })
})

describe('the CLI', () => {
  test('`testnet init --faults crash` writes a crash-only genesis and says what it tolerates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-faults-'))
    try {
      const said: string[] = []
      const args = { validators: 5, dir: join(dir, 'net'), basePort: 7100, apiPort: 7200, network: 'crashnet', treasury: '1000', force: false, walletDir: join(dir, 'wallet') }
      await initTestnet({ ...args, faults: 'crash' }, line => said.push(line))
      const g = genesisFromJson(JSON.parse(await readFile(join(dir, 'net', 'genesis.json'), 'utf8')))
      assert.equal(g.faults, 'crash')
      assert.match(said[0]!, /5 validator\(s\), quorum 3 \(tolerates 2 crashed \(crash-only\)\)/)
      // the default writes no field, and a Byzantine quorum
      said.length = 0
      await initTestnet({ ...args, dir: join(dir, 'byz') }, line => said.push(line))
      const raw = JSON.parse(await readFile(join(dir, 'byz', 'genesis.json'), 'utf8')) as Record<string, unknown>
      assert.equal('faults' in raw, false)
      assert.match(said[0]!, /quorum 4 \(tolerates 1 faulty\)/)
      await assert.rejects(initTestnet({ ...args, dir: join(dir, 'bad'), faults: 'sometimes' }, () => {}), (err: Error) => err instanceof UsageError && /--faults must be byzantine or crash/.test(err.message))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('`status` and `validator list` say a crash-only network tolerates crashes only', () => {
    assert.equal(validatorSummary({ epoch: 0, validators: 5, quorum: 3, faults: 'crash', faultsTolerated: 2, thisNode: 'votes' }), 'epoch 0: 5 validators (quorum 3, tolerates 2 crashed (crash-only)); this node: a validator that votes')
    assert.equal(validatorSummary({ epoch: 0, validators: 5, quorum: 4, faults: 'byzantine', faultsTolerated: 1 }), 'epoch 0: 5 validators (quorum 4)')
    const ids = keys(0, 1, 2, 3, 4).map(toHex)
    const lines = validatorLines({ epoch: 0, validators: ids, quorum: 3, faultsTolerated: 2, faults: 'crash', thisNode: 'votes', proposals: [] }, new Map(), undefined)
    assert.equal(lines[0], 'epoch 0: 5 validators, quorum 3 (tolerates 2 crashed (crash-only))')
  })
})
