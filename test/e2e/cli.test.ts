// End to end: the `bftnode` CLI as the README shows it, with four validator processes on
// 127.0.0.1. Accounts, transfers, a token contract deployed and called; one validator killed with
// SIGKILL in the middle of a stream of transfers, the others carry on (3 of 4 is a quorum), and
// after its restart it catches up to the same state with nothing lost.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/client/api-client.js'
import { freePort, freeRun, waitFor } from '../support/ports.js'

const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))
const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))

interface Run { code: number, out: string, err: string }

describe('bftnode CLI with four validator processes', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let base: number
  const procs: Array<ChildProcess | undefined> = []
  const apis: ApiClient[] = []

  const cli = async (...args: string[]): Promise<Run> => await new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { env, cwd: dir, timeout: 60_000 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), out, err: errOut })
    })
  })

  const startNode = (i: number): ChildProcess => {
    const p = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', `node${i + 1}`, 'config.json'), '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    p.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node${i + 1}] ${b.toString()}`) })
    procs[i] = p
    return p
  }

  const status = async (i: number): Promise<Record<string, unknown>> => await apis[i]!.status()

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    // a run of 8 free ports: 4 for libp2p, 4 for the APIs
    base = await freeRun(8)
    const init = await cli('testnet', 'init', '--validators', '4', '--dir', join(dir, 'net'), '--base-port', String(base), '--api-port', String(base + 4))
    assert.equal(init.code, 0, init.err)
    assert.match(init.out, /4 validator\(s\), quorum 3/)
    for (let i = 0; i < 4; i++) {
      apis.push(new ApiClient(`http://127.0.0.1:${base + 4 + i}`))
      startNode(i)
    }
    env.BFTNODE_API = `http://127.0.0.1:${base + 4}`
    await waitFor('every validator to see the others', 60_000, async () =>
      (await Promise.all([0, 1, 2, 3].map(async i => Number((await status(i)).validatorsConnected)))).every(n => n >= 2))
  })

  after(async () => {
    for (const p of procs) p?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('accounts, a transfer, balances, status and peers, as the README shows them', async () => {
    assert.equal((await cli('account', 'new', '--name', 'alice', '--insecure')).code, 0)
    assert.equal((await cli('account', 'new', '--name', 'bob', '--insecure')).code, 0)
    const t = await cli('transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')
    assert.equal(t.code, 0, t.err)
    assert.match(t.out, /delivered: applied/)
    const b = await cli('balance', 'alice')
    // received money reads as spendable at once, with the split underneath
    assert.match(b.out, /^alice: 5000 spendable$/m)
    assert.match(b.out, /balance\s+0$/m)
    assert.match(b.out, /received\s+5000 in 1 credit\(s\), claimed by the account's next op/)
    const s = await cli('status')
    assert.match(s.out, /validatorsConnected\s+3/)
    const p = await cli('peers')
    const lines = p.out.trim().split('\n')
    assert.equal(lines.filter(l => /^12D3Koo\w+ {2}validator [0-9a-f]{64}$/.test(l)).length, 3)
    // one name for a node: the peer id status gives node1 is the one peers on node2 lists
    const me = s.out.match(/^\s*nodeId\s+(12D3Koo\w+) {2}validator ([0-9a-f]{64})$/m)
    assert.ok(me !== null, s.out)
    const seen = await cli('peers', '--api', `http://127.0.0.1:${base + 5}`)
    assert.ok(seen.out.split('\n').includes(`${me[1]!}  validator ${me[2]!}`), seen.out)
  })

  test('errors a person can cause print one line and exit non-zero', async () => {
    const poor = await cli('transfer', '--from', 'bob', '--to', 'alice', '--amount', '10')
    // refused before signing: validators take nothing from an account that holds nothing
    assert.equal(poor.code, 1)
    assert.match(poor.err, /holds nothing.*nothing was signed/)
    const tooMuch = await cli('transfer', '--from', 'alice', '--to', 'bob', '--amount', '999999')
    assert.equal(tooMuch.code, 1)
    assert.match(tooMuch.err, /has 5000 .* needs 999999; nothing was signed/)
    const unknown = await cli('transfer', '--from', 'nobody', '--to', 'alice', '--amount', '1')
    assert.equal(unknown.code, 1)
    assert.equal(unknown.err.trim().split('\n').length, 1)
    assert.match(unknown.err, /no account "nobody"/)
    const down = await cli('status', '--api', 'http://127.0.0.1:1')
    assert.equal(down.code, 1)
    assert.match(down.err, /is the node running/)
    const badAmount = await cli('transfer', '--from', 'alice', '--to', 'bob', '--amount', '-5')
    assert.notEqual(badAmount.code, 0)
    assert.doesNotMatch(badAmount.err, /\n\s+at /, 'no stack trace')
    const locked = await cli('start', '--config', join(dir, 'net', 'node1', 'config.json'), '--api-port', String(await freePort()), '--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`)
    assert.equal(locked.code, 1)
    assert.match(locked.err, /in use by another bftnode process/)
  })

  test('a token contract is deployed and called through the CLI', async () => {
    const bob = (await cli('balance', 'bob')).out.match(/account\s+([0-9a-f]{64})/)![1]!
    const d = await cli('deploy', TOKEN, '--from', 'alice', '--args', JSON.stringify([{ key: 'alice' }, 1_000_000]))
    assert.equal(d.code, 0, d.out + d.err)
    const address = d.out.match(/contract ([0-9a-f]{64})/)![1]!
    const c = await cli('call', address, 'transfer', '--from', 'alice', '--args', JSON.stringify([{ key: 'bob' }, 250]))
    assert.equal(c.code, 0, c.out + c.err)
    assert.match(c.out, /call executed: ok/)
    // a call that ran cannot be taken back: the CLI says so before it signs anything
    const seq = c.out.match(/\(alice #(\d+)\)/)![1]!
    const late = await cli('cancel', address, seq, '--from', 'alice')
    assert.equal(late.code, 1)
    assert.match(late.err, new RegExp(`call ${seq} of alice is not queued: its outcome is ok`))
    // a read costs no op: bob's balance, asked by nobody
    const q = await cli('query', address, 'balance-of', '--args', JSON.stringify([{ key: bob }]))
    assert.equal(q.code, 0, q.out + q.err)
    assert.match(q.out, /^result 250$/m)
  })

  test('kill -9 one validator during a stream of transfers: the rest go on, and after a restart it catches up with nothing lost', async () => {
    const send = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const r = await cli('transfer', '--from', 'treasury', '--to', 'bob', '--amount', '1')
        assert.equal(r.code, 0, r.out + r.err)
      }
    }
    await send(5)
    procs[1]!.kill('SIGKILL')
    await new Promise(resolve => procs[1]!.once('exit', resolve))
    await send(8) // three of four validators are a quorum
    startNode(1)
    await waitFor('the restarted validator to catch up', 60_000, async () => {
      const [a, b] = await Promise.all([status(0), status(1)])
      return a.stateHash === b.stateHash && a.delivered === b.delivered
    })
    const bobKey = (await cli('balance', 'bob')).out.match(/account\s+([0-9a-f]{64})/)![1]!
    const views = await Promise.all(apis.map(async api => await api.account(bobKey)))
    assert.ok(views.every(v => v.pending === views[0]!.pending && v.balance === views[0]!.balance))
    const hashes = await Promise.all([0, 1, 2, 3].map(async i => (await status(i)).stateHash))
    assert.equal(new Set(hashes).size, 1)
    // no validator here misbehaved, and no account signed twice
    assert.deepEqual(await apis[0]!.evidence(), { validators: [], accounts: [] })
  })
})
