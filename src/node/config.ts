// Node configuration: the options a node runs with, their defaults, and loading a config file.
// Every option can come from the defaults, a JSON config file, BFTNODE_* environment variables or
// flags, merged in that order by the CLI. Values from files are untrusted: checked here.

import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { BftError } from '../core/errors.js'
import { readJsonFile } from './json-file.js'

export interface NodeConfig {
  /** Where LevelDB and the node key live. */
  dataDir: string
  /** The network's genesis file (JSON, see `bftnode testnet init`). */
  genesisFile: string
  /** The node's key file (validators: the key genesis lists). */
  keyFile: string
  /** Passphrase for an encrypted key file (prefer BFTNODE_PASSPHRASE). */
  passphrase?: string
  /** libp2p listen addresses. */
  listen: string[]
  /** Multiaddrs of peers to dial at start. */
  bootstrap: string[]
  /** Discover peers on the LAN. */
  mdns: boolean
  apiHost: string
  apiPort: number
  maxConnections: number
  /** Inbound messages per second allowed from one peer. */
  inboundRate: number
  /** Interval of the replica's clock (ms): batching, resends, anti-entropy. */
  tickMs: number
  /** The API answers 503 while the oldest op queued for a batch has waited longer than this (ms). */
  maxQueueDelayMs: number
  /** The API answers 503 while this many ops are on their way through this node (queued, or in batches not put off). */
  maxPendingOps: number
  /** Log level: one level for all modules, or per module after it (`info,net=debug`). */
  logLevel: string
  logFormat: 'text' | 'json'
  /** Also append logs, as JSON lines, to this file. */
  logFile?: string
  /** Interval of the one-line status log (ms; 0: none). */
  statusIntervalMs: number
  /** Serve Prometheus metrics at GET /metrics on the API port. */
  metrics: boolean
  /** Serve the live dashboard at /dashboard on the API port. */
  dashboard: boolean
  /** Origins a browser may call the API from (CORS): none by default, ["*"] for any. */
  apiCors: string[]
  /** When set, API requests (all but health and readiness) must carry `Authorization: Bearer <token>`; prefer BFTNODE_API_TOKEN. */
  apiToken?: string
  /** Delivered ops between checkpoints this validator proposes (0: never proposes). */
  checkpointInterval: number
  /** Certified checkpoints of history (certificates) kept behind the latest, for lagging peers. */
  checkpointRetain: number
  /** With no state yet, download the latest certified checkpoint from peers instead of replaying history. */
  join: boolean
  /** Hex root of a checkpoint to accept without checking its signatures (you vouch for it). */
  trustedRoot?: string
  /**
   * A validator that joined a running network with a new data dir does not vote (it cannot know
   * what it voted for before); set this once if its key never voted on this network.
   */
  resumeVoting: boolean
}

const LEVEL = '(debug|info|warn|error)'
const LOG_LEVEL_SPEC = new RegExp(`^(${LEVEL}|[a-z][a-z0-9-]*=${LEVEL})(,[a-z][a-z0-9-]*=${LEVEL})*$`)

export class ConfigError extends BftError {
  readonly code = 'ERR_CONFIG'
}

export const DEFAULT_DATA_DIR = join(process.env.BFTNODE_HOME ?? join(homedir(), '.bftnode'), 'dev')

export function defaultConfig (dataDir = DEFAULT_DATA_DIR): NodeConfig {
  return {
    dataDir,
    genesisFile: join(dataDir, 'genesis.json'),
    keyFile: join(dataDir, 'node-key.json'),
    listen: ['/ip4/127.0.0.1/tcp/7100'],
    bootstrap: [],
    mdns: true,
    apiHost: '127.0.0.1',
    apiPort: 7200,
    maxConnections: 64,
    inboundRate: 5000,
    tickMs: 5,
    maxQueueDelayMs: 1000,
    maxPendingOps: 20_000,
    logLevel: 'info',
    logFormat: 'text',
    statusIntervalMs: 10_000,
    metrics: true,
    dashboard: true,
    apiCors: [],
    checkpointInterval: 1000,
    checkpointRetain: 2,
    join: false,
    resumeVoting: false
  }
}

