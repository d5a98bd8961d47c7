// The dashboard in a browser against a stand-in API that wants a bearer token: on a 401 the page
// asks for the token, sends it as `Authorization: Bearer …` on its fetches from then on (kept in
// sessionStorage, so a reload does not ask again), and asks again, saying so, if the node refuses
// the token it was given. The page's files come from the real serveDashboardFile.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Browser, Page } from 'playwright-core'
import { waitFor } from '../support/ports.js'
import { launchChromium } from '../support/browser.js'
import { serveDashboardStub, stubView } from '../support/dashboard-stub.js'
import type { StubServer } from '../support/dashboard-stub.js'

describe('the dashboard with an API that needs a token', () => {
  let server: StubServer | undefined
  let browser: Browser | undefined
  let page: Page
  let token = 's3cret'
  /** The Authorization header of every /v1 request, in order. */
  const seen: Array<string | undefined> = []
  let delivered = 0

  before(async () => {
    browser = await launchChromium()
    server = await serveDashboardStub((req, res) => {
      seen.push(req.headers.authorization)
      const ok = req.headers.authorization === `Bearer ${token}`
      const body = ok ? stubView('tokennet', { delivered: delivered += 7 }) : { error: { code: 'ERR_UNAUTHORIZED', message: 'this API needs a bearer token' } }
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    })
    page = await browser.newPage()
  })

  after(async () => {
    await browser?.close()
    await server?.close()
  })

  test('asks for the token on a 401, then sends it on every fetch', async () => {
    await page.goto(`${server!.base}/dashboard`)
    await page.waitForSelector('#token-form:not([hidden])', { timeout: 10_000 })
    assert.equal(seen[0], undefined)
    assert.match((await page.textContent('#conn')) ?? '', /token needed/)
    await page.fill('#token', 's3cret')
    await page.click('#token-form button[type=submit]')
    await waitFor('the page to go live', 10_000, async () => /live/.test((await page.textContent('#conn')) ?? ''))
    await waitFor('a few polls with the token', 10_000, () => seen.filter(h => h === 'Bearer s3cret').length >= 3)
    assert.ok(await page.isHidden('#token-form'))
    assert.equal((await page.textContent('#validators-summary'))?.replace(/\s/g, ''), '3/4')
    // after the first answer with the token, every request carried it
    const first = seen.indexOf('Bearer s3cret')
    assert.deepEqual(seen.slice(first).filter(h => h !== 'Bearer s3cret'), [])
  })

  test('a reload keeps the token for the session and does not ask again', async () => {
    const before = seen.length
    await page.reload()
    await waitFor('the page to go live again', 10_000, async () => /live/.test((await page.textContent('#conn')) ?? ''))
    assert.equal(seen[before], 'Bearer s3cret')
    assert.ok(await page.isHidden('#token-form'))
  })

  test('a token the node refuses is dropped and asked for again', async () => {
    token = 'rotated'
    await page.waitForSelector('#token-form:not([hidden])', { timeout: 10_000 })
    assert.match((await page.textContent('#token-form p')) ?? '', /refused that token/)
    await page.fill('#token', 'rotated')
    await page.click('#token-form button[type=submit]')
    await waitFor('the page to go live with the new token', 10_000, async () => /live/.test((await page.textContent('#conn')) ?? ''))
    assert.equal(seen[seen.length - 1], 'Bearer rotated')
  })
})
