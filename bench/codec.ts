// Throughput of the canonical codec against what it replaced: decode against cborg's strict
// decode under a bounded tokenizer followed by a re-encode compared with the input, encode
// against cborg's encode. Inputs are a signed transfer op as decodeOp reads it (the envelope,
// then the payload inside) and a `certified` message of 100 ops as decodeMessage reads it, with
// the limits those callers pass, and the same values to encode.
// Run after a build: node dist/bench/codec.js (BENCH_MS sets the time per case).

import { decode as cborDecode, encode as cborEncode, Tokenizer, Type } from 'cborg'
import type { Token } from 'cborg'
import { encode, decode, bytesEqual, MAX_UINT64 } from '../src/core/codec/canonical.js'
import type { Value, DecodeLimits } from '../src/core/codec/canonical.js'
import { nobleScheme } from '../src/core/crypto/noble.js'
import { signerFrom } from '../src/core/crypto/signing.js'
import { sha256 } from '../src/core/crypto/hash.js'
import { MalformedError } from '../src/core/errors.js'
import { OP_LIMITS, signOp } from '../src/core/ledger/op.js'
import { MESSAGE_LIMITS, encodeMessage } from '../src/core/broadcast/messages.js'

const WARMUP_MS = 300
const RUN_MS = Number(process.env.BENCH_MS ?? 1500)

// --- the old decoder and encoder (as test/unit/codec-diff.test.ts keeps them) ---------------------

const encodeOptions = {
  typeEncoders: {
    number (n: number) {
      if (!Number.isSafeInteger(n)) throw new Error(`cannot encode non-integer or unsafe number ${n}`)
      return null
    },
    bigint (n: bigint) {
      if (n > MAX_UINT64 || n < -(MAX_UINT64 + 1n)) throw new Error('integer out of 64-bit range')
      return null
    },
    undefined () { throw new Error('cannot encode undefined') },
    Map () { throw new Error('use plain objects with string keys, not Map') }
  }
}

const oldEncode = (value: Value): Uint8Array => cborEncode(value, encodeOptions)

const cborOptions = { strict: true, allowIndefinite: false, allowUndefined: false, allowInfinity: false, allowNaN: false, allowBigInt: true, rejectDuplicateMapKeys: true }

class BoundedTokenizer extends Tokenizer {
  private readonly remaining: number[] = []
  constructor (data: Uint8Array, private readonly limits: DecodeLimits) {
    super(data, cborOptions)
  }

  override next (): Token {
    const token = super.next()
    const top = this.remaining.length - 1
    if (top >= 0) this.remaining[top]!--
    const isList = Type.equals(token.type, Type.array)
    const isMap = Type.equals(token.type, Type.map)
    const count = isList || isMap ? token.value as number : 0
    if (count > this.limits.maxItems) throw new MalformedError(`container of ${count} entries exceeds ${this.limits.maxItems}`)
    if ((isList || isMap) && this.remaining.length + 1 > this.limits.maxDepth) throw new MalformedError(`nesting deeper than ${this.limits.maxDepth}`)
    if (count > 0) this.remaining.push(isMap ? count * 2 : count)
    else while (this.remaining.length > 0 && this.remaining[this.remaining.length - 1] === 0) this.remaining.pop()
    return token
  }
}

function oldDecode (bytes: Uint8Array, limits: DecodeLimits): Value {
  if (bytes.length > limits.maxBytes) throw new MalformedError('too long')
  if (bytes.length === 0) throw new MalformedError('empty message')
  let value: Value
  try {
    value = cborDecode(bytes, { ...cborOptions, tokenizer: new BoundedTokenizer(bytes, limits) }) as Value
  } catch (err) {
    if (err instanceof MalformedError) throw err
    throw new MalformedError(`invalid CBOR: ${(err as Error).message}`)
  }
  if (!bytesEqual(oldEncode(value), bytes)) throw new MalformedError('encoding is not canonical')
  return value
}

// --- measuring ---------------------------------------------------------------------------------

let sink = 0
function consume (x: unknown): void {
  if (x instanceof Uint8Array) sink ^= x.length
  else if (Array.isArray(x)) sink ^= x.length
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
    if (elapsed < budget / 20n) batch *= 2
  }
}

function measure (fn: (i: number) => unknown): number {
  runFor(WARMUP_MS, fn)
  return runFor(RUN_MS, fn)
}

// --- inputs ------------------------------------------------------------------------------------

const seedOf = (i: number): Uint8Array => sha256(new TextEncoder().encode(`codec-bench-${i}`))
const signers = Array.from({ length: 8 }, (_, i) => signerFrom(nobleScheme, seedOf(i)))
const networkId = sha256(new TextEncoder().encode('codec-bench-network'))
// plain copies: encode may hand back a Buffer, and network input is a plain Uint8Array
const plain = (b: Uint8Array): Uint8Array => Uint8Array.from(b)

