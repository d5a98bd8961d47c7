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
import { MAX_VALIDATORS } from '../ledger/genesis.js'
import type { ReconfigureSig, ReconfigureStatement } from '../epoch/epochs.js'

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

// Epochs ride along as optional fields, omitted at epoch 0: a network that never reconfigures
// sends the bytes it always did.

/** A broadcaster asks validators to bind and sign a batch. */
export interface Propose { readonly type: 'propose', readonly ops: readonly Uint8Array[] }
/** A validator's signature over a batch digest, sent back to the broadcaster. */
export interface VoteMsg { readonly type: 'vote', readonly digest: Hash, readonly voter: Uint8Array, readonly sig: Uint8Array, readonly epoch?: number }
/** A validator refuses a batch: proof of equivocation for some ops, or slots it cannot bind yet. */
export interface Nack { readonly type: 'nack', readonly digest: Hash, readonly voter: Uint8Array, readonly conflicts: readonly Uint8Array[], readonly deferred: readonly Slot[] }
/** A batch with a quorum of votes: self-verifying, delivered by everyone who receives it. */
export interface Certified { readonly type: 'certified', readonly ops: readonly Uint8Array[], readonly votes: readonly Vote[], readonly epoch?: number }
/** Asks a peer for the certificates of an account's ops in [fromSeq, toSeq]. */
export interface Fetch { readonly type: 'fetch', readonly account: Uint8Array, readonly fromSeq: number, readonly toSeq: number }
/**
 * Anti-entropy: the sender's next seq for some accounts (all of them when `complete`), and the
 * height of its latest certified checkpoint (a peer with newer ones sends them).
 */
export interface Frontier { readonly type: 'frontier', readonly entries: readonly Slot[], readonly complete: boolean, readonly checkpoint: number, readonly epoch?: number }

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
  /** The epoch whose validators sign it (absent: 0). */
  readonly epoch?: number
  readonly sigs: readonly CheckpointSig[]
}

/** What a checkpoint's signatures cover: the message without them. */
export type CheckpointStatement = Omit<CheckpointMsg, 'type' | 'sigs'>

/**
 * A proposed change of the validator set, with the approvals gathered so far; with a quorum of the
 * previous epoch's set it is certified and starts `epoch` (see epoch/epochs.ts).
 */
export interface ReconfigureMsg extends ReconfigureStatement { readonly type: 'reconfigure', readonly sigs: readonly ReconfigureSig[] }

/**
 * From a validator of epoch `epoch - 1` to the validators of `epoch`: ops it bound and has not
 * delivered, which they bind too before they vote in `epoch`, and its delivered frontier (`entries`:
 * the next seq of its streams), which they deliver up to first; `done` ends the list. `settled`:
 * the sender votes in `epoch` itself (it may not have voted in the one before). A list of several
 * messages numbers them (`part`, from 0) and names the list (`list`): frames get lost, and a list
 * counts only whole (written only then).
 */
export interface Handoff { readonly type: 'handoff', readonly epoch: number, readonly ops: readonly Uint8Array[], readonly done: boolean, readonly entries?: readonly Slot[], readonly settled?: true, readonly list?: number, readonly part?: number }
/** A validator of `epoch` still waiting for the sender's hand-off. */
export interface HandoffRequest { readonly type: 'handoff-request', readonly epoch: number }

/**
 * Proof that a validator voted for two ops at one slot (see evidence.ts), passed on by every node
 * that verified it, so every node can list it.
 */
export interface EvidenceMsg {
  readonly type: 'evidence'
  readonly voter: Uint8Array
  readonly certificate: Uint8Array
  readonly ops: readonly Uint8Array[]
  readonly sig: Uint8Array
  readonly epoch?: number
}

export type Message = Propose | VoteMsg | Nack | Certified | Fetch | Frontier | CheckpointMsg | ReconfigureMsg | Handoff | HandoffRequest | EvidenceMsg

const epochField = (epoch: number | undefined): { epoch?: number } => epoch === undefined || epoch === 0 ? {} : { epoch }

