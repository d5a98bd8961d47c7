// Evidence that a validator voted for two different ops at one slot: a certificate holding its vote
// for one, and its signed vote for a batch holding the other. Honest validators never do this
// (a binding comes before every vote, and bindings outlive epochs), so anyone holding the genesis
// and the epoch chain can check the record and blame the validator, without trusting the reporter.

import { bytesEqual } from '../codec/canonical.js'
import type { Hash } from '../crypto/hash.js'
import { toHex } from '../crypto/hash.js'
import { Domain, verifyFor } from '../crypto/signing.js'
import type { SignatureScheme } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { decodeOp } from '../ledger/op.js'
import type { SignedOp, Slot } from '../ledger/op.js'
import { MESSAGE_LIMITS, batchDigest, decodeMessage, encodeMessage, votePayload } from './messages.js'

export interface VoteEvidence {
  readonly voter: Uint8Array
  /** A certificate (encoded Certified message) that counts the voter's vote. */
  readonly certificate: Uint8Array
  /** Another batch, holding a different op at a slot of the certificate, and the voter's vote on it. */
  readonly ops: readonly Uint8Array[]
  readonly sig: Uint8Array
  /** The epoch the vote on the other batch named (absent: 0). */
  readonly epoch?: number
}

export interface EvidenceContext {
  readonly networkId: Hash
  readonly scheme: SignatureScheme
  /** The validators of an epoch the checker knows (undefined: unknown). */
  readonly membersOf: (epoch: number) => ReadonlySet<string> | undefined
}

/** The slot the validator voted two ops for, or why the record proves nothing. */
export function checkVoteEvidence (ctx: EvidenceContext, ev: VoteEvidence): { slot: Slot } | { problem: string } {
  const voter = toHex(ev.voter)
  let cert
  try {
    cert = decodeMessage(ev.certificate)
  } catch (err) {
    return { problem: `the certificate does not decode: ${(err as Error).message}` }
  }
  if (cert.type !== 'certified') return { problem: 'the certificate is not a certificate' }
  const certEpoch = cert.epoch ?? 0
  const otherEpoch = ev.epoch ?? 0
  for (const e of [certEpoch, otherEpoch]) {
    const members = ctx.membersOf(e)
    if (members === undefined) return { problem: `epoch ${e} is not known here` }
    if (!members.has(voter)) return { problem: `the accused is not a validator of epoch ${e}` }
  }
  const vote = cert.votes.find(v => bytesEqual(v.voter, ev.voter))
  if (vote === undefined) return { problem: 'the certificate holds no vote from the accused' }
  let first: SignedOp[]
  let second: SignedOp[]
  try {
    first = cert.ops.map(b => decodeOp(b))
    second = ev.ops.map(b => decodeOp(b))
  } catch (err) {
    return { problem: `an op does not decode: ${(err as Error).message}` }
  }
  const signed = (ops: readonly SignedOp[], sig: Uint8Array, epoch: number): boolean =>
    verifyFor(ctx.scheme, ev.voter, Domain.vote, ctx.networkId, votePayload(epoch, batchDigest(ops.map(o => o.hash))), sig)
  if (!signed(first, vote.sig, certEpoch)) return { problem: 'the accused\'s vote in the certificate does not verify' }
  if (!signed(second, ev.sig, otherEpoch)) return { problem: 'the accused\'s vote on the other batch does not verify' }
  for (const a of first) {
    const b = second.find(o => o.seq === a.seq && bytesEqual(o.account, a.account))
    if (b !== undefined && !bytesEqual(a.hash, b.hash)) return { slot: { account: a.account, seq: a.seq } }
  }
  return { problem: 'the two batches agree on every slot they share' }
}

/** The record as bytes (the gossip message that carries it), to keep on disk or send. */
export function encodeVoteEvidence (ev: VoteEvidence): Uint8Array {
  return encodeMessage({ type: 'evidence', voter: ev.voter, certificate: ev.certificate, ops: ev.ops, sig: ev.sig, ...(ev.epoch === undefined ? {} : { epoch: ev.epoch }) })
}

/**
 * The largest record: a certificate (one message) and another batch (up to one message of ops).
 * Such a record is never gossiped (it exceeds a message) but the finder keeps it on disk.
 */
export const MAX_EVIDENCE_BYTES = 2 * MESSAGE_LIMITS.maxMessageBytes + 64 * 1024

/** Decodes a record written by encodeVoteEvidence; throws MalformedError. */
export function decodeVoteEvidence (bytes: Uint8Array): VoteEvidence {
  // a stored record may be larger than any message: reading it back must not stop the node
  const m = decodeMessage(bytes, MAX_EVIDENCE_BYTES)
  if (m.type !== 'evidence') throw new MalformedError(`expected vote evidence, got a ${m.type} message`)
  return { voter: m.voter, certificate: m.certificate, ops: m.ops, sig: m.sig, epoch: m.epoch ?? 0 }
}
