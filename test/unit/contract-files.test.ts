// Every contracts/*.test.lisp (and the developer guide's examples/tip-jar) through the runner:
// this is how `npm test` runs the contracts' own test files. Each file must be well formed and
// every test in it must pass.

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

const GUIDE = fileURLToPath(new URL('../../../examples/tip-jar/tipjar.test.lisp', import.meta.url))

for (const [name, path] of [...FILES.map(f => [`contracts/${f}`, join(DIR, f)]), ['examples/tip-jar/tipjar.test.lisp (docs/developing.md)', GUIDE]]) {
  test(`${name} passes`, () => {
    const r = runTestFile(path!)
    const report = formatFile(r).join('\n')
    assert.equal(r.malformed, undefined, report)
    assert.ok(r.tests.length >= 3, `several tests in ${name}`)
    for (const t of r.tests) assert.equal(t.failures, 0, report)
  })
}
