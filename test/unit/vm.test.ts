// The contract VM on its own: the reader's limits and positions, the deploy-time checker, the
// gas table applied to known programs, every runtime limit, the language's semantics, and
// properties over random programs (never a crash, never past the gas limit, always the same
// answer twice). Rollback of effects is the ledger's job (CallSandbox), so the host here is a
// plain in-memory one that keeps whatever it is told.

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { encode } from '../../src/core/codec/canonical.js'
import type { Value } from '../../src/core/codec/canonical.js'
import { compile, invoke, MODULE_LIMITS } from '../../src/core/vm/compile.js'
import type { CallResult } from '../../src/core/vm/compile.js'
import { ContractError } from '../../src/core/vm/errors.js'
import type { ContractErrorKind } from '../../src/core/vm/errors.js'
import { GAS, GAS_LIMITS, VM_LIMITS } from '../../src/core/vm/gas.js'
import type { Host, Module } from '../../src/core/vm/interpreter.js'
import { read, READER_LIMITS } from '../../src/core/vm/reader.js'
import { MAX_INT, MIN_INT, encodedSize, fromCodec, keyTag, sizeOf, toCodec } from '../../src/core/vm/values.js'
import type { VmValue } from '../../src/core/vm/values.js'
import { CallSandbox } from '../../src/core/ledger/contracts.js'
import type { ContractState } from '../../src/core/ledger/contracts.js'

// ---------------------------------------------------------------------------------------------
// Helpers

const ACCOUNT = new Uint8Array(32).fill(7)

/** Storage in a Map keyed by keyTag, a balance, and arrays collecting transfers and events. */
class TestHost implements Host {
  readonly storage = new Map<string, readonly [VmValue, VmValue]>()
  readonly transfers: Array<{ to: Uint8Array, amount: bigint }> = []
  readonly events: Array<{ name: string, data: VmValue }> = []
  readonly caller = ACCOUNT
  readonly value = 0n
  readonly self = new Uint8Array(32).fill(9)
  readonly now = 1_700_000_000_000n
  constructor (private funds = 1_000n) {}
  balance (): bigint { return this.funds }
  get (key: VmValue): VmValue | undefined { return this.storage.get(keyTag(key))?.[1] }
  put (key: VmValue, value: VmValue): void { this.storage.set(keyTag(key), [key, value]) }
  del (key: VmValue): void { this.storage.delete(keyTag(key)) }
  transfer (to: Uint8Array, amount: bigint): void { this.funds -= amount; this.transfers.push({ to, amount }) }
  emit (name: string, data: VmValue): void { this.events.push({ name, data }) }
}

function run (source: string | Module, fn: string, args: readonly Value[] = [], gasLimit?: number, host: Host = new TestHost()): CallResult {
  const module = typeof source === 'string' ? compile(source) : source
  return gasLimit === undefined ? invoke(module, fn, args, host) : invoke(module, fn, args, host, gasLimit)
}

function describeResult (r: CallResult): string {
  return r.ok ? `ok ${String(r.result)}` : `${r.error.message}`
}

/** The call succeeded; its result. */
function ok (r: CallResult): Value {
  if (!r.ok) assert.fail(`expected success, got ${r.error.message}`)
  return r.result
}

/** The call failed with `kind` (and a detail matching `detail`); its error. */
function fails (r: CallResult, kind: ContractErrorKind, detail?: RegExp): ContractError {
  if (r.ok) assert.fail(`expected a ${kind} error, got ok ${String(r.result)}`)
  assert.ok(r.error instanceof ContractError)
  assert.equal(r.error.kind, kind, r.error.message)
  if (detail !== undefined) assert.match(r.error.detail, detail)
  assert.doesNotMatch(r.error.detail, /internal error/)
  return r.error
}

/** compile(source) throws a ContractError; that error. */
function compileError (source: string): ContractError {
  try {
    compile(source)
  } catch (err) {
    assert.ok(err instanceof ContractError, `expected ContractError, got ${String(err)}`)
    return err
  }
  return assert.fail(`expected ${JSON.stringify(source.slice(0, 60))} not to compile`)
}

/** compile(source) fails with `kind` at line:col, with a message matching `detail`. */
function refused (source: string, kind: 'parse' | 'check', at: string, detail?: RegExp): ContractError {
  const err = compileError(source)
  assert.equal(err.kind, kind, err.message)
  assert.equal(err.pos === undefined ? undefined : `${err.pos.line}:${err.pos.col}`, at, err.message)
  if (detail !== undefined) assert.match(err.detail, detail)
  return err
}

/** The same, for the reader alone (shapes the checker would also refuse). */
function unreadable (source: string, at: string, detail?: RegExp): void {
  assert.throws(() => read(source), (err: unknown) => {
    assert.ok(err instanceof ContractError, `expected ContractError, got ${String(err)}`)
    assert.equal(err.kind, 'parse')
    assert.equal(`${err.pos?.line}:${err.pos?.col}`, at, err.message)
    if (detail !== undefined) assert.match(err.detail, detail)
    return true
  })
}

function gasOf (source: string | Module, fn: string, args: readonly Value[] = []): number {
  const r = run(source, fn, args, GAS_LIMITS.maxCall)
  ok(r)
  return r.gasUsed
}

/** A map argument as the codec carries it: keyed by canonical tag. */
function mapArg (pairs: ReadonlyArray<readonly [VmValue, Value]>): Value {
  return Object.fromEntries(pairs.map(([k, v]) => [keyTag(k), v]))
}

/** A ledger sandbox with just what it needs: the real home of the event and transfer limits. */
function sandbox (available: bigint): CallSandbox {
  const contract = { address: new Uint8Array(32).fill(3), storage: new Map() } as unknown as ContractState
  return new CallSandbox(contract, available, ACCOUNT, 0n, 0n)
}

// ---------------------------------------------------------------------------------------------

