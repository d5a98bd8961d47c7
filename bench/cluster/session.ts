// A network ready to measure: validators started, the status monitor polling, and the load
// accounts funded (and delivered at every validator) before any clock starts.

import { fromHex } from '../../src/core/crypto/hash.js'
import { FAN_OUT, fundingOps, newAccount } from './accounts.js'
import type { Account } from './accounts.js'
import { Monitor } from './monitor.js'
import { measure } from './runs.js'
import type { Context, RunResult } from './runs.js'
import { rssMB } from './proc.js'
import { startValidators } from './validators.js'

/** Funding did not finish: the runs it got through, for the results. */
export class FundingError extends Error {
  constructor (message: string, readonly funding: RunResult[]) { super(message) }
}

export interface Session {
  ctx: Context
  networkId: Uint8Array
  treasury: Account
  /** The load's accounts; account i's home is validator i mod n. */
  accounts: Account[]
  /** One account per validator for the light-load probe. */
  probes: Account[]
  idleRssMB: number[]
  funding: RunResult[]
  close: () => Promise<void>
}

export async function openSession (n: number, o: { accounts: number, pollMs: number, timeoutMs: number, maxBacklogMs?: number, nodeConfig: Record<string, unknown>, nodeArgs: string[], logDir: string, keep: boolean, interrupted: () => boolean, say: (line: string) => void }): Promise<Session> {
  o.say(`n=${n}: starting ${n} validators`)
  const net = await startValidators(n, { nodeConfig: o.nodeConfig, nodeArgs: o.nodeArgs, logDir: o.logDir, keep: o.keep, say: o.say })
  const monitor = new Monitor(net.apis, o.pollMs)
  monitor.start()
  const close = async (): Promise<void> => { monitor.stop(); await net.stop() }
  try {
    const ctx: Context = { net, monitor, timeoutMs: o.timeoutMs, interrupted: o.interrupted }
    const idleRssMB = net.pids.map(rssMB)
    o.say(`n=${n}: mesh after ${(net.startMs / 1000).toFixed(1)} s; idle RSS ${idleRssMB.map(r => r.toFixed(0)).join(', ')} MB`)
    const networkId = fromHex((await net.apis[0]!.genesis()).networkId)
    const treasury = newAccount(0, net.treasurySeed)
    const t = performance.now()
    const accounts = Array.from({ length: o.accounts }, (_, i) => newAccount(i % n))
    const probes = Array.from({ length: n }, (_, k) => newAccount(k))
    const levels = fundingOps(treasury, [...accounts, ...probes], networkId, n)
    o.say(`n=${n}: funding ${accounts.length + probes.length} accounts in ${levels.length} levels of ${levels.map(l => l.hex.length).join(', ')} transfers (keys and ops in ${((performance.now() - t) / 1000).toFixed(1)} s)`)
    // a level's ops cite the credits of the level before, so each is delivered everywhere before
    // the next starts. Funding 100,000 accounts takes minutes on a slow node: it gets at least 10.
    const fundCtx = { ...ctx, timeoutMs: Math.max(o.timeoutMs, 600_000) }
    const funding: RunResult[] = []
    for (const [i, ops] of levels.entries()) {
      // requests of whole payer streams (FAN_OUT ops each), each stream to its payer's validator
      funding.push(await measure(fundCtx, { name: `funding level ${i + 1}`, ops, opsPerRequest: 4 * FAN_OUT, window: Infinity, perNode: net.apis.map(() => 2), maxBacklogMs: o.maxBacklogMs, settings: {} }))
      if (!funding.at(-1)!.complete) break
    }
    const failed = funding.find(f => !f.complete)
    if (failed !== undefined) throw new FundingError(`${failed.name}: ${failed.stopReason ?? ''} (${failed.deliveredEverywhere} of ${failed.ops} delivered everywhere; per validator ${failed.deliveredPerValidator.join(', ')}; ${failed.send.firstErrors.join('; ')})`, funding)
    o.say(`n=${n}: funded in ${funding.reduce((a, f) => a + f.seconds, 0).toFixed(1)} s`)
    return { ctx, networkId, treasury, accounts, probes, idleRssMB, funding, close }
  } catch (err) {
    await close()
    throw err
  }
}
