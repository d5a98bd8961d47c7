// How the `bftnode` process ends on SIGINT and SIGTERM. bin/bftnode.js calls holdSignals() before it
// loads the CLI (seconds on a busy machine), so a signal is never lost to Node's default. Until
// the command runs, a signal ends the process at once (nothing is open). Then a long-running
// command (start, join, testnet start) stops cleanly and exits 0; any other command exits 128+n at
// once, as if killed. A second signal forces exit (128+n); a stop that takes longer than
// STOP_GRACE_MS exits 1.
// Imports nothing heavy: it must load before everything else.

import { BftError } from '../core/errors.js'

/** The longest a requested stop may take before the process exits anyway (below Docker's 10 s). */
export const STOP_GRACE_MS = 8000

/** A stop was requested while the command was still starting: not a failure, it exits 0. */
export class StopRequested extends BftError {
  readonly code = 'ERR_STOP_REQUESTED'
  constructor (readonly signalName: string) {
    super(`stopped by ${signalName}`)
  }
}

/** What a long-running command learns about being asked to stop. */
export interface StopControl {
  /** Aborted (with a StopRequested reason) at the first signal. */
  readonly signal: AbortSignal
  /** Resolves with the signal's name at the first signal. */
  readonly requested: Promise<string>
  /** Throws StopRequested once a stop was asked for: call it between start-up steps. */
  throwIfStopping (): void
  /** `work`'s result, unless a stop comes first: then it rejects with StopRequested. */
  unlessStopped<T> (work: Promise<T>): Promise<T>
  /** Where notes about the stop go (a logger once there is one; stderr until then). */
  report (note: (msg: string) => void): void
}

type Phase = 'loading' | 'one-shot' | 'graceful'

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const
type SignalName = keyof typeof SIGNALS

let installed = false
let phase: Phase = 'loading'
let first: SignalName | undefined
const controller = new AbortController()
let resolveRequested!: (signal: string) => void
const requested = new Promise<string>(resolve => { resolveRequested = resolve })
let note = (msg: string): void => { process.stderr.write(`bftnode: ${msg}\n`) }

/** Long-running commands, as the command line names them (index.ts has the authoritative list). */
const LONG_RUNNING = ['start', 'join', 'testnet start']
/** Global options that take a value (context.ts), to find the command among the arguments. */
const VALUE_OPTIONS = ['--api', '--wallet-dir', '--passphrase', '--timeout']

/** Whether `argv` names a long-running command, read before yargs has even loaded. */
export function namesLongRunning (argv: readonly string[]): boolean {
  const words: string[] = []
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i]!
    if (VALUE_OPTIONS.includes(arg)) i++
    else if (!arg.startsWith('-')) words.push(arg)
  }
  return LONG_RUNNING.includes(words[0] ?? '') || LONG_RUNNING.includes(words.join(' '))
}

/**
 * Installs the handlers (idempotent). A signal while the CLI is still loading ends the process at
 * once: nothing is open yet. It exits as the command would have, 0 for a long-running one (as
 * `argv` names it) and 128+n otherwise.
 */
export function holdSignals (argv: readonly string[] = []): void {
  if (installed) return
  installed = true
  const longRunning = namesLongRunning(argv)
  for (const name of Object.keys(SIGNALS) as SignalName[]) process.on(name, () => onSignal(name, longRunning))
}

function onSignal (name: SignalName, longRunning: boolean): void {
  if (first !== undefined) {
    note(`second signal (${name}): exiting now`)
    process.exit(128 + SIGNALS[name])
  }
  first = name
  if (phase === 'loading') {
    if (longRunning) note(`${name}: stopped before start-up began`)
    process.exit(longRunning ? 0 : 128 + SIGNALS[name])
  }
  if (phase === 'one-shot') {
    if (cleanups.size === 0) process.exit(128 + SIGNALS[name])
    note(`${name}: cleaning up (a second signal exits at once)`)
    forceExitAfterGrace()
    void Promise.allSettled([...cleanups].map(async fn => await fn())).then(() => process.exit(128 + SIGNALS[name]))
    return
  }
  beginStop(name)
}

function forceExitAfterGrace (): void {
  // kept referenced: a stop stuck on a promise nothing will settle must still end the process
  setTimeout(() => {
    note(`the stop did not finish within ${STOP_GRACE_MS / 1000} s: exiting anyway`)
    process.exit(1)
  }, STOP_GRACE_MS)
}

function beginStop (name: string): void {
  note(`${name}: stopping (a second signal exits at once)`)
  forceExitAfterGrace()
  controller.abort(new StopRequested(name))
  resolveRequested(name)
}

/** Stops a long-running command as a signal would (e.g. its supervising parent is gone). */
export function requestStop (why: string): void {
  if (phase === 'graceful' && first === undefined) {
    first = 'SIGTERM'
    beginStop(why)
  }
}

const cleanups = new Set<() => Promise<void>>()

/**
 * What a command that ends by itself must undo if a signal ends it first (child processes, a
 * temporary directory): run before it exits 128+n. Returns the function that unregisters it.
 */
export function cleanUpOnSignal (fn: () => Promise<void>): () => void {
  cleanups.add(fn)
  return () => { cleanups.delete(fn) }
}

/** A command that ends by itself: a signal ends it at once (128+n), after its clean-ups. */
export function exitOnSignal (): void {
  holdSignals()
  if (phase === 'loading') phase = 'one-shot'
}

/** A command that runs until stopped: the first signal asks it to stop. */
export function stopOnSignal (): StopControl {
  holdSignals()
  phase = 'graceful'
  return {
    signal: controller.signal,
    requested,
    throwIfStopping: () => { controller.signal.throwIfAborted() },
    unlessStopped: async (work) => await Promise.race([work, requested.then(() => { controller.signal.throwIfAborted(); return undefined as never })]),
    report: (fn) => { note = fn }
  }
}
