// The node's libp2p host: TCP + noise + yamux + identify, bootstrap and mDNS discovery, gossipsub
// for certificates, one direct protocol for everything addressed to one peer (proposals,
// votes, nacks, fetches, frontiers and their answers), and a sync protocol for requests that want
// an answer from a chosen peer (checkpoints, snapshot chunks; see sync.ts). A peer is known by the
// hex of its ed25519 key, the same key that signs its votes. Nothing here interprets protocol
// messages: every inbound frame goes to the handlers, which return a verdict (gossip validation
// uses it so invalid traffic is never forwarded, and its sender's gossipsub score drops).

import './polyfill.js'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { bootstrap } from '@libp2p/bootstrap'
import { mdns } from '@libp2p/mdns'
import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
import type { GossipSub } from '@libp2p/gossipsub'
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, Stream } from '@libp2p/interface'
import type { PeerScoreParams, PeerScoreThresholds } from '@libp2p/gossipsub/score'
import { lpStream } from '@libp2p/utils'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Registry } from 'prom-client'
import { fromHex, toHex } from '../core/crypto/hash.js'
import type { Verdict } from '../core/broadcast/actions.js'
import { MESSAGE_LIMITS } from '../core/broadcast/messages.js'
import type { Logger } from '../node/log.js'
import { LogThrottle } from '../node/log-throttle.js'
import { RateLimiter } from './rate-limit.js'
import { libp2pMetrics } from './libp2p-metrics.js'
import { PREFIX_ROOM, SYNC_LIMITS, SyncRequestError, exchange, isOverLimit, serve } from './sync.js'

export interface NetworkInit {
  /** The node's ed25519 seed: its libp2p identity is this key. */
  readonly seed: Uint8Array
  /** Hex network id: protocols and topics are scoped to one network. */
  readonly networkId: string
  readonly listen: readonly string[]
  readonly bootstrap: readonly string[]
  readonly mdns: boolean
  readonly maxConnections: number
  /**
   * Direct frames and sync requests one peer may send per second (bursts of twice that). Gossip
   * is not counted: gossipsub has marked a message seen before we could drop it.
   */
  readonly inboundRate: number
  /**
   * Subscribe to the certificates topic (default true). A validator does not: its peers send it
   * certificates directly, in order with their proposals; gossip carries them among observers.
   */
  readonly subscribe?: boolean
  /** Where libp2p records its metrics (connections, dials, bytes per protocol); unset: nowhere. */
  readonly metrics?: Registry
  /** Told of every protocol message sent and received (`*`: gossip), for charts (node/trace.ts). */
  readonly trace?: { sent: (to: string, bytes: Uint8Array) => void, received: (from: string, bytes: Uint8Array) => void }
  readonly log: Logger
}

export interface NetworkHandlers {
  /** A frame sent to this node directly. */
  direct (from: string, bytes: Uint8Array): Verdict
  /** A gossiped certificate, before it is forwarded: accept forwards it, reject penalises the sender. */
  gossip (from: string, bytes: Uint8Array): Verdict
  /**
   * A sync request: the answer to send back, or undefined to refuse (the client sees 'refused', as
   * it does for an empty answer). Not set: every request is refused.
   */
  sync? (from: string, request: Uint8Array): Promise<Uint8Array | undefined>
}

export interface SyncRequestOptions {
  /** Bound on the whole exchange, dial included (ms); SYNC_LIMITS.timeoutMs by default. */
  timeoutMs?: number
  /** The largest answer accepted, at most SYNC_LIMITS.maxResponseBytes. */
  maxResponseBytes?: number
}

/** How often lost bootstrap peers are dialed again (ms). */
const REDIAL_MS = 2000

/**
 * Bootstrap peers that cannot be reached are summed up at info: first once peers had this long
 * to come up after start (ms), then when the set changes, and while it lasts every DIAL_REPORT_MS.
 */
const DIAL_GRACE_MS = 10_000
const DIAL_REPORT_MS = 60_000

/** A peer cut off for misbehaving is named once per this long (ms), with a count of the rest. */
const MISBEHAVIOUR_REPORT_MS = 60_000

