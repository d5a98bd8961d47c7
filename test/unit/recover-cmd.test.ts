// bftnode recover on a directory that holds no node database refuses without writing there: a
// mistyped --data-dir (the node's folder instead of its data dir, a typo) must not gain a database.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recoverCommand } from '../../src/cli/cmds/recover.js'

let dir: string | undefined
after(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

const run = async (dataDir: string): Promise<unknown> =>
  await (recoverCommand.handler as (a: { dataDir: string, force: boolean, dryRun: boolean }) => Promise<void>)({ dataDir, force: true, dryRun: false }).then(() => undefined, (err: Error) => err)

test('recover refuses a folder that is no data dir, and leaves it as it was', async () => {
  dir = await mkdtemp(join(tmpdir(), 'bftnode-recover-cmd-'))
  const err = await run(dir)
  assert.ok(err instanceof Error)
  assert.match(err.message, /no node (state|database)/)
  assert.deepEqual(await readdir(dir), [])
})

test('recover refuses a path that does not exist, and does not create it', async () => {
  dir ??= await mkdtemp(join(tmpdir(), 'bftnode-recover-cmd-'))
  const missing = join(dir, 'no-such-node', 'data')
  const err = await run(missing)
  assert.ok(err instanceof Error)
  await assert.rejects(stat(join(dir, 'no-such-node')), { code: 'ENOENT' })
})
