// `bftnode query`: a contract function run against the node's current state without signing or
// storing anything (a read, or a dry run of a write). Also what deploy and call share to simulate
// first: the gas estimate, and the refusal of what would certainly fail before anything is signed.

import { BftError } from '../../core/errors.js'
import { GAS_LIMITS } from '../../core/vm/gas.js'
import { toHex } from '../../core/crypto/hash.js'
import { ApiRequestError } from '../../client/api-client.js'
import type { RunView, SimulateBody, SimulateView } from '../../client/api-client.js'
import { showJson } from '../../client/values.js'
import { simulationProblem, WouldFailError } from '../../client/estimate.js'
import type { JsonValue } from '../../client/values.js'
import { api, parseAmount, parseArgs, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'

/** A run that failed: the contract's error, as a query reports it. */
export class QueryFailedError extends BftError {
  readonly code = 'ERR_QUERY_FAILED'
}

const CONTRACT_HEX = /^[0-9a-f]{64}$/
const count = (n: number): string => n.toLocaleString('en-US')
const show = (v: JsonValue): string => { try { return showJson(v) } catch { return JSON.stringify(v) } }

/** `--gas`: "auto" (simulate and use the estimate) or a whole number of gas. */
export function parseGas (text: unknown): number | 'auto' {
  const s = String(text ?? 'auto')
  if (s === 'auto') return 'auto'
  const n = /^[0-9]{1,9}$/.test(s) ? Number(s) : NaN
  if (!(n >= 1 && n <= GAS_LIMITS.maxCall)) throw new UsageError(`--gas must be "auto" or a whole number from 1 to ${GAS_LIMITS.maxCall}, got "${s.slice(0, 20)}"`)
  return n
}

/** What a run did, one line each: result, gas, events, and the writes and payments it would make. */
export function runLines (run: RunView, dryRun: boolean): string[] {
  if (run.status === 'error') return [`failed (${run.errorKind}): ${run.error}`, `gas used ${count(run.gasUsed)}`]
  const lines = [`result ${show(run.result)}`, `gas used ${count(run.gasUsed)}`]
  for (const e of run.events) lines.push(`event ${e.name} ${show(e.data)}`)
  const prefix = dryRun ? 'would ' : ''
  for (const w of run.writes) lines.push(w.value === null ? `${prefix}delete ${show(w.key)}` : `${prefix}store ${show(w.key)} = ${show(w.value)}`)
  for (const t of run.transfers) lines.push(`${prefix}pay ${t.amount} to ${t.to}`)
  return lines
}

export interface GasChoice {
  /** The gas limit to sign with. */
  readonly gas: number
  readonly simulation?: SimulateView
}

/**
 * Simulates the op first. Unless `force`, anything that would certainly fail (a refusal at
 * submission, a rejection at delivery, init or the function failing now) is refused here, before
 * signing, with WouldFailError. The gas limit is the estimate when `gas` is auto.
 */
export async function simulateFirst (args: GlobalArgs, account: string, body: SimulateBody, gas: number | 'auto', force: boolean, what: string, hint: () => Promise<string> = async () => ''): Promise<GasChoice> {
  let sim: SimulateView
  try {
    sim = await api(args).simulate(account, body)
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err
    const fallback = gas === 'auto' ? GAS_LIMITS.defaultCall : gas
    if (!force) throw new WouldFailError(`the node could not simulate the ${what} (${err.message}); nothing was signed. --force sends it anyway, with --gas or ${count(GAS_LIMITS.defaultCall)}`)
    say(`warning: the node could not simulate the ${what} (${err.message}); sending it anyway (--force) with gas limit ${count(fallback)}`)
    return { gas: fallback }
  }
  const failed = simulationProblem(sim, what)
  const problem = failed === undefined ? undefined : failed + await hint()
  const chosen = gas === 'auto' ? sim.gasEstimate ?? GAS_LIMITS.defaultCall : gas
  if (problem !== undefined) {
    if (!force) throw new WouldFailError(`${problem}; nothing was signed (--force sends it anyway)`)
    say(`warning: ${problem}; sending it anyway (--force) with gas limit ${count(chosen)}`)
    return { gas: chosen, simulation: sim }
  }
  if (gas === 'auto') {
    const used = sim.run?.gasUsed
    say(used === undefined ? `gas limit ${count(chosen)} (no init to run)` : `gas limit ${count(chosen)} (estimated ${count(used)} + margin)`)
  }
  return { gas: chosen, simulation: sim }
}

export const queryCommand: CliCommand<{ contract: string, fn: string, args?: string, from?: string, caller?: string, value: string, gas?: string, json: boolean }> = {
  command: 'query <contract> <fn>',
  describe: 'run a contract function against the node\'s current state: a read, or a dry run of a write. Nothing is signed, sent or stored',
  examples: [
    ['bftnode query <token> balance-of --args \'[{"key": "bob"}]\'', 'a token balance, for free'],
    ['bftnode query <token> transfer --from alice --args \'[{"key": "bob"}, 10]\'', 'what alice\'s transfer would do now (a dry run)'],
    ['bftnode query <escrow> deposit --from bob --value 50 --json', 'the run as the API gives it']
  ],
  positionals: { contract: { type: 'string', describe: 'contract address (64 hex digits)' }, fn: { type: 'string', describe: 'function name' } },
  options: {
    args: { type: 'string', describe: 'JSON list of arguments: numbers, strings, {"key": "<name or hex>"}, {"bytes": "<hex>"}, {"int": "<digits>"}, {"map": {...}} (docs/contracts.md)' },
    from: { type: 'string', describe: 'wallet account the function sees as (caller)' },
    caller: { type: 'string', describe: 'account key (or wallet name) the function sees as (caller); default: all zeros' },
    value: { type: 'string', default: '0', describe: 'money the function sees attached, as (value)' },
    gas: { type: 'string', describe: `gas limit (default: the node's, at most ${GAS_LIMITS.maxCall})` },
    json: { type: 'boolean', default: false, describe: 'print the run as JSON, in the API\'s value forms' }
  },
  handler: async (a) => {
    if (!CONTRACT_HEX.test(a.contract)) throw new UsageError('the contract address is 64 hex digits')
    if (a.from !== undefined && a.caller !== undefined) throw new UsageError('give --from or --caller, not both')
    const who = a.from ?? a.caller
    const caller = who === undefined ? undefined : toHex(await wallet(a).resolve(who))
    const { json } = await parseArgs(a, a.args)
    const gas = a.gas === undefined ? undefined : parseGas(a.gas)
    const value = parseAmount(a.value, 'value', true)
    let run: RunView
    try {
      run = await api(a).query(a.contract, {
        fn: a.fn,
        args: json,
        ...(caller === undefined ? {} : { caller }),
        ...(value === 0n ? {} : { value: value.toString() }),
        ...(typeof gas === 'number' ? { gasLimit: gas } : {})
      })
    } catch (err) {
      if (err instanceof ApiRequestError && err.code === 'ERR_UNKNOWN_CONTRACT') throw new UsageError(`no contract at ${a.contract} on this node`)
      throw err
    }
    if (a.json) {
      say(JSON.stringify(run, null, 2))
      if (run.status === 'error') process.exitCode = 1
      return
    }
    if (run.status === 'error') throw new QueryFailedError(`${a.fn} failed (${run.errorKind}): ${run.error}; gas used ${count(run.gasUsed)}`)
    for (const line of runLines(run, true)) say(line)
    const changes = run.writes.length + run.transfers.length > 0
    say(changes ? 'dry run: nothing was signed, sent or stored' : 'a query: nothing was signed')
  }
}

export { WouldFailError }
