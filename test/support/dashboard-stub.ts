// A stand-in for a node's API behind the real dashboard page: the page's own files, and whatever
// `answer` says for everything else. For browser tests of states a real network cannot be put in
// on demand (a validator on probation, an API that wants a token).

import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { serveDashboardFile } from '../../src/api/dashboard-files.js'
import type { DashboardView } from '../../src/api/dashboard.js'

const VALIDATOR = (i: number): string => String(i).repeat(64)

/** A view of validator 1 of 4 with validator 4 away; `voting` false puts it on probation. */
export function stubView (network: string, opts: { voting?: boolean, delivered?: number } = {}): DashboardView {
  const voting = opts.voting ?? true
  const delivered = opts.delivered ?? 0
  return {
    node: { id: VALIDATOR(1), network, networkId: 'ab'.repeat(32), role: 'validator', voting, ...(voting ? {} : { notVoting: 'its data dir is new' }), uptimeMs: 5000, addresses: [] },
    time: Date.now(),
    quorum: 3,
    epoch: 0,
    validators: [1, 2, 3, 4].map(i => ({ id: VALIDATOR(i), connected: i !== 4, self: i === 1, validator: true, lastHeardMs: i === 4 ? null : 200 })),
    observers: [],
    counters: { delivered, applied: delivered, rejected: 0, accepted: 0, refused: 0, shedRequests: 0, certificates: 0, bindings: 0, equivocations: 0 },
    queues: { queued: 0, queueWaitMs: 0, heldOps: 0, pendingBatches: 0, buffered: 0, maxPendingOps: 20_000, maxQueueDelayMs: 1000 },
    checkpoint: { height: 0, root: null, sinceCheckpoint: delivered, ageMs: null },
    latency: { windowMs: 60_000, count: 0, p50: null, p90: null, p99: null, max: null },
    rejections: []
  }
}

export interface StubServer {
  readonly base: string
  close (): Promise<void>
}

/** Serves /dashboard from the real files and every other request with `answer`. */
export async function serveDashboardStub (answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer> {
  const server = createServer((req, res) => {
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(p => p !== '')
    if (parts[0] === 'dashboard') serveDashboardFile(req, res, parts.slice(1), true)
    else answer(req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
