// The node's local HTTP JSON API (127.0.0.1 by default). It accepts ops already signed by their
// accounts: the API never holds a user's key. Requests are untrusted: bounded bodies, validated
// fields, and one JSON error with a stable code for anything wrong. Amounts travel as decimal
// strings, keys and hashes as hex.

import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { concatBytes, fromHex, toHex } from '../core/crypto/hash.js'
import { MESSAGE_LIMITS } from '../core/broadcast/messages.js'
import { checkVoteEvidence } from '../core/broadcast/evidence.js'
import { sodiumScheme } from '../native/sodium.js'
import { genesisToJson } from '../node/genesis-file.js'
import type { BftNode } from '../node/node.js'
import { toJson } from './json.js'
import { dashboardView } from './dashboard.js'
import { serveDashboardFile } from './dashboard-files.js'
import { serveMetrics } from './metrics-route.js'
import { liveness, readiness } from '../node/health.js'

const MAX_BODY = 8 * 1024 * 1024
const MAX_WAIT_MS = 60_000
/** Equivocating accounts listed by GET /v1/evidence (the replica keeps up to 10,000). */
const MAX_EVIDENCE_LISTED = 100
const HEX32 = /^[0-9a-f]{64}$/

class ApiError extends Error {
  /** `retryAfterMs` also goes out as a Retry-After header, in whole seconds as HTTP has it. */
  constructor (readonly status: number, readonly code: string, message: string, readonly extra: { retryAfterMs?: number } = {}) { super(message) }
}

export interface ApiServer {
  readonly port: number
  close (): Promise<void>
}

export async function startApi (node: BftNode, host: string, port: number): Promise<ApiServer> {
  const server = createServer((req, res) => {
    handle(node, req, res).catch(err => reply(res, err instanceof ApiError ? err : new ApiError(500, 'ERR_INTERNAL', (err as Error).message)))
  })
  server.headersTimeout = 10_000
  server.requestTimeout = MAX_WAIT_MS + 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: async () => await closeServer(server)
  }
}

async function closeServer (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
}

function reply (res: ServerResponse, body: unknown, status = 200): void {
  if (res.headersSent) { res.end(); return }
  const headers: Record<string, string | number> = { 'content-type': 'application/json' }
  if (body instanceof ApiError) {
    status = body.status
    if (body.extra.retryAfterMs !== undefined) headers['retry-after'] = Math.ceil(body.extra.retryAfterMs / 1000)
    body = { error: { code: body.code, message: body.message, ...body.extra } }
  }
  const text = JSON.stringify(toJson(body))
  headers['content-length'] = Buffer.byteLength(text)
  res.writeHead(status, headers)
  res.end(text)
}

async function readBody (req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY) throw new ApiError(413, 'ERR_TOO_LARGE', `request body over ${MAX_BODY} bytes`)
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Uint8Array).length
    if (size > MAX_BODY) throw new ApiError(413, 'ERR_TOO_LARGE', `request body over ${MAX_BODY} bytes`)
    chunks.push(chunk as Uint8Array)
  }
  try {
    return JSON.parse(new TextDecoder().decode(concatBytes(...chunks)))
  } catch {
    throw new ApiError(400, 'ERR_BAD_JSON', 'request body is not valid JSON')
  }
}

function hex32 (s: string | undefined, what: string): Uint8Array {
  if (s === undefined || !HEX32.test(s)) throw new ApiError(400, 'ERR_BAD_REQUEST', `${what} must be 64 lowercase hex digits`)
  return fromHex(s)
}

