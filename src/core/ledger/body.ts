// Op bodies: Transfer and Mint move money; Deploy, Call, Execute and Cancel run contracts;
// RotateKey and RotateSequencer replace the key that signs a stream; SetAdd and SetRemove are the
// ops of an observed-remove set network (src/core/algorithm/orset.ts). Each kind has its
// encode/decode pair here and its own rule in the algorithm that owns it.

import type { Value } from '../codec/canonical.js'
import { MAX_UINT64, compareBytes } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { GAS_LIMITS } from '../vm/gas.js'
import { readSlot } from './slot.js'
import { READER_LIMITS } from '../vm/reader.js'

export interface TransferBody { readonly kind: 'transfer', readonly to: Uint8Array, readonly amount: bigint }
export interface MintBody { readonly kind: 'mint', readonly to: Uint8Array, readonly amount: bigint }
/** Creates a contract account at an address derived from (deployer, seq); runs `init` if defined. */
export interface DeployBody { readonly kind: 'deploy', readonly code: string, readonly args: readonly Value[], readonly sequencer: Uint8Array | null, readonly gasLimit: number }
/**
 * A call queued for a contract; `value` leaves the caller's balance at delivery. `deadline`, when
 * present, is the last seq of the contract's stream whose Execute may run it; after that the
 * caller may cancel it. Counted in the contract's stream so every node agrees when it has passed.
 */
export interface CallBody { readonly kind: 'call', readonly contract: Uint8Array, readonly fn: string, readonly args: readonly Value[], readonly value: bigint, readonly gasLimit: number, readonly deadline?: number }
/** In a contract's own stream, signed by its sequencer: runs the cited queued calls in this order. */
export interface ExecuteBody { readonly kind: 'execute', readonly calls: ReadonlyArray<{ readonly account: Uint8Array, readonly seq: number }>, readonly time: number }

/** In the caller's own stream: takes back its queued call at seq `call` once its deadline has passed. */
export interface CancelBody { readonly kind: 'cancel', readonly contract: Uint8Array, readonly call: number }

/** In a key account's stream, signed by its current key: from the next slot on, `to` signs for it. */
export interface RotateKeyBody { readonly kind: 'rotate-key', readonly to: Uint8Array }

/**
 * In a contract's stream, signed by the new sequencer `to` (proof it holds the key): `to`
 * sequences the contract from the next slot on. `request` is the deployer's signature over the
 * rotation (see rotation.ts); validators bind the op only with it, or once the contract's
 * sequencer has been silent too long. The ledger does not look at it.
 */
export interface RotateSequencerBody { readonly kind: 'rotate-sequencer', readonly to: Uint8Array, readonly request: Uint8Array | null }

/** In a writer's own stream on a set network: adds `element` under the tag (account, seq) of this op. */
export interface SetAddBody { readonly kind: 'set-add', readonly element: string }
/**
 * In a writer's own stream on a set network: removes the tags of `element` the writer observed
 * (each also cited in deps, so every node delivers the adds before the remove). An add nobody
 * observed survives: that is what makes concurrent add and remove converge (add wins).
 */
export interface SetRemoveBody { readonly kind: 'set-remove', readonly element: string, readonly tags: ReadonlyArray<{ readonly account: Uint8Array, readonly seq: number }> }

export type LedgerBody = TransferBody | MintBody | DeployBody | CallBody | ExecuteBody | CancelBody | RotateKeyBody | RotateSequencerBody
export type SetBody = SetAddBody | SetRemoveBody
export type OpBody = LedgerBody | SetBody

export const MAX_AMOUNT = MAX_UINT64
// an execute cites each call in deps too, so OP_LIMITS.maxDeps (64) bounds it as well
export const BODY_LIMITS = { maxArgs: 16, maxFnName: 64, maxCallsPerExecute: 64 } as const
/**
 * A set element is text of at most 128 UTF-8 bytes; a remove names at most 64 tags (each is cited
 * in deps too, which OP_LIMITS.maxDeps also bounds to 64).
 */
export const SET_LIMITS = { maxElementBytes: 128, maxTagsPerRemove: 64 } as const

const utf8 = new TextEncoder()
function setElement (v: Value | undefined, what: string): string {
  const element = read.text(v, what, SET_LIMITS.maxElementBytes)
  const n = utf8.encode(element).length
  if (n === 0) throw new MalformedError(`${what} must not be empty`)
  if (n > SET_LIMITS.maxElementBytes) throw new MalformedError(`${what}: longer than ${SET_LIMITS.maxElementBytes} UTF-8 bytes`)
  return element
}

export function encodeBody (body: OpBody): Value {
  switch (body.kind) {
    case 'transfer':
    case 'mint':
      return { kind: body.kind, to: body.to, amount: body.amount }
    case 'deploy':
      return { kind: body.kind, code: body.code, args: [...body.args], sequencer: body.sequencer, gasLimit: body.gasLimit }
    case 'call':
      // the deadline is omitted when absent, so a call without one encodes as it always did
      return { kind: body.kind, contract: body.contract, fn: body.fn, args: [...body.args], value: body.value, gasLimit: body.gasLimit, ...(body.deadline === undefined ? {} : { deadline: body.deadline }) }
    case 'execute':
      return { kind: body.kind, calls: body.calls.map(c => [c.account, c.seq]), time: body.time }
    case 'cancel':
      return { kind: body.kind, contract: body.contract, call: body.call }
    case 'rotate-key':
      return { kind: body.kind, to: body.to }
    case 'rotate-sequencer':
      return { kind: body.kind, to: body.to, request: body.request }
    case 'set-add':
      return { kind: body.kind, element: body.element }
    case 'set-remove':
      return { kind: body.kind, element: body.element, tags: body.tags.map(t => [t.account, t.seq]) }
  }
}

