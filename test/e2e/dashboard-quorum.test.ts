// The dashboard's quorum card against a stand-in API: a validator that does not vote is connected
// to itself, but its vote certifies nothing, so three of four connected (itself included) is below
// a quorum of three for it, and enough for a validator that votes.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { Browser, Page } from 'playwright-core'
import { serveDashboardFile } from '../../src/api/dashboard-files.js'
import type { DashboardView } from '../../src/api/dashboard.js'
import { waitFor } from '../support/ports.js'
import { launchChromium } from '../support/browser.js'

const VALIDATOR = (i: number): string => String(i).repeat(64)

function view (voting: boolean): DashboardView {
  return {
    node: { id: VALIDATOR(1), network: 'quorumnet', networkId: 'ab'.repeat(32), role: 'validator', voting, ...(voting ? {} : { notVoting: 'its data dir is new' }), uptimeMs: 5000, addresses: [] },
    time: Date.now(),
    quorum: 3,
    validators: [1, 2, 3, 4].map(i => ({ id: VALIDATOR(i), connected: i !== 4, self: i === 1, validator: true, lastHeardMs: i === 4 ? null : 200 })),
    observers: [],
    counters: { delivered: 0, applied: 0, rejected: 0, accepted: 0, refused: 0, shedRequests: 0, certificates: 0, bindings: 0, equivocations: 0 },
    queues: { queued: 0, queueWaitMs: 0, heldOps: 0, pendingBatches: 0, buffered: 0, maxPendingOps: 20_000, maxQueueDelayMs: 1000 },
    checkpoint: { height: 0, root: null, sinceCheckpoint: 0, ageMs: null },
    latency: { windowMs: 60_000, count: 0, p50: null, p90: null, p99: null, max: null },
    rejections: []
  }
}

describe('the dashboard\'s quorum card', () => {
  let server: Server | undefined
  let base: string
  let browser: Browser | undefined
  let page: Page
  let voting = false

  before(async () => {
    browser = await launchChromium()
    const api = createServer((req, res) => {
      const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(p => p !== '')
      if (parts[0] === 'dashboard') { void serveDashboardFile(req, res, parts.slice(1), true); return }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(view(voting)))
    })
    server = api
    await new Promise<void>(resolve => api.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(api.address() as { port: number }).port}`
    page = await browser.newPage()
  })

  after(async () => {
    await browser?.close()
    const api = server
    if (api === undefined) return
    api.closeAllConnections()
    await new Promise(resolve => api.close(resolve))
  })

  test('a validator that does not vote needs a quorum besides itself', async () => {
    await page.goto(`${base}/dashboard`)
    await waitFor('the page to go live', 10_000, async () => /live/.test((await page.textContent('#conn')) ?? ''))
    assert.match((await page.textContent('#quorum')) ?? '', /BELOW QUORUM/)
    voting = true
    await waitFor('the warning to go', 10_000, async () => !/BELOW QUORUM/.test((await page.textContent('#quorum')) ?? ''))
  })
})
