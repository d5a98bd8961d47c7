// `bftnode testnet init` writes a whole local network: keys, genesis, one config per validator
// (each bootstrapping from the others) and a funded `treasury` wallet account. `bftnode testnet
// start` runs all its validators as child processes with prefixed logs; Ctrl-C stops them, and one
// that stops on its own stops them all (exit 1, naming it and its log).

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { access, mkdir, readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from '@noble/ciphers/utils.js'
import { BftError } from '../../core/errors.js'
import { fromHex } from '../../core/crypto/hash.js'
import { nobleScheme } from '../../core/crypto/noble.js'
import { FAULT_MODELS, faultsTolerated, makeGenesis, quorumSize } from '../../core/ledger/genesis.js'
import type { FaultModel } from '../../core/ledger/genesis.js'
import { ALGORITHMS } from '../../core/algorithm/algorithm.js'
import type { AlgorithmName } from '../../core/algorithm/algorithm.js'
import { parseKeyFile, sealKey } from '../../client/keyfile.js'
import { renderConfigFile } from '../../node/config-file.js'
import type { NodeConfig } from '../../node/config.js'
import { genesisToJson } from '../../node/genesis-file.js'
import { peerIdForSeed } from '../../net/peer-id.js'
import { parseAmount, passphraseFor, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { replaceFile } from '../durable-file.js'
import { STOP_GRACE_MS, stopOnSignal } from '../lifecycle.js'
import { toleranceText } from './validator.js'

interface InitArgs {
  validators: number
  dir: string
  basePort: number
  apiPort: number
  network: string
  treasury: string
  force: boolean
  /** The genesis's fault model (docs/faults.md); absent: byzantine. */
  faults?: string
  /** Encrypts the node keys and the treasury key with this passphrase; absent: clear text. */
  passphrase?: string
  /** The replicated algorithm: the ledger (default) or an observed-remove set. */
  algorithm?: AlgorithmName
  /** A set network's writers besides the treasury: wallet accounts, made if missing (comma-separated names). */
  writers?: string
}

/** What a validator's config file sets; every other option is written commented out at its default. */
function nodeConfigText (i: number, set: Partial<NodeConfig>, network: string): string {
  return renderConfigFile(set, [
    `bftnode config of node${i + 1}, a validator of network "${network}", written by \`bftnode testnet init\`.`,
    'JSON with comments. Every option is listed with its meaning: the ones this node needs are set, the others are commented out at their defaults.',
    'Relative paths are relative to this file. BFTNODE_* variables and flags override what is here; `bftnode config show --config <this file>` prints the result and where each value came from.'
  ])
}

export async function initTestnet (a: InitArgs & { walletDir: string }, out: (line: string) => void = say): Promise<{ dir: string, nodes: number }> {
  if (!Number.isInteger(a.validators) || a.validators < 1 || a.validators > 64) throw new UsageError('--validators must be between 1 and 64')
  // every node's ports must be real ones, and no p2p port may be another node's API port
  for (const [flag, base] of [['--base-port', a.basePort], ['--api-port', a.apiPort]] as const) {
    if (!Number.isInteger(base) || base < 1 || base + a.validators - 1 > 65535) throw new UsageError(`${flag} must be a whole number from 1 to ${65536 - a.validators} (node i uses ${flag}+i-1), got ${String(base)}`)
  }
  if (a.basePort < a.apiPort + a.validators && a.apiPort < a.basePort + a.validators) throw new UsageError(`--base-port ${a.basePort} and --api-port ${a.apiPort} overlap for ${a.validators} validators`)
  const faults = (a.faults ?? 'byzantine') as FaultModel
  if (!FAULT_MODELS.includes(faults)) throw new UsageError(`--faults must be ${FAULT_MODELS.join(' or ')}, got "${String(a.faults)}"`)
  const dir = resolve(a.dir)
  if (!a.force && await access(join(dir, 'genesis.json')).then(() => true, () => false)) throw new UsageError(`${dir} already holds a network; pass --force to overwrite it`)
  const seeds = Array.from({ length: a.validators }, () => randomBytes(32))
  const peerIds = await Promise.all(seeds.map(peerIdForSeed))
  const w = wallet(a)
  const treasury = await w.exists('treasury') ? await w.load('treasury') : await w.create('treasury', a.passphrase)
  const algorithm = a.algorithm ?? 'ledger'
  if (!ALGORITHMS.includes(algorithm)) throw new UsageError(`--algorithm must be one of ${ALGORITHMS.join(', ')}`)
  const writerNames = (a.writers ?? '').split(',').map(n => n.trim()).filter(n => n !== '' && n !== 'treasury')
  if (writerNames.length > 0 && algorithm === 'ledger') throw new UsageError('--writers names the writers of a set network: use it with --algorithm orset')
  // a set network's writers are the accounts the genesis allocates to: one unit each marks them
  const names = [...new Set(writerNames)]
  const writers = await Promise.all(names.map(async n => await w.exists(n) ? await w.load(n) : await w.create(n, a.passphrase)))
  const genesis = makeGenesis({
    network: a.network,
    algorithm,
    validators: seeds.map(s => nobleScheme.publicKeyOf(s)),
    mintAuthority: fromHex(treasury.publicKey),
    balances: [{ account: fromHex(treasury.publicKey), amount: parseAmount(a.treasury, '--treasury') }, ...writers.map(k => ({ account: fromHex(k.publicKey), amount: 1n }))],
    // the default stays out of the file (and the network id)
    ...(faults === 'byzantine' ? {} : { faults })
  })
  await mkdir(dir, { recursive: true })
  await replaceFile(join(dir, 'genesis.json'), JSON.stringify(genesisToJson(genesis), null, 2) + '\n', 0o644)
  const addr = (i: number): string => `/ip4/127.0.0.1/tcp/${a.basePort + i}/p2p/${peerIds[i]!}`
  for (let i = 0; i < a.validators; i++) {
    const nodeDir = join(dir, `node${i + 1}`)
    await mkdir(nodeDir, { recursive: true })
    await replaceFile(join(nodeDir, 'node-key.json'), JSON.stringify(await sealKey(`node${i + 1}`, seeds[i]!, a.passphrase), null, 2) + '\n')
    const config: Partial<NodeConfig> = {
      dataDir: 'data',
      genesisFile: '../genesis.json',
      keyFile: 'node-key.json',
      listen: [`/ip4/127.0.0.1/tcp/${a.basePort + i}`],
      bootstrap: seeds.map((_, j) => j).filter(j => j !== i).map(addr),
      mdns: false,
      apiPort: a.apiPort + i
    }
    await replaceFile(join(nodeDir, 'config.json'), nodeConfigText(i, config, a.network), 0o644)
  }
  out(`network "${a.network}" in ${dir}: ${a.validators} validator(s), quorum ${quorumSize(a.validators, faults)} (${toleranceText(faultsTolerated(a.validators, faults), faults)})`)
  out(`  genesis   ${join(dir, 'genesis.json')}`)
  for (let i = 0; i < a.validators; i++) out(`  node${i + 1}     ${join(dir, `node${i + 1}`, 'config.json')}  (p2p ${a.basePort + i}, API ${a.apiPort + i})`)
  out(`  keys      ${a.passphrase === undefined ? 'node keys NOT encrypted (a test network; --encrypt encrypts them)' : 'node keys encrypted: start the nodes with BFTNODE_PASSPHRASE set, or type the passphrase'}`)
  out(`  treasury  wallet account "treasury" (${treasury.publicKey.slice(0, 16)}...) holds ${a.treasury} and may mint; key file in ${w.dir}${treasury.encrypted === undefined ? ' (NOT encrypted: a test network)' : ' (encrypted)'}`)
  if (algorithm !== 'ledger') out(`  algorithm ${algorithm}: writers ${['treasury', ...names].join(', ')} (\`bftnode set add <element> --name <writer>\`, docs/set.md)`)
  out(`start all validators with \`bftnode testnet start --dir ${a.dir}\`; the CLI talks to node1's API (${a.apiPort}) by default`)
  return { dir, nodes: a.validators }
}

/** The `bftnode` entry point, to run children with the same Node and code as this process. */
export function binPath (): string {
  return fileURLToPath(new URL('../../../../bin/bftnode.js', import.meta.url))
}

/**
 * Runs `bftnode start --config <config>` with its output prefixed by `name`, and copied to
 * `logFile` if given. The child gets an IPC channel only so it notices when this process is gone
 * (it then stops itself: see runNode): a supervisor killed with SIGKILL leaves no orphan nodes.
 */
export function startChild (config: string, name: string, extraEnv: Record<string, string> = {}, logFile?: string): ChildProcess {
  const child = spawn(process.execPath, [binPath(), 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ...extraEnv } })
  child.channel?.unref()
  const file = logFile === undefined ? undefined : createWriteStream(logFile, { flags: 'a' })
  file?.on('error', () => {}) // the log copy is a convenience: never a reason to fail
  const prefix = (chunk: Buffer, out: NodeJS.WriteStream): void => {
    file?.write(chunk)
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') out.write(`[${name}] ${line}\n`)
  }
  child.stdout?.on('data', (c: Buffer) => prefix(c, process.stdout))
  child.stderr?.on('data', (c: Buffer) => prefix(c, process.stderr))
  child.once('close', () => file?.end())
  return child
}

export async function stopChildren (children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map(async c => {
    if (c.exitCode !== null || c.signalCode !== null) return
    await new Promise<void>(resolve => {
      const force = setTimeout(() => c.kill('SIGKILL'), CHILD_STOP_MS)
      c.once('exit', () => { clearTimeout(force); resolve() })
      c.kill('SIGTERM')
    })
  }))
}