const gasLimit = (v: Value | undefined, what: string): number => {
  const g = read.uint(v, what, GAS_LIMITS.maxCall)
  if (g < 1) throw new MalformedError(`${what} must be at least 1`)
  return g
}

// a stream position: 1 ..= OP_LIMITS.maxSeq (op.ts imports this module, so the bound is repeated)
const MAX_SEQ = Number.MAX_SAFE_INTEGER
const seqField = (v: Value | undefined, what: string): number => {
  const seq = read.uint(v, what, MAX_SEQ)
  if (seq < 1) throw new MalformedError(`${what} starts at 1`)
  return seq
}

export function decodeBody (v: Value | undefined): OpBody {
  const kind = (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array))
    ? (v as read.Fields).kind
    : undefined
  switch (kind) {
    case 'transfer':
    case 'mint': {
      const m = read.map(v, kind, ['kind', 'to', 'amount'])
      return {
        kind,
        to: read.bytes(m.to, `${kind}.to`, PUBLIC_KEY_BYTES),
        amount: read.bigint(m.amount, `${kind}.amount`, 1n, MAX_AMOUNT)
      }
    }
    case 'deploy': {
      const m = read.map(v, kind, ['kind', 'code', 'args', 'sequencer', 'gasLimit'])
      return {
        kind,
        code: read.text(m.code, 'deploy.code', READER_LIMITS.maxCodeBytes),
        args: read.list(m.args, 'deploy.args', BODY_LIMITS.maxArgs),
        sequencer: m.sequencer === null ? null : read.bytes(m.sequencer, 'deploy.sequencer', PUBLIC_KEY_BYTES),
        gasLimit: gasLimit(m.gasLimit, 'deploy.gasLimit')
      }
    }
    case 'call': {
      const m = read.map(v, kind, ['kind', 'contract', 'fn', 'args', 'value', 'gasLimit', 'deadline'])
      const deadline = read.optional(m.deadline, d => seqField(d, 'call.deadline'))
      return {
        kind,
        contract: read.bytes(m.contract, 'call.contract', PUBLIC_KEY_BYTES),
        fn: read.text(m.fn, 'call.fn', BODY_LIMITS.maxFnName),
        args: read.list(m.args, 'call.args', BODY_LIMITS.maxArgs),
        value: read.bigint(m.value, 'call.value', 0n, MAX_AMOUNT),
        gasLimit: gasLimit(m.gasLimit, 'call.gasLimit'),
        ...(deadline === undefined ? {} : { deadline })
      }
    }
    case 'cancel': {
      const m = read.map(v, kind, ['kind', 'contract', 'call'])
      return { kind, contract: read.bytes(m.contract, 'cancel.contract', PUBLIC_KEY_BYTES), call: seqField(m.call, 'cancel.call') }
    }
    case 'execute': {
      const m = read.map(v, kind, ['kind', 'calls', 'time'])
      const calls = read.list(m.calls, 'execute.calls', BODY_LIMITS.maxCallsPerExecute).map((c, i) => readSlot(c, `execute.calls[${i}]`))
      if (calls.length === 0) throw new MalformedError('execute.calls must not be empty')
      return { kind, calls, time: read.uint(m.time, 'execute.time') }
    }
    case 'rotate-key': {
      const m = read.map(v, kind, ['kind', 'to'])
      return { kind, to: read.bytes(m.to, 'rotate-key.to', PUBLIC_KEY_BYTES) }
    }
    case 'rotate-sequencer': {
      const m = read.map(v, kind, ['kind', 'to', 'request'])
      return {
        kind,
        to: read.bytes(m.to, 'rotate-sequencer.to', PUBLIC_KEY_BYTES),
        request: m.request === null ? null : read.bytes(m.request, 'rotate-sequencer.request', SIGNATURE_BYTES)
      }
    }
    case 'set-add': {
      const m = read.map(v, kind, ['kind', 'element'])
      return { kind, element: setElement(m.element, 'set-add.element') }
    }
    case 'set-remove': {
      const m = read.map(v, kind, ['kind', 'element', 'tags'])
      const tags = read.list(m.tags, 'set-remove.tags', SET_LIMITS.maxTagsPerRemove).map((t, i) => {
        const tag = readSlot(t, `set-remove.tags[${i}]`, MAX_SEQ)
        if (tag.seq < 1) throw new MalformedError(`set-remove.tags[${i}].seq starts at 1`)
        return tag
      })
      if (tags.length === 0) throw new MalformedError('set-remove.tags must not be empty')
      for (let i = 1; i < tags.length; i++) {
        const a = tags[i - 1]!
        const b = tags[i]!
        if ((compareBytes(a.account, b.account) || a.seq - b.seq) >= 0) throw new MalformedError('set-remove.tags must be sorted and distinct')
      }
      return { kind, element: setElement(m.element, 'set-remove.element'), tags }
    }
    default:
      throw new MalformedError(`op.body: unknown or missing kind ${JSON.stringify(typeof kind === 'string' ? kind.slice(0, 32) : typeof kind)}`)
  }
}
