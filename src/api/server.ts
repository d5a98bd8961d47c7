// The node's local HTTP JSON API (127.0.0.1 by default). It accepts ops already signed by their
// accounts: the API never holds a user's key. Requests are untrusted: bounded bodies, validated
// fields, and one JSON error with a stable code for anything wrong. Amounts travel as decimal
// strings, keys and hashes as hex. Every route is listed in routes.ts and docs/api.md.

import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { fromHex, toHex } from '../core/crypto/hash.js'
import { MESSAGE_LIMITS } from '../core/broadcast/messages.js'
import { checkVoteEvidence } from '../core/broadcast/evidence.js'
import { sodiumScheme } from '../native/sodium.js'
import { genesisToJson } from '../node/genesis-file.js'
import type { BftNode } from '../node/node.js'
import { silentLogger } from '../node/log.js'
import type { Logger } from '../node/log.js'
import { toJson } from './json.js'
import { dashboardView } from './dashboard.js'
import { serveDashboardFile } from './dashboard-files.js'
import { serveMetrics } from './metrics-route.js'
import { liveness, readiness } from '../node/health.js'
import { ApiError } from './errors.js'
import { Access, exposureWarning } from './access.js'
import type { AccessOptions } from './access.js'
import { DEFAULT_CONNECTION_LIMITS, guardConnections, serverOptions } from './connections.js'
import type { ConnectionLimits } from './connections.js'
import { checkHeaders, parseTarget, queryBoolean, queryInteger, readJsonBody } from './request.js'
import type { BodyBudget, BodyLimits, Target } from './request.js'
import { allowHeader, MAX_WAIT_MS, methodsFor, routeKey } from './routes.js'
import { openApiDocument } from './openapi.js'
import { listSet, streamView } from './set-routes.js'
import { WrongAlgorithmError } from '../core/algorithm/algorithm.js'
import { callView, contractView, listContracts, query, QUERY_BODY_BYTES, RunBudget, simulate, SIMULATE_BODY_BYTES } from './contract-routes.js'
import { checkOperator, checkProposalKnown, hasBody, noBody, parseChange, parseProposalId, parseRotationRequest, PROPOSAL_BODY_BYTES, reconfigure, rotateSequencer, validatorsView } from './validator-routes.js'
import { accountOpsPage, contractEventsPage, DEFAULT_STREAM_LIMITS, EventStreams } from './history-routes.js'
import type { StreamLimits } from './history-routes.js'

/** Set on every answer of a node whose state diverged from a certified checkpoint. */
export const UNTRUSTED_HEADER = 'x-bftnode-untrusted'

/** Equivocating accounts listed by GET /v1/evidence (the replica keeps up to 10,000). */
const MAX_EVIDENCE_LISTED = 100
const HEX32 = /^[0-9a-f]{64}$/

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 8 * 1024 * 1024, minBytesPerSecond: 4096, graceMs: 2000, maxInFlightBytes: 256 * 1024 * 1024 }

export interface ApiOptions extends AccessOptions {
  log?: Logger
  connections?: Partial<ConnectionLimits>
  body?: Partial<BodyLimits>
  /** Where the warning about an API beyond loopback is printed besides the log (stderr). */
  warn?: (line: string) => void
  /** Bounds of GET /v1/events streams. */
  streams?: Partial<StreamLimits>
}

export interface ApiServer {
  readonly port: number
  close (): Promise<void>
}

interface Context {
  node: BftNode
  access: Access
  body: BodyLimits
  /** Body bytes held by the requests being read right now. */
  bodies: BodyBudget
  /** Event-loop time queries and simulations may take (contract-routes.ts). */
  runs: RunBudget
  /** The GET /v1/events streams, set up at the first one. */
  streams: () => EventStreams
}

