// Op bodies for every kind a wallet signs, from plain arguments: keys as bytes or 64 hex digits,
// amounts as bigint, contract arguments as canonical values or in the JSON forms of values.ts.
// Also the deps an op cites: ordering deps first (a call cites its contract's deploy slot, a
// cancel its contract's latest slot), then the account's uncited credits, which the op claims.

import { fromHex, toHex } from '../core/crypto/hash.js'
import type { Value } from '../core/codec/canonical.js'
import { MAX_AMOUNT, SET_LIMITS } from '../core/ledger/body.js'
import type { CallBody, CancelBody, DeployBody, ExecuteBody, MintBody, OpBody, RotateKeyBody, RotateSequencerBody, SetAddBody, SetRemoveBody, TransferBody } from '../core/ledger/body.js'
import { contractAddress as address } from '../core/ledger/contracts.js'
import { compareSlots, OP_LIMITS } from '../core/ledger/op.js'
import type { Slot } from '../core/ledger/op.js'
import { GAS_LIMITS } from '../core/vm/gas.js'
import type { AccountView, SimulateBody } from './api-client.js'
import { InsufficientFundsError, InvalidKeyError } from './errors.js'
import { ArgumentError, parseArgs, valueToJson } from './values.js'
import type { JsonValue } from './values.js'

export type { CallBody, CancelBody, DeployBody, ExecuteBody, MintBody, OpBody, RotateKeyBody, RotateSequencerBody, SetAddBody, SetRemoveBody, Slot, TransferBody, Value }

/** An account key or contract address: 32 bytes, or 64 hex digits. */
export type Key = Uint8Array | string

/** Contract arguments: canonical values, or `{ json: [...] }` in the JSON forms of values.ts. */
export type Args = readonly Value[] | { readonly json: readonly JsonValue[] }

/** Default gas for a deploy's init or a call. */
export const DEFAULT_GAS = GAS_LIMITS.defaultCall

export function keyBytes (k: Key, what = 'key'): Uint8Array {
  if (typeof k !== 'string') {
    if (k.length !== 32) throw new InvalidKeyError(`${what}: a key is 32 bytes, got ${k.length}`)
    return k
  }
  const h = k.trim().toLowerCase().replace(/^0x/, '')
  if (!/^[0-9a-f]{64}$/.test(h)) throw new InvalidKeyError(`${what}: a key is 64 hex digits`)
  return fromHex(h)
}

export function keyHex (k: Key): string { return toHex(keyBytes(k)) }

function args (a: Args | undefined): Value[] {
  if (a === undefined) return []
  return Array.isArray(a) ? [...(a as readonly Value[])] : parseArgs((a as { json: readonly JsonValue[] }).json)
}

function amount (n: bigint, what: string, zeroOk = false): bigint {
  if (typeof n !== 'bigint') throw new ArgumentError(what, 'an amount is a bigint (e.g. 100n)')
  if (n < (zeroOk ? 0n : 1n)) throw new ArgumentError(what, `must be ${zeroOk ? '0 or more' : 'at least 1'}`)
  if (n > MAX_AMOUNT) throw new ArgumentError(what, `must be at most ${MAX_AMOUNT}`)
  return n
}

export function transferBody (to: Key, value: bigint): TransferBody {
  return { kind: 'transfer', to: keyBytes(to, 'to'), amount: amount(value, 'amount') }
}

/** Adds `element` to a set network's set (genesis algorithm "orset"), tagged with this op's slot. */
export function setAddBody (element: string): SetAddBody {
  return { kind: 'set-add', element: setElement(element) }
}

/**
 * Removes the tags of `element` the writer has seen (GET /v1/set?element=...: each entry's tags).
 * Send it with the same tags as deps (client.send(body, { ordering: tags, credits: false })), so
 * every node delivers the adds first; an add of the element made meanwhile survives.
 */
export function setRemoveBody (element: string, tags: ReadonlyArray<{ readonly account: Key, readonly seq: number }>): SetRemoveBody {
  if (tags.length === 0) throw new ArgumentError('tags', 'a remove names at least one tag: the element is not in the set as seen')
  if (tags.length > SET_LIMITS.maxTagsPerRemove) throw new ArgumentError('tags', `at most ${SET_LIMITS.maxTagsPerRemove} tags per remove: remove the rest in another op`)
  const sorted = tags.map(t => ({ account: keyBytes(t.account, 'tags[].account'), seq: t.seq })).sort(compareSlots)
  return { kind: 'set-remove', element: setElement(element), tags: sorted }
}

function setElement (element: string): string {
  const n = new TextEncoder().encode(element).length
  if (n === 0 || n > SET_LIMITS.maxElementBytes) throw new ArgumentError('element', `an element is 1 to ${SET_LIMITS.maxElementBytes} UTF-8 bytes`)
  return element
}

/** Only the network's mint authority may sign it. */
export function mintBody (to: Key, value: bigint): MintBody {
  return { kind: 'mint', to: keyBytes(to, 'to'), amount: amount(value, 'amount') }
}

export interface DeployParams {
  readonly code: string
  readonly args?: Args
  /** Who signs the Execute ops that run its calls; null: the deployer. */
  readonly sequencer: Key | null
  readonly gasLimit?: number
}

