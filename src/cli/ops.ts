// Sending an op from the CLI: settle any op the wallet left pending, read the account's stream
// position and uncited credits from the node, sign the new op, record it as pending (durably)
// before submitting, then wait for its delivery. A pending record goes only once its op's fate is
// known (delivered, its slot filled, or refused for good); after any other error, timeout or crash
// the next command resubmits the same bytes, so the wallet never signs two ops for one slot.

import { fromHex, toHex } from '../core/crypto/hash.js'
import type { Signer } from '../core/crypto/signing.js'
import { BftError } from '../core/errors.js'
import { OP_LIMITS, signOp } from '../core/ledger/op.js'
import type { Slot } from '../core/ledger/op.js'
import type { OpBody } from '../core/ledger/body.js'
import type { ApiClient, OpStatusView, SubmitResultView } from '../client/api-client.js'
import type { PendingOp, Wallet } from './wallet.js'

export class OpTimeoutError extends BftError {
  readonly code = 'ERR_TIMEOUT'
}

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

/** The wallet's pending op was signed by another key or for another network than the node's. */
export class PendingMismatchError extends BftError {
  readonly code = 'ERR_PENDING_MISMATCH'
}

export interface SendRequest {
  readonly api: ApiClient
  readonly wallet: Wallet
  readonly name: string
  readonly signer: Signer
  /** Builds the body; `credits` is what the account can cite. */
  readonly body: OpBody
  /** Deps the body needs for ordering (a call's deploy), cited before any credit. */
  readonly ordering?: readonly Slot[]
  readonly timeoutMs: number
  readonly say: (line: string) => void
}

export interface Sent { readonly hash: string, readonly slot: Slot, readonly status: OpStatusView }

/** What became of a pending op; `lost`: its slot was filled by another op. */
type Fate =
  | { readonly kind: 'delivered' | 'lost', readonly status: OpStatusView }
  | { readonly kind: 'refused', readonly code: string, readonly reason: string }

const STAYS = 'it stays pending in the wallet and the next command resubmits it'

const errorCode = (code: string): string => `ERR_${code.toUpperCase().replace(/-/g, '_')}`

/** The API client has no timeouts of its own, and a node that never answers must not hold a command for ever. */
async function within<T> (p: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OpTimeoutError(`the node did not answer ${what} in time`)), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

async function waitDelivered (api: ApiClient, hash: string, deadline: number, timeoutMs: number): Promise<OpStatusView> {
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0) throw new OpTimeoutError(`op ${hash.slice(0, 16)} was not delivered within ${timeoutMs} ms; ${STAYS}`)
    const wait = Math.min(left, 10_000)
    // the node answers when its wait ends: give the answer a moment to arrive
    const st = await within(api.op(hash, wait), Date.now() + wait + 1000, 'about the op').catch(() => undefined)
    if (st === undefined) await new Promise(resolve => setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now()))))
    else if (st.status !== 'queued') return st
  }
}

async function slotFilled (req: SendRequest, p: PendingOp, deadline: number): Promise<boolean> {
  return (await within(req.api.account(p.account), deadline, 'with the account')).nextSeq > p.seq
}

/** The op's slot is filled, by this op or another: either way no op of ours can take it now. */
async function filled (req: SendRequest, p: PendingOp): Promise<Fate> {
  const st = await within(req.api.op(p.hash), Date.now() + req.timeoutMs, 'about the op').catch(() => undefined)
  await req.wallet.clearPending(req.name)
  if (st?.status === 'delivered') return { kind: 'delivered', status: st }
  const reason = st?.status === 'dropped' && st.reason !== undefined ? st.reason : `slot ${p.seq} holds an op this node does not know as op ${p.hash.slice(0, 16)}`
  return { kind: 'lost', status: { hash: p.hash, status: 'dropped', reason } }
}

/**
 * Learns the fate of a recorded op, submitting its bytes (again) while its slot is open, and drops
 * the record once the fate is known. Throws, keeping the record, while it is not.
 */
