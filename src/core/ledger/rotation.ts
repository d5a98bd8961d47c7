// Who must have signed an op, and the deployer's request behind a sequencer rotation. One rule,
// used by validators when they bind an op, by every node when it delivers an op of a rotated
// account (see Replica.deliverReady), and by wallets.

import { bytesEqual, encode } from '../codec/canonical.js'
import { Domain, signFor, verifyFor } from '../crypto/signing.js'
import type { SignatureScheme, Signer } from '../crypto/signing.js'
import { contractAddress } from './contracts.js'
import type { ReplicatedAlgorithm } from '../algorithm/algorithm.js'

/** What the rotation rules read of the state: who signs a stream, and contracts. */
type Ledger = Pick<ReplicatedAlgorithm, 'signerOf' | 'contract'>
import type { AccountId, UnsignedOp } from './op.js'

/**
 * The key `op` must be signed by, at the state `ledger` is in: the account's key in force (its
 * own, or the one it rotated to), a contract's sequencer, or for a rotate-sequencer op in a
 * contract's stream the new sequencer it names (which proves that key is held). For an op past
 * the account's next slot, `inForce` is the key after the ops of the slots between (signerAfter). A
 * rotate-sequencer op in a stream that is not a contract here is the account's own to sign, so
 * nobody can take a slot of somebody else's stream by naming themselves.
 */
export function expectedSigner (ledger: Ledger, op: Pick<UnsignedOp, 'account' | 'body'>, inForce: AccountId = ledger.signerOf(op.account)): AccountId {
  if (op.body.kind === 'rotate-sequencer' && ledger.contract(op.account) !== undefined) return op.body.to
  return inForce
}

/**
 * The key in force for an account's next slot after `op` (an op of the account) takes its slot,
 * `inForce` being the key before it: a rotate-key op of an account, or a rotate-sequencer op of a
 * contract, hands the stream to its `to`. The other kind in each stream is rejected at delivery
 * and changes nothing. This assumes the rotation is applied; one rejected at delivery (a cited
 * credit already taken, say) leaves the old key in force, which no node can tell before.
 */
export function signerAfter (ledger: Ledger, op: Pick<UnsignedOp, 'account' | 'body'>, inForce: AccountId): AccountId {
  const body = op.body
  if (body.kind === 'rotate-sequencer') return ledger.contract(op.account) !== undefined ? body.to : inForce
  if (body.kind === 'rotate-key') return ledger.contract(op.account) === undefined ? body.to : inForce
  return inForce
}

/**
 * A rotation that takes effect wherever it is delivered: it cites nothing but what orders it (a
 * rotate-key op nothing, a rotate-sequencer op its contract's deploy). One that claims credits, or
 * cites something else, may be rejected at delivery and leave the old key in force: a node that
 * has not delivered it cannot tell which key signs the slot after it (see signerAfter).
 */
export function rotatesSurely (op: Pick<UnsignedOp, 'account' | 'deps' | 'body'>): boolean {
  if (op.body.kind === 'rotate-key') return op.deps.length === 0
  if (op.body.kind !== 'rotate-sequencer' || op.deps.length !== 1) return false
  const deploy = op.deps[0]!
  return bytesEqual(contractAddress(deploy.account, deploy.seq), op.account)
}

/** The op may change who signs its stream's next slots (see signerAfter). */
export function isRotation (op: Pick<UnsignedOp, 'body'>): boolean {
  return op.body.kind === 'rotate-key' || op.body.kind === 'rotate-sequencer'
}

/**
 * The statement a deployer signs to ask that `to` sequence `contract` from slot `seq` on. The
 * network id is part of every signature (signingBytes), so a request holds in one network only;
 * the seq makes it good for one slot, so it cannot be replayed after the contract moved on.
 */
export function rotationRequestPayload (contract: AccountId, seq: number, to: AccountId): Uint8Array {
  return encode(['rotate-sequencer', contract, seq, to])
}

export function signRotationRequest (deployer: Signer, networkId: Uint8Array, contract: AccountId, seq: number, to: AccountId): Uint8Array {
  return signFor(deployer, Domain.rotateSequencer, networkId, rotationRequestPayload(contract, seq, to))
}

/** The deployer (by its key in force here) asked for exactly this rotation. */
export function rotationRequested (scheme: SignatureScheme, networkId: Uint8Array, ledger: Ledger, op: Pick<UnsignedOp, 'account' | 'seq' | 'body'>): boolean {
  const body = op.body
  if (body.kind !== 'rotate-sequencer' || body.request === null) return false
  const contract = ledger.contract(op.account)
  if (contract === undefined) return false
  const deployer = ledger.signerOf(contract.deployedAt.account)
  return verifyFor(scheme, deployer, Domain.rotateSequencer, networkId, rotationRequestPayload(op.account, op.seq, body.to), body.request)
}