/** Encrypted node keys: the children cannot ask (no terminal), so one passphrase is asked here and handed down. */
async function childPassphrase (keyFiles: readonly string[], g: GlobalArgs): Promise<Record<string, string>> {
  if (process.env.BFTNODE_PASSPHRASE !== undefined) return {}
  const encrypted = await Promise.all(keyFiles.map(async f => await readFile(f, 'utf8').then(t => parseKeyFile(t, f).encrypted !== undefined, () => false)))
  if (!encrypted.some(Boolean)) return {}
  const pass = await passphraseFor(g, 'the node keys')
  return pass === undefined ? {} : { BFTNODE_PASSPHRASE: pass }
}

/** How long a child node gets to stop before SIGKILL: within this process's own grace period. */
const CHILD_STOP_MS = STOP_GRACE_MS - 2000

/** The last lines a node wrote, to show with the news that it died. */
function tail (child: ChildProcess, lines: number): () => string[] {
  const kept: string[] = []
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') kept.push(line)
    kept.splice(0, kept.length - lines)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return () => kept
}

/** A node of the test network stopped on its own: the whole network is stopped and the command fails. */
export class NodeDiedError extends BftError {
  readonly code = 'ERR_NODE_DIED'
}

export const testnetStartCommand: CliCommand<{ dir: string }> = {
  command: 'start',
  describe: 'run every validator of a test network as a child process (logs prefixed, and in <dir>/nodeN/bftnode.log); Ctrl-C stops them. If one stops on its own, all are stopped and the command exits 1',
  examples: [['bftnode testnet start --dir ./net', 'after `bftnode testnet init`']],
  options: { dir: { type: 'string', default: './net', describe: 'the network directory' } },
  handler: async (a) => {
    const stop = stopOnSignal()
    const dir = resolve(a.dir)
    const nodes = (await readdir(dir).catch(() => { throw new UsageError(`no network in ${dir}; create one with \`bftnode testnet init\``) }))
      .filter(n => /^node[0-9]+$/.test(n)).sort((x, y) => Number(x.slice(4)) - Number(y.slice(4)))
    if (nodes.length === 0) throw new UsageError(`no node directories in ${dir}`)
    stop.throwIfStopping()
    // a prompt for the passphrase must not outlast a stop (Ctrl-C at it ends the command, exit 0)
    const env = await stop.unlessStopped(childPassphrase(nodes.map(n => join(dir, n, 'node-key.json')), a as unknown as GlobalArgs))
    stop.throwIfStopping()
    const logs = nodes.map(n => join(dir, n, 'bftnode.log'))
    const children = nodes.map((n, i) => startChild(join(dir, n, 'config.json'), n, env, logs[i]))
    const tails = children.map(c => tail(c, 15))
    say(`started ${nodes.length} node(s); logs in ${join(dir, 'node*', 'bftnode.log')}; Ctrl-C stops them`)
    // the first node to stop on its own, if any, before a stop is asked for
    const died = new Promise<number>(resolve => children.forEach((c, i) => c.once('close', () => resolve(i))))
    const which = await Promise.race([stop.requested.then(() => undefined), died])
    if (which === undefined) {
      say('stopping all nodes...')
      await stopChildren(children)
      return
    }
    const c = children[which]!
    const how = c.signalCode !== null ? `was killed by ${c.signalCode}` : `exited with code ${c.exitCode ?? '?'}`
    process.stderr.write(`[${nodes[which]!}] last lines of its log:\n${tails[which]!().map(l => `  ${l}`).join('\n')}\n`)
    say('stopping the other nodes...')
    await stopChildren(children)
    throw new NodeDiedError(`${nodes[which]!} ${how}; the test network is stopped (its log: ${logs[which]!})`)
  }
}

