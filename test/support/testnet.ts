// What e2e tests with real `bftnode` processes share: the CLI runner, waiting for a value, and a
// `testnet init` network rewritten to the free ports the test picked.

import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseJsonc } from 'jsonc-parser'
import { waitFor } from './ports.js'

export const BIN = fileURLToPath(new URL('../../../bin/bftnode.js', import.meta.url))

export interface CliRun { code: number, out: string, err: string }

/** Runs `bftnode <args>` to its end. */
export async function runCli (env: NodeJS.ProcessEnv, cwd: string, args: readonly string[]): Promise<CliRun> {
  return await new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { env, cwd, timeout: 60_000 }, (err, out, errOut) => {
      resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : 1), out, err: errOut })
    })
  })
}

/** Waits for `get` to return something, and returns it. */
export async function until<T> (what: string, ms: number, get: () => Promise<T | undefined>): Promise<T> {
  let value: T | undefined
  await waitFor(what, ms, async () => { value = await get(); return value !== undefined })
  return value!
}

/**
 * Rewrites the configs `testnet init --dir <net> --base-port <ports[0]>` wrote so validator i
 * listens on ports[i] (the ports need not be consecutive), bootstraps from the others, serves its
 * API on apiPorts[i], and takes `extra` fields. Returns the config paths.
 */
export async function placeTestnet (net: string, ports: readonly number[], apiPorts: readonly number[], extra: Record<string, unknown> = {}): Promise<string[]> {
  const paths = ports.map((_, i) => join(net, `node${i + 1}`, 'config.json'))
  const configs = await Promise.all(paths.map(async p => parseJsonc(await readFile(p, 'utf8')) as Record<string, unknown>))
  // each config bootstraps from the others: node i's peer id appears in node (i+1)'s list
  const ids = configs.map((_, i) => (configs[(i + 1) % configs.length]!.bootstrap as string[]).find(a => a.includes(`/tcp/${ports[0]! + i}/`))!.split('/p2p/')[1]!)
  for (let i = 0; i < configs.length; i++) {
    const c = { ...configs[i]!, ...extra }
    c.listen = [`/ip4/127.0.0.1/tcp/${ports[i]!}`]
    c.bootstrap = ports.flatMap((p, j) => j === i ? [] : [`/ip4/127.0.0.1/tcp/${p}/p2p/${ids[j]!}`])
    c.apiPort = apiPorts[i]
    c.mdns = false
    await writeFile(paths[i]!, JSON.stringify(c, null, 2))
  }
  return paths
}
