// Node configuration: every option a node runs with, in one table: its type and bounds (a zod
// schema), its default, what it means, and whether it is a path. Config files, BFTNODE_* variables
// and flags are all read through this table (config-sources.ts), so no source accepts a value
// another would refuse, and the docs, `config show` and the commented config file come from it too.

import { homedir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import * as z from 'zod'
import { BftError } from '../core/errors.js'

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
  /** Approve every well-formed change of the validator set as it arrives, rather than wait for an operator. */
  autoApproveReconfiguration: boolean
  /** How long a contract with queued calls must hear nothing from its sequencer before this validator votes to rotate it without the deployer's request (ms). */
  sequencerSilenceMs: number
  /** Append every protocol message and local event to this file as JSON lines, for `bftnode chart` (up to 64 MiB). */
  traceFile?: string
}

export type OptionName = keyof NodeConfig

/** How a value is spelled where it can only be text (environment variables, flags). */
export type OptionKind = 'string' | 'number' | 'boolean' | 'list'

export interface OptionSpec<T> {
  readonly kind: OptionKind
  /** The type and bounds; its error messages complete "<source>: option "x" ...". */
  readonly schema: z.ZodType<T>
  /** One or two sentences for --help, the docs and the commented config file. */
  readonly describe: string
  /** The built-in default: a value, or one computed from the data dir; absent: not set. */
  readonly default?: T | ((c: { dataDir: string }) => T)
  /** The default as the docs show it, when the value itself depends on the machine. */
  readonly defaultText?: string
  /** Resolved against the config file's folder (from env and flags: the working directory). */
  readonly path?: true
  /** Never printed: `config show` and the logs mask it. */
  readonly secret?: true
  /** The flag, when not the option in kebab-case; false: set by a flag every command has. */
  readonly flag?: string | false
  /** Other flag names that keep working (older spellings). */
  readonly aliases?: readonly string[]
  /** For an option with no default: a value to show, commented out, in a written config file. */
  readonly example?: T
}

export class ConfigError extends BftError {
  readonly code = 'ERR_CONFIG'
}

const BFTNODE_HOME = process.env.BFTNODE_HOME ?? join(homedir(), '.bftnode')
export const DEFAULT_DATA_DIR = join(BFTNODE_HOME, 'dev')

const LEVEL = '(debug|info|warn|error)'
const LOG_LEVEL_SPEC = new RegExp(`^(${LEVEL}|[a-z][a-z0-9-]*=${LEVEL})(,[a-z][a-z0-9-]*=${LEVEL})*$`)

/** A value as an error message quotes it: short, and never more than a line. */
export function shown (v: unknown): string {
  const text = v === undefined ? 'nothing' : typeof v === 'string' ? JSON.stringify(v) : Number.isNaN(v) ? 'NaN' : JSON.stringify(v) ?? String(v)
  return text.length > 60 ? text.slice(0, 57) + '...' : text
}

const got = (what: string) => (iss: { input?: unknown }) => `must be ${what}, got ${shown(iss.input)}`

function text (what = 'a string'): z.ZodString {
  return z.string({ error: got(what) }).min(1, 'must not be empty')
}

/** A secret is never quoted back, even when it has the wrong type. */
function secret (): z.ZodString {
  return z.string({ error: 'must be a string (the value is a secret: not shown)' })
}

function between (min: number, max: number): z.ZodNumber {
  const m = `must be between ${min} and ${max}`
  return z.number({ error: got('a number') }).min(min, m).max(max, m)
}

function whole (min: number, max: number, unit = ''): z.ZodNumber {
  const m = `must be a whole number${unit} from ${min} to ${max}`
  return z.number({ error: got('a number') }).int(m).min(min, m).max(max, m)
}

function list<T> (item: z.ZodType<T>): z.ZodType<T[]> {
  return z.array(item, { error: got('a list') })
}

const flag = (): z.ZodBoolean => z.boolean({ error: got('true or false') })

const isMultiaddr = (s: string): boolean => { try { multiaddr(s); return true } catch { return false } }
const address = text().refine(isMultiaddr, { error: iss => `must be multiaddrs such as /ip4/127.0.0.1/tcp/7100; ${shown(iss.input)} is not one` })

/**
 * Every option. The mapped type makes an option without an entry a compile error, so a new field
 * of NodeConfig cannot be forgotten by the file, env or flag readers, nor by the docs.
 */
