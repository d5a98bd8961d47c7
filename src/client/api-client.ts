// A client of a node's local API (fetch only, so it runs in a browser too). Errors come back as
// typed errors: the node is not running, or the node refused the request with a code.

import { BftError } from '../core/errors.js'

export class NodeUnreachableError extends BftError {
  readonly code = 'ERR_NODE_UNREACHABLE'
  constructor (readonly url: string) {
    super(`no bftnode API answers at ${url}; is the node running? (start one with \`bftnode start\`, or pass --api <url>)`)
  }
}

export class ApiRequestError extends BftError {
  constructor (readonly code: string, message: string, readonly status: number) {
    super(message)
  }
}

export interface AccountView {
  account: string
  balance: string
  nextSeq: number
  pending: string
  credits: Array<{ account: string, seq: number, amount: string }>
  contract: boolean
}

export type SubmitResultView =
  | { status: 'queued' | 'delivered', hash: string }
  | { status: 'rejected', code: string, reason: string }

export interface OpStatusView {
  hash: string
  status: 'queued' | 'delivered' | 'dropped'
  account?: string
  seq?: number
  outcome?: { status: 'applied' } | { status: 'rejected', reason: string, detail: string }
  reason?: string
}

/** GET /v1/ready: whether the node is connected to a quorum and caught up, and why not. */
export interface ReadinessView {
  ready: boolean
  reasons: string[]
  role: 'validator' | 'observer'
  voting: boolean
  validators: number
  quorum: number
  validatorsConnected: number
  validatorsNeeded: number
  peers: number
  delivered: number
  buffered: number
  lastDeliveryMsAgo: number | null
  checkpoint: { height: number, ageMs: number | null } | null
}

export class ApiClient {
  /** `token`: sent as `Authorization: Bearer` to a node whose API requires one (its apiToken). */
  constructor (readonly base: string, private readonly token?: string) {}

  /** `accept`: error statuses whose body is an answer, not an error (503 from /ready). */
  private async request<T> (path: string, init?: { method: string, body: unknown }, accept: readonly number[] = []): Promise<T> {
    const url = `${this.base.replace(/\/$/, '')}/v1${path}`
    let res: Response
    try {
      const headers: Record<string, string> = this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }
      res = await fetch(url, init === undefined ? { headers } : { method: init.method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(init.body) })
    } catch {
      throw new NodeUnreachableError(this.base)
    }
    const body = await res.json().catch(() => undefined) as { error?: { code: string, message: string } } | undefined
    if (!res.ok && !accept.includes(res.status)) throw new ApiRequestError(body?.error?.code ?? 'ERR_HTTP', body?.error?.message ?? `HTTP ${res.status}`, res.status)
    return body as T
  }

  async status (): Promise<Record<string, unknown>> { return await this.request('/status') }
  /** Liveness: answers while the node's process serves. */
  async health (): Promise<{ status: string, uptimeMs: number }> { return await this.request('/health') }
  /** Readiness, ready or not (the node answers 503 when not). */
  async ready (): Promise<ReadinessView> { return await this.request('/ready', undefined, [503]) }
  async peers (): Promise<{ peers: Array<{ id: string, validator: boolean }> }> { return await this.request('/peers') }
  async genesis (): Promise<{ networkId: string, genesis: { network: string, validators: string[], mintAuthority: string } }> { return await this.request('/genesis') }
  async account (hex: string): Promise<AccountView> { return await this.request(`/accounts/${hex}`) }
  async contract (hex: string): Promise<Record<string, unknown>> { return await this.request(`/contracts/${hex}`) }
  async call (caller: string, seq: number): Promise<Record<string, unknown>> { return await this.request(`/calls/${caller}/${seq}`) }
  /** Proofs this node holds: validators that voted twice at one slot, accounts that signed twice. */
  async evidence (): Promise<{ validators: Array<{ validator: string, slot: { account: string, seq: number } | null }>, accounts: Array<{ account: string, seq: number, ops: string[] }> }> { return await this.request('/evidence') }
  async submit (opsHex: string[]): Promise<SubmitResultView[]> {
    return (await this.request<{ results: SubmitResultView[] }>('/ops', { method: 'POST', body: { ops: opsHex } })).results
  }

  /** Waits (server side, up to `ms`) for an op to be delivered or dropped. */
  async op (hash: string, waitMs = 0): Promise<OpStatusView> {
    return await this.request(`/ops/${hash}${waitMs > 0 ? `?wait=${waitMs}` : ''}`)
  }
}