describe('reader', () => {
  test('an unclosed "(" is reported where the code ends, naming where it opened', () => {
    const err = refused('(defun f ()\n  (+ 1 2)', 'parse', '2:10', /unclosed "\(" opened at 1:1/)
    assert.match(err.message, /^parse at 2:10: /)
    unreadable('  (\n\n', '3:1', /opened at 1:3/)
  })

  test('a stray ")" is reported at its own line:col', () => {
    refused('(defun f () 1))', 'parse', '1:15', /unexpected "\)"/)
    refused('(defun f () 1)\n\n   )', 'parse', '3:4', /unexpected "\)"/)
  })

  test('an unknown escape is refused at the start of its string', () => {
    refused('(defun f () "a\\tb")', 'parse', '1:13', /unknown escape "\\t"/)
    refused('(defun f ()\n    "ok \\n \\" \\\\ then \\x")', 'parse', '2:5', /unknown escape "\\x"/)
  })

  test('the known escapes \\n \\" \\\\ read as one character each', () => {
    assert.equal(ok(run('(defun f () "a\\nb\\"c\\\\d")', 'f')), 'a\nb"c\\d')
  })

  test('an unterminated string is refused at its opening quote', () => {
    refused('(defun f ()\n  "abc)', 'parse', '2:3', /unterminated string/)
    refused('(defun f () "abc\\', 'parse', '1:13', /unterminated string/)
  })

  test('code over maxCodeBytes (counted in UTF-8 bytes) is refused at 1:1; exactly the limit reads', () => {
    assert.deepEqual(read(';'.repeat(READER_LIMITS.maxCodeBytes)), [])
    refused(';'.repeat(READER_LIMITS.maxCodeBytes + 1), 'parse', '1:1', /larger than/)
    // under the limit in UTF-16 units, over it in bytes
    refused(';' + 'é'.repeat(READER_LIMITS.maxCodeBytes / 2), 'parse', '1:1', /larger than/)
  })

  test('an integer literal of maxIntDigits digits reads; one more digit is refused at the literal', () => {
    const padded = '0'.repeat(READER_LIMITS.maxIntDigits - 1) + '7'
    assert.deepEqual(read(`${padded} -${padded}`).map(n => n.t === 'int' ? n.v : null), [7n, -7n])
    refused(`(defun f ()\n  (+ 1 0${padded}))`, 'parse', '2:8', /integer literal too long/)
    refused(`(defun f () -0${padded})`, 'parse', '1:13', /integer literal too long/)
    refused(`(defun f () ${'9'.repeat(READER_LIMITS.maxIntDigits + 1)})`, 'parse', '1:13', /integer literal too long/)
  })

  test('an integer literal outside the 64-bit range is refused at the literal', () => {
    refused('(defun f () 18446744073709551616)', 'parse', '1:13', /integer literal 18446744073709551616 is outside the 64-bit range/)
    refused('(defconst big -18446744073709551617) (defun f () big)', 'parse', '1:15', /outside the 64-bit range/)
    refused(`(defun f ()\n  ${'9'.repeat(READER_LIMITS.maxIntDigits)})`, 'parse', '2:3', /outside the 64-bit range/)
  })

  test('the 64-bit bounds themselves are valid literals', () => {
    assert.equal(ok(run(`(defun f () ${MAX_INT})`, 'f')), MAX_INT)
    assert.equal(ok(run(`(defun f () ${MIN_INT})`, 'f')), MIN_INT)
  })

  test('a string of maxStringBytes characters reads; one more is refused at its opening quote', () => {
    assert.equal(ok(run(`(defun f () (len "${'a'.repeat(READER_LIMITS.maxStringBytes)}"))`, 'f')), BigInt(READER_LIMITS.maxStringBytes))
    refused(`(defun f ()\n "${'a'.repeat(READER_LIMITS.maxStringBytes + 1)}")`, 'parse', '2:2', /string longer than/)
  })

  test('the string literal limit counts UTF-16 code units (as documented), not UTF-8 bytes', () => {
    assert.equal(ok(run(`(defun f () (len "${'€'.repeat(READER_LIMITS.maxStringBytes)}"))`, 'f')), BigInt(READER_LIMITS.maxStringBytes))
    refused(`(defun f () "${'€'.repeat(READER_LIMITS.maxStringBytes + 1)}")`, 'parse', '1:13', /string longer than/)
  })

  test('a byte literal of maxStringBytes bytes reads; one more byte is refused', () => {
    assert.equal(ok(run(`(defun f () (len 0x${'ab'.repeat(READER_LIMITS.maxStringBytes)}))`, 'f')), BigInt(READER_LIMITS.maxStringBytes))
    refused(`(defun f () 0x${'ab'.repeat(READER_LIMITS.maxStringBytes + 1)})`, 'parse', '1:13', /byte literal too long/)
  })

  test(`nesting of ${READER_LIMITS.maxNesting} lists reads; one deeper is refused at the innermost "("`, () => {
    const n = READER_LIMITS.maxNesting
    assert.equal(read('('.repeat(n) + ')'.repeat(n)).length, 1)
    unreadable('('.repeat(n + 1) + ')'.repeat(n + 1), `1:${n + 1}`, /nesting deeper than/)
    unreadable(`(a\n${' (b'.repeat(n)}`, `2:${3 * n - 1}`, /nesting deeper than/)
  })

  test('comments run to the end of the line, anywhere; ";" inside a string is text', () => {
    const src = '; header\n(defun f () ; after the params\n  ; a whole line\n  "a;b") ; trailing\n; last line with no newline'
    assert.equal(ok(run(src, 'f')), 'a;b')
    assert.deepEqual(read('; only a comment'), [])
  })

  test('hex byte literals: lowercase pairs, including the empty 0x; anything else is refused', () => {
    assert.deepEqual(ok(run('(defun f () 0xdeadbeef)', 'f')), new Uint8Array([0xde, 0xad, 0xbe, 0xef]))
    assert.deepEqual(ok(run('(defun f () 0x)', 'f')), new Uint8Array(0))
    assert.equal(ok(run('(defun f () (type-of 0x00))', 'f')), 'bytes')
    refused('(defun f () 0xABCD)', 'parse', '1:13', /unexpected "0xABCD"/)
    refused('(defun f ()\n  0xabc)', 'parse', '2:3', /unexpected "0xabc"/)
  })

  test('negative integer literals read as integers; a lone "-" is the subtraction builtin', () => {
    assert.equal(ok(run('(defun f () (- -5 -0))', 'f')), -5n)
    assert.equal(ok(run('(defun f () (+ -12 4))', 'f')), -8n)
    const [node] = read('-42')
    assert.ok(node?.t === 'int' && node.v === -42n)
    assert.equal(read('-')[0]?.t, 'sym')
  })

  test('a token that is neither a number, bytes nor a name is refused at its start', () => {
    refused('(defun f ()\n  (+ 1 2abc))', 'parse', '2:8', /unexpected "2abc"/)
    refused('(defun f () #t)', 'parse', '1:13', /unexpected "#t"/)
  })
})

// ---------------------------------------------------------------------------------------------

