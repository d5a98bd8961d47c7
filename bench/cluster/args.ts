// Flags of `npm run bench:cluster -- [flags]`.

import { parseArgs } from 'node:util'
import { MESSAGE_LIMITS } from '../../src/core/broadcast/messages.js'

export const USAGE = `npm run bench:cluster -- [flags]

  --validators 4,7,10    validator counts, each run on its own fresh network in turn (default 4)
  --modes LIST           runs per network, in this order: light,batch,single,half (default all)
  --transfers N          transfers per batch or single run (default 20000)
  --ops-per-request L    batch mode: ops per POST /v1/ops, a list sweeps (default 100; max ${MESSAGE_LIMITS.maxBatchOps})
  --inflight N           batch mode: requests in flight at each validator (default 2)
  --clients N            single mode: concurrent clients, one op per request (default 64)
  --accounts N           sending accounts (default 5000; long mode 100000)
  --window N             most ops outstanding (sent, not delivered everywhere) (default 3/4 of --accounts)
  --max-backlog-ms MS    send nothing while the oldest outstanding op left longer ago than this
                         (default 1000; 0: no cap, to push the nodes past saturation)
  --latency-samples N    light-load latency samples (default 100)
  --half-seconds S       length of the half-of-peak run (default 15)
  --timeout S            a run gives up after this, with partial figures (default 180;
                         long mode: 3x its planned length + 10 min)
  --poll-ms MS           status poll interval (default 250; long mode 1000)
  --node-config JSON     extra config fields for every validator, e.g. '{"tickMs":10}'
  --node-args=ARGS       extra node flags for every validator process, space separated, e.g.
                         --node-args='--cpu-prof --cpu-prof-dir=/tmp/prof' (NODE_OPTIONS refuses
                         --cpu-prof); each validator writes its profile when it stops
  --out DIR              results folder (default bench-results/<timestamp>/ in the project)
  --keep                 keep each network's directory (data, configs) after its runs
  --long N               long mode: N transfers at a steady rate on one network (the first --validators)
  --rate R               long mode: transfers/s (default half of a calibration batch run's peak)
  --sample-s S           long mode: seconds between samples (default 10)
  --warmup N             long mode: transfers before the RSS slope is fitted (default N/5)
  --with-bftsmart        afterwards run BFT-SMaRt's microbenchmark ($BFTSMART, built already)
  --help`

export interface Options {
  validators: number[]
  modes: Set<'light' | 'batch' | 'single' | 'half'>
  transfers: number
  opsPerRequest: number[]
  inflight: number
  clients: number
  accounts: number
  window: number
  /** Undefined: no cap. */
  maxBacklogMs?: number
  latencySamples: number
  halfSeconds: number
  /** Unset: 180 s a run, or long mode's own default. */
  timeoutMs?: number
  pollMs: number
  nodeConfig: Record<string, unknown>
  /** Flags for node itself (before the script) in every validator process. */
  nodeArgs: string[]
  out?: string
  keep: boolean
  long?: number
  rate?: number
  sampleS: number
  warmup?: number
  withBftsmart: boolean
  help: boolean
}

function list (s: string, what: string): number[] {
  const out = s.split(',').map(x => Number(x.trim()))
  if (out.length === 0 || out.some(x => !Number.isInteger(x) || x < 1)) throw new Error(`${what} takes positive whole numbers, comma separated`)
  return out
}

function whole (s: string | undefined, what: string, fallback: number): number {
  if (s === undefined) return fallback
  const x = Number(s)
  if (!Number.isFinite(x) || x <= 0) throw new Error(`${what} must be a positive number`)
  return x
}

export function parse (argv: string[]): Options {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      validators: { type: 'string', default: '4' },
      modes: { type: 'string', default: 'light,batch,single,half' },
      transfers: { type: 'string' },
      'ops-per-request': { type: 'string', default: '100' },
      inflight: { type: 'string' },
      clients: { type: 'string' },
      accounts: { type: 'string' },
      window: { type: 'string' },
      'max-backlog-ms': { type: 'string', default: '1000' },
      'latency-samples': { type: 'string' },
      'half-seconds': { type: 'string' },
      timeout: { type: 'string' },
      'poll-ms': { type: 'string' },
      'node-config': { type: 'string', default: '{}' },
      'node-args': { type: 'string', default: '' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      long: { type: 'string' },
      rate: { type: 'string' },
      'sample-s': { type: 'string' },
      warmup: { type: 'string' },
      'with-bftsmart': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  const modes = new Set(v.modes!.split(',').map(m => m.trim()))
  for (const m of modes) if (!['light', 'batch', 'single', 'half'].includes(m)) throw new Error(`unknown mode "${m}" (light, batch, single, half)`)
  const opsPerRequest = list(v['ops-per-request']!, '--ops-per-request')
  const tooBig = opsPerRequest.find(x => x > MESSAGE_LIMITS.maxBatchOps)
  if (tooBig !== undefined) throw new Error(`--ops-per-request ${tooBig}: the API takes at most ${MESSAGE_LIMITS.maxBatchOps} ops a request (MESSAGE_LIMITS.maxBatchOps)`)
  const long = v.long === undefined ? undefined : Math.round(whole(v.long, '--long', 0))
  const accounts = Math.round(whole(v.accounts, '--accounts', long === undefined ? 5000 : 100_000))
  const nodeConfig = JSON.parse(v['node-config']!) as unknown
  if (nodeConfig === null || typeof nodeConfig !== 'object' || Array.isArray(nodeConfig)) throw new Error('--node-config takes a JSON object')
  return {
    validators: list(v.validators!, '--validators'),
    modes: modes as Options['modes'],
    transfers: Math.round(whole(v.transfers, '--transfers', 20_000)),
    opsPerRequest,
    inflight: Math.round(whole(v.inflight, '--inflight', 2)),
    clients: Math.round(whole(v.clients, '--clients', 64)),
    accounts,
    window: Math.round(whole(v.window, '--window', Math.floor(accounts * 3 / 4))),
    maxBacklogMs: v['max-backlog-ms'] === '0' ? undefined : whole(v['max-backlog-ms'], '--max-backlog-ms', 1000),
    latencySamples: Math.round(whole(v['latency-samples'], '--latency-samples', 100)),
    halfSeconds: whole(v['half-seconds'], '--half-seconds', 15),
    timeoutMs: v.timeout === undefined ? undefined : whole(v.timeout, '--timeout', 0) * 1000,
    pollMs: whole(v['poll-ms'], '--poll-ms', long === undefined ? 250 : 1000),
    nodeConfig: nodeConfig as Record<string, unknown>,
    nodeArgs: v['node-args']!.split(' ').filter(a => a !== ''),
    out: v.out,
    keep: v.keep!,
    long,
    rate: v.rate === undefined ? undefined : whole(v.rate, '--rate', 0),
    sampleS: whole(v['sample-s'], '--sample-s', 10),
    warmup: v.warmup === undefined ? undefined : Math.round(whole(v.warmup, '--warmup', 0)),
    withBftsmart: v['with-bftsmart']!,
    help: v.help!
  }
}
