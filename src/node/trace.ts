// Message traces: what a node (or the simulator) sent, received and did locally, as JSON lines a
// chart is drawn from (src/devtools/chart.ts, `bftnode chart`). Off unless asked for (--trace-file):
// the hooks are then one `undefined` check each. On, a trace file stops growing at a byte cap.

import { closeSync, openSync, writeSync } from 'node:fs'
import { BftError } from '../core/errors.js'
import { sha256, toHex } from '../core/crypto/hash.js'
import type { Hash } from '../core/crypto/hash.js'
import { batchDigest, decodeMessage } from '../core/broadcast/messages.js'
import { decodeOp } from '../core/ledger/op.js'
import type { Slot } from '../core/ledger/op.js'
import type { ActionPorts } from '../host/ports.js'

/** Hex digits of an account kept in a trace: enough to tell accounts apart and to filter by prefix. */
export const ACCOUNT_DIGITS = 16

/** What a message is about: its type, and the slots (`<account>:<seq>`), accounts and heights it names. */
export interface MessageInfo {
  readonly type: string
  readonly slots?: readonly string[]
  readonly accounts?: readonly string[]
  readonly heights?: readonly number[]
  readonly epoch?: number
  /** A nack carrying proof that an account signed two ops for one slot. */
  readonly conflict?: true
}

interface Base {
  /** Milliseconds: wall clock at a node, simulated time in the simulator. */
  readonly t: number
  /** The node that recorded the event (a peer id; `n<index>` in the simulator). */
  readonly node: string
}

/**
 * One line of a trace. A message is `send` at its sender and `recv` at its receiver, both with the
 * same `id` (a hash of its bytes), so traces of several nodes merge into one chart; `to: "*"` is
 * gossip. `lost` is a message the simulated network dropped. The rest are local events.
 */
export type TraceEvent =
  | Base & { readonly ev: 'node', readonly role?: string, readonly label?: string }
  | Base & { readonly ev: 'send', readonly to: string, readonly id: string, readonly msg: MessageInfo }
  | Base & { readonly ev: 'recv', readonly from: string, readonly id: string, readonly msg: MessageInfo }
  | Base & { readonly ev: 'lost', readonly to: string, readonly id: string, readonly msg: MessageInfo }
  | Base & { readonly ev: 'deliver', readonly slot: string, readonly outcome: string }
  /** An op this node broadcast was dropped: its account signed two ops for the slot. */
  | Base & { readonly ev: 'equivocation', readonly slot: string, readonly reason: string }
  /** Proof that a validator voted for two ops at one slot. */
  | Base & { readonly ev: 'evidence', readonly voter: string }
  | Base & { readonly ev: 'checkpoint', readonly height: number }
  | Base & { readonly ev: 'epoch', readonly epoch: number }
  | Base & { readonly ev: 'behind', readonly height: number }
  | Base & { readonly ev: 'crash' | 'restart' }
  /** Anything else worth a box: a partition, a heal, a re-join, the trace's cap. */
  | Base & { readonly ev: 'fault' | 'note', readonly text: string }

export type TraceEventKind = TraceEvent['ev']

export const shortAccount = (account: Uint8Array): string => toHex(account).slice(0, ACCOUNT_DIGITS)
export const slotName = (s: Slot): string => `${shortAccount(s.account)}:${s.seq}`

/** Batches remembered for naming the slots of votes and nacks (which carry only a digest). */
const DIGESTS_KEPT = 4096

/**
 * Turns message bytes into a MessageInfo. It remembers the digests of the batches it saw proposed
 * or certified (a bounded number), so a vote names the slots of the batch it signs.
 */
export class MessageSummarizer {
  private readonly batches = new Map<string, readonly string[]>()

  id (bytes: Uint8Array): string {
    return toHex(sha256(bytes)).slice(0, 16)
  }

