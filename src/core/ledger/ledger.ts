// The AT2 ledger: per-account balances, stream positions and uncited credits. Validity is decided
// here, at delivery, from nothing but the op, the account's own stream and the credits it cites,
// so every honest node reaches the same outcome whatever order the network delivered things in.
// Ops arrive already ordered by the delivery buffer: seq == nextSeq(account), deps delivered.

import { compareBytes, encode } from '../codec/canonical.js'
import type { Value } from '../codec/canonical.js'
import { bytesEqual } from '../codec/canonical.js'
import { sha256, toHex, fromHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { MAX_AMOUNT } from './body.js'
import type { Genesis } from './genesis.js'
import { slotKey } from './op.js'
import type { AccountId, SignedOp, Slot } from './op.js'

export type RejectReason =
  | 'insufficient-funds'
  | 'bad-dependency'
  | 'not-mint-authority'
  | 'supply-cap'

export type Outcome =
  | { readonly status: 'applied' }
  | { readonly status: 'rejected', readonly reason: RejectReason, readonly detail: string }

/** A credit to an account that it has not cited yet: claimable by listing `source` in an op's deps. */
export interface Credit {
  readonly source: Slot
  readonly amount: bigint
}

interface AccountState {
  readonly id: AccountId
  balance: bigint
  nextSeq: number
  /** Uncited credits, by slotKey of the op that made them. */
  readonly credits: Map<string, Credit>
}

export class Ledger {
  private readonly accounts = new Map<string, AccountState>()
  private supply = 0n

  constructor (private readonly genesis: Genesis) {
    for (const { account, amount } of genesis.balances) {
      this.state(account).balance = amount
      this.supply += amount
    }
  }

  nextSeq (account: AccountId): number {
    return this.accounts.get(toHex(account))?.nextSeq ?? 1
  }

  balance (account: AccountId): bigint {
    return this.accounts.get(toHex(account))?.balance ?? 0n
  }

  /** Credits the account may cite in its next op's deps, oldest source first. */
  uncitedCredits (account: AccountId): Credit[] {
    const a = this.accounts.get(toHex(account))
    if (a === undefined) return []
    return [...a.credits.values()].sort((x, y) => compareBytes(x.source.account, y.source.account) || x.source.seq - y.source.seq)
  }

  totalSupply (): bigint {
    return this.supply
  }

  /** Sum of every balance and every uncited credit: equals totalSupply() while money is conserved. */
  totalHeld (): bigint {
    let sum = 0n
    for (const a of this.accounts.values()) {
      sum += a.balance
      for (const c of a.credits.values()) sum += c.amount
    }
    return sum
  }

  /** Accounts that have a stream (nextSeq > 1), for anti-entropy frontiers. */
  * streams (): IterableIterator<{ account: AccountId, nextSeq: number }> {
    for (const a of this.accounts.values()) if (a.nextSeq > 1) yield { account: a.id, nextSeq: a.nextSeq }
  }

  /** Applies the next op of an account's stream; an invalid op still consumes its slot. */
  apply (op: SignedOp): Outcome {
    const sender = this.state(op.account)
    if (op.seq !== sender.nextSeq) throw new Error(`ledger: op ${slotKey(op.account, op.seq)} applied out of order (next is ${sender.nextSeq})`)
    sender.nextSeq++
    const outcome = this.decide(sender, op)
    return outcome
  }

  private decide (sender: AccountState, op: SignedOp): Outcome {
    // Every dep must name an uncited credit to this account; all are claimed together or none.
    let claimed = 0n
    const cited: string[] = []
    for (const dep of op.deps) {
      const key = slotKey(dep.account, dep.seq)
      const credit = sender.credits.get(key)
      if (credit === undefined) return reject('bad-dependency', `dep ${key} is not an uncited credit to this account`)
      claimed += credit.amount
      cited.push(key)
    }
    const body = op.body
    switch (body.kind) {
      case 'transfer': {
        if (sender.balance + claimed < body.amount) {
          return reject('insufficient-funds', `balance ${sender.balance} + cited ${claimed} < ${body.amount}`)
        }
        this.claim(sender, cited, claimed)
        sender.balance -= body.amount
        this.credit(body.to, op, body.amount)
        return APPLIED
      }
      case 'mint': {
        if (!bytesEqual(op.account, this.genesis.mintAuthority)) return reject('not-mint-authority', 'only the genesis mint authority may mint')
        if (this.supply + body.amount > MAX_AMOUNT) return reject('supply-cap', 'minting would exceed the supply cap of 2^64-1')
        this.claim(sender, cited, claimed)
        this.supply += body.amount
        this.credit(body.to, op, body.amount)
        return APPLIED
      }
    }
  }

  private claim (a: AccountState, cited: string[], amount: bigint): void {
    for (const key of cited) a.credits.delete(key)
    a.balance += amount
  }

  private credit (to: AccountId, op: SignedOp, amount: bigint): void {
    const key = slotKey(op.account, op.seq)
    const credits = this.state(to).credits
    const prior = credits.get(key)
    credits.set(key, { source: { account: op.account, seq: op.seq }, amount: (prior?.amount ?? 0n) + amount })
  }

  private state (account: AccountId): AccountState {
    const id = toHex(account)
    let a = this.accounts.get(id)
    if (a === undefined) {
      a = { id: fromHex(id), balance: 0n, nextSeq: 1, credits: new Map() }
      this.accounts.set(id, a)
    }
    return a
  }

  /** The canonical state: every account sorted by id, with balance, next seq and sorted credits. */
  canonicalState (): Value {
    const ids = [...this.accounts.keys()].sort()
    return {
      supply: this.supply,
      accounts: ids.map(id => {
        const a = this.accounts.get(id)!
        return [a.id, a.balance, a.nextSeq, this.uncitedCredits(a.id).map(c => [c.source.account, c.source.seq, c.amount])]
      })
    }
  }

  stateHash (): Hash {
    return sha256(encode(this.canonicalState()))
  }
}

const APPLIED: Outcome = { status: 'applied' }

function reject (reason: RejectReason, detail: string): Outcome {
  return { status: 'rejected', reason, detail }
}
