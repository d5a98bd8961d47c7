// History routes: an account's ops, a contract's events (pages, newest first) and GET /v1/events,
// a server-sent events stream of both as the node delivers them. The index is the node's
// (src/node/history.ts); this module pages it and fans new entries out to subscribers.
//
// A stream is bounded like everything else the API holds: subscribers are capped (503 beyond),
// each one's unsent bytes are capped (a reader that falls behind is cut, never buffered without
// limit), a comment line every heartbeatMs keeps proxies from closing an idle stream, and a
// stream ends with its client, its API server or its node.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError } from './errors.js'
import { queryInteger, queryParam, singleHeader } from './request.js'
import type { Target } from './request.js'
import { compare, cursorOf, eventView, formatCursor, isEvent, opView, parseCursor } from '../node/history.js'
import type { Cursor, EventRecord, HistoryFilter, HistoryIndex, OpRecord } from '../node/history.js'
import type { Logger } from '../node/log.js'
import type { BftNode } from '../node/node.js'
import { fromHex } from '../core/crypto/hash.js'
import { DEFAULT_PAGE, MAX_PAGE } from './routes.js'

/** Event names a filter may name (longer ones cannot match anything worth asking for). */
const MAX_NAME = 256
const HEX32 = /^[0-9a-f]{64}$/

export interface StreamLimits {
  /** Open streams at once, per API server; more are answered 503 ERR_BUSY. */
  maxSubscribers: number
  /** A `: ping` comment this often (ms), so proxies and clients see the stream alive. */
  heartbeatMs: number
  /** A reader that takes nothing for this long while data waits is cut (ms). */
  stallMs: number
}

/**
 * A stream holds no backlog of its own: what a reader has not taken yet stays in the history
 * index, and is written as the socket drains (at most BATCH_BYTES past the socket's buffer). A
 * reader the index would have to forget entries for (it fell that far behind) is cut instead,
 * and so is one that takes nothing for stallMs.
 */
export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxSubscribers: 100, heartbeatMs: 15_000, stallMs: 60_000 }

/** Entries and bytes written per step while a reader catches up, between waits for it. */
const BATCH_ENTRIES = 256
const BATCH_BYTES = 64 * 1024

function hex32Query (target: Target, name: string): string | undefined {
  const v = queryParam(target.query, name)
  if (v === undefined) return undefined
  if (!HEX32.test(v)) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "${name}" must be 64 lowercase hex digits`)
  return v
}

function pageQuery (target: Target): { before: Cursor | undefined, limit: number } {
  const limit = queryInteger(target.query, 'limit') ?? DEFAULT_PAGE
  if (limit < 1 || limit > MAX_PAGE) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "limit" must be 1 to ${MAX_PAGE}`)
  const raw = queryParam(target.query, 'before')
  const before = raw === undefined ? undefined : parseCursor(raw)
  if (raw !== undefined && before === undefined) throw new ApiError(400, 'ERR_BAD_QUERY', 'query parameter "before" must be a cursor from an earlier page\'s "next" (digits, or digits:digits)')
  return { before, limit }
}

function pathHex (s: string | undefined, what: string): string {
  if (s === undefined || !HEX32.test(s)) throw new ApiError(400, 'ERR_BAD_REQUEST', `${what} must be 64 lowercase hex digits`)
  return s
}

/** GET /v1/accounts/{account}/ops */
export function accountOpsPage (node: BftNode, parts: readonly string[], target: Target): unknown {
  const account = pathHex(parts[2], 'account')
  const { before, limit } = pageQuery(target)
  const page = node.history.accountOps(account, before, limit)
  return { items: page.items.map(opView), ...(page.next === undefined ? {} : { next: formatCursor(page.next) }) }
}

/** GET /v1/contracts/{address}/events */
export function contractEventsPage (node: BftNode, parts: readonly string[], target: Target): unknown {
  const address = pathHex(parts[2], 'contract address')
  const { before, limit } = pageQuery(target)
  const name = queryParam(target.query, 'name')
  if (name !== undefined && (name === '' || name.length > MAX_NAME)) throw new ApiError(400, 'ERR_BAD_QUERY', `query parameter "name" must be 1 to ${MAX_NAME} characters`)
  if (!node.history.hasEvents(address) && node.replica.ledger.contract(fromHex(address)) === undefined) {
    throw new ApiError(404, 'ERR_UNKNOWN_CONTRACT', 'no contract at that address')
  }
  const page = node.history.contractEvents(address, before, limit, name)
  return { items: page.items.map(eventView), ...(page.next === undefined ? {} : { next: formatCursor(page.next) }) }
}

