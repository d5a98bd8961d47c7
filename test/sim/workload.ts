// A workload: the genesis, every key, and every op the simulated wallets will submit, all fixed by
// one seed before the network runs. Because AT2 validity depends only on an account's own stream
// and the credits it cites, applying the script in script order to a reference ledger gives the
// exact state every honest node must reach, whatever order the network delivers things in.

import { sodiumScheme } from '../../src/native/sodium.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { makeGenesis, networkId } from '../../src/core/ledger/genesis.js'
import type { FaultModel, Genesis } from '../../src/core/ledger/genesis.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { signOp } from '../../src/core/ledger/op.js'
import type { SignedOp, Slot } from '../../src/core/ledger/op.js'
import type { OpBody } from '../../src/core/ledger/body.js'
import { contractAddress } from '../../src/core/ledger/contracts.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { Rng } from './rng.js'
import { makeSetWorkload } from './crdt.js'

export interface AccountScript {
  readonly signer: Signer
  /** The account's stream, seq 1..n, in order. */
  readonly ops: SignedOp[]
}

/** An account that signs two different ops for one slot and sends them to different nodes. */
export interface EquivocatorScript extends AccountScript {
  /** The two conflicting ops for slot `conflictSeq`; `ops` holds the honest prefix before it. */
  readonly conflicting: readonly [SignedOp, SignedOp]
  /** One more op after the conflict: deliverable only if one of the two was. */
  readonly after: SignedOp
}

/** A small pool contract for the simulator: deposits, withdrawals, and a payout that may happen once. */
export const POOL_CONTRACT = `
(defun init () (put "total" 0) (put "paid" false) true)
(defun deposit ()
  (put (caller) (+ (get (caller) 0) (value)))
  (put "total" (+ (get "total") (value))))
(defun withdraw (amount)
  (let ((have (get (caller) 0)))
    (enforce (<= amount have) "not enough deposited")
    (put (caller) (- have amount))
    (put "total" (- (get "total") amount))
    (transfer (caller) amount)
    amount))
(defun payout-once (to)
  (enforce (not (get "paid")) "already paid out")
  (enforce (> (get "total") 0) "nothing to pay")
  (put "paid" true)
  (put "total" (- (get "total") 1))
  (transfer to 1)
  true)
`

export interface PoolContract {
  readonly address: Uint8Array
  readonly deployedAt: Slot
  /** The account holding the sequencer key: the deployer. */
  readonly sequencer: Signer
  /** Every call slot made to payout-once: at most one may succeed. */
  readonly payoutCalls: readonly Slot[]
  /** Calls with deadline 1 that their callers cancel later: each is either run at seq 1 or cancelled. */
  readonly cancellable: readonly Slot[]
  /** With a sequencer rotation: the key the contract is rotated to while the network runs. */
  readonly nextSequencer?: Signer
}

/**
 * An account that rotates its key at `rotateSeq` while an attacker holding the retired key signs
 * other ops for the slots after it (`attack`). The honest ops after the rotation are signed by
 * the new key; no op of the retired key may ever be applied after the rotation.
 */
export interface KeyRotation {
  readonly account: Uint8Array
  readonly rotateSeq: number
  readonly retired: Signer
  readonly next: Signer
  readonly attack: readonly SignedOp[]
}

export interface Workload {
  readonly genesis: Genesis
  readonly networkId: Uint8Array
  readonly validatorSigners: readonly Signer[]
  readonly honest: readonly AccountScript[]
  readonly equivocators: readonly EquivocatorScript[]
  /** State hash after every honest op and every equivocator's prefix, in script order. */
  readonly referenceHash: string
  readonly referenceSupply: bigint
  /** Present when the workload exercises a contract; its executes are made while the network runs. */
  readonly contract?: PoolContract
  readonly keyRotation?: KeyRotation
}

export interface WorkloadShape {
  validators: number
  honestAccounts: number
  equivocators: number
  opsPerAccount: number
  contracts?: boolean
  /** One honest account rotates its key mid-stream, raced by ops of its retired key. */
  keyRotation?: boolean
  /** The pool contract's sequencer is rotated while the network runs (needs contracts). */
  sequencerRotation?: boolean
  /** The genesis's fault model (absent: byzantine, the genesis as before). */
  faults?: FaultModel
  /** An observed-remove set network instead of the ledger (crdt.ts). */
  algorithm?: 'orset'
}

