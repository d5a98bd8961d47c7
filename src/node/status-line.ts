// The node's periodic status line (`status: healthy | peers 3 | validators 3/3 | delivered ...`)
// and the warnings an operator must not miss: no peers, below quorum and its return, clients
// turned away, peers sending invalid messages. A state is said when it changes and a count once
// per interval, never once per check, so a node in trouble for hours does not bury its own log.

import { oneLine } from './log.js'
import type { Logger } from './log.js'

/** What the node reports at each check (BftNode gathers it). */
export interface StatusFigures {
  readonly validator: boolean
  /** A validator that votes (one that joined on a new data dir may not). */
  readonly voting: boolean
  readonly peers: number
  /** Validators connected, this node not counted, and how many there are besides it. */
  readonly validatorsConnected: number
  readonly otherValidators: number
  /** Votes a certificate needs (this node's own counts for a voting validator). */
  readonly quorum: number
  /** The epoch of the validator set (shown once a change made it more than 0). */
  readonly epoch?: number
  /** Zero peers is trouble: there are other validators, or peers to dial. */
  readonly expectPeers: boolean
  readonly delivered: number
  readonly queued: number
  readonly buffered: number
  /** Height of the latest certified checkpoint (0: none), and when this node reached it (ms). */
  readonly checkpoint: number
  readonly checkpointAt: number | undefined
  /** Requests the API turned away since start, and why the last one was. */
  readonly shedRequests: number
  readonly shedReason: string | undefined
}

/** How often warnings are checked when the status line is off (ms). */
const CHECK_WITHOUT_LINE_MS = 10_000

/** Peers get this long after start to connect before their absence is a warning (ms). */
export const PEER_GRACE_MS = 5000

/** Peers named in one summary of invalid messages. */
const MAX_PEERS_NAMED = 5

/** Characters of a rejection's reason kept: it may quote a peer's message (up to 4 MiB). */
const MAX_REASON = 120

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined
  private previous: { delivered: number, shed: number, at: number } | undefined
  private startedAt = 0
  private noPeers = false
  private belowQuorum = false
  private readonly rejects = new Map<string, { count: number, reason: string }>()

  /** `intervalMs`: of the status line, 0 for none (warnings are still checked). */
  constructor (
    private readonly figures: () => StatusFigures,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = () => Date.now()
  ) {}

  /** Checks every interval from now; peer warnings wait for PEER_GRACE_MS. */
  start (): void {
    this.startedAt = this.now()
    this.previous = { ...this.counts(this.figures()), at: this.now() }
    this.timer = setInterval(() => this.check(), this.intervalMs > 0 ? this.intervalMs : CHECK_WITHOUT_LINE_MS)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /** A peer sent a message the replica rejected as invalid: summed up at the next check. */
  rejected (peer: string, reason: string): void {
    const r = this.rejects.get(peer)
    if (r !== undefined) {
      r.count++
      r.reason = clip(reason)
    } else if (this.rejects.size < 1000) {
      this.rejects.set(peer, { count: 1, reason: clip(reason) })
    }
  }

  check (): void {
    const f = this.figures()
    const now = this.now()
    const prev = this.previous ?? { ...this.counts(f), at: now }
    this.previous = { ...this.counts(f), at: now }
    const seconds = Math.max((now - prev.at) / 1000, 0.001)
    if (now - this.startedAt >= PEER_GRACE_MS) this.peerWarnings(f)
    const shed = f.shedRequests - prev.shed
    if (shed > 0) {
      this.log.warn(`turned ${count(shed)} client request(s) away with 503 ERR_BUSY in the last ${Math.round(seconds)} s: ${f.shedReason ?? 'the node is saturated'}`, { requests: shed })
    }
    this.misbehaviour(seconds)
    if (this.intervalMs > 0) this.log.info(statusLine(f, { rate: (f.delivered - prev.delivered) / seconds, busy: shed > 0, now }))
  }

  private counts (f: StatusFigures): { delivered: number, shed: number } {
    return { delivered: f.delivered, shed: f.shedRequests }
  }

  private peerWarnings (f: StatusFigures): void {
    const noPeers = f.expectPeers && f.peers === 0
    if (noPeers !== this.noPeers) {
      this.noPeers = noPeers
      if (noPeers) this.log.warn('no peers connected: check the bootstrap addresses and that the other nodes are up (net=debug shows each failed dial)')
      else this.log.info('peers connected again', { peers: f.peers })
    }
    const needed = quorumOthers(f)
    const below = needed !== undefined && f.validatorsConnected < needed
    if (below !== this.belowQuorum) {
      this.belowQuorum = below
      const connected = `${f.validatorsConnected} of ${f.otherValidators} other validators connected`
      // a validator that does not vote yet (probation) cannot count its own vote
      const own = f.validator && !f.voting ? ' (this validator does not vote yet, so its own vote does not count)' : ''
      if (below) this.log.warn(`below quorum: ${connected}, ${needed!} needed${own}; no op can be certified until more connect`, { connected: f.validatorsConnected, needed })
      else this.log.info(`quorum restored: ${connected}`, { connected: f.validatorsConnected })
    }
  }

  private misbehaviour (seconds: number): void {
    if (this.rejects.size === 0) return
    const worst = [...this.rejects].sort(([, a], [, b]) => b.count - a.count)
    const total = worst.reduce((n, [, r]) => n + r.count, 0)
    const named = worst.slice(0, MAX_PEERS_NAMED).map(([peer, r]) => `${peer.slice(0, 16)} x${r.count} (${oneLine(r.reason)})`)
    const more = worst.length > MAX_PEERS_NAMED ? ` and ${worst.length - MAX_PEERS_NAMED} more` : ''
    this.log.warn(`rejected ${count(total)} invalid message(s) from ${worst.length} peer(s) in the last ${Math.round(seconds)} s: ${named.join(', ')}${more}`, { messages: total, peers: worst.length })
    this.rejects.clear()
  }
}

