// Free TCP ports on 127.0.0.1 for tests that run real listeners side by side.
//
// Test files run in parallel processes (scripts/test.js), and many tests pick a port well before
// anything listens on it (validators started later, a "dead" bootstrap address), so "free right
// now" is not enough: a port is handed out once per run. Within a process a set remembers them;
// across the processes of a run, a file per port in the directory BFTNODE_TEST_PORTS names
// (created with O_EXCL, so one process wins). Ports come from below Linux's ephemeral range
// (32768-60999), where the kernel never puts a listen(0) or an outgoing connection.

import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

const LOW = 20_000
const HIGH = 32_000
const given = new Set<number>()

function claim (port: number): boolean {
  if (given.has(port)) return false
  const shared = process.env.BFTNODE_TEST_PORTS
  if (shared !== undefined && shared !== '') {
    try {
      writeFileSync(join(shared, String(port)), `${process.pid}\n`, { flag: 'wx' })
    } catch {
      return false
    }
  }
  given.add(port)
  return true
}

async function canListen (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

export async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW))
    if (!given.has(port) && await canListen(port) && claim(port)) return port
  }
  throw new Error(`no free port found in ${LOW}-${HIGH - 1}`)
}

/** n consecutive free ports (for `testnet init --base-port`, which numbers them from there); returns the first. */
export async function freeRun (n: number): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - n))
    const run = Array.from({ length: n }, (_, i) => base + i)
    if (run.some(p => given.has(p))) continue
    if ((await Promise.all(run.map(canListen))).every(Boolean) && run.every(claim)) return base
  }
  throw new Error(`no ${n} consecutive free ports found in ${LOW}-${HIGH - 1}`)
}

export async function freePorts (n: number): Promise<number[]> {
  const out: number[] = []
  while (out.length < n) out.push(await freePort())
  return out
}

export async function waitFor (what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await Promise.resolve(check()).catch(() => false)) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}
