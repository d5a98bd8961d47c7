// Runs .test.lisp files. A file is read and checked whole first; then its setup runs once and each
// test runs in a fork of the state the setup left, so no test sees another's calls. The report
// shows every call with its gas, and each failing expectation with file:line:col and the expected
// and actual values. Exit code: 0 every test passed, 1 a test failed, 2 a file could not be run.

import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ContractError } from '../core/vm/errors.js'
import { READER_LIMITS, read } from '../core/vm/reader.js'
import type { Pos } from '../core/vm/reader.js'
import { TestFileError } from './errors.js'
import { Session, StepError } from './session.js'
import type { Failure, SessionHooks } from './session.js'
import { parseTestFile } from './test-file.js'
import type { ContractLoader, Step, TestFile } from './test-file.js'

export interface TestReport {
  readonly name: string
  readonly pos: Pos
  /** What each step logged, and each failure, in order, ready to print. */
  readonly lines: readonly string[]
  readonly failures: number
}

export interface FileReport {
  readonly file: string
  /** Set when the file could not be run at all; then there are no tests. */
  readonly malformed?: TestFileError
  readonly setup: readonly string[]
  /** Failures in the setup: each test then fails too, and a file with no tests fails on its own. */
  readonly setupFailures: number
  readonly tests: readonly TestReport[]
}

export interface RunSummary { readonly passed: number, readonly failed: number, readonly malformed: number, readonly exitCode: 0 | 1 | 2 }

/** Reads a file of at most `max` bytes; anything else is a TestFileError naming `what`. */
function readBounded (path: string, file: string, pos: Pos, what: string, max: number): string {
  let size: number
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new Error('not a file')
    size = st.size
  } catch {
    throw new TestFileError(file, pos, `cannot read ${what} ${path}`)
  }
  if (size > max) throw new TestFileError(file, pos, `${what} ${path} is larger than ${max} bytes`)
  try {
    return readFileSync(path, 'utf8')
  } catch {
    // a file stat can see but not open (no permission), or one gone since
    throw new TestFileError(file, pos, `cannot read ${what} ${path}`)
  }
}

/** Contracts named by a deploy are read relative to the file that names them. */
export function contractLoader (file: string, base: string): ContractLoader {
  return (path, pos) => readBounded(resolve(base, path), file, pos, 'contract file', READER_LIMITS.maxCodeBytes)
}

/** Reads and checks a test file; throws TestFileError with line:column. */
export function loadTestFile (file: string): TestFile {
  const text = readBounded(file, file, { line: 1, col: 1 }, 'test file', READER_LIMITS.maxCodeBytes)
  let forms
  try {
    forms = read(text)
  } catch (err) {
    if (err instanceof ContractError) throw new TestFileError(file, err.pos ?? { line: 1, col: 1 }, err.detail)
    throw err
  }
  return parseTestFile(forms, file, contractLoader(file, dirname(file)))
}

/** Collects a test's log and failures as printable lines. */
class Recorder implements SessionHooks {
  readonly lines: string[] = []
  failures = 0
  readonly strict = true
  constructor (private readonly file: string) {}

  log (line: string): void { this.lines.push(line) }

  fail (f: Failure): void {
    this.failures++
    this.lines.push(`${this.file}:${f.pos.line}:${f.pos.col}: ${f.message}`, ...f.details.map(d => `  ${d}`))
  }

  /** Runs steps until one throws: a StepError is this test's failure; anything else a bug, reported the same way. */
  run (session: Session, steps: readonly Step[]): void {
    try {
      for (const s of steps) session.run(s)
    } catch (err) {
      this.failures++
      this.lines.push(err instanceof StepError ? `${this.file}:${err.pos.line}:${err.pos.col}: ${err.detail}` : `${this.file}: internal error: ${(err as Error).message}`)
    }
  }
}

export function runTestFile (file: string): FileReport {
  let parsed: TestFile
  try {
    parsed = loadTestFile(file)
  } catch (err) {
    if (err instanceof TestFileError) return { file, malformed: err, setup: [], setupFailures: 0, tests: [] }
    throw err
  }
  const setup = new Recorder(file)
  const base = Session.start(file, setup)
  setup.run(base, parsed.setup)
  const tests = parsed.tests.map(t => {
    const rec = new Recorder(file)
    if (setup.failures > 0) {
      rec.fail({ pos: t.pos, message: 'not run: the setup failed', details: [] })
    } else {
      rec.run(base.fork(rec), t.steps)
    }
    return { name: t.name, pos: t.pos, lines: rec.lines, failures: rec.failures }
  })
  return { file, setup: setup.lines, setupFailures: setup.failures, tests }
}

/** The report of one file as lines to print. */
export function formatFile (r: FileReport): string[] {
  if (r.malformed !== undefined) return [r.file, `  error: ${r.malformed.message}`]
  const out = [r.file]
  if (r.setup.length > 0) out.push('  setup', ...r.setup.map(l => `    ${l}`))
  for (const t of r.tests) {
    out.push(`  ${t.failures === 0 ? 'ok  ' : 'FAIL'} ${t.name}`, ...t.lines.map(l => `    ${l}`))
  }
  return out
}

/** Runs files in order, writing each report as it is done; returns the counts and the exit code. */
export function runTestFiles (files: readonly string[], write: (line: string) => void): RunSummary {
  let passed = 0
  let failed = 0
  let malformed = 0
  // a setup that failed in a file with no tests has no test to fail with it, but fails the run
  let setupsFailed = 0
  for (const file of files) {
    const r = runTestFile(file)
    for (const line of formatFile(r)) write(line)
    if (r.malformed !== undefined) malformed++
    if (r.setupFailures > 0 && r.tests.length === 0) setupsFailed++
    for (const t of r.tests) t.failures === 0 ? passed++ : failed++
  }
  const parts = [`${passed + failed} test${passed + failed === 1 ? '' : 's'}`, `${passed} passed`, `${failed} failed`]
  if (setupsFailed > 0) parts.push(`${setupsFailed} setup${setupsFailed === 1 ? '' : 's'} failed`)
  if (malformed > 0) parts.push(`${malformed} file${malformed === 1 ? '' : 's'} not run`)
  write('')
  write(`${parts.join(', ')} (${files.length} file${files.length === 1 ? '' : 's'})`)
  return { passed, failed, malformed, exitCode: malformed > 0 ? 2 : failed > 0 || setupsFailed > 0 ? 1 : 0 }
}
