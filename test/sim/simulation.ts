// The seeded network simulator. It runs n replicas of the real core (and up to f Byzantine
// validators) over a simulated network that reorders, delays, duplicates and drops messages,
// partitions and heals, and crashes nodes (sometimes half-way through executing their actions; a
// restarted node keeps only what it persisted). Wallets submit a pre-generated workload and
// resubmit what is not delivered. Safety is checked on every delivery and invariant sweep;
// liveness and convergence once the network has healed.

import { encode } from '../../src/core/codec/canonical.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { faultsTolerated, quorumSize } from '../../src/core/ledger/genesis.js'
import type { FaultModel } from '../../src/core/ledger/genesis.js'
import { decodeOp, signOp, slotKey, verifyOpSignature } from '../../src/core/ledger/op.js'
import type { Outcome } from '../../src/core/ledger/ledger.js'
import { signRotationRequest } from '../../src/core/ledger/rotation.js'
import { ContractSequencer } from '../../src/core/ledger/sequencer.js'
import type { SignedOp } from '../../src/core/ledger/op.js'
import { Replica } from '../../src/core/broadcast/replica.js'
import type { Action, PeerId, PersistRecord } from '../../src/core/broadcast/actions.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import type { CertifiedCheckpoint } from '../../src/core/checkpoint/keeper.js'
import { Joiner, rebuildCheckpoint } from '../../src/core/checkpoint/joiner.js'
import { ActionExecutor } from '../../src/host/executor.js'
import type { ActionPorts } from '../../src/host/ports.js'
import { checkVoteEvidence } from '../../src/core/broadcast/evidence.js'
import type { VoteEvidence } from '../../src/core/broadcast/evidence.js'
import { decodeMessage } from '../../src/core/broadcast/messages.js'
import type { Divergence } from '../../src/core/checkpoint/keeper.js'
import { Ledger } from '../../src/core/ledger/ledger.js'
import { ByzantineValidator } from './byzantine.js'
import { damageDisk } from './divergence.js'
import { EventQueue } from './events.js'
import { CrashFault, SimulatedCrash } from './faults.js'
import { Rng } from './rng.js'
import { HostileClients, SPLIT_RUN } from './flood.js'
import { makeWorkload } from './workload.js'
import { SimTrace } from './chart-trace.js'
import type { TraceEvent } from '../../src/node/trace.js'
import { nodeSet, referenceSet } from './crdt.js'
import type { ORSet } from '../../src/core/algorithm/orset.js'
import type { AccountScript, Workload } from './workload.js'

export interface Scenario {
  readonly seed: number
  /** Fixes the workload (keys, genesis, ops) apart from the schedule; defaults to `seed`. */
  readonly workloadSeed: number
  readonly validators: number
  /** The genesis's fault model: 'crash' sizes quorums for crashes only (docs/faults.md). */
  readonly faults: FaultModel
  /** Indexes of Byzantine validators (at most f). */
  readonly byzantine: readonly number[]
  /** Indexes of honest validators that may crash (and restart) before the heal. */
  readonly crashProne: readonly number[]
  readonly crashChance: number
  /**
   * Honest genesis validators that crash at some time before the heal and never come back (which
   * and when: drawn from the seed). The others must finish without them.
   */
  readonly deadForGood: number
  readonly dropRate: number
  readonly duplicateRate: number
  readonly maxDelay: number
  readonly partitions: ReadonlyArray<{ start: number, end: number, side: readonly number[] }>
  readonly healAt: number
  /** Give up on liveness this long after the heal. */
  readonly settle: number
  readonly tickEvery: number
  readonly honestAccounts: number
  readonly equivocators: number
  readonly opsPerAccount: number
  readonly maxBatchOps: number
  /** Deploy a pool contract, call it from every wallet, and sequence it while the network runs. */
  readonly contracts: boolean
  /** Ops between checkpoints (0: none), and certified checkpoints of history kept behind the latest. */
  readonly checkpointInterval: number
  readonly checkpointRetain: number
  /** Hostile clients with no funds that try to make validators hold their ops (flood.ts). */
  readonly floodClients: number
  /** Honest nodes outside genesis (indexes validators..validators+observers-1): they follow, and may be added. */
  readonly observers: number
  /**
   * Changes of the validator set, one epoch each, in order: at `at` (or once the previous one took
   * effect) a voting validator proposes adding or removing the node with that index, and the other
   * honest validators approve it after a while.
   */
  readonly reconfigurations: ReadonlyArray<{ readonly at: number, readonly add?: number, readonly remove?: number }>
  /**
   * 'key': an account rotates its key while an attacker with the retired key races it;
   * 'sequencer': the pool contract's sequencer is rotated while the old one keeps signing.
   */
  readonly rotation: 'none' | 'key' | 'sequencer'
  /** A sequencer rotation carries the deployer's request (else: validators wait for silence). */
  readonly rotationRequest: boolean
  readonly sequencerSilence: number
  /** At `at`, this honest validator restarts on a damaged disk (divergence.ts): it must halt. */
  readonly corrupt?: { readonly node: number, readonly at: number }
  /** The replicated algorithm (not drawn: only the crdt profile sets it). */
  readonly algorithm?: 'orset'
}

/** Every knob of a run derived from one seed, so a seed alone replays it. */
export function scenarioFor (seed: number, overrides: Partial<Scenario> = {}): Scenario {
  const rng = new Rng(seed ^ 0x5eed)
  const validators = rng.pick([4, 4, 4, 5, 6, 7])
  const f = faultsTolerated(validators, 'byzantine')
  const order = rng.shuffle(Array.from({ length: validators }, (_, i) => i))
  const byzantine = order.slice(0, rng.int(0, f))
  const crashProne = order.slice(byzantine.length, byzantine.length + rng.int(0, 2))
  const healAt = rng.int(2000, 6000)
  const partitions = Array.from({ length: rng.int(0, 2) }, () => {
    const start = rng.int(0, healAt - 500)
    const side = rng.shuffle([...order]).slice(0, rng.int(1, validators - 1))
    return { start, end: Math.min(healAt, start + rng.int(200, 2000)), side }
  })
  return {
    seed,
    workloadSeed: seed,
    validators,
    byzantine,
    crashProne,
    crashChance: rng.pick([0, 0.002, 0.01]),
    dropRate: rng.pick([0, 0.05, 0.2, 0.4]),
    duplicateRate: rng.pick([0, 0.05, 0.2]),
    maxDelay: rng.pick([2, 20, 100, 300]),
    partitions,
    healAt,
    settle: 60_000,
    tickEvery: rng.pick([10, 25, 50]),
    honestAccounts: rng.int(2, 5),
    equivocators: rng.int(0, 2),
    opsPerAccount: rng.int(2, 10),
    maxBatchOps: rng.pick([1, 4, 64]),
    contracts: rng.chance(0.3),
    checkpointInterval: rng.pick([0, 3, 5, 8]),
    checkpointRetain: rng.int(0, 2),
    // drawn last, so adding it left every earlier knob of every seed as it was
    floodClients: rng.int(0, 1),
    // not drawn: every earlier seed stays as it was
    observers: 0,
    reconfigurations: [],
    // not drawn: only the rotation profiles set them, so every other seed runs as before
    rotation: 'none',
    rotationRequest: true,
    sequencerSilence: 60_000,
    // not drawn: only the crash-only profile sets them
    faults: 'byzantine',
    deadForGood: 0,
    ...overrides
  }
}

/** How long checkpoints may trail once every op is delivered (simulated ms). */
const CHECKPOINT_GRACE = 20_000

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation'
}

/** A node holds more for hostile inputs than their bound allows. */
export class ResourceViolation extends Error {
  override readonly name = 'ResourceViolation'
}

export class LivenessViolation extends Error {
  override readonly name = 'LivenessViolation'
}

export interface SimReport {
  readonly scenario: Scenario
  readonly finishedAt: number
  readonly messages: number
  readonly dropped: number
  readonly rejected: number
  readonly crashes: number
  /** Validators that died for good (Scenario.deadForGood). */
  readonly dead: readonly number[]
  readonly delivered: number
  /** Checkpoints certified (counted at every node that certified one), and snapshot re-joins. */
  readonly checkpoints: number
  readonly rejoins: number
  /** Proofs that a (Byzantine) validator voted for two ops at one slot, recorded at honest nodes. */
  readonly evidence: number
  /**
   * Intervals of ops the most lagging honest base ended behind what it delivered (0 without
   * checkpoints); at most 1, or the run fails (see checkpointsCaughtUp).
   */
  readonly checkpointLag: number
  readonly stateHash: string
  readonly referenceHash: string
  readonly equivocationsDelivered: number
  readonly conflictsProven: number
  /** Each honest node's id, delivered count and state hash at the end. */
  readonly nodes: ReadonlyArray<{ id: string, delivered: number, stateHash: string }>
  /** The final ledger (the same at every honest node): account, balance, uncited credits, next seq. */
  readonly accounts: ReadonlyArray<{ account: string, balance: bigint, credits: bigint, nextSeq: number }>
  readonly supply: bigint
  /** Contract calls executed (ok / failed and refunded) and executes delivered, when the run has a contract. */
  readonly contractCalls?: { ok: number, failed: number, executes: number, payouts: number }
}

