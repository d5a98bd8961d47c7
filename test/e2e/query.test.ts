// End to end: queries, estimated gas and refusals before signing, with real `bftnode` processes
// (one validator, to keep it quick). A token deployed with its estimated gas; a balance read with
// `bftnode query` that uses no seq; a call of an unknown function refused before signing (no seq
// used either), and sent anyway with --force.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../../src/client/api-client.js'
import { freePort, waitFor } from '../support/ports.js'

const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))
const TOKEN = fileURLToPath(new URL('../../../contracts/token.lisp', import.meta.url))

interface Run { code: number, out: string, err: string }

describe('bftnode query, and deploy and call with estimated gas', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let proc: ChildProcess | undefined
  let client: ApiClient
  let token: string
  let alice: string

  const cli = async (...args: string[]): Promise<Run> => await new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { env, cwd: dir, timeout: 60_000 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), out, err: errOut })
    })
  })
  const nextSeq = async (name: string): Promise<number> => Number((await cli('balance', name)).out.match(/next seq\s+(\d+)/)![1])

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-e2e-query-'))
    env = { ...process.env, BFTNODE_HOME: join(dir, 'home') }
    const [p2p, apiPort] = [await freePort(), await freePort()]
    const init = await cli('testnet', 'init', '--validators', '1', '--dir', join(dir, 'net'), '--base-port', String(p2p), '--api-port', String(apiPort))
    assert.equal(init.code, 0, init.err)
    proc = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'net', 'node1', 'config.json'), '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    proc.stderr?.on('data', (b: Buffer) => { if (process.env.E2E_LOGS !== undefined) process.stderr.write(`[node1] ${b.toString()}`) })
    env.BFTNODE_API = `http://127.0.0.1:${apiPort}`
    client = new ApiClient(env.BFTNODE_API)
    await waitFor('the node to be ready', 60_000, async () => (await client.ready()).ready)
    assert.equal((await cli('account', 'new', '--name', 'alice', '--insecure')).code, 0)
    assert.equal((await cli('account', 'new', '--name', 'bob', '--insecure')).code, 0)
    assert.equal((await cli('transfer', '--from', 'treasury', '--to', 'alice', '--amount', '5000')).code, 0)
    alice = (await cli('balance', 'alice')).out.match(/account\s+([0-9a-f]{64})/)![1]!
  })

  after(async () => {
    proc?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  test('deploy with estimated gas; arguments with wallet names', async () => {
    const bad = await cli('deploy', TOKEN, '--from', 'alice', '--args', '["0xab", 5]')
    assert.equal(bad.code, 1)
    assert.match(bad.err, /^error: --args args\[0\]: "0xab" is ambiguous/)
    assert.equal(bad.err.trim().split('\n').length, 1)
    const failing = await cli('deploy', TOKEN, '--from', 'alice', '--args', JSON.stringify([{ key: 'alice' }, -1]))
    assert.equal(failing.code, 1)
    assert.match(failing.err, /the deploy would be rejected \(contract-error\): init failed: .*supply cannot be negative; nothing was signed/)
    assert.equal(await nextSeq('alice'), 1)
    // a wallet name written as a plain string is a string; the refusal says what was likely meant
    const slip = await cli('deploy', TOKEN, '--from', 'alice', '--args', '["alice", 5]')
    assert.equal(slip.code, 1)
    assert.match(slip.err, /owner must be an account key .*\(hint: args\[0\] is the string "alice"; for the key of wallet account alice write \{"key": "alice"\}\)/)
    assert.equal(await nextSeq('alice'), 1)
    const d = await cli('deploy', TOKEN, '--from', 'alice', '--args', JSON.stringify([{ key: 'alice' }, 1_000_000]))
    assert.equal(d.code, 0, d.out + d.err)
    assert.match(d.out, /^gas limit [\d,]+ \(estimated [\d,]+ \+ margin\)$/m)
    token = d.out.match(/contract ([0-9a-f]{64})/)![1]!
  })

  test('a query reads for free: no seq is used', async () => {
    const before = await nextSeq('alice')
    const q = await cli('query', token, 'balance-of', '--args', JSON.stringify([{ key: 'alice' }]))
    assert.equal(q.code, 0, q.out + q.err)
    assert.match(q.out, /^result 1000000$/m)
    assert.match(q.out, /a query: nothing was signed/)
    const dry = await cli('query', token, 'transfer', '--from', 'alice', '--args', JSON.stringify([{ key: 'bob' }, 10]))
    assert.equal(dry.code, 0, dry.out + dry.err)
    assert.match(dry.out, /^would store 0x[0-9a-f]{64} = 999990$/m)
    assert.match(dry.out, /dry run: nothing was signed, sent or stored/)
    const json = await cli('query', token, 'total-supply', '--json')
    assert.deepEqual(JSON.parse(json.out).result, { int: '1000000' })
    const failed = await cli('query', token, 'transfer', '--args', JSON.stringify([{ key: alice }, 10]))
    assert.equal(failed.code, 1)
    assert.match(failed.err, /^error: transfer failed \(enforce\)/)
    assert.equal(await nextSeq('alice'), before)
  })

  test('a call that would fail is refused before signing; --force sends it anyway', async () => {
    const before = await nextSeq('alice')
    const unknown = await cli('call', token, 'nope', '--from', 'alice')
    assert.equal(unknown.code, 1)
    assert.match(unknown.err, /the call of nope would fail now \(unknown-function\): the contract has no function "nope"; nothing was signed \(--force sends it anyway\)/)
    const arity = await cli('call', token, 'transfer', '--from', 'alice', '--args', JSON.stringify([{ key: 'bob' }]))
    assert.match(arity.err, /\(arity\): transfer takes 2 argument\(s\) \(to, amount\), got 1/)
    const poor = await cli('call', token, 'transfer', '--from', 'bob', '--args', JSON.stringify([{ key: 'alice' }, 1]))
    assert.match(poor.err, /validators would refuse the call of transfer: the account holds nothing/)
    const nowhere = await cli('call', 'ab'.repeat(32), 'transfer', '--from', 'alice')
    assert.match(nowhere.err, /no contract at abab.* on this node/)
    assert.equal(await nextSeq('alice'), before, 'nothing was signed')
    const forced = await cli('call', token, 'nope', '--from', 'alice', '--force', '--gas', '1000')
    assert.match(forced.out, /warning: the call of nope would fail now/)
    assert.match(forced.out, /call executed: failed \(runtime: the contract has no function "nope"\)/)
    assert.equal(forced.code, 1)
    assert.equal(await nextSeq('alice'), before + 1)
    const ok = await cli('call', token, 'transfer', '--from', 'alice', '--args', JSON.stringify([{ key: 'bob' }, 250]))
    assert.equal(ok.code, 0, ok.out + ok.err)
    assert.match(ok.out, /gas limit [\d,]+ \(estimated [\d,]+ \+ margin\)/)
    assert.match(ok.out, /call executed: ok, result true, gas \d+, events transfer \{/)
  })
})