export async function startApi (node: BftNode, host: string, port: number, opts: ApiOptions = {}): Promise<ApiServer> {
  const log = opts.log ?? silentLogger
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.connections }
  let streams: EventStreams | undefined
  const ctx: Context = { node, access: new Access(opts), body: { ...DEFAULT_BODY_LIMITS, ...opts.body }, bodies: { held: 0 }, runs: new RunBudget(), streams: () => (streams ??= new EventStreams(node.history, { ...DEFAULT_STREAM_LIMITS, ...opts.streams }, log)) }
  const server = createServer(serverOptions(limits), (req, res) => {
    // Node destroys the socket as soon as this returns (PRI starts an HTTP/2 preface): answer now
    if (req.method === 'PRI') return reply(res, new ApiError(405, 'ERR_METHOD_NOT_ALLOWED', 'PRI (HTTP/2 prior knowledge) is not supported: use HTTP/1.1', {}, { headers: { allow: 'GET, HEAD, POST, OPTIONS' }, close: true }))
    handle(ctx, req, res).catch(err => {
      // a ledger request on a set network (or the reverse): the client's doing, said clearly
      if (err instanceof WrongAlgorithmError) return reply(res, new ApiError(409, err.code, err.message))
      if (err instanceof ApiError) {
        // the client's doing: visible with --log-level api=debug (or debug), never louder
        log.debug('API request refused', { method: req.method, url: req.url?.slice(0, 200), status: err.status, code: err.code })
        return reply(res, err)
      }
      // not the client's doing: a fault of the node, kept in its log
      log.error('API request failed', { method: req.method, url: req.url?.slice(0, 200), err: (err as Error).stack ?? String(err) })
      reply(res, new ApiError(500, 'ERR_INTERNAL', `internal error: ${(err as Error).message}`))
    })
  })
  guardConnections(server, limits, log)
  // a client that half-closes after its request (curl -N, raw sockets, some proxies) still gets the
  // answer of an async route; Node would otherwise drop it at the client's FIN (undocumented but
  // long-standing field of http.Server)
  ;(server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => reply(res, new ApiError(417, 'ERR_EXPECTATION_FAILED', 'only Expect: 100-continue is supported')))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const warning = exposureWarning(host, opts)
  if (warning !== undefined) {
    log.warn(warning, { apiHost: host, token: opts.token !== undefined })
    ;(opts.warn ?? (line => process.stderr.write(line + '\n')))(`WARNING: ${warning}`)
  }
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: async () => { streams?.close(); await closeServer(server) }
  }
}

async function closeServer (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
}

function reply (res: ServerResponse, body: unknown, status = 200): void {
  if (res.headersSent) { res.end(); return }
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }
  if (body instanceof ApiError) {
    status = body.status
    if (body.extra.retryAfterMs !== undefined) headers['retry-after'] = Math.ceil(body.extra.retryAfterMs / 1000)
    Object.assign(headers, body.options.headers)
    // the unread rest of the request is not worth reading: Node closes the socket after this answer
    if (body.options.close === true) headers.connection = 'close'
    body = { error: { code: body.code, message: body.message, ...body.extra } }
  }
  const text = JSON.stringify(toJson(body))
  headers['content-length'] = Buffer.byteLength(text)
  res.writeHead(status, headers)
  res.end(text)
}

function hex32 (s: string | undefined, what: string): Uint8Array {
  if (s === undefined || !HEX32.test(s)) throw new ApiError(400, 'ERR_BAD_REQUEST', `${what} must be 64 lowercase hex digits`)
  return fromHex(s)
}

