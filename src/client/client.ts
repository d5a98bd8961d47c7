// BftClient: one account's view of a node, and the only safe way to send its ops. Sending settles
// any op the pending store holds for the account, reads the account's stream position and uncited
// credits from the node, refuses an op that could only be refused or rejected, signs the new op,
// records it as pending (durably) before submitting it, then waits for its delivery. A pending
// record goes only once its op's fate is known (delivered, its slot filled, or refused for good);
// after any other error, timeout or crash the next send resubmits the same bytes, so the account
// never signs two ops for one slot. Each rule below is there for a failure that happened.

import { fromHex, toHex } from '../core/crypto/hash.js'
import type { Signer } from '../core/crypto/signing.js'
import { decodeOp, signOp } from '../core/ledger/op.js'
import type { Slot } from '../core/ledger/op.js'
import type { OpBody } from '../core/ledger/body.js'
import { ApiClient, ApiRequestError } from './api-client.js'
import type { AccountOpView, CallView, ContractView, OpStatusView, QueryRequest, RunView, SimulateView, StreamMessage, SubmitResultView, SubscribeOptions } from './api-client.js'
import { callBody, cancelBody, contractAddress, DEFAULT_GAS, deployBody, fillDeps, keyBytes, keyHex, refuseUnpayable, rotateKeyBody, rotateSequencerBody, toSimulateBody, transferBody } from './bodies.js'
import { ArgumentError } from './values.js'
import { simulationProblem, WouldFailError } from './estimate.js'
import type { Args, CallParams, Key } from './bodies.js'
import {
  CallNotExecutedError, NotCancellableError, OpRefusedError, OpTimeoutError, OpUnconfirmedError, PendingMismatchError,
  SlotContestedError
} from './errors.js'
import type { PendingOp, PendingStore } from './pending.js'

/** Something that happened while sending, for a UI or a log. */
export type SendEvent =
  /** A line for people (the CLI prints these): a pending op resubmitted, an earlier op's fate. */
  | { readonly type: 'note', readonly text: string }
  /** The op is signed and recorded as pending; it is submitted next. */
  | { readonly type: 'signed', readonly hash: string, readonly seq: number }
  /** The node took the op; it waits for delivery. */
  | { readonly type: 'queued', readonly hash: string }
  | { readonly type: 'delivered', readonly hash: string, readonly status: OpStatusView }

export interface BftClientOptions {
  /** The node's API: a base URL (http://127.0.0.1:8080) or an ApiClient. */
  readonly api: ApiClient | string
  /** Sent as `Authorization: Bearer` when `api` is a URL and the node requires a token. */
  readonly token?: string
  readonly signer: Signer
  /**
   * The account the client signs for (its id): default the signer's public key. After a
   * rotate-key the account keeps its id and a new key signs for it (see withSigner); for a
   * sequencer rotation it is the contract (see rotateSequencer).
   */
  readonly account?: Key
  /** Where the account's pending op is recorded: it must outlive the process or page (see pending.ts). */
  readonly pending: PendingStore
  /** How long a send (and each of its steps) may take; default 30 s. */
  readonly timeoutMs?: number
  /** The account's name in messages; default the start of its key. */
  readonly label?: string
  readonly onEvent?: (e: SendEvent) => void
}

export interface SendOptions {
  /** Deps the op needs for ordering, cited before any credit. Default: a call's contract's deploy slot, a cancel's contract's latest slot, a sequencer rotation's contract's deploy. */
  readonly ordering?: readonly Slot[]
  /** Cite the account's uncited credits (default true; a sequencer rotation cites none). */
  readonly credits?: boolean
}

/** An op delivered (or its slot lost: `status.status` is 'dropped'); `status.outcome` says whether it applied. */
export interface Sent { readonly hash: string, readonly slot: Slot, readonly status: OpStatusView }

export interface Deployed extends Sent {
  /** The contract's address (hex); it exists only if the deploy applied. */
  readonly address: string
}

export interface Called extends Sent {
  /** The call's outcome once its sequencer ran it (or it was cancelled); absent if the call op itself was not applied. */
  readonly outcome?: Exclude<CallView, { status: 'queued' }>
}