type SimEvent =
  | { kind: 'msg', from: number, to: number, bytes: Uint8Array }
  | { kind: 'tick', node: number }
  | { kind: 'submit', account: number, op: number }
  | { kind: 'equivocate', account: number }
  | { kind: 'wallet', account: number }
  | { kind: 'restart', node: number }
  /** A validator crashes and never comes back (Scenario.deadForGood). */
  | { kind: 'die', node: number }
  /** A downloaded snapshot is installed: the node kept taking inputs while it downloaded. */
  | { kind: 'install', node: number, life: number, cp: CertifiedCheckpoint, epochs: readonly Uint8Array[] }
  | { kind: 'heal' }
  | { kind: 'check' }
  | { kind: 'sequence' }
  | { kind: 'flood' }
  | { kind: 'reconfigure', index: number }
  | { kind: 'approve', node: number, id: string, epoch: number, tries: number }
  /** The holder of a retired key submits its ops for the slots after the rotation. */
  | { kind: 'attack' }
  /** The new sequencer's wallet submits (or rebuilds) the rotate-sequencer op. */
  | { kind: 'rotate' }
  /** The old sequencer keeps signing Executes after the rotation. */
  | { kind: 'rogue' }
  /** A validator's stored state is damaged and it restarts from it (scenario.corrupt). */
  | { kind: 'corrupt' }

interface HonestNode {
  readonly index: number
  readonly id: PeerId
  replica: Replica | undefined
  /** Runs this replica's actions: a new one per boot, stopped by a crash. */
  executor: ActionExecutor | undefined
  /** Kills the node at a chosen action (crash-prone nodes, before the heal). */
  readonly fault: CrashFault
  /** A `behind` action asked for a snapshot: fetched once the actions of that input have run. */
  catchUpWanted: boolean
  /** A snapshot download is under way (one at a time, as in the node). */
  joining: boolean
  /** Counts boots and crashes: an install meant for an earlier life of the node is dropped. */
  life: number
  disk: PersistRecord[]
  /** The latest certified checkpoint it stored, with its snapshot. */
  checkpoint?: CertifiedCheckpoint
}

export class Simulation {
  private readonly rng: Rng
  private readonly queue = new EventQueue<SimEvent>()
  private readonly workload: Workload
  private readonly ids: PeerId[]
  /** Keys of every node: genesis validators, then observers. */
  private readonly signers: Signer[]
  private readonly honest = new Map<number, HonestNode>()
  private readonly byzantine = new Map<number, ByzantineValidator>()
  /** Every slot delivered anywhere, with the op hash: two different hashes is a safety violation. */
  private readonly deliveredSlots = new Map<string, string>()
  /** Which node proposed each change of the scenario (it proposes again if that proposal is lost). */
  private readonly proposedBy = new Map<number, number>()
  /** Every epoch certified anywhere, with its id. */
  private readonly epochIds = new Map<number, string>()
  /** Every height certified anywhere, with its root. */
  private readonly certifiedRoots = new Map<number, string>()
  /** Per honest validator, over its whole life (restarts and re-joins too): every slot it bound or delivered, with the op. */
  private readonly promised = new Map<number, Map<string, { bound?: string, delivered?: string }>>()
  /** The first certified checkpoint seen: what a sybil peer offers a re-joining node as stale bait. */
  private oldestCertified: CertifiedCheckpoint | undefined
  private readonly wallets: AccountScript[]
  private now = 0
  private healed = false
  /** When checkpoints must have caught up with deliveries (set once every op is delivered). */
  private graceUntil: number | undefined
  private stats = { messages: 0, dropped: 0, rejected: 0, crashes: 0, delivered: 0, checkpoints: 0, rejoins: 0, evidence: 0 }
  private readonly trace: ((line: string) => void) | undefined
  private readonly sequencer: ContractSequencer | undefined
  private readonly flood: HostileClients | undefined
  /** Sequencer rotation: the new sequencer, its rotation op (one per slot, never two), and the calls executed so far. */
  private readonly nextSequencer: ContractSequencer | undefined
  private rotationOp: SignedOp | undefined
  /** The last slot of the contract the old sequencer's key signed an Execute for (sequencing, or rogue). */
  private oldKeySignedThrough = 0
  private readonly executedCalls = new Map<string, string>()
  /** Per honest node, the key in force per rotated account, from the rotations it delivered (this life). */
  private readonly signingKeys = new Map<number, Map<string, Uint8Array>>()
  /** Validators that died for good (or will), with when: never restarted. */
  private readonly deaths = new Map<number, number>()
  private readonly dead = new Set<number>()
  /** The validator restarted on a damaged disk, and when it halted (scenario.corrupt). */
  private corrupted: { readonly node: HonestNode, detectedAt?: number } | undefined

  /** Trace events for a chart (chart-trace.ts), when asked for. */
  readonly chart: SimTrace | undefined

  constructor (readonly scenario: Scenario, trace?: (line: string) => void, chart = false) {
    this.trace = trace
    this.chart = chart ? new SimTrace(() => this.now) : undefined
    this.rng = new Rng(scenario.seed)
    this.workload = makeWorkload(scenario.workloadSeed, {
      validators: scenario.validators,
      honestAccounts: scenario.honestAccounts,
      equivocators: scenario.equivocators,
      opsPerAccount: scenario.opsPerAccount,
      contracts: scenario.contracts,
      keyRotation: scenario.rotation === 'key',
      sequencerRotation: scenario.rotation === 'sequencer',
      ...(scenario.faults === 'byzantine' ? {} : { faults: scenario.faults }),
      ...(scenario.algorithm === undefined ? {} : { algorithm: scenario.algorithm })
    })
    this.sequencer = this.workload.contract === undefined ? undefined : new ContractSequencer(this.workload.contract.sequencer, this.workload.networkId)
    // observers' keys come from their own stream, so adding them changes nothing else of a seed
    const observerRng = new Rng(scenario.seed ^ 0x0b5e)
    this.signers = [...this.workload.validatorSigners, ...Array.from({ length: scenario.observers }, () => signerFrom(sodiumScheme, observerRng.bytes(32)))]
    this.ids = this.signers.map(s => toHex(s.publicKey))
    const next = this.workload.contract?.nextSequencer
    this.nextSequencer = next === undefined ? undefined : new ContractSequencer(next, this.workload.networkId)
    this.wallets = [...this.workload.honest, ...this.workload.equivocators]
    const attackRng = this.rng.fork()
    for (let i = 0; i < scenario.validators; i++) {
      if (scenario.byzantine.includes(i)) {
        const outsider = signerFrom(sodiumScheme, attackRng.bytes(32))
        this.byzantine.set(i, new ByzantineValidator(this.workload.validatorSigners[i]!, outsider, this.workload.networkId, this.ids.filter((_, j) => j !== i), quorumSize(scenario.validators, scenario.faults), attackRng.fork()))
      } else {
        const node: HonestNode = { index: i, id: this.ids[i]!, replica: undefined, executor: undefined, fault: new CrashFault(), catchUpWanted: false, joining: false, life: 0, disk: [] }
        this.honest.set(i, node)
        this.boot(node)
      }
    }
    for (let i = scenario.validators; i < this.ids.length; i++) {
      const node: HonestNode = { index: i, id: this.ids[i]!, replica: undefined, executor: undefined, fault: new CrashFault(), catchUpWanted: false, joining: false, life: 0, disk: [] }
      this.honest.set(i, node)
      this.boot(node)
    }
    this.flood = scenario.floodClients > 0 ? new HostileClients(this.workload, this.rng.fork()) : undefined
    // from their own stream, so that runs without deaths draw as before
    if (scenario.deadForGood > 0) {
      const deathRng = new Rng(scenario.seed ^ 0xdead)
      const mortal = deathRng.shuffle([...this.honest.keys()].filter(i => i < scenario.validators))
      for (const i of mortal.slice(0, scenario.deadForGood)) this.deaths.set(i, deathRng.int(0, scenario.healAt - 1))
    }
    if (this.chart !== undefined) this.traceSetup()
  }