async function handle (ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { node, access } = ctx
  // on every answer, errors included, so a browser page can read why it failed
  for (const [k, v] of Object.entries(access.corsHeaders(req))) res.setHeader(k, v)
  checkHeaders(req)
  const target = parseTarget(req.url)
  const parts = target.segments
  if (req.method === 'OPTIONS') return options(ctx, req, res, target)
  if (target.asterisk) throw new ApiError(400, 'ERR_BAD_PATH', 'the * target is for OPTIONS only')
  // HEAD is GET without the body (Node leaves it out)
  const method = req.method === 'HEAD' ? 'GET' : req.method ?? 'GET'
  access.authorize(req, method, parts)
  // a diverged node's state is not the network's: every answer says so (see docs/divergence.md)
  const diverged = node.divergence
  if (diverged !== undefined) res.setHeader(UNTRUSTED_HEADER, `diverged at checkpoint ${diverged.height}`)
  if (parts[0] === 'dashboard') return serveDashboardFile(req, res, parts.slice(1), node.config.dashboard)
  // Prometheus scrapes /metrics at the root by convention
  if (parts.length === 1 && parts[0] === 'metrics' && method === 'GET') {
    if (await serveMetrics(node, res)) return
    throw new ApiError(404, 'ERR_NOT_FOUND', 'metrics are off on this node (config "metrics": false)')
  }
  if (parts[0] !== 'v1') throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown path; the API lives under /v1')
  const route = routeKey(method, parts)
  // read when a ledger route asks: on a network of another algorithm it throws WrongAlgorithmError (409)
  const net = { get ledger () { return node.replica.ledger } }
  switch (route) {
    // liveness and readiness: open without an API token, as probes hold no secret
    case 'GET /health': { const l = liveness(node); return reply(res, l, l.status === 'ok' ? 200 : 503) }
    case 'GET /ready': { const r = readiness(node); return reply(res, r, r.ready ? 200 : 503) }
    case 'GET /status': {
      const st = node.replica.counters()
      // the root costs a pass over every account (cached encodings make it cheaper, not free):
      // pollers that only watch counters skip it with ?stateHash=false
      const state = queryBoolean(target.query, 'stateHash') === false ? undefined : node.stateRoot()
      const peers = node.peers()
      return reply(res, {
        network: node.genesis.network,
        networkId: node.networkIdHex,
        nodeId: node.id,
        validator: st.validator,
        // a validator that does not vote says why (see docs/protocol.md §13)
        voting: node.replica.votes,
        ...(node.replica.abstain === undefined ? {} : { notVoting: node.replica.abstain }),
        // false once this node's state diverged from a certified checkpoint: its reads are not the network's
        trusted: diverged === undefined,
        ...(diverged === undefined ? {} : { diverged }),
        validators: node.replica.validators.length,
        quorum: node.replica.quorum,
        // the genesis's fault model, and the validators the quorum lets fail (docs/faults.md)
        faults: node.replica.epoch.faults,
        faultsTolerated: node.replica.faultsTolerated,
        // the validator set's epoch (0: genesis's), and what this node is in it
        epoch: node.replica.epoch.number,
        thisNode: node.validatorRole,
        peers: peers.length,
        validatorsConnected: node.validatorsConnected(),
        delivered: st.delivered,
        checkpoint: st.checkpoint,
        sinceCheckpoint: st.sinceCheckpoint,
        buffered: st.buffered,
        queued: st.queued,
        pendingBatches: st.pendingBatches,
        certificates: st.certificates,
        // POST /v1/ops requests answered 503 since start: the node was saturated
        shedRequests: node.shedRequests,
        // the root may lag the delivered count under load: stateHashAt says where it was taken
        ...(state === undefined ? {} : { stateHash: state.root, stateHashAt: state.at }),
        uptimeMs: Date.now() - node.startedAt,
        addresses: node.addresses()
      })
    }
    case 'GET /peers': {
      const validators = new Set(node.replica.validators)
      return reply(res, { peers: node.peers().map(p => ({ id: p, validator: validators.has(p) })) })
    }
    case 'GET /evidence': {
      // proofs anyone with the genesis can check: validators that voted twice, accounts that signed twice
      const ctx = { networkId: node.replica.networkId, scheme: sodiumScheme, membersOf: (e: number) => node.replica.epochAt(e)?.members }
      return reply(res, {
        validators: node.replica.validatorEvidence().map(ev => {
          const checked = checkVoteEvidence(ctx, ev)
          const slot = 'slot' in checked ? { account: toHex(checked.slot.account), seq: checked.slot.seq } : null
          return { validator: toHex(ev.voter), slot, certificate: toHex(ev.certificate), ops: ev.ops.map(toHex), sig: toHex(ev.sig) }
        }),
        accounts: node.replica.conflicts().slice(0, MAX_EVIDENCE_LISTED).map(([a, b]) => ({ account: toHex(a.account), seq: a.seq, ops: [toHex(a.bytes), toHex(b.bytes)] }))
      })
    }
    // the validator set and changes of it: see validator-routes.ts
    case 'GET /validators':
      return reply(res, validatorsView(node))
    case 'POST /validators/:': {
      if (parts.length !== 3 || parts[2] !== 'proposals') return notFound(req, method, parts)
      checkOperator(req, access)
      const change = parseChange(await readJsonBody(req, { ...ctx.body, maxBytes: Math.min(ctx.body.maxBytes, PROPOSAL_BODY_BYTES) }, ctx.bodies))
      return reply(res, reconfigure(() => node.proposeValidatorChange(change)))
    }
    case 'POST /validators/:/:/:': {
      if (parts.length !== 5 || parts[2] !== 'proposals' || parts[4] !== 'approve') return notFound(req, method, parts)
      checkOperator(req, access)
      noBody(req)
      const id = parseProposalId(parts[3])
      checkProposalKnown(node, id)
      return reply(res, reconfigure(() => node.approveValidatorChange(id)))
    }
    case 'GET /dashboard':
      if (!node.config.dashboard) throw new ApiError(404, 'ERR_NOT_FOUND', 'the dashboard is turned off on this node (dashboard: false)')
      return reply(res, dashboardView(node))
    case 'GET /genesis':
      return reply(res, { networkId: node.networkIdHex, genesis: genesisToJson(node.genesis) })
    case 'GET /openapi.json':
      return reply(res, openApiDocument())
    case 'POST /ops': {
      // a saturated node says so before it reads, decodes or verifies anything
      const busy = node.admission()
      if (busy !== undefined) throw new ApiError(503, 'ERR_BUSY', `${busy.reason}; retry in ${busy.retryAfterMs} ms`, { retryAfterMs: busy.retryAfterMs })
      const body = await readJsonBody(req, ctx.body, ctx.bodies) as { ops?: unknown }
      if (body === null || typeof body !== 'object' || !Array.isArray(body.ops) || body.ops.length === 0 || body.ops.length > MESSAGE_LIMITS.maxBatchOps) {
        throw new ApiError(400, 'ERR_BAD_REQUEST', `body must be {"ops": [hex-encoded signed ops]} with 1 to ${MESSAGE_LIMITS.maxBatchOps} ops`)
      }
      const ops = body.ops.map((o, i) => {
        if (typeof o !== 'string' || !/^([0-9a-f]{2})+$/.test(o)) throw new ApiError(400, 'ERR_BAD_REQUEST', `ops[${i}] must be a hex string`)
        return fromHex(o)
      })
      const results = node.submit(ops).map(r => r.status === 'rejected' ? r : { status: r.status, hash: toHex(r.hash) })
      return reply(res, { results }, 202)
    }
    case 'GET /ops/:': {
      const hash = toHex(hex32(parts[2], 'op hash'))
      const waitMs = Math.min(queryInteger(target.query, 'wait') ?? 0, MAX_WAIT_MS)
      const status = waitMs > 0 ? await node.waitFor(hash, waitMs) ?? node.opStatus(hash) : node.opStatus(hash)
      if (status === undefined) throw new ApiError(404, 'ERR_UNKNOWN_OP', 'this node has not seen that op')
      return reply(res, { hash, ...status })
    }
    case 'GET /accounts/:': {
      const account = hex32(parts[2], 'account')
      // a set network's account is a stream: what a wallet needs to sign its next op
      if (node.replica.state.algorithm !== 'ledger') return reply(res, streamView(node.replica.state, account))
      const credits = net.ledger.uncitedCredits(account)
      const contract = net.ledger.contract(account)
      const balance = net.ledger.balance(account)
      const pending = credits.reduce((a, c) => a + c.amount, 0n)
      return reply(res, {
        account: toHex(account),
        // what a person means by "my balance": money received is theirs to spend now, though
        // the ledger moves it into the balance only when the account's next op cites it
        spendable: balance + pending,
        balance,
        nextSeq: net.ledger.nextSeq(account),
        pending,
        credits: credits.map(c => ({ account: toHex(c.source.account), seq: c.source.seq, amount: c.amount })),
        contract: contract !== undefined,
        // who signs its next op: its own key, the key it rotated to, or a contract's sequencer
        key: toHex(net.ledger.signerOf(account))
      })
    }
    case 'GET /set': return reply(res, listSet(node.replica.state, target.query))
    case 'GET /contracts': return reply(res, listContracts(net.ledger, target.query))
    case 'GET /contracts/:': {
      const c = net.ledger.contract(hex32(parts[2], 'contract address'))
      if (c === undefined) throw new ApiError(404, 'ERR_UNKNOWN_CONTRACT', 'no contract at that address')
      return reply(res, contractView(net.ledger, c, true))
    }
    case 'POST /contracts/:/:': {
      if (parts[3] === 'sequencer' && parts.length === 4) {
        // operator: this node signs, with its own key, a rotation of the contract's sequencer to itself
        const address = hex32(parts[2], 'contract address')
        checkOperator(req, access)
        const request = hasBody(req) ? parseRotationRequest(await readJsonBody(req, { ...ctx.body, maxBytes: Math.min(ctx.body.maxBytes, PROPOSAL_BODY_BYTES) }, ctx.bodies)) : null
        if (net.ledger.contract(address) === undefined) throw new ApiError(404, 'ERR_UNKNOWN_CONTRACT', 'no contract at that address')
        return reply(res, await rotateSequencer(() => node.rotateSequencerHere(address, request)))
      }
      if (parts[3] !== 'query' || parts.length !== 4) return notFound(req, method, parts)
      const address = hex32(parts[2], 'contract address')
      admitRun(ctx)
      const body = await readJsonBody(req, { ...ctx.body, maxBytes: Math.min(ctx.body.maxBytes, QUERY_BODY_BYTES) }, ctx.bodies)
      const c = net.ledger.contract(address)
      if (c === undefined) throw new ApiError(404, 'ERR_UNKNOWN_CONTRACT', 'no contract at that address')
      return reply(res, ctx.runs.run(() => query(net.ledger, c, body)))
    }
    case 'POST /simulate': {
      admitRun(ctx)
      const body = await readJsonBody(req, { ...ctx.body, maxBytes: Math.min(ctx.body.maxBytes, SIMULATE_BODY_BYTES) }, ctx.bodies)
      return reply(res, ctx.runs.run(() => simulate(net.ledger, node.genesis, body)))
    }
    // history and the event stream: see history-routes.ts
    case 'GET /accounts/:/:':
      if (parts.length !== 4 || parts[3] !== 'ops') return notFound(req, method, parts)
      return reply(res, accountOpsPage(node, parts, target))
    case 'GET /contracts/:/:':
      if (parts.length !== 4 || parts[3] !== 'events') return notFound(req, method, parts)
      return reply(res, contractEventsPage(node, parts, target))
    case 'GET /events':
      return ctx.streams().open(req, res, target)
    case 'GET /calls/:/:': {
      const account = hex32(parts[2], 'caller account')
      const seq = /^[1-9][0-9]{0,15}$/.test(parts[3] ?? '') ? Number(parts[3]) : NaN
      if (!Number.isSafeInteger(seq)) throw new ApiError(400, 'ERR_BAD_REQUEST', 'usage: /v1/calls/<caller>/<seq>')
      const outcome = net.ledger.callOutcome({ account, seq })
      if (outcome === undefined) throw new ApiError(404, 'ERR_UNKNOWN_CALL', 'no call at that slot has been delivered here')
      return reply(res, callView(outcome))
    }
    default:
      notFound(req, method, parts)
  }
}