export interface Balance {
  /** What the account can spend now: its balance plus the credits its next op claims. */
  readonly spendable: bigint
  readonly balance: bigint
  /** Received but not claimed yet (cited by the account's next op). */
  readonly received: bigint
  readonly credits: number
  readonly nextSeq: number
}

/** What became of a pending op; `lost`: its slot was filled by another op. */
type Fate =
  | { readonly kind: 'delivered' | 'lost', readonly status: OpStatusView }
  | { readonly kind: 'refused', readonly code: string, readonly reason: string }

const STAYS = 'it stays pending in the wallet and the next command resubmits it'

const errorCode = (code: string): string => `ERR_${code.toUpperCase().replace(/-/g, '_')}`

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** The API client has no timeouts of its own, and a node that never answers must not hold a send for ever. */
async function within<T> (p: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OpTimeoutError(`the node did not answer ${what} in time`)), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Executes a call may wait for by default: every call can be taken back if its sequencer stalls. */
export const DEFAULT_DEADLINE_EXECUTES = 1000

export class BftClient {
  readonly api: ApiClient
  readonly signer: Signer
  /** The account's id, hex: its first key (or a contract's address); the signer's key unless it rotated. */
  readonly account: string
  readonly timeoutMs: number
  readonly label: string
  private readonly pending: PendingStore
  private readonly onEvent: (e: SendEvent) => void
  private readonly opts: BftClientOptions

  constructor (opts: BftClientOptions) {
    this.opts = opts
    this.api = typeof opts.api === 'string' ? new ApiClient(opts.api, opts.token) : opts.api
    this.signer = opts.signer
    this.account = opts.account === undefined ? toHex(opts.signer.publicKey) : keyHex(opts.account)
    this.pending = opts.pending
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.label = opts.label ?? this.account.slice(0, 16)
    this.onEvent = opts.onEvent ?? (() => {})
  }

  /**
   * A client for the same account, its pending store and options, that signs with `signer`: the
   * key the account rotated to (rotateKey), once the rotation is delivered.
   */
  withSigner (signer: Signer): BftClient {
    return new BftClient({ ...this.opts, api: this.api, account: this.account, signer })
  }

  /** Ops delivered and contract events as the node delivers them (server-sent events), filtered. */
  subscribe (opts: SubscribeOptions = {}): AsyncIterable<StreamMessage> {
    return this.api.subscribe(opts)
  }

  private note (text: string): void { this.onEvent({ type: 'note', text }) }

  /** The op pending for this account, if any (signed, fate not known yet). */
  async pendingOp (): Promise<PendingOp | undefined> { return await this.pending.get(this.account) }

  private async waitDelivered (hash: string, deadline: number): Promise<OpStatusView> {
    for (;;) {
      const left = deadline - Date.now()
      if (left <= 0) throw new OpTimeoutError(`op ${hash.slice(0, 16)} was not delivered within ${this.timeoutMs} ms; ${STAYS}`)
      const wait = Math.min(left, 10_000)
      // the node answers when its wait ends: give the answer a moment to arrive
      const st = await within(this.api.op(hash, wait), Date.now() + wait + 1000, 'about the op').catch(() => undefined)
      if (st === undefined) await sleep(Math.min(100, Math.max(0, deadline - Date.now())))
      else if (st.status !== 'queued') return st
    }
  }

  private async slotFilled (p: PendingOp, deadline: number): Promise<boolean> {
    return (await within(this.api.account(p.account), deadline, 'with the account')).nextSeq > p.seq
  }

