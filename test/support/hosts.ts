// Real P2PNetwork hosts on 127.0.0.1 for tests of the network layer itself: ports come from the
// harness, handlers from the test, and a logger that keeps what each host said so a test can
// check who was named.

import '../../src/net/polyfill.js'
import { toHex } from '../../src/core/crypto/hash.js'
import { sodiumScheme } from '../../src/native/sodium.js'
import { recordingLogger } from './recording-logger.js'
import type { LogLine } from './recording-logger.js'
import { P2PNetwork } from '../../src/net/network.js'
import type { NetworkHandlers, NetworkInit } from '../../src/net/network.js'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { freePorts, waitFor } from './ports.js'
import { seedOf } from './localnet.js'

export { recordingLogger }
export type { LogLine }

export const TEST_NETWORK_ID = 'cd'.repeat(32)

export interface Hosts {
  nets: P2PNetwork[]
  keys: string[]
  logs: Array<LogLine[]>
  stop: () => Promise<void>
}

/**
 * Starts one host per handler set, seeded from `label`, and connects every other host to the
 * first. `init` overrides the defaults for every host (inboundRate 1000).
 */
export async function startHosts (label: string, handlers: NetworkHandlers[], init: Partial<NetworkInit> = {}): Promise<Hosts> {
  const ports = await freePorts(handlers.length)
  const seeds = handlers.map((_, i) => seedOf(label, i))
  const keys = seeds.map(s => toHex(sodiumScheme.publicKeyOf(s)))
  const nets: P2PNetwork[] = []
  const logs: Array<LogLine[]> = []
  const stop = async (): Promise<void> => { await Promise.all(nets.map(async n => await n.stop())) }
  try {
    for (let i = 0; i < handlers.length; i++) {
      const log = recordingLogger()
      logs.push(log.lines)
      nets.push(await P2PNetwork.start({
        seed: seeds[i]!,
        networkId: TEST_NETWORK_ID,
        listen: [`/ip4/127.0.0.1/tcp/${ports[i]!}`],
        bootstrap: [],
        mdns: false,
        maxConnections: 16,
        inboundRate: 1000,
        log,
        ...init
      }, handlers[i]!))
    }
    for (const net of nets.slice(1)) await net.dial(nets[0]!.addresses()[0]!)
    // the first host must have registered each connection too, or a send to that peer finds no address
    await waitFor('every host connected to the first', 10_000, () => keys.slice(1).every(k => nets[0]!.connectedPeers().includes(k)))
  } catch (err) {
    await stop()
    throw err
  }
  return { nets, keys, logs, stop }
}

/** Waits until every pair of connected hosts knows the other is on the certificates topic. */
export async function waitForGossipMesh (hosts: Hosts, pairs: Array<[number, number]>): Promise<void> {
  await waitFor('peers on the certificates topic', 10_000, () => pairs.every(([a, b]) =>
    hosts.nets[a]!.gossipPeers().includes(hosts.keys[b]!) && hosts.nets[b]!.gossipPeers().includes(hosts.keys[a]!)))
}

/**
 * A bare libp2p peer built without the project's network code (TCP, noise, yamux, nothing else):
 * it dials and writes what a test wants, as an attacker would.
 */
export async function rawPeer (seed: Uint8Array): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', seed),
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}