describe('checker (compile)', () => {
  test('an unknown name is refused at the name', () => {
    refused('(defun f (x)\n  (+ x y))', 'check', '2:8', /unknown name "y"/)
  })

  test('an unknown function is refused at its name', () => {
    refused('(defun f () (frob 1))', 'check', '1:14', /unknown function "frob"/)
    refused('(defun f ()\n  (%frob 1))', 'check', '2:4', /unknown function "%frob"/)
  })

  test('a defun called with the wrong number of arguments is refused at the call', () => {
    refused('(defun g (a) a)\n(defun f () (g 1 2))', 'check', '2:13', /g takes 1 argument\(s\), got 2/)
    refused('(defun g (a b) a)\n(defun f () (g))', 'check', '2:13', /g takes 2 argument\(s\), got 0/)
  })

  test('a fixed-arity builtin with the wrong count is refused at the call', () => {
    refused('(defun f () (+ 1))', 'check', '1:13', /\+ takes 2 argument\(s\), got 1/)
    refused('(defun f () (caller 1))', 'check', '1:13', /caller takes 0 argument\(s\), got 1/)
    refused('(defun f () (%not true false))', 'check', '1:13', /%not takes 1 argument\(s\), got 2/)
  })

  test('a variadic builtin below its minimum, or a ranged one outside its range, is refused at the call', () => {
    refused('(defun f () (concat))', 'check', '1:13', /concat takes at least 1 argument\(s\), got 0/)
    refused('(defun f () (get))', 'check', '1:13', /get takes 1 to 2 argument\(s\), got 0/)
    refused('(defun f () (map-get (dict) 1 2 3))', 'check', '1:13', /map-get takes 2 to 3 argument\(s\), got 4/)
    assert.equal(ok(run('(defun f () (len (concat "a" "b" "c" "d" "e")))', 'f')), 5n)
  })

  test('a name defined twice is refused at the second definition\'s name', () => {
    refused('(defun f () 1)\n(defun f () 2)', 'check', '2:8', /"f" is defined twice/)
    refused('(defconst k 1) (defun k () 2)', 'check', '1:23', /"k" is defined twice/)
  })

  test('reserved names (special forms, true/false/nil, defun, else) cannot be defined', () => {
    refused('(defun if () 1)', 'check', '1:8', /"if" is reserved/)
    refused('(defconst nil 1)', 'check', '1:11', /"nil" is reserved/)
    refused('(defun else () 1)', 'check', '1:8', /"else" is reserved/)
    refused('(defun defun () 1)', 'check', '1:8', /"defun" is reserved/)
    refused('(defconst let 1)', 'check', '1:11', /"let" is reserved/)
  })

  test('a defun may take a builtin\'s name: plain calls reach the defun, %name reaches the builtin', () => {
    const m = compile('(defun transfer (to amount) "mine")\n(defun + (a b) (- a b))\n(defun f () (list (transfer 1 2) (+ 5 3) (%+ 5 3) (%transfer (caller) 5)))')
    const host = new TestHost()
    assert.deepEqual(ok(run(m, 'f', [], undefined, host)), ['mine', 2n, 8n, true])
    assert.deepEqual(host.transfers, [{ to: ACCOUNT, amount: 5n }])
    // the defun's arity is checked, not the builtin's
    refused('(defun transfer (to) to) (defun f () (transfer 1 2))', 'check', '1:38', /transfer takes 1 argument/)
  })

  test('names starting with % are reserved for builtins and cannot be defined or bound', () => {
    refused('(defun %foo () 1)', 'check', '1:8', /names starting with % are reserved for builtins \("%foo"\)/)
    refused('(defconst %k 1)', 'check', '1:11', /names starting with % are reserved/)
    refused('(defun f (a %x) a)', 'check', '1:13', /names starting with % are reserved/)
    refused('(defun f () (let ((%y 1)) 1))', 'check', '1:20', /names starting with % are reserved/)
  })

  test('reserved names cannot be parameters, let bindings or lambda parameters', () => {
    refused('(defun f (x let) 1)', 'check', '1:13', /"let" is reserved and cannot be a parameter/)
    refused('(defun f (true) 1)', 'check', '1:11', /"true" is reserved/)
    refused('(defun f () (let ((else 1)) 1))', 'check', '1:20', /"else" is reserved/)
    refused('(defun f () (map (fn (nil) 1) (list)))', 'check', '1:23', /"nil" is reserved/)
  })

  test('a repeated parameter is refused at the parameter list', () => {
    refused('(defun f (x y x) 1)', 'check', '1:10', /a parameter name is repeated/)
    refused('(defun f () (fn (a a) a))', 'check', '1:17', /a parameter name is repeated/)
  })

  test(`more than ${MODULE_LIMITS.maxParams} parameters are refused`, () => {
    const ps = Array.from({ length: MODULE_LIMITS.maxParams + 1 }, (_, i) => `p${i}`).join(' ')
    refused(`(defun f (${ps}) 1)`, 'check', '1:10', /more than 16 parameters/)
  })

  test('defun and defconst are only allowed at the top level; only they may appear there', () => {
    refused('(defun f ()\n  (defun g () 1))', 'check', '2:3', /defun is only allowed at the top level/)
    refused('(defun f () (do (defconst k 1) k))', 'check', '1:17', /defconst is only allowed at the top level/)
    refused('(defun f () 1)\n(+ 1 2)', 'check', '2:1', /only \(defun \.\.\.\) and \(defconst \.\.\.\)/)
    refused('(defun f () 1) 42', 'check', '1:16', /a top-level form must be a list/)
    refused('(defun f ())', 'check', '1:1', /defun takes a name, \(params\) and a body/)
    refused('(defun f x 1)', 'check', '1:10', /the parameter list must be a list/)
    refused('(defconst k)', 'check', '1:1', /defconst takes a name and a value/)
  })

  test('bad let shapes are refused where they are wrong', () => {
    refused('(defun f () (let ((x 1))))', 'check', '1:13', /let takes \(\(name value\) \.\.\.\) and a body/)
    refused('(defun f () (let x x))', 'check', '1:18', /let bindings must be a list/)
    refused('(defun f () (let (x) x))', 'check', '1:19', /a let binding must be a list/)
    refused('(defun f () (let ((x)) x))', 'check', '1:19', /a let binding is \(name value\)/)
    refused('(defun f () (let ((x 1 2)) x))', 'check', '1:19', /a let binding is \(name value\)/)
    refused('(defun f () (let ((1 2)) 3))', 'check', '1:20', /a let binding name must be a name/)
  })

  test('a let binding is not in scope in its own value', () => {
    refused('(defun f () (let ((x (+ x 1))) x))', 'check', '1:25', /unknown name "x"/)
  })

  test('bad cond shapes are refused where they are wrong; else must be last', () => {
    refused('(defun f () (cond))', 'check', '1:13', /cond takes one or more/)
    refused('(defun f () (cond 1))', 'check', '1:19', /a cond clause must be a list/)
    refused('(defun f () (cond (true)))', 'check', '1:19', /a cond clause is \(test form\)/)
    refused('(defun f () (cond (true 1 2)))', 'check', '1:19', /a cond clause is \(test form\)/)
    refused('(defun f (x) (cond (else 1) (x 2)))', 'check', '1:21', /else must be the last cond clause/)
  })

  test('bad if, do, enforce, and/or and fn shapes are refused at the form', () => {
    refused('(defun f () (if true))', 'check', '1:13', /if takes a test, a then-form and an optional else-form/)
    refused('(defun f () (if true 1 2 3))', 'check', '1:13', /if takes a test/)
    refused('(defun f () (do))', 'check', '1:13', /do takes one or more forms/)
    refused('(defun f () (enforce true))', 'check', '1:13', /enforce takes a condition and a message/)
    refused('(defun f () (and))', 'check', '1:13', /and takes one or more forms/)
    refused('(defun f () (or))', 'check', '1:13', /or takes one or more forms/)
    refused('(defun f () (fn (x)))', 'check', '1:13', /fn takes \(params\) and a body/)
    refused('(defun f () (fn x x))', 'check', '1:17', /the parameter list must be a list/)
  })

  test('an empty form, and a form not headed by a name, are refused', () => {
    refused('(defun f ()\n  ())', 'check', '2:3', /empty form \(\)/)
    refused('(defun f () ((fn (x) x) 1))', 'check', '1:14', /a form must start with a name/)
    refused('(defun f () (1 2))', 'check', '1:14', /a form must start with a name/)
  })

  test('a builtin used as a value is refused at the name', () => {
    refused('(defun f (xs) (map + xs))', 'check', '1:20', /builtin "\+" cannot be used as a value/)
    refused('(defun f () %len)', 'check', '1:13', /builtin "%len" cannot be used as a value/)
    // wrapped in fn it is fine, and a defun is a value
    assert.deepEqual(ok(run('(defun inc (x) (+ x 1)) (defun f () (list (map (fn (x) (+ x x)) (list 1 2)) (map inc (list 1 2))))', 'f')), [[2n, 4n], [2n, 3n]])
  })

  test('a constant is evaluated once at deploy, in order, and may use earlier constants and defuns', () => {
    const m = compile('(defun sq (x) (* x x))\n(defconst a (+ 40 2))\n(defconst b (sq a))\n(defconst names (list "x" "y"))\n(defun f () (list a b names))')
    assert.equal(m.consts.get('a'), 42n)
    assert.equal(m.consts.get('b'), 1764n)
    assert.deepEqual(ok(run(m, 'f')), [42n, 1764n, ['x', 'y']])
  })

  test('a constant calling a host function is refused at deploy as a check error at the call', () => {
    refused('(defconst who (caller))', 'check', '1:15', /constant who: host functions are not available in constants/)
    refused('(defun keyed () (get "k"))\n(defconst k (keyed))', 'check', '1:17', /constant k: host functions are not available/)
  })

  test('a constant that fails, loops or is a function is refused at deploy', () => {
    refused('(defconst k (/ 1 0))', 'check', '1:13', /constant k: division by zero/)
    refused('(defconst k (enforce false "nope"))', 'check', '1:13', /constant k: nope/)
    refused('(defconst a b)\n(defconst b 1)', 'check', '1:13', /constant a: unknown name "b"/)
    refused('(defconst h (fn (x) x))', 'check', '1:1', /constant h: a function cannot be stored/)
    // out of gas is reported where the gas ran out
    refused('(defconst k (map (fn (i) (fold (fn (a x) (+ a x)) 0 (range 0 10000))) (range 0 10)))', 'check', '1:45', /constant k: gas limit 100000 reached/)
  })

  test('valid programs compile: the token contract and a counter', () => {
    const token = readFileSync(new URL('../../../contracts/token.lisp', import.meta.url), 'utf8')
    const m = compile(token)
    assert.deepEqual([...m.functions.keys()], ['init', 'transfer', 'mint', 'balance-of', 'total-supply'])
    const host = new TestHost()
    ok(run(m, 'init', [ACCOUNT, 1000n], undefined, host))
    ok(run(m, 'transfer', [new Uint8Array(32).fill(1), 250n], undefined, host))
    assert.equal(ok(run(m, 'balance-of', [ACCOUNT], undefined, host)), 750n)
    assert.equal(ok(run(m, 'total-supply', [], undefined, host)), 1000n)
    assert.equal(host.events.length, 1)

    const counter = compile('(defun init (start) (put "n" start) true)\n(defun add (k) (put "n" (+ (get "n") k)) (get "n"))')
    const h2 = new TestHost()
    ok(run(counter, 'init', [5n], undefined, h2))
    assert.equal(ok(run(counter, 'add', [2n], undefined, h2)), 7n)
    assert.deepEqual([...compile('').functions.keys()], [])
  })
})

// ---------------------------------------------------------------------------------------------

describe('gas accounting', () => {
  test('(defun f () 1) costs exactly 6 gas', () => {
    // call 5 + the literal's step 1
    assert.equal(GAS.call + GAS.step, 6)
    assert.equal(run('(defun f () 1)', 'f').gasUsed, 6)
  })

  test('(defun f (x) (+ x 1)) costs exactly 9 gas', () => {
    // call 5 + (+ ...) step 1 + x step 1 + 1 step 1 + the + builtin 1
    const r = run('(defun f (x) (+ x 1))', 'f', [41n])
    assert.equal(ok(r), 42n)
    assert.equal(r.gasUsed, 9)
  })

  test('a let and a put cost exactly 66 gas', () => {
    // call 5 + (let ...) step 1 + "a" step 1 + (put ...) step 1 + k step 1 + 7 step 1
    // + storageWrite 50 + storageBytes 2 × (encoded "a" 2 bytes + encoded 7 1 byte) = 6  → 66
    assert.equal(encodedSize('a'), 2)
    assert.equal(encodedSize(7n), 1)
    const host = new TestHost()
    const r = run('(defun f () (let ((k "a")) (put k 7)))', 'f', [], undefined, host)
    assert.equal(ok(r), 7n)
    assert.equal(r.gasUsed, 5 + 1 + 1 + 1 + 1 + 1 + GAS.storageWrite + GAS.storageBytes * 3)
    assert.equal(r.gasUsed, 66)
    assert.equal(host.get('a'), 7n)
  })

  test('a defun calling a defun costs exactly 16 gas', () => {
    // f: call 5 + (g 3) step 1 + 3 step 1; g: call 5 + (* x 2) step 1 + x 1 + 2 1 + builtin 1 → 16
    assert.equal(run('(defun g (x) (* x 2)) (defun f () (g 3))', 'f').gasUsed, 16)
  })

  test('the documented (defun f () (+ 1 2)) costs 9; cond pays only for the tests tried (else is free)', () => {
    assert.equal(run('(defun f () (+ 1 2))', 'f').gasUsed, 9)
    // call 5 + cond 1 + the chosen form 1 → 7
    assert.equal(run('(defun f () (cond (else 1)))', 'f').gasUsed, 7)
    // call 5 + cond 1 + false 1 + true 1 + the chosen form 1 → 9 (the clause after is never tried)
    assert.equal(run('(defun f () (cond (false 0) (true 1) ((= 1 1) 2)))', 'f').gasUsed, 9)
  })

  test('gas is identical across repeated runs of the same call', () => {
    const m = compile('(defun f (n) (fold (fn (acc x) (put x (concat acc (str x))) (concat acc "-")) "" (range 0 n)))')
    const first = run(m, 'f', [30n])
    for (let i = 0; i < 5; i++) assert.deepEqual(run(m, 'f', [30n]), first)
    assert.ok(first.gasUsed > 1000)
  })

  test('range costs one gas per element, and returning the list one more per element: 9 + 2n', () => {
    // call 5 + (range ...) step 1 + 0 step 1 + n step 1 + builtin 1 + n × perElement,
    // + n for walking the n-element result when the call returns it
    for (const n of [0, 1, 10, 1000]) assert.equal(gasOf('(defun f (n) (range 0 n))', 'f', [BigInt(n)]), 9 + 2 * n)
  })

  test('map costs its own gas plus one run of the function per element: 12 + 11n', () => {
    // call 5 + (map ...) 1 + (fn ...) 1 + (range 0 n) 1 + 0 1 + n 1 + range 1 + map 1 = 12,
    // per element: range 1 + lambda call 5 + (+ x 1) 1 + x 1 + 1 1 + builtin 1 = 10, + 1 for
    // walking the returned list
    const m = compile('(defun f (n) (map (fn (x) (+ x 1)) (range 0 n)))')
    for (const n of [0, 1, 10, 500]) assert.equal(gasOf(m, 'f', [BigInt(n)]), 12 + 11 * n)
  })

  test('concat costs one gas per element of lists, one per 32 characters of strings', () => {
    // call 5 + (concat ...) 1 + xs 1 + xs 1 + concat 2 = 10, + 2n elements, + 2n for walking
    // the returned list (a returned string: + one per full 32 characters)
    const lists = compile('(defun f (xs) (concat xs xs))')
    for (const n of [0, 1, 7, 300]) assert.equal(gasOf(lists, 'f', [Array.from({ length: n }, () => 0n)]), 10 + 4 * n)
    for (const n of [0, 1, 16, 17, 100]) assert.equal(gasOf(lists, 'f', ['x'.repeat(n)]), 10 + Math.ceil(2 * n / 32) + Math.floor(2 * n / 32))
  })

  test('put charges storageBytes per encoded byte of key and value', () => {
    // call 5 + (put ...) 1 + "k" 1 + v 1 + storageWrite 50 + 2 × (2 + size(v)), and the result
    const m = compile('(defun f (v) (put "k" v))')
    const values: Value[] = ['', 'a', 'x'.repeat(100), 5n, MAX_INT, [1n, 2n, 3n], new Uint8Array(40), mapArg([['a', 1n]])]
    for (const v of values) {
      // + one gas per node of the value beyond the first, twice: put walks it, and so does
      // returning it (put returns the value it stored)
      assert.equal(gasOf(m, 'f', [v]), 8 + GAS.storageWrite + GAS.storageBytes * (2 + encode(v).length) + 2 * (sizeOf(fromCodec(v)) - 1))
    }
    assert.equal(gasOf(m, 'f', ['x'.repeat(100)]) - gasOf(m, 'f', ['']), GAS.storageBytes * (100 + 1) + 2 * (100 >> 5))
  })
})

