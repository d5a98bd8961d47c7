// The simulator's trace recorder: every message the simulated network carries (sent, received or
// lost) and every node's local events, as the trace events a real node writes (src/node/trace.ts),
// so `npm run sim -- <seed> --chart out.svg` draws a seed with the same renderer as real traces.

import { MessageSummarizer, TraceRecorder } from '../../src/node/trace.js'
import type { TraceEvent, TraceSink } from '../../src/node/trace.js'
import type { ActionPorts } from '../../src/host/ports.js'

/** Events kept at most: past it one note says so (a run that long is no chart anyway). */
export const SIM_TRACE_CAP = 2_000_000

export class SimTrace implements TraceSink {
  readonly events: TraceEvent[] = []
  private full = false
  private readonly summarizer = new MessageSummarizer()
  private readonly nodes = new Map<number, TraceRecorder>()
  private readonly down = new Set<number>()

  constructor (private readonly now: () => number, private readonly cap = SIM_TRACE_CAP) {}

  write (e: TraceEvent): void {
    if (this.full) return
    if (this.events.length >= this.cap) {
      this.full = true
      this.events.push({ t: e.t, node: e.node, ev: 'note', text: `trace stopped at ${this.cap} events` })
      return
    }
    this.events.push(e)
  }

  /** Node `index`'s recorder; its lifeline is `n<index>`. */
  node (index: number): TraceRecorder {
    let r = this.nodes.get(index)
    if (r === undefined) this.nodes.set(index, r = new TraceRecorder(`n${index}`, this, this.now, this.summarizer))
    return r
  }

  sent (from: number, to: number, bytes: Uint8Array): void { this.node(from).sent(`n${to}`, bytes) }
  lost (from: number, to: number, bytes: Uint8Array): void { this.node(from).lost(`n${to}`, bytes) }
  received (from: number, to: number, bytes: Uint8Array): void { this.node(to).received(`n${from}`, bytes) }

  /** A restart is a boot after a crash (a re-join boots too, but is no restart). */
  crashed (index: number): void {
    this.down.add(index)
    this.node(index).local({ ev: 'crash' })
  }

  booted (index: number): void {
    if (this.down.delete(index)) this.node(index).local({ ev: 'restart' })
  }

  ports (index: number, ports: ActionPorts): ActionPorts {
    return this.node(index).ports(ports)
  }
}
