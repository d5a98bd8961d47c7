// Genesis as a JSON file people can read and share: hex keys, decimal amounts. Parsed as
// untrusted input into the core's Genesis, which checks the rest.

import { fromHex, toHex } from '../core/crypto/hash.js'
import { InvalidGenesisError } from '../core/errors.js'
import { makeGenesis } from '../core/ledger/genesis.js'
import type { FaultModel, Genesis } from '../core/ledger/genesis.js'
import { ALGORITHMS } from '../core/algorithm/algorithm.js'
import type { AlgorithmName } from '../core/algorithm/algorithm.js'
import { readJsonFile } from './json-file.js'

export interface GenesisJson {
  network: string
  validators: string[]
  mintAuthority: string
  balances: Array<{ account: string, amount: string }>
  /** Absent: "byzantine" (docs/faults.md). */
  faults?: string
  /** The replicated algorithm (see core/algorithm); absent: the ledger. */
  algorithm?: string
}

const HEX32 = /^[0-9a-f]{64}$/

export function genesisFromJson (raw: unknown, where = 'genesis'): Genesis {
  const g = raw as Partial<GenesisJson>
  if (g === null || typeof g !== 'object') throw new InvalidGenesisError(`${where}: expected a JSON object`)
  if (typeof g.network !== 'string') throw new InvalidGenesisError(`${where}: "network" must be a string`)
  if (!Array.isArray(g.validators) || !g.validators.every(v => typeof v === 'string' && HEX32.test(v))) throw new InvalidGenesisError(`${where}: "validators" must be a list of 64-hex-digit keys`)
  if (typeof g.mintAuthority !== 'string' || !HEX32.test(g.mintAuthority)) throw new InvalidGenesisError(`${where}: "mintAuthority" must be a 64-hex-digit key`)
  if (!Array.isArray(g.balances)) throw new InvalidGenesisError(`${where}: "balances" must be a list`)
  const balances = g.balances.map((b, i) => {
    if (b === null || typeof b !== 'object' || typeof b.account !== 'string' || !HEX32.test(b.account) || typeof b.amount !== 'string' || !/^[0-9]{1,20}$/.test(b.amount)) {
      throw new InvalidGenesisError(`${where}: balances[${i}] must be {"account": hex key, "amount": decimal string}`)
    }
    return { account: fromHex(b.account), amount: BigInt(b.amount) }
  })
  if (g.faults !== undefined && typeof g.faults !== 'string') throw new InvalidGenesisError(`${where}: "faults" must be "byzantine" or "crash"`)
  if (g.algorithm !== undefined && !(ALGORITHMS as readonly unknown[]).includes(g.algorithm)) throw new InvalidGenesisError(`${where}: "algorithm" must be one of ${ALGORITHMS.join(', ')}`)
  const algorithm = g.algorithm as AlgorithmName | undefined
  return makeGenesis({ network: g.network, validators: g.validators.map(fromHex), mintAuthority: fromHex(g.mintAuthority), balances, ...(g.faults === undefined ? {} : { faults: g.faults as FaultModel }), ...(algorithm === undefined ? {} : { algorithm }) })
}

export function genesisToJson (g: Genesis): GenesisJson {
  return {
    network: g.network,
    validators: g.validators.map(toHex),
    mintAuthority: toHex(g.mintAuthority),
    balances: g.balances.map(b => ({ account: toHex(b.account), amount: b.amount.toString() })),
    ...(g.faults === undefined || g.faults === 'byzantine' ? {} : { faults: g.faults }),
    ...(g.algorithm === undefined ? {} : { algorithm: g.algorithm })
  }
}

export async function readGenesisFile (path: string): Promise<Genesis> {
  return genesisFromJson(await readJsonFile(path, 'genesis file', m => new InvalidGenesisError(m)), path)
}