// ---------------------------------------------------------------------------------------------

describe('limits', () => {
  const SPIN = '(defun spin (n) (map (fn (i) (fold (fn (a x) (+ a x)) 0 (range 0 10000))) (range 0 n)))'

  test('running out of gas aborts with out-of-gas and gasUsed equal to the limit', () => {
    for (const limit of [1, 5, 100, 777, 20_000]) {
      const r = run(SPIN, 'spin', [100n], limit)
      fails(r, 'out-of-gas', new RegExp(`gas limit ${limit} reached`))
      assert.equal(r.gasUsed, limit)
    }
    // a call that needs exactly the limit succeeds; one less does not
    assert.equal(run('(defun f () 1)', 'f', [], 6).ok, true)
    const short = run('(defun f () 1)', 'f', [], 5)
    fails(short, 'out-of-gas')
    assert.equal(short.gasUsed, 5)
  })

  test('effects before the gas ran out are left to the ledger to roll back (the host saw them)', () => {
    const host = new TestHost()
    const r = run('(defun f () (put "a" 1) (put "b" (range 0 1000)))', 'f', [], 100, host)
    fails(r, 'out-of-gas')
    assert.equal(host.get('a'), 1n)
    assert.equal(host.get('b'), undefined)
  })

  test('a call asking for more than GAS_LIMITS.maxCall gets maxCall; no limit means defaultCall', () => {
    const big = run(SPIN, 'spin', [100n], GAS_LIMITS.maxCall * 4)
    fails(big, 'out-of-gas', new RegExp(`gas limit ${GAS_LIMITS.maxCall} reached`))
    assert.equal(big.gasUsed, GAS_LIMITS.maxCall)
    const dflt = run(SPIN, 'spin', [100n])
    fails(dflt, 'out-of-gas')
    assert.equal(dflt.gasUsed, GAS_LIMITS.defaultCall)
  })

  test('infinite recursion ends in a depth error or out-of-gas, never a JS RangeError', () => {
    const programs: Array<[string, string, Value[]]> = [
      ['(defun f (x) (f x))', 'f', [1n]],
      ['(defun f (x) (+ 1 (f x)))', 'f', [1n]],
      ['(defun f () (g)) (defun g () (f))', 'f', []],
      ['(defun f (xs) (map (fn (x) (f xs)) xs))', 'f', [[1n]]],
      ['(defun f (xs) (fold (fn (a x) (f xs)) 0 xs))', 'f', [[1n, 2n]]],
      ['(defun g () (f f)) (defun f (h) (h h))', 'g', []],
      ['(defun f (n) (let ((a (let ((b (let ((c (f n))) c))) b))) a))', 'f', [0n]],
      ['(defun f (n) (concat (list n) (f (+ n 1))))', 'f', [0n]]
    ]
    for (const [src, fn, args] of programs) {
      const deep = run(src, fn, args, GAS_LIMITS.maxCall)
      fails(deep, 'runtime', new RegExp(`nested deeper than ${VM_LIMITS.maxDepth}`))
      const cheap = run(src, fn, args, 300)
      fails(cheap, 'out-of-gas')
      assert.equal(cheap.gasUsed, 300)
    }
  })

  test('integers overflowing 64 bits abort with a runtime error', () => {
    const cases = [
      `(+ ${MAX_INT} 1)`, `(- ${MIN_INT} 1)`, '(* 4294967296 4294967296)', `(* ${MIN_INT} -1)`,
      `(abs ${MIN_INT})`, `(/ ${MIN_INT} -1)`, `(- 0 ${MIN_INT})`
    ]
    for (const c of cases) fails(run(`(defun f () ${c})`, 'f'), 'runtime', /integer overflow/)
    assert.equal(ok(run(`(defun f () (+ ${MAX_INT - 1n} 1))`, 'f')), MAX_INT)
    assert.equal(ok(run('(defun f () (* -4294967296 4294967296))', 'f')), -(1n << 64n))
    assert.equal(ok(run('(defun f (a b) (- a b))', 'f', [-1n, MAX_INT])), MIN_INT)
  })

  test('division and mod by zero abort with a runtime error', () => {
    fails(run('(defun f (a) (/ a 0))', 'f', [7n]), 'runtime', /division by zero/)
    fails(run('(defun f (a) (mod a 0))', 'f', [7n]), 'runtime', /division by zero/)
    fails(run('(defun f (a b) (/ a b))', 'f', [0n, 0n]), 'runtime', /division by zero/)
  })

  test(`lists are limited to ${VM_LIMITS.maxListLength} elements`, () => {
    const n = VM_LIMITS.maxListLength
    assert.equal(ok(run('(defun f (n) (len (range 0 n)))', 'f', [BigInt(n)])), BigInt(n))
    fails(run('(defun f (n) (range 0 n))', 'f', [BigInt(n + 1)]), 'runtime', /list longer than 10000/)
    fails(run(`(defun f () (range ${MIN_INT} ${MAX_INT}))`, 'f'), 'runtime', /list longer than/)
    fails(run('(defun f (n) (cons 0 (range 0 n)))', 'f', [BigInt(n)]), 'runtime', /list longer than/)
    fails(run('(defun f (n) (append (range 0 n) 0))', 'f', [BigInt(n)]), 'runtime', /list longer than/)
    fails(run('(defun f (n) (let ((xs (range 0 n))) (concat xs (list 1))))', 'f', [BigInt(n)]), 'runtime', /list longer than/)
  })

  test(`strings built by repeated concat stop at ${VM_LIMITS.maxStringBytes}`, () => {
    const m = compile('(defun f (s n) (if (= n 0) (len s) (f (concat s s) (- n 1))))')
    assert.equal(ok(run(m, 'f', ['a', 16n])), BigInt(VM_LIMITS.maxStringBytes))
    fails(run(m, 'f', ['a', 17n]), 'runtime', /string longer than 65536/)
    fails(run(m, 'f', [new Uint8Array(1), 17n]), 'runtime', /bytes longer than 65536/)
  })

  test(`a call may emit at most ${VM_LIMITS.maxEvents} events (enforced by the ledger's sandbox host)`, () => {
    const m = compile('(defun f (n) (map (fn (i) (emit "e" i)) (range 0 n)) (len (range 0 n)))')
    const okBox = sandbox(0n)
    assert.equal(ok(run(m, 'f', [BigInt(VM_LIMITS.maxEvents)], undefined, okBox)), BigInt(VM_LIMITS.maxEvents))
    assert.equal(okBox.events.length, VM_LIMITS.maxEvents)
    fails(run(m, 'f', [BigInt(VM_LIMITS.maxEvents + 1)], undefined, sandbox(0n)), 'runtime', /more than 256 events/)
  })

  test(`a call may make at most ${VM_LIMITS.maxTransfers} transfers (enforced by the ledger's sandbox host)`, () => {
    const m = compile('(defun f (n) (map (fn (i) (transfer (caller) 1)) (range 0 n)) (balance))')
    const okBox = sandbox(1000n)
    assert.equal(ok(run(m, 'f', [BigInt(VM_LIMITS.maxTransfers)], undefined, okBox)), 1000n - BigInt(VM_LIMITS.maxTransfers))
    fails(run(m, 'f', [BigInt(VM_LIMITS.maxTransfers + 1)], undefined, sandbox(1000n)), 'runtime', /more than 256 transfers/)
  })

  test('transfers need a 32-byte recipient, a positive amount and enough balance', () => {
    const m = compile('(defun f (to n) (transfer to n))')
    fails(run(m, 'f', [new Uint8Array(31), 1n]), 'runtime', /a recipient is 32 bytes/)
    fails(run(m, 'f', [ACCOUNT, 0n]), 'runtime', /must be positive/)
    fails(run(m, 'f', [ACCOUNT, 1001n], undefined, new TestHost(1000n)), 'runtime', /balance 1000 is less than 1001/)
    fails(run(m, 'f', ['alice', 1n]), 'type', /recipient must be bytes/)
    const host = new TestHost(1000n)
    assert.equal(ok(run(m, 'f', [ACCOUNT, 1000n], undefined, host)), true)
    assert.equal(host.balance(), 0n)
  })

  test('type errors: if on a non-boolean, + on strings, and friends', () => {
    fails(run('(defun f () (if 1 2 3))', 'f'), 'type', /expected a boolean, got integer/)
    fails(run('(defun f () (if nil 2 3))', 'f'), 'type', /expected a boolean, got nil/)
    fails(run('(defun f () (+ "a" "b"))', 'f'), 'type', /must be an integer, got string/)
    fails(run('(defun f () (< 1 "a"))', 'f'), 'type', /cannot order integer and string/)
    fails(run('(defun f () (not 0))', 'f'), 'type')
    fails(run('(defun f () (and true 1))', 'f'), 'type')
    fails(run('(defun f () (len 5))', 'f'), 'type', /must be a map, got integer/)
    fails(run('(defun f () (concat "a" 0x01))', 'f'), 'type')
    fails(run('(defun f () (map-get (list) 1))', 'f'), 'type')
    fails(run('(defun f () (let ((g 1)) (g 2)))', 'f'), 'type', /expected a function, got integer/)
    fails(run('(defun f () (dict (list) 1))', 'f'), 'type', /a key must be an integer, string or bytes/)
    fails(run('(defun f () (get true))', 'f'), 'type', /a key must be/)
  })

  test('nth out of range and first of an empty list abort', () => {
    fails(run('(defun f (i) (nth i (list 1 2 3)))', 'f', [3n]), 'runtime', /index 3 out of range \(length 3\)/)
    fails(run('(defun f (i) (nth i (list 1 2 3)))', 'f', [-1n]), 'runtime', /index -1 out of range/)
    assert.equal(ok(run('(defun f (i) (nth i (list 1 2 3)))', 'f', [2n])), 3n)
    fails(run('(defun f () (first (list)))', 'f'), 'runtime', /first of an empty list/)
    assert.deepEqual(ok(run('(defun f () (rest (list)))', 'f')), [])
  })

  test('a function cannot be stored, emitted or returned', () => {
    const host = new TestHost()
    fails(run('(defun f () (put "k" (fn (x) x)))', 'f', [], undefined, host), 'type', /a function cannot be stored/)
    fails(run('(defun f () (put "k" (list 1 (fn (x) x))))', 'f', [], undefined, host), 'type', /a function cannot be stored/)
    assert.equal(host.storage.size, 0)
    fails(run('(defun f () (emit "e" (fn (x) x)))', 'f', [], undefined, host), 'type')
    assert.equal(host.events.length, 0)
    fails(run('(defun f () (fn (x) x))', 'f'), 'type', /a function cannot be stored, passed in or returned/)
    fails(run('(defun g () 1) (defun f () g)', 'f'), 'type', /a function cannot be/)
    fails(run('(defun f () (list (fn (x) x)))', 'f'), 'type')
  })

  test('calling a missing function, or with the wrong number of arguments, fails without throwing', () => {
    const m = compile('(defun f (x) x)')
    fails(invoke(m, 'nope', [], new TestHost()), 'runtime', /the contract has no function "nope"/)
    fails(invoke(m, 'f', [], new TestHost()), 'runtime', /f takes 1 argument\(s\), got 0/)
    fails(invoke(m, 'f', [1n, 2n], new TestHost()), 'runtime', /f takes 1 argument\(s\), got 2/)
    fails(run('(defun g (a) a) (defun f () (map g (list (list 1 2))) (fold g 0 (list 1)))', 'f'), 'runtime', /g takes 1 argument\(s\), got 2/)
    fails(run('(defun f () (let ((h (fn (a b) a))) (h 1)))', 'f'), 'runtime', /function takes 2 argument\(s\), got 1/)
  })

  test('arguments from outside arrive as VM values; number arguments become integers', () => {
    const m = compile('(defun f (x) (type-of x))')
    const types = [[5, 'integer'], [5n, 'integer'], ['s', 'string'], [new Uint8Array(2), 'bytes'], [true, 'boolean'], [null, 'nil'], [[1], 'list'], [mapArg([['a', 1n]]), 'map']] as const
    for (const [v, t] of types) assert.equal(ok(run(m, 'f', [v])), t)
    fails(run(m, 'f', [{ nope: 1n }]), 'type', /bad key tag/)
    fails(run(m, 'f', [{ 'i:+x': 1n }]), 'type', /bad key tag/)
    fails(run(m, 'f', [{ 'i:+99999999999999999999': 1n }]), 'runtime', /integer overflow/)
    // a loosely spelled integer tag is re-tagged, so the key is found
    assert.deepEqual(ok(run('(defun g (m) (list (map-get m 5) (map-keys m)))', 'g', [{ 'i:+5': 1n, 's:a': 2n }])), [1n, [5n, 'a']])
  })

  test('enforce failures carry their message and the position of the enforce form', () => {
    const m = compile('(defun f (x)\n  (enforce (> x 0) "x must be positive")\n  x)')
    assert.equal(ok(run(m, 'f', [3n])), 3n)
    const err = fails(run(m, 'f', [0n]), 'enforce')
    assert.equal(err.detail, 'x must be positive')
    assert.deepEqual(err.pos, { line: 2, col: 3 })
    assert.equal(fails(run('(defun f () (enforce false 42))', 'f'), 'enforce').detail, 'enforce failed')
    fails(run('(defun f () (enforce 1 "m"))', 'f'), 'type')
  })
})

