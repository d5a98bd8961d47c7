// Changes of the validator set, inside a replica: proposals, approvals and the certified chain.
// A validator of the current epoch approves at most one statement per next epoch, and persists
// that approval before its signature leaves (like a slot binding), so two different sets can
// never both gather a quorum for one epoch. With a quorum a statement is certified: it extends the
// chain here and is sent on, so every node moves to the new epoch.
//
// Sans-IO like the checkpoint keeper: inputs return a verdict, effects queue up for `poll`.

import { compareBytes } from '../codec/canonical.js'
import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { inSignerOrder } from '../crypto/signing.js'
import type { SignatureScheme, Signer } from '../crypto/signing.js'
import { BftError } from '../errors.js'
import { encodeMessage } from '../broadcast/messages.js'
import type { ReconfigureMsg } from '../broadcast/messages.js'
import type { PeerId, Verdict } from '../broadcast/actions.js'
import type { FaultModel } from '../ledger/genesis.js'
import { EpochChain, checkProposal, statementId, signStatement, verifyStatementSig } from './epochs.js'
import type { Epoch, ReconfigureSig, ReconfigureStatement } from './epochs.js'

/** A change of the validator set that cannot be proposed or approved here, and why. */
export class ReconfigurationError extends BftError {
  readonly code = 'ERR_RECONFIGURATION'
}

export type ReconfigureAction =
  | { readonly type: 'broadcast', readonly bytes: Uint8Array }
  | { readonly type: 'send', readonly to: PeerId, readonly bytes: Uint8Array }
  /** This validator approved a statement: on disk before the broadcast after it. */
  | { readonly type: 'approved', readonly epoch: number, readonly bytes: Uint8Array }
  /** The chain grew: keep the record, and change epoch. */
  | { readonly type: 'epoch', readonly epoch: Epoch, readonly previous: Epoch, readonly bytes: Uint8Array }

export interface Proposal {
  readonly id: string
  readonly statement: ReconfigureStatement
  readonly sigs: ReadonlyMap<string, ReconfigureSig>
}

/** Records pushed to a peer behind us in one answer. */
const MAX_RECORDS_PER_REPLY = 16

export class Reconfigurer {
  readonly chain: EpochChain
  /** Statements for the next epoch and their approvals so far, by id (one per proposer). */
  private readonly proposals = new Map<string, { statement: ReconfigureStatement, sigs: Map<string, ReconfigureSig> }>()
  /** The statement id this validator approved, by epoch (only the next one matters). */
  private readonly approvals = new Map<number, string>()
  private out: ReconfigureAction[] = []

  constructor (
    private readonly scheme: SignatureScheme,
    private readonly networkId: Hash,
    genesisValidators: readonly Uint8Array[],
    faults: FaultModel,
    /** Approve every well-formed proposal as it arrives (a config policy), if this node may sign. */
    private readonly autoApprove: boolean
  ) {
    this.chain = new EpochChain(scheme, networkId, genesisValidators, faults)
  }

  get current (): Epoch {
    return this.chain.current
  }

  poll (): ReconfigureAction[] {
    const out = this.out
    this.out = []
    return out
  }

  /** Open proposals for the next epoch, with their approvals. */
  pending (): Proposal[] {
    return [...this.proposals.entries()].map(([id, p]) => ({ id, statement: p.statement, sigs: p.sigs }))
  }

  approvedFor (epoch: number): string | undefined {
    return this.approvals.get(epoch)
  }

  /** This validator proposes a new set for the next epoch; `signer` is undefined if it may not sign. */
  propose (validators: readonly Uint8Array[], signer: Signer | undefined): string {
    if (signer === undefined) throw new ReconfigurationError('only a voting validator of the current epoch proposes a change')
    const cur = this.current
    const statement: ReconfigureStatement = { epoch: cur.number + 1, validators: [...validators].sort(compareBytes), prev: cur.id, proposer: signer.publicKey }
    const bad = checkProposal(cur, statement)
    if (bad !== undefined) throw new ReconfigurationError(`cannot propose this change: ${bad}`)
    const id = toHex(statementId(statement))
    const mine = this.approvals.get(statement.epoch)
    if (mine !== undefined && mine !== id) throw new ReconfigurationError(`this validator already approved proposal ${mine.slice(0, 16)} for epoch ${statement.epoch}; a validator approves one change per epoch`)
    if (!this.proposals.has(id)) this.proposals.set(id, { statement, sigs: new Map() })
    this.approve(id, signer)
    return id
  }

  /** The operator approves an open proposal (by id or a unique prefix of it). */
  approve (idOrPrefix: string, signer: Signer | undefined): string {
    if (signer === undefined) throw new ReconfigurationError('only a voting validator of the current epoch approves a change')
    const matches = [...this.proposals.keys()].filter(id => id.startsWith(idOrPrefix.toLowerCase()))
    if (matches.length !== 1 || idOrPrefix.length < 4) throw new ReconfigurationError(matches.length === 0 ? `no open proposal ${idOrPrefix}` : `${idOrPrefix} names ${matches.length} proposals; give more of the id`)
    const id = matches[0]!
    const p = this.proposals.get(id)!
    const me = toHex(signer.publicKey)
    if (!this.current.members.has(me)) throw new ReconfigurationError('this node is not a validator of the current epoch')
    const mine = this.approvals.get(p.statement.epoch)
    if (mine !== undefined && mine !== id) throw new ReconfigurationError(`this validator already approved proposal ${mine.slice(0, 16)} for epoch ${p.statement.epoch}`)
    if (!p.sigs.has(me)) {
      const sig = signStatement(signer, this.networkId, p.statement)
      p.sigs.set(me, sig)
      this.approvals.set(p.statement.epoch, id)
      // with the approvals known now (the proposer's among them): after a restart it is resent whole
      this.out.push({ type: 'approved', epoch: p.statement.epoch, bytes: this.encode(p.statement, inSignerOrder(p.sigs)) })
    }
    this.advance(id)
    return id
  }

