// A token bucket per peer: inbound frames beyond the rate are dropped before any decoding, so one
// flooding peer costs us little and others keep being served.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (private readonly perSecond: number, private readonly burst: number, private readonly clock: () => number = () => performance.now()) {}

  take (peer: string): boolean {
    const now = this.clock()
    let b = this.buckets.get(peer)
    if (b === undefined) {
      if (this.buckets.size > 10_000) this.buckets.clear()
      b = { tokens: this.burst, at: now }
      this.buckets.set(peer, b)
    }
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) / 1000 * this.perSecond)
    b.at = now
    if (b.tokens < 1) return false
    b.tokens--
    return true
  }
}
