// End to end: what `bftnode start` writes for an operator, as a real process. One validator of a
// two-validator network started alone: in JSON mode every line on either stream is a JSON record
// (the ready banner too), the status line and the below-quorum warning come at their interval,
// failed dials show at net=debug, and the log file holds the same records up to "stopped". In
// text mode the same node prints its banner and readable lines.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freeRun, waitFor } from '../support/ports.js'
import { parse as parseJsonc } from 'jsonc-parser'

const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))

interface Started { proc: ChildProcess, out: () => string, err: () => string, exited: Promise<number | null> }

describe('bftnode start: logs an operator can use', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let config: string
  let logFile: string
  const procs: ChildProcess[] = []

  const start = (...flags: string[]): Started => {
    const proc = spawn(process.execPath, [BIN, 'start', '--config', config, ...flags], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    procs.push(proc)
    let out = ''
    let err = ''
    proc.stdout?.on('data', (b: Buffer) => { out += b.toString() })
    proc.stderr?.on('data', (b: Buffer) => { err += b.toString(); if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node1] ${b.toString()}`) })
    // 'close', not 'exit': the last lines on the pipes have been read by then
    const exited = new Promise<number | null>(resolve => proc.once('close', code => resolve(code)))
    return { proc, out: () => out, err: () => err, exited }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-logs-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    // node2's port stays closed: node1 dials it in vain (runs of two: node2's ports are p2p+1, api+1)
    const [p2p, api] = [await freeRun(2), await freeRun(2)]
    await new Promise<void>((resolve, reject) => execFile(process.execPath, [BIN, 'testnet', 'init', '--validators', '2', '--dir', join(dir, 'net'), '--base-port', String(p2p), '--api-port', String(api)], { env }, err => err === null ? resolve() : reject(err)))
    config = join(dir, 'net', 'node1', 'config.json')
    logFile = join(dir, 'logs', 'node1.log')
    const c = parseJsonc(await readFile(config, 'utf8')) as Record<string, unknown>
    await writeFile(config, JSON.stringify({ ...c, logFormat: 'json', logFile, statusIntervalMs: 300 }, null, 2))
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('json: every line is a record, the lone validator says it is below quorum and why, and the file keeps it all', async () => {
    const node = start('--log-level', 'info,net=debug')
    const records = (): Array<Record<string, unknown>> => node.err().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
    await waitFor('the below-quorum warning', 20_000, () => records().some(r => r.level === 'warn' && r.module === 'status' && String(r.msg).startsWith('below quorum')))
    assert.equal(node.out(), '', 'nothing plain on standard output in JSON mode')
    const all = records()
    const ready = all.find(r => r.msg === 'ready')
    assert.ok(ready !== undefined, 'a ready record')
    assert.equal(ready.role, 'validator')
    assert.equal(ready.validators, 2)
    assert.match(String(ready.api), /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(Array.isArray(ready.p2p) && ready.p2p.every(a => /\/p2p\/12D3/.test(String(a))), JSON.stringify(ready.p2p))
    const status = await (await fetch(`${String(ready.api)}/v1/status?stateHash=false`)).json() as { validatorsConnected: number }
    assert.equal(status.validatorsConnected, 0)
    assert.equal(all.find(r => r.module === 'status' && String(r.msg).startsWith('below quorum'))!.msg, 'below quorum: 0 of 1 other validators connected, 2 needed (this validator does not vote yet, so its own vote does not count); no op can be certified until more connect')
    assert.ok(all.some(r => r.module === 'status' && /^status: no peers \| peers 0 \| validators 0\/1 \|/.test(String(r.msg))))
    const dial = all.find(r => r.module === 'net' && r.level === 'debug' && r.msg === 'dial failed')
    assert.match(String(dial?.reason), /ECONNREFUSED/)
    assert.ok(all.every(r => typeof r.time === 'string' && typeof r.level === 'string'))
    node.proc.kill('SIGTERM')
    assert.equal(await node.exited, 0)
    const filed = (await readFile(logFile, 'utf8')).split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(filed.map(r => r.msg), records().map(r => r.msg), 'the file holds the same records')
    assert.equal(filed.at(-1)!.msg, 'stopped')
  })

  test('text: the banner on standard output, one readable line per record with its module', async () => {
    const node = start('--log-format', 'text')
    await waitFor('a status line', 20_000, () => /\[status\] status: /.test(node.err()))
    assert.match(node.out(), /^bftnode ready in \d+ ms: validator of network "testnet" \(2 validator\(s\), quorum 2\)\n {2}data dir/)
    const lines = node.err().split('\n').filter(l => l !== '')
    for (const line of lines) assert.match(line, /^[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO |WARN |ERROR) /)
    assert.ok(lines.some(l => / INFO {2}\[status\] status: no peers \| peers 0 \| validators 0\/1 \|/.test(l)), lines.join('\n'))
    assert.ok(!lines.some(l => l.includes('dial failed')), 'net debug records only when asked')
    node.proc.kill('SIGTERM')
    assert.equal(await node.exited, 0)
    // the file is appended to: both runs are in it, as JSON
    const filed = (await readFile(logFile, 'utf8')).split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { msg: string })
    assert.equal(filed.filter(r => r.msg === 'ready').length, 2)
  })
})
