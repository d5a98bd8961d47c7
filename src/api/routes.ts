// Every route of the API in one table: what the 405 answer's Allow header lists, what
// GET /v1/openapi.json describes, and what a test checks against the server's dispatch and
// docs/api.md, so none of them can drift from the others.

import { GAS_LIMITS } from '../core/vm/gas.js'

export type Method = 'GET' | 'POST'

export interface Param {
  name: string
  description: string
  /** JSON Schema of the value. */
  schema: Record<string, unknown>
}

export interface RouteSpec {
  method: Method
  /** As docs/api.md and OpenAPI spell it: `/v1/ops/{hash}`. */
  path: string
  summary: string
  /** Served without the API token (probes, the dashboard's static files). */
  public?: boolean
  /** Served by an operations module (metrics, health, dashboard) rather than the API proper. */
  operations?: boolean
  query?: Param[]
  /** JSON Schema of the request body. */
  body?: Record<string, unknown>
  /** Success status and what it carries. */
  ok: { status: number, description: string, type?: string }
  /** Error codes this route answers with besides those every route can (see docs/api.md). */
  errors: Array<[status: number, code: string]>
}

const HEX32 = { type: 'string', pattern: '^[0-9a-f]{64}$' }
const hex32Param = (name: string, description: string): Param => ({ name, description, schema: HEX32 })

export const PATH_PARAMS: Record<string, Param> = {
  hash: hex32Param('hash', 'op hash (SHA-256 of the signed op), 64 lowercase hex digits'),
  account: hex32Param('account', 'account key, 64 lowercase hex digits'),
  address: hex32Param('address', 'contract address, 64 lowercase hex digits'),
  caller: hex32Param('caller', 'key of the calling account, 64 lowercase hex digits'),
  id: { name: 'id', description: 'proposal id (64 lowercase hex digits) or a unique prefix of at least 4 of them', schema: { type: 'string', pattern: '^[0-9a-f]{4,64}$' } },
  seq: { name: 'seq', description: 'seq of the call in the caller\'s stream (from 1)', schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } }
}

export const MAX_WAIT_MS = 60_000
/** Pages of history (GET /v1/accounts/{account}/ops, GET /v1/contracts/{address}/events). */
export const DEFAULT_PAGE = 50
export const MAX_PAGE = 200

