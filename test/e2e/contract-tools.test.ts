// `bftnode contract test` and `bftnode contract repl` as a developer runs them: the real CLI, no
// network. Exit codes (0 pass, 1 a failed test, 2 a malformed file) and the REPL driven through
// a pipe. (A REPL whose contract cannot deploy is covered in-process: contract-runner.test.ts.)

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BIN, runCli } from '../support/testnet.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Runs the CLI with `input` piped to its stdin. */
async function withStdin (args: readonly string[], input: string): Promise<{ code: number | null, out: string, err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { err += b.toString() })
  child.stdin.end(input)
  const code = await new Promise<number | null>(resolve => child.once('close', resolve))
  return { code, out, err }
}

// each test spawns the CLI; they do not share files, so they run side by side
describe('bftnode contract', { concurrency: true }, () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bftnode-contract-'))
    await copyFile(join(ROOT, 'contracts/token.lisp'), join(dir, 'token.lisp'))
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  test('test: the token file passes, with gas per call and a summary', async () => {
    const r = await runCli(process.env, ROOT, ['contract', 'test', 'contracts/token.test.lisp'])
    assert.equal(r.code, 0, r.out + r.err)
    assert.match(r.out, /ok {3}a transfer moves tokens and says so/)
    assert.match(r.out, /call token \(transfer bob 250\) as alice: true, \d+ gas/)
    assert.match(r.out, /\d+ tests, (\d+) passed, 0 failed \(1 file\)/)
  })

  test('test: a wrong expectation exits 1 and names its line', async () => {
    const file = join(dir, 'wrong.test.lisp')
    await writeFile(file, '(account alice 10)\n(deploy token "token.lisp" (args alice 100))\n(test "wrong"\n  (expect "alice" 99 (query (balance-of alice))))\n')
    const r = await runCli(process.env, dir, ['contract', 'test', 'wrong.test.lisp'])
    assert.equal(r.code, 1, r.out + r.err)
    assert.match(r.out, /FAIL wrong\n[\s\S]*wrong\.test\.lisp:4:3: expect "alice"\n\s+expected: 99\n\s+actual: +100/)
  })

  test('test: a malformed file exits 2 with its position, no stack trace', async () => {
    const file = join(dir, 'bad.test.lisp')
    await writeFile(file, '(account alice 10)\n(test "t"\n  (expect "x" 1)\n')
    const r = await runCli(process.env, dir, ['contract', 'test', 'bad.test.lisp'])
    assert.equal(r.code, 2, r.out + r.err)
    assert.match(r.out, /bad\.test\.lisp:4:1: unclosed "\(" opened at 2:1/)
    assert.doesNotMatch(r.out + r.err, /\n\s+at /)
  })

  test('repl: a call and a query through a pipe', async () => {
    const r = await withStdin(['contract', 'repl', 'contracts/token.lisp', '--args', 'alice 1000'],
      '(call (transfer bob 250))\n(balance-of bob)\n(query\n  (get "supply"))\n.state\n(as carol)\n(call (transfer bob 1))\n.exit\n')
    assert.equal(r.code, 0, r.out + r.err)
    assert.match(r.out, /call token \(transfer bob 250\) as alice: true, \d+ gas\n\s+event transfer \{"amount" 250, "from" alice, "to" bob\}/)
    assert.match(r.out, /query token \(balance-of bob\): 250, \d+ gas/)
    assert.match(r.out, /query token \(get "supply"\): 1000, \d+ gas/)
    assert.match(r.out, /storage of token \(4 entries\)[\s\S]*\n {2}bob 250\n {2}alice 750\n {2}"owner" alice\n {2}"supply" 1000/)
    assert.match(r.out, /call token \(transfer bob 1\) as carol: error enforce at 19:5: insufficient token balance, \d+ gas/)
  })
})
