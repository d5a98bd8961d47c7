// `bftnode start`: run a node. With no flags at all it runs a single-validator development network
// in the default data dir (created on first use, with a funded `dev` wallet account), so a person
// can try everything at once; with --config (see `bftnode testnet init`) it joins a real network.

import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from '@noble/ciphers/utils.js'
import { fromHex, toHex } from '../../core/crypto/hash.js'
import { nobleScheme } from '../../core/crypto/noble.js'
import { makeGenesis } from '../../core/ledger/genesis.js'
import { openKey, parseKeyFile, sealKey } from '../../client/keyfile.js'
import { startApi } from '../../api/server.js'
import { checkConfig, DEFAULT_DATA_DIR, defaultConfig, loadConfigFile } from '../../node/config.js'
import type { NodeConfig } from '../../node/config.js'
import { genesisToJson, readGenesisFile } from '../../node/genesis-file.js'
import { createLogger } from '../../node/log.js'
import { BftNode } from '../../node/node.js'
import { BftError } from '../../core/errors.js'
import { peerIdForSeed } from '../../net/network.js'
import { BFTNODE_HOME, passphraseFor, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { requestStop, stopOnSignal } from '../lifecycle.js'
import type { StopControl, StopRequested } from '../lifecycle.js'

interface StartArgs {
  config?: string
  dataDir?: string
  genesis?: string
  key?: string
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  apiHost?: string
  apiPort?: number
  logLevel?: string
  logFormat?: string
  checkpointInterval?: number
  checkpointRetain?: number
  trustedRoot?: string
  join?: boolean
  resumeVoting?: boolean
}

const exists = async (p: string): Promise<boolean> => await access(p).then(() => true, () => false)

/** Flags and BFTNODE_* variables (yargs maps both) over the config file over the defaults. */
async function resolveConfig (a: StartArgs): Promise<{ config: NodeConfig, dev: boolean }> {
  const fromFile = a.config === undefined ? {} : await loadConfigFile(a.config)
  const dataDir = a.dataDir ?? fromFile.dataDir ?? DEFAULT_DATA_DIR
  const flags = checkConfig(Object.fromEntries(Object.entries({
    genesisFile: a.genesis, keyFile: a.key, listen: a.listen, bootstrap: a.bootstrap, mdns: a.mdns,
    apiHost: a.apiHost, apiPort: a.apiPort, logLevel: a.logLevel, logFormat: a.logFormat,
    checkpointInterval: a.checkpointInterval, checkpointRetain: a.checkpointRetain, trustedRoot: a.trustedRoot, join: a.join, resumeVoting: a.resumeVoting
  }).filter(([, v]) => v !== undefined)), 'flags', process.cwd())
  const config = { ...defaultConfig(dataDir), ...fromFile, ...flags, dataDir }
  const dev = a.config === undefined && a.genesis === undefined
  return { config, dev }
}

/** First run of `bftnode start` with no flags: a one-validator network of this machine's own. */
async function ensureDevNetwork (config: NodeConfig, g: GlobalArgs): Promise<void> {
  if (await exists(config.genesisFile)) return
  await mkdir(config.dataDir, { recursive: true })
  const nodeSeed = randomBytes(32)
  const nodeKey = await sealKey('node', nodeSeed, undefined)
  await writeFile(config.keyFile, JSON.stringify(nodeKey, null, 2) + '\n', { mode: 0o600 })
  const w = wallet(g)
  const dev = await w.exists('dev') ? await w.load('dev') : await w.create('dev', undefined)
  const genesis = makeGenesis({
    network: `dev-${toHex(randomBytes(4))}`,
    validators: [nobleScheme.publicKeyOf(nodeSeed)],
    mintAuthority: fromHex(dev.publicKey),
    balances: [{ account: fromHex(dev.publicKey), amount: 1_000_000n }]
  })
  await writeFile(config.genesisFile, JSON.stringify(genesisToJson(genesis), null, 2) + '\n')
  say(`created a development network in ${config.dataDir}: one validator (this node) and a wallet account "dev" holding 1000000`)
}

export const startCommand: CliCommand<StartArgs> = {
  command: 'start',
  describe: 'run a node (no flags: a single-validator development network in ' + join(BFTNODE_HOME, 'dev') + ')',
  examples: [
    ['bftnode start', 'development network on defaults'],
    ['bftnode start --config ./net/node1/config.json', 'one validator of a network made by `bftnode testnet init`'],
    ['bftnode start --genesis net/genesis.json --key node.key.json --bootstrap /ip4/127.0.0.1/tcp/7101/p2p/12D3...', 'by flags']
  ],
  options: {
    config: { type: 'string', describe: 'JSON config file (options below; paths relative to the file)' },
    'data-dir': { type: 'string', describe: `data dir (LevelDB, node key); default ${DEFAULT_DATA_DIR}` },
    genesis: { type: 'string', describe: 'genesis file of the network' },
    key: { type: 'string', describe: 'the node key file (a validator uses the key genesis lists)' },
    listen: { type: 'array', string: true, describe: 'libp2p listen multiaddrs (default /ip4/127.0.0.1/tcp/7100)' },
    bootstrap: { type: 'array', string: true, describe: 'multiaddrs of peers to dial' },
    mdns: { type: 'boolean', describe: 'find peers on the LAN (default on; --no-mdns to turn off)' },
    'api-host': { type: 'string', describe: 'address of the local API (default 127.0.0.1)' },
    'api-port': { type: 'number', describe: 'port of the local API (default 7200)' },
    'log-level': { type: 'string', describe: 'debug, info, warn or error, optionally per module: info,net=debug (default info)' },
    'log-format': { type: 'string', choices: ['text', 'json'], describe: 'default text' },
    'checkpoint-interval': { type: 'number', describe: 'delivered ops between the checkpoints a validator proposes (default 1000; 0: never)' },
    'checkpoint-retain': { type: 'number', describe: 'certified checkpoints of history kept behind the latest for lagging peers (default 2)' },
    join: { type: 'boolean', describe: 'with no state yet, download and verify the latest certified checkpoint from peers (observers do by default)' },
    'trusted-root': { type: 'string', describe: 'hex state root of a checkpoint to accept without checking its signatures' },
    'resume-voting': { type: 'boolean', describe: 'let a validator vote that joined a running network with a new data dir (only if its key never voted on this network: see docs/protocol.md)' }
  },
  handler: async (a) => { await runNode(a) }
}

/**
 * Runs a node until a signal: `start` and `join` both end here. A signal at any point, start-up
 * included, stops it cleanly and it returns (exit 0); a node that stops on its own (a failed disk
 * write) or cannot start throws (exit 1). See lifecycle.ts for the second signal and the grace period.
 */
export async function runNode (a: StartArgs & GlobalArgs): Promise<void> {
  const stop = stopOnSignal()
  // a child of `testnet start` or `demo` (it has their IPC channel) stops when they are gone
  if (process.send !== undefined) {
    if (!process.connected) requestStop('the parent process exited')
    else process.once('disconnect', () => requestStop('the parent process exited'))
  }
  try {
    await runUntilStopped(a, stop)
  } catch (err) {
    // whatever a stop during start-up interrupted (a join, libp2p) fails with: not an error
    if (!stop.signal.aborted) throw err
    say(`stopped (${String((stop.signal.reason as StopRequested).signalName)}) before start-up finished`)
  }
}

async function runUntilStopped (a: StartArgs & GlobalArgs, stop: StopControl): Promise<void> {
  const { config, dev } = await resolveConfig(a)
  if (dev) await ensureDevNetwork(config, a)
  else if (a.join === true) await ensureNodeKey(config)
  const log = createLogger({ level: config.logLevel, format: config.logFormat })
  stop.report(msg => log.info(msg))
  const started = performance.now()
  const genesis = await readGenesisFile(config.genesisFile)
  let keyText: string
  try { keyText = await readFile(config.keyFile, 'utf8') } catch { throw new UsageError(`cannot read the node key file ${config.keyFile}`) }
  const keyFile = parseKeyFile(keyText)
  // a prompt for the passphrase must not outlast a stop
  const passphrase = keyFile.encrypted === undefined ? undefined : config.passphrase ?? await stop.unlessStopped(passphraseFor(a, 'the node key'))
  const seed = await openKey(keyFile, passphrase)
  stop.throwIfStopping()
  const node = await BftNode.start(config, genesis, seed, log, { signal: stop.signal }).catch(err => { throw portError(err, 'libp2p', config.listen.join(', ')) })
  let apiServer
  try {
    stop.throwIfStopping()
    apiServer = await startApi(node, config.apiHost, config.apiPort)
  } catch (err) {
    await node.stop()
    throw portError(err, 'API', `${config.apiHost}:${config.apiPort}`)
  }
  const peerId = await peerIdForSeed(seed)
  log.info('ready', { ms: Math.round(performance.now() - started), role: node.replica.isValidator ? 'validator' : 'observer', network: genesis.network })
  say(`bftnode ready in ${Math.round(performance.now() - started)} ms: ${node.replica.isValidator ? 'validator' : 'observer'} of network "${genesis.network}" (${node.replica.validators.length} validator(s), quorum ${node.replica.quorum})`)
  say(`  data dir  ${config.dataDir}`)
  say(`  API       http://${config.apiHost}:${apiServer.port}`)
  for (const addr of node.addresses()) say(`  p2p       ${addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`}`)
  if (dev) say('  add peers: start another node with --bootstrap <p2p address above> and the same genesis; a real network: `bftnode testnet init --help`')
  // run until a signal, or until the node stops on its own
  const ended = await Promise.race([stop.requested.then(() => undefined), node.halted])
  await apiServer.close()
  await node.stop()
  log.info('stopped')
  if (ended !== undefined) throw new NodeHaltedError(`the node stopped: ${ended.message}`)
}

/** A joining observer needs a key of its own (not a validator's): made on first use. */
async function ensureNodeKey (config: NodeConfig): Promise<void> {
  if (await exists(config.keyFile)) return
  await mkdir(config.dataDir, { recursive: true })
  await writeFile(config.keyFile, JSON.stringify(await sealKey('node', randomBytes(32), undefined), null, 2) + '\n', { mode: 0o600 })
  say(`created an observer key in ${config.keyFile}`)
}

export const joinCommand: CliCommand<StartArgs> = {
  command: 'join',
  describe: 'start an observer node with no state: it downloads and verifies the latest certified checkpoint from peers, then follows the network',
  examples: [
    ['bftnode join --genesis net/genesis.json --bootstrap /ip4/127.0.0.1/tcp/7101/p2p/12D3... --data-dir ./observer', 'join a running network'],
    ['bftnode join --genesis net/genesis.json --bootstrap <addr> --trusted-root 3fa1...', 'trust this checkpoint root rather than checking signatures']
  ],
  options: {
    genesis: { type: 'string', demandOption: true, describe: 'genesis file of the network (its validators are who you trust)' },
    bootstrap: { type: 'array', string: true, demandOption: true, describe: 'multiaddr(s) of peers to dial' },
    'data-dir': { type: 'string', describe: `data dir (default ${join(BFTNODE_HOME, 'observer')})` },
    key: { type: 'string', describe: 'node key file (default: <data-dir>/node-key.json, made if missing)' },
    listen: { type: 'array', string: true, describe: 'libp2p listen multiaddrs (default /ip4/127.0.0.1/tcp/0: any free port)' },
    mdns: { type: 'boolean', describe: 'find peers on the LAN (default on)' },
    'api-host': { type: 'string', describe: 'address of the local API (default 127.0.0.1)' },
    'api-port': { type: 'number', describe: 'port of the local API (default 7300)' },
    'trusted-root': { type: 'string', describe: 'hex state root of a checkpoint to accept without checking its signatures' },
    'checkpoint-retain': { type: 'number', describe: 'certified checkpoints of history kept behind the latest (default 2)' },
    'log-level': { type: 'string', describe: 'debug, info, warn or error, optionally per module: info,net=debug (default info)' },
    'log-format': { type: 'string', choices: ['text', 'json'], describe: 'default text' }
  },
  handler: async (a) => {
    await runNode({ ...a, dataDir: a.dataDir ?? join(BFTNODE_HOME, 'observer'), listen: a.listen ?? ['/ip4/127.0.0.1/tcp/0'], apiPort: a.apiPort ?? 7300, join: true })
  }
}

/** The node stopped on its own while running (e.g. its disk failed): the process exits 1. */
export class NodeHaltedError extends BftError {
  readonly code = 'ERR_NODE_HALTED'
}

function portError (err: unknown, what: string, where: string): unknown {
  const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code
  const msg = (err as Error).message ?? ''
  if (code === 'EADDRINUSE' || msg.includes('EADDRINUSE')) return new UsageError(`the ${what} port is taken (${where}); is another node running? use another port`)
  return err
}