  run (): SimReport {
    const s = this.scenario
    for (let i = 0; i < this.ids.length; i++) this.queue.push(this.rng.int(0, s.tickEvery), { kind: 'tick', node: i })
    s.reconfigurations.forEach((r, index) => this.queue.push(r.at, { kind: 'reconfigure', index }))
    for (const [node, at] of this.deaths) this.queue.push(at, { kind: 'die', node })
    this.workload.honest.forEach((script, a) => {
      let at = this.rng.int(0, 500)
      script.ops.forEach((_, k) => {
        this.queue.push(at, { kind: 'submit', account: a, op: k })
        at += this.rng.int(0, 150)
      })
    })
    this.workload.equivocators.forEach((_, e) => this.queue.push(this.rng.int(0, 1000), { kind: 'equivocate', account: this.workload.honest.length + e }))
    this.wallets.forEach((_, a) => this.queue.push(1500 + this.rng.int(0, 500), { kind: 'wallet', account: a }))
    this.queue.push(s.healAt, { kind: 'heal' })
    this.queue.push(250, { kind: 'check' })
    if (this.sequencer !== undefined) this.queue.push(300, { kind: 'sequence' })
    for (let c = 0; c < s.floodClients; c++) this.queue.push(this.rng.int(0, 1000), { kind: 'flood' })
    if (this.workload.keyRotation !== undefined) for (let k = 0; k < 4; k++) this.queue.push(this.rng.int(0, 2500), { kind: 'attack' })
    if (s.corrupt !== undefined) this.queue.push(s.corrupt.at, { kind: 'corrupt' })
    if (this.nextSequencer !== undefined) {
      this.queue.push(this.rng.int(300, 1500), { kind: 'rotate' })
      this.queue.push(this.rng.int(300, 1500), { kind: 'rogue' })
    }

    const deadline = s.healAt + s.settle
    for (let e = this.queue.pop(); e !== undefined; e = this.queue.pop()) {
      this.now = e.at
      if (this.now > deadline) break
      if (this.step(e.event)) return this.report()
    }
    throw new LivenessViolation(`not every honest op was delivered at every honest node ${s.settle} ms after the network healed\n${this.progress()}`)
  }

  // ---------------------------------------------------------------------------------------------

  /** Returns true when the run is complete (healed, everything delivered, invariants hold). */
  private step (e: SimEvent): boolean {
    switch (e.kind) {
      case 'tick': {
        const node = this.honest.get(e.node)
        if (node?.replica !== undefined) this.execute(node, node.replica.tick(this.now))
        const byz = this.byzantine.get(e.node)
        if (byz !== undefined) {
          // it votes in the epoch the honest nodes are in, removed or not
          byz.epoch = Math.max(0, ...this.upNodes().map(r => r.epoch.number))
          byz.tick(this.outbox(e.node))
        }
        this.queue.push(this.now + this.scenario.tickEvery, e)
        return false
      }
      case 'msg': {
        this.deliverMessage(e.from, e.to, e.bytes)
        return false
      }
      case 'submit': {
        const op = this.wallets[e.account]!.ops[e.op]!
        this.submitTo(this.rng.int(0, this.scenario.validators - 1), [op])
        return false
      }
      case 'equivocate': {
        // the honest prefix goes through one node; the two conflicting ops through two others
        const script = this.workload.equivocators[e.account - this.workload.honest.length]!
        if (script.ops.length > 0) this.submitTo(this.rng.int(0, this.scenario.validators - 1), script.ops)
        const [x, y] = script.conflicting
        const a = this.rng.int(0, this.scenario.validators - 1)
        const b = (a + this.rng.int(1, this.scenario.validators - 1)) % this.scenario.validators
        this.submitTo(a, [x, script.after])
        this.submitTo(b, [y])
        return false
      }
      case 'wallet': {
        this.walletRetry(e.account)
        this.queue.push(this.now + 1500 + this.rng.int(0, 1000), e)
        return false
      }
      case 'restart': {
        const node = this.honest.get(e.node)!
        if (node.replica === undefined && !this.dead.has(e.node)) this.boot(node)
        return false
      }
      case 'die': {
        this.dead.add(e.node)
        const node = this.honest.get(e.node)!
        if (node.replica !== undefined) this.crash(node)
        this.log(`t=${this.now} node ${e.node} is gone for good`)
        return false
      }
      case 'install': {
        const node = this.honest.get(e.node)!
        if (node.life === e.life) this.install(node, e.cp, e.epochs)
        return false
      }
      case 'heal': {
        this.healed = true
        this.chart?.node(0).local({ ev: 'fault', text: 'network healed' })
        for (const node of this.honest.values()) if (node.replica === undefined && !this.dead.has(node.index)) this.boot(node)
        return false
      }
      case 'sequence': {
        // the deployer's wallet holds the sequencer key: it turns queued calls into Execute ops
        const up = [...this.honest.values()].filter(n => n.replica !== undefined)
        const contract = this.workload.contract!
        // without the deployer's request the old sequencer dies once the rotation begins (silence is what lets it through)
        const dead = this.rotationOp !== undefined && !this.scenario.rotationRequest
        if (up.length > 0 && !dead) {
          const op = this.sequencer!.next(this.rng.pick(up).replica!.ledger, contract.address, this.now)
          // the deployer asked the new sequencer to take that slot: it signs no Execute there or
          // after (two keys' ops for one slot could split it for ever, like an equivocation)
          const requested = this.rotationOp !== undefined && op !== undefined && op.seq >= this.rotationOp.seq
          if (op !== undefined && !requested) {
            this.oldKeySignedThrough = Math.max(this.oldKeySignedThrough, op.seq)
            this.submitTo(this.rng.int(0, this.scenario.validators - 1), [op])
          }
        }
        // the new sequencer sequences wherever the rotation is delivered
        if (up.length > 0 && this.nextSequencer !== undefined) {
          const op = this.nextSequencer.next(this.rng.pick(up).replica!.ledger, contract.address, this.now)
          if (op !== undefined) this.submitTo(this.rng.int(0, this.scenario.validators - 1), [op])
        }
        this.queue.push(this.now + this.rng.int(150, 400), e)
        return false
      }
      case 'attack': {
        // submitted through a random node: one behind the rotation takes them and asks validators
        // with the rotation itself in front (it is public once proposed), so a batch binds both
        const rotation = this.workload.keyRotation!
        const script = this.workload.honest.find(w => w.signer.publicKey === rotation.account)!
        this.submitTo(this.rng.int(0, this.scenario.validators - 1), [...script.ops.slice(0, rotation.rotateSeq), ...rotation.attack])
        return false
      }
      case 'rotate': this.rotateSequencer(); return false
      case 'rogue': this.rogueExecute(); return false
      case 'corrupt': this.corrupt(); return false
      case 'flood': {
        this.hostileClient()
        this.queue.push(this.now + this.rng.int(200, 800), e)
        return false
      }
      case 'reconfigure': {
        this.reconfigure(e.index)
        return false
      }
      case 'approve': {
        this.approve(e)
        return false
      }
      case 'check': {
        this.checkInvariants()
        this.queue.push(this.now + 250, e)
        return this.healed && this.complete() && this.checkpointsCaughtUp()
      }
    }
  }

  /**
   * Starts change `index` of the scenario: a voting validator of the current epoch proposes it;
   * the other honest nodes approve in their own time. Waits for the previous change first.
   */
  private reconfigure (index: number): void {
    const change = this.scenario.reconfigurations[index]!
    const epoch = Math.max(...this.upNodes().map(r => r.epoch.number))
    if (epoch > index) return // done (the proposal went through already)
    // the operator who proposed it before asks again (its approval may be on disk); else another
    const voters = this.rng.shuffle([...this.honest.values()]).filter(n => n.replica?.votes === true && n.replica.epoch.number === index)
    const earlier = this.proposedBy.get(index)
    const proposer = epoch < index ? undefined : (voters.find(n => n.index === earlier) ?? voters[0])
    if (proposer === undefined) {
      this.queue.push(this.now + 300, { kind: 'reconfigure', index })
      return
    }
    const r = proposer.replica!
    const current = r.epoch.validators.filter(v => change.remove === undefined || toHex(v) !== this.ids[change.remove])
    const next = change.add === undefined ? current : [...current, this.signers[change.add]!.publicKey]
    let id: string
    try {
      const res = r.proposeReconfiguration(next, this.now)
      id = res.id
      this.execute(proposer, res.actions)
    } catch (err) {
      // it approved another proposal for this epoch (a Byzantine one can't be approved by the
      // scenario): ask again later, maybe elsewhere
      this.log(`t=${this.now} node ${proposer.index} cannot propose change ${index}: ${(err as Error).message}`)
      this.queue.push(this.now + 500, { kind: 'reconfigure', index })
      return
    }
    this.log(`t=${this.now} node ${proposer.index} proposes epoch ${index + 1}: ${change.add === undefined ? `remove ${change.remove!}` : `add ${change.add}`} (${id.slice(0, 12)})`)
    this.proposedBy.set(index, proposer.index)
    // a proposer that crashes before its approval reached the disk loses the proposal: look again later
    this.queue.push(this.now + 5000, { kind: 'reconfigure', index })
    // the cheaters push both sides of their slot again while the set changes: one side may have
    // been bound in the old epoch, the other is tried on the new set
    this.workload.equivocators.forEach((_, e) => this.queue.push(this.now + this.rng.int(0, 400), { kind: 'wallet', account: this.workload.honest.length + e }))
    for (const n of this.honest.values()) {
      if (n !== proposer) this.queue.push(this.now + this.rng.int(20, 600), { kind: 'approve', node: n.index, id, epoch: index + 1, tries: 0 })
    }
  }

