// Ops: the only way state changes. An op is one entry in one account's stream:
// { account, seq, deps, body } signed by the account's key. On the wire an op is the CBOR pair
// [payload, sig] where payload is the canonical encoding of the unsigned fields, so a node checks
// the signature over the bytes it received and hashes the op without encoding anything again.

import { decode, encode, compareBytes } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { sha256, toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { Domain, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, signFor, verifyFor } from '../crypto/signing.js'
import type { SignatureScheme, Signer } from '../crypto/signing.js'
import { MalformedError } from '../errors.js'
import { decodeBody, encodeBody } from './body.js'
import type { OpBody } from './body.js'
import { readSlot, slotValue } from './slot.js'

export type AccountId = Uint8Array

/** One position in one account's stream. */
export interface Slot {
  readonly account: AccountId
  readonly seq: number
}

export interface UnsignedOp {
  readonly account: AccountId
  readonly seq: number
  /** Earlier ops whose credits to `account` this op claims, sorted by (account, seq), no repeats. */
  readonly deps: readonly Slot[]
  readonly body: OpBody
}

/** A decoded, well-formed op together with the exact bytes it arrived as and their hash. */
export interface SignedOp extends UnsignedOp {
  readonly sig: Uint8Array
  readonly payload: Uint8Array
  readonly bytes: Uint8Array
  readonly hash: Hash
}

export const OP_LIMITS = {
  maxOpBytes: 96 * 1024,
  maxDeps: 64,
  maxSeq: Number.MAX_SAFE_INTEGER
} as const

/**
 * Hex of account ids, by array object: an op's account is keyed in the ledger, bindings, queues
 * and logs, often several times per layer, and the same array object travels with the op.
 */
const accountHex = new WeakMap<AccountId, string>()

/** An account id as a map key (hex), computed once per array object. */
export function accountKey (account: AccountId): string {
  let hex = accountHex.get(account)
  if (hex === undefined) {
    hex = toHex(account)
    accountHex.set(account, hex)
  }
  return hex
}

export function slotKey (account: AccountId, seq: number): string {
  return `${accountKey(account)}:${seq}`
}

export function compareSlots (a: Slot, b: Slot): number {
  return compareBytes(a.account, b.account) || a.seq - b.seq
}

function encodePayload (op: UnsignedOp): Uint8Array {
  const value: Value = {
    account: op.account,
    seq: op.seq,
    deps: op.deps.map(slotValue),
    body: encodeBody(op.body)
  }
  return encode(value)
}

function decodePayload (payload: Uint8Array): UnsignedOp {
  const m = read.map(decode(payload, { maxBytes: OP_LIMITS.maxOpBytes, maxDepth: 16, maxItems: 4096 }), 'op', ['account', 'seq', 'deps', 'body'])
  const account = read.bytes(m.account, 'op.account', PUBLIC_KEY_BYTES)
  const seq = read.uint(m.seq, 'op.seq', OP_LIMITS.maxSeq)
  if (seq < 1) throw new MalformedError('op.seq starts at 1')
  const deps = read.list(m.deps, 'op.deps', OP_LIMITS.maxDeps).map((d, i) => {
    const dep = readSlot(d, `op.deps[${i}]`, OP_LIMITS.maxSeq)
    if (dep.seq < 1) throw new MalformedError(`op.deps[${i}].seq starts at 1`)
    return dep
  })
  for (let i = 1; i < deps.length; i++) {
    if (compareSlots(deps[i - 1]!, deps[i]!) >= 0) throw new MalformedError('op.deps must be sorted and distinct')
  }
  // an op can only cite what came before it in its own stream, or it would wait for itself
  if (deps.some(d => d.seq >= seq && compareBytes(d.account, account) === 0)) throw new MalformedError('op.deps cites a later op of its own stream')
  return { account, seq, deps, body: decodeBody(m.body) }
}

/** Decodes an op from untrusted bytes. Checks shape and limits, not the signature. */
export function decodeOp (bytes: Uint8Array, hash: Hash = sha256(bytes)): SignedOp {
  if (bytes.length > OP_LIMITS.maxOpBytes) throw new MalformedError(`op of ${bytes.length} bytes exceeds ${OP_LIMITS.maxOpBytes}`)
  const pair = read.list(decode(bytes, { maxBytes: OP_LIMITS.maxOpBytes, maxDepth: 2, maxItems: 2 }), 'op envelope', 2)
  if (pair.length !== 2) throw new MalformedError('op envelope: expected [payload, sig]')
  const payload = read.bytes(pair[0], 'op.payload', undefined, OP_LIMITS.maxOpBytes)
  const sig = read.bytes(pair[1], 'op.sig', SIGNATURE_BYTES)
  return { ...decodePayload(payload), sig, payload, bytes, hash }
}

export function sortDeps (deps: readonly Slot[]): Slot[] {
  return [...deps].sort(compareSlots)
}

/** Builds and signs an op (wallet side). Deps are sorted for the caller. */
export function signOp (signer: Signer, networkId: Uint8Array, op: UnsignedOp): SignedOp {
  const unsigned = { ...op, deps: sortDeps(op.deps) }
  const payload = encodePayload(unsigned)
  const sig = signFor(signer, Domain.op, networkId, payload)
  const bytes = encode([payload, sig])
  return { ...unsigned, sig, payload, bytes, hash: sha256(bytes) }
}

export function verifyOpSignature (scheme: SignatureScheme, networkId: Uint8Array, op: SignedOp, signerKey: Uint8Array): boolean {
  return verifyFor(scheme, signerKey, Domain.op, networkId, op.payload, op.sig)
}
