// The load generator's accounts and their pre-signed ops. Every op is signed before the clock of
// the run that sends it starts. Ops go out in rounds (one op of every account per round), so two
// ops of one account are `accounts` positions apart in the submission order: with a window of
// fewer outstanding ops than that, an account's op is delivered before its next one is sent.

import { randomBytes } from 'node:crypto'
import sodium from 'sodium-native'
import type { Signer } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { Slot } from '../../src/core/ledger/op.js'

/** Units each account is funded with: far more than it ever sends (1 unit per transfer). */
export const FUNDING = 1_000_000_000n
/**
 * Accounts one payer funds. Kept short: one account's long stream in one batch can stall the
 * current node for many seconds (a 500-op stream did, sometimes), and funding should measure
 * nothing but wait for nothing either.
 */
export const FAN_OUT = 32
/** Treasury balance for `testnet init`: 10^18 units, so 10^9 accounts of FUNDING fit. */
export const TREASURY = 10n ** 18n

/**
 * A signer that keeps its expanded libsodium key. The node's sodiumScheme caches 1,024 expanded
 * keys and clears them all when full: signing round-robin over thousands of accounts would
 * expand a key (as costly as a signature) for every op.
 */
export function fastSigner (seed: Uint8Array): Signer {
  const pk = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const sk = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(pk, sk, Buffer.from(seed))
  return {
    publicKey: new Uint8Array(pk),
    sign (message) {
      const sig = Buffer.alloc(sodium.crypto_sign_BYTES)
      sodium.crypto_sign_detached(sig, Buffer.from(message.buffer, message.byteOffset, message.length), sk)
      return new Uint8Array(sig.buffer, sig.byteOffset, sig.length)
    }
  }
}

export interface Account {
  readonly signer: Signer
  /** The validator whose API gets all of this account's ops, so its stream arrives in order. */
  readonly home: number
  nextSeq: number
  /** The funding credit the account's first op (seq 1) cites. */
  credit?: Slot
  /** In the load ring, the account that pays this one (its every op does): see transfer. */
  payer?: Account
}

export function newAccount (home: number, seed: Uint8Array = new Uint8Array(randomBytes(32))): Account {
  return { signer: fastSigner(seed), home, nextSeq: 1 }
}

/** Signed ops in submission order: hex for the request body, hash (hex), target validator, author and seq. */
export interface Prepared {
  readonly hex: string[]
  readonly hash: string[]
  readonly node: number[]
  readonly from: Account[]
  readonly seq: number[]
}

export function emptyPrepared (): Prepared {
  return { hex: [], hash: [], node: [], from: [], seq: [] }
}

/**
 * After a run that gave up, takes back every op no validator accepted: its account's next op is
 * signed again from the first such seq. Ops here are deterministic (same author, seq, deps,
 * recipient and amount give the same bytes), so an op signed again is the very op a validator
 * may have seen: never a second op for one slot.
 */
export function takeBack (p: Prepared, accepted: Uint8Array): number {
  let count = 0
  for (let i = 0; i < p.hex.length; i++) {
    if (accepted[i] === 1) continue
    const a = p.from[i]!
    a.nextSeq = Math.min(a.nextSeq, p.seq[i]!)
    count++
  }
  return count
}

/**
 * What an op cites: the first, its funding credit; later ones in the load ring, the credit from
 * the payer's op two seqs back, as a wallet claims what it was paid. Without it every transfer left
 * an uncited credit for ever and the state grew by one a transfer (~1 KB of a validator's memory
 * each, two ledgers); with it an account holds about two. Two seqs back is two rounds of every
 * account, so delivered long before (at most 3/4 of the accounts' ops are outstanding). A function
 * of account and seq only, so an op signed again is the same op.
 */
function depsOf (from: Account, seq: number): Slot[] {
  if (seq === 1) return from.credit === undefined ? [] : [from.credit]
  return from.payer !== undefined && seq >= 3 ? [{ account: from.payer.signer.publicKey, seq: seq - 2 }] : []
}

function transfer (p: Prepared, from: Account, networkId: Uint8Array, to: Uint8Array, amount: bigint): void {
  const seq = from.nextSeq++
  const op = signOp(from.signer, networkId, { account: from.signer.publicKey, seq, deps: depsOf(from, seq), body: { kind: 'transfer', to, amount } })
  p.hex.push(Buffer.from(op.bytes.buffer, op.bytes.byteOffset, op.bytes.length).toString('hex'))
  p.hash.push(Buffer.from(op.hash.buffer, op.hash.byteOffset, op.hash.length).toString('hex'))
  p.node.push(from.home)
  p.from.push(from)
  p.seq.push(seq)
}

/**
 * Funding as a tree with FAN_OUT children a payer: the treasury pays a few distributors, they pay
 * more, and the last ones pay the accounts. Returns one set of ops per level, to send in order,
 * each level delivered everywhere before the next (its ops cite the credits the level before
 * made). A payer's ops all go to one validator, in seq order; every recipient ends up holding a
 * credit its first op cites.
 */
export function fundingOps (treasury: Account, recipients: readonly Account[], networkId: Uint8Array, validators: number, amount = FUNDING): Prepared[] {
  const last = emptyPrepared()
  if (recipients.length <= FAN_OUT) {
    for (const r of recipients) pay(last, treasury, r, networkId, amount)
    return [last]
  }
  const payers = Array.from({ length: Math.ceil(recipients.length / FAN_OUT) }, (_, d) => newAccount(d % validators))
  // a payer is funded first (with what it pays out), so the levels above come first
  const above = fundingOps(treasury, payers, networkId, validators, amount * BigInt(FAN_OUT))
  // round-robin over payers (every payer's first payment, then every second one, ...): each
  // payer's payments form a chain delivered one after another, and the sender's backlog cap
  // admits the first few hundred ops, so payer-by-payer order kept only a handful of chains moving
  // (~45 transfers/s funding 40,000 accounts; ~300/s interleaved)
  for (let j = 0; j < FAN_OUT; j++) {
    payers.forEach((payer, d) => {
      const r = recipients[d * FAN_OUT + j]
      if (r !== undefined) pay(last, payer, r, networkId, amount)
    })
  }
  return [...above, last]
}

function pay (p: Prepared, from: Account, to: Account, networkId: Uint8Array, amount: bigint): void {
  const seq = from.nextSeq
  transfer(p, from, networkId, to.signer.publicKey, amount)
  to.credit = { account: from.signer.publicKey, seq }
}

/**
 * The load: `count` transfers of 1 unit, account i paying account i+1, continuing the round
 * order at `cursor` (the number of load ops signed before). Yields to the event loop every
 * `slice` ops when `slice` is set, so a long run can sign just ahead of what it sends.
 */
export async function loadOps (accounts: readonly Account[], networkId: Uint8Array, cursor: number, count: number, slice = Infinity): Promise<Prepared> {
  const p = emptyPrepared()
  const k = accounts.length
  accounts.forEach((a, i) => { a.payer = accounts[(i - 1 + k) % k] })
  for (let j = 0; j < count; j++) {
    const i = (cursor + j) % k
    transfer(p, accounts[i]!, networkId, accounts[(i + 1) % k]!.signer.publicKey, 1n)
    if ((j + 1) % slice === 0) await new Promise(resolve => setImmediate(resolve))
  }
  return p
}

/** Ops of one account one after another (the light-load latency probe). */
export function streamOps (account: Account, networkId: Uint8Array, to: Uint8Array, count: number): Prepared {
  const p = emptyPrepared()
  for (let j = 0; j < count; j++) transfer(p, account, networkId, to, 1n)
  return p
}
