// SecureBroadcast's wire messages. Every message is one canonical CBOR map with a `type`; ops
// travel as their own signed bytes so they are hashed and checked exactly as their author signed.

import { decode, encode } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { sha256, toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { OP_LIMITS } from '../ledger/op.js'
import type { Slot } from '../ledger/op.js'
import { readSlot, slotValue } from '../ledger/slot.js'

export const MESSAGE_LIMITS = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxBatchOps: 1024,
  maxVotes: 256,
  maxFrontierEntries: 4096,
  maxFetchSpan: 1024,
  /** Accounts one checkpoint's cut may move: bounds the checkpoint interval too. */
  maxCheckpointDelta: 4096
} as const

export interface Vote { readonly voter: Uint8Array, readonly sig: Uint8Array }

/** A broadcaster asks validators to bind and sign a batch. */
export interface Propose { readonly type: 'propose', readonly ops: readonly Uint8Array[] }
/** A validator's signature over a batch digest, sent back to the broadcaster. */
export interface VoteMsg { readonly type: 'vote', readonly digest: Hash, readonly voter: Uint8Array, readonly sig: Uint8Array }
/** A validator refuses a batch: proof of equivocation for some ops, or slots it cannot bind yet. */
export interface Nack { readonly type: 'nack', readonly digest: Hash, readonly voter: Uint8Array, readonly conflicts: readonly Uint8Array[], readonly deferred: readonly Slot[] }
/** A batch with a quorum of votes: self-verifying, delivered by everyone who receives it. */
export interface Certified { readonly type: 'certified', readonly ops: readonly Uint8Array[], readonly votes: readonly Vote[] }
/** Asks a peer for the certificates of an account's ops in [fromSeq, toSeq]. */
export interface Fetch { readonly type: 'fetch', readonly account: Uint8Array, readonly fromSeq: number, readonly toSeq: number }
/**
 * Anti-entropy: the sender's next seq for some accounts (all of them when `complete`), and the
 * height of its latest certified checkpoint (a peer with newer ones sends them).
 */
export interface Frontier { readonly type: 'frontier', readonly entries: readonly Slot[], readonly complete: boolean, readonly checkpoint: number }

export interface CheckpointSig { readonly signer: Uint8Array, readonly sig: Uint8Array }

/**
 * Signatures on the state at a cut. The cut is sent as its difference from an earlier certified
 * checkpoint (`base`, at `baseHeight`): the last seq of every account that moved. `proposer` is
 * the validator whose turn made the cut. Validators sign all of it but the signatures; with a
 * quorum of signatures it is a certified checkpoint.
 */
export interface CheckpointMsg {
  readonly type: 'checkpoint'
  readonly height: number
  readonly root: Hash
  readonly baseHeight: number
  readonly base: Hash
  readonly proposer: Uint8Array
  readonly delta: readonly Slot[]
  readonly sigs: readonly CheckpointSig[]
}

/** What a checkpoint's signatures cover: the message without them. */
export type CheckpointStatement = Omit<CheckpointMsg, 'type' | 'sigs'>

export type Message = Propose | VoteMsg | Nack | Certified | Fetch | Frontier | CheckpointMsg

export function encodeMessage (m: Message): Uint8Array {
  switch (m.type) {
    case 'propose': return encode({ type: m.type, ops: [...m.ops] })
    case 'vote': return encode({ type: m.type, digest: m.digest, voter: m.voter, sig: m.sig })
    case 'nack': return encode({ type: m.type, digest: m.digest, voter: m.voter, conflicts: [...m.conflicts], deferred: m.deferred.map(slotValue) })
    case 'certified': return encode({ type: m.type, ops: [...m.ops], votes: m.votes.map(v => [v.voter, v.sig]) })
    case 'fetch': return encode({ type: m.type, account: m.account, fromSeq: m.fromSeq, toSeq: m.toSeq })
    case 'frontier': return encode({ type: m.type, entries: m.entries.map(slotValue), complete: m.complete, checkpoint: m.checkpoint })
    case 'checkpoint': return encode({ type: m.type, height: m.height, root: m.root, baseHeight: m.baseHeight, base: m.base, proposer: m.proposer, delta: m.delta.map(slotValue), sigs: m.sigs.map(s => [s.signer, s.sig]) })
  }
}

function readOps (v: Value | undefined, what: string): Uint8Array[] {
  const ops = read.list(v, what, MESSAGE_LIMITS.maxBatchOps).map((o, i) => read.bytes(o, `${what}[${i}]`, undefined, OP_LIMITS.maxOpBytes))
  if (ops.length === 0) throw new MalformedError(`${what}: empty batch`)
  return ops
}

