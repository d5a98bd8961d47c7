// The .test.lisp runner: malformed files are refused with file:line:col before anything runs
// (exit 2), each form does what docs/contract-testing.md says, tests do not see each other's
// calls, and a wrong expectation fails the run (exit 1) naming its line. A runner that cannot
// fail would pass anything, so the failing cases matter most here.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Repl, ReplStartError } from '../../src/devtools/repl.js'
import { runTestFile, runTestFiles } from '../../src/devtools/runner.js'
import type { FileReport } from '../../src/devtools/runner.js'

const COUNTER = `
(defun init (owner) (put "owner" owner) (put "n" 0) true)
(defun add (k)
  (enforce (> k 0) "k must be positive")
  (put "n" (+ (get "n") k))
  (emit "added" (dict "by" (caller) "k" k))
  (get "n"))
(defun n () (get "n"))
(defun owner () (get "owner"))
(defun when () (now))
(defun forward (to) (transfer to (value)) (value))
`

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'contract-runner-'))
  writeFileSync(join(dir, 'counter.lisp'), COUNTER)
})
after(() => rmSync(dir, { recursive: true, force: true }))

const SETUP = '(account alice 1000)\n(account bob 50)\n(deploy counter "counter.lisp" (args alice))\n'

let n = 0
function file (text: string): string {
  const path = join(dir, `t${n++}.test.lisp`)
  writeFileSync(path, text)
  return path
}

/** Runs one file; returns its report, every printed line, and the exit code. */
function run (text: string): { report: FileReport, out: string, code: number, path: string } {
  const path = file(text)
  const lines: string[] = []
  const { exitCode } = runTestFiles([path], l => lines.push(l))
  return { report: runTestFile(path), out: lines.join('\n'), code: exitCode, path }
}

function passes (text: string): string {
  const r = run(text)
  assert.equal(r.code, 0, r.out)
  return r.out
}

describe('malformed files: exit 2 with file:line:col, nothing run', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unclosed list', '(account alice 1)\n(test "t"\n  (expect "a" 1 1)', /:3:19: unclosed "\(" opened at 2:1/],
    ['bad token', '(account alice 1)\n(test "t" (expect "a" 0xABC 1))', /:2:23: unexpected "0xABC"/],
    ['unknown form', '(account alice 1)\n(test "t"\n  (expectt "a" 1 1))', /:3:3: unknown form "expectt"/],
    ['expect arity', '(test "t"\n  (expect "a" 1))', /:2:3: expect takes a description, the expected value and an action/],
    ['option twice', SETUP + '(test "t" (call (add 1) (gas 5) (gas 6)))', /:4:33: option gas is given twice/],
    ['unknown option', SETUP + '(test "t" (call (add 1) (colour 5)))', /:4:25: expected an option of call/],
    ['gas out of range', SETUP + '(test "t" (call (add 1) (gas 0)))', /:4:30: the gas limit must be between 1 and 5000000/],
    ['setup after a test', '(test "t" (as alice))\n(account bob 1)', /:2:1: setup forms come before the first \(test \.\.\.\)/],
    ['reserved account name', '(account list 5)', /:1:10: "list" is a name of the language/],
    ['missing contract', '(account alice 1)\n(deploy c "nope.lisp")', /:2:11: cannot read contract file .*nope\.lisp/],
    ['state change in an expression', SETUP + '(test "t" (expect "x" 1 (+ 1 (call (add 1)))))', /:4:30: call changes the chain/],
    ['duplicate test name', '(test "t" (as a))\n(test "t" (as a))', /:2:1: a test named "t" is already defined/],
    ['nested test', '(test "t" (test "u" (as a)))', /:1:11: a test cannot hold another test/],
    ['not a list', '42', /:1:1: a top-level form must be a form in parentheses/]
  ]
  for (const [what, text, message] of cases) {
    test(what, () => {
      const r = run(text)
      assert.equal(r.code, 2, r.out)
      assert.ok(r.report.malformed !== undefined)
      assert.match(r.report.malformed.message, message)
      assert.ok(r.report.malformed.message.startsWith(r.path + ':'), r.report.malformed.message)
      assert.equal(r.report.malformed.code, 'ERR_TEST_FILE')
      assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace')
    })
  }

  test('a malformed file among good ones: exit 2, the good ones still run', () => {
    const good = file(SETUP + '(test "ok" (expect "n" 0 (query (n))))')
    const bad = file('(test')
    const lines: string[] = []
    const summary = runTestFiles([good, bad], l => lines.push(l))
    assert.equal(summary.exitCode, 2)
    assert.equal(summary.passed, 1)
    assert.match(lines.at(-1)!, /1 test, 1 passed, 0 failed, 1 file not run \(2 files\)/)
  })
})

