// Review: the codec's 8 KB slab (src/core/codec/slab.ts). A decoded 65..1024-byte byte string is a
// view on a shared 8 KB ArrayBuffer; keeping it keeps the whole slab alive. When long-lived values
// (op bytes a node keeps in its log/bindings) are decoded between transient ones (anything a peer
// sends that is dropped after handling), each kept value can pin a slab of its own.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decode, encode } from '../../src/core/codec/canonical.js'
import { encodeMessage, decodeMessage } from '../../src/core/broadcast/messages.js'

describe('codec: kept byte strings hold only their own bytes', () => {
  test('kept 200-byte values interleaved with transient ones pin one 8 KB slab each', () => {
    const kept: Uint8Array[] = []
    const keptBlob = encode(new Uint8Array(200).fill(7))
    const junk = encode(Array.from({ length: 7 }, () => new Uint8Array(1000).fill(1)))
    for (let i = 0; i < 1000; i++) {
      kept.push(decode(keptBlob) as Uint8Array)
      decode(junk) // transient: dropped at once
    }
    const slabs = new Set(kept.map(k => k.buffer))
    const keptBytes = kept.reduce((n, k) => n + k.length, 0)
    const pinned = [...slabs].reduce((n, b) => n + b.byteLength, 0)
    console.log(`kept ${keptBytes} bytes of values; they pin ${slabs.size} slabs = ${pinned} bytes (${(pinned / keptBytes).toFixed(1)}x)`)
    assert.ok(pinned <= 4 * keptBytes, `retention amplification ${(pinned / keptBytes).toFixed(1)}x`)
  })

  test('same through the message codec: op bytes of a proposal, kept, between transient proposals', () => {
    const op = new Uint8Array(180).fill(3)
    const good = encodeMessage({ type: 'propose', ops: [op] } as never)
    const noise = encodeMessage({ type: 'propose', ops: Array.from({ length: 40 }, () => new Uint8Array(200).fill(9)) } as never)
    const kept: Uint8Array[] = []
    for (let i = 0; i < 1000; i++) {
      const m = decodeMessage(good) as unknown as { ops: Uint8Array[] }
      kept.push(m.ops[0]!)
      decodeMessage(noise)
    }
    const slabs = new Set(kept.map(k => k.buffer))
    const pinned = [...slabs].reduce((n, b) => n + b.byteLength, 0)
    console.log(`message path: 1000 kept op byte strings (180 B) pin ${slabs.size} slabs = ${pinned} bytes (${(pinned / (180 * 1000)).toFixed(1)}x)`)
    assert.ok(pinned <= 4 * 180 * 1000)
  })
})
