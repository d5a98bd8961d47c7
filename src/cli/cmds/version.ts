// `bftnode version` (and `bftnode --version`): the package version, the git commit the build came
// from (dist/build-info.json, written by `npm run build`), and the Node.js running it. An operator
// pastes this into a bug report, so it never fails: what it cannot find it calls "unknown".

import { readFile } from 'node:fs/promises'
import { say } from '../context.js'
import type { CliCommand } from '../context.js'

export interface VersionInfo {
  version: string
  commit: string
  dirty: boolean
  builtAt: string | undefined
  node: string
  platform: string
}

async function readJson (url: URL): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(url, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

export async function versionInfo (): Promise<VersionInfo> {
  // from dist/src/cli/cmds/: the package root is four levels up, dist/ three
  const pkg = await readJson(new URL('../../../../package.json', import.meta.url))
  const build = await readJson(new URL('../../../build-info.json', import.meta.url))
  return {
    version: typeof pkg?.version === 'string' ? pkg.version : 'unknown',
    commit: typeof build?.commit === 'string' ? build.commit : 'unknown',
    dirty: build?.dirty === true,
    builtAt: typeof build?.builtAt === 'string' ? build.builtAt : undefined,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`
  }
}

export const versionCommand: CliCommand<{ json: boolean }> = {
  command: 'version',
  describe: 'print the bftnode version, the git commit it was built from and the Node.js version (also: bftnode --version)',
  examples: [['bftnode version --json', 'the same as one JSON object']],
  options: { json: { type: 'boolean', default: false, describe: 'print JSON' } },
  handler: async (a) => {
    const v = await versionInfo()
    if (a.json) { say(JSON.stringify(v)); return }
    const built = v.builtAt === undefined ? 'no build info: build with `npm run build`' : `built ${v.builtAt}${v.dirty ? ', with uncommitted changes' : ''}`
    say(`bftnode ${v.version}`)
    say(`commit  ${v.commit} (${built})`)
    say(`node    v${v.node} (${v.platform})`)
  }
}
