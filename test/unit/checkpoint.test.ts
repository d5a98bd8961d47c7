// Checkpoints and joining in the pure core: validators certify the same root at the same cuts and
// prune behind them; snapshots round-trip across several chunks; a joiner facing liars of every
// kind names each one, takes its data elsewhere and ends with the validators' root; a node started
// from a checkpoint takes only the certified ops that follow the cut.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import type { LedgerState } from '../../src/core/ledger/ledger.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import { decodeMessage, encodeMessage } from '../../src/core/broadcast/messages.js'
import type { CheckpointMsg } from '../../src/core/broadcast/messages.js'
import { buildSnapshot, readSnapshot } from '../../src/core/checkpoint/snapshot.js'
import type { Snapshot } from '../../src/core/checkpoint/snapshot.js'
import { signCheckpoint } from '../../src/core/checkpoint/certificate.js'
import type { ValidatorSet } from '../../src/core/checkpoint/certificate.js'
import { Joiner, rebuildCheckpoint } from '../../src/core/checkpoint/joiner.js'
import type { JoinRequest } from '../../src/core/checkpoint/joiner.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { LocalNet, seedOf } from '../support/localnet.js'

function transfers (net: LocalNet, perAccount: number): SignedOp[] {
  const ops: SignedOp[] = []
  for (let seq = 1; seq <= perAccount; seq++) {
    net.accounts.forEach((a, i) => {
      ops.push(signOp(a, net.networkId, { account: a.publicKey, seq, deps: [], body: { kind: 'transfer', to: net.accounts[(i + 1) % net.accounts.length]!.publicKey, amount: 1n } }))
    })
  }
  return ops
}

function runNetwork (interval: number, retain: number): LocalNet {
  const net = new LocalNet({ validators: 4, accounts: 5, balance: 1000n, replica: { checkpoints: { interval, retain } } })
  const ops = transfers(net, 16)
  ops.forEach((op, k) => { net.execute(k % 4, net.submit(k % 4, [op]).actions); if (k % 7 === 0) net.settle(2) })
  net.settle(40)
  return net
}

function validatorSet (net: LocalNet): ValidatorSet {
  return { networkId: net.networkId, scheme: sodiumScheme, validators: new Set(net.replicas.map(r => r.id)), quorum: net.replicas[0]!.quorum }
}

describe('checkpoints among four validators', () => {
  const net = runNetwork(10, 0)
  const unpruned = runNetwork(0, 0)

  test('every validator certifies checkpoints, with one root per height, and the state behind it rebuilds to that root', () => {
    assert.equal(new Set(net.stateHashes()).size, 1)
    const latest = net.replicas.map(r => r.latestCheckpoint())
    for (const cp of latest) {
      assert.ok(cp !== undefined, 'a checkpoint was certified')
      assert.ok(cp.msg.height >= 60, `checkpoint height ${cp.msg.height} within an interval of the 80 ops`)
      assert.ok(cp.msg.sigs.length >= net.replicas[0]!.quorum)
      const same = latest.find(o => o!.msg.height === cp.msg.height)!
      assert.equal(toHex(cp.msg.root), toHex(same.msg.root))
      const rebuilt = rebuildCheckpoint(net.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks)
      assert.equal(toHex(rebuilt.ledger.stateHash()), toHex(cp.msg.root))
    }
  })

  test('history behind the checkpoint is pruned: fewer certificates kept than without checkpoints', () => {
    const kept = net.replicas.map(r => r.status().certificates)
    const all = unpruned.replicas.map(r => r.status().certificates)
    for (let i = 0; i < 4; i++) assert.ok(kept[i]! < all[i]!, `node ${i}: ${kept[i]} certificates kept with pruning, ${all[i]} without`)
    assert.ok(net.replicas[0]!.prunedThrough(net.accounts[0]!.publicKey) > 0)
    assert.equal(unpruned.replicas[0]!.latestCheckpoint(), undefined)
    // what the host may delete from disk: certificates behind the pruned line; nothing without checkpoints
    assert.ok(net.disks[0]!.some(r => r.kind === 'certificate' && net.replicas[0]!.prunable(r)))
    assert.ok(unpruned.disks[0]!.every(r => !unpruned.replicas[0]!.prunable(r)))
  })

  test('a signature moved onto another cut does not verify: the message is rejected and changes nothing', () => {
    const cp = net.replicas[0]!.latestCheckpoint()!
    const forged: CheckpointMsg = { ...cp.msg, height: cp.msg.height + 1, delta: cp.msg.delta.slice(1) }
    const fresh = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 0)) })
    const res = fresh.receive(net.replicas[1]!.id, encodeMessage(forged), 0)
    assert.equal(res.verdict, 'reject')
    assert.match(res.reason ?? '', /does not verify|bad checkpoint signature/)
    assert.equal(res.actions.length, 0)
  })

  test('a node started from the checkpoint rejects forged certificates, ignores ops behind the cut and reaches the validators\' root', () => {
    const source = net.replicas[2]!
    const cp = source.latestCheckpoint()!
    const from = rebuildCheckpoint(net.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks)
    // a few ops after the cut (fewer than an interval: no new checkpoint)
    net.accounts.slice(0, 3).forEach((a, i) => {
      const op = signOp(a, net.networkId, { account: a.publicKey, seq: 17, deps: [], body: { kind: 'transfer', to: net.accounts[i + 1]!.publicKey, amount: 1n } })
      net.execute(i, net.submit(i, [op]).actions)
    })
    net.settle(20)
    assert.equal(source.latestCheckpoint()!.msg.height, cp.msg.height)
    const observer = new Replica({ genesis: net.genesis, scheme: sodiumScheme, signer: signerFrom(sodiumScheme, seedOf('observer', 1)) })
    observer.restore([], 0, from)
    assert.equal(toHex(observer.ledger.stateHash()), toHex(cp.msg.root))
    const certs = net.disks[2]!.flatMap(r => r.kind === 'certificate' ? [r.bytes] : [])
    // a certificate with a vote that is not a validator's: rejected
    const real = decodeMessage(certs[certs.length - 1]!)
    assert.equal(real.type, 'certified')
    if (real.type !== 'certified') return
    const outsider = signerFrom(sodiumScheme, seedOf('outsider', 0))
    const forged = encodeMessage({ ...real, votes: [...real.votes.slice(1), { voter: outsider.publicKey, sig: real.votes[0]!.sig }] })
    assert.equal(observer.receive('peer', forged, 1).verdict, 'reject')
    // the first certificate ever made lies behind the cut: nothing in it is taken
    assert.equal(observer.receive('peer', certs[0]!, 1).verdict, 'ignore')
    for (const bytes of certs) observer.receive('peer', bytes, 2)
    assert.equal(toHex(observer.ledger.stateHash()), net.stateHashes()[0])
  })
})