/** Decodes untrusted bytes into a message; throws MalformedError. Ops inside are decoded later. */
export function decodeMessage (bytes: Uint8Array): Message {
  const value = decode(bytes, { maxBytes: MESSAGE_LIMITS.maxMessageBytes, maxDepth: 4, maxItems: MESSAGE_LIMITS.maxFrontierEntries })
  const type = read.text(read.map(value, 'message', ['type', 'ops', 'digest', 'voter', 'sig', 'conflicts', 'deferred', 'votes', 'account', 'fromSeq', 'toSeq', 'entries', 'complete', 'checkpoint', 'height', 'root', 'baseHeight', 'base', 'proposer', 'delta', 'sigs']).type, 'message.type', 16)
  switch (type) {
    case 'propose': {
      const m = read.map(value, type, ['type', 'ops'])
      return { type, ops: readOps(m.ops, 'propose.ops') }
    }
    case 'vote': {
      const m = read.map(value, type, ['type', 'digest', 'voter', 'sig'])
      return { type, digest: read.bytes(m.digest, 'vote.digest', 32), voter: read.bytes(m.voter, 'vote.voter', PUBLIC_KEY_BYTES), sig: read.bytes(m.sig, 'vote.sig', SIGNATURE_BYTES) }
    }
    case 'nack': {
      const m = read.map(value, type, ['type', 'digest', 'voter', 'conflicts', 'deferred'])
      return {
        type,
        digest: read.bytes(m.digest, 'nack.digest', 32),
        voter: read.bytes(m.voter, 'nack.voter', PUBLIC_KEY_BYTES),
        conflicts: read.list(m.conflicts, 'nack.conflicts', MESSAGE_LIMITS.maxBatchOps).map((o, i) => read.bytes(o, `nack.conflicts[${i}]`, undefined, OP_LIMITS.maxOpBytes)),
        deferred: read.list(m.deferred, 'nack.deferred', MESSAGE_LIMITS.maxBatchOps).map((s, i) => readSlot(s, `nack.deferred[${i}]`))
      }
    }
    case 'certified': {
      const m = read.map(value, type, ['type', 'ops', 'votes'])
      const votes = read.list(m.votes, 'certified.votes', MESSAGE_LIMITS.maxVotes).map((v, i) => {
        const pair = read.list(v, `certified.votes[${i}]`, 2)
        if (pair.length !== 2) throw new MalformedError(`certified.votes[${i}]: expected [voter, sig]`)
        return { voter: read.bytes(pair[0], `certified.votes[${i}].voter`, PUBLIC_KEY_BYTES), sig: read.bytes(pair[1], `certified.votes[${i}].sig`, SIGNATURE_BYTES) }
      })
      return { type, ops: readOps(m.ops, 'certified.ops'), votes }
    }
    case 'fetch': {
      const m = read.map(value, type, ['type', 'account', 'fromSeq', 'toSeq'])
      const fromSeq = read.uint(m.fromSeq, 'fetch.fromSeq')
      const toSeq = read.uint(m.toSeq, 'fetch.toSeq')
      if (fromSeq < 1 || toSeq < fromSeq || toSeq - fromSeq >= MESSAGE_LIMITS.maxFetchSpan) throw new MalformedError('fetch: bad seq range')
      return { type, account: read.bytes(m.account, 'fetch.account', PUBLIC_KEY_BYTES), fromSeq, toSeq }
    }
    case 'frontier': {
      const m = read.map(value, type, ['type', 'entries', 'complete', 'checkpoint'])
      return {
        type,
        entries: read.list(m.entries, 'frontier.entries', MESSAGE_LIMITS.maxFrontierEntries).map((s, i) => readSlot(s, `frontier.entries[${i}]`)),
        complete: read.bool(m.complete, 'frontier.complete'),
        checkpoint: read.uint(m.checkpoint, 'frontier.checkpoint')
      }
    }
    case 'checkpoint': {
      const m = read.map(value, type, ['type', 'height', 'root', 'baseHeight', 'base', 'proposer', 'delta', 'sigs'])
      const sigs = read.list(m.sigs, 'checkpoint.sigs', MESSAGE_LIMITS.maxVotes).map((v, i) => {
        const pair = read.list(v, `checkpoint.sigs[${i}]`, 2)
        if (pair.length !== 2) throw new MalformedError(`checkpoint.sigs[${i}]: expected [signer, sig]`)
        return { signer: read.bytes(pair[0], `checkpoint.sigs[${i}].signer`, PUBLIC_KEY_BYTES), sig: read.bytes(pair[1], `checkpoint.sigs[${i}].sig`, SIGNATURE_BYTES) }
      })
      const height = read.uint(m.height, 'checkpoint.height')
      const baseHeight = read.uint(m.baseHeight, 'checkpoint.baseHeight')
      if (baseHeight >= height) throw new MalformedError('checkpoint: height must be above its base')
      return {
        type,
        height,
        root: read.bytes(m.root, 'checkpoint.root', 32),
        baseHeight,
        base: read.bytes(m.base, 'checkpoint.base', 32),
        proposer: read.bytes(m.proposer, 'checkpoint.proposer', PUBLIC_KEY_BYTES),
        delta: read.list(m.delta, 'checkpoint.delta', MESSAGE_LIMITS.maxCheckpointDelta).map((s, i) => readSlot(s, `checkpoint.delta[${i}]`)),
        sigs
      }
    }
    default:
      throw new MalformedError(`unknown message type ${JSON.stringify(type)}`)
  }
}

/**
 * What validators sign for a checkpoint: every field a node keys or compares (height, root, the
 * base and its height, the proposer and the cut), so no relay can pair a real signature with
 * anything the signer did not check.
 */
export function checkpointStatement (m: CheckpointStatement): Uint8Array {
  return encode(['checkpoint/v2', m.height, m.root, m.baseHeight, m.base, m.proposer, sha256(encode(m.delta.map(slotValue)))])
}

/** A checkpoint's identity, whatever signatures travel with it: the hash of its statement. */
export function checkpointId (m: CheckpointStatement): string {
  return toHex(sha256(checkpointStatement(m)))
}

/** What validators sign for a batch: the hash of its op hashes, in order. */
export function batchDigest (opHashes: readonly Hash[]): Hash {
  return sha256(encode(['batch', [...opHashes]]))
}
