// A `bftnode` process a lifecycle test watches: its output as it comes, a wait for a line, and how
// (and how fast) it ended.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { BIN } from './testnet.js'
import { waitFor } from './ports.js'

export interface Ended {
  /** The exit code, or null if a signal killed it. */
  code: number | null
  signal: NodeJS.Signals | null
  /** When it ended (performance.now()). */
  at: number
}

export interface Watched {
  readonly child: ChildProcess
  /** stdout and stderr so far, interleaved. */
  output (): string
  readonly ended: Promise<Ended>
  /** Waits until the output matches `re`; fails with the output so far if it does not in `ms`. */
  waitForOutput (re: RegExp, ms: number): Promise<void>
  /** Sends a signal and returns how it ended and how long that took (ms). */
  stopWith (signal: NodeJS.Signals): Promise<Ended & { ms: number }>
}

export function watchBin (args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Watched {
  return watch(spawn(process.execPath, [BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }))
}

export function watch (child: ChildProcess): Watched {
  let out = ''
  child.stdout?.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr?.on('data', (b: Buffer) => { out += b.toString() })
  if (process.env.E2E_LOGS !== undefined) child.stderr?.pipe(process.stderr)
  const ended = new Promise<Ended>(resolve => child.once('close', (code, signal) => resolve({ code, signal, at: performance.now() })))
  return {
    child,
    output: () => out,
    ended,
    waitForOutput: async (re, ms) => {
      await waitFor(`output matching ${String(re)}`, ms, () => re.test(out)).catch(err => {
        throw new Error(`${(err as Error).message}; output so far:\n${out}`)
      })
    },
    stopWith: async (signal) => {
      const sent = performance.now()
      child.kill(signal)
      const end = await ended
      return { ...end, ms: end.at - sent }
    }
  }
}
