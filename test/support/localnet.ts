// A lossless in-process network of replicas: messages are delivered in FIFO order as soon as the
// caller runs the network. For unit tests that need a few nodes talking, and for the core
// throughput benchmark; the seeded simulator (test/sim) is the place for hostile schedules.

import { signerFrom } from '../../src/core/crypto/signing.js'
import type { SignatureScheme, Signer } from '../../src/core/crypto/signing.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { makeGenesis } from '../../src/core/ledger/genesis.js'
import type { FaultModel, Genesis } from '../../src/core/ledger/genesis.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import type { ReplicaOptions } from '../../src/core/broadcast/replica.js'
import type { Action, PersistRecord } from '../../src/core/broadcast/actions.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import type { CertifiedCheckpoint } from '../../src/core/checkpoint/keeper.js'
import { ActionExecutor } from '../../src/host/executor.js'
import type { ActionPorts } from '../../src/host/ports.js'

export function seedOf (label: string, i: number): Uint8Array {
  const seed = new Uint8Array(32)
  const text = new TextEncoder().encode(`${label}/${i}`)
  seed.set(text.subarray(0, 32))
  return seed
}

export interface LocalNetOptions {
  validators?: number
  /** Nodes with keys outside genesis (following as observers; a reconfiguration may add them). */
  observers?: number
  accounts?: number
  balance?: bigint
  scheme?: SignatureScheme
  replica?: Partial<ReplicaOptions>
  /** The genesis's fault model (absent: byzantine). */
  faults?: FaultModel
}

export class LocalNet {
  readonly genesis: Genesis
  readonly validatorKeys: Signer[]
  readonly accounts: Signer[]
  readonly mint: Signer
  readonly replicas: Replica[]
  readonly disks: PersistRecord[][]
  readonly delivered: Array<Array<Extract<Action, { type: 'deliver' }>>>
  readonly rejected: string[] = []
  /** Every checkpoint each node certified, in order. */
  readonly certified: CertifiedCheckpoint[][]
  /** Heights of checkpoints each node reported it cannot reach (LocalNet does not re-join). */
  readonly behind: number[][]
  private readonly executors: ActionExecutor[]
  private wire: Array<{ from: number, to: number, bytes: Uint8Array }> = []
  readonly scheme: SignatureScheme
  now = 0
  /** Messages for which this returns true are lost on the wire (a partition, a slow link). */
  drop: ((from: number, to: number, bytes: Uint8Array) => boolean) | undefined

  constructor (opts: LocalNetOptions = {}) {
    this.scheme = opts.scheme ?? sodiumScheme
    const n = opts.validators ?? 4
    const keys = Array.from({ length: n + (opts.observers ?? 0) }, (_, i) => signerFrom(this.scheme, seedOf('validator', i)))
    this.validatorKeys = keys.slice(0, n)
    this.accounts = Array.from({ length: opts.accounts ?? 3 }, (_, i) => signerFrom(this.scheme, seedOf('account', i)))
    this.mint = signerFrom(this.scheme, seedOf('mint', 0))
    this.genesis = makeGenesis({
      network: 'localnet',
      validators: this.validatorKeys.map(k => k.publicKey),
      mintAuthority: this.mint.publicKey,
      balances: this.accounts.map(a => ({ account: a.publicKey, amount: opts.balance ?? 1000n })),
      ...(opts.faults === undefined ? {} : { faults: opts.faults })
    })
    // observers hear everyone; validators keep their default peers (the current set)
    const everyone = keys.map(k => toHex(k.publicKey))
    this.replicas = keys.map((signer, i) => new Replica({ genesis: this.genesis, scheme: this.scheme, signer, ...(i >= n ? { peers: everyone } : {}), ...opts.replica }))
    this.disks = this.replicas.map(() => [])
    this.delivered = this.replicas.map(() => [])
    this.certified = this.replicas.map(() => [])
    this.behind = this.replicas.map(() => [])
    this.executors = this.replicas.map((_, i) => new ActionExecutor(this.ports(i), err => { throw err }))
  }

  get networkId (): Uint8Array {
    return this.replicas[0]!.networkId
  }

  indexOf (id: string): number {
    return this.replicas.findIndex(r => r.id === id)
  }

  submit (node: number, ops: readonly SignedOp[]): ReturnType<Replica['submit']> {
    const res = this.replicas[node]!.submit(ops.map(o => o.bytes), this.now)
    this.execute(node, res.actions)
    return res
  }

  /** Hands raw bytes to a node as if a peer sent them. */
  inject (from: string, to: number, bytes: Uint8Array): ReturnType<Replica['receive']> {
    const res = this.replicas[to]!.receive(from, bytes, this.now)
    this.execute(to, res.actions)
    return res
  }

  /** Runs a node's actions now (every port here is synchronous); a port's error is thrown. */
  execute (node: number, actions: readonly Action[]): void {
    this.executors[node]!.execute(actions)
  }

  private ports (node: number): ActionPorts {
    return {
      network: {
        send: (to, bytes) => {
          const j = this.indexOf(to)
          if (j >= 0 && this.drop?.(node, j, bytes) !== true) this.wire.push({ from: node, to: j, bytes })
        },
        publish: bytes => {
          for (let j = 0; j < this.replicas.length; j++) if (j !== node && this.drop?.(node, j, bytes) !== true) this.wire.push({ from: node, to: j, bytes })
        }
      },
      store: { persist: records => { this.disks[node]!.push(...records) } },
      deliveries: {
        delivered: (op, outcome, cert) => { this.delivered[node]!.push({ type: 'deliver', op, outcome, cert }) },
        dropped: () => {}
      },
      checkpoints: { certified: cp => { this.certified[node]!.push(cp) } },
      sync: { behind: height => { this.behind[node]!.push(height) } },
      misbehaviour: { validatorVotedTwice: () => {} },
      epochs: { changed: () => {} }
    }
  }

  /** Delivers messages until none is left (ticking once time `advance` has passed, if given). */
  run (maxMessages = 1_000_000): number {
    let count = 0
    // FIFO without Array.shift (linear per call on long queues)
    while (this.wire.length > 0 && count < maxMessages) {
      const batch = this.wire
      this.wire = []
      for (const m of batch) {
        count++
        const res = this.replicas[m.to]!.receive(this.replicas[m.from]!.id, m.bytes, this.now)
        if (res.verdict === 'reject') this.rejected.push(res.reason ?? 'rejected')
        this.execute(m.to, res.actions)
      }
    }
    return count
  }

  tick (advance: number): void {
    this.now += advance
    this.replicas.forEach((r, i) => this.execute(i, r.tick(this.now)))
  }

  /** Runs and ticks until the wire is empty after a tick, up to `rounds` ticks. */
  settle (rounds = 20, advance = 50): void {
    this.run()
    for (let i = 0; i < rounds; i++) {
      this.tick(advance)
      if (this.run() === 0 && this.replicas.every(r => !r.busy)) return
    }
  }

  /** Proposes `validators` at node `by`, approves it at `approvers`, lets the network settle; the proposal's id. */
  reconfigure (by: number, validators: Uint8Array[], approvers: readonly number[]): string {
    const { id, actions } = this.replicas[by]!.proposeReconfiguration(validators, this.now)
    this.execute(by, actions)
    this.run()
    for (const i of approvers) {
      const res = this.replicas[i]!.approveReconfiguration(id.slice(0, 12), this.now)
      this.execute(i, res.actions)
      this.run()
    }
    this.settle()
    return id
  }

  stateHashes (): string[] {
    return this.replicas.map(r => toHex(r.ledger.stateHash()))
  }
}
