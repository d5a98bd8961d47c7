// A stand-in for a node's HTTP API, for wallet tests: just the routes a command uses to send an op,
// over a ledger that binds the first op it accepts for a slot and delivers bound ops in seq order.
// It can be told to misbehave at any request, and it keeps every op it was sent, so a test can
// check that the wallet never put two different ops for one slot on the wire.

import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { randomBytes } from '@noble/ciphers/utils.js'
import { concatBytes, fromHex, toHex } from '../../src/core/crypto/hash.js'
import { decodeOp } from '../../src/core/ledger/op.js'

/**
 * What to do with one request. `-before` faults act on nothing; `-after` faults act on the request
 * (bind the op) and then lose the answer; `hang` acts and never answers. Refusals are for POSTs:
 * they act on nothing, and `malformed` (a refusal for good) is only given for an op never bound.
 */
export type Fault = 'cut-before' | 'cut-after' | '500-before' | '500-after' | 'hang'
  | 'busy' | 'too-far-ahead' | 'not-accepted' | 'conflict' | 'malformed'

export const GET_FAULTS: readonly Fault[] = ['cut-before', '500-before', 'hang']
export const POST_FAULTS: readonly Fault[] = ['cut-before', 'cut-after', '500-before', '500-after', 'hang', 'busy', 'too-far-ahead', 'not-accepted', 'conflict', 'malformed']

export interface FakeRequest { readonly index: number, readonly method: string, readonly path: string }

export interface ReceivedOp { readonly account: string, readonly seq: number, readonly op: string, readonly request: number }

const slot = (account: string, seq: number): string => `${account}:${seq}`

export class FakeApi {
  readonly networkId = toHex(randomBytes(32))
  /** Validators up: an accepted op is delivered at once. Down: it waits, bound, for `release()`. */
  live = true
  fault: (req: FakeRequest) => Fault | undefined = () => undefined
  readonly requests: FakeRequest[] = []
  readonly received: ReceivedOp[] = []
  private readonly bound = new Map<string, string>()
  private readonly delivered = new Map<string, string>()
  private readonly next = new Map<string, number>()
  private readonly refused = new Set<string>()
  private readonly waiters = new Set<() => void>()
  private server: Server | undefined

  constructor (readonly port: number) {}

  get url (): string { return `http://127.0.0.1:${this.port}` }

