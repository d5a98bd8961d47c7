// A client of a node's local API (fetch only, so it runs in a browser too). Errors come back as
// typed errors: the node is not running, or the node refused the request with a code.

import { BftError } from '../core/errors.js'
import type { JsonValue } from './values.js'
import { readSse } from './sse.js'

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
  /** What the account can spend now: its balance plus the credits its next op claims. */
  spendable: string
  balance: string
  nextSeq: number
  pending: string
  credits: Array<{ account: string, seq: number, amount: string }>
  contract: boolean
  /** The key that signs the account's next op: its own, the one it rotated to, or a contract's sequencer (absent from nodes before rotation). */
  key?: string
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

/** What a node is in the current epoch's validator set. */
export type ValidatorRoleView = 'votes' | 'waiting-for-handoff' | 'abstains' | 'observer'

/** GET /v1/validators: the current epoch's set and the open proposals to change it. */
export interface ValidatorsView {
  epoch: number
  validators: string[]
  quorum: number
  faultsTolerated: number
  /** 'crash': faultsTolerated counts crashed validators, and none may lie (docs/faults.md); absent from older nodes. */
  faults?: 'byzantine' | 'crash'
  thisNode: ValidatorRoleView
  proposals: Array<{
    id: string
    epoch: number
    validators: string[]
    proposer: string
    add: string[]
    remove: string[]
    approvals: string[]
    approvalsNeeded: number
    approvedHere: boolean
  }>
}

/** Where a proposal to change the validator set stands after a proposal or an approval. */
export interface ReconfigurationView {
  id: string
  /** The epoch it starts. */
  epoch: number
  approvals: number
  approvalsNeeded: number
  /** A quorum approved it: the network moves to `epoch`. */
  certified: boolean
}

/** What POST /v1/contracts/{address}/sequencer answers: the rotation to the node's key it signed and submitted. */
export interface SequencerRotationView {
  hash: string
  contract: string
  seq: number
  /** The node's key: the contract's sequencer once the op is delivered. */
  to: string
  /** The deployer's request is in it: validators vote at once. */
  requested: boolean
  /** Without the request, validators vote once the sequencer was silent this long (ms) with calls queued. */
  silenceMs: number
  /** The op this node signed for the slot before, submitted again. */
  resubmitted: boolean
  submit: { status: string, code?: string, reason?: string }
}

/** A contract event as the API gives it: data in the JSON forms of values.ts. */
export interface EventView { name: string, data: JsonValue }

/** What running a function against a node's current state gave; nothing was changed or signed. */
export type RunView =
  | {
    status: 'ok'
    result: JsonValue
    gasUsed: number
    events: EventView[]
    /** Storage the run would write (value null: deleted). */
    writes: Array<{ key: JsonValue, value: JsonValue | null }>
    /** Money the run would send out of the contract. */
    transfers: Array<{ to: string, amount: string }>
  }
  | { status: 'error', error: string, errorKind: string, gasUsed: number }

/** POST /v1/contracts/{address}/query: a function run read-only (a query or a write's dry run). */
export interface QueryRequest {
  fn: string
  args?: JsonValue[]
  /** Who `(caller)` is (64 hex digits); default: all zeros. */
  caller?: string
  /** Money attached, as a decimal string; default 0. */
  value?: string
  /** Default and cap: the node's query gas limit. */
  gasLimit?: number
}

/** An op body as POST /v1/simulate takes it: keys and hashes hex, amounts decimal strings, args in JSON forms. */
export type SimulateBody =
  | { kind: 'transfer', to: string, amount: string }
  | { kind: 'deploy', code: string, args?: JsonValue[], gasLimit?: number, sequencer?: string }
  | { kind: 'call', contract: string, fn: string, args?: JsonValue[], value?: string, gasLimit?: number, deadline?: number }
  | { kind: 'cancel', contract: string, call: number }

/** POST /v1/simulate: what the op would do if `account` signed it now, citing its uncited credits. */
export interface SimulateView {
  /** The op's outcome at delivery, decided by the ledger's own rules on a copy of the state. */
  outcome: { status: 'applied' } | { status: 'rejected', reason: string, detail: string }
  /** Why validators would not even take the op (an account that holds nothing), if so. */
  refused?: string
  /** A deploy's init or a call's function, run now (a call really runs when its sequencer executes it). */
  run?: RunView
  /** Gas to ask for: what the run used plus a margin, within the per-call cap. */
  gasEstimate?: number
  /** A deploy's contract address. */
  address?: string
}

/** A contract in GET /v1/contracts and GET /v1/contracts/{address}. */
export interface ContractView {
  address: string
  sequencer: string
  deployedAt: { account: string, seq: number }
  balance: string
  queued: number
  executes: number
  /** The functions a Call may name (init excluded), with their parameters. */
  functions: Array<{ name: string, params: string[] }>
  /** Only in GET /v1/contracts/{address}: storage keys and values in JSON forms. */
  storage?: Array<{ key: JsonValue, value: JsonValue }>
}

