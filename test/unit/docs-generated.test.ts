// The generated parts of the docs (the CLI reference in docs/running.md, the builtin, gas and
// limit tables in docs/contracts.md) must match the code they were generated from: a command or
// a gas cost changed without regenerating them fails here, not in a reader's hands.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)

for (const script of ['cli-docs', 'contract-docs']) {
  test(`${script}: the generated docs are up to date (else run node dist/bench/${script}.js)`, async () => {
    const file = fileURLToPath(new URL(`../../bench/${script}.js`, import.meta.url))
    const { stdout } = await run(process.execPath, [file, '--check']).catch((err: { stdout?: string, stderr?: string }) => {
      assert.fail(`${err.stdout ?? ''}${err.stderr ?? ''}`)
    })
    assert.match(stdout, /up to date/)
  })
}