export const OPTIONS: { readonly [K in OptionName]-?: OptionSpec<NonNullable<NodeConfig[K]>> } = {
  dataDir: {
    kind: 'string', schema: text(), path: true, default: DEFAULT_DATA_DIR, defaultText: '~/.bftnode/dev ($BFTNODE_HOME/dev)',
    describe: 'Where LevelDB (bindings, certificates, checkpoints) and, by default, the node key and genesis live.'
  },
  genesisFile: {
    kind: 'string', schema: text(), path: true, flag: 'genesis', aliases: ['genesis-file'], default: c => join(c.dataDir, 'genesis.json'), defaultText: '<dataDir>/genesis.json',
    describe: 'The network\'s genesis file: validators, mint authority, starting balances.'
  },
  keyFile: {
    kind: 'string', schema: text(), path: true, flag: 'key', aliases: ['key-file'], default: c => join(c.dataDir, 'node-key.json'), defaultText: '<dataDir>/node-key.json',
    describe: 'The node\'s ed25519 key file: its libp2p identity and, for a validator, the voting key genesis lists. Encrypted or clear.'
  },
  passphrase: {
    kind: 'string', schema: secret(), secret: true, flag: false, example: '<passphrase>',
    describe: 'Passphrase of an encrypted node key. Better in BFTNODE_PASSPHRASE than in a file; asked for when a terminal is there.'
  },
  listen: {
    kind: 'list', schema: list(address), default: ['/ip4/127.0.0.1/tcp/7100'],
    describe: 'libp2p listen multiaddrs.'
  },
  bootstrap: {
    kind: 'list', schema: list(address), default: [],
    describe: 'Multiaddrs (with /p2p/<peer id>) of peers to dial at start and redial while they are away.'
  },
  mdns: {
    kind: 'boolean', schema: flag(), default: true,
    describe: 'Discover peers on the LAN with mDNS (test networks turn it off).'
  },
  apiHost: {
    kind: 'string', schema: text(), default: '127.0.0.1',
    describe: 'Address the local HTTP API listens on. Loopback only by default: anything else exposes it.'
  },
  apiPort: {
    kind: 'number', schema: whole(0, 65535), default: 7200,
    describe: 'Port of the local HTTP API (0: any free port).'
  },
  maxConnections: {
    kind: 'number', schema: whole(1, 100_000), default: 64,
    describe: 'libp2p connection limit.'
  },
  inboundRate: {
    kind: 'number', schema: whole(1, 10_000_000), default: 5000,
    describe: 'Direct frames and sync requests per second one peer may send before its excess is dropped; a peer far over it is cut off. Gossiped certificates are judged by gossipsub peer scores instead.'
  },
  tickMs: {
    kind: 'number', schema: between(1, 1000), default: 5,
    describe: 'The shortest interval between the replica\'s ticks (batching, resends, anti-entropy), in ms; an idle node ticks every 250 ms.'
  },
  maxQueueDelayMs: {
    kind: 'number', schema: whole(10, 600_000, ' of ms'), default: 1000,
    describe: 'POST /v1/ops answers 503 ERR_BUSY while the oldest op queued for a batch has waited longer than this (ms): the node is saturated.'
  },
  maxPendingOps: {
    kind: 'number', schema: whole(1, 100_000), default: 20_000,
    describe: 'The same 503 answer while this many ops are on their way through the node (queued, or in batches validators have not put off).'
  },
  logLevel: {
    kind: 'string',
    schema: text().regex(LOG_LEVEL_SPEC, 'must be debug, info, warn or error, optionally followed by per-module levels (info,net=debug)'),
    default: 'info',
    describe: 'debug, info, warn or error; per module after it: info,net=debug.'
  },
  logFormat: {
    kind: 'string', schema: z.enum(['text', 'json'], { error: got('text or json') }), default: 'text',
    describe: 'text for people, json for one JSON object per line.'
  },
  logFile: {
    kind: 'string', schema: text(), path: true, example: 'bftnode.log',
    describe: 'Also append logs, as JSON lines, to this file.'
  },
  statusIntervalMs: {
    kind: 'number', schema: whole(0, 3_600_000, ' of ms'), default: 10_000,
    describe: 'Interval of the one-line status log (peers, validators, delivered, checkpoint), in ms; 0: none.'
  },
  metrics: {
    kind: 'boolean', schema: flag(), default: true,
    describe: 'Serve Prometheus metrics at GET /metrics on the API port.'
  },
  dashboard: {
    kind: 'boolean', schema: flag(), default: true,
    describe: 'Serve the live dashboard at /dashboard on the API port.'
  },
  apiCors: {
    kind: 'list',
    schema: list(text().refine(s => s === '*' || /^https?:\/\/[^/\s]+$/.test(s), { error: iss => `must be "*" or origins such as https://example.com; ${shown(iss.input)} is not one` })),
    default: [],
    describe: 'Origins a browser may call the API from (CORS): none by default, "*" for any.'
  },
  apiToken: {
    kind: 'string', schema: secret().min(16, 'must be at least 16 characters'), secret: true, example: '<a long random string>',
    describe: 'When set, API requests (all but health and readiness) must carry "Authorization: Bearer <token>". Better in BFTNODE_API_TOKEN.'
  },
  checkpointInterval: {
    kind: 'number', schema: whole(0, 1_000_000, ' of ops'), default: 1000,
    describe: 'Delivered ops between the checkpoints this validator proposes; 0: never proposes.'
  },
  checkpointRetain: {
    kind: 'number', schema: whole(0, 1000), default: 2,
    describe: 'Certified checkpoints of history (certificates) kept behind the latest, for lagging peers.'
  },
  join: {
    kind: 'boolean', schema: flag(), default: false,
    describe: 'With no state yet, download and verify the latest certified checkpoint from peers instead of replaying history (observers started by `bftnode join` do).'
  },
  trustedRoot: {
    kind: 'string', schema: z.string({ error: got('a string') }).regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (a checkpoint\'s state root)'), example: '<64 hex digits>',
    describe: 'State root of a checkpoint to accept without checking its signatures (you vouch for it).'
  },
  resumeVoting: {
    kind: 'boolean', schema: flag(), default: false,
    describe: 'Let a validator vote that joined a running network with a new data dir; only if its key never voted on this network (docs/protocol.md).'
  },
  autoApproveReconfiguration: {
    kind: 'boolean', schema: flag(), default: false,
    describe: 'Approve every well-formed change of the validator set (add or remove one validator) as it arrives, instead of waiting for `bftnode validator approve`.'
  },
  sequencerSilenceMs: {
    kind: 'number', schema: whole(1000, 86_400_000, ' of ms'), default: 60_000,
    describe: 'How long a contract with queued calls must hear nothing from its sequencer before this validator votes for a rotation of its sequencer that the deployer did not request (ms; docs/reconfiguration.md).'
  },
  traceFile: {
    kind: 'string', schema: text(), path: true, example: 'trace.jsonl',
    describe: 'Append every protocol message this node sends and receives, and its deliveries, checkpoints and equivocations seen, to this file as JSON lines for `bftnode chart` (docs/charts.md). Stops growing at 64 MiB; off when not set.'
  }
}

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[]

