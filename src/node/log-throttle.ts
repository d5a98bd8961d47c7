// Keeps a record that can repeat (a peer flooding us, a slow disk) to one line per key per
// interval, and counts what it held back, so a log says how often without saying it every time.

export class LogThrottle {
  private readonly last = new Map<string, { at: number, held: number }>()

  constructor (private readonly intervalMs: number, private readonly now: () => number = () => Date.now()) {}

  /** undefined: stay quiet this time; a number: log now, saying that many were held back since the last. */
  take (key: string): number | undefined {
    const now = this.now()
    const seen = this.last.get(key)
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.held++
      return undefined
    }
    // a flood of distinct keys (peer ids are free) must not grow this without bound
    if (seen === undefined && this.last.size >= 1000) this.last.clear()
    this.last.set(key, { at: now, held: 0 })
    return seen?.held ?? 0
  }
}