/** What one outbound channel may hold before it drops the oldest frames (the protocol resends). */
const MAX_QUEUED_FRAMES = 4096

/**
 * The most one yamux stream lets a peer send ahead of our reader. Yamux grants window as data
 * arrives, not as it is read, so this is also the most that can land on a reader at once.
 */
const STREAM_WINDOW = 4 * 1024 * 1024

/**
 * What a direct stream's reader may buffer: the unfinished rest of one maximal frame plus one
 * window arriving on top of it. Any less and an honest peer writing large frames back to back
 * has its stream aborted (lpStream's default is 4 MiB, the message limit itself).
 */
const READ_BUFFER = MESSAGE_LIMITS.maxMessageBytes + PREFIX_ROOM + STREAM_WINDOW

/** Connections one peer may hold to us: two is a simultaneous dial, one more a redial racing a close. */
const MAX_PEER_CONNECTIONS = 3

/** Connections one host may open to us per second (libp2p's default, stated so it is seen). */
const INBOUND_CONNECTIONS_PER_SECOND = 5

/** Gossipsub's router scores peers, but its public interface does not declare it. */
interface ScoredPubSub { getScore (peerId: string): number }

/** A bootstrap address we keep dialing, and why the last dial to it failed. */
interface DialTarget {
  readonly address: string
  readonly addr: Multiaddr
  readonly id: PeerId | undefined
  failure?: string
}

interface Channel {
  queue: Uint8Array[]
  stream?: LengthPrefixedStream<Stream>
  pumping: boolean
}

export class P2PNetwork {
  private readonly channels = new Map<string, Channel>()
  private readonly limiter: RateLimiter
  private readonly protocol: string
  private readonly syncProtocol: string
  private readonly topic: string
  private stopped = false
  private redial: NodeJS.Timeout | undefined
  /** Frees this node's copy of libp2p's metrics module once libp2p has stopped. */
  private releaseMetrics: (() => void) | undefined
  private readonly misbehaving = new LogThrottle(MISBEHAVIOUR_REPORT_MS)
  private readonly startedAt = Date.now()
  private dialReport = { unreachable: '', at: 0 }

  private constructor (private readonly node: Libp2p<{ pubsub: GossipSub }>, private readonly init: NetworkInit, private readonly handlers: NetworkHandlers) {
    this.protocol = `/bftnode/${init.networkId.slice(0, 16)}/direct/1.0.0`
    this.syncProtocol = `/bftnode/${init.networkId.slice(0, 16)}/sync/1.0.0`
    this.topic = topicOf(init.networkId)
    this.limiter = new RateLimiter(init.inboundRate, init.inboundRate * 2)
  }

