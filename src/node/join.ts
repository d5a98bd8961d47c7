// Joining over the network: carries the Joiner's requests to peers over the sync protocol, feeds it
// their answers and the time, names peers that misbehave, and reports progress (chunks, bytes,
// ETA). The Joiner decides everything; this only moves bytes and waits.

import { Joiner } from '../core/checkpoint/joiner.js'
import type { JoinOptions, JoinRequest } from '../core/checkpoint/joiner.js'
import type { ValidatorSet } from '../core/checkpoint/certificate.js'
import type { CertifiedCheckpoint } from '../core/checkpoint/keeper.js'
import { decodeSyncResponse, encodeSyncRequest } from '../core/checkpoint/sync-messages.js'
import type { Genesis } from '../core/ledger/genesis.js'
import type { ReplicatedAlgorithm } from '../core/algorithm/algorithm.js'
import { BftError } from '../core/errors.js'
import type { P2PNetwork } from '../net/network.js'
import type { Logger } from './log.js'

/** The join could not finish: no peer had a checkpoint, or none that did would serve it. */
export class JoinError extends BftError {
  readonly code = 'ERR_JOIN'
}

export interface JoinRun {
  readonly genesis: Genesis
  readonly set: ValidatorSet
  readonly net: P2PNetwork
  readonly log: Logger
  readonly options?: Partial<JoinOptions>
  /** Give up waiting for a first peer after this long (ms). */
  readonly connectTimeout?: number
  /** Peers to ask first (e.g. those that reported checkpoints we cannot reach). */
  readonly prefer?: readonly string[]
  /** Peers worth waiting for (e.g. the bootstrap list): ask several, never trust the first alone. */
  readonly expectPeers?: number
  /** Aborted: the node is stopping; the join ends with the signal's reason. */
  readonly signal?: AbortSignal
}

/** How long to wait for more peers once one is connected, before asking. */
const GATHER_MS = 3000

const TICK_MS = 250
const PROGRESS_MS = 2000

/**
 * Downloads and verifies the latest certified checkpoint. Resolves undefined when the peers that
 * answered have no checkpoint yet (the network is young: start from genesis instead).
 */
export async function joinNetwork (run: JoinRun): Promise<{ cp: CertifiedCheckpoint, ledger: ReplicatedAlgorithm } | undefined> {
  const { net, log } = run
  const started = Date.now()
  const sleep = async (ms: number): Promise<void> => {
    await new Promise(resolve => setTimeout(resolve, ms))
    run.signal?.throwIfAborted()
  }
  run.signal?.throwIfAborted()
  while (net.connectedPeers().length === 0) {
    if (Date.now() - started > (run.connectTimeout ?? 30_000)) throw new JoinError('no peer reachable: check --bootstrap and that the network is up')
    await sleep(100)
  }
  const gatherUntil = Date.now() + GATHER_MS
  while (net.connectedPeers().length < Math.min(run.expectPeers ?? 1, run.options?.offersWanted ?? 3) && Date.now() < gatherUntil) await sleep(100)
  const joiner = new Joiner(run.genesis, run.set, run.options)
  let inFlight = 0
  let lastProgress = 0
  let reported = 0
  const carry = (reqs: readonly JoinRequest[]): void => {
    for (const req of reqs) {
      inFlight++
      void ask(req).finally(() => { inFlight-- })
    }
  }
  const ask = async (req: JoinRequest): Promise<void> => {
    const bytes = encodeSyncRequest(req.kind === 'latest' ? { type: 'latest' } : { type: 'chunk', root: req.root, index: req.index })
    let answer
    try {
      answer = decodeSyncResponse(await net.request(req.peer, bytes, { timeoutMs: run.options?.requestTimeout ?? 10_000 }))
    } catch (err) {
      carry(joiner.onFailure(req, (err as Error).message, Date.now()))
      return
    }
    const now = Date.now()
    if (answer.type === 'none' && req.kind === 'latest') {
      carry(joiner.onNone(req.peer, now))
    } else if (req.kind === 'latest' && answer.type === 'offer') {
      carry(joiner.onOffer(req.peer, answer.checkpoint, answer.manifest, now, answer.epochs))
    } else if (req.kind === 'chunk' && answer.type === 'chunk' && answer.index === req.index) {
      carry(joiner.onChunk(req.peer, req.index, answer.bytes, now))
    } else {
      carry(joiner.onFailure(req, `answered a ${answer.type} to a ${req.kind} request`, now))
    }
  }
  const peers = (): string[] => {
    const connected = net.connectedPeers()
    const first = (run.prefer ?? []).filter(p => connected.includes(p))
    return [...first, ...connected.filter(p => !first.includes(p))]
  }
  log.info('joining: asking peers for their latest certified checkpoint', { peers: net.connectedPeers().length })
  carry(joiner.addPeers(peers(), Date.now()))
  for (;;) {
    await sleep(TICK_MS)
    const now = Date.now()
    for (const m of joiner.misbehaved.slice(reported)) log.warn('peer misbehaved during the join; its data is not used', { peer: m.peer.slice(0, 16), what: m.reason })
    reported = joiner.misbehaved.length
    const done = joiner.result()
    if (done !== undefined) {
      const p = joiner.progress()
      log.info('joined: snapshot verified and rebuilt', { height: done.cp.msg.height, root: Buffer.from(done.cp.msg.root).toString('hex').slice(0, 16), chunks: p.chunks, bytes: p.bytes, ms: now - started })
      return done
    }
    if (joiner.failure !== undefined) throw new JoinError(`join failed: ${joiner.failure}`)
    const p = joiner.progress()
    carry(joiner.addPeers(peers(), now))
    if (p.phase === 'offers') {
      // every peer answered and none has a checkpoint to offer: nothing to download
      if (inFlight === 0 && joiner.exhausted) {
        log.info('no peer offers a certified checkpoint: starting from genesis', { misbehaved: joiner.misbehaved.length })
        return undefined
      }
    }
    const tick = joiner.tick(now)
    carry(tick.requests)
    if (p.phase === 'chunks' && now - lastProgress >= PROGRESS_MS) {
      lastProgress = now
      const elapsed = (now - started) / 1000
      const rate = p.chunksDone / Math.max(elapsed, 0.001)
      const eta = rate > 0 ? Math.round((p.chunks - p.chunksDone) / rate) : undefined
      log.info('joining: downloading the snapshot', { height: p.height, chunks: `${p.chunksDone}/${p.chunks}`, bytes: p.bytes, sources: p.sources, eta: eta === undefined ? 'unknown' : `${eta}s` })
    }
  }
}
