// The sync protocol: one request and one answer per stream, for asking a chosen peer for data
// (its latest certified checkpoint, a chunk of a snapshot). Both frames are length-prefixed; an
// empty answer means the peer will not answer. This file holds the limits, the typed error and
// the two ends of one exchange; P2PNetwork opens and accepts the streams.

import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { BftError } from '../core/errors.js'
import type { Logger } from '../node/log.js'

export const SYNC_LIMITS = {
  /** A request larger than this is refused without reaching the handler. */
  maxRequestBytes: 64 * 1024,
  /** The largest answer a client accepts (a snapshot chunk with room to spare). */
  maxResponseBytes: 8 * 1024 * 1024,
  /** How long a client waits for the whole exchange, by default (ms). */
  timeoutMs: 10_000,
  /** Sync streams one connection may have open at once, each way. */
  maxStreams: 8
} as const

/** Room for the varint length prefix on top of a frame's data in a read buffer. */
export const PREFIX_ROOM = 16

/** How long a server waits for a request to arrive, and for its answer to be taken (ms). */
const SERVE_IO_MS = 10_000

/**
 * Why a request got no answer: no answer within the timeout; the peer would not answer (its
 * handler declined, it had no handler, it is rate limiting us, or the request is over the limit);
 * the answer was over the client's limit; no stream could be opened; the stream ended or broke
 * before an answer (a handler that failed, a peer that went away).
 */
export type SyncFailure = 'timeout' | 'refused' | 'too-large' | 'unreachable' | 'closed'

/** A sync request that got no answer: why, and from which peer (`cause`: what libp2p said, if anything). */
export class SyncRequestError extends BftError {
  readonly code = 'ERR_SYNC_REQUEST'
  constructor (readonly peer: string, readonly reason: SyncFailure, cause?: unknown) {
    super(`sync request to peer ${peer.slice(0, 16)} failed: ${reason}`)
    if (cause !== undefined) this.cause = cause
  }
}

/** True for the errors lpStream throws when a frame is over its limits. */
export function isOverLimit (err: unknown): boolean {
  const name = (err as Error | undefined)?.name
  return name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError' || name === 'StreamBufferError'
}

/** Client end: writes the request, reads the answer, closes; every step bounded by `signal`. */
export async function exchange (stream: Stream, peer: string, request: Uint8Array, maxResponseBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  // the read buffer must hold a whole answer (its default, 4 MiB, is below our limit)
  const lp = lpStream(stream, { maxDataLength: maxResponseBytes, maxBufferSize: maxResponseBytes + PREFIX_ROOM })
  let answer: Uint8Array
  try {
    await lp.write(request, { signal })
    answer = (await lp.read({ signal })).subarray()
  } catch (err) {
    stream.abort(err as Error)
    const reason = signal.aborted ? 'timeout' : isOverLimit(err) ? 'too-large' : 'closed'
    throw new SyncRequestError(peer, reason, err)
  }
  // we have the answer: a close that fails only needs the stream torn down
  await stream.close({ signal }).catch((err: Error) => stream.abort(err))
  if (answer.byteLength === 0) throw new SyncRequestError(peer, 'refused')
  return answer
}

/**
 * Server end: reads one request, passes it to `answer` (undefined refuses) and writes the answer.
 * Nothing thrown here reaches libp2p: a broken stream, an oversized frame or a handler that throws
 * is logged at debug and the stream closed.
 */
export async function serve (stream: Stream, from: string, answer: (request: Uint8Array) => Promise<Uint8Array | undefined>, log: Logger): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: SYNC_LIMITS.maxRequestBytes, maxBufferSize: SYNC_LIMITS.maxRequestBytes + PREFIX_ROOM })
  let request: Uint8Array | undefined
  try {
    request = (await lp.read({ signal: AbortSignal.timeout(SERVE_IO_MS) })).subarray()
  } catch (err) {
    if (!isOverLimit(err)) return await closeQuietly(stream, from, err, log)
    log.debug('refused an oversized sync request', { peer: from.slice(0, 16) })
  }
  try {
    const response = request === undefined ? undefined : await answer(request)
    if (response !== undefined && response.byteLength > SYNC_LIMITS.maxResponseBytes) throw new Error(`sync answer of ${response.byteLength} bytes is over the limit`)
    // an empty frame is the refusal the client recognises
    await lp.write(response ?? new Uint8Array(0), { signal: AbortSignal.timeout(SERVE_IO_MS) })
    await stream.close({ signal: AbortSignal.timeout(SERVE_IO_MS) })
  } catch (err) {
    await closeQuietly(stream, from, err, log)
  }
}

async function closeQuietly (stream: Stream, from: string, err: unknown, log: Logger): Promise<void> {
  log.debug('sync request not answered', { peer: from.slice(0, 16), error: (err as Error).message })
  await stream.close({ signal: AbortSignal.timeout(SERVE_IO_MS) }).catch(() => stream.abort(err as Error))
}
