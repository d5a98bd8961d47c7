// End to end: the dashboard in a real browser (Debian's headless Chromium through playwright-core)
// against four `bftnode` validator processes. The page shows the four validators connected, its
// delivered count and throughput move when transfers flow, a rejected transfer appears with its
// reason, a lookup works, and a banner says so when the node goes away. Screenshots are kept in
// test-artifacts/ for a person to look at.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { ApiClient } from '../../src/client/api-client.js'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { fromHex, toHex } from '../../src/core/crypto/hash.js'
import { signerFrom } from '../../src/core/crypto/signing.js'
import type { Signer } from '../../src/core/crypto/signing.js'
import { signOp } from '../../src/core/ledger/op.js'
import { nobleScheme } from '../../src/core/crypto/noble.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, placeTestnet, runCli, until } from '../support/testnet.js'
import { seedOf } from '../support/localnet.js'
import { ARTIFACTS, launchChromium } from '../support/browser.js'

describe('the dashboard in a browser, against four validator processes', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const apis: ApiClient[] = []
  let apiPorts: number[]
  let treasury: Signer
  let networkId: Uint8Array
  let browser: Browser | undefined
  let page: Page
  /** Errors the page logged (a CSP violation shows up here) or threw. */
  const pageErrors: string[] = []
  let seq = 0

  const text = async (selector: string): Promise<string> => (await page.textContent(selector)) ?? ''
  const count = (s: string): number => Number(s.replace(/[^0-9]/g, ''))
  /**
   * Polls from here until the page's text at `selector` passes `check` (page.waitForFunction
   * would evaluate code in the page, which the dashboard's CSP rightly refuses).
   */
  const shows = async (selector: string, check: (s: string) => boolean, ms = 10_000): Promise<string> =>
    await until(`${selector} to show what the test expects`, ms, async () => { const s = await text(selector); return check(s) ? s : undefined })

  /** Signs and submits `n` transfers from the treasury at node 1, in order. */
  const transfers = async (n: number, amount = 1n): Promise<void> => {
    const to = signerFrom(nobleScheme, seedOf('dashboard-user', 0)).publicKey
    const ops = Array.from({ length: n }, () => signOp(treasury, networkId, { account: treasury.publicKey, seq: ++seq, deps: [], body: { kind: 'transfer', to, amount } }))
    const results = await apis[0]!.submit(ops.map(o => toHex(o.bytes)))
    assert.ok(results.every(r => r.status === 'queued'), JSON.stringify(results))
  }

  before(async () => {
    // the test needs the browser: a machine without it fails here, it does not skip
    browser = await launchChromium()
    dir = await mkdtemp(join(tmpdir(), 'bftnode-dash-e2e-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    apiPorts = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    const init = await runCli(env, dir, ['testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0])])
    assert.equal(init.code, 0, init.err)
    const configs = await placeTestnet(join(dir, 'net'), ports, apiPorts)
    for (let i = 0; i < 4; i++) {
      procs.push(spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', 'warn'], { env, stdio: 'ignore' }))
      apis.push(new ApiClient(`http://127.0.0.1:${apiPorts[i]!}`))
    }
    const keyText = await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')
    treasury = signerFrom(nobleScheme, await openKey(parseKeyFile(keyText), undefined))
    networkId = fromHex(String((await until('the validators to connect', 60_000, async () => {
      const st = await Promise.all(apis.map(async a => await a.status()))
      return st.every(s => Number(s.validatorsConnected) >= 3) ? st[0] : undefined
    })).networkId))

    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('console', m => { if (m.type() === 'error' && !m.text().includes('Failed to load resource')) pageErrors.push(m.text()) })
    page.on('pageerror', e => pageErrors.push(e.message))
    await mkdir(ARTIFACTS, { recursive: true })
  })

  after(async () => {
    await browser?.close()
    for (const p of procs) p.kill('SIGKILL')
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  test('the page lists the four validators, all connected, this node marked', async () => {
    const res = await page.goto(`http://127.0.0.1:${apiPorts[0]!}/dashboard`)
    assert.equal(res?.status(), 200)
    await waitFor('4 connected validators on the page', 20_000, async () => await page.locator('#validators tbody tr[data-connected="true"]').count() === 4)
    assert.equal(await page.locator('#validators tbody tr').count(), 4)
    assert.equal(await page.locator('#validators tbody tr[data-self="true"]').count(), 1)
    assert.equal((await text('#validators-summary')).replace(/\s/g, ''), '4/4')
    assert.match(await text('#conn'), /live/)
    assert.match(await text('#network'), /testnet/)
    const st = await apis[0]!.status()
    assert.equal(await page.getAttribute('#node-id', 'title'), st.nodeId)
  })

  test('delivered count, throughput and latency move when transfers flow; a rejection shows its reason', async () => {
    const before = count(await text('#delivered'))
    // five bursts a second apart, so the chart has a shape; then one overdrawn transfer
    for (let burst = 0; burst < 5; burst++) {
      await transfers(20)
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
    await transfers(1, 10n ** 15n)
    await shows('#delivered', s => count(s) >= before + 101, 30_000)
    assert.ok(count(await text('#delivered')) >= before + 101)
    const peak = await text('#throughput-peak')
    assert.match(peak, /peak [0-9.,]+ ops\/s/)
    assert.ok(Number(/peak ([0-9.,]+)/.exec(peak)![1]!.replace(/,/g, '')) > 0, peak)
    assert.ok(await page.locator('#throughput-chart svg polyline').count() >= 1)
    await shows('#latency-p50', s => /[0-9]+ ms/.test(s))
    await shows('#rejections', s => s.includes('insufficient-funds'))
    assert.match(await text('#rejections tbody'), /ledger, at delivery/)
    await page.waitForTimeout(1500) // one more point on the charts for the screenshot
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true })
  })

  test('the account lookup shows a balance, seq and pending credits', async () => {
    await page.fill('#account-input', toHex(treasury.publicKey))
    await page.click('#account-form button[type=submit]')
    await shows('#account-result', s => s.includes('Next seq'))
    const shown = await text('#account-result')
    const account = await apis[0]!.account(toHex(treasury.publicKey))
    assert.ok(shown.includes(account.balance), shown)
    assert.ok(shown.includes(`Next seq${account.nextSeq}`), shown)
    await page.fill('#contract-input', 'ab'.repeat(32))
    await page.click('#contract-form button[type=submit]')
    await shows('#contract-result', s => s.includes('no contract'))
  })

  test('at a narrow width nothing overflows the page sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForTimeout(300)
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
    assert.ok(overflow <= 0, `the page scrolls ${overflow} px sideways at 390 px`)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('when its node goes away the page says so and keeps retrying', async () => {
    procs[0]!.kill('SIGKILL')
    await page.waitForSelector('#banner:not([hidden])', { timeout: 15_000 })
    assert.match(await text('#banner-text'), /Cannot reach the node at http:\/\/127\.0\.0\.1:[0-9]+ .*Retrying in/)
    assert.match(await text('#conn'), /unreachable/)
    assert.equal(await page.locator('main.stale').count(), 1, 'the last figures are shown as stale')
    await page.locator('#banner').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-unreachable.png') })
    assert.deepEqual(pageErrors, [], 'the page logged errors')
  })
})