  /** The op's slot is filled, by this op or another: either way no op of ours can take it now. */
  private async filled (p: PendingOp): Promise<Fate> {
    const st = await within(this.api.op(p.hash), Date.now() + this.timeoutMs, 'about the op').catch(() => undefined)
    // the node tracks a bounded number of ops: one it forgot may still be in the account's history
    const held = st?.status === 'delivered' || st?.status === 'dropped' ? undefined : await this.heldAt(p.seq)
    await this.pending.clear(this.account, p.hash)
    if (st?.status === 'delivered') return { kind: 'delivered', status: st }
    if (held !== undefined && held.hash === p.hash) {
      return { kind: 'delivered', status: { hash: p.hash, status: 'delivered', account: held.account, seq: held.seq, outcome: held.outcome } }
    }
    const reason = st?.status === 'dropped' && st.reason !== undefined
      ? st.reason
      : held !== undefined
        ? `slot ${p.seq} holds op ${held.hash.slice(0, 16)}, not op ${p.hash.slice(0, 16)}`
        : `slot ${p.seq} is filled, but this node no longer knows by which op; op ${p.hash.slice(0, 16)} may have been delivered: check the account's history or balance before sending it again`
    return { kind: 'lost', status: { hash: p.hash, status: 'dropped', reason } }
  }

  /** The op the node's history index holds at this account's slot, if it still holds it. */
  private async heldAt (seq: number): Promise<AccountOpView | undefined> {
    let before: string | undefined
    // newest first; a pending op's slot is recent, so a few pages reach it or pass it
    for (let page = 0; page < 5; page++) {
      const got = await within(this.api.accountOps(this.account, { limit: 200, ...(before === undefined ? {} : { before }) }), Date.now() + this.timeoutMs, 'about the account\'s history').catch(() => undefined)
      if (got === undefined) return undefined
      const hit = got.items.find(o => o.seq === seq)
      if (hit !== undefined || got.next === undefined || got.items.some(o => o.seq < seq)) return hit
      before = got.next
    }
    return undefined
  }

  /**
   * Learns the fate of a recorded op, submitting its bytes (again) while its slot is open, and drops
   * the record once the fate is known. Throws, keeping the record, while it is not.
   */
  private async settleOp (p: PendingOp, earlier: boolean): Promise<Fate> {
    const deadline = Date.now() + this.timeoutMs
    const short = p.hash.slice(0, 16)
    if (earlier) {
      if (await this.slotFilled(p, deadline)) return await this.filled(p)
      this.note(`resubmitting op ${short} (seq ${p.seq}) that an earlier command left pending`)
    }
    let result: SubmitResultView | undefined
    try {
      [result] = await within(this.api.submit([p.op]), deadline, 'the submission')
    } catch (err) {
      throw new OpUnconfirmedError(`no answer from the node about op ${short} (${(err as Error).message}); ${STAYS}`)
    }
    let status: OpStatusView
    if (result === undefined) {
      throw new OpUnconfirmedError(`the node gave no result for op ${short}; ${STAYS}`)
    } else if (result.status === 'rejected') {
      if (result.code === 'malformed' || result.code === 'bad-signature') {
        // no honest validator binds such an op, so its slot is still free
        await this.pending.clear(this.account, p.hash)
        return { kind: 'refused', code: result.code, reason: result.reason }
      }
      if (result.code !== 'conflict') throw new OpRefusedError(errorCode(result.code), `the node refused op ${short} for now (${result.reason}); ${STAYS}`)
      status = { hash: p.hash, status: 'dropped', reason: result.reason }
    } else if (result.status === 'delivered') {
      const st = await within(this.api.op(p.hash), deadline, 'about the op').catch(() => undefined)
      status = st?.status === 'delivered' ? st : { hash: p.hash, status: 'delivered' }
    } else {
      this.onEvent({ type: 'queued', hash: p.hash })
      status = await this.waitDelivered(p.hash, deadline)
    }
    if (status.status === 'delivered') {
      await this.pending.clear(this.account, p.hash)
      this.onEvent({ type: 'delivered', hash: p.hash, status })
      return { kind: 'delivered', status }
    }
    // another op of the account claims the slot (the key is used elsewhere): ours may still win it,
    // so it is lost only once the slot is filled, and until then nothing else is signed for it
    if (await this.slotFilled(p, Date.now() + this.timeoutMs)) return await this.filled(p)
    throw new SlotContestedError(`another op of this account claims slot ${p.seq}, which op ${short} is pending for (${status.reason ?? 'conflict'}); ${STAYS} until the slot is filled`)
  }