// -------------------------------------------------------------------------------------------
// GET /v1/events

interface Subscriber {
  readonly res: ServerResponse
  readonly filter: HistoryFilter
  /** The last entry written (or, before any, where the stream starts). */
  cursor: Cursor
  /** Entries evicted at or before these were gone when the stream started: not the reader's fault. */
  readonly floor: { ops: Cursor, events: Cursor }
  /** Catching up from the index (the socket was full, or a resume): new entries are not written directly. */
  pumping: boolean
  /** When a write last found the socket's buffer full, until it drains. */
  stalledSince: number | undefined
  closed: boolean
  /** Takes this stream's listeners off the connection (which may outlive it, kept alive). */
  detach: () => void
  /** Wakes a catch-up waiting for the socket to drain, once the stream is dropped. */
  wake: (() => void) | undefined
}

function message (r: OpRecord | EventRecord): string {
  return isEvent(r)
    ? `id: ${formatCursor(cursorOf(r))}\nevent: event\ndata: ${JSON.stringify(eventView(r))}\n\n`
    : `id: ${r.index}\nevent: delivered\ndata: ${JSON.stringify(opView(r))}\n\n`
}

const later = (a: Cursor, b: Cursor): Cursor => compare(a, b) >= 0 ? a : b

/** The cursor of whatever sits right before `r` (an op's position is -1, its events' 0, 1, ...). */
const justBefore = (r: OpRecord | EventRecord): Cursor => { const c = cursorOf(r); return { index: c.index, position: c.position - 1 } }

/** The streams of one API server: who follows what, fed by the node's history index. */
export class EventStreams {
  private readonly subs = new Set<Subscriber>()
  private readonly allOps = new Set<Subscriber>()
  private readonly allEvents = new Set<Subscriber>()
  private readonly byAccount = new Map<string, Set<Subscriber>>()
  private readonly byContract = new Map<string, Set<Subscriber>>()
  private readonly timer: NodeJS.Timeout
  private unlisten: () => void = () => {}
  private ended = false
  /** Readers cut for falling behind or stalling, since start. */
  cut = 0

  constructor (private readonly history: HistoryIndex, readonly limits: StreamLimits, private readonly log: Logger) {
    this.timer = setInterval(() => this.heartbeat(), limits.heartbeatMs)
    this.timer.unref()
    // last: a node already stopped calls closed() at once (the first stream asked for after it
    // stopped), which needs the timer to clear and must find unlisten callable
    this.unlisten = history.listen({
      op: r => this.fanOut(r, this.allOps, this.byAccount.get(r.stream.key)),
      event: r => this.fanOut(r, this.allEvents, this.byContract.get(r.stream.key)),
      closed: () => this.close()
    })
  }

  get size (): number {
    return this.subs.size
  }