  static async start (init: NetworkInit, handlers: NetworkHandlers): Promise<P2PNetwork> {
    const privateKey = await generateKeyPairFromSeed('Ed25519', init.seed)
    const peerDiscovery = []
    if (init.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: [...init.bootstrap] }))
    if (init.mdns) peerDiscovery.push(mdns())
    const topic = topicOf(init.networkId)
    // set once createLibp2p returns; a connection that arrives before then is the first anyway
    // eslint-disable-next-line prefer-const -- a const here would be in its TDZ when that callback runs early
    let started: Libp2p | undefined
    const misbehaving = new LogThrottle(MISBEHAVIOUR_REPORT_MS)
    const metrics = init.metrics === undefined ? undefined : await libp2pMetrics(init.metrics)
    const node = await createLibp2p({
      privateKey,
      addresses: { listen: [...init.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: STREAM_WINDOW, maxReadBufferLength: READ_BUFFER } })],
      peerDiscovery,
      ...(metrics === undefined ? {} : { metrics: metrics.metrics }),
      connectionManager: { maxConnections: init.maxConnections, inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND },
      connectionGater: {
        // checked once the peer has proven its key, before the muxer is set up
        denyInboundEncryptedConnection: peer => {
          const open = started?.getConnections(peer).length ?? 0
          if (open < MAX_PEER_CONNECTIONS) return false
          const key = keyOf(peer).slice(0, 16)
          const held = misbehaving.take(key)
          if (held !== undefined) init.log.warn('peer opened too many connections; refusing another', { peer: key, open, ...(held > 0 ? { refusedSinceLastReport: held } : {}) })
          return true
        }
      },
      services: {
        identify: identify(),
        ping: ping(),
        // Our own signatures authenticate every certificate: gossipsub's would only cost time.
        pubsub: gossipsub({
          globalSignaturePolicy: 'StrictNoSign',
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          emitSelf: false,
          D: 4,
          Dlo: 2,
          Dhi: 6,
          Dout: 1,
          maxInboundDataLength: MESSAGE_LIMITS.maxMessageBytes + 1024,
          // nothing else is ours to carry: other topics are dropped before they cost anything
          allowedTopics: [topic],
          scoreParams: scoreParams(topic),
          scoreThresholds: GOSSIP_SCORE_THRESHOLDS
        })
      }
    }).catch(err => {
      metrics?.release()
      throw err
    })
    started = node
    const net = new P2PNetwork(node, init, handlers)
    net.releaseMetrics = metrics?.release
    await net.wire()
    return net
  }

  private async wire (): Promise<void> {
    await this.node.handle(this.protocol, (stream, connection) => {
      void this.readFrom(stream, keyOf(connection.remotePeer))
    }, { maxInboundStreams: 4, maxOutboundStreams: 4 })
    // registered even without a handler, so a client gets a clear refusal rather than a failed dial
    await this.node.handle(this.syncProtocol, (stream, connection) => {
      const from = keyOf(connection.remotePeer)
      void serve(stream, from, async request => await this.answerSync(from, request), this.init.log)
    }, { maxInboundStreams: SYNC_LIMITS.maxStreams, maxOutboundStreams: SYNC_LIMITS.maxStreams })
    const pubsub = this.node.services.pubsub
    // No rate limit here: gossipsub marks a message seen before this runs, so dropping it for its
    // forwarder's rate would lose it for good (a peer that forwards first could suppress it).
    // A reject lowers the forwarder's score instead (see scoreParams).
    pubsub.topicValidators.set(this.topic, (peer, message) => {
      this.init.trace?.received(keyOf(peer), message.data)
      switch (this.handlers.gossip(keyOf(peer), message.data)) {
        case 'accept': return TopicValidatorResult.Accept
        case 'ignore': return TopicValidatorResult.Ignore
        case 'reject': return TopicValidatorResult.Reject
      }
    })
    if (this.init.subscribe ?? true) pubsub.subscribe(this.topic)
    this.node.addEventListener('peer:connect', evt => this.init.log.debug('peer connected', { peer: keyOf(evt.detail).slice(0, 16) }))
    // bootstrap dials its list once; validators come and go, so keep redialing the ones we lost
    const targets = this.init.bootstrap.flatMap((a): DialTarget[] => {
      try {
        const id = a.split('/p2p/')[1]
        return [{ address: a, addr: multiaddr(a), id: id === undefined ? undefined : peerIdFromString(id) }]
      } catch {
        this.init.log.warn('ignoring a bootstrap address that does not parse', { address: a })
        return []
      }
    })
    // libp2p 3 does not dial what discovery finds (mDNS only reports peers): we do
    this.node.addEventListener('peer:discovery', evt => {
      const id = evt.detail.id
      if (this.stopped || id.equals(this.node.peerId) || this.node.getConnections(id).length > 0) return
      this.node.dial(id).catch(err => {
        if (this.stopped) return
        const target = targets.find(t => t.id?.equals(id) === true)
        if (target !== undefined) target.failure = dialFailure(err)
        this.init.log.debug('dial failed', { peer: keyOf(id).slice(0, 16), ...(target === undefined ? {} : { address: target.address }), reason: dialFailure(err) })
      })
    })
    if (targets.length > 0) {
      this.redial = setInterval(() => {
        if (this.stopped) return
        this.reportUnreachable(targets)
        for (const t of targets) {
          if (t.id !== undefined && this.node.getConnections(t.id).length > 0) {
            t.failure = undefined
            continue
          }
          this.node.dial(t.addr).then(() => { t.failure = undefined }, err => {
            if (this.stopped) return
            t.failure = dialFailure(err)
            this.init.log.debug('dial failed', { address: t.address, reason: t.failure })
          })
        }
      }, REDIAL_MS)
    }
    this.node.addEventListener('peer:disconnect', evt => {
      const key = keyOf(evt.detail)
      const ch = this.channels.get(key)
      if (ch !== undefined) ch.stream = undefined
      this.init.log.debug('peer disconnected', { peer: key.slice(0, 16) })
    })
  }

  /** The info-level summary of bootstrap peers that dials do not reach (see DIAL_GRACE_MS). */
  private reportUnreachable (targets: readonly DialTarget[]): void {
    const now = Date.now()
    if (now - this.startedAt < DIAL_GRACE_MS) return
    const down = targets.filter(t => t.failure !== undefined && (t.id === undefined || this.node.getConnections(t.id).length === 0))
    const unreachable = down.map(t => t.address).join(' ')
    const last = this.dialReport
    if (unreachable === last.unreachable && (unreachable === '' || now - last.at < DIAL_REPORT_MS)) return
    this.dialReport = { unreachable, at: now }
    if (down.length === 0) {
      this.init.log.info(`reached every bootstrap peer again (${targets.length})`)
      return
    }
    const reasons = down.map(t => `${t.address} (${t.failure!})`).join(', ')
    this.init.log.info(`could not reach ${down.length} of ${targets.length} bootstrap peers: ${reasons}`, { unreachable: down.length, bootstrap: targets.length })
  }

  /** A peer cut off for misbehaving: named at warn, once per MISBEHAVIOUR_REPORT_MS. */
  private cutOff (peer: string, msg: string, fields: Record<string, unknown>): void {
    const held = this.misbehaving.take(`${msg}:${peer}`)
    if (held !== undefined) this.init.log.warn(msg, { peer, ...fields, ...(held > 0 ? { cutOffSinceLastReport: held } : {}) })
  }

  /**
   * Reads frames from one inbound stream until it ends. A peer over its rate has frames dropped
   * unread (the protocol resends); one that keeps on, or sends a frame over the message limit,
   * is named in the log and its stream closed.
   */
  private async readFrom (stream: Stream, from: string): Promise<void> {
    const lp = lpStream(stream, directFrames())
    const peer = from.slice(0, 16)
    let dropped = 0
    try {
      while (!this.stopped) {
        const frame = (await lp.read()).subarray()
        if (!this.limiter.take(from)) {
          if (++dropped > this.init.inboundRate * 4) {
            this.cutOff(peer, 'peer flooded the direct protocol; closing its stream', { dropped, rate: this.init.inboundRate })
            stream.abort(new Error(`peer ${peer} exceeded the inbound rate`))
            return
          }
          continue
        }
        this.init.trace?.received(from, frame)
        const verdict = this.handlers.direct(from, frame)
        if (verdict === 'reject') this.init.log.debug('rejected a message', { peer })
      }
    } catch (err) {
      if (this.stopped) return
      if (isOverLimit(err)) {
        this.cutOff(peer, 'peer sent more than the message limit allows; closing its stream', { limit: MESSAGE_LIMITS.maxMessageBytes, error: (err as Error).message })
        stream.abort(err as Error)
        return
      }
      // the stream ended or broke; the peer opens another when it has more to say
      this.init.log.debug('direct stream ended', { peer, error: (err as Error).message })
    }
  }

  /** Queues a frame for a peer; best effort, in order. Lost frames are the protocol's to resend. */
  send (to: string, bytes: Uint8Array): void {
    if (this.stopped) return
    if (bytes.byteLength > MESSAGE_LIMITS.maxMessageBytes) {
      // the peer would close the stream on it, and on every frame queued behind it
      this.init.log.warn('not sending a frame over the message limit', { peer: to.slice(0, 16), bytes: bytes.byteLength })
      return
    }
    this.init.trace?.sent(to, bytes)
    let ch = this.channels.get(to)
    if (ch === undefined) {
      ch = { queue: [], pumping: false }
      this.channels.set(to, ch)
    }
    ch.queue.push(bytes)
    if (ch.queue.length > MAX_QUEUED_FRAMES) ch.queue.shift()
    if (!ch.pumping) void this.pump(to, ch)
  }

  private async pump (to: string, ch: Channel): Promise<void> {
    ch.pumping = true
    try {
      while (ch.queue.length > 0 && !this.stopped) {
        if (ch.stream === undefined) {
          const stream = await this.node.dialProtocol(peerOf(to), this.protocol, { signal: AbortSignal.timeout(5000) })
          ch.stream = lpStream(stream, directFrames())
        }
        const frames = ch.queue.splice(0, 64)
        await ch.stream.writeV(frames)
      }
    } catch (err) {
      ch.stream = undefined
      ch.queue.length = 0 // the peer is unreachable now; what was queued is resent by the protocol
      this.init.log.debug('send failed', { peer: to.slice(0, 16), error: (err as Error).message })
    } finally {
      ch.pumping = false
    }
  }

  /** What the sync handler answers, if it is set and the peer is within its rate. */
  private async answerSync (from: string, request: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.handlers.sync === undefined || !this.limiter.take(from)) return undefined
    return await this.handlers.sync(from, request)
  }

  /**
   * Sends one sync request to a peer (hex key, as for send) and returns its answer. Throws
   * SyncRequestError: the peer could not be reached, refused (or the request is over
   * SYNC_LIMITS.maxRequestBytes), broke the stream, answered too much, or did not answer in time.
   */
  async request (peer: string, bytes: Uint8Array, opts: SyncRequestOptions = {}): Promise<Uint8Array> {
    if (this.stopped) throw new SyncRequestError(peer, 'closed')
    // the server refuses these unread; checking here spares the dial and a reset mid-write
    if (bytes.byteLength > SYNC_LIMITS.maxRequestBytes) throw new SyncRequestError(peer, 'refused')
    const signal = AbortSignal.timeout(opts.timeoutMs ?? SYNC_LIMITS.timeoutMs)
    const maxResponseBytes = Math.min(opts.maxResponseBytes ?? SYNC_LIMITS.maxResponseBytes, SYNC_LIMITS.maxResponseBytes)
    let stream: Stream
    try {
      stream = await this.node.dialProtocol(peerOf(peer), this.syncProtocol, { signal })
    } catch (err) {
      throw new SyncRequestError(peer, signal.aborted ? 'timeout' : 'unreachable', err)
    }
    return await exchange(stream, peer, bytes, maxResponseBytes, signal)
  }

  /** Connects to a multiaddr (with or without /p2p/<id>) and returns the peer's hex key. */
  async dial (address: string): Promise<string> {
    let target: Multiaddr
    try {
      target = multiaddr(address)
    } catch (err) {
      throw new Error(`not a peer address: ${JSON.stringify(address)} (${(err as Error).message})`)
    }
    try {
      const connection = await this.node.dial(target, { signal: AbortSignal.timeout(SYNC_LIMITS.timeoutMs) })
      return keyOf(connection.remotePeer)
    } catch (err) {
      throw new Error(`cannot connect to ${address}: ${(err as Error).message}`)
    }
  }

  /** Gossips a certificate to every node of the network. */
  publish (bytes: Uint8Array): void {
    if (this.stopped) return
    if (bytes.byteLength > MESSAGE_LIMITS.maxMessageBytes) {
      this.init.log.warn('not gossiping a message over the message limit', { bytes: bytes.byteLength })
      return
    }
    this.init.trace?.sent('*', bytes)
    this.node.services.pubsub.publish(this.topic, bytes).catch(err => {
      this.init.log.debug('publish failed', { error: (err as Error).message })
    })
  }

  /**
   * Joins or leaves the certificates topic: a node that becomes a validator hears certificates
   * directly from now on, and one removed from the set needs gossip again.
   */
  setSubscribed (on: boolean): void {
    if (this.stopped) return
    const pubsub = this.node.services.pubsub
    if (on) pubsub.subscribe(this.topic)
    else pubsub.unsubscribe(this.topic)
  }

  /** Keys of the peers we know to be subscribed to the certificates topic. */
  gossipPeers (): string[] {
    return this.node.services.pubsub.getSubscribers(this.topic).map(keyOf)
  }

  /**
   * A peer's gossipsub score: 0 for a peer in good standing, negative once it has forwarded
   * certificates we rejected; below GOSSIP_SCORE_THRESHOLDS.graylistThreshold its gossip is
   * dropped unread.
   */
  peerScore (key: string): number {
    return (this.node.services.pubsub as unknown as ScoredPubSub).getScore(peerOf(key).toString())
  }

  /** Keys of the peers we are connected to. */
  connectedPeers (): string[] {
    return [...new Set(this.node.getPeers().map(keyOf))]
  }

  addresses (): string[] {
    return this.node.getMultiaddrs().map(a => a.toString())
  }

  get peerId (): string {
    return this.node.peerId.toString()
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.redial !== undefined) clearInterval(this.redial)
    await this.node.stop()
    this.releaseMetrics?.()
  }
}

