// Every contracts/*.test.lisp through the runner: this is how `npm test` runs the sample
// contracts' own test files. Each file must be well formed and every test in it must pass.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { formatFile, runTestFile } from '../../src/devtools/runner.js'

/** Tests run from dist/test/unit/, so the contracts are three levels up. */
const DIR = fileURLToPath(new URL('../../../contracts/', import.meta.url))
const FILES = readdirSync(DIR).filter(f => f.endsWith('.test.lisp')).sort()

test('there is a test file for each sample contract', () => {
  assert.deepEqual(FILES, ['escrow.test.lisp', 'multisig.test.lisp', 'token.test.lisp', 'vesting.test.lisp'])
})

for (const name of FILES) {
  test(`contracts/${name} passes`, () => {
    const r = runTestFile(join(DIR, name))
    const report = formatFile(r).join('\n')
    assert.equal(r.malformed, undefined, report)
    assert.ok(r.tests.length >= 5, `several tests in ${name}`)
    for (const t of r.tests) assert.equal(t.failures, 0, report)
  })
}