/** A page of a list; `next` is the cursor for the following page, absent on the last. */
export interface Page<T> { items: T[], next?: string }

/**
 * One element of a set network's set and the tags (add slots) it is in the set under: the first
 * 64 in order (what one remove cites), and how many it has in all.
 */
export interface SetEntryView { element: string, tags: Array<{ account: string, seq: number }>, tagCount: number }

/** The outcome of a contract call (GET /v1/calls/{caller}/{seq}). */
export type CallView =
  | { status: 'queued', contract: string, deadline?: number }
  | { status: 'ok', result: JsonValue, gasUsed: number, events: EventView[], executedIn: { account: string, seq: number } }
  | { status: 'error', error: string, errorKind: string, gasUsed: number, executedIn: { account: string, seq: number } }
  | { status: 'cancelled', cancelledBy: { account: string, seq: number } }

/** An op of an account's history (GET /v1/accounts/{account}/ops), newest first. */
export interface AccountOpView {
  hash: string
  account: string
  seq: number
  kind: 'transfer' | 'mint' | 'deploy' | 'call' | 'execute' | 'cancel' | 'rotate-key' | 'rotate-sequencer' | 'set-add' | 'set-remove'
  outcome: { status: 'applied' } | { status: 'rejected', reason: string, detail: string }
  /** The node's delivery counter when it delivered the op: orders ops across accounts. */
  index: number
  /** Kind-specific fields: to/amount (transfer, mint), contract/fn/value (call), address (deploy), calls (execute), call (cancel), to (rotate-key, rotate-sequencer). */
  [field: string]: unknown
}

/** A contract event (GET /v1/contracts/{address}/events), newest first. */
export interface ContractEventView {
  contract: string
  /** The call (or deploy, for init) that emitted it. */
  call: { account: string, seq: number }
  /** The Execute (or Deploy) op it ran in. */
  executedIn: { account: string, seq: number }
  name: string
  /** null, with dataOmitted, when the data was too large for the node to keep (over 16 KiB). */
  data: JsonValue
  dataOmitted?: true
  /** The index of the op it ran in (an Execute or a Deploy): several events share one. */
  index: number
  /** Its place among the events that op ran, from 0: (index, position) orders every event. */
  position: number
}

/**
 * One message of GET /v1/events (server-sent events): an op delivered, or an event a contract
 * emitted. `id` is the stream's event id (`12` for the op at index 12, `12:0` for the first event
 * it ran): pass it as `lastEventId` to resume after it.
 */
export type StreamMessage =
  | { type: 'delivered', id: string, op: AccountOpView }
  | { type: 'event', id: string, event: ContractEventView }
  /** On resuming: entries after `after` up to `through` were evicted from the node's history before they could be sent. */
  | { type: 'gap', id: string, after: string, through: string }

export interface SubscribeOptions {
  /**
   * Only ops of this account and events of this contract (both may be given). With neither,
   * every op and every event; with only one, only that kind of message.
   */
  account?: string
  contract?: string
  /** Resume: first what the node still holds after this id, then new messages. */
  lastEventId?: string
  signal?: AbortSignal
  /** Called once the node has answered and the stream is open: what it delivers from then on is sent. */
  onOpen?: () => void
}

export class ApiClient {
  /** `token`: sent as `Authorization: Bearer` to a node whose API requires one (its apiToken). */
  constructor (readonly base: string, private readonly token?: string) {}

