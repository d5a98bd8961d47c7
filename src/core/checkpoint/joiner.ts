// Joining: a node with no state downloads the latest certified checkpoint without trusting any one
// peer. It asks several peers for their latest checkpoint and manifest, keeps only offers whose
// signatures certify them (a quorum of the validators of its epoch, whose chain from genesis comes
// with the offer and is checked link by link, or a root the operator trusts) and whose
// manifest hashes to the signed root, takes the highest, then downloads chunks from every peer that
// offered that root, checking each chunk against the manifest. A peer that lies, serves something
// stale, or stops answering is named and its work goes to another peer. Sans-IO like the replica:
// the host carries requests and answers and passes the time in.

import { bytesEqual } from '../codec/canonical.js'
import { toHex } from '../crypto/hash.js'
import type { Hash } from '../crypto/hash.js'
import { decodeMessage } from '../broadcast/messages.js'
import type { CheckpointMsg } from '../broadcast/messages.js'
import type { PeerId } from '../broadcast/actions.js'
import { faultModel } from '../ledger/genesis.js'
import type { Genesis } from '../ledger/genesis.js'
import type { ReplicatedAlgorithm } from '../algorithm/algorithm.js'
import { restoreAlgorithm } from '../algorithm/registry.js'
import { MalformedError } from '../errors.js'
import { checkCertified } from './certificate.js'
import { EpochChain } from '../epoch/epochs.js'
import type { ValidatorSet } from './certificate.js'
import type { CertifiedCheckpoint } from './keeper.js'
import { chunkMatches, decodeManifest, manifestRoot } from './snapshot.js'
import type { Manifest } from './snapshot.js'

export interface JoinOptions {
  /** Accept a checkpoint with this root whatever its signatures (the operator vouches for it). */
  trustedRoot?: Hash
  /** Offers to wait for before choosing (fewer if fewer peers answer). */
  offersWanted: number
  /** How long to wait for more offers once one valid offer is in (ms). */
  offerWait: number
  /** A request unanswered this long counts as a failure of that peer (ms). */
  requestTimeout: number
  /** Chunk requests one peer has in flight at once. */
  perPeer: number
  /** Failures (timeouts, refusals) after which a peer gets no more requests. */
  maxFailures: number
  /**
   * Only checkpoints above this height are wanted (a node that holds state never goes back to an
   * older one); offers at or below it count as 'none'.
   */
  above: number
}

export const DEFAULT_JOIN: JoinOptions = { offersWanted: 3, offerWait: 2000, requestTimeout: 10_000, perPeer: 2, maxFailures: 2, above: 0 }

export type JoinRequest =
  | { readonly peer: PeerId, readonly kind: 'latest' }
  | { readonly peer: PeerId, readonly kind: 'chunk', readonly root: Hash, readonly index: number }

export interface Misbehaviour { readonly peer: PeerId, readonly reason: string }

export interface JoinProgress {
  readonly phase: 'offers' | 'chunks' | 'done' | 'failed'
  readonly height?: number
  readonly chunks: number
  readonly chunksDone: number
  readonly bytes: number
  readonly sources: number
}

interface Offer { readonly peer: PeerId, readonly msg: CheckpointMsg, readonly bytes: Uint8Array, readonly manifest: Manifest, readonly manifestBytes: Uint8Array, readonly epochs: readonly Uint8Array[] }

/** A joined checkpoint, its state, and the epoch records that certify its signers. */
export interface JoinOutcome { readonly cp: CertifiedCheckpoint, readonly ledger: ReplicatedAlgorithm, readonly epochs: readonly Uint8Array[] }

interface InFlight { readonly peer: PeerId, readonly index: number, readonly since: number }

export class Joiner {
  private readonly opts: JoinOptions
  private readonly asked = new Map<PeerId, number>()
  private readonly offers: Offer[] = []
  private firstOfferAt: number | undefined
  private chosen: Offer | undefined
  /** Roots whose every source failed: the join falls back to the next certified one. */
  private readonly abandoned = new Set<string>()
  private readonly sources = new Set<PeerId>()
  private readonly failures = new Map<PeerId, number>()
  private readonly chunks: Array<Uint8Array | undefined> = []
  private readonly inFlight = new Map<string, InFlight>()
  private wanted: number[] = []
  private bytes = 0
  private outcome: JoinOutcome | undefined
  private failed: string | undefined
  /** Every peer caught misbehaving, with what it did. */
  readonly misbehaved: Misbehaviour[] = []

  constructor (private readonly genesis: Genesis, private readonly set: ValidatorSet, opts: Partial<JoinOptions> = {}) {
    this.opts = { ...DEFAULT_JOIN, ...opts }
  }