  /** An approval from disk: this validator signed it before and signs nothing else for that epoch. */
  restoreApproval (m: ReconfigureMsg): void {
    if (m.epoch !== this.current.number + 1) return
    const id = toHex(statementId(m))
    this.approvals.set(m.epoch, id)
    const p = this.proposals.get(id) ?? { statement: statementOf(m), sigs: new Map() }
    for (const s of m.sigs) p.sigs.set(toHex(s.signer), s)
    this.proposals.set(id, p)
  }

  /** A certified record from disk: extends the chain without sending anything. */
  restoreEpoch (m: ReconfigureMsg, bytes: Uint8Array): Epoch | undefined {
    if (m.epoch !== this.current.number + 1) return undefined
    const previous = this.current
    const next = this.chain.extend(statementOf(m), m.sigs, bytes)
    if (typeof next === 'string') throw new Error(`stored ${next}`)
    this.moved(previous)
    return next
  }

  receive (m: ReconfigureMsg, signer: Signer | undefined): [Verdict, string?] {
    const cur = this.current
    if (m.epoch <= cur.number) return ['ignore', `epoch ${m.epoch} is already known here`]
    if (m.epoch > cur.number + 1) return ['ignore', `epoch ${m.epoch} is ahead of this node's ${cur.number}`]
    const statement = statementOf(m)
    const bad = checkProposal(cur, statement)
    if (bad !== undefined) return ['reject', `reconfiguration ${bad}`]
    const id = toHex(statementId(statement))
    let p = this.proposals.get(id)
    if (p === undefined) {
      // one open statement per proposer: a validator cannot fill this map with variations
      const proposer = toHex(m.proposer)
      if (!m.sigs.some(s => toHex(s.signer) === proposer)) return ['ignore', 'reconfiguration proposal without its proposer\'s signature']
      if ([...this.proposals.values()].some(o => toHex(o.statement.proposer) === proposer) && m.sigs.length < cur.quorum) return ['ignore', 'the proposer has another open proposal']
      p = { statement, sigs: new Map() }
    }
    let added = 0
    for (const s of m.sigs) {
      const signerId = toHex(s.signer)
      if (!cur.members.has(signerId)) return ['reject', `reconfiguration signed by ${signerId.slice(0, 16)}, not a validator of epoch ${cur.number}`]
      if (p.sigs.has(signerId)) continue
      if (!verifyStatementSig(this.scheme, this.networkId, statement, s)) return ['reject', `bad reconfiguration signature from ${signerId.slice(0, 16)}`]
      p.sigs.set(signerId, s)
      added++
    }
    this.proposals.set(id, p)
    if (this.autoApprove && signer !== undefined && cur.members.has(toHex(signer.publicKey)) && this.approvals.get(m.epoch) === undefined) {
      this.approve(id, signer)
      return ['accept']
    }
    if (added === 0) return ['ignore', 'no new approvals']
    this.advance(id)
    return ['accept']
  }

  /**
   * Proposals travel once and the network may lose them: the one this validator approved goes
   * out again (with every approval gathered), until the epoch it names begins.
   */
  resendApproved (): void {
    const id = this.approvals.get(this.current.number + 1)
    const p = id === undefined ? undefined : this.proposals.get(id)
    if (p === undefined) return
    const sigs = inSignerOrder(p.sigs)
    this.out.push({ type: 'broadcast', bytes: this.encode(p.statement, sigs) })
  }

  /** Records a peer at `epoch` lacks, oldest first: sent when a peer shows it is behind. */
  catchUp (to: PeerId, epoch: number): void {
    if (epoch >= this.current.number) return
    for (const bytes of this.chain.recordsFrom(epoch + 1, MAX_RECORDS_PER_REPLY)) this.out.push({ type: 'send', to, bytes })
  }

  /** Sends the proposal on (with the approvals gathered), and certifies it at a quorum. */
  private advance (id: string): void {
    const p = this.proposals.get(id)!
    const cur = this.current
    const sigs = inSignerOrder(p.sigs)
    if (sigs.length < cur.quorum) {
      this.out.push({ type: 'broadcast', bytes: this.encode(p.statement, sigs) })
      return
    }
    const bytes = this.encode(p.statement, sigs.slice(0, cur.quorum))
    const next = this.chain.extend(p.statement, sigs.slice(0, cur.quorum), bytes)
    if (typeof next === 'string') throw new Error(next) // every signature was checked as it came
    this.out.push({ type: 'broadcast', bytes })
    this.out.push({ type: 'epoch', epoch: next, previous: cur, bytes })
    this.moved(cur)
  }

  /** The chain moved past `previous`: its proposals and approvals are settled. */
  private moved (previous: Epoch): void {
    this.proposals.clear()
    this.approvals.delete(previous.number + 1)
  }

  private encode (s: ReconfigureStatement, sigs: readonly ReconfigureSig[]): Uint8Array {
    return encodeMessage({ type: 'reconfigure', ...s, sigs })
  }
}

function statementOf (m: ReconfigureMsg): ReconfigureStatement {
  return { epoch: m.epoch, validators: m.validators, prev: m.prev, proposer: m.proposer }
}
