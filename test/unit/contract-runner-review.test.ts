// Cases found by the adversarial review of the contract tools: each is a way a test file could
// pass when it should fail, exit 0 with a failure in it, differ from what the network gives, or
// end in a stack trace.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
