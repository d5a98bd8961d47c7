// Joining a network from a certified snapshot: what it costs to cut a state of N accounts (100,000
// by default; --accounts N) and one contract with a few thousand storage entries into chunks, and to
// download, verify and rebuild it. First in one process with four simulated peers that answer at
// once (one of them serves corrupt chunks, to show what a retry costs), then over real libp2p
// between two hosts on 127.0.0.1 with up to 4 requests in flight. The state is made directly as
// data, not by running ops, so only snapshot and join work is timed.
// Run: npm run build && node dist/bench/join.js [--accounts N]

import { compareBytes } from '../src/core/codec/canonical.js'
import type { Value } from '../src/core/codec/canonical.js'
import { toHex } from '../src/core/crypto/hash.js'
import type { Hash } from '../src/core/crypto/hash.js'
import { signerFrom } from '../src/core/crypto/signing.js'
import { sodiumScheme } from '../src/native/sodium.js'
import { makeGenesis, networkId, quorumSize } from '../src/core/ledger/genesis.js'
import { Ledger } from '../src/core/ledger/ledger.js'
import type { AccountEntry, ContractEntry, Credit, LedgerState } from '../src/core/ledger/ledger.js'
import { contractAddress } from '../src/core/ledger/contracts.js'
import type { QueuedCall } from '../src/core/ledger/contracts.js'
import { compile } from '../src/core/vm/compile.js'
import { keyTag } from '../src/core/vm/values.js'
import type { VmValue } from '../src/core/vm/values.js'
import { encodeMessage } from '../src/core/broadcast/messages.js'
import type { CheckpointMsg } from '../src/core/broadcast/messages.js'
import { buildSnapshot } from '../src/core/checkpoint/snapshot.js'
import type { Snapshot } from '../src/core/checkpoint/snapshot.js'
import { signCheckpoint } from '../src/core/checkpoint/certificate.js'
import type { ValidatorSet } from '../src/core/checkpoint/certificate.js'
import { Joiner, rebuildCheckpoint } from '../src/core/checkpoint/joiner.js'
import type { JoinRequest } from '../src/core/checkpoint/joiner.js'
import { decodeSyncRequest, decodeSyncResponse, encodeSyncRequest, encodeSyncResponse } from '../src/core/checkpoint/sync-messages.js'
import type { SyncRequest, SyncResponse } from '../src/core/checkpoint/sync-messages.js'
import { P2PNetwork } from '../src/net/network.js'
import { SyncRequestError } from '../src/net/sync.js'
import { silentLogger } from '../src/node/log.js'
import { freePorts } from '../test/support/ports.js'

const flag = process.argv.indexOf('--accounts')
const ACCOUNTS = flag >= 0 ? Number(process.argv[flag + 1]) : 100_000
if (!Number.isSafeInteger(ACCOUNTS) || ACCOUNTS < 10) throw new Error('--accounts takes a whole number of at least 10')
const STORAGE_ENTRIES = 4000
const QUEUED_CALLS = 3
const IN_FLIGHT = 4
const CODE = '(defun init () true) (defun read (k) (get k))'

// a seeded xorshift32: the same state on every run
let seed = 0x2545f491
function next32 (): number {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return seed >>> 0
}
const below = (n: number): number => next32() % n
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next32() & 0xff)

const ms = (t: number): string => `${t.toFixed(0)} ms`
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000

// ---------------------------------------------------------------------------------------------
// The state

