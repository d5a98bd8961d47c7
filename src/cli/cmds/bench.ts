// `bftnode bench transfer`: Juno's `batch test:N` and `many test:N` for a bftnode network. N
// transfers from one wallet account are signed beforehand, then sent as one batch (as few
// requests as the API and the validators' bind window allow) or one op a request (the node's own
// proposer batches them), and timed from submission to delivery at the node the CLI talks to.
//
// The wallet's never-sign-twice record (wallet.ts, client/pending.ts) holds one op per account,
// so a run keeps in it the highest of its ops that may have left this process, moved forward
// before each request leaves. Every later command settles that op first: it is delivered only
// after the run's earlier ops, so nothing is signed for a slot the run may still fill. A run that
// stops early (timeout, Ctrl-C, a refusal) hands the node every op up to that one again, so the
// record can settle, and moves the record down past ops that only ever met refusals. That is
// looser than BftClient, which keeps an op refused for now pending, and it is safe: a node that
// refuses an op (busy, too far ahead, HTTP 503) neither keeps nor forwards it, and each op went
// to that one node only; an op whose answer was lost counts as held. Keeping the record on such
// an op instead would lock the account for good, its predecessors gone with this process.

import { setImmediate as yieldToEvents } from 'node:timers/promises'
import { fromHex, toHex } from '../../core/crypto/hash.js'
import { OP_LIMITS, signOp } from '../../core/ledger/op.js'
import type { Slot } from '../../core/ledger/op.js'
import { DEFAULT_LIMITS } from '../../core/broadcast/replica.js'
import { MESSAGE_LIMITS } from '../../core/broadcast/messages.js'
import { ApiRequestError, NodeUnreachableError } from '../../client/api-client.js'
import type { AccountView, ApiClient, OpStatusView } from '../../client/api-client.js'
import { fillDeps } from '../../client/bodies.js'
import { InsufficientFundsError } from '../../client/errors.js'
import type { PendingOp, PendingStore } from '../../client/pending.js'
import { StreamClosedError } from '../../client/sse.js'
import { api, parseAmount, passphraseFor, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { cleanUpOnSignal } from '../lifecycle.js'
import { walletClient } from '../ops.js'
import type { Wallet } from '../wallet.js'
import { formatReport, summarise, throughput } from '../bench-stats.js'
import type { BenchReport } from '../bench-stats.js'

/** A run's largest size: signing alone takes about a second per 1,000 here (noble ed25519). */
export const MAX_COUNT = 100_000
export const MAX_CONCURRENCY = 256
export const DEFAULT_CONCURRENCY = 32
/** A validator binds an account's slots only this far past its delivered ones; ops beyond wait here. */
const WINDOW = DEFAULT_LIMITS.bindWindow
/** Refusals that mean "not now": the op is sent again a little later. */
const RETRY_CODES = new Set(['busy', 'not-accepted', 'too-far-ahead'])
const RETRY_MS = 200
const POLL_MS = 500
const POLL_GRACE_MS = 3000
/**
 * No delivery for this long (or a third of --timeout): the ops the node took and has not delivered
 * are sent again. A node that restarted lost those it had only queued (or held behind their
 * predecessors), and nothing else would bring them back; to a node that still holds them a copy
 * is a no-op.
 */
const STALL_MS = 5000
/** A stopped run waits this long for requests in flight and for the last resubmission. */
const WIND_DOWN_MS = 2000

export interface BenchTransferArgs {
  count: number
  oneByOne: boolean
  from: string
  to: string
  amount: string
  concurrency?: number
  json: boolean
}

export interface BenchPlan {
  readonly count: number
  readonly amount: bigint
  readonly oneByOne: boolean
  /** Requests in flight at most: one for a batch, --concurrency one by one. */
  readonly concurrency: number
  readonly opsPerRequest: number
}

/** The command line, checked before anything is read or signed. */
export function benchPlan (a: Pick<BenchTransferArgs, 'count' | 'oneByOne' | 'amount' | 'concurrency'>): BenchPlan {
  if (!Number.isSafeInteger(a.count) || a.count < 1 || a.count > MAX_COUNT) throw new UsageError(`--count must be a whole number from 1 to ${MAX_COUNT}, got ${String(a.count)}`)
  if (a.concurrency !== undefined && !a.oneByOne) throw new UsageError('--concurrency is for --one-by-one (a batch goes one request at a time)')
  const concurrency = a.concurrency ?? DEFAULT_CONCURRENCY
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${String(a.concurrency)}`)
  const amount = parseAmount(a.amount)
  return a.oneByOne
    ? { count: a.count, amount, oneByOne: true, concurrency, opsPerRequest: 1 }
    : { count: a.count, amount, oneByOne: false, concurrency: 1, opsPerRequest: MESSAGE_LIMITS.maxBatchOps }
}

/** The node refused the run's ops for good, or another op took one of their slots. */
export class BenchStoppedError extends UsageError {}

/** An error answer given before the node handled the ops: it holds none of them. */
export function refusedUnread (err: unknown): boolean {
  return err instanceof ApiRequestError && (err.status < 500 || err.status === 503)
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** The run's signed transfers, by index (index i is seq first + i). */
interface Signed { readonly first: number, readonly hex: string[], readonly hash: string[], readonly network: string, readonly account: string }

interface RunDeps {
  readonly api: ApiClient
  readonly wallet: Wallet
  readonly name: string
  readonly store: PendingStore
  readonly signed: Signed
  readonly plan: BenchPlan
  readonly timeoutMs: number
}

/** One run: sends, follows deliveries, and knows what to leave in the wallet when it stops. */
class TransferRun {
  readonly n: number
  /** performance.now() of each op's first submission, and of its delivery (NaN: not yet). */
  readonly sentAt: Float64Array
  readonly deliveredAt: Float64Array
  /** 1 applied, 2 rejected, 0 not known (delivery seen by the poll only). */
  readonly outcome: Uint8Array
  /** The delivery was seen on the event stream as it happened: its latency is measured. */
  readonly timed: Uint8Array
  /** The node took the op (queued or delivered). */
  readonly accepted: Uint8Array
  /**
   * Whether some node may hold the op: 0 never sent, or refused by the node each time; 1 in a
   * request not answered yet; 2 taken by the node once, or in a request whose answer was lost (held
   * for all we know, for good: a later refusal of a copy changes nothing).
   */
  readonly held: Uint8Array
  private next = 0
  private retry: number[] = []
  private retryAt = 0
  /** Ops delivered contiguously from index 0. */
  frontier = 0
  /** Index of the op the wallet records (-1: none yet). */
  recorded = -1
  private inFlight = 0
  requests = 0
  resent = 0
  private unreachable = 0
  private lastResendAll = -Infinity
  stopReason: string | undefined
  startedAt = NaN
  stoppedAt = NaN
  lastProgress = NaN
  private wakeUp: () => void = () => {}
  private readonly ended = new AbortController()

  constructor (private readonly d: RunDeps) {
    this.n = d.signed.hex.length
    this.sentAt = new Float64Array(this.n).fill(NaN)
    this.deliveredAt = new Float64Array(this.n).fill(NaN)
    this.outcome = new Uint8Array(this.n)
    this.timed = new Uint8Array(this.n)
    this.accepted = new Uint8Array(this.n)
    this.held = new Uint8Array(this.n)
  }

  get done (): boolean { return this.frontier >= this.n || this.stopReason !== undefined }

  stop (reason: string): void {
    this.stopReason ??= reason
    this.wakeUp()
  }

  private wake (): void { this.wakeUp() }

  /** Opens the event stream, then sends until every op is delivered or the run stops. */
  async run (): Promise<void> {
    const opened = await this.followDeliveries()
    if (!opened) process.stderr.write('bench: the node\'s event stream did not open; deliveries are counted from the account instead, without their latency\n')
    const poll = this.pollAccount()
    this.startedAt = this.lastProgress = performance.now()
    const sending = this.send().catch(err => { this.stop((err as Error).message) })
    const stallMs = Math.min(STALL_MS, this.d.timeoutMs / 3)
    while (!this.done) {
      const now = performance.now()
      if (now - this.lastProgress > this.d.timeoutMs) this.stop(`no transfer was delivered for ${(this.d.timeoutMs / 1000).toFixed(0)} s (--timeout)`)
      else {
        if (now - Math.max(this.lastProgress, this.lastResendAll) > stallMs) this.resendTaken(now)
        await sleep(100)
      }
    }
    this.stoppedAt = performance.now()
    await sending
    await this.windDown()
    this.ended.abort()
    await poll
    await this.lookUpOutcomes()
  }

  private pick (max: number): number[] {
    const limit = this.frontier + WINDOW
    const out: number[] = []
    if (this.retry.length > 0 && performance.now() >= this.retryAt) {
      while (out.length < max && this.retry.length > 0 && this.retry[0]! < limit) out.push(this.retry.shift()!)
    }
    while (out.length < max && this.next < this.n && this.next < limit) out.push(this.next++)
    return out
  }

  private async send (): Promise<void> {
    const per = this.d.plan.opsPerRequest
    while (!this.done) {
      const free = this.d.plan.concurrency - this.inFlight
      const picked = free > 0 ? this.pick(free * per) : []
      if (picked.length === 0) {
        await new Promise<void>(resolve => { this.wakeUp = resolve; setTimeout(resolve, 50) })
        continue
      }
      // recorded before the first of them leaves; if the run stops meanwhile they never leave, and
      // windDown moves the record back down
      const top = Math.max(...picked)
      if (top > this.recorded) await this.record(top)
      if (this.stopReason !== undefined) return
      for (let k = 0; k < picked.length; k += per) void this.request(picked.slice(k, k + per))
    }
  }

  private pendingOp (i: number): PendingOp {
    const s = this.d.signed
    return { seq: s.first + i, op: s.hex[i]!, hash: s.hash[i]!, account: s.account, network: s.network }
  }

  private async record (i: number): Promise<void> {
    const op = this.pendingOp(i)
    if (this.recorded < 0) await this.d.store.set(op.account, op)
    else if (!await this.d.wallet.replacePending(this.d.name, this.d.signed.hash[this.recorded]!, op)) {
      throw new BenchStoppedError(`the wallet's pending op of ${this.d.name} changed during the run: another command is sending for this account`)
    }
    this.recorded = i
  }

  private again (indices: readonly number[], ms: number): void {
    for (const i of indices) {
      if (this.accepted[i] === 1 || !Number.isNaN(this.deliveredAt[i]!)) continue
      this.retry.push(i)
      this.resent++
    }
    this.retry.sort((x, y) => x - y)
    this.retryAt = Math.max(this.retryAt, performance.now() + ms)
  }

  private async request (group: number[]): Promise<void> {
    this.inFlight++
    this.requests++
    const t = performance.now()
    for (const i of group) {
      if (Number.isNaN(this.sentAt[i]!)) this.sentAt[i] = t
      if (this.held[i] === 0) this.held[i] = 1
    }
    try {
      const results = await this.d.api.submit(group.map(i => this.d.signed.hex[i]!))
      this.unreachable = 0
      const later: number[] = []
      group.forEach((i, j) => {
        const r = results[j]
        if (r !== undefined && r.status !== 'rejected') { this.accepted[i] = 1; this.held[i] = 2; return }
        // refused: this node does not hold it and never passed it on (unless a lost answer may have)
        if (r !== undefined) this.unsent(i)
        if (r === undefined || RETRY_CODES.has(r.code)) later.push(i)
        else this.stop(`the node refused transfer #${this.d.signed.first + i} of ${this.d.name}: ${r.reason} (${r.code})`)
      })
      if (later.length > 0) this.again(later, RETRY_MS)
    } catch (err) {
      // a refusal before the ops were read (4xx, 503 busy): the node took none of them; no answer
      // or another 5xx (the node's 500 comes after it queued them, a proxy's 502/504 after it
      // passed them on): it may have
      for (const i of group) if (refusedUnread(err)) this.unsent(i); else this.held[i] = 2
      if (err instanceof ApiRequestError && err.status === 503) this.again(group, RETRY_MS)
      else if (err instanceof NodeUnreachableError && ++this.unreachable < 10) this.again(group, 500)
      else this.stop((err as Error).message)
    } finally {
      this.inFlight--
      this.wake()
    }
  }

  /** Puts the ops the node took and has not delivered (in the bind window) back on the retry list. */
  private resendTaken (now: number): void {
    this.lastResendAll = now
    const taken: number[] = []
    for (let i = this.frontier; i < Math.min(this.n, this.frontier + WINDOW); i++) {
      if (this.accepted[i] === 1 && Number.isNaN(this.deliveredAt[i]!)) { this.accepted[i] = 0; taken.push(i) }
    }
    this.again(taken, 0)
    this.wake()
  }

  private unsent (i: number): void {
    if (this.held[i] === 1) this.held[i] = 0
  }

  private delivered (seq: number, hash: string, applied: boolean | undefined, at: number, timed: boolean): void {
    const i = seq - this.d.signed.first
    if (i < 0 || i >= this.n || !Number.isNaN(this.deliveredAt[i]!)) return
    if (hash !== this.d.signed.hash[i]) {
      this.stop(`slot ${seq} of ${this.d.name} holds op ${hash.slice(0, 16)}, not this run's: another program signs for this account`)
      return
    }
    this.deliveredAt[i] = at
    this.outcome[i] = applied === undefined ? 0 : applied ? 1 : 2
    this.timed[i] = timed ? 1 : 0
    this.lastProgress = at
    while (this.frontier < this.n && !Number.isNaN(this.deliveredAt[this.frontier]!)) this.frontier++
    this.wake()
  }

  /** Follows the account's deliveries (GET /v1/events); resolves once the stream is open (false: it did not open in 5 s). */
  private async followDeliveries (): Promise<boolean> {
    const signal = this.ended.signal
    let opened: (ok: boolean) => void = () => {}
    const open = new Promise<boolean>(resolve => { opened = resolve })
    const follow = async (): Promise<void> => {
      let last: string | undefined
      while (!signal.aborted) {
        try {
          for await (const m of this.d.api.subscribe({ account: this.d.signed.account, signal, onOpen: () => opened(true), ...(last === undefined ? {} : { lastEventId: last }) })) {
            last = m.id
            if (m.type === 'delivered') this.delivered(m.op.seq, m.op.hash, m.op.outcome.status === 'applied', performance.now(), true)
          }
        } catch (err) {
          if (err instanceof StreamClosedError && err.lastEventId !== '') last = err.lastEventId
        }
        // the account poll covers what the stream misses meanwhile
        if (!signal.aborted) await sleep(200)
      }
    }
    void follow()
    return await Promise.race([open, sleep(5000).then(() => false)])
  }

  /**
   * The event stream's backstop: ops below the account's next seq are delivered. Those the stream
   * has not reported POLL_GRACE_MS later (it lags on a busy machine; it may break) are counted
   * delivered then, with no latency (it would be the poll's, not the network's) and their outcome
   * looked up at the end.
   */
  private async pollAccount (): Promise<void> {
    const seen: Array<{ at: number, upTo: number }> = []
    while (!this.ended.signal.aborted) {
      await sleep(POLL_MS)
      const v = await this.d.api.account(this.d.signed.account).catch(() => undefined)
      if (v === undefined) continue
      const now = performance.now()
      seen.push({ at: now, upTo: v.nextSeq - this.d.signed.first })
      let upTo = 0
      while (seen.length > 0 && seen[0]!.at <= now - POLL_GRACE_MS) upTo = seen.shift()!.upTo
      for (let i = this.frontier; i < Math.min(upTo, this.n); i++) {
        if (Number.isNaN(this.deliveredAt[i]!)) this.delivered(this.d.signed.first + i, this.d.signed.hash[i]!, undefined, now, false)
      }
    }
  }

  /**
   * A stopped run: requests in flight end, then the ops up to the recorded one that the node has
   * not taken are sent again until it takes them (for WIND_DOWN_MS at most), so the recorded op
   * can be delivered after them. Then the record moves down to the highest op that may be held
   * anywhere: one the node only ever refused never left, and its slot is free again.
   */
  private async windDown (): Promise<void> {
    const until = performance.now() + WIND_DOWN_MS
    while (this.inFlight > 0 && performance.now() < until) await sleep(20)
    if (this.frontier > this.recorded) return
    // ops the node took may be gone with a restart of it: they are sent again too
    for (let i = this.frontier; i <= this.recorded; i++) if (Number.isNaN(this.deliveredAt[i]!)) this.accepted[i] = 0
    for (;;) {
      // only what lies below an op some node may hold matters: the rest never left
      const missing = this.missing().filter(i => i < this.highestHeld())
      if (missing.length === 0 || performance.now() > until + WIND_DOWN_MS) break
      for (let k = 0; k < missing.length; k += MESSAGE_LIMITS.maxBatchOps) {
        const group = missing.slice(k, k + MESSAGE_LIMITS.maxBatchOps)
        let results
        try { results = await this.d.api.submit(group.map(i => this.d.signed.hex[i]!)) } catch (err) {
          for (const i of group) if (!refusedUnread(err)) this.held[i] = 2
          continue
        }
        group.forEach((i, j) => { if (results[j] !== undefined && results[j].status !== 'rejected') { this.accepted[i] = 1; this.held[i] = 2 } })
      }
      await sleep(RETRY_MS)
    }
    const held = this.highestHeld()
    if (held === this.recorded) return
    if (held < 0) await this.d.store.clear(this.d.signed.account, this.d.signed.hash[this.recorded])
    else if (!await this.d.wallet.replacePending(this.d.name, this.d.signed.hash[this.recorded]!, this.pendingOp(held))) return
    this.recorded = held
  }

  /** Ops up to the recorded one that the node has not taken (nor delivered). */
  private missing (): number[] {
    const out: number[] = []
    for (let i = this.frontier; i <= this.recorded; i++) if (this.accepted[i] === 0 && Number.isNaN(this.deliveredAt[i]!)) out.push(i)
    return out
  }

  /** The highest op that may be held by a node: taken, delivered, or sent without a clear refusal (-1: none). */
  private highestHeld (): number {
    for (let i = this.recorded; i >= 0; i--) if (this.held[i] !== 0 || this.accepted[i] === 1 || !Number.isNaN(this.deliveredAt[i]!)) return i
    return -1
  }

  /** Outcomes of deliveries only the poll saw (a few, when the stream lagged or broke). */
  private async lookUpOutcomes (): Promise<void> {
    const unknown: number[] = []
    for (let i = 0; i < this.n; i++) if (!Number.isNaN(this.deliveredAt[i]!) && this.outcome[i] === 0) unknown.push(i)
    const until = performance.now() + WIND_DOWN_MS
    for (const i of unknown) {
      if (performance.now() > until) break
      const st: OpStatusView | undefined = await this.d.api.op(this.d.signed.hash[i]!).catch(() => undefined)
      if (st?.status === 'delivered' && st.outcome !== undefined) this.outcome[i] = st.outcome.status === 'applied' ? 1 : 2
    }
  }

  /** The figures: to the last delivery, or for a stopped run to the moment it stopped. */
  report (base: Omit<BenchReport, 'requests' | 'resent' | 'delivered' | 'applied' | 'rejected' | 'seconds' | 'throughput' | 'latencyMs' | 'complete' | 'stopReason'>): BenchReport {
    let delivered = 0
    let applied = 0
    let rejected = 0
    let last = this.startedAt
    const latencies: number[] = []
    for (let i = 0; i < this.n; i++) {
      const at = this.deliveredAt[i]!
      if (Number.isNaN(at)) continue
      delivered++
      if (this.outcome[i] === 1) applied++
      else if (this.outcome[i] === 2) rejected++
      last = Math.max(last, at)
      if (this.timed[i] === 1 && !Number.isNaN(this.sentAt[i]!)) latencies.push(at - this.sentAt[i]!)
    }
    const complete = delivered === this.n
    const seconds = Number.isNaN(this.startedAt) ? 0 : ((complete ? last : this.stoppedAt) - this.startedAt) / 1000
    const latencyMs = summarise(latencies)
    return {
      ...base,
      requests: this.requests,
      resent: this.resent,
      delivered,
      applied,
      rejected,
      seconds,
      throughput: throughput(delivered, seconds),
      ...(latencyMs === undefined ? {} : { latencyMs }),
      complete,
      ...(complete ? {} : { stopReason: this.stopReason ?? 'stopped' })
    }
  }
}