export function encodeMessage (m: Message): Uint8Array {
  switch (m.type) {
    case 'propose': return encode({ type: m.type, ops: [...m.ops] })
    case 'vote': return encode({ type: m.type, digest: m.digest, voter: m.voter, sig: m.sig, ...epochField(m.epoch) })
    case 'nack': return encode({ type: m.type, digest: m.digest, voter: m.voter, conflicts: [...m.conflicts], deferred: m.deferred.map(slotValue) })
    case 'certified': return encode({ type: m.type, ops: [...m.ops], votes: m.votes.map(v => [v.voter, v.sig]), ...epochField(m.epoch) })
    case 'fetch': return encode({ type: m.type, account: m.account, fromSeq: m.fromSeq, toSeq: m.toSeq })
    case 'frontier': return encode({ type: m.type, entries: m.entries.map(slotValue), complete: m.complete, checkpoint: m.checkpoint, ...epochField(m.epoch) })
    case 'checkpoint': return encode({ type: m.type, height: m.height, root: m.root, baseHeight: m.baseHeight, base: m.base, proposer: m.proposer, delta: m.delta.map(slotValue), sigs: m.sigs.map(s => [s.signer, s.sig]), ...epochField(m.epoch) })
    case 'reconfigure': return encode({ type: m.type, epoch: m.epoch, validators: [...m.validators], prev: m.prev, proposer: m.proposer, sigs: m.sigs.map(s => [s.signer, s.sig]) })
    case 'handoff': return encode({ type: m.type, epoch: m.epoch, ops: [...m.ops], done: m.done, ...(m.entries === undefined || m.entries.length === 0 ? {} : { entries: m.entries.map(slotValue) }), ...(m.settled === true ? { settled: true } : {}), ...(m.part === undefined ? {} : { list: m.list ?? 0, part: m.part }) })
    case 'handoff-request': return encode({ type: m.type, epoch: m.epoch })
    case 'evidence': return encode({ type: m.type, voter: m.voter, certificate: m.certificate, ops: [...m.ops], sig: m.sig, ...epochField(m.epoch) })
  }
}

function readOps (v: Value | undefined, what: string, allowEmpty = false): Uint8Array[] {
  const ops = read.list(v, what, MESSAGE_LIMITS.maxBatchOps).map((o, i) => read.bytes(o, `${what}[${i}]`, undefined, OP_LIMITS.maxOpBytes))
  if (ops.length === 0 && !allowEmpty) throw new MalformedError(`${what}: empty batch`)
  return ops
}

const readEpoch = (v: Value | undefined, what: string): number => v === undefined ? 0 : read.uint(v, what)

function readSigs (v: Value | undefined, what: string): Array<{ signer: Uint8Array, sig: Uint8Array }> {
  return read.list(v, what, MESSAGE_LIMITS.maxVotes).map((p, i) => {
    const pair = read.list(p, `${what}[${i}]`, 2)
    if (pair.length !== 2) throw new MalformedError(`${what}[${i}]: expected [signer, sig]`)
    return { signer: read.bytes(pair[0], `${what}[${i}].signer`, PUBLIC_KEY_BYTES), sig: read.bytes(pair[1], `${what}[${i}].sig`, SIGNATURE_BYTES) }
  })
}

