// Sends pre-signed ops to the validators' APIs, each op to its account's home validator, in
// submission order. Closed loop (batch and single modes): a fixed number of requests in flight
// per validator, each sent when the last one was answered. Open loop (half-peak and long runs): ops
// fall due at a fixed rate and go out every tick, whether or not earlier ones were answered.
// Either way an op leaves only while fewer than `window` ops are outstanding (sent, not yet
// delivered at every validator), and while the backlog stays under `maxBacklogMs`: the oldest
// outstanding op left less than that ago, and no more are outstanding than the recent delivery
// rate clears in that time. The node re-proposes ops not certified within 1.5 s
// (reproposeAfter), so a deeper backlog multiplies its work and throughput collapses: the cap
// finds the peak it can sustain, starting from a small allowance and growing with the rate.
// Refused ops that may pass later ("busy", "not-accepted", ...) are sent again after a back-off;
// a request a saturated node answers 503 goes again when its retry hint says.

import type { NodeApi } from './http.js'
import type { Prepared } from './accounts.js'

/** Refusals worth retrying: the node is full, or has not caught up with what the op needs. */
const TRANSIENT = new Set(['busy', 'not-accepted', 'too-far-ahead', 'unfunded'])
const MIN_BACKOFF_MS = 25
const MAX_BACKOFF_MS = 1000
const TICK_MS = 20
/**
 * Outstanding ops the backlog cap always allows, so a run can start; more as the delivery rate
 * shows the nodes clear them (twice what they clear in maxBacklogMs, so the allowance at least
 * doubles a second while it limits the rate, and the age of the oldest op is what binds).
 */
const MIN_ALLOWANCE = 128

export interface SendOptions {
  readonly apis: readonly NodeApi[]
  readonly ops: Prepared
  readonly opsPerRequest: number
  /** Closed loop: requests in flight at each validator (one entry per validator). */
  readonly perNode?: readonly number[]
  /** Open loop: ops per second, the first due at `startAt` (performance.now() ms). */
  readonly rate?: number
  readonly startAt?: number
  /** Ops sent before these (a long run comes in chunks): the due time and window count them. */
  readonly offset?: number
  readonly window: number
  /** Ops delivered at every validator, counted from the same origin as `offset`. */
  readonly delivered: () => number
  /** Resolves when `delivered` may have moved. */
  readonly wake: () => Promise<void>
  /** True once the run gives up (timeout, a validator died, interrupted). */
  readonly stopped: () => boolean
  /** Called when op i is accepted by the validator asked, with the time its request left. */
  readonly onAccepted?: (i: number, sentAt: number) => void
  /** Counters to add to (a long run sends in chunks); new ones by default. */
  readonly counters?: SendCounters
  /** The backlog cap (ms, see above); unset: no cap. */
  readonly maxBacklogMs?: number
  /** Ops delivered at every validator per second, lately: sizes the backlog allowance. */
  readonly deliveryRate?: () => number
  /** When `delivered` was read (performance.now() ms): the backlog is aged at that moment. */
  readonly deliveredAt?: () => number
  /** When each op left (a long run shares one across chunks); a new one by default. */
  readonly clock?: SendClock
}

/** When the requests that carried accepted ops left, in the order the ops were accepted. */
export class SendClock {
  private readonly left: number[] = []

  /** An op was accepted; its request left at `sentAt`. */
  accepted (sentAt: number): void {
    this.left.push(sentAt)
  }

  /**
   * How long ago the oldest op not yet delivered left, when `delivered` ops are: delivery is
   * nearly in the order ops were accepted, so it is the (delivered+1)-th accepted (0 if none is
   * out). Ops refused and not yet accepted again do not count: they are not in the network, and
   * counting them stalled the sender for good behind one 503. Nor is it the op at position
   * `delivered`: per-validator queues send out of position order, and that op may have been
   * delivered long ago while a lower one waits.
   */
  outstandingAge (delivered: number, now: number): number {
    const t = this.left[delivered]
    return t === undefined ? 0 : now - t
  }
}

export interface SendCounters {
  requests: number
  accepted: number
  /** Refusals by code (every attempt counts; retried ones too). */
  rejected: Record<string, number>
  /** Whole requests answered with something other than 202, by HTTP status. */
  http: Record<string, number>
  networkErrors: number
  /** Ops that can never pass (a refusal not worth retrying). */
  failed: number
  firstErrors: string[]
  /** Open loop: the most an op left behind its due time (ms); the window holds ops back. */
  lagMs: number
  /** performance.now() when the last op was accepted. */
  lastAcceptedAt: number
}

