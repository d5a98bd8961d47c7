// Byzantine validators for the simulator. They hold a real validator key (and an outsider key)
// and attack with what a real adversary could make: votes for everything (including both sides of
// an equivocation), votes from a non-member, forged and replayed signatures, certificates with too
// few, duplicated, foreign or bad votes, ops signed in the wrong domain or for another network,
// and malformed bytes.

import { encode } from '../../src/core/codec/canonical.js'
import { Domain, signFor } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { batchDigest, decodeMessage, encodeMessage, votePayload } from '../../src/core/broadcast/messages.js'
import type { Certified, CheckpointMsg, Message } from '../../src/core/broadcast/messages.js'
import { signCheckpoint } from '../../src/core/checkpoint/certificate.js'
import { signStatement } from '../../src/core/epoch/epochs.js'
import { decodeOp, signOp } from '../../src/core/ledger/op.js'
import type { PeerId } from '../../src/core/broadcast/actions.js'
import type { Rng } from './rng.js'

export interface Outbox { send (to: PeerId, bytes: Uint8Array): void }

export class ByzantineValidator {
  readonly id: PeerId
  private readonly seen: Uint8Array[] = []
  private readonly proposals: Uint8Array[][] = []
  /** Votes gathered for batches this node re-proposed: with a quorum it certifies them itself. */
  private readonly gathering = new Map<string, { ops: Uint8Array[], votes: Map<string, Uint8Array>, epoch: number }>()
  private lastCert: Certified | undefined
  /** Checkpoint cuts seen (real ones, with real roots): material for split and re-based attacks. */
  private readonly cuts: CheckpointMsg[] = []
  sentAttacks = 0
  /** The epoch it votes in: the honest nodes', whether it is still a member or was removed. */
  epoch = 0

  constructor (
    private readonly member: Signer,
    private readonly outsider: Signer,
    private readonly networkId: Uint8Array,
    private readonly peers: readonly PeerId[],
    private readonly quorum: number,
    private readonly rng: Rng
  ) {
    this.id = toHex(member.publicKey)
  }

  receive (from: PeerId, bytes: Uint8Array, out: Outbox): void {
    if (this.seen.length < 64) this.seen.push(bytes)
    else this.seen[this.rng.int(0, 63)] = bytes
    let m: Message
    try { m = decodeMessage(bytes) } catch { return }
    if (m.type === 'propose') {
      let ops
      try { ops = m.ops.map(o => decodeOp(o)) } catch { return }
      if (this.proposals.length < 32) this.proposals.push([...m.ops])
      else this.proposals[this.rng.int(0, 31)] = [...m.ops]
      const digest = batchDigest(ops.map(o => o.hash))
      // votes for anything, without binding: safety must rest on the honest quorum alone
      const epoch = this.epoch
      out.send(from, encodeMessage({ type: 'vote', digest, voter: this.member.publicKey, sig: signFor(this.member, Domain.vote, this.networkId, votePayload(epoch, digest)), epoch }))
      // and in an epoch before: its vote there may still count where it was a member
      if (epoch > 0 && this.rng.chance(0.3)) out.send(from, encodeMessage({ type: 'vote', digest, voter: this.member.publicKey, sig: signFor(this.member, Domain.vote, this.networkId, votePayload(epoch - 1, digest)), epoch: epoch - 1 }))
      if (this.rng.chance(0.3)) out.send(from, encodeMessage({ type: 'vote', digest, voter: this.outsider.publicKey, sig: signFor(this.outsider, Domain.vote, this.networkId, votePayload(epoch, digest)), epoch }))
      if (this.rng.chance(0.2)) out.send(from, encodeMessage({ type: 'vote', digest, voter: this.member.publicKey, sig: this.rng.bytes(64), epoch }))
      if (this.rng.chance(0.2)) {
        // a nack whose "evidence" is the batch's own op, or a forged op for that slot
        const victim = this.rng.pick(ops)
        out.send(from, encodeMessage({ type: 'nack', digest, voter: this.member.publicKey, conflicts: [this.rng.chance(0.5) ? victim.bytes : this.forgedOpFor(victim.account, victim.seq)], deferred: [] }))
      }
    } else if (m.type === 'certified') {
      // only well-formed ones: another Byzantine node may have sent a mangled copy
      try { m.ops.forEach(o => decodeOp(o)); this.lastCert = m } catch { /* keep the previous one */ }
    } else if (m.type === 'checkpoint') {
      if (!this.cuts.some(c => c.height === m.height && c.proposer.every((b, i) => b === m.proposer[i]) && c.root.every((b, i) => b === m.root[i]))) {
        if (this.cuts.length >= 8) this.cuts.shift()
        this.cuts.push(m)
      }
      // signs every cut it sees, whatever it signed before: its signature must never be enough
      const mine = signCheckpoint(this.member, this.networkId, m)
      if (!m.sigs.some(s => toHex(s.signer) === this.id)) out.send(from, encodeMessage({ ...m, sigs: [...m.sigs, mine] }))
    } else if (m.type === 'vote') {
      const g = this.gathering.get(toHex(m.digest))
      if (g === undefined || (m.epoch ?? 0) !== g.epoch) return
      g.votes.set(toHex(m.voter), m.sig)
      if (g.votes.size >= this.quorum) {
        // votes are not checked here: honest receivers must catch any bad one
        const cert = encodeMessage({ type: 'certified', ops: g.ops, votes: [...g.votes.entries()].map(([v, sig]) => ({ voter: fromHex(v), sig })), epoch: g.epoch })
        for (const p of this.peers) out.send(p, cert)
        this.gathering.delete(toHex(m.digest))
      }
    }
  }

