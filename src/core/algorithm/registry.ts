// Picks the replicated algorithm a genesis names and rebuilds one from a checkpoint's snapshot.
// Adding an algorithm: a name in ALGORITHMS, a class implementing ReplicatedAlgorithm, and one
// case in each function here (docs/architecture.md walks through it).

import type { Genesis } from '../ledger/genesis.js'
import { Ledger } from '../ledger/ledger.js'
import { readSnapshot } from '../checkpoint/snapshot.js'
import type { Manifest } from '../checkpoint/snapshot.js'
import { ORSet } from './orset.js'
import type { AlgorithmName, ReplicatedAlgorithm } from './algorithm.js'

export function algorithmOf (genesis: Genesis): AlgorithmName {
  return genesis.algorithm ?? 'ledger'
}

/** The algorithm's state at genesis. */
export function createAlgorithm (genesis: Genesis): ReplicatedAlgorithm {
  switch (algorithmOf(genesis)) {
    case 'ledger': return new Ledger(genesis)
    case 'orset': return new ORSet(genesis)
  }
}

/**
 * The state a snapshot holds, read by the algorithm the genesis names. Chunks are checked against
 * the manifest; the caller compares the rebuilt state's root with the signed one.
 */
export function restoreAlgorithm (genesis: Genesis, manifest: Manifest, chunks: readonly Uint8Array[]): ReplicatedAlgorithm {
  switch (algorithmOf(genesis)) {
    case 'ledger': return Ledger.fromState(genesis, readSnapshot(manifest, chunks))
    case 'orset': return ORSet.fromSnapshot(genesis, manifest, chunks)
  }
}