  /** Peers to ask: new ones get a 'latest' request (late ones may become sources or be named). */
  addPeers (peers: readonly PeerId[], now: number): JoinRequest[] {
    if (this.outcome !== undefined || this.failed !== undefined) return []
    const out: JoinRequest[] = []
    for (const peer of peers) {
      if (this.asked.has(peer)) continue
      this.asked.set(peer, now)
      out.push({ peer, kind: 'latest' })
    }
    return out
  }

  /** A peer has no certified checkpoint to offer (a young network, or a node that just joined). */
  onNone (peer: PeerId, now: number): JoinRequest[] {
    if (this.asked.get(peer) === undefined || this.asked.get(peer) === -1) return []
    this.asked.set(peer, -1)
    return this.maybeChoose(now)
  }

  /** Every peer asked has answered or failed, and none offered a usable checkpoint. */
  get exhausted (): boolean {
    return this.chosen === undefined && this.offers.length === 0 && [...this.asked.values()].every(at => at === -1)
  }

  /** A peer's latest certified checkpoint and its manifest. */
  onOffer (peer: PeerId, checkpointBytes: Uint8Array, manifestBytes: Uint8Array, now: number, epochs: readonly Uint8Array[] = []): JoinRequest[] {
    if (!this.asked.has(peer) || this.asked.get(peer) === -1) return []
    this.asked.set(peer, -1) // answered
    let msg
    try {
      msg = decodeMessage(checkpointBytes)
    } catch (err) {
      return this.blame(peer, `sent a malformed checkpoint: ${(err as Error).message}`, now)
    }
    if (msg.type !== 'checkpoint') return this.blame(peer, `sent a ${msg.type} message instead of a checkpoint`, now)
    const trusted = this.opts.trustedRoot !== undefined && bytesEqual(this.opts.trustedRoot, msg.root)
    // the signers count only as validators of the checkpoint's epoch, proven link by link from
    // genesis; only the proven records are kept (the node restores them as its chain)
    const chain = this.setAt(msg.epoch ?? 0, epochs)
    epochs = chain.proven
    if (!trusted) {
      if (chain.set === undefined) return this.blame(peer, `served a checkpoint whose epoch is not proven: ${chain.problem}`, now)
      const problem = checkCertified(chain.set, msg)
      if (problem !== undefined) return this.blame(peer, `served a forged checkpoint: ${problem}`, now)
    }
    if (!bytesEqual(manifestRoot(manifestBytes), msg.root)) return this.blame(peer, 'served a manifest that does not hash to the checkpoint root', now)
    let manifest
    try {
      manifest = decodeManifest(manifestBytes)
    } catch (err) {
      return this.blame(peer, `served a malformed manifest: ${(err as Error).message}`, now)
    }
    if (manifest.height !== msg.height) return this.blame(peer, 'served a manifest whose height differs from the checkpoint', now)
    if (msg.height <= this.opts.above) return this.maybeChoose(now) // genuine, but not above what we hold
    const chosen = this.chosen
    if (chosen !== undefined) {
      // a late offer: another source for the chosen snapshot, or a stale one to name
      if (bytesEqual(msg.root, chosen.msg.root)) {
        this.sources.add(peer)
        return this.assign(now)
      }
      if (msg.height < chosen.msg.height) this.misbehaved.push({ peer, reason: `served a stale checkpoint (height ${msg.height}; ${chosen.msg.height} is certified)` })
      this.offers.push({ peer, msg, bytes: checkpointBytes, manifest, manifestBytes, epochs }) // a fallback
      return []
    }
    this.offers.push({ peer, msg, bytes: checkpointBytes, manifest, manifestBytes, epochs })
    this.firstOfferAt ??= now
    return this.maybeChoose(now)
  }

  onChunk (peer: PeerId, index: number, bytes: Uint8Array, now: number): JoinRequest[] {
    const key = `${peer}/${index}`
    if (!this.inFlight.has(key)) return []
    this.inFlight.delete(key)
    const chosen = this.chosen!
    if (this.chunks[index] !== undefined) return this.assign(now)
    if (!chunkMatches(chosen.manifest, index, bytes)) {
      this.sources.delete(peer)
      this.failures.set(peer, this.opts.maxFailures)
      this.wanted.unshift(index)
      this.misbehaved.push({ peer, reason: `served chunk ${index} that does not match the manifest (${bytes.length} bytes)` })
      return this.assign(now)
    }
    this.chunks[index] = bytes
    this.bytes += bytes.length
    if (this.chunks.every(c => c !== undefined)) this.assemble()
    return this.assign(now)
  }

