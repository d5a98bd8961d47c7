// Polls every validator's GET /v1/status for its `delivered` count. A status answer also
// recomputes the state hash (0.05-0.1 CPU-seconds with 5,000 accounts here), so polls are spaced
// (250 ms by default, and at least 10x the slowest answer, so counting costs a node about a tenth
// of its time at most) and the moment a node crossed a count is interpolated between the two
// polls around it.

import type { NodeApi } from './http.js'

const MAX_INTERVAL_MS = 3000

export interface Sample {
  /** performance.now() half way through each node's poll (its count is read in between). */
  readonly t: number[]
  readonly delivered: number[]
}

export class Monitor {
  private history: Sample[] = []
  private timer: NodeJS.Timeout | undefined
  private waiters: Array<() => void> = []
  private running = false
  /** Polls that failed (node busy past the timeout, or gone). */
  errors = 0
  /** How long each status answer took (ms): it recomputes the state hash, which the run pays for. */
  pollMs: number[] = []
  latest: number[]

  constructor (private readonly apis: readonly NodeApi[], readonly interval: number) {
    this.latest = apis.map(() => 0)
  }

  start (): void {
    if (this.running) return
    this.running = true
    const loop = async (): Promise<void> => {
      const started = performance.now()
      const slowest = await this.poll()
      if (!this.running) return
      const every = Math.min(Math.max(this.interval, 10 * slowest), MAX_INTERVAL_MS)
      this.timer = setTimeout(() => { void loop() }, Math.max(0, every - (performance.now() - started)))
    }
    void loop()
  }

  stop (): void {
    this.running = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.wakeAll()
  }

  /** Polls every node once; returns the slowest answer time (ms). */
  private async poll (): Promise<number> {
    let slowest = 0
    const t: number[] = []
    const delivered: number[] = []
    await Promise.all(this.apis.map(async (api, k) => {
      const sent = performance.now()
      try {
        const st = await api.status()
        const now = performance.now()
        this.pollMs.push(now - sent)
        slowest = Math.max(slowest, now - sent)
        t[k] = (sent + now) / 2
        delivered[k] = st.delivered
      } catch {
        this.errors++
        t[k] = this.history.at(-1)?.t[k] ?? sent
        delivered[k] = this.latest[k]!
      }
    }))
    this.latest = delivered
    this.history.push({ t, delivered })
    this.wakeAll()
    return slowest
  }

  private wakeAll (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Resolves after the next poll (or at once if stopped). */
  async next (): Promise<void> {
    if (!this.running) return
    await new Promise<void>(resolve => this.waiters.push(resolve))
  }

  /** Starts a new history (a run), keeping the last sample as the first point to interpolate from. */
  reset (): void {
    this.history = this.history.slice(-1)
    this.pollMs = []
    this.errors = 0
  }

  samples (): readonly Sample[] {
    return this.history
  }

  /** Ops delivered at every validator per second over about the last `ms` (0 until two polls). */
  recentRate (ms = 1000): number {
    const last = this.history.at(-1)
    if (last === undefined) return 0
    const tLast = Math.max(...last.t)
    let first = last
    for (let i = this.history.length - 2; i >= 0; i--) {
      first = this.history[i]!
      if (tLast - Math.max(...first.t) >= ms) break
    }
    const dt = tLast - Math.max(...first.t)
    return dt <= 0 ? 0 : (Math.min(...last.delivered) - Math.min(...first.delivered)) / dt * 1000
  }

  /** When the latest counts were read (performance.now() ms; 0 before the first poll). */
  latestAt (): number {
    const last = this.history.at(-1)
    return last === undefined ? 0 : Math.max(...last.t)
  }

  /** What the load generator reads of delivery (see SendOptions), counted from `base`. */
  feeds (base: readonly number[]): { delivered: () => number, deliveryRate: () => number, deliveredAt: () => number, wake: () => Promise<void> } {
    return {
      delivered: () => this.minSince(base),
      deliveryRate: () => this.recentRate(),
      deliveredAt: () => this.latestAt(),
      wake: async () => await this.next()
    }
  }

  /** The fewest ops delivered since `base` at any validator. */
  minSince (base: readonly number[]): number {
    return Math.min(...this.latest.map((d, k) => d - base[k]!))
  }

  /**
   * When node k's count first reached base[k] + target, interpolated between the polls around
   * it; undefined for a node not there yet.
   */
  crossing (base: readonly number[], target: number): Array<number | undefined> {
    return base.map((b, k) => {
      const goal = b + target
      let prev: Sample | undefined
      for (const s of this.history) {
        const d = s.delivered[k]!
        if (d >= goal) {
          if (prev === undefined) return s.t[k]!
          const d0 = prev.delivered[k]!
          const t0 = prev.t[k]!
          return d === d0 ? s.t[k]! : t0 + (goal - d0) / (d - d0) * (s.t[k]! - t0)
        }
        prev = s
      }
      return undefined
    })
  }
}