const KEYS: Record<keyof NodeConfig, 'string' | 'number' | 'boolean' | 'string[]'> = {
  dataDir: 'string',
  genesisFile: 'string',
  keyFile: 'string',
  passphrase: 'string',
  listen: 'string[]',
  bootstrap: 'string[]',
  mdns: 'boolean',
  apiHost: 'string',
  apiPort: 'number',
  maxConnections: 'number',
  inboundRate: 'number',
  tickMs: 'number',
  maxQueueDelayMs: 'number',
  maxPendingOps: 'number',
  logLevel: 'string',
  logFormat: 'string',
  logFile: 'string',
  statusIntervalMs: 'number',
  metrics: 'boolean',
  dashboard: 'boolean',
  apiCors: 'string[]',
  apiToken: 'string',
  checkpointInterval: 'number',
  checkpointRetain: 'number',
  join: 'boolean',
  trustedRoot: 'string',
  resumeVoting: 'boolean'
}

/** Checks a partial config from a file or the environment; paths are resolved against `base`. */
export function checkConfig (raw: unknown, where: string, base: string): Partial<NodeConfig> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: expected a JSON object`)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) {
    const type = KEYS[k as keyof NodeConfig]
    if (type === undefined) throw new ConfigError(`${where}: unknown option "${k}"`)
    // eslint-disable-next-line valid-typeof -- type is a typeof name from the KEYS table
    const ok = type === 'string[]' ? Array.isArray(v) && v.every(x => typeof x === 'string') : typeof v === type
    if (!ok) throw new ConfigError(`${where}: option "${k}" must be a ${type}`)
    out[k] = (k === 'dataDir' || k === 'genesisFile' || k === 'keyFile') && !isAbsolute(v as string) ? resolve(base, v as string) : v
  }
  const c = out as Partial<NodeConfig>
  if (c.apiPort !== undefined && (!Number.isInteger(c.apiPort) || c.apiPort < 0 || c.apiPort > 65535)) throw new ConfigError(`${where}: apiPort must be a port number`)
  if (c.tickMs !== undefined && (c.tickMs < 1 || c.tickMs > 1000)) throw new ConfigError(`${where}: tickMs must be between 1 and 1000`)
  if (c.maxQueueDelayMs !== undefined && (!Number.isInteger(c.maxQueueDelayMs) || c.maxQueueDelayMs < 10 || c.maxQueueDelayMs > 600_000)) throw new ConfigError(`${where}: maxQueueDelayMs must be a whole number of ms from 10 to 600000`)
  if (c.maxPendingOps !== undefined && (!Number.isInteger(c.maxPendingOps) || c.maxPendingOps < 1 || c.maxPendingOps > 100_000)) throw new ConfigError(`${where}: maxPendingOps must be a whole number from 1 to 100000 (the replica's own queue limit)`)
  if (c.logLevel !== undefined && !LOG_LEVEL_SPEC.test(c.logLevel)) throw new ConfigError(`${where}: logLevel must be debug, info, warn or error, optionally followed by per-module levels (info,net=debug)`)
  if (c.statusIntervalMs !== undefined && (!Number.isInteger(c.statusIntervalMs) || c.statusIntervalMs < 0 || c.statusIntervalMs > 3_600_000)) throw new ConfigError(`${where}: statusIntervalMs must be a whole number of ms from 0 (none) to 3600000`)
  if (c.apiToken !== undefined && c.apiToken.length < 16) throw new ConfigError(`${where}: apiToken must be at least 16 characters`)
  if (c.checkpointInterval !== undefined && (!Number.isInteger(c.checkpointInterval) || c.checkpointInterval < 0 || c.checkpointInterval > 1_000_000)) throw new ConfigError(`${where}: checkpointInterval must be a whole number of ops from 0 (never propose) to 1000000`)
  if (c.checkpointRetain !== undefined && (!Number.isInteger(c.checkpointRetain) || c.checkpointRetain < 0 || c.checkpointRetain > 1000)) throw new ConfigError(`${where}: checkpointRetain must be a whole number from 0 to 1000`)
  if (c.trustedRoot !== undefined && !/^[0-9a-f]{64}$/.test(c.trustedRoot)) throw new ConfigError(`${where}: trustedRoot must be 64 lowercase hex characters (a checkpoint's state root)`)
  if (c.logFormat !== undefined && !['text', 'json'].includes(c.logFormat)) throw new ConfigError(`${where}: logFormat must be text or json`)
  return c
}

export async function loadConfigFile (path: string): Promise<Partial<NodeConfig>> {
  const raw = await readJsonFile(path, 'config file', m => new ConfigError(m))
  return checkConfig(raw, path, dirname(resolve(path)))
}
