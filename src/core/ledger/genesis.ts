// Genesis: the document every node of a network starts from. Its hash is the network id that
// every signature covers, so nothing signed for one network is valid on another.

import { decode, encode, compareBytes } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import { sha256, toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { PUBLIC_KEY_BYTES } from '../crypto/signing.js'
import { InvalidGenesisError, MalformedError } from '../errors.js'
import { MAX_AMOUNT } from './body.js'
import type { AccountId } from './op.js'
import { ALGORITHMS } from '../algorithm/algorithm.js'
import type { AlgorithmName } from '../algorithm/algorithm.js'

export interface Genesis {
  /** A human name; part of the network id. */
  readonly network: string
  /** Validator public keys, sorted bytewise, distinct. */
  readonly validators: readonly Uint8Array[]
  /** The only account whose Mint ops are valid. */
  readonly mintAuthority: AccountId
  /** Starting balances, sorted by account, distinct, each > 0. */
  readonly balances: ReadonlyArray<{ readonly account: AccountId, readonly amount: bigint }>
  /** What validators may do wrong (docs/faults.md); absent: 'byzantine'. Fixed for the network's life. */
  readonly faults?: FaultModel
  /**
   * The replicated algorithm (core/algorithm). Absent means the ledger, and is the only way to say
   * so: a genesis without it encodes as it always did, so existing network ids stay the same.
   * On a set network ('orset') the accounts of `balances` are the writers.
   */
  readonly algorithm?: Exclude<AlgorithmName, 'ledger'>
}

/**
 * 'byzantine': up to f validators may lie, equivocate or run bad code. 'crash': validators only
 * stop (and maybe restart with their disk); in exchange a majority is a quorum.
 */
export type FaultModel = 'byzantine' | 'crash'
export const FAULT_MODELS: readonly FaultModel[] = ['byzantine', 'crash']

export const MAX_VALIDATORS = 256
const MAX_GENESIS_ACCOUNTS = 100_000

export function encodeGenesis (g: Genesis): Uint8Array {
  const value: Value = {
    network: g.network,
    validators: [...g.validators],
    mintAuthority: g.mintAuthority,
    balances: g.balances.map(b => [b.account, b.amount]),
    // only a non-default model is written: a genesis without one keeps its bytes and network id
    ...(g.faults === undefined || g.faults === 'byzantine' ? {} : { faults: g.faults }),
    ...(g.algorithm === undefined ? {} : { algorithm: g.algorithm })
  }
  return encode(value)
}

export function decodeGenesis (bytes: Uint8Array): Genesis {
  try {
    const m = read.map(decode(bytes, { maxBytes: 16 * 1024 * 1024, maxDepth: 4, maxItems: MAX_GENESIS_ACCOUNTS }), 'genesis',
      ['network', 'validators', 'mintAuthority', 'balances', 'faults', 'algorithm'])
    const algorithm = read.optional(m.algorithm, v => read.text(v, 'genesis.algorithm', 16))
    const g: Genesis = {
      network: read.text(m.network, 'genesis.network', 64),
      validators: read.list(m.validators, 'genesis.validators', MAX_VALIDATORS).map((v, i) => read.bytes(v, `genesis.validators[${i}]`, PUBLIC_KEY_BYTES)),
      mintAuthority: read.bytes(m.mintAuthority, 'genesis.mintAuthority', PUBLIC_KEY_BYTES),
      balances: read.list(m.balances, 'genesis.balances', MAX_GENESIS_ACCOUNTS).map((b, i) => {
        const pair = read.list(b, `genesis.balances[${i}]`, 2)
        return { account: read.bytes(pair[0], `genesis.balances[${i}].account`, PUBLIC_KEY_BYTES), amount: read.bigint(pair[1], `genesis.balances[${i}].amount`, 1n, MAX_AMOUNT) }
      }),
      ...(m.faults === undefined ? {} : { faults: read.text(m.faults, 'genesis.faults', 16) as FaultModel }),
      ...(algorithm === undefined ? {} : { algorithm: algorithm as Exclude<AlgorithmName, 'ledger'> })
    }
    // the default is never written, so bytes that name it are not this genesis's encoding
    if (g.faults === 'byzantine') throw new InvalidGenesisError('genesis.faults: "byzantine" is the default and is written by leaving the field out')
    return validateGenesis(g)
  } catch (err) {
    if (err instanceof MalformedError) throw new InvalidGenesisError(err.message)
    throw err
  }
}

/** Sorts what may be given in any order and rejects what cannot start a network. */
export function makeGenesis (g: Genesis | (Omit<Genesis, 'algorithm'> & { readonly algorithm?: AlgorithmName })): Genesis {
  const { algorithm, ...rest } = g
  return validateGenesis({
    ...rest,
    ...(algorithm === undefined || algorithm === 'ledger' ? {} : { algorithm }),
    validators: [...g.validators].sort(compareBytes),
    balances: [...g.balances].sort((a, b) => compareBytes(a.account, b.account))
  })
}

function validateGenesis (g: Genesis): Genesis {
  if (g.network.length === 0) throw new InvalidGenesisError('genesis.network must not be empty')
  if (g.validators.length === 0) throw new InvalidGenesisError('genesis needs at least one validator')
  if (g.validators.length > MAX_VALIDATORS) throw new InvalidGenesisError(`at most ${MAX_VALIDATORS} validators`)
  for (let i = 1; i < g.validators.length; i++) {
    if (compareBytes(g.validators[i - 1]!, g.validators[i]!) >= 0) throw new InvalidGenesisError('genesis.validators must be sorted and distinct')
  }
  let total = 0n
  for (let i = 0; i < g.balances.length; i++) {
    if (i > 0 && compareBytes(g.balances[i - 1]!.account, g.balances[i]!.account) >= 0) throw new InvalidGenesisError('genesis.balances must be sorted by account and distinct')
    const amount = g.balances[i]!.amount
    if (amount < 1n || amount > MAX_AMOUNT) throw new InvalidGenesisError(`genesis.balances[${i}]: a starting balance is between 1 and 2^64-1`)
    total += amount
  }
  if (total > MAX_AMOUNT) throw new InvalidGenesisError('genesis balances exceed the supply cap of 2^64-1')
  if (g.faults !== undefined && !FAULT_MODELS.includes(g.faults)) throw new InvalidGenesisError(`genesis.faults must be ${FAULT_MODELS.map(m => `"${m}"`).join(' or ')} (or absent: byzantine), got ${JSON.stringify(g.faults)}`)
  // 'ledger' is written by leaving the field out, so one network has one encoding
  if (g.algorithm !== undefined && (g.algorithm as string === 'ledger' || !ALGORITHMS.includes(g.algorithm))) throw new InvalidGenesisError(`genesis.algorithm must be one of ${ALGORITHMS.filter(a => a !== 'ledger').join(', ')} (omit it for the ledger)`)
  if (g.algorithm === 'orset' && g.balances.length === 0) throw new InvalidGenesisError('a set network needs at least one writer: an account in genesis.balances')
  return g
}

export function networkId (g: Genesis): Hash {
  return sha256(encodeGenesis(g))
}

/** The network's fault model: the genesis's, or 'byzantine' where it names none. */
export function faultModel (g: Genesis): FaultModel {
  return g.faults ?? 'byzantine'
}

/**
 * Faulty validators tolerated among n. Byzantine: f = floor((n-1)/3). Crash-only: f =
 * floor((n-1)/2), every minority may be down.
 */
export function faultsTolerated (n: number, faults: FaultModel): number {
  return faults === 'crash' ? Math.floor((n - 1) / 2) : Math.floor((n - 1) / 3)
}

/**
 * Votes needed for a certificate. Byzantine: any two quorums must share an honest validator:
 * 2q - n > f, so q = floor((n+f)/2) + 1. For n = 3f+1 this is the familiar 2f+1; for other n it
 * is larger than 2f+1, which alone would let two quorums meet only in a Byzantine validator.
 * Crash-only: nobody lies, so sharing one validator is enough: a majority, q = floor(n/2) + 1,
 * reachable with f = floor((n-1)/2) down.
 */
export function quorumSize (n: number, faults: FaultModel): number {
  if (faults === 'crash') return Math.floor(n / 2) + 1
  return Math.floor((n + faultsTolerated(n, faults)) / 2) + 1
}

/**
 * Other validators a validator on a new data dir must hear say "no certified checkpoint" before
 * it votes. It may have signed one before its disk was lost, so only q - 1 of the n - 1 others
 * surely signed it and n - q may not have: n - q + 1 answers always reach a signer, and under
 * Byzantine faults f more, as f signers may say "none". (q - 1 + f, used before, is too few at
 * n = 3: one answer may come from the one validator that never signed.)
 */
export function probeAnswersNeeded (n: number, faults: FaultModel): number {
  const liars = faults === 'crash' ? 0 : faultsTolerated(n, faults)
  return Math.min(n - 1, n - quorumSize(n, faults) + 1 + liars)
}

/**
 * Validators of the previous epoch's n whose hand-off a validator of the next takes before it
 * votes: enough to meet every quorum that may have certified an op there, in one that does not
 * lie. Byzantine: a quorum (it meets another in more than f). Crash-only: n - q + 1 meet every
 * quorum, one fewer than a quorum at an even n, so one crash among only q voters of an epoch
 * does not stall the next.
 */
export function handoffsNeeded (n: number, faults: FaultModel): number {
  return faults === 'crash' ? n - quorumSize(n, faults) + 1 : quorumSize(n, faults)
}

export function validatorIds (g: Genesis): string[] {
  return g.validators.map(toHex)
}
