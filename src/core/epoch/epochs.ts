// Epochs: the validator set as a chain from genesis. Epoch 0 is genesis's set; epoch e+1 is named
// by a Reconfigure statement that a quorum of epoch e's set signed, citing epoch e's id. Anyone
// holding the genesis checks the whole chain link by link, so a joiner can trust a checkpoint
// signed by a set it never saw formed.
//
// Safety across a change rests on overlap: a validator in both sets keeps its bindings (they are
// per slot, not per epoch), and any quorum of the old set and any quorum of the new one must share
// such a validator that is honest. `changeProblem` refuses a change that would not guarantee it.
// The fault model is the genesis's and never changes: every epoch's quorum follows it.

import { compareBytes, encode } from '../codec/canonical.js'
import { sha256, toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { Domain, signFor, verifyFor } from '../crypto/signing.js'
import type { SignatureScheme, Signer } from '../crypto/signing.js'
import { MAX_VALIDATORS, faultsTolerated, quorumSize } from '../ledger/genesis.js'
import type { FaultModel } from '../ledger/genesis.js'

export interface Epoch {
  readonly number: number
  /** Sorted bytewise, distinct. */
  readonly validators: readonly Uint8Array[]
  /** Hex keys, in the order of `validators`. */
  readonly ids: readonly string[]
  readonly members: ReadonlySet<string>
  readonly quorum: number
  /** The network's fault model, which sized `quorum`. */
  readonly faults: FaultModel
  /** The id later links cite: the network id for epoch 0, the statement's hash after. */
  readonly id: Hash
}

/** What validators of epoch `epoch - 1` sign to start `epoch`. */
export interface ReconfigureStatement {
  readonly epoch: number
  readonly validators: readonly Uint8Array[]
  /** The id of epoch `epoch - 1`: a statement belongs to exactly one chain. */
  readonly prev: Hash
  /** The validator of the previous epoch that proposed it (its signature is the first approval). */
  readonly proposer: Uint8Array
}

export interface ReconfigureSig { readonly signer: Uint8Array, readonly sig: Uint8Array }

export function statementBytes (s: ReconfigureStatement): Uint8Array {
  return encode(['reconfigure/v1', s.epoch, [...s.validators], s.prev, s.proposer])
}

export function statementId (s: ReconfigureStatement): Hash {
  return sha256(statementBytes(s))
}

export function makeEpoch (number: number, validators: readonly Uint8Array[], id: Hash, faults: FaultModel): Epoch {
  const ids = validators.map(toHex)
  return { number, validators, ids, members: new Set(ids), quorum: quorumSize(validators.length, faults), faults, id }
}

export function signStatement (signer: Signer, networkId: Hash, s: ReconfigureStatement): ReconfigureSig {
  return { signer: signer.publicKey, sig: signFor(signer, Domain.reconfigure, networkId, statementBytes(s)) }
}

export function verifyStatementSig (scheme: SignatureScheme, networkId: Hash, s: ReconfigureStatement, sig: ReconfigureSig): boolean {
  return verifyFor(scheme, sig.signer, Domain.reconfigure, networkId, statementBytes(s), sig.sig)
}

/**
 * Why going from `from` to `to` could let two quorums miss each other, or undefined. A quorum of
 * each set is at least q_old + q_new - |old ∪ new| validators of both; more than the faults either
 * set tolerates means one of them is honest, kept its bindings and refuses a second op for a slot.
 * Under crash-only nobody lies, so one shared validator is enough (it refuses whatever it has
 * bound): majorities of both sets must meet. Either way, adding or removing one validator always
 * passes; replacing one (a key rotation) is two changes, but for crash-only at an even n.
 */
export function changeProblem (from: readonly Uint8Array[], to: readonly Uint8Array[], faults: FaultModel): string | undefined {
  if (to.length === 0) return 'the new set is empty'
  if (to.length > MAX_VALIDATORS) return `at most ${MAX_VALIDATORS} validators`
  for (let i = 1; i < to.length; i++) {
    if (compareBytes(to[i - 1]!, to[i]!) >= 0) return 'validators must be sorted and distinct'
  }
  const old = new Set(from.map(toHex))
  const union = old.size + to.filter(v => !old.has(toHex(v))).length
  if (union === old.size && to.length === from.length) return 'the new set is the same as the current one'
  const shared = quorumSize(from.length, faults) + quorumSize(to.length, faults) - union
  if (faults === 'crash') {
    if (shared < 1) return 'a majority of the old set and one of the new could share no validator: change fewer validators at once (add or remove one per epoch)'
    return undefined
  }
  const liars = Math.min(faultsTolerated(from.length, faults), faultsTolerated(to.length, faults))
  if (shared <= liars) return `a quorum of the old set and one of the new would share only ${shared} validator${shared === 1 ? '' : 's'}, and up to ${liars} may be faulty: change fewer validators at once (add or remove one per epoch)`
  return undefined
}

/**
 * Why `sigs` do not make `s` a certified successor of `prev` (wrong link, non-members, too few,
 * bad signatures), or undefined.
 */
export function checkLink (scheme: SignatureScheme, networkId: Hash, prev: Epoch, s: ReconfigureStatement, sigs: readonly ReconfigureSig[]): string | undefined {
  const bad = checkProposal(prev, s)
  if (bad !== undefined) return bad
  const seen = new Set<string>()
  for (const g of sigs) {
    const id = toHex(g.signer)
    if (!prev.members.has(id)) return `signed by ${id.slice(0, 16)}, not a validator of epoch ${prev.number}`
    if (seen.has(id)) return `counts ${id.slice(0, 16)} twice`
    seen.add(id)
  }
  if (seen.size < prev.quorum) return `has ${seen.size} signatures, needs ${prev.quorum}`
  for (const g of sigs) if (!verifyStatementSig(scheme, networkId, s, g)) return `signature of ${toHex(g.signer).slice(0, 16)} does not verify`
  return undefined
}

/** Why `s` cannot follow `prev` at all, whatever signs it, or undefined. Signatures are not checked. */
export function checkProposal (prev: Epoch, s: ReconfigureStatement): string | undefined {
  if (s.epoch !== prev.number + 1) return `names epoch ${s.epoch}, the next is ${prev.number + 1}`
  if (compareBytes(s.prev, prev.id) !== 0) return `does not follow epoch ${prev.number} of this network`
  if (!prev.members.has(toHex(s.proposer))) return 'proposed by a non-validator'
  return changeProblem(prev.validators, s.validators, prev.faults)
}

/** The chain this node has verified: epochs 0..current, each with its certified statement. */
export class EpochChain {
  private readonly epochs: Epoch[]
  /** The encoded certified statement of each epoch after 0, to serve to peers and joiners. */
  private readonly records: Uint8Array[] = []

  constructor (private readonly scheme: SignatureScheme, private readonly networkId: Hash, genesisValidators: readonly Uint8Array[], private readonly faults: FaultModel) {
    this.epochs = [makeEpoch(0, genesisValidators, networkId, faults)]
  }

  get current (): Epoch {
    return this.epochs[this.epochs.length - 1]!
  }

  get (n: number): Epoch | undefined {
    return this.epochs[n]
  }

  /** The encoded certified statements of epochs from..current (1-based), in order. */
  recordsFrom (from: number, max: number): Uint8Array[] {
    return this.records.slice(Math.max(from, 1) - 1, Math.max(from, 1) - 1 + max)
  }

  /**
   * Appends the next epoch if `sigs` certify `s` after the current one; returns the new epoch, or
   * why not. `record` is what peers will be served (the encoded message).
   */
  extend (s: ReconfigureStatement, sigs: readonly ReconfigureSig[], record: Uint8Array): Epoch | string {
    const prev = this.current
    const bad = checkLink(this.scheme, this.networkId, prev, s, sigs)
    if (bad !== undefined) return `reconfiguration to epoch ${s.epoch} ${bad}`
    const next = makeEpoch(s.epoch, s.validators, statementId(s), this.faults)
    this.epochs.push(next)
    this.records.push(record)
    return next
  }

  /** Members of an epoch (for evidence and certificates of any epoch this node knows). */
  membersOf (n: number): ReadonlySet<string> | undefined {
    return this.epochs[n]?.members
  }
}
