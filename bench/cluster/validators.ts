// A local network of n real `bftnode` validator processes on 127.0.0.1, as bench/node.ts starts
// them: `testnet init`, configs rewritten to free ports, each node started and waited for ("ready
// in", then a full mesh). Every child is stopped on any way out, a SIGINT and a crash included.

import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseJsonc } from 'jsonc-parser'
import { openKey, parseKeyFile } from '../../src/client/keyfile.js'
import { freePorts, waitFor } from '../../test/support/ports.js'
import { NodeApi } from './http.js'
import { TREASURY } from './accounts.js'

const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))
/** testnet init wants consecutive ports; they are rewritten to free ones before anything starts. */
const INIT_BASE_PORT = 40_000

const live = new Set<ChildProcess>()
// last resort: whatever ends this process, no validator outlives it
process.on('exit', () => { for (const c of live) c.kill('SIGKILL') })

export interface Validators {
  readonly n: number
  readonly dir: string
  readonly apis: NodeApi[]
  readonly pids: number[]
  readonly treasurySeed: Uint8Array
  readonly startMs: number
  /** Why the network is broken (a validator exited), or undefined. */
  broken (): string | undefined
  stop (): Promise<void>
}

async function cli (env: NodeJS.ProcessEnv, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, _out, e) => err === null ? resolve() : reject(new Error(`bftnode ${args.join(' ')}: ${e || err.message}`))))
}

/** Rewrites the configs to the given ports (each node bootstraps from all others) plus `extra`. */
async function place (net: string, n: number, ports: number[], apiPorts: number[], extra: Record<string, unknown>): Promise<string[]> {
  const paths = Array.from({ length: n }, (_, i) => join(net, `node${i + 1}`, 'config.json'))
  const configs = await Promise.all(paths.map(async p => parseJsonc(await readFile(p, 'utf8')) as Record<string, unknown>))
  // node i's peer id is in node (i+1)'s bootstrap list, at the port init gave node i
  const ids = configs.map((_, i) => n === 1 ? '' : (configs[(i + 1) % n]!.bootstrap as string[]).find(a => a.includes(`/tcp/${INIT_BASE_PORT + i}/`))!.split('/p2p/')[1]!)
  for (let i = 0; i < n; i++) {
    const c: Record<string, unknown> = { ...configs[i]!, mdns: false, ...extra }
    c.listen = [`/ip4/127.0.0.1/tcp/${ports[i]!}`]
    c.bootstrap = ports.flatMap((p, j) => j === i ? [] : [`/ip4/127.0.0.1/tcp/${p}/p2p/${ids[j]!}`])
    c.apiPort = apiPorts[i]
    await writeFile(paths[i]!, JSON.stringify(c, null, 2))
  }
  return paths
}

async function stopChild (c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) { live.delete(c); return }
  const gone = new Promise<void>(resolve => c.once('exit', () => resolve()))
  c.kill('SIGTERM')
  const killer = setTimeout(() => c.kill('SIGKILL'), 10_000)
  await gone
  clearTimeout(killer)
  live.delete(c)
}

export async function startValidators (n: number, o: { nodeConfig: Record<string, unknown>, nodeArgs: string[], logDir: string, keep: boolean, say: (line: string) => void }): Promise<Validators> {
  const dir = await mkdtemp(join(tmpdir(), 'bftnode-cluster-'))
  const env = { ...process.env, BFTNODE_HOME: join(dir, 'home'), BFTNODE_LOG_LEVEL: 'warn' }
  const net = join(dir, 'net')
  const children: ChildProcess[] = []
  let stopping = false
  let broken: string | undefined
  const stop = async (): Promise<void> => {
    stopping = true
    await Promise.all(children.map(stopChild))
    if (!o.keep) await rm(dir, { recursive: true, force: true })
    else o.say(`  kept the network in ${dir}`)
  }
  try {
    await cli(env, ['testnet', 'init', '--validators', String(n), '--dir', net, '--base-port', String(INIT_BASE_PORT), '--api-port', String(INIT_BASE_PORT + 1000), '--treasury', String(TREASURY)])
    const free = await freePorts(2 * n)
    const paths = await place(net, n, free.slice(0, n), free.slice(n), o.nodeConfig)
    const started = performance.now()
    await Promise.all(paths.map(async (path, i) => {
      const child = spawn(process.execPath, [...o.nodeArgs, BIN, 'start', '--config', path], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(child)
      live.add(child)
      const log = createWriteStream(join(o.logDir, `n${n}-node${i + 1}.log`))
      child.stdout!.pipe(log)
      child.stderr!.pipe(log)
      let tail = ''
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`node${i + 1} not ready after 120 s; see its log in ${o.logDir}`)), 120_000)
        child.stdout!.on('data', (b: Buffer) => {
          // the marker may straddle two chunks: keep a short tail of the previous one
          const text = tail + b.toString('utf8')
          tail = text.slice(-16)
          if (text.includes('ready in')) { clearTimeout(timer); resolve() }
        })
        child.once('exit', (code, signal) => {
          clearTimeout(timer)
          live.delete(child)
          if (!stopping) broken ??= `node${i + 1} exited (code ${String(code)}, signal ${String(signal)}); see ${o.logDir}`
          reject(new Error(broken ?? 'stopped'))
        })
      })
    }))
    const apis = free.slice(n).map(p => new NodeApi(p))
    await waitFor('a full mesh of validators', 120_000, async () => (await Promise.all(apis.map(async a => (await a.status()).validatorsConnected))).every(c => c === n - 1))
    const startMs = performance.now() - started
    const treasurySeed = await openKey(parseKeyFile(await readFile(join(dir, 'home', 'wallet', 'treasury.key.json'), 'utf8')), undefined)
    return {
      n,
      dir,
      apis,
      pids: children.map(c => c.pid!),
      treasurySeed,
      startMs,
      broken: () => broken,
      stop: async () => { for (const a of apis) a.close(); await stop() }
    }
  } catch (err) {
    await stop()
    throw err
  }
}