async function settle (req: SendRequest, p: PendingOp, earlier: boolean): Promise<Fate> {
  const { api, wallet, name } = req
  const deadline = Date.now() + req.timeoutMs
  const short = p.hash.slice(0, 16)
  if (earlier) {
    if (await slotFilled(req, p, deadline)) return await filled(req, p)
    req.say(`resubmitting op ${short} (seq ${p.seq}) that an earlier command left pending`)
  }
  let result: SubmitResultView | undefined
  try {
    [result] = await within(api.submit([p.op]), deadline, 'the submission')
  } catch (err) {
    throw new OpUnconfirmedError(`no answer from the node about op ${short} (${(err as Error).message}); ${STAYS}`)
  }
  let status: OpStatusView
  if (result === undefined) {
    throw new OpUnconfirmedError(`the node gave no result for op ${short}; ${STAYS}`)
  } else if (result.status === 'rejected') {
    if (result.code === 'malformed' || result.code === 'bad-signature') {
      // no honest validator binds such an op, so its slot is still free
      await wallet.clearPending(name)
      return { kind: 'refused', code: result.code, reason: result.reason }
    }
    if (result.code !== 'conflict') throw new OpRefusedError(errorCode(result.code), `the node refused op ${short} for now (${result.reason}); ${STAYS}`)
    status = { hash: p.hash, status: 'dropped', reason: result.reason }
  } else if (result.status === 'delivered') {
    const st = await within(api.op(p.hash), deadline, 'about the op').catch(() => undefined)
    status = st?.status === 'delivered' ? st : { hash: p.hash, status: 'delivered' }
  } else {
    status = await waitDelivered(api, p.hash, deadline, req.timeoutMs)
  }
  if (status.status === 'delivered') {
    await wallet.clearPending(name)
    return { kind: 'delivered', status }
  }
  // another op of the account claims the slot (the key is used elsewhere): ours may still win it,
  // so it is lost only once the slot is filled, and until then nothing else is signed for it
  if (await slotFilled(req, p, Date.now() + req.timeoutMs)) return await filled(req, p)
  throw new SlotContestedError(`another op of this account claims slot ${p.seq}, which op ${short} is pending for (${status.reason ?? 'conflict'}); ${STAYS} until the slot is filled`)
}

function fateLine (p: PendingOp, fate: Fate): string {
  const op = `op ${p.hash.slice(0, 16)} (seq ${p.seq}) that an earlier command left pending`
  if (fate.kind === 'refused') return `the node refused ${op} for good (${fate.reason}); it is dropped`
  if (fate.kind === 'lost') return `${op} was not delivered: ${fate.status.reason ?? 'its slot holds another op'}`
  const o = fate.status.outcome
  return `${op} was delivered${o === undefined ? '' : o.status === 'applied' ? ': applied' : `: rejected (${o.reason})`}`
}

/**
 * Validators do not take an op from an account that holds nothing, and a transfer or call value
 * beyond balance + cited credits would only be rejected on delivery, using up a slot: neither is
 * signed. (The mint authority mints from nothing.)
 */
function refuseUnpayable (body: OpBody, balance: bigint, credits: bigint): void {
  // a cancel moves no money of the account's, and a queued call counts as holding value
  if (body.kind === 'mint' || body.kind === 'execute' || body.kind === 'cancel') return
  const available = balance + credits
  const needs = body.kind === 'transfer' ? body.amount : body.kind === 'call' ? body.value : 0n
  if (available === 0n) throw new InsufficientFundsError('the account holds nothing (no balance, no credit): validators take no op from it until it is paid; nothing was signed')
  if (needs > available) throw new InsufficientFundsError(`the account has ${available} (balance ${balance} + ${credits} in credits it can cite), the op needs ${needs}; nothing was signed`)
}

export async function sendOp (req: SendRequest): Promise<Sent> {
  const { api, wallet, name, signer } = req
  const me = toHex(signer.publicKey)
  const { networkId } = await within(api.genesis(), Date.now() + req.timeoutMs, 'with its genesis')
  const pending = await wallet.pending(name)
  if (pending !== undefined) {
    if (pending.account !== me) throw new PendingMismatchError(`the op pending for "${name}" was signed by another key (${pending.account.slice(0, 16)}); the key file changed after it was signed`)
    if (pending.network !== undefined && pending.network !== networkId) {
      throw new PendingMismatchError(`the op pending for "${name}" was signed for network ${pending.network.slice(0, 16)}, but this node runs ${networkId.slice(0, 16)}; settle it against a node of its network first`)
    }
    req.say(fateLine(pending, await settle(req, pending, true)))
  }
  const view = await within(api.account(me), Date.now() + req.timeoutMs, 'with the account')
  const ordering = req.ordering ?? []
  // an ordering dep may also be a credit (a cancel cites a contract slot that paid it): cite it once
  const cited = view.credits
    .filter(c => !ordering.some(o => o.seq === c.seq && toHex(o.account) === c.account))
    .slice(0, OP_LIMITS.maxDeps - ordering.length)
  const credits = cited.map(c => ({ account: fromHex(c.account), seq: c.seq }))
  refuseUnpayable(req.body, BigInt(view.balance), cited.reduce((a, c) => a + BigInt(c.amount), 0n))
  const op = signOp(signer, fromHex(networkId), { account: signer.publicKey, seq: view.nextSeq, deps: [...ordering, ...credits], body: req.body })
  const hash = toHex(op.hash)
  await wallet.setPending(name, op.seq, op.bytes, op.hash, networkId)
  const fate = await settle(req, { seq: op.seq, op: toHex(op.bytes), hash, account: me, network: networkId }, false)
  if (fate.kind === 'refused') throw new OpRefusedError(errorCode(fate.code), `the node refused the op: ${fate.reason}`)
  return { hash, slot: { account: op.account, seq: op.seq }, status: fate.status }
}
