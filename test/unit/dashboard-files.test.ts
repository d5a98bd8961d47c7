// Where the dashboard's static files are found: from the compiled module in dist/, from the
// sources, and from a copy of the package installed under node_modules (as `npm install` lays it
// out), whatever the working directory; and nowhere when the folder is missing.

import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { access, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { FILES, locateDashboardFiles } from '../../src/api/dashboard-files.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const STATIC = join(REPO, 'static', 'dashboard')

describe('locating the dashboard files', () => {
  test('from the compiled module and from the sources: the repository\'s static/dashboard', () => {
    assert.equal(locateDashboardFiles(), STATIC)
    assert.equal(locateDashboardFiles(pathToFileURL(join(REPO, 'src', 'api', 'dashboard-files.ts')).href), STATIC)
  })

  test('every file of the allow-list exists in static/dashboard', async () => {
    for (const name of Object.keys(FILES)) await access(join(STATIC, name))
  })

  test('from a package installed under node_modules, run from another directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bftnode-dashfiles-'))
    const cwd = process.cwd()
    try {
      const pkg = join(dir, 'app', 'node_modules', 'bftnode')
      await mkdir(join(pkg, 'dist', 'src', 'api'), { recursive: true })
      // the compiled module imports only node: built-ins, so a lone copy of it runs there
      await cp(fileURLToPath(new URL('../../src/api/dashboard-files.js', import.meta.url)), join(pkg, 'dist', 'src', 'api', 'dashboard-files.js'))
      await cp(STATIC, join(pkg, 'static', 'dashboard'), { recursive: true })
      await writeFile(join(pkg, 'package.json'), '{"name": "bftnode", "type": "module"}')
      // a folder of the same name above the package must not be taken for its own
      await cp(STATIC, join(dir, 'app', 'node_modules', 'static', 'dashboard'), { recursive: true })
      process.chdir(tmpdir())
      const installed = await import(pathToFileURL(join(pkg, 'dist', 'src', 'api', 'dashboard-files.js')).href) as { locateDashboardFiles: () => string | undefined }
      assert.equal(installed.locateDashboardFiles(), join(pkg, 'static', 'dashboard'))
      // without the folder nothing is found (and nothing outside the package is taken instead)
      await rm(join(pkg, 'static'), { recursive: true })
      assert.equal(installed.locateDashboardFiles(), undefined)
    } finally {
      process.chdir(cwd)
      await rm(dir, { recursive: true, force: true })
    }
  })
})