  describe (bytes: Uint8Array): MessageInfo {
    let m
    try {
      m = decodeMessage(bytes)
    } catch {
      return { type: 'malformed' }
    }
    switch (m.type) {
      case 'propose':
      case 'certified': {
        const slots = this.batch(m.ops)
        return { type: m.type, slots, ...epoch(m.type === 'certified' ? m.epoch : undefined) }
      }
      case 'vote': return { type: m.type, slots: this.batches.get(toHex(m.digest)) ?? [], ...epoch(m.epoch) }
      case 'nack': {
        const conflicts = opSlots(m.conflicts)
        const slots = [...new Set([...(this.batches.get(toHex(m.digest)) ?? []), ...conflicts, ...m.deferred.map(slotName)])]
        return { type: m.type, slots, ...(conflicts.length > 0 ? { conflict: true as const } : {}) }
      }
      case 'fetch': return { type: m.type, accounts: [shortAccount(m.account)], slots: m.toSeq - m.fromSeq < 8 ? range(m.account, m.fromSeq, m.toSeq) : [] }
      // anti-entropy names every account: kept out of the filters, or it would match them all
      case 'frontier': return { type: m.type, heights: [m.checkpoint], ...epoch(m.epoch) }
      case 'checkpoint': return { type: m.type, heights: [m.height], ...epoch(m.epoch) }
      case 'reconfigure': return { type: m.type, epoch: m.epoch }
      case 'handoff': return { type: m.type, slots: opSlots(m.ops), epoch: m.epoch }
      case 'handoff-request': return { type: m.type, epoch: m.epoch }
      case 'evidence': return { type: m.type }
    }
  }

  private batch (ops: readonly Uint8Array[]): string[] {
    const hashes: Hash[] = []
    const slots: string[] = []
    for (const bytes of ops) {
      const hash = sha256(bytes)
      hashes.push(hash)
      try {
        slots.push(slotName(decodeOp(bytes, hash)))
      } catch {}
    }
    const digest = toHex(batchDigest(hashes))
    if (!this.batches.has(digest)) {
      if (this.batches.size >= DIGESTS_KEPT) this.batches.delete(this.batches.keys().next().value!)
      this.batches.set(digest, slots)
    }
    return slots
  }
}

const epoch = (e: number | undefined): { epoch?: number } => e === undefined || e === 0 ? {} : { epoch: e }

function opSlots (ops: readonly Uint8Array[]): string[] {
  return ops.flatMap(bytes => { try { return [slotName(decodeOp(bytes))] } catch { return [] } })
}

function range (account: Uint8Array, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => slotName({ account, seq: from + i }))
}

/** Where trace events go. */
export interface TraceSink {
  write: (e: TraceEvent) => void
  close?: () => void
}

/**
 * Records one node's events: messages as summaries, the replica's local actions through
 * `ports()`. `now` is the host's clock (Date.now at a node, the simulated time in the simulator).
 */
export class TraceRecorder {
  /** `summarizer` may be shared by recorders in one process (the simulator's), so all know every batch. */
  constructor (readonly node: string, private readonly sink: TraceSink, private readonly now: () => number, private readonly summarizer = new MessageSummarizer()) {}

  /** A node's recorder appending to a trace file; its first line marks the start (a restart appends after the last). */
  static toFile (node: string, path: string, now: () => number = Date.now): TraceRecorder {
    const r = new TraceRecorder(node, new TraceFile(path), now)
    r.local({ ev: 'note', text: 'node started' })
    return r
  }

  sent (to: string, bytes: Uint8Array): void {
    this.sink.write({ t: this.now(), node: this.node, ev: 'send', to, id: this.summarizer.id(bytes), msg: this.summarizer.describe(bytes) })
  }

  received (from: string, bytes: Uint8Array): void {
    this.sink.write({ t: this.now(), node: this.node, ev: 'recv', from, id: this.summarizer.id(bytes), msg: this.summarizer.describe(bytes) })
  }

  lost (to: string, bytes: Uint8Array): void {
    this.sink.write({ t: this.now(), node: this.node, ev: 'lost', to, id: this.summarizer.id(bytes), msg: this.summarizer.describe(bytes) })
  }

  local (e: Omit<Extract<TraceEvent, { ev: 'crash' | 'restart' }>, 't' | 'node'> | Omit<Extract<TraceEvent, { ev: 'fault' | 'note' }>, 't' | 'node'> | Omit<Extract<TraceEvent, { ev: 'node' }>, 't' | 'node'>): void {
    this.sink.write({ t: this.now(), node: this.node, ...e } as TraceEvent)
  }

