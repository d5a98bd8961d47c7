#!/usr/bin/env node
// Runs the built test files (dist/test) in groups, each a `node --test` with the spec reporter:
// unit and sim one file at a time (they keep a core busy), integration and e2e several files at
// once (they mostly wait on real processes, sockets and timers), except the few in SERIAL, whose
// assertions hold only while the machine is not busy: those run after, one at a time. Every group
// runs even if one fails; the exit code is 1 if any did.
//
//   node scripts/test.js [unit] [sim] [integration]    (no name: all three, in that order)
//
// BFTNODE_TEST_CONCURRENCY=n sets how many integration/e2e files run at once. Default 2: one
// such file keeps about one core busy on average (CLI and node start-ups cost ~1.5 s of CPU each),
// so on CI's 2 cores a third file mostly competes for CPU and stretches timing-bound tests.

import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const concurrency = Number(process.env.BFTNODE_TEST_CONCURRENCY ?? 2)

const GROUPS = {
  unit: { dirs: ['unit'], concurrency: 1 },
  sim: { dirs: ['sim'], concurrency: 1 },
  // e2e first: its files are the longest, so they start early and the short ones fill in
  integration: { dirs: ['e2e', 'integration'], concurrency }
}

// Short files that time the node's own timers closely: saturation needs three POSTs and a 100 ms
// sleep to finish before a 300 ms resend moves the queue.
const SERIAL = new Set(['dist/test/integration/saturation.test.js'])

const names = process.argv.slice(2)
for (const name of names) {
  if (!(name in GROUPS)) {
    console.error(`unknown test group "${name}"; groups: ${Object.keys(GROUPS).join(', ')}`)
    process.exit(2)
  }
}
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`BFTNODE_TEST_CONCURRENCY must be a positive integer, not "${process.env.BFTNODE_TEST_CONCURRENCY}"`)
  process.exit(2)
}

const filesOf = (dir) => readdirSync(join(root, 'dist', 'test', dir)).filter(f => f.endsWith('.test.js')).sort().map(f => join('dist', 'test', dir, f))

// test/support/ports.ts hands each port out once across the files of a run through this directory
const ports = mkdtempSync(join(tmpdir(), 'bftnode-test-ports-'))

const nodeTest = async (files, n) => {
  if (files.length === 0) return 0
  const args = ['--test', `--test-concurrency=${n}`, '--test-reporter=spec', ...files]
  return await new Promise(resolve => {
    spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, BFTNODE_TEST_PORTS: ports } })
      .once('error', err => { console.error(err); resolve(1) })
      .once('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)))
  })
}

const run = async (name) => {
  const group = GROUPS[name]
  const files = group.dirs.flatMap(filesOf)
  const started = performance.now()
  const side = await nodeTest(files.filter(f => group.concurrency === 1 || !SERIAL.has(f)), group.concurrency)
  const alone = group.concurrency === 1 ? 0 : await nodeTest(files.filter(f => SERIAL.has(f)), 1)
  return { name, files: files.length, code: side || alone, s: (performance.now() - started) / 1000 }
}

const results = []
try {
  for (const name of names.length > 0 ? names : Object.keys(GROUPS)) results.push(await run(name))
} finally {
  rmSync(ports, { recursive: true, force: true })
}
console.log('\ntest groups:')
for (const r of results) console.log(`  ${r.name.padEnd(12)} ${String(r.files).padStart(3)} files  ${r.s.toFixed(1).padStart(6)} s  ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`}`)
process.exitCode = results.every(r => r.code === 0) ? 0 : 1