  /** An operator approves a proposal at its node; retried while the proposal has not arrived there. */
  private approve (e: Extract<SimEvent, { kind: 'approve' }>): void {
    const node = this.honest.get(e.node)!
    const r = node.replica
    if (r !== undefined && r.epoch.number >= e.epoch) return
    if (r !== undefined && r.epoch.number === e.epoch - 1 && r.isValidator) {
      try {
        const res = r.approveReconfiguration(e.id, this.now)
        this.execute(node, res.actions)
        this.log(`t=${this.now} node ${node.index} approves epoch ${e.epoch}`)
        return
      } catch (err) {
        if (e.tries % 40 === 0) this.log(`t=${this.now} node ${node.index} cannot approve epoch ${e.epoch} yet: ${(err as Error).message}`)
        if (!/no open proposal|voting validator|still taking over/.test((err as Error).message)) throw new SafetyViolation(`node ${node.index} could not approve: ${(err as Error).message}`)
      }
    } else if (r !== undefined && r.epoch.number === e.epoch - 1) return // not a validator: not its to approve
    if (e.tries < 200) this.queue.push(this.now + 250, { ...e, tries: e.tries + 1 })
  }

  /** The new sequencer's wallet: submits its rotation at the contract's next slot, until one is delivered. */
  private rotateSequencer (): void {
    const contract = this.workload.contract!
    const next = contract.nextSequencer!
    const up = this.upNodes()
    if (up.length > 0) {
      const ledger = this.rng.pick(up).ledger
      const state = ledger.contract(contract.address)
      if (state !== undefined && !(toHex(state.sequencer) === toHex(next.publicKey))) {
        const nextSeq = ledger.nextSeq(contract.address)
        // the deployer requests a slot its sequencer has signed no Execute for (else the two could
        // split it for ever); without a request the old sequencer is dead by the time it counts
        const seq = this.scenario.rotationRequest ? Math.max(nextSeq, this.oldKeySignedThrough + 1) : nextSeq
        // one op per slot: a slot taken by an Execute meanwhile gets a rotation at the next one
        if (this.rotationOp === undefined || this.rotationOp.seq < nextSeq) {
          const request = this.scenario.rotationRequest ? signRotationRequest(contract.sequencer, this.workload.networkId, contract.address, seq, next.publicKey) : null
          this.rotationOp = signOp(next, this.workload.networkId, { account: contract.address, seq, deps: [contract.deployedAt], body: { kind: 'rotate-sequencer', to: next.publicKey, request } })
        }
        this.submitTo(this.rng.int(0, this.scenario.validators - 1), [this.rotationOp])
      }
    }
    if (!this.upNodes().every(r => toHex(r.ledger.contract(contract.address)?.sequencer ?? new Uint8Array()) === toHex(next.publicKey))) this.queue.push(this.now + 300, { kind: 'rotate' })
  }

  /** The old sequencer signs an Execute at the next slot of a node that delivered the rotation, and sends it to a random node. */
  private rogueExecute (): void {
    const contract = this.workload.contract!
    const up = this.upNodes()
    const rotation = this.rotationOp
    if (up.length > 0 && rotation !== undefined) {
      // right behind the rotation (public once proposed), or at a slot after it: a node behind
      // the rotation takes it, and validators behind it bind it
      const ledger = this.rng.pick(up).ledger
      const calls = [...(ledger.contract(contract.address)?.queue.values() ?? [])].slice(0, 4).map(q => q.id)
      if (calls.length > 0) {
        const seq = Math.max(rotation.seq + 1, ledger.nextSeq(contract.address) + this.rng.int(0, 1))
        const op = signOp(contract.sequencer, this.workload.networkId, { account: contract.address, seq, deps: calls, body: { kind: 'execute', calls, time: this.now } })
        this.oldKeySignedThrough = Math.max(this.oldKeySignedThrough, seq)
        this.submitTo(this.rng.int(0, this.scenario.validators - 1), seq === rotation.seq + 1 ? [rotation, op] : [op])
      }
    }
    if (this.now < this.scenario.healAt + 5000) this.queue.push(this.now + this.rng.int(50, 400), { kind: 'rogue' })
  }

  /** The keys in force for the rotating accounts in a state a node starts from (a checkpoint). */
  private seedKeys (node: HonestNode, ledger: Replica['state']): void {
    const keys = new Map<string, Uint8Array>()
    for (const a of [this.workload.keyRotation?.account, this.workload.contract?.address]) {
      if (a !== undefined && ledger.rotated(a)) keys.set(toHex(a), ledger.signerOf(a))
    }
    this.signingKeys.set(node.index, keys)
  }

  private boot (node: HonestNode): void {
    this.chart?.booted(node.index)
    const replica = new Replica({
      genesis: this.workload.genesis,
      scheme: sodiumScheme,
      signer: this.signers[node.index]!,
      // genesis validators talk to the current set; observers to everyone
      ...(node.index >= this.scenario.validators ? { peers: this.ids } : {}),
      limits: { maxBatchOps: this.scenario.maxBatchOps },
      timing: { sequencerSilence: this.scenario.sequencerSilence },
      checkpoints: { interval: this.scenario.checkpointInterval, retain: this.scenario.checkpointRetain, behindAfter: 2000 }
    })
    node.replica = replica
    node.executor = new ActionExecutor(node.fault.wrap(this.chart?.ports(node.index, this.ports(node)) ?? this.ports(node)), err => {
      if (!(err instanceof SimulatedCrash)) throw err
      this.crash(node)
    })
    // start from the stored checkpoint, then replay what survived on disk; deliveries are
    // re-checked against every other node's
    const cp = node.checkpoint
    const from = cp === undefined ? undefined : rebuildCheckpoint(this.workload.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks)
    this.signingKeys.delete(node.index)
    if (from !== undefined) this.seedKeys(node, from.ledger)
    this.execute(node, replica.restore(node.disk, this.now, from), false)
    this.log(`t=${this.now} boot node ${node.index} (${node.disk.length} records${cp === undefined ? '' : `, checkpoint at ${cp.msg.height}`})`)
  }

  /** Keeps a certified checkpoint (one root per height anywhere) and prunes the disk behind it. */
  private onCheckpoint (node: HonestNode, cp: CertifiedCheckpoint): void {
    const root = toHex(cp.msg.root)
    const prior = this.certifiedRoots.get(cp.msg.height)
    if (prior === undefined) this.certifiedRoots.set(cp.msg.height, root)
    else if (prior !== root) throw new SafetyViolation(`two different roots certified at height ${cp.msg.height} (${prior.slice(0, 16)} and ${root.slice(0, 16)}), the second at node ${node.index}`)
    this.stats.checkpoints++
    this.oldestCertified ??= cp
    node.checkpoint = cp
    const r = node.replica!
    node.disk = node.disk.filter(rec => !r.prunable(rec))
  }