  /** Re-proposes a batch it saw (perhaps one side of an equivocation) and gathers the votes. */
  private replayProposal (out: Outbox): void {
    if (this.proposals.length === 0) return
    const ops = this.rng.pick(this.proposals)
    const digest = batchDigest(ops.map(o => decodeOp(o).hash))
    const votes = new Map<string, Uint8Array>([[this.id, signFor(this.member, Domain.vote, this.networkId, votePayload(this.epoch, digest))]])
    if (this.gathering.size > 16) this.gathering.clear()
    this.gathering.set(toHex(digest), { ops, votes, epoch: this.epoch })
    const propose = encodeMessage({ type: 'propose', ops })
    for (const p of this.rng.shuffle([...this.peers]).slice(0, this.rng.int(1, this.peers.length))) out.send(p, propose)
  }

  /**
   * A change of the set for the next epoch: adding its outsider key, signed by itself (a genuine
   * proposal nobody honest approves), or with a forged approval of another validator.
   */
  private bogusReconfiguration (): Uint8Array {
    const statement = { epoch: this.epoch + 1, validators: [this.member.publicKey, this.outsider.publicKey], prev: this.rng.bytes(32), proposer: this.member.publicKey }
    const mine = signStatement(this.member, this.networkId, statement)
    const forged = { signer: fromHex(this.rng.pick([...this.peers])), sig: this.rng.bytes(64) }
    return encodeMessage({ type: 'reconfigure', ...statement, sigs: this.rng.chance(0.5) ? [mine] : [mine, forged] })
  }

  /** Unprompted attacks, a few per tick. */
  tick (out: Outbox): void {
    if (!this.rng.chance(0.3)) return
    const to = this.rng.pick(this.peers)
    this.sentAttacks++
    switch (this.rng.int(0, 14)) {
      case 12: out.send(to, encodeMessage({ type: 'handoff', epoch: this.epoch, ops: this.proposals.length > 0 ? this.rng.pick(this.proposals) : [this.wrongDomainOp()], done: true })); break
      case 13: out.send(to, encodeMessage({ type: 'handoff-request', epoch: this.epoch })); break
      case 14: out.send(to, this.bogusReconfiguration()); break
      case 9: this.splitCheckpoint(out); break
      case 10: this.rebasedCheckpoint(out); break
      case 11: this.forgedCheckpoint(out); break
      case 8: this.replayProposal(out); break
      case 0: out.send(to, this.rng.bytes(this.rng.int(0, 300))); break
      case 1: out.send(to, this.mutated()); break
      case 2: if (this.lastCert !== undefined) out.send(to, encodeMessage(this.forgedCertificate(this.lastCert))); break
      case 3: out.send(to, encodeMessage({ type: 'propose', ops: [this.wrongDomainOp()] })); break
      case 4: out.send(to, encodeMessage({ type: 'propose', ops: [this.otherNetworkOp()] })); break
      case 5: out.send(to, encodeMessage({ type: 'certified', ops: [this.wrongDomainOp()], votes: [{ voter: this.member.publicKey, sig: this.rng.bytes(64) }] })); break
      case 6: out.send(to, encodeMessage({ type: 'fetch', account: this.rng.bytes(32), fromSeq: 1, toSeq: 1000 })); break
      case 7: out.send(to, encodeMessage({ type: 'frontier', entries: [{ account: this.rng.bytes(32), seq: this.rng.int(1, 1e6) }], complete: this.rng.chance(0.5), checkpoint: this.rng.int(0, 1e6) })); break
    }
  }

