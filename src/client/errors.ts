// The typed errors of sending an op. Each has a stable `code` (the CLI prints it, apps branch on
// it) and says in its message whether anything was signed and what stays pending.

import { BftError } from '../core/errors.js'
import type { PendingOp } from './pending.js'

/** The node did not answer, or the op was not delivered, in time; a signed op stays pending. */
export class OpTimeoutError extends BftError {
  readonly code = 'ERR_TIMEOUT'
}

/** The node refused the op: for good (the record is dropped) or for now (it stays pending); `code` is ERR_<node's code>. */
export class OpRefusedError extends BftError {
  constructor (readonly code: string, message: string) { super(message) }
}

/** The answer to a submission was lost (network error, HTTP error, cut, timeout): the node may hold the op. */
export class OpUnconfirmedError extends BftError {
  readonly code = 'ERR_UNCONFIRMED'
}

/** Another op of the account claims the slot a pending op is for, and the slot is not filled yet. */
export class SlotContestedError extends BftError {
  readonly code = 'ERR_SLOT_CONTESTED'
}

/** Checked before signing: the op could only be refused or rejected, so it is not signed at all. */
export class InsufficientFundsError extends BftError {
  readonly code = 'ERR_INSUFFICIENT_FUNDS'
}

/** The pending op was signed by another key or for another network than the node's. */
export class PendingMismatchError extends BftError {
  readonly code = 'ERR_PENDING_MISMATCH'
}

/** Another op is already pending for the account: recording a second could equivocate. */
export class PendingExistsError extends BftError {
  readonly code = 'ERR_PENDING_EXISTS'
  constructor (name: string, readonly held: PendingOp) {
    super(`account "${name}" already has op ${held.hash.slice(0, 16)} (seq ${held.seq}) pending; the next command resubmits it (is another command for this account running?)`)
  }
}

/** A pending record that cannot be read: it may hold an op already sent, so nothing new is signed. */
export class PendingCorruptError extends BftError {
  readonly code = 'ERR_PENDING_CORRUPT'
  constructor (readonly where: string, readonly why: string, message?: string) {
    super(message ?? `the pending-op record ${where} is unreadable (${why}); it may hold an op already sent, so nothing more is signed for this account until the record is restored, or removed once no op of this account can still be in flight`)
  }
}

/** A cancel that could only be rejected: the call is not queued, has no deadline, or its deadline has not passed. */
export class NotCancellableError extends BftError {
  readonly code = 'ERR_NOT_CANCELLABLE'
}

/** A call was delivered but its sequencer has not executed it within the timeout; it stays queued. */
export class CallNotExecutedError extends BftError {
  readonly code = 'ERR_CALL_NOT_EXECUTED'
  constructor (readonly slot: { readonly account: string, readonly seq: number }, message: string) { super(message) }
}

/** A key that is not 32 bytes (64 hex digits). */
export class InvalidKeyError extends BftError {
  readonly code = 'ERR_BAD_KEY'
}
