// What a simulation (POST /v1/simulate) says about an op before it is signed: the gas to ask for,
// and whether it would certainly fail. The CLI's `--gas auto` and BftClient's deploy and call
// share it, so both refuse the same ops with the same words.

import { BftError } from '../core/errors.js'
import type { SimulateView } from './api-client.js'

/** The simulation says the op would fail or be refused: nothing was signed (force sends it anyway). */
export class WouldFailError extends BftError {
  readonly code = 'ERR_WOULD_FAIL'
}

const count = (n: number): string => n.toLocaleString('en-US')

/** Why the op would certainly fail, in one line, or undefined when it would not. `what`: "deploy", "call of transfer". */
export function simulationProblem (sim: SimulateView, what: string): string | undefined {
  if (sim.refused !== undefined) return `validators would refuse the ${what}: ${sim.refused}`
  if (sim.outcome.status === 'rejected') return `the ${what} would be rejected (${sim.outcome.reason}): ${sim.outcome.detail}`
  const run = sim.run
  // too-large: the run succeeded, only its answer was too big to send
  if (run?.status === 'error' && run.errorKind !== 'too-large') {
    const more = run.errorKind === 'out-of-gas' && sim.gasEstimate !== undefined ? ` (it needs about ${count(sim.gasEstimate)}: pass --gas ${sim.gasEstimate}, or leave --gas at auto)` : ''
    return `the ${what} would fail now (${run.errorKind}): ${run.error}${more}`
  }
  return undefined
}