  /** A request failed (unreachable, refused, reset): counts against the peer; its work moves on. */
  onFailure (req: JoinRequest, reason: string, now: number): JoinRequest[] {
    if (req.kind === 'latest') {
      if (this.asked.get(req.peer) === -1) return []
      this.asked.set(req.peer, -1)
      this.misbehaved.push({ peer: req.peer, reason: `did not answer for its checkpoint (${reason})` })
      return this.maybeChoose(now)
    }
    const key = `${req.peer}/${req.index}`
    if (!this.inFlight.delete(key)) return []
    this.fail(req.peer, `stopped answering: chunk ${req.index} ${reason}`)
    if (this.chunks[req.index] === undefined) this.wanted.unshift(req.index)
    return this.assign(now)
  }

  /** Time passes: requests out too long fail; offers stop being awaited. */
  tick (now: number): { requests: JoinRequest[], expired: JoinRequest[] } {
    const expired: JoinRequest[] = []
    for (const [peer, at] of this.asked) if (at >= 0 && now - at >= this.opts.requestTimeout) expired.push({ peer, kind: 'latest' })
    if (this.chosen !== undefined) {
      for (const f of this.inFlight.values()) if (now - f.since >= this.opts.requestTimeout) expired.push({ peer: f.peer, kind: 'chunk', root: this.chosen.msg.root, index: f.index })
    }
    const requests: JoinRequest[] = []
    for (const req of expired) requests.push(...this.onFailure(req, 'timed out', now))
    requests.push(...this.maybeChoose(now))
    return { requests, expired }
  }

  progress (): JoinProgress {
    const phase = this.failed !== undefined ? 'failed' : this.outcome !== undefined ? 'done' : this.chosen !== undefined ? 'chunks' : 'offers'
    const total = this.chosen?.manifest.chunks.length ?? 0
    return {
      phase,
      ...(this.chosen === undefined ? {} : { height: this.chosen.msg.height }),
      chunks: total,
      chunksDone: this.chunks.filter(c => c !== undefined).length,
      bytes: this.bytes,
      sources: this.sources.size
    }
  }

  /** Why the join cannot finish (every source failed), or undefined. */
  get failure (): string | undefined {
    return this.failed
  }

  /** The verified checkpoint and the state rebuilt from it, once every chunk is in. */
  result (): JoinOutcome | undefined {
    return this.outcome
  }

  // -------------------------------------------------------------------------------------------

  private maybeChoose (now: number): JoinRequest[] {
    if (this.chosen !== undefined || this.offers.length === 0) return []
    const waiting = [...this.asked.values()].some(at => at >= 0)
    const enough = this.offers.length >= this.opts.offersWanted || !waiting || now - this.firstOfferAt! >= this.opts.offerWait
    if (!enough) return []
    return this.choose(now, true)
  }

  /** Takes the highest offer not abandoned yet, with every peer that offered its root as a source. */
  private choose (now: number, first: boolean): JoinRequest[] {
    const usable = this.offers.filter(o => !this.abandoned.has(toHex(o.msg.root)))
    if (usable.length === 0) {
      this.failed = 'no peer that offered a certified checkpoint is left to serve its chunks'
      return []
    }
    const best = usable.reduce((a, b) => (b.msg.height > a.msg.height ? b : a))
    this.chosen = best
    this.sources.clear()
    this.inFlight.clear()
    for (const o of usable) {
      // a peer that lied or stopped answering serves nothing more
      if (bytesEqual(o.msg.root, best.msg.root) && (this.failures.get(o.peer) ?? 0) < this.opts.maxFailures) this.sources.add(o.peer)
      else if (first && o.msg.height < best.msg.height) this.misbehaved.push({ peer: o.peer, reason: `served a stale checkpoint (height ${o.msg.height}; ${best.msg.height} is certified)` })
    }
    this.wanted = best.manifest.chunks.map((_, i) => i)
    // dense, so every() and forEach() see the chunks still missing
    this.chunks.length = 0
    this.chunks.push(...best.manifest.chunks.map(() => undefined))
    this.bytes = 0
    return this.assign(now)
  }

