// Executes the replica's actions over a host's ports: the one place the node, the simulator and
// LocalNet turn `Action`s into effects, so they cannot disagree on what an action means.
//
// Ordering contract:
// - Actions run one at a time in the order given, and lists in the order `execute` was called.
// - A port that returns a promise (a `persist` syncing to disk, say) holds back every later
//   action, of its list and of later lists, until the promise resolves: no vote leaves the node
//   before the binding it relies on is on disk, even when the next input arrives meanwhile.
// - A `persist` takes every persist queued behind it along, in order, in one store call (group
//   commit): writing a record earlier than its turn is always safe, and every other action
//   still runs after every persist that came before it.
// - While ports return plain values everything runs synchronously inside `execute`: a
//   deterministic, single-threaded host (the simulator) never has to await a microtask.
// - A port that throws or rejects stops the executor for good: nothing queued or later runs, and
//   the error goes to `onError` once. A host that crashes on a storage error must not go on.
// - `behind` is an action like the others: the ones after it still run.

import { BftError } from '../core/errors.js'
import type { Action, PersistRecord } from '../core/broadcast/actions.js'
import type { ActionPorts, PortResult } from './ports.js'

/** An action kind this executor does not know: core and host are out of step. */
export class UnknownActionError extends BftError {
  readonly code = 'ERR_UNKNOWN_ACTION'
}

/**
 * Told of the error that stopped the executor and the action whose port raised it. It may
 * rethrow: from a synchronous run the error then reaches the caller of `execute` (the simulator
 * ends a run that way); after a port's promise it would be an unhandled rejection.
 */
export type ExecutorErrorHandler = (err: unknown, action: Action) => void

/** Records written together at most (one LevelDB batch). */
const MAX_GROUP = 4096

/** Run actions kept at the queue's front before it is compacted (a busy node may never drain it). */
const COMPACT_AFTER = 1024

export class ActionExecutor {
  /**
   * Actions not run yet, from `head` on: they wait behind a running one or an unsettled port.
   * A hole is a persist already written with an earlier one.
   */
  private queue: Array<Action | undefined> = []
  private head = 0
  /** Inside the run loop: an `execute` from a port only queues, so order holds. */
  private running = false
  /** A port's promise the queue waits for. */
  private blocked = false
  private halted = false
  private idlers: Array<() => void> = []

  constructor (private readonly ports: ActionPorts, private readonly onError: ExecutorErrorHandler) {}

  /** Runs `actions` after everything given before; see the ordering contract above. */
  execute (actions: readonly Action[]): void {
    if (this.halted || actions.length === 0) return
    for (const a of actions) this.queue.push(a)
    if (!this.running && !this.blocked) this.run()
  }

  /** Stopped by an error or by `stop()`: actions given now are ignored. */
  get stopped (): boolean {
    return this.halted
  }

  /** Nothing queued or waiting any more (run to the end, or stopped). */
  get idle (): boolean {
    return this.halted || (!this.blocked && this.head === this.queue.length)
  }

  /** Runs nothing more; what is queued is discarded (the host is going away). */
  stop (): void {
    this.halt()
  }

  /** Resolves once the executor is idle: a host waits for this before it swaps its replica. */
  async settled (): Promise<void> {
    if (this.idle) return
    await new Promise<void>(resolve => this.idlers.push(resolve))
  }

  private run (): void {
    this.running = true
    try {
      while (!this.halted && this.head < this.queue.length) {
        const action = this.queue[this.head++]
        if (action === undefined) continue
        let result: PortResult
        try {
          result = this.dispatch(action)
        } catch (err) {
          this.fail(err, action)
          return
        }
        if (isPromiseLike(result)) {
          this.blocked = true
          this.compact()
          result.then(() => this.resume(), err => { this.blocked = false; this.fail(err, action) })
          return
        }
      }
      if (!this.halted) this.drained()
    } finally {
      this.running = false
    }
  }

  private resume (): void {
    this.blocked = false
    if (!this.halted) this.run()
  }

  private compact (): void {
    if (this.head < COMPACT_AFTER || this.head * 2 < this.queue.length) return
    this.queue = this.queue.slice(this.head)
    this.head = 0
  }

  private drained (): void {
    this.queue = []
    this.head = 0
    const idlers = this.idlers
    this.idlers = []
    for (const resolve of idlers) resolve()
  }

  private fail (err: unknown, action: Action): void {
    if (this.halted) return
    this.halt()
    this.onError(err, action)
  }

  private halt (): void {
    this.halted = true
    this.drained()
  }

  /** This persist's record and those of the persists queued behind it (taken out of the queue). */
  private takePersists (first: Action & { type: 'persist' }): PersistRecord[] {
    const records = [first.record]
    for (let i = this.head; i < this.queue.length && records.length < MAX_GROUP; i++) {
      const a = this.queue[i]
      if (a?.type !== 'persist') continue
      records.push(a.record)
      this.queue[i] = undefined
    }
    return records
  }

  private dispatch (a: Action): PortResult {
    const p = this.ports
    switch (a.type) {
      case 'send': return p.network.send(a.to, a.bytes, a.kind)
      case 'broadcast': return p.network.publish(a.bytes, a.kind)
      case 'persist': return p.store.persist(this.takePersists(a))
      case 'deliver': return p.deliveries.delivered(a.op, a.outcome, a.cert)
      case 'dropped': return p.deliveries.dropped(a.op, a.reason, a.evidence)
      case 'checkpoint': return p.checkpoints.certified(a.checkpoint)
      case 'behind': return p.sync.behind(a.height, a.peers)
      case 'evidence': return p.misbehaviour.validatorVotedTwice(a.evidence)
      case 'diverged': return p.misbehaviour.stateDiverged?.(a.divergence)
      case 'epoch': return p.epochs.changed(a.epoch)
      default: return unknownAction(a)
    }
  }
}

/** The `never` makes a new Action kind without a case above a compile error. */
function unknownAction (a: never): never {
  throw new UnknownActionError(`no port handles action ${JSON.stringify((a as { type?: unknown }).type)}`)
}

function isPromiseLike (r: PortResult): r is PromiseLike<void> {
  return typeof (r as PromiseLike<void> | undefined)?.then === 'function'
}
