// Where and on what a run was measured: machine, Node, git commit, date.

import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { CLK_TCK } from './proc.js'

/** The project root (dist/bench/cluster/ is three levels below it). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

function git (...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

export function machine (): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    commit: git('rev-parse', 'HEAD') || 'unknown',
    branch: git('rev-parse', '--abbrev-ref', 'HEAD'),
    // tracked files changed since the commit: the figures are then not the commit's alone
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    node: process.version,
    platform: `${process.platform} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryMB: Math.round(totalmem() / 2 ** 20),
    loadavg: loadavg(),
    clkTck: CLK_TCK,
    argv: process.argv.slice(2)
  }
}