  /** Hands out missing chunks to sources with spare capacity, spreading them across peers. */
  private assign (now: number): JoinRequest[] {
    const chosen = this.chosen
    if (chosen === undefined || this.outcome !== undefined || this.failed !== undefined) return []
    if (this.sources.size === 0) {
      // every source of this root failed: a lower certified root served by others still helps
      this.abandoned.add(toHex(chosen.msg.root))
      return this.choose(now, false)
    }
    const load = new Map<PeerId, number>()
    for (const f of this.inFlight.values()) load.set(f.peer, (load.get(f.peer) ?? 0) + 1)
    const out: JoinRequest[] = []
    const peers = [...this.sources]
    let turn = 0
    while (this.wanted.length > 0) {
      // the least loaded source with room, in turn
      let peer: PeerId | undefined
      for (let k = 0; k < peers.length && peer === undefined; k++) {
        const p = peers[(turn + k) % peers.length]!
        if ((load.get(p) ?? 0) < this.opts.perPeer) peer = p
      }
      if (peer === undefined) break
      turn++
      const index = this.wanted.shift()!
      if (this.chunks[index] !== undefined) continue
      load.set(peer, (load.get(peer) ?? 0) + 1)
      this.inFlight.set(`${peer}/${index}`, { peer, index, since: now })
      out.push({ peer, kind: 'chunk', root: chosen.msg.root, index })
    }
    return out
  }

  private assemble (): void {
    const chosen = this.chosen!
    try {
      this.outcome = { ...rebuildCheckpoint(this.genesis, chosen.bytes, chosen.manifestBytes, this.chunks as Uint8Array[]), epochs: chosen.epochs }
    } catch (err) {
      // every chunk matched a manifest a quorum signed: only a certified bad state gets here
      this.failed = `the certified snapshot does not rebuild: ${(err as Error).message}`
    }
  }

  /**
   * The set of `epoch`, verified from genesis through `records` (or why it cannot be), and the
   * records up to it that verified.
   */
  private setAt (epoch: number, records: readonly Uint8Array[]): { set?: ValidatorSet, problem?: string, proven: Uint8Array[] } {
    if (epoch === 0) return { set: this.set, proven: [] }
    const chain = new EpochChain(this.set.scheme, this.set.networkId, this.genesis.validators, faultModel(this.genesis))
    const proven: Uint8Array[] = []
    for (const [i, bytes] of records.slice(0, epoch).entries()) {
      let m
      try {
        m = decodeMessage(bytes)
      } catch (err) {
        return { problem: `epoch record ${i + 1} is malformed: ${(err as Error).message}`, proven }
      }
      if (m.type !== 'reconfigure') return { problem: `epoch record ${i + 1} is a ${m.type} message`, proven }
      const next = chain.extend(m, m.sigs, bytes)
      if (typeof next === 'string') return { problem: next, proven }
      proven.push(bytes)
    }
    const e = chain.get(epoch)
    if (e === undefined) return { problem: `the checkpoint names epoch ${epoch} and only ${chain.current.number} came with it`, proven }
    return { set: { networkId: this.set.networkId, scheme: this.set.scheme, validators: e.members, quorum: e.quorum }, proven }
  }

  private fail (peer: PeerId, reason: string): void {
    this.misbehaved.push({ peer, reason })
    const n = (this.failures.get(peer) ?? 0) + 1
    this.failures.set(peer, n)
    if (n >= this.opts.maxFailures) this.sources.delete(peer)
  }

  private blame (peer: PeerId, reason: string, now: number): JoinRequest[] {
    this.misbehaved.push({ peer, reason })
    return this.maybeChoose(now)
  }
}

/**
 * A checkpoint and the state behind it, rebuilt from stored or downloaded bytes and checked: the
 * chunks match the manifest, the manifest hashes to the signed root, and the rebuilt state hashes
 * to it too. Signatures are the caller's to check. Throws MalformedError (or Error on a mismatch).
 */
export function rebuildCheckpoint (genesis: Genesis, checkpointBytes: Uint8Array, manifestBytes: Uint8Array, chunks: readonly Uint8Array[]): { cp: CertifiedCheckpoint, ledger: ReplicatedAlgorithm } {
  const msg = decodeMessage(checkpointBytes)
  if (msg.type !== 'checkpoint') throw new MalformedError(`expected a checkpoint, got a ${msg.type} message`)
  if (!bytesEqual(manifestRoot(manifestBytes), msg.root)) throw new MalformedError('manifest does not hash to the checkpoint root')
  const manifest = decodeManifest(manifestBytes)
  // read by the algorithm the genesis names (a Ledger on a ledger network)
  const ledger = restoreAlgorithm(genesis, manifest, chunks)
  // the rebuilt state must hash to the signed root: proves the reading exact, not just the bytes
  if (!bytesEqual(ledger.stateHash(), msg.root)) throw new MalformedError(`rebuilt state has root ${toHex(ledger.stateHash()).slice(0, 16)}, not the checkpoint's`)
  return { cp: { msg, bytes: checkpointBytes, snapshot: { root: msg.root, manifest, manifestBytes, chunks } }, ledger }
}