export function newCounters (): SendCounters {
  return { requests: 0, accepted: 0, rejected: {}, http: {}, networkErrors: 0, failed: 0, firstErrors: [], lagMs: 0, lastAcceptedAt: 0 }
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** One validator's share of the ops: its queue in submission order, and refused ops to resend. */
class NodeQueue {
  readonly order: number[] = []
  head = 0
  retry: number[] = []
  inFlight = 0
  backoff = 0
  notBefore = 0

  empty (): boolean {
    return this.head >= this.order.length && this.retry.length === 0
  }

  /** Up to `max` ops, lowest positions first, each passing `ok`. */
  take (max: number, ok: (i: number) => boolean): number[] {
    const out: number[] = []
    while (out.length < max && this.retry.length > 0 && ok(this.retry[0]!)) out.push(this.retry.shift()!)
    while (out.length < max && this.head < this.order.length && ok(this.order[this.head]!)) out.push(this.order[this.head++]!)
    return out
  }

  giveBack (ops: readonly number[]): void {
    this.retry = [...this.retry, ...ops].sort((a, b) => a - b)
  }
}

function retryHint (body: string): number | undefined {
  try {
    const ms = (JSON.parse(body) as { error?: { retryAfterMs?: unknown } }).error?.retryAfterMs
    return typeof ms === 'number' && ms > 0 && ms <= 60_000 ? ms : undefined
  } catch {
    return undefined
  }
}

/** Sends every op once accepted (or given up); returns what happened. */
export async function sendAll (o: SendOptions): Promise<SendCounters> {
  const c = o.counters ?? newCounters()
  const offset = o.offset ?? 0
  const queues = o.apis.map(() => new NodeQueue())
  for (let i = 0; i < o.ops.hex.length; i++) queues[o.ops.node[i]!]!.order.push(i)
  const clock = o.clock ?? new SendClock()
  const allowance = (): number => o.maxBacklogMs === undefined ? Infinity : Math.max(MIN_ALLOWANCE, 2 * (o.deliveryRate?.() ?? 0) * o.maxBacklogMs / 1000)
  // positions below this may leave now (computed once a request: the rate reads the history)
  const limit = (): number => o.delivered() + Math.min(o.window, allowance()) - offset
  // the backlog: the age of the oldest op not delivered everywhere when the count was read
  const backlogOpen = (): boolean => o.maxBacklogMs === undefined || clock.outstandingAge(o.delivered(), o.deliveredAt?.() ?? performance.now()) <= o.maxBacklogMs

  const send = async (k: number, idx: number[]): Promise<void> => {
    const q = queues[k]!
    const sentAt = performance.now()
    q.inFlight += idx.length
    c.requests++
    let retry: number[] = []
    let hint: number | undefined
    try {
      const r = await o.apis[k]!.submit(idx.map(i => o.ops.hex[i]!))
      if (r.results === undefined) {
        c.http[r.status] = (c.http[r.status] ?? 0) + 1
        // 503 and other 5xx say "later"; a 4xx says this request can never pass
        if (r.status >= 500 || r.status === 429) {
          retry = idx
          // a saturated node says when to come back (503 ERR_BUSY, retryAfterMs)
          if (r.status === 503) hint = retryHint(r.body)
        } else {
          c.failed += idx.length
          if (c.firstErrors.length < 5) c.firstErrors.push(`HTTP ${r.status}: ${r.body.slice(0, 200)}`)
        }
      } else {
        r.results.forEach((res, j) => {
          const i = idx[j]!
          if (res.status !== 'rejected') {
            clock.accepted(sentAt)
            c.accepted++
            c.lastAcceptedAt = performance.now()
            o.onAccepted?.(i, sentAt)
            return
          }
          c.rejected[res.code] = (c.rejected[res.code] ?? 0) + 1
          if (TRANSIENT.has(res.code)) retry.push(i)
          else {
            c.failed++
            if (c.firstErrors.length < 5) c.firstErrors.push(`${res.code}: ${res.reason}`)
          }
        })
      }
    } catch (err) {
      c.networkErrors++
      if (c.firstErrors.length < 5) c.firstErrors.push((err as Error).message)
      retry = idx
    } finally {
      q.inFlight -= idx.length
    }
    if (retry.length > 0) {
      q.giveBack(retry)
      q.backoff = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, q.backoff * 2))
      q.notBefore = performance.now() + (hint ?? q.backoff)
    } else {
      q.backoff = 0
    }
  }

  if (o.rate === undefined) {
    // closed loop: perNode workers per validator, each with one request in flight
    await Promise.all(queues.flatMap((q, k) => Array.from({ length: o.perNode?.[k] ?? 1 }, async () => {
      while (!o.stopped()) {
        const wait = q.notBefore - performance.now()
        if (wait > 0) { await sleep(wait); continue }
        const lim = limit()
        const idx = backlogOpen() ? q.take(o.opsPerRequest, i => i < lim) : []
        if (idx.length > 0) { await send(k, idx); continue }
        if (q.empty() && q.inFlight === 0) return
        // nothing may leave yet: wait for deliveries (or for refused ops to come back)
        await Promise.race([o.wake(), sleep(50)])
      }
    })))
    return c
  }

  // open loop: every tick, each validator gets the ops that fell due, in requests of opsPerRequest
  const rate = o.rate
  const startAt = o.startAt ?? performance.now()
  const flying = new Set<Promise<void>>()
  while (!o.stopped()) {
    const now = performance.now()
    const due = Math.floor((now - startAt) / 1000 * rate) - offset
    const lim = backlogOpen() ? Math.min(due, limit()) : -1
    const ok = (i: number): boolean => i < lim
    for (const [k, q] of queues.entries()) {
      if (q.notBefore > now) continue
      for (;;) {
        const idx = q.take(o.opsPerRequest, ok)
        if (idx.length === 0) break
        c.lagMs = Math.max(c.lagMs, now - (startAt + (offset + idx[0]!) / rate * 1000))
        const p = send(k, idx)
        flying.add(p)
        void p.finally(() => flying.delete(p))
      }
    }
    if (queues.every(q => q.empty()) && flying.size === 0) break
    await sleep(TICK_MS)
  }
  await Promise.all(flying)
  return c
}