  /**
   * Peers certified checkpoints this node cannot reach: it joins again from a snapshot, as a
   * node does, with the real Joiner, from the up honest nodes and two sybil peers: one offers the
   * oldest certified checkpoint (genuine, stale), one offers the latest but serves corrupt chunks.
   * The node installs only what its replica accepts (never behind its own base).
   */
  private catchUp (node: HonestNode): void {
    const servers = new Map([...this.honest.values()].filter(n => n !== node && n.replica?.latestCheckpoint() !== undefined).map(n => [n.id, n.replica!.latestCheckpoint()!]))
    if (servers.size === 0) return
    const latest = [...servers.values()].reduce((a, b) => (b.msg.height > a.msg.height ? b : a))
    const sybils = new Map<string, CertifiedCheckpoint>([['sybil-stale', this.oldestCertified ?? latest], ['sybil-corrupt', latest]])
    const above = node.replica?.latestCheckpoint()?.msg.height ?? 0
    const genesisSet = new Set(this.ids.slice(0, this.scenario.validators))
    const joiner = new Joiner(this.workload.genesis, { networkId: this.workload.networkId, scheme: sodiumScheme, validators: genesisSet, quorum: quorumSize(this.scenario.validators, this.scenario.faults) }, { offersWanted: servers.size + sybils.size, above })
    const chains = new Map([...this.honest.values()].filter(n => servers.has(n.id)).map(n => [n.id, n.replica!.epochRecords()]))
    let requests = joiner.addPeers(this.rng.shuffle([...sybils.keys(), ...servers.keys()]), this.now)
    while (requests.length > 0) {
      const next = []
      for (const req of requests) {
        const cp = servers.get(req.peer) ?? sybils.get(req.peer)!
        if (req.kind === 'latest') next.push(...joiner.onOffer(req.peer, cp.bytes, cp.snapshot.manifestBytes, this.now, chains.get(req.peer) ?? [...chains.values()][0] ?? []))
        else if (req.peer === 'sybil-corrupt') next.push(...joiner.onChunk(req.peer, req.index, this.rng.bytes(64), this.now))
        else next.push(...joiner.onChunk(req.peer, req.index, cp.snapshot.chunks[req.index]!, this.now))
      }
      requests = next
    }
    const result = joiner.result()
    if (result === undefined) {
      if (latest.msg.height <= above) return // nothing above what it holds
      throw new SafetyViolation(`node ${node.index} could not join from honest peers: ${joiner.failure ?? 'no result'} ${JSON.stringify(joiner.misbehaved)}`)
    }
    // an honest peer may lag (named as stale); anything else said of one is a false accusation
    if (joiner.misbehaved.some(m => !m.peer.startsWith('sybil') && !m.reason.startsWith('served a stale checkpoint'))) throw new SafetyViolation(`node ${node.index}'s joiner blamed an honest peer: ${JSON.stringify(joiner.misbehaved)}`)
    // the download takes a while, and the node keeps taking inputs with its old replica meanwhile
    node.joining = true
    this.queue.push(this.now + this.rng.int(1, 800), { kind: 'install', node: node.index, life: node.life, cp: result.cp, epochs: result.epochs })
  }

  /**
   * Installs a downloaded snapshot as the node does: the old replica has stopped (no input reaches
   * it from here), then the guard runs against the state it reached, and the new replica restores
   * everything the old one persisted, including what it bound during the download.
   */
  private install (node: HonestNode, cp: CertifiedCheckpoint, epochs: readonly Uint8Array[]): void {
    node.joining = false
    if (node.replica === undefined) return
    const ledger = rebuildCheckpoint(this.workload.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks).ledger
    if (node.replica.cannotInstall(cp.msg.height, ledger) !== undefined) return
    this.log(`t=${this.now} node ${node.index} joins again from checkpoint ${cp.msg.height}`)
    this.chart?.node(node.index).local({ ev: 'note', text: `re-join at h=${cp.msg.height}` })
    this.stats.rejoins++
    node.checkpoint = cp
    // as the node does: the chain that proves the checkpoint's signers is kept, ahead of the rest
    const known = new Set(node.disk.flatMap(r => r.kind === 'epoch' ? [r.epoch] : []))
    const chain = epochs.flatMap((bytes, i) => known.has(i + 1) ? [] : [{ kind: 'epoch' as const, epoch: i + 1, bytes }])
    node.disk = [...node.disk.filter(r => r.kind === 'epoch'), ...chain, ...node.disk.filter(r => r.kind !== 'epoch')]
    node.replica = undefined
    this.boot(node)
  }

  private crash (node: HonestNode): void {
    node.replica = undefined
    node.joining = false
    node.life++
    node.executor?.stop()
    node.executor = undefined
    node.catchUpWanted = false
    this.stats.crashes++
    this.log(`t=${this.now} crash node ${node.index}`)
    this.chart?.crashed(node.index)
    const at = this.now + this.rng.int(50, 1500)
    if (at < this.scenario.healAt && !this.dead.has(node.index)) this.queue.push(at, { kind: 'restart', node: node.index })
  }

  /** A hostile client acts: submits through a node, or proposes straight to validators as a sybil peer. */
  private hostileClient (): void {
    const honest = [...this.honest.values()]
    const half = Math.ceil(honest.length / 2)
    for (const act of this.flood!.act()) {
      if (act.kind === 'submit') {
        this.submitTo(this.rng.pick(honest).index, act.ops)
        continue
      }
      const to = act.to === 'all' ? honest : act.to === 'half-a' ? honest.slice(0, half) : honest.slice(half)
      for (const node of to) {
        if (node.replica === undefined) continue
        this.execute(node, node.replica.receive('sybil-client', act.bytes, this.now).actions)
      }
    }
  }

  private submitTo (index: number, ops: readonly SignedOp[]): void {
    const node = this.honest.get(index)
    if (node?.replica === undefined) return // a Byzantine or crashed node swallows it; the wallet retries
    const res = node.replica.submit(ops.map(o => o.bytes), this.now)
    this.execute(node, res.actions)
  }

  /** A wallet resubmits, through a random node, every op of its stream some up node has not delivered. */
  private walletRetry (account: number): void {
    const script = this.wallets[account]!
    const up = [...this.honest.values()].filter(n => n.replica !== undefined)
    if (up.length === 0) return
    const observer = this.rng.pick(up)
    const next = observer.replica!.state.nextSeq(script.signer.publicKey)
    let pending = script.ops.filter(op => op.seq >= next)
    const eq = this.workload.equivocators.find(x => x.signer === script.signer)
    if (eq !== undefined && next > eq.ops.length) {
      // the cheater keeps pushing both sides of its slot, through different nodes
      pending = []
      const a = this.rng.int(0, this.scenario.validators - 1)
      this.submitTo(a, [eq.conflicting[0]])
      this.submitTo((a + this.rng.int(1, this.scenario.validators - 1)) % this.scenario.validators, [eq.conflicting[1]])
    }
    if (pending.length > 0) this.submitTo(this.rng.int(0, this.scenario.validators - 1), pending)
  }

  /**
   * Runs a node's actions (synchronously: every port here is). A crash-prone node may be killed
   * half-way through them: whatever was not persisted or sent yet is lost. A catch-up a `behind`
   * asked for runs after the whole list, as the node installs a snapshot only once its executor
   * is idle: the actions after `behind` still belong to the old replica, its persists too.
   */
  private execute (node: HonestNode, actions: readonly Action[], mayCrash = true): void {
    const crashing = mayCrash && !this.healed && this.scenario.crashProne.includes(node.index) && this.rng.chance(this.scenario.crashChance)
    if (crashing) node.fault.armAt(this.rng.int(0, actions.length))
    node.executor?.execute(actions)
    if (node.fault.disarm()) this.crash(node) // killed right after its last action
    if (node.catchUpWanted) {
      node.catchUpWanted = false
      if (!node.joining) this.catchUp(node)
    }
  }

  private ports (node: HonestNode): ActionPorts {
    return {
      network: {
        send: (to, bytes, kind) => {
          if (kind === 'vote' && this.corrupted?.node === node && this.corrupted.detectedAt !== undefined) throw new SafetyViolation(`node ${node.index} voted after its state diverged`)
          this.transmit(node.index, this.ids.indexOf(to), bytes)
        },
        publish: bytes => {
          for (let j = 0; j < this.ids.length; j++) if (j !== node.index) this.transmit(node.index, j, bytes)
        }
      },
      store: {
        persist: records => {
          for (const record of records) {
            if (record.kind === 'checkpoint-sig' && this.corrupted?.node === node && this.corrupted.detectedAt !== undefined) throw new SafetyViolation(`node ${node.index} signed a checkpoint after its state diverged`)
            if (record.kind === 'bindings') for (const bytes of record.ops) this.promise(node, decodeOp(bytes), 'bound')
            node.disk.push(record)
          }
        }
      },
      deliveries: { delivered: (op, outcome) => this.onDeliver(node, op, outcome), dropped: () => {} },
      checkpoints: { certified: cp => this.onCheckpoint(node, cp) },
      sync: { behind: () => { node.catchUpWanted = true } },
      misbehaviour: { validatorVotedTwice: ev => this.onEvidence(node, ev), stateDiverged: d => this.onDiverged(node, d) },
      epochs: { changed: () => {} }
    }
  }

  /**
   * An honest validator binds (and votes for) an op, or delivers one: over its whole life it never
   * binds a second op for a slot it bound, nor another op than the one it delivered there.
   */
  private promise (node: HonestNode, op: SignedOp, how: 'bound' | 'delivered'): void {
    if (this.corrupted?.node === node) return // its state is not the network's: checked in corrupt()
    let mine = this.promised.get(node.index)
    if (mine === undefined) this.promised.set(node.index, mine = new Map())
    const key = slotKey(op.account, op.seq)
    const hash = toHex(op.hash)
    const slot = mine.get(key) ?? {}
    mine.set(key, slot)
    if (how === 'delivered') { slot.delivered = hash; return }
    for (const prior of [slot.bound, slot.delivered]) {
      if (prior !== undefined && prior !== hash) throw new SafetyViolation(`honest validator ${node.index} bound slot ${key} to ${hash.slice(0, 16)} after binding or delivering ${prior.slice(0, 16)} there`)
    }
    slot.bound = hash
  }