function makeState (n: number): LedgerState {
  const ids = Array.from({ length: n }, () => randomBytes(32))
  const nextSeq = ids.map(() => 1 + below(20))
  const withOps = ids.map((_, i) => i).filter(i => nextSeq[i]! > 1)
  const deployer = withOps[0]!
  const deploySeq = 1
  const address = contractAddress(ids[deployer]!, deploySeq)
  const accounts: AccountEntry[] = ids.map((id, i) => {
    const credits: Credit[] = []
    // about one account in four holds credits it has not cited yet
    if (below(4) === 0) {
      const sources = new Map<string, Credit>()
      for (let k = 1 + below(3); k > 0; k--) {
        const from = withOps[below(withOps.length)]!
        if (from === i) continue
        const source = { account: ids[from]!, seq: 1 + below(nextSeq[from]! - 1) }
        sources.set(`${toHex(source.account)}:${source.seq}`, { source, amount: BigInt(1 + below(10_000)) })
      }
      credits.push(...[...sources.values()].sort((a, b) => compareBytes(a.source.account, b.source.account) || a.source.seq - b.source.seq))
    }
    return { id, balance: BigInt(below(1_000_000_000)), nextSeq: nextSeq[i]!, credits }
  })
  // the contract is an account too (created by its deploy, never spending)
  accounts.push({ id: address, balance: 250_000n, nextSeq: 1, credits: [] })
  accounts.sort((a, b) => compareBytes(a.id, b.id))

  const storage: Array<readonly [string, VmValue]> = []
  for (let k = 0; k < STORAGE_ENTRIES; k++) {
    // half keyed by account (a token's balances), half by name with text values
    const [key, value]: [VmValue, VmValue] = k % 2 === 0
      ? [ids[below(n)]!, BigInt(below(1_000_000))]
      : [`entry-${k}`, `value ${k} ${'x'.repeat(below(40))}`]
    storage.push([keyTag(key), value])
  }
  const sortedStorage = [...new Map(storage).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const queue: QueuedCall[] = Array.from({ length: QUEUED_CALLS }, (_, k) => {
    const caller = withOps[1 + k]!
    return { id: { account: ids[caller]!, seq: nextSeq[caller]! - 1 }, caller: ids[caller]!, fn: 'read', args: [`entry-${2 * k + 1}`] as Value[], value: 7n, gasLimit: 10_000 }
  }).sort((a, b) => compareBytes(a.id.account, b.id.account) || a.id.seq - b.id.seq)
  const contract: ContractEntry = {
    address,
    code: CODE,
    sequencer: ids[deployer]!,
    deployedAt: { account: ids[deployer]!, seq: deploySeq },
    lastTime: 0,
    storage: sortedStorage,
    queue
  }
  // the supply is everything held: balances, uncited credits and value waiting in queued calls
  let supply = 0n
  for (const a of accounts) {
    supply += a.balance
    for (const c of a.credits) supply += c.amount
  }
  for (const q of queue) supply += q.value
  return { supply, accounts, contracts: [contract] }
}

// ---------------------------------------------------------------------------------------------
// Peers that serve a snapshot

function answer (snap: Snapshot, checkpoint: Uint8Array, req: SyncRequest): SyncResponse {
  if (req.type === 'latest') return { type: 'offer', checkpoint, manifest: snap.manifestBytes }
  const bytes = snap.chunks[req.index]
  if (toHex(req.root) !== toHex(snap.root) || bytes === undefined) return { type: 'none', reason: 'no such chunk' }
  return { type: 'chunk', index: req.index, bytes }
}

function syncRequestOf (req: JoinRequest): SyncRequest {
  return req.kind === 'latest' ? { type: 'latest' } : { type: 'chunk', root: req.root, index: req.index }
}

/** Hands one answer to the joiner; anything but the answer asked for fails the request. */
function deliver (joiner: Joiner, req: JoinRequest, res: SyncResponse, now: number): JoinRequest[] {
  if (req.kind === 'latest' && res.type === 'offer') return joiner.onOffer(req.peer, res.checkpoint, res.manifest, now)
  if (req.kind === 'chunk' && res.type === 'chunk' && res.index === req.index) return joiner.onChunk(req.peer, req.index, res.bytes, now)
  return joiner.onFailure(req, res.type === 'none' ? `refused: ${res.reason}` : `answered a ${res.type}`, now)
}

interface JoinFigures { wallMs: number, cpuMs: number, received: number, requests: number, chunkAnswers: number, misbehaved: string[], root: Hash }

/** Four peers in this process answering at once, through the sync codec; the first corrupts chunks. */
function joinInProcess (set: ValidatorSet, genesis: ReturnType<typeof makeGenesis>, snap: Snapshot, checkpoint: Uint8Array): JoinFigures {
  // the corrupt peer answers first, so it is a source and gets chunks before it is caught
  const peers = ['corrupt', 'honest-1', 'honest-2', 'honest-3']
  let received = 0
  let requests = 0
  let chunkAnswers = 0
  const wall = performance.now()
  const cpu = process.cpuUsage()
  const joiner = new Joiner(genesis, set, { offersWanted: peers.length })
  const queue = joiner.addPeers(peers, performance.now())
  while (queue.length > 0 && joiner.result() === undefined && joiner.failure === undefined) {
    const req = queue.shift()!
    requests++
    const res = answer(snap, checkpoint, decodeSyncRequest(encodeSyncRequest(syncRequestOf(req))))
    let wire = encodeSyncResponse(res)
    if (req.peer === 'corrupt' && res.type === 'chunk') {
      const bytes = Uint8Array.from(res.bytes)
      const middle = bytes.length >> 1
      bytes[middle] = bytes[middle]! ^ 0xff
      wire = encodeSyncResponse({ ...res, bytes })
    }
    received += wire.byteLength
    if (res.type === 'chunk') chunkAnswers++
    queue.push(...deliver(joiner, req, decodeSyncResponse(wire), performance.now()))
  }
  const cpuUsed = cpuMs(process.cpuUsage(cpu))
  const wallMs = performance.now() - wall
  const result = joiner.result()
  if (result === undefined) throw new Error(joiner.failure ?? 'no requests left and no result')
  return { wallMs, cpuMs: cpuUsed, received, requests, chunkAnswers, misbehaved: joiner.misbehaved.map(m => `${m.peer}: ${m.reason}`), root: result.ledger.stateHash() }
}

/** A client host drives a joiner against a server host over libp2p, IN_FLIGHT requests at a time. */
async function joinOverLibp2p (set: ValidatorSet, genesis: ReturnType<typeof makeGenesis>, snap: Snapshot, checkpoint: Uint8Array): Promise<JoinFigures & { rss: number }> {
  const ports = await freePorts(2)
  const start = async (i: number, sync?: (from: string, request: Uint8Array) => Promise<Uint8Array | undefined>): Promise<P2PNetwork> => await P2PNetwork.start({
    seed: new Uint8Array(32).fill(0x40 + i),
    networkId: toHex(set.networkId),
    listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
    bootstrap: [],
    mdns: false,
    maxConnections: 16,
    inboundRate: 10_000,
    log: silentLogger
  }, { direct: () => 'ignore', gossip: () => 'ignore', ...(sync === undefined ? {} : { sync }) })
  const server = await start(0, async (_from, request) => encodeSyncResponse(answer(snap, checkpoint, decodeSyncRequest(request))))
  const client = await start(1)
  try {
    const peer = await client.dial(server.addresses()[0]!)
    let received = 0
    let requests = 0
    let chunkAnswers = 0
    const wall = performance.now()
    const cpu = process.cpuUsage()
    const joiner = new Joiner(genesis, set, { perPeer: IN_FLIGHT })
    await new Promise<void>((resolve, reject) => {
      const pending: JoinRequest[] = []
      let inFlight = 0
      const done = (): boolean => joiner.result() !== undefined || joiner.failure !== undefined
      const ticker = setInterval(() => {
        pending.push(...joiner.tick(performance.now()).requests)
        pump()
      }, 250)
      const finish = (): void => {
        if (!done()) return
        clearInterval(ticker)
        if (joiner.failure !== undefined) reject(new Error(joiner.failure))
        else resolve()
      }
      const carry = async (req: JoinRequest): Promise<void> => {
        requests++
        try {
          const wire = await client.request(req.peer, encodeSyncRequest(syncRequestOf(req)), { timeoutMs: 10_000 })
          received += wire.byteLength
          const res = decodeSyncResponse(wire)
          if (res.type === 'chunk') chunkAnswers++
          pending.push(...deliver(joiner, req, res, performance.now()))
        } catch (err) {
          const reason = err instanceof SyncRequestError ? err.reason : (err as Error).message
          pending.push(...joiner.onFailure(req, reason, performance.now()))
        }
      }
      const pump = (): void => {
        while (!done() && inFlight < IN_FLIGHT && pending.length > 0) {
          inFlight++
          void carry(pending.shift()!).finally(() => {
            inFlight--
            pump()
            finish()
          })
        }
      }
      pending.push(...joiner.addPeers([peer], performance.now()))
      pump()
    })
    const cpuUsed = cpuMs(process.cpuUsage(cpu))
    const wallMs = performance.now() - wall
    const result = joiner.result()!
    return { wallMs, cpuMs: cpuUsed, received, requests, chunkAnswers, misbehaved: joiner.misbehaved.map(m => `${m.peer.slice(0, 16)}: ${m.reason}`), root: result.ledger.stateHash(), rss: process.memoryUsage().rss }
  } finally {
    await client.stop()
    await server.stop()
  }
}

/** Runs one join; a failure is printed and the bench goes on (it exits non-zero at the end). */
async function attempt<T> (what: string, run: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await run()
  } catch (err) {
    console.log('')
    console.log(`${what} FAILED: ${(err as Error).message}`)
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------

const validators = Array.from({ length: 4 }, (_, i) => signerFrom(sodiumScheme, new Uint8Array(32).fill(0x10 + i)))
const genesis = makeGenesis({
  network: 'bench-join',
  validators: validators.map(v => v.publicKey),
  mintAuthority: signerFrom(sodiumScheme, new Uint8Array(32).fill(0x20)).publicKey,
  balances: [{ account: signerFrom(sodiumScheme, new Uint8Array(32).fill(0x21)).publicKey, amount: 1n }]
})
const set: ValidatorSet = { networkId: networkId(genesis), scheme: sodiumScheme, validators: new Set(validators.map(v => toHex(v.publicKey))), quorum: quorumSize(validators.length, 'byzantine') }
compile(CODE) // the contract must compile, or fromState would throw below

let t = performance.now()
const state = makeState(ACCOUNTS)
const madeMs = performance.now() - t
const credits = state.accounts.reduce((n, a) => n + a.credits.length, 0)
const balances = state.accounts.reduce((s, a) => s + a.balance, 0n)
const creditTotal = state.accounts.reduce((s, a) => a.credits.reduce((x, c) => x + c.amount, s), 0n)
const queuedTotal = state.contracts.reduce((s, c) => c.queue.reduce((x, q) => x + q.value, s), 0n)
console.log(`state: ${state.accounts.length} accounts (${ACCOUNTS} + the contract's), ${credits} uncited credits, 1 contract with ${state.contracts[0]!.storage.length} storage entries and ${QUEUED_CALLS} queued calls (made in ${ms(madeMs)})`)
console.log(`supply ${state.supply} = balances ${balances} + credits ${creditTotal} + queued call value ${queuedTotal}`)

t = performance.now()
const ledger = Ledger.fromState(genesis, state)
const loadMs = performance.now() - t
if (ledger.totalHeld() !== ledger.totalSupply()) throw new Error(`the ledger holds ${ledger.totalHeld()}, not its supply ${ledger.totalSupply()}`)

t = performance.now()
let cpu = process.cpuUsage()
const snap = buildSnapshot(state)
const buildMs = performance.now() - t
const buildCpu = cpuMs(process.cpuUsage(cpu))
const matches = (f: JoinFigures): boolean => toHex(f.root) === toHex(snap.root)
const chunkBytes = snap.chunks.reduce((n, c) => n + c.byteLength, 0)
t = performance.now()
const ledgerRoot = ledger.stateHash()
const stateHashMs = performance.now() - t
// the ledger re-exports its state in canonical order: a different root would mean ours was not
if (toHex(ledgerRoot) !== toHex(snap.root)) throw new Error('the state as built is not in canonical order: its root differs from the ledger\'s')
console.log(`Ledger.fromState ${ms(loadMs)}; buildSnapshot ${ms(buildMs)} (cpu ${ms(buildCpu)}); ledger.stateHash() (export + build) ${ms(stateHashMs)}`)
console.log(`snapshot: height ${snap.manifest.height}, ${snap.chunks.length} chunks, manifest ${snap.manifestBytes.byteLength} bytes, chunks ${chunkBytes} bytes (${mb(chunkBytes)}), largest chunk ${Math.max(...snap.chunks.map(c => c.byteLength))} bytes, root ${toHex(snap.root).slice(0, 16)}`)

// certified by a quorum of the 4 validators, sorted by key as a replica certifies
const statement = { height: snap.manifest.height, root: snap.root, baseHeight: 0, base: new Uint8Array(32).fill(0xbb), proposer: validators[0]!.publicKey, delta: [] }
const sigs = validators.map(v => signCheckpoint(v, set.networkId, statement))
  .sort((a, b) => compareBytes(a.signer, b.signer)).slice(0, set.quorum)
const msg: CheckpointMsg = { type: 'checkpoint', ...statement, sigs }
const checkpoint = encodeMessage(msg)
console.log(`checkpoint message: ${checkpoint.byteLength} bytes with ${sigs.length} of ${validators.length} signatures`)

t = performance.now()
cpu = process.cpuUsage()
rebuildCheckpoint(genesis, checkpoint, snap.manifestBytes, snap.chunks)
const rebuildMs = performance.now() - t
const rebuildCpu = cpuMs(process.cpuUsage(cpu))
console.log(`rebuildCheckpoint alone (read chunks, Ledger.fromState, stateHash): ${ms(rebuildMs)} (cpu ${ms(rebuildCpu)})`)

const local = await attempt('in-process join', () => joinInProcess(set, genesis, snap, checkpoint))
if (local !== undefined) {
  console.log('')
  console.log(`in-process join, 4 peers (1 corrupting chunks): ${ms(local.wallMs)} wall, ${ms(local.cpuMs)} cpu; ${local.requests} requests, ${local.chunkAnswers} chunk answers for ${snap.chunks.length} chunks; received ${local.received} bytes (${mb(local.received)}); root ${matches(local) ? 'matches' : 'DIFFERS'}`)
  for (const m of local.misbehaved) console.log(`  blamed ${m}`)
}

const net = await attempt('libp2p join', async () => await joinOverLibp2p(set, genesis, snap, checkpoint))
const seconds = (net?.wallMs ?? 0) / 1000
if (net !== undefined) {
  console.log('')
  console.log(`libp2p join, 1 server on 127.0.0.1, ${IN_FLIGHT} in flight: ${ms(net.wallMs)} wall, ${ms(net.cpuMs)} cpu (client and server in this process); ${net.requests} requests; received ${net.received} bytes of answers; ${(net.chunkAnswers / seconds).toFixed(1)} chunks/s, ${(net.received / 1e6 / seconds).toFixed(1)} MB/s; RSS after ${(net.rss / 2 ** 20).toFixed(0)} MiB; root ${matches(net) ? 'matches' : 'DIFFERS'}`)
  for (const m of net.misbehaved) console.log(`  blamed ${m}`)
}

console.log('')
console.log(`| ${ACCOUNTS.toLocaleString('en')} accounts | figure |`)
console.log('|---|---|')
console.log(`| snapshot | ${snap.chunks.length} chunks, ${mb(chunkBytes)} of chunks, manifest ${snap.manifestBytes.byteLength} B |`)
console.log(`| buildSnapshot | ${ms(buildMs)} |`)
console.log(`| rebuild alone (read + fromState + root) | ${ms(rebuildMs)} |`)
console.log(`| join in process (4 peers, 1 corrupt) | ${local === undefined ? 'FAILED' : `${ms(local.wallMs)} wall, ${ms(local.cpuMs)} cpu, ${mb(local.received)} received, ${local.chunkAnswers - snap.chunks.length} chunks fetched twice`} |`)
console.log(`| join over libp2p (${IN_FLIGHT} in flight) | ${net === undefined ? 'FAILED' : `${ms(net.wallMs)} wall, ${ms(net.cpuMs)} cpu, ${mb(net.received)} received, ${(net.chunkAnswers / seconds).toFixed(1)} chunks/s, ${(net.received / 1e6 / seconds).toFixed(1)} MB/s`} |`)
console.log(`| RSS after (whole bench process) | ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB |`)
const hex = (f: JoinFigures | undefined): object | null => f === undefined ? null : { ...f, root: toHex(f.root) }
console.log(JSON.stringify({ accounts: ACCOUNTS, chunks: snap.chunks.length, manifestBytes: snap.manifestBytes.byteLength, chunkBytes, buildMs, rebuildMs, local: hex(local), libp2p: hex(net) }))
if (local === undefined || net === undefined || !matches(local) || !matches(net)) {
  console.error('a join failed, or a joined state does not hash to the checkpoint root')
  process.exitCode = 1
}