/**
 * A query or simulation is refused while the node is saturated with ops (they are optional reads;
 * delivery is not) or while queries have used their share of time: 503 ERR_BUSY, before the body is read.
 */
function admitRun (ctx: Context): void {
  const busy = ctx.node.admission()
  if (busy !== undefined) throw new ApiError(503, 'ERR_BUSY', `${busy.reason}; queries wait until it is not: retry in ${busy.retryAfterMs} ms`, { retryAfterMs: busy.retryAfterMs })
  ctx.runs.admit()
}

/** 405 with Allow when the path has routes for other methods, else 404. */
function notFound (req: IncomingMessage, method: string, parts: readonly string[]): never {
  const path = `/${parts.join('/')}`.slice(0, 200)
  const methods = methodsFor(parts)
  if (methods.length > 0 && !(methods as string[]).includes(method)) {
    const allow = allowHeader(methods).join(', ')
    throw new ApiError(405, 'ERR_METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed on ${path}; allowed: ${allow}`, {}, { headers: { allow } })
  }
  throw new ApiError(404, 'ERR_NOT_FOUND', `no route ${req.method ?? ''} ${path}`)
}

/** OPTIONS: a CORS preflight, or which methods a path allows. */
function options (ctx: Context, req: IncomingMessage, res: ServerResponse, target: Target): void {
  const methods = target.asterisk ? ['GET', 'POST'] : methodsFor(target.segments)
  if (methods.length === 0) throw new ApiError(404, 'ERR_NOT_FOUND', `no route at /${target.segments.join('/')}`.slice(0, 200))
  const { status, headers } = ctx.access.preflight(req, allowHeader(methods))
  res.writeHead(status, headers)
  res.end()
}
