// End to end: four `bftnode` validator processes on 127.0.0.1. All four are ready and `bftnode
// status` says healthy; with two of them stopped the survivors turn unready, saying they are
// below quorum, while /v1/health stays 200 and the metrics show it; one restarted brings the
// quorum, and readiness, back.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/api-client.js'
import type { ReadinessView } from '../../src/client/api-client.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, placeTestnet, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

describe('health and readiness of four validator processes', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let configs: string[]
  const apiPorts: number[] = []
  const procs: Array<ChildProcess | undefined> = []

  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)
  const url = (i: number, path: string): string => `http://127.0.0.1:${apiPorts[i]!}${path}`
  const start = (i: number): void => {
    procs[i] = spawn(process.execPath, [BIN, 'start', '--config', configs[i]!, '--log-level', 'warn'], { env, stdio: 'ignore' })
  }
  const stop = async (i: number): Promise<void> => {
    const p = procs[i]!
    const exited = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGTERM')
    await exited
    procs[i] = undefined
  }
  const ready = async (i: number): Promise<{ status: number, body: ReadinessView }> => {
    const res = await fetch(url(i, '/v1/ready'))
    return { status: res.status, body: await res.json() as ReadinessView }
  }
  const metric = async (i: number, series: string): Promise<number> => {
    const text = await (await fetch(url(i, '/metrics'))).text()
    const line = text.split('\n').find(l => l.startsWith(series + ' '))
    assert.ok(line !== undefined, `${series} in the scrape`)
    return Number(line.slice(series.length + 1))
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-health-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const ports = await Promise.all(Array.from({ length: 4 }, async () => await freePort()))
    apiPorts.push(...await Promise.all(Array.from({ length: 4 }, async () => await freePort())))
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(ports[0]), '--api-port', String(apiPorts[0]))
    assert.equal(init.code, 0, init.err)
    configs = await placeTestnet(join(dir, 'net'), ports, apiPorts)
    for (let i = 0; i < 4; i++) start(i)
  })

  after(async () => {
    for (const p of procs) p?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('with all four running every node is ready and status says healthy', async () => {
    await waitFor('every node ready', 60_000, async () => (await Promise.all([0, 1, 2, 3].map(ready))).every(r => r.status === 200))
    const r = await ready(0)
    assert.deepEqual(r.body.reasons, [])
    assert.equal(r.body.validatorsConnected, 3)
    const health = await new ApiClient(url(0, '')).health()
    assert.equal(health.status, 'ok')
    const s = await cli('status', '--api', url(0, ''))
    assert.equal(s.code, 0, s.err)
    assert.match(s.out.split('\n')[0]!, /^healthy: 3\/3 other validators, (delivering|idle), no checkpoint yet$/)
    assert.match(s.out, /validatorsConnected\s+3/)
    const json = await cli('status', '--api', url(0, ''), '--json')
    const parsed = JSON.parse(json.out) as { status: { validatorsConnected: number }, ready: ReadinessView }
    assert.equal(parsed.status.validatorsConnected, 3)
    assert.equal(parsed.ready.ready, true)
    assert.equal(await metric(0, 'bftnode_ready'), 1)
  })

  test('with two of four stopped the others are below quorum: /v1/ready 503 with the reason, /v1/health 200', async () => {
    await stop(2)
    await stop(3)
    await waitFor('node 1 to turn unready', 20_000, async () => (await ready(0)).status === 503)
    for (const i of [0, 1]) {
      const r = await ready(i)
      assert.equal(r.status, 503)
      assert.equal(r.body.ready, false)
      assert.deepEqual(r.body.reasons, ['below quorum (1 of 3 other validators connected, 2 needed)'])
      const health = await fetch(url(i, '/v1/health'))
      assert.equal(health.status, 200)
      assert.equal((await health.json() as { status: string }).status, 'ok')
      assert.equal(await metric(i, 'bftnode_ready'), 0)
      assert.equal(await metric(i, 'bftnode_validators_connected'), 1)
    }
    const s = await cli('status', '--api', url(0, ''))
    assert.equal(s.code, 0, s.err)
    assert.equal(s.out.split('\n')[0], 'unready: below quorum (1 of 3 other validators connected, 2 needed)')
  })

  test('a third validator back makes a quorum again', async () => {
    start(2)
    await waitFor('node 1 ready again', 60_000, async () => (await ready(0)).status === 200)
    assert.equal((await ready(0)).body.validatorsConnected, 2)
    assert.match((await cli('status', '--api', url(0, ''))).out.split('\n')[0]!, /^healthy: 2\/3 other validators/)
  })
})