  /**
   * Settles what is pending, then signs `body` once and sends it until it is delivered. Throws
   * the errors of errors.ts; after any of them but InsufficientFundsError and a refusal for good,
   * the op stays pending and the next send (or `settle()`) resubmits it.
   */
  async send (body: OpBody, opts: SendOptions = {}): Promise<Sent> {
    const me = this.account
    const { networkId } = await within(this.api.genesis(), Date.now() + this.timeoutMs, 'with its genesis')
    await this.settlePending(networkId)
    const ordering = opts.ordering ?? await this.orderingFor(body)
    let op, hash, record: PendingOp
    for (let attempt = 1; ; attempt++) {
      const view = await within(this.api.account(me), Date.now() + this.timeoutMs, 'with the account')
      const { deps, credits } = fillDeps(opts.credits === false ? { credits: [] } : view, ordering)
      refuseUnpayable(body, BigInt(view.balance), credits)
      op = signOp(this.signer, fromHex(networkId), { account: fromHex(me), seq: view.nextSeq, deps, body })
      // the node's own checks, here: an op it would call malformed (a made-up seq or credits from
      // the node, a bad body) is not recorded, where a store could not read it back and would stop
      // the account (ERR_PENDING_CORRUPT), nor sent
      try { decodeOp(op.bytes) } catch (err) {
        throw new OpRefusedError('ERR_MALFORMED', `the op would be malformed (${(err as Error).message}); nothing was sent`)
      }
      hash = toHex(op.hash)
      record = { seq: op.seq, op: toHex(op.bytes), hash, account: me, network: networkId }
      await this.pending.set(me, record)
      // The view was read before the record was made: another send sharing the store (this
      // client's, another tab's, another program's) may have filled the slot meanwhile and dropped
      // its record, which let this one in. Checked before the op leaves; one that never left goes.
      if (!await this.slotFilled(record, Date.now() + this.timeoutMs)) break
      await this.pending.clear(me, hash)
      if (attempt === 3) throw new OpTimeoutError('the account\'s next slot kept being filled by other sends while this one signed; nothing was sent')
    }
    this.onEvent({ type: 'signed', hash, seq: op.seq })
    const fate = await this.settleOp(record, false)
    if (fate.kind === 'refused') throw new OpRefusedError(errorCode(fate.code), `the node refused the op: ${fate.reason}`)
    return { hash, slot: { account: op.account, seq: op.seq }, status: fate.status }
  }

  /** Settles an op an earlier send left pending, if any; returns what became of it. */
  async settle (): Promise<{ op: PendingOp, status: OpStatusView } | undefined> {
    const { networkId } = await within(this.api.genesis(), Date.now() + this.timeoutMs, 'with its genesis')
    return await this.settlePending(networkId)
  }

  private async settlePending (networkId: string): Promise<{ op: PendingOp, status: OpStatusView } | undefined> {
    const pending = await this.pending.get(this.account)
    if (pending === undefined) return undefined
    const name = this.label
    if (pending.account !== this.account) throw new PendingMismatchError(`the op pending for "${name}" belongs to another account (${pending.account.slice(0, 16)}); the key file changed after it was signed`)
    if (pending.network !== undefined && pending.network !== networkId) {
      throw new PendingMismatchError(`the op pending for "${name}" was signed for network ${pending.network.slice(0, 16)}, but this node runs ${networkId.slice(0, 16)}; settle it against a node of its network first`)
    }
    const fate = await this.settleOp(pending, true)
    this.note(fateLine(pending, fate))
    return { op: pending, status: fate.kind === 'refused' ? { hash: pending.hash, status: 'dropped', reason: fate.reason } : fate.status }
  }

  /** A call cites its contract's deploy slot; a cancel its contract's latest slot (after every execute that could run the call). */
  private async orderingFor (body: OpBody): Promise<Slot[]> {
    if (body.kind === 'rotate-sequencer') {
      const c = await within(this.api.contract(this.account), Date.now() + this.timeoutMs, 'with the contract')
      return [{ account: fromHex(c.deployedAt.account), seq: c.deployedAt.seq }]
    }
    if (body.kind !== 'call' && body.kind !== 'cancel') return []
    const c = await within(this.api.contract(toHex(body.contract)), Date.now() + this.timeoutMs, 'with the contract')
    if (body.kind === 'call') return [{ account: fromHex(c.deployedAt.account), seq: c.deployedAt.seq }]
    if (c.executes < 1) throw new NotCancellableError('the contract has run no execute yet, so no call\'s deadline has passed')
    return [{ account: body.contract, seq: c.executes }]
  }

