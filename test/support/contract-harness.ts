// Drives a Ledger directly with signed ops (no network): deploy, call, execute, transfer. For
// contract tests that care about what a contract does, not how ops travel; wallets here cite all
// their uncited credits automatically, as a real wallet would.

import type { Value } from '../../src/core/codec/canonical.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { makeGenesis, networkId } from '../../src/core/ledger/genesis.js'
import type { Genesis } from '../../src/core/ledger/genesis.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import type { Outcome } from '../../src/core/ledger/ledger.js'
import { OP_LIMITS, signOp } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import type { CallOutcome } from '../../src/core/ledger/contracts.js'
import { ContractSequencer } from '../../src/core/ledger/sequencer.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { seedOf } from './localnet.js'

export interface Deployed { readonly address: Uint8Array, readonly deployedAt: Slot, readonly outcome: Outcome }

export class ContractHarness {
  readonly ledger: Ledger
  readonly genesis: Genesis
  readonly networkId: Uint8Array
  readonly users: Record<string, Signer>
  readonly mint: Signer
  private readonly sequencers = new Map<string, ContractSequencer>()
  readonly applied: Array<{ op: SignedOp, outcome: Outcome }> = []

  constructor (names: readonly string[] = ['alice', 'bob', 'carol', 'dave'], balance = 1_000_000n) {
    this.users = Object.fromEntries(names.map((n, i) => [n, signerFrom(sodiumScheme, seedOf(`user-${n}`, i))]))
    this.mint = signerFrom(sodiumScheme, seedOf('mint', 0))
    const genesis = this.genesis = makeGenesis({
      network: 'contract-harness',
      validators: [signerFrom(sodiumScheme, seedOf('validator', 0)).publicKey],
      mintAuthority: this.mint.publicKey,
      balances: Object.values(this.users).map(u => ({ account: u.publicKey, amount: balance }))
    })
    this.networkId = networkId(genesis)
    this.ledger = new Ledger(genesis)
  }

  key (name: string): Uint8Array {
    const u = this.users[name]
    if (u === undefined) throw new Error(`no user ${name}`)
    return u.publicKey
  }

  /** Signs and applies an op in `signer`'s stream (or `account`'s, for contracts), citing all uncited credits. */
  apply (signer: Signer, body: OpBody, ordering: Slot[] = [], account: Uint8Array = signer.publicKey): { op: SignedOp, outcome: Outcome } {
    // an ordering dep that is also a credit (a cancel citing a contract slot that paid it) is cited once
    const credits = this.ledger.uncitedCredits(account)
      .filter(c => !ordering.some(o => o.seq === c.source.seq && toHex(o.account) === toHex(c.source.account)))
      .slice(0, OP_LIMITS.maxDeps - ordering.length).map(c => c.source)
    const op = signOp(signer, this.networkId, { account, seq: this.ledger.nextSeq(account), deps: [...ordering, ...credits], body })
    const outcome = this.ledger.apply(op)
    this.applied.push({ op, outcome })
    return { op, outcome }
  }

  transfer (from: string, to: Uint8Array, amount: bigint): Outcome {
    return this.apply(this.users[from]!, { kind: 'transfer', to, amount }).outcome
  }

  deploy (from: string, code: string, args: Value[] = [], gasLimit = 1_000_000): Deployed {
    const { op, outcome } = this.apply(this.users[from]!, { kind: 'deploy', code, args, sequencer: null, gasLimit })
    return { address: contractAddress(op.account, op.seq), deployedAt: { account: op.account, seq: op.seq }, outcome }
  }

  /** Queues a call; returns its id (the caller's slot) and the Call op's own outcome. */
  call (from: string, contract: Deployed, fn: string, args: Value[] = [], value = 0n, gasLimit = 1_000_000, deadline?: number): { id: Slot, outcome: Outcome } {
    const body: OpBody = { kind: 'call', contract: contract.address, fn, args, value, gasLimit, ...(deadline === undefined ? {} : { deadline }) }
    const { op, outcome } = this.apply(this.users[from]!, body, [contract.deployedAt])
    return { id: { account: op.account, seq: op.seq }, outcome }
  }

  /** `from` takes back its call at seq `call`, citing the contract's stream at seq `cite`. */
  cancel (from: string, contract: Deployed, call: number, cite: number): { op: SignedOp, outcome: Outcome } {
    return this.apply(this.users[from]!, { kind: 'cancel', contract: contract.address, call }, cite > 0 ? [{ account: contract.address, seq: cite }] : [])
  }

  /** The sequencer signs an Execute of exactly these calls at the contract's next seq, claiming its credits. */
  executeCalls (contract: Deployed, calls: Slot[], time = 0): { op: SignedOp, outcome: Outcome } {
    const deployer = Object.values(this.users).find(u => toHex(u.publicKey) === toHex(contract.deployedAt.account))!
    return this.apply(deployer, { kind: 'execute', calls, time }, calls, contract.address)
  }

  /** The contract's sequencer (its deployer here) runs every queued call at `time`. */
  execute (contract: Deployed, time = 0): Outcome | undefined {
    const deployer = Object.values(this.users).find(u => toHex(u.publicKey) === toHex(contract.deployedAt.account))!
    let seq = this.sequencers.get(toHex(deployer.publicKey))
    if (seq === undefined) { seq = new ContractSequencer(deployer, this.networkId); this.sequencers.set(toHex(deployer.publicKey), seq) }
    const op = seq.next(this.ledger, contract.address, time)
    if (op === undefined) return undefined
    const outcome = this.ledger.apply(op)
    this.applied.push({ op, outcome })
    return outcome
  }

  /** Call and execute at once: the outcome of that call. */
  run (from: string, contract: Deployed, fn: string, args: Value[] = [], value = 0n, time = 0, gasLimit = 1_000_000): CallOutcome {
    const { id, outcome } = this.call(from, contract, fn, args, value, gasLimit)
    if (outcome.status !== 'applied') throw new Error(`call op rejected: ${outcome.detail}`)
    this.execute(contract, time)
    return this.ledger.callOutcome(id)!
  }

  /** Spendable balance plus uncited credits: what an account holds. */
  holdings (account: Uint8Array): bigint {
    return this.ledger.balance(account) + this.ledger.uncitedCredits(account).reduce((a, c) => a + c.amount, 0n)
  }
}