export const testnetCommand: CliCommand = {
  command: 'testnet',
  describe: 'create and run a local test network',
  subcommands: [
    {
      command: 'init',
      describe: 'write keys, genesis and one config per validator, and a funded treasury wallet account',
      examples: [
        ['bftnode testnet init --validators 4 --dir ./net', 'four validators on 127.0.0.1 ports 7100-7103, APIs 7200-7203'],
        ['bftnode testnet init --validators 5 --faults crash', 'crash-only: quorum 3 of 5, any 2 may be down, none may lie'],
        ['bftnode testnet init --algorithm orset --writers alice,bob --dir ./setnet', 'a set network written by treasury, alice and bob']
      ],
      options: {
        validators: { type: 'number', default: 4, describe: 'how many validators (1-64)' },
        dir: { type: 'string', default: './net', describe: 'where to write the network' },
        'base-port': { type: 'number', default: 7100, describe: 'libp2p port of node1; node i uses basePort+i-1' },
        'api-port': { type: 'number', default: 7200, describe: 'API port of node1; node i uses apiPort+i-1' },
        network: { type: 'string', default: 'testnet', describe: 'network name (part of the network id)' },
        treasury: { type: 'string', default: '1000000', describe: 'starting balance of the treasury account' },
        force: { type: 'boolean', default: false, describe: 'overwrite an existing network in --dir' },
        faults: { type: 'string', default: 'byzantine', describe: 'the fault model, fixed for the network\'s life: byzantine (tolerates f = floor((n-1)/3) lying validators) or crash (majority quorums, tolerates floor((n-1)/2) crashed validators and no lying one; docs/faults.md)' },
        encrypt: { type: 'boolean', default: false, describe: 'encrypt the node keys and the treasury key with a passphrase (--passphrase, BFTNODE_PASSPHRASE or asked for)' },
        algorithm: { type: 'string', default: 'ledger', choices: [...ALGORITHMS], describe: 'what the network replicates: the ledger (payments, contracts) or an observed-remove set (orset, docs/set.md)' },
        writers: { type: 'string', describe: 'with --algorithm orset: wallet accounts that may write besides the treasury, comma-separated (made if missing)' }
      },
      handler: async (a: Record<string, unknown> & GlobalArgs) => {
        const passphrase = a.encrypt === true ? await passphraseFor(a, 'the network\'s keys', true) : undefined
        await initTestnet({ ...a as unknown as InitArgs & { walletDir: string }, passphrase })
      }
    },
    testnetStartCommand
  ]
}