/**
 * Other validators a validator must reach for a quorum, with its own vote if it votes; undefined
 * for an observer. A validator that does not vote (a new data dir) needs a whole quorum of others
 * for its ops to be certified; on probation it starts voting only once it reaches even more.
 */
function quorumOthers (f: StatusFigures): number | undefined {
  return f.validator ? f.quorum - (f.voting ? 1 : 0) : undefined
}

/** One word for the node's state, worst first. */
export function verdict (f: StatusFigures, busy = false): string {
  if (f.expectPeers && f.peers === 0) return 'no peers'
  const needed = quorumOthers(f)
  if (needed !== undefined && f.validatorsConnected < needed) return 'below quorum'
  if (busy) return 'saturated'
  if (f.validator && !f.voting) return 'not voting'
  return 'healthy'
}

/** `status: healthy | peers 3 | validators 3/3 | delivered 12,345 (+56/s) | queued 0 | checkpoint 12,000 (4 s ago)` */
export function statusLine (f: StatusFigures, at: { rate: number, busy: boolean, now: number }): string {
  const parts = [
    `status: ${verdict(f, at.busy)}`,
    `peers ${count(f.peers)}`,
    `validators ${f.validatorsConnected}/${f.otherValidators}${(f.epoch ?? 0) > 0 ? ` (epoch ${f.epoch!})` : ''}`,
    `delivered ${count(f.delivered)} (+${count(Math.round(at.rate))}/s)`,
    `queued ${count(f.queued)}`
  ]
  if (f.buffered > 0) parts.push(`buffered ${count(f.buffered)}`)
  parts.push(f.checkpoint === 0 ? 'checkpoint none' : `checkpoint ${count(f.checkpoint)}${f.checkpointAt === undefined ? '' : ` (${ago(at.now - f.checkpointAt)})`}`)
  return parts.join(' | ')
}

/** The start of a reason, copied (a slice would keep the whole of a long one in memory). */
function clip (reason: string): string {
  return reason.length <= MAX_REASON ? reason : Buffer.from(reason.slice(0, MAX_REASON)).toString() + '…'
}

function count (n: number): string {
  return n.toLocaleString('en-US')
}

function ago (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s} s ago`
  if (s < 7200) return `${Math.round(s / 60)} min ago`
  return `${Math.round(s / 3600)} h ago`
}
