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
  /**
   * The replicated algorithm (core/algorithm). Absent means the ledger, and is the only way to say
   * so: a genesis without it encodes as it always did, so existing network ids stay the same.
   * On a set network ('orset') the accounts of `balances` are the writers.
   */
  readonly algorithm?: Exclude<AlgorithmName, 'ledger'>
}

export const MAX_VALIDATORS = 256
const MAX_GENESIS_ACCOUNTS = 100_000

export function encodeGenesis (g: Genesis): Uint8Array {
  const value: Value = {
    network: g.network,
    validators: [...g.validators],
    mintAuthority: g.mintAuthority,
    balances: g.balances.map(b => [b.account, b.amount]),
    ...(g.algorithm === undefined ? {} : { algorithm: g.algorithm })
  }
  return encode(value)
}

export function decodeGenesis (bytes: Uint8Array): Genesis {
  try {
    const m = read.map(decode(bytes, { maxBytes: 16 * 1024 * 1024, maxDepth: 4, maxItems: MAX_GENESIS_ACCOUNTS }), 'genesis',
      ['network', 'validators', 'mintAuthority', 'balances', 'algorithm'])
    const algorithm = read.optional(m.algorithm, v => read.text(v, 'genesis.algorithm', 16))
    const g: Genesis = {
      network: read.text(m.network, 'genesis.network', 64),
      validators: read.list(m.validators, 'genesis.validators', MAX_VALIDATORS).map((v, i) => read.bytes(v, `genesis.validators[${i}]`, PUBLIC_KEY_BYTES)),
      mintAuthority: read.bytes(m.mintAuthority, 'genesis.mintAuthority', PUBLIC_KEY_BYTES),
      balances: read.list(m.balances, 'genesis.balances', MAX_GENESIS_ACCOUNTS).map((b, i) => {
        const pair = read.list(b, `genesis.balances[${i}]`, 2)
        return { account: read.bytes(pair[0], `genesis.balances[${i}].account`, PUBLIC_KEY_BYTES), amount: read.bigint(pair[1], `genesis.balances[${i}].amount`, 1n, MAX_AMOUNT) }
      }),
      ...(algorithm === undefined ? {} : { algorithm: algorithm as Exclude<AlgorithmName, 'ledger'> })
    }
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
  // 'ledger' is written by leaving the field out, so one network has one encoding
  if (g.algorithm !== undefined && (g.algorithm as string === 'ledger' || !ALGORITHMS.includes(g.algorithm))) throw new InvalidGenesisError(`genesis.algorithm must be one of ${ALGORITHMS.filter(a => a !== 'ledger').join(', ')} (omit it for the ledger)`)
  if (g.algorithm === 'orset' && g.balances.length === 0) throw new InvalidGenesisError('a set network needs at least one writer: an account in genesis.balances')
  return g
}

export function networkId (g: Genesis): Hash {
  return sha256(encodeGenesis(g))
}

/** Byzantine validators tolerated: f = floor((n-1)/3). */
export function faultsTolerated (n: number): number {
  return Math.floor((n - 1) / 3)
}

/**
 * Votes needed for a certificate. Any two quorums must share an honest validator:
 * 2q - n > f, so q = floor((n+f)/2) + 1. For n = 3f+1 this is the familiar 2f+1; for other n it
 * is larger than 2f+1, which alone would let two quorums meet only in a Byzantine validator.
 */
export function quorumSize (n: number): number {
  return Math.floor((n + faultsTolerated(n)) / 2) + 1
}

export function validatorIds (g: Genesis): string[] {
  return g.validators.map(toHex)
}