  /** Writes out what is buffered and closes the sink (a stopping node). */
  close (): void {
    this.sink.close?.()
  }

  /** The same ports, recording deliveries, equivocations, evidence, checkpoints and epochs first. */
  ports (ports: ActionPorts): ActionPorts {
    const at = (): { t: number, node: string } => ({ t: this.now(), node: this.node })
    return {
      ...ports,
      deliveries: {
        delivered: (op, outcome, cert) => {
          this.sink.write({ ...at(), ev: 'deliver', slot: slotName(op), outcome: outcome.status })
          return ports.deliveries.delivered(op, outcome, cert)
        },
        dropped: (op, reason, evidence) => {
          this.sink.write({ ...at(), ev: 'equivocation', slot: slotName(op), reason })
          return ports.deliveries.dropped(op, reason, evidence)
        }
      },
      checkpoints: {
        certified: cp => {
          this.sink.write({ ...at(), ev: 'checkpoint', height: cp.msg.height })
          return ports.checkpoints.certified(cp)
        }
      },
      sync: {
        behind: (height, peers) => {
          this.sink.write({ ...at(), ev: 'behind', height })
          return ports.sync.behind(height, peers)
        }
      },
      misbehaviour: {
        validatorVotedTwice: ev => {
          this.sink.write({ ...at(), ev: 'evidence', voter: toHex(ev.voter).slice(0, ACCOUNT_DIGITS) })
          return ports.misbehaviour.validatorVotedTwice(ev)
        }
      },
      epochs: {
        changed: e => {
          this.sink.write({ ...at(), ev: 'epoch', epoch: e })
          return ports.epochs.changed(e)
        }
      }
    }
  }
}

/** The trace file cannot be opened for appending: the node does not start. */
export class TraceFileError extends BftError {
  readonly code = 'ERR_TRACE_FILE'
}

/** What a trace file holds at most (bytes); past it one `note` line says so and nothing more is written. */
export const TRACE_FILE_CAP = 64 * 1024 * 1024

/** Lines are written in blocks of this size, and at least every FLUSH_MS. */
const BLOCK = 64 * 1024
const FLUSH_MS = 1000

/**
 * Appends events to a file as JSON lines, up to `cap` bytes. Buffered: a node killed with -9 loses
 * at most the last second; a stopping node calls close().
 */
export class TraceFile implements TraceSink {
  private readonly fd: number
  private buffer: string[] = []
  private buffered = 0
  private written = 0
  private full = false
  private readonly timer: NodeJS.Timeout

  constructor (readonly path: string, private readonly cap = TRACE_FILE_CAP) {
    try {
      this.fd = openSync(path, 'a')
    } catch (err) {
      throw new TraceFileError(`cannot open the trace file ${path} (--trace-file): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    this.timer = setInterval(() => this.flush(), FLUSH_MS)
    this.timer.unref()
  }

  write (e: TraceEvent): void {
    if (this.full) return
    const line = JSON.stringify(e) + '\n'
    const size = Buffer.byteLength(line)
    if (this.written + this.buffered + size > this.cap) {
      this.full = true
      this.buffer.push(JSON.stringify({ t: e.t, node: e.node, ev: 'note', text: `trace stopped at its cap of ${this.cap} bytes` }) + '\n')
      this.flush()
      return
    }
    this.buffer.push(line)
    this.buffered += size
    if (this.buffered >= BLOCK) this.flush()
  }

  flush (): void {
    if (this.buffer.length === 0) return
    const text = this.buffer.join('')
    this.buffer = []
    this.buffered = 0
    this.written += Buffer.byteLength(text)
    writeSync(this.fd, text)
  }

  close (): void {
    clearInterval(this.timer)
    this.flush()
    closeSync(this.fd)
  }
}

/** Reads a trace file's text: one event a line; blank lines and lines that are not JSON objects are skipped. */
export function parseTrace (text: string): TraceEvent[] {
  const out: TraceEvent[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let v: unknown
    try { v = JSON.parse(line) } catch { continue }
    if (typeof v === 'object' && v !== null && typeof (v as { ev?: unknown }).ev === 'string' && typeof (v as { t?: unknown }).t === 'number' && typeof (v as { node?: unknown }).node === 'string') out.push(v as TraceEvent)
  }
  return out
}
