// End to end: two validator processes started with --trace-file carry a transfer; their trace
// files, merged by `bftnode chart`, draw the batch's proposal, votes and certificate between the
// two lifelines and its delivery at both, as SVG and, filtered to the sender's account, as Mermaid.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/api-client.js'
import { parseTrace } from '../../src/node/trace.js'
import { freeRun, waitFor } from '../support/ports.js'
import { BIN, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

describe('bftnode chart of real nodes\' traces', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const procs: ChildProcess[] = []
  const traces: string[] = []
  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-chart-'))
    const [p2p, api] = [await freeRun(2), await freeRun(2)]
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home'), BFTNODE_API: `http://127.0.0.1:${api}` }
    const init = await cli('testnet', 'init', '--validators', '2', '--dir', join(dir, 'net'), '--base-port', String(p2p), '--api-port', String(api))
    assert.equal(init.code, 0, init.err)
    for (let i = 0; i < 2; i++) {
      traces.push(join(dir, `trace${i + 1}.jsonl`))
      // one by flag, one by variable: both spellings of the option
      const flags = i === 0 ? ['--trace-file', traces[i]!] : []
      const nodeEnv = i === 0 ? env : { ...env, BFTNODE_TRACE_FILE: traces[i] }
      procs.push(spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', `node${i + 1}`, 'config.json'), '--log-level', 'warn', ...flags], { env: nodeEnv, stdio: 'ignore' }))
    }
    const apis = [0, 1].map(i => new ApiClient(`http://127.0.0.1:${api + i}`))
    await waitFor('both validators to see each other', 30_000, async () =>
      (await Promise.all(apis.map(async a => await a.status().then(s => Number(s.validatorsConnected), () => 0)))).every(n => n >= 1))
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('a transfer shows as propose, votes, certified and deliveries on both lifelines', async () => {
    assert.equal((await cli('account', 'new', '--name', 'alice', '--insecure')).code, 0)
    const t = await cli('transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')
    assert.equal(t.code, 0, t.out + t.err)
    const treasury = (await cli('balance', 'treasury')).out.match(/account\s+([0-9a-f]{64})/)![1]!
    // a stopping node writes out what it buffered
    for (const p of procs) {
      const exited = new Promise(resolve => p.once('exit', resolve))
      p.kill('SIGTERM')
      await exited
    }
    const events = await Promise.all(traces.map(async f => parseTrace(await readFile(f, 'utf8'))))
    for (const e of events) {
      assert.ok(e.some(x => x.ev === 'send') && e.some(x => x.ev === 'recv'), 'each node traced messages both ways')
      assert.ok(e.some(x => x.ev === 'deliver' && x.slot.startsWith(treasury.slice(0, 16))), 'and the delivery')
    }

    const svgOut = join(dir, 'run.svg')
    const svg = await cli('chart', ...traces, '--out', svgOut, '--max', '0')
    assert.equal(svg.code, 0, svg.err)
    assert.match(svg.out, /run\.svg: SVG chart of \d+ events from 2 trace files/)
    const text = await readFile(svgOut, 'utf8')
    assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    assert.equal((text.match(/<g class="lane">/g) ?? []).length, 2)
    for (const type of ['propose', 'vote', 'certified']) assert.match(text, new RegExp(`<g class="msg ${type}">`), `a received ${type}`)
    assert.ok((text.match(/<g class="event deliver">/g) ?? []).length >= 2)

    const mmdOut = join(dir, 'alice.mmd')
    const mmd = await cli('chart', ...traces, '--out', mmdOut, '--account', treasury.slice(0, 8))
    assert.equal(mmd.code, 0, mmd.err)
    const chart = await readFile(mmdOut, 'utf8')
    const arrows = [...chart.matchAll(/^ {2}N[01](?:->>|-x)N[01]: ([a-z-]+) ([0-9a-f]{6})/gm)]
    assert.ok(arrows.length >= 3, chart)
    // every message kept names the treasury's slot first (it is the only account that sent)
    assert.ok(arrows.every(m => m[2] === treasury.slice(0, 6)), chart)
    assert.match(chart, /left out - \d+ messages not about account /)

    const bad = await cli('chart', traces[0]!, '--out', join(dir, 'x.png'))
    assert.equal(bad.code, 1)
    assert.match(bad.err, /name the file \.svg, \.mmd/)
  })
})