/**
 * The deps of the run's first ops: the sender's uncited credits, as many as an op may cite, in
 * order (a funded sender needs none). Refuses a run whose transfers the ledger would reject: more
 * than the account can spend, or a transfer due before the credits that pay for it are claimed.
 */
export function citations (view: Pick<AccountView, 'balance' | 'credits'>, plan: Pick<BenchPlan, 'count' | 'amount'>, from: string): Slot[][] {
  const out: Slot[][] = []
  let available = BigInt(view.balance)
  const total = view.credits.reduce((sum, c) => sum + BigInt(c.amount), available)
  const needs = plan.amount * BigInt(plan.count)
  if (needs > total) throw new InsufficientFundsError(`${from} can spend ${total}; ${plan.count} transfers of ${plan.amount} need ${needs}; nothing was signed`)
  for (let i = 0; i < plan.count; i++) {
    const cited = fillDeps({ credits: view.credits.slice(i * OP_LIMITS.maxDeps, (i + 1) * OP_LIMITS.maxDeps) })
    if (cited.deps.length > 0) out.push(cited.deps)
    available += cited.credits - plan.amount
    if (available < 0n) throw new InsufficientFundsError(`${from} can spend ${total}, but in ${view.credits.length} small credits claimed ${OP_LIMITS.maxDeps} an op: transfer ${i + 1} of ${plan.amount} would find too little claimed yet; use a larger --amount or fewer transfers; nothing was signed`)
    // every credit is claimed: from here what is left only shrinks, to total - needs >= 0
    if (cited.deps.length === 0) break
  }
  return out
}