export function makeWorkload (seed: number, shape: WorkloadShape): Workload {
  if (shape.algorithm === 'orset') return makeSetWorkload(seed, shape)
  const rng = new Rng(seed)
  const signer = (): Signer => signerFrom(sodiumScheme, rng.bytes(32))
  const validatorSigners = Array.from({ length: shape.validators }, signer)
  const mint = signer()
  const honestSigners = Array.from({ length: shape.honestAccounts }, signer)
  const equivocatorSigners = Array.from({ length: shape.equivocators }, signer)
  const genesis = makeGenesis({
    network: `sim-${seed}`,
    validators: validatorSigners.map(s => s.publicKey),
    mintAuthority: mint.publicKey,
    balances: [...honestSigners, ...equivocatorSigners].map(s => ({ account: s.publicKey, amount: BigInt(rng.int(50, 1000)) })),
    ...(shape.faults === undefined ? {} : { faults: shape.faults })
  })
  const netId = networkId(genesis)
  const ledger = new Ledger(genesis)
  const streams = new Map<string, AccountScript>()
  const honestScripts: AccountScript[] = [mint, ...honestSigners].map(s => ({ signer: s, ops: [] }))
  for (const s of honestScripts) streams.set(toHex(s.signer.publicKey), s)
  const honestKeys = honestScripts.map(s => s.signer.publicKey)
  const anyRecipient = (): Uint8Array => rng.chance(0.05) ? rng.bytes(32) : rng.pick(honestKeys.concat(equivocatorSigners.map(s => s.publicKey)))

  // the key each stream signs with: its own until it rotates
  const signingKey = new Map<AccountScript, Signer>()
  const append = (script: AccountScript, deps: Slot[], body: OpBody): SignedOp => {
    const op = signOp(signingKey.get(script) ?? script.signer, netId, { account: script.signer.publicKey, seq: script.ops.length + 1, deps, body })
    script.ops.push(op)
    ledger.apply(op)
    return op
  }

  let contract: PoolContract | undefined
  const payoutCalls: Slot[] = []
  const cancellable: Slot[] = []
  if (shape.contracts === true) {
    const deployer = honestScripts[1]!
    const op = append(deployer, [], { kind: 'deploy', code: POOL_CONTRACT, args: [], sequencer: null, gasLimit: 100_000 })
    contract = {
      address: contractAddress(op.account, op.seq),
      deployedAt: { account: op.account, seq: op.seq },
      sequencer: deployer.signer,
      payoutCalls,
      cancellable,
      ...(shape.sequencerRotation === true ? { nextSequencer: signer() } : {})
    }
  }
  // drawn only for rotation workloads, so every other seed's workload stays as it was
  const rotating = shape.keyRotation === true ? honestScripts[1 + rng.int(0, shape.honestAccounts - 1)]! : undefined
  const rotateAfter = rotating === undefined ? 0 : rng.int(0, 2)
  let keyRotation: KeyRotation | undefined
  const rotate = (script: AccountScript): KeyRotation => {
    const me = script.signer.publicKey
    const next = signer()
    const op = append(script, [], { kind: 'rotate-key', to: next.publicKey })
    signingKey.set(script, next)
    // the attacker empties the account with the retired key at the next slots: never applied to the reference
    const thief = rng.bytes(32)
    const amount = ledger.balance(me) > 0n ? ledger.balance(me) : 1n
    const attack = [1, 2, 3].map(k => signOp(script.signer, netId, { account: me, seq: op.seq + k, deps: [], body: { kind: 'transfer', to: thief, amount } }))
    return { account: me, rotateSeq: op.seq, retired: script.signer, next, attack }
  }
  // What validators see of an account's funds at every node, whatever the sequencer did: the
  // reference never executes, so a call queued here may have run there (Ledger.holdsValue counts it).
  const funded = (me: Uint8Array): boolean => me === mint.publicKey || ledger.balance(me) > 0n || ledger.uncitedCredits(me).length > 0

  // Honest streams, interleaved; deps cite only credits made by honest streams (always delivered).
  const total = shape.opsPerAccount * honestScripts.length
  for (let i = 0; i < total; i++) {
    const script = rng.pick(honestScripts)
    const me = script.signer.publicKey
    // validators take an account's next op only while it holds something (Ledger.holdsValue):
    // an honest wallet with nothing waits to be paid
    if (!funded(me)) continue
    if (script === rotating && keyRotation === undefined && script.ops.length >= rotateAfter) {
      keyRotation = rotate(script)
      continue
    }
    if (contract !== undefined && script.signer !== mint && rng.chance(0.4)) {
      // a call to the pool: value attached to deposits; calls cite the deploy to follow it
      const pick = rng.int(0, 9)
      const [fn, args, value]: [string, Value[], bigint] = pick < 5
        ? ['deposit', [], BigInt(rng.int(0, 20))]
        : pick < 8 ? ['withdraw', [BigInt(rng.int(1, 15))], 0n] : ['payout-once', [rng.pick(honestKeys)], 0n]
      const affordable = ledger.balance(me) >= value ? value : 0n
      // Some calls may run only at the contract's seq 1: the sequencer runs them there or never,
      // and their callers cancel them at the end. Seq 1 is the one slot the contract's stream is
      // sure to reach (any queued call makes the sequencer build it), so every cancel delivers.
      const deadline = rng.chance(0.25) ? { deadline: 1 } : {}
      const op = append(script, [contract.deployedAt], { kind: 'call', contract: contract.address, fn, args, value: affordable, gasLimit: rng.chance(0.2) ? 20 : 100_000, ...deadline })
      if (fn === 'payout-once') payoutCalls.push({ account: op.account, seq: op.seq })
      if (deadline.deadline !== undefined) cancellable.push({ account: op.account, seq: op.seq })
      continue
    }
    // after a key rotation, the retired key's holder may take (or split) the account's next slots:
    // nobody plans on credits from them
    const contested = (c: Slot): boolean => keyRotation !== undefined && toHex(c.account) === toHex(keyRotation.account) && c.seq > keyRotation.rotateSeq
    const credits = ledger.uncitedCredits(me).filter(c => streams.has(toHex(c.source.account)) && !contested(c.source))
    const deps = rng.shuffle(credits).slice(0, rng.int(0, 3)).map(c => c.source)
    if (rng.chance(0.04) && script.ops.length > 0) {
      // a dep that is not a credit to this account: the op must be rejected the same way everywhere
      const other = rng.pick(honestScripts)
      if (other.ops.length > 0) deps.push({ account: other.signer.publicKey, seq: rng.int(1, other.ops.length) })
    }
    const unique = dedupeSlots(deps)
    if (script.signer === mint) {
      append(script, unique, { kind: 'mint', to: rng.pick(honestKeys), amount: BigInt(rng.int(1, 500)) })
    } else {
      const claimed = credits.filter(c => unique.some(d => d.seq === c.source.seq && toHex(d.account) === toHex(c.source.account))).reduce((a, c) => a + c.amount, 0n)
      const available = ledger.balance(me) + claimed
      // mostly affordable transfers, some overdrafts that must be rejected
      const amount = rng.chance(0.1) || available === 0n ? available + BigInt(rng.int(1, 100)) : BigInt(rng.int(1, Number(available > 1000n ? 1000n : available)))
      append(script, unique, { kind: 'transfer', to: anyRecipient(), amount })
    }
  }

  if (rotating !== undefined && keyRotation === undefined && funded(rotating.signer.publicKey)) keyRotation = rotate(rotating)

  // Cancels come last in each caller's stream, so no later op was planned on the reference's
  // refund (which the network gives only if seq 1 left the call out). A caller that holds nothing
  // may have nothing at a node either, and validators would not bind its cancel: pay it 1 first.
  if (contract !== undefined) {
    const mintScript = honestScripts[0]!
    for (const script of honestScripts) {
      const me = script.signer.publicKey
      const mine = cancellable.filter(c => c.account === me)
      if (mine.length === 0) continue
      const deps: Slot[] = [{ account: contract.address, seq: 1 }]
      if (!funded(me)) {
        const pay = append(mintScript, [], { kind: 'mint', to: me, amount: 1n })
        deps.push({ account: pay.account, seq: pay.seq })
      }
      for (const call of mine) {
        append(script, [...deps], { kind: 'cancel', contract: contract.address, call: call.seq })
        deps.splice(1)
      }
    }
  }

  // Equivocators: an honest prefix, then two ops for one slot, then one more.
  const equivocators: EquivocatorScript[] = equivocatorSigners.map(s => {
    const script: AccountScript = { signer: s, ops: [] }
    const prefix = rng.int(0, 3)
    for (let i = 0; i < prefix; i++) append(script, [], { kind: 'transfer', to: rng.pick(honestKeys), amount: 1n })
    const seq = script.ops.length + 1
    const mk = (to: Uint8Array, amount: bigint, seqN: number): SignedOp => signOp(s, netId, { account: s.publicKey, seq: seqN, deps: [], body: { kind: 'transfer', to, amount } })
    const x = mk(rng.pick(honestKeys), 7n, seq)
    const y = mk(rng.pick(honestKeys), 9n, seq)
    return { ...script, conflicting: [x, y] as const, after: mk(rng.pick(honestKeys), 1n, seq + 1) }
  })

  return {
    genesis,
    networkId: netId,
    validatorSigners,
    honest: honestScripts,
    equivocators,
    referenceHash: toHex(ledger.stateHash()),
    referenceSupply: ledger.totalSupply(),
    ...(contract === undefined ? {} : { contract }),
    ...(keyRotation === undefined ? {} : { keyRotation })
  }
}

function dedupeSlots (slots: Slot[]): Slot[] {
  const seen = new Map<string, Slot>()
  for (const s of slots) seen.set(`${toHex(s.account)}:${s.seq}`, s)
  return [...seen.values()]
}
