// End to end, with real `bftnode` processes: `config show` reports each value and its source, bad
// values are refused naming their source, the commented file `testnet init` writes loads back, a
// variable alone (BFTNODE_TICK_MS) reaches a running node, an encrypted node key starts with
// BFTNODE_PASSPHRASE, and wallet keys go through import, export, passwd and delete.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/api-client.js'
import { OPTION_NAMES } from '../../src/node/config.js'
import { freePort, waitFor } from '../support/ports.js'
import { BIN, runCli } from '../support/testnet.js'
import type { CliRun } from '../support/testnet.js'

const PASS = 'correct horse battery staple'
const TOKEN = 'e2e-api-token-0123456789'

describe('config and keys through the bftnode CLI', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let p2p: number
  let apiPort: number
  const procs: ChildProcess[] = []

  const cli = async (args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> => await runCli({ ...env, ...extra }, dir, args)

  /** Runs the CLI with `input` on stdin (not a terminal). */
  const cliInput = async (args: readonly string[], input: string, extra: NodeJS.ProcessEnv = {}): Promise<CliRun> => await new Promise(resolve => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (b: Buffer) => { out += b.toString() })
    p.stderr.on('data', (b: Buffer) => { err += b.toString() })
    p.once('close', code => resolve({ code: code ?? 1, out, err }))
    p.stdin.end(input)
  })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-config-'))
    // nothing from the environment of whoever runs the tests
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BFTNODE_')))
    env.BFTNODE_HOME = join(dir, 'home')
    p2p = await freePort()
    apiPort = await freePort()
    const init = await cli(['testnet', 'init', '--validators', '1', '--dir', 'net', '--base-port', String(p2p), '--api-port', String(apiPort), '--encrypt'], { BFTNODE_PASSPHRASE: PASS })
    assert.equal(init.code, 0, init.err)
    assert.match(init.out, /node keys encrypted/)
  })

  after(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('testnet init writes a commented file with every option, and config show loads it back', async () => {
    const text = await readFile(join(dir, 'net', 'node1', 'config.json'), 'utf8')
    assert.match(text, /^\/\/ bftnode config of node1/)
    for (const option of ['maxConnections', 'inboundRate', 'tickMs', 'logFile', 'statusIntervalMs', 'metrics', 'dashboard', 'apiCors', 'apiToken']) {
      assert.match(text, new RegExp(`^ {2}// "${option}": `, 'm'), `${option} is listed, commented out`)
    }
    const show = await cli(['config', 'show', '--config', 'net/node1/config.json', '--json'])
    assert.equal(show.code, 0, show.err)
    const c = JSON.parse(show.out) as Record<string, { value: unknown, source: string }>
    const file = 'file:net/node1/config.json'
    assert.deepEqual(c.dataDir, { value: join(dir, 'net', 'node1', 'data'), source: file })
    assert.deepEqual(c.genesisFile, { value: join(dir, 'net', 'genesis.json'), source: file })
    assert.deepEqual(c.listen, { value: [`/ip4/127.0.0.1/tcp/${p2p}`], source: file })
    assert.deepEqual(c.apiPort, { value: apiPort, source: file })
    assert.deepEqual(c.mdns, { value: false, source: file })
    assert.deepEqual(c.tickMs, { value: 5, source: 'default' })
    assert.deepEqual(c.logFile, { value: null, source: 'default' })
    // every option, no more: config show lists the schema's options whatever their number
    assert.deepEqual(Object.keys(c).sort(), [...OPTION_NAMES].sort())
  })

  test('config show names the source of each value and masks secrets', async () => {
    const show = await cli(['config', 'show', '--config', 'net/node1/config.json', '--max-connections', '12', '--no-metrics'],
      { BFTNODE_TICK_MS: '9', BFTNODE_API_TOKEN: 'a-token-of-some-length', BFTNODE_PASSPHRASE: PASS })
    assert.equal(show.code, 0, show.err)
    const row = (name: string): string => show.out.split('\n').find(l => l.startsWith(name + ' '))!.replace(/\s+/g, ' ')
    assert.equal(row('tickMs'), 'tickMs 9 env:BFTNODE_TICK_MS')
    assert.equal(row('maxConnections'), 'maxConnections 12 flag:--max-connections')
    assert.equal(row('metrics'), 'metrics false flag:--no-metrics')
    assert.equal(row('apiPort'), `apiPort ${apiPort} file:net/node1/config.json`)
    assert.equal(row('inboundRate'), 'inboundRate 5000 default')
    assert.equal(row('apiToken'), 'apiToken ******** env:BFTNODE_API_TOKEN')
    assert.equal(row('passphrase'), 'passphrase ******** env:BFTNODE_PASSPHRASE')
    assert.ok(!show.out.includes('a-token-of-some-length') && !show.out.includes(PASS))
  })

  test('a bad value is refused, naming the file and position, the variable or the flag', async () => {
    await writeFile(join(dir, 'bad.json'), '{\n  // too slow\n  "tickMs": 5000\n}\n')
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['--config', 'bad.json'], {}, 'error: bad.json:3:3: option "tickMs" must be between 1 and 1000'],
      [['--config', 'net/node1/config.json'], { BFTNODE_TICK_MS: 'abc' }, 'error: BFTNODE_TICK_MS: must be a number, got "abc"'],
      [['--config', 'net/node1/config.json', '--tick-ms', '0'], {}, 'error: --tick-ms: must be between 1 and 1000'],
      [['--config', 'net/node1/config.json', '--inbound-rate', 'fast'], {}, 'error: --inbound-rate: must be a number, got "fast"']
    ]
    for (const [i, [args, extra, message]] of cases.entries()) {
      // start reads options as config show does; one case of each source is enough for it
      for (const cmd of i < 2 ? [['config', 'show'], ['start']] : [['config', 'show']]) {
        const r = await cli([...cmd, ...args], extra)
        assert.equal(r.code, 1, `${cmd.join(' ')} ${args.join(' ')}: ${r.out}${r.err}`)
        assert.equal(r.err.trim(), message)
      }
    }
    await writeFile(join(dir, 'typo.json'), '{ "maxConections": 3 }')
    const typo = await cli(['config', 'show', '--config', 'typo.json'])
    assert.equal(typo.err.trim(), 'error: typo.json:1:3: unknown option "maxConections" (did you mean "maxConnections"?)')
  })

  test('an encrypted node key: refused without its passphrase, started with BFTNODE_PASSPHRASE; a variable alone reaches the node; the CLI sends the API token', async () => {
    const key = JSON.parse(await readFile(join(dir, 'net', 'node1', 'node-key.json'), 'utf8')) as { encrypted?: unknown, seed?: unknown }
    assert.ok(key.encrypted !== undefined && key.seed === undefined, 'the node key is encrypted')
    const none = await cli(['start', '--config', 'net/node1/config.json'])
    assert.equal(none.code, 1)
    assert.match(none.err, /node-key\.json" needs a passphrase/)
    const wrong = await cli(['start', '--config', 'net/node1/config.json'], { BFTNODE_PASSPHRASE: 'not it' })
    assert.equal(wrong.code, 1)
    assert.match(wrong.err, /wrong passphrase for key "node1" \(node key file .*node-key\.json\)/)

    const p = spawn(process.execPath, [BIN, 'start', '--config', 'net/node1/config.json'], {
      cwd: dir,
      env: { ...env, BFTNODE_PASSPHRASE: PASS, BFTNODE_TICK_MS: '9', BFTNODE_LOG_LEVEL: 'debug', BFTNODE_LOG_FORMAT: 'json', BFTNODE_API_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    procs.push(p)
    let out = ''
    let logs = ''
    p.stdout.on('data', (b: Buffer) => { out += b.toString() })
    p.stderr.on('data', (b: Buffer) => { logs += b.toString() })
    const api = new ApiClient(`http://127.0.0.1:${apiPort}`, TOKEN)
    await waitFor('the node to answer', 60_000, async () => (await api.status()).network === 'testnet')
    const config = logs.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.msg === 'config')
    assert.ok(config !== undefined, logs)
    assert.equal(config.tickMs, 9)
    assert.equal((config.from as Record<string, string>).tickMs, 'env:BFTNODE_TICK_MS')
    assert.equal(config.passphrase, '********')
    assert.ok(!logs.includes(PASS) && !out.includes(PASS))
    assert.ok(!logs.includes(TOKEN) && !out.includes(TOKEN))
    assert.equal(config.apiToken, '********')

    // the node's API wants its token: the CLI without one is refused, with BFTNODE_API_TOKEN it is let in
    const refused = await cli(['status', '--api', `http://127.0.0.1:${apiPort}`])
    assert.equal(refused.code, 1)
    assert.match(refused.err, /token/i)
    // one name for the node: the peer id of its p2p address is the one status gives, with its key
    const status = await cli(['status', '--api', `http://127.0.0.1:${apiPort}`], { BFTNODE_API_TOKEN: TOKEN })
    assert.equal(status.code, 0, status.err)
    const id = status.out.match(/^\s*nodeId\s+(12D3Koo\w+) {2}validator ([0-9a-f]{64})$/m)
    assert.ok(id !== null, status.out)
    // the ready banner: on stdout in text mode, a JSON record on stderr in JSON mode
    assert.ok((out + logs).includes(`/p2p/${id[1]!}`), out + logs)
    const genesis = JSON.parse(await readFile(join(dir, 'net', 'genesis.json'), 'utf8')) as { validators: string[] }
    assert.deepEqual(genesis.validators, [id[2]])
  })

  test('wallet keys: export, delete, import, passwd, seeds on stdin, damaged files reported', async () => {
    assert.equal((await cli(['account', 'new', '--name', 'alice', '--insecure'])).code, 0)
    const key = (await cli(['account', 'list'])).out.match(/^alice\s+([0-9a-f]{64})/m)![1]!

    // a clear account is exported encrypted unless --plain; an export never replaces a file
    const noPass = await cli(['account', 'export', '--name', 'alice', '--out', 'alice.json'])
    assert.equal(noPass.code, 1)
    assert.match(noPass.err, /needs a passphrase/)
    assert.equal((await cli(['account', 'export', '--name', 'alice', '--out', 'alice.json'], { BFTNODE_PASSPHRASE: 'pw1' })).code, 0)
    assert.ok((JSON.parse(await readFile(join(dir, 'alice.json'), 'utf8')) as { encrypted?: unknown }).encrypted !== undefined)
    const again = await cli(['account', 'export', '--name', 'alice', '--out', 'alice.json'], { BFTNODE_PASSPHRASE: 'pw1' })
    assert.equal(again.code, 1)
    assert.match(again.err, /exists already/)

    // delete asks (and without a terminal, needs --yes)
    const asked = await cliInput(['account', 'delete', '--name', 'alice'], 'y\n')
    assert.equal(asked.code, 1)
    assert.match(asked.err, /pass --yes/)
    assert.equal((await cli(['account', 'delete', '--name', 'alice', '--yes'])).code, 0)
    assert.doesNotMatch((await cli(['account', 'list'])).out, /alice/)

    // the encrypted export comes back under a new name, keeping its passphrase
    const imported = await cli(['account', 'import', '--name', 'alice2', '--file', 'alice.json'])
    assert.equal(imported.code, 0, imported.err)
    assert.match(imported.out, new RegExp(`imported account alice2: ${key}`))

    // passwd: the new passphrase opens it, the old one no longer does
    assert.equal((await cli(['account', 'passwd', '--name', 'alice2'], { BFTNODE_PASSPHRASE: 'pw1', BFTNODE_NEW_PASSPHRASE: 'pw2' })).code, 0)
    const old = await cli(['account', 'export', '--name', 'alice2', '--plain'], { BFTNODE_PASSPHRASE: 'pw1' })
    assert.equal(old.code, 1)
    assert.match(old.err, /wrong passphrase for key "alice2"/)
    const plain = await cli(['account', 'export', '--name', 'alice2', '--plain'], { BFTNODE_PASSPHRASE: 'pw2' })
    assert.equal(plain.code, 0, plain.err)
    assert.match(plain.err, /warning: .*NOT encrypted/)
    const seed = (JSON.parse(plain.out) as { seed: string }).seed

    // a key already in the wallet is refused under another name; a seed comes on stdin, never argv
    const twice = await cliInput(['account', 'import', '--name', 'alice3', '--insecure'], seed + '\n')
    assert.equal(twice.code, 1)
    assert.match(twice.err, /already in the wallet as "alice2"/)
    assert.equal((await cli(['account', 'delete', '--name', 'alice2', '--yes'])).code, 0)
    const fromSeed = await cliInput(['account', 'import', '--name', 'alice3'], seed + '\n', { BFTNODE_PASSPHRASE: 'pw3' })
    assert.equal(fromSeed.code, 0, fromSeed.err)
    assert.match(fromSeed.out, new RegExp(`imported account alice3: ${key}`))
    const garbage = await cliInput(['account', 'import', '--name', 'x'], 'not a seed\n')
    assert.equal(garbage.code, 1)
    assert.doesNotMatch(garbage.err, /not a seed/, 'what was given is never echoed')

    // a damaged key file is reported by list and by any command that reads it, with its path
    const bad = join(env.BFTNODE_HOME!, 'wallet', 'bob.key.json')
    await writeFile(bad, '{"version": 1, "na')
    const list = await cli(['account', 'list'])
    assert.equal(list.code, 1)
    assert.match(list.out, /^alice3\s/m)
    assert.equal(list.err.trim(), `error: key file ${bad} is unreadable: not JSON (a damaged or foreign file)`)
    const use = await cli(['transfer', '--from', 'bob', '--to', 'alice3', '--amount', '1'])
    assert.equal(use.code, 1)
    assert.equal(use.err.trim(), `error: key file ${bad}: not JSON (a damaged or foreign file)`)
  })
})
