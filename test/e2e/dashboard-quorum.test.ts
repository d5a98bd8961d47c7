// The dashboard's quorum card against a stand-in API: a validator that does not vote is connected
// to itself, but its vote certifies nothing, so three of four connected (itself included) is below
// a quorum of three for it, and enough for a validator that votes.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Browser, Page } from 'playwright-core'
import { waitFor } from '../support/ports.js'
import { launchChromium } from '../support/browser.js'
import { serveDashboardStub, stubView } from '../support/dashboard-stub.js'
import type { StubServer } from '../support/dashboard-stub.js'

describe('the dashboard\'s quorum card', () => {
  let server: StubServer | undefined
  let browser: Browser | undefined
  let page: Page
  let voting = false

  before(async () => {
    browser = await launchChromium()
    server = await serveDashboardStub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(stubView('quorumnet', { voting })))
    })
    page = await browser.newPage()
  })

  after(async () => {
    await browser?.close()
    await server?.close()
  })

  test('a validator that does not vote needs a quorum besides itself', async () => {
    await page.goto(`${server!.base}/dashboard`)
    await waitFor('the page to go live', 10_000, async () => /live/.test((await page.textContent('#conn')) ?? ''))
    assert.match((await page.textContent('#quorum')) ?? '', /BELOW QUORUM/)
    voting = true
    await waitFor('the warning to go', 10_000, async () => !/BELOW QUORUM/.test((await page.textContent('#quorum')) ?? ''))
  })
})
