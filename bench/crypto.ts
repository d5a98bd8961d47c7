// Single-core throughput of the hot primitives: ed25519 (noble vs libsodium), sha256 and the
// canonical codec on an op-sized value. Run after a build: node dist/bench/crypto.js
// Each case warms up first (JIT, key caches), then runs in batches until its time is spent.

import { nobleScheme } from '../src/core/crypto/noble.js'
import { sodiumScheme } from '../src/native/sodium.js'
import type { SignatureScheme } from '../src/core/crypto/signing.js'
import { sha256 } from '../src/core/crypto/hash.js'
import { encode, decode } from '../src/core/codec/canonical.js'
import type { Value } from '../src/core/codec/canonical.js'

const WARMUP_MS = 300
const RUN_MS = Number(process.env.BENCH_MS ?? 1500)
const MESSAGE_BYTES = 200

// a sink the optimiser cannot see through, so measured calls are never dropped as dead code
let sink = 0
function consume (x: unknown): void {
  if (x instanceof Uint8Array) sink ^= x.length ^ (x[0] ?? 0)
  else if (x === true) sink ^= 1
  else if (x !== null && typeof x === 'object') sink ^= 2
}

/** Calls fn(i) repeatedly for about `ms` milliseconds; returns calls per second. */
function runFor (ms: number, fn: (i: number) => unknown): number {
  let calls = 0
  let batch = 1
  const start = process.hrtime.bigint()
  const budget = BigInt(Math.round(ms * 1e6))
  for (;;) {
    for (let j = 0; j < batch; j++) consume(fn(calls + j))
    calls += batch
    const elapsed = process.hrtime.bigint() - start
    if (elapsed >= budget) return calls / (Number(elapsed) / 1e9)
    // grow batches so reading the clock costs nothing measurable, but never overshoot by much
    if (elapsed < budget / 20n) batch *= 2
  }
}

function measure (fn: (i: number) => unknown): number {
  runFor(WARMUP_MS, fn)
  return runFor(RUN_MS, fn)
}

function bytes (n: number, fill: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (fill * 131 + i * 7) & 0xff
  return b
}

// a few distinct keys and messages, so nothing benefits from one input being hot
const seeds = Array.from({ length: 8 }, (_, i) => bytes(32, i + 1))
const messages = Array.from({ length: 16 }, (_, i) => bytes(MESSAGE_BYTES, i + 100))

interface SchemeFigures { sign: number, verify: number }

function benchScheme (scheme: SignatureScheme): SchemeFigures {
  const keys = seeds.map(s => scheme.publicKeyOf(s))
  const sigs = messages.map((m, i) => scheme.sign(seeds[i % seeds.length]!, m))
  const sign = measure(i => scheme.sign(seeds[i % seeds.length]!, messages[i % messages.length]!))
  const verify = measure(i => {
    const k = i % messages.length
    const ok = scheme.verify(keys[k % seeds.length]!, messages[k]!, sigs[k]!)
    if (!ok) throw new Error(`${scheme.name}: a valid signature failed to verify`)
    return ok
  })
  return { sign, verify }
}

// shaped like an op: account, seq, deps as [account, seq] pairs, a transfer body and a signature
const op: Value = {
  account: bytes(32, 1),
  seq: 4711,
  deps: [[bytes(32, 2), 12], [bytes(32, 3), 907]],
  body: { to: bytes(32, 4), amount: 123_456_789_012_345_678n },
  sig: bytes(64, 5)
}
const opBytes = encode(op)

const noble = benchScheme(nobleScheme)
const sodium = benchScheme(sodiumScheme)
const sha = measure(i => sha256(messages[i % messages.length]!))
const codecEncode = measure(() => encode(op))
const codecDecode = measure(() => decode(opBytes))

const rows: Array<[string, number]> = [
  [`noble  ed25519 sign (${MESSAGE_BYTES} B)`, noble.sign],
  [`noble  ed25519 verify (${MESSAGE_BYTES} B)`, noble.verify],
  [`sodium ed25519 sign (${MESSAGE_BYTES} B)`, sodium.sign],
  [`sodium ed25519 verify (${MESSAGE_BYTES} B)`, sodium.verify],
  [`sha256 (${MESSAGE_BYTES} B)`, sha],
  [`codec encode op (${opBytes.length} B)`, codecEncode],
  [`codec decode op (${opBytes.length} B)`, codecDecode]
]

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const width = Math.max(...rows.map(r => r[0].length))
const numWidth = Math.max(...rows.map(r => fmt(r[1]).length), 'ops/s'.length)
console.log(`${'benchmark'.padEnd(width)}  ${'ops/s'.padStart(numWidth)}  ${'µs/op'.padStart(9)}`)
console.log(`${'-'.repeat(width)}  ${'-'.repeat(numWidth)}  ${'-'.repeat(9)}`)
for (const [name, rate] of rows) {
  console.log(`${name.padEnd(width)}  ${fmt(rate).padStart(numWidth)}  ${(1e6 / rate).toFixed(2).padStart(9)}`)
}
console.log(`sodium/noble: sign ${(sodium.sign / noble.sign).toFixed(1)}x, verify ${(sodium.verify / noble.verify).toFixed(1)}x`)

const round = (n: number): number => Math.round(n)
console.log(JSON.stringify({
  node: process.version,
  messageBytes: MESSAGE_BYTES,
  opBytes: opBytes.length,
  runMs: RUN_MS,
  noble: { sign: round(noble.sign), verify: round(noble.verify) },
  sodium: { sign: round(sodium.sign), verify: round(sodium.verify) },
  sha256: round(sha),
  codec: { encode: round(codecEncode), decode: round(codecDecode) }
}))
if (sink === 0x7fffffff) console.log('') // keeps `sink` live
