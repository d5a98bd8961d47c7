// `bftnode start`: run a node. With no flags at all it runs a single-validator development network
// in the default data dir (created on first use, with a funded `dev` wallet account), so a person
// can try everything at once; with --config (see `bftnode testnet init`) it joins a real network.

import { access, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from '@noble/ciphers/utils.js'
import { fromHex, toHex } from '../../core/crypto/hash.js'
import { nobleScheme } from '../../core/crypto/noble.js'
import { makeGenesis } from '../../core/ledger/genesis.js'
import { openKey, parseKeyFile, sealKey } from '../../client/keyfile.js'
import type { NodeConfig } from '../../node/config.js'
import { shownConfig } from '../../node/config-sources.js'
import { genesisToJson, readGenesisFile } from '../../node/genesis-file.js'
import { createLogger } from '../../node/log.js'
import { BftError } from '../../core/errors.js'
import { peerIdForSeed } from '../../net/peer-id.js'
import { BFTNODE_HOME, passphraseFor, say, UsageError, wallet } from '../context.js'
import type { CliCommand, GlobalArgs } from '../context.js'
import { replaceFile, writeNewFile } from '../durable-file.js'
import { nodeFlags, resolveNodeConfig } from '../node-options.js'
import type { NodeArgs } from '../node-options.js'
import { requestStop, stopOnSignal } from '../lifecycle.js'
import type { StopControl, StopRequested } from '../lifecycle.js'

type StartArgs = NodeArgs

const exists = async (p: string): Promise<boolean> => await access(p).then(() => true, () => false)

/** What `bftnode join` changes: an observer has its own data dir and ports, and starts from a checkpoint. */
const JOIN_DEFAULTS: Partial<NodeConfig> = { dataDir: join(BFTNODE_HOME, 'observer'), listen: ['/ip4/127.0.0.1/tcp/0'], apiPort: 7300, join: true }

/** A node key file, encrypted when there is a passphrase; never replaces an existing key. */
async function writeNodeKey (path: string, name: string, seed: Uint8Array, passphrase: string | undefined): Promise<void> {
  const text = JSON.stringify(await sealKey(name, seed, passphrase), null, 2) + '\n'
  if (!await writeNewFile(path, text)) throw new UsageError(`${path} already exists; not replacing a node key`)
}

/**
 * First run of `bftnode start` with no flags: a one-validator network of this machine's own.
 * `keyNamed`: the key file was named by the operator (flag, variable), not the data dir's default.
 */
async function ensureDevNetwork (config: NodeConfig, g: GlobalArgs, keyNamed: boolean): Promise<void> {
  if (await exists(config.genesisFile)) return
  // a key the operator named is theirs (a validator's, say, with its genesis forgotten): never replaced
  if (keyNamed && await exists(config.keyFile)) {
    throw new UsageError(`no genesis file at ${config.genesisFile}, and ${config.keyFile} exists: not replacing it with a development network's key; pass --genesis (or --config) for the network this key belongs to`)
  }
  await mkdir(config.dataDir, { recursive: true })
  const nodeSeed = randomBytes(32)
  // a node key left by an interrupted first run would not be the validator this genesis names
  await replaceFile(config.keyFile, JSON.stringify(await sealKey('node', nodeSeed, config.passphrase), null, 2) + '\n')
  const w = wallet(g)
  const dev = await w.exists('dev') ? await w.load('dev') : await w.create('dev', undefined)
  const genesis = makeGenesis({
    network: `dev-${toHex(randomBytes(4))}`,
    validators: [nobleScheme.publicKeyOf(nodeSeed)],
    mintAuthority: fromHex(dev.publicKey),
    balances: [{ account: fromHex(dev.publicKey), amount: 1_000_000n }]
  })
  await replaceFile(config.genesisFile, JSON.stringify(genesisToJson(genesis), null, 2) + '\n', 0o644)
  say(`created a development network in ${config.dataDir}: one validator (this node) and a wallet account "dev" holding 1000000`)
  say(`  node key  ${config.keyFile}${config.passphrase === undefined ? ' (NOT encrypted; set BFTNODE_PASSPHRASE on first start to encrypt it)' : ' (encrypted with the passphrase given)'}`)
}

export const startCommand: CliCommand<StartArgs> = {
  command: 'start',
  describe: 'run a node (no flags: a single-validator development network in ' + join(BFTNODE_HOME, 'dev') + ')',
  examples: [
    ['bftnode start', 'development network on defaults'],
    ['bftnode start --config ./net/node1/config.json', 'one validator of a network made by `bftnode testnet init`'],
    ['bftnode start --genesis net/genesis.json --key node.key.json --bootstrap /ip4/127.0.0.1/tcp/7101/p2p/12D3...', 'by flags']
  ],
  options: nodeFlags(),
  ownEnv: true,
  handler: async (a) => { await runNode(a) }
}

/**
 * Runs a node until a signal: `start` and `join` both end here. A signal at any point, start-up
 * included, stops it cleanly and it returns (exit 0); a node that stops on its own (a failed disk
 * write) or cannot start throws (exit 1). See lifecycle.ts for the second signal and the grace period.
 */
export async function runNode (a: StartArgs & GlobalArgs, opts: NodeConfigOptions = {}): Promise<void> {
  const stop = stopOnSignal()
  // a child of `testnet start` or `demo` (it has their IPC channel) stops when they are gone
  if (process.send !== undefined) {
    if (!process.connected) requestStop('the parent process exited')
    else process.once('disconnect', () => requestStop('the parent process exited'))
  }
  try {
    await runUntilStopped(a, stop, opts)
  } catch (err) {
    // whatever a stop during start-up interrupted (a join, libp2p) fails with: not an error
    if (!stop.signal.aborted) throw err
    say(`stopped (${String((stop.signal.reason as StopRequested).signalName)}) before start-up finished`)
  }
}

type NodeConfigOptions = { defaults?: Partial<NodeConfig>, required?: ReadonlyArray<keyof NodeConfig> }

async function runUntilStopped (a: StartArgs & GlobalArgs, stop: StopControl, opts: NodeConfigOptions): Promise<void> {
  const resolved = await resolveNodeConfig(a, opts)
  const config = resolved.config
  // no config file and no genesis from anywhere: the development network of this machine
  const dev = resolved.configFile === undefined && resolved.sources.genesisFile === 'default' && !config.join
  if (dev) await ensureDevNetwork(config, a, resolved.sources.keyFile !== 'default')
  else if (config.join) await ensureNodeKey(config)
  const log = createLogger({ level: config.logLevel, format: config.logFormat, ...(config.logFile === undefined ? {} : { file: config.logFile }) })
  log.debug('config', { ...Object.fromEntries(shownConfig(resolved).map(o => [o.name, o.value])), from: Object.fromEntries(shownConfig(resolved).filter(o => o.source !== 'default').map(o => [o.name, o.source])) })
  stop.report(msg => log.info(msg))
  // the node, libp2p and the API load here, not with the CLI: every other command starts faster
  const [{ BftNode }, { startApi }] = await Promise.all([import('../../node/node.js'), import('../../api/server.js')])
  const started = performance.now()
  const genesis = await readGenesisFile(config.genesisFile)
  let keyText: string
  try { keyText = await readFile(config.keyFile, 'utf8') } catch (err) { throw new UsageError(`cannot read the node key file ${config.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`) }
  const keyFile = parseKeyFile(keyText, `node key file ${config.keyFile}`)
  // a prompt for the passphrase must not outlast a stop
  const passphrase = keyFile.encrypted === undefined ? undefined : config.passphrase ?? await stop.unlessStopped(passphraseFor(a, config.keyFile))
  const seed = await openKey(keyFile, passphrase, `node key file ${config.keyFile}`)
  stop.throwIfStopping()
  const node = await BftNode.start(config, genesis, seed, log, { signal: stop.signal }).catch(err => { throw portError(err, 'libp2p', config.listen.join(', ')) })
  let apiServer
  try {
    stop.throwIfStopping()
    apiServer = await startApi(node, config.apiHost, config.apiPort, { log, cors: config.apiCors, token: config.apiToken })
  } catch (err) {
    await node.stop()
    throw portError(err, 'API', `${config.apiHost}:${config.apiPort}`)
  }
  const peerId = await peerIdForSeed(seed)
  const ready = {
    ms: Math.round(performance.now() - started),
    role: node.replica.isValidator ? 'validator' : 'observer',
    network: genesis.network,
    validators: node.replica.validators.length,
    quorum: node.replica.quorum,
    dataDir: config.dataDir,
    api: `http://${config.apiHost}:${apiServer.port}`,
    p2p: node.addresses().map(addr => addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`)
  }
  // in JSON mode the banner is a record like any other, for log shippers; as text, a person reads it
  log.info('ready', ready)
  if (config.logFormat === 'text') {
    say(`bftnode ready in ${ready.ms} ms: ${ready.role} of network "${ready.network}" (${ready.validators} validator(s), quorum ${ready.quorum})`)
    say(`  data dir  ${ready.dataDir}`)
    say(`  API       ${ready.api}`)
    for (const addr of ready.p2p) say(`  p2p       ${addr}`)
    if (dev) say('  add peers: start another node with --bootstrap <p2p address above> and the same genesis; a real network: `bftnode testnet init --help`')
  }
  // run until a signal, or until the node stops on its own
  const ended = await Promise.race([stop.requested.then(() => undefined), node.halted])
  await apiServer.close()
  await node.stop()
  log.info('stopped')
  await log.close()
  if (ended !== undefined) throw new NodeHaltedError(`the node stopped: ${ended.message}`)
}

/** A joining observer needs a key of its own (not a validator's): made on first use. */
async function ensureNodeKey (config: NodeConfig): Promise<void> {
  if (await exists(config.keyFile)) return
  await mkdir(config.dataDir, { recursive: true })
  await writeNodeKey(config.keyFile, 'node', randomBytes(32), config.passphrase)
  say(`created an observer key in ${config.keyFile}${config.passphrase === undefined ? ' (NOT encrypted)' : ' (encrypted)'}`)
}

export const joinCommand: CliCommand<StartArgs> = {
  command: 'join',
  describe: 'start an observer node with no state: it downloads and verifies the latest certified checkpoint from peers, then follows the network',
  examples: [
    ['bftnode join --genesis net/genesis.json --bootstrap /ip4/127.0.0.1/tcp/7101/p2p/12D3... --data-dir ./observer', 'join a running network'],
    ['bftnode join --genesis net/genesis.json --bootstrap <addr> --trusted-root 3fa1...', 'trust this checkpoint root rather than checking signatures']
  ],
  options: nodeFlags({ omit: ['join'], defaults: JOIN_DEFAULTS }),
  ownEnv: true,
  handler: async (a) => {
    await runNode(a, { defaults: JOIN_DEFAULTS, required: ['genesisFile', 'bootstrap'] })
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