async function benchTransfer (a: BenchTransferArgs & GlobalArgs): Promise<void> {
  const plan = benchPlan(a)
  // --json keeps stdout for the report alone
  const note = (line: string): void => { if (a.json) process.stderr.write(line + '\n'); else say(line) }
  const w = wallet(a)
  const file = await w.load(a.from)
  if (await w.nextKey(a.from) !== undefined) throw new UsageError(`a key rotation of ${a.from} did not finish: run \`bftnode account rotate-key --name ${a.from}\` to finish it first`)
  const signer = await w.unlock(a.from, file.encrypted === undefined ? undefined : await passphraseFor(a, a.from))
  const account = await w.account(a.from)
  const to = await w.resolve(a.to)
  const client = api(a)
  // an op an earlier command left pending is settled first, as any command of the account does
  await walletClient({ api: client, wallet: w, name: a.from, account, signer, timeoutMs: a.timeout, say: note }).settle()
  const { networkId } = await client.genesis()
  const view = await client.account(account)
  if (view.contract) throw new UsageError(`${a.from} is a contract account; a bench sends from a key account`)
  if (view.key !== undefined && view.key !== toHex(signer.publicKey)) throw new UsageError(`the key that signs for ${a.from} at this node is ${view.key.slice(0, 16)}..., not the wallet's: finish or settle its key rotation first`)
  const deps = citations(view, plan, a.from)

  let stopping = false
  let finished: Promise<void> = Promise.resolve()
  let run: TransferRun | undefined
  const unregister = cleanUpOnSignal(async () => {
    stopping = true
    run?.stop('interrupted (Ctrl-C)')
    await finished
  })
  try {
    // signed in slices, so a Ctrl-C is heard while it signs
    note(`signing ${plan.count} transfers from ${a.from} (seq ${view.nextSeq} to ${view.nextSeq + plan.count - 1})...`)
    const t0 = performance.now()
    const signed: Signed = { first: view.nextSeq, hex: [], hash: [], network: networkId, account }
    const net = fromHex(networkId)
    const me = fromHex(account)
    for (let i = 0; i < plan.count; i++) {
      const op = signOp(signer, net, { account: me, seq: view.nextSeq + i, deps: deps[i] ?? [], body: { kind: 'transfer', to, amount: plan.amount } })
      signed.hex.push(toHex(op.bytes))
      signed.hash.push(toHex(op.hash))
      if (i % 200 === 199) {
        await yieldToEvents()
        if (stopping) return
      }
    }
    const signSeconds = (performance.now() - t0) / 1000
    note(`signed in ${signSeconds.toFixed(2)} s; sending ${plan.oneByOne ? `one by one, up to ${plan.concurrency} requests in flight` : 'as one batch'} to ${a.api}`)
    const store = w.pendingStore(a.from)
    const r = new TransferRun({ api: client, wallet: w, name: a.from, store, signed, plan, timeoutMs: a.timeout })
    run = r
    const base = {
      mode: plan.oneByOne ? 'one-by-one' as const : 'batch' as const,
      count: plan.count,
      amount: plan.amount.toString(),
      from: a.from,
      to: a.to,
      api: a.api,
      opsPerRequest: Math.min(plan.opsPerRequest, plan.count),
      ...(plan.oneByOne ? { concurrency: plan.concurrency } : {}),
      signSeconds
    }
    finished = (async () => {
      await r.run()
      const report = r.report(base)
      if (r.frontier > r.recorded && r.recorded >= 0) await store.clear(account, signed.hash[r.recorded])
      if (a.json) say(JSON.stringify(report, null, 2))
      else for (const line of formatReport(report)) say(line)
      if (r.frontier <= r.recorded) {
        process.stderr.write(`bench: the wallet keeps transfer #${signed.first + r.recorded} of ${a.from} pending (the run's last op that left); the next command for ${a.from} sends it again once the run's earlier transfers are delivered\n`)
      }
      if (!report.complete || report.rejected > 0) process.exitCode = 1
    })()
    await finished
  } finally {
    unregister()
  }
}

