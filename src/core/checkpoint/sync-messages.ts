// The snapshot service's requests and answers: a joiner asks a peer for its latest certified
// checkpoint (with the manifest) and for chunks of a snapshot by root and index.

import { decode, encode } from '../codec/canonical.js'
import * as read from '../codec/read.js'
import type { Hash } from '../crypto/hash.js'
import { MalformedError } from '../errors.js'
import { MESSAGE_LIMITS } from '../broadcast/messages.js'
import { SNAPSHOT_LIMITS } from './snapshot.js'

export type SyncRequest =
  | { readonly type: 'latest' }
  | { readonly type: 'chunk', readonly root: Hash, readonly index: number }

export type SyncResponse =
  /** `epochs`: the certified changes of the validator set up to the checkpoint's epoch, in order. */
  | { readonly type: 'offer', readonly checkpoint: Uint8Array, readonly manifest: Uint8Array, readonly epochs?: readonly Uint8Array[] }
  | { readonly type: 'chunk', readonly index: number, readonly bytes: Uint8Array }
  /** The peer has nothing to give (no checkpoint yet, or not that snapshot any more). */
  | { readonly type: 'none', readonly reason: string }

export const SYNC_MESSAGE_LIMITS = {
  maxRequestBytes: 256,
  maxResponseBytes: SNAPSHOT_LIMITS.maxChunkBytes + 1024,
  /** Epoch records in one offer (a joiner verifies the chain up to the checkpoint's epoch from them). */
  maxOfferEpochs: 1024
} as const

export function encodeSyncRequest (r: SyncRequest): Uint8Array {
  return r.type === 'latest' ? encode({ type: r.type }) : encode({ type: r.type, root: r.root, index: r.index })
}

export function decodeSyncRequest (bytes: Uint8Array): SyncRequest {
  const v = decode(bytes, { maxBytes: SYNC_MESSAGE_LIMITS.maxRequestBytes, maxDepth: 2, maxItems: 8 })
  const m = read.map(v, 'sync request', ['type', 'root', 'index'])
  const type = read.text(m.type, 'sync request.type', 16)
  if (type === 'latest') return { type }
  if (type === 'chunk') return { type, root: read.bytes(m.root, 'sync request.root', 32), index: read.uint(m.index, 'sync request.index', SNAPSHOT_LIMITS.maxChunks) }
  throw new MalformedError(`unknown sync request ${JSON.stringify(type)}`)
}

export function encodeSyncResponse (r: SyncResponse): Uint8Array {
  switch (r.type) {
    // without epochs the offer encodes as before, so a network that never reconfigured is unchanged
    case 'offer': return encode({ type: r.type, checkpoint: r.checkpoint, manifest: r.manifest, ...(r.epochs === undefined || r.epochs.length === 0 ? {} : { epochs: [...r.epochs] }) })
    case 'chunk': return encode({ type: r.type, index: r.index, bytes: r.bytes })
    case 'none': return encode({ type: r.type, reason: r.reason })
  }
}

export function decodeSyncResponse (bytes: Uint8Array): SyncResponse {
  const v = decode(bytes, { maxBytes: SYNC_MESSAGE_LIMITS.maxResponseBytes, maxDepth: 2, maxItems: SYNC_MESSAGE_LIMITS.maxOfferEpochs })
  const m = read.map(v, 'sync response', ['type', 'checkpoint', 'manifest', 'index', 'bytes', 'reason', 'epochs'])
  const type = read.text(m.type, 'sync response.type', 16)
  switch (type) {
    case 'offer': {
      const epochs = m.epochs === undefined ? [] : read.list(m.epochs, 'offer.epochs', SYNC_MESSAGE_LIMITS.maxOfferEpochs).map((e, i) => read.bytes(e, `offer.epochs[${i}]`, undefined, MESSAGE_LIMITS.maxMessageBytes))
      return { type, checkpoint: read.bytes(m.checkpoint, 'offer.checkpoint', undefined, MESSAGE_LIMITS.maxMessageBytes), manifest: read.bytes(m.manifest, 'offer.manifest', undefined, 64 + SNAPSHOT_LIMITS.maxChunks * 40), epochs }
    }
    case 'chunk': return { type, index: read.uint(m.index, 'chunk.index', SNAPSHOT_LIMITS.maxChunks), bytes: read.bytes(m.bytes, 'chunk.bytes', undefined, SNAPSHOT_LIMITS.maxChunkBytes) }
    case 'none': return { type, reason: read.text(m.reason, 'none.reason', 256) }
    default: throw new MalformedError(`unknown sync response ${JSON.stringify(type)}`)
  }
}