function topicOf (networkId: string): string {
  return `/bftnode/${networkId.slice(0, 16)}/certified/1`
}

/** lpStream options for the direct protocol (fresh each time: lpStream writes into them). */
function directFrames (): { maxDataLength: number, maxBufferSize: number } {
  return { maxDataLength: MESSAGE_LIMITS.maxMessageBytes, maxBufferSize: READ_BUFFER }
}

/**
 * Gossipsub score thresholds (its defaults, stated): below gossipThreshold a peer gets no gossip
 * from us, below publishThreshold none of our certificates, below graylistThreshold its RPCs are
 * dropped unread.
 */
export const GOSSIP_SCORE_THRESHOLDS: Pick<PeerScoreThresholds, 'gossipThreshold' | 'publishThreshold' | 'graylistThreshold'> = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80
}

/**
 * Gossipsub scoring for the certificates topic: only rejected certificates count. Each costs its
 * forwarder 10 x the square of its recent rejections, so three in quick succession put it below
 * the graylist, and the count decays by 1% a second (a half-life near 70 s). Rewards for mesh
 * time and first deliveries are off, so good behaviour banks no credit against rejections; the
 * delivery-rate and same-IP penalties are off too: certificates are rare under light load, and
 * small networks run several validators on one host.
 */
function scoreParams (topic: string): Partial<PeerScoreParams> {
  return {
    IPColocationFactorWeight: 0,
    topics: {
      [topic]: {
        topicWeight: 1,
        timeInMeshWeight: 0,
        timeInMeshQuantum: 1000,
        timeInMeshCap: 1,
        firstMessageDeliveriesWeight: 0,
        firstMessageDeliveriesDecay: 0.5,
        firstMessageDeliveriesCap: 1,
        meshMessageDeliveriesWeight: 0,
        meshMessageDeliveriesDecay: 0.5,
        meshMessageDeliveriesCap: 1,
        meshMessageDeliveriesThreshold: 1,
        meshMessageDeliveriesWindow: 0,
        meshMessageDeliveriesActivation: 1000,
        meshFailurePenaltyWeight: 0,
        meshFailurePenaltyDecay: 0.5,
        invalidMessageDeliveriesWeight: -10,
        invalidMessageDeliveriesDecay: 0.99
      }
    }
  }
}

/** Why a dial failed: libp2p wraps one error per address tried in an AggregateError. */
export function dialFailure (err: unknown): string {
  const inner = (err as { errors?: unknown }).errors
  if (Array.isArray(inner) && inner.length > 0) return [...new Set(inner.map(e => (e as Error).message))].join('; ')
  return (err as Error).message
}

/** The hex ed25519 key behind a libp2p peer id (ours are always ed25519). */
export function keyOf (peer: PeerId): string {
  const key = peer.publicKey
  return key === undefined ? peer.toString() : toHex(key.raw)
}

function peerOf (key: string): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(fromHex(key)))
}

export { peerIdForSeed } from './peer-id.js'
