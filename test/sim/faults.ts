// Port-level faults for the simulator: a node killed (kill -9) half-way through executing its
// actions. The crash is a port that throws, so the host's executor stops exactly as it does when
// a real disk write fails: what was not persisted or sent before it is lost.

import type { ActionPorts, PortResult } from '../../src/host/ports.js'

/** Thrown by a port of a node the simulator kills. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash'
}

/**
 * Counts port calls (the executor makes exactly one per action) and throws `SimulatedCrash`
 * instead of making the armed one.
 */
export class CrashFault {
  private countdown: number | undefined

  /** The node dies before the `at`-th action from now runs (0: before the first). */
  armAt (at: number): void {
    this.countdown = at
  }

  /** Disarms; true when the fault was armed and has not fired (it was to die after the last action). */
  disarm (): boolean {
    const armed = this.countdown !== undefined
    this.countdown = undefined
    return armed
  }

  /** The same ports, each call first passing through the fault. */
  wrap (ports: ActionPorts): ActionPorts {
    return {
      network: this.gate(ports.network),
      store: this.gate(ports.store),
      deliveries: this.gate(ports.deliveries),
      checkpoints: this.gate(ports.checkpoints),
      sync: this.gate(ports.sync),
      misbehaviour: this.gate(ports.misbehaviour),
      epochs: this.gate(ports.epochs)
    }
  }

  private gate<T extends object> (port: T): T {
    const out: Record<string, unknown> = {}
    for (const [name, fn] of Object.entries(port)) {
      out[name] = (...args: unknown[]): PortResult => {
        this.tick()
        return (fn as (...a: unknown[]) => PortResult)(...args)
      }
    }
    return out as T
  }

  private tick (): void {
    if (this.countdown === undefined) return
    if (this.countdown === 0) {
      this.countdown = undefined
      throw new SimulatedCrash('simulated kill -9')
    }
    this.countdown--
  }
}