const AMOUNT = { type: 'string', pattern: '^(0|[1-9][0-9]{0,19})$', description: 'a decimal amount' }
const GAS = { type: 'integer', minimum: 1, maximum: GAS_LIMITS.maxCall, description: `gas limit (default and most: ${GAS_LIMITS.maxCall})` }
/** What a query or simulation answers with besides its result. */
const RUN_ERRORS: Array<[number, string]> = [[400, 'ERR_BAD_JSON'], [400, 'ERR_BAD_REQUEST'], [400, 'ERR_BAD_ARGUMENT'], [400, 'ERR_INCOMPLETE_BODY'], [408, 'ERR_SLOW_BODY'], [413, 'ERR_TOO_LARGE'], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'], [503, 'ERR_BUSY']]

export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'GET', path: '/v1/status', summary: 'what the node knows: network, peers, validators, delivered ops, queues, state hash',
    query: [{ name: 'stateHash', description: 'false skips the state root (a pass over every account) for pollers that watch counters', schema: { type: 'boolean', default: true } }],
    ok: { status: 200, description: 'the node\'s status' },
    errors: [[400, 'ERR_BAD_QUERY']]
  },
  { method: 'GET', path: '/v1/peers', summary: 'connected peers, validators marked', ok: { status: 200, description: 'peer ids' }, errors: [] },
  { method: 'GET', path: '/v1/evidence', summary: 'proofs of misbehaviour: validators that voted twice, accounts that signed two ops for one slot', ok: { status: 200, description: 'evidence' }, errors: [] },
  { method: 'GET', path: '/v1/genesis', summary: 'the network\'s genesis and network id', ok: { status: 200, description: 'genesis' }, errors: [] },
  {
    method: 'POST', path: '/v1/ops', summary: 'submit signed ops (1 to 1024), each hex-encoded; every op gets its own result',
    body: { type: 'object', required: ['ops'], properties: { ops: { type: 'array', minItems: 1, maxItems: 1024, items: { type: 'string', pattern: '^([0-9a-f]{2})+$' } } } },
    ok: { status: 202, description: 'one result per op: queued, delivered, or rejected with a code' },
    errors: [[400, 'ERR_BAD_JSON'], [400, 'ERR_BAD_REQUEST'], [400, 'ERR_INCOMPLETE_BODY'], [408, 'ERR_SLOW_BODY'], [413, 'ERR_TOO_LARGE'], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'], [503, 'ERR_BUSY']]
  },
  {
    method: 'GET', path: '/v1/ops/{hash}', summary: 'status of an op at this node; with ?wait, waits server side until it is delivered or dropped',
    query: [{ name: 'wait', description: `how long to wait for delivery (ms, 0 to ${MAX_WAIT_MS})`, schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_MS, default: 0 } }],
    ok: { status: 200, description: 'queued, delivered (with the outcome) or dropped' },
    errors: [[400, 'ERR_BAD_REQUEST'], [400, 'ERR_BAD_QUERY'], [404, 'ERR_UNKNOWN_OP']]
  },
  { method: 'GET', path: '/v1/accounts/{account}', summary: 'an account: balance, pending credits, next seq', ok: { status: 200, description: 'the account (any key has one: a new key has balance 0)' }, errors: [[400, 'ERR_BAD_REQUEST']] },
  {
    method: 'GET', path: '/v1/contracts', summary: 'contracts sorted by address, a page at a time: sequencer, balance, queue, functions',
    query: [
      { name: 'after', description: 'cursor: list contracts with addresses after this one (the previous page\'s `next`)', schema: HEX32 },
      { name: 'limit', description: 'contracts per page', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } }
    ],
    ok: { status: 200, description: '{items, next?}: a page of contracts, and the cursor of the next page when there is one' },
    errors: [[400, 'ERR_BAD_QUERY']]
  },
  {
    method: 'GET', path: '/v1/set', summary: 'a set network (genesis algorithm "orset"): its elements in order, a page at a time, each with the tags (add slots) it is in the set under',
    query: [
      { name: 'element', description: 'only this element (its tags: what a remove of it cites)', schema: { type: 'string', minLength: 1 } },
      { name: 'after', description: 'cursor: elements after this one (the previous page\'s `next`)', schema: { type: 'string', minLength: 1 } },
      { name: 'limit', description: 'elements per page', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }
    ],
    ok: { status: 200, description: '{items: [{element, tags: [{account, seq}] (the first 64), tagCount}], next?, size}' },
    errors: [[400, 'ERR_BAD_QUERY'], [409, 'ERR_WRONG_ALGORITHM']]
  },
  { method: 'GET', path: '/v1/contracts/{address}', summary: 'a contract: sequencer, balance, queued calls, functions, storage', ok: { status: 200, description: 'the contract' }, errors: [[400, 'ERR_BAD_REQUEST'], [404, 'ERR_UNKNOWN_CONTRACT']] },
  {
    method: 'POST', path: '/v1/contracts/{address}/query', summary: 'run a contract function over its current state without changing it: a read, or a dry run of a write',
    body: {
      type: 'object', required: ['fn'], additionalProperties: false,
      properties: { fn: { type: 'string', minLength: 1, maxLength: 64 }, args: { type: 'array', maxItems: 16, description: 'arguments in the JSON forms of docs/api.md' }, caller: HEX32, value: AMOUNT, gasLimit: GAS }
    },
    ok: { status: 200, description: 'the run: ok with result, gas, events, writes and transfers, or error with its kind (nothing is stored either way)' },
    errors: RUN_ERRORS.concat([[404, 'ERR_UNKNOWN_CONTRACT']])
  },
  {
    method: 'POST', path: '/v1/contracts/{address}/sequencer', summary: 'operator: this node signs, with its own key, a rotation of the contract\'s sequencer to itself at the contract\'s next slot and submits it; with the deployer\'s request validators vote at once, without it once the sequencer has been silent past their deadline (token, or from this machine on a node without one)',
    body: { type: 'object', additionalProperties: false, properties: { request: { type: 'string', pattern: '^[0-9a-f]{128}$', description: 'the deployer\'s signature over (rotate-sequencer, contract, slot, this node\'s key)' } } },
    ok: { status: 200, description: '{hash, contract, seq, to, requested, silenceMs, resubmitted, submit}' },
    errors: [[400, 'ERR_BAD_JSON'], [400, 'ERR_BAD_REQUEST'], [400, 'ERR_INCOMPLETE_BODY'], [403, 'ERR_OPERATOR_ONLY'], [404, 'ERR_UNKNOWN_CONTRACT'], [408, 'ERR_SLOW_BODY'], [409, 'ERR_SEQUENCER_ROTATION'], [413, 'ERR_TOO_LARGE'], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'], [503, 'ERR_BUSY']]
  },
  {
    method: 'POST', path: '/v1/simulate', summary: 'what an op would do if the account signed it now: its outcome, its run and a gas estimate; nothing is signed or stored',
    body: {
      type: 'object', required: ['account', 'body'], additionalProperties: false,
      properties: { account: HEX32, body: { type: 'object', required: ['kind'], description: 'transfer {to, amount}, deploy {code, args?, gasLimit?, sequencer?}, call {contract, fn, args?, value?, gasLimit?, deadline?} or cancel {contract, call}' } }
    },
    ok: { status: 200, description: 'the outcome at delivery, a refusal at submission if any, the run, the gas estimate and (deploy) the address' },
    errors: RUN_ERRORS
  },
  {
    method: 'GET', path: '/v1/accounts/{account}/ops', summary: 'the ops of an account this node delivered, newest first, as far back as its history index holds',
    query: [
      { name: 'before', description: 'cursor from the previous page\'s "next": only older entries', schema: { type: 'string', pattern: '^[0-9]{1,15}(:[0-9]{1,6})?$' } },
      { name: 'limit', description: `entries per page (1 to ${MAX_PAGE})`, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE } }
    ],
    ok: { status: 200, description: 'a page: {items, next?}' },
    errors: [[400, 'ERR_BAD_REQUEST'], [400, 'ERR_BAD_QUERY']]
  },
  {
    method: 'GET', path: '/v1/contracts/{address}/events', summary: 'the events a contract emitted, newest first, as far back as this node\'s history index holds',
    query: [
      { name: 'before', description: 'cursor from the previous page\'s "next": only older entries', schema: { type: 'string', pattern: '^[0-9]{1,15}(:[0-9]{1,6})?$' } },
      { name: 'limit', description: `entries per page (1 to ${MAX_PAGE})`, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE } },
      { name: 'name', description: 'only events of this name', schema: { type: 'string', minLength: 1, maxLength: 256 } }
    ],
    ok: { status: 200, description: 'a page: {items, next?}' },
    errors: [[400, 'ERR_BAD_REQUEST'], [400, 'ERR_BAD_QUERY'], [404, 'ERR_UNKNOWN_CONTRACT']]
  },
  {
    method: 'GET', path: '/v1/events', summary: 'a server-sent events stream of ops delivered (event: delivered) and contract events (event: event); resumes after Last-Event-ID',
    query: [
      { name: 'account', description: 'only ops of this account (64 lowercase hex digits)', schema: HEX32 },
      { name: 'contract', description: 'only events of this contract (64 lowercase hex digits)', schema: HEX32 }
    ],
    ok: { status: 200, description: 'an open text/event-stream', type: 'text/event-stream' },
    errors: [[400, 'ERR_BAD_REQUEST'], [400, 'ERR_BAD_QUERY'], [503, 'ERR_BUSY']]
  },
  { method: 'GET', path: '/v1/calls/{caller}/{seq}', summary: 'the outcome of a contract call, once executed or cancelled', ok: { status: 200, description: 'the call\'s outcome' }, errors: [[400, 'ERR_BAD_REQUEST'], [404, 'ERR_UNKNOWN_CALL']] },
  {
    method: 'GET', path: '/v1/validators', summary: 'the validator set: its epoch, validators, quorum, this node\'s role, and the open proposals to change it with their approvals',
    ok: { status: 200, description: 'the current epoch and the open proposals' },
    errors: []
  },
  {
    method: 'POST', path: '/v1/validators/proposals', summary: 'operator: propose adding or removing one validator in the next epoch; this validator\'s approval is the first (token, or from this machine on a node without one)',
    body: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { add: HEX32, remove: HEX32 } },
    ok: { status: 200, description: '{id, epoch, approvals, approvalsNeeded, certified}' },
    errors: [[400, 'ERR_BAD_JSON'], [400, 'ERR_BAD_REQUEST'], [400, 'ERR_INCOMPLETE_BODY'], [403, 'ERR_OPERATOR_ONLY'], [408, 'ERR_SLOW_BODY'], [409, 'ERR_RECONFIGURATION'], [413, 'ERR_TOO_LARGE'], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'], [503, 'ERR_BUSY']]
  },
  {
    method: 'POST', path: '/v1/validators/proposals/{id}/approve', summary: 'operator: approve an open proposal with this validator\'s key; a quorum of approvals certifies it and the network moves to its epoch',
    ok: { status: 200, description: '{id, epoch, approvals, approvalsNeeded, certified}' },
    errors: [[400, 'ERR_BAD_REQUEST'], [403, 'ERR_OPERATOR_ONLY'], [404, 'ERR_UNKNOWN_PROPOSAL'], [409, 'ERR_RECONFIGURATION']]
  },
  { method: 'GET', path: '/v1/openapi.json', summary: 'this API described as OpenAPI 3.1, generated from the route table', ok: { status: 200, description: 'an OpenAPI document' }, errors: [] },
  // operations: served by the metrics, health and dashboard modules
  { method: 'GET', path: '/metrics', summary: 'Prometheus metrics (text exposition format)', operations: true, ok: { status: 200, description: 'metrics', type: 'text/plain' }, errors: [] },
  { method: 'GET', path: '/v1/health', summary: 'liveness: the process answers and its loop is not stuck', public: true, operations: true, ok: { status: 200, description: 'alive' }, errors: [] },
  { method: 'GET', path: '/v1/ready', summary: 'readiness: connected to a quorum and caught up, or the reason it is not', public: true, operations: true, ok: { status: 200, description: 'ready (503 with the reason when not)' }, errors: [] },
  { method: 'GET', path: '/dashboard', summary: 'the live dashboard page and its static files (under /dashboard/)', public: true, operations: true, ok: { status: 200, description: 'HTML, JavaScript, CSS', type: 'text/html' }, errors: [] },
  { method: 'GET', path: '/v1/dashboard', summary: 'the figures the dashboard shows, in one JSON document', operations: true, ok: { status: 200, description: 'dashboard data' }, errors: [] }
]

/** Every route answers HEAD where it answers GET, and OPTIONS. */
export function allowHeader (methods: readonly string[]): string[] {
  return [...new Set(methods.flatMap(m => m === 'GET' ? ['GET', 'HEAD'] : [m]).concat('OPTIONS'))]
}

/**
 * The label of a /v1 route in the server's `switch`: method, then the path after /v1 with every
 * segment past the first as `:` (`GET /ops/:`). Undefined for paths outside /v1.
 */
export function routeKey (method: string, segments: readonly string[]): string | undefined {
  if (segments[0] !== 'v1') return undefined
  return `${method} /${segments.slice(1).map((p, i) => (i === 0 ? p : ':')).join('/')}`
}

export const specSegments = (path: string): string[] => path.split('/').filter(s => s !== '')
export const specKey = (r: RouteSpec): string | undefined => routeKey(r.method, specSegments(r.path))

/** Methods the table has for the path of these segments (a /v1 path), for 405 and OPTIONS. */
export function methodsFor (segments: readonly string[]): Method[] {
  const key = routeKey('', segments)
  if (key === undefined) return []
  return ROUTES.filter(r => specKey(r)?.slice(r.method.length) === key).map(r => r.method)
}