export const benchTransferCommand: CliCommand<BenchTransferArgs> = {
  command: 'transfer',
  describe: 'sign N transfers beforehand, send them as one batch (or one by one with --one-by-one), wait until the node delivers every one, and print throughput and latency',
  examples: [
    ['bftnode bench transfer --count 1000 --to alice', 'one batch of 1000 transfers of 1 from treasury (the `testnet init` account) to alice'],
    ['bftnode bench transfer --count 1000 --to alice --one-by-one --concurrency 64', '1000 single-op requests, 64 in flight: the node batches them itself'],
    ['bftnode bench transfer --count 200 --from bob --to alice --amount 5 --json', 'the figures as JSON']
  ],
  options: {
    count: { type: 'number', demandOption: true, describe: `how many transfers (1 to ${MAX_COUNT})` },
    'one-by-one': { type: 'boolean', default: false, describe: 'one transfer a request, --concurrency requests in flight (default: as one batch, in as few requests as the node takes)' },
    concurrency: { type: 'number', describe: `with --one-by-one: requests in flight at most, 1 to ${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})` },
    from: { type: 'string', default: 'treasury', describe: 'wallet account that pays (it needs count x amount)' },
    to: { type: 'string', demandOption: true, describe: 'wallet name or account key that receives' },
    amount: { type: 'string', default: '1', describe: 'each transfer\'s amount, a whole number' },
    json: { type: 'boolean', default: false, describe: 'print the figures as JSON' }
  },
  handler: benchTransfer
}

export const benchCommand: CliCommand = {
  command: 'bench',
  describe: 'measure the network from here: throughput and latency of transfers (Juno\'s batch test and many test)',
  subcommands: [benchTransferCommand]
}