/** Decodes untrusted bytes into a message; throws MalformedError. Ops inside are decoded later. */
export function decodeMessage (bytes: Uint8Array, maxBytes: number = MESSAGE_LIMITS.maxMessageBytes): Message {
  const value = decode(bytes, { maxBytes, maxDepth: 4, maxItems: MESSAGE_LIMITS.maxFrontierEntries })
  const type = read.text(read.map(value, 'message', ['type', 'ops', 'digest', 'voter', 'sig', 'conflicts', 'deferred', 'votes', 'account', 'fromSeq', 'toSeq', 'entries', 'complete', 'checkpoint', 'height', 'root', 'baseHeight', 'base', 'proposer', 'delta', 'sigs', 'epoch', 'validators', 'prev', 'done', 'certificate', 'settled', 'list', 'part']).type, 'message.type', 16)
  switch (type) {
    case 'propose': {
      const m = read.map(value, type, ['type', 'ops'])
      return { type, ops: readOps(m.ops, 'propose.ops') }
    }
    case 'vote': {
      const m = read.map(value, type, ['type', 'digest', 'voter', 'sig', 'epoch'])
      return { type, digest: read.bytes(m.digest, 'vote.digest', 32), voter: read.bytes(m.voter, 'vote.voter', PUBLIC_KEY_BYTES), sig: read.bytes(m.sig, 'vote.sig', SIGNATURE_BYTES), epoch: readEpoch(m.epoch, 'vote.epoch') }
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
      const m = read.map(value, type, ['type', 'ops', 'votes', 'epoch'])
      const votes = read.list(m.votes, 'certified.votes', MESSAGE_LIMITS.maxVotes).map((v, i) => {
        const pair = read.list(v, `certified.votes[${i}]`, 2)
        if (pair.length !== 2) throw new MalformedError(`certified.votes[${i}]: expected [voter, sig]`)
        return { voter: read.bytes(pair[0], `certified.votes[${i}].voter`, PUBLIC_KEY_BYTES), sig: read.bytes(pair[1], `certified.votes[${i}].sig`, SIGNATURE_BYTES) }
      })
      return { type, ops: readOps(m.ops, 'certified.ops'), votes, epoch: readEpoch(m.epoch, 'certified.epoch') }
    }
    case 'fetch': {
      const m = read.map(value, type, ['type', 'account', 'fromSeq', 'toSeq'])
      const fromSeq = read.uint(m.fromSeq, 'fetch.fromSeq')
      const toSeq = read.uint(m.toSeq, 'fetch.toSeq')
      if (fromSeq < 1 || toSeq < fromSeq || toSeq - fromSeq >= MESSAGE_LIMITS.maxFetchSpan) throw new MalformedError('fetch: bad seq range')
      return { type, account: read.bytes(m.account, 'fetch.account', PUBLIC_KEY_BYTES), fromSeq, toSeq }
    }
    case 'frontier': {
      const m = read.map(value, type, ['type', 'entries', 'complete', 'checkpoint', 'epoch'])
      return {
        type,
        entries: read.list(m.entries, 'frontier.entries', MESSAGE_LIMITS.maxFrontierEntries).map((s, i) => readSlot(s, `frontier.entries[${i}]`)),
        complete: read.bool(m.complete, 'frontier.complete'),
        checkpoint: read.uint(m.checkpoint, 'frontier.checkpoint'),
        epoch: readEpoch(m.epoch, 'frontier.epoch')
      }
    }
    case 'checkpoint': {
      const m = read.map(value, type, ['type', 'height', 'root', 'baseHeight', 'base', 'proposer', 'delta', 'sigs', 'epoch'])
      const sigs = readSigs(m.sigs, 'checkpoint.sigs')
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
        epoch: readEpoch(m.epoch, 'checkpoint.epoch'),
        sigs
      }
    }
    case 'reconfigure': {
      const m = read.map(value, type, ['type', 'epoch', 'validators', 'prev', 'proposer', 'sigs'])
      const epoch = read.uint(m.epoch, 'reconfigure.epoch')
      if (epoch < 1) throw new MalformedError('reconfigure.epoch starts at 1')
      return {
        type,
        epoch,
        validators: read.list(m.validators, 'reconfigure.validators', MAX_VALIDATORS).map((v, i) => read.bytes(v, `reconfigure.validators[${i}]`, PUBLIC_KEY_BYTES)),
        prev: read.bytes(m.prev, 'reconfigure.prev', 32),
        proposer: read.bytes(m.proposer, 'reconfigure.proposer', PUBLIC_KEY_BYTES),
        sigs: readSigs(m.sigs, 'reconfigure.sigs')
      }
    }
    case 'handoff': {
      const m = read.map(value, type, ['type', 'epoch', 'ops', 'done', 'entries', 'settled', 'list', 'part'])
      const done = read.bool(m.done, 'handoff.done')
      // both or neither, and not on a list of one message: one encoding per message
      if ((m.list === undefined) !== (m.part === undefined)) throw new MalformedError('handoff: list and part go together')
      const parts = m.part === undefined ? {} : { list: read.uint(m.list, 'handoff.list'), part: read.uint(m.part, 'handoff.part') }
      if (parts.part === 0 && done) throw new MalformedError('handoff.part: not written on a list of one message')
      const entries = m.entries === undefined ? [] : read.list(m.entries, 'handoff.entries', MESSAGE_LIMITS.maxFrontierEntries).map((s, i) => readSlot(s, `handoff.entries[${i}]`))
      // written only when true: one encoding per message
      if (m.settled !== undefined && !read.bool(m.settled, 'handoff.settled')) throw new MalformedError('handoff.settled: written only when true')
      return { type, epoch: read.uint(m.epoch, 'handoff.epoch'), ops: readOps(m.ops, 'handoff.ops', true), done, entries, ...(m.settled === undefined ? {} : { settled: true as const }), ...parts }
    }
    case 'handoff-request': {
      const m = read.map(value, type, ['type', 'epoch'])
      return { type, epoch: read.uint(m.epoch, 'handoff-request.epoch') }
    }
    case 'evidence': {
      const m = read.map(value, type, ['type', 'voter', 'certificate', 'ops', 'sig', 'epoch'])
      return {
        type,
        voter: read.bytes(m.voter, 'evidence.voter', PUBLIC_KEY_BYTES),
        certificate: read.bytes(m.certificate, 'evidence.certificate', undefined, MESSAGE_LIMITS.maxMessageBytes),
        ops: readOps(m.ops, 'evidence.ops'),
        sig: read.bytes(m.sig, 'evidence.sig', SIGNATURE_BYTES),
        epoch: readEpoch(m.epoch, 'evidence.epoch')
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
  const delta = sha256(encode(m.delta.map(slotValue)))
  // epoch 0 keeps the v2 statement, so checkpoints signed before epochs existed still verify
  if ((m.epoch ?? 0) === 0) return encode(['checkpoint/v2', m.height, m.root, m.baseHeight, m.base, m.proposer, delta])
  return encode(['checkpoint/v3', m.epoch!, m.height, m.root, m.baseHeight, m.base, m.proposer, delta])
}

/** A checkpoint's identity, whatever signatures travel with it: the hash of its statement. */
export function checkpointId (m: CheckpointStatement): string {
  return toHex(sha256(checkpointStatement(m)))
}

/** What validators sign for a batch: the hash of its op hashes, in order. */
export function batchDigest (opHashes: readonly Hash[]): Hash {
  return sha256(encode(['batch', [...opHashes]]))
}

/** What a vote's signature covers: the digest, and after epoch 0 the epoch it counts in. */
export function votePayload (epoch: number, digest: Hash): Uint8Array {
  return epoch === 0 ? digest : encode(['vote/v2', epoch, digest])
}