describe('forms', () => {
  test('account, balance, transfer', () => {
    passes('(account alice 1000)\n(account bob 0)\n(test "t"\n' +
      '  (expect "alice" 1000 (balance alice))\n' +
      '  (transfer alice bob 300)\n' +
      '  (expect "both" (list 700 300) (list (balance alice) (balance bob)))\n' +
      '  (expect-failure "overdraw" "insufficient-funds" (transfer bob alice 301)))')
  })

  test('deploy: args, deployer, gas; init result and gas are printed', () => {
    const out = passes('(account alice 1000)\n(account bob 5)\n' +
      '(deploy counter "counter.lisp" (args bob) (as bob) (gas 5000))\n' +
      '(test "t" (expect "owner" bob (query (owner))))')
    assert.match(out, /deploy counter \(counter\.lisp\) as bob, init: true, \d+ gas/)
    const low = run('(account alice 1000)\n(test "t" (expect-failure "tiny gas" "out-of-gas" (deploy c "counter.lisp" (args alice) (gas 10))))')
    assert.equal(low.code, 0, low.out)
  })

  test('call: caller, args, value, gas and time; gas per call printed', () => {
    const out = passes(SETUP + '(test "t"\n' +
      '  (expect "alice adds 5" 5 (call (add 5)))\n' +
      '  (expect "bob adds 2" 7 (call counter (add 2) (as bob)))\n' +
      '  (expect-event "by bob" "added" (dict "by" bob "k" 2))\n' +
      '  (expect "the time it ran at" 1234 (call (when) (time 1234)))\n' +
      '  (expect "bob forwards 20 to alice" 20 (call (forward alice) (as bob) (value 20)))\n' +
      '  (expect "bob paid" 30 (balance bob))\n' +
      '  (expect "alice got it" 1020 (balance alice))\n' +
      '  (expect-failure "gas" "out-of-gas" (call (add 1) (gas 20))))')
    assert.match(out, /call counter \(add 5\) as alice: 5, \d+ gas/)
    assert.match(out, /call counter \(add 2\) as bob: 7, \d+ gas/)
    assert.match(out, /call counter \(forward alice\) as bob value 20 at 1234: 20, \d+ gas/)
    assert.match(out, /out-of-gas at .*: gas limit 20 reached, 20 gas/)
  })

  test('as and time set the defaults; time never goes back', () => {
    passes(SETUP + '(test "t"\n  (as bob)\n  (time 500)\n  (call (add 1))\n' +
      '  (expect-event "by bob" "added" (dict "by" bob "k" 1))\n' +
      '  (expect "now" 500 (call (when))))')
    const back = passes(SETUP + '(test "t"\n  (call (add 1) (time 900))\n  (expect "the clock does not go back" 900 (call (when) (time 100))))')
    assert.match(back, /call counter \(when\) as alice at 900: 900, \d+ gas/)
  })

  test('query changes nothing: a function that writes, and any expression', () => {
    passes(SETUP + '(test "t"\n' +
      '  (expect "add in a query returns 3" 3 (query (add 3)))\n' +
      '  (expect "but n is still 0" 0 (query (n)))\n' +
      '  (expect "an expression in the contract" (list 0 alice) (query (list (get "n") (get "owner"))))\n' +
      '  (expect "as bob" bob (query (caller) (as bob)))\n' +
      '  (expect "at a time" 77 (query (now) (time 77))))')
  })

  test('expect-failure: any error, or one containing a substring', () => {
    passes(SETUP + '(test "t"\n  (expect-failure "any" (call (add 0)))\n  (expect-failure "this one" "k must be positive" (call (add -1))))')
    const wrong = run(SETUP + '(test "t" (expect-failure "other" "not this" (call (add 0))))')
    assert.equal(wrong.code, 1)
    assert.match(wrong.out, /:4:11: expect-failure "other": another error\n\s+expected: an error containing "not this"\n\s+actual: +enforce at 4:3: k must be positive/)
  })

  test('expect-event: name only, or with data', () => {
    passes(SETUP + '(test "t"\n  (call (add 4))\n  (expect-event "any added" "added")\n  (expect-event "exact" "added" (dict "k" 4 "by" alice)))')
    const wrong = run(SETUP + '(test "t"\n  (call (add 4))\n  (expect-event "by bob" "added" (dict "k" 4 "by" bob)))')
    assert.equal(wrong.code, 1)
    assert.match(wrong.out, /:6:3: expect-event "by bob": not emitted by the last call\n\s+expected: added \{"by" bob, "k" 4\}\n\s+emitted: +added \{"by" alice, "k" 4\}/)
  })

  test('names stand for keys in expressions; a failed call fails the test when it is a plain step', () => {
    passes(SETUP + '(test "t" (expect "keys are 32 bytes" 32 (len alice)) (expect "a contract too" 32 (len counter)))')
    const r = run(SETUP + '(test "t"\n  (call (add 0))\n  (expect "never reached" 1 1))')
    assert.equal(r.code, 1)
    assert.match(r.out, /:5:3: call failed: enforce at 4:3: k must be positive/)
    assert.doesNotMatch(r.out, /never reached/)
  })

  test('a mistake in a test expression stops the test with its position', () => {
    const r = run(SETUP + '(test "t"\n  (expect "x" 1 (+ 1 dave)))')
    assert.equal(r.code, 1)
    assert.match(r.out, /:5:17: in \(\+ 1 dave\): check: unknown name "dave"/)
  })
})