  /** GET /v1/events: validates, then holds the response open as a stream. */
  open (req: IncomingMessage, res: ServerResponse, target: Target): void {
    const account = hex32Query(target, 'account')
    const contract = hex32Query(target, 'contract')
    const lastId = singleHeader(req, 'last-event-id')
    const resume = lastId === undefined || lastId === '' ? undefined : parseCursor(lastId)
    if (lastId !== undefined && lastId !== '' && resume === undefined) throw new ApiError(400, 'ERR_BAD_REQUEST', 'Last-Event-ID must be an id this stream sent (digits, or digits:digits)')
    if (this.ended || this.history.stopped) throw new ApiError(503, 'ERR_BUSY', 'the node is stopping', { retryAfterMs: 5000 })
    if (this.subs.size >= this.limits.maxSubscribers) {
      throw new ApiError(503, 'ERR_BUSY', `this node already serves ${this.limits.maxSubscribers} event streams; retry later`, { retryAfterMs: 5000 })
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx would otherwise hold the stream back in its buffer
      'x-accel-buffering': 'no'
    })
    if (req.method === 'HEAD') { res.end(); return }
    const filter: HistoryFilter = account === undefined && contract === undefined
      ? { ops: true, events: true }
      : { ops: account !== undefined, events: contract !== undefined, ...(account === undefined ? {} : { account }), ...(contract === undefined ? {} : { contract }) }
    // without Last-Event-ID: from after everything delivered so far
    const cursor = resume ?? { index: this.history.lastIndex, position: Number.MAX_SAFE_INTEGER }
    const sub: Subscriber = { res, filter, cursor, floor: this.history.lastEvicted(), pumping: false, stalledSince: undefined, closed: false, detach: () => {}, wake: undefined }
    this.subs.add(sub)
    if (filter.ops) (filter.account === undefined ? this.allOps : setIn(this.byAccount, filter.account)).add(sub)
    if (filter.events) (filter.contract === undefined ? this.allEvents : setIn(this.byContract, filter.contract)).add(sub)
    res.on('close', () => this.drop(sub))
    res.on('drain', () => { sub.stalledSince = undefined })
    // The client going away is watched on the connection, req.socket, not on res.socket: a
    // response queued behind earlier ones on a pipelined connection gets its socket only when it
    // reaches the front (null until then), and by then the client may have ended or closed the
    // connection; res 'close' would never come for it. (Not req 'close' either: that fires once
    // the request has been read, not when the connection goes.)
    const conn = req.socket
    const onEnd = (): void => this.clientEnded(sub)
    const onClose = (): void => this.end(sub, true)
    conn.on('end', onEnd).on('close', onClose)
    sub.detach = () => { conn.off('end', onEnd).off('close', onClose) }
    // the headers and a first line at once, so the client knows it is subscribed
    res.write(`: subscribed; last index ${this.history.lastIndex}\nretry: 3000\n\n`)
    // a client that ended (or closed) before this request was handled: the stream ends at once,
    // cleanly, after its first line
    if (conn.readableEnded || conn.destroyed) { this.end(sub); return }
    if (resume !== undefined) {
      // entries after the reader's last one may be gone from the index: say so rather than
      // leave a silent hole (for a filtered stream they may not have been its entries at all)
      const gone = this.history.lastEvicted()
      const lost = [filter.ops ? gone.ops : undefined, filter.events ? gone.events : undefined]
        .filter((c): c is Cursor => c !== undefined && compare(c, resume) > 0)
        .reduce<Cursor | undefined>((a, c) => (a === undefined ? c : later(a, c)), undefined)
      if (lost !== undefined) res.write(`event: gap\ndata: ${JSON.stringify({ after: formatCursor(resume), through: formatCursor(lost) })}\n\n`)
      this.pump(sub)
    }
  }

  /** A new entry: written at once to readers that are caught up; the others read it from the index. */
  private fanOut (r: OpRecord | EventRecord, all: Set<Subscriber>, some: Set<Subscriber> | undefined): void {
    if (all.size === 0 && some === undefined) return
    let text: string | undefined
    for (const set of [all, some]) {
      if (set === undefined) continue
      for (const sub of set) {
        if (sub.pumping || sub.closed) continue
        if (sub.res.writableNeedDrain) {
          // a live reader got every entry of its filter before this one: what the index evicts
          // from here on that is older than r was never owed to it
          sub.cursor = later(sub.cursor, justBefore(r))
          this.pump(sub)
          continue
        }
        text ??= message(r)
        sub.cursor = cursorOf(r)
        if (!sub.res.write(text)) sub.stalledSince ??= Date.now()
      }
    }
  }

  /** Catches a reader up from the index, writing as its socket drains, until nothing is left. */
  private pump (sub: Subscriber): void {
    if (sub.pumping || sub.closed) return
    sub.pumping = true
    this.catchUp(sub).catch(err => {
      this.log.warn('event stream failed', { error: (err as Error).message })
      this.end(sub, true)
    })
  }

  private async catchUp (sub: Subscriber): Promise<void> {
    while (!sub.closed) {
      if (sub.res.writableNeedDrain) await this.drained(sub)
      if (sub.closed) return
      if (this.fellBehind(sub)) { this.cutReader(sub, 'fell behind what the history index holds'); return }
      const batch = this.history.after(sub.cursor, sub.filter, BATCH_ENTRIES)
      // caught up: from here on, fanOut writes every new entry (same tick, so none is missed). The
      // reader has every entry of its filter up to the newest delivery, so evictions of older
      // entries (other accounts', for a filtered stream) are nothing it is owed.
      if (batch.length === 0) {
        sub.cursor = later(sub.cursor, { index: this.history.lastIndex, position: Number.MAX_SAFE_INTEGER })
        sub.pumping = false
        return
      }
      let text = ''
      for (const r of batch) {
        text += message(r)
        sub.cursor = cursorOf(r)
        if (text.length >= BATCH_BYTES) break
      }
      if (!sub.res.write(text)) sub.stalledSince ??= Date.now()
    }
  }

  /** The index evicted an entry this reader was still to get (one newer than where it is). */
  private fellBehind (sub: Subscriber): boolean {
    const gone = this.history.lastEvicted()
    return (sub.filter.ops && compare(gone.ops, later(sub.cursor, sub.floor.ops)) > 0) ||
      (sub.filter.events && compare(gone.events, later(sub.cursor, sub.floor.events)) > 0)
  }

  private async drained (sub: Subscriber): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { done(); this.cutReader(sub, `took nothing for ${this.limits.stallMs} ms`) }, this.limits.stallMs)
      // (a queued response the client left never emits 'close': the drop wakes this instead)
      const done = (): void => { clearTimeout(timer); sub.wake = undefined; sub.res.off('drain', done).off('close', done); resolve() }
      sub.wake = done
      sub.res.on('drain', done).on('close', done)
    })
  }

  private cutReader (sub: Subscriber, why: string): void {
    if (sub.closed) return
    this.cut++
    this.log.debug('event stream reader cut', { why })
    this.end(sub, true)
  }

  private heartbeat (): void {
    const now = Date.now()
    for (const sub of this.subs) {
      if (sub.stalledSince !== undefined && now - sub.stalledSince > this.limits.stallMs) { this.cutReader(sub, `took nothing for ${this.limits.stallMs} ms`); continue }
      // a reader behind is getting data already
      if (!sub.pumping && !sub.res.writableNeedDrain) sub.res.write(': ping\n\n')
    }
  }

  /**
   * The client ended its sending side. An event stream's client never half-closes, so it is gone
   * (the server keeps half-open sockets open, see server.ts), and a stream that has the socket
   * has nothing left worth sending. One still queued behind earlier answers on a pipelined
   * connection (no socket yet) ends cleanly instead: the answers before it and after it still go
   * out, and Node closes the connection after the last one.
   */
  private clientEnded (sub: Subscriber): void {
    this.end(sub, sub.res.socket !== null)
  }

  /** Ends a stream: cleanly (the reader sees the end), or at once when what is queued is not worth sending. */
  private end (sub: Subscriber, destroy = false): void {
    this.drop(sub)
    if (destroy) sub.res.destroy()
    else sub.res.end()
  }

  private drop (sub: Subscriber): void {
    if (sub.closed) return
    sub.closed = true
    sub.detach()
    sub.wake?.()
    this.subs.delete(sub)
    this.allOps.delete(sub)
    this.allEvents.delete(sub)
    if (sub.filter.account !== undefined) remove(this.byAccount, sub.filter.account, sub)
    if (sub.filter.contract !== undefined) remove(this.byContract, sub.filter.contract, sub)
  }

  /** The API server or the node stops: every stream ends now, new ones are refused. */
  close (): void {
    if (this.ended) return
    this.ended = true
    clearInterval(this.timer)
    this.unlisten()
    for (const sub of [...this.subs]) this.end(sub)
  }
}

function setIn<K, V> (m: Map<K, Set<V>>, k: K): Set<V> {
  let s = m.get(k)
  if (s === undefined) { s = new Set(); m.set(k, s) }
  return s
}

function remove<K, V> (m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k)
  if (s === undefined) return
  s.delete(v)
  if (s.size === 0) m.delete(k)
}
