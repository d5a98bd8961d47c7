// The validator set and its changes: GET /v1/validators shows the current epoch and the open
// proposals; POST /v1/validators/proposals and .../{id}/approve are what an operator runs (through
// `bftnode validator`) to add or remove one validator. Both sign with the node's own key, so they
// answer only to a request with the API token, or, on a node without one, from this machine.

import type { IncomingMessage } from 'node:http'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { faultsTolerated } from '../core/ledger/genesis.js'
import type { FaultModel } from '../core/ledger/genesis.js'
import { ReconfigurationError } from '../core/epoch/reconfigurer.js'
import { SequencerRotationError } from '../node/node.js'
import type { BftNode, ReconfigurationResult, SequencerRotationResult, ValidatorChange, ValidatorRole } from '../node/node.js'
import { isLoopback } from './access.js'
import type { Access } from './access.js'
import { ApiError } from './errors.js'

/** A proposal's body is one key: far below this. */
export const PROPOSAL_BODY_BYTES = 1024

export interface ProposalView {
  readonly id: string
  /** The epoch it starts. */
  readonly epoch: number
  /** The set it proposes, sorted. */
  readonly validators: string[]
  readonly proposer: string
  readonly add: string[]
  readonly remove: string[]
  /** Validators of the current epoch that approved it, sorted. */
  readonly approvals: string[]
  readonly approvalsNeeded: number
  readonly approvedHere: boolean
}

export interface ValidatorsView {
  readonly epoch: number
  readonly validators: string[]
  readonly quorum: number
  readonly faultsTolerated: number
  /** The network's fault model (genesis): what `faultsTolerated` counts, crashed or Byzantine validators. */
  readonly faults: FaultModel
  readonly thisNode: ValidatorRole
  readonly proposals: ProposalView[]
}

export function validatorsView (node: BftNode): ValidatorsView {
  const replica = node.replica
  const epoch = replica.epoch
  const proposals = replica.reconfigurations().map(p => {
    const validators = p.statement.validators.map(toHex)
    const next = new Set(validators)
    return {
      id: p.id,
      epoch: p.statement.epoch,
      validators,
      proposer: toHex(p.statement.proposer),
      add: validators.filter(v => !epoch.members.has(v)),
      remove: epoch.ids.filter(v => !next.has(v)),
      approvals: [...p.sigs.keys()].sort(),
      approvalsNeeded: epoch.quorum,
      approvedHere: p.approvedHere
    }
  })
  return { epoch: epoch.number, validators: [...epoch.ids], quorum: epoch.quorum, faultsTolerated: faultsTolerated(epoch.ids.length, epoch.faults), faults: epoch.faults, thisNode: node.validatorRole, proposals }
}

/** `{"add": "<64 hex>"}` or `{"remove": "<64 hex>"}`: exactly one. */
export function parseChange (body: unknown): ValidatorChange {
  const usage = 'body must be {"add": "<64 lowercase hex key>"} or {"remove": "<64 lowercase hex key>"}: one validator per change'
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_REQUEST', usage)
  const entries = Object.entries(body)
  if (entries.length !== 1) throw new ApiError(400, 'ERR_BAD_REQUEST', usage)
  const [kind, key] = entries[0]!
  if (kind !== 'add' && kind !== 'remove') throw new ApiError(400, 'ERR_BAD_REQUEST', usage)
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key)) throw new ApiError(400, 'ERR_BAD_REQUEST', `"${kind}" must be a validator's key: 64 lowercase hex digits`)
  return { kind, key: fromHex(key) }
}

/** An approval's path segment: a proposal id or a unique prefix of it. */
export function parseProposalId (text: string | undefined): string {
  if (text === undefined || !/^[0-9a-f]{4,64}$/.test(text)) throw new ApiError(400, 'ERR_BAD_REQUEST', 'the proposal must be its id, or a prefix of at least 4 of its lowercase hex digits')
  return text
}

/**
 * A change signed with the node's key needs more than a reachable API: the token when the node
 * has one (checked before any route), else a request from this machine.
 */
export function checkOperator (req: IncomingMessage, access: Access): void {
  if (access.tokenRequired) return
  const from = req.socket.remoteAddress ?? ''
  if (!isLoopback(from)) throw new ApiError(403, 'ERR_OPERATOR_ONLY', 'what the node signs with its own key (changes of the validator set, sequencer rotations) is taken from this machine only when the node has no apiToken: run the command on the node\'s host, or set apiToken')
}

/** The request declares a body (a length above 0, or chunks). */
export function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}

/** A route that takes no body: one declared is refused without being read. */
export function noBody (req: IncomingMessage): void {
  if (hasBody(req)) throw new ApiError(400, 'ERR_BAD_REQUEST', 'this route takes no body', {}, { close: true })
}

/** The body of POST /v1/contracts/{address}/sequencer: `{}` or `{"request": "<128 hex>"}`, the deployer's signature. */
export function parseRotationRequest (body: unknown): Uint8Array | null {
  const usage = 'body must be {} or {"request": "<128 lowercase hex digits: the deployer\'s signature of the rotation>"}'
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'ERR_BAD_REQUEST', usage)
  const keys = Object.keys(body)
  if (keys.some(k => k !== 'request')) throw new ApiError(400, 'ERR_BAD_REQUEST', usage)
  const r = (body as { request?: unknown }).request
  if (r === undefined || r === null) return null
  if (typeof r !== 'string' || !/^[0-9a-f]{128}$/.test(r)) throw new ApiError(400, 'ERR_BAD_REQUEST', usage)
  return fromHex(r)
}

/** Runs a sequencer rotation; a refusal of the node's (nothing to rotate, a request that does not verify) is 409. */
export async function rotateSequencer (run: () => Promise<SequencerRotationResult>): Promise<SequencerRotationResult> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof SequencerRotationError) throw new ApiError(409, err.code, err.message)
    throw err
  }
}

/** Runs a change; the core's refusal (a change that is not safe, a node that may not sign) is 409. */
export function reconfigure (run: () => ReconfigurationResult): ReconfigurationResult {
  try {
    return run()
  } catch (err) {
    if (err instanceof ReconfigurationError) throw new ApiError(409, err.code, err.message)
    throw err
  }
}

/** 404 before the core is asked: no open proposal has that id or prefix. */
export function checkProposalKnown (node: BftNode, id: string): void {
  const open = node.replica.reconfigurations()
  if (!open.some(p => p.id.startsWith(id))) {
    throw new ApiError(404, 'ERR_UNKNOWN_PROPOSAL', `no open proposal ${id} at this node (GET /v1/validators lists them; one certified or made for an earlier epoch is no longer open)`)
  }
}