  /**
   * Proposes two different real cuts from one base as its own, each to a different part of the
   * validators: a split that must cost at most a turn.
   */
  private splitCheckpoint (out: Outbox): void {
    const a = this.rng.pick(this.cuts.length > 0 ? this.cuts : [undefined])
    if (a === undefined) return
    const b = this.cuts.find(c => c !== a && c.baseHeight === a.baseHeight && c.height !== a.height) ?? a
    const peers = this.rng.shuffle([...this.peers])
    const half = this.rng.int(1, peers.length - 1)
    for (const [cut, to] of [[a, peers.slice(0, half)], [b, peers.slice(half)]] as const) {
      const stmt = { ...cut, proposer: this.member.publicKey }
      const bytes = encodeMessage({ ...stmt, sigs: [signCheckpoint(this.member, this.networkId, stmt)] })
      for (const p of to) out.send(p, bytes)
    }
  }

  /** Relays a genuine checkpoint with another base height: signatures must not carry over. */
  private rebasedCheckpoint (out: Outbox): void {
    if (this.cuts.length === 0) return
    const cut = this.rng.pick(this.cuts)
    const baseHeight = cut.baseHeight === 0 ? 1 : cut.baseHeight - 1
    if (baseHeight >= cut.height) return
    out.send(this.rng.pick(this.peers), encodeMessage({ ...cut, baseHeight }))
  }

  /** A real cut with a made-up signature from another validator, or claiming another proposer. */
  private forgedCheckpoint (out: Outbox): void {
    if (this.cuts.length === 0) return
    const cut = this.rng.pick(this.cuts)
    const victim = fromHex(this.rng.pick(this.peers))
    const forged = this.rng.chance(0.5)
      ? { ...cut, sigs: [{ signer: victim, sig: this.rng.bytes(64) }] }
      : { ...cut, proposer: victim }
    out.send(this.rng.pick(this.peers), encodeMessage(forged))
  }

  private mutated (): Uint8Array {
    if (this.seen.length === 0) return this.rng.bytes(10)
    const b = new Uint8Array(this.rng.pick(this.seen))
    const flips = this.rng.int(1, 4)
    for (let i = 0; i < flips && b.length > 0; i++) b[this.rng.int(0, b.length - 1)]! ^= 1 << this.rng.int(0, 7)
    return this.rng.chance(0.3) ? b.subarray(0, this.rng.int(0, b.length)) : b
  }

  /** A real certificate made invalid in one of the ways a forger might try. */
  private forgedCertificate (cert: Certified): Certified {
    const votes = [...cert.votes]
    switch (this.rng.int(0, 4)) {
      case 0: return { ...cert, votes: votes.slice(0, Math.max(0, votes.length - 2)) }
      case 1: return { ...cert, votes: votes.length > 0 ? [...votes.slice(1), votes[0]!, votes[0]!].slice(0, votes.length) : votes }
      case 2: return { ...cert, votes: [...votes.slice(1), { voter: this.outsider.publicKey, sig: signFor(this.outsider, Domain.vote, this.networkId, batchDigest(cert.ops.map(o => decodeOp(o).hash))) }] }
      case 3: return { ...cert, votes: votes.map((v, i) => i === 0 ? { voter: v.voter, sig: this.rng.bytes(64) } : v) }
      default: {
        // the same votes over a different batch (a replayed certificate)
        const op = this.otherNetworkOp()
        return { type: 'certified', ops: [op], votes }
      }
    }
  }

  /** An op whose signature is valid, but made in the vote domain: must never verify as an op. */
  private wrongDomainOp (): Uint8Array {
    const op = signOp(this.outsider, this.networkId, { account: this.outsider.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: this.member.publicKey, amount: 5n } })
    return encode([op.payload, signFor(this.outsider, Domain.vote, this.networkId, op.payload)])
  }

  /** A well-signed op for another network: must not verify here. */
  private otherNetworkOp (): Uint8Array {
    const other = new Uint8Array(this.networkId); other[0]! ^= 0xff
    return signOp(this.member, other, { account: this.member.publicKey, seq: 1, deps: [], body: { kind: 'transfer', to: this.outsider.publicKey, amount: 1n } }).bytes
  }

  private forgedOpFor (account: Uint8Array, seq: number): Uint8Array {
    const op = signOp(this.outsider, this.networkId, { account: this.outsider.publicKey, seq, deps: [], body: { kind: 'transfer', to: this.outsider.publicKey, amount: 1n } })
    // claims to be the victim's op, signed by someone else
    return encode([encode({ account, seq, deps: [], body: { kind: 'transfer', to: this.outsider.publicKey, amount: 1n } }), op.sig])
  }
}