async function handle (node: BftNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const parts = url.pathname.split('/').filter(p => p !== '')
  if (parts[0] === 'dashboard') return await serveDashboardFile(req, res, parts.slice(1), node.config.dashboard)
  if (url.pathname === '/metrics' && req.method === 'GET') {
    if (await serveMetrics(node, res)) return
    throw new ApiError(404, 'ERR_NOT_FOUND', 'metrics are off on this node (config "metrics": false)')
  }
  if (parts[0] !== 'v1') throw new ApiError(404, 'ERR_NOT_FOUND', 'unknown path; the API lives under /v1')
  const route = `${req.method ?? 'GET'} /${parts.slice(1).map((p, i) => (i === 0 ? p : ':')).join('/')}`
  const ledger = node.replica.ledger
  switch (route) {
    // liveness and readiness: open without an API token, as probes hold no secret
    case 'GET /health': return reply(res, liveness(node))
    case 'GET /ready': { const r = readiness(node); return reply(res, r, r.ready ? 200 : 503) }
    case 'GET /status': {
      const st = node.replica.counters()
      // the root costs a pass over every account (cached encodings make it cheaper, not free):
      // pollers that only watch counters skip it with ?stateHash=false
      const state = url.searchParams.get('stateHash') === 'false' ? undefined : node.stateRoot()
      const peers = node.peers()
      const validators = new Set(node.replica.validators)
      return reply(res, {
        network: node.genesis.network,
        networkId: node.networkIdHex,
        nodeId: node.id,
        validator: st.validator,
        // a validator that does not vote says why (see docs/protocol.md §13)
        voting: node.replica.votes,
        ...(node.replica.abstain === undefined ? {} : { notVoting: node.replica.abstain }),
        validators: node.replica.validators.length,
        quorum: node.replica.quorum,
        peers: peers.length,
        validatorsConnected: peers.filter(p => validators.has(p)).length,
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
      const ctx = { networkId: node.replica.networkId, scheme: sodiumScheme, validators: new Set(node.replica.validators) }
      return reply(res, {
        validators: node.replica.validatorEvidence().map(ev => {
          const checked = checkVoteEvidence(ctx, ev)
          const slot = 'slot' in checked ? { account: toHex(checked.slot.account), seq: checked.slot.seq } : null
          return { validator: toHex(ev.voter), slot, certificate: toHex(ev.certificate), ops: ev.ops.map(toHex), sig: toHex(ev.sig) }
        }),
        accounts: node.replica.conflicts().slice(0, MAX_EVIDENCE_LISTED).map(([a, b]) => ({ account: toHex(a.account), seq: a.seq, ops: [toHex(a.bytes), toHex(b.bytes)] }))
      })
    }
    case 'GET /dashboard':
      if (!node.config.dashboard) throw new ApiError(404, 'ERR_NOT_FOUND', 'the dashboard is turned off on this node (dashboard: false)')
      return reply(res, dashboardView(node))
    case 'GET /genesis':
      return reply(res, { networkId: node.networkIdHex, genesis: genesisToJson(node.genesis) })
    case 'POST /ops': {
      // a saturated node says so before it reads, decodes or verifies anything
      const busy = node.admission()
      if (busy !== undefined) throw new ApiError(503, 'ERR_BUSY', `${busy.reason}; retry in ${busy.retryAfterMs} ms`, { retryAfterMs: busy.retryAfterMs })
      const body = await readBody(req) as { ops?: unknown }
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
      const waitMs = Math.min(Number(url.searchParams.get('wait') ?? 0) || 0, MAX_WAIT_MS)
      const status = waitMs > 0 ? await node.waitFor(hash, waitMs) ?? node.opStatus(hash) : node.opStatus(hash)
      if (status === undefined) throw new ApiError(404, 'ERR_UNKNOWN_OP', 'this node has not seen that op')
      return reply(res, { hash, ...status })
    }
    case 'GET /accounts/:': {
      const account = hex32(parts[2], 'account')
      const credits = ledger.uncitedCredits(account)
      const contract = ledger.contract(account)
      return reply(res, {
        account: toHex(account),
        balance: ledger.balance(account),
        nextSeq: ledger.nextSeq(account),
        pending: credits.reduce((a, c) => a + c.amount, 0n),
        credits: credits.map(c => ({ account: toHex(c.source.account), seq: c.source.seq, amount: c.amount })),
        contract: contract !== undefined
      })
    }
    case 'GET /contracts/:': {
      const address = hex32(parts[2], 'contract address')
      const c = ledger.contract(address)
      if (c === undefined) throw new ApiError(404, 'ERR_UNKNOWN_CONTRACT', 'no contract at that address')
      return reply(res, {
        address: toHex(c.address),
        sequencer: toHex(c.sequencer),
        deployedAt: { account: toHex(c.deployedAt.account), seq: c.deployedAt.seq },
        balance: ledger.balance(c.address),
        queued: c.queue.size,
        executes: ledger.nextSeq(c.address) - 1,
        storage: Object.fromEntries([...c.storage.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([tag, [, v]]) => [tag, v]))
      })
    }
    case 'GET /calls/:/:': {
      const account = hex32(parts[2], 'caller account')
      const seq = Number(parts[3])
      if (!Number.isSafeInteger(seq) || seq < 1) throw new ApiError(400, 'ERR_BAD_REQUEST', 'usage: /v1/calls/<caller>/<seq>')
      const outcome = ledger.callOutcome({ account, seq })
      if (outcome === undefined) throw new ApiError(404, 'ERR_UNKNOWN_CALL', 'no call at that slot has been delivered here')
      return reply(res, outcome)
    }
    default:
      throw new ApiError(404, 'ERR_NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`)
  }
}