export function deployBody (p: DeployParams): DeployBody {
  return { kind: 'deploy', code: p.code, args: args(p.args), sequencer: p.sequencer === null ? null : keyBytes(p.sequencer, 'sequencer'), gasLimit: p.gasLimit ?? DEFAULT_GAS }
}

export interface CallParams {
  readonly contract: Key
  readonly fn: string
  readonly args?: Args
  /** Money attached (refunded if the call fails). */
  readonly value?: bigint
  readonly gasLimit?: number
  /** The last seq of the contract's stream whose Execute may run the call; after it the call can be cancelled. */
  readonly deadline?: number
}

export function callBody (p: CallParams): CallBody {
  return {
    kind: 'call',
    contract: keyBytes(p.contract, 'contract'),
    fn: p.fn,
    args: args(p.args),
    value: amount(p.value ?? 0n, 'value', true),
    gasLimit: p.gasLimit ?? DEFAULT_GAS,
    ...(p.deadline === undefined ? {} : { deadline: p.deadline })
  }
}

/** Takes back the caller's queued call at seq `call` of its own stream, once its deadline passed. */
export function cancelBody (contract: Key, call: number): CancelBody {
  return { kind: 'cancel', contract: keyBytes(contract, 'contract'), call }
}

/** A sequencer's op in its contract's stream: runs the cited queued calls, in this order. */
export function executeBody (calls: ReadonlyArray<{ readonly account: Key, readonly seq: number }>, time: number): ExecuteBody {
  return { kind: 'execute', calls: calls.map(c => ({ account: keyBytes(c.account, 'call account'), seq: c.seq })), time }
}

/** Signed by the account's current key: from the next slot on, `to` signs for the account. */
export function rotateKeyBody (to: Key): RotateKeyBody {
  return { kind: 'rotate-key', to: keyBytes(to, 'to') }
}

/**
 * In the contract's stream, signed by the new sequencer `to`; `request`: the deployer's signature
 * (signRotationRequest), or null to wait until validators find the sequencer silent.
 */
export function rotateSequencerBody (to: Key, request: Uint8Array | null): RotateSequencerBody {
  if (request !== null && request.length !== 64) throw new ArgumentError('request', 'a signature is 64 bytes')
  return { kind: 'rotate-sequencer', to: keyBytes(to, 'to'), request }
}

/** A contract's address: derived from its deployer and the deploy op's seq. */
export function contractAddress (deployer: Key, seq: number): string {
  return toHex(address(keyBytes(deployer, 'deployer'), seq))
}

/** An op body in the JSON form POST /v1/simulate takes. */
export function toSimulateBody (body: OpBody): SimulateBody {
  switch (body.kind) {
    case 'transfer': return { kind: 'transfer', to: toHex(body.to), amount: body.amount.toString() }
    case 'deploy': return { kind: 'deploy', code: body.code, args: body.args.map(valueToJson), gasLimit: body.gasLimit, ...(body.sequencer === null ? {} : { sequencer: toHex(body.sequencer) }) }
    case 'call': return { kind: 'call', contract: toHex(body.contract), fn: body.fn, args: body.args.map(valueToJson), value: body.value.toString(), gasLimit: body.gasLimit, ...(body.deadline === undefined ? {} : { deadline: body.deadline }) }
    case 'cancel': return { kind: 'cancel', contract: toHex(body.contract), call: body.call }
    default: throw new ArgumentError('body', `the node does not simulate ${body.kind} ops`)
  }
}

/**
 * The deps of an op: its ordering deps, then as many of the account's uncited credits as fit (an
 * ordering dep that is also a credit, as a contract slot that paid the account, is cited once).
 * Returns the deps and what the cited credits bring.
 */
export function fillDeps (view: Pick<AccountView, 'credits'>, ordering: readonly Slot[] = []): { deps: Slot[], credits: bigint } {
  const cited = view.credits
    .filter(c => !ordering.some(o => o.seq === c.seq && toHex(o.account) === c.account))
    .slice(0, OP_LIMITS.maxDeps - ordering.length)
  return {
    deps: [...ordering, ...cited.map(c => ({ account: fromHex(c.account), seq: c.seq }))],
    credits: cited.reduce((a, c) => a + BigInt(c.amount), 0n)
  }
}

/**
 * Validators do not take an op from an account that holds nothing, and a transfer or call value
 * beyond balance + cited credits would only be rejected on delivery, using up a slot: neither is
 * signed. (The mint authority mints from nothing.)
 */
export function refuseUnpayable (body: OpBody, balance: bigint, credits: bigint): void {
  // a cancel moves no money of the account's, and a queued call counts as holding value; a
  // sequencer's ops are in a contract's stream, which validators always take
  if (body.kind === 'mint' || body.kind === 'execute' || body.kind === 'cancel' || body.kind === 'rotate-sequencer') return
  // a set network has no money: its writers are named by the genesis, and the node says if not
  if (body.kind === 'set-add' || body.kind === 'set-remove') return
  const available = balance + credits
  const needs = body.kind === 'transfer' ? body.amount : body.kind === 'call' ? body.value : 0n
  if (available === 0n) throw new InsufficientFundsError('the account holds nothing (no balance, no credit): validators take no op from it until it is paid; nothing was signed')
  if (needs > available) throw new InsufficientFundsError(`the account has ${available} (balance ${balance} + ${credits} in credits it can cite), the op needs ${needs}; nothing was signed`)
}
