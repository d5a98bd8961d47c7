// End to end: the client library in a real browser. The example page (examples/browser-transfer),
// served as plain ES modules with an import map, holds a key, shows its account's spendable
// balance and sends a transfer to a single-validator `bftnode` network whose API is another
// origin (the node lists the page's origin in apiCors). The page shows the op queued, then
// delivered, and the node confirms it: the op is delivered and applied, and the recipient can
// spend what it sent. The IndexedDB pending store keeps its record across a reload and refuses a
// second op for the slot. Screenshots go to test-artifacts/.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseJsonc } from 'jsonc-parser'
import type { Browser, Page } from 'playwright-core'
import { ApiClient, BftClient, MemoryPendingStore, openKey, parseKeyFile, signOp, signerFromSeed, toHex, transferBody } from '../../src/client/index.js'
import { freePort } from '../support/ports.js'
import { BIN, runCli, until } from '../support/testnet.js'
import { ARTIFACTS, launchChromium } from '../support/browser.js'

const SERVE = fileURLToPath(new URL('../../../examples/browser-transfer/serve.js', import.meta.url))
const PAGE_SECRET = '5a'.repeat(32)
const RECIPIENT = signerFromSeed('6b'.repeat(32))

describe('the client library in a browser: the example page sends a transfer', () => {
  let dir: string
  let node: ChildProcess | undefined
  let server: ChildProcess | undefined
  let browser: Browser | undefined
  let page: Page
  let origin: string
  let api: ApiClient
  let apiUrl: string
  const pageErrors: string[] = []

  const text = async (selector: string): Promise<string> => (await page.textContent(selector)) ?? ''
  const shows = async (selector: string, check: (s: string) => boolean, ms = 20_000): Promise<string> =>
    await until(`${selector} to show what the test expects`, ms, async () => { const s = await text(selector); return check(s) ? s : undefined })

  before(async () => {
    browser = await launchChromium()
    dir = await mkdtemp(join(tmpdir(), 'bftnode-browser-client-'))
    const env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    // the page's server first: the node must know the page's origin
    server = spawn(process.execPath, [SERVE, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
    origin = await new Promise<string>((resolve, reject) => {
      server!.stdout!.on('data', (b: Buffer) => { const m = /http:\/\/127\.0\.0\.1:[0-9]+/.exec(b.toString()); if (m !== null) resolve(m[0]) })
      server!.once('exit', code => reject(new Error(`the example's server exited (${code})`)))
    })
    const [p2p, apiPort] = [await freePort(), await freePort()]
    const init = await runCli(env, dir, ['testnet', 'init', '--validators', '1', '--dir', join(dir, 'net'), '--base-port', String(p2p), '--api-port', String(apiPort)])
    assert.equal(init.code, 0, init.err)
    const configPath = join(dir, 'net', 'node1', 'config.json')
    const config = parseJsonc(await readFile(configPath, 'utf8')) as Record<string, unknown>
    await writeFile(configPath, JSON.stringify({ ...config, apiCors: [origin] }, null, 2))
    node = spawn(process.execPath, [BIN, 'start', '--config', configPath, '--log-level', 'warn'], { env, stdio: 'ignore' })
    apiUrl = `http://127.0.0.1:${apiPort}`
    api = new ApiClient(apiUrl)
    await until('the node to be ready', 60_000, async () => ((await api.ready()).ready ? true : undefined))

    // the treasury pays the page's account, through the library in Node
    const treasuryFile = parseKeyFile(await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8'))
    const treasury = new BftClient({ api, signer: signerFromSeed(await openKey(treasuryFile, undefined)), pending: new MemoryPendingStore() })
    const paid = await treasury.transfer(toHex(signerFromSeed(PAGE_SECRET).publicKey), 1000n)
    assert.equal(paid.status.outcome?.status, 'applied')

    page = await browser.newPage({ viewport: { width: 900, height: 1000 } })
    page.on('console', m => { if (m.type() === 'error') pageErrors.push(m.text()) })
    page.on('pageerror', e => pageErrors.push(e.message))
    page.on('response', r => { if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`) })
    await mkdir(ARTIFACTS, { recursive: true })
  })

  after(async () => {
    await browser?.close()
    node?.kill('SIGKILL')
    server?.kill('SIGKILL')
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  test('the page loads the key and shows the account\'s spendable balance', async () => {
    const res = await page.goto(`${origin}/?api=${encodeURIComponent(apiUrl)}`)
    assert.equal(res?.status(), 200)
    await page.fill('#key', PAGE_SECRET)
    await page.click('#load')
    await shows('#balance', s => s === '1000')
    assert.equal(await text('#account'), toHex(signerFromSeed(PAGE_SECRET).publicKey))
    assert.deepEqual(pageErrors, [])
  })

  test('a transfer sent from the page goes queued, then delivered, and the node confirms it', async () => {
    const before = BigInt((await api.account(toHex(RECIPIENT.publicKey))).spendable)
    await page.fill('#to', toHex(RECIPIENT.publicKey))
    await page.fill('#amount', '250')
    await page.click('#send')
    await shows('#state', s => s === 'delivered' || s.includes('fail'), 30_000)
    assert.equal(await text('#error'), '')
    assert.equal(await page.getAttribute('#state', 'data-state'), 'delivered')
    assert.equal(await text('#outcome'), 'applied')
    const steps = await page.locator('#history li').allTextContents()
    assert.match(steps.join('\n'), /^signed op [0-9a-f]{16} for seq 1\nqueued: the node took it; waiting for delivery\ndelivered$/)
    // what the node says
    const hash = await text('#hash')
    const st = await api.op(hash)
    assert.equal(st.status, 'delivered')
    assert.equal(st.outcome?.status, 'applied')
    assert.equal(BigInt((await api.account(toHex(RECIPIENT.publicKey))).spendable), before + 250n)
    await shows('#balance', s => s === '750')
    await page.screenshot({ path: join(ARTIFACTS, 'browser-transfer.png'), fullPage: true })
    assert.deepEqual(pageErrors, [])
  })

  test('an amount the account cannot pay is refused in the page before anything is signed', async () => {
    const next = (await api.account(toHex(signerFromSeed(PAGE_SECRET).publicKey))).nextSeq
    await page.fill('#amount', '100000')
    await page.click('#send')
    await shows('#error', s => s.startsWith('ERR_INSUFFICIENT_FUNDS'))
    assert.match(await text('#error'), /nothing was signed/)
    assert.equal((await api.account(toHex(signerFromSeed(PAGE_SECRET).publicKey))).nextSeq, next)
  })

  test('the IndexedDB pending store keeps its record across a reload, refuses a second op for the slot, clears only the op named', async () => {
    const signer = signerFromSeed('7c'.repeat(32))
    const account = toHex(signer.publicKey)
    const record = (amount: bigint): { seq: number, op: string, hash: string, account: string } => {
      const op = signOp(signer, new Uint8Array(32), { account: signer.publicKey, seq: 1, deps: [], body: transferBody(RECIPIENT.publicKey, amount) })
      return { seq: 1, op: toHex(op.bytes), hash: toHex(op.hash), account }
    }
    const first = record(1n)
    const second = record(2n)
    // in the page: the library by its bare name, through the page's import map
    const inPage = async (step: string): Promise<unknown> => await page.evaluate(`(async () => {
      const { IdbPendingStore } = await import('bftnode/client')
      const store = new IdbPendingStore({ database: 'bftnode-test' })
      const account = ${JSON.stringify(account)}
      try { ${step} } catch (err) { return { error: err.code ?? err.message } } finally { await store.close() }
    })()`)
    assert.equal(await inPage('return (await store.get(account)) ?? null'), null)
    assert.equal(await inPage(`await store.set(account, ${JSON.stringify(first)}); await store.set(account, ${JSON.stringify(first)}); return 'ok'`), 'ok')
    assert.deepEqual(await inPage(`return await store.set(account, ${JSON.stringify(second)})`), { error: 'ERR_PENDING_EXISTS' })
    await page.reload()
    assert.deepEqual(await inPage('return await store.get(account)'), first)
    // clearing another op's record (a send that learned its op's fate late) leaves this one
    assert.deepEqual(await inPage(`await store.clear(account, ${JSON.stringify(second.hash)}); return await store.get(account)`), first)
    assert.equal(await inPage(`await store.clear(account, ${JSON.stringify(first.hash)}); return (await store.get(account)) ?? null`), null)
    assert.equal(await inPage(`await store.set(account, ${JSON.stringify(first)}); await store.clear(account); return (await store.get(account)) ?? null`), null)
    assert.deepEqual(pageErrors, [])
  })
})