  /** `accept`: error statuses whose body is an answer, not an error (503 from /ready). */
  /** `init.body` undefined: a POST without a body. */
  private async request<T> (path: string, init?: { method: string, body: unknown }, accept: readonly number[] = []): Promise<T> {
    const url = `${this.base.replace(/\/$/, '')}/v1${path}`
    let res: Response
    try {
      const headers: Record<string, string> = this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }
      res = await fetch(url, init === undefined
        ? { headers }
        : init.body === undefined ? { method: init.method, headers } : { method: init.method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(init.body) })
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
  async contract (hex: string): Promise<ContractView> { return await this.request(`/contracts/${hex}`) }
  async call (caller: string, seq: number): Promise<CallView> { return await this.request(`/calls/${caller}/${seq}`) }
  /** Proofs this node holds: validators that voted twice at one slot, accounts that signed twice. */
  async evidence (): Promise<{ validators: Array<{ validator: string, slot: { account: string, seq: number } | null }>, accounts: Array<{ account: string, seq: number, ops: string[] }> }> { return await this.request('/evidence') }
  async submit (opsHex: string[]): Promise<SubmitResultView[]> {
    return (await this.request<{ results: SubmitResultView[] }>('/ops', { method: 'POST', body: { ops: opsHex } })).results
  }

  /** The current epoch's validator set and the open proposals to change it. */
  async validators (): Promise<ValidatorsView> { return await this.request('/validators') }

  /** Operator: propose adding or removing one validator (64 hex key) in the next epoch. */
  async proposeValidatorChange (change: { add: string } | { remove: string }): Promise<ReconfigurationView> {
    return await this.request('/validators/proposals', { method: 'POST', body: change })
  }

  /** Operator: approve an open proposal (its id, or a unique prefix of at least 4 hex digits). */
  async approveValidatorChange (id: string): Promise<ReconfigurationView> {
    return await this.request(`/validators/proposals/${encodeURIComponent(id)}/approve`, { method: 'POST', body: undefined })
  }

  /**
   * Operator: the node signs, with its own key, a rotation of the contract's sequencer to itself
   * and submits it; `request` (128 hex digits): the deployer's signature for the contract's next slot.
   */
  async rotateSequencer (contract: string, request?: string): Promise<SequencerRotationView> {
    return await this.request(`/contracts/${contract}/sequencer`, { method: 'POST', body: request === undefined ? undefined : { request } })
  }

  /** Runs a contract function against the node's state without changing it. */
  async query (contract: string, req: QueryRequest): Promise<RunView> {
    return await this.request(`/contracts/${contract}/query`, { method: 'POST', body: req })
  }

  /** What an op would do if `account` signed it now; nothing is signed or sent. */
  async simulate (account: string, body: SimulateBody): Promise<SimulateView> {
    return await this.request('/simulate', { method: 'POST', body: { account, body } })
  }

  /** GET /v1/set (a set network): a page of elements after `after`, or the one `element`. */
  async set (opts: { element?: string, after?: string, limit?: number } = {}): Promise<Page<SetEntryView> & { size: number }> {
    return await this.request(`/set${queryString(opts)}`)
  }

  async contracts (opts: { after?: string, limit?: number } = {}): Promise<Page<ContractView>> {
    return await this.request(`/contracts${queryString(opts)}`)
  }

  async accountOps (account: string, opts: { before?: string, limit?: number } = {}): Promise<Page<AccountOpView>> {
    return await this.request(`/accounts/${account}/ops${queryString(opts)}`)
  }

  async contractEvents (contract: string, opts: { before?: string, limit?: number, name?: string } = {}): Promise<Page<ContractEventView>> {
    return await this.request(`/contracts/${contract}/events${queryString(opts)}`)
  }

  /**
   * Follows GET /v1/events: ops delivered and contract events, as the node delivers them, until
   * `signal` aborts (the iteration then ends quietly), the consumer stops iterating, or the node
   * ends the stream (it stopped, or this reader fell too far behind). A broken connection throws
   * StreamClosedError, whose lastEventId resumes the stream (`lastEventId`). The token travels in
   * a header, which is why this uses fetch rather than EventSource.
   */
  async * subscribe (opts: SubscribeOptions = {}): AsyncGenerator<StreamMessage> {
    const url = `${this.base.replace(/\/$/, '')}/v1/events${queryString({ account: opts.account, contract: opts.contract })}`
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId
    let res: Response
    try {
      res = await fetch(url, { headers, ...(opts.signal === undefined ? {} : { signal: opts.signal }) })
    } catch {
      if (opts.signal?.aborted === true) return
      throw new NodeUnreachableError(this.base)
    }
    if (!res.ok || res.body === null) {
      const body = await res.json().catch(() => undefined) as { error?: { code: string, message: string } } | undefined
      throw new ApiRequestError(body?.error?.code ?? 'ERR_HTTP', body?.error?.message ?? `HTTP ${res.status}`, res.status)
    }
    opts.onOpen?.()
    for await (const ev of readSse(res.body, opts.signal, opts.lastEventId)) {
      if (ev.event === 'delivered') yield { type: 'delivered', id: ev.id, op: JSON.parse(ev.data) as AccountOpView }
      else if (ev.event === 'event') yield { type: 'event', id: ev.id, event: JSON.parse(ev.data) as ContractEventView }
      else if (ev.event === 'gap') yield { type: 'gap', id: ev.id, ...(JSON.parse(ev.data) as { after: string, through: string }) }
    }
  }

  /** Waits (server side, up to `ms`) for an op to be delivered or dropped. */
  async op (hash: string, waitMs = 0): Promise<OpStatusView> {
    return await this.request(`/ops/${hash}${waitMs > 0 ? `?wait=${waitMs}` : ''}`)
  }
}

function queryString (opts: Record<string, string | number | undefined>): string {
  const parts = Object.entries(opts).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}