  async start (): Promise<this> {
    const server = createServer((req, res) => { this.handle(req, res).catch(() => res.destroy()) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.server = server
    return this
  }

  async close (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    for (const w of this.waiters) w()
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  nextSeq (account: string): number { return this.next.get(account) ?? 1 }

  deliveredOp (account: string, seq: number): string | undefined { return this.delivered.get(slot(account, seq)) }

  /** Validators back: deliver what is bound, and everything accepted from now on. */
  release (): void {
    this.live = true
    for (const account of new Set([...this.bound.keys()].map(k => k.split(':')[0]!))) this.deliverBound(account)
  }

  /** The node restarts: ops it took but did not deliver were in its memory only, and are gone. */
  forgetUndelivered (): void {
    for (const k of [...this.bound.keys()]) if (!this.delivered.has(k)) this.bound.delete(k)
  }

  /**
   * Slots for which the wallet sent two different ops, leaving out ops refused for good (no
   * honest validator binds those, so the slot is still free).
   */
  equivocations (): string[] {
    const bySlot = new Map<string, Set<string>>()
    for (const r of this.received) {
      if (this.refused.has(r.op)) continue
      const k = slot(r.account, r.seq)
      bySlot.set(k, (bySlot.get(k) ?? new Set()).add(r.op))
    }
    return [...bySlot].filter(([, ops]) => ops.size > 1).map(([k]) => k)
  }

  private deliverBound (account: string): void {
    for (;;) {
      const seq = this.nextSeq(account)
      const op = this.bound.get(slot(account, seq))
      if (op === undefined) break
      this.delivered.set(slot(account, seq), op)
      this.next.set(account, seq + 1)
    }
    for (const w of this.waiters) w()
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Uint8Array[] = []
    for await (const c of req) chunks.push(c as Uint8Array)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const parts = url.pathname.split('/').filter(p => p !== '')
    const request = { index: this.requests.length, method: req.method ?? 'GET', path: url.pathname }
    this.requests.push(request)
    const fault = this.fault(request)
    const posted = request.method === 'POST' && parts[1] === 'ops' ? this.receive(chunks, request.index) : []
    if (fault === 'cut-before') { req.socket.destroy(); return }
    if (fault === '500-before') { reply(res, 500, { error: { code: 'ERR_INTERNAL', message: 'injected' } }); return }
    let answer: [number, unknown]
    if (request.method === 'GET' && parts[1] === 'genesis') {
      answer = [200, { networkId: this.networkId, genesis: { network: 'fake', validators: [], mintAuthority: '' } }]
    } else if (request.method === 'GET' && parts[1] === 'accounts') {
      const account = parts[2] ?? ''
      answer = [200, { account, balance: '1000', nextSeq: this.nextSeq(account), pending: '0', credits: [], contract: false }]
    } else if (request.method === 'GET' && parts[1] === 'ops') {
      answer = await this.opStatus(parts[2] ?? '', Math.min(Number(url.searchParams.get('wait') ?? 0) || 0, 10_000))
    } else if (request.method === 'POST' && parts[1] === 'ops') {
      answer = [202, { results: posted.map((hex, i) => this.submit(hex, i === 0 ? fault : undefined)) }]
    } else {
      answer = [404, { error: { code: 'ERR_NOT_FOUND', message: 'no such route' } }]
    }
    if (fault === 'cut-after') { req.socket.destroy(); return }
    if (fault === '500-after') { reply(res, 500, { error: { code: 'ERR_INTERNAL', message: 'injected' } }); return }
    if (fault === 'hang') return
    reply(res, answer[0], answer[1])
  }

  /** Every op that reaches the server counts as sent, whether or not the server acts on it. */
  private receive (chunks: Uint8Array[], request: number): string[] {
    const ops = (JSON.parse(new TextDecoder().decode(concatBytes(...chunks))) as { ops: string[] }).ops
    for (const hex of ops) {
      try {
        const op = decodeOp(fromHex(hex))
        this.received.push({ account: toHex(op.account), seq: op.seq, op: hex, request })
      } catch { /* answered as malformed */ }
    }
    return ops
  }

  private submit (hex: string, fault: Fault | undefined): unknown {
    let op
    try { op = decodeOp(fromHex(hex)) } catch (err) {
      return { status: 'rejected', code: 'malformed', reason: (err as Error).message }
    }
    const account = toHex(op.account)
    const hash = toHex(op.hash)
    const k = slot(account, op.seq)
    if (this.refused.has(hex)) return { status: 'rejected', code: 'malformed', reason: 'refused before' }
    switch (fault) {
      case 'busy': case 'too-far-ahead': case 'not-accepted': case 'conflict':
        return { status: 'rejected', code: fault, reason: 'injected' }
      case 'malformed':
        // refusing an op for good after binding it would be a lie no wallet can survive
        if (this.bound.get(k) !== hex) {
          this.refused.add(hex)
          return { status: 'rejected', code: 'malformed', reason: 'injected' }
        }
    }
    if (op.seq < this.nextSeq(account)) {
      return this.delivered.get(k) === hex ? { status: 'delivered', hash } : { status: 'rejected', code: 'conflict', reason: `slot ${op.seq} already holds another op` }
    }
    const held = this.bound.get(k)
    if (held !== undefined && held !== hex) return { status: 'rejected', code: 'conflict', reason: 'the account signed two different ops for this slot' }
    this.bound.set(k, hex)
    if (this.live) this.deliverBound(account)
    return { status: 'queued', hash }
  }

  private async opStatus (hash: string, waitMs: number): Promise<[number, unknown]> {
    const deadline = Date.now() + waitMs
    for (;;) {
      const found = this.find(hash)
      if (found === undefined) return [404, { error: { code: 'ERR_UNKNOWN_OP', message: 'this node has not seen that op' } }]
      if (found.delivered) return [200, { hash, status: 'delivered', account: found.account, seq: found.seq, outcome: { status: 'applied' } }]
      const left = deadline - Date.now()
      if (left <= 0 || this.server === undefined) return [200, { hash, status: 'queued' }]
      await new Promise<void>(resolve => {
        const done = (): void => { clearTimeout(timer); this.waiters.delete(done); resolve() }
        const timer = setTimeout(done, left)
        this.waiters.add(done)
      })
    }
  }

  private find (hash: string): { account: string, seq: number, delivered: boolean } | undefined {
    for (const [k, hex] of this.bound) {
      const op = decodeOp(fromHex(hex))
      if (toHex(op.hash) !== hash) continue
      const [account, seq] = k.split(':') as [string, string]
      return { account, seq: Number(seq), delivered: this.delivered.get(k) === hex }
    }
    return undefined
  }
}

function reply (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
