// The local chain of src/devtools with the accounts and keys contract tests have always used:
// alice, bob, carol and dave with 1,000,000 each. Drives a Ledger directly with signed ops (no
// network): deploy, call, execute, transfer; wallets cite all their uncited credits, as a real
// wallet would. The keys match the ones docs/contracts.md quotes, so they are seeded as before.

import type { Signer } from '../../src/core/crypto/signing.js'
import { LocalChain } from '../../src/devtools/local-chain.js'
import type { SeedFn } from '../../src/devtools/local-chain.js'
import { seedOf } from './localnet.js'

export type { Deployed } from '../../src/devtools/local-chain.js'

const harnessSeed: SeedFn = (role, name, i) => role === 'account' ? seedOf(`user-${name}`, i) : seedOf(role, 0)

export class ContractHarness extends LocalChain {
  /** The accounts by name, in the order given. */
  readonly users: Readonly<Record<string, Signer>>

  constructor (names: readonly string[] = ['alice', 'bob', 'carol', 'dave'], balance = 1_000_000n) {
    super({ network: 'contract-harness', accounts: names.map(n => [n, balance] as const), seed: harnessSeed })
    this.users = Object.fromEntries(names.map(n => [n, this.signer(n)]))
  }
}