// ---------------------------------------------------------------------------------------------

/** A state of `n` accounts, big enough for several chunks. */
function bigState (n: number, salt: number): LedgerState {
  const accounts = Array.from({ length: n }, (_, i) => {
    const id = new Uint8Array(32)
    new DataView(id.buffer).setUint32(0, i)
    id[31] = salt
    return { id, balance: BigInt(1000 + i), nextSeq: 1 + (i % 5), credits: i % 3 === 0 ? [{ source: { account: id, seq: 1 }, amount: 7n }] : [] }
  })
  const supply = accounts.reduce((s, a) => s + a.balance + a.credits.reduce((c, x) => c + x.amount, 0n), 0n)
  return { supply, accounts, contracts: [] }
}

describe('snapshots', () => {
  test('a state of several chunks reads back exactly, and any flipped byte is caught', () => {
    const net = new LocalNet()
    const snap = buildSnapshot(bigState(6000, 1))
    assert.ok(snap.chunks.length >= 2, `${snap.chunks.length} chunks`)
    const ledger = Ledger.fromState(net.genesis, readSnapshot(snap.manifest, snap.chunks))
    assert.equal(toHex(ledger.stateHash()), toHex(snap.root))
    const bad = snap.chunks.map(c => c.slice())
    bad[1]![10]! ^= 1
    assert.throws(() => readSnapshot(snap.manifest, bad), /does not match the manifest/)
    assert.throws(() => readSnapshot(snap.manifest, snap.chunks.slice(0, -1)), /chunks for a manifest/)
  })
})