  /**
   * Signs, with the key in force, the account's move to the key `to` and waits for its delivery;
   * from the next slot on only `to` signs for the account, which keeps its id. Then use
   * `withSigner(newKey)`. If it throws, the op stays pending: the next send (by either client)
   * settles it first, so no second rotation is signed for another slot meanwhile; when it was
   * delivered, a send with the old key is refused.
   */
  async rotateKey (to: Key): Promise<Sent> {
    return await this.send(rotateKeyBody(to))
  }

  /**
   * For a client whose account is a contract and whose signer is the key that is to sequence it:
   * signs the rotation at the contract's next slot, citing its deploy, and waits for its delivery.
   * `request`: the deployer's signature for that slot (signRotationRequest; the seq is the slot's),
   * or null: validators then vote only once the sequencer has been silent past their deadline
   * with calls queued, so this waits at least that long (give a timeoutMs beyond it).
   */
  async rotateSequencer (request: ((seq: number) => Uint8Array | null) | null = null): Promise<Sent> {
    const info = await within(this.api.account(this.account), Date.now() + this.timeoutMs, 'with the contract')
    if (!info.contract) throw new ArgumentError('account', `${this.account.slice(0, 16)} is not a contract here: a sequencer rotation goes in a contract's stream`)
    return await this.send(rotateSequencerBody(this.signer.publicKey, request === null ? null : request(info.nextSeq)), { credits: false })
  }

  async transfer (to: Key, amount: bigint): Promise<Sent> {
    return await this.send(transferBody(to, amount))
  }

  /** Deploys a contract; `sequencer` defaults to the key of the node this client talks to (it signs the executes). */
  async deploy (p: { code: string, args?: Args, sequencer?: Key | null, gasLimit?: number, force?: boolean }): Promise<Deployed> {
    const sequencer = p.sequencer !== undefined ? p.sequencer : String((await within(this.api.status(), Date.now() + this.timeoutMs, 'with its status')).nodeId)
    const gasLimit = p.gasLimit ?? await this.estimate(deployBody({ ...p, sequencer }), 'deploy', p.force === true)
    const sent = await this.send(deployBody({ ...p, sequencer, gasLimit }))
    return { ...sent, address: contractAddress(sent.slot.account, sent.slot.seq) }
  }

  /**
   * Calls a contract function and waits for its sequencer to run it. Without `deadline`, the call
   * may be run by the contract's next `deadlineExecutes` executes (default 1000; 0: no deadline,
   * never cancellable) and can be cancelled after them.
   */
  async call (p: CallParams & { readonly deadlineExecutes?: number, readonly force?: boolean }): Promise<Called> {
    const contract = keyHex(p.contract)
    const info: ContractView = await within(this.api.contract(contract), Date.now() + this.timeoutMs, 'with the contract')
    const n = p.deadlineExecutes ?? DEFAULT_DEADLINE_EXECUTES
    // the contract's next seq is executes + 1, so its next N executes end at seq executes + N
    const deadline = p.deadline ?? (n === 0 ? undefined : info.executes + n)
    const limit = deadline === undefined ? {} : { deadline }
    const gasLimit = p.gasLimit ?? await this.estimate(callBody({ ...p, ...limit }), `call of ${p.fn}`, p.force === true)
    const sent = await this.send(callBody({ ...p, ...limit, gasLimit }), { ordering: [{ account: fromHex(info.deployedAt.account), seq: info.deployedAt.seq }] })
    if (sent.status.outcome?.status !== 'applied') return sent
    const until = Date.now() + this.timeoutMs
    for (;;) {
      const out = await within(this.api.call(this.account, sent.slot.seq), until + 1000, 'about the call').catch((err: unknown) => {
        if (err instanceof OpTimeoutError) return undefined
        throw err
      })
      if (out !== undefined && out.status !== 'queued') return { ...sent, outcome: out }
      if (Date.now() > until) {
        throw new CallNotExecutedError({ account: this.account, seq: sent.slot.seq }, `call ${sent.slot.seq} is queued but its sequencer has not executed it within ${this.timeoutMs} ms; check later, or cancel it once the contract's stream passes its deadline${deadline === undefined ? '' : ` (seq ${deadline})`}`)
      }
      await sleep(200)
    }
  }

