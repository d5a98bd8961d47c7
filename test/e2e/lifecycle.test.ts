// End to end: how `bftnode` processes end. Exit codes (0 done, 1 an error a person can act on, 2 a
// malformed command line), a join to a dead bootstrap that gives up and exits, SIGTERM during
// start-up (at the passphrase prompt too) and after it (exit 0, promptly), a second signal, a stop
// that hangs, `testnet start` when one of its nodes dies (exit 1, naming it) and when it is killed
// (no orphan nodes), `demo` interrupted (its nodes and directory cleaned up).

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/client/api-client.js'
import { openKey, parseKeyFile, sealKey } from '../../src/client/keyfile.js'
import { peerIdForSeed } from '../../src/net/network.js'
import { STOP_GRACE_MS } from '../../src/cli/lifecycle.js'
import { freePorts, waitFor } from '../support/ports.js'
import { BIN, placeTestnet, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'
import { watch, watchBin } from '../support/process.js'
import type { Watched } from '../support/process.js'

const randomSeed = (): Uint8Array => new Uint8Array(randomBytes(32))
const timeout = async (ms: number): Promise<undefined> => await new Promise(resolve => setTimeout(() => resolve(undefined), ms))

const LIFECYCLE = fileURLToPath(new URL('../../src/cli/lifecycle.js', import.meta.url))

describe('bftnode processes end with a code that says why, and never hang', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  const running: Watched[] = []
  let nets = 0

  const cli = async (...args: string[]): Promise<CliRun> => await runCli(env, dir, args)
  const bin = (...args: string[]): Watched => {
    const w = watchBin(args, env, dir)
    running.push(w)
    return w
  }

  /** A fresh `testnet init` network of n validators on free ports; returns its dir and API ports. */
  const network = async (n: number): Promise<{ net: string, apiPorts: number[] }> => {
    const net = join(dir, `net${++nets}`)
    const ports = await freePorts(2 * n)
    const init = await cli('testnet', 'init', '--validators', String(n), '--dir', net, '--base-port', String(ports[0]), '--api-port', String(ports[n]))
    assert.equal(init.code, 0, init.err)
    if (n > 1) await placeTestnet(net, ports.slice(0, n), ports.slice(n))
    return { net, apiPorts: ports.slice(n) }
  }

  const answers = async (port: number): Promise<boolean> => await new ApiClient(`http://127.0.0.1:${port}`).status().then(() => true, () => false)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-life-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
  })

  after(async () => {
    for (const w of running) w.child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('exit 0 for success, 2 for a malformed command line, 1 for a mistake it names', async () => {
    assert.equal((await cli('version')).code, 0)
    const flag = await cli('start', '--bogus-flag')
    assert.equal(flag.code, 2, flag.err)
    assert.match(flag.err, /Unknown argument: bogus-flag/)
    const none = await cli()
    assert.equal(none.code, 2, none.err)
    assert.match(none.err, /name a command/)
    const missing = await cli('start', '--genesis', join(dir, 'missing.json'), '--key', join(dir, 'key.json'), '--data-dir', join(dir, 'd'))
    assert.equal(missing.code, 1, missing.err)
    assert.match(missing.err, /^error: cannot read genesis file .*missing\.json/m)
    assert.doesNotMatch(missing.err, /internal error/)
  })

  test('join with a dead bootstrap address gives up and exits 1 within 45 s', async () => {
    const { net } = await network(1)
    const [deadPort, apiPort] = await freePorts(2)
    const dead = `/ip4/127.0.0.1/tcp/${deadPort!}/p2p/${await peerIdForSeed(randomSeed())}`
    const p = bin('join', '--genesis', join(net, 'genesis.json'), '--bootstrap', dead, '--data-dir', join(dir, 'dead-join'), '--api-port', String(apiPort), '--no-mdns')
    // counted from the node being up, not from the spawn: start-up time is the machine's load
    await p.waitForOutput(/state restored from disk/, 30_000)
    const started = performance.now()
    const end = await Promise.race([p.ended, timeout(45_000)])
    assert.ok(end !== undefined, `still running after 45 s; output:\n${p.output()}`)
    assert.equal(end.code, 1, p.output())
    assert.match(p.output(), /error: no peer reachable/)
    assert.ok(end.at - started < 45_000)
  })

  test('SIGTERM during start-up (a join waiting for peers) stops it at once, exit 0', async () => {
    const { net } = await network(1)
    const [deadPort, apiPort] = await freePorts(2)
    const dead = `/ip4/127.0.0.1/tcp/${deadPort!}/p2p/${await peerIdForSeed(randomSeed())}`
    const p = bin('join', '--genesis', join(net, 'genesis.json'), '--bootstrap', dead, '--data-dir', join(dir, 'sigterm-join'), '--api-port', String(apiPort), '--no-mdns')
    await p.waitForOutput(/state restored from disk/, 30_000)
    const end = await p.stopWith('SIGTERM')
    assert.equal(end.code, 0, p.output())
    assert.ok(end.ms < 5000, `took ${end.ms} ms`)
    assert.match(p.output(), /stopped \(SIGTERM\) before start-up finished/)
    assert.equal(await answers(apiPort!), false)
  })

  test('SIGTERM after start-up stops the node cleanly, exit 0, promptly', async () => {
    const { net, apiPorts } = await network(1)
    const p = bin('start', '--config', join(net, 'node1', 'config.json'))
    await p.waitForOutput(/bftnode ready in/, 30_000)
    assert.equal(await answers(apiPorts[0]!), true)
    const end = await p.stopWith('SIGTERM')
    assert.equal(end.code, 0, p.output())
    assert.ok(end.ms < 5000, `took ${end.ms} ms`)
    assert.match(p.output(), /SIGTERM: stopping[\s\S]*\bstopped\b/)
    // the data dir was closed: the same node starts again on it at once
    const again = bin('start', '--config', join(net, 'node1', 'config.json'))
    await again.waitForOutput(/bftnode ready in/, 30_000)
    assert.equal((await again.stopWith('SIGINT')).code, 0, again.output())
  })

  test('Ctrl-C at the node key\'s passphrase prompt (a terminal) stops start, exit 0', async (t) => {
    const hasScript = await new Promise<boolean>(resolve => spawn('script', ['--version'], { stdio: 'ignore' }).once('error', () => resolve(false)).once('close', code => resolve(code === 0)))
    if (!hasScript) { t.skip('no `script` (util-linux) here to give bftnode a terminal'); return }
    const { net } = await network(1)
    const keyPath = join(net, 'node1', 'node-key.json')
    const seed = await openKey(parseKeyFile(await readFile(keyPath, 'utf8')), undefined)
    await writeFile(keyPath, JSON.stringify(await sealKey('node1', seed, 'a passphrase')))
    // script runs bftnode on a terminal of its own and passes it what this test writes
    const command = [process.execPath, BIN, 'start', '--config', join(net, 'node1', 'config.json')].map(a => `'${a}'`).join(' ')
    const p = watch(spawn('script', ['-qefc', command, '/dev/null'], { env, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] }))
    running.push(p)
    await p.waitForOutput(/passphrase for .*node-key\.json: /, 30_000)
    p.child.stdin!.write('\u0003')
    const end = await Promise.race([p.ended, timeout(5000)])
    assert.ok(end !== undefined, `still running 5 s after Ctrl-C; output:\n${p.output()}`)
    assert.equal(end.code, 0, p.output())
    assert.match(p.output(), /stopped \(SIGINT\) before start-up finished/)
  })

  test('testnet start: a node that dies stops the others, exit 1 naming it and its log', async () => {
    const { net, apiPorts } = await network(2)
    // node2's API port is taken: it cannot start
    const blocker: Server = createServer()
    await new Promise<void>(resolve => blocker.listen(apiPorts[1], '127.0.0.1', resolve))
    try {
      const p = bin('testnet', 'start', '--dir', net)
      const end = await Promise.race([p.ended, timeout(60_000)])
      assert.ok(end !== undefined, `still running after 60 s; output:\n${p.output()}`)
      assert.equal(end.code, 1, p.output())
      const log = join(net, 'node2', 'bftnode.log')
      assert.match(p.output(), new RegExp(`error: node2 exited with code 1; the test network is stopped \\(its log: ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`))
      assert.match(await readFile(log, 'utf8'), /the API port is taken/)
      assert.equal(await answers(apiPorts[0]!), false, 'node1 still runs')
    } finally {
      blocker.close()
    }
  })

  test('testnet start: SIGTERM stops every node (exit 0); killed with SIGKILL, it leaves no orphan node', async () => {
    const { net, apiPorts } = await network(2)
    const p = bin('testnet', 'start', '--dir', net)
    await waitFor('both nodes to answer', 60_000, async () => (await Promise.all(apiPorts.map(answers))).every(Boolean))
    const end = await p.stopWith('SIGTERM')
    assert.equal(end.code, 0, p.output())
    assert.ok(end.ms < STOP_GRACE_MS, `took ${end.ms} ms`)
    assert.deepEqual(await Promise.all(apiPorts.map(answers)), [false, false])

    const q = bin('testnet', 'start', '--dir', net)
    await waitFor('both nodes to answer again', 60_000, async () => (await Promise.all(apiPorts.map(answers))).every(Boolean))
    const killed = await q.stopWith('SIGKILL')
    assert.equal(killed.signal, 'SIGKILL')
    // its nodes notice their parent is gone (the IPC channel closes) and stop themselves
    await waitFor('the orphaned nodes to stop', 15_000, async () => (await Promise.all(apiPorts.map(answers))).every(up => !up))
  })

  test('a second signal exits at once with 128+n', async () => {
    const { net, apiPorts } = await network(2)
    const p = bin('testnet', 'start', '--dir', net)
    await waitFor('both nodes to answer', 60_000, async () => (await Promise.all(apiPorts.map(answers))).every(Boolean))
    p.child.kill('SIGTERM')
    p.child.kill('SIGINT')
    const end = await p.ended
    assert.ok(end.code === 130 || end.code === 143, `exit ${String(end.code)}; output:\n${p.output()}`)
    assert.match(p.output(), /second signal \(SIG(INT|TERM)\): exiting now/)
    await waitFor('its nodes to stop', 15_000, async () => (await Promise.all(apiPorts.map(answers))).every(up => !up))
  })

  test('demo interrupted by SIGTERM stops its nodes and removes its directory, exit 143', async () => {
    const tmp = join(dir, 'demo-tmp')
    await mkdir(tmp)
    const p = watchBin(['demo'], { ...env, TMPDIR: tmp }, dir)
    running.push(p)
    await p.waitForOutput(/\[node1\] bftnode ready/, 60_000)
    const apiPort = Number(/\[node1\] {3}API {7}http:\/\/127\.0\.0\.1:([0-9]+)/.exec(p.output())?.[1])
    const end = await p.stopWith('SIGTERM')
    assert.equal(end.code, 143, p.output())
    assert.ok(end.ms < STOP_GRACE_MS, `took ${end.ms} ms`)
    assert.deepEqual(await readdir(tmp), [], 'the demo directory is removed')
    assert.equal(await answers(apiPort), false, 'node1 still runs')
  })

  test('a stop that hangs is cut off after the grace period, exit 1', async () => {
    // the real lifecycle module in a process whose stop never finishes
    const script = `import { holdSignals, stopOnSignal } from ${JSON.stringify(LIFECYCLE)}
holdSignals(['start'])
const stop = stopOnSignal()
setInterval(() => {}, 1000) // the work that never finishes stopping
process.stdout.write('running\\n')
await stop.requested`
    const p = watch(spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] }))
    running.push(p)
    await p.waitForOutput(/running/, 30_000)
    const end = await p.stopWith('SIGTERM')
    assert.equal(end.code, 1, p.output())
    assert.ok(end.ms >= STOP_GRACE_MS - 100 && end.ms < STOP_GRACE_MS + 5000, `took ${end.ms} ms`)
    assert.match(p.output(), /the stop did not finish within 8 s: exiting anyway/)
  })

  test('an older Node is refused with a clear message before anything is imported', async () => {
    const old = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"18.19.0"})'
    const p = watch(spawn(process.execPath, ['--import', old, BIN, 'version'], { env, stdio: ['ignore', 'pipe', 'pipe'] }))
    const end = await p.ended
    assert.equal(end.code, 1)
    assert.equal(p.output(), 'error: bftnode needs Node.js 20.19 or newer (22.12 or newer on the 22 line); this is Node.js 18.19.0\n')
  })
})