  /** A proof against a validator must verify and name a Byzantine one: honest ones are never framed. */
  /** The damaged validator restarts on its damaged disk (test-only: divergence.ts); retried until it holds an op to damage. */
  private corrupt (): void {
    const node = this.honest.get(this.scenario.corrupt!.node)!
    const r = node.replica
    const cp = node.checkpoint
    const base = cp === undefined ? new Ledger(this.workload.genesis) : rebuildCheckpoint(this.workload.genesis, cp.bytes, cp.snapshot.manifestBytes, cp.snapshot.chunks).ledger
    const damaged = r === undefined ? undefined : damageDisk(node.disk, base, this.workload.honest.map(w => w.signer), this.workload.networkId)
    if (damaged === undefined) {
      this.queue.push(this.now + 100, { kind: 'corrupt' })
      return
    }
    this.log(`t=${this.now} node ${node.index} restarts on a damaged disk (slot ${damaged.slot.slice(0, 12)})`)
    node.executor?.stop()
    node.executor = undefined
    node.replica = undefined
    node.life++
    node.joining = false
    node.catchUpWanted = false
    node.disk = damaged.disk
    this.corrupted = { node }
    this.boot(node)
  }

  /** Only the damaged validator diverges, at a root a quorum certified, with a quorum's signatures. */
  private onDiverged (node: HonestNode, d: Divergence): void {
    if (this.corrupted?.node !== node) throw new SafetyViolation(`honest node ${node.index} reported a divergence at height ${d.height}`)
    const m = decodeMessage(d.certified)
    if (m.type !== 'checkpoint' || m.sigs.length < quorumSize(this.scenario.validators, this.scenario.faults)) throw new SafetyViolation(`node ${node.index} halted on a cut without a quorum`)
    const certified = this.certifiedRoots.get(d.height)
    if (certified !== undefined && certified !== toHex(d.root)) throw new SafetyViolation(`node ${node.index} halted on root ${toHex(d.root).slice(0, 16)}, but ${certified.slice(0, 16)} was certified at ${d.height}`)
    if (toHex(d.root) === toHex(d.ours)) throw new SafetyViolation(`node ${node.index} halted though its root is the certified one`)
    if (this.corrupted.detectedAt !== undefined) throw new SafetyViolation(`node ${node.index} reported its divergence twice`)
    this.corrupted.detectedAt = this.now
    this.log(`t=${this.now} node ${node.index} halts: diverged at ${d.height}`)
  }

  private onEvidence (node: HonestNode, ev: VoteEvidence): void {
    const checked = checkVoteEvidence({ networkId: this.workload.networkId, scheme: sodiumScheme, membersOf: e => node.replica?.epochAt(e)?.members }, ev)
    if ('problem' in checked) throw new SafetyViolation(`node ${node.index} recorded evidence that does not verify: ${checked.problem}`)
    const accused = this.ids.indexOf(toHex(ev.voter))
    if (!this.byzantine.has(accused)) throw new SafetyViolation(`node ${node.index} holds proof that honest validator ${accused} voted twice at ${slotKey(checked.slot.account, checked.slot.seq)}`)
    this.stats.evidence++
  }

  private onDeliver (node: HonestNode, op: SignedOp, outcome: Outcome): void {
    if (this.corrupted?.node === node) return
    this.promise(node, op, 'delivered')
    // an op applied after its account rotated is signed by the key in force, followed here from
    // the rotations this node delivered (its ledger may be further on by the time this runs)
    const keys = this.signingKeys.get(node.index) ?? new Map<string, Uint8Array>()
    this.signingKeys.set(node.index, keys)
    const account = toHex(op.account)
    if (outcome.status === 'applied') {
      const inForce = keys.get(account)
      if (op.body.kind === 'rotate-key' || op.body.kind === 'rotate-sequencer') keys.set(account, op.body.to)
      if (inForce !== undefined && op.body.kind !== 'rotate-sequencer' && !verifyOpSignature(sodiumScheme, this.workload.networkId, op, inForce)) {
        throw new SafetyViolation(`node ${node.index} applied ${slotKey(op.account, op.seq)}, signed by a retired key`)
      }
    }
    if (outcome.status === 'applied' && op.body.kind === 'execute') {
      // a call executes at most once, in one slot, everywhere
      for (const c of op.body.calls) {
        const call = slotKey(c.account, c.seq)
        const prior = this.executedCalls.get(call)
        const here = slotKey(op.account, op.seq)
        if (prior === undefined) this.executedCalls.set(call, here)
        else if (prior !== here) throw new SafetyViolation(`call ${call} executed twice: in ${prior} and in ${here}`)
      }
    }
    this.stats.delivered++
    const key = slotKey(op.account, op.seq)
    const hash = toHex(op.hash)
    const prior = this.deliveredSlots.get(key)
    if (prior === undefined) this.deliveredSlots.set(key, hash)
    else if (prior !== hash) throw new SafetyViolation(`slot ${key} delivered with two different ops (${prior.slice(0, 16)} and ${hash.slice(0, 16)}), the second at node ${node.index}`)
  }

  private transmit (from: number, to: number, bytes: Uint8Array): void {
    if (to < 0) return
    this.stats.messages++
    if (!this.healed && this.rng.chance(this.scenario.dropRate)) { this.stats.dropped++; this.chart?.lost(from, to, bytes); return }
    const copies = !this.healed && this.rng.chance(this.scenario.duplicateRate) ? 2 : 1
    for (let c = 0; c < copies; c++) {
      this.chart?.sent(from, to, bytes)
      this.queue.push(this.now + this.rng.int(1, this.scenario.maxDelay), { kind: 'msg', from, to, bytes })
    }
  }

  private deliverMessage (from: number, to: number, bytes: Uint8Array): void {
    if (this.partitioned(from, to)) { this.stats.dropped++; return }
    const byz = this.byzantine.get(to)
    if (byz !== undefined) { this.chart?.received(from, to, bytes); byz.receive(this.ids[from]!, bytes, this.outbox(to)); return }
    const node = this.honest.get(to)
    if (node?.replica === undefined) return
    this.chart?.received(from, to, bytes)
    const res = node.replica.receive(this.ids[from]!, bytes, this.now)
    if (res.verdict === 'reject') {
      this.stats.rejected++
      if (res.actions.length > 0) throw new SafetyViolation(`node ${to} acted on a message it rejected (${res.reason})`)
      if (!this.byzantine.has(from) && this.corrupted?.node.index !== from) throw new SafetyViolation(`node ${to} rejected a message from honest node ${from}: ${res.reason}`)
    }
    this.execute(node, res.actions)
  }

  private outbox (from: number): { send: (to: PeerId, bytes: Uint8Array) => void } {
    return { send: (to, bytes) => this.transmit(from, this.ids.indexOf(to), bytes) }
  }

  private partitioned (a: number, b: number): boolean {
    if (this.healed) return false
    for (const p of this.scenario.partitions) {
      if (this.now >= p.start && this.now < p.end && p.side.includes(a) !== p.side.includes(b)) return true
    }
    return false
  }

  // ---------------------------------------------------------------------------------------------
  // Properties

  private upNodes (): Replica[] {
    // a validator whose state was damaged is checked on its own (see corrupt)
    return [...this.honest.values()].flatMap(n => n.replica === undefined || this.corrupted?.node === n ? [] : [n.replica])
  }