// ---------------------------------------------------------------------------------------------

describe('semantics', () => {
  test('let is sequential: each binding sees the ones before it', () => {
    assert.deepEqual(ok(run('(defun f () (let ((x 1) (y (+ x 1)) (x (* y 10))) (list x y)))', 'f')), [20n, 2n])
    assert.equal(ok(run('(defun f (x) (let ((x (+ x 1))) x))', 'f', [1n])), 2n)
    assert.equal(ok(run('(defun f (x) (do (let ((x 5)) x) x))', 'f', [1n])), 1n)
    assert.equal(ok(run('(defun f () (let () 1))', 'f')), 1n)
  })

  test('a lambda sees the bindings made before it, not ones made after it in the same let', () => {
    assert.equal(ok(run('(defun f (y) (let ((g (fn () y)) (y 2)) (g)))', 'f', [1n])), 1n)
  })

  test('cond takes the first true clause, else when none is, and nil with no else', () => {
    const m = compile('(defun sign (n) (cond ((= n 0) "zero") ((< n 0) "negative") (else "positive")))\n(defun g (n) (cond ((= n 1) "one") ((= n 1) "never")))')
    assert.deepEqual([-3n, 0n, 9n].map(n => ok(run(m, 'sign', [n]))), ['negative', 'zero', 'positive'])
    assert.equal(ok(run(m, 'g', [1n])), 'one')
    assert.equal(ok(run(m, 'g', [2n])), null)
    assert.equal(ok(run('(defun f () (if false 1))', 'f')), null)
  })

  test('and/or short-circuit: the form after the deciding one is never evaluated', () => {
    assert.equal(ok(run('(defun f () (and false (= (/ 1 0) 1)))', 'f')), false)
    assert.equal(ok(run('(defun f () (or true (/ 1 0)))', 'f')), true)
    assert.equal(ok(run('(defun f () (and true true (or false true)))', 'f')), true)
    assert.equal(ok(run('(defun f () (if true 1 (/ 1 0)))', 'f')), 1n)
    assert.equal(ok(run('(defun f () (cond (true 1) ((/ 1 0) 2)))', 'f')), 1n)
    assert.equal(ok(run('(defun f () (enforce true (/ 1 0)))', 'f')), true)
    // and the deciding form is evaluated when needed
    fails(run('(defun f () (and true (= (/ 1 0) 1)))', 'f'), 'runtime', /division by zero/)
    fails(run('(defun f () (or false (/ 1 0)))', 'f'), 'runtime', /division by zero/)
    const host = new TestHost()
    ok(run('(defun f () (and false (put "k" 1)) (or true (put "k" 2)))', 'f', [], undefined, host))
    assert.equal(host.storage.size, 0)
  })

  test('lambdas capture their defining scope, not the caller\'s', () => {
    assert.deepEqual(ok(run('(defun f (n) (let ((add (fn (x) (+ x n)))) (map add (list 1 2 3))))', 'f', [10n])), [11n, 12n, 13n])
    assert.equal(ok(run('(defun call1 (h) (let ((n 100)) (h 1)))\n(defun f (n) (call1 (fn (x) (+ x n))))', 'f', [5n])), 6n)
    assert.equal(ok(run('(defun f () (let ((k 10) (g (fn (x) (* x k)))) (let ((k 30)) (g 3))))', 'f')), 30n)
    assert.deepEqual(ok(run('(defun f () (map (fn (x) (map (fn (y) (list x y)) (list 1 2))) (list 7 8)))', 'f')), [[[7n, 1n], [7n, 2n]], [[8n, 1n], [8n, 2n]]])
  })

  test('map, filter and fold apply the function in list order', () => {
    assert.deepEqual(ok(run('(defun f () (map (fn (x) (* x x)) (range 0 5)))', 'f')), [0n, 1n, 4n, 9n, 16n])
    assert.deepEqual(ok(run('(defun f () (filter (fn (x) (= (mod x 2) 0)) (range 0 10)))', 'f')), [0n, 2n, 4n, 6n, 8n])
    assert.equal(ok(run('(defun f () (fold (fn (acc x) (+ acc x)) 0 (range 1 101)))', 'f')), 5050n)
    assert.equal(ok(run('(defun f () (fold (fn (acc x) (- acc x)) 100 (list 1 2 3)))', 'f')), 94n)
    assert.deepEqual(ok(run('(defun f () (fold (fn (acc x) (cons x acc)) (list) (list 1 2 3)))', 'f')), [3n, 2n, 1n])
    assert.deepEqual(ok(run('(defun add (a b) (+ a b)) (defun f () (list (fold add 0 (list 4 5)) (map (fn (x) x) (list))))', 'f')), [9n, []])
    fails(run('(defun f () (filter (fn (x) x) (list 1)))', 'f'), 'type', /expected a boolean/)
    const host = new TestHost()
    ok(run('(defun f () (map (fn (x) (emit "e" x)) (list 3 1 2)))', 'f', [], undefined, host))
    assert.deepEqual(host.events.map(e => e.data), [3n, 1n, 2n])
  })

  test('maps iterate in key order whatever the insertion order (property)', () => {
    const m = compile(`
      (defun build (pairs) (fold (fn (m p) (map-set m (first p) (nth 1 p))) (dict) pairs))
      (defun keys (pairs) (map-keys (build pairs)))
      (defun vals (pairs) (map-values (build pairs)))
      (defun same (p q) (= (build p) (build q)))
      (defun shown (pairs) (str (build pairs)))`)
    const key = fc.oneof(fc.bigInt({ min: MIN_INT, max: MAX_INT }), fc.string({ maxLength: 4 }), fc.uint8Array({ maxLength: 3 }))
    fc.assert(fc.property(
      fc.uniqueArray(key, { maxLength: 12, selector: k => keyTag(k as VmValue) }).chain(keys =>
        fc.tuple(fc.constant(keys), fc.shuffledSubarray(keys, { minLength: keys.length }), fc.shuffledSubarray(keys, { minLength: keys.length }))),
      ([keys, p, q]) => {
        const pairs = (order: VmValue[]): Value => order.map(k => [k as Value, keyTag(k)])
        const byTag = [...keys].sort((a, b) => (keyTag(a) < keyTag(b) ? -1 : 1))
        assert.deepEqual(ok(run(m, 'keys', [pairs(p)])), byTag)
        assert.deepEqual(ok(run(m, 'keys', [pairs(q)])), byTag)
        assert.deepEqual(ok(run(m, 'vals', [pairs(p)])), byTag.map(k => keyTag(k)))
        assert.equal(ok(run(m, 'same', [pairs(p), pairs(q)])), true)
        assert.deepEqual(run(m, 'shown', [pairs(p)]), run(m, 'shown', [pairs(q)]))
        assert.deepEqual(run(m, 'build', [pairs(p)]), run(m, 'build', [pairs(q)]))
      }), { numRuns: 60 })
    // the documented example: bytes, then non-negative integers ascending, then negative ones by
    // ascending magnitude, then strings
    assert.deepEqual(ok(run('(defun f () (map-keys (dict 1 "a" -1 "b" -2 "c" 2 "d" "x" 1 0x01 2 10 "e")))', 'f')), [new Uint8Array([1]), 1n, 2n, 10n, -1n, -2n, 'x'])
    assert.deepEqual(ok(run('(defun f () (map-keys (dict 10 0 2 0 "b" 0 0x02 0 "a" 0 0x01 0 1 0)))', 'f')), [new Uint8Array([1]), new Uint8Array([2]), 1n, 2n, 10n, 'a', 'b'])
    assert.deepEqual(ok(run('(defun f () (map-keys (map-set (map-set (dict) "z" 1) "a" 2)))', 'f')), ['a', 'z'])
  })

  test('equality is structural for lists and maps, and values of different types never equal', () => {
    const eq = (a: string, b: string): Value => ok(run(`(defun f () (= ${a} ${b}))`, 'f'))
    assert.equal(eq('(list 1 (list 2 "x"))', '(list 1 (list 2 "x"))'), true)
    assert.equal(eq('(list 1 2)', '(list 2 1)'), false)
    assert.equal(eq('(dict "a" 1 "b" 2)', '(dict "b" 2 "a" 1)'), true)
    assert.equal(eq('(dict "a" 1)', '(dict "a" 2)'), false)
    assert.equal(eq('(dict "a" (list 1))', '(map-set (dict) "a" (list 1))'), true)
    assert.equal(eq('(list)', '(dict)'), false)
    assert.equal(eq('nil', 'false'), false)
    assert.equal(eq('0', 'false'), false)
    assert.equal(eq('1', '"1"'), false)
    assert.equal(eq('"ab"', '(concat "a" "b")'), true)
    assert.equal(eq('0x01ff', '(concat 0x01 0xff)'), true)
    assert.equal(eq('"a"', '0x61'), false)
    assert.equal(ok(run('(defun f () (!= (list 1) (list 1)))', 'f')), false)
    // function values: the same lambda equals itself; a defun's name is a fresh value each time
    assert.deepEqual(ok(run('(defun g () 1) (defun f () (let ((h (fn (x) x)) (k (fn (x) x))) (list (= h h) (= h k) (= g g))))', 'f')), [true, false, false])
    assert.equal(ok(run('(defun f () (contains (list 1 (list 2)) (list 2)))', 'f')), true)
  })

  test('keys of different types are different keys: 1, "1" and 0x01', () => {
    assert.deepEqual(ok(run('(defun f () (let ((m (dict 1 "int" "1" "str" 0x01 "bytes"))) (list (len m) (map-get m 1) (map-get m "1") (map-get m 0x01) (map-has m 2))))', 'f')),
      [3n, 'int', 'str', 'bytes', false])
    const host = new TestHost()
    assert.deepEqual(ok(run('(defun f () (put 1 "int") (put "1" "str") (del 0x01) (list (get 1) (get "1") (get 0x01 "none")))', 'f', [], undefined, host)), ['int', 'str', 'none'])
    assert.equal(host.storage.size, 2)
  })

  test('map-get and map-has see a key whose value is nil', () => {
    assert.deepEqual(ok(run('(defun f () (let ((m (dict "a" nil))) (list (map-has m "a") (map-get m "a" 5))))', 'f')), [true, null])
  })

  test('strings, bytes and lists: str, len, concat, rest, cons, append, hash, type-of', () => {
    assert.deepEqual(ok(run('(defun f () (list (str 42) (str "s") (str (list 1 "a" 0x0f nil true)) (str (dict "k" 1)) (len "héllo") (rest (list 1 2 3)) (cons 0 (list 1)) (append (list 1) 2)))', 'f')),
      ['42', 's', '(list 1 "a" 0x0f nil true)', '{"k" 1}', 5n, [2n, 3n], [0n, 1n], [1n, 2n]])
    const hashed = ok(run('(defun f () (list (hash "abc") (= (hash "abc") (hash 0x616263)) (len (hash 0x))))', 'f')) as Value[]
    assert.equal(Buffer.from(hashed[0] as Uint8Array).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert.deepEqual(hashed.slice(1), [true, 32n])
    assert.deepEqual(ok(run('(defun f () (list (/ -7 2) (mod -7 2) (mod 7 -2) (min 3 -3) (max 3 -3) (abs -9)))', 'f')), [-3n, -1n, 1n, -3n, 3n, 9n])
  })

  test('the host functions report what the host holds', () => {
    const host = new TestHost(77n)
    assert.deepEqual(ok(run('(defun f () (list (caller) (self) (value) (balance) (now)))', 'f', [], undefined, host)),
      [ACCOUNT, host.self, 0n, 77n, host.now])
  })
})

// ---------------------------------------------------------------------------------------------
// Walking whole values: charged per node and bounded in depth. The todo tests are gaps that
// remain, each showing work done before (or without) the gas that should pay for it.

describe('metering of large values', () => {
  const GROW = '(defun grow (n) (if (= n 0) (list 1) (let ((x (grow (- n 1)))) (list x x))))\n(defun eqn (n) (let ((a (grow n)) (b (grow n))) (= a b)))'

  test('comparing values costs gas in proportion to their size', () => {
    const r = run(GROW, 'eqn', [16n], 5000)
    fails(r, 'out-of-gas')
  })

  test('a deeply nested value is returned, stored or compared, or refused with a ContractError, never an internal error', () => {
    const deep = '(defun nest (n) (fold (fn (acc x) (list acc)) 0 (range 0 n)))'
    for (const body of ['(nest 3000)', '(nest 10000)', '(put "k" (nest 10000))', '(= (nest 10000) (list (nest 9999)))', '(len (str (nest 10000)))', '(emit "e" (nest 3000))', '(contains (list 1) (nest 3000))']) {
      const r = run(`${deep}\n(defun f () ${body})`, 'f', [], GAS_LIMITS.maxCall)
      fails(r, 'runtime', /nested deeper than 32/)
    }
  })

  test('values nested up to MAX_VALUE_DEPTH (32) can be returned, stored and compared; one deeper cannot', () => {
    const deep = '(defun nest (n) (fold (fn (acc x) (list acc)) 0 (range 0 n)))'
    const host = new TestHost()
    ok(run(`${deep}\n(defun f () (put "k" (nest 32)) (= (nest 32) (nest 32)))`, 'f', [], undefined, host))
    assert.equal(host.storage.size, 1)
    ok(run(`${deep}\n(defun f () (nest 32))`, 'f'))
    fails(run(`${deep}\n(defun f () (nest 33))`, 'f'), 'runtime', /result nested deeper than 32/)
    fails(run(`${deep}\n(defun f () (put "k" (nest 33)))`, 'f'), 'runtime', /value nested deeper than 32/)
    fails(run(`${deep}\n(defun f () (= (nest 33) 0))`, 'f'), 'runtime', /value nested deeper than 32/)
    // building and taking apart deep values is fine: only walking them whole is refused
    assert.equal(ok(run(`${deep}\n(defun f () (len (nest 100)))`, 'f')), 1n)
  })

  test('a result is at most VM_LIMITS.maxResultSize units: every node keeps it and serves it', () => {
    // one 64 KiB string shared 100 times is ~6.5 MB encoded for ~200,000 gas: refused, whatever the gas
    const big = '(defun s () (fold (fn (acc x) (concat acc acc)) "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" (range 0 11)))'
    fails(run(`${big}\n(defun f () (map (fn (i) (s)) (range 0 100)))`, 'f', [], 5_000_000), 'runtime', /result too large \(\d+ units .*at most 4096\)/)
    // the same string once is 2,049 units: returned
    const one = ok(run(`${big}\n(defun f () (s))`, 'f', [], 5_000_000))
    assert.equal((one as string).length, 65_536)
    assert.equal(VM_LIMITS.maxResultSize, 4096)
  })

  test('walking a structurally shared value is charged per node, so equality cannot outrun its gas', () => {
    // (grow n) is a tree of 2^(n+1) - 1 nodes built for O(n) gas; = walks both trees first
    const g10 = gasOf(GROW, 'eqn', [10n])
    assert.ok(g10 > 2 * (2 ** 11 - 2), `eqn 10 used only ${g10} gas`)
    const t = Date.now()
    // 31 deep (within MAX_VALUE_DEPTH) and 2^31 - 1 nodes a tree: far more than maxCall pays for
    const r = run(GROW, 'eqn', [30n], GAS_LIMITS.maxCall)
    fails(r, 'out-of-gas')
    assert.equal(r.gasUsed, GAS_LIMITS.maxCall)
    assert.ok(Date.now() - t < 2000, 'comparing 2^31-node trees must stop at the gas limit, quickly')
  })

  test('contains pays for every comparison it makes', () => {
    // x: a 2047-node tree; xs: 50 empty lists, each compared with x by encoding x again
    const src = `${GROW}\n(defun f (k n) (let ((x (grow k)) (xs (map (fn (i) (list)) (range 0 n)))) (contains xs x)))`
    const r = run(src, 'f', [10n, 50n], 20_000)
    // 50 comparisons against 2047 nodes is ~100k nodes of work: more than 20k gas should buy
    fails(r, 'out-of-gas')
  })

  test('concat of many strings ends in a ContractError, not a JS RangeError', () => {
    const src = `(defun big (s n) (if (= n 0) s (big (concat s s) (- n 1))))\n(defun f () (let ((s (big "a" 16))) (len (concat ${'s '.repeat(9000)}))))`
    fails(run(src, 'f'), 'runtime', /string longer than 65536/)
  })

  test('concat of many lists is refused before it builds the joined list', () => {
    const src = `(defun f () (let ((xs (range 0 10000))) (len (concat ${'xs '.repeat(600)}))))`
    const t = Date.now()
    const r = run(src, 'f')
    assert.ok(!r.ok && (r.error.kind === 'out-of-gas' || r.error.kind === 'runtime'), describeResult(r))
    assert.ok(Date.now() - t < 100, `took ${Date.now() - t} ms: the 6M-element list was built before it was refused`)
  })
})

// ---------------------------------------------------------------------------------------------
// Random programs

const SCALAR_OPS: ReadonlyArray<readonly [string, number]> = [
  ['+', 2], ['-', 2], ['*', 2], ['/', 2], ['mod', 2], ['min', 2], ['max', 2], ['abs', 1],
  ['=', 2], ['!=', 2], ['<', 2], ['<=', 2], ['>', 2], ['>=', 2], ['not', 1], ['nil?', 1], ['type-of', 1],
  ['len', 1], ['str', 1], ['hash', 1], ['first', 1], ['nth', 2], ['map-has', 2], ['contains', 2]
]

const INT_LITERAL = fc.oneof(
  { arbitrary: fc.integer({ min: -20, max: 40 }).map(BigInt), weight: 8 },
  { arbitrary: fc.constantFrom(MAX_INT, MIN_INT, MAX_INT - 1n, 1n << 32n, -(1n << 63n), 10_000n, 10_001n, 0n), weight: 2 }
)
const STR_LITERAL = fc.string({ unit: fc.constantFrom('a', 'b', 'k', '"', '\\', '\n', ' ', 'é', '(', ';'), maxLength: 6 })
const BYTES_LITERAL = fc.oneof(fc.uint8Array({ maxLength: 4 }), fc.constant(new Uint8Array(32).fill(5)))

const renderString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
const renderBytes = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`

/**
 * Random programs from a grammar over literals, variables in scope, builtins, special forms,
 * lambdas and (mutual) recursion, with an occasional wrong argument count. Values built in
 * element positions (list items, map values, lambda results of map) are "scalar" expressions,
 * which never return a variable's value as it is. That keeps out structurally shared values,
 * which walking now pays for but contains (a todo above) still compares unpaid, and which would
 * hang the property rather than fail it.
 */
class ProgramGen {
  constructor (private readonly g: fc.GeneratorValue) {}

  private nat (max: number): number { return this.g(fc.nat, { max }) }
  private pick<T> (items: readonly T[]): T { return items[this.nat(items.length - 1)]! }
  private chance (percent: number): boolean { return this.nat(99) < percent }

  literal (): string {
    const k = this.nat(9)
    if (k < 5) return String(this.g(() => INT_LITERAL))
    if (k < 7) return renderString(this.g(() => STR_LITERAL))
    if (k < 8) return renderBytes(this.g(() => BYTES_LITERAL))
    return this.pick(['true', 'false', 'nil'])
  }

  /** An argument count: usually right, now and then one off. */
  private count (min: number, max: number): number {
    const n = min === max ? min : min + this.nat(Math.min(max, min + 3) - min)
    if (this.chance(3)) return Math.max(0, n + (this.chance(50) ? 1 : -1))
    return n
  }

  private call (head: string, args: string[]): string { return `(${[head, ...args].join(' ')})` }

  private times (n: number, f: () => string): string[] { return Array.from({ length: n }, f) }

  expr (kind: 'any' | 'scalar', vars: readonly string[], depth: number): string {
    if (depth <= 0 || this.chance(20)) {
      if (kind === 'any' && vars.length > 0 && this.chance(50)) return this.pick(vars)
      return this.literal()
    }
    const any = (): string => this.expr('any', vars, depth - 1)
    const scalar = (): string => this.expr('scalar', vars, depth - 1)
    const same = (): string => this.expr(kind, vars, depth - 1)
    const roll = this.nat(99)
    if (roll < 35 || (kind === 'scalar' && roll < 60)) {
      const [name, arity] = this.pick(SCALAR_OPS)
      return this.call(this.chance(10) ? `%${name}` : name, this.times(this.count(arity, arity), any))
    }
    if (roll < 65) {
      switch (this.nat(6)) {
        case 0: return this.call('if', [any(), same(), ...(this.chance(70) ? [same()] : [])])
        case 1: {
          const clauses = this.times(1 + this.nat(1), () => `(${any()} ${same()})`)
          return this.call('cond', this.chance(60) ? [...clauses, `(else ${same()})`] : clauses)
        }
        case 2: {
          const name = this.pick(['y', 'z'])
          const bound = any()
          return `(let ((${name} ${bound})) ${this.expr(kind, [...vars, name], depth - 1)})`
        }
        case 3: return this.call(this.pick(['and', 'or']), this.times(this.count(1, 3), any))
        case 4: return this.call('do', [...this.times(this.nat(1), any), same()])
        default: return this.call('enforce', [any(), this.chance(80) ? renderString(this.g(() => STR_LITERAL)) : scalar()])
      }
    }
    if (kind === 'scalar') return this.literal()
    if (roll < 80) {
      switch (this.nat(15)) {
        case 0: return this.call('list', this.times(this.count(0, 3), scalar))
        case 1: return this.call('cons', [scalar(), any()])
        case 2: return this.call('append', [any(), scalar()])
        case 3: return this.call('concat', this.times(this.count(1, 3), any))
        case 4: return this.call('range', [any(), any()])
        case 5: return this.call('rest', [any()])
        case 6: return this.call('map', [`(fn (x) ${this.expr('scalar', [...vars, 'x'], depth - 1)})`, any()])
        case 7: return this.call('filter', [`(fn (x) ${this.expr('scalar', [...vars, 'x'], depth - 1)})`, any()])
        case 8: return this.call('fold', [`(fn (acc x) ${this.expr('any', [...vars, 'acc', 'x'], depth - 1)})`, any(), any()])
        case 9: return this.call('dict', this.times(2 * this.nat(2) + (this.chance(5) ? 1 : 0), scalar))
        case 10: return this.call('map-get', [any(), scalar(), ...(this.chance(50) ? [scalar()] : [])])
        case 11: return this.call('map-set', [any(), scalar(), scalar()])
        case 12: return this.call('map-del', [any(), scalar()])
        case 13: return this.call(this.pick(['map-keys', 'map-values']), [any()])
        case 14: return `(let ((h (fn (x) ${this.expr('scalar', [...vars, 'x'], depth - 1)}))) (h ${scalar()}))`
        default: return this.call('str', [any()])
      }
    }
    if (roll < 90) {
      switch (this.nat(5)) {
        case 0: return this.call('get', [scalar(), ...(this.chance(50) ? [scalar()] : [])])
        case 1: return this.call('put', [scalar(), any()])
        case 2: return this.call('del', [scalar()])
        case 3: return this.call('emit', [this.chance(80) ? '"ev"' : scalar(), any()])
        case 4: return this.call('transfer', [this.chance(70) ? '(caller)' : scalar(), scalar()])
        default: return `(${this.pick(['caller', 'self', 'value', 'balance', 'now'])})`
      }
    }
    // recursion, direct or mutual
    return this.chance(50) ? this.call('f', this.times(this.count(2, 2), any)) : this.call('g', this.times(this.count(1, 1), any))
  }

  program (): string {
    const forms: string[] = []
    const vars: string[] = []
    if (this.chance(30)) {
      forms.push(`(defconst k ${this.expr('scalar', [], 2)})`)
      vars.push('k')
    }
    forms.push(`(defun f (a b) ${this.expr('any', [...vars, 'a', 'b'], 4)})`)
    forms.push(`(defun g (a) ${this.expr('any', [...vars, 'a'], 4)})`)
    return forms.join('\n')
  }
}

const SCALAR_ARG: fc.Arbitrary<Value> = fc.oneof(
  fc.bigInt({ min: -50n, max: 50n }), fc.constantFrom(MAX_INT, MIN_INT, 0n, 1n), STR_LITERAL, BYTES_LITERAL, fc.boolean(), fc.constant(null)
)
const ARG: fc.Arbitrary<Value> = fc.oneof(
  { arbitrary: SCALAR_ARG, weight: 5 },
  { arbitrary: fc.array(SCALAR_ARG, { maxLength: 5 }), weight: 2 },
  { arbitrary: fc.array(fc.tuple(fc.oneof(fc.bigInt({ min: -5n, max: 5n }), STR_LITERAL), SCALAR_ARG), { maxLength: 4 }).map(pairs => mapArg(pairs)), weight: 1 }
)

/** Everything a call can be observed by: its result or error, its gas, and what the host saw. */
function observed (r: CallResult, host: TestHost): unknown {
  return {
    ok: r.ok,
    gasUsed: r.gasUsed,
    result: r.ok ? r.result : undefined,
    error: r.ok ? undefined : { kind: r.error.kind, detail: r.error.detail, pos: r.error.pos },
    storage: [...host.storage.entries()].map(([tag, [, v]]) => [tag, toCodec(v)]),
    events: host.events.map(e => [e.name, toCodec(e.data)]),
    transfers: host.transfers,
    balance: host.balance()
  }
}

const RUNTIME_KINDS = new Set<ContractErrorKind>(['enforce', 'out-of-gas', 'type', 'runtime'])

describe('properties', () => {
  test('random programs never crash the interpreter, never pass their gas limit, and run the same twice', () => {
    let compiled = 0
    let calls = 0
    fc.assert(fc.property(fc.gen(), g => {
      const gen = new ProgramGen(g)
      const source = gen.program()
      let module: Module
      try {
        module = compile(source)
      } catch (err) {
        assert.ok(err instanceof ContractError, `compile threw ${String(err)}`)
        assert.ok(err.kind === 'parse' || err.kind === 'check', err.message)
        assert.ok(err.pos !== undefined, `no position: ${err.message}`)
        return
      }
      compiled++
      const targets: Array<[string, number]> = [['f', 2], ['g', 1]]
      if (g(fc.nat, { max: 9 }) === 0) targets.push(['f', g(fc.nat, { max: 3 })])
      for (const [fn, n] of targets) {
        const args = g(fc.array, ARG, { minLength: n, maxLength: n })
        const limit = g(fc.integer, { min: 100, max: 20_000 })
        const h1 = new TestHost()
        const h2 = new TestHost()
        const r1 = invoke(module, fn, args, h1, limit)
        const r2 = invoke(module, fn, args, h2, limit)
        calls++
        assert.ok(r1.gasUsed >= 0 && r1.gasUsed <= limit, `gasUsed ${r1.gasUsed} over limit ${limit}`)
        if (!r1.ok) {
          assert.ok(r1.error instanceof ContractError)
          assert.ok(RUNTIME_KINDS.has(r1.error.kind), r1.error.message)
          assert.doesNotMatch(r1.error.detail, /internal error/)
          if (r1.error.kind === 'out-of-gas') assert.equal(r1.gasUsed, limit)
        }
        assert.deepEqual(observed(r2, h2), observed(r1, h1), describeResult(r1))
      }
    }), { numRuns: 400 })
    assert.ok(compiled > 100, `only ${compiled} of 400 random programs compiled`)
    assert.ok(calls > 200)
  })

  test('random text and random bytes given to compile either compile or throw a positioned parse/check ContractError', () => {
    const check = (text: string): void => {
      try {
        compile(text)
      } catch (err) {
        assert.ok(err instanceof ContractError, `compile(${JSON.stringify(text.slice(0, 80))}) threw ${String(err)}`)
        assert.ok(err.kind === 'parse' || err.kind === 'check', err.message)
      }
    }
    const sexpChars = fc.constantFrom('(', ')', '(', ')', ' ', '\n', '"', '\\', ';', 'a', 'x', '0', '1', '-', '+', 'f', 'defun ', 'defconst ', 'let ', 'fn ', 'if ', 'cond ', 'else ', 'list ', 'range ', 'map ', 'fold ', 'put ', 'caller ', '0x', 'é', '\t')
    fc.assert(fc.property(fc.string({ unit: sexpChars, maxLength: 80 }), check), { numRuns: 1500 })
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), check), { numRuns: 500 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), b => {
      check(new TextDecoder().decode(b))
      check(Buffer.from(b).toString('latin1'))
    }), { numRuns: 500 })
  })

  test('integer arithmetic agrees with exact arithmetic and aborts exactly when the result leaves 64 bits', () => {
    const m = compile('(defun add (a b) (+ a b)) (defun sub (a b) (- a b)) (defun mul (a b) (* a b)) (defun div (a b) (/ a b)) (defun rem (a b) (mod a b))')
    const int = fc.oneof(fc.bigInt({ min: MIN_INT, max: MAX_INT }), fc.bigInt({ min: -1000n, max: 1000n }), fc.constantFrom(MIN_INT, MAX_INT, 0n, -1n, 1n))
    const exact: Record<string, (a: bigint, b: bigint) => bigint> = { add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, rem: (a, b) => a % b }
    fc.assert(fc.property(int, int, fc.constantFrom('add', 'sub', 'mul', 'div', 'rem'), (a, b, op) => {
      const r = run(m, op, [a, b])
      if ((op === 'div' || op === 'rem') && b === 0n) { fails(r, 'runtime', /division by zero/); return }
      const want = exact[op]!(a, b)
      if (want > MAX_INT || want < MIN_INT) fails(r, 'runtime', /integer overflow/)
      else assert.equal(ok(r), want)
    }), { numRuns: 500 })
  })
})