// 100 transfers from 8 accounts, each citing two earlier ops of other accounts as deps
const ops = Array.from({ length: 100 }, (_, i) => {
  const from = signers[i % signers.length]!
  const seq = 10 + Math.floor(i / signers.length)
  const deps = [1, 2].map(k => ({ account: signers[(i + k) % signers.length]!.publicKey, seq: 3 + k }))
  return signOp(from, networkId, { account: from.publicKey, seq, deps, body: { kind: 'transfer', to: signers[(i + 3) % signers.length]!.publicKey, amount: 1_000_000n + BigInt(i) } })
})
const envelopes = ops.map(op => plain(op.bytes))
const payloads = ops.map(op => plain(op.payload))
const votes = signers.slice(0, 4).map(s => ({ voter: s.publicKey, sig: s.sign(networkId) }))
const certified = plain(encodeMessage({ type: 'certified', ops: ops.map(op => op.bytes), votes }))

// the limits decodeOp and decodeMessage pass
const ENVELOPE: DecodeLimits = { maxBytes: OP_LIMITS.maxOpBytes, maxDepth: 2, maxItems: 2 }
const PAYLOAD: DecodeLimits = { maxBytes: OP_LIMITS.maxOpBytes, maxDepth: 16, maxItems: 4096 }
const MESSAGE: DecodeLimits = { maxBytes: MESSAGE_LIMITS.maxMessageBytes, maxDepth: 4, maxItems: MESSAGE_LIMITS.maxFrontierEntries }

type Decoder = (bytes: Uint8Array, limits: DecodeLimits) => Value
const cases: Array<[string, (d: Decoder) => (i: number) => unknown]> = [
  [`op envelope (${envelopes[0]!.length} B)`, d => i => d(envelopes[i % 100]!, ENVELOPE)],
  [`op payload (${payloads[0]!.length} B)`, d => i => d(payloads[i % 100]!, PAYLOAD)],
  ['op, envelope then payload', d => i => {
    const pair = d(envelopes[i % 100]!, ENVELOPE) as Uint8Array[]
    return d(pair[0]!, PAYLOAD)
  }],
  [`certified, 100 ops (${certified.length} B)`, d => () => d(certified, MESSAGE)]
]

// both decoders must agree on every input before either is timed
for (const [b, limits] of [...envelopes.map(e => [e, ENVELOPE] as const), ...payloads.map(p => [p, PAYLOAD] as const), [certified, MESSAGE] as const]) {
  if (!bytesEqual(encode(decode(b, limits)), encode(oldDecode(b, limits)))) throw new Error('old and new decoders disagree')
}

const rows = cases.map(([name, make]) => {
  const old = measure(make(oldDecode))
  const now = measure(make(decode))
  return { name: `decode ${name}`, old, now }
})

// encode: the same values as signOp and encodeMessage build them
const payloadValues = payloads.map(p => decode(p, PAYLOAD))
const envelopeValues = ops.map(op => [plain(op.payload), plain(op.sig)])
const certifiedValue = decode(certified, MESSAGE)
for (const v of [...payloadValues, ...envelopeValues, certifiedValue]) {
  if (!bytesEqual(encode(v), oldEncode(v))) throw new Error('old and new encoders disagree')
}
const encodeCases: Array<[string, (e: (v: Value) => Uint8Array) => (i: number) => unknown]> = [
  ['encode op envelope', e => i => e(envelopeValues[i % 100]!)],
  ['encode op payload', e => i => e(payloadValues[i % 100]!)],
  ['encode certified, 100 ops', e => () => e(certifiedValue)]
]
for (const [name, make] of encodeCases) rows.push({ name, old: measure(make(oldEncode)), now: measure(make(encode)) })

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const width = Math.max(...rows.map(r => r.name.length))
console.log(`${'case'.padEnd(width)}  ${'old ops/s'.padStart(11)}  ${'new ops/s'.padStart(11)}  speed-up`)
console.log(`${'-'.repeat(width)}  ${'-'.repeat(11)}  ${'-'.repeat(11)}  --------`)
for (const r of rows) console.log(`${r.name.padEnd(width)}  ${fmt(r.old).padStart(11)}  ${fmt(r.now).padStart(11)}  ${(r.now / r.old).toFixed(1).padStart(7)}x`)
console.log(JSON.stringify({ node: process.version, runMs: RUN_MS, cases: rows.map(r => ({ name: r.name, old: Math.round(r.old), new: Math.round(r.now) })) }))
if (sink === 0x7fffffff) console.log('') // keeps `sink` live