describe('joining among liars', () => {
  const net = new LocalNet()
  const set = validatorSet(net)
  const keys = net.validatorKeys
  const certify = (snap: Snapshot, signers = keys.slice(0, 3)): Uint8Array => {
    const statement = { height: snap.manifest.height, root: snap.root, baseHeight: 0, base: new Uint8Array(32), proposer: keys[0]!.publicKey, delta: [] }
    return encodeMessage({ type: 'checkpoint', ...statement, sigs: signers.map(k => signCheckpoint(k, net.networkId, statement)) })
  }
  const latest = buildSnapshot(bigState(30_000, 2))
  const older = buildSnapshot(bigState(3000, 3))
  const other = buildSnapshot(bigState(30_000, 4))
  const good = certify(latest)
  const outsiders = [0, 1, 2].map(i => signerFrom(sodiumScheme, seedOf('outsider', i)))
  const badSig = decodeMessage(good) as CheckpointMsg
  const flipped = encodeMessage({ ...badSig, sigs: badSig.sigs.map((s, i) => i === 0 ? { ...s, sig: s.sig.map((b, k) => k === 0 ? b ^ 1 : b) } : s) })

  type Peer = { offer?: [Uint8Array, Uint8Array], chunk?: (i: number) => Uint8Array | undefined }
  const honest: Peer = { offer: [good, latest.manifestBytes], chunk: i => latest.chunks[i] }
  const peers: Record<string, Peer> = {
    honest1: honest,
    honest2: honest,
    fewSigs: { offer: [certify(latest, keys.slice(0, 2)), latest.manifestBytes] },
    outsider: { offer: [certify(latest, outsiders), latest.manifestBytes] },
    badSig: { offer: [flipped, latest.manifestBytes] },
    wrongManifest: { offer: [good, other.manifestBytes] },
    stale: { offer: [certify(older), older.manifestBytes], chunk: i => older.chunks[i] },
    wrongChunk: { offer: [good, latest.manifestBytes], chunk: i => other.chunks[i] ?? latest.chunks[0] },
    truncated: { offer: [good, latest.manifestBytes], chunk: i => latest.chunks[i]!.subarray(0, 100) },
    quitter: { offer: [good, latest.manifestBytes], chunk: () => undefined }
  }

  test('the joiner names every misbehaving peer, fetches elsewhere and rebuilds the certified root', () => {
    assert.ok(latest.chunks.length >= 6, `${latest.chunks.length} chunks: enough for every source to get one`)
    const joiner = new Joiner(net.genesis, set, { offersWanted: 10, requestTimeout: 1000, perPeer: 1 })
    let now = 0
    let queue: JoinRequest[] = joiner.addPeers(Object.keys(peers), now)
    for (let round = 0; round < 100 && joiner.result() === undefined; round++) {
      const next: JoinRequest[] = []
      for (const req of queue) {
        const p = peers[req.peer]!
        if (req.kind === 'latest') next.push(...joiner.onOffer(req.peer, p.offer![0], p.offer![1], now))
        else {
          const bytes = p.chunk?.(req.index)
          if (bytes !== undefined) next.push(...joiner.onChunk(req.peer, req.index, bytes, now))
        }
      }
      now += 500
      next.push(...joiner.tick(now).requests)
      queue = next
    }
    const result = joiner.result()
    assert.ok(result !== undefined, `joined (${joiner.failure ?? ''})`)
    assert.equal(toHex(result.ledger.stateHash()), toHex(latest.root))
    assert.equal(result.cp.msg.height, latest.manifest.height)
    const blamed = (peer: string): string => joiner.misbehaved.filter(m => m.peer === peer).map(m => m.reason).join('; ')
    assert.match(blamed('fewSigs'), /forged checkpoint: checkpoint has 2 signatures, needs 3/)
    assert.match(blamed('outsider'), /not a genesis validator/)
    assert.match(blamed('badSig'), /does not verify/)
    assert.match(blamed('wrongManifest'), /manifest that does not hash to the checkpoint root/)
    assert.match(blamed('stale'), /stale checkpoint/)
    assert.match(blamed('wrongChunk'), /does not match the manifest/)
    assert.match(blamed('truncated'), /does not match the manifest/)
    assert.match(blamed('quitter'), /stopped answering/)
    assert.equal(blamed('honest1'), '')
    assert.equal(blamed('honest2'), '')
  })

  test('a trusted root stands in for signatures; without it the same unsigned offer is refused', () => {
    const unsigned = encodeMessage({ type: 'checkpoint', height: latest.manifest.height, root: latest.root, baseHeight: 0, base: new Uint8Array(32), proposer: keys[0]!.publicKey, delta: [], sigs: [] })
    for (const trustedRoot of [latest.root, undefined]) {
      const joiner = new Joiner(net.genesis, set, { offersWanted: 1, ...(trustedRoot === undefined ? {} : { trustedRoot }) })
      joiner.addPeers(['p'], 0)
      const reqs = joiner.onOffer('p', unsigned, latest.manifestBytes, 0)
      if (trustedRoot === undefined) {
        assert.equal(reqs.length, 0)
        assert.match(joiner.misbehaved[0]!.reason, /needs 3/)
      } else {
        let queue = reqs
        while (queue.length > 0) queue = queue.flatMap(r => r.kind === 'chunk' ? joiner.onChunk('p', r.index, latest.chunks[r.index]!, 0) : [])
        assert.equal(toHex(joiner.result()!.ledger.stateHash()), toHex(latest.root))
      }
    }
  })
})