  /** Conservation, no negative balance, and equal delivered sets giving equal state hashes. */
  private checkInvariants (): void {
    // one chain of epochs: no two honest nodes ever hold different sets for one epoch
    for (const r of this.upNodes()) {
      for (let e = 1; e <= r.epoch.number; e++) {
        const id = toHex(r.epochAt(e)!.id)
        const prior = this.epochIds.get(e)
        if (prior === undefined) this.epochIds.set(e, id)
        else if (prior !== id) throw new SafetyViolation(`two different validator sets certified for epoch ${e}, the second at node ${r.id.slice(0, 8)}`)
      }
    }
    const byFrontier = new Map<string, string>()
    for (const r of this.upNodes()) {
      if (r.state.algorithm !== 'ledger') {
        // no money to conserve: equal delivered streams must still give equal roots
        const frontier = [...r.state.streams()].map(s => `${toHex(s.account)}:${s.nextSeq}`).sort().join(',')
        const hash = toHex(r.state.stateHash())
        const other = byFrontier.get(frontier)
        if (other !== undefined && other !== hash) throw new SafetyViolation(`two honest nodes delivered the same ops but have different state hashes (${other.slice(0, 16)} vs ${hash.slice(0, 16)})`)
        byFrontier.set(frontier, hash)
        continue
      }
      const held = r.ledger.totalHeld()
      const supply = r.ledger.totalSupply()
      if (held !== supply) throw new SafetyViolation(`node ${r.id.slice(0, 8)}: balances and credits sum to ${held}, but ${supply} exists`)
      const state = r.ledger.canonicalState() as { accounts: Array<[Uint8Array, bigint, number, unknown]> }
      for (const [account, balance] of state.accounts) {
        if (balance < 0n) throw new SafetyViolation(`node ${r.id.slice(0, 8)}: account ${toHex(account).slice(0, 8)} has negative balance ${balance}`)
      }
      const frontier = toHex(encode(state.accounts.map(([account, , next]) => [account, next])))
      const hash = toHex(r.ledger.stateHash())
      const other = byFrontier.get(frontier)
      if (other !== undefined && other !== hash) throw new SafetyViolation(`two honest nodes delivered the same ops but have different state hashes (${other.slice(0, 16)} vs ${hash.slice(0, 16)})`)
      byFrontier.set(frontier, hash)
    }
    // the double-spent slot holds one of the two signed ops or nothing (the per-delivery check
    // above already makes a second, different op at any slot a violation)
    for (const eq of this.workload.equivocators) {
      const [x, y] = eq.conflicting
      const delivered = this.deliveredSlots.get(slotKey(x.account, x.seq))
      if (delivered !== undefined && delivered !== toHex(x.hash) && delivered !== toHex(y.hash)) {
        throw new SafetyViolation('the equivocated slot was delivered with an op its account never signed')
      }
    }
  }

  /** Every honest node is up and has delivered every op that honest behaviour entitles to delivery. */
  /**
   * Checkpoint liveness: once every op is delivered, within CHECKPOINT_GRACE every honest node's
   * certified base is less than two intervals behind what it delivered (the last, partial interval
   * never gets a checkpoint). With at most f Byzantine validators that must always happen.
   */
  private checkpointsCaughtUp (): boolean {
    const interval = this.scenario.checkpointInterval
    if (interval === 0) return true
    const lag = Math.max(...this.upNodes().map(r => Math.floor((r.state.height() - r.status().checkpoint) / interval)))
    if (lag <= 1) return true
    this.graceUntil ??= this.now + CHECKPOINT_GRACE
    if (this.now < this.graceUntil) return false
    throw new LivenessViolation(`checkpoints stalled: ${CHECKPOINT_GRACE} ms after every op was delivered, a base is ${lag} intervals behind\n${this.progress()}`)
  }

  /**
   * The damaged validator holds the network's state at the network's height: the swapped op had
   * the same effect (both rejected, say) or a certified snapshot replaced the damage. Nothing is
   * left for it to detect.
   */
  private damageUndone (nodes: readonly Replica[]): boolean {
    const r = this.corrupted?.node.replica
    const other = nodes[0]
    return r !== undefined && other !== undefined && r.state.height() === other.state.height() && toHex(r.state.stateHash()) === toHex(other.state.stateHash())
  }

  private complete (): boolean {
    const nodes = this.upNodes()
    if (nodes.length !== this.honest.size - this.dead.size - (this.corrupted === undefined ? 0 : 1)) return false
    // the damaged validator halted at a certified checkpoint (its votes are checked as they leave)
    if (this.scenario.corrupt !== undefined && this.corrupted?.detectedAt === undefined && !this.damageUndone(nodes)) return false
    // every change of the set took effect everywhere, and every validator of the last set votes
    const changes = this.scenario.reconfigurations.length
    if (nodes.some(r => r.epoch.number !== changes || (r.isValidator && !r.votes && r.abstain === undefined))) return false
    // every certified op becomes deliverable (Replica.cannotBind): none may wait for ever
    if (nodes.some(r => r.status().buffered > 0)) return false
    for (const r of nodes) {
      const rotation = this.workload.keyRotation
      for (const script of this.workload.honest) {
        // the retired key's holder may have taken (or split) slots after the rotation: the
        // rotation itself must get through
        const through = rotation !== undefined && script.signer.publicKey === rotation.account ? rotation.rotateSeq : script.ops.length
        if (r.state.nextSeq(script.signer.publicKey) <= through) return false
      }
      if (rotation !== undefined && toHex(r.state.signerOf(rotation.account)) !== toHex(rotation.next.publicKey)) throw new SafetyViolation(`node ${r.id.slice(0, 8)} delivered the rotation but signs with another key`)
      for (const eq of this.workload.equivocators) {
        if (r.state.nextSeq(eq.signer.publicKey) <= eq.ops.length) return false
      }
    }
    const contract = this.workload.contract
    if (contract !== undefined) {
      for (const r of nodes) {
        const state = r.ledger.contract(contract.address)
        if (state === undefined) throw new SafetyViolation('the pool contract was never deployed')
        if (state.queue.size > 0) return false // calls still waiting for an execute
        const paid = contract.payoutCalls.filter(id => r.ledger.callOutcome(id)?.status === 'ok').length
        if (paid > 1) throw new SafetyViolation(`the pool paid out ${paid} times at node ${r.id.slice(0, 8)}`)
      }
    }
    // equivocators' fates may lag on some node: wait until every node agrees on the state
    const hashes = new Set(nodes.map(r => toHex(r.state.stateHash())))
    if (hashes.size !== 1) return false
    if (this.workload.genesis.algorithm === 'orset') this.checkSet(nodes)
    // executes are ordered by the sequencer at run time, so only contract-free runs have a reference
    if (this.workload.equivocators.length === 0 && contract === undefined && this.workload.keyRotation === undefined) {
      const [hash] = hashes
      if (hash !== this.workload.referenceHash) throw new SafetyViolation(`honest nodes converged on ${hash!.slice(0, 16)}, but the workload's reference state is ${this.workload.referenceHash.slice(0, 16)}`)
    }
    // every honest op is delivered: what is still bound belongs to split slots, within a bound
    // the hostile clients' junk does not raise (none of it is ever bound)
    const bound = this.workload.equivocators.length * (SPLIT_RUN + 2) + (this.workload.keyRotation === undefined ? 0 : 2 * this.workload.keyRotation.attack.length)
    for (const r of nodes) {
      if (r.status().bindings > bound) throw new ResourceViolation(`node ${r.id.slice(0, 8)} holds ${r.status().bindings} bindings with every honest op delivered; split accounts explain at most ${bound}`)
    }
    return true
  }

  /**
   * A set network: every node holds the same set, and it is the one the reference model computes
   * from the streams delivered (each honest stream whole; an equivocator's up to what was delivered).
   */
  private checkSet (nodes: Replica[]): void {
    const writers = new Set(this.workload.genesis.balances.map(b => toHex(b.account)))
    const byHash = new Map<string, SignedOp>()
    for (const w of this.wallets) for (const op of w.ops) byHash.set(toHex(op.hash), op)
    for (const eq of this.workload.equivocators) for (const op of [...eq.conflicting, eq.after]) byHash.set(toHex(op.hash), op)
    // a hostile client's split run is an equivocating writer's ops too (flood.ts)
    for (const op of this.flood?.splitOps() ?? []) byHash.set(toHex(op.hash), op)
    const streams = this.wallets.map(w => {
      const ops: SignedOp[] = []
      for (let seq = 1; ; seq++) {
        const hash = this.deliveredSlots.get(slotKey(w.signer.publicKey, seq))
        const op = hash === undefined ? undefined : byHash.get(hash)
        if (op === undefined) break
        ops.push(op)
      }
      return ops
    })
    const want = JSON.stringify([...referenceSet(writers, streams)].sort(([a], [b]) => (a < b ? -1 : 1)))
    for (const r of nodes) {
      const got = JSON.stringify([...nodeSet(r.state as ORSet)])
      if (got !== want) throw new SafetyViolation(`node ${r.id.slice(0, 8)} holds the set ${got.slice(0, 200)}, the reference model computes ${want.slice(0, 200)}`)
    }
  }

  private report (): SimReport {
    const nodes = this.upNodes()
    let equivocationsDelivered = 0
    for (const eq of this.workload.equivocators) {
      if (this.deliveredSlots.has(slotKey(eq.signer.publicKey, eq.conflicting[0].seq))) equivocationsDelivered++
    }
    return {
      scenario: this.scenario,
      finishedAt: this.now,
      ...this.stats,
      dead: [...this.deaths.keys()].sort((a, b) => a - b),
      stateHash: toHex(nodes[0]!.state.stateHash()),
      checkpointLag: this.scenario.checkpointInterval === 0 ? 0 : Math.max(...nodes.map(r => Math.floor((r.state.height() - r.status().checkpoint) / this.scenario.checkpointInterval))),
      referenceHash: this.workload.referenceHash,
      equivocationsDelivered,
      conflictsProven: nodes.reduce((n, r) => n + r.conflicts().length, 0),
      nodes: nodes.map(r => ({ id: r.id, delivered: r.status().delivered, stateHash: toHex(r.state.stateHash()) })),
      accounts: nodes[0]!.state.algorithm !== 'ledger'
        ? []
        : this.wallets.map(w => {
          const ledger = nodes[0]!.ledger
          const account = w.signer.publicKey
          return { account: toHex(account), balance: ledger.balance(account), credits: ledger.uncitedCredits(account).reduce((a, c) => a + c.amount, 0n), nextSeq: ledger.nextSeq(account) }
        }),
      supply: nodes[0]!.state.algorithm !== 'ledger' ? 0n : nodes[0]!.ledger.totalSupply(),
      ...(this.workload.contract === undefined ? {} : { contractCalls: this.contractStats(nodes[0]!) })
    }
  }