describe('isolation and failing runs', () => {
  test('each test starts from the setup, whatever the one before did', () => {
    const r = run(SETUP + '(call (add 10))\n' +
      '(test "first changes everything" (call (add 5)) (transfer alice bob 900) (account carol 7) (expect "15" 15 (query (n))))\n' +
      '(test "second sees the setup" (expect "10" 10 (query (n))) (expect "alice" 1000 (balance alice)))\n' +
      '(test "carol is gone" (expect "c" 7 (balance carol)))')
    assert.deepEqual(r.report.tests.map(t => t.failures), [0, 0, 1], r.out)
    assert.match(r.out, /:7:46: no account or contract "carol"/)
  })

  test('a failing test does not affect the next', () => {
    const r = run(SETUP + '(test "fails" (call (add 3)) (expect "wrong" 99 (query (n))))\n(test "passes" (expect "n" 0 (query (n))))')
    assert.equal(r.code, 1)
    assert.equal(r.report.tests[0]!.failures, 1)
    assert.equal(r.report.tests[1]!.failures, 0)
  })

  test('a wrong expectation: exit 1, its file:line:col, expected and actual in the contract syntax', () => {
    const r = run(SETUP + '(test "wrong"\n  (call (add 2))\n  (expect "n is 3" (list 3 alice) (query (list (n) (owner))))\n  (expect "still checked" 1 2))')
    assert.equal(r.code, 1)
    assert.match(r.out, /FAIL wrong/)
    assert.ok(r.out.includes(`${r.path}:6:3: expect "n is 3"`), r.out)
    assert.match(r.out, /expected: \(list 3 alice\)\n\s+actual: +\(list 2 alice\)/)
    assert.ok(r.out.includes(`${r.path}:7:3: expect "still checked"`), 'a failed expect does not stop the test')
    assert.match(r.out, /1 test, 0 passed, 1 failed \(1 file\)/)
  })

  test('a failing setup fails every test', () => {
    const r = run(SETUP + '(call (add 0))\n(test "a" (as alice))\n(test "b" (as alice))')
    assert.equal(r.code, 1)
    assert.equal(r.report.tests.filter(t => t.failures > 0).length, 2)
    assert.match(r.out, /:4:1: call failed/)
  })
})

describe('the REPL, in process', () => {
  async function repl (input: string, args = 'alice'): Promise<string> {
    const output = new PassThrough()
    let out = ''
    output.on('data', (b: Buffer) => { out += b.toString() })
    const r = new Repl({ file: join(dir, 'counter.lisp'), args, input: PassThrough.from([input]), output })
    await r.run()
    return out
  }

  test('steps, expressions, errors, multi-line forms, .reset and .state', async () => {
    const out = await repl('(call (add 2))\n(n)\n(call\n  (add 3) (as bob))\n(+ (n) 1)\n(balance bob)\n(frob)\n(as nobody)\n.state\n.reset\n(n)\n.exit\n(n)\n')
    assert.match(out, /call counter \(add 2\) as alice: 2, \d+ gas\n {2}event added \{"by" alice, "k" 2\}/)
    assert.match(out, /query counter \(n\): 2, \d+ gas/)
    assert.match(out, /call counter \(add 3\) as bob: 5, \d+ gas/)
    assert.match(out, /query counter \(\+ \(n\) 1\): 6, \d+ gas/)
    assert.match(out, /\n1000000\n/)
    assert.match(out, /error: in \(frob\): check: unknown function "frob"/)
    assert.match(out, /error: no account "nobody"/)
    assert.match(out, /storage of counter \(2 entries\)[^\n]*\n {2}"n" 5\n {2}"owner" alice/)
    assert.match(out, /back to the state right after the deploy\nquery counter \(n\): 0, \d+ gas/)
    assert.equal(out.match(/query counter \(n\)/g)?.length, 2, '.exit stops reading')
  })

  test('a contract that cannot deploy is a ReplStartError saying why', () => {
    const io = { input: PassThrough.from(['']), output: new PassThrough() }
    assert.throws(() => new Repl({ file: join(dir, 'counter.lisp'), ...io }), (err: unknown) =>
      err instanceof ReplStartError && /init takes 1 argument\(s\), got 0 \(does init need --args\?\)/.test(err.message))
    assert.throws(() => new Repl({ file: join(dir, 'none.lisp'), ...io }), /cannot read contract file/)
    assert.throws(() => new Repl({ file: join(dir, 'counter.lisp'), args: '(', ...io }), /--args: parse/)
  })
})
