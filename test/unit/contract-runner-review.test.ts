// Cases found by the adversarial review of the contract tools: each is a way a test file could
// pass when it should fail, exit 0 with a failure in it, differ from what the network gives, or
// end in a stack trace.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Repl } from '../../src/devtools/repl.js'
import { runTestFiles } from '../../src/devtools/runner.js'

const JAR = `
(defun init (owner) (put "owner" owner) true)
(defun held () (balance))
(defun take (amount) (enforce (<= amount (balance)) "not that much") (transfer (caller) amount) amount)
`

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'contract-review-'))
  writeFileSync(join(dir, 'jar.lisp'), JAR)
})
after(() => rmSync(dir, { recursive: true, force: true }))

const SETUP = '(account alice 1000)\n(account bob 500)\n(deploy jar "jar.lisp" (args alice))\n'

let n = 0
function run (text: string): { out: string, code: number } {
  const path = join(dir, `r${n++}.test.lisp`)
  writeFileSync(path, text)
  const lines: string[] = []
  const { exitCode } = runTestFiles([path], l => lines.push(l))
  return { out: lines.join('\n'), code: exitCode }
}

describe('review: a run with a failure never exits 0', () => {
  test('a failing setup fails the file even when it has no tests', () => {
    assert.equal(run('(account alice 1)\n(expect "wrong" 1 2)\n').code, 1)
    assert.equal(run(SETUP + '(call (nope-not-there))\n').code, 1)
  })

  test('an unreadable test file is one positioned error, not a stack trace', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, () => {
    const path = join(dir, 'locked.test.lisp')
    writeFileSync(path, SETUP)
    chmodSync(path, 0)
    const lines: string[] = []
    assert.equal(runTestFiles([path], l => lines.push(l)).exitCode, 2)
    assert.match(lines.join('\n'), /locked\.test\.lisp:1:1: cannot read test file/)
  })
})

describe('review: local results are the network\'s', () => {
  test('a query sees the money sent to the contract, as a call executed now would', () => {
    const r = run(SETUP + '(test "t"\n  (transfer bob jar 100)\n  (expect "query" 100 (query (held)))\n  (expect "expression" 100 (query (balance)))\n  (expect "call" 100 (call (held))))')
    assert.equal(r.code, 0, r.out)
  })
})

describe('review: expectations cannot pass vacuously', () => {
  test('a call of a function the contract does not have stops the test, even under expect-failure', () => {
    const r = run(SETUP + '(test "t"\n  (expect-failure "typo" (call (tkae 1))))')
    assert.equal(r.code, 1, r.out)
    assert.match(r.out, /:5:26: jar has no function "tkae"/)
  })

  test('so does a call or query with the wrong number of arguments', () => {
    const call = run(SETUP + '(test "t"\n  (expect-failure "arity" (call (take))))')
    assert.equal(call.code, 1, call.out)
    assert.match(call.out, /:5:27: take takes 1 argument\(s\) \(amount\), got 0/)
    const query = run(SETUP + '(test "t"\n  (expect-failure "arity" (query (take 1 2))))')
    assert.equal(query.code, 1, query.out)
    assert.match(query.out, /:5:27: take takes 1 argument\(s\) \(amount\), got 2/)
  })

  test('calling init is still a failure the network gives (bad-call)', () => {
    const r = run(SETUP + '(test "t"\n  (expect-failure "init" "init runs only at deploy" (call (init alice))))')
    assert.equal(r.code, 0, r.out)
  })

  test('a let binding or fn parameter named like an account is that local, not the key', () => {
    const ok = run(SETUP + '(test "t"\n  (expect "let" 5 (let ((alice 5)) alice))\n  (expect "fn" (list 2 3) (map (fn (bob) (+ bob 1)) (list 1 2)))\n' +
      '  (expect "outside the let" 32 (len (let ((x alice)) x)))\n  (expect "in a query" 6 (query (let ((bob 6)) bob))))')
    assert.equal(ok.code, 0, ok.out)
    const wrong = run(SETUP + '(test "t"\n  (expect "a let does not make alice its key" alice (let ((alice 5)) alice)))')
    assert.equal(wrong.code, 1, wrong.out)
  })
})

describe('review: the REPL', () => {
  async function repl (input: string): Promise<string> {
    const output = new PassThrough()
    let out = ''
    output.on('data', (b: Buffer) => { out += b.toString() })
    await new Repl({ file: join(dir, 'jar.lisp'), args: 'alice', input: PassThrough.from([input]), output }).run()
    return out
  }

  test('input that ends inside a form says so', async () => {
    const out = await repl('(held)\n(call (take 1)\n')
    assert.match(out, /query jar \(held\): 0/)
    assert.match(out, /error: the input ended inside a form: unclosed "\(" opened at 1:1/)
  })
})

test('review: a REPL contract is not named after its file when that is a name of the language', async () => {
  writeFileSync(join(dir, 'true.lisp'), JAR)
  const output = new PassThrough()
  let out = ''
  output.on('data', (b: Buffer) => { out += b.toString() })
  await new Repl({ file: join(dir, 'true.lisp'), args: 'alice', input: PassThrough.from(['(if true 1 2)\n']), output }).run()
  assert.match(out, /query contract \(if true 1 2\): 1, \d+ gas/)
})
