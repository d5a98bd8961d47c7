// Run by `npm run build` after tsc: records the git commit the build came from in
// dist/build-info.json, for `bftnode version`. Outside a git checkout (a tarball, a Docker build
// context without .git) the commit is "unknown": this never fails the build.

import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function git (...args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

// BFTNODE_COMMIT lets a build without .git (e.g. `docker build --build-arg COMMIT=...`) say it
const given = process.env.BFTNODE_COMMIT || undefined
const commit = given ?? git('rev-parse', '--short', 'HEAD') ?? 'unknown'
const dirty = given === undefined && commit !== 'unknown' && (git('status', '--porcelain', '--untracked-files=no') ?? '') !== ''
const info = { commit, dirty, builtAt: new Date().toISOString() }
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true })
writeFileSync(new URL('../dist/build-info.json', import.meta.url), JSON.stringify(info, null, 2) + '\n')