  private contractStats (r: Replica): { ok: number, failed: number, executes: number, payouts: number } {
    const contract = this.workload.contract!
    let ok = 0
    let failed = 0
    for (const script of this.workload.honest) {
      for (const op of script.ops) {
        if (op.body.kind !== 'call') continue
        const outcome = r.ledger.callOutcome(op)
        if (outcome?.status === 'ok') ok++
        else if (outcome?.status === 'error') failed++
      }
    }
    const payouts = contract.payoutCalls.filter(id => r.ledger.callOutcome(id)?.status === 'ok').length
    return { ok, failed, executes: r.ledger.nextSeq(contract.address) - 1, payouts }
  }

  private progress (): string {
    return [...this.honest.values()].map(n => {
      if (n.replica === undefined) return `node ${n.index}: ${this.dead.has(n.index) ? 'dead for good' : 'down'}`
      const st = n.replica.status()
      const lag = this.workload.honest.map(s => `${n.replica!.state.nextSeq(s.signer.publicKey) - 1}/${s.ops.length}`).join(' ')
      const role = n.replica.isValidator ? (n.replica.votes ? 'votes' : 'waits') : 'observer'
      return `node ${n.index}: epoch ${n.replica.epoch.number} (${role}), delivered ${st.delivered}, buffered ${st.buffered}, queued ${st.queued}, pending ${st.pendingBatches}, checkpoint ${st.checkpoint} (+${st.sinceCheckpoint}), streams ${lag}`
    }).join('\n')
  }

  /** Names every lifeline, and marks when partitions cut each node off (they are drawn as boxes). */
  private traceSetup (): void {
    const chart = this.chart!
    for (let i = 0; i < this.ids.length; i++) {
      const role = this.byzantine.has(i) ? 'byzantine' : i >= this.scenario.validators ? 'observer' : this.scenario.crashProne.includes(i) ? 'may crash' : undefined
      chart.node(i).local({ ev: 'node', label: `n${i} ${this.ids[i]!.slice(0, 6)}`, ...(role === undefined ? {} : { role }) })
    }
    for (const p of this.scenario.partitions) {
      chart.write({ t: p.start, node: `n${p.side[0]!}`, ev: 'fault', text: `partition [${p.side.join(',')}] until ${p.end}` })
    }
  }

  private log (line: string): void {
    this.trace?.(line)
  }
}

/**
 * Named families of scenarios. `mixed` draws everything from the seed; the others push one
 * hazard hard. A seed and a profile name replay a run exactly.
 */
export const PROFILES = {
  mixed: {},
  /** Many equivocating accounts, a Byzantine validator that votes for everything and certifies
   * what it gathers, and crash-prone honest validators: the double-spend scenario. */
  equivocation: { validators: 4, byzantine: [0], crashProne: [1, 2], crashChance: 0.05, equivocators: 3, honestAccounts: 2, opsPerAccount: 3 },
  /** Frequent kill -9 half-way through a node's actions, lossy links, small batches. */
  crashes: { crashProne: [0, 1, 2], byzantine: [], crashChance: 0.05, dropRate: 0.2, maxBatchOps: 4 },
  /** Seven validators with two Byzantine, partitions and heavy loss. */
  hostile: { validators: 7, byzantine: [5, 6], dropRate: 0.4, duplicateRate: 0.2 },
  /** Hostile clients with no funds, and split accounts pushing ops past their contested slot. */
  flood: { floodClients: 3, equivocators: 2 },
  /** A pool contract called by every wallet and sequenced while the network misbehaves. */
  contracts: { contracts: true, opsPerAccount: 8 },
  /**
   * The validator set grows from 4 to 7 and shrinks back to 4 (three of the originals leave)
   * while accounts equivocate across the changes, messages are lost and validators crash.
   */
  epochs: {
    validators: 4,
    byzantine: [0],
    observers: 3,
    equivocators: 3,
    opsPerAccount: 8,
    crashProne: [1, 2],
    reconfigurations: [{ at: 300, add: 4 }, { at: 600, add: 5 }, { at: 900, add: 6 }, { at: 1200, remove: 1 }, { at: 1500, remove: 2 }, { at: 1800, remove: 3 }]
  },
  /** A Byzantine validator is removed and keeps voting, proposing and handing over junk. */
  removal: { validators: 5, byzantine: [4], crashProne: [1], equivocators: 2, opsPerAccount: 6, reconfigurations: [{ at: 500, remove: 4 }] },
  /** An account rotates its key while an attacker holding the retired key signs its next slots. */
  'key-rotation': { rotation: 'key', equivocators: 0, contracts: false },
  /** The pool's sequencer is rotated on the deployer's request while the old one keeps signing Executes. */
  'sequencer-rotation': { rotation: 'sequencer', contracts: true, opsPerAccount: 6, equivocators: 0, rotationRequest: true },
  /** The same without the deployer: validators bind the rotation once the sequencer was silent 1 s. */
  'sequencer-silence': { rotation: 'sequencer', contracts: true, opsPerAccount: 6, equivocators: 0, rotationRequest: false, sequencerSilence: 1000 },
  /**
   * A crash-only network (majority quorums): five validators, no Byzantine one, two of them gone
   * for good before the heal and three crash-prone ones killed and restarted under loss, so the
   * last three must finish alone (q = 3; the Byzantine quorum of 5 is 4 and could not).
   */
  'crash-only': { validators: 5, faults: 'crash', byzantine: [], crashProne: [0, 1, 2], crashChance: 0.02, deadForGood: 2, dropRate: 0.2 },
  /**
   * A crash-only set changes with one validator gone for good: 5 -> 6, then a key replaced in one
   * change (majorities of 6 and 6 share a validator; the Byzantine rule refuses it), then 6 -> 5.
   */
  'crash-epochs': {
    validators: 5,
    faults: 'crash',
    byzantine: [],
    observers: 2,
    crashProne: [1, 2],
    deadForGood: 1,
    equivocators: 2,
    opsPerAccount: 6,
    reconfigurations: [{ at: 300, add: 5 }, { at: 600, remove: 0, add: 6 }, { at: 900, remove: 1 }]
  },
  /** One validator restarts mid-run on a damaged disk: it halts at the next certified checkpoint; the others go on and agree. */
  divergence: { validators: 4, byzantine: [], crashProne: [0], crashChance: 0.01, equivocators: 1, honestAccounts: 3, opsPerAccount: 10, contracts: false, checkpointInterval: 3, checkpointRetain: 1, partitions: [], rotation: 'none', corrupt: { node: 1, at: 400 } },
  /**
   * An observed-remove set network: writers add and remove colliding elements while a Byzantine
   * validator votes for everything, writers equivocate, validators crash, a hostile client with
   * no allocation floods, and checkpoints cut the state. Every node ends with one set, the one
   * the reference model computes from the delivered streams.
   */
  crdt: { algorithm: 'orset', validators: 4, byzantine: [0], crashProne: [1], crashChance: 0.01, equivocators: 2, honestAccounts: 3, opsPerAccount: 8, contracts: false, floodClients: 1, checkpointInterval: 5 }
} satisfies Record<string, Partial<Scenario>>

export type Profile = keyof typeof PROFILES

/** Runs one seed; the message of any violation carries the command that replays it. */
export function runSeed (seed: number, profile: Profile = 'mixed', extra: Partial<Scenario> = {}, trace?: (line: string) => void, chart?: (events: TraceEvent[]) => void): SimReport {
  const scenario = scenarioFor(seed, { ...PROFILES[profile], ...extra })
  let sim: Simulation | undefined
  try {
    sim = new Simulation(scenario, trace, chart !== undefined)
    return sim.run()
  } catch (err) {
    if (err instanceof Error) {
      const more = Object.keys(extra).length > 0 ? ` --with '${JSON.stringify(extra)}'` : ''
      err.message = `${err.message}\nseed ${seed}, profile ${profile}: replay with \`npm run sim -- ${seed} --profile ${profile}${more}\``
    }
    throw err
  } finally {
    // a failed run's trace is the one most worth a chart
    if (sim?.chart !== undefined) chart?.(sim.chart.events)
  }
}