  /** Takes back this account's queued call at seq `call` once no execute ran it by its deadline; checked first so a hopeless cancel costs no op. */
  async cancel (contract: Key, call: number): Promise<Sent> {
    const address = keyHex(contract)
    const info = await within(this.api.contract(address), Date.now() + this.timeoutMs, 'with the contract')
    // a node may have forgotten the outcome (behind a checkpoint): then the ledger alone decides
    const out = await within(this.api.call(this.account, call), Date.now() + this.timeoutMs, 'about the call').catch((err: unknown) => {
      if (err instanceof ApiRequestError && err.code === 'ERR_UNKNOWN_CALL') return undefined
      throw err
    })
    if (out !== undefined) {
      if (out.status !== 'queued') throw new NotCancellableError(`call ${call} is not queued: its outcome is ${out.status}`)
      if (out.contract !== address) throw new NotCancellableError(`call ${call} was made to contract ${out.contract}, not ${address}`)
      if (out.deadline === undefined) throw new NotCancellableError(`call ${call} has no deadline, so it cannot be cancelled`)
      if (info.executes < out.deadline) throw new NotCancellableError(`call ${call} may still run until contract seq ${out.deadline}; the contract's stream is at ${info.executes}, so it cannot be cancelled yet`)
    }
    if (info.executes < 1) throw new NotCancellableError('the contract has run no execute yet, so no call\'s deadline has passed')
    return await this.send(cancelBody(address, call), { ordering: [{ account: fromHex(address), seq: info.executes }] })
  }

  /** Runs a contract function read-only against the node's state (as this account, by default). */
  async query (contract: Key, req: QueryRequest): Promise<RunView> {
    return await within(this.api.query(keyHex(contract), { caller: this.account, ...req }), Date.now() + this.timeoutMs, 'the query')
  }

  /** What an op would do if this account signed it now; nothing is signed or sent. */
  async simulate (body: OpBody): Promise<SimulateView> {
    return await within(this.api.simulate(this.account, toSimulateBody(body)), Date.now() + this.timeoutMs, 'the simulation')
  }

  /**
   * The gas to ask for when none was given: what a simulation of the op uses now, plus a margin.
   * An op the simulation says would certainly fail is refused before signing (WouldFailError),
   * unless `force`; then, or when the node gives no estimate, the default gas.
   */
  private async estimate (body: OpBody, what: string, force: boolean): Promise<number> {
    const sim = await this.simulate(body)
    const problem = simulationProblem(sim, what)
    if (problem !== undefined && !force) throw new WouldFailError(`${problem}; nothing was signed (force: true sends it anyway)`)
    return sim.gasEstimate ?? DEFAULT_GAS
  }

  /** What an account (default: this one) can spend, and the split underneath. */
  async balance (account: Key = this.account): Promise<Balance> {
    const v = await within(this.api.account(keyHex(account)), Date.now() + this.timeoutMs, 'with the account')
    return { spendable: BigInt(v.spendable), balance: BigInt(v.balance), received: BigInt(v.pending), credits: v.credits.length, nextSeq: v.nextSeq }
  }

  /** A key as bytes (for op bodies built by hand). */
  static key (k: Key): Uint8Array { return keyBytes(k) }
}

function fateLine (p: PendingOp, fate: Fate): string {
  const op = `op ${p.hash.slice(0, 16)} (seq ${p.seq}) that an earlier command left pending`
  if (fate.kind === 'refused') return `the node refused ${op} for good (${fate.reason}); it is dropped`
  if (fate.kind === 'lost') return `${op} was not confirmed delivered: ${fate.status.reason ?? 'its slot holds another op'}`
  const o = fate.status.outcome
  return `${op} was delivered${o === undefined ? '' : o.status === 'applied' ? ': applied' : `: rejected (${o.reason})`}`
}
