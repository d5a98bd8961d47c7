// Checking checkpoint signatures: who may sign, and what makes a checkpoint certified. Shared by
// replicas (which gather signatures) and joiners (which check a certified checkpoint a peer serves).

import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { Domain, signFor, verifyFor } from '../crypto/signing.js'
import type { SignatureScheme, Signer } from '../crypto/signing.js'
import { checkpointStatement } from '../broadcast/messages.js'
import type { CheckpointMsg, CheckpointSig, CheckpointStatement } from '../broadcast/messages.js'

export interface ValidatorSet {
  readonly networkId: Hash
  readonly scheme: SignatureScheme
  /** Hex keys of the genesis validators. */
  readonly validators: ReadonlySet<string>
  readonly quorum: number
}

type Statement = CheckpointStatement

export function signCheckpoint (signer: Signer, networkId: Hash, m: Statement): CheckpointSig {
  return { signer: signer.publicKey, sig: signFor(signer, Domain.checkpoint, networkId, checkpointStatement(m)) }
}

export function verifyCheckpointSig (set: ValidatorSet, m: Statement, s: CheckpointSig): boolean {
  return verifyFor(set.scheme, s.signer, Domain.checkpoint, set.networkId, checkpointStatement(m), s.sig)
}

/** Why the signers are unacceptable (a non-validator, one counted twice), or undefined. */
export function checkSigners (set: ValidatorSet, sigs: readonly CheckpointSig[]): string | undefined {
  const seen = new Set<string>()
  for (const s of sigs) {
    const id = toHex(s.signer)
    if (!set.validators.has(id)) return `checkpoint signed by ${id.slice(0, 16)}, which is not a genesis validator`
    if (seen.has(id)) return `checkpoint counts validator ${id.slice(0, 16)} twice`
    seen.add(id)
  }
  return undefined
}

/** Why `m` is not a certified checkpoint (too few, foreign or bad signatures), or undefined. */
export function checkCertified (set: ValidatorSet, m: CheckpointMsg): string | undefined {
  const who = checkSigners(set, m.sigs)
  if (who !== undefined) return who
  if (m.sigs.length < set.quorum) return `checkpoint has ${m.sigs.length} signatures, needs ${set.quorum}`
  for (const s of m.sigs) {
    if (!verifyCheckpointSig(set, m, s)) return `checkpoint signature of ${toHex(s.signer).slice(0, 16)} does not verify`
  }
  return undefined
}