/** The one schema of a config: any subset of the options, nothing else. */
export const configSchema = z.object(Object.fromEntries(OPTION_NAMES.map(k => [k, OPTIONS[k].schema.optional()])) as { [K in OptionName]: z.ZodOptional<z.ZodType<NonNullable<NodeConfig[K]>>> }).strict()

/** `tickMs` -> `tick-ms`. */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, c => '-' + c.toLowerCase())

/** The flag that sets an option (without the dashes), or undefined when it has none of its own. */
export function flagOf (name: OptionName): string | undefined {
  const f = (OPTIONS[name] as OptionSpec<unknown>).flag
  return f === false ? undefined : f ?? kebab(name)
}

/** The environment variables that set an option: BFTNODE_<OPTION>, then BFTNODE_<FLAG> if it differs. */
export function envNames (name: OptionName): string[] {
  const snake = (s: string): string => 'BFTNODE_' + kebab(s).replace(/-/g, '_').toUpperCase()
  const f = flagOf(name)
  return [...new Set([snake(name), ...(f === undefined ? [] : [snake(f)])])]
}

/** The default of one option, given the data dir the others settled on. */
export function defaultOf<K extends OptionName> (name: K, dataDir: string): NodeConfig[K] | undefined {
  const d = (OPTIONS[name] as OptionSpec<unknown>).default
  return (typeof d === 'function' ? (d as (c: { dataDir: string }) => unknown)({ dataDir }) : structuredClone(d)) as NodeConfig[K] | undefined
}

export function defaultConfig (dataDir = DEFAULT_DATA_DIR): NodeConfig {
  const out: Record<string, unknown> = {}
  for (const k of OPTION_NAMES) {
    const v = k === 'dataDir' ? dataDir : defaultOf(k, dataDir)
    if (v !== undefined) out[k] = v
  }
  return out as unknown as NodeConfig
}

/** Closest option name, for "did you mean": the same letters in another case or spelling, or a typo or two. */
export function closestOption (name: string): OptionName | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  let best: OptionName | undefined
  let bestDistance = 3
  for (const k of OPTION_NAMES) {
    const d = editDistance(norm(name), norm(k))
    if (d < bestDistance) { best = k; bestDistance = d }
  }
  return best
}

function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}
