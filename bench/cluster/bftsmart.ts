// --with-bftsmart: the peer's own microbenchmark (../shared/peers/bftsmart/run.sh) run after
// ours, so both are measured in the same hour. It is only run when $BFTSMART points at a build
// (see that folder's README); this never builds it.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ROOT } from './meta.js'

export async function runBftsmart (out: string, say: (line: string) => void): Promise<{ skipped: string } | { results: unknown[] }> {
  const home = process.env.BFTSMART
  const peer = process.env.BFTSMART_PEER ?? resolve(ROOT, '../shared/peers/bftsmart')
  if (home === undefined || home === '') return { skipped: 'BFTSMART is not set (see ../shared/peers/bftsmart/README.md)' }
  if (!existsSync(join(home, 'cp.txt')) || !existsSync(join(home, 'bin'))) return { skipped: `${home} is not built (no cp.txt or bin/); build it with the peer's build.sh first` }
  if (!existsSync(join(peer, 'run.sh'))) return { skipped: `no run.sh in ${peer} (set BFTSMART_PEER)` }
  const dir = join(out, 'bftsmart')
  say(`BFT-SMaRt: ${join(peer, 'run.sh')} ${dir} single peak half`)
  const code = await new Promise<number>(resolve => {
    const child = spawn('bash', [join(peer, 'run.sh'), dir, 'single', 'peak', 'half'], { cwd: peer, env: process.env, stdio: ['ignore', 'inherit', 'inherit'] })
    // its own trap stops its replicas when it is told to end
    const stop = (): void => { child.kill('SIGTERM') }
    process.once('SIGINT', stop)
    child.on('exit', c => { process.off('SIGINT', stop); resolve(c ?? 1) })
  })
  const summary = await readFile(join(dir, 'summary.txt'), 'utf8').catch(() => '')
  const results = summary.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as unknown)
  if (code !== 0 && results.length === 0) return { skipped: `run.sh exited with ${code}; see ${dir}` }
  return { results }
}
